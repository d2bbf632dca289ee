/**
 * Callbacks: JavaScript functions that C can call, with arguments and results converted by the
 * value rules.
 *
 * @module
 */

import { _compileCallback, _release, _signature, type TypeSpec } from "./_call.ts";
import { _callbackHolds, _Hold } from "./_hold.ts";
import { _claimCallbackError } from "./_nonblocking.ts";
import { _isPlainObject, FfiError } from "./errors.ts";
import { _markClosedCallback, _rawFromPointerValue, type CType, kToRaw, type RawPointer } from "./pointer.ts";
import { _describe } from "./types.ts";
import { _isSignatureLike, _toSignature, type Signature } from "./cdef.ts";

const kConstruct = Symbol("Callback.construct");

/**
 * Whether each callback is still open for JavaScript, by its RawPointer (for `ffi.fn` over a
 * callback). Closing it closes this at once, even while a pending nonblocking call keeps the
 * trampoline (and the gate C's calls go through) open until it returns.
 */
const gates = new WeakMap<object, { open: boolean }>();

/**
 * The open/closed state of the callback whose pointer `raw` is, or undefined when it is not one: a
 * function bound to a callback's pointer checks it at each call, as C would otherwise jump to freed
 * code once the callback is closed.
 * @internal
 * @ignore
 */
export function _callbackGate(raw: object): { readonly open: boolean } | undefined {
  return gates.get(raw);
}

/**
 * A JavaScript function C can call through {@linkcode Callback.ptr}. Pass the Callback (or its
 * `ptr`) wherever a C function pointer goes. Close it when C no longer holds the pointer: Deno
 * keeps its trampoline until then.
 *
 * Arguments reach the function converted by the value rules (pointers as RawPointer, 64-bit
 * integers as bigint, `string` as a JS string or `null`); its result is checked like a call
 * argument, except that a `pointer` or `string` result takes what a memory write takes: no JS string
 * or typed array (C would use it after the callback returns, when nothing keeps it alive). An exception thrown by the function never unwinds through C: C gets a zero value, and
 * the same error object is rethrown from the JS call (`Library.call` or a `Library.fn` function) that
 * led C to call it (a nonblocking call's Promise rejects with it). Once one invocation has thrown,
 * later ones in the same outer call return zero without running. A thread-safe callback
 * (`{ threadSafe: true }`) may be called from any thread; its exceptions go to `onError` or are
 * reported as uncaught errors (see {@linkcode CallbackOptions}).
 *
 * @example A qsort comparator
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libc = ffi.load("libc.so.6");
 * using arena = ffi.arena();
 * const ints = ffi.cast(arena.allocArray("i32", 4), "i32", 4);
 * [3, 1, 4, 2].forEach((v, i) => ints[i] = v);
 * using cmp = ffi.callback(
 *   (a: ffi.RawPointer, b: ffi.RawPointer) => (a.read(0, "i32") as number) - (b.read(0, "i32") as number),
 *   "i32",
 *   ["pointer", "pointer"],
 * );
 * libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], ints, 4, 4, cmp);
 * assert.deepEqual([ints[0], ints[1], ints[2], ints[3]], [1, 2, 3, 4]);
 * ```
 */
export class Callback {
  #deno: Deno.UnsafeCallback | null;
  /**
   * The pointer, made on first use (`ptr`, passing the callback to C, printing it): until then the
   * address has not left this object, so nothing needs to know it is a callback's (the gate, the
   * hold by address, the closed-callback mark), and creating and closing a callback that is never
   * handed to C costs nothing more.
   */
  #ptr: RawPointer | null = null;
  readonly #ret: CType;
  readonly #argCount: number;
  readonly #gate: { open: boolean };
  /** Pending nonblocking calls that were given this callback: closing it waits for them. */
  readonly #hold: _Hold;
  #address = 0n;
  readonly #threadSafe: boolean;

  /**
   *  Use {@linkcode callback}.
   * @internal
   * @ignore
   */
  constructor(
    token: typeof kConstruct,
    deno: Deno.UnsafeCallback,
    ret: CType,
    argCount: number,
    gate: { open: boolean },
    hold: _Hold,
    threadSafe: boolean,
  ) {
    if (token !== kConstruct) {
      throw new TypeError("Callback cannot be constructed directly: use ffi.callback()");
    }
    this.#deno = deno;
    this.#gate = gate;
    this.#hold = hold;
    this.#threadSafe = threadSafe;
    this.#keepsAlive = threadSafe;
    this.#ret = ret;
    this.#argCount = argCount;
  }

