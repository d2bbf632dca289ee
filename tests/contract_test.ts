// Acceptance tests written from API.md and SEED.md, through the public API only, against real system
// libraries (libc, libm, libz, libsqlite3) and plain memory. One or more tests per rule of the contract.
// deno-lint-ignore-file no-explicit-any
import * as ffi from "../mod.ts";
import { Tm } from "./_fixture.ts";
import assert from "node:assert/strict";

const LIBC = "libc.so.6";
const LIBM = "libm.so.6";
const LIBZ = "libz.so.1";
const LIBSQLITE = "libsqlite3.so.0";

const libc = ffi.load(LIBC);
const libm = ffi.load(LIBM);
const libz = ffi.load(LIBZ);
const sqlite = ffi.load(LIBSQLITE);

/** The untyped module, for calls the types (rightly) reject. */
const F: any = ffi;

const enc = new TextEncoder();
const dec = new TextDecoder();

function isFreedError(e: unknown): boolean {
  return e instanceof Error && /freed/i.test(e.message);
}

function throwsFreed(f: () => unknown): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isFreedError(e), `expected a "freed" Error, got ${e}`);
    return true;
  });
}

function bytesAt(p: ffi.RawPointer, len: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < len; i++) out.push(p.read(i, "u8") as number);
  return out;
}

function libPath(name: string): string {
  for (const dir of ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib"]) {
    try {
      Deno.statSync(`${dir}/${name}`);
      return `${dir}/${name}`;
    } catch {
      // next
    }
  }
  throw new Error(`cannot find ${name}`);
}

/** Runs a script in a fresh Deno process (for warn-once and crash hunting). */
async function runScript(
  body: string,
): Promise<{ code: number; signal: string | null; out: string; err: string }> {
  const modUrl = new URL("../mod.ts", import.meta.url).href;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, `import * as ffi from ${JSON.stringify(modUrl)};\n${body}\n`);
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-read", "--allow-env", "--no-config", file],
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" },
    }).output();
    return { code: r.code, signal: r.signal, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
  } finally {
    await Deno.remove(file);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Quick Start
// ---------------------------------------------------------------------------------------------------------

Deno.test("quick start: API.md verbatim", () => {
  const arena = ffi.arena();
  const ptr = arena.alloc(1024);
  const ints = ffi.cast(ptr, "i32");
  ints[0] = 42;
  assert.equal(ints[0], 42);

  const libc = ffi.load("libc.so.6");
  const pid = libc.call("getpid", "i32", []);
  assert.equal(pid, Deno.pid);
  libc.close();
});

Deno.test("seed: TypedPointer example, Player view, arena, buffer, callback, ptr, sizeof", () => {
  const arena = ffi.arena();
  const raw = arena.alloc(100);
  const ints = ffi.cast(raw, "i32");
  ints[0] = 42;
  ints[1] = 100;
  assert.deepEqual([ints[0], ints[1]], [42, 100]);

  const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
  assert.equal(Player.size, 44);
  assert.equal(Player.offsetOf("health"), 8);
  const p = arena.alloc(Player.size);
  const player: any = ffi.view(p, Player);
  player.x = 10.5;
  player.health = 100;
  assert.equal(player.health, 100);
  assert.equal(player.x, 10.5);

  const a2 = ffi.arena();
  a2.alloc(1024);
  a2.allocArray("f32", 100);
  assert.equal(a2.totalAllocated, 1024 + 400);
  a2.reset();

  const buf = ffi.buffer(1024);
  buf.write(0, "i32", 42);
  assert.equal(buf.read(0, "i32"), 42);

  const cb = ffi.callback((a: any, b: any) => a + b, "i32", ["i32", "i32"]);
  assert.ok(cb.ptr instanceof ffi.RawPointer);
  assert.equal(cb.ptr.isNull, false);
  cb.close();

  assert.equal(ffi.ptr(0x12345678).addr, 0x12345678);
  assert.equal(ffi.sizeof("i32"), 4);
  assert.equal(ffi.alignof("f64"), 8);
  assert.equal(ffi.isNull(ffi.ptr(0)), true);
});

// ---------------------------------------------------------------------------------------------------------
// Lua to TypeScript
// ---------------------------------------------------------------------------------------------------------

Deno.test("lua→ts: RawPointer add(n) and offset(n) advance n bytes", () => {
  const a = ffi.arena();
  const p = a.alloc(64);
  assert.equal(p.add(5).addr, p.addr + 5);
  assert.equal(p.offset(5).addr, p.addr + 5);
  assert.equal(p.add(-3).addr, p.addr - 3);
  p.write(7, "u8", 9);
  assert.equal(p.add(7).read(0, "u8"), 9);
  assert.equal(p.offset(7).read(0, "u8"), 9);
  assert.ok(p.add(1) instanceof ffi.RawPointer);
});

Deno.test("lua→ts: TypedPointer add(n) advances n * stride bytes", () => {
  const a = ffi.arena();
  const d = ffi.cast(a.alloc(80), "f64");
  const d3 = d.add(3);
  assert.equal(d3.addr, d.addr + 24);
  d[3] = 1.25;
  assert.equal(d3[0], 1.25);
  const S = ffi.struct([["a", "i32"], ["b", "u8"]]);
  const s = ffi.cast(a.alloc(S.size * 4), S, 4);
  assert.equal(s.add(2).addr, s.addr + 2 * S.size);
});

Deno.test("lua→ts: nil is null; a NULL pointer read as pointer is a RawPointer with isNull", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const q = p.read(0, "pointer") as ffi.RawPointer;
  assert.ok(q instanceof ffi.RawPointer);
  assert.equal(q.isNull, true);
  assert.equal(q.addr, 0);
  assert.equal(ffi.isNull(q), true);
  const r = ffi.read(p, 8, "void*") as ffi.RawPointer;
  assert.equal(r.isNull, true);
});

Deno.test("lua→ts: toLightUserData gives a Deno pointer value usable with raw Deno FFI", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  p.write(0, "u8", 0x68); // h
  p.write(1, "u8", 0x69); // i
  const pv = p.toLightUserData();
  assert.equal(typeof pv, "object");
  assert.notEqual(pv, null);
  assert.equal(Number(Deno.UnsafePointer.value(pv)), p.addr);
  const raw = Deno.dlopen(LIBC, { strlen: { parameters: ["pointer"], result: "usize" } });
  try {
    assert.equal(raw.symbols.strlen(pv), 2n);
    assert.equal(new Deno.UnsafePointerView(pv!).getCString(), "hi");
  } finally {
    raw.close();
  }
  assert.equal(ffi.ptr(0).toLightUserData(), null);
});

Deno.test("lua→ts: a RawPointer has no indexing (cast first)", () => {
  const a = ffi.arena();
  const p: any = a.alloc(16);
  p.write(0, "u8", 7);
  assert.equal(p[0], undefined);
});

// ---------------------------------------------------------------------------------------------------------
// Type names, sizeof / alignof
// ---------------------------------------------------------------------------------------------------------

const TYPE_TABLE: [string, number, string[]][] = [
  ["bool", 1, []],
  ["i8", 1, ["char", "int8"]],
  ["u8", 1, ["uchar", "byte"]],
  ["i16", 2, ["short", "int16"]],
  ["u16", 2, ["ushort", "uint16"]],
  ["i32", 4, ["int", "int32"]],
  ["u32", 4, ["uint", "uint32"]],
  ["i64", 8, ["long", "int64"]],
  ["u64", 8, ["ulong", "uint64"]],
  ["isize", 8, ["ssize_t", "ptrdiff_t"]],
  ["usize", 8, ["size_t"]],
  ["f32", 4, ["float"]],
  ["f64", 8, ["double"]],
  ["pointer", 8, ["ptr", "void*"]],
  ["string", 8, ["cstring", "char*"]],
];

Deno.test("types: sizeof/alignof of every name and alias in the seed's table", () => {
  for (const [name, size, aliases] of TYPE_TABLE) {
    for (const n of [name, ...aliases]) {
      assert.equal(F.sizeof(n), size, `sizeof(${n})`);
      assert.equal(F.alignof(n), size, `alignof(${n})`);
    }
  }
  assert.equal(F.sizeof("void"), 0);
});

Deno.test("types: unknown type names are a TypeError naming them, everywhere", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const bad = "int37_t";
  const check = (f: () => unknown) =>
    assert.throws(f, (e: any) => e instanceof TypeError && e.message.includes(bad));
  check(() => F.sizeof(bad));
  check(() => F.alignof(bad));
  check(() => F.read(p, 0, bad));
  check(() => F.write(p, 0, bad, 1));
  check(() => F.cast(p, bad));
  check(() => (a as any).allocType(bad));
  check(() => (a as any).allocArray(bad, 2));
  check(() => F.struct([["x", bad]]));
  check(() => (libc as any).call("abs", bad, ["i32"], 1));
  check(() => (libc as any).call("abs", "i32", [bad], 1));
  check(() => F.callback(() => 0, "i32", [bad]));
  // aliases are case-sensitive exact names: "Int" is not "int"
  assert.throws(() => F.sizeof("Int"), TypeError);
});

Deno.test("types: read/write round trip through every name and alias", () => {
  const a = ffi.arena();
  const p = a.alloc(64);
  const samples: Record<string, unknown> = {
    bool: true,
    i8: -5,
    u8: 250,
    i16: -300,
    u16: 65000,
    i32: -123456,
    u32: 4000000000,
    i64: -(2n ** 40n),
    u64: 2n ** 63n + 5n,
    isize: -7n,
    usize: 2n ** 50n,
    f32: 1.5,
    f64: Math.PI,
  };
  for (const [name, , aliases] of TYPE_TABLE) {
    if (name === "pointer" || name === "string") continue;
    for (const n of [name, ...aliases]) {
      F.write(p, 8, n, samples[name]);
      assert.equal(F.read(p, 8, n), samples[name], n);
      assert.equal(p.read(8, n as ffi.CType), samples[name], n);
    }
  }
  const target = a.alloc(4);
  for (const n of ["pointer", "ptr", "void*"]) {
    F.write(p, 0, n, target);
    assert.equal((F.read(p, 0, n) as ffi.RawPointer).addr, target.addr, n);
  }
  for (const n of ["string", "cstring", "char*"]) {
    F.write(p, 0, n, "héllo " + n);
    assert.equal(F.read(p, 0, n), "héllo " + n, n);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Values of each C type
// ---------------------------------------------------------------------------------------------------------

Deno.test("values: small ints and floats are numbers; bool is a byte 0/1 read as boolean", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  for (const t of ["i8", "u8", "i16", "u16", "i32", "u32", "f32", "f64"] as const) {
    p.write(0, t, 3);
    assert.equal(typeof p.read(0, t), "number", t);
  }
  p.write(0, "bool", true);
  assert.equal(p.read(0, "u8"), 1);
  assert.equal(p.read(0, "bool"), true);
  p.write(0, "bool", false);
  assert.equal(p.read(0, "u8"), 0);
  assert.equal(p.read(0, "bool"), false);
  p.write(0, "u8", 1);
  assert.strictEqual(p.read(0, "bool"), true);
  p.write(0, "f32", 0.1);
  assert.equal(p.read(0, "f32"), Math.fround(0.1));
});

Deno.test("values: integer writes — non-integer/NaN TypeError, out of both ranges RangeError, naming value and type", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const te = (t: string, v: unknown, shown: string) =>
    assert.throws(
      () => F.write(p, 0, t, v),
      (e: any) => e instanceof TypeError && e.message.includes(shown) && e.message.includes(t),
      `${t} ${shown}`,
    );
  const re = (t: string, v: unknown, shown: string) =>
    assert.throws(
      () => F.write(p, 0, t, v),
      (e: any) => e instanceof RangeError && e.message.includes(shown) && e.message.includes(t),
      `${t} ${shown}`,
    );
  te("i32", 1.5, "1.5");
  te("u8", NaN, "NaN");
  te("i64", 2.5, "2.5");
  te("u16", Infinity, "Infinity");
  re("u8", 256, "256");
  re("i8", -129, "-129");
  re("i16", 65536, "65536");
  re("u32", 2 ** 32, "4294967296");
  re("i32", -(2 ** 31) - 1, "-2147483649");
  re("u64", 2n ** 64n, "18446744073709551616");
  re("i64", -(2n ** 63n) - 1n, "9223372036854775809");
  re("usize", -(2n ** 63n) - 1n, "9223372036854775809");
  // ok edges
  p.write(0, "i8", 255);
  assert.equal(p.read(0, "i8"), -1);
  p.write(0, "u8", -128);
  assert.equal(p.read(0, "u8"), 128);
});

Deno.test("values: C conversion inside the range (-1 as u32 is 0xFFFFFFFF), -0 is 0", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  p.write(0, "u32", -1);
  assert.equal(p.read(0, "u32"), 0xFFFFFFFF);
  assert.equal(p.read(0, "i32"), -1);
  p.write(0, "i32", 0xFFFFFFFF);
  assert.equal(p.read(0, "i32"), -1);
  p.write(0, "u16", -1);
  assert.equal(p.read(0, "u16"), 0xFFFF);
  p.write(0, "u64", -1);
  assert.equal(p.read(0, "u64"), 2n ** 64n - 1n);
  p.write(0, "i64", 2n ** 64n - 1n);
  assert.equal(p.read(0, "i64"), -1n);
  p.write(0, "u64", -1n);
  assert.equal(p.read(0, "u64"), 2n ** 64n - 1n);
  p.write(0, "i32", -0);
  assert.ok(Object.is(p.read(0, "i32"), 0));
  p.write(0, "u64", -0);
  assert.equal(p.read(0, "u64"), 0n);
  // as an argument: 0xFFFFFFFF as i32 is -1
  assert.equal(libc.call("abs", "i32", ["i32"], 0xFFFFFFFF), 1);
  assert.equal(libc.call("abs", "i32", ["i32"], -0), 0);
});

