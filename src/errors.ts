/**
 * Error types: `TypeError` for a wrong kind of value or an unknown type name, `RangeError` for
 * out-of-bounds access and bad sizes (both built in), and {@linkcode FfiError} for native failures:
 * freed memory, a missing library or symbol, a closed library or callback.
 *
 * @module
 */

/**
 * An error from the native side of the FFI: freed memory, a library or symbol that cannot be found,
 * a closed library or callback.
 *
 * @example Catching access to freed memory
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const arena = ffi.arena();
 * const p = arena.alloc(8);
 * arena.reset();
 * assert.throws(() => p.read(0, "i32"), ffi.FfiError);
 * ```
 */
export class FfiError extends Error {
  /** Always `"FfiError"`. */
  override name = "FfiError";
}

/** @internal The error for any access to memory its arena has freed. */
export function _freedError(what: string): FfiError {
  return new FfiError(`Cannot ${what}: the memory was freed (its arena was reset or disposed)`);
}
