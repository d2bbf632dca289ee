// Must pass `deno check`: test code written the way API.md reads, with no casts and no `as const`.
// A type error anywhere in a test file fails the whole file, so everything API.md allows must compile
// here, including the calls that throw at run time (unknown type names, wrong values).
// Checked by tests/api_types_test.ts (and by `deno task check`); never run.
import * as ffi from "../../mod.ts";
import assert from "node:assert/strict";

// The quick start.
const arena = ffi.arena();
const ptr = arena.alloc(1024);
const ints = ffi.cast(ptr, "i32");
ints[0] = 42;
console.log(ints[0] + 1);
const libc = ffi.load("libc.so.6");
const pid = libc.call("getpid", "i32", []);
assert.ok(pid > 0);
assert.equal(libc.call("getpid", "int", []) + 1, pid + 1);

// Unknown type names are run-time TypeErrors, so they compile everywhere a type goes.
assert.throws(() => ffi.sizeof("int33"), TypeError);
assert.throws(() => ffi.alignof("nope"), TypeError);
assert.throws(() => ptr.read(0, "nope"), TypeError);
assert.throws(() => ptr.write(0, "nope", 1), TypeError);
assert.throws(() => ffi.read(ptr, 0, "i128"), TypeError);
assert.throws(() => ffi.write(ptr, 0, "i128", 1), TypeError);
assert.throws(() => ffi.cast(ptr, "int33"), TypeError);
assert.throws(() => arena.allocType("nope"), TypeError);
assert.throws(() => arena.allocArray("nope", 2), TypeError);
assert.throws(() => ffi.struct([["x", "int33"]]), TypeError);
assert.throws(() => ffi.struct([["v", "void"]]), TypeError);
assert.throws(() => ffi.struct([["a", "i32"], ["a", "i32"]]), TypeError);
assert.throws(() => ffi.struct([["", "i32"]]), TypeError);
assert.throws(() => ffi.struct([["a", "i32", 0]]), RangeError);
assert.throws(() => libc.call("getpid", "int33", []), TypeError);
assert.throws(() => libc.call("abs", "i32", ["nope"], 1), TypeError);
assert.throws(() => libc.fn("abs", "i32", ["nope"]), TypeError);
assert.throws(() => ffi.callback(() => 0, "nope", []), TypeError);
assert.throws(() => ffi.callback(() => 0, "i32", ["nope"]), TypeError);
const buf0 = ffi.buffer(16);
assert.throws(() => buf0.read(0, "nope"), TypeError);
assert.throws(() => buf0.write(0, "nope", 1), TypeError);

// Type names held in variables of type string.
for (const t of ["i8", "u8", "i16", "u16", "i32", "u32", "f32", "f64"]) {
  assert.equal(ffi.sizeof(t), ffi.alignof(t));
  ptr.write(0, t, 1);
  assert.equal(ptr.read(0, t), 1);
  ffi.write(ptr, 0, t, 2);
  assert.equal(ffi.read(ptr, 0, t), 2);
  const p = ffi.cast(ptr, t);
  p[0] = 3;
  p.set(1, 4);
  assert.equal(p[0], 3);
  assert.equal(p.get(1), 4);
  assert.equal(p.add(1).count, p.count! - 1);
  arena.allocType(t);
  arena.allocArray(t, 4);
}
for (const t of ffi.typeNames) ffi.sizeof(t);
const names: string[] = ["int", "size_t", "char*", "void*"];
for (const n of names) assert.ok(ffi.sizeof(n) > 0);