Deno.test("values: integer arguments follow the same rules", () => {
  assert.throws(
    () => libc.call("abs", "i32", ["i32"], 1.5),
    (e: any) => e instanceof TypeError && e.message.includes("1.5") && e.message.includes("i32"),
  );
  assert.throws(
    () => libc.call("abs", "i32", ["int"], 2 ** 40),
    (e: any) => e instanceof RangeError && e.message.includes(String(2 ** 40)),
  );
  assert.throws(() => libc.call("labs", "i64", ["i64"], NaN), TypeError);
  assert.throws(() => libc.call("labs", "i64", ["i64"], 2n ** 64n), RangeError);
  assert.throws(() => libc.call("toupper", "i32", ["i32"], "a"), TypeError);
});

Deno.test("values: 64-bit integers read/return as bigint, accept safe numbers or bigint", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  for (const t of ["i64", "u64", "isize", "usize"] as const) {
    p.write(0, t, 5);
    assert.strictEqual(p.read(0, t), 5n, t);
    p.write(0, t, 6n);
    assert.strictEqual(p.read(0, t), 6n, t);
    p.write(0, t, Number.MAX_SAFE_INTEGER);
    assert.strictEqual(p.read(0, t), BigInt(Number.MAX_SAFE_INTEGER), t);
  }
  // a number that is not a safe integer is refused (it may already have lost precision)
  assert.throws(
    () => p.write(0, "i64", 2 ** 53 + 2),
    (e: any) => e instanceof RangeError || e instanceof TypeError,
  );
  assert.strictEqual(libc.call("labs", "i64", ["i64"], -5), 5n);
  assert.strictEqual(libc.call("labs", "long", ["long"], -5n), 5n);
  assert.strictEqual(libc.call("llabs", "i64", ["i64"], -(2n ** 62n)), 2n ** 62n);
  assert.strictEqual(libc.call("strlen", "usize", ["string"], "héllo"), 6n);
});

Deno.test("values: pointer writes accept RawPointer, TypedPointer, StructView, Buffer, Deno pointer, null", () => {
  const a = ffi.arena();
  const p = a.alloc(8);
  const target = a.alloc(32);
  const S = ffi.struct([["v", "i32"]]);
  const buf = ffi.buffer(8);
  const deno = Deno.UnsafePointer.create(BigInt(target.addr + 4));
  const cases: [unknown, number][] = [
    [target, target.addr],
    [ffi.cast(target, "i16").add(1), target.addr + 2],
    [ffi.view(target.add(8), S), target.addr + 8],
    [buf, ffi.toRaw(buf).addr],
    [deno, target.addr + 4],
    [ffi.ptr(0x1234), 0x1234],
  ];
  for (const [v, addr] of cases) {
    p.write(0, "pointer", v);
    const r = p.read(0, "pointer") as ffi.RawPointer;
    assert.ok(r instanceof ffi.RawPointer);
    assert.equal(r.addr, addr);
  }
  p.write(0, "pointer", null);
  assert.equal((p.read(0, "pointer") as ffi.RawPointer).isNull, true);
  assert.equal(p.read(0, "u64"), 0n);
  assert.throws(() => p.write(0, "pointer", 12345), TypeError);
  assert.throws(() => p.write(0, "pointer", "abc"), TypeError);
});

Deno.test("values: pointer arguments accept every pointer-like kind", () => {
  const a = ffi.arena();
  const src = a.alloc(8);
  src.write(0, "u8", 0x41);
  const buf = ffi.buffer(8);
  buf.writeString(0, "AB");
  const S = ffi.struct([["c", "u8", 4]]);
  const v: any = ffi.view(a.alloc(4), S);
  v.c = "xyz";
  const strlen = libc.fn("strlen", "usize", ["pointer"]);
  assert.equal(strlen(src), 1n);
  assert.equal(strlen(ffi.cast(src, "u8")), 1n);
  assert.equal(strlen(buf), 2n);
  assert.equal(strlen(v), 3n);
  assert.equal(strlen(src.toLightUserData()), 1n);
  assert.equal(strlen(ffi.ptr(src.addr)), 1n);
  // NULL as a pointer argument (free(NULL) is a no-op; strtol with NULL endptr)
  libc.call("free", "void", ["pointer"], null);
  assert.equal(libc.call("strtol", "long", ["string", "pointer", "int"], "42", null, 10), 42n);
});

Deno.test("values: string arguments — JS string (UTF-8 copy), pointer, or null", () => {
  assert.equal(libc.call("strlen", "size_t", ["char*"], "€uro"), 6n);
  const b = ffi.buffer(16);
  b.writeString(0, "hey");
  assert.equal(libc.call("strlen", "size_t", ["string"], b), 3n);
  assert.equal(libc.call("strlen", "size_t", ["cstring"], ffi.toRaw(b)), 3n);
  // setlocale(LC_ALL, NULL) queries the locale: NULL as a string argument
  const loc = libc.call("setlocale", "string", ["i32", "string"], 6, null);
  assert.equal(typeof loc, "string");
  assert.ok((loc as string).length > 0);
  assert.throws(() => libc.call("strlen", "usize", ["string"], 42), TypeError);
});

Deno.test("values: string returns decode UTF-8 up to NUL; NULL gives null", () => {
  Deno.env.set("LUNE_FFI_CONTRACT", "héllo wörld €");
  assert.equal(libc.call("getenv", "string", ["string"], "LUNE_FFI_CONTRACT"), "héllo wörld €");
  assert.equal(libc.call("getenv", "string", ["string"], "LUNE_FFI_DEFINITELY_UNSET_42"), null);
  const ver = libz.call("zlibVersion", "string", []);
  assert.equal(typeof ver, "string");
  assert.match(ver as string, /^1\.\d+/);
  // reads: a NULL char* reads as null
  const a = ffi.arena();
  const p = a.alloc(8);
  assert.equal(p.read(0, "string"), null);
  p.write(0, "string", null);
  assert.equal(p.read(0, "string"), null);
});

Deno.test("values: writing a JS string copies into the destination's arena, or throws clearly", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  p.write(0, "string", "first ☃");
  ffi.write(p, 8, "char*", "second");
  assert.equal(p.read(0, "string"), "first ☃");
  assert.equal(ffi.read(p, 8, "string"), "second");
  // the copy is real memory C can read
  assert.equal(libc.call("strlen", "usize", ["pointer"], p.read(0, "pointer")), 9n);
  // the copy dies with the arena
  a.reset();
  throwsFreed(() => p.read(0, "string"));
  // unmanaged destination: nothing owns the copy -> a clear error
  const b = ffi.arena();
  const q = b.alloc(8);
  assert.throws(
    () => ffi.ptr(q.addr).write(0, "string", "x"),
    (e: any) => e instanceof Error && e.message.length > 0,
  );
  assert.equal(q.read(0, "u64"), 0n);
});

Deno.test("values: void is only a return type", () => {
  const a = ffi.arena();
  const p = a.alloc(8);
  assert.equal(libc.call("srand", "void", ["u32"], 1), undefined);
  assert.throws(() => F.read(p, 0, "void"));
  assert.throws(() => F.write(p, 0, "void", 0));
  assert.throws(() => (libc as any).call("abs", "i32", ["void"], 0));
  assert.throws(() => F.callback(() => {}, "void", ["void"]));
  assert.throws(() => F.cast(p, "void"));
  assert.throws(() => (a as any).allocType("void"));
  assert.throws(() => (a as any).allocArray("void", 3));
  assert.throws(() => F.struct([["v", "void"]]));
  const cb = ffi.callback(() => {}, "void", []);
  assert.equal(cb.retType, "void");
  cb.close();
});

// ---------------------------------------------------------------------------------------------------------
// StructDefinition as a C type
// ---------------------------------------------------------------------------------------------------------

const Vec2 = ffi.struct([["x", "f64"], ["y", "f64"]]);
const DivT = ffi.struct([["quot", "int"], ["rem", "int"]]);
const LDivT = ffi.struct([["quot", "long"], ["rem", "long"]]);

Deno.test("struct type: sizeof, alignof, allocType, allocArray", () => {
  assert.equal(ffi.sizeof(Tm), 56);
  assert.equal(ffi.alignof(Tm), 8);
  assert.equal(ffi.sizeof(DivT), 8);
  assert.equal(ffi.alignof(DivT), 4);
  const a = ffi.arena();
  const p = a.allocType(Tm);
  assert.equal(a.totalAllocated, 56);
  p.read(55, "u8");
  assert.throws(() => p.read(56, "u8"), RangeError);
  const arr = a.allocArray(Vec2, 3);
  assert.equal(a.totalAllocated, 56 + 48);
  assert.equal(arr.addr % 8, 0);
  arr.read(47, "u8");
  assert.throws(() => arr.read(48, "u8"), RangeError);
});

Deno.test("struct type: cast, read (plain-object copy) and write", () => {
  const a = ffi.arena();
  const p = a.allocArray(Vec2, 2);
  ffi.write(p, 16, Vec2, { x: 1.5, y: -2 });
  const o = ffi.read(p, 16, Vec2) as any;
  assert.deepEqual({ ...o }, { x: 1.5, y: -2 });
  assert.equal(Object.getPrototypeOf(o), Object.prototype);
  o.x = 99; // a copy
  assert.equal(p.read(16, "f64"), 1.5);
  const v: any = ffi.cast(p.add(16), Vec2);
  assert.equal(v.y, -2);
  p.write(0, Vec2, { x: 3, y: 4 });
  assert.deepEqual({ ...(p.read(0, Vec2) as any) }, { x: 3, y: 4 });
  // write from a StructView
  ffi.write(p, 0, Vec2, v);
  assert.equal(p.read(0, "f64"), 1.5);
  assert.throws(() => ffi.write(p, 24, Vec2, { x: 1, y: 2 }), RangeError);
  assert.throws(() => ffi.read(p, 24, Vec2), RangeError);
});

