/**
 * C structs: {@linkcode struct} defines a layout, {@linkcode view} reads and writes one in place.
 *
 * A definition is specialised once, when it is created: every field gets its offset, its size and a
 * pair of accessors on a prototype shared by all views of the definition, so reading `view.health`
 * is one getter call that loads one value through the memory's DataView, with no lookup by name.
 *
 * Assigning to a field copies into it: a string into an `i8`/`u8` array writes its UTF-8 and a NUL
 * and zeroes the rest of the array (a `RangeError`, writing nothing, if it does not fit); an array, a
 * typed array or a TypedPointer into an array field copies its elements and zeroes the rest (a
 * `RangeError` if it is longer; all or nothing: a bad element writes none of them, and a TypedPointer
 * that overlaps the field is copied as `memmove` would); a plain object (or any view with the same
 * field names) into a nested struct copies every field, and a view of the same definition copies its
 * bytes. Whole-struct writes (`ffi.write` with a definition, a nested field) check each field as they
 * go, so a bad value in a later field throws after the earlier fields were written (the bad field
 * itself is left whole, unless it is a nested struct, which is a whole-struct write of its own).
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

import type { Chunk } from "./_chunk.ts";
import { _codecOf, type Codec, kCodec } from "./_codec.ts";
import { _native } from "./_native.ts";
import { _bool, _float, _int, _int64 } from "./_values.ts";
import { _freedError, FfiError } from "./errors.ts";
import { _layout } from "./layout.ts";
import {
  _makeManaged,
  _rawFromAddr,
  _rawOf,
  _span,
  kToRaw,
  type PointerLike,
  type RawPointer,
} from "./pointer.ts";
import { _elemOf, _foreignChunk, _isTypedPointer, _makeTyped, type TypedPointer } from "./typed_pointer.ts";
import {
  _describe,
  _primitive,
  type AnyString,
  type CanonicalOf,
  type CTypeName,
  type PrimitiveName,
} from "./types.ts";

// ---------------------------------------------------------------------------------------------------
// Types

/**
 * A type a field can have: any primitive but `void`, or a nested struct definition. Any string
 * compiles (the known names autocomplete): an unknown name, or `void`, is a `TypeError` that
 * {@linkcode struct} throws at run time, naming it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const t: ffi.FieldType = "int";
 * assert.equal(ffi.struct([["a", t]]).size, 4);
 * assert.throws(() => ffi.struct([["a", "int33"]]), /int33/);
 * ```
 */
export type FieldType = Exclude<CTypeName, "void"> | AnyString | StructDefinition;

/**
 * One field of {@linkcode struct}: `[name, type]`, or `[name, type, length]` for a fixed array.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const fields: ffi.FieldSpec[] = [["id", "u32"], ["tag", "u8", 4]];
 * assert.equal(ffi.struct(fields).size, 8);
 * ```
 */
export type FieldSpec =
  | readonly [name: string, type: FieldType]
  | readonly [name: string, type: FieldType, length: number];

/**
 * The JS value a primitive type reads as, by canonical name: `number`, `bigint` for the 64-bit
 * integers, `boolean`, `RawPointer`, `string | null` for `string`.
 */
export type PrimitiveValue<N> = N extends "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "f32" | "f64" ? number
  : N extends "i64" | "u64" | "isize" | "usize" ? bigint
  : N extends "bool" ? boolean
  : N extends "pointer" ? RawPointer
  : N extends "string" ? string | null
  : N extends "void" ? undefined
  : never;

/**
 * The JS values a primitive type accepts, by canonical name: 64-bit integers take a `number` too,
 * pointers any pointer-like value or `null`, `string` a JS string or a pointer.
 */
export type PrimitiveInput<N> = N extends "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "f32" | "f64" ? number
  : N extends "i64" | "u64" | "isize" | "usize" ? number | bigint
  : N extends "bool" ? boolean
  : N extends "pointer" ? PointerLike | Deno.PointerValue
  : N extends "string" ? string | PointerLike | Deno.PointerValue
  : never;

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
export type CValue<T> = T extends StructDefinition<infer F> ? StructView<F>
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
export type CInput<T> = T extends StructDefinition<infer F> ? StructInput<F> | StructView<F>
  : T extends CTypeName ? PrimitiveInput<CanonicalOf<T>>
  : unknown;

