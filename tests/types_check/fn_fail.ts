// Must FAIL `deno check`, with an error on exactly the lines marked `// error` and nowhere else: the list
// form of `lib.fn` is typed from its literal type names (C spellings included), so a wrong argument count
// or kind, or a wrong use of the result, is a compile error. tests/cdef_api_test.ts checks that.
// Excluded from the workspace (deno.json); never run.
import * as ffi from "../../mod.ts";

const libc = ffi.load("libc.so.6");
const strlen = libc.fn("strlen", "size_t", ["const char*"]);
strlen("abc");
strlen(42); // error: a number is not a string argument
strlen("a", "extra"); // error: one argument
const n: number = strlen("abc"); // error: size_t returns a bigint
const abs = libc.fn("abs", "int", ["int"]);
abs(-1);
abs(1n); // error: an int takes a number
abs(); // error: one argument
const s: string = abs(1); // error: int returns a number
const memset = libc.fn("memset", "void*", ["void*", "int", "size_t"]);
memset(new Uint8Array(4), 0, 4n);
memset(null, 0, 4);
memset("x", 0, 4); // error: a JS string is not a pointer argument
const r: number = memset(null, 0, 4); // error: a pointer result is a RawPointer
const getpid = libc.fn("getpid", "i32", []);
getpid(1); // error: no arguments
const P = ffi.struct([["x", "i32"], ["y", "i32"]] as const);
const byValue = libc.fn("fx", "i32", [P]);
byValue({ x: 1 });
byValue({ x: 1, z: 2 }); // error: a field P lacks
const later = await libc.fn("usleep", "int", ["unsigned int"], { nonblocking: true })("1"); // error: takes a number
void n, s, r, later;
