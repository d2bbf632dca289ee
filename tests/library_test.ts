// Library: loading, symbols, exports, and calls of every C type, against the fixture library and libc.
import * as ffi from "../mod.ts";
import { FIXTURE } from "./_fixture.ts";
import assert from "node:assert/strict";

/** The system's own dlopen/dlsym, to check our answers against. */
const sys = Deno.dlopen("libc.so.6", {
  dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  dlclose: { parameters: ["pointer"], result: "i32" },
});
const cstr = (s: string) => new TextEncoder().encode(s + "\0");

function systemDlsym(path: string, names: string[]): Map<string, bigint | null> {
  const h = sys.symbols.dlopen(cstr(path), 1 /* RTLD_LAZY */);
  assert.ok(h !== null, `system dlopen of ${path}`);
  const out = new Map<string, bigint | null>();
  for (const n of names) {
    const p = sys.symbols.dlsym(h, cstr(n));
    out.set(n, p === null ? null : Deno.UnsafePointer.value(p));
  }
  sys.symbols.dlclose(h);
  return out;
}

/**
 * Defined dynamic symbols by `nm -D --defined-only`, version suffixes stripped, version markers (A)
 * left out: name → its nm type letter, and whether some entry is the default version (`@@VER` or
 * none), which is what an unversioned `dlsym` finds.
 */
async function nmDefined(path: string): Promise<Map<string, { type: string; findable: boolean }>> {
  const { stdout, success } = await new Deno.Command("nm", { args: ["-D", "--defined-only", path] }).output();
  assert.ok(success, `nm -D ${path}`);
  const out = new Map<string, { type: string; findable: boolean }>();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const m = /^[0-9a-f]*\s+(\S)\s+([^@\s]+)(@@?)?/.exec(line);
    if (m === null || m[1] === "A") continue;
    const findable = m[3] !== "@";
    const seen = out.get(m[2]);
    out.set(m[2], { type: seen?.type ?? m[1], findable: findable || (seen?.findable ?? false) });
  }
  return out;
}

Deno.test("load() opens a library by path and by a name the loader resolves", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(fx.path, FIXTURE);
  using libc = ffi.load("libc.so.6");
  assert.equal(libc.name, "libc.so.6");
  assert.match(libc.path, /^\/.*libc\.so\.6$/);
  assert.equal(libc.call("getpid", "i32", []), Deno.pid);
});

Deno.test("load() of a missing library throws an FfiError with the name and the loader's message", () => {
  assert.throws(() => ffi.load("libno-such-library.so.9"), (e: unknown) => {
    assert.ok(e instanceof ffi.FfiError);
    assert.match(e.message, /libno-such-library\.so\.9/);
    assert.match(e.message, /cannot open shared object file/); // dlerror's own text
    return true;
  });
  assert.throws(() => ffi.load("/tmp"), /\/tmp/); // a directory: the loader says why
  assert.throws(() => ffi.load(42 as unknown as string), TypeError);
  assert.throws(() => ffi.load(""), TypeError);
});

Deno.test("open() is a deprecated alias of load() that warns once", () => {
  const warn = console.warn;
  const seen: unknown[][] = [];
  console.warn = (...args: unknown[]) => void seen.push(args);
  try {
    using a = ffi.open("libc.so.6");
    using b = ffi.open("libc.so.6");
    assert.equal(a.call("getpid", "i32", []), Deno.pid);
    assert.equal(b.hasSymbol("getpid"), true);
  } finally {
    console.warn = warn;
  }
  assert.equal(seen.length, 1);
  assert.match(String(seen[0][0]), /deprecated.*load/);
});

