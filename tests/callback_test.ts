// Callbacks: C calling JavaScript with every type, exceptions, and closing.
import * as ffi from "../mod.ts";
import { FIXTURE } from "./_fixture.ts";
import assert from "node:assert/strict";

Deno.test("callback() gives a C function pointer with retType, argCount and isValid", () => {
  using fx = ffi.load(FIXTURE);
  using mul = ffi.callback((a: number, b: number) => a * b, "int", ["int", "int"]);
  assert.ok(mul.ptr instanceof ffi.RawPointer);
  assert.equal(mul.ptr.isNull, false);
  assert.equal(mul.retType, "i32");
  assert.equal(mul.argCount, 2);
  assert.equal(mul.isValid, true);
  assert.equal(fx.call("fx_call_cb_i32", "i32", ["pointer", "i32", "i32"], mul.ptr, 6, 7), 42);
  // The Callback itself stands for its pointer.
  assert.equal(fx.call("fx_call_cb_i32", "i32", ["pointer", "i32", "i32"], mul, -6, 7), -42);
  const call = fx.fn("fx_call_cb_i32", "i32", ["pointer", "i32", "i32"]);
  let sum = 0;
  for (let i = 0; i < 20000; i++) sum += call(mul, i, 2) as number;
  assert.equal(sum, 2 * (20000 * 19999) / 2);
});

/** Per type: a value C passes to the callback and back, and what JS sees. */
const ECHO: [string, unknown, unknown][] = [
  ["i8", -128, -128],
  ["u8", 255, 255],
  ["i16", -32768, -32768],
  ["u16", 65535, 65535],
  ["u32", 0xffffffff, 0xffffffff],
  ["i64", -(2n ** 63n), -(2n ** 63n)],
  ["u64", 2n ** 64n - 1n, 2n ** 64n - 1n],
  ["isize", -1n, -1n],
  ["usize", 2n ** 64n - 1n, 2n ** 64n - 1n],
  ["f32", 1.5, 1.5],
  ["f64", Math.E, Math.E],
  ["bool", true, true],
  ["bool", false, false],
];

Deno.test("callbacks receive and return every primitive type", () => {
  using fx = ffi.load(FIXTURE);
  for (const [t, v, want] of ECHO) {
    let seen: unknown;
    using cb = ffi.callback((x: unknown) => (seen = x), t as ffi.CType, [t as ffi.CType]);
    const got = fx.call(`fx_call_cb_${t}`, t as ffi.CType, ["pointer", t as ffi.CType], cb, v);
    assert.ok(Object.is(seen, want), `${t}: callback saw ${String(seen)}`);
    assert.ok(Object.is(got, want), `${t}: C got back ${String(got)}`);
  }
});

Deno.test("callback results follow the value rules: C conversion, numbers for 64-bit", () => {
  using fx = ffi.load(FIXTURE);
  using u8 = ffi.callback(() => -1, "u8", ["u8"]);
  assert.equal(fx.call("fx_call_cb_u8", "u8", ["pointer", "u8"], u8, 0), 255);
  using i64 = ffi.callback(() => -5, "i64", ["i64"]);
  assert.equal(fx.call("fx_call_cb_i64", "i64", ["pointer", "i64"], i64, 0), -5n);
  using u64 = ffi.callback(() => -1n, "u64", ["u64"]);
  assert.equal(fx.call("fx_call_cb_u64", "u64", ["pointer", "u64"], u64, 0), 2n ** 64n - 1n);
});

Deno.test("callbacks receive pointers as RawPointer and may return pointers", () => {
  using fx = ffi.load(FIXTURE);
  using arena = ffi.arena();
  const p = arena.alloc(8);
  let seen: unknown;
  using cb = ffi.callback(
    (x: ffi.RawPointer) => {
      seen = x;
      return x.add(4);
    },
    "pointer",
    ["pointer"],
  );
  const back = fx.call("fx_call_cb_ptr", "pointer", ["pointer", "pointer"], cb, p) as ffi.RawPointer;
  assert.ok(seen instanceof ffi.RawPointer);
  assert.equal((seen as ffi.RawPointer).addr, p.addr);
  assert.equal(back.addr, p.addr + 4);
  using nul = ffi.callback((x: ffi.RawPointer) => (seen = x, null), "pointer", ["pointer"]);
  assert.ok(
    (fx.call("fx_call_cb_ptr", "pointer", ["pointer", "pointer"], nul, null) as ffi.RawPointer).isNull,
  );
  assert.ok((seen as ffi.RawPointer).isNull);
});

Deno.test("callbacks receive char* as a JS string", () => {
  using fx = ffi.load(FIXTURE);
  let seen: unknown;
  using cb = ffi.callback((s: string) => (seen = s, s.length), "i32", ["string"]);
  assert.equal(fx.call("fx_call_cb_string", "i32", ["pointer"], cb), 16);
  assert.equal(seen, "callback says hi");
});

Deno.test("callbacks receive eight mixed arguments", () => {
  using fx = ffi.load(FIXTURE);
  using arena = ffi.arena();
  const p = arena.alloc(1);
  let seen: unknown[] = [];
  using cb = ffi.callback(
    (...args: unknown[]) => (seen = args, 0.5),
    "f64",
    ["i8", "u16", "i32", "i64", "f32", "f64", "bool", "pointer"],
  );
  assert.equal(fx.call("fx_call_cb_mixed", "f64", ["pointer", "pointer"], cb, p), 0.5);
  assert.deepEqual(seen.slice(0, 7), [-5, 60000, -70000, -(2n ** 40n), 1.5, 2.25, true]);
  assert.equal((seen[7] as ffi.RawPointer).addr, p.addr);
});

