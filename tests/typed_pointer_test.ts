// TypedPointer: both shapes (typed-array subclass and Proxy fallback), index syntax against real
// typed arrays, checked get/set at every type's limits, arithmetic, bounds and freed memory.
import * as ffi from "../mod.ts";
import assert from "node:assert/strict";

type Numeric =
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "isize"
  | "usize"
  | "f32"
  | "f64";

/** Each numeric type's typed array, size, the limits `set` accepts, and a value just outside them. */
const NUMERIC: Record<
  Numeric,
  {
    TA: new (n: number) => ArrayLike<unknown>;
    size: number;
    min: number | bigint;
    max: number | bigint;
    outside: number | bigint;
  }
> = {
  i8: { TA: Int8Array, size: 1, min: -128, max: 255, outside: 256 },
  u8: { TA: Uint8Array, size: 1, min: -128, max: 255, outside: -129 },
  i16: { TA: Int16Array, size: 2, min: -32768, max: 65535, outside: 65536 },
  u16: { TA: Uint16Array, size: 2, min: -32768, max: 65535, outside: -32769 },
  i32: { TA: Int32Array, size: 4, min: -(2 ** 31), max: 2 ** 32 - 1, outside: 2 ** 32 },
  u32: { TA: Uint32Array, size: 4, min: -(2 ** 31), max: 2 ** 32 - 1, outside: -(2 ** 31) - 1 },
  i64: { TA: BigInt64Array, size: 8, min: -(2n ** 63n), max: 2n ** 64n - 1n, outside: 2n ** 64n },
  u64: { TA: BigUint64Array, size: 8, min: -(2n ** 63n), max: 2n ** 64n - 1n, outside: -(2n ** 63n) - 1n },
  isize: { TA: BigInt64Array, size: 8, min: -(2n ** 63n), max: 2n ** 64n - 1n, outside: 2n ** 64n },
  usize: { TA: BigUint64Array, size: 8, min: -(2n ** 63n), max: 2n ** 64n - 1n, outside: 2n ** 64n },
  f32: { TA: Float32Array, size: 4, min: -3.4e38, max: 3.4e38, outside: NaN },
  f64: { TA: Float64Array, size: 8, min: -Number.MAX_VALUE, max: Number.MAX_VALUE, outside: NaN },
};
const TYPES = Object.keys(NUMERIC) as Numeric[];

/** Values that exercise typed-array conversion: fractions, wrap-around, NaN, strings, bigints... */
const PROBES: unknown[] = [
  0,
  1.5,
  -1.5,
  300,
  -1,
  2 ** 31,
  2 ** 32 + 5,
  -(2 ** 53),
  NaN,
  Infinity,
  -0,
  "7",
  "x",
  true,
  null,
  undefined,
  5n,
  -1n,
  2n ** 64n + 3n,
];

/** What `ta[0] = v` then `ta[0]` gives on a fresh typed array: the value, or the error's class. */
function typedArrayOutcome(TA: new (n: number) => ArrayLike<unknown>, v: unknown): unknown {
  const ta = new TA(1) as unknown as Record<number, unknown>;
  try {
    ta[0] = v;
  } catch (e) {
    return (e as Error).constructor;
  }
  return ta[0];
}

function indexOutcome(p: Record<number, unknown>, v: unknown): unknown {
  try {
    p[0] = v;
  } catch (e) {
    return (e as Error).constructor;
  }
  return p[0];
}

/** The three places a numeric TypedPointer can live: each gives a pointer to 4 elements. */
function shapes(type: Numeric, arena: ffi.Arena): [string, ffi.TypedPointer][] {
  const size = NUMERIC[type].size;
  const managed = ffi.cast(arena.allocArray(type, 4), type);
  const unmanagedCounted = ffi.cast(ffi.ptr(arena.allocArray(type, 4).addr), type, 4);
  const unknownCount = ffi.cast(ffi.ptr(arena.allocArray(type, 4).addr), type);
  const unaligned = size === 1 ? unknownCount : ffi.cast(arena.alloc(4 * size + 1).add(1), type);
  return [
    ["managed", managed],
    ["unmanaged with a count", unmanagedCounted],
    ["unmanaged of unknown count (Proxy)", unknownCount],
    ["unaligned (Proxy)", unaligned],
  ];
}