Deno.test("getSymbol() gives the address the system's dlsym gives, or null", () => {
  const names = ["fx_add_i32", "fx_global_counter", "fx_echo_f64", "no_such_symbol"];
  using fx = ffi.load(FIXTURE);
  const expected = systemDlsym(FIXTURE, names);
  for (const n of names) {
    const p = fx.getSymbol(n);
    const want = expected.get(n)!;
    if (want === null) {
      assert.equal(p, null, n);
      assert.equal(fx.hasSymbol(n), false, n);
    } else {
      assert.ok(p !== null, n);
      assert.equal(BigInt(p.addr), want, n);
      assert.equal(p.isManaged, false);
      assert.equal(fx.hasSymbol(n), true, n);
    }
  }
  // An indirect function (strlen is a GNU ifunc in glibc): the implementation, as dlsym resolves it.
  using libc = ffi.load("libc.so.6");
  const libcExpected = systemDlsym(libc.path, ["strlen", "memcpy", "environ", "errno"]);
  for (const [n, want] of libcExpected) {
    assert.equal(libc.getSymbol(n) === null ? null : BigInt(libc.getSymbol(n)!.addr), want, n);
  }
  assert.throws(() => fx.getSymbol(""), TypeError);
  assert.throws(() => fx.hasSymbol(7 as unknown as string), TypeError);
});

Deno.test("getSymbol() of a data symbol reads the variable", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(fx.getSymbol("fx_global_counter")!.read(0, "i32"), 7);
});

for (const path of [FIXTURE, "libz.so.1", "libm.so.6", "libc.so.6", "libsqlite3.so.0"]) {
  Deno.test(`listExports() of ${path} matches nm -D --defined-only and dlsym`, async () => {
    using lib = ffi.load(path);
    const exports = lib.listExports();
    const nm = await nmDefined(lib.path);
    assert.deepEqual(new Set(exports.map((e) => e.name)), new Set(nm.keys()));
    assert.deepEqual(exports.map((e) => e.name), exports.map((e) => e.name).sort());
    const dlsym = systemDlsym(lib.path, exports.map((e) => e.name));
    for (const e of exports) {
      const { type, findable } = nm.get(e.name)!;
      if ("Tti".includes(type)) assert.equal(e.kind, "function", `${e.name} (${type})`);
      if ("DdBbRrVu".includes(type)) assert.equal(e.kind, "data", `${e.name} (${type})`);
      if (findable) assert.equal(BigInt(e.address.addr), dlsym.get(e.name), `address of ${e.name}`);
      else assert.equal(dlsym.get(e.name), null, `${e.name} has only old versions: dlsym cannot find it`);
    }
  });
}

Deno.test("listExports() of the fixture lists its functions and its global", () => {
  using fx = ffi.load(FIXTURE);
  const byName = new Map(fx.listExports().map((e) => [e.name, e]));
  assert.equal(byName.get("fx_add_i32")?.kind, "function");
  assert.equal(byName.get("fx_global_counter")?.kind, "data");
  assert.equal(byName.get("fx_global_counter")?.address.read(0, "i32"), 7);
});

Deno.test("close() makes every later use throw 'library closed'; closing twice is fine", () => {
  const fx = ffi.load(FIXTURE);
  const add = fx.fn("fx_add_i32", "i32", ["i32", "i32"]);
  const never = fx.fn("fx_echo_i32", "i32", ["i32"]); // bound, never called before close
  assert.equal(add(1, 2), 3);
  assert.equal(fx.isOpen, true);
  fx.close();
  assert.equal(fx.isOpen, false);
  const closed = (f: () => unknown) =>
    assert.throws(f, (e: unknown) => e instanceof ffi.FfiError && /library closed/.test(e.message));
  closed(() => add(1, 2));
  closed(() => never(1));
  closed(() => fx.call("fx_add_i32", "i32", ["i32", "i32"], 1, 2));
  closed(() => fx.fn("fx_add_i32", "i32", ["i32", "i32"]));
  closed(() => fx.getSymbol("fx_add_i32"));
  closed(() => fx.hasSymbol("fx_add_i32"));
  closed(() => fx.listExports());
  fx.close();
});

Deno.test("Symbol.dispose closes the library (using)", () => {
  let add: (a: number, b: number) => number;
  {
    using fx = ffi.load(FIXTURE);
    add = fx.fn("fx_add_i32", "i32", ["i32", "i32"]);
    assert.equal(add(2, 2), 4);
  }
  assert.throws(() => add(2, 2), /library closed/);
});

