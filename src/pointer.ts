/**
 * RawPointer (`void*`): an address, with the bounds of its allocation when it is managed; the codecs
 * of the two types whose values are pointers (`pointer`, `string`); the resolution of any C type to
 * its codec; and the types that say what a read returns ({@linkcode CResult} and the types it uses).
 *
 * One access, `ffi.read(p, 8, "i32")`, goes: `memory.ts` → {@linkcode RawPointer.read} (type → codec,
 * bounds) → the codec (`_codec.ts`) → the chunk's DataView (`_chunk.ts`). Nothing here imports a
 * module above it (typed pointers, structs, libraries).
 *
 * ## Representation, and why
 *
 * A managed pointer holds its chunk, its offset in the chunk and its allocation's bounds (`[lo, hi)`,
 * offsets in the chunk), all small integers: V8 keeps them unboxed, so a read is a few compares and
 * the DataView load. A field that ever held a non-small number (an address above 2^30, an offset
 * computed in floating point) would make V8 box that field in every object of the class: unmanaged
 * pointers (whose field holds an address) and managed ones with large offsets are therefore made by a
 * subclass with its own hidden class (made in RawPointer's static block), so they never slow down the
 * others.
 *
 * Liveness is not checked on the JS path: a dead chunk's buffer is detached, the DataView refuses it,
 * and the refusal becomes the freed-memory error (see `_chunk.ts`). Paths that hand the address to C
 * check {@linkcode Chunk.alive} first.
 *
 * @module
 */

import { _NULL_PAGE, Chunk } from "./_chunk.ts";
import {
  _cstringAt,
  _readAddr,
  _SCALAR_CODECS,
  _writeAddr,
  type Codec,
  kAllocCString,
  kCodec,
} from "./_codec.ts";
import { _describe, _has, FfiError, kDescribe } from "./errors.ts";
import { _native } from "./_native.ts";
import {
  _isFunctionType,
  _primitive,
  _primitiveOrThrow,
  type AnyString,
  type CanonicalOf,
  type CTypeName,
  type TypeName,
} from "./types.ts";

/** The symbol by which pointer-like objects (TypedPointer, StructView, Buffer) give their RawPointer. */
export const kToRaw: unique symbol = Symbol("lune-ffi.toRaw");

/** Anything that can stand where a pointer goes. */
export type PointerLike = RawPointer | { [kToRaw](): RawPointer };

/**
 * A C type: a primitive name or alias, or a struct definition. Any string compiles (the known names
 * autocomplete): an unknown name is a `TypeError` at run time that names it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const types: ffi.CType[] = ["int", "size_t", ffi.struct([["x", "f32"]])];
 * assert.deepEqual(types.map(ffi.sizeof), [4, 8, 4]);
 * assert.throws(() => ffi.sizeof("int33"), /int33/);
 * ```
 */
export type CType = TypeName | object;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;
const MAX_ADDR_BIG = (1n << 64n) - 1n;
/** Offsets and bounds of the compact (base-class) pointers stay inside ±SMALL: V8's small integers. */
const SMALL = 2 ** 30;
const textDecoder = new TextDecoder();

/** The view of a pointer's memory that the fast paths (typed pointers, struct views) build on. */
export interface Span {
  /** The chunk of managed memory, or null for an unmanaged pointer. */
  chunk: Chunk | null;
  /** Managed: offset in the chunk. Unmanaged: the address (approximate above 2^53). */
  off: number;
  /** Managed: the allocation's bounds, as offsets in the chunk. */
  lo: number;
  hi: number;
}

/**
 * A managed pointer at `off` in `chunk`, bounded by `[lo, hi)`.
 * @internal
 * @ignore
 */
export let _makeManaged: (c: Chunk, off: number, lo: number, hi: number) => RawPointer;
/**
 * An unmanaged pointer to an address (a safe integer); `nullDerived` when it was computed from a
 * pointer on the first page, which keeps every access through it refused. @internal
 * @ignore
 */
export let _rawFromAddr: (addr: number, nullDerived?: boolean) => RawPointer;
/**
 * An unmanaged pointer from a Deno pointer value (as C returns them).
 * @internal
 * @ignore
 */
export let _rawFromPointerValue: (p: Deno.PointerValue) => RawPointer;
/**
 * The internals of a pointer; throws if its memory was freed.
 * @internal
 * @ignore
 */
export let _span: (p: RawPointer, what?: string) => Span;
/**
 * Checks an access of `len` bytes at `offset` that native code will make, returning its offset from
 * the base ({@linkcode _baseOf}): bounds, liveness and the first page. @internal
 * @ignore
 */
export let _checkRange: (p: RawPointer, offset: number, len: number, verb: string, fn?: string) => number;
/**
 * The Deno pointer a pointer's offsets count from (use after {@linkcode _checkRange}, which checks
 * that the memory is alive): the chunk's start, or null (address 0) for an unmanaged pointer whose
 * offsets are then addresses, or the exact pointer of an address above 2^53. @internal
 * @ignore
 */
export let _baseOf: (p: RawPointer) => Deno.PointerValue;

// Constructors of the two hidden classes (see the module documentation); set by RawPointer's static block.
let managed: (c: Chunk, o: number, lo: number, hi: number) => RawPointer;
/** `nullDerived`: the pointer was computed from one on the first page (see `at`). */
let unmanaged: (addr: number, nullDerived?: boolean) => RawPointer;
let fromBigAddr: (a: bigint) => RawPointer;
/** Whether `p` is an unmanaged pointer above 2^53, whose `addr` only approximates it. */
let isExact: (p: RawPointer) => boolean;

/** The last type resolved and its codec: code reads and writes one type many times in a row. */
let lastType: unknown = "i32";
let lastCodec: Codec = _SCALAR_CODECS.i32;

