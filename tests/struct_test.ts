// Structs: definitions, their errors, views (every field kind, in place, bounds, freed memory,
// unmanaged memory), whole-struct copies, and a round trip through C.
import * as ffi from "../mod.ts";
import { FIXTURE, Mixed } from "./_fixture.ts";
import assert from "node:assert/strict";

const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
const Nested = ffi.struct([["tag", "i8"], ["inner", Mixed], ["arr", "u16", 3], ["tail", "f32"]]);

/** Every primitive field type, with a value to write and what reads back. */
const SCALARS: [Exclude<ffi.CTypeName, "void">, unknown, unknown][] = [
  ["i8", -128, -128],
  ["u8", 255, 255],
  ["i16", -32768, -32768],
  ["u16", 65535, 65535],
  ["i32", -2147483648, -2147483648],
  ["u32", 4294967295, 4294967295],
  ["i64", -(2n ** 63n), -(2n ** 63n)],
  ["u64", 2n ** 64n - 1n, 2n ** 64n - 1n],
  ["isize", -5, -5n],
  ["usize", 2 ** 53 - 1, 2n ** 53n - 1n],
  ["f32", 1.5, 1.5],
  ["f64", Math.PI, Math.PI],
  ["bool", true, true],
  ["char", 65, 65],
  ["int", -7, -7],
  ["double", -0.25, -0.25],
];

// ---------------------------------------------------------------------------------------------------
// Definitions

Deno.test("StructDefinition has size, alignment, fieldCount, offsetOf, sizeOf and fields()", () => {
  assert.equal(Player.size, 44);
  assert.equal(Player.alignment, 4);
  assert.equal(Player.fieldCount, 4);
  assert.equal(Player.offsetOf("x"), 0);
  assert.equal(Player.offsetOf("y"), 4);
  assert.equal(Player.offsetOf("health"), 8);
  assert.equal(Player.offsetOf("name"), 12);
  assert.equal(Player.sizeOf("x"), 4);
  assert.equal(Player.sizeOf("name"), 32);
  assert.deepEqual(Player.fields(), ["x", "y", "health", "name"]);
  assert.ok(Player instanceof ffi.StructDefinition);
});

Deno.test("fields() returns a fresh array; a definition cannot be changed", () => {
  const names: string[] = Player.fields();
  names.push("z");
  assert.deepEqual(Player.fields(), ["x", "y", "health", "name"]);
  assert.ok(Object.isFrozen(Player));
  assert.throws(() => {
    (Player as { size: number }).size = 1;
  }, TypeError);
});

Deno.test("changing the field list after ffi.struct() changes nothing", () => {
  const fields: [string, ffi.FieldType][] = [["a", "i32"]];
  const S = ffi.struct(fields);
  fields.push(["b", "f64"]);
  fields[0][1] = "i8";
  assert.equal(S.size, 4);
  assert.equal(S.fieldCount, 1);
});

Deno.test("new StructDefinition() is the same as ffi.struct()", () => {
  const S = new ffi.StructDefinition([["a", "i64"], ["b", "i8"]]);
  assert.equal(S.size, 16);
  assert.equal(S.offsetOf("b"), 8);
});

Deno.test("ffi.struct() throws on a list that is not an array, or is empty", () => {
  assert.throws(() => ffi.struct("x" as never), { name: "TypeError", message: /array of fields/ });
  assert.throws(() => ffi.struct([]), { name: "TypeError", message: /at least one field/ });
});

Deno.test("ffi.struct() throws on a field that is not [name, type] or [name, type, length]", () => {
  assert.throws(() => ffi.struct([["x"]] as never), { name: "TypeError", message: /field 0 must be/ });
  assert.throws(() => ffi.struct([["x", "i32", 1, 2]] as never), { name: "TypeError", message: /field 0/ });
  assert.throws(() => ffi.struct(["x"] as never), { name: "TypeError", message: /field 0 must be/ });
});

Deno.test("ffi.struct() throws on an empty or non-string field name", () => {
  assert.throws(() => ffi.struct([["", "i32"]]), {
    name: "TypeError",
    message: /field 0 must have a non-empty/,
  });
  assert.throws(
    () => ffi.struct([["a", "i32"], [7, "i32"]] as never),
    { name: "TypeError", message: /field 1 must have a non-empty string name, got 7/ },
  );
});

