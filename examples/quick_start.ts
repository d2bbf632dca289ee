/**
 * The Quick Start, for real: an arena, a typed pointer, a library call.
 *
 * Run it with `npm run demo` (or `deno task demo`).
 *
 * @module
 */

import * as ffi from "@x/lune-ffi";

// Create a memory arena: every allocation is freed at the end of the scope (or when GC'd).
using arena = ffi.arena();
const ptr = arena.alloc(1024);

// Cast to a typed pointer for array access.
const ints = ffi.cast(ptr, "i32");
ints[0] = 42;
console.log(ints[0]); // 42

// Load a native library and call a function. (On Windows it would be kernel32.dll.)
const libcName = Deno.build.os === "darwin" ? "libSystem.B.dylib" : "libc.so.6";
using libc = ffi.load(libcName);
const pid = libc.call("getpid", "i32", []);
console.log("PID:", pid);
