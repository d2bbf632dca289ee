/**
 * Calls of every shape: many mixed arguments, structs by value in every System V class (through the
 * native call engine), calls through function pointers (getSymbol, a table of pointers read out of
 * C memory, callbacks), variadic calls, and errno.
 */

import * as ffi from "../mod.ts";
import assert from "node:assert/strict";
import { FIXTURE } from "./_fixture.ts";
import { _engineOptions } from "../src/_engine.ts";

const lib = ffi.load(FIXTURE);

const I1 = ffi.struct([["a", "i32"]]);
const F2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
const F3 = ffi.struct([["x", "f32"], ["y", "f32"], ["z", "f32"]]);
const Vec2 = ffi.struct([["x", "f64"], ["y", "f64"]]);
const I2 = ffi.struct([["a", "i64"], ["b", "i64"]]);
const DI = ffi.struct([["d", "f64"], ["n", "i64"]]);
const IFD = ffi.struct([["a", "i32"], ["b", "f32"], ["c", "f64"]]);
const Small = ffi.struct([["a", "u8"], ["b", "i16"], ["c", "u32"]]);
const Vec3 = ffi.struct([["x", "f64"], ["y", "f64"], ["z", "f64"]]);
const S40 = ffi.struct([["a", "i64"], ["b", "f64"], ["c", "i32"], ["d", "f32"], ["e", "f64"], [
  "tag",
  "u8",
  8,
]]);
const Inner = ffi.struct([["a", "i32"], ["b", "i8"]]);
const Outer = ffi.struct([["inner", Inner], ["c", "i8"]]);
const Ops = ffi.struct([
  ["add", "pointer"],
  ["mul", "pointer"],
  ["dot", "pointer"],
  ["sum10", "pointer"],
  ["name", "pointer"],
]);

const MIXED_12: ffi.CType[] = [
  "i8",
  "u8",
  "i16",
  "u16",
  "i32",
  "u32",
  "i64",
  "u64",
  "f32",
  "f64",
  "bool",
  "pointer",
];
const F64_10: ffi.CType[] = Array(10).fill("f64");

function sum12(args: number[], p: number): number {
  return args.reduce((s, x, i) => s + (i + 1) * x, 0) + 12 * (p % 1000);
}

Deno.test("12 mixed arguments: by name, through getSymbol, every value in its place", () => {
  const byName = lib.fn("fx_sum_12_mixed", "f64", MIXED_12);
  const byPtr = ffi.fn(lib.getSymbol("fx_sum_12_mixed")!, "f64", MIXED_12);
  const p = ffi.ptr(123_456);
  const args = [-5, 200, -300, 60000, -70000, 4000000000, -(2 ** 40), 2 ** 41, 1.5, 0.25];
  const want = sum12([...args, 1], 456);
  assert.equal(byName(...args, true, p), want);
  assert.equal(byPtr(...args, true, p), want);
  assert.equal(lib.call("fx_sum_12_mixed", "f64", MIXED_12, ...args, true, p), want);
  // 64-bit arguments as bigint too.
  assert.equal(
    byPtr(-5, 200, -300, 60000, -70000, 4000000000, -(2n ** 40n), 2n ** 41n, 1.5, 0.25, false, null),
    want - 11 - 12 * 456,
  );
});

Deno.test("10 doubles (two on the stack), and 7 ints + 2 doubles, by name and by pointer", () => {
  const xs = [1.5, -2, 3.25, 4, 5, 6, 7, 8, 9.5, 10];
  const want = xs.reduce((s, x, i) => s + (i + 1) * x, 0);
  assert.equal(lib.fn("fx_sum_10_f64", "f64", F64_10)(...xs), want);
  assert.equal(ffi.fn(lib.getSymbol("fx_sum_10_f64")!, "f64", F64_10)(...xs), want);
  const sig: ffi.CType[] = ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "f64", "f64"];
  assert.equal(lib.fn("fx_sum_7_i32_2_f64", "f64", sig)(1, 2, 3, 4, 5, 6, 7, 0.5, 0.25), 28.75);
  assert.equal(
    ffi.fn(lib.getSymbol("fx_sum_7_i32_2_f64")!, "f64", sig)(1, 2, 3, 4, 5, 6, 7, 0.5, 0.25),
    28.75,
  );
});

