/**
 * {@linkcode cast}: a pointer seen as a typed pointer of a C type, or as a view of a struct.
 *
 * @module
 */

import { _argMessage, _isInstance } from "./errors.ts";
import { _rawOfArg, type CType, type PointerLike } from "./pointer.ts";
import { StructDefinition } from "./struct.ts";
import type { CInput, CValue, FieldSpec, StructElement, StructInput, StructView } from "./struct_types.ts";
import { _viewOf } from "./struct_view.ts";
import { _castRaw, _elemOf, type TypedPointer } from "./typed_pointer.ts";
import type { CanonicalOf, CTypeName, TypeName } from "./types.ts";

/**
 * The JS typed array a numeric C type's elements are, by canonical name: `TypedArrayOf<"f64">` is
 * `Float64Array`.
 *
 * @example
 * ```ts
 * import type * as ffi from "@x/lune-ffi";
 *
 * const a: ffi.TypedArrayOf<"u8"> = new Uint8Array(2);
 * console.log(a.length);
 * ```
 */
export type TypedArrayOf<N> = N extends "i8" ? Int8Array
  : N extends "u8" ? Uint8Array
  : N extends "i16" ? Int16Array
  : N extends "u16" ? Uint16Array
  : N extends "i32" ? Int32Array
  : N extends "u32" ? Uint32Array
  : N extends "f32" ? Float32Array
  : N extends "f64" ? Float64Array
  : N extends "i64" | "isize" ? BigInt64Array
  : N extends "u64" | "usize" ? BigUint64Array
  : unknown;

/**
 * What {@linkcode cast} gives for a type name: a {@linkcode TypedPointer}, which for a numeric
 * element type is also the matching JS typed array (`Uint8Array` for `"u8"`, `BigInt64Array` for
 * `"i64"`, ...), so it goes wherever one goes (`new TextDecoder().decode(ffi.cast(p, "u8", n))`).
 * That holds at run time for memory JS can view whole at an aligned address (arena memory, and
 * unmanaged memory cast with a count); other numeric typed pointers have the same members but are
 * not typed arrays.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const bytes: ffi.NumericTypedPointer<"u8"> = ffi.cast(arena.alloc(3), "u8");
 * bytes.set([104, 105]); // the typed-array set(array, offset?)
 * assert.equal(new TextDecoder().decode(bytes.subarray(0, 2)), "hi");
 * ```
 */
export type NumericTypedPointer<N extends TypeName> =
  & TypedPointer<CValue<N>, CInput<N>>
  & (N extends CTypeName ? TypedArrayOf<CanonicalOf<N>> : unknown);

/**
 * Casts a pointer to a typed pointer of `ctype`, or to a {@linkcode StructView} when `ctype` is a
 * struct definition and no count is given.
 *
 * The count of a managed pointer comes from its allocation's bounds (a given count must fit in
 * them); `count` gives the element count of unmanaged memory, which is otherwise unknown.
 *
 * @example Typed array access
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const raw = arena.alloc(100);
 * const ints = ffi.cast(raw, "i32");
 * ints[0] = 42;
 * ints[1] = 100;
 * assert.equal(ints[0] + ints[1], 142);
 * assert.equal(ints[25], undefined); // outside the allocation, as a typed array
 * ```
 *
 * @example Structs
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
 * using arena = ffi.arena();
 * const raw = arena.allocArray(Vec2, 3);
 * const one = ffi.cast(raw, Vec2); // a StructView
 * one.y = 2;
 * const all = ffi.cast(raw, Vec2, 3); // a TypedPointer of structs
 * all[2].x = 5;
 * assert.equal(all.get(0).y, 2);
 * assert.equal(raw.read(16, "f32"), 5);
 * ```
 */
export function cast<F extends readonly FieldSpec[]>(
  ptr: PointerLike,
  def: StructDefinition<F>,
): StructView<F>;
/**
 * Casts a pointer to a typed pointer of `count` structs of `def`: `get(i)` and `p[i]` are
 * {@linkcode StructView}s, `set(i, v)` copies a plain object or a view.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Pair = ffi.struct([["a", "i32"], ["b", "i32"]]);
 * using arena = ffi.arena();
 * const pairs = ffi.cast(arena.allocArray(Pair, 2), Pair, 2);
 * pairs.set(1, { a: 1, b: 2 });
 * assert.equal(pairs[1].b, 2);
 * ```
 */
export function cast<F extends readonly FieldSpec[]>(
  ptr: PointerLike,
  def: StructDefinition<F>,
  count: number,
): TypedPointer<StructElement<F>, StructInput<F> | StructView<F>>;
/**
 * Casts a pointer to a typed pointer of the primitive type `ctype` (`count` elements, for
 * unmanaged memory). A literal type name gives typed elements (`number` for `"u8"`, `bigint` for
 * `"u64"`); a name known only at run time (a `string` variable) gives `TypedPointer<unknown>`, whose
 * elements take any value and read as `unknown`. An unknown name is a `TypeError` at run time.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const bytes = ffi.cast(arena.alloc(4), "u8");
 * bytes[0] = 300; // typed-array conversion: stores 44
 * assert.equal(bytes[0] + 1, 45);
 * const name: string = "i16";
 * const shorts = ffi.cast(arena.alloc(4), name);
 * shorts[1] = -1;
 * assert.equal(shorts[1], -1);
 * assert.throws(() => ffi.cast(arena.alloc(4), "int33"), TypeError);
 * ```
 */
export function cast<N extends TypeName>(
  ptr: PointerLike,
  ctype: N,
  count?: number,
): NumericTypedPointer<N>;
/**
 * Casts a pointer to a type known only at run time: a {@linkcode StructView} for a struct definition
 * without a count, else a {@linkcode TypedPointer}.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const types: ffi.CType[] = ["f64", ffi.struct([["x", "f64"]])];
 * using arena = ffi.arena();
 * const p = ffi.cast(arena.alloc(8), types[0]);
 * assert.ok(p instanceof ffi.TypedPointer);
 * p.set(0, 0.5);
 * assert.equal(p.get(0), 0.5);
 * ```
 */
export function cast(ptr: PointerLike, ctype: CType, count?: number): TypedPointer | StructView;
export function cast(ptr: PointerLike, ctype: CType, count?: number): unknown {
  const raw = _rawOfArg(ptr, "ffi.cast()", "ptr");
  if (raw === null) throw new TypeError(_argMessage("ffi.cast()", "ptr", "a pointer-like value", ptr));
  if (_isInstance(ctype, StructDefinition) && count === undefined) {
    return _viewOf(raw, ctype as StructDefinition, "ffi.cast()");
  }
  const elem = _elemOf(ctype, "ffi.cast()");
  if (count !== undefined) {
    if (typeof count !== "number") {
      throw new TypeError(_argMessage("ffi.cast()", "count", "a number", count));
    }
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(_argMessage("ffi.cast()", "count", "a non-negative safe integer", count));
    }
  }
  return _castRaw(raw, elem, count, "ffi.cast()");
}
