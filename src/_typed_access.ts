/**
 * What every TypedPointer holds (its {@linkcode State}) and the checked element access both of its
 * shapes share: `get(i)`/`set(i, v)` and the typed-array semantics of index syntax on the Proxy
 * shape. Below both shapes (`_typed_array_shape.ts`, `typed_pointer.ts`), which build on it.
 *
 * @module
 */

import { _foreignChunk, _NULL_PAGE, type Chunk } from "./_chunk.ts";
import type { Codec } from "./_codec.ts";
import { _describe, FfiError } from "./errors.ts";

/**
 * The typed-array subclass of a numeric element type, over `n` elements at byte `off` of `buf`.
 * @internal
 * @ignore
 */
export type FastCtor = new (buf: ArrayBuffer, off: number, n: number) => FastThis;

/**
 * What the typed-array subclasses' methods see as `this`.
 * @internal
 * @ignore
 */
export interface FastThis extends Slots {
  readonly length: number;
  [i: number]: number | bigint;
}

/**
 * The element type of a pointer, resolved once per type.
 * @internal
 * @ignore
 */
export interface Elem {
  /** `i32`, or a struct's description. */
  readonly name: string;
  readonly stride: number;
  /** The codec of one element; a struct codec (with `makeView`) for struct elements. */
  readonly codec: Codec;
  /** The struct definition of struct elements, else null. */
  readonly def: object | null;
  /** The typed-array subclass for numeric types, else null. */
  readonly Fast: FastCtor | null;
  /** Typed-array conversion of a value, for index writes through the Proxy (numeric types only). */
  readonly loose: ((v: unknown) => unknown) | null;
  /** `TypedPointer<i32>`, for messages. */
  readonly label: string;
}

/**
 * Everything a pointer knows; one object per pointer, in a symbol-keyed slot.
 * @internal
 * @ignore
 */
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
  /**
   * The accessible bytes of the chunk: `[lo, hi)`. Without a chunk, `lo` is 1 when the pointer was
   * computed from one on the first page (every access through it is refused), else 0.
   */
  readonly lo: number;
  readonly hi: number;
  readonly count: number | undefined;
}

/** The slot that holds a pointer's State (used off the hot paths only: see the typed-array shape). */
export const kState: unique symbol = Symbol("lune-ffi.typedPointer");

/**
 * A pointer of either shape, as its slot.
 * @internal
 * @ignore
 */
export interface Slots {
  [kState]: State;
}

/**
 * The State of a pointer of either shape.
 * @internal
 * @ignore
 */
export function _st(p: unknown): State {
  return (p as Slots)[kState];
}

/**
 * Whether `x` is a TypedPointer (either shape).
 * @internal
 * @ignore
 */
export function _isTypedPointer(x: unknown): boolean {
  return typeof x === "object" && x !== null && kState in x;
}

/**
 * Why element `i` cannot be reached through checked access, or null when it can.
 * @internal
 * @ignore
 */
export function _indexError(s: State, i: unknown, verb: string): Error | null {
  if (typeof i !== "number" || !Number.isInteger(i)) {
    return new TypeError(
      `TypedPointer.${verb}(): cannot ${verb} element ${
        _describe(i)
      } of ${s.elem.label}: expected an integer index`,
    );
  }
  const c = s.chunk;
  if (c !== null && !c.alive()) return c.deadError(`${verb} element ${i} of ${s.elem.label}`) as Error;
  if (c === null && (s.off < _NULL_PAGE || s.lo === 1)) {
    return new FfiError(
      `TypedPointer.${verb}(): cannot ${verb} element ${i} of ${s.elem.label}: ${
        s.off === 0 ? "the pointer is null" : `address ${s.off} is a null pointer access`
      }`,
    );
  }
  if (i < 0 || (s.count !== undefined && i >= s.count)) {
    return new RangeError(
      `TypedPointer.${verb}(): cannot ${verb} element ${i} of ${s.elem.label}: ${
        s.count === undefined ? "the index is negative" : `its count is ${s.count}`
      }`,
    );
  }
  const o = s.off + i * s.elem.stride;
  if (c !== null && (o < s.lo || o + s.elem.stride > s.hi)) {
    return new RangeError(
      `TypedPointer.${verb}(): cannot ${verb} element ${i} of ${s.elem.label}: it lies outside the pointer's allocation`,
    );
  }
  if (c === null && !Number.isSafeInteger(o + s.elem.stride)) {
    return new RangeError(
      `TypedPointer.${verb}(): cannot ${verb} element ${i} of ${s.elem.label}: its address is out of range`,
    );
  }
  return null;
}

/**
 * Element `i`, checked: the typed-array shape's slow path too.
 * @internal
 * @ignore
 */
export function _checkedGet(s: State, i: number): unknown {
  const err = _indexError(s, i, "get");
  if (err !== null) throw err;
  const o = s.off + i * s.elem.stride;
  const codec = s.elem.codec;
  if (codec.makeView !== undefined) {
    return s.chunk !== null ? codec.makeView(s.chunk, o, s.managed, s.lo, s.hi) : codec.makeView(
      _foreignChunk(o, s.elem.stride, `get element ${i} of ${s.elem.label}`),
      0,
      false,
      0,
      s.elem.stride,
    );
  }
  return codec.read(s.chunk, null, o);
}

/**
 * Writes element `i`, checked: the typed-array shape's slow path too.
 * @internal
 * @ignore
 */
export function _checkedSet(s: State, i: number, v: unknown): void {
  const err = _indexError(s, i, "set");
  if (err !== null) throw err;
  const c = s.chunk;
  const what = `value of TypedPointer.set() element ${i} of ${s.elem.label}`;
  try {
    s.elem.codec.write(c, null, s.off + i * s.elem.stride, v, what);
  } catch (e) {
    throw c !== null ? c.deadError(`set ${what}`, e) : e;
  }
}

/**
 * The byte offset of element `i` for index syntax, or -1 where a typed array would have no element.
 * @internal
 * @ignore
 */
export function _looseOffset(s: State, i: number): number {
  if (!Number.isInteger(i) || i < 0 || (i === 0 && 1 / i < 0)) return -1;
  if (s.count !== undefined && i >= s.count) return -1;
  const c = s.chunk;
  if (c === null) {
    const o = s.off + i * s.elem.stride;
    return s.off < _NULL_PAGE || s.lo === 1 || !Number.isSafeInteger(o + s.elem.stride) ? -1 : o;
  }
  if (!c.alive()) return -1;
  const o = s.off + i * s.elem.stride;
  return o < s.lo || o + s.elem.stride > s.hi ? -1 : o;
}