Deno.test("20 integers and 20 doubles interleaved: more stack arguments than the trampolines route", () => {
  const types: ffi.CType[] = [];
  const args: number[] = [];
  let want = 0;
  for (let i = 0; i < 20; i++) {
    types.push("i64", "f64");
    args.push(i * 3 - 7, i + 0.5);
    want += (i + 1) * (i * 3 - 7) + (i + 21) * (i + 0.5);
  }
  assert.equal(lib.call("fx_sum_20_i64_20_f64", "f64", types, ...args), want);
  assert.equal(ffi.fn(lib.getSymbol("fx_sum_20_i64_20_f64")!, "f64", types)(...args), want);
});

Deno.test("structs by value in every class: INTEGER, SSE, mixed, MEMORY; both directions", () => {
  const cases: [string, object, Record<string, number | bigint>, Record<string, number | bigint>][] = [
    ["fx_i1_scale", I1, { a: -21 }, { a: -63 }],
    ["fx_f2_scale", F2, { x: 1.5, y: -2.25 }, { x: 4.5, y: -6.75 }],
    ["fx_f3_scale", F3, { x: 1.5, y: -2.25, z: 0.5 }, { x: 4.5, y: -6.75, z: 1.5 }],
    ["fx_i2_scale", I2, { a: -5n, b: 7n }, { a: -15n, b: 21n }],
    ["fx_di_scale", DI, { d: 0.5, n: 9n }, { d: 1.5, n: 27n }],
    ["fx_ifd_scale", IFD, { a: -3, b: 0.5, c: 2.25 }, { a: -9, b: 1.5, c: 6.75 }],
    ["fx_small_scale", Small, { a: 7, b: -300, c: 100000 }, { a: 21, b: -900, c: 300000 }],
    ["fx_vec3_scale", Vec3, { x: 1, y: -2, z: 0.5 }, { x: 3, y: -6, z: 1.5 }],
  ];
  for (const [name, def, input, want] of cases) {
    assert.deepEqual(lib.call(name, def, [def, "i32"], input, 3), want, name);
    assert.deepEqual(ffi.fn(lib.getSymbol(name)!, def, [def, "i32"])(input, 3), want, name);
  }
});

Deno.test("vec2_dot and vec2_add: plain objects and StructViews as arguments", () => {
  const dot = lib.fn("fx_vec2_dot", "f64", [Vec2, Vec2]);
  const add = lib.fn("fx_vec2_add", Vec2, [Vec2, Vec2]);
  assert.equal(dot({ x: 1, y: 2 }, { x: 3, y: 4 }), 11);
  assert.deepEqual(add({ x: 1, y: 2 }, { x: 3, y: 4 }), { x: 4, y: 6 });
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(Vec2), Vec2);
  v.x = 0.5;
  v.y = -1;
  assert.equal(dot(v, v), 1.25);
});

Deno.test("a 40-byte struct passed and returned in memory, with an array field", () => {
  const made = lib.call("fx_40_make", S40, ["i32"], 7) as Record<string, unknown>;
  assert.equal(made.a, 7n);
  assert.equal(made.b, 7.5);
  assert.equal(made.c, 14);
  assert.equal(made.d, 7.25);
  assert.equal(made.e, 21);
  assert.deepEqual([...(made.tag as number[])], [116, 97, 103, 0, 0, 0, 0, 7]);
  const tagSum = 116 + 97 + 103 + 7;
  assert.equal(
    lib.call("fx_40_sum", "f64", [S40], made),
    7 + 2 * 7.5 + 3 * 14 + 4 * 7.25 + 5 * 21 + 6 * tagSum,
  );
});

Deno.test("structs and scalars interleaved: registers run out part-way", () => {
  const fn = lib.fn("fx_struct_mix", "f64", ["i32", Vec2, "f32", DI, S40, "i64", IFD]);
  const big = { a: 1n, b: 2, c: 3, d: 4, e: 5, tag: [1, 2, 3, 4, 5, 6, 7, 8] };
  const big40 = 1 + 2 * 2 + 3 * 3 + 4 * 4 + 5 * 5 + 6 * 36;
  const want = 1 + 2 * 0.5 + 3 * 1.5 + 4 * 2.5 + 5 * 3.5 + 6 * 4 + 7 * big40 + 8 * -9 + 9 * 10 + 10 * 0.25 +
    11 * 12.5;
  assert.equal(fn(1, { x: 0.5, y: 1.5 }, 2.5, { d: 3.5, n: 4 }, big, -9, { a: 10, b: 0.25, c: 12.5 }), want);
});