Deno.test("ffi.struct() throws on a duplicate field name, naming it", () => {
  assert.throws(
    () => ffi.struct([["a", "i32"], ["b", "i8"], ["a", "f64"]]),
    { name: "TypeError", message: /duplicate field name "a" \(fields 0 and 2\)/ },
  );
});

Deno.test("ffi.struct() throws on an unknown type, naming the field and the type", () => {
  assert.throws(
    () => ffi.struct([["hp", "int128" as never]]),
    { name: "TypeError", message: /field "hp" has unknown type "int128"/ },
  );
  assert.throws(() => ffi.struct([["o", {} as never]]), {
    name: "TypeError",
    message: /field "o" has unknown type/,
  });
  assert.throws(() => ffi.struct([["n", null as never]]), { name: "TypeError", message: /field "n"/ });
});

Deno.test("ffi.struct() throws on a void field, naming it", () => {
  assert.throws(
    () => ffi.struct([["v", "void" as never]]),
    { name: "TypeError", message: /field "v" cannot have type void/ },
  );
});

Deno.test("ffi.struct() throws on an array length that is not a positive integer, naming the field", () => {
  for (const len of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(
      () => ffi.struct([["buf", "u8", len]]),
      { name: "RangeError", message: new RegExp(`field "buf" must have a positive integer array length`) },
      String(len),
    );
  }
  assert.throws(
    () => ffi.struct([["buf", "u8", "3" as never]]),
    { name: "TypeError", message: /field "buf" has an array length that is not a number/ },
  );
});

Deno.test("offsetOf() and sizeOf() throw on an unknown field, naming it", () => {
  assert.throws(
    () => Player.offsetOf("hp" as never),
    { name: "TypeError", message: /no field "hp" \(fields: x, y, health, name\)/ },
  );
  assert.throws(() => Player.sizeOf("nope" as never), { name: "TypeError", message: /sizeOf.*"nope"/ });
});

Deno.test("a definition is a C type: sizeof, alignof, allocType and allocArray accept it", () => {
  assert.equal(ffi.sizeof(Mixed), 40);
  assert.equal(ffi.alignof(Mixed), 8);
  using arena = ffi.arena();
  const one = arena.allocType(Mixed);
  assert.equal(one.addr % 8, 0);
  assert.throws(() => one.read(40, "u8"), RangeError);
  const many = arena.allocArray(Nested, 3);
  assert.equal(many.addr % 8, 0);
  assert.equal(arena.totalAllocated, 40 + 3 * Nested.size);
  assert.throws(() => many.read(3 * Nested.size, "u8"), RangeError);
});

Deno.test("a definition prints its layout", () => {
  assert.match(Deno.inspect(Vec2), /StructDefinition struct \{ x: f32; y: f32 \} \(size 8, alignment 4\)/);
});

// ---------------------------------------------------------------------------------------------------
// Views: scalar fields

Deno.test("a view reads and writes the seed's Player in place", () => {
  using arena = ffi.arena();
  const ptr = arena.alloc(Player.size);
  const player = ffi.view(ptr, Player);
  player.x = 10.5;
  player.health = 100;
  assert.equal(player.x, 10.5);
  assert.equal(player.health, 100);
  assert.equal(ptr.read(0, "f32"), 10.5);
  assert.equal(ptr.read(8, "i32"), 100);
  ptr.write(4, "f32", -3);
  assert.equal(player.y, -3);
});

for (const [type, value, expected] of SCALARS) {
  Deno.test(`a ${type} field round-trips ${String(value)} and is seen by a second view and by raw reads`, () => {
    const S = ffi.struct([["pad", "u8"], ["v", type], ["after", "u8"]]);
    using arena = ffi.arena();
    const p = arena.allocType(S);
    const a = ffi.view(p, S);
    const b = ffi.cast(p, S);
    a.v = value as never;
    a.after = 0xab;
    assert.equal(a.v, expected);
    assert.equal(b.v, expected);
    assert.equal(p.read(S.offsetOf("v"), type), expected);
    assert.equal(a.pad, 0, "padding before untouched");
    assert.equal(b.after, 0xab, "the next field untouched");
  });
}