// Values of each C type: read results have their value types.
ptr.write(0, "i32", -7);
assert.equal(ptr.read(0, "i32") * 2, -14);
assert.equal(ffi.read(ptr, 0, "i32") * 2, -14);
ptr.write(8, "i64", 5);
ptr.write(8, "i64", 5n);
assert.equal(ptr.read(8, "i64") + 1n, 6n);
assert.equal(ffi.read(ptr, 8, "size_t") * 2n, 10n);
ptr.write(16, "bool", true);
assert.equal(ptr.read(16, "bool") && true, true);
ptr.write(24, "pointer", null);
ptr.write(24, "pointer", ints);
ptr.write(24, "void*", ffi.ptr(0x1000));
assert.equal(ptr.read(24, "pointer").isNull, false);
assert.equal(ptr.read(24, "ptr").addr, ints.addr);
assert.equal(ptr.read(32, "string"), null);
const s: string | null = ptr.read(32, "char*");
void s;
const f: number = ffi.read(ptr, 0, "double");
void f;
ptr.write(0, "f64", Math.PI);
assert.equal(Math.round(ptr.read(0, "f64")), 3);
// Wrong values are run-time errors.
assert.throws(() => ptr.write(0, "i32", 1.5), TypeError);
assert.throws(() => ptr.write(0, "i32", "7"), TypeError);
assert.throws(() => ptr.write(0, "u8", 256), RangeError);
assert.throws(() => ptr.write(0, "bool", 1), TypeError);
assert.throws(() => ptr.write(0, "pointer", 5), TypeError);
assert.throws(() => ffi.write(ptr, 0, "i64", 1.5), TypeError);
assert.throws(() => ptr.read(2000, "i32"), RangeError);

// Memory.
{
  using a = ffi.arena();
  const p = a.alloc(64);
  const q = a.allocAligned(64, 16);
  a.allocType("f64");
  assert.equal(a.allocationCount, 3);
  assert.ok(a.totalAllocated >= 128);
  assert.equal(typeof a.id, "number");
  ffi.fill(p, 64, 0xab);
  ffi.copy(q, p, 64);
  ffi.copy(p, p.add(1), 8);
  assert.equal(q.read(63, "u8"), 0xab);
  assert.throws(() => a.alloc(-1), RangeError);
  assert.throws(() => a.allocAligned(8, 3), RangeError);
  a.reset();
  assert.throws(() => p.read(0, "u8"), /freed/);
}

// Pointers.
const raw = ffi.ptr(0x1000);
const raw2 = ffi.ptr(123n);
assert.equal(raw.addr, 0x1000);
assert.equal(raw.isNull, false);
assert.equal(raw.isManaged, false);
assert.equal(raw.offset(16).addr, raw.add(16).addr);
assert.equal(raw2.addr, 123);
raw.toLightUserData();
assert.equal(ffi.isNull(null), true);
assert.equal(ffi.isNull(undefined), true);
assert.equal(ffi.isNull(ffi.ptr(0)), true);
assert.equal(ffi.isNull(ints), false);
assert.equal(ffi.isNull(ffi.buffer(1)), false);
assert.equal(ffi.toRaw(ints).addr, ptr.addr);
assert.equal(ffi.toRaw(buf0).isManaged, true);

// Typed pointers.
const bytes = ffi.cast(ptr, "u8");
bytes[0] = 300;
assert.equal(bytes[0], 44);
assert.equal(bytes[1000], 0);
assert.equal(bytes[5000], undefined);
assert.throws(() => bytes.set(0, 256), RangeError);
assert.throws(() => bytes.set(0, 1.5), TypeError);
assert.throws(() => bytes.set(0, "x"), TypeError);
assert.throws(() => bytes.get(5000), RangeError);
const longs = ffi.cast(ptr, "u64", 4);
longs[0] = 1n;
longs.set(1, 2);
longs.set(2, 3n);
assert.equal(longs[0] + longs.get(1), 3n);
const flags = ffi.cast(ptr, "bool", 8);
flags.set(0, true);
flags[1] = false;
assert.equal(flags[0], true);
assert.throws(() => flags.set(0, 1), TypeError);
const ptrs = ffi.cast(ptr, "pointer", 4);
ptrs.set(0, null);
ptrs.set(1, ints);
assert.equal(ptrs[1].addr, ints.addr);
assert.equal(ptrs.get(0).isNull, true);
const strs = ffi.cast(ptr, "string", 2);
assert.equal(strs[0], null);
const doubles = ffi.cast(arena.allocArray("f64", 4), "double");
doubles[3] = 2.5;
const q = doubles.add(3);
assert.equal(q.count, 1);
assert.equal(q[0] * 2, 5);
assert.equal(q.stride, 8);
assert.equal(q.isNull, false);
assert.equal(q.toRaw().addr, doubles.addr + 24);
const unmanaged = ffi.cast(ffi.ptr(ptr.addr), "i32", 4);
assert.equal(unmanaged.count, 4);
const typeName: string = "i16";
const dyn = ffi.cast(ptr, typeName);
dyn[0] = 7;
dyn.set(1, 8);
assert.equal(dyn[0], 7);
assert.equal(dyn.get(1), 8);