Deno.test("a nested struct keeps its tail padding: { {i32, i8}, i8 } is 12 bytes in two eightbytes", () => {
  assert.equal(Outer.size, 12);
  assert.deepEqual(
    lib.call("fx_outer_bump", Outer, [Outer], { inner: { a: 41, b: -2 }, c: 126 }),
    { inner: { a: 42, b: -1 }, c: 127 },
  );
});

Deno.test("a table of function pointers read out of C memory", () => {
  const ops = ffi.view(lib.call("fx_ops", "pointer", []) as ffi.RawPointer, Ops) as unknown as Record<
    string,
    ffi.RawPointer
  >;
  assert.equal(ffi.fn(ops.add, "i32", ["i32", "i32"])(2, 3), 5);
  assert.equal(ffi.fn(ops.mul, "i32", ["i32", "i32"])(6, 7), 42);
  assert.equal(ffi.fn(ops.dot, "f64", [Vec2, Vec2])({ x: 1, y: 1 }, { x: 2, y: 3 }), 5);
  assert.equal(ffi.fn(ops.sum10, "f64", F64_10)(1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 55);
  assert.equal(ffi.fn(ops.name, "string", [])(), "fixture ops");
});

Deno.test("ffi.fn: a Signature object, libc and libm through getSymbol, callbacks' pointers", () => {
  using libm = ffi.load("libm.so.6");
  using libc = ffi.load("libc.so.6");
  const pow = ffi.fn(libm.getSymbol("pow")!, { name: "pow", ret: "f64", args: ["f64", "f64"] });
  assert.equal(pow(2, 10), 1024);
  const strlen = ffi.fn(libc.getSymbol("strlen")!, "usize", ["string"]);
  assert.equal(strlen("héllo"), 6n);
  const getpid = ffi.fn(libc.getSymbol("getpid")!.toLightUserData(), "i32", []);
  assert.equal(getpid(), Deno.pid);
  // A callback's pointer, by value structs included.
  using cb = ffi.callback((a: number, b: number) => a * 10 + b, "i32", ["i32", "i32"]);
  assert.equal(ffi.fn(cb, "i32", ["i32", "i32"])(4, 2), 42);
  assert.equal(ffi.fn(cb.ptr, "i32", ["i32", "i32"])(4, 3), 43);
});

Deno.test("ffi.fn: errors name what is wrong, and a closed callback is never called", () => {
  assert.throws(() => ffi.fn(null, "i32", []), /NULL/);
  assert.throws(() => ffi.fn(ffi.ptr(16), "i32", []), /0x10/);
  assert.throws(() => ffi.fn(42 as never, "i32", []), TypeError);
  assert.throws(() => ffi.fn(lib.getSymbol("fx_add_i32")!, "i33", []), /i33/);
  assert.throws(() => ffi.fn(lib.getSymbol("fx_add_i32")!, "i32" as never), /argument types/);
  const add = ffi.fn(lib.getSymbol("fx_add_i32")!, "i32", ["i32", "i32"]);
  // @ts-expect-error: the list form is typed, so a missing argument is a compile error too.
  assert.throws(() => add(1), /takes 2 arguments, got 1/);
  assert.throws(() => add(1, 2.5), /argument 1 \(i32\)/);
  const cb = ffi.callback(() => 1, "i32", []);
  const f = ffi.fn(cb, "i32", []);
  assert.equal(f(), 1);
  cb.close();
  assert.throws(() => f(), /callback was closed/);
  assert.throws(() => ffi.fn(cb.ptr, "i32", []), /closed callback/);
});

Deno.test("variadic calls: snprintf with 30 doubles (the engine sets al), and with 7 ints", () => {
  using libc = ffi.load("libc.so.6");
  const buf = ffi.buffer(512);
  const doubles = Array.from({ length: 30 }, (_, i) => i + 0.5);
  const types = [
    "pointer",
    "usize",
    "string",
    ...Array(7).fill("i32"),
    ...Array(30).fill("f64"),
  ] as ffi.CType[];
  const fmt = "%d ".repeat(7) + "%g ".repeat(30);
  const n = libc.call("snprintf", "i32", types, buf, 512, fmt, 1, 2, 3, 4, 5, 6, 7, ...doubles);
  const want = "1 2 3 4 5 6 7 " + doubles.map((d) => `${d} `).join("");
  assert.equal(buf.readString(), want);
  assert.equal(n, want.length);
  const snprintf = ffi.fn(libc.getSymbol("snprintf")!, "i32", ["pointer", "usize", "string", "f64", "i32"]);
  snprintf(buf, 512, "%.1f %d", 2.5, 9);
  assert.equal(buf.readString(), "2.5 9");
});

Deno.test("a struct argument's char* field given a JS string lives for the call", () => {
  using libc = ffi.load("libc.so.6");
  // strlen through a one-field struct: { const char *s } is passed in a register, as the pointer is.
  const S = ffi.struct([["s", "char*"]]);
  assert.equal(libc.call("strlen", "usize", [S], { s: "a string of 27 bytes: héllo" }), 28n);
});

Deno.test("errno: open of a missing path is ENOENT, strtol overflow ERANGE, across JS work and a GC", () => {
  using libc = ffi.load("libc.so.6");
  const open = libc.fn("open", "int", ["string", "int"]);
  assert.equal(open("/no/such/dir/file", 0), -1);
  const junk: unknown[] = [];
  for (let i = 0; i < 10000; i++) junk.push({ i, s: String(i) });
  (globalThis as { gc?: () => void }).gc?.();
  Deno.readTextFileSync.length; // more JS
  assert.equal(ffi.errno(), 2); // ENOENT
  assert.equal(ffi.errno(0), 2);
  assert.equal(ffi.errno(), 0);
  const strtol = libc.fn("strtol", "long", ["string", "pointer", "int"]);
  assert.equal(strtol("99999999999999999999999", null, 10), 2n ** 63n - 1n);
  (globalThis as { gc?: () => void }).gc?.();
  assert.equal(ffi.errno(), 34); // ERANGE
  // errno(v) is what the next call sees.
  ffi.errno(0);
  assert.equal(strtol("12", null, 10), 12n);
  assert.equal(ffi.errno(), 0);
});

Deno.test("errno: the value the function set, by name, by pointer and through the engine", () => {
  const fail = lib.fn("fx_fail_with_errno", "i32", ["i32"]);
  assert.equal(fail(77), -1);
  assert.equal(ffi.errno(), 77);
  assert.equal(ffi.fn(lib.getSymbol("fx_fail_with_errno")!, "i32", ["i32"])(78), -1);
  assert.equal(ffi.errno(), 78);
  const failStruct = lib.fn("fx_fail_with_errno_struct", "i32", ["i32", Vec2]);
  assert.equal(failStruct(79, { x: 0, y: 0 }), -1);
  assert.equal(ffi.errno(), 79);
  // errno(v) is set right before the next call, on both paths.
  ffi.errno(5);
  assert.equal(lib.call("fx_errno", "i32", []), 5);
  ffi.errno(6);
  assert.equal(lib.call("fx_errno_with_struct", "i32", [Vec2], { x: 1, y: 2 }), 6);
  assert.throws(() => ffi.errno(1.5), TypeError);
  assert.throws(() => ffi.errno(2 ** 40), RangeError);
  assert.equal(ffi.lastError(), 0);
});

Deno.test("binding caches key struct definitions by layout: inline definitions keep memory flat", () => {
  using libc = ffi.load("libc.so.6");
  const Vec2Again = () => ffi.struct([["x", "f64"], ["y", "f64"]]);
  const round = (n: number) => {
    for (let i = 0; i < n; i++) {
      assert.equal(libc.call("getpid", "i32", [ffi.struct([["x", "i32"]])], { x: 1 }), Deno.pid);
      assert.equal(
        lib.call("fx_vec2_dot", "f64", [Vec2Again(), Vec2], { x: 1, y: 2 }, { x: 3, y: i }),
        3 + 2 * i,
      );
    }
  };
  round(500);
  (globalThis as { gc?: () => void }).gc?.();
  const before = Deno.memoryUsage().heapUsed;
  const t0 = performance.now();
  round(5000);
  const perCall = (performance.now() - t0) / 10000;
  (globalThis as { gc?: () => void }).gc?.();
  // A binding per call (the old cache: a Deno.dlopen, ~200 µs, and its wrappers) kept kilobytes each.
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 4 * 1024 * 1024, `JS heap grew by ${grown} bytes over 10000 calls`);
  assert.ok(perCall < 0.1, `${perCall} ms per call`);
});