Deno.test("integer fields apply the value rules: C conversion inside the range, errors outside", () => {
  const S = ffi.struct([["u", "u32"], ["i", "i8"], ["b", "u8"], ["w", "u64"], ["s", "i16"]]);
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(S), S);
  v.u = -1;
  assert.equal(v.u, 0xffffffff);
  v.i = 200;
  assert.equal(v.i, -56);
  v.b = -0;
  assert.ok(Object.is(v.b, 0));
  Object.assign(v, { w: -1 }); // 64-bit fields read as bigint and also take a number
  assert.equal(v.w, 2n ** 64n - 1n);
  assert.throws(() => (v.u = 1.5), { name: "TypeError", message: /1\.5 to u32 for field "u"/ });
  assert.throws(() => (v.u = 2 ** 32), { name: "RangeError", message: /to u32 for field "u"/ });
  assert.throws(() => (v.i = 256), { name: "RangeError", message: /field "i"/ });
  assert.throws(() => (v.i = NaN), TypeError);
  assert.throws(() => (v.b = "1" as never), { name: "TypeError", message: /field "b"/ });
  assert.throws(() => (v.s = 1n as never), TypeError);
  assert.throws(() => (v.w = 2n ** 64n), { name: "RangeError", message: /field "w"/ });
  assert.throws(() => Object.assign(v, { w: 2 ** 60 }), { name: "RangeError", message: /safe integer/ });
  assert.throws(() => (v.w = 0.5 as never), TypeError);
  assert.equal(v.u, 0xffffffff, "failed writes change nothing");
});

Deno.test("float and bool fields apply the value rules", () => {
  const S = ffi.struct([["f", "f32"], ["d", "f64"], ["ok", "bool"]]);
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(S), S);
  v.f = 0.1;
  assert.equal(v.f, Math.fround(0.1));
  v.d = NaN;
  assert.ok(Number.isNaN(v.d));
  v.ok = true;
  assert.equal(v.ok, true);
  v.ok = 0 as never;
  assert.equal(v.ok, false);
  assert.throws(() => (v.f = "1" as never), { name: "TypeError", message: /f32 for field "f"/ });
  assert.throws(() => (v.d = 1n as never), TypeError);
  assert.throws(() => (v.ok = 2 as never), { name: "TypeError", message: /bool for field "ok"/ });
});

Deno.test("a pointer field takes any pointer-like value or null and reads a RawPointer", () => {
  const S = ffi.struct([["p", "pointer"], ["q", "void*"]]);
  using arena = ffi.arena();
  const target = arena.alloc(16);
  const v = ffi.view(arena.allocType(S), S);
  v.p = target;
  assert.equal(v.p.addr, target.addr);
  assert.ok(v.p instanceof ffi.RawPointer);
  // Pointer fields read as RawPointer; the other pointer-likes and null go in through Object.assign.
  Object.assign(v, { p: ffi.cast(target, "i32").add(1) });
  assert.equal(v.p.addr, target.addr + 4);
  Object.assign(v, { q: v });
  assert.equal(v.q.addr, ffi.toRaw(v).addr);
  Object.assign(v, { p: null });
  assert.equal(v.p.isNull, true);
  assert.throws(() => (v.p = 1234 as never), { name: "TypeError", message: /field "p"/ });
});

Deno.test("a string field writes a JS string into the view's arena and reads it back", () => {
  const S = ffi.struct([["name", "string"], ["n", "i32"]]);
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(S), S);
  assert.equal(v.name, null);
  v.name = "héllo";
  assert.equal(v.name, "héllo");
  const second = ffi.view(arena.allocType(S), S);
  Object.assign(second, { name: ffi.read(ffi.toRaw(v), 0, "pointer") });
  assert.equal(second.name, "héllo");
  v.name = null;
  assert.equal(v.name, null);
});

Deno.test("any field name works, including the names of Object.prototype members", () => {
  const S = ffi.struct([
    ["constructor", "i32"],
    ["__proto__", "i32"],
    ["toString", "i32"],
    ["addr", "i32"],
    ["get", "i32"],
    ["hasOwnProperty", "i32"],
  ]);
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(S), S);
  v.constructor = 1;
  v.__proto__ = 2;
  v.toString = 3;
  v.addr = 4;
  v.get = 5;
  v.hasOwnProperty = 6;
  assert.deepEqual([v.constructor, v.__proto__, v.toString, v.addr, v.get, v.hasOwnProperty], [
    1,
    2,
    3,
    4,
    5,
    6,
  ]);
  assert.deepEqual(ffi.read(ffi.toRaw(v), 0, S), {
    constructor: 1,
    ["__proto__"]: 2,
    toString: 3,
    addr: 4,
    get: 5,
    hasOwnProperty: 6,
  });
});

