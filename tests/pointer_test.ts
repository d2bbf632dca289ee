/**
 * RawPointer, `ffi.ptr`, `ffi.isNull`, `ffi.toRaw` (API.md, "Pointers" and "Memory"): addresses,
 * arithmetic, bounds of managed pointers, freed memory, unmanaged access.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";

/** Asserts `fn` throws an FfiError whose message says the memory was freed. */
function assertFreed(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ffi.FfiError, `expected FfiError, got ${e}`);
    assert.ok(e instanceof Error);
    assert.match((e as Error).message, /freed/);
    return true;
  });
}

Deno.test("ffi.ptr() makes an unmanaged pointer to a number or bigint address", () => {
  const p = ffi.ptr(0x1234_5678);
  assert.ok(p instanceof ffi.RawPointer);
  assert.equal(p.addr, 0x1234_5678);
  assert.equal(p.isManaged, false);
  assert.equal(p.isNull, false);
  assert.equal(ffi.ptr(0x7fff_ffff_f000n).addr, 0x7fff_ffff_f000);
  assert.equal(ffi.ptr(Number.MAX_SAFE_INTEGER).addr, Number.MAX_SAFE_INTEGER);
  assert.ok(Object.is(ffi.ptr(-0).addr, 0));
});

Deno.test("ffi.ptr() rejects what is not an address", () => {
  assert.throws(() => ffi.ptr(-1), RangeError);
  assert.throws(() => ffi.ptr(-1n), RangeError);
  assert.throws(() => ffi.ptr(2 ** 53), RangeError);
  assert.throws(() => ffi.ptr(2n ** 64n), RangeError);
  assert.throws(() => ffi.ptr(1.5), TypeError);
  assert.throws(() => ffi.ptr(NaN), TypeError);
  assert.throws(() => ffi.ptr("4096" as unknown as number), TypeError);
});

Deno.test("isNull: ptr(0), null and undefined are null; anything else is not", () => {
  assert.equal(ffi.ptr(0).isNull, true);
  assert.equal(ffi.isNull(ffi.ptr(0)), true);
  assert.equal(ffi.isNull(null), true);
  assert.equal(ffi.isNull(undefined), true);
  assert.equal(ffi.isNull(ffi.ptr(8)), false);
  assert.equal(ffi.ptr(8).add(-8).isNull, true);
  assert.equal(ffi.isNull(Deno.UnsafePointer.create(16n)), false);
  using arena = ffi.arena();
  const p = arena.alloc(0);
  assert.equal(p.isNull, false);
  assert.equal(ffi.isNull(p), false);
  assert.throws(() => ffi.isNull(42 as unknown as ffi.RawPointer), TypeError);
});

Deno.test("arena pointers are managed, non-null, and addr is their real address", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  assert.equal(p.isManaged, true);
  assert.equal(p.isNull, false);
  assert.equal(Number(Deno.UnsafePointer.value(p.toLightUserData())), p.addr);
  p.write(0, "u32", 0xcafe_babe);
  assert.equal(new Deno.UnsafePointerView(p.toLightUserData()!).getUint32(0), 0xcafe_babe);
});

Deno.test("offset() and add() move by bytes, keep managedness, and may leave the bounds", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  const q = p.add(4);
  assert.equal(q.addr, p.addr + 4);
  assert.equal(p.offset(4).addr, q.addr);
  assert.equal(q.isManaged, true);
  assert.equal(p.add(-100).addr, p.addr - 100, "arithmetic may leave the allocation");
  assert.equal(p.add(100).add(-100).read(0, "u8"), 0, "and come back");
  q.write(0, "i32", 99);
  assert.equal(p.read(4, "i32"), 99);
  assert.equal(ffi.ptr(0x1000).add(0x10).offset(-0x8).addr, 0x1008);
  assert.throws(() => p.add(1.5), TypeError);
  assert.throws(() => p.offset("4" as unknown as number), TypeError);
  assert.throws(() => p.add(NaN), TypeError);
});

Deno.test("managed access one byte outside the allocation on either side is a RangeError", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  p.read(0, "u8");
  p.read(15, "u8");
  p.read(12, "i32");
  p.read(8, "f64");
  for (
    const fn of [
      () => p.read(-1, "u8"),
      () => p.read(16, "u8"),
      () => p.read(13, "i32"),
      () => p.read(9, "i64"),
      () => p.write(-1, "u8", 0),
      () => p.write(16, "u8", 0),
      () => p.write(15, "u16", 0),
      () => p.add(16).read(0, "u8"),
      () => p.add(-1).read(0, "u8"),
      () => p.add(8).read(-9, "u8"),
      () => ffi.read(p, 16, "u8"),
      () => ffi.write(p, -1, "u8", 0),
      () => p.read(2 ** 60, "u8"),
      () => p.read(-(2 ** 60), "u8"),
    ]
  ) {
    assert.throws(fn, RangeError);
  }
  p.add(-1).read(1, "u8"); // back inside
  p.add(16).read(-1, "u8");
});

