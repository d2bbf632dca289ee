/**
 * Model-based randomized test of the managed memory API (API.md "Memory", "Pointers", "Structs",
 * "Buffer"): the promise that no input through arenas, Buffers, views and typed pointers can crash
 * the process or touch memory outside its allocation, and that every bad input is a clear error.
 *
 * A JS model keeps a `Uint8Array` per allocation. Every target allocation is surrounded by guard
 * allocations of the same arena, filled with a pattern that must never change. A seeded PRNG (fixed
 * seeds, mulberry32) drives a few thousand random operations per seed through the public API:
 * `read`/`write` of every type name and alias and of struct definitions at random offsets, `copy`,
 * `fill`, typed pointers (`get`/`set`, index syntax, `add`, `toRaw`), struct views and field writes,
 * Buffer methods (incl. `slice`), `arena.reset()`, disposal and `using`. After each operation the
 * model must equal the memory (read back through `Deno.UnsafePointerView`, independent of the API),
 * guards and padding must be intact, a thrown error must be of the class API.md prescribes, and a
 * throwing operation must have written nothing (except the documented partial whole-struct writes,
 * see the module documentation of `src/_struct_codec.ts`, modelled field by field).
 *
 * The regression tests at the end are the minimised findings of this model.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";
import { Rng } from "./_rng.ts";

// ---------------------------------------------------------------------------------------------------
// PRNG

// ---------------------------------------------------------------------------------------------------
// Type model (independent of src/: sizes, value rules and byte encodings written out here)

type Ctor = new (...args: never[]) => Error;
type Kind = "int" | "int64" | "float" | "bool" | "pointer" | "string" | "void";

interface TInfo {
  readonly name: string;
  readonly size: number;
  readonly kind: Kind;
  readonly signed: boolean;
  /** The typed array of the same type, for numeric types. */
  readonly TA: (new (n: number) => ArrayLike<unknown> & { [i: number]: unknown; buffer: ArrayBuffer }) | null;
}

const T: Record<string, TInfo> = {};
function ti(name: string, size: number, kind: Kind, signed: boolean, TA: TInfo["TA"], aliases: string[]) {
  const info = { name, size, kind, signed, TA };
  T[name] = info;
  for (const a of aliases) T[a] = info;
}
ti("void", 0, "void", false, null, []);
ti("bool", 1, "bool", false, null, []);
ti("i8", 1, "int", true, Int8Array, ["char", "int8"]);
ti("u8", 1, "int", false, Uint8Array, ["uchar", "byte"]);
ti("i16", 2, "int", true, Int16Array, ["short", "int16"]);
ti("u16", 2, "int", false, Uint16Array, ["ushort", "uint16"]);
ti("i32", 4, "int", true, Int32Array, ["int", "int32"]);
ti("u32", 4, "int", false, Uint32Array, ["uint", "uint32"]);
ti("i64", 8, "int64", true, BigInt64Array, ["long", "int64"]);
ti("u64", 8, "int64", false, BigUint64Array, ["ulong", "uint64"]);
ti("isize", 8, "int64", true, BigInt64Array, ["ssize_t", "ptrdiff_t"]);
ti("usize", 8, "int64", false, BigUint64Array, ["size_t"]);
ti("f32", 4, "float", true, Float32Array, ["float"]);
ti("f64", 8, "float", true, Float64Array, ["double"]);
ti("pointer", 8, "pointer", false, null, ["ptr", "void*"]);
ti("string", 8, "string", false, null, ["cstring", "char*"]);
const NAMES = Object.keys(T);

Deno.test("model: the type table covers every name the module exports", () => {
  assert.deepEqual([...NAMES].sort(), [...ffi.typeNames].sort());
  for (const n of NAMES) assert.equal(ffi.sizeof(n === "void" ? "u8" : n), n === "void" ? 1 : T[n].size);
});

const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;
const enc = new TextEncoder();

/** Encodes `v` as `t` by the value rules of API.md: the bytes, or the error class. */
function encode(t: TInfo, v: unknown, addrOf: (v: unknown) => number | null): Uint8Array | Ctor {
  const out = new Uint8Array(t.size);
  const dv = new DataView(out.buffer);
  switch (t.kind) {
    case "void":
      return TypeError;
    case "int": {
      if (typeof v !== "number" || !Number.isInteger(v)) return TypeError;
      const bits = t.size * 8;
      if (v < -(2 ** (bits - 1)) || v > 2 ** bits - 1) return RangeError;
      let u = v < 0 ? v + 2 ** bits : v; // C conversion
      for (let i = 0; i < t.size; i++) {
        out[i] = u % 256;
        u = Math.floor(u / 256);
      }
      return out;
    }
    case "int64": {
      let b: bigint;
      if (typeof v === "bigint") b = v;
      else if (typeof v === "number" && Number.isInteger(v)) {
        if (!Number.isSafeInteger(v)) return RangeError;
        b = BigInt(v);
      } else return TypeError;
      if (b < I64_MIN || b > U64_MAX) return RangeError;
      dv.setBigUint64(0, BigInt.asUintN(64, b), true);
      return out;
    }
    case "float":
      if (typeof v !== "number") return TypeError;
      if (t.size === 4) dv.setFloat32(0, v, true);
      else dv.setFloat64(0, v, true);
      return out;
    case "bool":
      if (typeof v !== "boolean" && v !== 0 && v !== 1) return TypeError;
      out[0] = v === true || v === 1 ? 1 : 0;
      return out;
    case "pointer":
    case "string": {
      const a = addrOf(v);
      if (a === null) return TypeError;
      dv.setUint32(0, a % 2 ** 32, true);
      dv.setUint32(4, Math.floor(a / 2 ** 32), true);
      return out;
    }
  }
}

function addrAt(m: Uint8Array, at: number): number {
  const dv = new DataView(m.buffer, m.byteOffset);
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
}

/** Decodes a value of `t` from `m` at `at`; pointers as `{ addr }`, strings as their address. */
function decode(t: TInfo, m: Uint8Array, at: number): unknown {
  const dv = new DataView(m.buffer, m.byteOffset);
  switch (t.name) {
    case "bool":
      return m[at] !== 0;
    case "i8":
      return dv.getInt8(at);
    case "u8":
      return dv.getUint8(at);
    case "i16":
      return dv.getInt16(at, true);
    case "u16":
      return dv.getUint16(at, true);
    case "i32":
      return dv.getInt32(at, true);
    case "u32":
      return dv.getUint32(at, true);
    case "i64":
    case "isize":
      return dv.getBigInt64(at, true);
    case "u64":
    case "usize":
      return dv.getBigUint64(at, true);
    case "f32":
      return dv.getFloat32(at, true);
    case "f64":
      return dv.getFloat64(at, true);
    default:
      return { addr: addrAt(m, at) };
  }
}

/** Typed-array conversion of `v`, through a real one-element typed array: its bytes or its error. */
function convert(t: TInfo, v: unknown): Uint8Array | Ctor {
  const s = new t.TA!(1);
  try {
    s[0] = v;
  } catch (e) {
    return (e as Error).constructor as Ctor;
  }
  return new Uint8Array(s.buffer).slice();
}

// ---------------------------------------------------------------------------------------------------
// Struct model

interface FieldM {
  readonly name: string;
  readonly off: number;
  readonly t: TInfo | DefM;
  readonly len: number | undefined;
}
interface DefM {
  readonly def: ffi.StructDefinition;
  readonly size: number;
  readonly fields: readonly FieldM[];
}

function isDef(t: TInfo | DefM): t is DefM {
  return "def" in t;
}
function sizeOfT(t: TInfo | DefM): number {
  return t.size;
}

type Spec = readonly [string, string | DefM] | readonly [string, string | DefM, number];
function defM(spec: readonly Spec[]): DefM {
  const def = ffi.struct(
    spec.map((f) => {
      const t = typeof f[1] === "string" ? f[1] : f[1].def;
      return f.length === 3 ? [f[0], t, f[2]] as const : [f[0], t] as const;
    }),
  );
  const fields = spec.map((f) => ({
    name: f[0],
    off: def.offsetOf(f[0]),
    t: typeof f[1] === "string" ? T[f[1]] : f[1],
    len: f.length === 3 ? f[2] : undefined,
  }));
  return { def, size: def.size, fields };
}

