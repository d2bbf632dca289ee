/**
 * `sizeof` and `alignof` of any C type: a primitive name or alias, or a struct definition.
 *
 * @module
 */

import { _resolveCodec, type CType } from "./pointer.ts";

/**
 * The size in bytes of a C type: a type name or alias (`"i32"`, `"size_t"`, `"void"` is 0) or a
 * struct definition. An unknown name is a `TypeError` that names it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ffi.sizeof("i32"), 4);
 * assert.equal(ffi.sizeof("pointer"), 8);
 * assert.equal(ffi.sizeof(ffi.struct([["a", "i64"], ["b", "i8"]])), 16);
 * assert.throws(() => ffi.sizeof("int128" as ffi.CTypeName), TypeError);
 * ```
 */
export function sizeof(ctype: CType): number {
  return _resolveCodec(ctype, "ffi.sizeof()", "ctype").size;
}

/**
 * The alignment in bytes of a C type: a type name or alias, or a struct definition (the largest
 * alignment of its fields). An unknown name is a `TypeError` that names it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ffi.alignof("f64"), 8);
 * assert.equal(ffi.alignof("u16"), 2);
 * assert.equal(ffi.alignof(ffi.struct([["a", "u8"], ["b", "u16"]])), 2);
 * ```
 */
export function alignof(ctype: CType): number {
  return _resolveCodec(ctype, "ffi.alignof()", "ctype").align;
}