Deno.test("out-of-bounds messages say what was attempted, where, and how big the allocation is", () => {
  using arena = ffi.arena();
  const p = arena.alloc(1024);
  assert.throws(() => p.read(1021, "i32"), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /read i32/);
    assert.match(e.message, /1021/);
    assert.match(e.message, /1024 bytes/);
    return true;
  });
});

Deno.test("offsets must be integers", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  assert.throws(() => p.read(1.5, "u8"), TypeError);
  assert.throws(() => p.read(NaN, "u8"), TypeError);
  assert.throws(() => p.write("0" as unknown as number, "u8", 1), TypeError);
  assert.throws(() => ffi.ptr(p.addr).read(0.5, "u8"), TypeError);
  for (const bad of [1n, Symbol("x"), null, undefined, {}]) {
    assert.throws(() => p.read(bad as unknown as number, "u8"), /expected an integer offset/);
  }
});

Deno.test("after reset(), every pointer of the arena is dead: access is an FfiError saying freed", () => {
  const arena = ffi.arena();
  const small = arena.alloc(16);
  const big = arena.alloc(1 << 20);
  const derived = small.add(4);
  small.toLightUserData(); // a cached Deno pointer value must not survive the reset either
  arena.reset();
  for (const p of [small, big, derived]) {
    assertFreed(() => p.read(0, "u8"));
    assertFreed(() => p.write(0, "u8", 1));
    assertFreed(() => ffi.read(p, 0, "i32"));
    assertFreed(() => ffi.write(p, 0, "i32", 1));
    assertFreed(() => p.toLightUserData());
    assert.equal(p.isManaged, true);
  }
  // Even an access that would also be out of bounds reports freed memory first.
  assertFreed(() => small.read(100, "u8"));
  // The arena stays usable and its new memory is unaffected.
  const fresh = arena.alloc(16);
  fresh.write(0, "i32", 5);
  assert.equal(fresh.read(0, "i32"), 5);
  arena[Symbol.dispose]();
});

Deno.test("after [Symbol.dispose](), every pointer is dead, also with `using`", () => {
  let escaped: ffi.RawPointer;
  {
    using arena = ffi.arena();
    escaped = arena.alloc(32);
    escaped.write(0, "u8", 1);
  }
  assertFreed(() => escaped.read(0, "u8"));
  assertFreed(() => escaped.write(0, "u8", 1));
  const arena = ffi.arena();
  const p = arena.allocType("i32");
  arena[Symbol.dispose]();
  assertFreed(() => p.read(0, "i32"));
  assert.throws(() => arena.alloc(1), ffi.FfiError, "a disposed arena allocates no more");
  arena[Symbol.dispose](); // twice is harmless
});

Deno.test("toLightUserData() gives the Deno pointer value; null for address 0", () => {
  using arena = ffi.arena();
  const p = arena.alloc(16);
  const pv = p.add(3).toLightUserData();
  assert.equal(Deno.UnsafePointer.value(pv), BigInt(p.addr + 3));
  assert.equal(ffi.ptr(0).toLightUserData(), null);
  assert.equal(Deno.UnsafePointer.value(ffi.ptr(0x4000).toLightUserData()), 0x4000n);
  // Usable with raw Deno FFI views.
  p.write(3, "u8", 0x77);
  assert.equal(new Deno.UnsafePointerView(pv!).getUint8(0), 0x77);
});

Deno.test("toRaw() returns a RawPointer itself and rejects non-pointers", () => {
  using arena = ffi.arena();
  const p = arena.alloc(8);
  assert.equal(ffi.toRaw(p), p);
  assert.throws(() => ffi.toRaw({} as ffi.RawPointer), TypeError);
  assert.throws(() => ffi.toRaw(null as unknown as ffi.RawPointer), TypeError);
});

Deno.test("unmanaged pointers read and write any address, unchecked, as in C", () => {
  using arena = ffi.arena();
  const m = arena.alloc(64);
  const u = ffi.ptr(m.addr + 32);
  u.write(-32, "i32", -123); // negative offsets are fine in C
  assert.equal(m.read(0, "i32"), -123);
  u.write(28, "u16", 0xabcd);
  assert.equal(m.read(60, "u16"), 0xabcd);
  assert.equal(u.read(-32, "i32"), -123);
});

