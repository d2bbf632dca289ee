/**
 * Benchmarks of `src/memory.ts`: `ffi.copy`/`ffi.fill` against libc `memcpy`/`memset` bound with raw
 * `Deno.dlopen` (the baseline) and against `Uint8Array.prototype.set`/`fill` over the same native
 * memory; `ffi.read`/`ffi.write` and `RawPointer.read`/`write` against a DataView, in the three
 * regimes of `_regimes.ts`.
 *
 * Run: `deno bench --allow-ffi --allow-read --allow-env bench/memory_bench.ts`.
 * GB/s = bytes / (ns per op).
 *
 * @module
 */

import * as ffi from "../mod.ts";
import { LIBC } from "./_libc.ts";
import { regimes } from "./_regimes.ts";

// Lengths are `usize` passed as bigint: a JS number in a 64-bit parameter drops Deno to its slow path.
const libc = Deno.dlopen(LIBC, {
  memcpy: { parameters: ["pointer", "pointer", "usize"], result: "pointer" },
  memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
});

const SIZES: [string, number][] = [
  ["64 B", 64],
  ["4 KiB", 4096],
  ["1 MiB", 1 << 20],
  ["64 MiB", 64 << 20],
];

const arena = ffi.arena();

/** A Uint8Array over the native memory of a pointer (the memory the other contenders touch). */
function bytesOf(p: ffi.RawPointer, n: number): Uint8Array {
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p.toLightUserData()!, n));
}

for (const [label, n] of SIZES) {
  const src = arena.alloc(n);
  const dst = arena.alloc(n);
  ffi.fill(src, n, 0x5a);
  const srcPv = src.toLightUserData(), dstPv = dst.toLightUserData();
  const srcU8 = bytesOf(src, n), dstU8 = bytesOf(dst, n);
  const bn = BigInt(n);
  const group = `copy ${label}`;

  Deno.bench({
    name: `libc memcpy ${label}`,
    group,
    baseline: true,
    fn() {
      libc.symbols.memcpy(dstPv, srcPv, bn);
    },
  });
  Deno.bench({
    name: `Uint8Array.set ${label}`,
    group,
    fn() {
      dstU8.set(srcU8);
    },
  });
  Deno.bench({
    name: `ffi.copy ${label}`,
    group,
    fn() {
      ffi.copy(dst, src, n);
    },
  });

  const fillGroup = `fill ${label}`;
  Deno.bench({
    name: `libc memset ${label}`,
    group: fillGroup,
    baseline: true,
    fn() {
      libc.symbols.memset(dstPv, 0x17, bn);
    },
  });
  Deno.bench({
    name: `Uint8Array.fill ${label}`,
    group: fillGroup,
    fn() {
      dstU8.fill(0x17);
    },
  });
  Deno.bench({
    name: `ffi.fill ${label}`,
    group: fillGroup,
    fn() {
      ffi.fill(dst, n, 0x17);
    },
  });
}

// Reads and writes of an i32 at varying offsets, in the three regimes of `_regimes.ts`, against a
// DataView over the same 64 bytes.
{
  const ptrs = Array.from({ length: 8 }, () => arena.alloc(64));
  // DataViews over the same bytes, through the typed-array shape of a `u8` cast (the arena's buffer).
  const dvs = ptrs.map((p) => {
    const u8 = ffi.cast(p, "u8", 64) as unknown as Uint8Array;
    return new DataView(u8.buffer, u8.byteOffset, 64);
  });
  const at = "((i & 7) << 2)";
  regimes(
    "read i32",
    { name: "DataView#getInt32", body: `s += x.getInt32(${at}, true);`, subjects: dvs },
    { name: "ffi.read(p, off, 'i32')", body: `s += ffi.read(x, ${at}, "i32");`, subjects: ptrs },
    { name: "p.read(off, 'i32')", body: `s += x.read(${at}, "i32");`, subjects: ptrs },
  );
  regimes(
    "write i32",
    { name: "DataView#setInt32", body: `x.setInt32(${at}, i, true);`, subjects: dvs },
    { name: "ffi.write(p, off, 'i32', v)", body: `ffi.write(x, ${at}, "i32", i);`, subjects: ptrs },
    { name: "p.write(off, 'i32', v)", body: `x.write(${at}, "i32", i);`, subjects: ptrs },
  );
  regimes(
    "read f64",
    { name: "DataView#getFloat64", body: `s += x.getFloat64(${at} & 24, true);`, subjects: dvs },
    { name: "ffi.read(p, off, 'f64')", body: `s += ffi.read(x, ${at} & 24, "f64");`, subjects: ptrs },
  );
}
