/**
 * A block of memory with its JavaScript views built once: the unit every managed pointer points into,
 * and the one place that decides whether memory may still be touched.
 *
 * Arena chunks are JS `ArrayBuffer`s, so V8 owns their memory: it counts them as external memory (GC
 * pressure), frees them when nothing references them any more, and an arena's `reset()` releases
 * them at once with `ArrayBuffer.prototype.transfer(0)`, which also empties every view over them, so
 * a stale typed array reads `undefined` instead of freed memory.
 *
 * ## Liveness
 *
 * A chunk is dead once its arena freed it (`freed`) or once user code detached its buffer (a typed
 * pointer's `.buffer` is the chunk's buffer, and `transfer()`, `structuredClone` with a transfer list
 * or a BYOB read detach it: V8 may then free the memory). Every access checks liveness in one of two
 * ways, both here:
 *
 * - JS access (DataView, typed arrays) needs no check of its own: a dead chunk's buffer is always
 *   detached, and the engine refuses detached buffers. The hot paths catch that refusal and turn it
 *   into the freed-memory error with {@linkcode Chunk.deadError}.
 * - Native access (copy, fill, addresses handed to C) calls {@linkcode Chunk.alive} first, which also
 *   notices a buffer detached behind the arena's back and marks the chunk dead for good.
 *
 * ## Pins: memory C is still using
 *
 * `pin()` / `unpin()` keep a chunk's memory allocated while C code uses it after JS has moved on (a
 * nonblocking call in flight). Freeing a pinned chunk (`reset()`, disposal) kills it for JS at once
 * (its views are detached, every checked access throws) but moves the memory to a private buffer
 * that is released only when the last pin is dropped. Use it as:
 *
 * ```ts ignore
 * chunk.pin();            // throws the freed-memory error if the chunk is already dead
 * try { await callC(chunk.ptr) } finally { chunk.unpin() }
 * ```
 *
 * The same deferral covers memory freed from inside a callback (C is on the stack): see `_defer.ts`.
 *
 * @module
 */

import { _pending, _release } from "./_defer.ts";
import { _freedError, FfiError } from "./errors.ts";
import { _native } from "./_native.ts";

/**
 * Addresses below this (the first page, never mapped) are a NULL pointer dereference.
 * @internal
 * @ignore
 */
export const _NULL_PAGE = 4096;

/**
 * The most bytes a JS buffer over unmanaged memory may span: beyond it V8 aborts the process instead
 * of throwing, so larger regions are left to native access.
 * @internal
 * @ignore
 */
export const _MAX_VIEW_BYTES = 2 ** 32;

/**
 * @internal
 * @ignore
 */
export class Chunk {
  // The fields that never change are `declare`d (no initializer, defined by the constructor's store):
  // a declared field is first defined as `undefined`, and the constructor's store would then make V8
  // treat it as mutable, so optimised code could not fold a constant pointer's DataView.
  /** The memory, as JS sees it. Detached once dead. */
  buf: ArrayBuffer;
  declare readonly u8: Uint8Array;
  declare readonly dv: DataView;
  /** Deno pointer object of byte 0, for native calls. */
  declare readonly ptr: Deno.PointerObject;
  /** Address of byte 0. */
  declare readonly addr: number;
  /** True once the arena released the memory (or user code detached its buffer). */
  freed = false;
  /** Why the chunk died, for messages: "freed" or "detached". */
  #cause = "freed";
  /** The arena this chunk belongs to; referenced so that live pointers keep it alive. */
  declare readonly owner: object | null;
  /**
   * How many C users (pending nonblocking calls, see `_nonblocking.ts`) were given this memory:
   * while above 0, {@linkcode Chunk.free} hides it from JS at once but keeps it until the last one
   * has returned (see the module documentation). Raised by `pin()` (or `pins++`), lowered by `unpin()`.
   */
  pins = 0;
  /** The memory of a chunk freed while pinned, kept until the last unpin. */
  #kept: ArrayBuffer | null = null;
  // Typed arrays over all the whole elements of the memory: the aligned struct field setters store
  // through them (see `struct_view.ts`). Made with the chunk (about 150 ns): made on first use, the
  // field that held the empty placeholder changed its map and the setters' optimised code deoptimised.
  declare readonly i8: Int8Array;
  declare readonly i16: Int16Array;
  declare readonly u16: Uint16Array;
  declare readonly i32: Int32Array;
  declare readonly u32: Uint32Array;
  declare readonly f32: Float32Array;
  declare readonly f64: Float64Array;

