/**
 * The native core's functions (`native/`), opened on first use by `_native_loader.ts`.
 *
 * @module
 */

import { _openNative, NATIVE_ENV, type OpenedNative } from "./_native_loader.ts";

export { NATIVE_ENV };

/**
 * The path the native library was loaded from (opening it first if needed).
 * @internal
 * @ignore
 */
export function _nativeLibraryPath(): string {
  if (opened === undefined) _native();
  return opened!.path;
}

/** A pointer base plus an `f64` byte offset: see `native/src/lib.rs` for why. */
const at = ["pointer", "f64"] as const;

const SYMBOLS = {
  lffi_mem_copy: { parameters: ["pointer", "f64", "pointer", "f64", "f64"], result: "void" },
  lffi_mem_fill: { parameters: [...at, "f64", "u8"], result: "void" },
  lffi_mem_strlen: { parameters: at, result: "f64" },
  lffi_mem_read_i8: { parameters: at, result: "i8" },
  lffi_mem_read_u8: { parameters: at, result: "u8" },
  lffi_mem_read_i16: { parameters: at, result: "i16" },
  lffi_mem_read_u16: { parameters: at, result: "u16" },
  lffi_mem_read_i32: { parameters: at, result: "i32" },
  lffi_mem_read_u32: { parameters: at, result: "u32" },
  lffi_mem_read_i64: { parameters: at, result: "i64" },
  lffi_mem_read_u64: { parameters: at, result: "u64" },
  lffi_mem_read_f32: { parameters: at, result: "f32" },
  lffi_mem_read_f64: { parameters: at, result: "f64" },
  lffi_mem_read_addr: { parameters: at, result: "f64" },
  lffi_mem_write_i8: { parameters: [...at, "i8"], result: "void" },
  lffi_mem_write_u8: { parameters: [...at, "u8"], result: "void" },
  lffi_mem_write_i16: { parameters: [...at, "i16"], result: "void" },
  lffi_mem_write_u16: { parameters: [...at, "u16"], result: "void" },
  lffi_mem_write_i32: { parameters: [...at, "i32"], result: "void" },
  lffi_mem_write_u32: { parameters: [...at, "u32"], result: "void" },
  lffi_mem_write_i64: { parameters: [...at, "i64"], result: "void" },
  lffi_mem_write_u64: { parameters: [...at, "u64"], result: "void" },
  lffi_mem_write_f32: { parameters: [...at, "f32"], result: "void" },
  lffi_mem_write_f64: { parameters: [...at, "f64"], result: "void" },
  lffi_mem_write_addr: { parameters: [...at, "f64"], result: "void" },
  lffi_mem_addr: { parameters: ["pointer"], result: "f64" },
  // The system loader: Deno's `Deno.dlopen` hides its handle, so `dlsym`, `dlerror` and the dynamic
  // symbol table are reached through our own.
  lffi_library_open: { parameters: ["buffer"], result: "pointer" },
  lffi_library_error: { parameters: [], result: "pointer" },
  lffi_library_symbol: { parameters: ["pointer", "buffer"], result: "pointer" },
  lffi_library_close: { parameters: ["pointer"], result: "i32" },
  lffi_library_path: { parameters: ["pointer"], result: "pointer" },
  lffi_library_symtab: { parameters: ["pointer", "buffer"], result: "i32" },
  // The call engine (native/src/call.rs): signatures prepared once with libffi, calls run from a block.
  lffi_call_prepare: {
    parameters: ["buffer", "u32", "u32", "u32", "buffer", "u32"],
    result: "pointer",
  },
  lffi_call_block_init: { parameters: ["pointer", "pointer", "f64", "pointer", "pointer"], result: "i32" },
  lffi_call: { parameters: ["pointer"], result: "void" },
  // The same entry on Deno's blocking pool, for nonblocking calls whose errno is wanted (`_nonblocking.ts`).
  lffi_call_nonblocking: { name: "lffi_call", parameters: ["pointer"], result: "void", nonblocking: true },
  // The System V x86-64 engine (native/src/sysv.rs): a register block per bound function.
  lffi_call_sysv: { parameters: ["pointer"], result: "void" },
  lffi_sysv_block_init: { parameters: ["pointer", "f64", "pointer", "f64", "f64", "i32"], result: "i32" },
  lffi_errno_location: { parameters: [], result: "pointer" },
  lffi_last_error_location: { parameters: [], result: "pointer" },
} as const;

/** The native core's functions, typed. */
export type NativeSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let opened: OpenedNative<typeof SYMBOLS> | undefined;

/**
 * The native core, opened on first use (see `_native_loader.ts` for where it is looked up and the
 * errors it gives).
 * @internal
 * @ignore
 */
export function _native(): NativeSymbols {
  if (opened === undefined) opened = _openNative(SYMBOLS);
  return opened.library.symbols;
}
