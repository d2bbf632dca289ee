/**
 * ffi.cdef against the C compiler: tests/fixture/c/cdef_layouts.h is read by cdef here and compiled by
 * the system's C compiler into the fixture library, which reports sizeof, _Alignof and offsetof of
 * every type, enum and #define values, and objects whose bitfields C assigned.
 */

import * as ffi from "../mod.ts";
import assert from "node:assert/strict";
import { FIXTURE } from "./_fixture.ts";

const HEADER = Deno.readTextFileSync(new URL("./fixture/c/cdef_layouts.h", import.meta.url));
const defs = ffi.cdef(HEADER);
const fx = ffi.load(FIXTURE);

/** The C compiler's facts: "sizeof(struct fx_bits)" → 24, ... */
function cFacts(): Map<string, number> {
  const out = new Map<string, number>();
  const n = Number(fx.call("lffi_fx_c_fact_count", "usize", []));
  for (let i = 0; i < n; i++) {
    const key = fx.call("lffi_fx_c_fact_key", "string", ["usize"], i)!;
    out.set(key, Number(fx.call("lffi_fx_c_fact_value", "i64", ["usize"], i)));
  }
  return out;
}

/** The definition a C type expression names: `struct fx_bits`, `fx_split`. */
function typeOf(expr: string): ffi.StructDefinition {
  const d = defs[expr.trim()];
  assert.ok(d instanceof ffi.StructDefinition, `cdef defines ${expr}`);
  return d;
}

Deno.test("cdef layouts equal the C compiler's: every sizeof, _Alignof, offsetof and constant", () => {
  const facts = cFacts();
  assert.ok(facts.size > 30);
  let checked = 0;
  for (const [key, want] of facts) {
    let m: RegExpExecArray | null;
    let got: number;
    if ((m = /^sizeof\((enum \w+)\)$/.exec(key))) got = ffi.sizeof(defs[m[1]]);
    else if ((m = /^sizeof\((.+)\)$/.exec(key))) got = typeOf(m[1]).size;
    else if ((m = /^_Alignof\((.+)\)$/.exec(key))) got = typeOf(m[1]).alignment;
    else if ((m = /^offsetof\((.+), (\w+)\)$/.exec(key))) got = typeOf(m[1]).offsetOf(m[2]);
    else got = defs[key];
    assert.equal(got, want, `${key}: cdef gives ${got}, the C compiler ${want}`);
    checked++;
  }
  assert.equal(checked, facts.size);
});

/** C's sample object of a type: its bytes (a copy) and a view of them. */
function sample(name: string): Uint8Array {
  using arena = ffi.arena();
  const size = arena.allocType("usize");
  const p = fx.call("lffi_fx_c_sample", "pointer", ["string", "pointer"], name, size);
  assert.equal(p.isNull, false);
  const n = Number(size.read(0, "usize"));
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = p.read(i, "u8");
  return bytes;
}

function put(p: ffi.RawPointer, bytes: Uint8Array): void {
  bytes.forEach((b, i) => p.write(i, "u8", b));
}

function bytesAt(p: ffi.RawPointer, n: number): number[] {
  return Array.from({ length: n }, (_, i) => p.read(i, "u8"));
}

const SAMPLES: [string, Record<string, unknown>][] = [
  ["fx_bits", { a: 5, b: 100, c: -7, d: 9, e: 0xABCDEF1234, f: -3, g: -4294967296 }],
  ["fx_lead", { lead: 0xAA, x: 0xABC, y: 0xF }],
  ["fx_enum_bits", { m: 3, c: -2 }],
  ["fx_packed_bits", { a: 6, b: 0x2AAAAAAA, c: 0x7F }],
  ["fx_packed", { tag: 1, value: 0xDEADBEEF, port: 8080, ratio: 0.5 }],
];

for (const [name, values] of SAMPLES) {
  Deno.test(`bitfields and packing of ${name}: reads what C wrote, writes the bytes C writes`, () => {
    const def = typeOf(name);
    const cBytes = sample(name);
    assert.equal(cBytes.length, def.size);
    using arena = ffi.arena();
    // Read: C's bytes through a view.
    const p = arena.allocType(def);
    put(p, cBytes);
    const v = ffi.view(p, def);
    for (const [k, want] of Object.entries(values)) assert.equal(v[k], want, `${name}.${k}`);
    assert.deepEqual(ffi.read(p, 0, def), values);
    // Write: field by field through a view, and as one initialiser: the same bytes as C's.
    const q = arena.allocType(def);
    const w = ffi.view(q, def);
    for (const [k, x] of Object.entries(values)) w[k] = x;
    assert.deepEqual(bytesAt(q, def.size), [...cBytes]);
    const r = arena.allocType(def);
    ffi.write(r, 0, def, values);
    assert.deepEqual(bytesAt(r, def.size), [...cBytes]);
  });
}