Deno.test("two Library objects of the same file are independent", () => {
  const a = ffi.load(FIXTURE);
  const b = ffi.load(FIXTURE);
  const addA = a.fn("fx_add_i32", "i32", ["i32", "i32"]);
  const addB = b.fn("fx_add_i32", "i32", ["i32", "i32"]);
  assert.equal(addA(1, 1), 2);
  assert.equal(addB(1, 1), 2);
  a.close();
  assert.throws(() => addA(1, 1), /library closed/);
  assert.equal(addB(20, 22), 42);
  assert.equal(b.call("fx_echo_f64", "f64", ["f64"], 0.5), 0.5);
  assert.equal(b.getSymbol("fx_global_counter")!.read(0, "i32"), 7);
  b.close();
});

// ---- calls: every C type ----------------------------------------------------------------------

/** Values each integer type takes through an echo, and what comes back. */
const INT_ECHO: [string, unknown, unknown][] = [
  ["i8", -128, -128],
  ["i8", 127, 127],
  ["i8", 255, -1], // C conversion
  ["i8", -0, 0],
  ["u8", 0, 0],
  ["u8", 255, 255],
  ["u8", -1, 255],
  ["i16", -32768, -32768],
  ["i16", 32767, 32767],
  ["i16", 65535, -1],
  ["u16", 65535, 65535],
  ["u16", -1, 65535],
  ["i32", -(2 ** 31), -(2 ** 31)],
  ["i32", 2 ** 31 - 1, 2 ** 31 - 1],
  ["i32", 2 ** 32 - 1, -1],
  ["i32", -0, 0],
  ["u32", 2 ** 32 - 1, 2 ** 32 - 1],
  ["u32", -1, 2 ** 32 - 1],
  ["u32", -0, 0],
  ["i64", -(2n ** 63n), -(2n ** 63n)],
  ["i64", 2n ** 63n - 1n, 2n ** 63n - 1n],
  ["i64", 2n ** 64n - 1n, -1n],
  ["i64", -5, -5n],
  ["i64", Number.MAX_SAFE_INTEGER, BigInt(Number.MAX_SAFE_INTEGER)],
  ["u64", 2n ** 64n - 1n, 2n ** 64n - 1n],
  ["u64", -1n, 2n ** 64n - 1n],
  ["u64", 7, 7n],
  ["isize", -(2n ** 63n), -(2n ** 63n)],
  ["isize", -1, -1n],
  ["usize", 2n ** 64n - 1n, 2n ** 64n - 1n],
  ["usize", 0, 0n],
];

Deno.test("call() passes and returns every integer type at its limits, converting as C does", () => {
  using fx = ffi.load(FIXTURE);
  for (const [t, v, want] of INT_ECHO) {
    const name = `fx_echo_${t}`;
    const got = fx.call(name, t as ffi.CType, [t as ffi.CType], v);
    assert.ok(Object.is(got, want), `${name}(${String(v)}) gave ${String(got)}, want ${String(want)}`);
    // The same through fn(), hot enough for Deno's fast path.
    const f = fx.fn(name, t as ffi.CType, [t as ffi.CType]);
    for (let i = 0; i < 2000; i++) {
      if (!Object.is(f(v), want)) assert.fail(`${name} fn(${String(v)}) at ${i}`);
    }
  }
});

Deno.test("call() rejects integers that are not integers or out of both ranges, naming the argument", () => {
  using fx = ffi.load(FIXTURE);
  const bad: [string, unknown, ErrorConstructor][] = [
    ["i8", 256, RangeError],
    ["i8", -129, RangeError],
    ["u8", 1.5, TypeError],
    ["u16", 65536, RangeError],
    ["i32", 2 ** 32, RangeError],
    ["i32", -(2 ** 31) - 1, RangeError],
    ["i32", NaN, TypeError],
    ["i32", "3", TypeError],
    ["u32", Infinity, TypeError],
    ["i32", 1n, TypeError],
    ["i64", 2n ** 64n, RangeError],
    ["u64", -(2n ** 63n) - 1n, RangeError],
    ["i64", 2 ** 60, RangeError], // not a safe integer
    ["i64", 0.5, TypeError],
    ["usize", "1", TypeError],
  ];
  for (const [t, v, E] of bad) {
    const name = `fx_echo_${t}`;
    assert.throws(() => fx.call(name, t as ffi.CType, [t as ffi.CType], v), (e: unknown) => {
      assert.ok(e instanceof E, `${name}(${String(v)}): ${e}`);
      assert.match((e as Error).message, new RegExp(`argument 0 \\(${t}\\) of ${name}`));
      return true;
    });
  }
});

