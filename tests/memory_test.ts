/**
 * `ffi.read`, `ffi.write`, `ffi.copy`, `ffi.fill` (API.md, "Memory"): overlap, bounds, freed memory,
 * managed and unmanaged pointers, argument errors.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";

/** A Uint8Array over the memory of a pointer, to check results byte for byte. */
function bytesOf(p: ffi.RawPointer, len: number): Uint8Array {
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p.toLightUserData()!, len));
}

/** Fills `[p, p + len)` with the pattern `i * 7 + 1` and returns a JS copy of it. */
function pattern(p: ffi.RawPointer, len: number): Uint8Array {
  const b = bytesOf(p, len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + 1) & 0xff;
  return b.slice();
}

function assertFreed(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof ffi.FfiError && /freed/.test(e.message));
}

Deno.test("ffi.read and ffi.write are RawPointer.read and write", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  ffi.write(p, 4, "i32", -5);
  assert.equal(ffi.read(p, 4, "i32"), -5);
  assert.equal(p.read(4, "int"), -5);
  ffi.write(p.add(8), 0, "f32", 0.5);
  assert.equal(ffi.read(p, 8, "float"), 0.5);
  for (const notAPointer of [null, undefined, 0x1000, {}, "p"]) {
    assert.throws(() => ffi.read(notAPointer as unknown as ffi.RawPointer, 0, "u8"), TypeError);
    assert.throws(() => ffi.write(notAPointer as unknown as ffi.RawPointer, 0, "u8", 0), TypeError);
  }
});

Deno.test("copy() of overlapping ranges matches Uint8Array.copyWithin, in both directions", () => {
  using arena = ffi.arena();
  const N = 300;
  const p = arena.alloc(N);
  for (const len of [0, 1, 7, 8, 16, 33, 100, 150]) {
    for (
      const [dst, src] of [[0, 1], [1, 0], [0, 8], [8, 0], [3, 50], [50, 3], [10, 10], [0, 149], [149, 0]]
    ) {
      if (dst + len > N || src + len > N) continue;
      const reference = pattern(p, N);
      reference.copyWithin(dst, src, src + len);
      ffi.copy(p.add(dst), p.add(src), len);
      assert.deepEqual(bytesOf(p, N), reference, `copy ${len} bytes ${src} -> ${dst}`);
      // And through unmanaged pointers (no bounds, same memmove).
      const reference2 = pattern(p, N);
      reference2.copyWithin(dst, src, src + len);
      ffi.copy(ffi.ptr(p.addr + dst), ffi.ptr(p.addr + src), len);
      assert.deepEqual(bytesOf(p, N), reference2, `unmanaged copy ${len} bytes ${src} -> ${dst}`);
    }
  }
});

Deno.test("copy() works across arenas, between managed and unmanaged pointers, and of big blocks", () => {
  using a = ffi.arena();
  using b = ffi.arena();
  for (const len of [1, 64, 4096, 100_000, 1 << 20]) {
    const src = a.alloc(len);
    const dst = b.alloc(len);
    const expected = pattern(src, len);
    ffi.copy(dst, src, len);
    assert.deepEqual(bytesOf(dst, len), expected, `${len} bytes`);
    ffi.fill(dst, len, 0);
    ffi.copy(ffi.ptr(dst.addr), src, len);
    assert.deepEqual(bytesOf(dst, len), expected, `${len} bytes to unmanaged`);
    ffi.fill(dst, len, 0);
    ffi.copy(dst, ffi.ptr(src.addr), len);
    assert.deepEqual(bytesOf(dst, len), expected, `${len} bytes from unmanaged`);
  }
});

