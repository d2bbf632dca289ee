// Struct layout: every rule of the C ABI, and every figure compared with what rustc gives the same
// `#[repr(C)]` structs in the fixture library (tests/fixture/src/layouts.rs).
import * as ffi from "../mod.ts";
import { FIXTURE, Mixed } from "./_fixture.ts";
import assert from "node:assert/strict";
import { _layout } from "../src/layout.ts";

const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
/** The fixture's structs, in the same field order, by the name its exports use. */
const DEFS: Record<string, ffi.StructDefinition> = {
  player: ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]),
  mixed: Mixed,
  tail: ffi.struct([["a", "i64"], ["b", "i8"]]),
  bytes: ffi.struct([["a", "i8"], ["b", "u8"], ["c", "bool"]]),
  vec2: Vec2,
  nested: ffi.struct([["tag", "i8"], ["inner", Mixed], ["arr", "u16", 3], ["tail", "f32"]]),
  shapes: ffi.struct([
    ["n", "u8"],
    ["points", Vec2, 3],
    ["flag", "i16"],
    ["len", "usize"],
    ["diff", "isize"],
    ["label", "char*"],
    ["wide", "i64", 2],
    ["last", "u8"],
  ]),
};

const fns: Record<string, Deno.ForeignFunction> = {};
for (const name of Object.keys(DEFS)) {
  fns[`fx_layout_${name}_size`] = { parameters: [], result: "usize" };
  fns[`fx_layout_${name}_align`] = { parameters: [], result: "usize" };
  fns[`fx_layout_${name}_offsets`] = { parameters: ["buffer", "usize"], result: "usize" };
}
const lib = Deno.dlopen(FIXTURE, fns);
const sym = lib.symbols as unknown as Record<string, (...args: unknown[]) => unknown>;

function compilerLayout(name: string): { size: number; align: number; offsets: number[] } {
  const out = new BigUint64Array(16);
  const n = Number(sym[`fx_layout_${name}_offsets`](out, 16n));
  return {
    size: Number(sym[`fx_layout_${name}_size`]()),
    align: Number(sym[`fx_layout_${name}_align`]()),
    offsets: [...out.subarray(0, n)].map(Number),
  };
}

for (const [name, def] of Object.entries(DEFS)) {
  Deno.test(`struct "${name}" has the size, alignment and offsets rustc gives its #[repr(C)] twin`, () => {
    const c = compilerLayout(name);
    assert.equal(def.size, c.size, "size");
    assert.equal(def.alignment, c.align, "alignment");
    assert.equal(ffi.sizeof(def), c.size, "ffi.sizeof");
    assert.equal(ffi.alignof(def), c.align, "ffi.alignof");
    assert.deepEqual(def.fields().map((f) => def.offsetOf(f)), c.offsets, "offsets");
  });
}

Deno.test("the seed's Player has size 44 and health at offset 8", () => {
  const Player = DEFS.player;
  assert.equal(Player.size, 44);
  assert.equal(Player.alignment, 4);
  assert.equal(Player.fieldCount, 4);
  assert.equal(Player.offsetOf("health"), 8);
  assert.equal(Player.offsetOf("name"), 12);
  assert.equal(Player.sizeOf("name"), 32);
});

Deno.test("each field is placed at the next multiple of its alignment", () => {
  const S = ffi.struct([["a", "u8"], ["b", "u16"], ["c", "u8"], ["d", "u32"], ["e", "u8"], ["f", "f64"]]);
  assert.deepEqual(S.fields().map((f) => S.offsetOf(f)), [0, 2, 4, 8, 12, 16]);
  assert.equal(S.size, 24);
  assert.equal(S.alignment, 8);
});

Deno.test("the size is rounded up to the alignment (tail padding)", () => {
  assert.equal(ffi.struct([["a", "i64"], ["b", "i8"]]).size, 16);
  assert.equal(ffi.struct([["a", "i32"], ["b", "i8"]]).size, 8);
  assert.equal(ffi.struct([["a", "i16"], ["b", "i8"]]).size, 4);
  assert.equal(ffi.struct([["a", "i8"], ["b", "i8"], ["c", "i8"]]).size, 3);
});

Deno.test("a struct's alignment is its largest field alignment", () => {
  assert.equal(ffi.struct([["a", "u8"]]).alignment, 1);
  assert.equal(ffi.struct([["a", "u8"], ["b", "i16"]]).alignment, 2);
  assert.equal(ffi.struct([["a", "u8"], ["b", "f32"]]).alignment, 4);
  assert.equal(ffi.struct([["a", "u8"], ["b", "pointer"]]).alignment, 8);
  assert.equal(ffi.struct([["a", "u8"], ["b", "string"]]).alignment, 8);
  assert.equal(ffi.struct([["a", "u8"], ["b", "usize"]]).alignment, 8);
});

Deno.test("an array field takes length × element size and aligns as its element", () => {
  const S = ffi.struct([["a", "u8"], ["b", "u32", 3], ["c", "u8"]]);
  assert.equal(S.offsetOf("b"), 4);
  assert.equal(S.sizeOf("b"), 12);
  assert.equal(S.offsetOf("c"), 16);
  assert.equal(S.size, 20);
});

Deno.test("a nested struct aligns as its own alignment and keeps its tail padding", () => {
  const Inner = ffi.struct([["a", "i64"], ["b", "i8"]]); // size 16, align 8
  const Outer = ffi.struct([["x", "i8"], ["inner", Inner], ["y", "i8"]]);
  assert.equal(Outer.offsetOf("inner"), 8);
  assert.equal(Outer.sizeOf("inner"), 16);
  assert.equal(Outer.offsetOf("y"), 24);
  assert.equal(Outer.size, 32);
  const Arr = ffi.struct([["x", "i8"], ["items", Inner, 2]]);
  assert.equal(Arr.offsetOf("items"), 8);
  assert.equal(Arr.sizeOf("items"), 32);
  assert.equal(Arr.size, 40);
});

Deno.test("aliases lay out exactly as their canonical types", () => {
  const A = ffi.struct([["a", "char"], ["b", "int"], ["c", "double"], ["d", "size_t"], ["e", "void*"]]);
  const B = ffi.struct([["a", "i8"], ["b", "i32"], ["c", "f64"], ["d", "usize"], ["e", "pointer"]]);
  assert.deepEqual(A.fields().map((f) => A.offsetOf(f)), B.fields().map((f) => B.offsetOf(f)));
  assert.equal(A.size, B.size);
});

Deno.test("_layout() handles one member, and members in any order", () => {
  assert.deepEqual(_layout([{ size: 4, align: 4 }]), {
    offsets: [0],
    bitOffsets: [undefined],
    size: 4,
    align: 4,
  });
  assert.deepEqual(_layout([{ size: 1, align: 1 }, { size: 8, align: 8 }, { size: 2, align: 2 }]), {
    offsets: [0, 8, 16],
    bitOffsets: [undefined, undefined, undefined],
    size: 24,
    align: 8,
  });
});