Deno.test("a view has no string-keyed properties but its fields", () => {
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(Player), Player);
  const keys: string[] = [];
  for (const k in v) keys.push(k);
  assert.deepEqual(keys, ["x", "y", "health", "name"]);
  assert.deepEqual(Object.getOwnPropertyNames(v), []);
  assert.equal("toString" in v, false);
  assert.equal("health" in v, true);
  assert.equal((v as Record<string, unknown>).hp, undefined);
});

Deno.test("a view prints its fields", () => {
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(Vec2), Vec2);
  v.x = 1;
  assert.match(Deno.inspect(v), /StructView \{ x: 1, y: 0 \}/);
});

// ---------------------------------------------------------------------------------------------------
// Views: array fields

Deno.test("an array field reads as a TypedPointer over the field, the same one each time", () => {
  using arena = ffi.arena();
  const p = arena.allocType(Player);
  const v = ffi.view(p, Player);
  const name = v.name;
  assert.ok(name instanceof ffi.TypedPointer);
  assert.equal(v.name, name);
  assert.equal(name.count, 32);
  assert.equal(name.stride, 1);
  assert.equal(name.addr, p.addr + 12);
  name[0] = 72;
  name.set(1, 105);
  assert.equal(p.read(12, "u8"), 72);
  assert.equal(p.read(13, "u8"), 105);
  assert.equal(name[32], undefined);
  assert.throws(() => name.get(32), RangeError);
  assert.equal(ffi.toRaw(name).isManaged, true);
});

Deno.test("assigning a string to a u8/i8 array field writes UTF-8 and a NUL, zeroing the rest", () => {
  const S = ffi.struct([["a", "u8", 8], ["b", "char", 4], ["after", "u8"]]);
  using arena = ffi.arena();
  const p = arena.allocType(S);
  const v = ffi.view(p, S);
  ffi.fill(p, S.size, 0xff);
  Object.assign(v, { a: "héllo" }); // é is two bytes: 6 bytes + NUL
  assert.deepEqual([...new Uint8Array(8).map((_, i) => v.a[i])], [104, 0xc3, 0xa9, 108, 108, 111, 0, 0]);
  Object.assign(v, { b: "abc" }); // exactly fits with its NUL
  assert.deepEqual([v.b[0], v.b[1], v.b[2], v.b[3]], [97, 98, 99, 0]);
  assert.equal(v.after, 0xff, "the next field untouched");
  assert.throws(() => Object.assign(v, { b: "abcd" }), {
    name: "RangeError",
    message: /"abcd" to field "b": it takes 4 bytes of UTF-8 plus a NUL, the field holds 4/,
  });
  assert.equal(v.b[0], 97, "a string that does not fit writes nothing");
  Object.assign(v, { a: "" });
  assert.equal(v.a[0], 0);
});

Deno.test("assigning a string to an array field of another type is a TypeError", () => {
  const S = ffi.struct([["nums", "i32", 4]]);
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(S), S);
  assert.throws(() => Object.assign(v, { nums: "abc" }), { name: "TypeError", message: /only i8 and u8/ });
});

Deno.test("assigning an array (or typed array) to an array field copies it, zeroing the rest", () => {
  const S = ffi.struct([["nums", "i32", 4], ["big", "u64", 2], ["flags", "bool", 2]]);
  using arena = ffi.arena();
  const p = arena.allocType(S);
  const v = ffi.view(p, S);
  Object.assign(v, { nums: [1, -2, 3, 4] });
  assert.deepEqual([0, 1, 2, 3].map((i) => p.read(i * 4, "i32")), [1, -2, 3, 4]);
  Object.assign(v, { nums: new Int16Array([9, 8]) });
  assert.deepEqual([0, 1, 2, 3].map((i) => v.nums[i]), [9, 8, 0, 0]);
  Object.assign(v, { big: [1, 2n ** 64n - 1n], flags: [true, false] });
  assert.equal(v.big[1], 2n ** 64n - 1n);
  assert.equal(v.flags[0], true);
  assert.throws(() => Object.assign(v, { nums: [1, 2, 3, 4, 5] }), {
    name: "RangeError",
    message: /5 elements to field "nums": the field holds 4/,
  });
  assert.throws(() => Object.assign(v, { nums: [1, 1.5] }), {
    name: "TypeError",
    message: /field "nums"\[1\]/,
  });
  assert.throws(() => Object.assign(v, { nums: 5 }), { name: "TypeError", message: /expected an array/ });
});

