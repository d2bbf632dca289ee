/**
 * Variadic-call trampolines of the native core (`native/src/library.rs`), bound per signature.
 * (The loader functions, `lffi_library_*`, are declared with the rest of the core in `_native.ts`.)
 *
 * @module
 */

import { _nativeLibraryPath } from "./_native.ts";

/** Whether this platform has the variadic-call trampolines (`lffi_vararg_call0..5`). */
export const _hasVarargTrampolines: boolean = Deno.build.arch === "x86_64" && Deno.build.os !== "windows";

/** The trampolines bound per signature: one Deno binding per (k, Deno definition), shared by all libraries. */
const trampolines = new Map<string, (...args: unknown[]) => unknown>();

/**
 * The native trampoline `lffi_vararg_call<k>` bound with `def` plus a trailing pointer (the target),
 * which sets `al` as the x86_64 variadic convention requires (see `native/src/library.rs`).
 * @internal
 */
export function _varargTrampoline(k: number, def: Deno.ForeignFunction): (...args: unknown[]) => unknown {
  const full: Deno.ForeignFunction = { parameters: [...def.parameters, "pointer"], result: def.result };
  const key = `${k}:${JSON.stringify(full)}`;
  let f = trampolines.get(key);
  if (f === undefined) {
    const dl = Deno.dlopen(_nativeLibraryPath(), { f: { name: `lffi_vararg_call${k}`, ...full } });
    f = dl.symbols.f as (...args: unknown[]) => unknown;
    trampolines.set(key, f);
  }
  return f;
}
