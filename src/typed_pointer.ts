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

import { _foreignChunk, _MAX_VIEW_BYTES, _NULL_PAGE, type Chunk } from "./_chunk.ts";
import { type Codec, kCodec } from "./_codec.ts";
import {
  _checkedGet,
  _checkedSet,
  _indexError,
  _looseOffset,
  _st as st,
  type Elem,
  kState,
  type Slots,
  type State,
} from "./_typed_access.ts";
import { _fastShape } from "./_typed_array_shape.ts";
import { _describe, _has, kDescribe } from "./errors.ts";
import { _codecOf, _makeManaged, _rawFromAddr, _span, kToRaw, type RawPointer } from "./pointer.ts";
import { _primitiveOrThrow, type PrimitiveName } from "./types.ts";

import { _isTypedPointer } from "./_typed_access.ts";
export { _isTypedPointer };

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
  /**
   * Copies the elements of an array-like (an array, a typed array) to element `offset` on (0 when
   * omitted), as `TypedArray.prototype.set` does: for numeric element types the pointer is a typed
   * array, and this is its own `set`; for the others, each element is written as `set(i, v)`.
   * A `RangeError` if they do not fit, writing nothing.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = ffi.cast(arena.alloc(4), "u8");
   * p.set(new TextEncoder().encode("hi"), 1);
   * assert.deepEqual([...p], [0, 104, 105, 0]);
   * ```
   */
  set(array: ArrayLike<unknown>, offset?: number): void;
  set(index: number | ArrayLike<unknown>, value?: unknown): void {
    if (typeof index === "object" && index !== null) return setArray(st(this), index, value);
    _checkedSet(st(this), index as number, value);
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
      throw new TypeError(`TypedPointer.add(): expected an integer element count for n, got ${_describe(n)}`);
    }
    const s = st(this);
    const stride = s.elem.stride;
    const count = s.count === undefined ? undefined : Math.max(0, s.count - n);
    const off = s.off + n * stride;
    if (!Number.isSafeInteger(off)) {
      throw new RangeError(
        `TypedPointer.add(): n ${
          _describe(n)
        } elements of ${stride} bytes take the address out of the safe ` +
          `integers: a number would round it`,
      );
    }
    const c = s.chunk;
    if (c === null) {
      const nullDerived = s.lo === 1 || s.off < _NULL_PAGE;
      return _makeTyped(s.elem, null, off, false, nullDerived ? 1 : 0, 0, count) as TypedPointer<T, I>;
    }
    if (s.managed) return _makeTyped(s.elem, c, off, true, s.lo, s.hi, count) as TypedPointer<T, I>;
    // Unmanaged memory of known count: reuse its buffer while the new range lies inside it.
    if (off >= 0 && off + count! * stride <= c.buf.byteLength) {
      return _makeTyped(s.elem, c, off, false, 0, c.buf.byteLength, count) as TypedPointer<T, I>;
    }
    return _castRaw(_rawFromAddr(c.addr + off), s.elem, count, "TypedPointer.add()") as TypedPointer<T, I>;
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
    if (c === null) return _rawFromAddr(s.off, s.lo === 1);
    return s.managed ? _makeManaged(c, s.off, s.lo, s.hi) : _rawFromAddr(c.addr + s.off);
  }

  /** The RawPointer to element 0: makes a TypedPointer usable wherever a pointer goes. */
  [kToRaw](): RawPointer {
    return this.toRaw();
  }

  /** Short description for error messages (never the elements). */
  [kDescribe](): string {
    const s = st(this);
    return `a ${s.elem.label}(${s.count === undefined ? "unknown count" : `count ${s.count}`})`;
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
      (target as unknown as Slots)[kState] = s;
      return new Proxy(target, s.elem.loose !== null ? numericHandler : checkedHandler);
    };
  }
}

