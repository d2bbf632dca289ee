/**
 * Arena (API.md, "Memory"): allocation, alignment, zero-filled memory, statistics, reset and
 * disposal, size and alignment errors, and release of the memory by `using` and by the GC.
 *
 * The GC test needs `--v8-flags=--expose-gc` (it is skipped without it).
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";

const MiB = 1 << 20;

/** Asserts every byte of `[p, p + len)` is zero. */
function assertZero(p: ffi.RawPointer, len: number, label: string): void {
  const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p.toLightUserData()!, len));
  const at = bytes.findIndex((b) => b !== 0);
  assert.equal(at, -1, `${label}: byte ${at} is not zero`);
}

Deno.test("ids are unique", () => {
  const ids = new Set<number>();
  for (let i = 0; i < 100; i++) {
    using a = ffi.arena();
    ids.add(a.id);
  }
  assert.equal(ids.size, 100);
  assert.ok(ffi.arena() instanceof ffi.Arena);
});

Deno.test("totalAllocated is the sum of the sizes asked for; allocationCount counts; reset zeroes both", () => {
  using arena = ffi.arena();
  assert.equal(arena.totalAllocated, 0);
  assert.equal(arena.allocationCount, 0);
  arena.alloc(1);
  arena.alloc(100);
  arena.allocAligned(3, 64);
  arena.allocType("f64");
  arena.allocArray("i16", 5);
  arena.alloc(0);
  arena.alloc(100_000); // a dedicated chunk
  assert.equal(arena.totalAllocated, 1 + 100 + 3 + 8 + 10 + 0 + 100_000);
  assert.equal(arena.allocationCount, 7);
  arena.reset();
  assert.equal(arena.totalAllocated, 0);
  assert.equal(arena.allocationCount, 0);
  arena.alloc(7);
  assert.equal(arena.totalAllocated, 7);
  assert.equal(arena.allocationCount, 1);
});

Deno.test("failed allocations change no statistics", () => {
  using arena = ffi.arena();
  arena.alloc(8);
  for (const fn of [() => arena.alloc(-1), () => arena.allocAligned(8, 3), () => arena.alloc(2 ** 50)]) {
    assert.throws(fn, RangeError);
  }
  assert.equal(arena.totalAllocated, 8);
  assert.equal(arena.allocationCount, 1);
});

Deno.test("allocations are zero-filled, also after reset and re-allocation of the same memory sizes", () => {
  const arena = ffi.arena();
  const sizes = [1, 7, 64, 4096, 16_000, 20_000, 1 * MiB];
  for (let round = 0; round < 3; round++) {
    const ptrs = sizes.map((n) => arena.alloc(n));
    ptrs.forEach((p, i) => {
      assertZero(p, sizes[i], `round ${round}, ${sizes[i]} bytes`);
      ffi.fill(p, sizes[i], 0xff); // dirty it for the next round
    });
    // Many small ones, across several 64 KiB chunks.
    for (let i = 0; i < 2000; i++) {
      const p = arena.alloc(100);
      assertZero(p, 100, `round ${round}, small #${i}`);
      ffi.fill(p, 100, 0xee);
    }
    arena.reset();
  }
  arena[Symbol.dispose]();
});

