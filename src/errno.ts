/**
 * C's `errno` (and Windows' `GetLastError`) as it was right after the last C call made through this
 * module: {@linkcode errno} and {@linkcode lastError}.
 *
 * After a C function returns, V8 and Deno run code of their own before the next line of JavaScript,
 * and that code may change `errno`, so it is captured at once, by every call: `errno` is a
 * thread-local `int` at a fixed address per thread, so a typed-array view over it lets the generated
 * call wrappers save it (and set it just before the next call when asked) with no native code in
 * between; calls on the native engine do the same natively, on the thread that made the call. The saved value lives in a small native-addressable cell.
 *
 * @module
 */

import { _native } from "./_native.ts";
import { _describe } from "./types.ts";
import { _pending } from "./_defer.ts";

/**
 * The live values (over the thread's own variables) and the saved ones.
 * @internal
 * @ignore
 */
export interface ErrnoCells {
  /** `errno` itself (the calling thread's), as `[0]`. */
  readonly live: Int32Array;
  /**
   * `[0]`: errno as saved after the last call; `[1]`: the Windows last-error value likewise; `[2]`:
   * bit 0 (errno) and bit 1 (last error) set when the saved value is to be put back before the
   * next call (`errno(value)`), cleared by that call.
   */
  readonly saved: Int32Array;
  /** The address of `saved`, for the native engine. */
  readonly savedPtr: Deno.PointerObject;
  /** The thread's last-error value (Windows only; else null). */
  readonly lastError: Uint32Array | null;
}

let cells: ErrnoCells | null = null;

/**
 * The errno cells of this thread (a Deno worker is a thread of its own with its own module).
 * @internal
 * @ignore
 */
export function _errnoCells(): ErrnoCells {
  if (cells !== null) return cells;
  const n = _native();
  const at = n.lffi_errno_location();
  if (at === null) throw new Error("lune-ffi: the C library gives no errno location");
  const live = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(at, 4));
  const le = n.lffi_last_error_location();
  const lastError = le === null ? null : new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(le, 4));
  const buf = new ArrayBuffer(16);
  const savedPtr = Deno.UnsafePointer.of(buf);
  if (savedPtr === null) throw new Error("lune-ffi: no address for the errno cell");
  const saved = new Int32Array(buf);
  saved[0] = live[0];
  if (lastError !== null) saved[1] = lastError[0];
  cells = { live, saved, savedPtr, lastError };
  return cells;
}

function checkCode(value: unknown, fn: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Invalid value ${_describe(value)} for ${fn}(value): expected an integer`);
  }
  if (value < -0x8000_0000 || value > 0xffff_ffff) {
    throw new RangeError(`Invalid value ${value} for ${fn}(value): out of range [-2^31, 2^32)`);
  }
  return value | 0;
}

/**
 * C's `errno` as it was right after the last C function called through this module on this thread
 * returned (`Library.call`, `Library.fn` functions, {@linkcode fn} functions), whatever JavaScript ran
 * since. With a `value`, also sets `errno` to it just before the next such call (for APIs that need
 * `errno = 0` first, such as `strtol`), and returns the previous value, as LuaJIT's `ffi.errno` does.
 *
 * Reading or setting `errno` through its address (`__errno_location()`) works too, as in C; but the
 * JavaScript engine may change it between two lines of JavaScript, which is why this exists.
 *
 * @throws {TypeError} for a value that is not an integer.
 * @throws {RangeError} for a value outside a C `int` (unsigned values up to 2^32 wrap, as in C).
 *
 * @example `open` of a missing file sets ENOENT (2 on Linux)
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libc = ffi.load("libc.so.6");
 * const fd = libc.call("open", "int", ["string", "int"], "/no/such/file", 0);
 * assert.equal(fd, -1);
 * if (Deno.build.os === "linux") assert.equal(ffi.errno(), 2);
 *
 * // strtol reports overflow only through errno, so clear it first.
 * ffi.errno(0);
 * libc.call("strtol", "long", ["string", "pointer", "int"], "99999999999999999999999", null, 10);
 * if (Deno.build.os === "linux") assert.equal(ffi.errno(), 34); // ERANGE
 * ```
 */
export function errno(value?: number): number {
  const c = _errnoCells();
  const old = c.saved[0];
  if (value !== undefined) {
    c.saved[0] = checkCode(value, "ffi.errno");
    c.saved[2] |= 1;
    _pending.errnoSet = true;
  }
  return old;
}

/**
 * Windows' `GetLastError()` as it was right after the last C function called through this module on
 * this thread returned, captured the same way as {@linkcode errno}; with a `value`, also sets it
 * (`SetLastError`) just before the next such call, and returns the previous value. On other
 * platforms there is no such value: it is always 0, and setting it does nothing.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * if (Deno.build.os !== "windows") assert.equal(ffi.lastError(), 0);
 * ```
 */
export function lastError(value?: number): number {
  const c = _errnoCells();
  if (c.lastError === null) {
    if (value !== undefined) checkCode(value, "ffi.lastError");
    return 0;
  }
  const old = c.saved[1] >>> 0;
  if (value !== undefined) {
    c.saved[1] = checkCode(value, "ffi.lastError");
    c.saved[2] |= 2;
    _pending.errnoSet = true;
  }
  return old;
}
