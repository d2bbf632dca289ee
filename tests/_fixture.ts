/**
 * Shared by the tests: where the fixture library is built, and the C structs several tests lay out.
 */

import * as ffi from "../mod.ts";

/** The test-only fixture cdylib (`tests/fixture`), built by `cargo build --release`. */
export const FIXTURE: string = decodeURIComponent(
  new URL("../target/release/liblune_ffi_fixture.so", import.meta.url).pathname,
);

/** The fixture's `FxMixed`: one field of each scalar kind, so every padding rule shows. */
export const Mixed = ffi.struct([
  ["a", "i8"],
  ["b", "u16"],
  ["c", "i32"],
  ["d", "i64"],
  ["e", "f32"],
  ["f", "f64"],
  ["p", "pointer"],
]);

/** glibc's `struct tm` on 64-bit Linux. */
export const Tm = ffi.struct([
  ["tm_sec", "int"],
  ["tm_min", "int"],
  ["tm_hour", "int"],
  ["tm_mday", "int"],
  ["tm_mon", "int"],
  ["tm_year", "int"],
  ["tm_wday", "int"],
  ["tm_yday", "int"],
  ["tm_isdst", "int"],
  ["tm_gmtoff", "long"],
  ["tm_zone", "char*"],
]);