// ---------------------------------------------------------------------------------------------------
// Index syntax behaves as the typed array

for (const type of TYPES) {
  Deno.test(`${type}: p[i] = v converts exactly as ${NUMERIC[type].TA.name} does, in every shape`, () => {
    using arena = ffi.arena();
    for (const [shape, p] of shapes(type, arena)) {
      for (const v of PROBES) {
        assert.deepEqual(
          indexOutcome(p as unknown as Record<number, unknown>, v),
          typedArrayOutcome(NUMERIC[type].TA, v),
          `${shape}: ${typeof v === "bigint" ? `${v}n` : String(v)}`,
        );
      }
    }
  });

  Deno.test(`${type}: index syntax outside the count reads undefined and writes nothing`, () => {
    using arena = ffi.arena();
    for (const [shape, p] of shapes(type, arena)) {
      const q = p as unknown as Record<string | number, unknown>;
      if (p.count === undefined) continue; // unknown count: no outside but the negative indexes
      const before = ffi.read(p, 0, type);
      q[4] = typeof NUMERIC[type].max === "bigint" ? 1n : 1;
      assert.equal(q[4], undefined, shape);
      assert.equal(q[-1], undefined, shape);
      assert.equal(q["1.5"], undefined, shape);
      assert.equal(q["-0"], undefined, shape);
      assert.equal(ffi.read(p, 0, type), before, shape);
      assert.equal(4 in p, false, shape);
      assert.equal(3 in p, true, shape);
    }
  });

  Deno.test(`${type}: get/set accept the type's limits and reject what lies outside`, () => {
    using arena = ffi.arena();
    const { min, max, outside } = NUMERIC[type];
    for (const [shape, p] of shapes(type, arena)) {
      p.set(1, min);
      p.set(2, max);
      const ta = new NUMERIC[type].TA(2) as unknown as Record<number, unknown>;
      ta[0] = min;
      ta[1] = max;
      assert.equal(p.get(1), ta[0], `${shape} min`);
      assert.equal(p.get(2), ta[1], `${shape} max`);
      if (!type.startsWith("f")) {
        assert.throws(() => p.set(0, outside), RangeError, `${shape} outside`);
        assert.throws(() => p.set(0, 0.5), TypeError, `${shape} fraction`);
      }
      assert.throws(() => p.set(0, "1"), {
        name: "TypeError",
        message: new RegExp(`element 0 of TypedPointer<${type}>`),
      });
      if (p.count !== undefined) {
        assert.throws(() => p.get(4), { name: "RangeError", message: /element 4 .*count is 4/ }, shape);
        assert.throws(() => p.set(4, 0), RangeError, shape);
      }
      assert.throws(() => p.get(-1), RangeError, shape);
      assert.throws(() => p.get(1.5), { name: "TypeError", message: /integer index/ }, shape);
      assert.throws(() => p.get("1" as never), TypeError, shape);
    }
  });
}

Deno.test("64-bit elements take numbers through set() and bigints through index syntax, and read bigint", () => {
  using arena = ffi.arena();
  const p = ffi.cast(arena.allocArray("i64", 2), "i64");
  p.set(0, -5);
  assert.equal(p[0], -5n);
  p[1] = 2n ** 63n; // typed-array conversion wraps
  assert.equal(p.get(1), -(2n ** 63n));
  assert.throws(() => p.set(0, 2 ** 53), { name: "RangeError", message: /safe integer/ });
  assert.throws(() => (p[0] = 1 as never), TypeError); // as BigInt64Array
});

// ---------------------------------------------------------------------------------------------------
// The typed-array shape

Deno.test("a numeric TypedPointer over an allocation is a typed array whose length is the count", () => {
  using arena = ffi.arena();
  const raw = arena.alloc(100);
  const ints = ffi.cast(raw, "i32");
  assert.ok(ints instanceof Int32Array);
  assert.ok(ints instanceof ffi.TypedPointer);
  assert.equal((ints as unknown as Int32Array).length, 25);
  ints[0] = 42;
  ints[1] = 100;
  assert.equal(ints[0], 42);
  assert.equal(raw.read(4, "i32"), 100);
  const sub = (ints as unknown as Int32Array).subarray(1, 3);
  assert.equal(sub.constructor, Int32Array, "species is the base class");
  assert.equal(sub[0], 100);
  assert.equal((ints as unknown as Int32Array).map((x) => x * 2).constructor, Int32Array);
  assert.deepEqual([...(ints as unknown as Int32Array).slice(0, 2)], [42, 100]);
});