Deno.test("a void callback is called as often as C calls it", () => {
  using fx = ffi.load(FIXTURE);
  let n = 0;
  using cb = ffi.callback(() => void n++, "void", []);
  assert.equal(cb.retType, "void");
  fx.call("fx_call_cb_void", "void", ["pointer", "i32"], cb, 1000);
  assert.equal(n, 1000);
});

Deno.test("an exception in a callback is rethrown, the same object, from the outer call", () => {
  using fx = ffi.load(FIXTURE);
  const boom = new Error("boom");
  let runs = 0;
  using cb = ffi.callback(
    (i: number) => {
      runs++;
      if (i === 3) throw boom;
      return i;
    },
    "i32",
    ["i32"],
  );
  assert.throws(() => fx.call("fx_call_cb_n", "i64", ["pointer", "i32"], cb, 10), (e: unknown) => e === boom);
  // C kept looping, but once the callback had thrown the rest returned zero without running JS.
  assert.equal(runs, 4);
  // Nothing stays pending: the next call is clean.
  runs = 0;
  assert.equal(fx.call("fx_call_cb_n", "i64", ["pointer", "i32"], cb, 3), 0n + 0n + 1n + 2n);
  assert.equal(runs, 3);
  // Through fn(), hot.
  const callN = fx.fn("fx_call_cb_n", "i64", ["pointer", "i32"]);
  for (let k = 0; k < 2000; k++) {
    assert.throws(() => callN(cb, 5), (e: unknown) => e === boom);
  }
});

Deno.test("an exception in a callback C reaches through another call is rethrown from that call", () => {
  using fx = ffi.load(FIXTURE);
  const err = new RangeError("from the stored callback");
  using cb = ffi.callback(
    (v: number) => {
      if (v < 0) throw err;
      return v * 2;
    },
    "i32",
    ["i32"],
  );
  fx.call("fx_store_cb", "void", ["pointer"], cb);
  try {
    const fire = fx.fn("fx_fire_stored", "i32", ["i32"]);
    assert.equal(fire(21), 42);
    assert.throws(() => fire(-1), (e: unknown) => e === err);
    assert.equal(fire(1), 2);
  } finally {
    fx.call("fx_store_cb", "void", ["pointer"], null);
  }
});

Deno.test("a callback result that breaks the value rules is rethrown from the outer call", () => {
  using fx = ffi.load(FIXTURE);
  using tooBig = ffi.callback(() => 2 ** 40, "i32", ["i32", "i32"]);
  assert.throws(
    () => fx.call("fx_call_cb_i32", "i32", ["pointer", "i32", "i32"], tooBig, 1, 2),
    (e: unknown) => e instanceof RangeError && /return value \(i32\)/.test(e.message),
  );
  using str = ffi.callback(() => "not memory", "pointer", ["pointer"]);
  assert.throws(() => fx.call("fx_call_cb_ptr", "pointer", ["pointer", "pointer"], str, null), TypeError);
});

Deno.test("a closed callback cannot be used from the API", () => {
  using fx = ffi.load(FIXTURE);
  const cb = ffi.callback(() => 1, "i32", ["i32", "i32"]);
  cb.close();
  assert.equal(cb.isValid, false);
  assert.throws(() => cb.ptr, (e: unknown) => e instanceof ffi.FfiError && /closed callback/.test(e.message));
  assert.throws(
    () => fx.call("fx_call_cb_i32", "i32", ["pointer", "i32", "i32"], cb, 1, 2),
    (e: unknown) => e instanceof ffi.FfiError && /closed callback/.test(e.message),
  );
  cb.close(); // twice is fine
  let disposed: ffi.Callback;
  {
    using d = ffi.callback(() => 1, "i32", []);
    disposed = d;
  }
  assert.equal(disposed.isValid, false);
});

Deno.test("callback() checks its arguments", () => {
  assert.throws(() => ffi.callback(42 as unknown as () => void, "void", []), TypeError);
  assert.throws(() => ffi.callback(() => 1, "int33" as ffi.CType, []), /int33/);
  assert.throws(() => ffi.callback(() => 1, "i32", ["void"]), /void/);
  assert.throws(() => ffi.callback(() => 1, "i32", "i32" as unknown as ffi.CType[]), TypeError);
});

const Point = ffi.struct([["x", "i32"], ["y", "i32"]]);
const Big = ffi.struct([["a", "i64"], ["b", "i64"], ["c", "i64"]]);

Deno.test("callbacks take and return structs by value", () => {
  using fx = ffi.load(FIXTURE);
  let seen: unknown;
  using swap = ffi.callback((p: { x: number; y: number }) => (seen = p, { x: p.y, y: p.x }), Point, [Point]);
  assert.equal(swap.retType, Point);
  assert.deepEqual(fx.call("fx_call_cb_point", Point, ["pointer", Point], swap, { x: 5, y: 9 }), {
    x: 9,
    y: 5,
  });
  assert.deepEqual(seen, { x: 5, y: 9 });
  using big = ffi.callback(() => ({ a: 1n, b: 2, c: 3n }), Big, []);
  assert.equal(fx.call("fx_call_cb_big", "i64", ["pointer"], big), 6n);
});