Deno.test("a getter or kToRaw that frees an earlier argument's memory makes the call throw", () => {
  const echoWithStruct = ffi.fn(lib.getSymbol("fx_echo_ptr")!, "pointer", ["pointer", Vec2]);
  const arena = ffi.arena();
  const p = arena.alloc(16);
  const evil = {
    x: 1,
    get y() {
      arena.reset();
      return 2;
    },
  };
  // The pointer is converted first; the struct's getter frees its memory afterwards.
  assert.throws(() => echoWithStruct(p, evil), /freed/);

  const arena2 = ffi.arena();
  const q = arena2.alloc(16);
  const evilRaw = {
    [ffi.kToRaw]() {
      arena2.reset();
      return ffi.ptr(4096);
    },
  };
  for (
    const echo2 of [
      lib.fn("fx_echo_ptr", "pointer", ["pointer", "pointer"]),
      ffi.fn(lib.getSymbol("fx_echo_ptr")!, "pointer", ["pointer", "pointer"]),
    ]
  ) {
    const arena3 = ffi.arena();
    const r = arena3.alloc(16);
    const evil3 = {
      [ffi.kToRaw]() {
        arena3.reset();
        return ffi.ptr(4096);
      },
    };
    assert.throws(() => echo2(r, evil3), /freed/);
  }
  void q;
  void evilRaw;
});

