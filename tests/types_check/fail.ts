// Must FAIL `deno check`, with an error on exactly the lines marked `// error` and nowhere else.
// tests/struct_types_test.ts checks that. Excluded from the workspace (deno.json) so that
// `deno check`, `deno lint` and `deno fmt` of the whole tree stay clean; never run.
import * as ffi from "../../mod.ts";

const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]] as const);
const Player = ffi.struct([["pos", Vec2], ["id", "i64"], ["name", "u8", 8]] as const);
const arena = ffi.arena();
const p = ffi.view(arena.allocType(Player), Player);

p.health; // error: no such field
p.hp = 3; // error: no such field
p.pos.z; // error: no such field in the nested struct
Player.offsetOf("health"); // error: no such field
Player.sizeOf("nope"); // error: no such field
const id: number = p.id; // error: an i64 field is a bigint
p.pos.x = "1"; // error: an f32 field takes a number
p.name[0] = "A"; // error: index syntax takes a number
const n: string = p.name.get(0); // error: a u8 element is a number
ffi.struct([["v", "void"]]); // error: void is not a field type
ffi.struct([["v", "i128"]]); // error: unknown type name
ffi.cast(arena.alloc(8), "int128"); // error: unknown type name
ffi.cast(arena.alloc(8), "u64")[0] = 1; // error: 64-bit index syntax takes a bigint
ffi.view(arena.alloc(8), "i32"); // error: not a struct definition
void id, n;
