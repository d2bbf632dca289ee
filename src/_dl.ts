/**
 * The system loader, through the native core (`native/src/library.rs`): Deno's `Deno.dlopen` hides
 * its handle, so `dlsym`, `dlerror` and the dynamic symbol table are reached through our own.
 *
 * @module
 */

import { _nativeLibraryPath } from "./_native.ts";

const SYMBOLS = {
  lffi_library_open: { parameters: ["buffer"], result: "pointer" },
  lffi_library_error: { parameters: [], result: "pointer" },
  lffi_library_symbol: { parameters: ["pointer", "buffer"], result: "pointer" },
  lffi_library_close: { parameters: ["pointer"], result: "i32" },
  lffi_library_path: { parameters: ["pointer"], result: "pointer" },
  lffi_library_symtab: { parameters: ["pointer", "buffer"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** The loader functions of the native core, opened on first use. @internal */
export function _dl(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === undefined) {
    const path = _nativeLibraryPath();
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (cause) {
      throw new Error(
        `lune-ffi: cannot load its native library from ${path}: ${(cause as Error).message}. ` +
          "Build it with `cargo build --release` (or `deno task build`) at the package root.",
        { cause },
      );
    }
  }
  return lib.symbols;
}

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
