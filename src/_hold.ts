/**
 * Native resources that pending nonblocking calls use (a library whose code runs on another thread,
 * a callback C may call meanwhile): closing one hides it from JavaScript at once, but its release
 * waits until the last call using it has returned.
 *
 * Arena memory has the same rule with its own counter (`Chunk.pins`), kept on the chunk because
 * the memory fast paths read the chunk anyway.
 *
 * @module
 */

import { _release } from "./_defer.ts";

/**
 * The uses of one native resource by pending nonblocking calls.
 * @internal
 * @ignore
 */
export class _Hold {
  #uses = 0;
  #release: (() => void) | null = null;

  /** Whether a pending call uses it. */
  get busy(): boolean {
    return this.#uses !== 0;
  }

  /** A pending call starts using it. */
  use(): void {
    this.#uses++;
  }

  /** A pending call has returned; the last one runs a release that {@linkcode _Hold.release} deferred. */
  done(): void {
    if (--this.#uses !== 0 || this.#release === null) return;
    const free = this.#release;
    this.#release = null;
    _release(free);
  }

  /** Runs `free` now (or once C has returned, see `_release`), or when the last pending call ends. */
  release(free: () => void): void {
    if (this.#uses === 0) _release(free);
    else this.#release = free;
  }
}

/**
 * The open callbacks by address, so that a pointer argument of a nonblocking call (the Callback, its
 * `ptr`, or the same address in any other form) keeps the callback it points to from being freed
 * while C may still call it.
 * @internal
 * @ignore
 */
export const _callbackHolds: Map<bigint, _Hold> = new Map();
