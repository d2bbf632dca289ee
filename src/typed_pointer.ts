/**
 * TypedPointer (`T*`): element-wise access to memory, made by {@linkcode cast}.
 *
 * Two shapes share one interface:
 *
 * - **Typed-array pointers.** For a numeric element type (`i8`…`u64`, `isize`, `usize`, `f32`,
 *   `f64`) over memory JS can see whole (an arena allocation, or unmanaged memory of a known count)
 *   at an address aligned for the type, the pointer *is* a typed array: a subclass of the matching
 *   `Int32Array`, `Float64Array`, ... over the memory, whose `length` is the count. Index syntax is then
 *   the engine's own typed-array access, with its conversions and its out-of-range behaviour, at its
 *   speed; and when the arena frees the memory the buffer is detached, so the view becomes empty
 *   instead of touching freed memory. `get`/`set` check the index against `length`, which covers the
 *   count and freed memory in one comparison. The subclass overrides `set(i, v)` (so the typed array's
 *   own `set(array, offset)` is not available on it) and its `Symbol.species` is the base class, so
 *   `subarray`, `slice`, `map` ... return plain typed arrays.
 *   Its `buffer` (and theirs) is the arena's chunk that holds the memory, other allocations included:
 *   code that builds its own views over that buffer is outside the checked API. It still cannot
 *   crash: such views are bounded by the chunk and emptied when the arena frees it. The subclasses
 *   are built in `_typed_array_shape.ts`.
 * - **Proxy pointers**, the fallback: for `bool`, `pointer`, `string` and struct elements, for an
 *   unaligned address, and for unmanaged memory of unknown count (no buffer can be built without a
 *   length). Index syntax goes through a Proxy: `p[i]` is `get(i)` and `p[i] = v` is `set(i, v)` for
 *   non-numeric elements, and for numeric ones it keeps typed-array semantics (C conversion, reads
 *   outside the count give `undefined`, writes there do nothing). It costs a Proxy trap per access.
 *
 * @module
 */

import { Chunk } from "./_chunk.ts";
import { _codecOf, type Codec, kCodec } from "./_codec.ts";
import { _fastShape, type FastCtor } from "./_typed_array_shape.ts";
import { _freedError, FfiError } from "./errors.ts";
import {
  _makeManaged,
  _rawFromAddr,
  _rawOf,
  _span,
  type CType,
  kToRaw,
  type PointerLike,
  type RawPointer,
} from "./pointer.ts";
import { _makeView, StructDefinition } from "./struct.ts";
import type { CInput, CValue, FieldSpec, StructElement, StructInput, StructView } from "./struct_types.ts";
import { _viewOf } from "./struct_view.ts";
import { _describe, _primitiveOrThrow, type PrimitiveName, type TypeName } from "./types.ts";

// ---------------------------------------------------------------------------------------------------
// State

/** The element type of a pointer, resolved once per type. @internal */
export interface Elem {
  /** `i32`, or a struct's description. */
  readonly name: string;
  readonly stride: number;
  readonly codec: Codec;
  readonly def: StructDefinition | null;
  /** The typed-array subclass for numeric types, else null. */
  readonly Fast: FastCtor | null;
  /** Typed-array conversion of a value, for index writes through the Proxy (numeric types only). */
  readonly loose: ((v: unknown) => unknown) | null;
  /** `TypedPointer<i32>`, for messages. */
  readonly label: string;
}

/** Everything a pointer knows; one object per pointer, in a symbol-keyed slot. @internal */
export interface State {
  readonly elem: Elem;
  /**
   * The memory as a JS buffer: an arena chunk, or a chunk built over unmanaged memory of a known
   * count. Null for unmanaged memory of unknown count, read natively at the address `off`.
   */
  readonly chunk: Chunk | null;
  /** Byte offset of element 0 in the chunk, or its address when there is no chunk. */
  readonly off: number;
  /** Whether the chunk is arena memory (its bounds are kept by `toRaw()`). */
  readonly managed: boolean;
  /** The accessible bytes of the chunk: `[lo, hi)`. */
  readonly lo: number;
  readonly hi: number;
  readonly count: number | undefined;
}

