// Must pass `deno check`: the types that struct definitions, views and typed pointers infer.
// Checked by tests/struct_types_test.ts (and by `deno task check`); never run.
import * as ffi from "../../mod.ts";

/** True when A and B are the same type (not merely assignable to each other). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<_ extends true>(): void {}

const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]] as const);
const Entity = ffi.struct(
  [
    ["x", "f32"],
    ["id", "i64"],
    ["size", "size_t"],
    ["alive", "bool"],
    ["next", "pointer"],
    ["label", "char*"],
    ["hp", "int"],
    ["name", "u8", 16],
    ["wide", "u64", 2],
    ["pos", Vec2],
    ["path", Vec2, 4],
  ] as const,
);

const arena = ffi.arena();
const e = ffi.view(arena.allocType(Entity), Entity);

// Each field has the type it reads as.
assertType<Equal<typeof e.x, number>>();
assertType<Equal<typeof e.id, bigint>>();
assertType<Equal<typeof e.size, bigint>>();
assertType<Equal<typeof e.alive, boolean>>();
assertType<Equal<typeof e.next, ffi.RawPointer>>();
assertType<Equal<typeof e.label, string | null>>();
assertType<Equal<typeof e.hp, number>>();
assertType<Equal<typeof e.name, ffi.TypedPointer<number, number>>>();
assertType<Equal<typeof e.wide, ffi.TypedPointer<bigint, number | bigint>>>();
assertType<Equal<typeof e.pos, ffi.StructView<typeof Vec2.spec>>>();
assertType<Equal<typeof e.pos.y, number>>();
assertType<Equal<typeof e.path[0]["x"], number>>();
assertType<Equal<ReturnType<typeof e.path.get>, ffi.StructView<typeof Vec2.spec>>>();
assertType<Equal<typeof e.name[0], number>>();
assertType<Equal<typeof e.wide[1], bigint>>();

// Writes of the read type compile.
e.x = 1.5;
e.id = 5n;
e.alive = true;
e.hp = -1;
e.pos = ffi.view(arena.allocType(Vec2), Vec2);
e.name[0] = 65;
e.name.set(1, 66);
e.wide.set(0, 7); // set() takes a number for 64-bit elements
e.path.set(1, { x: 1, y: 2 });
Object.assign(e, { name: "Ada", pos: { x: 1, y: 2 }, id: 3 });

// An unknown field is a compile error, for reads, writes and offsetOf.
// @ts-expect-error: no field "nope"
e.nope;
// @ts-expect-error: no field "nope"
e.nope = 1;
// @ts-expect-error: no field "nope"
Entity.offsetOf("nope");
// @ts-expect-error: a string is not an f32
e.x = "1";
// @ts-expect-error: an i64 field reads as bigint, not number
const asNumber: number = e.id;
void asNumber;

// Definitions written inline (without `as const`) are typed too.
const Inline = ffi.struct([["a", "u16"], ["b", "f64", 2]]);
const i = ffi.view(arena.allocType(Inline), Inline);
assertType<Equal<typeof i.a, number>>();
assertType<Equal<typeof i.b, ffi.TypedPointer<number, number>>>();
assertType<Equal<ReturnType<typeof Inline.fields>, ("a" | "b")[]>>();

// Casts.
const raw = arena.alloc(64);
const ints = ffi.cast(raw, "i32");
assertType<Equal<typeof ints[0], number>>();
const longs = ffi.cast(raw, "u64");
assertType<Equal<typeof longs[0], bigint>>();
longs.set(0, 1);
longs[0] = 1n;
// @ts-expect-error: index syntax on a 64-bit pointer takes a bigint, as BigUint64Array does
longs[0] = 1;
const flags = ffi.cast(raw, "bool", 4);
assertType<Equal<ReturnType<typeof flags.get>, boolean>>();
const ptrs = ffi.cast(raw, "void*");
assertType<Equal<ReturnType<typeof ptrs.get>, ffi.RawPointer>>();
ptrs.set(0, null);
ptrs.set(0, ints);
const strs = ffi.cast(raw, "char*");
assertType<Equal<typeof strs[0], string | null>>();
const one = ffi.cast(raw, Vec2);
assertType<Equal<typeof one, ffi.StructView<typeof Vec2.spec>>>();
const many = ffi.cast(raw, Vec2, 2);
assertType<Equal<typeof many[1]["y"], number>>();
many.set(0, { x: 1, y: 2 });
// @ts-expect-error: a missing field
many.set(0, { x: 1 });

// Views and typed pointers are pointer-like.
ffi.toRaw(e);
ffi.toRaw(ints);
ffi.read(ints, 0, "i32");
ffi.copy(e, one, Vec2.size);

// Plain-object types.
const input: ffi.StructInput<typeof Vec2.spec> = { x: 1, y: 2 };
const value = ffi.read(raw, 0, Entity) as ffi.StructValue<typeof Entity.spec>;
assertType<Equal<typeof value.path, ffi.StructValue<typeof Vec2.spec>[]>>();
assertType<Equal<typeof value.name, number[]>>();
assertType<Equal<ffi.CValue<"size_t">, bigint>>();
assertType<Equal<ffi.CInput<"i64">, number | bigint>>();
void input;