Deno.test("struct type: by-value arguments (plain object and StructView) — inet_ntoa, cabs", () => {
  const InAddr = ffi.struct([["s_addr", "u32"]]);
  assert.equal(libc.call("inet_ntoa", "string", [InAddr], { s_addr: 0x0100007f }), "127.0.0.1");
  const a = ffi.arena();
  const v: any = ffi.view(a.allocType(InAddr), InAddr);
  v.s_addr = 0x04030201;
  assert.equal(libc.call("inet_ntoa", "string", [InAddr], v), "1.2.3.4");
  // double complex is ABI-identical to struct { double re, im } on x86-64 SysV
  const cabs = libm.fn("cabs", "f64", [Vec2]);
  assert.equal(cabs({ x: 3, y: 4 }), 5);
  const w: any = ffi.view(a.allocType(Vec2), Vec2);
  w.x = 5;
  w.y = 12;
  assert.equal(cabs(w), 13);
  assert.throws(() => cabs({ x: 1.5, y: "no" }), TypeError);
});

Deno.test("struct type: by-value returns are plain objects — div, ldiv, conj", () => {
  const d = libc.call("div", DivT, ["int", "int"], 17, 5) as any;
  assert.deepEqual({ ...d }, { quot: 3, rem: 2 });
  assert.equal(Object.getPrototypeOf(d), Object.prototype);
  const ld = libc.fn("ldiv", LDivT, ["long", "long"])(-7n, 2) as any;
  assert.deepEqual({ ...ld }, { quot: -3n, rem: -1n });
  const c = libm.call("conj", Vec2, [Vec2], { x: 1, y: 2 }) as any;
  assert.deepEqual({ ...c }, { x: 1, y: -2 });
});

// ---------------------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------------------

Deno.test("memory: arena properties id, totalAllocated (asked sizes), allocationCount", () => {
  const a = ffi.arena();
  const b = ffi.arena();
  assert.notEqual(a.id, b.id);
  assert.equal(a.totalAllocated, 0);
  assert.equal(a.allocationCount, 0);
  a.alloc(3);
  a.allocAligned(5, 64);
  a.allocType("i16");
  a.allocArray("f64", 3);
  assert.equal(a.totalAllocated, 3 + 5 + 2 + 24);
  assert.equal(a.allocationCount, 4);
  a.reset();
  assert.equal(a.totalAllocated, 0);
  assert.equal(a.allocationCount, 0);
  const p = a.alloc(8); // usable after reset
  p.write(0, "i64", 1n);
  assert.equal(p.read(0, "i64"), 1n);
});

Deno.test("memory: allocations are managed, zero-filled, and sized", () => {
  const a = ffi.arena();
  for (
    const p of [
      a.alloc(100),
      a.allocAligned(100, 32),
      a.allocType("u64"),
      a.allocArray("u16", 50),
    ]
  ) {
    assert.ok(p instanceof ffi.RawPointer);
    assert.equal(p.isManaged, true);
    assert.equal(p.isNull, false);
  }
  const big = a.alloc(4096);
  assert.ok(bytesAt(big, 4096).every((b) => b === 0));
  ffi.fill(big, 4096, 0xAB);
  a.reset();
  const again = a.alloc(4096);
  assert.ok(bytesAt(again, 4096).every((b) => b === 0));
  const t = a.allocArray("i32", 10);
  t.read(36, "i32");
  assert.throws(() => t.read(37, "i32"), RangeError);
});

Deno.test("memory: allocAligned aligns; bad alignment or size is a RangeError", () => {
  const a = ffi.arena();
  for (const al of [1, 2, 4, 8, 16, 64, 256, 4096]) {
    assert.equal(a.allocAligned(3, al).addr % al, 0, `align ${al}`);
  }
  assert.equal(a.allocType("f64").addr % 8, 0);
  assert.equal(a.allocArray("i64", 2).addr % 8, 0);
  for (const al of [0, 3, 6, -8, 1.5, NaN]) {
    assert.throws(() => a.allocAligned(8, al), RangeError, `align ${al}`);
  }
  for (const s of [-1, 1.5, NaN, -0.5]) {
    assert.throws(() => a.alloc(s), RangeError, `size ${s}`);
    assert.throws(() => a.allocAligned(s, 8), RangeError, `size ${s}`);
  }
  assert.throws(() => a.allocArray("i32", -1), RangeError);
  assert.throws(() => a.allocArray("i32", 2.5), RangeError);
});

Deno.test("memory: bounds — read/write/copy/fill/indexing outside an allocation is a RangeError", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const q = a.alloc(16);
  assert.throws(() => p.read(13, "i32"), RangeError);
  assert.throws(() => p.read(-1, "u8"), RangeError);
  assert.throws(() => p.write(16, "u8", 0), RangeError);
  assert.throws(() => ffi.read(p, 9, "f64"), RangeError);
  assert.throws(() => ffi.write(p, 15, "u16", 1), RangeError);
  assert.throws(() => ffi.copy(p, q, 17), RangeError);
  assert.throws(() => ffi.copy(p.add(8), q, 9), RangeError);
  assert.throws(() => ffi.copy(p, q.add(1), 16), RangeError);
  assert.throws(() => ffi.fill(p, 17, 1), RangeError);
  assert.throws(() => ffi.fill(p.add(-1), 2, 1), RangeError);
  assert.throws(() => ffi.cast(p, "i32").get(4), RangeError);
  assert.throws(() => ffi.cast(p, "i32").set(4, 1), RangeError);
  assert.ok(bytesAt(q, 16).every((b) => b === 0));
  // the message names the offset
  assert.throws(() => p.read(100, "u8"), (e: any) => e instanceof RangeError && e.message.includes("100"));
});

Deno.test("memory: arithmetic may leave the bounds, access may not", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const far = p.add(1000);
  assert.equal(far.addr, p.addr + 1000);
  assert.throws(() => far.read(0, "u8"), RangeError);
  const back = far.add(-1000 + 12);
  back.write(0, "i32", 7);
  assert.equal(p.read(12, "i32"), 7);
  const before = p.add(-4);
  assert.throws(() => before.read(0, "i32"), RangeError);
  assert.equal(before.read(4, "i32"), 0); // inside again
  assert.equal(p.add(8).read(-8, "i32"), 0); // negative offset inside the allocation
  assert.equal(p.add(16).isManaged, true);
});

Deno.test("memory: after reset every pointer, view and typed pointer is dead (Error saying freed)", () => {
  const a = ffi.arena();
  const p = a.alloc(32);
  const other = ffi.arena().alloc(32);
  const t = ffi.cast(p, "i32");
  const P = ffi.struct([["x", "i32"], ["arr", "u8", 4]]);
  const v: any = ffi.view(p, P);
  const tv = ffi.cast(p, P, 2);
  const arrField = v.arr;
  t[0] = 5;
  a.reset();
  throwsFreed(() => p.read(0, "i32"));
  throwsFreed(() => p.write(0, "i32", 1));
  throwsFreed(() => ffi.read(p, 0, "u8"));
  throwsFreed(() => ffi.write(p, 0, "u8", 1));
  throwsFreed(() => ffi.copy(p, other, 4));
  throwsFreed(() => ffi.copy(other, p, 4));
  throwsFreed(() => ffi.fill(p, 4, 0));
  throwsFreed(() => t.get(0));
  throwsFreed(() => t.set(0, 1));
  throwsFreed(() => v.x);
  throwsFreed(() => {
    v.x = 1;
  });
  throwsFreed(() => tv.get(0));
  throwsFreed(() => tv[0]);
  throwsFreed(() => arrField.get(0));
  throwsFreed(() => p.add(4).read(0, "u8"));
  throwsFreed(() => ffi.toRaw(t).read(0, "u8"));
  throwsFreed(() => ffi.read(p, 0, P));
  throwsFreed(() => libc.call("strlen", "usize", ["pointer"], p));
  // index syntax on numeric elements: the view is empty
  assert.equal(t[0], undefined);
  t[0] = 9;
  assert.equal(t[0], undefined);
  assert.equal(arrField[0], undefined);
  // new memory at the same place is not visible through the dead pointers
  const n = a.alloc(32);
  n.write(0, "i32", 77);
  assert.equal(t[0], undefined);
  throwsFreed(() => p.read(0, "i32"));
});

Deno.test("memory: arena[Symbol.dispose]() and `using` free at once", () => {
  let p: ffi.RawPointer;
  let t: ffi.TypedPointer<number>;
  {
    using a = ffi.arena();
    p = a.alloc(8);
    t = ffi.cast(p, "u8");
    t[0] = 1;
  }
  throwsFreed(() => p.read(0, "u8"));
  assert.equal(t[0], undefined);
  const b = ffi.arena();
  const q = b.alloc(8);
  b[Symbol.dispose]();
  throwsFreed(() => q.read(0, "u8"));
  b[Symbol.dispose](); // twice is harmless
});

Deno.test("memory: a live pointer survives garbage collection of its arena object", () => {
  const gc = (globalThis as any).gc as (() => void) | undefined;
  const ptrs = Array.from({ length: 20 }, () => ffi.arena().alloc(256));
  const ints = ffi.cast(ffi.arena().alloc(64), "i32");
  for (let i = 0; i < 5; i++) gc?.();
  const junk = Array.from({ length: 20 }, () => ffi.arena().alloc(256));
  for (let i = 0; i < 20; i++) junk[i].write(0, "i32", -1);
  for (const [i, p] of ptrs.entries()) {
    try {
      p.write(0, "i32", i);
      assert.equal(p.read(0, "i32"), i);
    } catch (e) {
      assert.ok(isFreedError(e), String(e)); // freed is acceptable, anything else is not
    }
  }
  ints[3] = 9;
  assert.ok(ints[3] === 9 || ints[3] === undefined);
});

Deno.test("memory: unmanaged pointers are unchecked", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  p.write(4, "i32", 1234);
  const u = ffi.ptr(p.addr);
  assert.equal(u.isManaged, false);
  assert.equal(u.read(4, "i32"), 1234);
  u.write(8, "i32", 5);
  assert.equal(p.read(8, "i32"), 5);
  assert.equal(u.add(100).isManaged, false);
  const ret = libc.call("strcpy", "pointer", ["pointer", "string"], p, "abc") as ffi.RawPointer;
  assert.equal(ret.addr, p.addr);
  assert.equal(ret.isManaged, false);
  assert.equal(ret.read(0, "u8"), 0x61);
});

Deno.test("memory: access through a NULL pointer is an Error, not a crash", () => {
  const a = ffi.arena();
  const p = a.alloc(8);
  const n = ffi.ptr(0);
  assert.throws(() => n.read(0, "i32"), Error);
  assert.throws(() => n.write(0, "i32", 1), Error);
  assert.throws(() => n.read(8, "string"), Error);
  assert.throws(() => ffi.read(n, 16, "f64"), Error);
  assert.throws(() => ffi.copy(n, p, 4), Error);
  assert.throws(() => ffi.copy(p, n, 4), Error);
  assert.throws(() => ffi.fill(n, 4, 0), Error);
  assert.throws(() => ffi.cast(n, "i32").get(0), Error);
  assert.throws(() => ffi.cast(n, "i32", 4).set(0, 1), Error);
  assert.equal(ffi.cast(n, "i32", 4)[0], undefined);
  assert.throws(() => (ffi.view(n, Vec2) as any).x, Error);
  const fromC = libc.call("getenv", "pointer", ["string"], "LUNE_FFI_DEFINITELY_UNSET_42") as ffi.RawPointer;
  assert.throws(() => fromC.read(0, "u8"), Error);
});

