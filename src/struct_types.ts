/**
 * The type-level mapping from C types to the JS values a view works with in place: what a field or
 * a struct reads as ({@linkcode CValue}, {@linkcode StructView}) and accepts ({@linkcode CInput},
 * {@linkcode StructInput}). Types only: no run-time code. What a copy reads as
 * (`CResult`, `StructValue`) is in `pointer.ts`, beside `RawPointer.read`.
 *
 * In TypeScript, a view of a definition declared `as const` is precise: a field has the type it
 * reads as (a number, a bigint for 64-bit integers, a boolean, a RawPointer, a string for `char*`, a
 * {@linkcode TypedPointer} for arrays, a nested StructView). At run time fields also take everything
 * the value rules allow (a number for a 64-bit field, `null` or any pointer-like value for a pointer,
 * a string, array or plain object as above); a mapped type cannot give a property a different type
 * for writing than for reading, so precise code writes those with
 * `Object.assign(view, { name: "Ada", next: null })`. A definition without `as const` has loose
 * views (any property, of type `any`), where all of those writes compile as written.
 *
 * @module
 */

import type {
  AnyFields,
  BitfieldSpec,
  FieldName,
  FieldSpec,
  kToRaw,
  NamedFields,
  PrimitiveInput,
  PrimitiveValue,
  RawPointer,
  StructType,
} from "./pointer.ts";
import type { TypedPointer } from "./typed_pointer.ts";
import type { CanonicalOf, CTypeName } from "./types.ts";

export type {
  AnyFields,
  BitfieldSpec,
  CResult,
  FieldName,
  FieldPlain,
  FieldSpec,
  FieldType,
  NamedFields,
  ObjectMember,
  PrimitiveInput,
  PrimitiveValue,
  StructType,
  StructValue,
} from "./pointer.ts";

/**
 * The JS value a C type reads as in place: `CValue<"i32">` is `number`, `CValue<"size_t">` is
 * `bigint`, and a struct definition gives its {@linkcode StructView}.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 *
 * const id: ffi.CValue<"u64"> = 5n;
 * const ok: ffi.CValue<"bool"> = true;
 * console.log(id, ok);
 * ```
 */
export type CValue<T> = T extends StructType<infer F> ? StructView<F>
  : T extends CTypeName ? PrimitiveValue<CanonicalOf<T>>
  : unknown;

/**
 * The JS values a C type accepts when written: `CInput<"i64">` is `number | bigint`, a struct
 * definition takes a plain object of its fields (or a view of it).
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 *
 * const id: ffi.CInput<"u64"> = 5; // a safe integer is accepted too
 * console.log(id);
 * ```
 */
export type CInput<T> = T extends StructType<infer F> ? StructInput<F> | StructView<F>
  : T extends CTypeName ? PrimitiveInput<CanonicalOf<T>>
  : unknown;

/**
 * What a call argument of C type `T` accepts: {@linkcode CInput}, and for `pointer` and `string` also
 * a JS typed array or ArrayBuffer (lent to C for the call). A type name known only at run time
 * (a `string`) accepts anything.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 *
 * const s: ffi.ArgInput<"const char*"> = "hello";
 * const n: ffi.ArgInput<"size_t"> = 5;
 * console.log(s, n);
 * ```
 */
export type ArgInput<T> = T extends CTypeName
  ? CanonicalOf<T> extends "pointer" | "string" ? CInput<T> | ArrayBufferView | ArrayBuffer : CInput<T>
  : CInput<T>;

/**
 * The parameters of a function bound from a list of C types: one {@linkcode ArgInput} per type, so a
 * wrong count or kind of argument fails to compile when the list is written out literally.
 *
 * @example
 * ```ts
 * import type * as ffi from "@x/lune-ffi";
 *
 * const args: ffi.CallArgs<["const char*", "size_t"]> = ["text", 4n];
 * console.log(args);
 * ```
 */
export type CallArgs<A extends readonly unknown[]> = { -readonly [K in keyof A]: ArgInput<A[K]> };

/** What a field reads as in a {@linkcode StructView}, from its `[name, type, length?]` tuple. */
export type FieldValue<E> = E extends readonly [string, unknown, BitfieldSpec] ? number
  : E extends readonly [string, infer T, number]
    ? TypedPointer<T extends StructType<infer G> ? StructElement<G> : CValue<T>, CInput<T>>
  : E extends readonly [string, infer T] ? CValue<T>
  : never;

