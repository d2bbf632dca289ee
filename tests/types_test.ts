/**
 * The C type table and the value rules of every primitive type (API.md, "Values of each C type"),
 * through managed (arena) and unmanaged (`ffi.ptr(addr)`) pointers, at aligned and unaligned offsets.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";

/** The seed's type table: canonical name, size, aliases. Written out here, not derived from the code. */
const SEED: Record<string, { size: number; aliases: string[] }> = {
  void: { size: 0, aliases: [] },
  bool: { size: 1, aliases: [] },
  i8: { size: 1, aliases: ["char", "int8"] },
  u8: { size: 1, aliases: ["uchar", "byte"] },
  i16: { size: 2, aliases: ["short", "int16"] },
  u16: { size: 2, aliases: ["ushort", "uint16"] },
  i32: { size: 4, aliases: ["int", "int32"] },
  u32: { size: 4, aliases: ["uint", "uint32"] },
  i64: { size: 8, aliases: ["long", "int64"] },
  u64: { size: 8, aliases: ["ulong", "uint64"] },
  isize: { size: 8, aliases: ["ssize_t", "ptrdiff_t"] },
  usize: { size: 8, aliases: ["size_t"] },
  f32: { size: 4, aliases: ["float"] },
  f64: { size: 8, aliases: ["double"] },
  pointer: { size: 8, aliases: ["ptr", "void*"] },
  string: { size: 8, aliases: ["cstring", "char*"] },
};

/** Every spelling of a type: its canonical name and its aliases. */
function spellings(canonical: string): ffi.CTypeName[] {
  return [canonical, ...SEED[canonical].aliases] as ffi.CTypeName[];
}

/** Values that must read back exactly as written (`[written, read]`). */
const ROUND_TRIPS: Record<string, [unknown, unknown][]> = {
  bool: [[true, true], [false, false]],
  i8: [[0, 0], [1, 1], [-1, -1], [127, 127], [-128, -128]],
  u8: [[0, 0], [1, 1], [255, 255], [0x5a, 0x5a]],
  i16: [[-32768, -32768], [32767, 32767], [-2, -2], [0x1234, 0x1234]],
  u16: [[65535, 65535], [0xbeef, 0xbeef]],
  i32: [[-0x8000_0000, -0x8000_0000], [0x7fff_ffff, 0x7fff_ffff], [-7, -7], [0x1234_5678, 0x1234_5678]],
  u32: [[0xffff_ffff, 0xffff_ffff], [0xdead_beef, 0xdead_beef]],
  i64: [
    [-(2n ** 63n), -(2n ** 63n)],
    [2n ** 63n - 1n, 2n ** 63n - 1n],
    [-1n, -1n],
    [Number.MAX_SAFE_INTEGER, BigInt(Number.MAX_SAFE_INTEGER)],
    [Number.MIN_SAFE_INTEGER, BigInt(Number.MIN_SAFE_INTEGER)],
    [0x0102_0304_0506_0708n, 0x0102_0304_0506_0708n],
  ],
  u64: [[2n ** 64n - 1n, 2n ** 64n - 1n], [0n, 0n], [42, 42n], [
    0x8000_0000_0000_0000n,
    0x8000_0000_0000_0000n,
  ]],
  isize: [[-(2n ** 63n), -(2n ** 63n)], [-5, -5n], [2n ** 63n - 1n, 2n ** 63n - 1n]],
  usize: [[2n ** 64n - 1n, 2n ** 64n - 1n], [4096, 4096n]],
  f32: [[1.5, 1.5], [-0.25, -0.25], [Infinity, Infinity], [-Infinity, -Infinity], [0.1, Math.fround(0.1)], [
    3.4e38,
    Math.fround(3.4e38),
  ]],
  f64: [[Math.PI, Math.PI], [-0, -0], [Number.MAX_VALUE, Number.MAX_VALUE], [
    Number.MIN_VALUE,
    Number.MIN_VALUE,
  ], [
    -Infinity,
    -Infinity,
  ]],
};

/** Offsets to try: aligned, then unaligned for every size. */
const OFFSETS = [0, 8, 1, 3, 5, 7, 13];