Deno.test("memory: read/write/copy/fill accept RawPointer, TypedPointer and Buffer", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const t = ffi.cast(p, "u16");
  const b = ffi.buffer(16);
  ffi.write(t, 2, "u16", 0xBEEF);
  assert.equal(ffi.read(p, 2, "u16"), 0xBEEF);
  ffi.write(b, 0, "i32", -9);
  assert.equal(ffi.read(b, 0, "i32"), -9);
  ffi.copy(b, p, 4);
  assert.equal(b.read(2, "u16"), 0xBEEF);
  ffi.fill(t, 4, 0x11);
  assert.equal(p.read(0, "u32"), 0x11111111);
  ffi.copy(t.add(4), b, 4);
  assert.equal(p.read(8, "u16"), b.read(0, "u16"));
  ffi.fill(b, 16, 0);
  assert.deepEqual(Array.from(b.readBytes(0, 16)), new Array(16).fill(0));
  ffi.fill(p, 0, 0xFF); // zero length is fine
  ffi.copy(p, b, 0);
});

Deno.test("memory: copy handles overlap in both directions", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  for (let i = 0; i < 16; i++) p.write(i, "u8", i);
  ffi.copy(p.add(2), p, 10);
  assert.deepEqual(bytesAt(p, 16), [0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15]);
  for (let i = 0; i < 16; i++) p.write(i, "u8", i);
  ffi.copy(p, p.add(3), 10);
  assert.deepEqual(bytesAt(p, 16), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 10, 11, 12, 13, 14, 15]);
});

// ---------------------------------------------------------------------------------------------------------
// Pointers
// ---------------------------------------------------------------------------------------------------------

Deno.test("pointers: RawPointer properties and methods", () => {
  const a = ffi.arena();
  const p = a.alloc(8);
  assert.equal(typeof p.addr, "number");
  assert.ok(p.addr > 0);
  assert.equal(p.isNull, false);
  assert.equal(p.isManaged, true);
  p.write(0, "u32", 7);
  assert.equal(p.read(0, "u32"), 7);
  const n = ffi.ptr(0);
  assert.equal(n.isNull, true);
  assert.equal(n.isManaged, false);
  assert.equal(n.addr, 0);
});

Deno.test("pointers: TypedPointer properties; count known for managed memory, else undefined", () => {
  const a = ffi.arena();
  const raw = a.alloc(100);
  const ints = ffi.cast(raw, "i32");
  assert.equal(ints.addr, raw.addr);
  assert.equal(ints.stride, 4);
  assert.equal(ints.isNull, false);
  assert.equal(ints.count, 25);
  assert.equal(ffi.cast(raw, "f64").count, 12); // whole elements only
  assert.equal(ffi.cast(raw, "f64").stride, 8);
  assert.equal(ffi.cast(raw.add(10), "u8").count, 90); // from the pointer to the end of the allocation
  const un = ffi.cast(ffi.ptr(raw.addr), "i32");
  assert.equal(un.count, undefined);
  assert.equal(ffi.cast(ffi.ptr(raw.addr), "i32", 10).count, 10);
  assert.equal(ffi.cast(raw, "i32", 5).count, 5);
  assert.equal(ffi.cast(ffi.ptr(0), "i32").isNull, true);
  const raw2 = ints.toRaw();
  assert.ok(raw2 instanceof ffi.RawPointer);
  assert.equal(raw2.addr, raw.addr);
  assert.equal(raw2.isManaged, true);
  assert.throws(() => raw2.read(100, "u8"), RangeError); // bounds kept
});

Deno.test("pointers: TypedPointer count after add(n) is count - n", () => {
  const a = ffi.arena();
  const ints = ffi.cast(a.alloc(100), "i32");
  const t = ints.add(3);
  assert.equal(t.count, 22);
  assert.equal(t.add(-1).count, 23);
  assert.equal(ffi.cast(ffi.ptr(0x1000), "i32").add(2).count, undefined);
  assert.equal(ffi.cast(ffi.ptr(0x1000), "i32", 10).add(4).count, 6);
  t[0] = 11;
  assert.equal(ints[3], 11);
  assert.equal(t[21], 0);
  assert.equal(t[22], undefined);
  assert.throws(() => t.get(22), RangeError);
  const past = ints.add(30);
  assert.equal(past[0], undefined);
  assert.throws(() => past.get(0), RangeError);
  const beforeStart = ints.add(-2);
  assert.throws(() => beforeStart.get(0), RangeError);
  assert.equal(beforeStart[0], undefined);
  beforeStart[0] = 5;
  assert.equal(beforeStart.get(2), 0);
  beforeStart.set(2, 6);
  assert.equal(ints[0], 6);
});

Deno.test("pointers: index syntax on numeric types behaves like the matching typed array", () => {
  const a = ffi.arena();
  const raw = a.alloc(64);
  const u8 = ffi.cast(raw, "u8");
  const ref = new Uint8Array(1);
  for (const v of [300, -1, 1.5, -1.5, NaN, Infinity, 255.9, "7", true, null]) {
    (u8 as any)[0] = v;
    (ref as any)[0] = v;
    assert.equal(u8[0], ref[0], `u8 ${String(v)}`);
  }
  const i8 = ffi.cast(raw, "i8");
  i8[1] = 200;
  assert.equal(i8[1], -56);
  const i32 = ffi.cast(raw, "i32");
  i32[1] = 1.5;
  assert.equal(i32[1], 1);
  i32[1] = 2 ** 32 + 5;
  assert.equal(i32[1], 5);
  const f32 = ffi.cast(raw, "f32");
  f32[0] = 0.1;
  assert.equal(f32[0], Math.fround(0.1));
  const f64 = ffi.cast(raw, "f64");
  f64[2] = -0;
  assert.ok(Object.is(f64[2], -0));
  const u16 = ffi.cast(raw, "u16");
  u16[0] = 70000;
  assert.equal(u16[0], 70000 & 0xFFFF);
  const i64 = ffi.cast(raw, "i64");
  i64[1] = 2n ** 64n + 3n;
  assert.strictEqual(i64[1], 3n);
  i64[1] = -1n;
  assert.strictEqual(i64[1], -1n);
  const u64 = ffi.cast(raw, "u64");
  assert.strictEqual(u64[1], 2n ** 64n - 1n);
  const us = ffi.cast(raw, "usize");
  us[2] = 5n;
  assert.strictEqual(us[2], 5n);
  const is = ffi.cast(raw, "isize");
  is[2] = -5n;
  assert.strictEqual(is[2], -5n);
  // like BigInt64Array, a number is not a bigint
  assert.throws(() => {
    (i64 as any)[0] = 1;
  }, TypeError);
  // index forms that are not array indices are no elements
  assert.equal((i32 as any)[-1], undefined);
  assert.equal((i32 as any)[1.5], undefined);
  assert.equal(0 in i32, true);
  assert.equal(16 in i32, false);
});

Deno.test("pointers: index syntax outside the count reads undefined and writes nothing", () => {
  const a = ffi.arena();
  const raw = a.alloc(32);
  const t = ffi.cast(raw, "i32", 4); // known count smaller than the allocation
  t[4] = 7;
  assert.equal(t[4], undefined);
  assert.equal(raw.read(16, "i32"), 0);
  t[100] = 7;
  assert.equal(t[100], undefined);
  (t as any)[-1] = 7;
  assert.equal((t as any)[-1], undefined);
  const full = ffi.cast(raw, "i32");
  assert.equal(full[8], undefined);
  full[8] = 1; // past the allocation: ignored
  assert.equal(full[7], 0);
});

Deno.test("pointers: unaligned numeric typed pointers still work", () => {
  const a = ffi.arena();
  const raw = a.alloc(32);
  const t = ffi.cast(raw.add(1), "i32");
  assert.equal(t.count, 7);
  t[0] = 0x01020304;
  assert.equal(t[0], 0x01020304);
  assert.deepEqual(bytesAt(raw, 5), [0, 4, 3, 2, 1]);
  t.set(6, -1);
  assert.equal(raw.read(25, "i32"), -1);
  const d = ffi.cast(raw.add(3), "f64");
  d[1] = 2.5;
  assert.equal(d.get(1), 2.5);
  assert.equal(raw.read(11, "f64"), 2.5);
  const q = ffi.cast(raw.add(1), "u64");
  q[0] = 2n ** 63n;
  assert.equal(raw.read(1, "u64"), 2n ** 63n);
});

Deno.test("pointers: index syntax on bool, pointer, string and struct elements is get/set", () => {
  const a = ffi.arena();
  const b = ffi.cast(a.alloc(4), "bool");
  b[2] = true;
  assert.strictEqual(b[2], true);
  assert.strictEqual(b[1], false);
  assert.throws(() => b[4], RangeError);
  assert.throws(() => {
    b[4] = true;
  }, RangeError);

  const target = a.alloc(8);
  const ps = ffi.cast(a.alloc(16), "pointer");
  assert.equal(ps.count, 2);
  ps[0] = target;
  (ps as any)[1] = null;
  assert.ok(ps[0] instanceof ffi.RawPointer);
  assert.equal((ps[0] as ffi.RawPointer).addr, target.addr);
  assert.equal((ps[1] as ffi.RawPointer).isNull, true);
  assert.throws(() => ps[2], RangeError);

  const ss = ffi.cast(a.alloc(16), "string");
  ss[0] = "zéro";
  assert.equal(ss[0], "zéro");
  assert.equal(ss[1], null);
  assert.throws(() => {
    ss[2] = "x";
  }, RangeError);

  const P = ffi.struct([["x", "i32"], ["y", "i32"]]);
  const sp = ffi.cast(a.alloc(P.size * 3), P, 3);
  assert.equal(sp.stride, 8);
  assert.equal(sp.count, 3);
  (sp as any)[1] = { x: 1, y: 2 };
  const e: any = sp[1];
  assert.equal(e.y, 2);
  e.x = 10;
  assert.equal((sp.get(1) as any).x, 10);
  assert.throws(() => sp[3], RangeError);
});

Deno.test("pointers: get/set are checked — range, value rules, freed", () => {
  const a = ffi.arena();
  const u8 = ffi.cast(a.alloc(4), "u8");
  u8.set(0, -1);
  assert.equal(u8.get(0), 255);
  assert.throws(() => u8.set(0, 300), RangeError);
  assert.throws(() => u8.set(0, 1.5), TypeError);
  assert.throws(() => u8.set(0, NaN), TypeError);
  assert.throws(() => u8.get(4), RangeError);
  assert.throws(() => u8.get(-1), RangeError);
  assert.throws(() => u8.set(4, 0), RangeError);
  const i64 = ffi.cast(a.alloc(16), "i64");
  i64.set(0, 5);
  assert.strictEqual(i64.get(0), 5n);
  i64.set(1, -(2n ** 63n));
  assert.strictEqual(i64.get(1), -(2n ** 63n));
  assert.throws(() => i64.set(0, 2n ** 64n), RangeError);
  a.reset();
  throwsFreed(() => u8.get(0));
  throwsFreed(() => i64.set(0, 1n));
});

Deno.test("pointers: ffi.ptr, ffi.isNull, sizeof, alignof", () => {
  assert.equal(ffi.isNull(null), true);
  assert.equal(ffi.isNull(ffi.ptr(0)), true);
  const a = ffi.arena();
  const p = a.alloc(4);
  assert.equal(ffi.isNull(p), false);
  assert.equal(ffi.isNull(ffi.cast(p, "u8")), false);
  assert.equal(ffi.isNull(ffi.cast(ffi.ptr(0), "u8")), true);
  assert.equal(ffi.isNull(ffi.buffer(4)), false);
  assert.equal(ffi.ptr(p.addr).addr, p.addr);
  assert.equal(ffi.sizeof("pointer"), 8);
  assert.equal(ffi.alignof("i16"), 2);
});