/**
 * The JS value a C type is read or returned as, by copy: what {@linkcode read}, `RawPointer.read`,
 * `Buffer.read`, `Library.call` and the functions of `Library.fn` give for the type argument `T`.
 * A type name or alias gives its value type (`number`, `bigint` for 64-bit integers, `boolean`,
 * {@linkcode RawPointer}, `string | null` for `string`, `undefined` for `void`), a union of names
 * the union of their values, and a struct definition its plain-object copy
 * ({@linkcode StructValue}). A name known only at run time (a `string` variable) gives `unknown`:
 * compare it with `assert.equal`, or narrow it with `typeof` before arithmetic.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(8);
 * p.write(0, "i32", 21);
 * const n: ffi.CResult<"int"> = ffi.read(p, 0, "int");
 * assert.equal(n * 2, 42); // a number: arithmetic compiles
 * const t: string = "u8";
 * const u: ffi.CResult<string> = ffi.read(p, 0, t); // unknown
 * assert.equal(u, 21);
 * ```
 */
export type CResult<T> = T extends StructDefinition<infer F> ? StructValue<F>
  : T extends CTypeName ? PrimitiveValue<CanonicalOf<T>>
  : unknown;

/** What a field reads as in a {@linkcode StructView}, from its `[name, type, length?]` tuple. */
export type FieldValue<E> = E extends readonly [string, infer T, number]
  ? TypedPointer<T extends StructDefinition<infer G> ? StructElement<G> : CValue<T>, CInput<T>>
  : E extends readonly [string, infer T] ? CValue<T>
  : never;

/** What a field accepts in a {@linkcode StructInput}: arrays also take array-likes, byte arrays strings. */
export type FieldInput<E> = E extends readonly [string, infer T, number] ?
    | ArrayLike<CInput<T>>
    | TypedPointer<CValue<T>, CInput<T>>
    | (T extends "i8" | "u8" | "char" | "int8" | "uchar" | "byte" ? string : never)
  : E extends readonly [string, infer T] ? CInput<T>
  : never;

/** What a field is in a {@linkcode StructValue}: arrays are JS arrays, nested structs plain objects. */
export type FieldPlain<E> = E extends readonly [string, infer T, number]
  ? (T extends StructDefinition<infer F> ? StructValue<F> : CValue<T>)[]
  : E extends readonly [string, infer T] ? T extends StructDefinition<infer F> ? StructValue<F> : CValue<T>
  : never;

/** The field names of a definition's field list. */
export type FieldName<F extends readonly FieldSpec[]> = F[number][0];

/**
 * The view of a definition whose field names are not literal types (a field list written inline or
 * built at run time, without `as const`): any property name, of type `any`, so reads and every write
 * the run time allows (a string into a `u8` array, a number into an `i64`, `null` into a pointer, a
 * plain object into a nested struct) compile. Still pointer-like.
 */
export type LooseStructView = AnyFields & { [kToRaw](): RawPointer };

/**
 * Any property name, of type `any`: the fields of a definition whose names are not literal types
 * ({@linkcode LooseStructView}, and the loose {@linkcode StructValue}). The names of
 * `Object.prototype` members (`constructor`, `toString`, ...) are listed so that fields of those
 * names are `any` too: a view has no other properties than its fields.
 */
// deno-lint-ignore no-explicit-any -- the fields are not known to the compiler: reads and writes both compile
export type AnyFields = Record<string, any> & Record<ObjectMember, any>;

/** The names of `Object.prototype`'s members, which TypeScript gives every object type. */
export type ObjectMember =
  | "constructor"
  | "toString"
  | "toLocaleString"
  | "valueOf"
  | "hasOwnProperty"
  | "isPrototypeOf"
  | "propertyIsEnumerable";

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
 *   of type `any`, so every write API.md allows compiles as written.
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
  : { -readonly [E in F[number] as E[0]]: FieldValue<E> } & { [kToRaw](): RawPointer };

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
 * What a struct accepts when written as a whole: a plain object with a value for every field
 * (strings and arrays for array fields, plain objects for nested structs). For a definition without
 * literal field names (no `as const`), any plain object.
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
  : { [E in F[number] as E[0]]: FieldInput<E> };

/**
 * A struct copied out of memory by {@linkcode read} (and returned by value from C): a plain object,
 * arrays as JS arrays, nested structs as plain objects. For a definition without literal field
 * names (no `as const`), an object whose properties are `any`.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Pair = ffi.struct([["a", "i32"], ["b", "u8", 2]] as const);
 * using arena = ffi.arena();
 * const p = arena.allocType(Pair);
 * const value: ffi.StructValue<typeof Pair.spec> = ffi.read(p, 0, Pair);
 * assert.deepEqual(value, { a: 0, b: [0, 0] });
 * assert.equal(value.a + value.b[1], 0);
 * ```
 */