/** What a field accepts in a {@linkcode StructInput}: arrays also take array-likes, byte arrays strings. */
export type FieldInput<E> = E extends readonly [string, unknown, BitfieldSpec] ? number | bigint
  : E extends readonly [string, infer T, number] ?
      | ArrayLike<CInput<T>>
      | TypedPointer<CValue<T>, CInput<T>>
      | (T extends "i8" | "u8" | "char" | "int8" | "uchar" | "byte" ? string : never)
  : E extends readonly [string, infer T] ? CInput<T>
  : never;

/**
 * The view of a definition whose field names are not literal types (a field list written inline or
 * built at run time, without `as const`): any property name, of type `any`, so reads and every write
 * the run time allows (a string into a `u8` array, a number into an `i64`, `null` into a pointer, a
 * plain object into a nested struct) compile. Still pointer-like.
 */
export type LooseStructView = AnyFields & { [kToRaw](): RawPointer };

/**
 * A struct in memory, read and written in place: one property per field and nothing else. It is
 * pointer-like: {@linkcode toRaw} gives its address.
 *
 * Its type depends on how the definition was declared:
 *
 * - **`as const`** (as Deno's own `dlopen` typings require): precise. A primitive field reads as its
 *   value (`number`, `bigint` for 64-bit integers, `boolean`, {@linkcode RawPointer}, `string | null`),
 *   an array field as a {@linkcode TypedPointer} over it, a nested struct as a StructView, and an
 *   unknown field is a compile error. A property has one type for reading and writing (TypeScript
 *   gives different getter and setter types only to declared accessors, never to mapped types), so
 *   the writes whose value has another type than the read (a string into a `u8` array, a `number`
 *   into an `i64`, `null` into a pointer, a plain object into a nested struct) are written
 *   `Object.assign(view, { ... })`, which the run time checks as usual.
 * - **without `as const`** (field names typed `string`): {@linkcode LooseStructView}, any property
 *   of type `any`, so every write the value rules allow compiles as written.
 *
 * @example Precise (`as const`)
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Node = ffi.struct([["id", "i64"], ["name", "u8", 8], ["next", "pointer"]] as const);
 * using arena = ffi.arena();
 * const v: ffi.StructView<typeof Node.spec> = ffi.view(arena.allocType(Node), Node);
 * v.id = 5n;
 * assert.equal(v.id + 1n, 6n); // a bigint
 * Object.assign(v, { id: 7, name: "Ada", next: null }); // writes of another type than the read
 * assert.equal(v.name[0], 65);
 * ```
 *
 * @example Loose (no `as const`)
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
 * using arena = ffi.arena();
 * const player = ffi.view(arena.allocType(Player), Player);
 * player.name = "Bob";
 * player.health = 100;
 * assert.equal(player.name[0], 66);
 * assert.equal(player.health + 1, 101);
 * ```
 */
export type StructView<F extends readonly FieldSpec[] = readonly FieldSpec[]> = string extends FieldName<F>
  ? LooseStructView
  : { -readonly [E in NamedFields<F> as E[0]]: FieldValue<E> } & { [kToRaw](): RawPointer };

/**
 * An element of a {@linkcode TypedPointer} of structs (`ffi.cast(ptr, def, count)`): a
 * {@linkcode StructView} for a definition declared `as const`; `any` for a loose one (no `as const`),
 * so that `p[i] = { x: 1, y: 2 }` (which is `set(i, v)`) compiles as `p[i].x = 1` does.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
 * using arena = ffi.arena();
 * const points = ffi.cast(arena.allocArray(Vec2, 2), Vec2, 2);
 * points[0] = { x: 1, y: 2 };
 * points[1].x = 3;
 * assert.equal(points[0].y + points[1].x, 5);
 * ```
 */
export type StructElement<F extends readonly FieldSpec[]> = string extends FieldName<F>
  // deno-lint-ignore no-explicit-any -- the fields are not known to the compiler
  ? any
  : StructView<F>;

/**
 * What a struct accepts when written as a whole: a plain object with a value for any of its fields
 * (strings and arrays for array fields, plain objects for nested structs); the fields it leaves out
 * are zero, as in a C designated initialiser. For a definition without literal field names (no
 * `as const`), any plain object.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 *
 * const Tag = ffi.struct([["id", "u32"], ["name", "u8", 8]] as const);
 * const t: ffi.StructInput<typeof Tag.spec> = { id: 1, name: "tag" };
 * console.log(t);
 * ```
 */
export type StructInput<F extends readonly FieldSpec[] = readonly FieldSpec[]> = string extends FieldName<F>
  ? { [field: string]: unknown }
  : { [E in NamedFields<F> as E[0]]?: FieldInput<E> };
