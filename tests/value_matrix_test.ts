// The value matrix: for every primitive C type, one list of JS inputs run through every path that
// converts a JS value to that type — memory writes (managed, unmanaged, `ffi.write`, Buffer), struct
// fields, whole-struct and array-field copies, TypedPointer `set` (each shape) and index syntax, call
// arguments (`call` and `fn`, through the fixture's echo functions), callback results and callback
// arguments (through the fixture's `fx_call_cb_echo_*` callers). Every path must agree with the
// value rules of API.md ("Values of each C type") and the README's "Decisions where API.md is
// silent": an accepted value reads back (or comes back from C) as the same C-converted JS value, a
// rejected one throws the same error class and leaves memory as it was. Where a path differs by
// design, the input says so (`unmanaged`, `arg`, `ret` below), and index syntax on numeric types is
// compared with a real typed array of the type, not with the checked rules.
import * as ffi from "../mod.ts";
import { FIXTURE } from "./_fixture.ts";
import assert from "node:assert/strict";

// ---------------------------------------------------------------------------------------------------
// Outcomes, shown as strings so that every difference (-0, NaN, number vs bigint, managed or not)
// is visible in one comparison.

function show(v: unknown): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (typeof v === "boolean") return `boolean ${v}`;
  if (v === null || v === undefined) return String(v);
  if (v instanceof ffi.RawPointer) {
    const exact = Deno.UnsafePointer.value(v.toLightUserData());
    return `RawPointer(0x${exact.toString(16)}${v.isManaged ? ", managed" : ""})`;
  }
  return `other ${Deno.inspect(v)}`;
}

function errorName(e: unknown): string {
  if (e instanceof ffi.FfiError) return "FfiError";
  if (e instanceof RangeError) return "RangeError";
  if (e instanceof TypeError) return "TypeError";
  return `other error ${e instanceof Error ? e.name : Deno.inspect(e)}`;
}

function attempt(f: () => unknown): string {
  try {
    return `ok ${show(f())}`;
  } catch (e) {
    return `throws ${errorName(e)}`;
  }
}

const OK = (v: unknown) => `ok ${show(v)}`;
const TYPE = "throws TypeError";
const RANGE = "throws RangeError";
const FREED = "throws FfiError";

/**
 * One input and what the rules make of it. `rule` holds for every path unless one of the overrides
 * says otherwise: `unmanaged` for writes into unmanaged memory, `arg` for call arguments (callback
 * arguments are call arguments too), `ret` for callback results.
 */
interface Input {
  label: string;
  v: unknown;
  rule: string;
  unmanaged?: string;
  arg?: string;
  ret?: string;
}