Deno.test("pointers: ffi.cast — three forms", () => {
  const a = ffi.arena();
  const P = ffi.struct([["a", "i32"], ["b", "f32"]]);
  const raw = a.alloc(P.size * 2);
  const t = ffi.cast(raw, "i32");
  assert.ok(t instanceof ffi.TypedPointer);
  const v: any = ffi.cast(raw, P);
  assert.ok(!(v instanceof ffi.TypedPointer));
  v.a = 3;
  v.b = 0.5;
  assert.equal(t[0], 3);
  const arr = ffi.cast(raw, P, 2);
  assert.ok(arr instanceof ffi.TypedPointer);
  assert.equal(arr.count, 2);
  const e1: any = arr.get(1);
  e1.a = 9;
  assert.equal(t[2], 9);
  assert.equal((arr.get(0) as any).b, 0.5);
  // casting a TypedPointer, a StructView and a Buffer works too
  assert.equal(ffi.cast(t, "u8")[0], 3);
  assert.equal(ffi.cast(v, "i32")[0], 3);
  const b = ffi.buffer(8);
  ffi.cast(b, "i32")[1] = 4;
  assert.equal(b.read(4, "i32"), 4);
  assert.equal(ffi.cast(b, "i32").count, 2);
});

Deno.test("pointers: cast with a count beyond a managed allocation never reaches outside it", () => {
  const a = ffi.arena();
  const raw = a.alloc(8);
  let t: ffi.TypedPointer<number> | undefined;
  try {
    t = ffi.cast(raw, "i32", 100);
  } catch (e) {
    assert.ok(e instanceof RangeError);
  }
  if (t !== undefined) {
    assert.throws(() => t!.get(2), RangeError);
    assert.ok(t[2] === undefined);
    t[50] = 1;
  }
  assert.throws(() => ffi.cast(raw, "i32", -1), RangeError);
  assert.throws(() => ffi.cast(raw, "i32", 1.5), RangeError);
});

Deno.test("pointers: ffi.toRaw of every pointer-like kind keeps bounds", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const S = ffi.struct([["x", "i32"], ["y", "i32"]]);
  const r1 = ffi.toRaw(p);
  assert.equal(r1.addr, p.addr);
  const r2 = ffi.toRaw(ffi.cast(p, "i32").add(1));
  assert.equal(r2.addr, p.addr + 4);
  assert.throws(() => r2.read(12, "u8"), RangeError);
  assert.equal(r2.read(-4, "i32"), 0);
  const r3 = ffi.toRaw(ffi.view(p.add(8), S));
  assert.equal(r3.addr, p.addr + 8);
  assert.equal(r3.isManaged, true);
  assert.throws(() => r3.read(8, "u8"), RangeError);
  const b = ffi.buffer(8);
  const r4 = ffi.toRaw(b);
  assert.ok(r4 instanceof ffi.RawPointer);
  assert.equal(r4.isManaged, true);
  r4.write(4, "i32", 3);
  assert.equal(b.read(4, "i32"), 3);
  assert.throws(() => r4.read(8, "u8"), RangeError);
  const r5 = ffi.toRaw(b.slice(2, 4));
  assert.equal(r5.addr, r4.addr + 2);
  assert.throws(() => r5.read(4, "u8"), RangeError);
  assert.throws(() => F.toRaw(42), TypeError);
});

Deno.test("pointers: StructView field names may be anything (addr, toRaw, constructor, size, ...)", () => {
  const names = [
    "addr",
    "toRaw",
    "constructor",
    "size",
    "isNull",
    "count",
    "get",
    "set",
    "then",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "toJSON",
    "prototype",
    "length",
  ];
  const S = ffi.struct(names.map((n) => [n, "i32"] as [string, "i32"]));
  const a = ffi.arena();
  const p = a.alloc(S.size);
  const v: any = ffi.view(p, S);
  names.forEach((n, i) => {
    v[n] = i + 100;
  });
  names.forEach((n, i) => {
    assert.equal(v[n], i + 100, n);
    assert.equal(p.read(S.offsetOf(n), "i32"), i + 100, n);
  });
  assert.equal(ffi.toRaw(v).addr, p.addr);
  // a view without such fields has no such properties either
  const T = ffi.struct([["x", "i32"]]);
  const w: any = ffi.view(a.alloc(4), T);
  assert.equal("addr" in w, false);
  assert.equal(w.addr, undefined);
  assert.equal("x" in w, true);
  for (const n of ["toRaw", "constructor", "toString", "size", "__proto__", "then"]) {
    assert.equal(n in w, false, n);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Structs
// ---------------------------------------------------------------------------------------------------------

Deno.test("structs: Player layout and every StructDefinition property", () => {
  const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
  assert.equal(Player.size, 44);
  assert.equal(Player.alignment, 4);
  assert.equal(Player.fieldCount, 4);
  assert.equal(Player.offsetOf("health"), 8);
  assert.equal(Player.offsetOf("name"), 12);
  assert.equal(Player.sizeOf("name"), 32);
  assert.equal(Player.sizeOf("x"), 4);
  assert.deepEqual(Player.fields(), ["x", "y", "health", "name"]);
  assert.throws(
    () => Player.offsetOf("mana" as any),
    (e: any) => e instanceof Error && e.message.includes("mana"),
  );
  assert.throws(
    () => Player.sizeOf("mana" as any),
    (e: any) => e instanceof Error && e.message.includes("mana"),
  );
});

Deno.test("structs: C ABI layout — natural alignment, padding, tail padding, nesting, arrays", () => {
  const A = ffi.struct([["a", "i8"], ["b", "i64"]]);
  assert.deepEqual([A.size, A.alignment, A.offsetOf("b")], [16, 8, 8]);
  const B = ffi.struct([["a", "i64"], ["b", "i8"]]);
  assert.deepEqual([B.size, B.alignment, B.offsetOf("b")], [16, 8, 8]);
  const C = ffi.struct([["a", "i8"], ["b", "i16"], ["c", "i8"]]);
  assert.deepEqual([C.size, C.alignment, C.offsetOf("b"), C.offsetOf("c")], [6, 2, 2, 4]);
  const D = ffi.struct([["f", "bool"], ["p", "pointer"], ["s", "string"], ["d", "double"]]);
  assert.deepEqual([D.size, D.offsetOf("p"), D.offsetOf("s"), D.offsetOf("d")], [32, 8, 16, 24]);
  const E = ffi.struct([["c", "char", 3]]);
  assert.deepEqual([E.size, E.alignment], [3, 1]);
  const N = ffi.struct([["tag", "u8"], ["pos", Vec2], ["arr", "i16", 3]]);
  assert.deepEqual([N.size, N.alignment, N.offsetOf("pos"), N.offsetOf("arr")], [32, 8, 8, 24]);
  assert.equal(N.sizeOf("pos"), 16);
  assert.equal(N.sizeOf("arr"), 6);
  const M = ffi.struct([["n", "u8"], ["pts", Vec2, 2], ["z", "u8"]]);
  assert.deepEqual([M.size, M.offsetOf("pts"), M.offsetOf("z")], [48, 8, 40]);
  assert.equal(Tm.size, 56);
  assert.equal(Tm.offsetOf("tm_gmtoff"), 40);
  assert.equal(Tm.offsetOf("tm_zone"), 48);
  const F2 = ffi.struct([["a", "f32"], ["b", "u16"]]);
  assert.deepEqual([F2.size, F2.alignment], [8, 4]);
});

Deno.test("structs: definition-time errors", () => {
  assert.throws(
    () => F.struct([["a", "i32"], ["a", "i32"]]),
    (e: any) => e instanceof Error && e.message.includes("a"),
  );
  assert.throws(() => F.struct([["", "i32"]]), Error);
  assert.throws(
    () => F.struct([["a", "nope_t"]]),
    (e: any) => e instanceof TypeError && e.message.includes("nope_t"),
  );
  assert.throws(() => F.struct([["a", "void"]]), Error);
  for (const n of [0, -1, 1.5, NaN]) {
    assert.throws(() => F.struct([["a", "u8", n]]), Error, `length ${n}`);
  }
});

Deno.test("structs: view reads and writes fields in place, with the value rules", () => {
  const a = ffi.arena();
  const P = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["big", "u64"], ["ok", "bool"]]);
  const p = a.alloc(P.size);
  const v: any = ffi.view(p, P);
  v.x = 10.5;
  v.health = -3;
  v.big = 5;
  v.ok = true;
  assert.equal(p.read(0, "f32"), 10.5);
  assert.equal(p.read(8, "i32"), -3);
  assert.strictEqual(v.big, 5n);
  assert.strictEqual(v.ok, true);
  p.write(4, "f32", 2.5);
  assert.equal(v.y, 2.5);
  assert.throws(() => {
    v.health = 1.5;
  }, TypeError);
  assert.throws(() => {
    v.health = 2 ** 40;
  }, RangeError);
  assert.throws(() => {
    v.big = 2n ** 64n;
  }, RangeError);
  assert.equal(p.read(8, "i32"), -3);
});

Deno.test("structs: array fields read as TypedPointers; strings and arrays assign", () => {
  const a = ffi.arena();
  const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32], [
    "tags",
    "i8",
    4,
  ], ["vals", "i16", 3]]);
  const p = a.alloc(Player.size);
  const v: any = ffi.view(p, Player);
  const name = v.name;
  assert.ok(name instanceof ffi.TypedPointer);
  assert.equal(name.count, 32);
  assert.equal(name.stride, 1);
  assert.equal(name.addr, p.addr + 12);
  v.name = "Zoë";
  assert.deepEqual(bytesAt(p.add(12), 5), [0x5A, 0x6F, 0xC3, 0xAB, 0]);
  assert.equal(name[2], 0xC3);
  v.name = "x".repeat(31);
  assert.equal(p.read(12 + 31, "u8"), 0);
  assert.throws(() => {
    v.name = "y".repeat(32);
  }, RangeError);
  assert.equal(p.read(12, "u8"), 0x78); // unchanged after the failed assignment
  assert.throws(() => {
    v.name = "é".repeat(16); // 32 bytes + NUL
  }, RangeError);
  v.tags = "ab";
  assert.deepEqual(bytesAt(p.add(Player.offsetOf("tags")), 3), [0x61, 0x62, 0]);
  v.vals = [1, -2, 3];
  assert.deepEqual([v.vals[0], v.vals[1], v.vals[2]], [1, -2, 3]);
  assert.equal(v.vals[3], undefined);
  assert.throws(() => v.vals.get(3), RangeError);
  assert.throws(() => {
    v.vals = [1, 2, 3, 4];
  }, RangeError);
  v.vals = new Int16Array([7, 8, 9]);
  assert.equal(v.vals.get(2), 9);
  assert.throws(() => {
    v.vals = [1.5, 0, 0];
  }, TypeError);
});

Deno.test("structs: nested structs read as views; plain objects assign; arrays of structs", () => {
  const a = ffi.arena();
  const N = ffi.struct([["tag", "u8"], ["pos", Vec2], ["pts", Vec2, 2]]);
  const p = a.alloc(N.size);
  const v: any = ffi.view(p, N);
  const pos = v.pos;
  pos.x = 1.5;
  assert.equal(p.read(8, "f64"), 1.5);
  v.pos = { x: 3, y: 4 };
  assert.equal(pos.x, 3);
  assert.equal(p.read(16, "f64"), 4);
  assert.deepEqual(ffi.toRaw(pos).addr, p.addr + 8);
  const pts = v.pts;
  assert.ok(pts instanceof ffi.TypedPointer);
  assert.equal(pts.count, 2);
  (pts.get(1) as any).y = 7;
  assert.equal(p.read(N.offsetOf("pts") + 24, "f64"), 7);
  v.pts = [{ x: 1, y: 2 }, { x: 5, y: 6 }];
  assert.equal((pts[1] as any).x, 5);
  const plain = ffi.read(p, 0, N) as any;
  assert.deepEqual({ ...plain.pos }, { x: 3, y: 4 });
});