/**
 * The slot that holds a pointer's State: a module-local const so that V8 folds it into the code that
 * uses it (an exported binding is a module cell, loaded again on every access); the typed-array shape
 * gets it through `_stateSlot`.
 */
const kS: unique symbol = Symbol("lune-ffi.typedPointer");
/** The slot that holds a pointer's State. @internal */
export const _stateSlot: typeof kS = kS;

/** A pointer of either shape, as its slot. @internal */
export interface Slots {
  [kS]: State;
}

function st(p: unknown): State {
  return (p as Slots)[kS];
}

/** Whether `x` is a TypedPointer (either shape). @internal */
export function _isTypedPointer(x: unknown): boolean {
  return typeof x === "object" && x !== null && kS in x;
}

// ---------------------------------------------------------------------------------------------------
// Checked access, shared by both shapes

function indexError(s: State, i: unknown, verb: string): Error | null {
  if (typeof i !== "number" || !Number.isInteger(i)) {
    return new TypeError(
      `Cannot ${verb} element ${_describe(i)} of ${s.elem.label}: expected an integer index`,
    );
  }
  const c = s.chunk;
  if (c !== null && c.freed) return _freedError(`${verb} element ${i} of ${s.elem.label}`);
  if (c === null && s.off === 0) {
    return new FfiError(`Cannot ${verb} element ${i} of ${s.elem.label}: the pointer is null`);
  }
  if (i < 0 || (s.count !== undefined && i >= s.count)) {
    return new RangeError(
      `Cannot ${verb} element ${i} of ${s.elem.label}: ${
        s.count === undefined ? "the index is negative" : `its count is ${s.count}`
      }`,
    );
  }
  const o = s.off + i * s.elem.stride;
  if (c !== null && (o < s.lo || o + s.elem.stride > s.hi)) {
    return new RangeError(
      `Cannot ${verb} element ${i} of ${s.elem.label}: it lies outside the pointer's allocation`,
    );
  }
  return null;
}

/** Element `i`, checked: the typed-array shape's slow path too. @internal */
export function _checkedGet(s: State, i: number): unknown {
  const err = indexError(s, i, "get");
  if (err !== null) throw err;
  const o = s.off + i * s.elem.stride;
  const def = s.elem.def;
  if (def !== null) {
    return s.chunk !== null
      ? _makeView(def, s.chunk, o, s.managed, s.lo, s.hi)
      : _viewOf(_rawFromAddr(o), def);
  }
  return s.elem.codec.read(s.chunk, null, o);
}

/** Writes element `i`, checked: the typed-array shape's slow path too. @internal */
export function _checkedSet(s: State, i: number, v: unknown): void {
  const err = indexError(s, i, "set");
  if (err !== null) throw err;
  s.elem.codec.write(s.chunk, null, s.off + i * s.elem.stride, v, `element ${i} of ${s.elem.label}`);
}

/** The byte offset of element `i` for index syntax, or -1 where a typed array would have no element. */
function looseOffset(s: State, i: number): number {
  if (!Number.isInteger(i) || i < 0 || (i === 0 && 1 / i < 0)) return -1;
  if (s.count !== undefined && i >= s.count) return -1;
  const c = s.chunk;
  if (c === null) return s.off === 0 ? -1 : s.off + i * s.elem.stride;
  if (c.freed) return -1;
  const o = s.off + i * s.elem.stride;
  return o < s.lo || o + s.elem.stride > s.hi ? -1 : o;
}

/** Builds the Proxy shape; set by TypedPointer's static block, which alone may construct one. */
let makeProxyPointer: (s: State) => TypedPointer;

// ---------------------------------------------------------------------------------------------------
// Members shared by both shapes (installed on the typed-array subclasses from this class)