Deno.test("copy() out of bounds by one byte on either side is a RangeError, and copies nothing", () => {
  using arena = ffi.arena();
  const a = arena.alloc(16);
  const b = arena.alloc(16);
  pattern(a, 16);
  ffi.fill(b, 16, 0);
  ffi.copy(b, a, 16);
  ffi.fill(b, 16, 0);
  for (
    const [d, s, n] of [
      [b, a, 17],
      [b.add(1), a, 16],
      [b, a.add(1), 16],
      [b.add(-1), a, 1],
      [b, a.add(-1), 1],
      [b.add(16), a, 1],
      [b, a.add(16), 1],
    ] as const
  ) {
    assert.throws(() => ffi.copy(d, s, n), RangeError);
  }
  assert.deepEqual(bytesOf(b, 16), new Uint8Array(16), "nothing was copied");
  ffi.copy(b.add(16), a.add(16), 0); // zero bytes at the end is fine
  assert.throws(() => ffi.copy(b, a, 17), /17 bytes/);
});

Deno.test("copy() and fill() argument errors", () => {
  using arena = ffi.arena();
  const a = arena.alloc(8), b = arena.alloc(8);
  for (const len of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => ffi.copy(a, b, len), RangeError, `copy len ${len}`);
    assert.throws(() => ffi.fill(a, len, 0), RangeError, `fill len ${len}`);
  }
  for (const len of ["8", 8n, null]) {
    assert.throws(() => ffi.copy(a, b, len as unknown as number), TypeError);
    assert.throws(() => ffi.fill(a, len as unknown as number, 0), TypeError);
  }
  for (const bad of [null, 0x1000, {}, new Uint8Array(8)]) {
    assert.throws(() => ffi.fill(bad as unknown as ffi.RawPointer, 1, 0), TypeError);
    // copy() also takes JS memory (API.md, "Moving bytes between JavaScript and C").
    if (bad instanceof Uint8Array) continue;
    assert.throws(() => ffi.copy(bad as unknown as ffi.RawPointer, b, 1), TypeError);
    assert.throws(() => ffi.copy(a, bad as unknown as ffi.RawPointer, 1), TypeError);
  }
});

Deno.test("copy() and fill() on freed memory are FfiErrors saying freed, even for zero bytes", () => {
  const arena = ffi.arena();
  const a = arena.alloc(8);
  using other = ffi.arena();
  const b = other.alloc(8);
  arena.reset();
  assertFreed(() => ffi.copy(a, b, 8));
  assertFreed(() => ffi.copy(b, a, 8));
  assertFreed(() => ffi.copy(b, a, 0));
  assertFreed(() => ffi.fill(a, 8, 0));
  assertFreed(() => ffi.fill(a, 0, 0));
  arena[Symbol.dispose]();
});

Deno.test("fill() sets exactly len bytes; bytes -128..255 are accepted, others are errors", () => {
  using arena = ffi.arena();
  const p = arena.alloc(64);
  ffi.fill(p.add(8), 16, 0xab);
  const b = bytesOf(p, 64);
  assert.equal(b[7], 0);
  assert.ok(b.subarray(8, 24).every((x) => x === 0xab));
  assert.equal(b[24], 0);
  ffi.fill(p, 64, -1);
  assert.ok(bytesOf(p, 64).every((x) => x === 0xff));
  ffi.fill(p, 64, -128);
  assert.ok(bytesOf(p, 64).every((x) => x === 0x80));
  ffi.fill(p, 64, 255);
  assert.ok(bytesOf(p, 64).every((x) => x === 0xff));
  ffi.fill(p, 0, 1);
  assert.equal(p.read(0, "u8"), 0xff);
  ffi.fill(ffi.ptr(p.addr + 1), 2, 0); // unmanaged
  assert.deepEqual([...bytesOf(p, 4)], [0xff, 0, 0, 0xff]);
  assert.throws(() => ffi.fill(p, 1, 256), RangeError);
  assert.throws(() => ffi.fill(p, 1, -129), RangeError);
  assert.throws(() => ffi.fill(p, 1, 1.5), TypeError);
  assert.throws(() => ffi.fill(p, 1, "1" as unknown as number), TypeError);
});

