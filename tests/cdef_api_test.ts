/**
 * The user-facing side of reading C: C spellings of types everywhere a type goes, prototypes as
 * strings and Signatures (lib.fn, lib.bind, ffi.callback), the typed list form of lib.fn,
 * initialisers, and C text (ffi.string, char-array toString).
 */

import * as ffi from "../mod.ts";
import assert from "node:assert/strict";
import { FIXTURE } from "./_fixture.ts";

const SPELLINGS: [string, string][] = [
  ["signed char", "i8"],
  ["unsigned char", "u8"],
  ["short", "i16"],
  ["short int", "i16"],
  ["signed short int", "i16"],
  ["unsigned short", "u16"],
  ["int", "i32"],
  ["signed", "i32"],
  ["unsigned", "u32"],
  ["unsigned int", "u32"],
  ["long", "i64"],
  ["long int", "i64"],
  ["unsigned long", "u64"],
  ["long unsigned int", "u64"],
  ["long long", "i64"],
  ["unsigned long long", "u64"],
  ["long long unsigned int", "u64"],
  ["int8_t", "i8"],
  ["uint8_t", "u8"],
  ["int16_t", "i16"],
  ["uint16_t", "u16"],
  ["int32_t", "i32"],
  ["uint32_t", "u32"],
  ["int64_t", "i64"],
  ["uint64_t", "u64"],
  ["intptr_t", "isize"],
  ["uintptr_t", "usize"],
  ["size_t", "usize"],
  ["ssize_t", "isize"],
  ["ptrdiff_t", "isize"],
  ["_Bool", "bool"],
  ["float", "f32"],
  ["double", "f64"],
  ["const int", "i32"],
  ["volatile unsigned long", "u64"],
  ["int const", "i32"],
];

Deno.test("C spellings: every one names the type C gives it (size, alignment, values)", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  for (const [c, t] of SPELLINGS) {
    assert.equal(ffi.sizeof(c), ffi.sizeof(t), c);
    assert.equal(ffi.alignof(c), ffi.alignof(t), c);
    const v = t === "bool" ? true : t.startsWith("f") ? 1.5 : t.endsWith("64") || t.endsWith("size") ? 7n : 7;
    p.write(0, c, v);
    assert.equal(p.read(0, c), v, c);
    assert.equal(p.read(0, t), v, c);
  }
  assert.equal(ffi.sizeof("void"), 0);
});

Deno.test("C spellings: char* and const char* are string; any other T* is pointer", () => {
  using libc = ffi.load("libc.so.6");
  for (const s of ["char*", "const char*", "const char *", "char *", "char * const"]) {
    assert.equal(libc.call("strlen", "size_t", [s], "hello"), 5n, s);
    assert.equal(libc.call("getenv", s, ["const char *"], "PATH"), Deno.env.get("PATH"), s);
  }
  for (
    const s of [
      "int*",
      "void**",
      "struct tm*",
      "struct tm *",
      "unsigned char*",
      "uint8_t*",
      "const void *",
      "char**",
    ]
  ) {
    const r = libc.call("strchr", s, ["const char*", "int"], "abc", 98);
    assert.ok(r instanceof ffi.RawPointer, `${s} is a pointer, read as a RawPointer`);
    assert.equal(ffi.sizeof(s), 8);
  }
  // As a struct field too.
  const S = ffi.struct([["name", "const char*"], ["data", "unsigned char*"]]);
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(S), S);
  v.name = "text";
  assert.equal(v.name, "text");
  assert.ok(v.data instanceof ffi.RawPointer);
});

Deno.test("C spellings: impossible spellings are a TypeError naming the whole spelling", () => {
  for (
    const s of [
      "unsigned double",
      "long long long",
      "long double",
      "signed unsigned int",
      "short long",
      "unsigned float",
      "int int",
    ]
  ) {
    assert.throws(
      () => ffi.sizeof(s),
      (e: unknown) => e instanceof TypeError && e.message.includes(`"${s}"`),
      s,
    );
    assert.throws(() => ffi.struct([["a", s]]), TypeError, s);
  }
});