Deno.test("the libffi engine (used where the register engine is not) passes the same shapes", () => {
  const was = _engineOptions.libffi;
  _engineOptions.libffi = true;
  try {
    const sym = (n: string) => lib.getSymbol(n)!;
    for (
      const [name, def, input, want] of [
        ["fx_f3_scale", F3, { x: 1.5, y: -2.25, z: 0.5 }, { x: 4.5, y: -6.75, z: 1.5 }],
        ["fx_di_scale", DI, { d: 0.5, n: 9n }, { d: 1.5, n: 27n }],
        ["fx_ifd_scale", IFD, { a: -3, b: 0.5, c: 2.25 }, { a: -9, b: 1.5, c: 6.75 }],
        ["fx_vec3_scale", Vec3, { x: 1, y: -2, z: 0.5 }, { x: 3, y: -6, z: 1.5 }],
      ] as const
    ) {
      assert.deepEqual(ffi.fn(sym(name), def, [def, "i32"])(input, 3), want, name);
    }
    const made = ffi.fn(sym("fx_40_make"), S40, ["i32"])(7) as Record<string, unknown>;
    assert.equal(made.e, 21);
    const fn = ffi.fn(sym("fx_struct_mix"), "f64", ["i32", Vec2, "f32", DI, S40, "i64", IFD]);
    const big = { a: 1n, b: 2, c: 3, d: 4, e: 5, tag: [1, 2, 3, 4, 5, 6, 7, 8] };
    const big40 = 1 + 2 * 2 + 3 * 3 + 4 * 4 + 5 * 5 + 6 * 36;
    const want = 1 + 2 * 0.5 + 3 * 1.5 + 4 * 2.5 + 5 * 3.5 + 6 * 4 + 7 * big40 + 8 * -9 + 9 * 10 + 10 * 0.25 +
      11 * 12.5;
    assert.equal(
      fn(1, { x: 0.5, y: 1.5 }, 2.5, { d: 3.5, n: 4n }, big, -9n, { a: 10, b: 0.25, c: 12.5 }),
      want,
    );
    const fail = ffi.fn(sym("fx_fail_with_errno_struct"), "i32", ["i32", Vec2]);
    assert.equal(fail(81, { x: 0, y: 0 }), -1);
    assert.equal(ffi.errno(), 81);
    ffi.errno(9);
    assert.equal(ffi.fn(sym("fx_errno_with_struct"), "i32", [Vec2])({ x: 1, y: 2 }), 9);
  } finally {
    _engineOptions.libffi = was;
  }
});

