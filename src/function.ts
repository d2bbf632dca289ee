/**
 * Calling a C function through a pointer: {@linkcode fn}.
 *
 * @module
 */

import {
  _boundCallState,
  _compileCall,
  _denoDefinition,
  _signature,
  _splitVariadic,
  _typeKey,
  type Signature,
} from "./_call.ts";
import { _trampoline, _trampolineName, _trampolineTarget } from "./_dl.ts";
import { _compileEngineCall } from "./_engine.ts";
import { _callbackGate } from "./callback.ts";
import { _toSignature } from "./cdef.ts";
import { _callbackHolds } from "./_hold.ts";
import { _callOptions, _nonblockingFunction, type CallOptions, type ErrnoResult } from "./_nonblocking.ts";
import { _get, _has, FfiError } from "./errors.ts";
import { _rawOf, _toPointerValue, type CType, type PointerLike } from "./pointer.ts";
import type { CallArgs, CResult } from "./struct_types.ts";
import { _describe } from "./types.ts";

/**
 * A C function type as `ffi.cdef` gives it for a prototype: its name, result and argument types
 * (type values: names or struct definitions), and whether it is variadic.
 */
export interface SignatureLike {
  /** The C function's name, used in error messages. */
  readonly name?: string;
  /** The result type. */
  readonly ret: CType;
  /** The types of the fixed arguments. */
  readonly args: readonly CType[];
  /**
   * Whether the prototype ends in `...`: calls pass the fixed arguments, then a C type and a value
   * for each extra argument (`printf(fmt, "int", 7, "double", 2.5)`).
   */
  readonly variadic?: boolean;
}

/** Addresses below this (the first page, never mapped) cannot hold a function. */
const NULL_PAGE = 4096;

function isSignature(x: unknown): x is SignatureLike {
  return typeof x === "object" && x !== null && _has(x, "ret") && Array.isArray(_get(x, "args"));
}

/**
 * A plain function that calls the C function at `target` with the C signature `(argTypes) -> ret`,
 * converting arguments and the result by the value rules, as {@linkcode Library.fn} does. `target` is
 * any pointer to a C function: from {@linkcode Library.getSymbol}, read out of C memory (a vtable, a
 * plug-in table, `dlsym`), or a {@linkcode Callback} (or its `ptr`). The signature may also be given
 * as one object `{ name?, ret, args }` (what `ffi.cdef` makes of a prototype).
 *
 * The call costs about what a call by name costs: the signature is prepared once, and every
 * signature is a fast call (structs by value go through the native call engine). Nothing can check
 * that the pointer really is a function of that signature: as in C, a wrong one crashes. A
 * callback's pointer is checked: once the callback is closed, calling it throws.
 *
 * @throws {TypeError} for an unknown type, or a target that is not a pointer.
 * @throws {FfiError} for a NULL (or first-page) target, or a closed callback.
 *
 * @example Calling libm's `cos` through its address
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libm = ffi.load("libm.so.6");
 * const cos = ffi.fn(libm.getSymbol("cos")!, "f64", ["f64"]);
 * assert.equal(cos(0), 1);
 *
 * // A callback's pointer works too, and so does the signature as one object.
 * using twice = ffi.callback((x: number) => 2 * x, "i32", ["i32"]);
 * const call = ffi.fn(twice, { ret: "i32", args: ["i32"] });
 * assert.equal(call(21), 42);
 * ```
 */
export function fn<R extends CType, const A extends readonly CType[]>(
  target: PointerLike | Deno.PointerValue,
  ret: R,
  argTypes: A,
): (...args: CallArgs<A>) => CResult<R>;
/**
 * {@linkcode fn} with options: `{ nonblocking: true }` gives a function that runs the call on
 * another thread and returns a Promise (with `errno: true`, of `{ result, errno }`), as
 * {@linkcode Library.fn} does. A callback passed as the target stays callable until the calls return.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libm = ffi.load("libm.so.6");
 * const sqrt = ffi.fn(libm.getSymbol("sqrt")!, "f64", ["f64"], { nonblocking: true });
 * assert.equal(await sqrt(81), 9);
 * ```
 */
