/**
 * {@linkcode string}: C text (UTF-8) at any pointer-like value, up to its NUL or of a given length.
 *
 * @module
 */

import { _text, _textUpToNul } from "./_chars.ts";
import { _rawOfArg, _span, type PointerLike } from "./pointer.ts";
import { _describe } from "./errors.ts";

/**
 * Decodes C text as UTF-8: `len` bytes (embedded NULs kept), or up to the first NUL. `ptr` is any
 * pointer-like value (RawPointer, TypedPointer, StructView, Buffer, Callback) or a JS typed array or
 * ArrayBuffer. A char array (a TypedPointer with a count, such as an `i8`/`u8` array field) with no
 * NUL reads up to its end; so does managed memory up to the end of its allocation. Reading past a
 * managed allocation, or a JS array, is a `RangeError`; after the arena is reset it is the
 * freed-memory error; unmanaged memory is unchecked, as in C (it must hold a NUL when no `len` is
 * given). A NULL pointer is a `TypeError`.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Uts = ffi.struct([["sysname", "char", 65], ["nodename", "char", 65]]);
 * using arena = ffi.arena();
 * const u = ffi.view(arena.allocType(Uts), Uts);
 * u.sysname = "Linux";
 * assert.equal(ffi.string(u.sysname), "Linux");
 * assert.equal(`${u.sysname}`, "Linux"); // toString() of a char array
 * assert.equal(ffi.string(u.sysname, 7), "Linux\0\0");
 * ```
 */
export function string(ptr: PointerLike | ArrayBufferView | ArrayBuffer, len?: number): string {
  if (len !== undefined && typeof len !== "number") {
    throw new TypeError(`ffi.string(): len must be a number, got ${_describe(len)}`);
  }
  if (len !== undefined && (!Number.isInteger(len) || len < 0)) {
    throw new RangeError(`ffi.string(): len must be a non-negative integer, got ${_describe(len)}`);
  }
  let window: Uint8Array;
  const raw = _rawOfArg(ptr, "ffi.string()", "ptr");
  if (raw !== null) {
    if (raw.isNull) {
      throw new TypeError(`ffi.string(): cannot read text at a NULL pointer (ptr ${_describe(ptr)})`);
    }
    const s = _span(raw, "use ptr in ffi.string()"); // the freed-memory error after a reset
    if (s.chunk === null) {
      if (ArrayBuffer.isView(ptr) && len === undefined) {
        window = new Uint8Array(ptr.buffer, ptr.byteOffset, ptr.byteLength);
      } else if (len === undefined) {
        return raw.readString();
      } else {
        if (len === 0) return "";
        return _text(
          new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(raw.toLightUserData()!, len)),
        );
      }
    } else {
      if (s.off < s.lo || s.off > s.hi) {
        throw new RangeError(`ffi.string(): the pointer is outside its allocation (${s.hi - s.lo} bytes)`);
      }
      window = s.chunk.u8.subarray(s.off, s.hi);
      // A char array reads up to its own end, not its allocation's.
      if (len === undefined && ArrayBuffer.isView(ptr)) window = window.subarray(0, ptr.byteLength);
    }
  } else if (
    (ptr instanceof ArrayBuffer && ptr.detached) ||
    (ArrayBuffer.isView(ptr) && (ptr.buffer as ArrayBuffer).detached)
  ) {
    throw new TypeError(`ffi.string(): ptr is ${_describe(ptr)}, whose ArrayBuffer is detached`);
  } else if (ArrayBuffer.isView(ptr)) {
    window = new Uint8Array(ptr.buffer, ptr.byteOffset, ptr.byteLength);
  } else if (ptr instanceof ArrayBuffer) {
    window = new Uint8Array(ptr);
  } else {
    throw new TypeError(
      `ffi.string(): expected a pointer-like value (RawPointer, TypedPointer, StructView, Buffer) or a typed ` +
        `array for ptr, got ${_describe(ptr)}`,
    );
  }
  if (len !== undefined) {
    if (len > window.length) {
      throw new RangeError(`ffi.string(): cannot read len ${len} bytes: only ${window.length} are in bounds`);
    }
    return _text(window.subarray(0, len));
  }
  return _textUpToNul(window);
}
