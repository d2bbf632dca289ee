/**
 * Struct views: {@linkcode view} reads and writes a struct in place.
 *
 * Each definition has its own view class (built once, by {@linkcode StructDefinition}'s
 * constructor) whose prototype holds a getter and a setter per field, specialised by the field's
 * type, so reading `view.health` is one getter call that loads one value through the memory's
 * DataView, with no lookup by name.
 *
 * Assigning to a field copies into it: a string into an `i8`/`u8` array writes its UTF-8 and a NUL
 * and zeroes the rest of the array (a `RangeError`, writing nothing, if it does not fit); an array, a
 * typed array or a TypedPointer into an array field copies its elements and zeroes the rest (a
 * `RangeError` if it is longer; all or nothing: a bad element writes none of them, and a TypedPointer
 * that overlaps the field is copied as `memmove` would); a plain object (or any view with the same
 * field names) into a nested struct copies every field, and a view of the same definition copies its
 * bytes. Those array and nested writes are the whole-struct copies of `_struct_codec.ts`.
 *
 * @module
 */

import { _readBits, _writeBits } from "./_bitfield.ts";
import { _foreignChunk, type Chunk } from "./_chunk.ts";
import { kCodec } from "./_codec.ts";
import {
  _readStruct,
  _writeArray,
  _writeStruct,
  type FieldInfo,
  kViewSource,
  type StructCodec,
  type ViewSource,
} from "./_struct_codec.ts";
import { _bool, _float, _int, _int64 } from "./_values.ts";
import { _argMessage, _describe, _has, FfiError, kDescribe } from "./errors.ts";
import {
  _makeManaged,
  _rawFromAddr,
  _rawOfArg,
  _span,
  kToRaw,
  type PointerLike,
  type RawPointer,
} from "./pointer.ts";
import type { FieldSpec, StructView } from "./struct_types.ts";
import { _elemOf, _makeTyped } from "./typed_pointer.ts";
import type { StructType } from "./pointer.ts";
import type { PrimitiveName } from "./types.ts";

/** What a setter throws for a value its fast path does not take (see `refused`). */
const BAD = 0;
const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------------
// View slots

// Slots of a view: symbol-keyed, so a view's only string-keyed properties are its fields.
//
// They are module-local consts on purpose: V8 folds such a const into the accessors that use it, while
// an exported binding lives in a module cell that optimised code loads again on every access (field
// reads and writes measured 5x slower when `kC`/`kO` were exported). The codec's same-definition byte
// copy gets them through the `[kViewSource]()` method instead.

const kC: unique symbol = Symbol("lune-ffi.view.chunk");
/** The chunk's DataView, one load nearer for the setters. */
const kDV: unique symbol = Symbol("lune-ffi.view.dv");
const kO: unique symbol = Symbol("lune-ffi.view.offset");
const kM: unique symbol = Symbol("lune-ffi.view.managed");
const kLo: unique symbol = Symbol("lune-ffi.view.lo");
const kHi: unique symbol = Symbol("lune-ffi.view.hi");
/** Array and nested fields' views, built on first read and reused. */
const kSub: unique symbol = Symbol("lune-ffi.view.sub");
/** On each definition's view prototype: the definition's codec. */
const kDef: unique symbol = Symbol("lune-ffi.view.def");

/**
 * The slots of a view.
 * @internal
 * @ignore
 */
export interface Slots {
  [kC]: Chunk;
  [kDV]: DataView;
  [kO]: number;
  [kM]: boolean;
  [kLo]: number;
  [kHi]: number;
  [kSub]: unknown[] | undefined;
  [kDef]: StructCodec;
}

/**
 * A definition's view class.
 * @internal
 * @ignore
 */
export type ViewCtor = new (c: Chunk, o: number, managed: boolean, lo: number, hi: number) => Slots;

/**
 * Whether `x` is a StructView (of any definition).
 * @internal
 * @ignore
 */
