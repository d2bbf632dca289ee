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
  assertWithin(ns, "dot", "add", 12); // [5.0x]
});
