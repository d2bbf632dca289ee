/**
 * Callbacks: JavaScript functions that C can call, with arguments and results converted by the
 * value rules.
 *
 * @module
 */

import { _compileCallback, _release, _signature, type TypeSpec } from "./_call.ts";
import { FfiError } from "./errors.ts";
import { _markClosedCallback, _rawFromPointerValue, type CType, kToRaw, type RawPointer } from "./pointer.ts";
import { _describe } from "./types.ts";

const kConstruct = Symbol("Callback.construct");

/** Whether each callback's pointer is still callable, by its RawPointer (for `ffi.fn` over a callback). */
const gates = new WeakMap<object, { readonly open: boolean }>();

/**
 * The open/closed state of the callback whose pointer `raw` is, or undefined when it is not one: a
 * function bound to a callback's pointer checks it at each call, as C would otherwise jump to freed
 * code once the callback is closed.
 * @internal
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
 * led C to call it. Once one invocation has thrown, later ones in the same outer call return zero
 * without running.
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
  readonly #ptr: RawPointer;
  readonly #ret: CType;
  readonly #argCount: number;
  readonly #gate: { open: boolean };

  /** @internal Use {@linkcode callback}. */
  constructor(
    token: typeof kConstruct,
    deno: Deno.UnsafeCallback,
    ret: CType,
    argCount: number,
    gate: { open: boolean },
  ) {
    if (token !== kConstruct) {
      throw new TypeError("Callback cannot be constructed directly: use ffi.callback()");
    }
    this.#deno = deno;
    this.#gate = gate;
    this.#ptr = _rawFromPointerValue(deno.pointer);
    gates.set(this.#ptr, gate);
    this.#ret = ret;
    this.#argCount = argCount;
  }

  /** The C function pointer. Throws once the callback is closed. */
  get ptr(): RawPointer {
    if (this.#deno === null) throw new FfiError("Cannot use the pointer of a closed callback");
    return this.#ptr;
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
    this.#gate.open = false;
    _markClosedCallback(this.#ptr);
    _release(() => deno.close());
  }

  /** Closes the callback (`using cb = ffi.callback(...)`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The pointer, for passing a Callback itself as a `pointer` argument. @internal */
  [kToRaw](): RawPointer {
    return this.ptr;
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    const ret = typeof this.#ret === "string" ? this.#ret : "struct";
    return this.#deno === null
      ? `Callback(closed, ${this.#argCount} args -> ${ret})`
      : `Callback(0x${this.#ptr.addr.toString(16)}, ${this.#argCount} args -> ${ret})`;
  }
}

/**
 * Makes `fn` callable from C with the C signature `(argTypes) -> ret`.
 *
 * @throws {TypeError} when `fn` is not a function or a type is unknown.
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
 */
export function callback(
  // deno-lint-ignore no-explicit-any -- a callback's parameters are whatever its C types make them
  fn: (...args: any[]) => unknown,
  ret: CType,
  argTypes: readonly CType[],
): Callback {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot make a callback of ${_describe(fn)}: expected a function`);
  }
  const label = `callback ${fn.name || "(anonymous)"}`;
  const sig = _signature(label, ret, argTypes);
  const def = {
    parameters: sig.args.map((a) => a.native as Deno.NativeType),
    result: sig.ret.native,
  } as Deno.UnsafeCallbackDefinition;
  const gate = {
    open: true,
    closedError: () => new FfiError(`C called ${label} after it was closed`),
  };
  const wrapper = _compileCallback(label, sig, fn, gate);
  const deno = new Deno.UnsafeCallback(def, wrapper as never);
  return new Callback(kConstruct, deno, canonical(sig.ret, ret), sig.args.length, gate);
}

function canonical(t: TypeSpec, given: CType): CType {
  return t.struct !== null ? given : t.name as CType;
}
