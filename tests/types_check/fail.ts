// Must FAIL `deno check`, with an error on exactly the lines marked `// error` and nowhere else.
// tests/struct_types_test.ts checks that. Excluded from the workspace (deno.json) so that
// `deno check`, `deno lint` and `deno fmt` of the whole tree stay clean; never run.
import * as ffi from "../../mod.ts";

const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]] as const);
const Player = ffi.struct([["pos", Vec2], ["id", "i64"], ["name", "u8", 8], ["next", "pointer"]] as const);
const arena = ffi.arena();
const p = ffi.view(arena.allocType(Player), Player);

p.health; // error: no such field
p.hp = 3; // error: no such field
p.pos.z; // error: no such field in the nested struct
const id: number = p.id; // error: an i64 field is a bigint
p.pos.x = "1"; // error: an f32 field takes a number
p.id = 5; // error: a precise i64 field has the type it reads as (Object.assign takes a number)
p.next = null; // error: a precise pointer field has the type it reads as
p.name[0] = "A"; // error: index syntax takes a number
const n: string = p.name.get(0); // error: a u8 element is a number
ffi.cast(arena.alloc(8), "u64")[0] = 1; // error: 64-bit index syntax takes a bigint
ffi.view(arena.alloc(8), "i32"); // error: not a struct definition
const x: string = ffi.read(p, 0, "i32"); // error: an i32 reads as a number
const big: number = arena.alloc(8).read(0, "u64"); // error: a u64 reads as a bigint
const ptr: number = ffi.buffer(8).read(0, "pointer"); // error: a pointer reads as a RawPointer
const s: number = ffi.load("libc.so.6").call("getenv", "string", ["string"], "HOME"); // error: string | null
const v: { pos: number } = ffi.read(p, 0, Player); // error: pos reads as a plain object
const q: string = ffi.read(p, 0, "i32" as string); // error: a run-time name reads as unknown
ffi.sizeof(42); // error: not a C type
void id, n, x, big, ptr, s, v, q;
