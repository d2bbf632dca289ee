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

// An unknown field of an `as const` view is a compile error, for reads and writes.
// @ts-expect-error: no field "nope"
e.nope;
// @ts-expect-error: no field "nope"
e.nope = 1;
// offsetOf/sizeOf take any string (the names autocomplete): an unknown field throws at run time.
Entity.offsetOf("pos");
Entity.sizeOf("nope");
// @ts-expect-error: a string is not an f32
e.x = "1";
// @ts-expect-error: an i64 field reads as bigint, not number
const asNumber: number = e.id;
void asNumber;

// Definitions without `as const` have loose views: any property, of type `any`, still pointer-like.
const Inline = ffi.struct([["a", "u16"], ["b", "f64", 2], ["id", "i64"], ["next", "pointer"]]);
const i = ffi.view(arena.allocType(Inline), Inline);
assertType<Equal<typeof i, ffi.LooseStructView>>();
// deno-lint-ignore no-explicit-any
type Any = any;
assertType<Equal<typeof i.a, Any>>();
assertType<Equal<typeof i.anything, Any>>();
assertType<Equal<typeof i.constructor, Any>>();
assertType<Equal<ReturnType<typeof Inline.fields>, string[]>>();
const looseMany = ffi.cast(arena.allocArray(Inline, 2), Inline, 2);
assertType<Equal<typeof looseMany[0], Any>>();
looseMany[0] = { a: 1, b: [1, 2], id: 3, next: null };
i.b = [1, 2];
i.id = 5;
i.next = null;
ffi.toRaw(i);
const fromList: ffi.FieldSpec[] = [["a", "u16"]];
assertType<Equal<ffi.StructView<typeof fromList>, ffi.LooseStructView>>();
assertType<Equal<ffi.StructView, ffi.LooseStructView>>();
assertType<Equal<ReturnType<typeof ffi.read<typeof Inline>>, ffi.AnyFields>>();
// Any string is a type name at compile time (an unknown one throws at run time).
ffi.struct([["a", "int33"]]);
ffi.sizeof("int33");

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
many.set(0, { x: 1 }); // set() takes any value: a wrong one is a run-time error
const named: string = "u16";
const dyn = ffi.cast(raw, named);
assertType<Equal<typeof dyn, ffi.TypedPointer<unknown, unknown>>>();
const pair = ffi.cast(raw, "i32" as "i32" | "i64");
assertType<Equal<typeof pair[0], number | bigint>>();

// Views and typed pointers are pointer-like.
ffi.toRaw(e);
ffi.toRaw(ints);
ffi.read(ints, 0, "i32");
ffi.copy(e, one, Vec2.size);

// Read and call results.
assertType<Equal<ReturnType<typeof raw.read<"int">>, number>>();
assertType<Equal<ReturnType<typeof raw.read<"size_t">>, bigint>>();
assertType<Equal<ReturnType<typeof raw.read<"bool">>, boolean>>();
assertType<Equal<ReturnType<typeof raw.read<"void*">>, ffi.RawPointer>>();
assertType<Equal<ReturnType<typeof raw.read<"char*">>, string | null>>();
assertType<Equal<ReturnType<typeof raw.read<string>>, unknown>>();
assertType<Equal<ReturnType<typeof ffi.read<"f32">>, number>>();
assertType<Equal<ffi.CResult<"void">, undefined>>();
assertType<Equal<ffi.CResult<"i8" | "u64">, number | bigint>>();
assertType<Equal<ffi.CResult<typeof Vec2>, ffi.StructValue<typeof Vec2.spec>>>();
const libc = ffi.load("libc.so.6");
assertType<Equal<ReturnType<typeof libc.call<"int">>, number>>();
assertType<Equal<ReturnType<ReturnType<typeof libc.fn<"usize", []>>>, bigint>>();
const buf = ffi.buffer(8);
assertType<Equal<ReturnType<typeof buf.read<"u16">>, number>>();

// Plain-object types.
const input: ffi.StructInput<typeof Vec2.spec> = { x: 1, y: 2 };
const value = ffi.read(raw, 0, Entity);
assertType<Equal<typeof value, ffi.StructValue<typeof Entity.spec>>>();
assertType<Equal<typeof value.path, ffi.StructValue<typeof Vec2.spec>[]>>();
assertType<Equal<typeof value.name, number[]>>();
assertType<Equal<ffi.CValue<"size_t">, bigint>>();
assertType<Equal<ffi.CInput<"i64">, number | bigint>>();
void input;