Deno.test("ffi.cast() of unmanaged memory with a count is a typed array too", () => {
  using arena = ffi.arena();
  const managed = arena.allocArray("f64", 3);
  const p = ffi.cast(ffi.ptr(managed.addr), "f64", 3);
  assert.ok(p instanceof Float64Array);
  p[2] = 0.5;
  assert.equal(managed.read(16, "f64"), 0.5);
  assert.equal(p.count, 3);
  assert.equal(p[3], undefined);
});

Deno.test("non-numeric, unaligned and unknown-count pointers are not typed arrays", () => {
  using arena = ffi.arena();
  assert.ok(!(ffi.cast(arena.alloc(8), "bool") instanceof Uint8Array));
  assert.ok(!(ffi.cast(arena.alloc(9).add(1), "i32") instanceof Int32Array));
  assert.ok(!(ffi.cast(ffi.ptr(arena.alloc(8).addr), "i32") instanceof Int32Array));
  assert.ok(ffi.cast(arena.alloc(8), "bool") instanceof ffi.TypedPointer);
});

// ---------------------------------------------------------------------------------------------------
// Properties and methods

Deno.test("addr, stride, isNull and count", () => {
  using arena = ffi.arena();
  const raw = arena.alloc(64);
  const p = ffi.cast(raw, "u16");
  assert.equal(p.addr, raw.addr);
  assert.equal(p.stride, 2);
  assert.equal(p.isNull, false);
  assert.equal(p.count, 32);
  assert.equal(ffi.cast(raw, "u16", 10).count, 10);
  assert.equal(ffi.cast(raw, "f64").count, 8);
  assert.equal(ffi.cast(raw.add(60), "f64").count, 0);
  assert.equal(ffi.cast(ffi.ptr(raw.addr), "f64").count, undefined);
  assert.equal(ffi.cast(ffi.ptr(raw.addr), "f64", 2).count, 2);
  assert.equal(ffi.cast(ffi.ptr(0), "i32").isNull, true);
  assert.equal(ffi.cast(raw, "pointer").stride, 8);
  assert.equal(ffi.cast(raw, "size_t").stride, 8);
  assert.equal(ffi.cast(raw, "bool").stride, 1);
});

Deno.test("add(n) moves n elements and leaves count - n", () => {
  using arena = ffi.arena();
  const raw = arena.allocArray("i32", 10);
  const p = ffi.cast(raw, "i32");
  p[3] = 33;
  const q = p.add(3);
  assert.equal(q.addr, raw.addr + 12);
  assert.equal(q.count, 7);
  assert.equal(q[0], 33);
  assert.ok(q instanceof Int32Array);
  assert.equal(p.add(10).count, 0);
  assert.equal(p.add(12).count, 0);
  const counted = ffi.cast(raw, "i32", 4).add(1);
  assert.equal(counted.count, 3);
  const back = q.add(-1);
  assert.equal(back.count, 8);
  assert.equal(back.addr, raw.addr + 8);
  assert.equal(ffi.cast(ffi.ptr(raw.addr), "i32").add(2).count, undefined);
  assert.equal(ffi.cast(ffi.ptr(raw.addr), "i32").add(3)[0], 33);
  assert.throws(() => p.add(1.5), { name: "TypeError", message: /integer element count/ });
});

Deno.test("add(n) on unmanaged memory of known count keeps the count, forward and back", () => {
  using arena = ffi.arena();
  const raw = arena.allocArray("i32", 8);
  ffi.cast(raw, "i32")[0] = 5;
  const p = ffi.cast(ffi.ptr(raw.addr), "i32", 8).add(2);
  assert.equal(p.count, 6);
  assert.ok(p instanceof Int32Array);
  const b = p.add(-2);
  assert.equal(b.count, 8);
  assert.equal(b[0], 5);
});

