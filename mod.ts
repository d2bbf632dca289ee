/**
 * # lune-ffi
 *
 * The FFI module of the Lune runtime (`@lune/ffi`) for Deno 2: memory arenas, raw and typed
 * pointers, C structs, shared-library loading and calls, C-callable callbacks and buffers.
 *
 * @example Quick start
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(1024);
 * p.write(0, "i32", 42);
 * assert.equal(ffi.read(p, 0, "i32"), 42);
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
export { type CType, isNull, kToRaw, type PointerLike, ptr, RawPointer, toRaw } from "./src/pointer.ts";
export { Arena, arena } from "./src/arena.ts";
export { copy, fill, read, write } from "./src/memory.ts";
export { Buffer, buffer } from "./src/buffer.ts";
export {
  type AnyFields,
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
  type ObjectMember,
  type PrimitiveInput,
  type PrimitiveValue,
  struct,
  StructDefinition,
  type StructElement,
  type StructInput,
  type StructValue,
  type StructView,
  view,
} from "./src/struct.ts";
export { cast, TypedPointer } from "./src/typed_pointer.ts";
export { alignof, sizeof } from "./src/sizeof.ts";
export { type ExportInfo, Library, load, open } from "./src/library.ts";
export { Callback, callback } from "./src/callback.ts";