export function fn<R extends CType, const A extends readonly CType[]>(
  target: PointerLike | Deno.PointerValue,
  ret: R,
  argTypes: A,
  options: CallOptions & { nonblocking: true; errno: true },
): (...args: CallArgs<A>) => Promise<ErrnoResult<CResult<R>>>;
/**
 * {@linkcode fn} returning a Promise: see the signature with options.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libc = ffi.load("libc.so.6");
 * const abs = ffi.fn(libc.getSymbol("abs")!, "int", ["int"], { nonblocking: true });
 * assert.equal(await abs(-2), 2);
 * ```
 */
export function fn<R extends CType, const A extends readonly CType[]>(
  target: PointerLike | Deno.PointerValue,
  ret: R,
  argTypes: A,
  options: CallOptions & { nonblocking: true },
): (...args: CallArgs<A>) => Promise<CResult<R>>;
/**
 * {@linkcode fn} with the signature as one object `{ name?, ret, args, variadic? }` (what `ffi.cdef`
 * makes of a prototype).
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libm = ffi.load("libm.so.6");
 * const pow = ffi.fn(libm.getSymbol("pow")!, { name: "pow", ret: "f64", args: ["f64", "f64"] });
 * assert.equal(pow(2, 8), 256);
 * ```
 */
export function fn(
  target: PointerLike | Deno.PointerValue,
  signature: SignatureLike,
  options?: CallOptions,
): (...args: unknown[]) => unknown;
/**
 * {@linkcode fn} with the signature as a C prototype string (the name in it only labels errors).
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libc = ffi.load("libc.so.6");
 * const strlen = ffi.fn(libc.getSymbol("strlen")!, "size_t strlen(const char *s);");
 * assert.equal(strlen("abc"), 3n);
 * ```
 */
