/**
 * The typed-array shape of a {@linkcode TypedPointer}: for each numeric element type, a subclass of
 * the matching typed array (`Int32Array`, `BigUint64Array`, ...) that carries the members both
 * shapes share, copied from TypedPointer's prototype, and checked `get`/`set` whose fast path is the
 * typed array's own index access (see the module documentation of `typed_pointer.ts`).
 *
 * @module
 */

import { _checkedGet, _checkedSet, _st, type FastCtor, type FastThis } from "./_typed_access.ts";
import { kToRaw } from "./pointer.ts";
import type { PrimitiveName } from "./types.ts";
import { _charsToString } from "./_chars.ts";
import { _describe } from "./errors.ts";

type TypedArrayCtor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

interface FastMethods {
  get(this: FastThis, i: number): unknown;
  set(this: FastThis, i: number, v: unknown): void;
}

const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

/** A valid 64-bit input, as the bigint a BigInt64Array/BigUint64Array store takes; else null. */
function big(v: unknown): bigint | null {
  if (typeof v === "bigint") return v >= I64_MIN && v <= U64_MAX ? v : null;
  return Number.isSafeInteger(v) ? BigInt(v as number) : null;
}

/** What a fast `set` throws to reach its slow path (see the FAST table). */
const BAD = 0;

function slowGet(p: FastThis, i: number): unknown {
  return _checkedGet(_st(p), i);
}

const typedArraySet = Object.getPrototypeOf(Int8Array.prototype).set as (
  this: unknown,
  src: ArrayLike<unknown>,
  offset?: number,
) => void;

/** `set(i, v)` off its fast path, and the typed-array `set(arrayLike, offset?)`. */
function slowSet(p: FastThis, i: unknown, v: unknown): void {
  if (typeof i === "object" && i !== null) {
    const s = _st(p);
    if (s.chunk !== null) s.chunk.check(`set elements of ${s.elem.label}`);
    try {
      typedArraySet.call(p, i as ArrayLike<unknown>, v as number | undefined);
    } catch (e) {
      // V8's own messages ("offset is out of bounds") name neither the method nor the values.
      // Anything else was thrown reading the array (a getter, a Proxy trap): not an array we can copy.
      const E = e instanceof RangeError ? RangeError : TypeError;
      throw new E(
        `TypedPointer.set(): cannot copy array ${_describe(i)} at offset ${
          _describe(v)
        } into ${s.elem.label}` +
          `${s.count === undefined ? "" : ` of count ${s.count}`}: ${
            e instanceof Error ? e.message : _describe(e)
          }`,
        { cause: e },
      );
    }
    return;
  }
  _checkedSet(_st(p), i as number, v);
}

