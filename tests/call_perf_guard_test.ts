/**
 * Guards for the call paths whose point is speed, with limits far above what is measured (in
 * brackets), so only a real regression fails them: a wrapper grown past V8's inlining budget once
 * made a nine-argument call 2.2x a raw one, and a struct call through libffi's `ffi_call` was 15x a
 * plain one. Best of several runs, each loop its own function, after a warm-up.
 */

import { assertWithin, guard, nsPer } from "./_timing.ts";
import * as ffi from "../mod.ts";
import { FIXTURE } from "./_fixture.ts";

const N = 1000;
const CALLS = 100;

guard("calls: 7 x i32 + 2 x f64 near raw Deno, a pointer call near a named one, vec2_dot near add", () => {
  const I7F2 = ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "f64", "f64"] as const;
  const raw = Deno.dlopen(FIXTURE, {
    fx_sum_7_i32_2_f64: { parameters: [...I7F2], result: "f64" },
  });
  using lib = ffi.load(FIXTURE);
  const sum9 = lib.fn("fx_sum_7_i32_2_f64", "f64", [...I7F2]);
  const rawSum9 = raw.symbols.fx_sum_7_i32_2_f64;
  const add = lib.fn("fx_add_i32", "i32", ["i32", "i32"]);
  const addByPtr = ffi.fn(lib.getSymbol("fx_add_i32")!, "i32", ["i32", "i32"]);
  const Vec2 = ffi.struct([["x", "f64"], ["y", "f64"]]);
  const dot = lib.fn("fx_vec2_dot", "f64", [Vec2, Vec2]);
  const a = { x: 1, y: 2 };
  const b = { x: 3, y: 4 };
  const ns = nsPer(
    {
      rawSum9(n) {
        let s = 0;
        for (let i = 0; i < n; i++) s += rawSum9(i, 2, 3, 4, 5, 6, 7, 0.5, 1);
        return s;
      },
      sum9(n) {
        let s = 0;
        for (let i = 0; i < n; i++) s += sum9(i, 2, 3, 4, 5, 6, 7, 0.5, 1) as number;
        return s;
      },
      add(n) {
        let s = 0;
        for (let i = 0; i < n; i++) s = add(s & 0xffff, 1) as number;
        return s;
      },
      addByPtr(n) {
        let s = 0;
        for (let i = 0; i < n; i++) s = addByPtr(s & 0xffff, 1) as number;
        return s;
      },
      dot(n) {
        let s = 0;
        for (let i = 0; i < n; i++) s += dot(a, b) as number;
        return s;
      },
    },
    N,
    CALLS,
    1000,
  );
  raw.close();
  if (Deno.env.get("CALL_GUARD_VERBOSE")) console.log(ns);
  assertWithin(ns, "sum9", "rawSum9", 2); // [1.0-1.35x]
  assertWithin(ns, "addByPtr", "add", 3); // [1.2x]
  assertWithin(ns, "dot", "add", 7); // [3.6x; 5.3x while the wrapper was too big to inline]
});

guard("a qsort comparator reading the pointers C passes stays within 1.8x a raw Deno comparator", () => {
  // [1.0x; 2.5x while those pointers were built through Reflect.construct and UnsafePointer.value]
  const n = 20_000;
  const raw = Deno.dlopen("libc.so.6", {
    qsort: { parameters: ["pointer", "usize", "usize", "function"], result: "void" },
  });
  const rawCmp = new Deno.UnsafeCallback(
    { parameters: ["pointer", "pointer"], result: "i32" } as const,
    (a, b) => {
      const x = new Deno.UnsafePointerView(a!).getInt32(), y = new Deno.UnsafePointerView(b!).getInt32();
      return x < y ? -1 : x > y ? 1 : 0;
    },
  );
  using lib = ffi.load("libc.so.6");
  const qsort = lib.fn("qsort", "void", ["pointer", "usize", "usize", "pointer"]);
  using cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer) => {
      const x = a.read(0, "i32") as number, y = b.read(0, "i32") as number;
      return x < y ? -1 : x > y ? 1 : 0;
    },
    "i32",
    ["pointer", "pointer"],
  );
  using arena = ffi.arena();
  const p = arena.allocArray("i32", n);
  const ints = ffi.cast(p, "i32") as unknown as Int32Array;
  const base = Deno.UnsafePointer.create(BigInt(p.addr));
  const fill = () => {
    let seed = 1;
    for (let i = 0; i < n; i++) ints[i] = seed = (Math.imul(seed, 1103515245) + 12345) | 0;
  };
  const best = { raw: Infinity, ours: Infinity };
  for (let r = 0; r < 5; r++) {
    fill();
    let t = performance.now();
    raw.symbols.qsort(base, BigInt(n), 4n, rawCmp.pointer);
    best.raw = Math.min(best.raw, performance.now() - t);
    fill();
    t = performance.now();
    qsort(p, n, 4, cmp);
    best.ours = Math.min(best.ours, performance.now() - t);
    for (let i = 1; i < n; i++) if (ints[i - 1] > ints[i]) throw new Error(`not sorted at ${i}`);
  }
  rawCmp.close();
  raw.close();
  if (Deno.env.get("CALL_GUARD_VERBOSE")) console.log(best);
  assertWithin(best, "ours", "raw", 1.8);
});