export type StructValue<F extends readonly FieldSpec[] = readonly FieldSpec[]> = string extends FieldName<F>
  ? AnyFields
  : { [E in F[number] as E[0]]: FieldPlain<E> };

// ---------------------------------------------------------------------------------------------------
// Internal state

/** Slots of a view: symbol-keyed, so a view's only string-keyed properties are its fields. */
const kC: unique symbol = Symbol("lune-ffi.view.chunk");
const kO: unique symbol = Symbol("lune-ffi.view.offset");
const kM: unique symbol = Symbol("lune-ffi.view.managed");
const kLo: unique symbol = Symbol("lune-ffi.view.lo");
const kHi: unique symbol = Symbol("lune-ffi.view.hi");
/** Array and nested fields' views, built on first read and reused. */
const kSub: unique symbol = Symbol("lune-ffi.view.sub");
/** On each definition's view prototype: the definition. */
const kDef: unique symbol = Symbol("lune-ffi.view.def");

interface Slots {
  [kC]: Chunk;
  [kO]: number;
  [kM]: boolean;
  [kLo]: number;
  [kHi]: number;
  [kSub]: unknown[] | undefined;
  [kDef]: StructDefinition;
}

/** What a definition knows about one field. */
interface FieldInfo {
  readonly name: string;
  readonly index: number;
  readonly offset: number;
  /** Bytes the field takes (element size × length). */
  readonly size: number;
  readonly align: number;
  /** Element count for arrays, or `undefined` for a single value. */
  readonly length: number | undefined;
  /** Canonical primitive name, or null for a nested struct. */
  readonly prim: PrimitiveName | null;
  readonly def: StructDefinition | null;
  /** Codec of one element. */
  readonly codec: Codec;
  /** `field "name"`, for messages. */
  readonly what: string;
  /** `u8[32]`, `struct {...}`: for descriptions. */
  readonly desc: string;
}

type ViewCtor = new (c: Chunk, o: number, managed: boolean, lo: number, hi: number) => Slots;

/** A view of `def` at offset `o` of `c`. @internal */
export let _makeView: (
  def: StructDefinition,
  c: Chunk,
  o: number,
  managed: boolean,
  lo: number,
  hi: number,
) => StructView;

/** Whether `x` is a StructView (of any definition). @internal */
export function _isView(x: unknown): boolean {
  return typeof x === "object" && x !== null && kC in x;
}

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------------
// Accessors: one pair per field, specialised by type so each getter is a single DataView call.

interface Accessor {
  get(this: Slots): unknown;
  set(this: Slots, v: unknown): void;
}

function liveR(v: Slots, f: FieldInfo): Chunk {
  const c = v[kC];
  if (c.freed) throw _freedError(`read ${f.what}`);
  return c;
}

function liveW(v: Slots, f: FieldInfo): Chunk {
  const c = v[kC];
  if (c.freed) throw _freedError(`write ${f.what}`);
  return c;
}