Deno.test("lib.fn(prototype) and lib.fn(signature) are the same binding as the list form", () => {
  using libc = ffi.load("libc.so.6");
  const strlen = libc.fn("size_t strlen(const char *s)");
  const strlen2 = libc.fn("size_t strlen(const char *s);");
  const { strlen: sig } = ffi.cdef("size_t strlen(const char *);");
  const strlen3 = libc.fn(sig);
  const strlen4 = libc.fn(sig.name, sig.ret, sig.args);
  for (const f of [strlen, strlen2, strlen3, strlen4]) assert.equal(f("four"), 4n);
  assert.equal(strlen, libc.fn("strlen", "usize", ["string"]), "one binding per (symbol, signature)");
  assert.throws(() => strlen2(), /takes 1 argument/);
  assert.throws(() => libc.fn("int"), SyntaxError);
  assert.throws(() => libc.fn("int a(void); int b(void);"), SyntaxError);
  assert.throws(() => libc.fn({ name: "x" } as unknown as ffi.Signature), TypeError);
  // Variadic prototypes take each extra argument as a C type and a value.
  const snprintf = libc.fn("int snprintf(char *str, size_t size, const char *format, ...)");
  const buf = new Uint8Array(64);
  assert.equal(snprintf(buf, 64, "%s=%d %.2f", "const char*", "x", "int", 42, "double", 0.5), 9);
  assert.equal(ffi.string(buf), "x=42 0.50");
  assert.throws(() => snprintf(buf, 64, "%d", 42), /variadic/);
});

Deno.test("lib.bind(defs): one function per prototype; a missing symbol throws on first call, naming it", () => {
  using libc = ffi.load("libc.so.6");
  const defs = ffi.cdef(`
    typedef int (*cmp_fn)(const void *, const void *);
    int abs(int j);
    long labs(long j);
    int no_such_function_here(int x);
    enum { ONE = 1 };
  `);
  const c = libc.bind(defs);
  assert.deepEqual(Object.keys(c).sort(), ["abs", "labs", "no_such_function_here"]);
  assert.equal(c.abs(-2), 2);
  assert.equal(c.labs(-3n), 3n);
  assert.throws(() => c.no_such_function_here(1), /no_such_function_here/);
  // A plain object of prototype strings and Signatures works too.
  const d = libc.bind({ atoi: "int atoi(const char *s)", abs: defs.abs });
  assert.equal(d.atoi("12"), 12);
  assert.equal(d.abs(-5), 5);
});

Deno.test("ffi.callback(fn, signature) and (fn, prototype string)", () => {
  using fx = ffi.load(FIXTURE);
  const { binop } = ffi.cdef("typedef int (*binop)(int, int);");
  using add = ffi.callback((a: number, b: number) => a + b, binop);
  assert.equal(add.argCount, 2);
  assert.equal(add.retType, "i32");
  using mul = ffi.callback((a: number, b: number) => a * b, "int mul(int a, int b)");
  assert.equal(mul.argCount, 2);
  const invoke = ffi.fn(add.ptr, binop);
  assert.equal(invoke(2, 3), 5);
  assert.equal(ffi.fn(mul.ptr, binop)(4, 5), 20);
  assert.throws(() => ffi.callback(() => 0, "int f(int, ...)"), /variadic/);
  // An unnamed function type works for callbacks (a prototype for lib.fn needs the name).
  using sub = ffi.callback((a: number, b: number) => a - b, "int (int, int)");
  using sub2 = ffi.callback((a: number, b: number) => a - b, "int (*)(int a, int b);");
  assert.equal(ffi.fn(sub, binop)(5, 3), 2);
  assert.equal(ffi.fn(sub2, binop)(5, 3), 2);
  using libc = ffi.load("libc.so.6");
  assert.throws(() => libc.fn("int (int)"), { name: "SyntaxError", message: /name/ });
  void fx;
});

Deno.test("initialisers: fields left out are zero; an unknown name is a TypeError; all or nothing", () => {
  const S = ffi.struct([["a", "int"], ["b", "double"], ["name", "char", 8], [
    "inner",
    ffi.struct([["x", "i16"], ["y", "i16"]]),
  ]]);
  using arena = ffi.arena();
  const p = arena.allocType(S);
  ffi.cast(p, "u8", S.size).fill(0xff);
  ffi.write(p, 0, S, { b: 2.5, inner: { y: 3 } });
  assert.deepEqual(ffi.read(p, 0, S), {
    a: 0,
    b: 2.5,
    name: [0, 0, 0, 0, 0, 0, 0, 0],
    inner: { x: 0, y: 3 },
  });
  // A write that fails writes nothing.
  assert.throws(() => ffi.write(p, 0, S, { a: 1, nope: 2 }), {
    name: "TypeError",
    message: /no field "nope"/,
  });
  assert.throws(() => ffi.write(p, 0, S, { a: 1, b: "x" }), TypeError);
  assert.equal(ffi.read(p, 0, S).b, 2.5);
  // The same for struct elements of a typed pointer, and for view assignment of a nested struct.
  const arr = ffi.cast(arena.allocArray(S, 2), S, 2);
  arr.set(1, { a: 9 });
  assert.equal(arr[1].a, 9);
  assert.equal(arr[1].b, 0);
  const v = ffi.view(p, S);
  v.inner = { x: 4 };
  assert.deepEqual([v.inner.x, v.inner.y], [4, 0]);
});

