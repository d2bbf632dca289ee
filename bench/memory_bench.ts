/**
 * Benchmarks of `src/memory.ts`: `ffi.copy`/`ffi.fill` against libc `memcpy`/`memset` bound with raw
 * `Deno.dlopen` (the baseline) and against `Uint8Array.prototype.set`/`fill` over the same native
 * memory; `ffi.read`/`ffi.write` and `RawPointer.read`/`write` of an `i32` against a DataView.
 *
 * Run: `deno bench --allow-ffi --allow-read --allow-env bench/memory_bench.ts`.
 * GB/s = bytes / (ns per op).
 *
 * @module
 */

import * as ffi from "../mod.ts";
import { LIBC } from "./_libc.ts";

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

{
  const p = arena.alloc(64);
  const dv = new DataView(Deno.UnsafePointerView.getArrayBuffer(p.toLightUserData()!, 64));
  let sink = 0;

  Deno.bench({
    name: "DataView.getInt32",
    group: "read i32",
    baseline: true,
    fn() {
      sink += dv.getInt32(8, true);
    },
  });
  Deno.bench({
    name: "ffi.read(p, 8, 'i32')",
    group: "read i32",
    fn() {
      sink += ffi.read(p, 8, "i32") as number;
    },
  });
  Deno.bench({
    name: "p.read(8, 'i32')",
    group: "read i32",
    fn() {
      sink += p.read(8, "i32") as number;
    },
  });

  let i = 0;
  Deno.bench({
    name: "DataView.setInt32",
    group: "write i32",
    baseline: true,
    fn() {
      dv.setInt32(8, i++ & 0xffff, true);
    },
  });
  Deno.bench({
    name: "ffi.write(p, 8, 'i32', v)",
    group: "write i32",
    fn() {
      ffi.write(p, 8, "i32", i++ & 0xffff);
    },
  });
  Deno.bench({
    name: "p.write(8, 'i32', v)",
    group: "write i32",
    fn() {
      p.write(8, "i32", i++ & 0xffff);
    },
  });

  globalThis.addEventListener("unload", () => {
    if (sink === 0.5) console.log(sink);
  });
}
