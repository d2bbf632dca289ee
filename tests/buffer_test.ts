/**
 * Buffer (legacy): every method, bounds, UTF-8 with non-ASCII text, slices, and use as a pointer.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";

const NON_ASCII = "Grüße, 世界! 🦀 ẞ";

Deno.test("Buffer.writeString/readString round-trip non-ASCII UTF-8 at any offset", () => {
  const bytes = new TextEncoder().encode(NON_ASCII);
  for (const offset of [0, 1, 7]) {
    const buf = ffi.buffer(offset + bytes.length + 1);
    buf.writeString(offset, NON_ASCII);
    assert.equal(buf.readString(offset), NON_ASCII);
    assert.deepEqual(buf.readBytes(offset, bytes.length), bytes);
    assert.equal(buf.read(offset + bytes.length, "u8"), 0, "NUL terminator");
  }
});

Deno.test("Buffer.writeString needs room for the NUL: exact fit works, one byte short is a RangeError", () => {
  const s = "€uro"; // 3 + 3 bytes
  const exact = ffi.buffer(7);
  exact.writeString(0, s);
  assert.equal(exact.readString(), s);
  const short = ffi.buffer(6);
  assert.throws(() => short.writeString(0, s), RangeError);
  assert.deepEqual(short.readBytes(0, 6), new Uint8Array(6), "nothing written on failure");
});

Deno.test("Buffer.readString without a NUL reads to the end; with an offset past a NUL reads the next string", () => {
  const buf = ffi.buffer(8);
  buf.writeBytes(0, [0x61, 0x62, 0, 0x63, 0x64, 0x65, 0x66, 0x67]);
  assert.equal(buf.readString(), "ab");
  assert.equal(buf.readString(3), "cdefg");
  assert.equal(buf.readString(8), "", "at the end: empty");
  assert.throws(() => buf.readString(9), RangeError);
});

Deno.test("Buffer.writeBytes checks every byte of an array; readBytes returns a copy", () => {
  const buf = ffi.buffer(4);
  assert.throws(() => buf.writeBytes(0, [1, 256]), RangeError);
  assert.throws(() => buf.writeBytes(0, [1, 0.5]), TypeError);
  assert.throws(() => buf.writeBytes(0, "abc" as unknown as number[]), TypeError);
  buf.writeBytes(0, [1, 2, 3, 4]);
  const copy = buf.readBytes(0, 4);
  copy[0] = 99;
  assert.equal(buf.read(0, "u8"), 1);
});

Deno.test("Buffer.zero() on a slice clears only the slice", () => {
  const buf = ffi.buffer(8);
  buf.writeBytes(0, [1, 2, 3, 4, 5, 6, 7, 8]);
  buf.slice(2, 4).zero();
  assert.deepEqual(buf.readBytes(0, 8), new Uint8Array([1, 2, 0, 0, 0, 0, 7, 8]));
});

Deno.test("Buffer.slice is bounded by its own size, also when sliced again", () => {
  const buf = ffi.buffer(16);
  const s = buf.slice(4, 8);
  assert.equal(s.size, 8);
  assert.throws(() => s.read(5, "i32"), RangeError);
  assert.throws(() => buf.slice(12, 5), RangeError);
  const t = s.slice(4, 4);
  t.write(0, "i32", -2);
  assert.equal(buf.read(8, "i32"), -2);
  assert.throws(() => t.read(1, "i32"), RangeError);
  assert.throws(() => t.slice(1, 4), RangeError);
});

Deno.test("Buffer is a pointer: C fills it, ffi.copy and ffi.read take it", () => {
  using libc = ffi.load("libc.so.6");
  const buf = ffi.buffer(32);
  const n = libc.call("snprintf", "i32", ["pointer", "usize", "string", "string"], buf, 32, "%s!", "héllo");
  assert.equal(n, 7);
  assert.equal(buf.readString(), "héllo!");
  const other = ffi.buffer(32);
  ffi.copy(other, buf, 8);
  assert.equal(other.readString(), "héllo!");
  assert.equal(ffi.read(other, 0, "u8"), 0x68);
  assert.throws(() => ffi.copy(other, buf, 33), RangeError);
});

Deno.test("ffi.buffer() rejects bad sizes and a Buffer prints its size", () => {
  assert.throws(() => ffi.buffer(-1), RangeError);
  assert.throws(() => ffi.buffer(0.5), RangeError);
  assert.throws(() => ffi.buffer("8" as unknown as number), TypeError);
  assert.equal(ffi.buffer(0).size, 0);
  assert.match(Deno.inspect(ffi.buffer(12)), /Buffer\(12 bytes/);
});
