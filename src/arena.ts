/**
 * Arena: a scoped allocator of zero-filled, bounds-checked memory.
 *
 * @module
 */

import { Chunk } from "./_chunk.ts";
import { kAllocCString } from "./_codec.ts";
import { _describe, FfiError } from "./errors.ts";
import { _makeManaged, _resolveCodec, type CType, type RawPointer } from "./pointer.ts";

/** Small allocations are carved from chunks of this size, so they cost no native call. */
const CHUNK_SIZE = 64 * 1024;
/**
 * An arena's first chunk is this small and each next one twice as big, up to `CHUNK_SIZE`: a
 * short-lived arena (`using arena = ffi.arena()` around a few allocations) then pays for 4 KiB
 * instead of 64 KiB of zeroed memory.
 */
const FIRST_CHUNK_SIZE = 4 * 1024;
/** Requests above this get a chunk of their own, so a big allocation never wastes a shared chunk. */
const DEDICATED_OVER = CHUNK_SIZE / 4;
/** Alignment of `alloc(size)`, as malloc gives: enough for any scalar type. */
const DEFAULT_ALIGN = 16;

let nextId = 1;
const encoder = new TextEncoder();

function checkSize(size: unknown, what: string, param = "size"): number {
  if (typeof size !== "number") {
    throw new TypeError(`${what}: ${param} must be a number, got ${_describe(size)}`);
  }
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`${what}: ${param} must be a non-negative integer, got ${_describe(size)}`);
  }
  if (size > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${what}: ${param} ${_describe(size)} is too large`);
  }
  return size;
}

function checkAlign(align: unknown, what: string): number {
  if (typeof align !== "number") {
    throw new TypeError(`${what}: align must be a number, got ${_describe(align)}`);
  }
  if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0 || align > 2 ** 30) {
    throw new RangeError(`${what}: align must be a power of two, got ${_describe(align)}`);
  }
  return align;
}

/**
 * A scoped memory arena. Every allocation is zero-filled and managed: bounds-checked, and dead
 * after {@linkcode Arena.reset} or disposal (any access then throws). The memory is freed when the
 * arena and every pointer into it are garbage-collected, and at once by `reset()` or
 * `[Symbol.dispose]()`, so `using arena = ffi.arena()` frees it at the end of the scope.
 *
 * Arenas are not thread-safe: do not share one between workers.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(1024);
 * arena.allocArray("f32", 100);
 * assert.equal(arena.totalAllocated, 1424);
 * assert.equal(arena.allocationCount, 2);
 * assert.equal(p.read(0, "i32"), 0);
 * ```
 */
export class Arena {
  #id = nextId++;
  #chunks: Chunk[] = [];
  /** The chunk small allocations come from, and the next free offset in it. */
  #current: Chunk | null = null;
  #top = 0;
  /** Size of the next shared chunk. */
  #nextChunkSize = FIRST_CHUNK_SIZE;
  /** The current chunk's address modulo 2^30, and its size (see `#place`). */
  #low = 0;
  #limit = 0;
  #total = 0;
  #count = 0;
  #disposed = false;

  /** A unique identifier of this arena. */
  get id(): number {
    return this.#id;
  }

  /** The sum of the sizes asked for since creation or the last reset (padding not counted). */
  get totalAllocated(): number {
    return this.#total;
  }

  /** The number of allocations since creation or the last reset. */
  get allocationCount(): number {
    return this.#count;
  }

  /**
   * Allocates `size` zero-filled bytes, aligned for any scalar type (16 bytes).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = arena.alloc(4);
   * assert.throws(() => p.read(1, "i32"), RangeError); // one byte past the end
   * ```
   */
  alloc(size: number): RawPointer {
    return this.#alloc(checkSize(size, "Arena.alloc()"), DEFAULT_ALIGN);
  }

  /**
   * Allocates `size` zero-filled bytes at an address that is a multiple of `align` (a power of two).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * assert.equal(arena.allocAligned(100, 4096).addr % 4096, 0);
   * assert.throws(() => arena.allocAligned(100, 3), RangeError);
   * ```
   */
  allocAligned(size: number, align: number): RawPointer {
    const what = "Arena.allocAligned()";
    return this.#alloc(checkSize(size, what), checkAlign(align, what));
  }

  /**
   * Allocates one zero-filled value of `ctype` (a type name or a struct definition), aligned for it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = arena.allocType("f64");
   * p.write(0, "f64", 2.5);
   * assert.equal(p.read(0, "f64"), 2.5);
   * ```
   */
  allocType(ctype: CType): RawPointer {
    const codec = _resolveCodec(ctype, "Arena.allocType()", "ctype");
    if (codec.size === 0) {
      throw new TypeError(`Arena.allocType(): cannot allocate a value of type ${codec.name}`);
    }
    return this.#alloc(codec.size, codec.align);
  }

  /**
   * Allocates `count` zero-filled values of `ctype`, aligned for it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using arena = ffi.arena();
   * const p = arena.allocArray("i32", 10);
   * p.write(36, "i32", 9);
   * assert.throws(() => p.write(40, "i32", 10), RangeError);
   * ```
   */
  allocArray(ctype: CType, count: number): RawPointer {
    const codec = _resolveCodec(ctype, "Arena.allocArray()", "ctype");
    if (codec.size === 0) {
      throw new TypeError(`Arena.allocArray(): cannot allocate values of type ${codec.name}`);
    }
    const n = checkSize(count, "Arena.allocArray()", "count");
    return this.#alloc(checkSize(codec.size * n, "Arena.allocArray()"), codec.align);
  }

  /**
   * Frees every allocation at once. Every pointer, view and typed pointer into them is dead
   * afterwards: checked access throws an {@linkcode FfiError}, index syntax reads `undefined`.
   * The arena stays usable.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const arena = ffi.arena();
   * const p = arena.alloc(8);
   * arena.reset();
   * assert.throws(() => p.read(0, "i32"), /freed/);
   * assert.equal(arena.totalAllocated, 0);
   * ```
   */
  reset(): void {
    for (const c of this.#chunks) c.free();
    this.#chunks = [];
    this.#current = null;
    this.#top = 0;
    this.#total = 0;
    this.#count = 0;
  }

  /** Frees everything, as {@linkcode Arena.reset}, and refuses later allocations. */
  [Symbol.dispose](): void {
    this.reset();
    this.#disposed = true;
  }

  #alloc(size: number, align: number): RawPointer {
    const start = this.#place(size, align);
    return _makeManaged(this.#placed!, start, start, start + size);
  }

  /** The chunk the last `#place` used. */
  #placed: Chunk | null = null;

  /** Reserves `size` bytes aligned to `align`; returns their offset in the chunk left in `#placed`. */
  #place(size: number, align: number): number {
    if (this.#disposed) {
      throw new FfiError(
        `Arena.alloc/allocAligned/allocType/allocArray(): cannot allocate from arena ${this.#id}: it was disposed`,
      );
    }
    const chunk = this.#current;
    if (chunk !== null) {
      // Fast path, in small-integer arithmetic: `#low` is the chunk's address modulo 2^30 (alignments
      // are at most 2^30), so `(#low + top) & (align - 1)` is the misalignment of the address at `top`.
      const top = this.#top;
      const start = top + ((align - ((this.#low + top) & (align - 1))) & (align - 1));
      if (start + size <= this.#limit) {
        this.#top = start + size;
        this.#total += size;
        this.#count++;
        this.#placed = chunk;
        return start;
      }
    }
    return this.#placeInNewChunk(size, align);
  }

  /** `#place` when the current chunk has no room: a dedicated chunk, or a new current chunk. */
  #placeInNewChunk(size: number, align: number): number {
    let chunk: Chunk;
    let start: number;
    if (size + align > DEDICATED_OVER) {
      chunk = this.#newChunk(size + (align > DEFAULT_ALIGN ? align : 0));
      start = alignUp(chunk.addr, align) - chunk.addr;
      if (start + size > chunk.buf.byteLength) {
        // The allocator gave less alignment than malloc's 16 bytes: pad this one, never overrun.
        this.#chunks.pop()!.free();
        chunk = this.#newChunk(size + align);
        start = alignUp(chunk.addr, align) - chunk.addr;
      }
    } else {
      let chunkSize = this.#nextChunkSize;
      while (chunkSize < size + align) chunkSize *= 2; // size + align <= DEDICATED_OVER < CHUNK_SIZE
      this.#nextChunkSize = Math.min(chunkSize * 2, CHUNK_SIZE);
      chunk = this.#current = this.#newChunk(chunkSize);
      this.#low = chunk.addr % 2 ** 30;
      this.#limit = chunk.buf.byteLength;
      start = alignUp(chunk.addr, align) - chunk.addr;
      this.#top = start + size;
    }
    this.#account(size);
    this.#placed = chunk;
    return start;
  }

  #newChunk(size: number): Chunk {
    const c = Chunk.allocate(size, this);
    this.#chunks.push(c);
    return c;
  }

  #account(size: number): void {
    this.#total += size;
    this.#count++;
  }

  /**
   * Copies a JS string into this arena as NUL-terminated UTF-8 and returns its address.
   * @internal
   * @ignore
   */
  [kAllocCString](s: string): number {
    const bytes = encoder.encode(s);
    const start = this.#place(bytes.length + 1, 1);
    const chunk = this.#placed!;
    chunk.u8.set(bytes, start);
    return chunk.addr + start;
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Arena(id ${this.#id}, ${this.#count} allocations, ${this.#total} bytes)`;
  }
}

function alignUp(n: number, align: number): number {
  const r = n % align;
  return r === 0 ? n : n + align - r;
}

/**
 * Creates a scoped memory arena (see {@linkcode Arena}).
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(256);
 * assert.equal(p.isManaged, true);
 * ```
 */
export function arena(): Arena {
  return new Arena();
}