function label(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

const input = (v: unknown, rule: string, extra: Partial<Input> = {}): Input => ({
  label: label(v),
  v,
  rule,
  ...extra,
});

// ---------------------------------------------------------------------------------------------------
// The rules, written out independently of src/.

const INT_BITS: Record<string, [number, boolean]> = {
  i8: [8, true],
  u8: [8, false],
  i16: [16, true],
  u16: [16, false],
  i32: [32, true],
  u32: [32, false],
  i64: [64, true],
  u64: [64, false],
  isize: [64, true],
  usize: [64, false],
};

function intRule(t: string, v: unknown): string {
  const [bits, signed] = INT_BITS[t];
  const min = -(2n ** BigInt(bits - 1));
  const max = 2n ** BigInt(bits) - 1n;
  let b: bigint;
  if (bits === 64 && typeof v === "bigint") {
    b = v;
  } else if (typeof v === "number" && Number.isInteger(v)) {
    // Above 2^53 a number for a 64-bit type suggests a bigint (README "Decisions").
    if (bits === 64 && !Number.isSafeInteger(v)) return RANGE;
    b = BigInt(v);
  } else {
    return TYPE; // non-integers, NaN, ±Infinity, non-numbers; a bigint for 32 bits or less
  }
  if (b < min || b > max) return RANGE;
  const c = signed ? BigInt.asIntN(bits, b) : BigInt.asUintN(bits, b);
  return OK(bits === 64 ? c : Number(c)); // -0 is 0: BigInt(-0) is 0n
}

function intInputs(t: string): Input[] {
  const [bits] = INT_BITS[t];
  const vals: unknown[] = [-1, 0, -0, 1, 1.5, -1.5, NaN, Infinity, -Infinity, "1", null, undefined, true, {}];
  if (bits < 64) {
    const sMin = -(2 ** (bits - 1)), sMax = 2 ** (bits - 1) - 1, uMax = 2 ** bits - 1;
    const ints = [sMin, sMin - 1, sMax, sMax + 1, uMax, uMax + 1, -1, 0, 1, 2 ** 53, -(2 ** 53)];
    vals.push(...ints, ...ints.map(BigInt));
  } else {
    vals.push(
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53,
      -(2 ** 53),
      2 ** 53 + 1, // the number 2^53: not safe
      2 ** 63,
      -(2 ** 63),
      2 ** 64,
      2 ** 32,
      -(2n ** 63n),
      -(2n ** 63n) - 1n,
      2n ** 63n - 1n,
      2n ** 63n,
      2n ** 64n - 1n,
      2n ** 64n,
      2n ** 53n + 1n,
      -1n,
      0n,
      1n,
    );
  }
  return vals.map((v) => input(v, intRule(t, v)));
}

function floatInputs(t: "f32" | "f64"): Input[] {
  const conv = t === "f32" ? Math.fround : (x: number) => x;
  const nums = [
    0,
    -0,
    1.5,
    0.1,
    -2.75,
    NaN,
    Infinity,
    -Infinity,
    1e40,
    -1e40,
    1e-50,
    2 ** 53 + 2,
    3.4028234663852886e38,
  ];
  const others = [1n, "1", null, undefined, true, {}];
  return [...nums.map((v) => input(v, OK(conv(v)))), ...others.map((v) => input(v, TYPE))];
}

function boolInputs(): Input[] {
  const good: [unknown, boolean][] = [[true, true], [false, false], [0, false], [1, true], [-0, false]];
  const bad = [2, -1, 0.5, NaN, "x", "1", "", null, undefined, 1n, 0n, {}];
  return [...good.map(([v, b]) => input(v, OK(b))), ...bad.map((v) => input(v, TYPE))];
}

/** Exact address of a pointer, as an unmanaged RawPointer (how pointers read back and come back). */
const at = (addr: number | bigint) => ffi.ptr(BigInt(addr));

interface Others {
  /** A live arena, other than the memory under test. */
  other: ffi.Arena;
  /** A pointer whose arena was reset. */
  freed: ffi.RawPointer;
  freedTyped: ffi.TypedPointer;
  freedView: object;
  closedCb: ffi.Callback;
  closedCbPtr: ffi.RawPointer;
}

function pointerInputs(o: Others): Input[] {
  const Pt = ffi.struct([["x", "i32"], ["y", "i32"]]);
  const managed = o.other.alloc(16);
  const typed = ffi.cast(o.other.alloc(8), "i32");
  const view = ffi.view(o.other.alloc(8), Pt);
  const buf = ffi.buffer(16);
  const deno = Deno.UnsafePointer.create(0x2000n);
  const lent = new Uint8Array(8);
  const lentAddr = Deno.UnsafePointer.value(Deno.UnsafePointer.of(lent));
  const cb = ffi.callback(() => {}, "void", []);
  return [
    { label: "managed RawPointer", v: managed, rule: OK(at(managed.addr)) },
    { label: "managed RawPointer + 4", v: managed.add(4), rule: OK(at(managed.addr + 4)) },
    { label: "unmanaged RawPointer", v: ffi.ptr(0x1000), rule: OK(at(0x1000)) },
    { label: "(void*)-1", v: ffi.ptr(2n ** 64n - 1n), rule: OK(at(2n ** 64n - 1n)) },
    { label: "ptr(0)", v: ffi.ptr(0), rule: OK(at(0)) },
    { label: "TypedPointer", v: typed, rule: OK(at(typed.addr)) },
    { label: "StructView", v: view, rule: OK(at(ffi.toRaw(view).addr)) },
    { label: "Buffer", v: buf, rule: OK(at(ffi.toRaw(buf).addr)) },
    { label: "Deno pointer value", v: deno, rule: OK(at(0x2000)) },
    { label: "Callback", v: cb, rule: OK(at(cb.ptr.addr)) },
    input(null, OK(at(0))),
    // Lent to C for the duration of a call (README "Beyond the seed"); nothing would keep it alive in memory.
    { label: "Uint8Array", v: lent, rule: TYPE, arg: OK(at(lentAddr)) },
    input(0x1000, TYPE),
    input(0, TYPE),
    input(0x1000n, TYPE),
    input("x", TYPE),
    input(undefined, TYPE),
    input(true, TYPE),
    input({}, TYPE),
    { label: "freed RawPointer", v: o.freed, rule: FREED },
    { label: "freed TypedPointer", v: o.freedTyped, rule: FREED },
    { label: "freed StructView", v: o.freedView, rule: FREED },
    { label: "closed Callback", v: o.closedCb, rule: FREED },
    // C would call freed code, wherever the pointer goes.
    { label: "closed Callback's ptr", v: o.closedCbPtr, rule: FREED },
  ];
}

function stringInputs(o: Others): Input[] {
  const abc = o.other.alloc(8);
  abc.write(0, "u32", 0x00636261); // "abc\0"
  const buf = ffi.buffer(8);
  buf.writeString(0, "buf");
  const typed = ffi.cast(abc, "u8");
  // A JS string needs memory that owns its copy: arena memory does; unmanaged memory (README "Safety
  // model") and a callback result (C would get memory that dies with the callback) do not.
  const js = { unmanaged: TYPE, ret: TYPE };
  return [
    { ...input("héllo", OK("héllo")), ...js },
    { ...input("", OK("")), ...js },
    input(null, OK(null)),
    { label: "managed RawPointer", v: abc, rule: OK("abc") },
    { label: "unmanaged RawPointer", v: ffi.ptr(abc.addr), rule: OK("abc") },
    { label: "TypedPointer", v: typed, rule: OK("abc") },
    { label: "Buffer", v: buf, rule: OK("buf") },
    { label: "Deno pointer value", v: abc.toLightUserData(), rule: OK("abc") },
    input(5, TYPE),
    input(0, TYPE),
    input(5n, TYPE),
    input(undefined, TYPE),
    input(true, TYPE),
    input({}, TYPE),
    { label: "freed RawPointer", v: o.freed, rule: FREED },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Typed-array semantics for index syntax on numeric elements.

const TYPED_ARRAY: Record<string, new (n: number) => { [i: number]: unknown }> = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
  isize: BigInt64Array,
  usize: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
};

function typedArrayOutcome(t: string, v: unknown): string {
  const ta = new TYPED_ARRAY[t](1);
  return attempt(() => {
    ta[0] = v;
    return ta[0];
  });
}

// ---------------------------------------------------------------------------------------------------
// The paths.

/** A path through memory: `write` then `read`, with the slot's place in the memory it writes. */
interface MemPath {
  name: string;
  mem: "managed" | "unmanaged";
  /** Index syntax: typed-array semantics for numeric types. */
  index?: boolean;
  /** The bytes the path writes into, and where its slot is. */
  bytes: Uint8Array;
  slot: number;
  write(v: unknown): void;
  read(): unknown;
}

interface CallPath {
  name: string;
  kind: "arg" | "ret";
  run(v: unknown): unknown;
}

const lib = ffi.load(FIXTURE);

function expected(inp: Input, mem: "managed" | "unmanaged" | null, call: "arg" | "ret" | null): string {
  if (mem === "unmanaged" && inp.unmanaged !== undefined) return inp.unmanaged;
  if (call === "arg" && inp.arg !== undefined) return inp.arg;
  if (call === "ret" && inp.ret !== undefined) return inp.ret;
  return inp.rule;
}

/** Runs every input of type `t` through every path; returns the disagreements. */
function runMatrix(t: string, inputs: Input[], arena: ffi.Arena): string[] {
  const size = ffi.sizeof(t);
  const aliases = ffi.PRIMITIVES.find((p) => p.name === t)!.aliases as readonly string[];
  const names = [t, ...aliases];
  const fieldType = aliases[0] ?? t;
  const mem = arena.alloc(32);
  const um = ffi.ptr(mem.addr);
  const memBytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(mem.toLightUserData()!, 32));
  const buf = ffi.buffer(32);
  const bufBytes = new Uint8Array(
    Deno.UnsafePointerView.getArrayBuffer(ffi.toRaw(buf).toLightUserData()!, 32),
  );
  const S = ffi.struct([["pad", "u64"], ["f", fieldType]]);
  const S1 = ffi.struct([["f", t]]);
  const S2 = ffi.struct([["pad", "u64"], ["arr", t, 1]]);
  const vm = ffi.view(mem, S) as unknown as Record<string, unknown>;
  const vu = ffi.view(um, S) as unknown as Record<string, unknown>;
  const vm2 = ffi.view(mem, S2) as unknown as { arr: unknown };
  const vu2 = ffi.view(um, S2) as unknown as { arr: unknown };
  const tps: [string, "managed" | "unmanaged", number, ffi.TypedPointer][] = [
    ["managed", "managed", 8, ffi.cast(mem.add(8), t)],
    ["unmanaged, count 1", "unmanaged", 8, ffi.cast(ffi.ptr(mem.addr + 8), t, 1)],
    ["unmanaged, unknown count", "unmanaged", 8, ffi.cast(ffi.ptr(mem.addr + 8), t)],
    ["managed, unaligned", "managed", 9, ffi.cast(mem.add(9), t)],
  ];
  // Both shapes are covered: numeric types over whole aligned memory are typed arrays, the rest Proxies.
  const numeric = t in TYPED_ARRAY;
  assert.equal(ArrayBuffer.isView(tps[0][3]), numeric, `${t}: managed TypedPointer shape`);
  assert.equal(ArrayBuffer.isView(tps[1][3]), numeric, `${t}: counted unmanaged TypedPointer shape`);
  assert.equal(ArrayBuffer.isView(tps[2][3]), false, `${t}: unknown-count TypedPointer shape`);
  assert.equal(ArrayBuffer.isView(tps[3][3]), numeric && size === 1, `${t}: unaligned TypedPointer shape`);

  const m = (
    name: string,
    kind: "managed" | "unmanaged",
    slot: number,
    w: MemPath["write"],
    r: MemPath["read"],
  ) => ({ name, mem: kind, bytes: memBytes, slot, write: w, read: r }) as MemPath;
  const memPaths: MemPath[] = [
    ...names.map((n) =>
      m(`ptr.write/read("${n}")`, "managed", 8, (v) => mem.write(8, n, v), () => mem.read(8, n))
    ),
    m("unmanaged ptr.write/read", "unmanaged", 8, (v) => um.write(8, t, v), () => um.read(8, t)),
    m("ffi.write/read", "managed", 8, (v) => ffi.write(mem, 8, t, v), () => ffi.read(mem, 8, t)),
    m("unmanaged ffi.write/read", "unmanaged", 8, (v) => ffi.write(um, 8, t, v), () => ffi.read(um, 8, t)),
    {
      name: "Buffer.write/read",
      mem: "managed",
      bytes: bufBytes,
      slot: 8,
      write: (v) => buf.write(8, t, v),
      read: () => buf.read(8, t),
    },
    m(`view.f = v ("${fieldType}")`, "managed", 8, (v) => vm.f = v, () => vm.f),
    m(`unmanaged view.f = v ("${fieldType}")`, "unmanaged", 8, (v) => vu.f = v, () => vu.f),
    m(
      "ffi.write(struct { f })",
      "managed",
      8,
      (v) => ffi.write(mem, 8, S1, { f: v }),
      () => ffi.read(mem, 8, S1).f,
    ),
    m(
      "unmanaged ffi.write(struct { f })",
      "unmanaged",
      8,
      (v) => ffi.write(um, 8, S1, { f: v }),
      () => ffi.read(um, 8, S1).f,
    ),
    m("view.arr = [v]", "managed", 8, (v) => vm2.arr = [v], () => mem.read(8, t)),
    m("unmanaged view.arr = [v]", "unmanaged", 8, (v) => vu2.arr = [v], () => mem.read(8, t)),
  ];
  for (const [desc, kind, slot, tp] of tps) {
    const ix = tp as unknown as { [i: number]: unknown };
    memPaths.push(m(`TypedPointer.set/get (${desc})`, kind, slot, (v) => tp.set(0, v), () => tp.get(0)));
    memPaths.push({ ...m(`index syntax (${desc})`, kind, slot, (v) => ix[0] = v, () => ix[0]), index: true });
  }

  const echo = t === "pointer" ? "fx_echo_ptr" : `fx_echo_${t}`;
  const zeros: Record<string, unknown> = {
    i64: 0n,
    u64: 0n,
    isize: 0n,
    usize: 0n,
    bool: false,
    pointer: null,
    string: null,
  };
  const zero = t in zeros ? zeros[t] : 0;
  let result: unknown;
  const cbRet = ffi.callback(() => result, t, [t]);
  let got: unknown;
  const NONE = Symbol("none");
  const cbArg = ffi.callback(
    (x: unknown) => {
      got = x;
      return t === "string" ? null : x;
    },
    t,
    [t],
  );
  const f = lib.fn(echo, t, [t]);
  const callPaths: CallPath[] = [
    ...names.map((n): CallPath => ({
      name: `lib.call("${n}")`,
      kind: "arg",
      run: (v) => lib.call(echo, n, [n], v),
    })),
    { name: "lib.fn", kind: "arg", run: (v) => f(v) },
    {
      name: "callback result",
      kind: "ret",
      run: (v) => {
        result = v;
        return lib.call(`fx_call_cb_echo_${t}`, t, ["pointer", t], cbRet, zero);
      },
    },
    {
      name: "callback argument",
      kind: "arg",
      run: (v) => {
        got = NONE;
        lib.call(`fx_call_cb_echo_${t}`, t, ["pointer", t], cbArg, v);
        assert.notEqual(got, NONE, "the callback ran");
        return got;
      },
    },
  ];

  const bad: string[] = [];
  for (const inp of inputs) {
    for (const p of memPaths) {
      const want = p.index && numeric ? typedArrayOutcome(t, inp.v) : expected(inp, p.mem, null);
      p.bytes.fill(0x5a);
      const before = p.bytes.slice();
      let outcome: string;
      try {
        p.write(inp.v);
        outcome = attempt(() => p.read());
      } catch (e) {
        outcome = `throws ${errorName(e)}`;
      }
      if (outcome !== want) bad.push(`${t} ${inp.label} via ${p.name}: ${outcome}, expected ${want}`);
      // A rejected write changes nothing; an accepted one changes only its slot.
      const after = p.bytes;
      for (let i = 0; i < after.length; i++) {
        const inSlot = outcome.startsWith("ok") && i >= p.slot && i < p.slot + size;
        if (!inSlot && after[i] !== before[i]) {
          bad.push(`${t} ${inp.label} via ${p.name}: byte ${i} changed (${outcome})`);
          break;
        }
      }
    }
    for (const p of callPaths) {
      const want = expected(inp, null, p.kind);
      const outcome = attempt(() => p.run(inp.v));
      if (outcome !== want) bad.push(`${t} ${inp.label} via ${p.name}: ${outcome}, expected ${want}`);
    }
  }
  cbRet.close();
  cbArg.close();
  return bad;
}

// ---------------------------------------------------------------------------------------------------
// One test per type.

function others(arena: ffi.Arena): Others {
  const dead = ffi.arena();
  const freed = dead.alloc(8);
  const freedTyped = ffi.cast(dead.alloc(8), "i32");
  const freedView = ffi.view(dead.alloc(8), ffi.struct([["x", "i32"]]));
  dead.reset();
  const closedCb = ffi.callback(() => {}, "void", []);
  const closedCbPtr = closedCb.ptr;
  closedCb.close();
  return { other: arena, freed, freedTyped, freedView, closedCb, closedCbPtr };
}

const TYPES = ffi.PRIMITIVES.map((p) => p.name).filter((n) => n !== "void");

for (const t of TYPES) {
  Deno.test(`value matrix: ${t} (${["", ...ffi.PRIMITIVES.find((p) => p.name === t)!.aliases].join(" ")})`, () => {
    using arena = ffi.arena();
    using other = ffi.arena();
    const o = others(other);
    const inputs = t in INT_BITS
      ? intInputs(t)
      : t === "f32" || t === "f64"
      ? floatInputs(t)
      : t === "bool"
      ? boolInputs()
      : t === "pointer"
      ? pointerInputs(o)
      : stringInputs(o);
    const bad = runMatrix(t, inputs, arena);
    assert.ok(bad.length === 0, `${bad.length} disagreements:\n${bad.join("\n")}`);
  });
}

Deno.test({
  name: "value matrix: close the fixture",
  fn: () => lib.close(),
  sanitizeResources: false,
});