export function _isView(x: unknown): boolean {
  return typeof x === "object" && x !== null && kViewSource in x;
}

// ---------------------------------------------------------------------------------------------------
// Accessors: one pair per field, specialised by type so each getter is a single DataView call.

interface Accessor {
  get(this: Slots): unknown;
  set(this: Slots, v: unknown): void;
}

// Liveness: the scalar accessors make no check of their own. A dead chunk's buffer is detached, the
// DataView refuses it, and `dead` turns that refusal into the freed-memory error (see `_chunk.ts`);
// any other error (a bad value) passes through it unchanged.

function dead(c: Chunk, f: FieldInfo, verb: string, e: unknown): unknown {
  return c.deadError(`${verb} ${f.what}`, e);
}

/** The chunk of a view, checked alive: for the accessors that do more than one DataView access. */
function liveR(v: Slots, f: FieldInfo): Chunk {
  const c = v[kC];
  c.check(`read ${f.what}`);
  return c;
}

function liveW(v: Slots, f: FieldInfo): Chunk {
  const c = v[kC];
  c.check(`write ${f.what}`);
  return c;
}

// Each entry is its own function literal, so each accessor's DataView call site only ever sees one
// method and stays monomorphic. Nothing on the hot path calls out: a getter is one DataView load. An
// integer setter checks the value with no branch on it (as `RawPointer.write` does): the value becomes
// a number (NaN for anything else), each test a 0 or 1, and a refused value makes the index -1, which
// the DataView refuses; the store gets the value converted (`n | 0`), so its call site never meets a
// kind of number it did not expect. The catch (which also gets the DataView's refusal of dead memory)
// asks `refused` which it was. With a branch on the value (a sentinel thrown, or a call to a checking
// function) a field write measured 3-8 times a DataView's when the view came from an array.
const SCALAR: Partial<Record<PrimitiveName, (off: number, f: FieldInfo) => Accessor>> = {
  i8: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getInt8(this[kO] + off);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        const n = typeof v === "number" ? v : NaN;
        const o = this[kO] + off;
        this[kDV].setInt8((+((n | 0) === n) & +(n >= -0x80) & +(n <= 0xff)) !== 0 ? o : -1, n | 0);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  u8: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getUint8(this[kO] + off);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        const n = typeof v === "number" ? v : NaN;
        const o = this[kO] + off;
        this[kDV].setUint8((+((n | 0) === n) & +(n >= -0x80) & +(n <= 0xff)) !== 0 ? o : -1, n | 0);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  i16: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getInt16(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        const n = typeof v === "number" ? v : NaN;
        const o = this[kO] + off;
        this[kDV].setInt16((+((n | 0) === n) & +(n >= -0x8000) & +(n <= 0xffff)) !== 0 ? o : -1, n | 0, true);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  u16: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getUint16(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        const n = typeof v === "number" ? v : NaN;
        const o = this[kO] + off;
        this[kDV].setUint16(
          (+((n | 0) === n) & +(n >= -0x8000) & +(n <= 0xffff)) !== 0 ? o : -1,
          n | 0,
          true,
        );
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  i32: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getInt32(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        const n = typeof v === "number" ? v : NaN;
        const o = this[kO] + off;
        this[kDV].setInt32((+((n | 0) === n) | +(n >>> 0 === n)) !== 0 ? o : -1, n | 0, true);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  u32: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getUint32(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        const n = typeof v === "number" ? v : NaN;
        const o = this[kO] + off;
        this[kDV].setUint32((+((n | 0) === n) | +(n >>> 0 === n)) !== 0 ? o : -1, n >>> 0, true);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  f32: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getFloat32(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        if (!(typeof v === "number")) throw BAD;
        this[kDV].setFloat32(this[kO] + off, v, true);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  f64: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getFloat64(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        if (!(typeof v === "number")) throw BAD;
        this[kDV].setFloat64(this[kO] + off, v, true);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
  i64: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getBigInt64(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        this[kDV].setBigInt64(
          this[kO] + off,
          typeof v === "bigint" && v >= I64_MIN && v <= U64_MAX ? v : _int64(v, "i64", f.what, true),
          true,
        );
      } catch (e) {
        throw dead(this[kC], f, "write", e);
      }
    },
  }),
  u64: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getBigUint64(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        this[kDV].setBigUint64(
          this[kO] + off,
          typeof v === "bigint" && v >= I64_MIN && v <= U64_MAX ? v : _int64(v, "u64", f.what, false),
          true,
        );
      } catch (e) {
        throw dead(this[kC], f, "write", e);
      }
    },
  }),
  isize: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getBigInt64(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        this[kDV].setBigInt64(
          this[kO] + off,
          typeof v === "bigint" && v >= I64_MIN && v <= U64_MAX ? v : _int64(v, "isize", f.what, true),
          true,
        );
      } catch (e) {
        throw dead(this[kC], f, "write", e);
      }
    },
  }),
  usize: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getBigUint64(this[kO] + off, true);
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        this[kDV].setBigUint64(
          this[kO] + off,
          typeof v === "bigint" && v >= I64_MIN && v <= U64_MAX ? v : _int64(v, "usize", f.what, false),
          true,
        );
      } catch (e) {
        throw dead(this[kC], f, "write", e);
      }
    },
  }),
  bool: (off, f) => ({
    get() {
      const c = this[kC];
      try {
        return c.dv.getUint8(this[kO] + off) !== 0;
      } catch (e) {
        throw dead(c, f, "read", e);
      }
    },
    set(v) {
      try {
        if (!(typeof v === "boolean" || v === 0 || v === 1)) throw BAD;
        this[kDV].setUint8(this[kO] + off, v === true || v === 1 ? 1 : 0);
      } catch (e) {
        throw refused(this[kC], f, v, e);
      }
    },
  }),
};