Deno.test("typeNames is exactly the seed's table: every canonical name and alias", () => {
  const expected = Object.keys(SEED).flatMap(spellings).sort();
  assert.deepEqual([...ffi.typeNames].sort(), expected);
});

Deno.test("every type and alias round-trips at aligned and unaligned offsets, managed and unmanaged", () => {
  using arena = ffi.arena();
  const managed = arena.alloc(64);
  const unmanaged = ffi.ptr(managed.addr);
  for (const [canonical, cases] of Object.entries(ROUND_TRIPS)) {
    for (const name of spellings(canonical)) {
      for (const offset of OFFSETS) {
        for (const [written, expected] of cases) {
          for (const [via, other] of [[managed, unmanaged], [unmanaged, managed]]) {
            ffi.fill(managed, 64, 0xcc);
            via.write(offset, name, written);
            const label = `${name} ${String(written)} at ${offset} via ${via.isManaged ? "" : "un"}managed`;
            assert.ok(Object.is(via.read(offset, name), expected), label);
            // The other kind of pointer sees the same bytes.
            assert.ok(Object.is(other.read(offset, name), expected), `${label}, read back by the other`);
            assert.ok(Object.is(ffi.read(via, offset, name), expected), `${label}, ffi.read`);
            // Exactly `size` bytes were written: the neighbours keep the 0xcc pattern.
            const size = SEED[canonical].size;
            if (offset > 0) assert.equal(managed.read(offset - 1, "u8"), 0xcc, `${label}: byte before`);
            assert.equal(managed.read(offset + size, "u8"), 0xcc, `${label}: byte after`);
          }
        }
      }
    }
  }
});

Deno.test("f32 and f64 keep NaN", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  for (const t of ["f32", "float", "f64", "double"] as const) {
    p.write(3, t, NaN);
    assert.ok(Number.isNaN(p.read(3, t)), t);
    ffi.ptr(p.addr).write(5, t, NaN);
    assert.ok(Number.isNaN(ffi.ptr(p.addr).read(5, t)), t);
  }
});

