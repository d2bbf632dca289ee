/**
 * Variadic-call trampolines of the native core (`native/src/library.rs`), bound per signature.
 * (The loader functions, `lffi_library_*`, are declared with the rest of the core in `_native.ts`.)
 *
 * A trampoline is bound with the C function's own signature plus one trailing pointer, the target:
 * Deno calls it on its fast path, and it jumps to the target with `al` set, as a variadic callee
 * needs on x86_64. So one Deno binding per signature serves every function of that signature,
 * named or reached through a pointer, at the cost of a jump.
 *
 * @module
 */

import { _integerClassCount, type Signature } from "./_call.ts";
import { _nativeLibraryPath } from "./_native.ts";

/**
 * Whether this platform has the variadic-call trampolines (`lffi_vararg_fcall0..7`,
 * `lffi_vararg_call0..5`, `lffi_vararg_stack0..15`).
 */
export const _hasVarargTrampolines: boolean = Deno.build.arch === "x86_64" && Deno.build.os !== "windows";

/** Integer-class arguments passed in registers (System V x86_64); the rest go on the stack. */
const INT_REGS = 6;
const SSE_REGS = 8;
const STACK_TRAMPOLINES = 16;

/**
 * The trampoline that routes a call of `sig` plus its target, or null when none does (a struct by
 * value, or more stack arguments than the trampolines cover). With `k < 8` floating-point arguments
 * the target goes as one more `f64` (its address as a number, which Deno's fast path takes as it is,
 * where a pointer object must be unwrapped: a quarter of a nanosecond less) and arrives in `xmm<k>`;
 * else, with `k < 6` integer-class arguments, in the next integer register; otherwise it is the
 * stack argument after every argument that spilled to the stack.
 * @internal
 * @ignore
 */
export function _trampolineName(sig: Signature): string | null {
  if (!_hasVarargTrampolines) return null;
  if (sig.ret.struct !== null || sig.args.some((a) => a.struct !== null)) return null;
  const floats = sig.args.filter((a) => a.name === "f32" || a.name === "f64").length;
  if (floats < SSE_REGS) return `lffi_vararg_fcall${floats}`;
  const ints = _integerClassCount(sig);
  if (ints < INT_REGS) return `lffi_vararg_call${ints}`;
  const j = ints - INT_REGS + Math.max(0, floats - SSE_REGS);
  return j < STACK_TRAMPOLINES ? `lffi_vararg_stack${j}` : null;
}

/**
 * What the trampoline `symbol` takes as the target argument for the function at `target`: the
 * address as a number for the `f64` ones, else the pointer.
 * @internal
 * @ignore
 */
export function _trampolineTarget(symbol: string, target: Deno.PointerValue): Deno.PointerValue | number {
  return symbol.startsWith("lffi_vararg_fcall") ? Number(Deno.UnsafePointer.value(target)) : target;
}

/** The trampolines bound per signature: one Deno binding per (trampoline, Deno definition), shared by all. */
const trampolines = new Map<string, (...args: unknown[]) => unknown>();

/**
 * The native trampoline `symbol` (from {@linkcode _trampolineName}) bound with `def` plus a trailing
 * pointer (the target).
 * @internal
 * @ignore
 */
export function _trampoline(symbol: string, def: Deno.ForeignFunction): (...args: unknown[]) => unknown {
  const targetType = symbol.startsWith("lffi_vararg_fcall") ? "f64" : "pointer";
  const full: Deno.ForeignFunction = { parameters: [...def.parameters, targetType], result: def.result };
  const key = `${symbol}:${JSON.stringify(full)}`;
  let f = trampolines.get(key);
  if (f === undefined) {
    const dl = Deno.dlopen(_nativeLibraryPath(), { f: { name: symbol, ...full } });
    f = dl.symbols.f as (...args: unknown[]) => unknown;
    trampolines.set(key, f);
  }
  return f;
}