Deno.test("a tagged union with anonymous members reads what C wrote (C11 promotion)", () => {
  const T = typeOf("fx_tagged");
  const bytes = sample("fx_tagged");
  using arena = ffi.arena();
  const p = arena.allocType(T);
  put(p, bytes);
  const v = ffi.view(p, T);
  assert.equal(v.kind, 2);
  assert.equal(v.radius, 2.5);
  assert.equal(String(v.name), "disk");
  assert.equal(ffi.string(v.name), "disk");
  assert.equal(typeof v.point.x, "number");
  v.w = 3;
  v.h = 4;
  assert.equal(v.point.x, ffi.read(p, T.offsetOf("w"), "f32"));
  assert.equal(T.offsetOf("point"), T.offsetOf("radius"));
});

Deno.test("bitfield values that do not fit their width are a RangeError; non-integers a TypeError", () => {
  const B = typeOf("fx_bits");
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(B), B);
  assert.throws(() => v.a = 8, { name: "RangeError", message: /3-bit/ });
  assert.throws(() => v.a = -1, RangeError);
  assert.throws(() => v.c = 16, RangeError);
  v.c = -16;
  assert.equal(v.c, -16);
  assert.throws(() => v.c = -17, RangeError);
  assert.throws(() => v.b = 1.5, TypeError);
  assert.throws(() => v.b = "1", TypeError);
  v.b = 127;
  assert.equal(v.a, 0, "neighbours untouched");
  assert.equal(v.b, 127);
  v.g = 2n ** 32n - 1n; // a bigint is taken; wide fields read as numbers
  assert.equal(v.g, 2 ** 32 - 1);
});

Deno.test("unions and bitfield structs pass to and return from C by value", () => {
  const c = fx.bind({
    lffi_fx_c_num_bits: { name: "lffi_fx_c_num_bits", ret: "int", args: [defs.fx_num], variadic: false },
    lffi_fx_c_num_float: { name: "lffi_fx_c_num_float", ret: defs.fx_num, args: ["float"], variadic: false },
  });
  assert.equal(c.lffi_fx_c_num_bits({ f: 1 }), 0x3f800000);
  assert.equal(c.lffi_fx_c_num_bits({ i: -5 }), -5);
  assert.equal(c.lffi_fx_c_num_float(1).i, 0x3f800000);
  // Prototypes that use the header's types: a cdef with the header's defs as a scope.
  const more = fx.bind(ffi.cdef(
    `double lffi_fx_c_boxed_sum(fx_boxed a, fx_boxed b);
     int lffi_fx_c_bits_sum(struct fx_lead l);`,
    defs,
  ));
  assert.equal(more.lffi_fx_c_boxed_sum({ kind: 0, n: { i: 2 } }, { kind: 1, n: { f: 0.5 } }), 2.5);
  assert.equal(more.lffi_fx_c_bits_sum({ lead: 1, x: 0xABC, y: 2 }), 1 + 0xABC + 2);
});

Deno.test("cdef: enums, #define, typedefs, prototypes and function-pointer typedefs", () => {
  const d = ffi.cdef(`
    /* comments are ignored */ // both kinds
      #  define MODE 0644
    #define BIG 4096UL
    #define NEG (-3)
    enum e { A, B = 5, C, D = -2, E, F = 0x10 | 1, G = 1 << 4 };
    typedef unsigned long uLong;
    typedef long unsigned int size_type;
    typedef const char *cstr;
    typedef int (*cmp_fn)(const void *, const void *);
    int compress2(uint8_t *dest, unsigned long *destLen, const uint8_t *src, unsigned long srcLen, int level);
    int printf(const char *format, ...);
    void nothing(void);
    cstr name_of(int);
    double scale(double values[], unsigned n, int (*pick)(int));
  `);
  assert.equal(d.MODE, 0o644);
  assert.equal(d.BIG, 4096);
  assert.equal(d.NEG, -3);
  assert.deepEqual([d.A, d.B, d.C, d.D, d.E, d.F, d.G], [0, 5, 6, -2, -1, 17, 16]);
  assert.equal(d.e, "int");
  assert.equal(ffi.sizeof(d.e), 4);
  assert.equal(d.uLong, "u64");
  assert.equal(ffi.sizeof(d.size_type), 8);
  assert.equal(d.cstr, "string");
  assert.deepEqual(d.cmp_fn, { name: "cmp_fn", ret: "i32", args: ["pointer", "pointer"], variadic: false });
  assert.deepEqual(d.compress2, {
    name: "compress2",
    ret: "i32",
    args: ["pointer", "pointer", "pointer", "u64", "i32"],
    variadic: false,
  });
  assert.equal(ffi.sizeof(d.compress2.args[3]), 8);
  assert.deepEqual(d.printf, { name: "printf", ret: "i32", args: ["string"], variadic: true });
  assert.deepEqual(d.nothing, { name: "nothing", ret: "void", args: [], variadic: false });
  assert.equal(d.name_of.ret, "string");
  assert.deepEqual(d.scale.args, ["pointer", "u32", "pointer"]);
});

