/**
 * Buffer (legacy): a fixed-size block of zero-filled native memory with bounds-checked accessors.
 * Prefer {@linkcode arena} for new code.
 *
 * @module
 */

import { _isInstance } from "./errors.ts";
import { Arena } from "./arena.ts";
import { _int } from "./_values.ts";
import { _checkRange, _makeManaged, _span, type CType, kToRaw, type RawPointer } from "./pointer.ts";
import type { CResult } from "./struct_types.ts";
import { _describe } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let makeBuffer: (raw: RawPointer, size: number) => Buffer;

/**
 * A fixed-size block of zero-filled native memory (Lune's legacy Buffer). It can be passed
 * wherever a pointer goes (`ffi.read`, `ffi.copy`, library calls).
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const buf = ffi.buffer(1024);
 * buf.write(0, "i32", 42);
 * assert.equal(buf.read(0, "i32"), 42);
 * buf.writeString(4, "héllo");
 * assert.equal(buf.readString(4), "héllo");
 * ```
 */
export class Buffer {
  #raw: RawPointer;
  #size: number;

  private constructor(raw: RawPointer, size: number) {
    this.#raw = raw;
    this.#size = size;
  }

  /** Size in bytes. */
  get size(): number {
    return this.#size;
  }

  /**
   * Reads a value of `ctype` at `offset`, typed by {@linkcode CResult}.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(8);
   * assert.equal(buf.read(0, "f64"), 0);
   * assert.throws(() => buf.read(1, "f64"), RangeError);
   * ```
   */
  read<T extends CType>(offset: number, ctype: T): CResult<T> {
    return this.#raw.read(offset, ctype);
  }

  /**
   * Writes `value` as `ctype` at `offset`.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(2);
   * buf.write(0, "u16", 0xbeef);
   * assert.equal(buf.read(0, "u16"), 0xbeef);
   * ```
   */
  write(offset: number, ctype: CType, value: unknown): void {
    this.#raw.write(offset, ctype, value);
  }

  /**
   * Fills the whole buffer with zeros.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(4);
   * buf.write(0, "i32", -1);
   * buf.zero();
   * assert.equal(buf.read(0, "i32"), 0);
   * ```
   */
  zero(): void {
    this.#bytes(0, this.#size, "zero", "Buffer.zero()").fill(0);
  }

  /**
   * A copy of `len` bytes from `offset`.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(4);
   * buf.writeBytes(0, [1, 2, 3, 4]);
   * assert.deepEqual(buf.readBytes(1, 2), new Uint8Array([2, 3]));
   * ```
   */
  readBytes(offset: number, len: number): Uint8Array {
    return this.#bytes(offset, len, "read bytes from", "Buffer.readBytes()").slice();
  }

  /**
   * Copies `bytes` (a `Uint8Array` or an array of byte values) to `offset`.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(2);
   * buf.writeBytes(0, new Uint8Array([0xff, 0x01]));
   * assert.equal(buf.read(0, "u16"), 0x01ff);
   * assert.throws(() => buf.writeBytes(1, [1, 2]), RangeError);
   * ```
   */
  writeBytes(offset: number, bytes: Uint8Array | readonly number[]): void {
    let src: Uint8Array;
    if (_isInstance(bytes, Uint8Array)) {
      src = bytes as Uint8Array;
    } else if (Array.isArray(bytes)) {
      src = new Uint8Array(bytes.length);
      // A plain loop, not forEach: forEach skips the holes of a sparse array, which wrote 0 there.
      for (let i = 0; i < bytes.length; i++) {
        if (!(i in bytes)) {
          throw new TypeError(`Buffer.writeBytes(): bytes ${_describe(bytes)} has a hole at index ${i}`);
        }
        src[i] = _int(bytes[i], "u8", `Buffer.writeBytes() bytes[${i}]`);
      }
    } else {
      throw new TypeError(
        `Buffer.writeBytes(): expected a Uint8Array or an array of bytes for bytes, got ${_describe(bytes)}`,
      );
    }
    this.#bytes(offset, src.length, "write bytes to", "Buffer.writeBytes()").set(src);
  }