// The pointer's own helpers, keyed by symbols rather than `#private` methods: a class with private
// methods gives every instance a brand slot (8 bytes per pointer).
const kReadSlow: unique symbol = Symbol("lune-ffi.pointer.readSlow");
const kWriteSlow: unique symbol = Symbol("lune-ffi.pointer.writeSlow");
const kWriteError: unique symbol = Symbol("lune-ffi.pointer.writeError");
const kAtChecked: unique symbol = Symbol("lune-ffi.pointer.atChecked");
const kNbase: unique symbol = Symbol("lune-ffi.pointer.nbase");
const kOutOfBounds: unique symbol = Symbol("lune-ffi.pointer.outOfBounds");
const kAt: unique symbol = Symbol("lune-ffi.pointer.at");

/**
 * A raw pointer (`void*`): byte-level arithmetic, reads and writes of any C type.
 *
 * Managed pointers (from an arena or a Buffer) know the bounds of their allocation: every access is
 * checked and throws a `RangeError` outside them, or an {@linkcode FfiError} once the memory is freed.
 * Unmanaged pointers ({@linkcode ptr}, pointers returned by C) are unchecked, as in C, except that
 * an access to the first page (addresses 0 to 4095, never mapped) is an {@linkcode FfiError}.
 *
 * @example Reading and writing through a pointer
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(16);
 * p.write(4, "i32", -7);
 * assert.equal(p.read(4, "i32"), -7);
 * assert.equal(p.add(4).read(0, "u32"), 0xfffffff9);
 * ```
 */
export class RawPointer {
  // Stored by the constructor: V8 then treats the fields as mutable, so optimised code does not fold
  // the fields of a pointer it holds as a constant. Taking their values from initializers instead
  // made a write through a constant pointer 1.2x a DataView's time (2.3x now), but pointer creation
  // slower (`arena.alloc(64)` 1.4x malloc + free instead of 1.0x).
  /** The chunk of managed memory, or null for an unmanaged pointer. */
  #c: Chunk | null;
  /** Managed: byte offset in the chunk. Unmanaged: the address (approximate above 2^53, see `#x`). */
  #o: number;
  /** Managed: the allocation's bounds `[lo, hi)`, as offsets in the chunk. */
  #lo: number;
  #hi: number;
  /**
   * The Deno pointer value of this address, built on first use; for an unmanaged address above
   * 2^53, set at creation and exact (`#o` then only approximates it).
   */
  #x: Deno.PointerValue | undefined;

  private constructor(c: Chunk | null, o: number, lo: number, hi: number, x: Deno.PointerValue | undefined) {
    this.#c = c;
    this.#o = o;
    this.#lo = lo;
    this.#hi = hi;
    this.#x = x;
  }

  /** The address as a number (exact below 2^53, which covers every user-space address). */
  get addr(): number {
    const c = this.#c;
    return c !== null ? c.addr + this.#o : this.#o;
  }

  /** Whether the address is 0. */
  get isNull(): boolean {
    return this.#c === null && this.#o === 0;
  }

  /** Whether the pointer is bounds-checked (it points into an arena or a Buffer). */
  get isManaged(): boolean {
    return this.#c !== null;
  }