Deno.test("call() converts C arguments of each width as C does (seen from C)", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(fx.call("fx_widen_u8", "i64", ["u8"], -1), 255n);
  assert.equal(fx.call("fx_widen_i8", "i64", ["i8"], 200), -56n);
  assert.equal(fx.call("fx_widen_u32", "i64", ["u32"], -2), 4294967294n);
  assert.equal(fx.call("fx_widen_i32", "i64", ["i32"], 0x80000000), -2147483648n);
});

Deno.test("call() passes f32, f64 and bool", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(fx.call("fx_echo_f32", "f32", ["f32"], 1.5), 1.5);
  assert.equal(fx.call("fx_echo_f32", "f32", ["f32"], 0.1), Math.fround(0.1));
  assert.equal(fx.call("fx_echo_f64", "f64", ["f64"], Math.PI), Math.PI);
  assert.ok(Object.is(fx.call("fx_echo_f64", "f64", ["f64"], -0), -0));
  assert.ok(Number.isNaN(fx.call("fx_echo_f64", "f64", ["f64"], NaN)));
  assert.equal(fx.call("fx_echo_f64", "f64", ["f64"], Infinity), Infinity);
  assert.equal(fx.call("fx_add_f64", "double", ["double", "double"], 0.25, 0.5), 0.75);
  assert.equal(fx.call("fx_echo_bool", "bool", ["bool"], true), true);
  assert.equal(fx.call("fx_echo_bool", "bool", ["bool"], false), false);
  assert.throws(() => fx.call("fx_echo_f64", "f64", ["f64"], "1"), /argument 0 \(f64\) of fx_echo_f64/);
  assert.throws(() => fx.call("fx_echo_f64", "f64", ["f64"], 1n), TypeError);
  assert.throws(() => fx.call("fx_echo_bool", "bool", ["bool"], "yes"), /argument 0 \(bool\)/);
});

Deno.test("call() passes mixed widths, floats and more arguments than registers", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(
    fx.call(
      "fx_sum_mixed",
      "f64",
      ["i8", "u16", "i32", "i64", "f32", "f64", "bool"],
      -3,
      60000,
      -70000,
      2n ** 40n,
      0.5,
      0.25,
      true,
    ),
    -3 + 60000 - 70000 + 2 ** 40 + 0.5 + 0.25 + 1,
  );
  const ten = Array.from({ length: 10 }, () => "i32" as const);
  assert.equal(fx.call("fx_sum_10_i32", "i32", ten, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 55);
  const seven = [...Array.from({ length: 7 }, () => "i32" as const), "f64" as const, "f64" as const];
  const f = fx.fn("fx_sum_7_i32_2_f64", "f64", seven);
  for (let i = 0; i < 100; i++) assert.equal(f(1, 2, 3, 4, 5, 6, i, 0.5, 0.25), 21 + i + 0.75);
});