// Each entry is its own function literal, so each getter's call site only ever sees one DataView
// method and stays monomorphic. The integer check is written out in every setter, range first: moved
// into a helper, or with Number.isInteger first, V8 stopped treating the value as a number and a
// field write measured 15 times slower.
const SCALAR: Partial<Record<PrimitiveName, (off: number, f: FieldInfo) => Accessor>> = {
  i8: (off, f) => ({
    get() {
      return liveR(this, f).dv.getInt8(this[kO] + off);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setInt8(
        this[kO] + off,
        typeof v === "number" && v >= -0x80 && v <= 0xff && Number.isInteger(v) ? v : _int(v, "i8", f.what),
      );
    },
  }),
  u8: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint8(this[kO] + off);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint8(
        this[kO] + off,
        typeof v === "number" && v >= -0x80 && v <= 0xff && Number.isInteger(v) ? v : _int(v, "u8", f.what),
      );
    },
  }),
  i16: (off, f) => ({
    get() {
      return liveR(this, f).dv.getInt16(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setInt16(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000 && v <= 0xffff && Number.isInteger(v)
          ? v
          : _int(v, "i16", f.what),
        true,
      );
    },
  }),
  u16: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint16(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint16(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000 && v <= 0xffff && Number.isInteger(v)
          ? v
          : _int(v, "u16", f.what),
        true,
      );
    },
  }),
  i32: (off, f) => ({
    get() {
      return liveR(this, f).dv.getInt32(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setInt32(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000_0000 && v <= 0xffff_ffff && Number.isInteger(v)
          ? v
          : _int(v, "i32", f.what),
        true,
      );
    },
  }),
  u32: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint32(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint32(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000_0000 && v <= 0xffff_ffff && Number.isInteger(v)
          ? v
          : _int(v, "u32", f.what),
        true,
      );
    },
  }),
  f32: (off, f) => ({
    get() {
      return liveR(this, f).dv.getFloat32(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setFloat32(this[kO] + off, typeof v === "number" ? v : _float(v, "f32", f.what), true);
    },
  }),
  f64: (off, f) => ({
    get() {
      return liveR(this, f).dv.getFloat64(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setFloat64(this[kO] + off, typeof v === "number" ? v : _float(v, "f64", f.what), true);
    },
  }),
  i64: (off, f) => ({
    get() {
      return liveR(this, f).dv.getBigInt64(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setBigInt64(this[kO] + off, _int64(v, "i64", f.what, true), true);
    },
  }),
  u64: (off, f) => ({
    get() {
      return liveR(this, f).dv.getBigUint64(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setBigUint64(this[kO] + off, _int64(v, "u64", f.what, false), true);
    },
  }),
  bool: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint8(this[kO] + off) !== 0;
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint8(this[kO] + off, (typeof v === "boolean" ? v : _bool(v, f.what)) ? 1 : 0);
    },
  }),
};
SCALAR.isize = (off, f) => ({
  get() {
    return liveR(this, f).dv.getBigInt64(this[kO] + off, true);
  },
  set(v) {
    const c = liveW(this, f);
    c.dv.setBigInt64(this[kO] + off, _int64(v, "isize", f.what, true), true);
  },
});
SCALAR.usize = (off, f) => ({
  get() {
    return liveR(this, f).dv.getBigUint64(this[kO] + off, true);
  },
  set(v) {
    const c = liveW(this, f);
    c.dv.setBigUint64(this[kO] + off, _int64(v, "usize", f.what, false), true);
  },
});

/** Pointer and string fields: through their codec (they allocate a RawPointer or a string anyway). */
function codecAccessor(off: number, f: FieldInfo): Accessor {
  const codec = f.codec;
  return {
    get() {
      return codec.read(liveR(this, f), null, this[kO] + off);
    },
    set(v) {
      codec.write(liveW(this, f), null, this[kO] + off, v, f.what);
    },
  };
}

function arrayAccessor(off: number, f: FieldInfo): Accessor {
  const elem = _elemOf(f.def ?? f.prim!);
  const n = f.length!;
  return {
    get() {
      const c = liveR(this, f);
      const sub = this[kSub] ??= [];
      return sub[f.index] ??= _makeTyped(elem, c, this[kO] + off, this[kM], this[kLo], this[kHi], n);
    },
    set(v) {
      writeArray(liveW(this, f), this[kO] + off, f, v, f.what);
    },
  };
}