  /**
   * Decodes UTF-8 from `offset` (default 0) up to the first NUL byte, or to the end if there is none.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(3);
   * buf.writeBytes(0, [0x68, 0x69, 0x21]); // no NUL: read to the end
   * assert.equal(buf.readString(), "hi!");
   * ```
   */
  readString(offset = 0): string {
    // The offset is checked first, as `read` checks it: a non-integer offset is a TypeError about
    // the offset (not a RangeError about a computed length the caller never passed).
    _checkRange(this.#raw, offset, 0, "read a string from", "Buffer.readString()");
    const bytes = this.#bytes(offset, this.#size - offset, "read a string from", "Buffer.readString()");
    const nul = bytes.indexOf(0);
    return decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
  }

  /**
   * Writes `s` as UTF-8 followed by a NUL byte at `offset`; a RangeError if it does not fit.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(6);
   * buf.writeString(0, "héllo".slice(0, 4)); // 5 bytes of UTF-8 + NUL
   * assert.equal(buf.readString(0), "héll");
   * assert.throws(() => buf.writeString(0, "héllo"), RangeError);
   * ```
   */
  writeString(offset: number, s: string): void {
    if (typeof s !== "string") {
      throw new TypeError(`Buffer.writeString(): expected a string for s, got ${_describe(s)}`);
    }
    const utf8 = encoder.encode(s);
    const dst = this.#bytes(offset, utf8.length + 1, "write a string to", "Buffer.writeString()");
    dst.set(utf8);
    dst[utf8.length] = 0;
  }

  /**
   * A Buffer over `size` bytes of this one from `offset`, sharing its memory.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const buf = ffi.buffer(8);
   * const tail = buf.slice(4, 4);
   * tail.write(0, "i32", 7);
   * assert.equal(buf.read(4, "i32"), 7);
   * ```
   */
  slice(offset: number, size: number): Buffer {
    const n = checkLen(size, "Buffer.slice()", "size");
    const off = _checkRange(this.#raw, offset, n, "slice", "Buffer.slice()");
    const chunk = _span(this.#raw).chunk!;
    return new Buffer(_makeManaged(chunk, off, off, off + n), n);
  }

  /** This buffer's memory as a RawPointer (bounds kept). */
  [kToRaw](): RawPointer {
    return this.#raw;
  }

  /** A view of `len` bytes at `offset`, after checking bounds and liveness. */
  #bytes(offset: number, len: number, verb: string, fn: string): Uint8Array {
    const n = checkLen(len, fn);
    const off = _checkRange(this.#raw, offset, n, verb, fn);
    return _span(this.#raw).chunk!.u8.subarray(off, off + n);
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Buffer(${this.#size} bytes at 0x${this.#raw.addr.toString(16)})`;
  }

  static {
    makeBuffer = (raw, size) => new Buffer(raw, size);
  }
}

function checkLen(len: unknown, what: string, param = "len"): number {
  if (typeof len !== "number") {
    throw new TypeError(`${what}: ${param} must be a number, got ${_describe(len)}`);
  }
  if (!Number.isInteger(len) || len < 0) {
    throw new RangeError(`${what}: ${param} must be a non-negative integer, got ${_describe(len)}`);
  }
  return len;
}

/**
 * Creates a Buffer of `size` zero-filled bytes of native memory.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const buf = ffi.buffer(16);
 * assert.equal(buf.size, 16);
 * assert.equal(ffi.toRaw(buf).isManaged, true);
 * ```
 */
export function buffer(size: number): Buffer {
  const n = checkLen(size, "ffi.buffer()", "size");
  if (n > Number.MAX_SAFE_INTEGER) throw new RangeError(`ffi.buffer(): size ${_describe(n)} is too large`);
  return makeBuffer(new Arena().alloc(n), n);
}