Deno.test("assigning a TypedPointer to an array field copies its elements", () => {
  const S = ffi.struct([["a", "u8", 4], ["b", "u8", 4]]);
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(S), S);
  Object.assign(v, { a: [1, 2, 3, 4] });
  v.b = v.a;
  assert.deepEqual([0, 1, 2, 3].map((i) => v.b[i]), [1, 2, 3, 4]);
  const unknown = ffi.cast(ffi.ptr(ffi.toRaw(v).addr), "u8");
  assert.throws(() => (v.b = unknown), { name: "TypeError", message: /unknown count/ });
});

Deno.test("an array of structs reads as a TypedPointer of views and takes an array of objects", () => {
  const Path = ffi.struct([["n", "u8"], ["points", Vec2, 3]]);
  using arena = ffi.arena();
  const p = arena.allocType(Path);
  const v = ffi.view(p, Path);
  v.points[1].x = 3;
  v.points.get(2).y = 4;
  assert.equal(p.read(4 + 8, "f32"), 3);
  assert.equal(p.read(4 + 16 + 4, "f32"), 4);
  Object.assign(v, { points: [{ x: 1, y: 2 }] });
  assert.deepEqual(ffi.read(p, 0, Path), { n: 0, points: [{ x: 1, y: 2 }, { x: 0, y: 0 }, { x: 0, y: 0 }] });
  assert.throws(() => v.points.get(3), RangeError);
});

// ---------------------------------------------------------------------------------------------------
// Views: nested structs

Deno.test("a nested struct reads as a view of it, in place", () => {
  using arena = ffi.arena();
  const p = arena.allocType(Nested);
  const v = ffi.view(p, Nested);
  assert.equal(v.inner, v.inner);
  v.inner.c = 42;
  v.inner.d = 7n;
  assert.equal(p.read(Nested.offsetOf("inner") + Mixed.offsetOf("c"), "i32"), 42);
  assert.equal(ffi.view(p, Nested).inner.d, 7n);
  assert.equal(ffi.toRaw(v.inner).addr, p.addr + 8);
});

Deno.test("assigning a plain object to a nested struct copies its fields", () => {
  using arena = ffi.arena();
  const p = arena.allocType(Nested);
  const v = ffi.view(p, Nested);
  const target = arena.alloc(1);
  Object.assign(v, { inner: { a: -1, b: 2, c: 3, d: 4n, e: 0.5, f: 6.25, p: target } });
  assert.deepEqual(ffi.read(p, 8, Mixed), { a: -1, b: 2, c: 3, d: 4n, e: 0.5, f: 6.25, p: v.inner.p });
  assert.equal(v.inner.p.addr, target.addr);
  // A C initialiser: the fields left out are zero; a name the struct lacks is a TypeError.
  Object.assign(v, { inner: { a: 1 } });
  assert.deepEqual(ffi.read(p, 8, Mixed), { a: 1, b: 0, c: 0, d: 0n, e: 0, f: 0, p: v.inner.p });
  assert.equal(v.inner.p.isNull, true);
  assert.throws(
    () => Object.assign(v, { inner: { a: 1, zz: 2 } }),
    { name: "TypeError", message: /field "inner": the struct has no field "zz"/ },
  );
  assert.throws(() => Object.assign(v, { inner: 5 }), {
    name: "TypeError",
    message: /expected a plain object/,
  });
  assert.throws(() => Object.assign(v, { inner: null }), TypeError);
});

Deno.test("assigning a view of the same struct copies its bytes", () => {
  using arena = ffi.arena();
  const a = ffi.view(arena.allocType(Nested), Nested);
  const b = ffi.view(arena.allocType(Nested), Nested);
  a.inner.f = 1.25;
  a.inner.a = 9;
  b.inner = a.inner;
  assert.equal(b.inner.f, 1.25);
  assert.equal(b.inner.a, 9);
  const same = a.inner;
  a.inner = same; // the same memory: a no-op
  assert.equal(a.inner.f, 1.25);
});

Deno.test("a view of another struct with the same fields is copied field by field", () => {
  const Other = ffi.struct([["y", "f32"], ["x", "f32"]]);
  using arena = ffi.arena();
  const a = ffi.view(arena.allocType(Other), Other);
  a.x = 1;
  a.y = 2;
  const P = ffi.struct([["pos", Vec2]]);
  const v = ffi.view(arena.allocType(P), P);
  Object.assign(v, { pos: a });
  assert.deepEqual([v.pos.x, v.pos.y], [1, 2]);
});