Deno.test("allocations do not overlap", () => {
  using arena = ffi.arena();
  const spans: [number, number][] = [];
  for (let i = 0; i < 3000; i++) {
    const size = (i * 37) % 700 + 1;
    const p = i % 3 === 0 ? arena.allocAligned(size, 1 << (i % 9)) : arena.alloc(size);
    spans.push([p.addr, p.addr + size]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    assert.ok(spans[i][0] >= spans[i - 1][1], `allocation ${i} overlaps the previous one`);
  }
});

Deno.test("alloc() gives exactly the bytes asked for, aligned to 16", () => {
  using arena = ffi.arena();
  for (const size of [1, 3, 16, 17, 1000, 16_384, 16_385, 70_000]) {
    arena.alloc(1);
    const p = arena.alloc(size);
    assert.equal(p.addr % 16, 0, `alloc(${size}) alignment`);
    p.write(size - 1, "u8", 1);
    assert.throws(() => p.write(size, "u8", 1), RangeError);
  }
});

Deno.test("allocAligned() aligns to every power of two from 1 to 4096 (and beyond)", () => {
  using arena = ffi.arena();
  for (let align = 1; align <= 1 << 16; align *= 2) {
    for (const size of [0, 1, 5, 100, 20_000]) {
      arena.alloc(3); // misalign the arena's top
      const p = arena.allocAligned(size, align);
      assert.equal(p.addr % align, 0, `allocAligned(${size}, ${align})`);
      if (size > 0) {
        p.write(size - 1, "u8", 7);
        assert.throws(() => p.read(size, "u8"), RangeError);
        assertZero(p, size - 1, `allocAligned(${size}, ${align})`);
      }
    }
  }
});

Deno.test("an alignment that is not a power of two is a RangeError", () => {
  using arena = ffi.arena();
  for (const align of [0, 3, 6, 12, 100, -4, 1.5, NaN, Infinity]) {
    assert.throws(() => arena.allocAligned(8, align), RangeError, `align ${align}`);
  }
  assert.throws(() => arena.allocAligned(8, "8" as unknown as number), TypeError);
});

Deno.test("a negative or non-integer size is a RangeError; a non-number a TypeError", () => {
  using arena = ffi.arena();
  for (const size of [-1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    assert.throws(() => arena.alloc(size), RangeError, `alloc(${size})`);
    assert.throws(() => arena.allocAligned(size, 8), RangeError, `allocAligned(${size})`);
    assert.throws(() => arena.allocArray("i32", size), RangeError, `allocArray(${size})`);
  }
  for (const size of ["8", 8n, null, undefined]) {
    assert.throws(() => arena.alloc(size as unknown as number), TypeError);
  }
  // -0 is 0.
  assert.equal(arena.alloc(-0).isManaged, true);
});

Deno.test("a huge request throws a RangeError instead of crashing, and the arena stays usable", () => {
  using arena = ffi.arena();
  assert.throws(() => arena.alloc(2 ** 50), RangeError);
  assert.throws(() => arena.allocAligned(2 ** 50, 4096), RangeError);
  assert.throws(() => arena.allocArray("f64", 2 ** 50), RangeError);
  assert.throws(() => arena.allocArray("f64", 2 ** 52), RangeError, "count × size beyond 2^53");
  const p = arena.alloc(16);
  p.write(0, "i32", 1);
  assert.equal(p.read(0, "i32"), 1);
});

Deno.test("allocType() and allocArray() size, align and bound by the type", () => {
  using arena = ffi.arena();
  const p = arena.allocArray("double", 10);
  assert.equal(p.addr % 8, 0);
  p.write(72, "f64", 1.5);
  assert.throws(() => p.write(73, "f64", 1.5), RangeError);
  const e = arena.allocArray("u8", 0);
  assert.throws(() => e.read(0, "u8"), RangeError);
  assert.throws(() => arena.allocArray("nope" as ffi.CTypeName, 1), TypeError);
  assert.throws(() => arena.allocArray("i32", -1), RangeError);
  const big = arena.allocArray("i64", 100_000);
  big.write(799_992, "i64", -1n);
  assert.equal(big.read(799_992, "i64"), -1n);
});

Deno.test("big requests get their own memory and do not waste the shared chunk", () => {
  using arena = ffi.arena();
  const a = arena.alloc(64);
  const big = arena.alloc(4 * MiB);
  const b = arena.alloc(64);
  // The small ones still come from the same chunk, one after the other.
  assert.equal(b.addr - a.addr, 64);
  big.write(4 * MiB - 8, "u64", 1n);
  assert.throws(() => big.read(4 * MiB - 7, "u64"), RangeError);
});

Deno.test("reset() frees everything; the arena stays usable; disposal refuses further allocations", () => {
  const arena = ffi.arena();
  const p = arena.alloc(8);
  arena.reset();
  assert.throws(() => p.read(0, "u8"), /freed/);
  const q = arena.alloc(8);
  q.write(0, "u8", 1);
  arena[Symbol.dispose]();
  assert.throws(() => q.read(0, "u8"), /freed/);
  for (const fn of [() => arena.alloc(1), () => arena.allocType("i32"), () => arena.allocArray("u8", 2)]) {
    assert.throws(fn, ffi.FfiError);
  }
  arena.reset(); // harmless on a disposed arena
});

Deno.test("console.log shows id, allocation count and bytes", () => {
  using arena = ffi.arena();
  arena.alloc(10);
  assert.equal(Deno.inspect(arena), `Arena(id ${arena.id}, 1 allocations, 10 bytes)`);
});

Deno.test("`using` frees the memory at the end of the scope (external memory drops at once)", () => {
  const size = 64 * MiB;
  const before = Deno.memoryUsage();
  {
    using arena = ffi.arena();
    const p = arena.alloc(size);
    ffi.fill(p, size, 1);
    const inside = Deno.memoryUsage();
    assert.ok(inside.external - before.external >= size, "the allocation counts as external memory");
    assert.ok(inside.rss - before.rss >= size / 2, "and is resident once written");
  }
  const after = Deno.memoryUsage();
  assert.ok(
    after.external - before.external < size / 4,
    `external after: +${after.external - before.external}`,
  );
  assert.ok(after.rss - before.rss < size / 2, `rss after: +${(after.rss - before.rss) / MiB} MiB`);
});

const gc = (globalThis as { gc?: () => void }).gc;

Deno.test({
  name: "arenas dropped without reset are freed by the GC: memory does not grow without bound",
  ignore: gc === undefined,
  async fn() {
    // 128 arenas of 64 MiB each (8 GiB in all), 2 MiB of each written so that it is resident.
    const arenas = 128, size = 64 * MiB, touched = 2 * MiB;
    gc!();
    const before = Deno.memoryUsage();
    let peak = 0;
    const work = () => {
      const arena = ffi.arena();
      const p = arena.alloc(size);
      ffi.fill(p, touched, 0xab);
      return p.read(touched - 1, "u8");
    };
    for (let i = 0; i < arenas; i++) {
      assert.equal(work(), 0xab);
      peak = Math.max(peak, Deno.memoryUsage().rss - before.rss);
    }
    // Had nothing been freed, `arenas * touched` (256 MiB) would be resident.
    assert.ok(peak < (arenas * touched) * 0.75, `peak rss growth ${peak / MiB} MiB`);
    gc!();
    await new Promise((r) => setTimeout(r, 10));
    const after = Deno.memoryUsage();
    assert.ok(after.rss - before.rss < 32 * MiB, `rss after gc: +${(after.rss - before.rss) / MiB} MiB`);
  },
});

Deno.test({
  name: "a pointer keeps its arena's memory alive after the arena object is dropped",
  ignore: gc === undefined,
  fn() {
    const make = () => {
      const arena = ffi.arena();
      const p = arena.alloc(1024);
      p.write(1020, "i32", 77);
      return p;
    };
    const p = make();
    for (let i = 0; i < 3; i++) gc!();
    // Churn so that freed memory would be reused.
    for (let i = 0; i < 50; i++) ffi.arena().alloc(1024);
    gc!();
    assert.equal(p.read(1020, "i32"), 77);
  },
});