Deno.test("a pointer moved before its allocation is checked against it", () => {
  using arena = ffi.arena();
  const raw = arena.allocArray("i32", 4);
  const p = ffi.cast(raw, "i32").add(-1);
  assert.equal(p.count, 5);
  assert.throws(() => p.get(0), { name: "RangeError", message: /outside the pointer's allocation/ });
  assert.equal(p[0], undefined);
  p[1] = 7;
  assert.equal(raw.read(0, "i32"), 7);
  assert.equal(p.get(4), 0);
});

Deno.test("toRaw() and ffi.toRaw() give the RawPointer with the allocation's bounds", () => {
  using arena = ffi.arena();
  const raw = arena.alloc(16);
  const p = ffi.cast(raw, "i32").add(2);
  const r = p.toRaw();
  assert.equal(r.addr, raw.addr + 8);
  assert.equal(r.isManaged, true);
  assert.throws(() => r.read(8, "i32"), RangeError);
  assert.equal(r.read(-8, "i32"), 0);
  assert.equal(ffi.toRaw(p).addr, r.addr);
  assert.equal(ffi.cast(ffi.ptr(raw.addr), "i32").toRaw().isManaged, false);
  assert.equal(ffi.cast(ffi.ptr(raw.addr), "i32", 2).toRaw().addr, raw.addr);
});

Deno.test("a TypedPointer goes wherever a pointer goes", () => {
  using arena = ffi.arena();
  const a = ffi.cast(arena.allocArray("u8", 8), "u8");
  const b = ffi.cast(arena.allocArray("u8", 8), "u8");
  a[0] = 1;
  a[7] = 8;
  ffi.copy(b, a, 8);
  assert.equal(b[7], 8);
  assert.equal(ffi.read(b, 0, "u8"), 1);
  ffi.write(b.add(1), 0, "u8", 9);
  assert.equal(b[1], 9);
  ffi.fill(a, 8, 0);
  assert.equal(a[7], 0);
  const ptrs = ffi.cast(arena.allocArray("pointer", 1), "pointer");
  ptrs.set(0, b);
  assert.equal(ptrs.get(0).addr, b.addr);
  assert.equal(ffi.isNull(a), false);
});

Deno.test("a TypedPointer prints its type, address, count and state", () => {
  const arena = ffi.arena();
  const p = ffi.cast(arena.alloc(8), "i32");
  assert.match(Deno.inspect(p), /^TypedPointer<i32>\(0x[0-9a-f]+, count 2, managed\)$/);
  assert.match(
    Deno.inspect(ffi.cast(ffi.ptr(16), "u8")),
    /TypedPointer<u8>\(0x10, unknown count, unmanaged\)/,
  );
  arena.reset();
  assert.match(Deno.inspect(p), /freed/);
});

// ---------------------------------------------------------------------------------------------------
// Non-numeric elements

Deno.test("bool elements: p[i] is get(i), p[i] = v is set(i, v), both checked", () => {
  using arena = ffi.arena();
  const raw = arena.alloc(3);
  const p = ffi.cast(raw, "bool");
  assert.equal(p.count, 3);
  p[1] = true;
  assert.equal(p[1], true);
  assert.equal(p.get(0), false);
  assert.equal(raw.read(1, "u8"), 1);
  assert.throws(() => p[3], RangeError);
  assert.throws(() => (p[0] = 2 as never), TypeError);
  assert.throws(() => p["1.5" as never], TypeError);
  assert.equal(1 in p, true);
  assert.equal(3 in p, false);
});

Deno.test("pointer elements read RawPointers and take pointer-likes and null", () => {
  using arena = ffi.arena();
  const target = arena.alloc(4);
  const p = ffi.cast(arena.allocArray("pointer", 2), "pointer");
  p[0] = target;
  p.set(1, null);
  assert.equal(p[0].addr, target.addr);
  assert.equal(p.get(1).isNull, true);
  assert.throws(() => p.set(0, 5 as never), TypeError);
});

Deno.test("string elements decode char* and store JS strings in the arena", () => {
  using arena = ffi.arena();
  const p = ffi.cast(arena.allocArray("string", 2), "string");
  p[0] = "one";
  p.set(1, "twö");
  assert.deepEqual([p[0], p.get(1)], ["one", "twö"]);
  p[1] = null;
  assert.equal(p[1], null);
  const loose = ffi.cast(ffi.ptr(p.addr), "char*", 2);
  assert.equal(loose[0], "one");
  assert.throws(() => (loose[1] = "x"), { name: "TypeError", message: /unmanaged memory/ });
});

Deno.test("struct elements of unmanaged memory of unknown count are views at stride offsets", () => {
  const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
  using arena = ffi.arena();
  const raw = arena.allocArray(Vec2, 3);
  const p = ffi.cast(ffi.ptr(raw.addr), Vec2, undefined as unknown as number);
  assert.equal(ffi.toRaw(p as unknown as ffi.StructView).addr, raw.addr, "no count: a view");
  const many = ffi.cast(ffi.ptr(raw.addr), Vec2, 3);
  many[2].y = 9;
  assert.equal(raw.read(20, "f32"), 9);
});

// ---------------------------------------------------------------------------------------------------
// Freed memory and null

Deno.test("after reset a typed-array pointer is empty and get/set throw the freed-memory FfiError", () => {
  const arena = ffi.arena();
  const p = ffi.cast(arena.allocArray("i32", 4), "i32");
  p[0] = 1;
  arena.reset();
  assert.equal(p[0], undefined);
  assert.equal((p as unknown as Int32Array).length, 0);
  p[0] = 5; // ignored, as on a detached typed array
  assert.throws(() => p.get(0), {
    name: "FfiError",
    message: /get element 0 of TypedPointer<i32>: the memory was freed/,
  });
  assert.throws(() => p.set(0, 1), { name: "FfiError", message: /freed/ });
  const q = p.add(1);
  assert.equal(q[0], undefined);
  assert.throws(() => q.get(0), ffi.FfiError);
  assert.throws(() => p.toRaw().read(0, "i32"), ffi.FfiError);
});

Deno.test("after reset Proxy pointers read undefined by index and throw from get/set", () => {
  const arena = ffi.arena();
  const bools = ffi.cast(arena.alloc(4), "bool");
  const unaligned = ffi.cast(arena.alloc(9).add(1), "i32");
  arena.reset();
  assert.equal(unaligned[0], undefined);
  unaligned[0] = 1;
  assert.throws(() => unaligned.get(0), ffi.FfiError);
  assert.throws(() => bools[0], ffi.FfiError);
  assert.throws(() => bools.set(0, true), ffi.FfiError);
  assert.throws(() => ffi.cast(ffi.toRaw(bools), "u8"), ffi.FfiError);
});

Deno.test("a null TypedPointer reads nothing by index and throws from get/set", () => {
  const p = ffi.cast(ffi.ptr(0), "i32");
  assert.equal(p[0], undefined);
  p[0] = 1;
  assert.throws(() => p.get(0), { name: "FfiError", message: /the pointer is null/ });
  assert.throws(() => p.set(0, 1), ffi.FfiError);
  assert.throws(() => ffi.cast(ffi.ptr(0), "i32", 4).get(0), ffi.FfiError);
});

// ---------------------------------------------------------------------------------------------------
// ffi.cast() errors

Deno.test("ffi.cast() rejects what is not a pointer, an unknown type, void and a bad count", () => {
  using arena = ffi.arena();
  const raw = arena.alloc(16);
  assert.throws(() => ffi.cast(16 as never, "i32"), { name: "TypeError", message: /expected a pointer/ });
  assert.throws(() => ffi.cast(raw, "int128" as never), { name: "TypeError", message: /"int128"/ });
  assert.throws(() => ffi.cast(raw, "void"), { name: "TypeError", message: /void/ });
  assert.throws(() => ffi.cast(raw, "i32", -1), RangeError);
  assert.throws(() => ffi.cast(raw, "i32", 1.5), RangeError);
  assert.throws(() => ffi.cast(raw, "i32", "2" as never), TypeError);
  assert.throws(() => ffi.cast(raw, "i32", 5), {
    name: "RangeError",
    message: /5 elements of i32 \(20 bytes\): the allocation has 16 bytes left/,
  });
  assert.equal(ffi.cast(raw, "i32", 4).count, 4);
});