/**
 * Why a scalar setter's store was refused: dead memory (the freed-memory error), or a value its
 * type does not take (the value rules' error, naming the field).
 */
function refused(c: Chunk, f: FieldInfo, v: unknown, e: unknown): unknown {
  if (!c.alive()) return c.deadError(`write ${f.what}`);
  const t = f.prim!;
  // Each check throws the value rules' error for a value the type does not take.
  if (t === "bool") _bool(v, f.what);
  else if (t === "f32" || t === "f64") _float(v, t, f.what);
  else _int(v, t, f.what);
  return e;
}

/** A numeric field write off its fast path: every check, then the write itself. */
function slowWrite(view: Slots, off: number, f: FieldInfo, v: unknown): void {
  const c = liveW(view, f);
  f.codec.write(c, null, view[kO] + off, v, f.what);
}

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
      _writeArray(liveW(this, f), this[kO] + off, f, v, f.what);
    },
  };
}

function bitfieldAccessor(f: FieldInfo): Accessor {
  return {
    get() {
      return _readBits(liveR(this, f), this[kO], f);
    },
    set(v) {
      _writeBits(liveW(this, f), this[kO], f, v);
    },
  };
}

function nestedAccessor(off: number, f: FieldInfo): Accessor {
  const codec = f.codec as StructCodec;
  return {
    get() {
      const c = liveR(this, f);
      const sub = this[kSub] ??= [];
      return sub[f.index] ??= codec.makeView(c, this[kO] + off, this[kM], this[kLo], this[kHi]);
    },
    set(v) {
      _writeStruct(codec, liveW(this, f), this[kO] + off, v, f.what);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The view class

/**
 * Builds the view class of a definition (given as its codec and fields): one accessor pair per field
 * on a shared prototype. Each kind of field gets its accessor from `accessorOf`, the one place to
 * extend for a new kind.
 * @internal
 * @ignore
 */
export function _buildViewClass(codec: StructCodec, fields: readonly FieldInfo[]): ViewCtor {
  // No inherited `toString`, `constructor` or `__proto__` to shadow or be shadowed by a field of that
  // name: the prototype's own prototype is `UNKNOWN_FIELD`, which has no properties either and only
  // refuses assignments to names that are no field.
  const proto = Object.create(UNKNOWN_FIELD) as Slots;
  // The slots, as writable data properties here, so that the constructor's first stores to them
  // find them on the prototype and add own properties without reaching `UNKNOWN_FIELD`.
  for (const k of [kC, kDV, kO, kM, kLo, kHi, kSub]) {
    Object.defineProperty(proto, k, { value: undefined, writable: true });
  }
  for (const f of fields) {
    const acc = accessorOf(f);
    Object.defineProperty(proto, f.name, {
      get: acc.get,
      set: acc.set,
      enumerable: true,
      configurable: false,
    });
  }
  Object.defineProperty(proto, kDef, { value: codec });
  Object.defineProperty(proto, kToRaw, { value: viewToRaw });
  Object.defineProperty(proto, kViewSource, { value: viewSource });
  Object.defineProperty(proto, kDescribe, { value: describeView });
  Object.defineProperty(proto, Symbol.for("Deno.customInspect"), { value: inspectView });
  function View(this: Slots, c: Chunk, o: number, managed: boolean, lo: number, hi: number) {
    this[kC] = c;
    this[kDV] = c.dv;
    this[kO] = o;
    this[kM] = managed;
    this[kLo] = lo;
    this[kHi] = hi;
    this[kSub] = undefined;
  }
  View.prototype = proto;
  return View as unknown as ViewCtor;
}

/**
 * The end of every view's prototype chain: a Proxy over an empty null-prototype object whose only
 * trap is `set`. Ordinary assignment walks the prototype chain only when the view lacks the name,
 * and the per-definition prototype holds an accessor for every field and the slots, so only an
 * assignment to a name that is no field gets here (a typo: `view.helth = 5`), and it throws, as
 * LuaJIT does for an unknown cdata field, at no cost to views or to field access. Reads of unknown
 * names (`then`, `toJSON`, `Symbol.toPrimitive`) fall through to the empty target: `undefined`, as
 * for a null-prototype object. A symbol-keyed assignment (a tag some library puts on objects) adds
 * an own property, as on any object.
 */
const UNKNOWN_FIELD: object = new Proxy(Object.create(null), {
  set(_target, key, value, receiver) {
    if (typeof key === "symbol") {
      return Reflect.defineProperty(receiver, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    throw new TypeError(unknownFieldMessage(receiver, key, value));
  },
});

function unknownFieldMessage(receiver: unknown, key: string, value: unknown): string {
  let codec: StructCodec | undefined;
  try {
    codec = (receiver as Slots)[kDef];
  } catch {
    // A receiver that is no view (an object inheriting from one) whose lookup throws: no name.
  }
  const struct = codec === undefined ? "a struct" : codec.name.length > 200 ? "a struct" : codec.name;
  const near = codec === undefined ? undefined : nearestField(codec.fields, key);
  return `Cannot set ${_describe(key)} to ${
    _describe(value)
  } on a StructView of ${struct}: it has no field ` +
    `of that name${near === undefined ? "" : ` (did you mean ${_describe(near)}?)`}`;
}

/** The field name within two edits of `name` (one for names of up to 3 characters), if one is. */
function nearestField(fields: readonly FieldInfo[], name: string): string | undefined {
  let best: string | undefined;
  let bestD = name.length <= 3 ? 2 : 3;
  for (const f of fields) {
    if (Math.abs(f.name.length - name.length) >= bestD) continue;
    const d = editDistance(f.name.toLowerCase(), name.toLowerCase(), bestD);
    if (d < bestD) [best, bestD] = [f.name, d];
  }
  return best;
}

/** Levenshtein distance of `a` and `b`, or `cap` once it reaches `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let min = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(d);
      if (d < min) min = d;
    }
    if (min >= cap) return cap;
    prev = row;
  }
  return Math.min(prev[b.length], cap);
}

// The setters of aligned numeric fields (every field of a struct that is not packed, in a view at an
// aligned address): one store into a typed array over the chunk, as `TypedPointer.set` does.
//
// - `w` is the value as the field stores it. When it differs from `v` (a fraction, NaN, out of range,
//   not a number, or an in-range value of the other signedness) the tested index becomes -1, and a
//   typed array reads `undefined` there, as it does past its end, at an unaligned index, or once the
//   memory is freed (its buffer is detached). All of those go to `slowWrite`, which checks everything
//   and says which it was (or writes a value of the other signedness).
// - The index is tested by a load and the store goes to the field's own index: storing at the tested
//   index measured 1.7x a DataView with the view read from an array, this 1.0x.
// - Floats take every number: their test also lets NaN through (where `w === v` fails) by a `typeof`
//   after `||`, which V8 compiles only once a NaN has been stored.
// - No `typeof` test comes before the conversion: in the code V8 makes for a long loop by on-stack
//   replacement it kept the loop counter boxed and the loop's loads unhoisted (a field write measured
//   2.7x a DataView there, this form about 1.2x). So an object given as a number field's value has
//   its `valueOf` called once before the TypeError.
const ALIGNED_SET: Partial<
  Record<PrimitiveName, (off: number, f: FieldInfo) => (this: Slots, v: unknown) => void>
> = {
  i8: (off, f) =>
    function (v) {
      try {
        const a = this[kC].i8;
        const o = this[kO] + off;
        const w = (v as number) << 24 >> 24;
        if (a[w === v ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
  u8: (off, f) =>
    function (v) {
      try {
        const a = this[kC].u8;
        const o = this[kO] + off;
        const w = (v as number) & 0xff;
        if (a[w === v ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
  i16: (off, f) =>
    function (v) {
      try {
        const a = this[kC].i16;
        const o = (this[kO] + off) * 0.5;
        const w = (v as number) << 16 >> 16;
        if (a[w === v ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
  u16: (off, f) =>
    function (v) {
      try {
        const a = this[kC].u16;
        const o = (this[kO] + off) * 0.5;
        const w = (v as number) & 0xffff;
        if (a[w === v ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
  i32: (off, f) =>
    function (v) {
      try {
        const a = this[kC].i32;
        const o = (this[kO] + off) * 0.25;
        const w = (v as number) | 0;
        if (a[w === v ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
  u32: (off, f) =>
    function (v) {
      try {
        const a = this[kC].u32;
        const o = (this[kO] + off) * 0.25;
        const w = (v as number) >>> 0;
        if (a[w === v ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
  f32: (off, f) =>
    function (v) {
      // Any number is a float's value, NaN included (`w === v` misses it; the \`typeof\` after \`||\`
      // only runs then, so V8 compiles it only for a program that stores NaN).
      try {
        const a = this[kC].f32;
        const o = (this[kO] + off) * 0.25;
        const w = +(v as number);
        if (a[w === v || typeof v === "number" ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
  f64: (off, f) =>
    function (v) {
      // Any number is a float's value, NaN included (`w === v` misses it; the \`typeof\` after \`||\`
      // only runs then, so V8 compiles it only for a program that stores NaN).
      try {
        const a = this[kC].f64;
        const o = (this[kO] + off) * 0.125;
        const w = +(v as number);
        if (a[w === v || typeof v === "number" ? o : -1] !== undefined) {
          a[o] = w;
          return;
        }
      } catch {
        // A value with no number (a bigint, a symbol, a throwing valueOf): the checked path says so.
      }
      slowWrite(this, off, f, v);
    },
};

/** The accessor pair of one field, by its kind. */
function accessorOf(f: FieldInfo): Accessor {
  if (f.bits !== undefined) return bitfieldAccessor(f);
  if (f.length !== undefined) return arrayAccessor(f.offset, f);
  if (f.def !== null) return nestedAccessor(f.offset, f);
  const pair = (SCALAR[f.prim!] ?? codecAccessor)(f.offset, f);
  const aligned = ALIGNED_SET[f.prim!];
  // A field at an offset of its own alignment (every field of a struct that is not packed).
  if (aligned !== undefined && f.offset % f.size === 0) return { get: pair.get, set: aligned(f.offset, f) };
  return pair;
}

function viewToRaw(this: Slots): RawPointer {
  const c = this[kC];
  return this[kM] ? _makeManaged(c, this[kO], this[kLo], this[kHi]) : _rawFromAddr(c.addr + this[kO]);
}

function viewSource(this: Slots): ViewSource {
  return { def: this[kDef].def, chunk: this[kC], off: this[kO] };
}

function describeView(this: Slots): string {
  return `a StructView of ${this[kDef].name.length > 80 ? "a struct" : this[kDef].name}`;
}

function inspectView(this: Slots, inspect: (v: unknown, o: unknown) => string, options: unknown): string {
  const c = this[kC];
  if (!c.alive()) return "StructView (freed)";
  return `StructView ${inspect(_readStruct(this[kDef].fields, c, this[kO]), options)}`;
}

/**
 * A {@linkcode StructView} of the struct `def` at `ptr`: its properties read and write the fields in
 * place. A view of managed memory is bounds-checked once, here, and dies with its arena (later access
 * throws an {@linkcode FfiError}); a view of unmanaged memory is unchecked, as in C (but never on
 * the first page, addresses 0 to 4095). Assigning to a name that is no field of `def` (a typo) is a
 * `TypeError` naming the struct, the name and the value.
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
 * assert.throws(() => Object.assign(player, { helth: 5 }), TypeError); // no field "helth"
 * assert.equal(player.health, 100);
 * assert.equal(ptr.read(8, "i32"), 100);
 * assert.equal(player.name[0], 65);
 * ```
 */
export function view<F extends readonly FieldSpec[]>(
  ptr: PointerLike,
  def: StructType<F>,
): StructView<F> {
  const raw = _rawOfArg(ptr, "ffi.view()", "ptr");
  if (raw === null) throw new TypeError(_argMessage("ffi.view()", "ptr", "a pointer-like value", ptr));
  const codec = structCodecOf(def);
  if (codec === null) throw new TypeError(_argMessage("ffi.view()", "def", "a struct definition", def));
  return _viewOf(raw, def, "ffi.view()") as unknown as StructView<F>;
}

function structCodecOf(def: unknown): StructCodec | null {
  if (typeof def !== "object" || def === null || !_has(def, kCodec)) return null;
  const codec = (def as { [kCodec]: StructCodec })[kCodec];
  return typeof codec.makeView === "function" ? codec : null;
}

/**
 * A view of `def` at a RawPointer: checked against managed bounds, or over unmanaged memory.
 * @internal
 * @ignore
 */
export function _viewOf(raw: RawPointer, def: object, fn: string): StructView {
  const codec = structCodecOf(def)!;
  const size = codec.size;
  const s = _span(raw, `use ptr in ${fn}`);
  if (s.chunk !== null) {
    if (s.off < s.lo || s.off + size > s.hi) {
      throw new RangeError(
        `${fn}: cannot view a struct of ${size} bytes at byte ${s.off - s.lo} of an allocation of ${
          s.hi - s.lo
        } bytes`,
      );
    }
    return codec.makeView(s.chunk, s.off, true, s.lo, s.hi) as StructView;
  }
  if (raw._nullDerived()) {
    throw new FfiError(
      `${fn}: cannot view a struct at address ${raw.addr}: a null pointer access (the pointer was ` +
        `computed from one on the first page)`,
    );
  }
  const chunk = _foreignChunk(raw.addr, size, `view a struct of ${size} bytes`);
  return codec.makeView(chunk, 0, false, 0, size) as StructView;
}
