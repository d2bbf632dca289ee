/**
 * What must wait until C has returned: the exception a callback threw, and the release of native
 * resources C may still be using (a library whose code is on the stack, a callback trampoline, arena
 * memory C is working on) when they are closed or freed from inside a callback.
 *
 * @module
 */

/**
 * The exception a callback threw and C could not be told about, waiting for the JS call that
 * (directly or not) invoked it to rethrow it. @internal
 * @ignore
 */
export const _pending: { has: boolean; error: unknown; depth: number; frees: number; errnoSet: boolean } = {
  has: false,
  error: undefined,
  /** How many callback invocations are running: above 0, some C code is on the stack. */
  depth: 0,
  /**
   * How many chunks of managed memory have been freed so far. A call wrapper compares it before
   * and after converting its arguments: converting one argument can run user code (a getter of a
   * struct argument, a `kToRaw` method) that frees the memory of an argument converted before it.
   */
  frees: 0,
  /**
   * Set by `ffi.errno(value)`/`ffi.lastError(value)` until a call puts the value in place. The call
   * wrappers test this plain field before each call rather than the errno cell's flag word: a typed-array
   * load there cost 2.7 ns a call (75% of a raw Deno call) where this costs nothing measurable.
   */
  errnoSet: false,
};

/** Releases of native resources waiting until no C code that may be using them is on the stack. */
const deferred: (() => void)[] = [];

function flushDeferred(): void {
  if (_pending.depth !== 0) {
    queueMicrotask(flushDeferred);
    return;
  }
  for (const free of deferred.splice(0)) free();
}

/**
 * Runs `free` (closing a library or a callback trampoline, freeing arena memory) now, or, when a callback is running (C is
 * on the stack and may be executing that code or about to call that trampoline), once C has
 * returned: in a microtask, which runs only when the JS stack, and so every C frame on it, is gone.
 * @internal
 * @ignore
 */
export function _release(free: () => void): void {
  if (_pending.depth === 0) {
    free();
    return;
  }
  if (deferred.length === 0) queueMicrotask(flushDeferred);
  deferred.push(free);
}