Deno.test("fill() out of bounds by one byte on either side is a RangeError and writes nothing", () => {
  using arena = ffi.arena();
  const p = arena.alloc(32);
  const q = p.add(8);
  assert.throws(() => ffi.fill(p, 33, 1), RangeError);
  assert.throws(() => ffi.fill(q, 25, 1), RangeError);
  assert.throws(() => ffi.fill(p.add(-1), 1, 1), RangeError);
  assert.throws(() => ffi.fill(p.add(32), 1, 1), RangeError);
  assert.ok(bytesOf(p, 32).every((x) => x === 0));
  ffi.fill(q, 24, 1);
  assert.ok(bytesOf(p, 32).every((x, i) => x === (i < 8 ? 0 : 1)));
});

Deno.test("fill() of big blocks (a dedicated chunk) reaches the last byte", () => {
  using arena = ffi.arena();
  const n = 3 << 20;
  const p = arena.alloc(n);
  ffi.fill(p, n, 0x3c);
  assert.equal(p.read(n - 1, "u8"), 0x3c);
  assert.equal(p.read(0, "u8"), 0x3c);
  assert.ok(bytesOf(p, n).every((x) => x === 0x3c));
});

Deno.test("copy() moves bytes between JS typed arrays or ArrayBuffers and C memory, checked on both sides", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  ffi.copy(p, new TextEncoder().encode("hey"), 3);
  const back = new Uint8Array(3);
  ffi.copy(back, p, 3);
  assert.equal(new TextDecoder().decode(back), "hey");
  const ab = new ArrayBuffer(4);
  ffi.copy(ab, p, 2);
  assert.deepEqual([...new Uint8Array(ab)], [104, 101, 0, 0]);
  // Past the end of the JS side: a RangeError, and nothing copied.
  assert.throws(() => ffi.copy(back, p, 4), RangeError);
  assert.throws(() => ffi.copy(p, back, 17), RangeError);
  assert.equal(p.read(3, "u8"), 0);
  // JS to JS is memmove.
  const x = new Uint8Array([1, 2, 3, 4, 5]);
  ffi.copy(x.subarray(1), x, 4);
  assert.deepEqual([...x], [1, 1, 2, 3, 4]);
  // A numeric TypedPointer is a typed array: it decodes, and keeps set(array, offset?).
  const bytes = ffi.cast(p, "u8", 3);
  bytes.set([72, 73], 1);
  assert.equal(new TextDecoder().decode(bytes), "hHI");
  arena.reset();
  assert.throws(() => ffi.copy(back, p, 1), /freed/);
});

Deno.test("copy() and fill() turn a Proxy whose traps throw into a TypeError naming the parameter", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  ffi.fill(p, 16, 0x11);
  const trap = new Error("trap");
  const boom = () => {
    throw trap;
  };
  const proxy = new Proxy({}, { get: boom, has: boom, getPrototypeOf: boom, ownKeys: boom });
  const expect = (fn: () => void, re: RegExp) => {
    let caught: unknown = null;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof TypeError, `expected a TypeError, got ${caught}`);
    assert.match(caught.message, re);
    assert.equal(caught.cause, trap);
  };
  expect(() => ffi.copy(proxy as ffi.RawPointer, p, 4), /^ffi\.copy\(\): .*dst/);
  expect(() => ffi.copy(p, proxy as ffi.RawPointer, 4), /^ffi\.copy\(\): .*src/);
  expect(() => ffi.copy(proxy as ffi.RawPointer, proxy as ffi.RawPointer, 4), /^ffi\.copy\(\): .*dst/);
  expect(() => ffi.fill(proxy as ffi.RawPointer, 4, 0), /^ffi\.fill\(\): .*ptr/);
  // Nothing was written.
  assert.deepEqual([...bytesOf(p, 16)], new Array(16).fill(0x11));
});
