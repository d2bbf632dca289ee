/**
 * RawPointer (`void*`): an address, with the bounds of its allocation when it is managed.
 *
 * @module
 */

import type { Chunk } from "./_chunk.ts";
import { _resolveCodec, type Codec } from "./_codec.ts";
import { _freedError, FfiError } from "./errors.ts";
import { _native } from "./_native.ts";
import type { CResult } from "./struct_types.ts";
import { _describe, _primitive, type TypeName } from "./types.ts";

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

const MAX_ADDR = Number.MAX_SAFE_INTEGER;
const MAX_ADDR_BIG = (1n << 64n) - 1n;
/** Addresses below this (the first page, never mapped) are a NULL pointer dereference. */
const NULL_PAGE = 4096;
const textDecoder = new TextDecoder();

/** The view of a pointer's memory that the fast paths (typed pointers, struct views) build on. */
export interface Span {
  chunk: Chunk | null;
  base: Deno.PointerValue;
  off: number;
  lo: number;
  hi: number;
}

/** A managed pointer at `off` in `chunk`, bounded by `[lo, hi)`. @internal */
export let _makeManaged: (c: Chunk, off: number, lo: number, hi: number) => RawPointer;
/** An unmanaged pointer to an address. @internal */
export let _rawFromAddr: (addr: number) => RawPointer;
/** An unmanaged pointer from a Deno pointer value (as C returns them). @internal */
export let _rawFromPointerValue: (p: Deno.PointerValue) => RawPointer;
/** The internals of a pointer; throws if its memory was freed. @internal */
export let _span: (p: RawPointer) => Span;
/** Checks an access of `len` bytes at `offset`, returning its offset from the base. @internal */
export let _checkRange: (p: RawPointer, offset: number, len: number, verb: string) => number;
/**
 * The Deno pointer a pointer's offsets count from (use after {@linkcode _checkRange}, which checks
 * that the memory is alive); allocates nothing. @internal
 */
export let _baseOf: (p: RawPointer) => Deno.PointerValue;

