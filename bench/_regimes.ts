/**
 * Benches of sub-10 ns operations in the three regimes where V8's code differs, each its own group
 * with a same-run baseline (`Deno.bench({ group, baseline: true })`):
 *
 * - **constant**: the subject (pointer, view, DataView) is a constant of the measuring closure;
 * - **from an array**: each timed call reads its subject from an array into a local, so nothing
 *   about it can be folded into the code;
 * - **first optimised loop**: a freshly made function (new feedback, never optimised) runs one long
 *   loop, so most of it runs in the code V8 makes by on-stack replacement of that loop.
 *
 * Each timed call runs the body many times (1000 in the first two regimes, 1 000 000 in the third), so
 * a `Deno.bench` iteration's own cost (~4 ns) does not hide the operation's.
 *
 * @module
 */

import * as ffi from "../mod.ts";

/** One contender: a name, the loop body (JS source using `x`, the subject, `i` and `s`), subjects. */
export interface Contender {
  readonly name: string;
  /** JS source of one iteration: reads `x` (the subject) and `i`; may add to `s`. */
  readonly body: string;
  /** Subjects (at least 1; the "from an array" regime cycles through them). */
  readonly subjects: readonly unknown[];
}

/** Operations per timed call in the constant and array regimes. */
export const OPS = 1000;
/** Operations per timed call in the first-optimised-loop regime. */
export const LONG = 1_000_000;

const REGIMES = ["constant", "from an array", "first optimised loop"] as const;
let sink = 0;
let fresh = 0;

function compile(c: Contender, regime: typeof REGIMES[number]): () => void {
  const loop =
    `"use strict"; /* ${fresh++} */ let s = 0; for (let i = 0; i < n; i++) { ${c.body} } return s;`;
  if (regime === "constant") {
    // `const`: a binding V8 may fold into the code, as it does a module-level const.
    const f = new Function("ffi", "x0", `const x = x0; return function (n) { ${loop} };`)(ffi, c.subjects[0]);
    return () => {
      sink += f(OPS);
    };
  }
  if (regime === "from an array") {
    const xs = c.subjects;
    let k = 0;
    const f = new Function("ffi", "xs", `return function (n, k) { const x = xs[k]; ${loop} };`)(ffi, xs);
    return () => {
      sink += f(OPS, k);
      k = (k + 1) % xs.length;
    };
  }
  return () => {
    // A new function each time: no feedback, no optimised code; its one long loop gets OSR code.
    // The source differs each time (a counter in a comment): V8 caches compiled code by source.
    const f = new Function("ffi", "x", "n", `/* ${fresh++} */ ${loop}`);
    sink += f(ffi, c.subjects[0], LONG);
  };
}

/**
 * Registers `op` in each regime: one group per regime (`<op> (<regime>)`), `baseline` first.
 */
export function regimes(op: string, baseline: Contender, ...contenders: Contender[]): void {
  for (const regime of REGIMES) {
    const group = `${op} (${regime})`;
    Deno.bench({
      name: `${baseline.name} [${regime}]`,
      group,
      baseline: true,
      fn: compile(baseline, regime),
    });
    for (const c of contenders) Deno.bench({ name: `${c.name} [${regime}]`, group, fn: compile(c, regime) });
  }
}

globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink);
});