const P = defM([["x", "f32"], ["y", "float"]]);
const A = defM([["a", "u8"], ["b", "int"], ["c", "double"], ["d", "i16", 3], ["ok", "bool"]]);
const B = defM([
  ["tag", "char"],
  ["pts", P, 2],
  ["inner", A],
  ["id", "int64"],
  ["name", "uchar", 6],
  ["next", "void*"],
  ["sz", "size_t"],
]);
const DEFS = [P, A, B];

Deno.test("model: the struct layouts are the C ones", () => {
  assert.deepEqual([P.size, A.size, B.size], [8, 24, 80]);
  assert.deepEqual(B.fields.map((f) => f.off), [0, 4, 24, 48, 56, 64, 72]);
});

// ---------------------------------------------------------------------------------------------------
// The world: arenas, allocations, handles

interface Slot {
  arena: ffi.Arena;
  /** Bumped by reset/dispose: strings written into the arena die with it. */
  gen: number;
}

interface Alloc {
  readonly id: number;
  readonly slot: Slot | null; // null: a Buffer's own memory
  readonly raw: ffi.RawPointer;
  readonly addr: number;
  readonly size: number;
  readonly m: Uint8Array;
  /** The memory, seen through Deno.UnsafePointerView (never through the API under test). */
  o: Uint8Array | null;
  alive: boolean;
  /** A guard: its bytes must stay `m` for ever, and nothing targets it. */
  readonly guard: boolean;
}

type HKind = "raw" | "uraw" | "buf" | "tp" | "view";
interface Handle {
  readonly kind: HKind;
  readonly obj: unknown;
  readonly a: Alloc;
  /** The pointer's offset from the allocation's start (may lie outside it), and the accessible window. */
  readonly off: number;
  readonly lo: number;
  readonly hi: number;
  /** Typed pointers: element type and count. Views: definition. */
  readonly elem?: TInfo | DefM;
  readonly count?: number;
  readonly def?: DefM;
  /** Unmanaged memory (`ffi.ptr`, or cast/viewed from it): unchecked, so only used inside it. */
  readonly um?: boolean;
}

/** Strings written by `write(..., "string", s)`: their address, text, and the arena generation. */
interface CStr {
  readonly s: string;
  readonly slot: Slot | null;
  readonly gen: number;
}

function oracle(addr: number, len: number): Uint8Array {
  if (len === 0) return new Uint8Array(0);
  const p = Deno.UnsafePointer.create(BigInt(addr))!;
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, len));
}

class Failure extends Error {}

/** A value, on one line, for the op log. */
function show(v: unknown): string {
  return Deno.inspect(v, { depth: 2, compact: true, breakLength: Infinity, colors: false }).slice(0, 160);
}

class World {
  readonly r: Rng;
  readonly seed: number;
  slots: Slot[] = [];
  allocs: Alloc[] = [];
  handles: Handle[] = [];
  strings = new Map<number, CStr>();
  /** Padding between neighbours known to lie in one chunk: must stay zero. */
  pads: { o: Uint8Array; owner: Alloc }[] = [];
  nextId = 1;
  log: string[] = [];
  opIndex = 0;
  /** Statistics: how many ops succeeded and threw. */
  ok = 0;
  threw = 0;
  stats = new Map<string, number>();

  constructor(seed: number) {
    this.seed = seed;
    this.r = new Rng(seed);
    for (let i = 0; i < 3; i++) {
      const slot = { arena: ffi.arena(), gen: 0 };
      this.slots.push(slot);
      for (let j = 0; j < 4; j++) this.allocTarget(slot);
    }
    for (let i = 0; i < 2; i++) this.newBuffer();
  }

  fail(msg: string): never {
    throw new Failure(
      `seed ${this.seed}, op ${this.opIndex}: ${msg}\nlast ops:\n  ${this.log.slice(-12).join("\n  ")}`,
    );
  }

  // ---- allocation ------------------------------------------------------------------------------

