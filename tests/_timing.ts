/**
 * Shared by the speed guards (`perf_guard_test.ts`, `call_perf_guard_test.ts`): best-of-several timing
 * of small loops, a ratio assertion that prints every figure, and a test that retries a guard.
 */

import assert from "node:assert/strict";

/**
 * Nanoseconds per iteration of each loop (called with `n`), best of 15 timed runs of `calls` calls
 * after `warmup` calls, long enough for the optimising compiler to take every loop (timed cold, an
 * accessor or wrapper is not yet inlined).
 */
export function nsPer(
  loops: Record<string, (n: number) => number>,
  n: number,
  calls: number,
  warmup: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  let sink = 0;
  for (const [name, loop] of Object.entries(loops)) {
    for (let w = 0; w < warmup; w++) sink += loop(n);
    let best = Infinity;
    for (let t = 0; t < 15; t++) {
      const start = performance.now();
      for (let c = 0; c < calls; c++) sink += loop(n);
      best = Math.min(best, performance.now() - start);
    }
    out[name] = best * 1e6 / (n * calls);
  }
  assert.ok(Number.isFinite(sink));
  return out;
}

/** Asserts `ns[ours] / ns[baseline] <= max`, naming every figure when it does not hold. */
export function assertWithin(ns: Record<string, number>, ours: string, baseline: string, max: number): void {
  const ratio = ns[ours] / ns[baseline];
  assert.ok(
    ratio <= max,
    `${ours}: ${ratio.toFixed(2)}x ${baseline} (limit ${max}x; ns ${JSON.stringify(ns)})`,
  );
}

/**
 * A timing guard, run up to three times: a busy neighbour on a shared machine can slow one run past
 * its limit, a real regression slows all three.
 */
export function guard(name: string, fn: () => void): void {
  Deno.test(name, () => {
    for (let attempt = 1;; attempt++) {
      try {
        return fn();
      } catch (e) {
        if (attempt === 3 || !(e instanceof assert.AssertionError)) throw e;
      }
    }
  });
}