// ---------------------------------------------------------------------------------------------------
// Bounds, freed memory, unmanaged memory

Deno.test("ffi.view() checks the struct fits the allocation", () => {
  using arena = ffi.arena();
  const p = arena.alloc(Player.size - 1);
  assert.throws(() => ffi.view(p, Player), {
    name: "RangeError",
    message: /view a struct of 44 bytes at byte 0 of an allocation of 43 bytes/,
  });
  const q = arena.alloc(Player.size + 4);
  ffi.view(q.add(4), Player);
  assert.throws(() => ffi.view(q.add(8), Player), RangeError);
  assert.throws(() => ffi.view(q.add(-4), Player), RangeError);
});

Deno.test("ffi.view() throws on what is not a pointer or not a definition", () => {
  using arena = ffi.arena();
  assert.throws(() => ffi.view(5 as never, Player), { name: "TypeError", message: /expected a pointer/ });
  assert.throws(() => ffi.view(arena.alloc(8), "i32" as never), {
    name: "TypeError",
    message: /expected a struct definition/,
  });
});

Deno.test("toRaw() of a view keeps the allocation's bounds", () => {
  using arena = ffi.arena();
  const p = arena.alloc(Player.size);
  const v = ffi.view(p, Player);
  const raw = ffi.toRaw(v);
  assert.equal(raw.addr, p.addr);
  assert.equal(raw.isManaged, true);
  assert.throws(() => raw.read(Player.size, "u8"), RangeError);
  raw.write(8, "i32", 5);
  assert.equal(v.health, 5);
});

Deno.test("a view dies with its arena: every field access throws the freed-memory FfiError", () => {
  const arena = ffi.arena();
  const p = arena.allocType(Nested);
  const v = ffi.view(p, Nested);
  const inner = v.inner;
  const arr = v.arr;
  arena.reset();
  assert.throws(() => v.tag, { name: "FfiError", message: /read field "tag": the memory was freed/ });
  assert.throws(() => (v.tag = 1), { name: "FfiError", message: /write field "tag": the memory was freed/ });
  assert.throws(() => v.inner, ffi.FfiError);
  assert.throws(() => v.arr, ffi.FfiError);
  assert.throws(() => inner.c, ffi.FfiError);
  assert.throws(() => Object.assign(inner, { p: null }), ffi.FfiError);
  assert.equal(arr[0], undefined, "index syntax reads nothing");
  assert.throws(() => arr.get(0), { name: "FfiError", message: /freed/ });
  assert.throws(() => ffi.view(p, Nested), ffi.FfiError);
  assert.match(Deno.inspect(v), /freed/);
});

Deno.test("a view of unmanaged memory reads and writes it, unchecked", () => {
  using arena = ffi.arena();
  const managed = arena.allocType(Player);
  const v = ffi.view(ffi.ptr(managed.addr), Player);
  v.health = 12;
  Object.assign(v, { name: "Zed" });
  assert.equal(managed.read(8, "i32"), 12);
  assert.equal(managed.read(12, "u8"), 90);
  assert.equal(ffi.toRaw(v).isManaged, false);
  assert.equal(ffi.toRaw(v).addr, managed.addr);
  assert.equal(v.name.count, 32);
  assert.equal(ffi.toRaw(v.name).isManaged, false);
  // JS-owned memory reached by address, as C would hand it over.
  const bytes = new Float64Array(2);
  const w = ffi.view(ffi.ptr(Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)))), Vec2);
  w.y = 2.5;
  assert.equal(new Float32Array(bytes.buffer)[1], 2.5);
});

Deno.test("a view of a null pointer is an FfiError", () => {
  assert.throws(() => ffi.view(ffi.ptr(0), Player), { name: "FfiError", message: /null pointer/ });
});

Deno.test("a string field of an unmanaged view refuses a JS string (nothing would own it)", () => {
  const S = ffi.struct([["s", "string"]]);
  using arena = ffi.arena();
  const v = ffi.view(ffi.ptr(arena.allocType(S).addr), S);
  assert.throws(() => (v.s = "x"), { name: "TypeError", message: /unmanaged memory/ });
});

// ---------------------------------------------------------------------------------------------------
// Whole-struct copies: read / write / cast