Deno.test("call() passes pointers of every kind and returns RawPointers", () => {
  using fx = ffi.load(FIXTURE);
  using arena = ffi.arena();
  const p = arena.alloc(16);
  const back = fx.call("fx_echo_ptr", "pointer", ["pointer"], p) as ffi.RawPointer;
  assert.ok(back instanceof ffi.RawPointer);
  assert.equal(back.addr, p.addr);
  assert.equal(back.isManaged, false);
  assert.equal((fx.call("fx_echo_ptr", "pointer", ["pointer"], p.add(4)) as ffi.RawPointer).addr, p.addr + 4);
  const buf = ffi.buffer(8);
  assert.equal((fx.call("fx_echo_ptr", "void*", ["ptr"], buf) as ffi.RawPointer).addr, ffi.toRaw(buf).addr);
  const pv = Deno.UnsafePointer.create(0x1234n);
  assert.equal((fx.call("fx_echo_ptr", "pointer", ["pointer"], pv) as ffi.RawPointer).addr, 0x1234);
  const nul = fx.call("fx_echo_ptr", "pointer", ["pointer"], null) as ffi.RawPointer;
  assert.ok(nul instanceof ffi.RawPointer && nul.isNull);
  // Out-parameter through a pointer.
  fx.call("fx_store_i32", "void", ["pointer", "i32"], p, -77);
  assert.equal(p.read(0, "i32"), -77);
  for (const wrong of [0x1234, 1n, "0x10", {}, undefined]) {
    assert.throws(
      () => fx.call("fx_echo_ptr", "pointer", ["pointer"], wrong),
      (e: unknown) => e instanceof TypeError && /argument 0 \(pointer\) of fx_echo_ptr/.test(e.message),
    );
  }
});

Deno.test("call() passes JS strings as NUL-terminated UTF-8 and decodes char* results", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(fx.call("fx_strlen", "usize", ["string"], "héllo"), 6n);
  assert.equal(fx.call("fx_strlen", "size_t", ["char*"], ""), 0n);
  assert.equal(fx.call("fx_strlen", "usize", ["string"], null), 0n);
  const buf = ffi.buffer(16);
  buf.writeString(0, "abc");
  assert.equal(fx.call("fx_strlen", "usize", ["string"], buf), 3n);
  assert.equal(fx.call("fx_echo_string", "string", ["string"], "round ✓ trip"), "round ✓ trip");
  assert.equal(fx.call("fx_ret_string", "string", []), "héllo from the fixture");
  assert.equal(fx.call("fx_ret_null_string", "cstring", []), null);
  assert.throws(() => fx.call("fx_strlen", "usize", ["string"], 5), /argument 0 \(string\) of fx_strlen/);
  // Longer than the scratch space for string copies, ASCII and not.
  assert.equal(fx.call("fx_strlen", "usize", ["string"], "y".repeat(100_000)), 100_000n);
  assert.equal(fx.call("fx_strlen", "usize", ["string"], "é".repeat(40_000)), 80_000n);
  assert.equal(
    fx.call("fx_echo_string", "string", ["string"], "mixed ascii, then ü, then ascii"),
    "mixed ascii, then ü, then ascii",
  );
  // Many calls with fresh strings: each copy lives exactly as long as its call.
  const strlen = fx.fn("fx_strlen", "usize", ["string"]);
  for (let i = 0; i < 20000; i++) {
    const s = "x".repeat(i % 50);
    if (strlen(s) !== BigInt(s.length)) assert.fail(`strlen at ${i}`);
  }
});

Deno.test("call() of a void function returns undefined", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(fx.call("fx_nothing", "void", []), undefined);
});

Deno.test("call() accepts the seed's type aliases", () => {
  using fx = ffi.load(FIXTURE);
  assert.equal(fx.call("fx_add_i32", "int", ["int", "int32"], 40, 2), 42);
  assert.equal(fx.call("fx_echo_i64", "long", ["int64"], 5), 5n);
  assert.equal(fx.call("fx_echo_u8", "byte", ["uchar"], 200), 200);
  assert.equal(fx.call("fx_echo_f32", "float", ["float"], 2), 2);
});

Deno.test("a signature with f64 arguments sets al for variadic callees (System V x86_64)", {
  ignore: Deno.build.arch !== "x86_64",
}, () => {
  using fx = ffi.load(FIXTURE);
  // fx_probe_al returns the al register at entry; variadic functions read their float arguments only
  // when it is non-zero, and Deno's optimised call path leaves it alone.
  const probe = fx.fn("fx_probe_al", "i32", ["i32", "f64"]);
  for (let i = 0; i < 50000; i++) {
    const al = probe(i, i + 0.5) as number;
    if (al < 1 || al > 8) assert.fail(`al was ${al} at call ${i}`);
  }
  for (let i = 0; i < 1000; i++) {
    assert.ok((fx.call("fx_probe_al", "i32", ["pointer", "f64", "f64"], null, 1, 2) as number) >= 2);
  }
});

