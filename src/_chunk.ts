/**
 * A block of memory with its JavaScript views built once: the unit every managed pointer points into.
 *
 * Arena chunks are JS `ArrayBuffer`s, so V8 owns their memory: it counts them as external memory (GC
 * pressure), frees them when nothing references them any more, and an arena's `reset()` releases
 * them at once with `ArrayBuffer.prototype.transfer(0)`, which also empties every view over them, so
 * a stale typed array reads `undefined` instead of freed memory.
 *
 * @module
 */

import { _pending, _release } from "./_defer.ts";
import { _native } from "./_native.ts";

/** @internal */
export class Chunk {
  /** The memory, as JS sees it. Detached once freed. */
  buf: ArrayBuffer;
  u8: Uint8Array;
  dv: DataView;
  /** Deno pointer object of byte 0, for native calls. */
  readonly ptr: Deno.PointerObject;
  /** Address of byte 0. */
  readonly addr: number;
  /** True once the memory is released; every access through the API checks it. */
  freed = false;
  /** The arena this chunk belongs to; referenced so that live pointers keep it alive. */
  readonly owner: object | null;
  /**
   * How many pending nonblocking calls were given this memory: while above 0, C may be using it on
   * another thread, so {@linkcode Chunk.free} hides it from JS at once but keeps it until the last
   * such call has returned (see `_nonblocking.ts`).
   */
  pins = 0;
  /** The memory of a chunk freed while pinned, kept (detached from every view) until unpinned. */
  #held: ArrayBuffer | null = null;

  constructor(buf: ArrayBuffer, ptr: Deno.PointerObject, owner: object | null) {
    this.buf = buf;
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
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

  /** Releases the memory now: views over it become empty and later checked access throws. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    _pending.frees++;
    if (_pending.depth === 0 && this.pins === 0) {
      // transfer(0) detaches the buffer (emptying every view over it) and drops V8's backing store.
      this.buf = this.buf.transfer(0);
    } else {
      // Freed from inside a callback, or while a nonblocking call has it: C may still be working on
      // this memory. Detach the views now, keep the backing store (transfer() moves it without
      // copying, so the address C has stays valid) until C has returned.
      const keep = this.buf.transfer();
      if (this.pins > 0) this.#held = keep;
      else _release(() => keep.transfer(0));
      this.buf = new ArrayBuffer(0);
    }
    this.u8 = new Uint8Array(this.buf);
    this.dv = new DataView(this.buf);
  }

  /** Ends one pending call's use of the memory; the last one releases it if it was freed meanwhile. */
  unpin(): void {
    if (--this.pins !== 0 || this.#held === null) return;
    const keep = this.#held;
    this.#held = null;
    _release(() => keep.transfer(0));
  }
}