  constructor(buf: ArrayBuffer, ptr: Deno.PointerObject, owner: object | null) {
    this.buf = buf;
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
    const n = buf.byteLength;
    this.i8 = new Int8Array(buf);
    this.i16 = new Int16Array(buf, 0, n >> 1);
    this.u16 = new Uint16Array(buf, 0, n >> 1);
    this.i32 = new Int32Array(buf, 0, n >> 2);
    this.u32 = new Uint32Array(buf, 0, n >> 2);
    this.f32 = new Float32Array(buf, 0, n >> 2);
    this.f64 = new Float64Array(buf, 0, n >> 3);
    this.ptr = ptr;
    this.addr = _native().lffi_mem_addr(ptr);
    this.owner = owner;
  }

  /** Allocates a zero-filled chunk of `size` bytes owned by JS; throws a RangeError if impossible. */
  static allocate(size: number, owner: object | null): Chunk {
    let buf: ArrayBuffer;
    try {
      buf = new ArrayBuffer(Math.max(size, 8));
    } catch (cause) {
      throw new RangeError(`Cannot allocate ${size} bytes: ${(cause as Error).message}`, { cause });
    }
    const ptr = Deno.UnsafePointer.of(buf);
    if (ptr === null) throw new RangeError(`Cannot allocate ${size} bytes: no address for the memory`);
    return new Chunk(buf, ptr, owner);
  }

  /**
   * Whether the memory may be touched: not freed, and its buffer not detached by user code (which
   * marks the chunk dead for good). Native paths call this before handing the memory to C.
   */
  alive(): boolean {
    if (this.freed) return false;
    if (this.buf.detached) {
      // Detached behind the arena's back: V8 may have freed the memory already.
      this.freed = true;
      this.#cause = "detached";
      return false;
    }
    return true;
  }

  /** Throws the freed-memory error if the chunk is dead; `what` says what was attempted. */
  check(what: string): void {
    if (!this.alive()) throw this.deadError(what);
  }

  /**
   * The error for an access to a dead chunk, or for a JS access that the engine refused: the
   * freed-memory error when the chunk is dead, else `e` (some other failure) unchanged.
   */
  deadError(what: string, e?: unknown): unknown {
    if (this.alive()) return e ?? new FfiError(`Cannot ${what}: the memory is not accessible`);
    if (this.#cause === "detached") {
      return new FfiError(
        `Cannot ${what}: the memory's ArrayBuffer was detached (transferred) by JavaScript code`,
      );
    }
    return _freedError(what);
  }

  /** Keeps the memory allocated while C uses it; throws the freed-memory error if already dead. */
  pin(): void {
    this.check("pass this memory to C");
    this.pins++;
  }

  /** Drops a pin; releases the memory of a chunk freed meanwhile when it was the last one. */
  unpin(): void {
    if (this.pins > 0 && --this.pins === 0 && this.#kept !== null) {
      const kept = this.#kept;
      this.#kept = null;
      _release(() => kept.transfer(0));
    }
  }

  /** Releases the memory now (or when C is done with it): views over it become empty. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    _pending.frees++;
    if (this.buf.detached) return; // user code detached it: V8 owns (or freed) the memory already
    if (this.pins === 0 && _pending.depth === 0) {
      // transfer(0) detaches the buffer (emptying every view over it) and drops V8's backing store.
      this.buf = this.buf.transfer(0);
    } else {
      // C may still be working on this memory. Detach the views now, keep the backing store
      // (transfer() moves it without copying) until C has returned.
      const keep = this.buf.transfer();
      this.buf = new ArrayBuffer(0);
      if (this.pins > 0) this.#kept = keep;
      else _release(() => keep.transfer(0));
    }
  }
}

/**
 * A chunk over `size` bytes of unmanaged memory at `addr`, so JS can reach it through views. An
 * address on the first page is a null pointer access (an `FfiError`), a size JS cannot view a
 * `RangeError`.
 * @internal
 * @ignore
 */
export function _foreignChunk(addr: number, size: number, what: string): Chunk {
  if (addr < _NULL_PAGE) {
    throw new FfiError(`Cannot ${what}: address ${addr} is a null pointer access (the first page)`);
  }
  if (!(size <= _MAX_VIEW_BYTES) || addr + size > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`Cannot ${what}: ${size} bytes at address ${addr} is more than JS can view`);
  }
  const p = Deno.UnsafePointer.create(BigInt(addr))!;
  const buf = size === 0 ? new ArrayBuffer(0) : Deno.UnsafePointerView.getArrayBuffer(p, size);
  return new Chunk(buf, p, null);
}