/** `set(arrayLike, offset?)` on the Proxy shape: checked as a whole first, then element by element. */
function setArray(s: State, src: ArrayLike<unknown>, offset: unknown): void {
  const at = offset === undefined ? 0 : offset;
  if (typeof at !== "number" || !Number.isSafeInteger(at) || at < 0) {
    throw new RangeError(
      `TypedPointer.set(): offset must be a non-negative integer, got ${_describe(offset)}`,
    );
  }
  const n = src.length;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`TypedPointer.set(): array must be an array-like, got ${_describe(src)}`);
  }
  if (s.count !== undefined && at + n > s.count) {
    throw new RangeError(
      `TypedPointer.set(): ${n} elements at offset ${at} do not fit in ${s.elem.label} of count ${s.count}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!(i in Object(src))) {
      throw new TypeError(`TypedPointer.set(): array has a hole at index ${i}`);
    }
  }
  for (let i = 0; i < n; i++) _checkedSet(s, at + i, src[i]);
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
    return i === undefined ? Reflect.has(t, p) : _indexError(st(t), i, "get") === null;
  },
};

/** Numeric elements without a typed array: typed-array semantics through the element's codec. */
const numericHandler: ProxyHandler<TypedPointer> = {
  get(t, p, r) {
    const i = numericKey(p);
    if (i === undefined) return Reflect.get(t, p, r);
    const s = st(t);
    const o = _looseOffset(s, i);
    return o === -1 ? undefined : s.elem.codec.read(s.chunk, null, o);
  },
  set(t, p, v, r) {
    const i = numericKey(p);
    if (i === undefined) return Reflect.set(t, p, v, r);
    const s = st(t);
    // As a typed array does: convert first (a BigInt into a 32-bit type throws even out of range).
    const x = s.elem.loose!(v);
    const o = _looseOffset(s, i);
    if (o !== -1) s.elem.codec.write(s.chunk, null, o, x, `element ${i} of ${s.elem.label}`);
    return true;
  },
  has(t, p) {
    const i = numericKey(p);
    return i === undefined ? Reflect.has(t, p) : _looseOffset(st(t), i) !== -1;
  },
};

// ---------------------------------------------------------------------------------------------------
// Element types and construction

const elemCache = new Map<PrimitiveName, Elem>();
const structElems = new WeakMap<object, Elem>();

/**
 * The element info of a C type (name, alias or struct definition).
 * @internal
 * @ignore
 */
export function _elemOf(ctype: unknown, fn?: string): Elem {
  if (typeof ctype === "object" && ctype !== null && _has(ctype, kCodec)) {
    let e = structElems.get(ctype);
    if (e === undefined) {
      const codec = (ctype as { [kCodec]: Codec })[kCodec];
      e = Object.freeze({
        name: codec.name,
        stride: codec.size,
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
  const info = _primitiveOrThrow(ctype, "type", fn, "ctype");
  let e = elemCache.get(info.name);
  if (e === undefined) {
    if (info.name === "void") {
      throw new TypeError(
        `${fn ?? "ffi.cast()"}: cannot make a TypedPointer to void for ctype: it has no size`,
      );
    }
    const fast = _fastShape(info.name, TypedPointer.prototype);
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
 * @ignore
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
    Fast !== null && chunk !== null && chunk.alive() && count !== undefined &&
    off >= lo && off + count * stride <= hi && off % stride === 0 && (chunk.addr + off) % stride === 0
  ) {
    const p = new Fast(chunk.buf, off, count);
    p[kState] = s;
    return p as unknown as TypedPointer;
  }
  return makeProxyPointer(s);
}

/**
 * A TypedPointer of `count` (or an unknown count of) elements of `elem` at `raw`: over the pointer's
 * chunk for managed memory (a `count` must fit in the allocation), else over a chunk built over the
 * unmanaged memory when its size is known and JS can view it, else read natively (first page refused
 * on access).
 * @internal
 * @ignore
 */
export function _castRaw(raw: RawPointer, elem: Elem, count: number | undefined, fn: string): TypedPointer {
  const s = _span(raw, `use ptr in ${fn}`);
  const stride = elem.stride;
  if (s.chunk !== null) {
    const left = s.hi - s.off;
    if (count === undefined) count = Math.max(0, Math.floor(left / stride));
    else if (count * stride > left) {
      throw new RangeError(
        `${fn}: cannot cast to ${count} elements of ${elem.name} (${
          count * stride
        } bytes): the allocation has ${Math.max(0, left)} bytes left`,
      );
    }
    return _makeTyped(elem, s.chunk, s.off, true, s.lo, s.hi, count);
  }
  const addr = raw.addr;
  const nullDerived = addr < _NULL_PAGE || raw._nullDerived();
  if (count === undefined || nullDerived) {
    return _makeTyped(elem, null, addr, false, nullDerived ? 1 : 0, 0, count);
  }
  const size = count * stride;
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(addr + size)) {
    throw new RangeError(
      `${fn}: ${count} elements of ${elem.name} at address ${addr} reach past the end of the address space`,
    );
  }
  // The first page, and memory too large for one JS buffer, are read natively (the first page refused).
  // Memory too large for one JS buffer is read natively.
  if (size > _MAX_VIEW_BYTES) return _makeTyped(elem, null, addr, false, 0, 0, count);
  return _makeTyped(elem, _foreignChunk(addr, size, fn), 0, false, 0, size, count);
}