/**
 * A raw pointer (`void*`): byte-level arithmetic, reads and writes of any C type.
 *
 * Managed pointers (from an arena or a Buffer) know the bounds of their allocation: every access is
 * checked and throws a `RangeError` outside them, or an {@linkcode FfiError} once the memory is freed.
 * Unmanaged pointers ({@linkcode ptr}, pointers returned by C) are unchecked, as in C.
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
  /** The chunk of managed memory, or null for an unmanaged pointer. */
  #chunk: Chunk | null;
  /** Deno pointer the offset counts from: the chunk's start, or an unmanaged base (null means 0). */
  #base: Deno.PointerValue;
  /** Byte offset from `#base`. */
  #off: number;
  /** Allocation bounds, as offsets from `#base` (managed only). */
  #lo: number;
  #hi: number;
  /** The Deno pointer value for this address, built on first use. */
  #pv: Deno.PointerValue | undefined;

  private constructor(chunk: Chunk | null, base: Deno.PointerValue, off: number, lo: number, hi: number) {
    this.#chunk = chunk;
    this.#base = base;
    this.#off = off;
    this.#lo = lo;
    this.#hi = hi;
  }

  /** The address as a number (exact: user-space addresses are below 2^53). */
  get addr(): number {
    if (this.#chunk !== null) return this.#chunk.addr + this.#off;
    return this.#base === null ? this.#off : _native().lffi_mem_addr(this.#base) + this.#off;
  }

  /** Whether the address is 0. */
  get isNull(): boolean {
    return this.#chunk === null && (this.#base === null ? this.#off === 0 : this.addr === 0);
  }

  /** Whether the pointer is bounds-checked (it points into an arena or a Buffer). */
  get isManaged(): boolean {
    return this.#chunk !== null;
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
    const codec = _resolveCodec(ctype);
    return codec.read(this.#chunk, this.#base, this.#at(offset, codec.size, "read", codec.name)) as CResult<
      T
    >;
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
    const codec = _resolveCodec(ctype);
    const o = this.#at(offset, codec.size, "write", codec.name);
    try {
      // `what` only appears in error messages: the offset is added when there is an error, so the
      // common path builds no string.
      codec.write(this.#chunk, this.#base, o, value, codec.name);
    } catch (e) {
      throw this.#writeError(e, codec, o, value, offset);
    }
  }

  /** The error of a failed write, naming the offset (kept out of `write` so that it stays small). */
  #writeError(e: unknown, codec: Codec, o: number, value: unknown, offset: number): unknown {
    // A struct write stores field by field and names the failing field itself: running it again
    // would repeat its side effects (getters, string copies), so its error stands as it is.
    if (_primitive(codec.name) === undefined) return e;
    try {
      // A primitive write checks its value before its single store, so it fails again the same way,
      // this time with the offset in the message.
      codec.write(this.#chunk, this.#base, o, value, `${codec.name} at offset ${offset}`);
    } catch (named) {
      return named;
    }
    return e;
  }

  /**
   * A pointer `bytes` further on (or back, if negative). Arithmetic may leave the allocation, as in
   * C; access may not.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const p = ffi.ptr(0x1000);
   * assert.equal(p.offset(16).addr, 0x1010);
   * ```
   */
  offset(bytes: number): RawPointer {
    if (typeof bytes !== "number" || !Number.isInteger(bytes)) {
      throw new TypeError(
        `Cannot offset a pointer by ${_describe(bytes)}: expected an integer number of bytes`,
      );
    }
    return new RawPointer(this.#chunk, this.#base, this.#off + bytes, this.#lo, this.#hi);
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
    const c = this.#chunk;
    const o = this.#at(offset, 0, "read", "a string");
    if (c !== null) {
      const bytes = c.u8.subarray(o, this.#hi);
      const nul = bytes.indexOf(0);
      return textDecoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
    }
    const n = _native().lffi_mem_strlen(this.#base, o);
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
    const c = this.#chunk;
    // Checked before the cache too: a freed pointer must not reach C (call arguments come through here).
    if (c !== null && c.freed) throw _freedError("take the address of this pointer");
    if (this.#pv !== undefined) return this.#pv;
    let pv: Deno.PointerValue;
    if (c !== null) pv = this.#off === 0 ? c.ptr : Deno.UnsafePointer.offset(c.ptr, this.#off);
    else if (this.#base !== null && this.#off === 0) pv = this.#base;
    // From the exact base: `addr` (a number) rounds above 2^53, e.g. `(void*)-1` plus an offset.
    else if (this.#base !== null) pv = Deno.UnsafePointer.offset(this.#base, this.#off);
    else pv = Deno.UnsafePointer.create(BigInt(this.addr));
    return (this.#pv = pv);
  }

  /** Bytes from here to the end of the allocation (managed), or `Infinity` (unmanaged). @internal */
  _bytesLeft(): number {
    return this.#chunk === null ? Infinity : this.#hi - this.#off;
  }

  /**
   * Checks an access of `size` bytes at `offset` and returns its offset from the base. `type` names
   * what is accessed in messages (`null`: "`size` bytes").
   * @internal
   */
  #at(offset: number, size: number, verb: string, type: string | null): number {
    if (typeof offset === "number") {
      const o = this.#off + offset;
      const c = this.#chunk;
      // Unmanaged memory is unchecked, except the first page: an access through a NULL pointer (no
      // base, address below 4096, never mapped) is an error, as for TypedPointers and views.
      if (
        Number.isInteger(offset) &&
        (c === null
          ? this.#base !== null || o >= NULL_PAGE
          : !c.freed && o >= this.#lo && o + size <= this.#hi)
      ) {
        return o;
      }
    }
    throw this.#accessError(offset, size, verb, type);
  }

  /** Why `#at` refused an access (kept out of `#at` so that it stays small enough to inline). */
  #accessError(offset: unknown, size: number, verb: string, type: string | null): Error {
    const what = type ?? `${size} bytes`;
    if (typeof offset !== "number" || !Number.isInteger(offset)) {
      return new TypeError(
        `Cannot ${verb} ${what} at offset ${_describe(offset)}: expected an integer offset`,
      );
    }
    if (this.#chunk === null) {
      const at = this.#off + offset;
      return new FfiError(
        `Cannot ${verb} ${what} at offset ${offset}: address ${at} is a null pointer access`,
      );
    }
    if (this.#chunk.freed) return _freedError(`${verb} ${what} at offset ${offset}`);
    return this.#outOfBounds(verb, type, offset, size);
  }

  #outOfBounds(verb: string, type: string | null, offset: number, size: number): RangeError {
    const start = this.#off - this.#lo;
    const what = type === null ? `${size} bytes` : `${type} (${size} bytes)`;
    return new RangeError(
      `Cannot ${verb} ${what} at offset ${offset}: the pointer is at byte ${start} of an ` +
        `allocation of ${this.#hi - this.#lo} bytes`,
    );
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    const c = this.#chunk;
    const state = c === null
      ? "unmanaged"
      : c.freed
      ? "freed"
      : `managed, ${this.#hi - this.#off} bytes left`;
    return `RawPointer(0x${this.addr.toString(16)}, ${state})`;
  }

  static {
    _makeManaged = (c, off, lo, hi) => new RawPointer(c, c.ptr, off, lo, hi);
    _rawFromAddr = (addr) => new RawPointer(null, null, addr, 0, 0);
    _rawFromPointerValue = (p) => new RawPointer(null, p, 0, 0, 0);
    _span = (p) => {
      const c = p.#chunk;
      if (c !== null && c.freed) throw _freedError("use this pointer");
      return { chunk: c, base: p.#base, off: p.#off, lo: p.#lo, hi: p.#hi };
    };
    _checkRange = (p, offset, len, verb) => p.#at(offset, len, verb, null);
    _baseOf = (p) => p.#base;
  }
}

/**
 * The RawPointer behind any pointer-like value, or `null` for a value that is not one.
 * @internal
 */
export function _rawOf(x: unknown): RawPointer | null {
  if (x instanceof RawPointer) return x;
  if (typeof x === "object" && x !== null && kToRaw in x) return (x as { [kToRaw](): RawPointer })[kToRaw]();
  return null;
}

function isDenoPointer(x: unknown): x is Deno.PointerObject {
  return typeof x === "object" && x !== null && Object.getPrototypeOf(x) === null;
}

/**
 * The RawPointers of closed callbacks (`cb.ptr` kept past `cb.close()`): C would call freed code
 * through one, so {@linkcode _addrOf} and {@linkcode _toPointerValue} refuse them wherever they go —
 * call arguments and callback results, and values written to memory too (C reads a function pointer
 * from a struct just the same; only call arguments refused them before).
 */
const closedCallbackPointers: WeakSet<object> = new WeakSet();
let anyClosedCallback = false;

/** Records `p` as the pointer of a closed callback. @internal */
export function _markClosedCallback(p: object): void {
  anyClosedCallback = true;
  closedCallbackPointers.add(p);
}

function refuseClosedCallback(raw: RawPointer, what: string): void {
  if (anyClosedCallback && closedCallbackPointers.has(raw)) {
    throw new FfiError(`Cannot use the pointer of a closed callback for ${what}: C would call freed code`);
  }
}

/**
 * The address of a pointer-like value (RawPointer, TypedPointer, StructView, Buffer, a Deno pointer
 * value, or null for 0); a TypeError naming `what` for anything else.
 * @internal
 */
export function _addrOf(x: unknown, what: string): number {
  if (x === null) return 0;
  const raw = _rawOf(x);
  if (raw !== null) {
    // Storing a dangling address is refused, as passing one to C is (see toLightUserData).
    if (raw.isManaged) _span(raw);
    refuseClosedCallback(raw, what);
    return raw.addr;
  }
  if (isDenoPointer(x)) return _native().lffi_mem_addr(x);
  throw new TypeError(
    `Cannot use ${_describe(x)} as a pointer for ${what}: expected a RawPointer, TypedPointer, StructView, ` +
      `Buffer, Deno pointer value or null`,
  );
}

/**
 * The Deno pointer value of a pointer-like value, for calls into C; a TypeError naming `what`
 * for anything else.
 * @internal
 */
export function _toPointerValue(x: unknown, what: string): Deno.PointerValue {
  if (x === null) return null;
  const raw = _rawOf(x);
  if (raw !== null) {
    refuseClosedCallback(raw, what);
    return raw.toLightUserData();
  }
  if (isDenoPointer(x)) return x;
  throw new TypeError(
    `Cannot use ${_describe(x)} as a pointer for ${what}: expected a RawPointer, TypedPointer, StructView, ` +
      `Buffer, Deno pointer value or null`,
  );
}

/**
 * Creates an unmanaged RawPointer from a numeric address. Nothing is checked: as in C, the address
 * must be valid for whatever is done with it. A number must be below 2^53; a bigint may be any 64-bit
 * address, for sentinels such as `(void*)-1` (whose `addr` then rounds, while C receives it exactly).
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
  let a: number;
  if (typeof addr === "bigint") {
    if (addr < 0n || addr > MAX_ADDR_BIG) {
      throw new RangeError(`Address ${addr}n is out of range [0, 2^64)`);
    }
    // Above 2^53 a number cannot hold the address (sentinels such as `(void*)-1`): the pointer keeps
    // the exact Deno pointer value, so passing it to C or storing it is exact; its `addr` rounds.
    if (addr > BigInt(MAX_ADDR)) return _rawFromPointerValue(Deno.UnsafePointer.create(addr));
    a = Number(addr);
  } else if (typeof addr === "number" && Number.isInteger(addr)) {
    if (addr < 0 || addr > MAX_ADDR) throw new RangeError(`Address ${addr} is out of range [0, 2^53)`);
    a = addr + 0;
  } else {
    throw new TypeError(`Cannot make a pointer from ${_describe(addr)}: expected an integer address`);
  }
  return _rawFromAddr(a);
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
  return _addrOf(p, "isNull") === 0;
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
  const raw = _rawOf(x);
  if (raw === null) {
    throw new TypeError(`Cannot take a RawPointer of ${_describe(x)}: it is not a pointer-like value`);
  }
  return raw;
}
