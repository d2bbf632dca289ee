/**
 * Bitfield reads and writes: a field of `bits` bits at bit offset `bit` from a byte offset of a
 * chunk, little-endian as on every platform Deno runs on (bit 0 is the low bit of the first byte).
 *
 * @module
 */

import type { Chunk } from "./_chunk.ts";
import { _describe } from "./types.ts";

/**
 * What a bitfield is: its width, bit offset from the struct's start, signedness and type name.
 * @internal
 * @ignore
 */
export interface BitfieldInfo {
  /** Width in bits (set for every bitfield). */
  readonly bits: number | undefined;
  readonly bitOffset: number;
  readonly prim: string | null;
  readonly what: string;
}

const SIGNED = new Set(["i8", "i16", "i32", "i64", "isize"]);

/**
 * Reads the bitfield `f` of the struct at byte `o` of `c`, as a number (a bool field as a boolean).
 * @internal
 * @ignore
 */
export function _readBits(c: Chunk, o: number, f: BitfieldInfo): number | boolean {
  const bits = f.bits!;
  const first = o + (f.bitOffset >>> 3);
  const shift = f.bitOffset & 7;
  const nbytes = (shift + bits + 7) >>> 3;
  const u8 = c.u8;
  let v: number;
  if (shift + bits <= 32) {
    let w = 0;
    for (let i = nbytes - 1; i >= 0; i--) w = w * 256 + u8[first + i];
    v = Math.floor(w / 2 ** shift) % 2 ** bits;
    if (SIGNED.has(f.prim!) && v >= 2 ** (bits - 1)) v -= 2 ** bits;
  } else {
    let w = 0n;
    for (let i = nbytes - 1; i >= 0; i--) w = (w << 8n) | BigInt(u8[first + i]);
    const b = BigInt.asUintN(bits, w >> BigInt(shift));
    v = Number(SIGNED.has(f.prim!) ? BigInt.asIntN(bits, b) : b);
  }
  return f.prim === "bool" ? v !== 0 : v;
}

/**
 * Writes `v` to the bitfield `f` of the struct at byte `o` of `c`, leaving the bits around it as
 * they were. The value must fit the width: `0..2^bits-1`, or `-2^(bits-1)..` for a signed type
 * (a `RangeError` otherwise, naming the value and the width); a non-integer is a `TypeError`.
 * @internal
 * @ignore
 */
export function _writeBits(c: Chunk, o: number, f: BitfieldInfo, v: unknown, what = f.what): void {
  const bits = f.bits!;
  let b: bigint;
  if (f.prim === "bool" && typeof v === "boolean") b = v ? 1n : 0n;
  else if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isInteger(v)) b = BigInt(v);
  else {
    throw new TypeError(
      `Cannot convert ${_describe(v)} to a ${bits}-bit ${f.prim} bitfield for ${what}: expected an integer`,
    );
  }
  const signed = SIGNED.has(f.prim!);
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (b < min || b > max) {
    throw new RangeError(
      `Cannot write ${_describe(v)} to ${what}: a ${bits}-bit ${f.prim} bitfield holds ${min} to ${max}`,
    );
  }
  const first = o + (f.bitOffset >>> 3);
  const shift = BigInt(f.bitOffset & 7);
  const nbytes = ((f.bitOffset & 7) + bits + 7) >>> 3;
  const u8 = c.u8;
  let w = 0n;
  for (let i = nbytes - 1; i >= 0; i--) w = (w << 8n) | BigInt(u8[first + i]);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  w = (w & ~mask) | ((BigInt.asUintN(bits, b) << shift) & mask);
  for (let i = 0; i < nbytes; i++) {
    u8[first + i] = Number(w & 0xffn);
    w >>= 8n;
  }
}
