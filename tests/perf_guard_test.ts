/**
 * Guards for the designs whose whole point is speed: a struct field read and a typed pointer's index
 * read are meant to compile to the very DataView / typed-array load they stand for. The threshold is
 * the issue target (3x), far above what is measured (about 1x), so only a real regression fails it:
 * moving the view slot symbols into exported bindings once made field reads 5.6x a DataView, and
 * nothing else noticed. Writes and get/set are left to `deno bench` (bench/): in a test process their
 * tight-loop cost swings with the JIT's inlining from run to run, too much for a pass/fail line.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";

/** Operations per call of a measured loop: small, so each loop is optimised as a whole function
 * (as `deno bench` runs it) rather than entered by on-stack replacement, whose inlining varies. */
const N = 1000;
/** Calls per timed run. */
const CALLS = 200;

/**
 * Nanoseconds per iteration of each loop, best of several runs after a warm-up long enough for the
 * optimising compiler to take every loop (timed cold, an accessor call is not yet inlined).
 */
function nsPerOp(loops: Record<string, (n: number) => number>): Record<string, number> {
  const out: Record<string, number> = {};
  let sink = 0;
  for (const [name, loop] of Object.entries(loops)) {
    for (let w = 0; w < 2000; w++) sink += loop(N);
    let best = Infinity;
    for (let t = 0; t < 15; t++) {
      const start = performance.now();
      for (let c = 0; c < CALLS; c++) sink += loop(N);
      best = Math.min(best, performance.now() - start);
    }
    out[name] = best * 1e6 / (N * CALLS);
  }
  assert.ok(Number.isFinite(sink));
  return out;
}

function assertWithin(ns: Record<string, number>, ours: string, baseline: string, max: number): void {
  const ratio = ns[ours] / ns[baseline];
  assert.ok(
    ratio <= max,
    `${ours}: ${ratio.toFixed(2)}x ${baseline} (limit ${max}x; ns/op ${JSON.stringify(ns)})`,
  );
}

Deno.test("struct field reads stay within 3x a DataView on the same memory", () => {
  const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
  const arena = ffi.arena();
  const raw = arena.allocType(Player);
  const view = ffi.view(raw, Player);
  // A DataView over the same bytes (a typed pointer's subarray shares the arena's buffer).
  const bytes = ffi.cast(raw, "u8", Player.size) as unknown as Uint8Array;
  const dv = new DataView(bytes.subarray(0).buffer, bytes.byteOffset, Player.size);

  function dataViewRead(n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += dv.getInt32(8, true);
    return s;
  }
  function fieldRead(n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += view.health;
    return s;
  }
  view.health = 7;
  const ns = nsPerOp({ dataViewRead, fieldRead });
  assertWithin(ns, "fieldRead", "dataViewRead", 3);
  arena.reset();
});

Deno.test("typed pointer index reads stay within 3x an Int32Array on the same memory", () => {
  const arena = ffi.arena();
  const p = ffi.cast(arena.allocArray("i32", 1024), "i32");
  const ints = (p as unknown as Int32Array).subarray(0);

  function arrayRead(n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += ints[i & 1023];
    return s;
  }
  function indexRead(n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += p[i & 1023];
    return s;
  }
  const ns = nsPerOp({ arrayRead, indexRead });
  assertWithin(ns, "indexRead", "arrayRead", 3);
  arena.reset();
});