Deno.test("a JS string in a char* field of a struct passed by value lives for the call", () => {
  using libc = ffi.load("libc.so.6");
  // struct by value to a C function that reads the char* field: strlen through a fixture-free route is
  // not possible, so use a callback: C (qsort) passes pointers; the struct goes by value to ffi.fn of
  // a callback, which reads the string C received.
  const Msg = ffi.struct([["len", "int"], ["text", "const char *"]]);
  let seen = "";
  using cb = ffi.callback(
    (m: { len: number; text: string | null }) => {
      seen = m.text ?? "(null)";
      return m.len;
    },
    "int",
    [Msg],
  );
  const call = ffi.fn(cb.ptr, "int", [Msg]);
  assert.equal(call({ len: 5, text: "héllo wörld" }), 5);
  assert.equal(seen, "héllo wörld");
  // Many calls, long strings: nothing leaks past the call's scratch.
  for (let i = 0; i < 2000; i++) call({ len: i, text: "x".repeat(i % 300) });
  assert.equal(seen.length, 1999 % 300);
  void libc;
});

Deno.test("ffi.string(ptr, len?) and toString() of char arrays", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  const bytes = new TextEncoder().encode("ab\0cd");
  bytes.forEach((b, i) => p.write(i, "u8", b));
  assert.equal(ffi.string(p), "ab");
  assert.equal(ffi.string(p, 5), "ab\0cd");
  assert.equal(ffi.string(p.add(3)), "cd");
  assert.throws(() => ffi.string(p, 17), RangeError);
  assert.throws(() => ffi.string(p.add(10), 7), RangeError);
  assert.throws(() => ffi.string(ffi.ptr(0)), TypeError);
  const S = ffi.struct([["tag", "char", 4], ["n", "int"]]);
  const v = ffi.view(arena.allocType(S), S);
  v.n = 0x41414141; // "AAAA" right after the array: a char array with no NUL stops at its end
  ffi.cast(ffi.toRaw(v), "u8", 4).set([0x77, 0x78, 0x79, 0x7a]);
  assert.equal(String(v.tag), "wxyz");
  assert.equal(ffi.string(v.tag), "wxyz");
  assert.equal(ffi.string(v.tag, 6), "wxyzAA");
  v.tag = "hi";
  assert.equal(`${v.tag}`, "hi");
  assert.equal(ffi.string(ffi.buffer(4)), "");
  assert.equal(ffi.string(new TextEncoder().encode("js\0x")), "js");
  arena.reset();
  assert.throws(() => ffi.string(p), /freed/);
  assert.throws(() => ffi.string(p, 2), /freed/);
});

Deno.test("the list form of lib.fn is typed: tests/types_check/fn_fail.ts fails on exactly its marked lines", async () => {
  const file = decodeURIComponent(new URL("./types_check/fn_fail.ts", import.meta.url).pathname);
  const source = await Deno.readTextFile(file);
  const marked = source.split("\n").flatMap((line, i) => /\/\/ error:/.test(line) ? [i + 1] : []);
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--no-config", file],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(success, false, output);
  const reported = [...output.matchAll(/fn_fail\.ts:(\d+):\d+/g)].map((m) => Number(m[1]));
  assert.deepEqual([...new Set(reported)].sort((a, b) => a - b), marked, output);
});

Deno.test("a function-pointer typedef is a pointer type wherever a type goes; sizeof in constant expressions", () => {
  const d = ffi.cdef(`
    typedef int (*cmp_fn)(const void *, const void *);
    struct sorter { cmp_fn cmp; int (*inline_fn)(int); char buf[sizeof(long) * 2]; };
    enum { PTR_SIZE = sizeof(void *), PAIR = sizeof(struct pair { int a; double b; }) };
  `);
  assert.equal(ffi.sizeof(d.cmp_fn), 8);
  assert.equal(ffi.alignof(d.cmp_fn), 8);
  assert.equal(ffi.struct([["f", d.cmp_fn]]).size, 8);
  assert.equal(d.sorter.offsetOf("inline_fn"), 8);
  assert.equal(d.sorter.sizeOf("buf"), 16);
  assert.deepEqual([d.PTR_SIZE, d.PAIR], [8, 16]);
  using libc = ffi.load("libc.so.6");
  const qsort = libc.fn("qsort", "void", ["void *", "size_t", "size_t", d.cmp_fn]);
  using arena = ffi.arena();
  const ints = ffi.cast(arena.allocArray("int", 3), "int", 3);
  [3, 1, 2].forEach((v, i) => ints[i] = v);
  using cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer) => a.read(0, "int") - b.read(0, "int"),
    d.cmp_fn,
  );
  qsort(ints, 3, 4, cmp);
  assert.deepEqual([...ints], [1, 2, 3]);
  const s = ffi.view(arena.allocType(d.sorter), d.sorter);
  s.cmp = cmp;
  assert.equal(s.cmp.addr, cmp.ptr.addr);
});