Deno.test("structs by value through callbacks and pointers: the register engine calls back into JS", () => {
  // A C function pointer to a JS callback taking and returning a struct is called by the engine.
  using cb = ffi.callback((v: { x: number; y: number }, k: number) => v.x * k + v.y, "f64", [Vec2, "i32"]);
  const call = ffi.fn(cb, "f64", [Vec2, "i32"]);
  assert.equal(call({ x: 2, y: 1 }, 10), 21);
  // A nested call of the same engine function from inside a callback leaves the outer call intact.
  const dot = lib.fn("fx_vec2_dot", "f64", [Vec2, Vec2]);
  using inner = ffi.callback((k: number) => dot({ x: k, y: 1 }, { x: 1, y: 1 }), "f64", ["i32"]);
  const viaCb = ffi.fn(inner, "f64", ["i32"]);
  assert.equal(dot({ x: 1, y: 2 }, { x: viaCb(5), y: 4 }), 6 + 8);
});

Deno.test("binding caches: same layout with other field names, other spellings, mutated type arrays", () => {
  const XY = ffi.struct([["x", "f64"], ["y", "f64"]]);
  const AB = ffi.struct([["a", "f64"], ["b", "f64"]]);
  assert.equal(lib.call("fx_vec2_dot", "f64", [XY, XY], { x: 1, y: 2 }, { x: 3, y: 4 }), 11);
  assert.equal(lib.call("fx_vec2_dot", "f64", [AB, AB], { a: 1, b: 2 }, { a: 3, b: 4 }), 11);
  assert.throws(
    () => lib.call("fx_vec2_dot", "f64", [AB, AB], { x: 1, y: 2 }, { a: 3, b: 4 }),
    /no field "x"/,
  );
  assert.equal(lib.call("fx_add_i32", "int", ["int", "int32_t"], 2, 3), 5);
  assert.equal(lib.call("fx_add_i32", "i32", ["i32", "i32"], 2, 3), 5);
  // A type array changed between calls is read again, never served from a stale cache.
  const types: ffi.CType[] = ["i32", "i32"];
  assert.equal(lib.call("fx_add_i32", "i32", types, 2, 3), 5);
  types[0] = "f64";
  types[1] = "f64";
  assert.equal(lib.call("fx_add_f64", "f64", types, 0.5, 0.25), 0.75);
  types[0] = "i32";
  assert.throws(() => lib.call("fx_add_i32", "i32", types, 1, 2n), /argument 1 \(f64\)/);
});