Deno.test("structs: a view over too little managed memory never reads outside it", () => {
  const a = ffi.arena();
  const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
  const small = a.alloc(8);
  let v: any;
  try {
    v = ffi.view(small, Player);
  } catch (e) {
    assert.ok(e instanceof RangeError);
    return;
  }
  v.x = 1;
  assert.throws(() => v.health, RangeError);
  assert.throws(() => {
    v.name = "a";
  }, RangeError);
});

// ---------------------------------------------------------------------------------------------------------
// Libraries
// ---------------------------------------------------------------------------------------------------------

Deno.test("libraries: load by name and by path", () => {
  const m = ffi.load(libPath("libm.so.6"));
  assert.ok(m instanceof ffi.Library);
  assert.equal(m.call("cos", "f64", ["f64"], 0), 1);
  m.close();
  using z = ffi.load(LIBZ);
  assert.equal(z.hasSymbol("crc32"), true);
});

Deno.test("libraries: load failure is an Error with the loader's message", () => {
  assert.throws(
    () => ffi.load("libdefinitely_not_here_42.so"),
    (e: any) =>
      e instanceof Error && e.message.includes("libdefinitely_not_here_42.so") &&
      /cannot open shared object file|No such file/.test(e.message),
  );
  assert.throws(() => ffi.load("/nonexistent/dir/libx.so"), (e: any) => /No such file/.test(e.message));
  assert.throws(() => ffi.load(libPath("libz.so.1") + "/oops"), Error);
});

Deno.test("libraries: ffi.open works and warns once (fresh process)", async () => {
  const r = await runScript(`
    const a = ffi.open("libm.so.6");
    const b = ffi.open("libm.so.6");
    console.log(a.call("cos", "f64", ["f64"], 0), b.call("hypot", "f64", ["f64", "f64"], 3, 4));
    a.close(); b.close();
  `);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), "1 5");
  const warnings = r.err.split("\n").filter((l) => /deprecat/i.test(l));
  assert.equal(warnings.length, 1, r.err);
});

Deno.test("libraries: hasSymbol, getSymbol, listExports", () => {
  assert.equal(libc.hasSymbol("strlen"), true);
  assert.equal(libc.hasSymbol("no_such_symbol_xyz"), false);
  const s = libc.getSymbol("strlen");
  assert.ok(s instanceof ffi.RawPointer);
  assert.equal(s!.isNull, false);
  assert.equal(libc.getSymbol("no_such_symbol_xyz"), null);
  // the address is the real function: call it with raw Deno FFI
  const f = new Deno.UnsafeFnPointer(s!.toLightUserData() as any, {
    parameters: ["buffer"],
    result: "usize",
  });
  assert.equal(f.call(enc.encode("four\0")), 4n);
  const ex = libz.listExports();
  assert.ok(Array.isArray(ex));
  const crc = ex.find((e) => e.name === "crc32");
  assert.ok(crc);
  assert.equal(crc.kind, "function");
  assert.equal(crc.address.addr, libz.getSymbol("crc32")!.addr);
  const lc = libc.listExports();
  const env = lc.find((e) => e.name === "environ");
  assert.ok(env);
  assert.equal(env.kind, "data");
  assert.ok(lc.some((e) => e.name === "qsort" && e.kind === "function"));
  for (const e of ex) assert.ok(e.kind === "function" || e.kind === "data");
});

Deno.test("libraries: call and fn (a plain function bound to the symbol)", () => {
  assert.equal(libc.call("abs", "int", ["int"], -5), 5);
  assert.equal(libc.call("toupper", "int", ["int"], 97), 65);
  const toupper = libc.fn("toupper", "i32", ["i32"]);
  assert.equal(typeof toupper, "function");
  assert.equal(toupper(98), 66);
  const { call } = libc;
  assert.equal(typeof call, "function");
  const detached = toupper;
  assert.equal(detached.call(null, 99), 67);
  assert.throws(
    () => libc.call("no_such_symbol_xyz", "i32", []),
    (e: any) => e.message.includes("no_such_symbol_xyz"),
  );
  assert.throws(() => {
    const f = libc.fn("no_such_symbol_xyz", "i32", []);
    f();
  }, (e: any) => e.message.includes("no_such_symbol_xyz"));
  assert.throws(() => libc.call("abs", "i32", ["i32"]), Error); // missing argument
});

Deno.test("libraries: close — later use throws, never crashes", () => {
  const m = ffi.load(LIBM);
  const cos = m.fn("cos", "f64", ["f64"]);
  assert.equal(cos(0), 1);
  m.close();
  assert.throws(() => cos(0), Error);
  assert.throws(() => m.call("cos", "f64", ["f64"], 0), Error);
  assert.throws(() => m.fn("sin", "f64", ["f64"]), Error);
  assert.throws(() => m.hasSymbol("cos"), Error);
  assert.throws(() => m.getSymbol("cos"), Error);
  assert.throws(() => m.listExports(), Error);
  m.close(); // idempotent
  m[Symbol.dispose]();
});

Deno.test("libraries: two Library objects of the same file are independent", () => {
  const a = ffi.load(LIBM);
  const b = ffi.load(LIBM);
  const bcos = b.fn("cos", "f64", ["f64"]);
  a.close();
  assert.equal(b.call("hypot", "f64", ["f64", "f64"], 3, 4), 5);
  assert.equal(bcos(0), 1);
  assert.throws(() => a.call("cos", "f64", ["f64"], 0));
  b.close();
});

Deno.test("libraries: `using` closes a Library (and tolerates an explicit close)", () => {
  let outer: ffi.Library;
  {
    using l = ffi.load(LIBM);
    outer = l;
    assert.equal(l.call("cos", "f64", ["f64"], 0), 1);
  }
  assert.throws(() => outer.call("cos", "f64", ["f64"], 0));
  {
    using l2 = ffi.load(LIBM);
    l2.close();
  }
});

Deno.test("libraries: variadic snprintf with the argument types of the call", () => {
  const b = ffi.buffer(64);
  const n = libc.call(
    "snprintf",
    "i32",
    ["pointer", "usize", "string", "i32", "f64"],
    b,
    64,
    "%d|%.3f|",
    -42,
    3.14159,
  );
  assert.equal(n, 10);
  assert.equal(b.readString(), "-42|3.142|");
  const snprintf = libc.fn("snprintf", "i32", ["pointer", "usize", "string", "string", "i64", "f64", "f64"]);
  const a = ffi.arena();
  const out = a.alloc(64);
  snprintf(out, 64, "%s %lld %g %g", "héllo", -(2n ** 40n), 0.5, 1e300);
  assert.equal(ffi.cast(out, "u8").count, 64);
  const s = libc.call("strdup", "pointer", ["pointer"], out) as ffi.RawPointer;
  try {
    const text = new Deno.UnsafePointerView(s.toLightUserData()!).getCString();
    assert.equal(text, "héllo -1099511627776 0.5 1e+300");
  } finally {
    libc.call("free", "void", ["pointer"], s);
  }
  // a different signature of the same variadic symbol in the same library
  const b2 = ffi.buffer(16);
  libc.call("snprintf", "i32", ["pointer", "usize", "string"], b2, 16, "plain");
  assert.equal(b2.readString(), "plain");
});

// ---------------------------------------------------------------------------------------------------------
// Real C functions
// ---------------------------------------------------------------------------------------------------------

Deno.test("libc: strlen, strcpy, memcmp, toupper, abs, labs, llabs", () => {
  const a = ffi.arena();
  const d = a.alloc(32);
  libc.call("strcpy", "pointer", ["pointer", "string"], d, "héllo");
  assert.equal(libc.call("strlen", "usize", ["pointer"], d), 6n);
  assert.equal(d.read(0, "u8"), 0x68);
  const e = a.alloc(32);
  ffi.copy(e, d, 7);
  assert.equal(libc.call("memcmp", "i32", ["pointer", "pointer", "usize"], d, e, 7), 0);
  e.write(2, "u8", 0);
  assert.ok((libc.call("memcmp", "i32", ["pointer", "pointer", "usize"], d, e, 7) as number) > 0);
  assert.equal(libc.call("abs", "i32", ["i32"], -2147483647), 2147483647);
  assert.strictEqual(libc.call("labs", "i64", ["i64"], -(2n ** 62n)), 2n ** 62n);
  assert.strictEqual(libc.call("llabs", "int64", ["int64"], -3), 3n);
});

Deno.test("libc: strtol with an out-pointer", () => {
  const a = ffi.arena();
  const s = a.alloc(16);
  libc.call("strcpy", "pointer", ["pointer", "string"], s, "123abc");
  const endp = a.allocType("pointer");
  const v = libc.call("strtol", "long", ["pointer", "pointer", "int"], s, endp, 10);
  assert.strictEqual(v, 123n);
  const end = endp.read(0, "pointer") as ffi.RawPointer;
  assert.equal(end.addr, s.addr + 3);
  assert.equal(end.read(0, "u8"), 0x61);
  const endTyped = ffi.cast(a.alloc(8), "pointer");
  assert.strictEqual(libc.call("strtol", "long", ["string", "pointer", "int"], "ff!", endTyped, 16), 255n);
  assert.equal(endTyped[0] instanceof ffi.RawPointer, true);
});

Deno.test("libc: qsort and bsearch with callbacks", () => {
  const a = ffi.arena();
  const vals = [5, -3, 99, 0, 42, -100, 7];
  const arr = ffi.cast(a.allocArray("i32", vals.length), "i32");
  vals.forEach((v, i) => (arr[i] = v));
  let calls = 0;
  const cmp = ffi.callback(
    (pa: any, pb: any) => {
      calls++;
      assert.ok(pa instanceof ffi.RawPointer);
      const x = pa.read(0, "i32") as number, y = pb.read(0, "i32") as number;
      return x < y ? -1 : x > y ? 1 : 0;
    },
    "i32",
    ["pointer", "pointer"],
  );
  try {
    assert.equal(cmp.argCount, 2);
    assert.equal(cmp.retType, "i32");
    const r = libc.call(
      "qsort",
      "void",
      ["pointer", "usize", "usize", "pointer"],
      arr,
      vals.length,
      4,
      cmp.ptr,
    );
    assert.equal(r, undefined);
    assert.ok(calls > 0);
    assert.deepEqual(Array.from({ length: vals.length }, (_, i) => arr[i]), [...vals].sort((x, y) => x - y));
    const key = a.allocType("i32");
    key.write(0, "i32", 42);
    const bsearch = libc.fn("bsearch", "pointer", ["pointer", "pointer", "usize", "usize", "pointer"]);
    const found = bsearch(key, arr, vals.length, 4, cmp.ptr) as ffi.RawPointer;
    assert.equal(found.isNull, false);
    assert.equal(found.addr, arr.addr + 5 * 4);
    key.write(0, "i32", 43);
    const missing = bsearch(key, arr, vals.length, 4, cmp.ptr) as ffi.RawPointer;
    assert.equal(missing.isNull, true);
    assert.equal(ffi.isNull(missing), true);
  } finally {
    cmp.close();
  }
});