/**
 * A typed pointer (`T*`): element-wise access with stride arithmetic. Made by {@linkcode cast}.
 *
 * `p[i]` and `p[i] = v` work as written: for numeric element types they behave exactly like the
 * matching JS typed array (C conversion, 64-bit elements as `bigint`, `undefined` outside the count),
 * at typed-array speed; for `bool`, `pointer`, `string` and struct elements they are `get(i)` and
 * `set(i, v)`. `get`/`set` are the checked forms: a `RangeError` outside the count, the value rules of
 * the type, an {@linkcode FfiError} once the memory is freed.
 *
 * `x instanceof TypedPointer` is true of every typed pointer, whichever shape it has (see the module
 * documentation of `src/typed_pointer.ts`).
 *
 * @typeParam T The element type as read.
 * @typeParam I The values a write accepts.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const ints = ffi.cast(arena.alloc(100), "i32");
 * ints[0] = 42;
 * ints.set(1, 100);
 * assert.equal(ints[0], 42);
 * assert.equal(ints.get(1), 100);
 * assert.equal(ints.count, 25);
 * assert.throws(() => ints.get(25), RangeError);
 * ```
 */
export class TypedPointer<T = unknown, I = T> {
  /** Element `index` (index syntax; see the class documentation). */
  [index: number]: T;

  private constructor() {}

  /** The address of element 0, as a number. */
  get addr(): number {
    const s = st(this);
    return s.chunk !== null ? s.chunk.addr + s.off : s.off;
  }

  /** Bytes per element. */
  get stride(): number {
    return st(this).elem.stride;
  }

  /** Whether the address is 0. */
  get isNull(): boolean {
    return this.addr === 0;
  }

  /**
   * The number of elements, when known: from the allocation's bounds for managed memory, from the
   * count given to `cast` otherwise; `undefined` for unmanaged memory cast without a count.
   */
  get count(): number | undefined {
    return st(this).count;
  }

  /**
   * Element `index`, checked: a `RangeError` outside the count, an {@linkcode FfiError} once freed.
   * Struct elements read as a {@linkcode StructView}.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = ffi.cast(arena.allocArray("u64", 2), "u64");
   * p.set(1, 2n ** 64n - 1n);
   * assert.equal(p.get(1), 18446744073709551615n);
   * ```
   */
  get(index: number): T {
    return _checkedGet(st(this), index) as T;
  }

  /**
   * Writes element `index`, checked as `get` is, and the value by the rules of the element type.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = ffi.cast(arena.alloc(4), "u8");
   * p.set(0, -1); // C conversion: stores 255
   * assert.equal(p[0], 255);
   * assert.throws(() => p.set(0, 256), RangeError);
   * assert.throws(() => p.set(0, 1.5), TypeError);
   * ```
   */
  set(index: number, value: I): void;
  /**
   * Writes element `index`: any value compiles, and a value the element type does not take is a
   * run-time error (a `TypeError`, or a `RangeError` for an integer outside the type's range).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = ffi.cast(arena.alloc(4), "i32");
   * assert.throws(() => p.set(0, "7"), TypeError);
   * ```
   */
  set(index: number, value: unknown): void;
  set(index: number, value: unknown): void {
    _checkedSet(st(this), index, value);
  }

  /**
   * A pointer `n` elements further on (`n * stride` bytes; back for a negative `n`); its count is the
   * count left (`count - n`, never below 0) when the count is known. Managed memory stays checked
   * against its allocation, whichever way the pointer moved.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = ffi.cast(arena.allocArray("f64", 4), "f64");
   * p[3] = 2.5;
   * const q = p.add(3);
   * assert.equal(q.addr - p.addr, 24);
   * assert.equal(q.count, 1);
   * assert.equal(q[0], 2.5);
   * ```
   */
  add(n: number): TypedPointer<T, I> {
    if (typeof n !== "number" || !Number.isInteger(n)) {
      throw new TypeError(`Cannot add ${_describe(n)} to a TypedPointer: expected an integer element count`);
    }
    const s = st(this);
    const stride = s.elem.stride;
    const count = s.count === undefined ? undefined : Math.max(0, s.count - n);
    const off = s.off + n * stride;
    const c = s.chunk;
    if (c === null || s.managed) {
      return _makeTyped(s.elem, c, off, s.managed, s.lo, s.hi, count) as TypedPointer<T, I>;
    }
    // Unmanaged memory of known count: reuse its buffer while the new range lies inside it.
    if (off >= 0 && off + count! * stride <= c.buf.byteLength) {
      return _makeTyped(s.elem, c, off, false, 0, c.buf.byteLength, count) as TypedPointer<T, I>;
    }
    return castRaw(_rawFromAddr(c.addr + off), s.elem, count) as TypedPointer<T, I>;
  }