  /**
   * Reads a value of `ctype` at `offset` bytes from this pointer: typed by {@linkcode CResult}
   * (`number` for `"double"`, a plain object for a struct definition, `unknown` for a name known
   * only at run time).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = arena.alloc(8);
   * p.write(0, "f64", 1.5);
   * assert.equal(p.read(0, "double") * 2, 3);
   * ```
   */
  read<T extends CType>(offset: number, ctype: T): CResult<T> {
    // The fast path (see the module documentation), without a branch: a bad offset or one outside
    // the allocation becomes index -1, which the chunk's DataView refuses, as it refuses a dead
    // chunk (its buffer is detached); every refusal lands in the slow path, which checks it all
    // again and throws the right error. Inlined into the caller, the switch on a literal type folds
    // away. Unmanaged pointers have a prototype of their own whose `read` is the slow path.
    const o = typeof offset === "number" && offset % 1 === 0 ? this.#o + offset : -1;
    // The index for each access size: `o`, or -1 outside the allocation (see `at`).
    const lo = +(o >= this.#lo), hi = this.#hi;
    const i1 = (lo & +(o <= hi - 1)) !== 0 ? o : -1;
    const i2 = (lo & +(o <= hi - 2)) !== 0 ? o : -1;
    const i4 = (lo & +(o <= hi - 4)) !== 0 ? o : -1;
    const i8 = (lo & +(o <= hi - 8)) !== 0 ? o : -1;
    try {
      const dv = this.#c!.dv;
      switch (ctype) {
        case "i32":
          return dv.getInt32(i4, true) as CResult<T>;
        case "u8":
          return dv.getUint8(i1) as CResult<T>;
        case "f64":
          return dv.getFloat64(i8, true) as CResult<T>;
        case "u32":
          return dv.getUint32(i4, true) as CResult<T>;
        case "i8":
          return dv.getInt8(i1) as CResult<T>;
        case "i16":
          return dv.getInt16(i2, true) as CResult<T>;
        case "u16":
          return dv.getUint16(i2, true) as CResult<T>;
        case "f32":
          return dv.getFloat32(i4, true) as CResult<T>;
        case "i64":
          return dv.getBigInt64(i8, true) as CResult<T>;
        case "u64":
          return dv.getBigUint64(i8, true) as CResult<T>;
      }
    } catch {
      // Refused: the slow path says why.
    }
    return this[kReadSlow](offset, ctype) as CResult<T>;
  }

  /**
   * `read` of unmanaged memory, of the other types, and every refused read.
   * @internal
   * @ignore
   */
  [kReadSlow](offset: unknown, ctype: unknown): unknown {
    const codec = ctype === lastType ? lastCodec : _resolveCodec(ctype, "RawPointer.read()", "ctype");
    const o = this[kAt](offset, codec.size, "read", codec.name);
    const c = this.#c;
    if (c === null) return codec.read(null, this[kNbase](), o);
    return codec.read(c, null, o);
  }

  /**
   * Writes `value` as `ctype` at `offset` bytes from this pointer, by the value rules of the type.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = arena.alloc(4);
   * p.write(0, "u32", -1); // C conversion: stores 0xFFFFFFFF
   * assert.equal(p.read(0, "u32"), 4294967295);
   * ```
   */
  write(offset: number, ctype: CType, value: unknown): void {
    // As `read`: one branch, then the DataView refuses what is out of bounds or dead. The value rules
    // are checked without a branch too (see `STORES`): a value the fast path does not take (wrong
    // type, out of range, a number for a 64-bit type) also makes the index -1, and the slow path
    // checks it all again and names what was wrong. A type without a store in the table (an alias,
    // a struct) finds `undefined`, and calling it throws: the slow path again.
    const o = typeof offset === "number" && offset % 1 === 0 ? this.#o + offset : -1;
    try {
      if (STORES[ctype as string](this.#c!.dv, o, +(o >= this.#lo), this.#hi, value) === true) return;
    } catch {
      // Refused: the slow path says why.
    }
    this[kWriteSlow](offset, ctype, value);
  }

  /**
   * `write` of unmanaged memory, of the other types, and every refused write.
   * @internal
   * @ignore
   */
  [kWriteSlow](offset: unknown, ctype: unknown, value: unknown): void {
    const codec = ctype === lastType ? lastCodec : _resolveCodec(ctype, "RawPointer.write()", "ctype");
    const o = this[kAt](offset, codec.size, "write", codec.name);
    const c = this.#c;
    const base = c !== null ? null : this[kNbase]();
    try {
      codec.write(c, base, o, value, codec.name);
    } catch (e) {
      throw this[kWriteError](e, codec, c, o, value, offset as number);
    }
  }

  /**
   * The error of a failed write, naming the offset (kept out of `write` so that it stays small).
   * @internal
   * @ignore
   */
  [kWriteError](
    e: unknown,
    codec: Codec,
    c: Chunk | null,
    o: number,
    value: unknown,
    offset: number,
  ): unknown {
    if (c !== null && !c.alive()) return c.deadError(`write ${codec.name} at offset ${offset}`);
    // A struct write stores field by field and names the failing field itself: running it again
    // would repeat its side effects (getters, string copies), so its error stands as it is.
    if (_primitive(codec.name) === undefined) return e;
    try {
      // A primitive write checks its value before its single store, so it fails again the same way,
      // this time with the offset in the message.
      codec.write(
        c,
        c !== null ? null : this[kNbase](),
        o,
        value,
        `value (RawPointer.write() at offset ${offset})`,
      );
    } catch (named) {
      return named;
    }
    return e;
  }

  /**
   * A pointer `bytes` further on (or back, if negative). Arithmetic may leave the allocation, as in
   * C; access may not. `bytes` must be a safe integer, and so must the result: above 2^53 a number
   * would round it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const p = ffi.ptr(0x1000);
   * assert.equal(p.offset(16).addr, 0x1010);
   * assert.throws(() => p.offset(2 ** 53), RangeError); // not exact as a number
   * ```
   */
  offset(bytes: number): RawPointer {
    if (typeof bytes !== "number" || !Number.isSafeInteger(bytes)) throw offsetError(bytes);
    const c = this.#c;
    const o = this.#o + bytes;
    if (c !== null) {
      if (!Number.isSafeInteger(o)) throw offsetError(bytes, "the result");
      return managed(c, o, this.#lo, this.#hi);
    }
    const x = this.#x;
    // Exact in numbers: a safe address that stays safe. Otherwise in bigints, from the exact value.
    if ((x === undefined || this.#o <= MAX_SAFE) && o >= 0 && o <= MAX_SAFE) {
      return unmanaged(o, this.#lo === 1 || this.#o < _NULL_PAGE);
    }
    const start = x !== undefined ? BigInt(Deno.UnsafePointer.value(x)) : BigInt(this.#o);
    return fromBigAddr(BigInt.asUintN(64, start + BigInt(bytes)));
  }

  /**
   * The same as {@linkcode RawPointer.offset}: Luau's `ptr + n` on a RawPointer.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * assert.equal(ffi.ptr(8).add(8).addr, 16);
   * ```
   */
  add(bytes: number): RawPointer {
    return this.offset(bytes);
  }

  /**
   * Decodes the NUL-terminated UTF-8 string that starts `offset` bytes from this pointer (a `char*`
   * you hold, such as what `strdup` returns). In managed memory it stops at the end of the allocation
   * if there is no NUL, as `Buffer.readString` does; unmanaged memory must hold a NUL, as in C.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libc = ffi.load("libc.so.6");
   * const copy = libc.call("strdup", "pointer", ["string"], "héllo");
   * assert.equal(copy.readString(), "héllo");
   * assert.equal(copy.readString(3), "llo");
   * libc.call("free", "void", ["pointer"], copy);
   * ```
   */
  readString(offset: number = 0): string {
    const c = this.#c;
    const o = this[kAt](offset, 0, "read", "a string", "RawPointer.readString()");
    if (c !== null) {
      const bytes = c.u8.subarray(o, this.#hi);
      const nul = bytes.indexOf(0);
      return textDecoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
    }
    const n = _native().lffi_mem_strlen(this[kNbase](), o);
    if (n === 0) return "";
    const start = this.offset(offset).toLightUserData()!;
    return textDecoder.decode(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(start, n)));
  }

  /**
   * The Deno pointer value of this address, for raw `Deno.dlopen` calls (`null` for address 0).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const p = ffi.ptr(0x1000).toLightUserData();
   * assert.equal(Deno.UnsafePointer.value(p), 0x1000n);
   * ```
   */
  toLightUserData(): Deno.PointerValue {
    const c = this.#c;
    // Checked before the cache too: a freed pointer must not reach C (call arguments come through here).
    if (c !== null && !c.alive()) throw c.deadError("take the address of this pointer");
    const x = this.#x;
    if (x !== undefined) return x;
    let pv: Deno.PointerValue;
    if (c !== null) pv = this.#o === 0 ? c.ptr : Deno.UnsafePointer.offset(c.ptr, this.#o);
    else pv = this.#o === 0 ? null : Deno.UnsafePointer.create(BigInt(this.#o));
    return (this.#x = pv);
  }

  /**
   * Whether this unmanaged pointer was computed from one on the first page.
   * @internal
   * @ignore
   */
  _nullDerived(): boolean {
    return this.#c === null && (this.#lo === 1 || (this.#x === undefined && this.#o < _NULL_PAGE));
  }

  /**
   * Bytes from here to the end of the allocation (managed), or `Infinity` (unmanaged).
   * @internal
   * @ignore
   */
  _bytesLeft(): number {
    return this.#c === null ? Infinity : this.#hi - this.#o;
  }

  /**
   * Checks an access of `size` bytes at `offset` and returns its offset from the base: in the chunk
   * for managed memory (which must be alive), else from `nbase()` (an address, or an offset from
   * the exact pointer of an address above 2^53). `type`
   * names what is accessed in messages (`null`: "`size` bytes").
   * @internal
   * @ignore
   */
  [kAt](offset: unknown, size: number, verb: string, type: string | null, fn?: string): number {
    // The common case, small enough for V8 to inline into every caller: an integer offset inside a
    // live allocation. Everything else (unmanaged memory, errors) takes the full check below. Kept
    // apart, the full check's messages made this function too big to inline, 10 ns per ffi.copy.
    const c = this.#c;
    if (c !== null && typeof offset === "number") {
      const o = this.#o + offset;
      if (o >= this.#lo && o + size <= this.#hi && offset % 1 === 0 && c.alive()) return o;
    }
    return this[kAtChecked](offset, size, verb, type, fn);
  }

  /**
   * `at` for every case: unmanaged memory, and the errors.
   * @internal
   * @ignore
   */
  [kAtChecked](offset: unknown, size: number, verb: string, type: string | null, fn?: string): number {
    const c = this.#c;
    if (typeof offset !== "number" || !Number.isInteger(offset)) {
      return fail(
        new TypeError(
          `${(fn ?? fnOf(verb))}: cannot ${verb} ${type ?? `${size} bytes`} at offset ${
            _describe(offset)
          }: expected an integer offset`,
        ),
      );
    }
    // Freed memory next: whatever the offset, the answer is that the memory is gone.
    if (c !== null && !c.alive()) {
      return fail(c.deadError(`${verb} ${type ?? `${size} bytes`} at offset ${offset}`));
    }
    if (!Number.isSafeInteger(offset)) {
      return fail(
        new RangeError(
          `${(fn ?? fnOf(verb))}: cannot ${verb} ${
            type ?? `${size} bytes`
          } at offset ${offset}: not a safe integer`,
        ),
      );
    }
    if (c !== null) {
      const o = this.#o + offset;
      if (o >= this.#lo && o + size <= this.#hi) return o;
      return fail(this[kOutOfBounds](verb, type, offset, size, fn));
    }
    const x = this.#x;
    const a = this.#o + offset;
    // An exact address above 2^53 (a sentinel such as `(void*)-1`): offsets count from it, unless
    // the access wraps around to the first page.
    if (x !== undefined && this.#o > MAX_SAFE) {
      const exact = BigInt.asUintN(64, BigInt(Deno.UnsafePointer.value(x)) + BigInt(offset));
      if (exact >= BigInt(_NULL_PAGE)) return offset;
      return fail(
        new FfiError(
          `${(fn ?? fnOf(verb))}: cannot ${verb} ${
            type ?? `${size} bytes`
          } at offset ${offset}: address ${exact} is a null pointer access`,
        ),
      );
    }
    // A pointer on the first page is a NULL pointer plus an offset (a field of a struct C returned
    // as NULL): every access through it is refused, wherever the offset leads.
    const nullBase = this.#lo === 1 || this.#o < _NULL_PAGE;
    if (a >= _NULL_PAGE && !nullBase && a + size <= MAX_SAFE) return a;
    const what = type ?? `${size} bytes`;
    if ((a >= 0 && a < _NULL_PAGE) || nullBase) {
      return fail(
        new FfiError(
          `${(fn ??
            fnOf(
              verb,
            ))}: cannot ${verb} ${what} at offset ${offset}: address ${a} is a null pointer access ` +
            `(the pointer is at ${this.#o}, on the first page)`,
        ),
      );
    }
    return fail(
      new RangeError(
        `${(fn ?? fnOf(verb))}: cannot ${verb} ${what} at offset ${offset}: address ${a} is out of range`,
      ),
    );
  }

  /**
   * The Deno pointer unmanaged offsets count from: null (they are addresses), or an exact pointer.
   * @internal
   * @ignore
   */
  [kNbase](): Deno.PointerValue {
    return this.#c === null && this.#x !== undefined && this.#o > MAX_SAFE ? this.#x : null;
  }

  /**
   * Builds the out-of-bounds error.
   * @internal
   * @ignore
   */
  [kOutOfBounds](verb: string, type: string | null, offset: number, size: number, fn?: string): RangeError {
    const start = this.#o - this.#lo;
    const what = type === null ? `${size} bytes` : `${type} (${size} bytes)`;
    return new RangeError(
      `${
        fn ?? fnOf(verb)
      }: cannot ${verb} ${what} at offset ${offset}: the pointer is at byte ${start} of an ` +
        `allocation of ${this.#hi - this.#lo} bytes`,
    );
  }

  /** Itself: a RawPointer is pointer-like too, so `x[kToRaw]()` works for every pointer-like `x`. */
  [kToRaw](): RawPointer {
    return this;
  }

  /** Short description for error messages. */
  [kDescribe](): string {
    return `a RawPointer(0x${this.addr.toString(16)})`;
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    const c = this.#c;
    const state = c === null
      ? "unmanaged"
      : !c.alive()
      ? "freed"
      : `managed, ${this.#hi - this.#o} bytes left`;
    return `RawPointer(0x${this.addr.toString(16)}, ${state})`;
  }

  static {
    // deno-lint-ignore no-this-alias
    const Base = this;
    // Unmanaged pointers and managed ones whose numbers are not small integers get a hidden class of
    // their own (see the module documentation): subclasses that are RawPointers in every other
    // respect (named RawPointer too, for messages). Derived classes rather than `Reflect.construct` with another `new.target`: V8 inlines `new`
    // of a derived class with the default constructor, while `Reflect.construct` stayed a call to
    // its generic builtins (a `qsort` comparator reading two pointers C passed took 2.5x a raw Deno
    // comparator's time, most of it constructing the pointers).
    const Wide = class RawPointer extends Base {};
    // Unmanaged pointers: reads and writes are native, through the slow paths (the fast ones would
    // throw and catch on every access, as they have no chunk).
    const Unmanaged = class RawPointer extends Base {
      override read<T extends CType>(offset: number, ctype: T): CResult<T> {
        return this[kReadSlow](offset, ctype) as CResult<T>;
      }
      override write(offset: number, ctype: CType, value: unknown): void {
        this[kWriteSlow](offset, ctype, value);
      }
    };
    const wide = (c: Chunk | null, o: number, lo: number, hi: number, x: Deno.PointerValue | undefined) =>
      c === null ? new Unmanaged(c, o, lo, hi, x) : new Wide(c, o, lo, hi, x);
    managed = (c, o, lo, hi) => {
      if (!(o >= -SMALL && o <= SMALL && hi <= SMALL)) return wide(c, o, lo, hi, undefined);
      return new RawPointer(c, o | 0, lo | 0, hi | 0, undefined);
    };
    // `#lo` of an unmanaged pointer: 1 when it was computed from a pointer on the first page.
    unmanaged = (addr, nullDerived = false) => wide(null, addr, nullDerived ? 1 : 0, 0, undefined);
    fromBigAddr = (a) =>
      a <= BigInt(MAX_SAFE)
        ? unmanaged(Number(a))
        : wide(null, Number(a), 0, 0, Deno.UnsafePointer.create(a));
    _makeManaged = managed;
    _rawFromAddr = unmanaged;
    // The address through our own fast call: `Deno.UnsafePointer.value` is a slower API call (it
    // took a fifth of a `qsort` comparator's time). Above 2^53 the number is the nearest double, as
    // `Number()` of the exact bigint would be; the pointer keeps `p` for exact access.
    _rawFromPointerValue = (p) => p === null ? unmanaged(0) : wide(null, _native().lffi_mem_addr(p), 0, 0, p);
    _span = (p, what) => {
      const c = p.#c;
      if (c !== null && !c.alive()) throw c.deadError(what ?? "use this pointer");
      return { chunk: c, off: p.#o, lo: p.#lo, hi: p.#hi };
    };
    _checkRange = (p, offset, len, verb, fn) => p[kAt](offset, len, verb, null, fn);
    _baseOf = (p) => p.#c !== null ? p.#c.ptr : p[kNbase]();
    isExact = (p) => p.#c === null && p.#x !== undefined && p.#o > MAX_SAFE;
  }
}

// Index computation in `read`/`write`: `o`, or -1 (which every DataView refuses) outside the
// allocation. Branch-free on purpose: written with `&&` or as an `if`, V8 stopped keeping the loop's
// loads in registers and a read measured 4-10 times slower.

// The fast-path stores of `RawPointer.write`. Each takes the index `o`, `lo` (1 if `o` is not below
// the allocation) and `hi` (the allocation's end), checks the value by the rules of its type with no
// branch on it, and returns true once stored. Each test becomes a 0 or 1 and-ed into the index, so a
// refused value makes the index -1, which the DataView refuses. The integer stores test the value
// itself, not `typeof v === "number" ? v : NaN`: a select between the value and a double made the
// value a double for V8, and with it the caller's loop counter passed as the value: in a loop's first
// optimised code an i32 write measured 3-3.5x a DataView store with the select, 1.9-2x without. (A
// value that is not a number fails `typeof` and the store is refused all the same; an object's
// `valueOf` may run before the slow path throws, which stores nothing.) Branches there (`&&`, or a `throw` when the value fails)
// measured 3-15 times a DataView store: V8 then kept less of the caller's loop in registers, and a
// number of another kind than those seen so far (a double, an integer above 2^30) deoptimised the
// store's call site for good. The store gets the value already converted (`n | 0`) as C converts it,
// so its call site never meets a kind of number it did not expect.

/**
 * The store of each type, found by `RawPointer.write` in this table rather than by a `switch`:
 * inlined where the type is a literal, the lookup folds to the one store, while `write` compiled on
 * its own (called with many types) inlines none of them. With a `switch`, that code inlined every
 * store the program had used and grew too big to be inlined into its callers any more (measured:
 * 9-16 ns a write instead of 1). Without a prototype, so that no name finds an inherited function.
 */
const STORES: Record<string, (dv: DataView, o: number, lo: number, hi: number, v: unknown) => boolean> =
  Object
    .setPrototypeOf(
      {
        i32: storeI32,
        u32: storeU32,
        i16: storeI16,
        u16: storeU16,
        i8: storeI8,
        u8: storeU8,
        f64: storeF64,
        f32: storeF32,
        i64: storeI64,
        u64: storeI64,
      },
      null,
    );

function storeI32(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const n = v as number;
  const ok = lo & +(o <= hi - 4) & +(typeof v === "number") & (+((n | 0) === n) | +(n >>> 0 === n));
  dv.setInt32(ok !== 0 ? o : -1, n | 0, true);
  return true;
}
function storeU32(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const n = v as number;
  const ok = lo & +(o <= hi - 4) & +(typeof v === "number") & (+((n | 0) === n) | +(n >>> 0 === n));
  dv.setUint32(ok !== 0 ? o : -1, n >>> 0, true);
  return true;
}
function storeI16(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const n = v as number;
  const ok = lo & +(o <= hi - 2) & +(typeof v === "number") & +((n | 0) === n) & +(n >= -0x8000) &
    +(n <= 0xffff);
  dv.setInt16(ok !== 0 ? o : -1, n | 0, true);
  return true;
}
function storeU16(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const n = v as number;
  const ok = lo & +(o <= hi - 2) & +(typeof v === "number") & +((n | 0) === n) & +(n >= -0x8000) &
    +(n <= 0xffff);
  dv.setUint16(ok !== 0 ? o : -1, n | 0, true);
  return true;
}
function storeI8(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const n = v as number;
  const ok = lo & +(o <= hi - 1) & +(typeof v === "number") & +((n | 0) === n) & +(n >= -0x80) & +(n <= 0xff);
  dv.setInt8(ok !== 0 ? o : -1, n | 0);
  return true;
}
function storeU8(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const n = v as number;
  const ok = lo & +(o <= hi - 1) & +(typeof v === "number") & +((n | 0) === n) & +(n >= -0x80) & +(n <= 0xff);
  dv.setUint8(ok !== 0 ? o : -1, n | 0);
  return true;
}
function storeF64(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const ok = lo & +(o <= hi - 8) & +(typeof v === "number");
  dv.setFloat64(ok !== 0 ? o : -1, typeof v === "number" ? v : 0, true);
  return true;
}
function storeF32(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  const ok = lo & +(o <= hi - 4) & +(typeof v === "number");
  dv.setFloat32(ok !== 0 ? o : -1, typeof v === "number" ? v : 0, true);
  return true;
}

function storeI64(dv: DataView, o: number, lo: number, hi: number, v: unknown): boolean {
  // setBigInt64 stores any value of [-2^63, 2^64) as C converts it.
  if (typeof v !== "bigint" || v < I64_MIN || v > U64_MAX) return false;
  dv.setBigInt64((lo & +(o <= hi - 8)) !== 0 ? o : -1, v, true);
  return true;
}

/**
 * The function a refused access names in its message: the verb's own (`copy`, `fill` name theirs in
 * the verb), else the RawPointer method every read and write goes through.
 */
function fnOf(verb: string): string {
  if (verb.includes("ffi.")) return "ffi." + (verb.includes("copy") ? "copy()" : verb.split(" ")[0] + "()");
  if (verb === "fill") return "ffi.fill()";
  return `RawPointer.${verb.startsWith("write") ? "write" : "read"}()`;
}

function fail(e: unknown): never {
  throw e;
}

function offsetError(bytes: unknown, what = "the offset"): Error {
  if (typeof bytes === "number" && Number.isInteger(bytes)) {
    return new RangeError(
      `RawPointer.offset()/add(): ${what} ${bytes} (bytes) is not a safe integer: a number would round it; ` +
        `use ffi.ptr() with a bigint address`,
    );
  }
  return new TypeError(
    `RawPointer.offset()/add(): bytes must be an integer number of bytes, got ${_describe(bytes)}`,
  );
}

/**
 * The RawPointer behind any pointer-like value, or `null` for a value that is not one. What a
 * `[kToRaw]()` method returns must be a real RawPointer: a forged object is a TypeError, never an
 * address.
 * @internal
 * @ignore
 */
export function _rawOf(x: unknown): RawPointer | null {
  // `kToRaw in x` first, not `x instanceof RawPointer` (a RawPointer has the method too, returning
  // itself): `instanceof` on a StructView walks its prototype chain to the Proxy at its end, a
  // runtime call of ~40 ns, where `in` finds the method on the view's prototype.
  if (typeof x === "object" && x !== null && kToRaw in x) {
    const raw = (x as { [kToRaw](): unknown })[kToRaw]();
    if (raw instanceof RawPointer) return raw;
    throw new TypeError(
      `Cannot use ${_describe(x)} as a pointer: its [kToRaw]() returned ${_describe(raw)}, not a RawPointer`,
    );
  }
  return null;
}

/**
 * {@linkcode _rawOf} for parameter `param` of the public function `fn`: the error of a pointer-like
 * value that cannot give its pointer (a closed callback, a forged `kToRaw`) names them.
 * @internal
 * @ignore
 */
export function _rawOfArg(x: unknown, fn: string, param: string): RawPointer | null {
  try {
    return _rawOf(x);
  } catch (e) {
    if (e instanceof FfiError) {
      throw new FfiError(`${fn}: ${param} ${_describe(x)}: ${e.message}`, { cause: e });
    }
    if (e instanceof TypeError) throw new TypeError(`${fn}: ${param}: ${e.message}`, { cause: e });
    // Asking the value whether it is a pointer threw (a Proxy trap, a getter): it is none.
    throw new TypeError(
      `${fn}: expected a pointer-like value for ${param}, got ${_describe(x)} (inspecting it threw)`,
      { cause: e },
    );
  }
}

function isDenoPointer(x: unknown): x is Deno.PointerObject {
  return typeof x === "object" && x !== null && Object.getPrototypeOf(x) === null && !(kToRaw in x);
}

/**
 * The RawPointers of closed callbacks (`cb.ptr` kept past `cb.close()`): C would call freed code
 * through one, so {@linkcode _addrOf} and {@linkcode _toPointerValue} refuse them wherever they go —
 * call arguments and callback results, and values written to memory too (C reads a function pointer
 * from a struct just the same; only call arguments refused them before).
 */
const closedCallbackPointers: WeakSet<object> = new WeakSet();
let anyClosedCallback = false;

/**
 * Records `p` as the pointer of a closed callback.
 * @internal
 * @ignore
 */
export function _markClosedCallback(p: object): void {
  anyClosedCallback = true;
  closedCallbackPointers.add(p);
}

function refuseClosedCallback(raw: RawPointer, what: string): void {
  if (anyClosedCallback && closedCallbackPointers.has(raw)) {
    throw new FfiError(`Cannot use the pointer of a closed callback for ${what}: C would call freed code`);
  }
}

function notAPointer(x: unknown, what: string): TypeError {
  return new TypeError(
    `Cannot use ${_describe(x)} as a pointer for ${what}: expected a RawPointer, TypedPointer, StructView, ` +
      `Buffer, Deno pointer value or null`,
  );
}

/**
 * The address of a pointer-like value (RawPointer, TypedPointer, StructView, Buffer, a Deno pointer
 * value, or null for 0); a TypeError naming `what` for anything else. Approximate above 2^53: see
 * {@linkcode _toPointerValue} for the exact value.
 * @internal
 * @ignore
 */
export function _addrOf(x: unknown, what: string): number {
  if (x === null) return 0;
  const raw = _rawOfArg(x, what, "value");
  if (raw !== null) {
    // Storing a dangling address is refused, as passing one to C is (see toLightUserData).
    if (raw.isManaged) {
      try {
        _span(raw);
      } catch (e) {
        throw e instanceof FfiError
          ? new FfiError(`${what}: ${_describe(x)}: ${e.message}`, { cause: e })
          : e;
      }
    }
    refuseClosedCallback(raw, what);
    return raw.addr;
  }
  if (isDenoPointer(x)) {
    try {
      return _native().lffi_mem_addr(x);
    } catch {
      // A null-prototype object that is not a Deno pointer value: Deno's own error names nothing.
      throw notAPointer(x, what);
    }
  }
  throw notAPointer(x, what);
}

/**
 * The Deno pointer value of a pointer-like value, for calls into C; a TypeError naming `what`
 * for anything else.
 * @internal
 * @ignore
 */
export function _toPointerValue(x: unknown, what: string): Deno.PointerValue {
  if (x === null) return null;
  const raw = _rawOf(x);
  if (raw !== null) {
    refuseClosedCallback(raw, what);
    return raw.toLightUserData();
  }
  if (isDenoPointer(x)) return x;
  throw notAPointer(x, what);
}

/**
 * Creates an unmanaged RawPointer from a numeric address. Nothing is checked: as in C, the address
 * must be valid for whatever is done with it (only the first page, 0 to 4095, is refused on access).
 * A number must be a safe integer (below 2^53); a bigint may be any 64-bit address, for sentinels
 * such as `(void*)-1` (whose `addr` then rounds, while C receives it exactly).
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const p = ffi.ptr(0x12345678);
 * assert.equal(p.addr, 0x12345678);
 * assert.equal(p.isManaged, false);
 *
 * const transient = ffi.ptr(2n ** 64n - 1n); // SQLITE_TRANSIENT, MAP_FAILED
 * assert.equal(Deno.UnsafePointer.value(transient.toLightUserData()), 2n ** 64n - 1n);
 * ```
 */
export function ptr(addr: number | bigint): RawPointer {
  if (typeof addr === "bigint") {
    if (addr < 0n || addr > MAX_ADDR_BIG) {
      throw new RangeError(`ffi.ptr(): addr must be in [0, 2^64), got ${addr}n`);
    }
    return fromBigAddr(addr);
  }
  if (typeof addr === "number" && Number.isInteger(addr)) {
    if (addr < 0 || addr > MAX_SAFE) {
      throw new RangeError(
        `ffi.ptr(): addr must be in [0, 2^53) as a number (pass a bigint above), got ${addr}`,
      );
    }
    return unmanaged(addr + 0);
  }
  throw new TypeError(`ffi.ptr(): addr must be an integer address or a bigint, got ${_describe(addr)}`);
}

/**
 * Whether a pointer is null. `null` (and `undefined`) count as null.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ffi.isNull(null), true);
 * assert.equal(ffi.isNull(ffi.ptr(0)), true);
 * assert.equal(ffi.isNull(ffi.ptr(16)), false);
 * ```
 */
export function isNull(p: PointerLike | Deno.PointerValue | undefined): boolean {
  if (p === null || p === undefined) return true;
  const raw = _rawOfArg(p, "ffi.isNull()", "ptr");
  if (raw !== null) return raw.isNull;
  return _addrOf(p, "ffi.isNull() ptr") === 0;
}

/**
 * The RawPointer (bounds kept) of any pointer-like value: RawPointer, TypedPointer, StructView, Buffer.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const raw = arena.alloc(8);
 * assert.equal(ffi.toRaw(raw), raw);
 * ```
 */
export function toRaw(x: PointerLike): RawPointer {
  const raw = _rawOfArg(x, "ffi.toRaw()", "x");
  if (raw === null) {
    throw new TypeError(`ffi.toRaw(): x must be a pointer-like value, got ${_describe(x)}`);
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------------
// The codecs of pointer values, and the resolution of any type to its codec

/**
 * Reads a pointer at `o`. Above 2^53 a number cannot hold the address exactly (sentinels such as
 * `(void*)-1`: `MAP_FAILED`, `SQLITE_TRANSIENT`, `(iconv_t)-1`), so the pointer keeps the exact Deno
 * pointer value; its `addr` is then approximate, but writing it back or passing it to C is exact.
 */
function readPointer(c: Chunk | null, b: Deno.PointerValue, o: number): RawPointer {
  const a = _readAddr(c, b, o);
  if (a <= MAX_SAFE) return unmanaged(a);
  return fromBigAddr(c !== null ? c.dv.getBigUint64(o, true) : _native().lffi_mem_read_u64(b, o));
}

/**
 * Writes a pointer-like value at `o`. Its `addr` (a number) is exact below 2^53; above, the value's
 * exact Deno pointer value is stored instead (writing `addr` stored 0 for `(void*)-1`, turning
 * `MAP_FAILED` into NULL).
 */
function writePointer(c: Chunk | null, b: Deno.PointerValue, o: number, v: unknown, what: string): void {
  const a = _addrOf(v, what);
  const raw = v instanceof RawPointer ? v : null;
  if (a <= MAX_SAFE && (raw === null || !isExact(raw))) return _writeAddr(c, b, o, a);
  const exact = BigInt.asUintN(64, BigInt(Deno.UnsafePointer.value(_toPointerValue(v, what))));
  if (c !== null) c.dv.setBigUint64(o, exact, true);
  else _native().lffi_mem_write_u64(b, o, exact);
}

const pointerCodec: Codec = {
  name: "pointer",
  size: 8,
  align: 8,
  read: readPointer,
  write: writePointer,
};

/** What a chunk's owner must offer so that a JS string can be written into its memory. */
interface CStringAllocator {
  [kAllocCString](s: string): number;
}

const stringCodec: Codec = {
  name: "string",
  size: 8,
  align: 8,
  read: (c, b, o) => _cstringAt(_readAddr(c, b, o)),
  write(c, b, o, v, what) {
    if (typeof v !== "string") return writePointer(c, b, o, v, what);
    const owner = c?.owner as Partial<CStringAllocator> | null | undefined;
    if (!owner?.[kAllocCString]) {
      throw new TypeError(
        `Cannot write a JS string for ${what} into unmanaged memory: nothing would own the copy. ` +
          `Allocate it yourself (arena.alloc + writeString) and write that pointer.`,
      );
    }
    // Not into dead memory: the copy would be allocated for nothing.
    if (c instanceof Chunk) c.check(`write ${what}`);
    _writeAddr(c, b, o, owner[kAllocCString](v));
  },
};

const CODECS: Record<string, Codec> = { ..._SCALAR_CODECS, pointer: pointerCodec, string: stringCodec };

/** Every name and alias → its codec, filled on first use of each name. */
const BY_NAME: Map<string, Codec> = new Map();

/**
 * The codec of a primitive type name or alias; a TypeError naming it when unknown.
 * @internal
 * @ignore
 */
export function _codecOf(name: string, fn?: string, param?: string): Codec {
  const c = BY_NAME.get(name);
  if (c !== undefined) return c;
  const codec = CODECS[_primitiveOrThrow(name, "type", fn, param).name];
  BY_NAME.set(name, codec);
  return codec;
}

/**
 * The codec of any C type: a primitive name or alias, or a struct definition; a TypeError naming
 * the function `fn` and its parameter `param` when it is none.
 * @internal
 * @ignore
 */
export function _resolveCodec(ctype: unknown, fn?: string, param?: string): Codec {
  if (ctype === lastType) return lastCodec;
  if (typeof ctype === "string") {
    const codec = _codecOf(ctype, fn, param);
    lastType = ctype;
    return (lastCodec = codec);
  }
  if (typeof ctype === "object" && ctype !== null && _has(ctype, kCodec)) {
    const codec = (ctype as { [kCodec]: Codec })[kCodec];
    lastType = ctype;
    return (lastCodec = codec);
  }
  // A function type (a Signature from ffi.cdef) is a function pointer.
  if (_isFunctionType(ctype)) return _codecOf("pointer");
  return _codecOf(ctype as string, fn, param); // throws the TypeError naming it
}

// ---------------------------------------------------------------------------------------------------
// Types: what a read returns

/**
 * A type a field can have: any primitive but `void`, or a nested struct definition. Any string
 * compiles (the known names autocomplete): an unknown name, or `void`, is a `TypeError` that
 * `ffi.struct` throws at run time, naming it.
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
export type FieldType = Exclude<CTypeName, "void"> | AnyString | StructType;

/**
 * One field of `ffi.struct`: `[name, type]`, or `[name, type, length]` for a fixed array.
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
  | readonly [name: string, type: FieldType, length: number]
  | readonly [name: string, type: FieldType, bitfield: BitfieldSpec]
  | StructType;

/**
 * The third element of a bitfield field `[name, integerType, { bits: n }]`: its width in bits. The
 * field reads and writes as a `number`; an unnamed one (`["", "u32", { bits: 0 }]`) is padding, as
 * `unsigned : 0;` is in C. (A definition alone in a field list is an anonymous struct or union
 * member, whose fields are promoted as in C11.)
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Flags = ffi.struct([["ready", "u32", { bits: 1 }], ["mode", "u32", { bits: 3 }]]);
 * assert.equal(Flags.size, 4);
 * ```
 */
export interface BitfieldSpec {
  /** Width in bits: 1 to the type's width (0 only for an unnamed field, which closes the unit). */
  readonly bits: number;
}

/**
 * The `[name, type, ...]` fields of a field list: not its anonymous struct or union members (their
 * fields are promoted at run time; precise types list only the named fields).
 *
 * @example
 * ```ts
 * import type * as ffi from "@x/lune-ffi";
 *
 * type Fields = readonly [readonly ["id", "u32"], readonly ["flags", "u8", { bits: 3 }]];
 * const name: ffi.NamedFields<Fields>[0] = "flags";
 * console.log(name);
 * ```
 */
export type NamedFields<F extends readonly FieldSpec[]> = Extract<F[number], readonly unknown[]>;

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
export type CResult<T> = T extends StructType<infer F> ? StructValue<F>
  : T extends CTypeName ? PrimitiveValue<CanonicalOf<T>>
  : unknown;

/** What a field is in a {@linkcode StructValue}: arrays are JS arrays, nested structs plain objects. */
export type FieldPlain<E> = E extends readonly [string, unknown, BitfieldSpec] ? number
  : E extends readonly [string, infer T, number]
    ? (T extends StructType<infer F> ? StructValue<F> : PlainOf<T>)[]
  : E extends readonly [string, infer T] ? T extends StructType<infer F> ? StructValue<F> : PlainOf<T>
  : never;

/** The field names of a definition's field list. */
export type FieldName<F extends readonly FieldSpec[]> = NamedFields<F>[0];

/**
 * Any property name, of type `any`: the fields of a definition whose names are not literal types
 * (loose struct views, and the loose {@linkcode StructValue}). The names of
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
  : { [E in NamedFields<F> as E[0]]: FieldPlain<E> };

/**
 * What a primitive field is in a {@linkcode StructValue}: the value its type reads as.
 *
 * @example
 * ```ts
 * import type * as ffi from "@x/lune-ffi";
 *
 * const n: ffi.PlainOf<"int"> = 42;
 * console.log(n);
 * ```
 */
export type PlainOf<T> = T extends CTypeName ? PrimitiveValue<CanonicalOf<T>> : unknown;

/**
 * What the type functions need of a struct definition (`StructDefinition` is one): its
 * field list, as a type.
 */
export interface StructType<F extends readonly FieldSpec[] = readonly FieldSpec[]> {
  /** The field list, as given. */
  readonly spec: F;
  /** Total size in bytes. */
  readonly size: number;
  /** Alignment in bytes. */
  readonly alignment: number;
}
