/**
 * Guards for the designs whose whole point is speed: a struct field read and a typed pointer's index
 * read are meant to compile to the very DataView / typed-array load they stand for. The threshold is
 * the issue target (3x), far above what is measured (about 1x), so only a real regression fails it:
 * moving the view slot symbols into exported bindings once made field reads 5.6x a DataView, and
 * nothing else noticed. `ffi.read`/`write`, `RawPointer.read`/`write` and field writes are guarded
 * too, with limits well above what is measured (about 2x for reads, 1-2x for writes here; 18-30x
 * before the current design), so that only a real regression (a hot path that stops inlining) fails.
 */

import { assertWithin, guard, nsPer } from "./_timing.ts";
import * as ffi from "../mod.ts";

/** Operations per call of a measured loop: small, so each loop is optimised as a whole function
 * (as `deno bench` runs it) rather than entered by on-stack replacement, whose inlining varies. */
const N = 1000;
/** Calls per timed run. */
const CALLS = 200;

guard("struct field reads stay within 3x a DataView on the same memory", () => {
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
  const ns = nsPer({ dataViewRead, fieldRead }, N, CALLS, 2000);
  assertWithin(ns, "fieldRead", "dataViewRead", 3);
  arena.reset();
});

guard("typed pointer index reads stay within 3x an Int32Array on the same memory", () => {
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
  const ns = nsPer({ arrayRead, indexRead }, N, CALLS, 2000);
  assertWithin(ns, "indexRead", "arrayRead", 3);
  arena.reset();
});

guard("ffi.read / p.read stay within 3x, ffi.write / p.write within 4x a DataView on the same memory", () => {
  const arena = ffi.arena();
  const p = arena.alloc(64);
  const bytes = ffi.cast(p, "u8", 64) as unknown as Uint8Array;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 64);

  function dataViewRead(n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += dv.getInt32((i & 7) << 2, true);
    return s;
  }
  function ffiRead(n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += ffi.read(p, (i & 7) << 2, "i32");
    return s;
  }
  function pointerRead(n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += p.read((i & 7) << 2, "i32");
    return s;
  }
  function dataViewWrite(n: number): number {
    for (let i = 0; i < n; i++) dv.setInt32((i & 7) << 2, i, true);
    return 0;
  }
  function ffiWrite(n: number): number {
    for (let i = 0; i < n; i++) ffi.write(p, (i & 7) << 2, "i32", i);
    return 0;
  }
  function pointerWrite(n: number): number {
    for (let i = 0; i < n; i++) p.write((i & 7) << 2, "i32", i);
    return 0;
  }
  const ns = nsPer(
    { dataViewRead, ffiRead, pointerRead, dataViewWrite, ffiWrite, pointerWrite },
    N,
    CALLS,
    2000,
  );
  // Measured about 2x for reads and 1-2x for writes (whose value check has no branch); before the
  // current design, 18-30x.
  assertWithin(ns, "ffiRead", "dataViewRead", 3);
  assertWithin(ns, "pointerRead", "dataViewRead", 3);
  assertWithin(ns, "ffiWrite", "dataViewWrite", 4);
  assertWithin(ns, "pointerWrite", "dataViewWrite", 4);
  arena.reset();
});

/** A view of a struct `{ f32 x, y; i32 health }` in a new arena, and a DataView over the same bytes. */
function playerAndDataView() {
  const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"]]);
  const arena = ffi.arena();
  const raw = arena.allocType(Player);
  const view = ffi.view(raw, Player);
  const bytes = ffi.cast(raw, "u8", Player.size) as unknown as Uint8Array;
  return { arena, view, dv: new DataView(bytes.buffer, bytes.byteOffset, Player.size) };
}

guard("struct field writes stay within 4x a DataView on the same memory", () => {
  const { arena, view, dv } = playerAndDataView();

  function dataViewWrite(n: number): number {
    for (let i = 0; i < n; i++) dv.setInt32(8, i, true);
    return 0;
  }
  function fieldWrite(n: number): number {
    for (let i = 0; i < n; i++) view.health = i;
    return 0;
  }
  function dataViewWriteF(n: number): number {
    for (let i = 0; i < n; i++) dv.setFloat32(0, i, true);
    return 0;
  }
  function fieldWriteF(n: number): number {
    for (let i = 0; i < n; i++) view.x = i;
    return 0;
  }
  const ns = nsPer({ dataViewWrite, fieldWrite, dataViewWriteF, fieldWriteF }, N, CALLS, 2000);
  if (Deno.env.get("PERF_PRINT")) console.log(ns);
  assertWithin(ns, "fieldWrite", "dataViewWrite", 4);
  assertWithin(ns, "fieldWriteF", "dataViewWriteF", 3);
  arena.reset();
});

guard("a struct field write in a long loop's first optimised code stays within 2.2x a DataView", () => {
  // The regime where a `typeof` test on the value kept the loop counter boxed (2.7x); about 1.3-1.5x
  // now. Each run is a fresh function (no feedback), so its one long loop runs in the code V8 makes
  // by on-stack replacement.
  const { arena, view, dv } = playerAndDataView();
  const LONG = 2_000_000;
  let serial = 0;
  const fresh = (body: string, x: unknown): number => {
    const f = new Function("x", "n", `/* ${serial++} */ for (let i = 0; i < n; i++) { ${body} }`);
    const t = performance.now();
    f(x, LONG);
    return performance.now() - t;
  };
  const best = { dataView: Infinity, field: Infinity };
  for (let r = 0; r < 5; r++) {
    best.dataView = Math.min(best.dataView, fresh("x.setInt32(8, i, true);", dv));
    best.field = Math.min(best.field, fresh("x.health = i;", view));
  }
  if (Deno.env.get("PERF_PRINT")) console.log(best);
  assertWithin(best, "field", "dataView", 2.2);
  arena.reset();
});

Deno.test("a live RawPointer costs at most 64 bytes of JS heap", () => {
  // 24 bytes of object header and 8 per field (chunk, offset, bounds, a cached Deno pointer); this V8
  // build has no pointer compression, so no object holding a chunk and an offset is under 40 bytes.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  const arena = ffi.arena();
  const base = arena.alloc(1 << 16);
  const n = 200_000;
  gc();
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const keep: ffi.RawPointer[] = new Array(n);
  for (let i = 0; i < n; i++) keep[i] = base.add(i & 0xffff);
  gc();
  gc();
  const perPointer = (Deno.memoryUsage().heapUsed - before) / n - 8; // minus the array's slot
  if (keep[n - 1].addr !== base.addr + ((n - 1) & 0xffff)) throw new Error("pointers were not kept");
  if (perPointer > 66) throw new Error(`a RawPointer took ${perPointer.toFixed(1)} bytes of heap`);
  arena.reset();
});