function nestedAccessor(off: number, f: FieldInfo): Accessor {
  const def = f.def!;
  return {
    get() {
      const c = liveR(this, f);
      const sub = this[kSub] ??= [];
      return sub[f.index] ??= _makeView(def, c, this[kO] + off, this[kM], this[kLo], this[kHi]);
    },
    set(v) {
      writeStruct(def, liveW(this, f), this[kO] + off, v, f.what);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Whole-struct and whole-array copies (plain objects in and out)

function readStruct(def: StructDefinition, c: Chunk, o: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fieldsOf(def)) {
    const at = o + f.offset;
    let v: unknown;
    if (f.length !== undefined) {
      const arr = new Array(f.length);
      const stride = f.codec.size;
      for (let i = 0; i < f.length; i++) {
        arr[i] = f.def !== null
          ? readStruct(f.def, c, at + i * stride)
          : f.codec.read(c, null, at + i * stride);
      }
      v = arr;
    } else {
      v = f.def !== null ? readStruct(f.def, c, at) : f.codec.read(c, null, at);
    }
    // A field may be called `__proto__`: define it rather than assign it.
    Object.defineProperty(out, f.name, { value: v, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

function writeStruct(def: StructDefinition, c: Chunk, o: number, v: unknown, what: string): void {
  if (_isView(v)) {
    const src = v as Slots;
    if (src[kDef] === def) return copyBytes(c, o, src[kC], src[kO], def.size, what);
  } else if (typeof v !== "object" || v === null) {
    throw new TypeError(
      `Cannot write ${_describe(v)} to ${what}: expected a plain object with the fields ${
        def.fields().join(", ")
      }`,
    );
  }
  const obj = v as Record<string, unknown>;
  for (const f of fieldsOf(def)) {
    const fv = obj[f.name];
    const fwhat = `${what}.${f.name}`;
    if (fv === undefined && !(f.name in obj)) {
      throw new TypeError(`Cannot write ${what}: the object has no field "${f.name}"`);
    }
    if (f.length !== undefined) writeArray(c, o + f.offset, f, fv, fwhat);
    else if (f.def !== null) writeStruct(f.def, c, o + f.offset, fv, fwhat);
    else f.codec.write(c, null, o + f.offset, fv, fwhat);
  }
}

function copyBytes(dst: Chunk, dOff: number, src: Chunk, sOff: number, n: number, what: string): void {
  if (src.freed) throw _freedError(`copy a struct into ${what}`);
  if (src === dst) dst.u8.copyWithin(dOff, sOff, sOff + n);
  else dst.u8.set(new Uint8Array(src.buf, sOff, n), dOff);
}

/**
 * Copies a string (UTF-8 plus NUL, byte arrays only), a TypedPointer or an array-like into an array
 * field. Elements past the source are zeroed, as a C initializer (or `strncpy`) leaves them.
 */
function writeArray(c: Chunk, o: number, f: FieldInfo, v: unknown, what: string): void {
  const n = f.length!;
  const stride = f.codec.size;
  if (typeof v === "string") {
    if (f.prim !== "u8" && f.prim !== "i8") {
      throw new TypeError(`Cannot write a string to ${what}: only i8 and u8 arrays take a string`);
    }
    const bytes = encoder.encode(v);
    if (bytes.length + 1 > n) {
      throw new RangeError(
        `Cannot write ${_describe(v)} to ${what}: it takes ${bytes.length} bytes of UTF-8 plus a NUL, ` +
          `the field holds ${n}`,
      );
    }
    c.u8.set(bytes, o);
    c.u8.fill(0, o + bytes.length, o + n);
    return;
  }
  let len: number;
  let at: (i: number) => unknown;
  if (_isTypedPointer(v)) {
    const tp = v as TypedPointer;
    if (tp.count === undefined) {
      throw new TypeError(`Cannot copy a TypedPointer of unknown count to ${what}: cast it with a count`);
    }
    len = tp.count;
    at = (i) => tp.get(i);
  } else if (typeof v === "object" && v !== null && typeof (v as ArrayLike<unknown>).length === "number") {
    const arr = v as ArrayLike<unknown>;
    len = arr.length;
    at = (i) => arr[i];
  } else {
    throw new TypeError(
      `Cannot write ${_describe(v)} to ${what}: expected an array${
        f.prim === "u8" || f.prim === "i8" ? ", a string" : ""
      } or a TypedPointer`,
    );
  }
  if (len > n) {
    throw new RangeError(`Cannot write ${len} elements to ${what}: the field holds ${n}`);
  }
  // The new contents are built in a scratch copy of the field, then copied in. So the write is all
  // or nothing (a bad element or a freed source leaves the field as it was, instead of half
  // written), and a source that overlaps the field (a TypedPointer into the same memory) is read
  // before any of it is overwritten, as memmove would. The scratch stands in for the chunk: codecs
  // and `writeStruct` only use its `u8`/`dv`/`buf`, and its `owner` (which allocates the copies of
  // JS strings written to pointer elements).
  const scratch = c.u8.slice(o, o + n * stride);
  const tmp = {
    buf: scratch.buffer,
    u8: scratch,
    dv: new DataView(scratch.buffer),
    owner: c.owner,
    freed: false,
  };
  for (let i = 0; i < len; i++) {
    const e = at(i);
    if (f.def !== null) writeStruct(f.def, tmp as Chunk, i * stride, e, `${what}[${i}]`);
    else f.codec.write(tmp as Chunk, null, i * stride, e, `${what}[${i}]`);
  }
  scratch.fill(0, len * stride);
  c.u8.set(scratch, o);
}

// ---------------------------------------------------------------------------------------------------
// The definition

/** The fields of a definition, for this module's copy functions. */
let fieldsOf: (def: StructDefinition) => readonly FieldInfo[];

function fieldError(i: number, name: unknown, msg: string, E: ErrorConstructor = TypeError): Error {
  const who = typeof name === "string" && name !== "" ? `field "${name}"` : `field ${i}`;
  return new E(`ffi.struct(): ${who} ${msg}`);
}

/** A field as parsed, before the layout gives it its offset. */
type ParsedField = { -readonly [K in keyof FieldInfo]: FieldInfo[K] };

function parseField(spec: unknown, i: number): ParsedField {
  if (!Array.isArray(spec) || spec.length < 2 || spec.length > 3) {
    throw new TypeError(
      `ffi.struct(): field ${i} must be [name, type] or [name, type, length], got ${_describe(spec)}`,
    );
  }
  const [name, type, length] = spec as [unknown, unknown, unknown];
  if (typeof name !== "string" || name === "") {
    throw fieldError(i, name, `must have a non-empty string name, got ${_describe(name)}`);
  }
  let prim: PrimitiveName | null = null;
  let def: StructDefinition | null = null;
  let codec: Codec;
  let elemDesc: string;
  if (type instanceof StructDefinition) {
    def = type;
    codec = type[kCodec];
    elemDesc = codec.name;
  } else {
    const info = typeof type === "string" ? _primitive(type) : undefined;
    if (info === undefined) {
      throw fieldError(
        i,
        name,
        `has unknown type ${
          _describe(type)
        }: expected a C type name (i32, f64, pointer, ...) or a struct definition`,
      );
    }
    if (info.name === "void") throw fieldError(i, name, "cannot have type void");
    prim = info.name;
    codec = _codecOf(info.name);
    elemDesc = info.name;
  }
  let count: number | undefined;
  if (length !== undefined) {
    if (typeof length !== "number") {
      throw fieldError(i, name, `has an array length that is not a number: ${_describe(length)}`);
    }
    if (!Number.isInteger(length) || length <= 0) {
      throw fieldError(i, name, `must have a positive integer array length, got ${length}`, RangeError);
    }
    count = length;
  }
  return {
    name,
    index: i,
    offset: 0,
    size: codec.size * (count ?? 1),
    align: codec.align,
    length: count,
    prim,
    def,
    codec,
    what: `field "${name}"`,
    desc: count === undefined ? elemDesc : `${elemDesc}[${count}]`,
  };
}

/**
 * A C struct layout, made by {@linkcode struct}: sizes, alignment and field offsets by the C ABI of
 * the platform. It is also a C type: `sizeof`, `alignof`, `arena.allocType`, `arena.allocArray`,
 * `cast`, `read` and `write` (a plain-object copy) all accept it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Player = ffi.struct([
 *   ["x", "f32"],
 *   ["y", "f32"],
 *   ["health", "i32"],
 *   ["name", "u8", 32],
 * ]);
 * assert.equal(Player.size, 44);
 * assert.equal(Player.offsetOf("health"), 8);
 * assert.deepEqual(Player.fields(), ["x", "y", "health", "name"]);
 * ```
 */
export class StructDefinition<F extends readonly FieldSpec[] = readonly FieldSpec[]> {
  /** Total size in bytes, tail padding included. */
  readonly size: number;
  /** Alignment in bytes: the largest alignment of its fields. */
  readonly alignment: number;
  /** Number of fields. */
  readonly fieldCount: number;
  /**
   * The field list, as given: for type-level use (`StructView<typeof Def.spec>`).
   */
  readonly spec: F;
  #fields: readonly FieldInfo[];
  #byName: Map<string, FieldInfo>;
  #Ctor: ViewCtor;
  #codec: Codec;

  /**
   * Lays out `fields` (see {@linkcode struct}, which is the usual way to call this).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const Tail = new ffi.StructDefinition([["a", "i64"], ["b", "i8"]]);
   * assert.equal(Tail.size, 16);
   * ```
   */
  constructor(fields: F) {
    if (!Array.isArray(fields)) {
      throw new TypeError(`ffi.struct(): expected an array of fields, got ${_describe(fields)}`);
    }
    if (fields.length === 0) throw new TypeError("ffi.struct(): a struct needs at least one field");
    const parsed = fields.map((spec, i) => parseField(spec, i));
    const layout = _layout(parsed);
    const infos: readonly FieldInfo[] = parsed.map((f, i) =>
      Object.freeze({ ...f, offset: layout.offsets[i] })
    );
    const byName = new Map<string, FieldInfo>();
    for (const f of infos) {
      const prev = byName.get(f.name);
      if (prev !== undefined) {
        throw new TypeError(
          `ffi.struct(): duplicate field name "${f.name}" (fields ${prev.index} and ${f.index})`,
        );
      }
      byName.set(f.name, f);
    }
    this.size = layout.size;
    this.alignment = layout.align;
    this.fieldCount = infos.length;
    this.spec = Object.freeze(fields.map((f) => Object.freeze([...f]))) as unknown as F;
    this.#fields = Object.freeze(infos);
    this.#byName = byName;
    this.#Ctor = buildViewClass(this, infos);
    this.#codec = buildCodec(this, infos);
    Object.freeze(this);
  }

  /**
   * The byte offset of a field from the start of the struct. Any string compiles (the field names
   * autocomplete); an unknown field is a `TypeError` naming it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const S = ffi.struct([["a", "i8"], ["b", "f64"]]);
   * assert.equal(S.offsetOf("b"), 8);
   * assert.throws(() => S.offsetOf("c"), /"c"/);
   * ```
   */
  offsetOf(name: FieldName<F> | AnyString): number {
    return this.#field(name, "offsetOf").offset;
  }

  /**
   * The size in bytes of a field (element size × length for an array); an unknown field is a
   * `TypeError` naming it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const S = ffi.struct([["name", "u8", 32]]);
   * assert.equal(S.sizeOf("name"), 32);
   * ```
   */
  sizeOf(name: FieldName<F> | AnyString): number {
    return this.#field(name, "sizeOf").size;
  }

  /**
   * The field names, in declaration order.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(ffi.struct([["x", "f32"], ["y", "f32"]]).fields(), ["x", "y"]);
   * ```
   */
  fields(): FieldName<F>[] {
    return this.#fields.map((f) => f.name);
  }

  /**
   * Reads and writes the whole struct as a plain object, for `read`, `write` and calls.
   * @ignore
   */
  get [kCodec](): Codec {
    return this.#codec;
  }

  #field(name: unknown, method: string): FieldInfo {
    const f = typeof name === "string" ? this.#byName.get(name) : undefined;
    if (f === undefined) {
      throw new TypeError(
        `StructDefinition.${method}(): the struct has no field ${_describe(name)} (fields: ${
          this.#fields.map((x) => x.name).join(", ")
        })`,
      );
    }
    return f;
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `StructDefinition ${this.#codec.name} (size ${this.size}, alignment ${this.alignment})`;
  }

  static {
    fieldsOf = (def) => def.#fields;
    _makeView = (def, c, o, managed, lo, hi) => new def.#Ctor(c, o, managed, lo, hi) as unknown as StructView;
  }
}

function buildViewClass(def: StructDefinition, fields: readonly FieldInfo[]): ViewCtor {
  // A null-prototype prototype: no inherited `toString`, `constructor` or `__proto__` to shadow or be
  // shadowed by a field of that name.
  const proto = Object.create(null) as Slots;
  for (const f of fields) {
    const acc = f.length !== undefined
      ? arrayAccessor(f.offset, f)
      : f.def !== null
      ? nestedAccessor(f.offset, f)
      : (SCALAR[f.prim!] ?? codecAccessor)(f.offset, f);
    Object.defineProperty(proto, f.name, {
      get: acc.get,
      set: acc.set,
      enumerable: true,
      configurable: false,
    });
  }
  Object.defineProperty(proto, kDef, { value: def });
  Object.defineProperty(proto, kToRaw, { value: viewToRaw });
  Object.defineProperty(proto, Symbol.for("Deno.customInspect"), { value: inspectView });
  function View(this: Slots, c: Chunk, o: number, managed: boolean, lo: number, hi: number) {
    this[kC] = c;
    this[kO] = o;
    this[kM] = managed;
    this[kLo] = lo;
    this[kHi] = hi;
    this[kSub] = undefined;
  }
  View.prototype = proto;
  return View as unknown as ViewCtor;
}

function viewToRaw(this: Slots): RawPointer {
  const c = this[kC];
  return this[kM] ? _makeManaged(c, this[kO], this[kLo], this[kHi]) : _rawFromAddr(c.addr + this[kO]);
}

function inspectView(this: Slots, inspect: (v: unknown, o: unknown) => string, options: unknown): string {
  const c = this[kC];
  if (c.freed) return "StructView (freed)";
  return `StructView ${inspect(readStruct(this[kDef], c, this[kO]), options)}`;
}

function buildCodec(def: StructDefinition, fields: readonly FieldInfo[]): Codec {
  const size = def.size;
  return {
    name: `struct { ${fields.map((f) => `${f.name}: ${f.desc}`).join("; ")} }`,
    size,
    align: def.alignment,
    read(c, b, o) {
      if (c === null) return readStruct(def, foreignAt(b, o, size), 0);
      return readStruct(def, c, o);
    },
    write(c, b, o, v, what) {
      if (c === null) return writeStruct(def, foreignAt(b, o, size), 0, v, what);
      writeStruct(def, c, o, v, what);
    },
  };
}

/** A chunk over unmanaged memory at `base + o`, for whole-struct copies. */
function foreignAt(base: Deno.PointerValue, o: number, size: number): Chunk {
  const addr = (base === null ? 0 : _native().lffi_mem_addr(base)) + o;
  if (addr === 0) throw new FfiError(`Cannot access a struct of ${size} bytes at a null pointer`);
  return _foreignChunk(addr, size);
}

/**
 * Defines a C struct layout from a list of fields: `[name, type]` or `[name, type, length]` for a
 * fixed array; a type is a C type name or another definition. Fields are laid out by the C ABI of
 * the platform (natural alignment, padding, tail padding), as a C compiler or `#[repr(C)]` would.
 *
 * Declared `as const`, the definition is precisely typed: its views have exactly its fields, each
 * of the type it reads as, and an unknown field is a compile error. Without `as const` the field
 * names are plain `string`s and its views are loose ({@linkcode LooseStructView}: any property, of
 * type `any`), so every write the run time accepts compiles as written. Type names are checked at
 * run time: an unknown one is a `TypeError` naming it.
 *
 * @example The seed's Player
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Player = ffi.struct([
 *   ["x", "f32"],
 *   ["y", "f32"],
 *   ["health", "i32"],
 *   ["name", "u8", 32], // fixed array
 * ]);
 * assert.equal(Player.size, 44);
 * assert.equal(Player.alignment, 4);
 * assert.equal(Player.offsetOf("health"), 8);
 * assert.equal(Player.sizeOf("name"), 32);
 * ```
 *
 * @example Precise types with `as const`
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]] as const);
 * using arena = ffi.arena();
 * const v = ffi.view(arena.allocType(Vec2), Vec2);
 * v.x = 1.5;
 * const x: number = v.x;
 * // @ts-expect-error: Vec2 has no field "z"
 * v.z;
 * assert.equal(x, 1.5);
 * ```
 *
 * @example Nested structs and arrays of them
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
 * const Path = ffi.struct([["len", "u8"], ["points", Vec2, 4], ["id", "i64"]]);
 * assert.equal(Path.offsetOf("points"), 4);
 * assert.equal(Path.offsetOf("id"), 40);
 * assert.equal(Path.size, 48);
 * ```
 */
export function struct<F extends readonly FieldSpec[]>(fields: F): StructDefinition<F> {
  return new StructDefinition(fields);
}

/**
 * A {@linkcode StructView} of the struct `def` at `ptr`: its properties read and write the fields in
 * place. A view of managed memory is bounds-checked once, here, and dies with its arena (later access
 * throws an {@linkcode FfiError}); a view of unmanaged memory is unchecked, as in C.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
 * using arena = ffi.arena();
 * const ptr = arena.alloc(Player.size);
 * const player = ffi.view(ptr, Player);
 * player.x = 10.5;
 * player.health = 100;
 * player.name = "Ada"; // UTF-8 plus NUL
 * assert.equal(player.health, 100);
 * assert.equal(ptr.read(8, "i32"), 100);
 * assert.equal(player.name[0], 65);
 * ```
 */
export function view<F extends readonly FieldSpec[]>(
  ptr: PointerLike,
  def: StructDefinition<F>,
): StructView<F> {
  const raw = _rawOf(ptr);
  if (raw === null) {
    throw new TypeError(`ffi.view(): expected a pointer, got ${_describe(ptr)}`);
  }
  if (!(def instanceof StructDefinition)) {
    throw new TypeError(`ffi.view(): expected a struct definition, got ${_describe(def)}`);
  }
  return _viewOf(raw, def as StructDefinition) as unknown as StructView<F>;
}

/** A view of `def` at a RawPointer: checked against managed bounds, or over unmanaged memory. @internal */
export function _viewOf(raw: RawPointer, def: StructDefinition): StructView {
  const s = _span(raw);
  if (s.chunk !== null) {
    if (s.off < s.lo || s.off + def.size > s.hi) {
      throw new RangeError(
        `Cannot view a struct of ${def.size} bytes at byte ${s.off - s.lo} of an allocation of ${
          s.hi - s.lo
        } bytes`,
      );
    }
    return _makeView(def, s.chunk, s.off, true, s.lo, s.hi);
  }
  const addr = raw.addr;
  if (addr === 0) throw new FfiError(`Cannot view a struct of ${def.size} bytes at a null pointer`);
  return _makeView(def, _foreignChunk(addr, def.size), 0, false, 0, def.size);
}