// Each type's methods are their own function literals, so every `this[i]` site sees one typed-array
// class and V8 keeps it monomorphic. In `get`, `this[i] !== undefined` is the whole index check: a
// typed array reads `undefined` for non-integers and negatives, the count, and freed memory (a
// detached buffer has length 0); anything it rejects goes to the checked path, which says which
// error it is. (Comparing with `this.length` instead measured 2.6x an Int32Array store, the load 2.0x.)
//
// In the integer `set`s the value check is folded into that same index: `w` is the value as the
// element type stores it, and when it differs from `v` (a fraction, NaN, out of range, not a number,
// or an in-range value of the other signedness, which the checked path accepts) the index becomes -1,
// which the typed array refuses like any bad index. A separate `if` on the value measured 2.1x an
// Int32Array store with the pointer read from an array (V8 no longer hoisted the loop's checks); this
// form 1.06x. There is no `typeof v` test before the conversion: in the code V8 makes for a loop by
// on-stack replacement it kept the value boxed (1.7x there; without it 1.2x). So an object passed as
// the value has its `valueOf` called once before the TypeError; the index is tested first, so an
// object index is never converted.
const FAST: Record<string, readonly [TypedArrayCtor, FastMethods]> = {
  i8: [Int8Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      if (typeof i === "number") {
        try {
          const w = ((v as number) << 24) >> 24;
          const j = w === v ? i : -1;
          if (this[j] !== undefined) {
            this[j] = w;
            return;
          }
        } catch {
          // a value with no number (a bigint, a symbol): the checked path says so
        }
      }
      slowSet(this, i, v);
    },
  }],
  u8: [Uint8Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      if (typeof i === "number") {
        try {
          const w = (v as number) & 0xff;
          const j = w === v ? i : -1;
          if (this[j] !== undefined) {
            this[j] = w;
            return;
          }
        } catch {
          // a value with no number (a bigint, a symbol): the checked path says so
        }
      }
      slowSet(this, i, v);
    },
  }],
  i16: [Int16Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      if (typeof i === "number") {
        try {
          const w = ((v as number) << 16) >> 16;
          const j = w === v ? i : -1;
          if (this[j] !== undefined) {
            this[j] = w;
            return;
          }
        } catch {
          // a value with no number (a bigint, a symbol): the checked path says so
        }
      }
      slowSet(this, i, v);
    },
  }],
  u16: [Uint16Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      if (typeof i === "number") {
        try {
          const w = (v as number) & 0xffff;
          const j = w === v ? i : -1;
          if (this[j] !== undefined) {
            this[j] = w;
            return;
          }
        } catch {
          // a value with no number (a bigint, a symbol): the checked path says so
        }
      }
      slowSet(this, i, v);
    },
  }],
  i32: [Int32Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      if (typeof i === "number") {
        try {
          const w = (v as number) | 0;
          const j = w === v ? i : -1;
          if (this[j] !== undefined) {
            this[j] = w;
            return;
          }
        } catch {
          // a value with no number (a bigint, a symbol): the checked path says so
        }
      }
      slowSet(this, i, v);
    },
  }],
  u32: [Uint32Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      if (typeof i === "number") {
        try {
          const w = (v as number) >>> 0;
          const j = w === v ? i : -1;
          if (this[j] !== undefined) {
            this[j] = w;
            return;
          }
        } catch {
          // a value with no number (a bigint, a symbol): the checked path says so
        }
      }
      slowSet(this, i, v);
    },
  }],
  f32: [Float32Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      try {
        if (!(typeof i === "number" && this[i] !== undefined && typeof v === "number")) throw BAD;
        this[i] = v;
      } catch {
        slowSet(this, i, v);
      }
    },
  }],
  f64: [Float64Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      try {
        if (!(typeof i === "number" && this[i] !== undefined && typeof v === "number")) throw BAD;
        this[i] = v;
      } catch {
        slowSet(this, i, v);
      }
    },
  }],
  i64: [BigInt64Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      const b = (i >>> 0) === i && i < this.length ? big(v) : null;
      if (b !== null) this[i] = b;
      else slowSet(this, i, v);
    },
  }],
  u64: [BigUint64Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      const b = (i >>> 0) === i && i < this.length ? big(v) : null;
      if (b !== null) this[i] = b;
      else slowSet(this, i, v);
    },
  }],
  isize: [BigInt64Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      const b = (i >>> 0) === i && i < this.length ? big(v) : null;
      if (b !== null) this[i] = b;
      else slowSet(this, i, v);
    },
  }],
  usize: [BigUint64Array, {
    get(i) {
      // One load: a typed array gives `undefined` for any number that is not an index inside it
      // (fractions, negatives, the count, a detached buffer); the slow path throws the right error.
      // The kind test comes first so that an object index is never converted (its toString runs).
      if (typeof i !== "number") throw slowGet(this, i);
      const v = this[i];
      if (v === undefined) throw slowGet(this, i);
      return v;
    },
    set(i, v) {
      const b = (i >>> 0) === i && i < this.length ? big(v) : null;
      if (b !== null) this[i] = b;
      else slowSet(this, i, v);
    },
  }],
};

/** The members both shapes share, copied from TypedPointer's prototype onto each subclass. */
const SHARED = [
  "addr",
  "stride",
  "isNull",
  "count",
  "add",
  "toRaw",
  kToRaw,
  Symbol.for("Deno.customInspect"),
  Symbol.for("lune-ffi.describe"),
];

function fastClass(Base: TypedArrayCtor, methods: FastMethods, shared: object): FastCtor {
  const B = Base as unknown as new (buf: ArrayBuffer, off: number, n: number) => object;
  const C = class extends B {
    // Typed-array methods that build a new array (subarray, slice, map, ...) build a plain one.
    static get [Symbol.species](): TypedArrayCtor {
      return Base;
    }
  };
  const proto = C.prototype;
  for (const key of SHARED) {
    Object.defineProperty(proto, key, Object.getOwnPropertyDescriptor(shared, key)!);
  }
  Object.defineProperties(proto, Object.getOwnPropertyDescriptors(methods));
  return C as unknown as FastCtor;
}

/** Typed-array conversion of one value, through a one-element array of the type. */
function looseOf(Base: TypedArrayCtor): (v: unknown) => unknown {
  const one = new Base(1) as unknown as { [i: number]: unknown };
  return (v) => {
    one[0] = v;
    return one[0];
  };
}

/**
 * The typed-array subclass of a numeric element type, with the members of `shared` (TypedPointer's
 * prototype) that it does not define itself, and its typed-array conversion of one value; undefined
 * for the other types, which take the Proxy shape.
 * @internal
 * @ignore
 */
export function _fastShape(
  name: PrimitiveName,
  shared: object,
): { readonly Fast: FastCtor; readonly loose: (v: unknown) => unknown } | undefined {
  const fast = FAST[name];
  if (fast === undefined) return undefined;
  const Fast = fastClass(fast[0], fast[1], shared);
  // A char array is text: `${u.sysname}` is "Linux", not 65 numbers.
  if (name === "i8" || name === "u8") {
    Object.defineProperty(Fast.prototype, "toString", { value: _charsToString });
  }
  return { Fast, loose: looseOf(fast[0]) };
}