  #track(slot: Slot | null, raw: ffi.RawPointer, size: number, guard: boolean): Alloc {
    const a: Alloc = {
      id: this.nextId++,
      slot,
      raw,
      addr: raw.addr,
      size,
      m: new Uint8Array(size),
      o: oracle(raw.addr, size),
      alive: true,
      guard,
    };
    if (!a.o!.every((b) => b === 0)) this.fail(`allocation ${a.id} of ${size} bytes is not zero-filled`);
    this.allocs.push(a);
    return a;
  }

  #guard(slot: Slot): Alloc {
    const size = this.r.range(1, 24);
    const g = this.#track(slot, slot.arena.allocAligned(size, 1), size, true);
    for (let i = 0; i < size; i++) g.m[i] = g.o![i] = 0xa5 ^ (i * 29 + g.id);
    return g;
  }

  /** Padding between `prev` and `next` when `next` follows it closely in the same chunk. */
  #pad(prev: Alloc, next: Alloc, align: number): void {
    const end = prev.addr + prev.size;
    const gap = next.addr - end;
    if (gap > 0 && gap < align && align <= 64) this.pads.push({ o: oracle(end, gap), owner: next });
  }

  allocTarget(slot: Slot): Alloc {
    const r = this.r;
    const before = this.#guard(slot);
    let raw: ffi.RawPointer;
    let size: number;
    let align = 16;
    const how = r.int(4);
    if (how === 0) {
      size = r.pick([0, 1, 3, 8, 13, 16, 31, 64, 77, 96]);
      raw = slot.arena.alloc(size);
    } else if (how === 1) {
      size = r.range(0, 80);
      align = r.pick([1, 2, 4, 8, 32, 64]);
      raw = slot.arena.allocAligned(size, align);
    } else if (how === 2) {
      const t = r.pick<TInfo | DefM>([...DEFS, T.i32, T.f64, T.u8, T.pointer]);
      size = t.size;
      align = isDef(t) ? t.def.alignment : t.size;
      raw = slot.arena.allocType(isDef(t) ? t.def : t.name);
    } else {
      const t = r.pick<TInfo | DefM>([...DEFS, T.i16, T.u64, T.bool]);
      const n = r.range(0, 4);
      size = t.size * n;
      align = isDef(t) ? t.def.alignment : t.size;
      raw = slot.arena.allocArray(isDef(t) ? t.def : t.name, n);
    }
    const a = this.#track(slot, raw, size, false);
    this.#pad(before, a, align);
    const after = this.#guard(slot);
    this.#pad(a, after, 1);
    this.handles.push({ kind: "raw", obj: raw, a, off: 0, lo: 0, hi: size });
    return a;
  }

  newBuffer(): void {
    const size = this.r.range(0, 72);
    const buf = ffi.buffer(size);
    const a = this.#track(null, ffi.toRaw(buf), size, false);
    this.handles.push({ kind: "buf", obj: buf, a, off: 0, lo: 0, hi: size });
  }

  /** Frees every allocation of `slot` in the model (after `reset()` or disposal). */
  kill(slot: Slot): void {
    slot.gen++;
    for (const a of this.allocs) {
      if (a.slot === slot) {
        a.alive = false;
        a.o = null; // never look at freed memory again
      }
    }
    this.allocs = this.allocs.filter((a) => a.alive);
    this.pads = this.pads.filter((p) => p.owner.alive);
    // Unmanaged pointers are unchecked: drop them rather than let them dangle.
    this.handles = this.handles.filter((h) => !h.um || h.a.alive);
  }

  // ---- checks ----------------------------------------------------------------------------------

  /** The model equals the memory, guards and padding are intact. */
  check(): void {
    for (const a of this.allocs) {
      const o = a.o!;
      for (let i = 0; i < a.size; i++) {
        if (o[i] !== a.m[i]) {
          this.fail(
            `${a.guard ? "guard" : "allocation"} ${a.id} (${a.size} bytes) byte ${i} is ${o[i]}, model ${
              a.m[i]
            }`,
          );
        }
      }
    }
    for (const p of this.pads) {
      if (!p.o.every((b) => b === 0)) this.fail(`padding before/after allocation ${p.owner.id} changed`);
    }
  }

  addrOfValue = (v: unknown): number | null => {
    if (v === null) return 0;
    if (v instanceof ffi.RawPointer) return v.addr;
    for (const h of this.handles) if (h.obj === v) return h.a.addr + h.off;
    if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === null) {
      return Number(Deno.UnsafePointer.value(v as Deno.PointerObject));
    }
    return null;
  };

  /** Runs `fn`; it must throw one of `errs` (and then the model is not updated), or succeed if none. */
  expect<R>(desc: string, errs: readonly Ctor[], fn: () => R): { ok: true; v: R } | { ok: false } {
    this.log.push(desc);
    if (this.log.length > 40) this.log.splice(0, 20);
    let v: R;
    try {
      v = fn();
    } catch (e) {
      if (e instanceof Failure || e instanceof assert.AssertionError) throw e;
      this.threw++;
      const key = "!" + desc.split(/[ (]/)[0];
      this.stats.set(key, (this.stats.get(key) ?? 0) + 1);
      if (errs.length === 0) this.fail(`${desc} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
      if (!errs.some((C) => (e as Error).constructor === C)) {
        this.fail(
          `${desc} threw ${(e as Error)?.name} (${(e as Error)?.message}), expected ${
            errs.map((c) => c.name).join(" or ")
          }`,
        );
      }
      if (e instanceof ffi.FfiError && !/freed|disposed/.test(e.message)) {
        this.fail(`${desc}: FfiError without a reason: ${e.message}`);
      }
      return { ok: false };
    }
    this.ok++;
    const key = desc.split(/[ (]/)[0];
    this.stats.set(key, (this.stats.get(key) ?? 0) + 1);
    if (errs.length > 0) this.fail(`${desc} succeeded, expected ${errs.map((c) => c.name).join(" or ")}`);
    return { ok: true, v };
  }

  eq(actual: unknown, expected: unknown, what: string): void {
    const norm = (x: unknown): unknown => {
      if (x instanceof ffi.RawPointer) return { addr: x.addr };
      if (Array.isArray(x)) return x.map(norm);
      if (typeof x === "object" && x !== null && !(x instanceof Uint8Array)) {
        return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)]));
      }
      return x;
    };
    try {
      assert.deepStrictEqual(norm(actual), norm(expected));
    } catch {
      this.fail(`${what}: got ${Deno.inspect(actual)}, model ${Deno.inspect(expected)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Expected errors of an access

/** The errors an access of `size` bytes at `x` through a handle may throw (none: it is valid). */
function accessErrs(h: Handle, x: unknown, size: number): Ctor[] {
  if (typeof x !== "number" || !Number.isInteger(x)) return [TypeError];
  if (!h.a.alive) return [ffi.FfiError];
  const o = h.off + x;
  if (h.kind === "uraw") return [];
  return o < h.lo || o + size > h.hi ? [RangeError] : [];
}

/** A random offset for an access of `size` bytes through `h`: valid, at the edges, or bad. */
function genOffset(r: Rng, h: Handle, size: number): unknown {
  const first = h.lo - h.off, last = h.hi - h.off - size;
  switch (r.int(12)) {
    case 0:
      return first;
    case 1:
      return last;
    case 2:
      return first - 1;
    case 3:
      return last + 1;
    case 4:
      return r.pick([-1, -8, -(2 ** 31), -(2 ** 53), -Infinity]);
    case 5:
      return r.pick([2 ** 31, 2 ** 53, 2 ** 60, 1e300, Infinity]);
    case 6:
      return r.pick([1.5, -0.5, NaN, "4", undefined, null, 4n, -0]);
    default:
      return last >= first ? r.range(first, last) : first;
  }
}

// ---------------------------------------------------------------------------------------------------
// Values

const STRINGS = ["", "a", "héllo", "ok\u{1F600}", "zzzzzzzz"];

function genValue(w: World, t: TInfo | DefM, depth = 0): unknown {
  const r = w.r;
  if (isDef(t)) return genStruct(w, t, depth);
  const bad = r.chance(0.15);
  switch (t.kind) {
    case "void":
      return 0;
    case "int": {
      const bits = t.size * 8;
      if (bad) return r.pick([-(2 ** (bits - 1)) - 1, 2 ** bits, 1.5, NaN, Infinity, "5", 5n, true, null]);
      return r.pick([0, -1, -(2 ** (bits - 1)), 2 ** bits - 1, 2 ** (bits - 1) - 1, -0]) *
          (r.chance(0.5) ? 1 : 0) + (r.chance(0.5) ? 0 : r.range(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1));
    }
    case "int64":
      if (bad) return r.pick([2 ** 53, -(2 ** 60), 1.5, "1", I64_MIN - 1n, U64_MAX + 1n, NaN, true]);
      return r.chance(0.5) ? r.big64() - (r.chance(0.5) ? 1n << 63n : 0n) : r.range(-1e6, 1e6);
    case "float":
      if (bad) return r.pick(["1", 1n, null, undefined, true]);
      return r.pick([0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e40, 5e-324, Math.PI, r.next() * 1000]);
    case "bool":
      if (bad) return r.pick([2, -1, "true", null, 0.5]);
      return r.pick([true, false, 0, 1]);
    case "pointer":
    case "string": {
      if (bad) return r.pick([5, "x", undefined, {}, 5n, true]);
      if (t.kind === "string" && r.chance(0.4)) return r.pick(STRINGS);
      const live = w.handles.filter((h) => h.a.alive);
      const k = r.int(4);
      if (k === 0) return null;
      if (k === 1) return ffi.ptr(r.range(0, 2 ** 40));
      if (k === 2 || live.length === 0) return Deno.UnsafePointer.create(BigInt(r.range(1, 2 ** 40)));
      return r.pick(live).obj;
    }
  }
}

function genStruct(w: World, d: DefM, depth: number): unknown {
  const r = w.r;
  if (r.chance(0.15)) {
    const views = w.handles.filter((h) => h.kind === "view");
    if (views.length > 0) return r.pick(views).obj; // a view: same definition copies bytes
  }
  if (r.chance(0.05)) return r.pick([null, 5, "s", undefined]);
  const o: Record<string, unknown> = {};
  for (const f of d.fields) {
    if (r.chance(0.03)) continue; // a missing field
    o[f.name] = f.len === undefined ? genValue(w, f.t, depth + 1) : genArray(w, f, depth);
  }
  return o;
}

function genArray(w: World, f: FieldM, depth: number): unknown {
  const r = w.r;
  const n = f.len!;
  const k = r.int(10);
  if (k === 0 && !isDef(f.t)) return r.pick([...STRINGS, "abcde", "abcdef"]);
  if (k === 1) {
    // (not of strings: reading one dereferences whatever address the memory holds)
    const tps = w.handles.filter((h) => h.kind === "tp" && (isDef(h.elem!) || h.elem!.kind !== "string"));
    if (tps.length > 0) {
      const tp = r.pick(tps);
      // often a TypedPointer into the same allocation, overlapping the field
      const near = tps.filter((h) => h.a === tp.a && h.elem === f.t);
      return (near.length > 0 && r.chance(0.5) ? r.pick(near) : tp).obj;
    }
  }
  if (k === 2) return r.pick([5, null, {}, undefined]);
  if (k === 3 && !isDef(f.t)) return new Uint8Array(r.range(0, n + 1)).map(() => r.int(256));
  const len = r.chance(0.1) ? n + 1 : r.range(0, n);
  return Array.from({ length: len }, () => genValue(w, f.t, depth + 1));
}

// ---------------------------------------------------------------------------------------------------
// Model of writes (into a scratch copy `m` of the allocation; the caller commits it)

interface Dst {
  readonly h: Handle;
  readonly m: Uint8Array;
}

/** Handle of a StructView or TypedPointer value, when it is one of ours. */
function handleOf(w: World, v: unknown): Handle | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  return w.handles.find((h) => h.obj === v);
}

/** A primitive write: the error, or null (and the bytes written into `m`). JS strings allocate. */
function writePrim(w: World, d: Dst, at: number, t: TInfo, v: unknown): Ctor | "string" | null {
  if (t.kind === "string" && typeof v === "string") return d.h.um ? TypeError : "string";
  const bytes = encode(t, v, w.addrOfValue);
  if (!(bytes instanceof Uint8Array)) return bytes;
  d.m.set(bytes, at);
  return null;
}

/**
 * A whole-struct write, as documented: a C initialiser (fields left out are zero), all or nothing.
 */
function writeStructM(w: World, d: Dst, at: number, def: DefM, v: unknown, real: Uint8Array): Ctor | null {
  const src = handleOf(w, v);
  if (src?.kind === "view") {
    if (src.def === def) {
      if (!src.a.alive) return ffi.FfiError;
      d.m.set((src.a === d.h.a ? real : src.a.m).slice(src.off, src.off + def.size), at);
      return null;
    }
    // A view of another definition is read as an object of its fields, and the definitions here
    // share no field name: its first field is a name the struct lacks.
    return TypeError;
  }
  if (typeof v !== "object" || v === null) return TypeError;
  const obj = v as Record<string, unknown>;
  // A C initialiser, all or nothing: built zeroed in a scratch copy, committed whole.
  const tmp: Dst = { h: d.h, m: d.m.slice() };
  tmp.m.fill(0, at, at + def.size);
  for (const f of def.fields) {
    if (!(f.name in obj)) continue; // left zero
    const err = writeFieldM(w, tmp, at + f.off, f, obj[f.name], real);
    if (err !== null) return err;
  }
  d.m.set(tmp.m.subarray(at, at + def.size), at);
  return null;
}

/**
 * One field, all-or-nothing (a nested struct: field by field). `real` is the memory of the
 * allocation as the implementation reads it at this point (sources that overlap the destination):
 * `d.m` when writing in place, the memory before the array while an array is built in a scratch copy.
 */
function writeFieldM(w: World, d: Dst, at: number, f: FieldM, v: unknown, real: Uint8Array): Ctor | null {
  const size = f.len === undefined ? sizeOfT(f.t) : sizeOfT(f.t) * f.len;
  const tmp: Dst = { h: d.h, m: d.m.slice() };
  const err = f.len !== undefined
    ? writeArrayM(w, tmp, at, f, v, real)
    : isDef(f.t)
    ? writeStructM(w, tmp, at, f.t, v, real === d.m ? tmp.m : real)
    : writePrim(w, tmp, at, f.t, v);
  if (err === "string") throw new Error("model: no string fields");
  if (err === null || (isDef(f.t) && f.len === undefined)) d.m.set(tmp.m.subarray(at, at + size), at);
  return err;
}

/** An array field: a string (byte arrays), a TypedPointer or an array-like; the rest zeroed. */
function writeArrayM(w: World, d: Dst, at: number, f: FieldM, v: unknown, real: Uint8Array): Ctor | null {
  const n = f.len!;
  const stride = sizeOfT(f.t);
  if (typeof v === "string") {
    if (isDef(f.t) || (f.t.name !== "u8" && f.t.name !== "i8")) return TypeError;
    const b = enc.encode(v);
    if (b.length + 1 > n) return RangeError;
    d.m.fill(0, at, at + n);
    d.m.set(b, at);
    return null;
  }
  let vals: unknown[];
  const tp = handleOf(w, v);
  if (tp?.kind === "tp") {
    if (tp.count! > n) return RangeError;
    vals = [];
    // The source is read before anything is written (as `copy` does, overlap must not matter).
    for (let i = 0; i < tp.count!; i++) {
      const g = getM(w, tp, i, tp.a === d.h.a ? real : undefined);
      if (g.err) return g.err;
      vals.push(g.v);
    }
  } else if (typeof v === "object" && v !== null && typeof (v as ArrayLike<unknown>).length === "number") {
    vals = Array.from(v as ArrayLike<unknown>);
    if (vals.length > n) return RangeError;
  } else return TypeError;
  for (let i = 0; i < vals.length; i++) {
    const e = isDef(f.t)
      ? writeStructM(w, d, at + i * stride, f.t, vals[i], real)
      : writePrim(w, d, at + i * stride, f.t, vals[i]);
    if (e === "string") throw new Error("model: no string arrays");
    if (e !== null) return e;
  }
  d.m.fill(0, at + vals.length * stride, at + n * stride);
  return null;
}

/** The model of `tp.get(i)`: a value (struct elements: a marker) or an error. */
function getM(w: World, h: Handle, i: unknown, m = h.a.m): { err?: Ctor; v?: unknown; at?: number } {
  if (typeof i !== "number" || !Number.isInteger(i)) return { err: TypeError };
  if (!h.a.alive) return { err: ffi.FfiError };
  if (i < 0 || i >= h.count!) return { err: RangeError };
  const stride = sizeOfT(h.elem!);
  const at = h.off + i * stride;
  if (at < h.lo || at + stride > h.hi) return { err: RangeError };
  if (isDef(h.elem!)) {
    // a StructView: the value as written into another struct is its bytes
    const v = (h.obj as ffi.TypedPointer<unknown>).get(i);
    if (!w.handles.some((x) => x.obj === v)) {
      w.handles.push({
        kind: "view",
        obj: v,
        a: h.a,
        off: at,
        lo: h.lo,
        hi: h.hi,
        def: h.elem as DefM,
        um: h.um,
      });
    }
    return { v, at };
  }
  const el = h.elem!;
  // (a string is only read where the model knows it: see stringReadable)
  if (el.kind === "string" && !stringReadable(w, m, at)) return { at };
  return { v: readValueM(w, el, m, at), at };
}

/** What a read of `t` gives, from the model. Strings are only read where the model knows them. */
function readValueM(w: World, t: TInfo | DefM, m: Uint8Array, at: number): unknown {
  if (isDef(t)) {
    const o: Record<string, unknown> = {};
    for (const f of t.fields) {
      o[f.name] = f.len === undefined
        ? readValueM(w, f.t, m, at + f.off)
        : Array.from({ length: f.len }, (_, i) => readValueM(w, f.t, m, at + f.off + i * sizeOfT(f.t)));
    }
    return o;
  }
  if (t.kind === "string") {
    const addr = addrAt(m, at);
    return addr === 0 ? null : w.strings.get(addr)!.s;
  }
  return decode(t, m, at);
}

/** Whether reading a `string` at `at` is safe: NULL, or a string the model wrote and that is alive. */
function stringReadable(w: World, m: Uint8Array, at: number): boolean {
  const addr = addrAt(m, at);
  if (addr === 0) return true;
  const s = w.strings.get(addr);
  return s !== undefined && (s.slot === null || s.slot.gen === s.gen);
}

// ---------------------------------------------------------------------------------------------------
// Operations

type Op = (w: World) => void;

/** A handle for raw access: unmanaged ones only as `uraw` (whose accesses the ops keep inside). */
function pickHandle(w: World, kinds?: readonly HKind[]): Handle {
  const hs = w.handles.filter((h) =>
    (kinds === undefined || kinds.includes(h.kind)) && (!h.um || h.kind === "uraw")
  );
  return pickLive(w, hs.length > 0 ? hs : w.handles);
}

/** Mostly a handle to live memory: dead ones are a minority case, checked often enough. */
function pickLive(w: World, hs: readonly Handle[]): Handle {
  if (w.r.chance(0.8)) {
    const live = hs.filter((h) => h.a.alive);
    if (live.length > 0) return w.r.pick(live);
  }
  return w.r.pick(hs);
}

function commit(h: Handle, m: Uint8Array): void {
  h.a.m.set(m);
}

/** `ptr.read`, `ffi.read`, `buf.read` of a random type (any name, or a struct) at a random offset. */
const opRead: Op = (w) => {
  const r = w.r;
  const h = pickHandle(w, ["raw", "buf", "tp", "view", "raw", "uraw"]);
  const t: TInfo | DefM = r.chance(0.15) ? r.pick(DEFS) : T[r.pick(NAMES)];
  let x = genOffset(r, h, t.size);
  let errs = accessErrs(h, x, t.size);
  if (h.kind === "uraw" && errs.length === 0) {
    // unmanaged: unchecked, so only reads inside the allocation
    if (h.a.size < t.size) return;
    x = r.range(-h.off, h.a.size - t.size - h.off);
  }
  const at = typeof x === "number" ? h.off + x : NaN;
  if (errs.length === 0 && !isDef(t) && t.kind === "void") errs = [TypeError];
  if (errs.length === 0 && !isDef(t) && t.kind === "string" && !stringReadable(w, h.a.m, at)) return;
  const name = isDef(t) ? "struct" : t.name;
  const how = h.kind === "buf" ? r.int(2) : r.int(2) + 1;
  const res = w.expect(`read ${name} at ${String(x)} via ${h.kind}#${h.a.id}`, errs, () => {
    const ct = isDef(t) ? t.def : (t as TInfo).name;
    if (how === 0) return (h.obj as ffi.Buffer).read(x as number, ct);
    if (how === 1 && h.kind !== "tp" && h.kind !== "view" && h.kind !== "buf") {
      return (h.obj as ffi.RawPointer).read(x as number, ct);
    }
    return ffi.read(h.obj as ffi.PointerLike, x as number, ct);
  });
  if (res.ok) w.eq(res.v, readValueM(w, t, h.a.m, at), `read ${name} at ${String(x)}`);
};

/** `ptr.write`, `ffi.write`, `buf.write`. */
const opWrite: Op = (w) => {
  const r = w.r;
  const h = pickHandle(w, ["raw", "buf", "tp", "view", "raw", "uraw"]);
  const t: TInfo | DefM = r.chance(0.15) ? r.pick(DEFS) : T[r.pick(NAMES)];
  let x = genOffset(r, h, t.size);
  const v = genValue(w, t);
  let errs = accessErrs(h, x, t.size);
  if (h.kind === "uraw" && errs.length === 0) {
    if (h.a.size < t.size) return;
    x = r.range(-h.off, h.a.size - t.size - h.off);
  }
  const at = typeof x === "number" ? h.off + x : NaN;
  const d: Dst = { h, m: h.a.m.slice() };
  let str = false;
  if (errs.length === 0) {
    const e = isDef(t) ? writeStructM(w, d, at, t, v, d.m) : writePrim(w, d, at, t, v);
    if (e === "string") str = true;
    else if (e !== null) errs = [e];
  }
  const name = isDef(t) ? "struct" : t.name;
  const how = h.kind === "buf" ? r.int(2) : r.int(2) + 1;
  const res = w.expect(
    `write ${name} ${show(v)} at ${String(x)} via ${h.kind}#${h.a.id}`,
    errs,
    () => {
      const ct = isDef(t) ? t.def : (t as TInfo).name;
      if (how === 0) return (h.obj as ffi.Buffer).write(x as number, ct, v);
      if (how === 1 && h.kind !== "tp" && h.kind !== "view" && h.kind !== "buf") {
        return (h.obj as ffi.RawPointer).write(x as number, ct, v);
      }
      return ffi.write(h.obj as ffi.PointerLike, x as number, ct, v);
    },
  );
  if (str && res.ok) {
    // The string was copied into the arena: its address is in memory now.
    const addr = addrAt(h.a.o!, at);
    const text = Deno.UnsafePointerView.getCString(Deno.UnsafePointer.create(BigInt(addr))!);
    if (text !== v) w.fail(`string written reads back as ${JSON.stringify(text)}`);
    w.strings.set(addr, { s: v as string, slot: h.a.slot, gen: h.a.slot?.gen ?? 0 });
    d.m.set(h.a.o!.subarray(at, at + 8), at);
    commit(h, d.m);
  } else if (res.ok || (isDef(t) && accessErrs(h, x, t.size).length === 0)) {
    // success, or a documented partial whole-struct write (after the access checks passed)
    commit(h, d.m);
  }
};

/** A random length for a range of `avail` bytes: valid, at the edges, or bad. */
function genLen(r: Rng, avail: number): unknown {
  switch (r.int(8)) {
    case 0:
      return avail;
    case 1:
      return avail + 1;
    case 2:
      return r.pick([-1, 1.5, NaN, "3", undefined, 2 ** 53, 2 ** 60, Infinity, 3n]);
    case 3:
      return 0;
    default:
      return r.range(0, Math.max(0, avail));
  }
}

function lenErrs(n: unknown): Ctor[] {
  if (typeof n !== "number") return [TypeError];
  return Number.isInteger(n) && n >= 0 ? [] : [RangeError];
}

/** A pointer-like for `copy`/`fill`: the handle itself or a raw pointer moved by `k` bytes. */
function movedPtr(w: World, h: Handle): { obj: unknown; h: Handle } {
  const r = w.r;
  if (h.kind === "uraw" || r.chance(0.5)) return { obj: h.obj, h };
  const k = r.range(h.lo - h.off - 2, h.hi - h.off + 2);
  const obj = ffi.toRaw(h.obj as ffi.PointerLike).add(k);
  return { obj, h: { ...h, kind: "raw", obj, off: h.off + k } };
}

/** `ffi.copy` within and across allocations and arenas, overlapping or not, some out of bounds. */
const opCopy: Op = (w) => {
  const r = w.r;
  const d = movedPtr(w, pickHandle(w));
  const s = movedPtr(w, r.chance(0.3) ? d.h : pickHandle(w));
  const avail = Math.min(d.h.hi - d.h.off, s.h.hi - s.h.off);
  let n = genLen(r, avail);
  const um = [d.h, s.h].filter((x) => x.kind === "uraw");
  // Unmanaged memory is unchecked: a length that stays inside its allocation.
  if (um.length > 0) n = r.range(0, Math.min(...um.map((x) => x.a.size - x.off)));
  let errs = lenErrs(n);
  if (errs.length === 0) errs = accessErrs(d.h, 0, n as number);
  if (errs.length === 0) errs = accessErrs(s.h, 0, n as number);
  const res = w.expect(
    `copy ${String(n)} from ${s.h.kind}#${s.h.a.id}+${s.h.off} to ${d.h.kind}#${d.h.a.id}+${d.h.off}`,
    errs,
    () => ffi.copy(d.obj as ffi.PointerLike, s.obj as ffi.PointerLike, n as number),
  );
  if (res.ok) {
    const bytes = s.h.a.m.slice(s.h.off, s.h.off + (n as number));
    d.h.a.m.set(bytes, d.h.off);
  }
};

/** `ffi.fill`. */
const opFill: Op = (w) => {
  const r = w.r;
  const p = movedPtr(w, pickHandle(w, ["raw", "buf", "tp", "view"]));
  const n = genLen(r, p.h.hi - p.h.off);
  const byte = r.chance(0.8) ? r.range(-128, 255) : r.pick([256, -129, 1.5, "1", null, NaN]);
  let errs = lenErrs(n);
  if (errs.length === 0) {
    errs = typeof byte !== "number" || !Number.isInteger(byte)
      ? [TypeError]
      : byte < -128 || byte > 255
      ? [RangeError]
      : [];
  }
  if (errs.length === 0) errs = accessErrs(p.h, 0, n as number);
  const res = w.expect(
    `fill ${String(n)} with ${String(byte)} at ${p.h.kind}#${p.h.a.id}+${p.h.off}`,
    errs,
    () => ffi.fill(p.obj as ffi.PointerLike, n as number, byte as number),
  );
  if (res.ok) p.h.a.m.fill((byte as number) & 0xff, p.h.off, p.h.off + (n as number));
};

/** `ffi.cast` to a typed pointer or a struct view. */
const opCast: Op = (w) => {
  const r = w.r;
  const h = pickHandle(w, ["raw", "buf", "tp", "view", "raw", "uraw"]);
  const t: TInfo | DefM = r.chance(0.2) ? r.pick(DEFS) : T[r.pick(NAMES)];
  const stride = t.size;
  const left = h.hi - h.off;
  let count: unknown = r.chance(0.5)
    ? undefined
    : r.chance(0.8)
    ? r.range(0, Math.max(0, Math.floor(left / Math.max(1, stride))) + 1)
    : r.pick([-1, 1.5, "2", NaN]);
  if (h.kind === "uraw") {
    // unmanaged: a count (or a view) that fits in the allocation
    if (!h.a.alive || stride === 0 || h.off + stride > h.a.size) return;
    count = isDef(t) && r.chance(0.5) ? undefined : r.range(0, Math.floor((h.a.size - h.off) / stride));
  }
  const asView = isDef(t) && count === undefined;
  let errs: Ctor[] = [];
  if (!isDef(t) && t.kind === "void") errs = [TypeError];
  else if (count !== undefined) errs = lenErrs(count);
  if (errs.length === 0 && !h.a.alive) errs = [ffi.FfiError];
  if (errs.length === 0 && h.kind !== "uraw") {
    if (asView) errs = h.off < h.lo || h.off + stride > h.hi ? [RangeError] : [];
    else if (count !== undefined && (count as number) * stride > left) errs = [RangeError];
  }
  const res = w.expect(
    `cast ${h.kind}#${h.a.id}+${h.off} to ${isDef(t) ? "struct" : t.name}${asView ? " view" : ""} count ${
      String(count)
    }`,
    errs,
    () =>
      count === undefined
        ? ffi.cast(h.obj as ffi.PointerLike, isDef(t) ? t.def : t.name)
        : ffi.cast(h.obj as ffi.PointerLike, isDef(t) ? t.def : t.name, count as number),
  );
  if (!res.ok) return;
  const um = h.kind === "uraw";
  const lo = um ? h.off : h.lo;
  const hi = um ? h.off + ((count as number | undefined) ?? 1) * stride : h.hi;
  if (asView) {
    w.handles.push({ kind: "view", obj: res.v, a: h.a, off: h.off, lo, hi, def: t as DefM, um });
    return;
  }
  const c = (count as number | undefined) ?? Math.max(0, Math.floor(left / stride));
  const tp = res.v as ffi.TypedPointer<unknown>;
  w.eq(tp.count, c, "TypedPointer count");
  w.eq(tp.addr, h.a.addr + h.off, "TypedPointer addr");
  w.handles.push({ kind: "tp", obj: tp, a: h.a, off: h.off, lo, hi, elem: t, count: c, um });
};

/**
 * A checked element write of a typed pointer (`set(i, v)`, or index syntax for non-numeric elements)
 * of `v` to the element `g` locates: the errors the model expects, then the memory it leaves.
 */
function checkedSetM(
  w: World,
  h: Handle,
  g: { err?: Ctor; at?: number },
  v: unknown,
  label: () => string,
  write: () => void,
): void {
  const el = h.elem!;
  const d: Dst = { h, m: h.a.m.slice() };
  let errs: Ctor[] = g.err ? [g.err] : [];
  let str = false;
  if (errs.length === 0) {
    const e = isDef(el) ? writeStructM(w, d, g.at!, el, v, d.m) : writePrim(w, d, g.at!, el, v);
    if (e === "string") str = true;
    else if (e !== null) errs = [e];
  }
  const res = w.expect(label(), errs, write);
  if (str && res.ok) {
    const addr = addrAt(h.a.o!, g.at!);
    w.strings.set(addr, { s: v as string, slot: h.a.slot, gen: h.a.slot?.gen ?? 0 });
    d.m.set(h.a.o!.subarray(g.at!, g.at! + 8), g.at!);
  }
  if (res.ok || (isDef(el) && g.err === undefined)) commit(h, d.m);
}

/** `tp.get`, `tp.set`, index syntax, `add`, `toRaw`. */
const opTyped: Op = (w) => {
  const r = w.r;
  const tps = w.handles.filter((h) => h.kind === "tp");
  if (tps.length === 0) return opCast(w);
  const h = pickLive(w, tps);
  const tp = h.obj as ffi.TypedPointer<unknown> & Record<string, unknown>;
  const el = h.elem!;
  const stride = sizeOfT(el);
  const numeric = !isDef(el) && el.TA !== null;
  const i: unknown = r.chance(0.8)
    ? r.range(-1, h.count! + 1)
    : r.pick([1.5, NaN, -0, 2 ** 32, "1", -(2 ** 31), Infinity]);
  const k = r.int(6);
  if (k === 0) {
    // get(i)
    const g = getM(w, h, i);
    if (g.err === undefined && !isDef(el) && el.kind === "string" && !stringReadable(w, h.a.m, g.at!)) return;
    const res = w.expect(
      `get(${String(i)}) of tp#${h.a.id}+${h.off}`,
      g.err ? [g.err] : [],
      () => tp.get(i as number),
    );
    if (res.ok) check(w, res.v, el, h, g.at!);
  } else if (k === 1) {
    // set(i, v)
    const v = genValue(w, el);
    const g = getM(w, h, i);
    checkedSetM(w, h, g, v, () => `set(${String(i)}, ${show(v)}) of tp#${h.a.id}+${h.off}`, () => {
      tp.set(i as number, v);
    });
  } else if (k === 2) {
    // p[i] (as a number or a canonical numeric string key)
    // (a number key is the string of it: `p[-0]` is `p["0"]`; the key "-0" is no element)
    const key = r.chance(0.05) ? "-0" : r.chance(0.3) ? String(i) : i;
    if (numeric) {
      const idx = key === "-0" ? NaN : Number(key);
      const g = getM(w, h, idx);
      const valid = g.err === undefined;
      const res = w.expect(`p[${String(key)}] of tp#${h.a.id}`, [], () => tp[key as string]);
      if (res.ok) w.eq(res.v, valid ? decode(el, h.a.m, g.at!) : undefined, `p[${String(key)}]`);
    } else {
      const g = getM(w, h, typeof key === "string" ? Number(key) : key);
      if (g.err === undefined && !isDef(el) && el.kind === "string" && !stringReadable(w, h.a.m, g.at!)) {
        return;
      }
      const res = w.expect(
        `p[${String(key)}] (checked) of tp#${h.a.id}`,
        g.err ? [g.err] : [],
        () => tp[key as string],
      );
      if (res.ok) check(w, res.v, el, h, g.at!);
    }
  } else if (k === 3) {
    // p[i] = v
    const key = r.chance(0.05) ? "-0" : r.chance(0.3) ? String(i) : i;
    if (numeric) {
      const v = r.chance(0.7)
        ? genValue(w, el)
        : r.pick([300, -1, 1.5, -1.5, NaN, "12", "abc", 5n, 2n ** 70n, true, null, undefined, 1e40, -0]);
      const conv = convert(el as TInfo, v);
      const idx = key === "-0" ? NaN : Number(key);
      const g = getM(w, h, idx);
      const valid = g.err === undefined;
      const res = w.expect(
        `p[${String(key)}] = ${show(v)} of tp#${h.a.id}`,
        conv instanceof Uint8Array ? [] : [conv],
        () => {
          tp[key as string] = v;
        },
      );
      if (res.ok && valid) h.a.m.set(conv as Uint8Array, g.at!);
    } else {
      const v = genValue(w, el);
      const g = getM(w, h, typeof key === "string" ? Number(key) : key);
      checkedSetM(w, h, g, v, () => `p[${String(key)}] = v (checked) of tp#${h.a.id}`, () => {
        tp[key as string] = v;
      });
    }
  } else if (k === 4) {
    // add(n)
    const n: unknown = r.chance(0.9) ? r.range(-2, h.count! + 2) : r.pick([1.5, "1", NaN]);
    const errs = typeof n === "number" && Number.isInteger(n) ? [] : [TypeError];
    if (!h.a.alive && errs.length === 0) return; // (works, but nothing to model)
    // unmanaged: unchecked, so stay inside the counted memory
    if (h.um && errs.length === 0 && ((n as number) < 0 || (n as number) > h.count!)) return;
    const res = w.expect(`tp#${h.a.id}.add(${String(n)})`, errs, () => tp.add(n as number));
    if (!res.ok) return;
    const q = res.v as ffi.TypedPointer<unknown>;
    const c = Math.max(0, h.count! - (n as number));
    w.eq(q.count, c, "count after add");
    w.eq(q.addr, h.a.addr + h.off + (n as number) * stride, "addr after add");
    w.handles.push({ ...h, obj: q, off: h.off + (n as number) * stride, count: c });
  } else {
    // toRaw()
    const raw = tp.toRaw();
    w.eq(raw.addr, h.a.addr + h.off, "toRaw().addr");
    if (!h.um) w.handles.push({ kind: "raw", obj: raw, a: h.a, off: h.off, lo: h.lo, hi: h.hi });
  }
};

/** Checks a value read from a typed pointer element or a field. */
function check(w: World, v: unknown, t: TInfo | DefM, h: Handle, at: number): void {
  if (isDef(t)) {
    const view = v as ffi.LooseStructView;
    w.eq(ffi.toRaw(view).addr, h.a.addr + at, "StructView address");
    if (!w.handles.some((x) => x.obj === v)) {
      w.handles.push({ kind: "view", obj: v, a: h.a, off: at, lo: h.lo, hi: h.hi, def: t, um: h.um });
    }
    return;
  }
  w.eq(v, readValueM(w, t, h.a.m, at), `element at ${at}`);
}

/** Struct views: read and write fields. */
const opView: Op = (w) => {
  const r = w.r;
  const views = w.handles.filter((h) => h.kind === "view");
  if (views.length === 0) return opCast(w);
  const h = pickLive(w, views);
  const def = h.def!;
  const f = r.pick(def.fields);
  const view = h.obj as ffi.LooseStructView;
  const at = h.off + f.off;
  if (r.chance(0.5)) {
    const res = w.expect(
      `view#${h.a.id}+${h.off}.${f.name}`,
      h.a.alive ? [] : [ffi.FfiError],
      () => view[f.name],
    );
    if (!res.ok) return;
    if (f.len !== undefined) {
      const tp = res.v as ffi.TypedPointer<unknown>;
      w.eq(tp.count, f.len, "array field count");
      w.eq(tp.addr, h.a.addr + at, "array field addr");
      if (!w.handles.some((x) => x.obj === tp)) {
        w.handles.push({
          kind: "tp",
          obj: tp,
          a: h.a,
          off: at,
          lo: h.lo,
          hi: h.hi,
          elem: f.t,
          count: f.len,
          um: h.um,
        });
      }
    } else check(w, res.v, f.t, h, at);
    return;
  }
  const v = f.len !== undefined ? genArray(w, f, 0) : genValue(w, f.t);
  const d: Dst = { h, m: h.a.m.slice() };
  const errs: Ctor[] = [];
  if (!h.a.alive) errs.push(ffi.FfiError);
  else {
    const e = writeFieldM(w, d, at, f, v, d.m);
    if (e !== null) errs.push(e);
  }
  const res = w.expect(
    `view#${h.a.id}+${h.off}.${f.name} = ${show(v)}`,
    errs,
    () => {
      view[f.name] = v;
    },
  );
  // Nested structs are whole-struct writes: documented partial (modelled field by field).
  if (res.ok || (h.a.alive && isDef(f.t) && f.len === undefined)) commit(h, d.m);
};

/** Buffer methods: zero, readBytes, writeBytes, readString, writeString, slice. */
const opBuffer: Op = (w) => {
  const r = w.r;
  const bufs = w.handles.filter((h) => h.kind === "buf");
  if (bufs.length === 0) return w.newBuffer();
  const h = r.pick(bufs);
  const buf = h.obj as ffi.Buffer;
  const size = h.hi - h.lo;
  w.eq(buf.size, size, "Buffer.size");
  const k = r.int(6);
  if (k === 0) {
    if (w.expect(`buf#${h.a.id}+${h.off}.zero()`, [], () => buf.zero()).ok) h.a.m.fill(0, h.lo, h.hi);
  } else if (k === 1) {
    const n = genLen(r, size);
    const x = genOffset(r, h, typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : 0);
    let errs = lenErrs(n);
    if (errs.length === 0) errs = accessErrs(h, x, n as number);
    const res = w.expect(
      `buf#${h.a.id}.readBytes(${String(x)}, ${String(n)})`,
      errs,
      () => buf.readBytes(x as number, n as number),
    );
    if (res.ok) {
      const at = typeof x === "number" ? h.off + x : NaN;
      w.eq(res.v, h.a.m.slice(at, at + (n as number)), "readBytes");
    }
  } else if (k === 2) {
    const len = r.range(0, size + 1);
    const asArray = r.chance(0.5);
    const vals = Array.from(
      { length: len },
      () => r.chance(0.97) ? r.range(-128, 255) : r.pick([256, 1.5, "1", null, -129]),
    );
    const bytes: unknown = r.chance(0.05)
      ? "str"
      : asArray
      ? vals
      : new Uint8Array(vals.map((v) => Number(v) & 0xff));
    const x = genOffset(r, h, len);
    let errs: Ctor[] = [];
    if (typeof bytes === "string") errs = [TypeError];
    else if (asArray) {
      for (const v of vals) {
        const e = encode(T.u8, v, () => null);
        if (!(e instanceof Uint8Array)) {
          errs = [e];
          break;
        }
      }
    }
    if (errs.length === 0) errs = accessErrs(h, x, len);
    const res = w.expect(
      `buf#${h.a.id}.writeBytes(${String(x)}, [${len}])`,
      errs,
      () => buf.writeBytes(x as number, bytes as number[]),
    );
    if (res.ok) h.a.m.set(vals.map((v) => Number(v) & 0xff), h.off + (x as number));
  } else if (k === 3) {
    const x = r.chance(0.2) ? undefined : genOffset(r, h, 0);
    const xo = x === undefined ? 0 : x;
    const errs = accessErrs(h, xo, 0);
    const res = w.expect(`buf#${h.a.id}.readString(${String(x)})`, errs, () => buf.readString(x as number));
    if (res.ok) {
      const bytes = h.a.m.slice(h.off + (xo as number), h.hi);
      const nul = bytes.indexOf(0);
      w.eq(res.v, new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul)), "readString");
    }
  } else if (k === 4) {
    const s: unknown = r.chance(0.9) ? r.pick(STRINGS) : r.pick([5, null, undefined]);
    const b = typeof s === "string" ? enc.encode(s) : null;
    const x = genOffset(r, h, b === null ? 0 : b.length + 1);
    const errs = b === null ? [TypeError] : accessErrs(h, x, b.length + 1);
    const res = w.expect(
      `buf#${h.a.id}.writeString(${String(x)}, ${JSON.stringify(s)})`,
      errs,
      () => buf.writeString(x as number, s as string),
    );
    if (res.ok) {
      h.a.m.set(b!, h.off + (x as number));
      h.a.m[h.off + (x as number) + b!.length] = 0;
    }
  } else {
    const n = genLen(r, size);
    const x = genOffset(r, h, typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : 0);
    let errs = lenErrs(n);
    if (errs.length === 0) errs = accessErrs(h, x, n as number);
    const res = w.expect(
      `buf#${h.a.id}+${h.off}.slice(${String(x)}, ${String(n)})`,
      errs,
      () => buf.slice(x as number, n as number),
    );
    if (res.ok) {
      const off = h.off + (x as number);
      w.handles.push({ kind: "buf", obj: res.v, a: h.a, off, lo: off, hi: off + (n as number) });
    }
  }
};

/** Arena operations: new allocations, bad allocation arguments, reset, dispose. */
const opArena: Op = (w) => {
  const r = w.r;
  const slot = r.pick(w.slots);
  const k = r.int(10);
  if (k < 4) {
    w.log.push(`alloc in arena ${slot.arena.id}`);
    w.allocTarget(slot);
  } else if (k < 6) {
    const before = [slot.arena.allocationCount, slot.arena.totalAllocated];
    const bad: [string, Ctor, () => unknown][] = [
      ["alloc(-1)", RangeError, () => slot.arena.alloc(-1)],
      ["alloc(1.5)", RangeError, () => slot.arena.alloc(1.5)],
      ["alloc('4')", TypeError, () => slot.arena.alloc("4" as unknown as number)],
      ["alloc(2**60)", RangeError, () => slot.arena.alloc(2 ** 60)],
      ["allocAligned(8, 3)", RangeError, () => slot.arena.allocAligned(8, 3)],
      ["allocAligned(8, 0)", RangeError, () => slot.arena.allocAligned(8, 0)],
      ["allocType('void')", TypeError, () => slot.arena.allocType("void")],
      ["allocType('int33')", TypeError, () => slot.arena.allocType("int33")],
      ["allocArray('i32', -1)", RangeError, () => slot.arena.allocArray("i32", -1)],
      ["allocArray('i32', 0.5)", RangeError, () => slot.arena.allocArray("i32", 0.5)],
    ];
    const [desc, E, fn] = r.pick(bad);
    w.expect(`arena ${slot.arena.id}.${desc}`, [E], fn);
    w.eq([slot.arena.allocationCount, slot.arena.totalAllocated], before, "arena counters after a bad alloc");
  } else if (k < 8) {
    w.log.push(`reset arena ${slot.arena.id}`);
    slot.arena.reset();
    w.kill(slot);
    sweepDead(w, slot);
    w.eq([slot.arena.allocationCount, slot.arena.totalAllocated], [0, 0], "counters after reset");
    for (let i = 0; i < 3; i++) w.allocTarget(slot);
  } else if (k === 8) {
    w.log.push(`dispose arena ${slot.arena.id}`);
    const old = slot.arena;
    old[Symbol.dispose]();
    w.kill(slot);
    sweepDead(w, slot);
    w.expect(`alloc from disposed arena ${old.id}`, [ffi.FfiError], () => old.alloc(8));
    slot.arena = ffi.arena();
    for (let i = 0; i < 3; i++) w.allocTarget(slot);
  } else {
    // `using`: everything made inside the scope is dead after it.
    let p: ffi.RawPointer,
      tp: ffi.TypedPointer<number>,
      v: ffi.LooseStructView,
      tp8: ffi.TypedPointer<number>;
    {
      using scoped = ffi.arena();
      p = scoped.allocArray(A.def, 1);
      v = ffi.view(p, A.def) as ffi.LooseStructView;
      v.b = 7;
      tp = ffi.cast(p, "i32");
      tp8 = ffi.cast(p.add(1), "i32", 2); // unaligned: the Proxy shape
      assert.equal(tp[1], 7);
      assert.equal(tp8[0], 7 << 24);
    }
    w.log.push("using scope");
    w.expect("read after using", [ffi.FfiError], () => p.read(4, "i32"));
    w.expect("field after using", [ffi.FfiError], () => v.b);
    w.expect("get after using", [ffi.FfiError], () => tp.get(1));
    w.expect("index after using", [], () => assert.equal(tp[1], undefined));
    w.expect("proxy index after using", [], () => assert.equal(tp8[0], undefined));
    w.expect("copy after using", [ffi.FfiError], () => ffi.copy(p, p, 0));
  }
};

/** Right after a reset: every pointer, view and typed pointer into the arena is dead. */
function sweepDead(w: World, slot: Slot): void {
  for (const h of w.handles) {
    if (h.a.slot !== slot) continue;
    if (h.kind === "raw") {
      w.expect(
        "read u8 of a freed pointer",
        [ffi.FfiError],
        () => ffi.read(h.obj as ffi.RawPointer, 0, "u8"),
      );
    } else if (h.kind === "view") {
      w.expect(
        "field of a freed view",
        [ffi.FfiError],
        () => (h.obj as ffi.LooseStructView)[h.def!.fields[0].name],
      );
    } else if (h.kind === "tp") {
      const tp = h.obj as ffi.TypedPointer<unknown>;
      w.expect("get(0) of a freed typed pointer", [ffi.FfiError], () => tp.get(0));
      if (!isDef(h.elem!) && h.elem!.TA !== null) {
        w.expect("index of a freed typed pointer", [], () => w.eq(tp[0], undefined, "p[0] once freed"));
      } else w.expect("index of a freed typed pointer", [ffi.FfiError], () => tp[0]);
    }
  }
}

/** Unmanaged pointers to live memory (`ffi.ptr`), used only inside their allocation. */
const opUnmanaged: Op = (w) => {
  const live = w.allocs.filter((a) => !a.guard && a.size > 0);
  if (live.length === 0) return;
  const a = w.r.pick(live);
  const off = w.r.range(0, a.size - 1);
  w.handles.push({ kind: "uraw", obj: ffi.ptr(a.addr + off), a, off, lo: 0, hi: a.size, um: true });
};

/** Reads a whole allocation back through the API (a u8 typed pointer, and Buffer.readBytes). */
const opReadAll: Op = (w) => {
  const h = pickHandle(w, ["raw", "buf"]);
  if (!h.a.alive || h.off < h.lo || h.off > h.hi) return;
  const bytes = h.kind === "buf"
    ? (h.obj as ffi.Buffer).readBytes(0, h.hi - h.off)
    : Uint8Array.from(ffi.cast(h.obj as ffi.RawPointer, "u8") as unknown as ArrayLike<number>);
  w.eq(bytes, h.a.m.slice(h.off, h.hi), `whole allocation ${h.a.id}`);
};

const OPS: [number, Op][] = [
  [14, opRead],
  [16, opWrite],
  [8, opCopy],
  [5, opFill],
  [8, opCast],
  [18, opTyped],
  [12, opView],
  [8, opBuffer],
  [3, opArena],
  [2, opUnmanaged],
  [2, opReadAll],
];
const TOTAL = OPS.reduce((s, [n]) => s + n, 0);

function run(seed: number, ops: number): World {
  const w = new World(seed);
  for (w.opIndex = 0; w.opIndex < ops; w.opIndex++) {
    let x = w.r.int(TOTAL);
    for (const [n, op] of OPS) {
      if ((x -= n) < 0) {
        op(w);
        break;
      }
    }
    w.check();
    // Keep the handle pool small, so every op has a fair chance to hit a fresh one.
    if (w.handles.length > 120) w.handles.splice(0, 40);
  }
  return w;
}

const SEEDS = [1, 2, 3, 42, 1234, 0xdeadbeef, 7, 99];
const OPS_PER_SEED = 5000;

for (const seed of SEEDS) {
  Deno.test(`model: ${OPS_PER_SEED} random operations, seed ${seed}`, () => {
    const w = run(seed, OPS_PER_SEED);
    if (Deno.env.get("MODEL_STATS")) console.log([...w.stats].sort().map(([k, n]) => `${k} ${n}`).join(", "));
    // Sanity: the run exercised both sides.
    assert.ok(w.ok > OPS_PER_SEED / 4 && w.threw > OPS_PER_SEED / 10, `ok ${w.ok}, threw ${w.threw}`);
  });
}

// ---------------------------------------------------------------------------------------------------
// Regressions: the findings of the model, minimised

Deno.test("regression: an array field write with a bad element writes nothing", () => {
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(A.def), A.def) as ffi.LooseStructView;
  v.d = [1, 2, 3];
  assert.throws(() => v.d = [7, 8, "x"], TypeError);
  assert.throws(() => v.d = [7, 70000], RangeError);
  assert.deepEqual([v.d[0], v.d[1], v.d[2]], [1, 2, 3]); // was [7, 8, 3] and [7, 2, 3]
  // From a freed TypedPointer: nothing written either.
  const other = ffi.arena();
  const src = ffi.cast(other.allocArray("i16", 2), "i16");
  other.reset();
  assert.throws(() => v.d = src, ffi.FfiError);
  assert.deepEqual([v.d[0], v.d[1], v.d[2]], [1, 2, 3]);
});

Deno.test("regression: a whole-struct write with a bad field writes nothing", () => {
  using arena = ffi.arena();
  const p = arena.allocType(B.def);
  p.write(0, "i8", 3);
  // `pts[0].y` is a string: nothing is written, not even `tag` (an earlier field) or `pts[0].x`.
  assert.throws(() => ffi.write(p, 0, B.def, { tag: 5, pts: [{ x: 1.5, y: "no" }], inner: {} }), TypeError);
  assert.equal(p.read(0, "i8"), 3);
  assert.equal(p.read(B.def.offsetOf("pts"), "f32"), 0); // was 1.5
});

Deno.test("regression: an array field assigned from an overlapping TypedPointer copies as memmove", () => {
  using arena = ffi.arena();
  const p = arena.allocType(A.def);
  const v = ffi.view(p, A.def) as ffi.LooseStructView;
  v.d = [1, 2, 3];
  // The source starts one element before the field: element-wise copying read what it had written.
  v.d = ffi.cast(p.add(A.def.offsetOf("d") - 2), "i16", 3);
  assert.deepEqual([v.d[0], v.d[1], v.d[2]], [0, 1, 2]); // was [0, 0, 0]
  // Struct elements too: the source (head, pts[0], pts[1]) starts one element before `pts`.
  const Q = ffi.struct([["head", P.def], ["pts", P.def, 3]]);
  const q = arena.allocType(Q);
  const qv = ffi.view(q, Q) as ffi.LooseStructView;
  qv.head = { x: 1, y: 2 };
  qv.pts = [{ x: 3, y: 4 }, { x: 5, y: 6 }, { x: 7, y: 8 }];
  qv.pts = ffi.cast(q, P.def, 3);
  const all = ffi.cast(q, P.def, 4);
  const xy = [0, 1, 2, 3].map((i) => [all[i].x, all[i].y]);
  assert.deepEqual(xy, [[1, 2], [1, 2], [3, 4], [5, 6]]); // was [[1, 2], [1, 2], [1, 2], [1, 2]]
});

Deno.test("regression: Buffer.readString with a non-integer offset is a TypeError about the offset", () => {
  const buf = ffi.buffer(8);
  buf.writeString(0, "hi");
  for (const bad of [1.5, NaN, Infinity, -Infinity]) {
    assert.throws(
      () => buf.readString(bad),
      (e: unknown) => e instanceof TypeError && /offset/.test(String(e)),
    );
  }
  assert.throws(() => buf.readString(9), RangeError);
  assert.equal(buf.readString(8), "");
  assert.equal(buf.readString(), "hi");
});