Deno.test("cdef: struct S is defs.S and defs['struct S'], a StructDefinition; self-references; scopes", () => {
  const d = ffi.cdef(`
    struct node { int value; struct node *next; char tag[4]; };
    union u { int i; float f; };
    struct list;
    struct holder { struct list *l; union u n; };
  `);
  assert.equal(d.node, d["struct node"]);
  assert.ok(d.node instanceof ffi.StructDefinition);
  assert.equal(d.u, d["union u"]);
  assert.equal(d.u.kind, "union");
  assert.equal(d.node.offsetOf("next"), 8);
  assert.equal(d.node.size, 24);
  assert.equal(d.holder.size, 16);
  const later = ffi.cdef("struct pair { struct node a; union u b; }; int sum(struct node *n);", d);
  assert.equal(later.pair.size, 24 + 8);
  assert.equal(later.sum.args[0], "pointer");
  assert.throws(() => ffi.cdef("struct pair2 { struct node a; };"), TypeError); // incomplete here
  assert.throws(() => ffi.cdef("struct x { int a; };", {} as ffi.CDefs), TypeError);
});

Deno.test("cdef: a syntax error is a SyntaxError with 1-based line, column and token", () => {
  const cases: [string, number, number, string][] = [
    ["int x", 1, 6, "end of input"],
    ["struct s {\n  int a;\n  int b\n};", 4, 1, "}"],
    ["int f(int a,);", 1, 13, ")"],
    ["\n\n  int 3x;", 3, 7, "3x"],
    ["#include <stdio.h>", 1, 1, "#include"],
    ["  #if 1", 1, 3, "#if"],
    ["#define F(x) x", 1, 1, "#define"],
    ["int f(int a) { return a; }", 1, 14, "{"],
    ["int x = 3;", 1, 7, "="],
  ];
  for (const [src, line, column, token] of cases) {
    assert.throws(() => ffi.cdef(src), (e: unknown) => {
      assert.ok(e instanceof SyntaxError, `${src}: ${e}`);
      const se = e as ffi.CSyntaxError;
      assert.deepEqual([se.line, se.column, se.token], [line, column, token], `${src}: ${se.message}`);
      assert.match(se.message, new RegExp(`line ${line}, column ${column}`));
      return true;
    });
  }
});

Deno.test("cdef: an unknown type name or impossible spelling is a TypeError naming it", () => {
  assert.throws(() => ffi.cdef("foo_t make(void);"), { name: "TypeError", message: /'foo_t'/ });
  assert.throws(() => ffi.cdef("int f(FILE *f);"), { name: "TypeError", message: /'FILE'/ });
  assert.throws(() => ffi.cdef("struct s { unsigned double d; };"), {
    name: "TypeError",
    message: /unsigned double/,
  });
  assert.throws(() => ffi.cdef("long long long x(void);"), { name: "TypeError", message: /long long long/ });
  assert.throws(() => ffi.cdef("struct s { int a[N]; };"), { name: "TypeError", message: /'N'/ });
  assert.throws(() => ffi.cdef("struct s { float f : 3; };"), TypeError);
  assert.throws(() => ffi.cdef("struct s { int a; char rest[]; };"), {
    name: "TypeError",
    message: /flexible/,
  });
  // K&R and C++ are not C declarations it reads.
  assert.throws(() => ffi.cdef("int f(a, b) int a; int b;"), TypeError);
  assert.throws(() => ffi.cdef("class A { int x; };"), TypeError);
  assert.throws(() => ffi.cdef("namespace x {}"), TypeError);
});

Deno.test("packed structs by value: in memory above 16 bytes, as C does; refused (clearly) where C would use memory for a small one", () => {
  const big = fx.bind(ffi.cdef(
    `double lffi_fx_c_big_packed_sum(struct fx_big_packed p);
     struct fx_big_packed lffi_fx_c_big_packed_make(double a);`,
    defs,
  ));
  assert.equal(defs.fx_big_packed.size, 21);
  assert.equal(big.lffi_fx_c_big_packed_sum({ tag: 1, a: 0.5, b: 0.25, c: 100 }), 101.75);
  assert.deepEqual(big.lffi_fx_c_big_packed_make(1.5), { tag: 7, a: 1.5, b: 3, c: 9 });
  // struct fx_packed (15 bytes, `value` at offset 1): C passes it in memory, libffi cannot say so.
  const small = fx.bind(ffi.cdef("double lffi_fx_nothing(struct fx_packed p);", defs));
  assert.throws(() => small.lffi_fx_nothing({}), {
    name: "TypeError",
    message: /packed struct of 15 bytes.*"value"/,
  });
  assert.throws(() => fx.fn("lffi_fx_nothing", "f64", [defs.fx_packed]), TypeError);
});