Deno.test("ffi.read() and ffi.write() with a definition copy a plain object out and in", () => {
  using arena = ffi.arena();
  const p = arena.allocType(Nested);
  const value = {
    tag: -3,
    inner: { a: 1, b: 2, c: 3, d: -4n, e: 1.5, f: 2.25, p: null },
    arr: [7, 8, 9],
    tail: 0.5,
  };
  ffi.write(p, 0, Nested, value);
  const back = ffi.read(p, 0, Nested) as ffi.StructValue<typeof Nested.spec>;
  assert.equal(back.tag, -3);
  assert.deepEqual(back.arr, [7, 8, 9]);
  assert.equal(back.inner.d, -4n);
  assert.equal(back.inner.p.isNull, true);
  assert.equal(back.tail, 0.5);
  const v = ffi.view(p, Nested);
  assert.equal(v.arr[2], 9);
  // RawPointer.read/write are the same.
  const q = arena.allocType(Nested);
  q.write(0, Nested, v);
  assert.deepEqual(q.read(0, Nested), back);
});

Deno.test("ffi.write() with a definition checks each field by the value rules", () => {
  using arena = ffi.arena();
  const p = arena.allocType(Vec2);
  assert.throws(() => ffi.write(p, 0, Vec2, { x: 1, z: 2 }), { name: "TypeError", message: /no field "z"/ });
  assert.throws(() => ffi.write(p, 0, Vec2, { x: 1, y: "2" }), { name: "TypeError", message: /\.y/ });
  assert.throws(() => ffi.write(p, 0, Vec2, 7), { name: "TypeError", message: /plain object/ });
  assert.throws(() => ffi.write(p, 4, Vec2, { x: 1, y: 2 }), RangeError);
});

Deno.test("ffi.read() and ffi.write() with a definition work on unmanaged memory", () => {
  using arena = ffi.arena();
  const managed = arena.allocType(Vec2);
  const raw = ffi.ptr(managed.addr);
  ffi.write(raw, 0, Vec2, { x: 3, y: 4 });
  assert.deepEqual(ffi.read(raw, 0, Vec2), { x: 3, y: 4 });
  assert.equal(managed.read(4, "f32"), 4);
  assert.throws(() => ffi.read(ffi.ptr(0), 0, Vec2), ffi.FfiError);
});

Deno.test("ffi.cast(ptr, def) is a view; with a count, a TypedPointer of views", () => {
  using arena = ffi.arena();
  const p = arena.allocArray(Vec2, 4);
  const one = ffi.cast(p, Vec2);
  one.x = 1;
  const all = ffi.cast(p, Vec2, 4);
  assert.equal(all.count, 4);
  assert.equal(all.stride, 8);
  assert.equal(all[0].x, 1);
  all.set(3, { x: 5, y: 6 });
  assert.equal(p.read(28, "f32"), 6);
  assert.deepEqual(ffi.read(all.add(3), 0, Vec2), { x: 5, y: 6 });
  assert.throws(() => all.get(4), RangeError);
  assert.throws(() => ffi.cast(p, Vec2, 5), RangeError);
});

// ---------------------------------------------------------------------------------------------------
// Through C

Deno.test("C reads a Player filled from TypeScript and fills one back", () => {
  const lib = Deno.dlopen(FIXTURE, {
    fx_player_score: { parameters: ["pointer"], result: "f64" },
    fx_player_fill: { parameters: ["pointer"], result: "void" },
    fx_nested_sum: { parameters: ["pointer"], result: "f64" },
  });
  try {
    using arena = ffi.arena();
    const player = ffi.view(arena.allocType(Player), Player);
    player.x = 1.5;
    player.y = 2;
    player.health = 10;
    Object.assign(player, { name: "AB" });
    const expected = 1.5 + 2 * 2 + 3 * 10 + 65 + 66;
    assert.equal(lib.symbols.fx_player_score(ffi.toRaw(player).toLightUserData()), expected);

    const out = ffi.view(arena.allocType(Player), Player);
    lib.symbols.fx_player_fill(ffi.toRaw(out).toLightUserData());
    assert.equal(out.x, 1.5);
    assert.equal(out.y, -2.25);
    assert.equal(out.health, 77);
    assert.equal(new TextDecoder().decode(new Uint8Array(5).map((_, i) => out.name[i])), "Rusty");
    assert.equal(out.name[5], 0);

    const n = ffi.view(arena.allocType(Nested), Nested);
    const target = arena.alloc(1);
    Object.assign(n, {
      tag: 1,
      inner: { a: 2, b: 3, c: 4, d: 5, e: 6, f: 7, p: target },
      arr: [8, 9, 10],
      tail: 11,
    });
    assert.equal(lib.symbols.fx_nested_sum(ffi.toRaw(n).toLightUserData()), 66 + target.addr);
  } finally {
    lib.close();
  }
});

