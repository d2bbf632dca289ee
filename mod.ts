/**
 * # lune-ffi
 *
 * The FFI module of the Lune runtime (`@lune/ffi`) for Deno 2: memory arenas, raw and typed
 * pointers, C structs, shared-library loading and calls, C-callable callbacks and buffers.
 *
 * Managed memory (arenas, Buffers) is bounds-checked and dies with its arena; unmanaged pointers
 * (`ptr(addr)`, pointers from C) are unchecked, as in C. Run programs with `--allow-ffi`: the package
 * carries its native library. The README covers platforms, the safety model and measured costs; the
 * guide (`docs/guide.md`) how every type and call behaves.
 *
 * @example The Quick Start, and a struct passed to C
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * // A memory arena: freed at the end of the scope (or when garbage-collected).
 * using arena = ffi.arena();
 * const ptr = arena.alloc(1024);
 *
 * // Cast to a typed pointer for array access.
 * const ints = ffi.cast(ptr, "i32");
 * ints[0] = 42;
 * assert.equal(ints[0], 42);
 *
 * // Load a native library and call it.
 * using libc = ffi.load("libc.so.6");
 * assert.equal(libc.call("getpid", "i32", []), Deno.pid);
 *
 * // C structs, laid out by the platform's ABI, filled by C in place.
 * const Tm = ffi.struct([
 *   ["sec", "int"], ["min", "int"], ["hour", "int"], ["mday", "int"], ["mon", "int"],
 *   ["year", "int"], ["wday", "int"], ["yday", "int"], ["isdst", "int"],
 *   ["gmtoff", "long"], ["zone", "char*"],
 * ]);
 * const t = arena.allocType("i64");
 * t.write(0, "i64", 86_400 * 365);
 * const tm = ffi.view(arena.allocType(Tm), Tm);
 * libc.call("gmtime_r", "pointer", ["pointer", "pointer"], t, tm);
 * assert.equal(tm.year + 1900, 1971);
 * ```
 *
 * @module
 */

export { FfiError } from "./src/errors.ts";
export {
  type AnyString,
  type CanonicalOf,
  type CTypeName,
  type Primitive,
  type PrimitiveName,
  PRIMITIVES,
  type TypeName,
  typeNames,
} from "./src/types.ts";
export {
  type CType,
  isNull,
  kToRaw,
  type PlainOf,
  type PointerLike,
  ptr,
  RawPointer,
  type StructType,
  toRaw,
} from "./src/pointer.ts";
export { Arena, arena } from "./src/arena.ts";
export { copy, fill, read, write } from "./src/memory.ts";
export { Buffer, buffer } from "./src/buffer.ts";
export {
  type AnyFields,
  type ArgInput,
  type BitfieldSpec,
  type CallArgs,
  type CInput,
  type CResult,
  type CValue,
  type FieldInput,
  type FieldName,
  type FieldPlain,
  type FieldSpec,
  type FieldType,
  type FieldValue,
  type LooseStructView,
  type NamedFields,
  type ObjectMember,
  type PrimitiveInput,
  type PrimitiveValue,
  type StructElement,
  type StructInput,
  type StructValue,
  type StructView,
} from "./src/struct_types.ts";
export { struct, StructDefinition, type StructOptions, union } from "./src/struct.ts";
export { view } from "./src/struct_view.ts";
export { TypedPointer } from "./src/typed_pointer.ts";
export { cast, type NumericTypedPointer, type TypedArrayOf } from "./src/cast.ts";
export { string } from "./src/string.ts";
export { alignof, sizeof } from "./src/sizeof.ts";
export { type ExportInfo, Library, load, open } from "./src/library.ts";
export { Callback, callback, type CallbackOptions } from "./src/callback.ts";
export { cdef, type CDefs, type Signature, type TypeValue } from "./src/cdef.ts";
export { CSyntaxError } from "./src/_c_lexer.ts";
export type { CallOptions, ErrnoResult } from "./src/_nonblocking.ts";
export { fn, type SignatureLike } from "./src/function.ts";
export { errno, lastError } from "./src/errno.ts";
