/**
 * The value rules of the guide ("Values of each C type"), shared by memory writes, struct fields,
 * typed pointers and call arguments: each checker validates a JS value for one C type and returns it
 * in the form Deno and DataView take.
 *
 * @module
 */

import { _describe } from "./types.ts";

/** Signed minimum and unsigned maximum of each integer width: a value must lie in one of the ranges. */
const INT_LIMITS: Record<string, readonly [number, number]> = {
  i8: [-0x80, 0xff],
  u8: [-0x80, 0xff],
  i16: [-0x8000, 0xffff],
  u16: [-0x8000, 0xffff],
  i32: [-0x8000_0000, 0xffff_ffff],
  u32: [-0x8000_0000, 0xffff_ffff],
};

/**
 * Checks a JS value for a C integer of at most 32 bits; returns it as an integer (`-0` becomes `0`).
 * C conversion to the width is left to the store (DataView setters and the `>>> 0`-style casts).
 * @internal
 * @ignore
 */
export function _int(v: unknown, type: string, what: string): number {
  const [min, max] = INT_LIMITS[type];
  return _intIn(v, min, max, type, what);
}

/**
 * {@linkcode _int} with the limits given, for hot paths that know them (no table lookup per value).
 * @internal
 * @ignore
 */
export function _intIn(v: unknown, min: number, max: number, type: string, what: string): number {
  // One range test on the common path: NaN, ±Infinity and non-numbers fail it and are sorted out below.
  if (typeof v === "number" && v >= min && v <= max && Number.isInteger(v)) return v + 0;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`Cannot convert ${_describe(v)} to ${type} for ${what}: expected an integer`);
  }
  throw new RangeError(`Cannot convert ${v} to ${type} for ${what}: out of range [${min}, ${max}]`);
}

const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

/**
 * Checks a JS value for a 64-bit C integer (`i64 u64 isize usize`): a safe-integer number or a
 * bigint inside the signed or unsigned range. Returns a bigint wrapped to the type's signedness.
 * @internal
 * @ignore
 */
export function _int64(v: unknown, type: string, what: string, signed: boolean): bigint {
  let b: bigint;
  if (typeof v === "bigint") {
    b = v;
  } else if (typeof v === "number" && Number.isInteger(v)) {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`Cannot convert ${v} to ${type} for ${what}: not a safe integer, pass a bigint`);
    }
    b = BigInt(v);
  } else {
    throw new TypeError(
      `Cannot convert ${_describe(v)} to ${type} for ${what}: expected an integer or bigint`,
    );
  }
  if (b < I64_MIN || b > U64_MAX) {
    throw new RangeError(
      `Cannot convert ${b}n to ${type} for ${what}: out of range [${I64_MIN}, ${U64_MAX}]`,
    );
  }
  return signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
}

/**
 * Checks a JS value for `f32`/`f64`.
 * @internal
 * @ignore
 */
export function _float(v: unknown, type: string, what: string): number {
  if (typeof v !== "number") {
    throw new TypeError(`Cannot convert ${_describe(v)} to ${type} for ${what}: expected a number`);
  }
  return v;
}

/**
 * Checks a JS value for `bool`: a boolean (or the numbers 0 and 1, as C would store them).
 * @internal
 * @ignore
 */
export function _bool(v: unknown, what: string): boolean {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  throw new TypeError(`Cannot convert ${_describe(v)} to bool for ${what}: expected a boolean`);
}