Deno.test("libc: gmtime_r / timegm with struct tm", () => {
  const a = ffi.arena();
  const t = a.allocType("i64");
  t.write(0, "i64", 1700000000);
  const tm = a.allocType(Tm);
  const r = libc.call("gmtime_r", "pointer", ["pointer", "pointer"], t, tm) as ffi.RawPointer;
  assert.equal(r.addr, tm.addr);
  const v: any = ffi.view(tm, Tm);
  assert.equal(v.tm_year, 123);
  assert.equal(v.tm_mon, 10);
  assert.equal(v.tm_mday, 14);
  assert.equal(v.tm_hour, 22);
  assert.equal(v.tm_min, 13);
  assert.equal(v.tm_sec, 20);
  assert.strictEqual(v.tm_gmtoff, 0n);
  assert.equal(v.tm_zone, "GMT");
  const plain = ffi.read(tm, 0, Tm) as any;
  assert.equal(plain.tm_yday, 317);
  v.tm_year = 100;
  assert.strictEqual(libc.call("timegm", "i64", ["pointer"], ffi.toRaw(v)), 974240000n);
  const tm2 = ffi.cast(a.allocType(Tm), Tm);
  ffi.write(ffi.toRaw(tm2), 0, Tm, { ...plain, tm_zone: null });
  assert.strictEqual(libc.call("timegm", "i64", ["pointer"], tm2), 1700000000n);
});

Deno.test("libm: frexp, modf, cos, hypot, ldexp, cosf", () => {
  const a = ffi.arena();
  const e = a.allocType("int");
  assert.equal(libm.call("frexp", "f64", ["f64", "pointer"], 8, e), 0.5);
  assert.equal(e.read(0, "int"), 4);
  const ip = ffi.cast(a.allocType("double"), "double");
  assert.equal(libm.call("modf", "double", ["double", "pointer"], 3.25, ip), 0.25);
  assert.equal(ip[0], 3);
  assert.equal(libm.call("cos", "f64", ["f64"], 0), 1);
  assert.equal(libm.fn("hypot", "f64", ["f64", "f64"])(5, 12), 13);
  assert.equal(libm.call("ldexp", "f64", ["f64", "i32"], 0.5, 4), 8);
  assert.equal(libm.call("cosf", "f32", ["f32"], 0), 1);
  assert.equal(libm.call("sqrtf", "float", ["float"], 2), Math.fround(Math.SQRT2));
});

Deno.test("libz: crc32, adler32, compress2/uncompress round trip, zlibVersion", () => {
  const data = enc.encode("hello");
  const b = ffi.buffer(data.length);
  b.writeBytes(0, data);
  assert.strictEqual(libz.call("crc32", "ulong", ["ulong", "pointer", "uint"], 0, b, 5), 0x3610a686n);
  assert.strictEqual(libz.call("crc32", "u64", ["u64", "string", "u32"], 0n, "hello", 5), 0x3610a686n);
  assert.strictEqual(libz.call("adler32", "ulong", ["ulong", "pointer", "uint"], 1, b, 5), 0x062c0215n);
  const a = ffi.arena();
  const text = "lune-ffi ".repeat(200);
  const src = enc.encode(text);
  const srcP = a.alloc(src.length);
  ffi.copy(
    srcP,
    (() => {
      const tmp = ffi.buffer(src.length);
      tmp.writeBytes(0, src);
      return tmp;
    })(),
    src.length,
  );
  const bound = Number(libz.call("compressBound", "ulong", ["ulong"], src.length));
  const dst = a.alloc(bound);
  const dstLen = a.allocType("ulong");
  dstLen.write(0, "ulong", bound);
  assert.equal(
    libz.call(
      "compress2",
      "int",
      ["pointer", "pointer", "pointer", "ulong", "int"],
      dst,
      dstLen,
      srcP,
      src.length,
      9,
    ),
    0,
  );
  const clen = Number(dstLen.read(0, "ulong"));
  assert.ok(clen < src.length / 10);
  const back = ffi.buffer(src.length);
  const backLen = a.allocType("usize");
  backLen.write(0, "usize", src.length);
  assert.equal(
    libz.call("uncompress", "int", ["pointer", "pointer", "pointer", "ulong"], back, backLen, dst, clen),
    0,
  );
  assert.equal(backLen.read(0, "usize"), BigInt(src.length));
  assert.equal(dec.decode(back.readBytes(0, src.length)), text);
  assert.match(libz.fn("zlibVersion", "cstring", [])() as string, /^\d+\.\d+/);
});

Deno.test("sqlite3: open, exec with callback, prepare/bind/step/column, finalize, close", () => {
  const a = ffi.arena();
  const dbOut = a.allocType("pointer");
  assert.equal(sqlite.call("sqlite3_open", "int", ["string", "pointer"], ":memory:", dbOut), 0);
  const db = dbOut.read(0, "pointer") as ffi.RawPointer;
  assert.equal(db.isNull, false);
  const exec = sqlite.fn("sqlite3_exec", "int", ["pointer", "string", "pointer", "pointer", "pointer"]);
  assert.equal(
    exec(
      db,
      "CREATE TABLE t(id INTEGER, name TEXT); INSERT INTO t VALUES (1,'ünï'),(2,NULL);",
      null,
      null,
      null,
    ),
    0,
  );
  const rows: (string | null)[][] = [];
  const cb = ffi.callback(
    (ctx: any, argc: any, argv: any, cols: any) => {
      assert.equal(ctx.addr, 0x1234);
      const vals = ffi.cast(argv, "string", argc);
      const names = ffi.cast(cols, "char*", argc);
      rows.push([names[0] as string, vals[0] as string | null, vals.get(1) as string | null]);
      return 0;
    },
    "int",
    ["pointer", "int", "pointer", "pointer"],
  );
  const errp = a.allocType("pointer");
  assert.equal(exec(db, "SELECT id, name FROM t ORDER BY id", cb.ptr, ffi.ptr(0x1234), errp), 0);
  assert.deepEqual(rows, [["id", "1", "ünï"], ["id", "2", null]]);
  cb.close();
  assert.equal(cb.isValid, false);

  const stmtOut = a.allocType("pointer");
  assert.equal(
    sqlite.call(
      "sqlite3_prepare_v2",
      "int",
      ["pointer", "string", "int", "pointer", "pointer"],
      db,
      "SELECT ?1 + 1, ?2 || '!'",
      -1,
      stmtOut,
      null,
    ),
    0,
  );
  const stmt = stmtOut.read(0, "pointer");
  assert.equal(sqlite.call("sqlite3_bind_int64", "int", ["pointer", "int", "i64"], stmt, 1, 2n ** 40n), 0);
  // SQLITE_TRANSIENT is (destructor)-1: pass it as an isize
  assert.equal(
    sqlite.call(
      "sqlite3_bind_text",
      "int",
      ["pointer", "int", "string", "int", "isize"],
      stmt,
      2,
      "héllo",
      -1,
      -1,
    ),
    0,
  );
  assert.equal(sqlite.call("sqlite3_step", "int", ["pointer"], stmt), 100);
  assert.strictEqual(sqlite.call("sqlite3_column_int64", "i64", ["pointer", "int"], stmt, 0), 2n ** 40n + 1n);
  assert.equal(sqlite.call("sqlite3_column_text", "string", ["pointer", "int"], stmt, 1), "héllo!");
  assert.equal(sqlite.call("sqlite3_step", "int", ["pointer"], stmt), 101);
  assert.equal(sqlite.call("sqlite3_finalize", "int", ["pointer"], stmt), 0);
  assert.equal(sqlite.call("sqlite3_close", "int", ["pointer"], db), 0);
});

// ---------------------------------------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------------------------------------

Deno.test("callbacks: properties, callable from C, close → isValid false, using", () => {
  const cb = ffi.callback((a: any, b: any) => a + b, "i32", ["i32", "i32"]);
  assert.ok(cb instanceof ffi.Callback);
  assert.ok(cb.ptr instanceof ffi.RawPointer);
  assert.equal(cb.retType, "i32");
  assert.equal(cb.argCount, 2);
  assert.equal(cb.isValid, true);
  const f = new Deno.UnsafeFnPointer(cb.ptr.toLightUserData() as any, {
    parameters: ["i32", "i32"],
    result: "i32",
  });
  assert.equal(f.call(2, 3), 5);
  cb.close();
  assert.equal(cb.isValid, false);
  cb.close(); // idempotent
  let ref: ffi.Callback;
  {
    using c2 = ffi.callback(() => 1, "i32", []);
    ref = c2;
    assert.equal(c2.argCount, 0);
  }
  assert.equal(ref.isValid, false);
});

Deno.test("callbacks: arguments arrive converted as above; returns convert back", () => {
  const a = ffi.arena();
  const s = a.alloc(16);
  libc.call("strcpy", "pointer", ["pointer", "string"], s, "héllo");
  let got: unknown[] = [];
  const cb = ffi.callback(
    (...args: unknown[]) => {
      got = args;
      return 2n ** 40n;
    },
    "i64",
    ["i64", "bool", "string", "pointer", "f32", "u8", "usize", "string"],
  );
  const f = new Deno.UnsafeFnPointer(cb.ptr.toLightUserData() as any, {
    parameters: ["i64", "bool", "pointer", "pointer", "f32", "u8", "usize", "pointer"],
    result: "i64",
  });
  const ret = f.call(-5n, true, s.toLightUserData(), s.toLightUserData(), 1.5, 200, 7n, null);
  assert.equal(ret, 2n ** 40n);
  assert.strictEqual(got[0], -5n);
  assert.strictEqual(got[1], true);
  assert.strictEqual(got[2], "héllo");
  assert.ok(got[3] instanceof ffi.RawPointer);
  assert.equal((got[3] as ffi.RawPointer).addr, s.addr);
  assert.strictEqual(got[4], 1.5);
  assert.strictEqual(got[5], 200);
  assert.strictEqual(got[6], 7n);
  assert.strictEqual(got[7], null);
  cb.close();

  const rp = ffi.callback(() => s, "pointer", []);
  const g = new Deno.UnsafeFnPointer(rp.ptr.toLightUserData() as any, { parameters: [], result: "pointer" });
  assert.equal(Number(Deno.UnsafePointer.value(g.call())), s.addr);
  rp.close();
  const rn = ffi.callback(() => 7, "u64", []);
  const h = new Deno.UnsafeFnPointer(rn.ptr.toLightUserData() as any, { parameters: [], result: "u64" });
  assert.equal(h.call(), 7n);
  rn.close();
  const rb = ffi.callback((x: any) => !x, "bool", ["bool"]);
  const k = new Deno.UnsafeFnPointer(rb.ptr.toLightUserData() as any, {
    parameters: ["bool"],
    result: "bool",
  });
  assert.equal(k.call(false), true);
  rb.close();
});

Deno.test("callbacks: an exception is caught, C gets zero, the same error is rethrown to the outer call", () => {
  const a = ffi.arena();
  const arr = ffi.cast(a.allocArray("i32", 4), "i32");
  [3, 1, 2, 0].forEach((v, i) => (arr[i] = v));
  const boom = new Error("boom from comparator");
  let n = 0;
  const cmp = ffi.callback(
    () => {
      n++;
      if (n === 1) throw boom;
      return 0;
    },
    "i32",
    ["pointer", "pointer"],
  );
  try {
    assert.throws(
      () => libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 4, 4, cmp.ptr),
      (e: unknown) => e === boom,
    );
    assert.ok(n >= 1);
    // the library keeps working afterwards, and the error does not leak into the next call
    assert.equal(libc.call("abs", "i32", ["i32"], -1), 1);
    const qsort = libc.fn("qsort", "void", ["pointer", "usize", "usize", "pointer"]);
    n = 0;
    assert.throws(() => qsort(arr, 4, 4, cmp.ptr), (e: unknown) => e === boom);
    n = 1; // no more throws
    qsort(arr, 4, 4, cmp.ptr);
  } finally {
    cmp.close();
  }
  // C really received zero: sqlite3_exec continues while the callback returns 0, aborts on non-zero
  const dbOut = a.allocType("pointer");
  sqlite.call("sqlite3_open", "int", ["string", "pointer"], ":memory:", dbOut);
  const db = dbOut.read(0, "pointer");
  let rows = 0;
  const thrower = ffi.callback(
    () => {
      rows++;
      throw new TypeError("row " + rows);
    },
    "int",
    ["pointer", "int", "pointer", "pointer"],
  );
  assert.throws(
    () =>
      sqlite.call(
        "sqlite3_exec",
        "int",
        ["pointer", "string", "pointer", "pointer", "pointer"],
        db,
        "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3",
        thrower.ptr,
        null,
        null,
      ),
    (e: any) => e instanceof TypeError && e.message === "row 1",
  );
  // the first throw wins; later invocations in the same outer call return zero without running
  assert.equal(rows, 1);
  thrower.close();
  sqlite.call("sqlite3_close", "int", ["pointer"], db);
});