Deno.test("values are stored little-endian, as C on this platform", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  p.write(0, "u32", 0x0403_0201);
  assert.deepEqual([0, 1, 2, 3].map((i) => p.read(i, "u8")), [1, 2, 3, 4]);
  p.write(8, "u64", 0x0807_0605_0403_0201n);
  assert.deepEqual([8, 9, 10, 11, 12, 13, 14, 15].map((i) => p.read(i, "u8")), [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("integer writes inside the signed or unsigned range follow C conversion", () => {
  using arena = ffi.arena();
  const m = arena.alloc(16);
  for (const p of [m, ffi.ptr(m.addr)]) {
    p.write(0, "u32", -1);
    assert.equal(p.read(0, "u32"), 0xffff_ffff);
    assert.equal(p.read(0, "i32"), -1);
    p.write(0, "i32", 0xffff_ffff);
    assert.equal(p.read(0, "i32"), -1);
    p.write(0, "i8", 255);
    assert.equal(p.read(0, "i8"), -1);
    p.write(0, "u8", -128);
    assert.equal(p.read(0, "u8"), 128);
    p.write(0, "i16", 0xffff);
    assert.equal(p.read(0, "i16"), -1);
    p.write(0, "u16", -0x8000);
    assert.equal(p.read(0, "u16"), 0x8000);
    p.write(0, "u64", -1);
    assert.equal(p.read(0, "u64"), 2n ** 64n - 1n);
    p.write(0, "u64", -(2n ** 63n));
    assert.equal(p.read(0, "u64"), 2n ** 63n);
    p.write(0, "i64", 2n ** 64n - 1n);
    assert.equal(p.read(0, "i64"), -1n);
    p.write(0, "isize", 2n ** 63n);
    assert.equal(p.read(0, "isize"), -(2n ** 63n));
    p.write(0, "usize", -2);
    assert.equal(p.read(0, "usize"), 2n ** 64n - 2n);
  }
});

Deno.test("-0 is written as the integer 0", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  for (const t of ["i8", "u8", "i16", "u16", "i32", "u32"] as const) {
    p.write(0, "u32", 0xffff_ffff);
    p.write(0, t, -0);
    assert.ok(Object.is(p.read(0, t), 0), t);
  }
  for (const t of ["i64", "u64", "isize", "usize"] as const) {
    p.write(0, t, -0);
    assert.equal(p.read(0, t), 0n, t);
  }
});

/** Integer types with their smallest signed and largest unsigned value. */
const INT_LIMITS: [string, number | bigint, number | bigint][] = [
  ["i8", -0x80, 0xff],
  ["u8", -0x80, 0xff],
  ["i16", -0x8000, 0xffff],
  ["u16", -0x8000, 0xffff],
  ["i32", -0x8000_0000, 0xffff_ffff],
  ["u32", -0x8000_0000, 0xffff_ffff],
  ["i64", -(2n ** 63n), 2n ** 64n - 1n],
  ["u64", -(2n ** 63n), 2n ** 64n - 1n],
  ["isize", -(2n ** 63n), 2n ** 64n - 1n],
  ["usize", -(2n ** 63n), 2n ** 64n - 1n],
];

/** Asserts `fn` throws `kind` with a message naming the value and the type. */
function assertNamed(fn: () => unknown, kind: ErrorConstructor, value: string, type: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${e}`);
    assert.ok((e as Error).message.includes(value), `"${(e as Error).message}" should name ${value}`);
    assert.ok((e as Error).message.includes(type), `"${(e as Error).message}" should name ${type}`);
    return true;
  });
}

Deno.test("integer limits are accepted; one past them is a RangeError naming value and type", () => {
  using arena = ffi.arena();
  const m = arena.alloc(16);
  for (const p of [m, ffi.ptr(m.addr)]) {
    for (const [canonical, min, max] of INT_LIMITS) {
      for (const t of spellings(canonical)) {
        p.write(1, t, min);
        p.write(1, t, max);
        const below = typeof min === "bigint" ? min - 1n : min - 1;
        const above = typeof max === "bigint" ? max + 1n : max + 1;
        assertNamed(() => p.write(1, t, below), RangeError, String(below), canonical);
        assertNamed(() => p.write(1, t, above), RangeError, String(above), canonical);
        assertNamed(() => ffi.write(p, 1, t, above), RangeError, String(above), canonical);
      }
    }
  }
});

Deno.test("a failed write leaves memory unchanged", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  p.write(0, "i64", 0x1122_3344_5566_7788n);
  for (const [t, v] of [["i32", 1.5], ["u8", 256], ["i64", 2n ** 64n], ["f64", "1"], ["bool", 2]] as const) {
    assert.throws(() => p.write(0, t, v));
  }
  assert.equal(p.read(0, "i64"), 0x1122_3344_5566_7788n);
});

Deno.test("integer writes of non-integers, NaN and non-numbers are TypeErrors naming value and type", () => {
  using arena = ffi.arena();
  const m = arena.alloc(16);
  for (const p of [m, ffi.ptr(m.addr)]) {
    for (const [t] of INT_LIMITS) {
      assertNamed(() => p.write(0, t as ffi.CTypeName, 1.5), TypeError, "1.5", t);
      assertNamed(() => p.write(0, t as ffi.CTypeName, NaN), TypeError, "NaN", t);
      assertNamed(() => p.write(0, t as ffi.CTypeName, Infinity), TypeError, "Infinity", t);
      assertNamed(() => p.write(0, t as ffi.CTypeName, "7"), TypeError, '"7"', t);
      assertNamed(() => p.write(0, t as ffi.CTypeName, null), TypeError, "null", t);
      assertNamed(() => p.write(0, t as ffi.CTypeName, true), TypeError, "true", t);
    }
    // 32-bit and smaller integers are numbers: a bigint is the wrong kind of value.
    assertNamed(() => p.write(0, "i32", 5n), TypeError, "5n", "i32");
  }
});

Deno.test("64-bit integer writes take safe numbers or bigints; an unsafe number is rejected", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  for (const t of ["i64", "u64", "isize", "usize"] as const) {
    p.write(0, t, 2 ** 53 - 1);
    assert.equal(p.read(0, t), 2n ** 53n - 1n);
    assertNamed(() => p.write(0, t, 2 ** 53), RangeError, String(2 ** 53), t);
    assertNamed(() => p.write(0, t, -(2 ** 60)), RangeError, String(-(2 ** 60)), t);
    assert.equal(typeof p.read(0, t), "bigint");
  }
});

Deno.test("f32 and f64 take numbers only", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  for (const t of ["f32", "f64"] as const) {
    assertNamed(() => p.write(0, t, "1.5"), TypeError, '"1.5"', t);
    assertNamed(() => p.write(0, t, 1n), TypeError, "1n", t);
    assertNamed(() => p.write(0, t, undefined), TypeError, "undefined", t);
  }
});

Deno.test("bool is stored as the byte 0 or 1 and reads as a boolean", () => {
  using arena = ffi.arena();
  const p = arena.alloc(4);
  p.write(1, "bool", true);
  assert.equal(p.read(1, "u8"), 1);
  assert.equal(p.read(1, "bool"), true);
  p.write(1, "bool", false);
  assert.equal(p.read(1, "u8"), 0);
  // Any non-zero byte written by C reads as true.
  p.write(2, "u8", 0x80);
  assert.equal(p.read(2, "bool"), true);
  assert.equal(ffi.ptr(p.addr).read(2, "bool"), true);
  assertNamed(() => p.write(0, "bool", "yes"), TypeError, '"yes"', "bool");
  assertNamed(() => p.write(0, "bool", 2), TypeError, "2", "bool");
  assertNamed(() => p.write(0, "bool", null), TypeError, "null", "bool");
});

Deno.test("pointer reads give RawPointers; NULL reads as a RawPointer whose isNull is true", () => {
  using arena = ffi.arena();
  const p = arena.alloc(32);
  const target = arena.alloc(8);
  for (const t of spellings("pointer")) {
    p.write(3, t, target);
    const back = p.read(3, t) as ffi.RawPointer;
    assert.ok(back instanceof ffi.RawPointer);
    assert.equal(back.addr, target.addr);
    assert.equal(back.isManaged, false, "a pointer read from memory is unmanaged, as in C");
    assert.equal(p.read(3, "usize"), BigInt(target.addr));

    p.write(3, t, null);
    const nul = p.read(3, t) as ffi.RawPointer;
    assert.ok(nul instanceof ffi.RawPointer);
    assert.equal(nul.isNull, true);
    assert.equal(ffi.isNull(nul), true);
    assert.equal(p.read(3, "u64"), 0n);
  }
  // Accepted: RawPointer (managed or not), a Deno pointer value, null.
  p.write(8, "pointer", ffi.ptr(0x1234));
  assert.equal((p.read(8, "pointer") as ffi.RawPointer).addr, 0x1234);
  p.write(8, "pointer", Deno.UnsafePointer.create(0x5678n));
  assert.equal((p.read(8, "pointer") as ffi.RawPointer).addr, 0x5678);
  p.write(8, "pointer", target.add(4));
  assert.equal((ffi.ptr(p.addr).read(8, "pointer") as ffi.RawPointer).addr, target.addr + 4);
  // Rejected: numbers, strings, plain objects.
  for (const bad of [0x1234, "0x1234", {}, 1n]) {
    assert.throws(() => p.write(8, "pointer", bad), TypeError);
  }
});

Deno.test("string writes copy the JS string into the destination's arena; reads decode UTF-8", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  const countBefore = arena.allocationCount;
  for (const t of spellings("string")) {
    for (const s of ["hello", "", "héllo wörld ✓ 🎉", "x".repeat(100_000)]) {
      p.write(8, t, s);
      assert.equal(p.read(8, t), s);
      assert.equal(ffi.ptr(p.addr).read(8, t), s, "read through an unmanaged pointer");
      // The copy is NUL-terminated UTF-8 at the stored address.
      const addr = (p.read(8, "pointer") as ffi.RawPointer).addr;
      const bytes = new TextEncoder().encode(s);
      assert.equal(ffi.ptr(addr).read(bytes.length, "u8"), 0);
      if (bytes.length > 0) assert.equal(ffi.ptr(addr).read(0, "u8"), bytes[0]);
    }
  }
  // The copies are allocations of the arena (so reset and dispose free them too).
  assert.ok(arena.allocationCount > countBefore);
});

Deno.test("string reads: NULL gives null; writes accept a pointer or null", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  assert.equal(p.read(0, "string"), null);
  const bytes = arena.alloc(4);
  bytes.write(0, "u8", 0x68);
  bytes.write(1, "u8", 0x69);
  p.write(0, "char*", bytes);
  assert.equal(p.read(0, "cstring"), "hi");
  p.write(0, "string", null);
  assert.equal(p.read(0, "string"), null);
  assert.throws(() => p.write(0, "string", 42), TypeError);
});

Deno.test("writing a JS string into unmanaged memory is a clear TypeError", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  const u = ffi.ptr(p.addr);
  assert.throws(() => u.write(0, "string", "hi"), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match((e as Error).message, /unmanaged/);
    return true;
  });
  assert.equal(p.read(0, "u64"), 0n, "nothing was written");
});

Deno.test("void cannot be read, written or allocated", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  assert.throws(() => p.read(0, "void"), TypeError);
  assert.throws(() => p.write(0, "void", 0), TypeError);
  assert.throws(() => arena.allocType("void"), TypeError);
  assert.throws(() => arena.allocArray("void", 2), TypeError);
});

Deno.test("an unknown type name is a TypeError that names it, everywhere a type is taken", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  // ("void *" and "uint8_t" are C spellings, accepted since C spellings are: see c_spellings_test.ts.)
  const bad = [
    "int33",
    "I32",
    "",
    "void * x",
    "uint9_t",
    "constructor",
    "__proto__",
    "toString",
    "unsigned double",
  ];
  for (const name of bad) {
    const t = name as ffi.CTypeName;
    for (
      const fn of [
        () => p.read(0, t),
        () => p.write(0, t, 0),
        () => ffi.read(p, 0, t),
        () => ffi.write(p, 0, t, 0),
        () => ffi.ptr(p.addr).read(0, t),
        () => arena.allocType(t),
        () => arena.allocArray(t, 1),
      ]
    ) {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof TypeError, `${name}: ${e}`);
        assert.ok((e as Error).message.includes(JSON.stringify(name)), (e as Error).message);
        return true;
      });
    }
  }
  for (const notAName of [undefined, null, 4, {}]) {
    assert.throws(() => p.read(0, notAName as unknown as ffi.CTypeName), TypeError);
  }
});

const sizeofFn = (ffi as Record<string, unknown>).sizeof as ((t: string) => number) | undefined;
const alignofFn = (ffi as Record<string, unknown>).alignof as ((t: string) => number) | undefined;

Deno.test({
  name: "sizeof and alignof give the seed's sizes and natural alignment for every spelling",
  ignore: sizeofFn === undefined || alignofFn === undefined,
  fn() {
    for (const [canonical, { size }] of Object.entries(SEED)) {
      for (const t of spellings(canonical)) {
        if (canonical !== "void") {
          assert.equal(sizeofFn!(t), size, `sizeof ${t}`);
          assert.equal(alignofFn!(t), size === 0 ? 1 : size, `alignof ${t}`);
        }
      }
    }
    assert.throws(() => sizeofFn!("nope"), TypeError);
    assert.throws(() => alignofFn!("nope"), TypeError);
  },
});

Deno.test("allocType gives exactly sizeof bytes, aligned for the type", () => {
  using arena = ffi.arena();
  for (const [canonical, { size }] of Object.entries(SEED)) {
    if (canonical === "void") continue;
    for (const t of spellings(canonical)) {
      arena.alloc(1); // misalign the arena's top
      const p = arena.allocType(t);
      assert.equal(p.addr % size, 0, `${t} alignment`);
      p.read(0, t);
      assert.throws(() => p.read(size, "u8"), RangeError, `${t}: one byte past`);
    }
  }
});