  /** Whether C may call it from any thread (made with `{ threadSafe: true }`). */
  get threadSafe(): boolean {
    return this.#threadSafe;
  }

  /** Whether the open callback keeps the program running (see {@linkcode Callback.unref}). */
  #keepsAlive = false;

  /**
   * Lets the program end while this thread-safe callback is open, as `unref()` does for a timer
   * (for a callback C may or may not call, such as a log hook). {@linkcode Callback.ref} undoes it.
   * Does nothing once closed.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   *
   * const onLog = ffi.callback((_level: number) => {}, "void", ["i32"], { threadSafe: true });
   * onLog.unref(); // the program may end without closing it
   * onLog.close();
   * ```
   */
  unref(): void {
    if (this.#deno === null || !this.#keepsAlive) return;
    this.#deno.unref();
    this.#keepsAlive = false;
  }

  /**
   * Makes the open callback keep the program running until it is closed: what `threadSafe: true`
   * does from the start; undoes {@linkcode Callback.unref}. Does nothing once closed.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   *
   * using onEvent = ffi.callback(() => {}, "void", [], { threadSafe: true });
   * onEvent.unref();
   * onEvent.ref(); // keeps the program alive again until closed
   * ```
   */
  ref(): void {
    if (this.#deno === null || this.#keepsAlive) return;
    this.#deno.ref();
    this.#keepsAlive = true;
  }

  /** The C function pointer. Throws once the callback is closed. */
  get ptr(): RawPointer {
    const deno = this.#deno;
    if (deno === null) throw new FfiError("Cannot use the pointer of a closed callback");
    let ptr = this.#ptr;
    if (ptr === null) {
      ptr = this.#ptr = _rawFromPointerValue(deno.pointer);
      gates.set(ptr, { open: true });
      this.#address = Deno.UnsafePointer.value(deno.pointer) as bigint;
      _callbackHolds.set(this.#address, this.#hold);
    }
    return ptr;
  }

  /** The C return type: its canonical name (`"i32"` for `"int"`), or the struct definition. */
  get retType(): CType {
    return this.#ret;
  }

  /** The number of arguments C passes. */
  get argCount(): number {
    return this.#argCount;
  }

  /** Whether C may still call it (false after {@linkcode Callback.close}). */
  get isValid(): boolean {
    return this.#deno !== null;
  }

  /**
   * Frees the C function pointer: C must not call it afterwards. Closing twice does nothing.
   * Closed from inside a callback (C still on the stack), the trampoline is freed once C returns;
   * until then a call from C runs nothing, returns zero, and the outer call throws. The `ptr` of a
   * closed callback is refused (an `FfiError`) wherever a pointer goes: call arguments, callback
   * results, memory writes.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const cb = ffi.callback(() => 1, "i32", []);
   * cb.close();
   * assert.equal(cb.isValid, false);
   * assert.throws(() => cb.ptr, /closed callback/);
   * ```
   */
  close(): void {
    const deno = this.#deno;
    if (deno === null) return;
    this.#deno = null;
    const ptr = this.#ptr;
    if (ptr !== null) {
      _markClosedCallback(ptr);
      if (_callbackHolds.get(this.#address) === this.#hold) _callbackHolds.delete(this.#address);
      const jsGate = gates.get(ptr);
      if (jsGate !== undefined) jsGate.open = false;
    }
    const gate = this.#gate;
    if (this.#hold.busy) {
      // A pending nonblocking call was given it: C may still call it until that call returns, and
      // the call then runs as it would have (the trampoline stays, so do the function and its gate).
      this.#hold.release(() => {
        gate.open = false;
        deno.close();
      });
      return;
    }
    gate.open = false;
    _release(() => deno.close());
  }

  /** Closes the callback (`using cb = ffi.callback(...)`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * The pointer, for passing a Callback itself as a `pointer` argument.
   * @internal
   * @ignore
   */
  [kToRaw](): RawPointer {
    return this.ptr;
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    const ret = typeof this.#ret === "string" ? this.#ret : "struct";
    return this.#deno === null
      ? `Callback(closed, ${this.#argCount} args -> ${ret})`
      : `Callback(0x${this.ptr.addr.toString(16)}, ${this.#argCount} args -> ${ret})`;
  }
}

/**
 * Options of {@linkcode callback}.
 */
export interface CallbackOptions {
  /**
   * Let C call it from any thread, not only from inside a call made from JavaScript. The function
   * still runs on the JavaScript thread: a call from another thread waits until that thread is free
   * (awaiting a nonblocking call, a timer, I/O), then for the function's result. While the callback
   * is open it keeps the program running (as a timer does); {@linkcode Callback.close} lets it end.
   */
  readonly threadSafe?: boolean;
  /**
   * Where an exception thrown by a thread-safe callback goes (C gets a zero value). Without it,
   * the exception is reported as an uncaught error of the program: an `error` event on
   * `globalThis` whose `error` is the thrown object (`preventDefault()` keeps the program alive);
   * with no listener the program exits with the error on stderr.
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * Makes `fn` callable from C with the C signature `(argTypes) -> ret`.
 *
 * With `{ threadSafe: true }`, C may call it from threads of its own (see {@linkcode CallbackOptions}).
 * A C function that waits for such a call must itself be called with `{ nonblocking: true }`
 * ({@linkcode Library.fn}): called synchronously it blocks the JavaScript thread, which is the one
 * thread that can run the callback, so neither ever goes on (a deadlock).
 *
 * @throws {TypeError} when `fn` is not a function, a type is unknown, or an option is invalid.
 *
 * @example A C function calling JavaScript
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using add = ffi.callback((a: number, b: number) => a + b, "i32", ["i32", "i32"]);
 * assert.equal(add.argCount, 2);
 * assert.equal(add.retType, "i32");
 * assert.equal(add.isValid, true);
 * ```
 *
 * @example A callback C may call from any thread
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const errors: unknown[] = [];
 * using onEvent = ffi.callback((code: number) => {
 *   if (code < 0) throw new Error(`bad event ${code}`);
 * }, "void", ["i32"], { threadSafe: true, onError: (e) => errors.push(e) });
 * assert.equal(onEvent.threadSafe, true);
 * // Pass onEvent to C, and await the nonblocking call whose threads call it.
 * ```
 */
export function callback(
  // deno-lint-ignore no-explicit-any -- a callback's parameters are whatever its C types make them
  fn: (...args: any[]) => unknown,
  ret: CType,
  argTypes: readonly CType[],
  options?: CallbackOptions,
): Callback;
/**
 * Makes `fn` callable from C with the C function type of a {@linkcode Signature} (a function-pointer
 * typedef or prototype from {@linkcode cdef}) or of a prototype string; `options` as above.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const { cmp_fn } = ffi.cdef("typedef int (*cmp_fn)(const void *a, const void *b);");
 * using cmp = ffi.callback((a, b) => a.read(0, "i32") - b.read(0, "i32"), cmp_fn);
 * using also = ffi.callback((x: number) => x * 2, "int twice(int x)");
 * assert.equal(cmp.argCount, 2);
 * assert.equal(also.retType, "i32");
 * ```
 */
export function callback(
  // deno-lint-ignore no-explicit-any -- a callback's parameters are whatever its C types make them
  fn: (...args: any[]) => unknown,
  signature: Signature | string,
  options?: CallbackOptions,
): Callback;
export function callback(
  // deno-lint-ignore no-explicit-any -- a callback's parameters are whatever its C types make them
  fn: (...args: any[]) => unknown,
  ret: CType | Signature,
  argTypes?: readonly CType[] | CallbackOptions,
  options?: CallbackOptions,
): Callback {
  if (!Array.isArray(argTypes) && (typeof ret === "string" ? /\(/.test(ret) : _isSignatureLike(ret))) {
    const sig = _toSignature(ret, "ffi.callback()", false);
    if (sig.variadic) throw new TypeError(`ffi.callback(): a callback cannot be variadic (${sig.name})`);
    options = argTypes as CallbackOptions | undefined;
    ret = sig.ret;
    argTypes = sig.args;
  }
  if (typeof fn !== "function") {
    throw new TypeError(`ffi.callback(): expected a function for fn, got ${_describe(fn)}`);
  }
  const label = `callback ${fn.name || "(anonymous)"}`;
  const { threadSafe, onError } = _callbackOptions(options, "ffi.callback()");
  const sig = _signature(label, ret, argTypes, "ffi.callback()");
  const def = {
    parameters: sig.args.map((a) => a.native as Deno.NativeType),
    result: sig.ret.native,
  } as Deno.UnsafeCallbackDefinition;
  const hold = new _Hold();
  const report = threadSafe ? errorReporter(onError) : null;
  const gate = {
    open: true,
    closedError: () => new FfiError(`C called ${label} after it was closed`),
    // Thrown while C ran it for a pending nonblocking call: that call rejects with it.
    claim: (e: unknown): boolean => {
      if (report === null) return _claimCallbackError(hold, e);
      // A thread-safe callback's bad result (checked after it returned): where its exceptions go.
      report(e);
      return true;
    },
  };
  const body = report === null ? fn : reportingErrors(fn, sig.ret, report);
  const wrapper = _compileCallback(label, sig, body, gate);
  const deno = threadSafe
    ? Deno.UnsafeCallback.threadSafe(def, wrapper as never)
    : new Deno.UnsafeCallback(def, wrapper as never);
  return new Callback(kConstruct, deno, canonical(sig.ret, ret), sig.args.length, gate, hold, threadSafe);
}

/**
 * Checks the options of a callback.
 * @internal
 * @ignore
 */
export function _callbackOptions(
  options: unknown,
  label: string,
): { threadSafe: boolean; onError: ((error: unknown) => void) | undefined } {
  if (options === undefined) return { threadSafe: false, onError: undefined };
  if (!_isPlainObject(options)) {
    throw new TypeError(
      `Invalid options ${_describe(options)} for ${label}: expected an object such as { threadSafe: true }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== "threadSafe" && key !== "onError") {
      throw new TypeError(
        `Unknown option "${key}" in options ${
          _describe(options)
        } for ${label}: the options are threadSafe and onError`,
      );
    }
  }
  const { threadSafe, onError } = options as CallbackOptions;
  if (threadSafe !== undefined && typeof threadSafe !== "boolean") {
    throw new TypeError(
      `Invalid option threadSafe: ${_describe(threadSafe)} for ${label}: expected a boolean`,
    );
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Invalid option onError: ${_describe(onError)} for ${label}: expected a function`);
  }
  if (onError !== undefined && threadSafe !== true) {
    throw new TypeError(`Option onError for ${label} needs threadSafe: true`);
  }
  return { threadSafe: threadSafe === true, onError };
}

/**
 * `fn` made to hand its exceptions to `onError`, or to report them as uncaught errors of the
 * program, and give C a zero value instead: a thread-safe callback's exception has no JavaScript
 * caller to go to (C called it from a thread of its own).
 */
function reportingErrors(
  // deno-lint-ignore no-explicit-any -- as in `callback`
  fn: (...args: any[]) => unknown,
  ret: TypeSpec,
  report: (error: unknown) => void,
): (...args: unknown[]) => unknown {
  const zero = zeroOf(ret);
  const reporting = function (...args: unknown[]): unknown {
    try {
      return fn(...args);
    } catch (e) {
      report(e);
      return typeof zero === "function" ? zero() : zero;
    }
  };
  Object.defineProperty(reporting, "name", { value: fn.name });
  return reporting;
}

/** Hands a thread-safe callback's exception to `onError`, or reports it as uncaught. */
function errorReporter(onError: ((error: unknown) => void) | undefined): (error: unknown) => void {
  return (error: unknown) => {
    if (onError === undefined) {
      // After C has its zero value: `reportError` with no listener ends the program.
      queueMicrotask(() => reportError(error));
      return;
    }
    try {
      onError(error);
    } catch (e) {
      queueMicrotask(() => reportError(e));
    }
  };
}

/** The zero value of a C type as a callback result (a function for a struct: a fresh object). */
function zeroOf(t: TypeSpec): unknown {
  switch (t.name) {
    case "void":
      return undefined;
    case "bool":
      return false;
    case "i64":
    case "u64":
    case "isize":
    case "usize":
      return 0n;
    case "pointer":
    case "string":
      return null;
    case "struct":
      return () => ({});
    default:
      return 0;
  }
}

function canonical(t: TypeSpec, given: CType): CType {
  return t.struct !== null ? given : t.name as CType;
}
