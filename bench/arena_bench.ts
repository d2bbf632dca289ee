/**
 * Benchmarks of `src/arena.ts`: `arena.alloc(64)` against libc `malloc(64n)` + `free` bound with raw
 * `Deno.dlopen` (the baseline).
 *
 * Run: `deno bench --allow-ffi --allow-read --allow-env bench/arena_bench.ts`.
 *
 * @module
 */

import * as ffi from "../mod.ts";
import { LIBC } from "./_libc.ts";

const libc = Deno.dlopen(LIBC, {
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
});

Deno.bench({
  name: "malloc(64n) + free",
  group: "alloc 64 B",
  baseline: true,
  fn() {
    libc.symbols.free(libc.symbols.malloc(64n));
  },
});

{
  let arena = ffi.arena();
  let n = 0;
  Deno.bench({
    name: "arena.alloc(64)",
    group: "alloc 64 B",
    fn() {
      arena.alloc(64);
      // Start over now and then, as a program would, so the arena does not grow without end.
      if (++n === 100_000) {
        arena.reset();
        n = 0;
      }
    },
  });
  Deno.bench({
    name: "arena.alloc(64) in a fresh arena each time (its first 4 KiB chunk)",
    group: "alloc 64 B",
    fn() {
      arena = ffi.arena();
      arena.alloc(64);
    },
  });
}

Deno.bench({
  name: "malloc(64n) ×16 + free ×16",
  group: "scoped arena",
  baseline: true,
  fn() {
    const ptrs = [];
    for (let i = 0; i < 16; i++) ptrs.push(libc.symbols.malloc(64n));
    for (const p of ptrs) libc.symbols.free(p);
  },
});

Deno.bench({
  name: "using arena = ffi.arena(); alloc(64) ×16",
  group: "scoped arena",
  fn() {
    using arena = ffi.arena();
    for (let i = 0; i < 16; i++) arena.alloc(64);
  },
});