Deno.test("assigning to a name that is no field throws a TypeError naming the struct, the name and the value", () => {
  using arena = ffi.arena();
  const p = ffi.view(arena.allocType(Player), Player);
  p.health = 7;
  let caught: unknown;
  try {
    (p as unknown as Record<string, unknown>).helth = 5;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TypeError);
  assert.match(caught.message, /"helth"/);
  assert.match(caught.message, /\b5\b/);
  assert.match(caught.message, /struct \{ x: f32; y: f32; health: i32/);
  assert.match(caught.message, /did you mean "health"\?/);
  // Nothing was added or written.
  assert.equal(Object.hasOwn(p, "helth"), false);
  assert.equal((p as unknown as Record<string, unknown>).helth, undefined);
  assert.equal(p.health, 7);
  // Object.assign assigns in order: the fields before the unknown name are written, then it throws.
  assert.throws(
    () => Object.assign(p, { health: 9, hp: 1 }),
    (e: Error) => /"hp"/.test(e.message) && !/mean/.test(e.message),
  );
  assert.equal(p.health, 9);
  assert.throws(() => Reflect.set(p, "nope", 1), TypeError);
  // Nested views and struct-array elements refuse too.
  const n = ffi.view(arena.allocType(Nested), Nested);
  assert.throws(() => {
    (n.inner as unknown as Record<string, unknown>).bogus = 1;
  }, /"bogus"/);
  const arr = ffi.cast(arena.alloc(Player.size * 3), Player, 3);
  arr.get(2).health = 3;
  assert.throws(() => {
    (arr.get(2) as unknown as Record<string, unknown>).heath = 3;
  }, /did you mean "health"/);
  // Unions, packed structs and bitfields (from C declarations too).
  const defs = ffi.cdef(`
    union U { int i; float f; };
    struct __attribute__((packed)) H { unsigned char tag; unsigned int len; };
    struct F { unsigned int a : 3; int b : 5; };
  `);
  for (const [def, name] of [[defs.U, "i"], [defs.H, "len"], [defs.F, "b"]] as const) {
    const v = ffi.view(arena.alloc(8), def as ffi.StructDefinition) as unknown as Record<string, unknown>;
    v[name] = 2;
    assert.equal(v[name], 2);
    assert.throws(() => {
      v[`${name}x`] = 2;
    }, TypeError);
  }
});

Deno.test("a view still reads unknown names as undefined, awaits, prints, spreads and passes as a pointer", async () => {
  using arena = ffi.arena();
  const raw = arena.allocType(Player);
  const p = ffi.view(raw, Player);
  p.health = 42;
  const any = p as unknown as Record<PropertyKey, unknown>;
  for (const k of ["then", "toJSON", "toString", "constructor", "__proto__", "helth"]) {
    assert.equal(any[k], undefined);
  }
  assert.equal(any[Symbol.toPrimitive], undefined);
  assert.equal("helth" in p, false);
  assert.equal("health" in p, true);
  assert.equal(await Promise.resolve(p), p); // no `then`: a view is not a thenable
  assert.deepEqual(Object.keys(p), []);
  assert.deepEqual(Object.keys({ ...p }), []);
  assert.equal(JSON.stringify(p), "{}");
  assert.match(Deno.inspect(p), /health: 42/);
  // Symbol-keyed properties (tags libraries put on objects) and defineProperty still add own properties.
  const tag = Symbol("tag");
  any[tag] = 1;
  assert.equal(any[tag], 1);
  Object.defineProperty(p, "extra", { value: 1 });
  assert.equal(any.extra, 1);
  // Pointer-like everywhere: toRaw, read, copy, fill and as a C argument.
  assert.equal(ffi.toRaw(p).addr, raw.addr);
  assert.equal(ffi.read(p, Player.offsetOf("health"), "i32"), 42);
  const q = ffi.view(arena.allocType(Player), Player);
  ffi.copy(q, p, Player.size);
  assert.equal(q.health, 42);
  ffi.fill(q, Player.size, 0);
  assert.equal(q.health, 0);
  using libc = ffi.load("libc.so.6");
  const memchr = libc.fn("void *memchr(const void *s, int c, size_t n)");
  assert.equal(ffi.toRaw(memchr(p, 42, BigInt(Player.size)) as ffi.RawPointer).addr, raw.addr + 8);
});