Deno.test("an unmanaged pointer from a Deno pointer value handles negative offsets", () => {
  // The shape of pointers that C returns (a Deno pointer value as base).
  using arena = ffi.arena();
  const m = arena.alloc(64);
  m.write(8, "i64", -9n);
  m.write(4, "u8", 0x42);
  // A pointer C hands back (memset returns its first argument) is built from a Deno pointer value.
  using libc = ffi.load("libc.so.6");
  const fromC = libc.call(
    "memset",
    "pointer",
    ["pointer", "i32", "usize"],
    m.add(16),
    0,
    0,
  ) as ffi.RawPointer;
  assert.equal(fromC.isManaged, false);
  assert.equal(fromC.addr, m.addr + 16);
  assert.equal(fromC.read(-8, "i64"), -9n);
  assert.equal(fromC.add(-12).read(0, "u8"), 0x42);
  fromC.write(-16, "u32", 0xfeed);
  assert.equal(m.read(0, "u32"), 0xfeed);
  assert.equal(fromC.add(-16).addr, m.addr);
});

Deno.test("console.log shows the address and the state", () => {
  const arena = ffi.arena();
  const p = arena.alloc(16);
  assert.match(Deno.inspect(p), /RawPointer\(0x[0-9a-f]+, managed, 16 bytes left\)/);
  assert.match(Deno.inspect(ffi.ptr(255)), /RawPointer\(0xff, unmanaged\)/);
  arena.reset();
  assert.match(Deno.inspect(p), /freed/);
});

Deno.test("a freed managed pointer cannot be stored as a pointer value", () => {
  using keep = ffi.arena();
  const dst = keep.alloc(8);
  const gone = ffi.arena();
  const p = gone.alloc(8);
  gone.reset();
  assertFreed(() => dst.write(0, "pointer", p));
  assertFreed(() => ffi.write(dst, 0, "pointer", ffi.cast(p, "u8")));
  assert.equal(dst.read(0, "u64"), 0n, "nothing stored");
});

Deno.test("a failed struct write runs once: getters and string copies are not repeated", () => {
  const Rec = ffi.struct([["name", "string"], ["n", "i32"]]);
  using arena = ffi.arena();
  const p = arena.allocType(Rec);
  let reads = 0;
  const value = {
    name: "copied once",
    get n() {
      reads++;
      return 1.5; // not an integer: the write fails here
    },
  };
  const before = arena.allocationCount;
  assert.throws(() => p.write(0, Rec, value), TypeError);
  assert.equal(reads, 1);
  assert.equal(arena.allocationCount - before, 1, "one string copy");
});

Deno.test("RawPointer.readString decodes the char* it points at: managed (bounded), unmanaged, freed, NULL", () => {
  using libc = ffi.load("libc.so.6");
  const dup = libc.call("strdup", "pointer", ["string"], "héllo wörld");
  try {
    assert.equal(dup.isManaged, false);
    assert.equal(dup.readString(), "héllo wörld");
    assert.equal(dup.readString(7), "wörld");
  } finally {
    libc.call("free", "void", ["pointer"], dup);
  }
  const arena = ffi.arena();
  const p = arena.alloc(4);
  p.write(0, "u32", 0x0063_6261); // "abc\0"
  assert.equal(p.readString(), "abc");
  assert.equal(p.add(1).readString(), "bc");
  const noNul = arena.alloc(3);
  ffi.fill(noNul, 3, 0x41);
  assert.equal(noNul.readString(), "AAA", "stops at the end of the allocation");
  assert.equal(noNul.readString(3), "");
  assert.throws(() => noNul.readString(4), RangeError);
  assert.throws(() => noNul.readString(-1), RangeError);
  assert.throws(() => ffi.ptr(0).readString(), ffi.FfiError);
  arena.reset();
  assertFreed(() => p.readString());
});

Deno.test("ffi.ptr() takes any 64-bit bigint address exactly, for sentinels such as (void*)-1", () => {
  const allOnes = 2n ** 64n - 1n;
  const p = ffi.ptr(allOnes);
  assert.equal(Deno.UnsafePointer.value(p.toLightUserData()), allOnes);
  using arena = ffi.arena();
  const slot = arena.alloc(8);
  slot.write(0, "pointer", p);
  assert.equal(slot.read(0, "u64"), allOnes, "stored exactly");
  assert.equal(Deno.UnsafePointer.value(slot.read(0, "pointer").toLightUserData()), allOnes);
  assert.throws(() => ffi.ptr(2n ** 64n), RangeError);
  assert.throws(() => ffi.ptr(2 ** 53), RangeError, "a number above 2^53 cannot be exact");
});