export function fn(
  target: PointerLike | Deno.PointerValue,
  prototype: string,
  options?: CallOptions,
  // deno-lint-ignore no-explicit-any -- the types of a prototype string are not known to the compiler
): (...args: any[]) => any;
export function fn(
  target: PointerLike | Deno.PointerValue,
  retOrSignature: CType | SignatureLike,
  argTypes?: readonly CType[] | CallOptions,
  options?: CallOptions,
): (...args: unknown[]) => unknown {
  let ret: unknown = retOrSignature;
  let args: unknown = argTypes;
  let name: string | undefined;
  let variadic = false;
  // A prototype string, as `lib.fn` and `ffi.callback` take it: `ffi.fn(p, "size_t strlen(const char *s)")`.
  if (!Array.isArray(argTypes) && typeof retOrSignature === "string" && /\(/.test(retOrSignature)) {
    retOrSignature = _toSignature(retOrSignature, "ffi.fn()", false);
  }
  if ((argTypes === undefined || !Array.isArray(argTypes)) && isSignature(retOrSignature)) {
    variadic = retOrSignature.variadic === true;
    options = argTypes as CallOptions | undefined;
    ret = retOrSignature.ret;
    args = retOrSignature.args;
    if (typeof retOrSignature.name === "string" && retOrSignature.name !== "") name = retOrSignature.name;
  }
  if (args === undefined) {
    throw new TypeError(
      `ffi.fn(ptr, ret, argTypes): missing the argument types for argTypes, got ${_describe(argTypes)} ` +
        `(or pass one signature object { ret, args } for ret, got ${_describe(retOrSignature)})`,
    );
  }
  let addr: bigint;
  let pv: Deno.PointerValue;
  try {
    pv = _toPointerValue(target, "ptr (the target) of ffi.fn()");
    addr = pv === null ? 0n : BigInt(Deno.UnsafePointer.value(pv));
  } catch (e) {
    // Freed memory, a closed callback's pointer, or an object Deno does not take as a pointer value.
    if (e instanceof FfiError) throw new FfiError(`ffi.fn(): ptr: ${e.message}`, { cause: e });
    if (e instanceof TypeError && e.message.includes("ffi.fn()")) throw e;
    throw new TypeError(`ffi.fn(): expected a function pointer for ptr, got ${_describe(target)}`, {
      cause: e,
    });
  }
  if (addr < BigInt(NULL_PAGE)) {
    throw new FfiError(
      `ffi.fn(): cannot call a function at ${addr === 0n ? "NULL" : `0x${addr.toString(16)}`} (ptr ${
        _describe(target)
      })`,
    );
  }
  const label = name ?? `function at 0x${addr.toString(16)}`;
  const sig = _signature(label, ret, args, "ffi.fn()");
  const raw = _rawOf(target);
  const gate = raw === null ? undefined : _callbackGate(raw);
  if (options !== undefined) {
    const o = _callOptions(options, `ffi.fn(${label})`);
    if (o.nonblocking) return nonblocking(label, sig, pv, o, gate);
  }
  const inner = variadic ? bindVariadic(label, ret, args as readonly unknown[], pv) : bind(label, sig, pv);
  if (gate === undefined) return inner;
  // A callback's pointer: once closed, C would jump to freed code.
  return function callbackCall(...args: unknown[]): unknown {
    if (!gate.open) throw new FfiError(`Cannot call ${label}: the callback was closed`);
    return inner(...args);
  };
}

/**
 * The nonblocking function calling `target`: through Deno's `UnsafeFnPointer` with `nonblocking`
 * (libffi sets `al`, so variadic functions need no trampoline), or the engine for `errno`. When the
 * target is a callback, each call holds it (closing it waits for the call) and a closed one rejects.
 */
function nonblocking(
  label: string,
  sig: Signature,
  target: Deno.PointerValue,
  options: { errno: boolean },
  gate: { readonly open: boolean } | undefined,
): (...args: unknown[]) => Promise<unknown> {
  const addr = target === null ? 0n : BigInt(Deno.UnsafePointer.value(target));
  const check = () => {
    if (gate !== undefined && !gate.open) throw new FfiError(`Cannot call ${label}: the callback was closed`);
  };
  let call: ((...args: unknown[]) => Promise<unknown>) | null = null;
  return _nonblockingFunction(label, sig, options, {
    hold: gate === undefined ? null : _callbackHolds.get(addr) ?? null,
    address: () => {
      check();
      return target;
    },
    get: (def) => {
      check();
      if (call === null) {
        const fp = new Deno.UnsafeFnPointer(target as Deno.PointerObject<typeof def>, def);
        call = (...args: unknown[]) => fp.call(...(args as never[])) as Promise<unknown>;
      }
      return call;
    },
  });
}

/**
 * A variadic function at `target`: called with its fixed arguments, then a C type and a value for
 * each extra argument (`printf(fmt, "int", 7, "double", 2.5)`), bound once per list of extra types.
 */
function bindVariadic(
  label: string,
  ret: unknown,
  fixed: readonly unknown[],
  target: Deno.PointerValue,
): (...args: unknown[]) => unknown {
  const n = fixed.length;
  const bound = new Map<string, (...args: unknown[]) => unknown>();
  return function variadicCall(...args: unknown[]): unknown {
    const { types, values } = _splitVariadic(label, fixed, args);
    let key = "";
    for (let i = n; i < types.length; i++) key += `${_typeKey(types[i]) ?? "?"},`;
    let f = key.includes("?") ? undefined : bound.get(key);
    if (f === undefined) {
      f = bind(label, _signature(label, ret, types), target);
      if (!key.includes("?")) bound.set(key, f);
    }
    return f(...values);
  };
}

/** Binds the function at `target`: through a trampoline on Deno's fast path, or the engine. */
function bind(label: string, sig: Signature, target: Deno.PointerValue): (...args: unknown[]) => unknown {
  const tramp = _trampolineName(sig);
  if (tramp !== null) {
    const bound = _boundCallState(_trampoline(tramp, _denoDefinition(sig)), _trampolineTarget(tramp, target));
    return _compileCall(label, sig, bound, true);
  }
  return _compileEngineCall(label, sig, sig.args.length, target as Deno.PointerObject).fn;
}