Deno.test("call() throws before calling on a wrong argument count, naming the signature", () => {
  using fx = ffi.load(FIXTURE);
  assert.throws(
    () => fx.call("fx_add_i32", "i32", ["i32", "i32"], 1),
    /fx_add_i32\(i32, i32\) takes 2 arguments, got 1/,
  );
  assert.throws(() => fx.call("fx_add_i32", "i32", ["i32", "i32"], 1, 2, 3), /got 3/);
  const add = fx.fn("fx_add_i32", "i32", ["i32", "i32"]);
  // @ts-expect-error: a wrong argument count is a compile error too (the list form is typed)
  assert.throws(() => add(), TypeError);
});

Deno.test("call() throws a TypeError naming an unknown or misplaced type", () => {
  using fx = ffi.load(FIXTURE);
  assert.throws(() => fx.call("fx_add_i32", "int33" as ffi.CType, []), /int33/);
  assert.throws(
    () => fx.call("fx_add_i32", "i32", ["i32", "nope" as ffi.CType], 1, 2),
    /Unknown C type "nope" for argTypes\[1\] of Library\.call\(\) \(argument 1 of fx_add_i32\)/,
  );
  assert.throws(() => fx.call("fx_add_i32", "i32", ["void"], 1), /void/);
  assert.throws(() => fx.call("fx_add_i32", "i32", "i32" as unknown as ffi.CType[], 1), TypeError);
  assert.throws(() => fx.fn("fx_add_i32", "i32", [42 as unknown as ffi.CType]), TypeError);
});

Deno.test("call() of a missing symbol throws an FfiError naming it; fn() resolves lazily", () => {
  using fx = ffi.load(FIXTURE);
  assert.throws(() => fx.call("fx_missing", "i32", []), (e: unknown) => {
    assert.ok(e instanceof ffi.FfiError);
    assert.match(e.message, /fx_missing/);
    assert.match(e.message, /undefined symbol/); // the loader's message
    return true;
  });
  const lazy = fx.fn("fx_missing_too", "i32", []); // no lookup yet
  assert.throws(() => lazy(), /fx_missing_too/);
});

Deno.test("call() caches one binding per signature, several per symbol", () => {
  using fx = ffi.load(FIXTURE);
  for (let i = 0; i < 100; i++) {
    assert.equal(fx.call("fx_echo_i32", "i32", ["i32"], -1), -1);
    assert.equal(fx.call("fx_echo_i32", "u32", ["i32"], -1), 0xffffffff);
    assert.equal(fx.call("fx_echo_i32", "i32", ["u32"], 0xffffffff), -1);
  }
  const types: ffi.CType[] = ["i32"];
  assert.equal(fx.call("fx_echo_i32", "i32", types, 5), 5);
  types[0] = "f64"; // mutating the array later does not reuse the i32 binding
  assert.throws(() => fx.call("fx_echo_i32", "i32", types, "x"), /argument 0 \(f64\)/);
  assert.equal(fx.fn("fx_add_i32", "i32", ["i32", "i32"]), fx.fn("fx_add_i32", "i32", ["i32", "i32"]));
});

Deno.test("fn() returns a plain function named after the symbol", () => {
  using fx = ffi.load(FIXTURE);
  const add = fx.fn("fx_add_i32", "i32", ["i32", "i32"]);
  assert.equal(add.name, "fx_add_i32");
  assert.equal(add.length, 2);
  assert.equal(add.call(null, 1, 2), 3);
  assert.equal([1, 2, 3].map((x) => add(x, x)).join(), "2,4,6");
});

// ---- structs by value -------------------------------------------------------------------------

const Point = ffi.struct([["x", "i32"], ["y", "i32"]]);
const Mixed = ffi.struct([["a", "u8"], ["b", "f64"], ["c", "i16"]]);
const Big = ffi.struct([["a", "i64"], ["b", "i64"], ["c", "i64"]]);
const Rect = ffi.struct([["origin", Point], ["size", "i32", 2]]);