  /**
   * The RawPointer to element 0 (with the allocation's bounds, for managed memory).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const raw = arena.alloc(8);
   * const p = ffi.cast(raw, "i32");
   * assert.equal(p.toRaw().addr, raw.addr);
   * assert.equal(p.toRaw().isManaged, true);
   * ```
   */
  toRaw(): RawPointer {
    const s = st(this);
    const c = s.chunk;
    if (c === null) return _rawFromAddr(s.off);
    return s.managed ? _makeManaged(c, s.off, s.lo, s.hi) : _rawFromAddr(c.addr + s.off);
  }

  /** The RawPointer to element 0: makes a TypedPointer usable wherever a pointer goes. */
  [kToRaw](): RawPointer {
    return this.toRaw();
  }

  /** True of both shapes of typed pointer. */
  static [Symbol.hasInstance](x: unknown): boolean {
    return _isTypedPointer(x);
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    const s = st(this);
    const state = s.chunk === null
      ? "unmanaged"
      : s.chunk.freed
      ? "freed"
      : s.managed
      ? "managed"
      : "unmanaged";
    const count = s.count === undefined ? "unknown count" : `count ${s.count}`;
    return `${s.elem.label}(0x${this.addr.toString(16)}, ${count}, ${state})`;
  }

  static {
    makeProxyPointer = (s) => {
      const target = new TypedPointer();
      (target as unknown as Slots)[kS] = s;
      return new Proxy(target, s.elem.loose !== null ? numericHandler : checkedHandler);
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Proxy shape

/** The number a property key stands for when it is a canonical numeric string, as typed arrays see it. */
function numericKey(p: string | symbol): number | undefined {
  if (typeof p !== "string") return undefined;
  const c = p.charCodeAt(0);
  // Digits, "-", "Infinity", "NaN": cheap rejection of every ordinary property name.
  if (!((c >= 48 && c <= 57) || c === 45 || c === 73 || c === 78)) return undefined;
  const n = Number(p);
  return String(n) === p || p === "-0" ? n : undefined;
}

/** Non-numeric elements: `p[i]` is `get(i)`, `p[i] = v` is `set(i, v)`. */
const checkedHandler: ProxyHandler<TypedPointer> = {
  get(t, p, r) {
    const i = numericKey(p);
    return i === undefined ? Reflect.get(t, p, r) : _checkedGet(st(t), i);
  },
  set(t, p, v, r) {
    const i = numericKey(p);
    if (i === undefined) return Reflect.set(t, p, v, r);
    _checkedSet(st(t), i, v);
    return true;
  },
  has(t, p) {
    const i = numericKey(p);
    return i === undefined ? Reflect.has(t, p) : indexError(st(t), i, "get") === null;
  },
};

/** Numeric elements without a typed array: typed-array semantics through the element's codec. */
const numericHandler: ProxyHandler<TypedPointer> = {
  get(t, p, r) {
    const i = numericKey(p);
    if (i === undefined) return Reflect.get(t, p, r);
    const s = st(t);
    const o = looseOffset(s, i);
    return o === -1 ? undefined : s.elem.codec.read(s.chunk, null, o);
  },
  set(t, p, v, r) {
    const i = numericKey(p);
    if (i === undefined) return Reflect.set(t, p, v, r);
    const s = st(t);
    // As a typed array does: convert first (a BigInt into a 32-bit type throws even out of range).
    const x = s.elem.loose!(v);
    const o = looseOffset(s, i);
    if (o !== -1) s.elem.codec.write(s.chunk, null, o, x, `element ${i} of ${s.elem.label}`);
    return true;
  },
  has(t, p) {
    const i = numericKey(p);
    return i === undefined ? Reflect.has(t, p) : looseOffset(st(t), i) !== -1;
  },
};

// ---------------------------------------------------------------------------------------------------
// Element types and construction

const elemCache = new Map<PrimitiveName, Elem>();
const structElems = new WeakMap<StructDefinition, Elem>();

/** The element info of a C type (name, alias or struct definition). @internal */
export function _elemOf(ctype: unknown): Elem {
  if (ctype instanceof StructDefinition) {
    let e = structElems.get(ctype);
    if (e === undefined) {
      const codec = ctype[kCodec];
      e = Object.freeze({
        name: codec.name,
        stride: ctype.size,
        codec,
        def: ctype,
        Fast: null,
        loose: null,
        label: "TypedPointer<struct>",
      });
      structElems.set(ctype, e);
    }
    return e;
  }
  const info = _primitiveOrThrow(ctype);
  let e = elemCache.get(info.name);
  if (e === undefined) {
    if (info.name === "void") throw new TypeError("Cannot make a TypedPointer to void: it has no size");
    const fast = _fastShape(info.name);
    e = Object.freeze({
      name: info.name,
      stride: info.size,
      codec: _codecOf(info.name),
      def: null,
      Fast: fast === undefined ? null : fast.Fast,
      loose: fast === undefined ? null : fast.loose,
      label: `TypedPointer<${info.name}>`,
    });
    elemCache.set(info.name, e);
  }
  return e;
}

/**
 * A TypedPointer over `chunk` (or at the address `off` when `chunk` is null): the typed-array shape
 * when it can be, else the Proxy shape.
 * @internal
 */
export function _makeTyped(
  elem: Elem,
  chunk: Chunk | null,
  off: number,
  managed: boolean,
  lo: number,
  hi: number,
  count: number | undefined,
): TypedPointer {
  const s: State = { elem, chunk, off, managed, lo, hi, count };
  const Fast = elem.Fast;
  const stride = elem.stride;
  if (
    Fast !== null && chunk !== null && !chunk.freed && count !== undefined &&
    off >= lo && off + count * stride <= hi && off % stride === 0 && (chunk.addr + off) % stride === 0
  ) {
    const p = new Fast(chunk.buf, off, count);
    p[kS] = s;
    return p as unknown as TypedPointer;
  }
  return makeProxyPointer(s);
}

/** A chunk over `size` bytes of unmanaged memory at `addr`, so JS can reach it through views. @internal */
export function _foreignChunk(addr: number, size: number): Chunk {
  const p = Deno.UnsafePointer.create(BigInt(addr))!;
  const buf = size === 0 ? new ArrayBuffer(0) : Deno.UnsafePointerView.getArrayBuffer(p, size);
  return new Chunk(buf, p, null);
}

function castRaw(raw: RawPointer, elem: Elem, count: number | undefined): TypedPointer {
  const s = _span(raw);
  const stride = elem.stride;
  if (s.chunk !== null) {
    const left = s.hi - s.off;
    if (count === undefined) count = Math.max(0, Math.floor(left / stride));
    else if (count * stride > left) {
      throw new RangeError(
        `Cannot cast to ${count} elements of ${elem.name} (${count * stride} bytes): the allocation has ${
          Math.max(0, left)
        } bytes left`,
      );
    }
    return _makeTyped(elem, s.chunk, s.off, true, s.lo, s.hi, count);
  }
  const addr = raw.addr;
  if (count === undefined || addr === 0) return _makeTyped(elem, null, addr, false, 0, 0, count);
  const size = count * stride;
  return _makeTyped(elem, _foreignChunk(addr, size), 0, false, 0, size, count);
}

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
): TypedPointer<CValue<N>, CInput<N>>;
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
  const raw = _rawOf(ptr);
  if (raw === null) throw new TypeError(`ffi.cast(): expected a pointer, got ${_describe(ptr)}`);
  if (ctype instanceof StructDefinition && count === undefined) return _viewOf(raw, ctype);
  const elem = _elemOf(ctype);
  if (count !== undefined) {
    if (typeof count !== "number") {
      throw new TypeError(`ffi.cast(): count must be a number, got ${_describe(count)}`);
    }
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`ffi.cast(): count must be a non-negative integer, got ${count}`);
    }
  }
  return castRaw(raw, elem, count);
}