// Structs, the seed's Player: no `as const`, so views take every value API.md allows.
const Player = ffi.struct([
  ["x", "f32"],
  ["y", "f32"],
  ["health", "i32"],
  ["name", "u8", 32],
]);
assert.equal(Player.size, 44);
assert.equal(Player.alignment, 4);
assert.equal(Player.fieldCount, 4);
assert.equal(Player.offsetOf("health"), 8);
assert.equal(Player.sizeOf("name"), 32);
assert.deepEqual(Player.fields(), ["x", "y", "health", "name"]);
assert.throws(() => Player.offsetOf("nope"), TypeError);
assert.throws(() => Player.sizeOf("nope"), TypeError);
assert.equal(ffi.sizeof(Player), 44);
assert.equal(ffi.alignof(Player), 4);
const playerPtr = arena.allocType(Player);
const player = ffi.view(playerPtr, Player);
player.x = 10.5;
player.health = 100;
player.name = "Bob";
player.name = [66, 111, 98];
assert.equal(player.x * 2, 21);
assert.equal(player.health, 100);
assert.equal(player.name[0], 66);
assert.equal(player.name.get(1), 111);
assert.throws(() => (player.name = "x".repeat(40)), RangeError);
assert.throws(() => (player.health = 1.5), TypeError);
assert.throws(() => (player.health = "x"), TypeError);
assert.equal(ffi.toRaw(player).addr, playerPtr.addr);
ffi.copy(ffi.toRaw(player), playerPtr, Player.size);
const same = ffi.cast(playerPtr, Player);
assert.equal(same.health, 100);
const value = ffi.read(playerPtr, 0, Player);
assert.equal(value.health + 1, 101);
assert.equal(value.name[0], 66);
ffi.write(playerPtr, 0, Player, { x: 1, y: 2, health: 3, name: "Ada" });
playerPtr.write(0, Player, { x: 1, y: 2, health: 3, name: [65] });
const players = ffi.cast(arena.allocArray(Player, 3), Player, 3);
players[0].x = 5;
players.get(1).health = 7;
players.set(2, { x: 1, y: 2, health: 3, name: "Eve" });
players.set(2, player);
players[1] = { x: 1, y: 2, health: 3, name: "Ann" };
assert.equal(players[2].health, 100);
assert.equal(players.count, 3);

// Every field kind, nested structs and arrays of them.
const Inner = ffi.struct([["a", "i32"], ["b", "f64"]]);
const Node = ffi.struct([
  ["id", "i64"],
  ["size", "size_t"],
  ["alive", "bool"],
  ["next", "pointer"],
  ["label", "char*"],
  ["inner", Inner],
  ["items", Inner, 2],
  ["tags", "u16", 4],
]);
const node = ffi.view(arena.allocType(Node), Node);
node.id = 5;
node.id = 5n;
node.size = 3;
node.alive = true;
node.next = null;
node.next = player;
node.next = playerPtr;
node.inner = { a: 1, b: 2 };
node.inner.a = 2;
node.items = [{ a: 1, b: 2 }];
node.items[1].b = 0.5;
node.tags = [1, 2, 3];
node.tags[3] = 4;
assert.equal(node.id + 1n, 6n);
assert.equal(node.size, 3n);
assert.equal(node.alive, true);
assert.equal(node.next.addr, playerPtr.addr);
assert.equal(node.label, null);
assert.equal(node.inner.a + node.inner.b, 4);
assert.equal(node.items.get(0).a, 1);
assert.throws(() => (node.id = 1.5), TypeError);
assert.throws(() => (node.next = 5), TypeError);
const nodeValue = ffi.read(node, 0, Node);
assert.deepEqual(nodeValue.inner, { a: 2, b: 2 });
assert.deepEqual(nodeValue.tags, [1, 2, 3, 4]);

// Field lists built as values.
const fields: ffi.FieldSpec[] = [["id", "u32"], ["tag", "u8", 4]];
const Tag = ffi.struct(fields);
const tag = ffi.view(arena.allocType(Tag), Tag);
tag.id = 1;
tag.tag = "abc";
assert.equal(tag.id, 1);
const Dyn = new ffi.StructDefinition([["v", typeName]]);
assert.equal(Dyn.size, 2);