Deno.test("call() returns structs by value as plain objects and passes plain objects", () => {
  using fx = ffi.load(FIXTURE);
  assert.deepEqual(fx.call("fx_point_make", Point, ["i32", "i32"], 3, -4), { x: 3, y: -4 });
  assert.equal(fx.call("fx_point_code", "i32", [Point], { x: 12, y: 34 }), 12034);
  assert.deepEqual(fx.call("fx_point_swap", Point, [Point], { x: 1, y: 2 }), { x: 2, y: 1 });
  // Padding inside and at the end; a float member (returned in an SSE register).
  assert.deepEqual(fx.call("fx_mixed_make", Mixed, ["u8", "f64", "i16"], 200, 0.5, -3), {
    a: 200,
    b: 0.5,
    c: -3,
  });
  assert.equal(fx.call("fx_mixed_sum", "f64", [Mixed], { a: 1, b: 0.25, c: -2 }), -0.75);
  // Bigger than two registers: passed and returned in memory.
  assert.deepEqual(fx.call("fx_big_make", Big, ["i64"], 10n), { a: 10n, b: 11n, c: 12n });
  assert.equal(fx.call("fx_big_sum", "i64", [Big], { a: 1, b: 2n, c: -3 }), 0n);
  // A nested struct and an array member.
  assert.deepEqual(
    fx.call("fx_rect_grow", Rect, [Rect], { origin: { x: 1, y: 2 }, size: [3, 4] }),
    { origin: { x: 2, y: 3 }, size: [6, 8] },
  );
});

Deno.test("call() passes a StructView by value", () => {
  using fx = ffi.load(FIXTURE);
  using arena = ffi.arena();
  const p = ffi.view(arena.allocType(Point), Point);
  p.x = 7;
  p.y = 8;
  assert.equal(fx.call("fx_point_code", "i32", [Point], p), 7008);
  const grow = fx.fn("fx_point_swap", Point, [Point]);
  for (let i = 1; i <= 1000; i++) assert.deepEqual(grow({ x: i, y: -i }), { x: -i, y: i });
});

Deno.test("call() rejects a struct argument of the wrong shape, naming it", () => {
  using fx = ffi.load(FIXTURE);
  assert.throws(
    () => fx.call("fx_point_code", "i32", [Point], 5),
    /argument 0 \(struct \(8 bytes\)\) of fx_point_code/,
  );
  assert.throws(() => fx.call("fx_point_code", "i32", [Point], { x: 1, w: 2 }), /no field "w"/);
  assert.throws(() => fx.call("fx_point_code", "i32", [Point], { x: 1.5, y: 0 }), TypeError);
  assert.throws(() => fx.call("fx_point_code", "i32", [{} as ffi.CType], {}), /not a struct definition/);
});

Deno.test("call() lends a JS typed array or ArrayBuffer to C as a pointer for the call", () => {
  using libc = ffi.load("libc.so.6");
  const text = new TextEncoder().encode("hello\0");
  assert.equal(libc.call("strlen", "usize", ["pointer"], text), 5n);
  assert.equal(libc.call("strlen", "usize", ["pointer"], text.buffer), 5n);
  const padded = new Uint8Array(16);
  padded.set(text, 4);
  assert.equal(libc.call("strlen", "usize", ["pointer"], padded.subarray(4)), 5n, "byteOffset honoured");
  const out = new Uint8Array(8);
  const ret = libc.call("memset", "pointer", ["pointer", "i32", "usize"], out, 7, 8);
  assert.deepEqual([...out], [7, 7, 7, 7, 7, 7, 7, 7]);
  assert.equal(
    Deno.UnsafePointer.value(ret.toLightUserData()),
    Deno.UnsafePointer.value(Deno.UnsafePointer.of(out)),
  );
  const memset = libc.fn("memset", "pointer", ["pointer", "i32", "usize"]);
  const words = new Int32Array(2);
  memset(words, 0xff, 8);
  assert.deepEqual([...words], [-1, -1]);
});