Deno.test("callbacks: the saved ptr of a closed callback is refused, never called", () => {
  const a = ffi.arena();
  const arr = ffi.cast(a.allocArray("i32", 4), "i32");
  [3, 1, 2, 0].forEach((v, i) => (arr[i] = v));
  const cmp = ffi.callback(
    (x: any, y: any) => x.read(0, "i32") - y.read(0, "i32"),
    "i32",
    ["pointer", "pointer"],
  );
  const saved = cmp.ptr;
  cmp.close();
  assert.throws(() => cmp.ptr, Error);
  assert.throws(
    () => libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 4, 4, saved),
    (e: any) => e instanceof Error && /closed/.test(e.message),
  );
  assert.throws(() => libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 4, 4, cmp));
  assert.deepEqual([arr[0], arr[1], arr[2], arr[3]], [3, 1, 2, 0]);
});

Deno.test("callbacks: a callback closing itself while C still calls it does not crash", () => {
  const a = ffi.arena();
  const arr = ffi.cast(a.allocArray("i32", 8), "i32");
  [3, 1, 2, 0, 7, 5, 4, 6].forEach((v, i) => (arr[i] = v));
  let runs = 0;
  const cb: ffi.Callback = ffi.callback(
    (x: any, y: any) => {
      runs++;
      cb.close();
      return x.read(0, "i32") - y.read(0, "i32");
    },
    "i32",
    ["pointer", "pointer"],
  );
  assert.throws(
    () => libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 8, 4, cb.ptr),
    (e: any) => e instanceof Error && /closed/.test(e.message),
  );
  assert.equal(runs, 1);
  assert.equal(cb.isValid, false);
});

Deno.test("libraries: closing a library from inside one of its callbacks does not crash", () => {
  const sq = ffi.load(LIBSQLITE);
  const a = ffi.arena();
  const dbOut = a.allocType("pointer");
  assert.equal(sq.call("sqlite3_open", "int", ["string", "pointer"], ":memory:", dbOut), 0);
  const db = dbOut.read(0, "pointer");
  let rows = 0;
  const cb = ffi.callback(
    () => {
      rows++;
      sq.close();
      return 0;
    },
    "int",
    ["pointer", "int", "pointer", "pointer"],
  );
  const r = sq.call(
    "sqlite3_exec",
    "int",
    ["pointer", "string", "pointer", "pointer", "pointer"],
    db,
    "SELECT 1 UNION ALL SELECT 2",
    cb.ptr,
    null,
    null,
  );
  assert.equal(r, 0);
  assert.equal(rows, 2);
  assert.throws(() => sq.call("sqlite3_close", "int", ["pointer"], db), /closed/);
  cb.close();
  sqlite.call("sqlite3_close", "int", ["pointer"], db); // the other Library object still works
});

Deno.test("memory: an arena reset from inside a callback while C works on its memory", () => {
  const a = ffi.arena();
  const arr = ffi.cast(a.allocArray("i32", 64), "i32");
  for (let i = 0; i < 64; i++) arr[i] = 64 - i;
  let seen: unknown = "unset";
  let runs = 0;
  const cmp = ffi.callback(
    (x: any, y: any) => {
      if (runs++ === 0) {
        a.reset();
        seen = arr[0]; // the view is empty at once
      }
      // C's pointers are unmanaged: the memory must still be there while C runs
      return (x.read(0, "i32") as number) - (y.read(0, "i32") as number);
    },
    "i32",
    ["pointer", "pointer"],
  );
  try {
    libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 64, 4, cmp.ptr);
  } finally {
    cmp.close();
  }
  assert.ok(runs > 1);
  assert.equal(seen, undefined);
  throwsFreed(() => arr.get(0));
  const again = a.alloc(16); // the arena still works
  again.write(0, "i32", 1);
  assert.equal(again.read(0, "i32"), 1);
});

Deno.test("memory: lengths, offsets and counts are validated on every path (no wild access)", () => {
  const a = ffi.arena();
  const p = a.alloc(16);
  const q = a.alloc(16);
  const u = ffi.ptr(p.addr);
  for (const n of [-1, NaN, 1.5]) {
    assert.throws(() => ffi.copy(p, q, n), RangeError, `copy ${n}`);
    assert.throws(() => ffi.copy(u, ffi.ptr(q.addr), n), RangeError, `unmanaged copy ${n}`);
    assert.throws(() => ffi.fill(p, n, 0), RangeError, `fill ${n}`);
    assert.throws(() => ffi.fill(u, n, 0), RangeError, `unmanaged fill ${n}`);
    assert.throws(() => ffi.buffer(4).readBytes(0, n), RangeError, `readBytes ${n}`);
  }
  for (const o of [NaN, 1.5, Infinity]) {
    assert.throws(() => p.read(o, "u8"), `read at ${o}`);
    assert.throws(() => u.read(o, "u8"), `unmanaged read at ${o}`);
    assert.throws(() => p.add(o), `add ${o}`);
    assert.throws(() => ffi.cast(p, "i32").get(o), `get ${o}`);
    assert.throws(() => ffi.buffer(4).read(o, "u8"), `buffer read at ${o}`);
  }
  assert.throws(() => ffi.fill(p, 4, 256), RangeError);
  assert.throws(() => a.alloc(2 ** 53), RangeError);
});

Deno.test("callbacks: a bad return value is handled like an exception", () => {
  const bad = ffi.callback(() => 1.5, "i32", []);
  const f = libc; // call it through C: qsort with 2 elements calls the comparator once
  const a = ffi.arena();
  const arr = a.allocArray("i32", 2);
  const cmp = ffi.callback(() => 2 ** 40, "i32", ["pointer", "pointer"]);
  assert.throws(
    () => f.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], arr, 2, 4, cmp.ptr),
    RangeError,
  );
  cmp.close();
  bad.close();
});

// ---------------------------------------------------------------------------------------------------------
// Buffer
// ---------------------------------------------------------------------------------------------------------

Deno.test("buffer: size, zero-filled, read/write, zero()", () => {
  const b = ffi.buffer(32);
  assert.ok(b instanceof ffi.Buffer);
  assert.equal(b.size, 32);
  assert.deepEqual(Array.from(b.readBytes(0, 32)), new Array(32).fill(0));
  b.write(0, "i32", 42);
  b.write(8, "f64", 2.5);
  b.write(16, "u64", 2n ** 64n - 1n);
  assert.equal(b.read(0, "i32"), 42);
  assert.equal(b.read(8, "f64"), 2.5);
  assert.equal(b.read(16, "u64"), 2n ** 64n - 1n);
  assert.throws(() => b.write(0, "u8", 256), RangeError);
  assert.throws(() => b.write(0, "i32", 0.5), TypeError);
  b.zero();
  assert.deepEqual(Array.from(b.readBytes(0, 32)), new Array(32).fill(0));
  assert.throws(() => ffi.buffer(-1), RangeError);
  assert.throws(() => ffi.buffer(1.5), RangeError);
});

Deno.test("buffer: readBytes is a copy; writeBytes takes Uint8Array or number[]", () => {
  const b = ffi.buffer(8);
  b.writeBytes(2, new Uint8Array([1, 2, 3]));
  b.writeBytes(5, [4, 5]);
  const r = b.readBytes(0, 8);
  assert.ok(r instanceof Uint8Array);
  assert.deepEqual(Array.from(r), [0, 0, 1, 2, 3, 4, 5, 0]);
  r[2] = 99;
  assert.equal(b.read(2, "u8"), 1);
  assert.deepEqual(Array.from(b.readBytes(8, 0)), []);
});

Deno.test("buffer: strings are UTF-8; readString stops at NUL or at the end", () => {
  const b = ffi.buffer(16);
  b.writeString(0, "héllo €");
  assert.deepEqual(Array.from(b.readBytes(0, 11)), [...enc.encode("héllo €"), 0]);
  assert.equal(b.readString(), "héllo €");
  assert.equal(b.readString(0), "héllo €");
  assert.equal(b.readString(1), "éllo €");
  b.writeString(12, "ab");
  assert.equal(b.readString(12), "ab");
  const full = ffi.buffer(3);
  full.writeBytes(0, [0x61, 0x62, 0x63]);
  assert.equal(full.readString(), "abc");
  assert.equal(full.readString(1), "bc");
  assert.equal(full.readString(3), "");
  assert.throws(() => full.writeString(0, "abc"), RangeError); // no room for the NUL
  assert.equal(full.readString(), "abc"); // untouched
  full.writeString(0, "ab");
  assert.equal(full.readString(), "ab");
});

Deno.test("buffer: slice shares memory and is bounded", () => {
  const b = ffi.buffer(16);
  const s = b.slice(4, 8);
  assert.equal(s.size, 8);
  s.write(0, "i32", 7);
  assert.equal(b.read(4, "i32"), 7);
  b.write(8, "i32", 9);
  assert.equal(s.read(4, "i32"), 9);
  assert.throws(() => s.read(5, "i32"), RangeError);
  assert.throws(() => s.writeBytes(7, [1, 2]), RangeError);
  assert.throws(() => b.slice(10, 7), RangeError);
  assert.throws(() => b.slice(-1, 2), RangeError);
  const ss = s.slice(2, 2);
  ss.write(0, "u16", 0xFFFF);
  assert.equal(b.read(6, "u16"), 0xFFFF);
  assert.throws(() => ss.read(1, "u16"), RangeError);
  s.zero();
  assert.equal(b.read(4, "u32"), 0);
  assert.equal(b.read(12, "u32"), 0);
});

Deno.test("buffer: every method is bounds-checked", () => {
  const b = ffi.buffer(8);
  assert.throws(() => b.read(5, "i32"), RangeError);
  assert.throws(() => b.read(-1, "u8"), RangeError);
  assert.throws(() => b.write(8, "u8", 1), RangeError);
  assert.throws(() => b.readBytes(4, 5), RangeError);
  assert.throws(() => b.readBytes(-1, 1), RangeError);
  assert.throws(() => b.writeBytes(6, new Uint8Array(3)), RangeError);
  assert.throws(() => b.readString(9), RangeError);
  assert.throws(() => b.writeString(6, "ab"), RangeError);
  assert.throws(() => b.writeString(-1, ""), RangeError);
  assert.throws(() => ffi.read(b, 8, "u8"), RangeError);
  assert.throws(() => ffi.fill(b, 9, 0), RangeError);
  assert.throws(() => ffi.cast(b, "u8").get(8), RangeError);
  assert.deepEqual(Array.from(b.readBytes(0, 8)), new Array(8).fill(0));
});

Deno.test("buffer: passes to C as a pointer", () => {
  const b = ffi.buffer(32);
  libc.call("strcpy", "pointer", ["pointer", "string"], b, "from C ✓");
  assert.equal(b.readString(), "from C ✓");
  assert.equal(libc.call("strlen", "usize", ["pointer"], b.slice(5, 20)), 5n);
});