// Buffer (legacy).
const buf = ffi.buffer(64);
assert.equal(buf.size, 64);
buf.write(0, "i32", 7);
assert.equal(buf.read(0, "i32") + 1, 8);
assert.equal(ffi.read(buf, 0, "i32"), 7);
buf.writeBytes(0, [1, 2, 3]);
buf.writeBytes(0, new Uint8Array([1, 2, 3]));
const numbers = [4, 5, 6];
buf.writeBytes(3, numbers);
assert.deepEqual(buf.readBytes(0, 3), new Uint8Array([1, 2, 3]));
buf.writeString(8, "hello");
assert.equal(buf.readString(8), "hello");
assert.equal(buf.readString(), "\x01\x02\x03\x04\x05\x06");
const tail = buf.slice(32, 32);
tail.write(0, "u8", 1);
buf.zero();
assert.throws(() => buf.writeBytes(63, [1, 2]), RangeError);
assert.throws(() => buf.writeBytes(0, [256]), RangeError);
assert.throws(() => buf.read(62, "i32"), RangeError);

// Libraries.
assert.equal(libc.hasSymbol("getpid"), true);
const sym = libc.getSymbol("getpid");
assert.ok(sym !== null && !sym.isNull);
assert.equal(libc.getSymbol("nope"), null);
const exported = libc.listExports();
const first = exported.find((e) => e.name === "getpid");
assert.equal(first?.kind, "function");
assert.ok(first!.address.addr > 0);
const abs = libc.fn("abs", "i32", ["i32"]);
assert.equal(abs(-5) + 1, 6);
const strlen = libc.fn("strlen", "size_t", ["string"]);
assert.equal(strlen("hello"), 5n);
assert.equal(libc.call("strlen", "usize", ["char*"], "hi"), 2n);
const sbuf = ffi.buffer(64);
const n = libc.call(
  "snprintf",
  "i32",
  ["pointer", "usize", "string", "i32", "f64"],
  sbuf,
  64,
  "%d %.2f",
  7,
  2.5,
);
assert.equal(n, 6);
assert.equal(sbuf.readString(), "7 2.50");
const env = libc.call("getenv", "string", ["string"], "HOME");
assert.ok(env === null || env.length > 0);
const mem = libc.call("malloc", "pointer", ["usize"], 16);
assert.equal(mem.isNull, false);
libc.call("free", "void", ["pointer"], mem);
const nothing: undefined = libc.call("free", "void", ["pointer"], null);
void nothing;
const byValue = libc.call("abs", Inner, [Inner], { a: 1, b: 2 });
void byValue.a;
const argTypes: string[] = ["i32"];
const dynRet: string = "i32";
const r = libc.call("abs", dynRet, argTypes, -3);
assert.equal(r, 3);
assert.throws(() => libc.call("no_such_symbol", "i32", []), Error);
{
  using lib2 = ffi.load("libc.so.6");
  assert.equal(lib2.hasSymbol("abs"), true);
}
libc.close();
assert.throws(() => libc.call("getpid", "i32", []));
assert.throws(() => ffi.load("/no/such/lib.so"), Error);

// Callbacks.
{
  using add = ffi.callback((a: number, b: number) => a + b, "i32", ["i32", "i32"]);
  assert.equal(add.argCount, 2);
  assert.equal(add.retType, "i32");
  assert.equal(add.isValid, true);
  assert.equal(add.ptr.isNull, false);
  const cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer) => a.read(0, "i32") - b.read(0, "i32"),
    "int",
    ["pointer", "pointer"],
  );
  const arr = ffi.cast(arena.allocArray("i32", 4), "i32");
  arr[0] = 3;
  const c = ffi.load("libc.so.6");
  c.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 4, 4, cmp);
  c.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 4, 4, cmp.ptr);
  cmp.close();
  assert.equal(cmp.isValid, false);
  const noArgs = ffi.callback(() => {}, "void", []);
  noArgs.close();
  const withPtr = ffi.callback((p) => ffi.isNull(p), "bool", ["pointer"]);
  withPtr.close();
}
arena.reset();
arena[Symbol.dispose]();

// Errors.
assert.ok(new ffi.FfiError("x") instanceof Error);