Deno.test("lib.call alternating signatures (the shared path): values, errors, errno, structs, close", () => {
  using fx = ffi.load(FIXTURE);
  const p = ffi.ptr(123_456);
  for (let i = 0; i < 50; i++) {
    // Each call has another signature than the one before it.
    assert.equal(fx.call("fx_add_i32", "i32", ["i32", "i32"], i, 0xffffffff), i - 1);
    assert.equal(
      fx.call(
        "fx_sum_12_mixed",
        "f64",
        MIXED_12,
        -5,
        200,
        -300,
        60000,
        -70000,
        4000000000,
        -(2n ** 40n),
        2n ** 63n,
        1.5,
        0.25,
        true,
        p,
      ),
      sum12([-5, 200, -300, 60000, -70000, 4000000000, -(2 ** 40), 2 ** 63, 1.5, 0.25, 1], 456),
    );
    assert.equal(fx.call("fx_strlen", "usize", ["string"], "héllo"), 6n);
    assert.deepEqual(fx.call("fx_vec2_add", Vec2, [Vec2, Vec2], { x: 1, y: i }, { x: 2, y: 3 }), {
      x: 3,
      y: i + 3,
    });
    assert.equal(fx.call("fx_echo_u8", "u8", ["u8"], -1), 255);
    assert.equal(fx.call("fx_echo_i8", "i8", ["i8"], 200), -56);
    assert.equal(fx.call("fx_echo_bool", "bool", ["bool"], i % 2 === 0), i % 2 === 0);
    assert.equal(fx.call("fx_ret_string", "string", []), "héllo from the fixture");
    assert.equal((fx.call("fx_echo_ptr", "pointer", ["pointer"], p) as ffi.RawPointer).addr, 123_456);
    assert.equal(fx.call("fx_fail_with_errno", "i32", ["i32"], 40 + (i % 3)), -1);
    assert.equal(ffi.errno(), 40 + (i % 3));
  }
  assert.throws(
    () => fx.call("fx_add_i32", "i32", ["i32", "i32"], 1.5, 1),
    /argument 0 \(i32\) of fx_add_i32/,
  );
  assert.throws(() => fx.call("fx_strlen", "usize", ["string"], 5), /argument 0 \(string\)/);
  assert.throws(() => fx.call("fx_add_i32", "i32", ["i32", "i32"], 1), /takes 2 arguments, got 1/);
  assert.throws(() => fx.call("fx_vec2_dot", "f64", [Vec2, Vec2], { x: 1 }, 7), /argument 1/);
  // A callback's exception reaches the call that led C to run it.
  using cb = ffi.callback(
    () => {
      throw new Error("from the callback");
    },
    "f64",
    [Vec2, "i32"],
  );
  const call = ffi.fn(cb, "f64", [Vec2, "i32"]);
  assert.throws(() => call({ x: 1, y: 2 }, 3), /from the callback/);
  fx.close();
  assert.throws(() => fx.call("fx_add_i32", "i32", ["i32", "i32"], 1, 2), /library closed/);
  assert.throws(() => fx.call("fx_strlen", "usize", ["string"], "x"), /library closed/);
});

Deno.test("ffi.fn of a variadic Signature: fixed arguments, then a type and a value per extra one", () => {
  using libc = ffi.load("libc.so.6");
  const defs = ffi.cdef("int snprintf(char *buf, size_t n, const char *fmt, ...);");
  const snprintf = ffi.fn(libc.getSymbol("snprintf")!, defs.snprintf as ffi.SignatureLike);
  const buf = ffi.buffer(64);
  assert.equal(snprintf(buf, 64, "%d-%.1f-%s", "int", 7, "double", 2.5, "char*", "x"), 7);
  assert.equal(buf.readString(), "7-2.5-x");
  assert.equal(snprintf(buf, 64, "plain"), 5);
  assert.throws(() => snprintf(buf, 64, "%d", "int"), /type and a value/);
});

Deno.test("a struct too big to copy onto the native stack is refused, not a crash", () => {
  const Huge = ffi.struct([["bytes", "u8", 4 << 20]]);
  assert.throws(() => lib.fn("fx_strlen", "usize", [Huge]), RangeError);
  assert.throws(() => ffi.fn(lib.getSymbol("fx_strlen")!, "usize", [Huge]), /by value/);
});

Deno.test("a getter that calls the same function while its arguments are converted is refused", () => {
  const dot = lib.fn("fx_vec2_dot", "f64", [Vec2, Vec2]);
  const sneaky = {
    x: 1,
    get y() {
      return dot({ x: 5, y: 5 }, { x: 5, y: 5 }); // overwrites the block mid-conversion
    },
  };
  assert.throws(() => dot({ x: 1, y: 1 }, sneaky), /called fx_vec2_dot itself/);
  // A getter computing through another function is fine.
  const add = lib.fn("fx_add_i32", "i32", ["i32", "i32"]);
  assert.equal(
    dot({ x: 1, y: 1 }, {
      x: 1,
      get y() {
        return add(1, 1);
      },
    }),
    3,
  );
  assert.equal(dot({ x: 2, y: 3 }, { x: 4, y: 5 }), 23);
  // Through lib.call, the nested call takes the compiled wrapper (another block): nothing is lost.
  using fx = ffi.load(FIXTURE);
  fx.call("fx_add_i32", "i32", ["i32", "i32"], 1, 2);
  const nested = fx.call("fx_vec2_dot", "f64", [Vec2, Vec2], { x: 1, y: 1 }, {
    x: 1,
    get y() {
      return fx.call("fx_vec2_dot", "f64", [Vec2, Vec2], { x: 1, y: 1 }, { x: 1, y: 1 });
    },
  });
  assert.equal(nested, 3);
});
