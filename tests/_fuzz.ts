/**
 * The adversarial fuzzer of the managed API, run by `tests/fuzz_test.ts` in a child process (where a
 * crash is the failure): `deno run -A tests/_fuzz.ts <seed> <ops>`.
 *
 * A seeded PRNG drives random operations over a few arenas and a pool of handles (raw pointers,
 * typed pointers, views, Buffers): reads and writes of every type at hostile offsets with hostile
 * values (huge numbers, bigints past 64 bits, objects whose `toString` throws, Proxies, null-prototype
 * objects, Deno pointer values), casts with huge counts, copies and fills, detaching the buffers
 * behind typed pointers (`transfer`, `structuredClone` with a transfer list), resets from inside
 * getters that a write calls (re-entrance) and from inside a callback that C (`qsort`) is calling,
 * and pointers on the first page (0 to 4095). Each operation must either succeed or throw a
 * `TypeError`, `RangeError` or `FfiError` whose message is one the package wrote (never an engine
 * error about its own internals); memory that was freed or detached must never be readable again.
 * Prints `ok <ops> <threw>` at the end.
 *
 * @module
 */

import * as ffi from "../mod.ts";
import { Rng } from "./_rng.ts";

const seed = Number(Deno.args[0] ?? 1);
const OPS = Number(Deno.args[1] ?? 10000);
const r = new Rng(seed);

/** Types whose read dereferences what the memory holds (a `char*`): not read from random bytes. */
const DEREF = new Set(["string", "char*"]);
const TYPES = [
  "i8",
  "u8",
  "i16",
  "u16",
  "i32",
  "u32",
  "i64",
  "u64",
  "f32",
  "f64",
  "bool",
  "pointer",
  "string",
  "isize",
  "usize",
  "int",
  "double",
  "size_t",
  "char*",
  "void",
  "int33",
] as const;
const Inner = ffi.struct([["a", "u8"], ["b", "f64"]]);
const S = ffi.struct([["x", "i32"], ["name", "u8", 8], ["inner", Inner], ["p", "pointer"], ["s", "string"], [
  "big",
  "i64",
]]);
const STRUCTS = [Inner, S];

const evil = {
  toString(): string {
    throw new Error("evil toString");
  },
};
const revoked = Proxy.revocable({}, {});
revoked.revoke();

function hostileNumber(): number {
  return r.pick([
    0,
    1,
    -1,
    8,
    3,
    1.5,
    -0,
    NaN,
    Infinity,
    -Infinity,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    1e300,
    -(2 ** 53),
    4095,
    4096,
    255,
    256,
    -129,
    0xffffffff,
    2 ** 63,
  ]);
}

function hostileValue(): unknown {
  switch (r.int(14)) {
    case 0:
      return hostileNumber();
    case 1:
      return r.pick([0n, -1n, 2n ** 63n, 2n ** 64n, -(2n ** 63n) - 1n, 2n ** 200n]);
    case 2:
      return r.pick(["", "abc", "héllo", "x".repeat(300)]);
    case 3:
      return r.pick([true, false, null, undefined]);
    case 4:
      return evil;
    case 5:
      return revoked.proxy;
    case 6:
      return Object.create(null);
    case 7:
      return Deno.UnsafePointer.create(BigInt(r.int(4096))); // first page only: others are unchecked
    case 8:
      return pickHandle() ?? null;
    case 9:
      return { x: hostileNumber(), a: 1, b: 2, name: "ab", inner: { a: 1, b: 2 }, p: null, s: null, big: 1n };
    case 10:
      return [1, , 3];
    case 11:
      return new Uint8Array(r.int(3) === 0 ? 0 : 20);
    case 12:
      return reentrant();
    default:
      return r.int(256);
  }
}

/** A plain object whose getters reset (or dispose) an arena while a write is reading them. */
function reentrant(): object {
  const a = r.pick(arenas);
  const o: Record<string, unknown> = {};
  for (const name of ["x", "a", "b", "name", "inner", "p", "s", "big"]) {
    Object.defineProperty(o, name, {
      enumerable: true,
      get() {
        if (r.int(3) === 0) a.reset();
        return name === "name"
          ? "hi"
          : name === "inner"
          ? { a: 1, b: 2 }
          : name === "big"
          ? 5n
          : name === "p" || name === "s"
          ? null
          : 1;
      },
    });
  }
  return o;
}

let arenas: ffi.Arena[] = [ffi.arena(), ffi.arena(), ffi.arena()];
const handles: unknown[] = [];
/** Handles whose memory is known dead: reading them must be an FfiError. */
const dead = new Set<unknown>();
const deadArena = new WeakMap<object, ffi.Arena>();
const libc = ffi.load("libc.so.6");
const permanent = libc.call("calloc", "pointer", ["usize", "usize"], 1, 256); // never freed

function tag(p: unknown): string {
  try {
    return p instanceof ffi.RawPointer ? `raw ${p.addr} ${p.isManaged}` : Object.prototype.toString.call(p);
  } catch {
    return "revoked";
  }
}

/** Whether `p` is an unmanaged RawPointer on the first page (false for anything that throws). */
function isFirstPage(p: unknown): boolean {
  try {
    return p instanceof ffi.RawPointer && !p.isManaged && p.addr < 4096;
  } catch {
    return false;
  }
}

function pickHandle(): unknown {
  return handles.length === 0 ? undefined : handles[r.int(handles.length)];
}

function add(h: unknown, arena?: ffi.Arena): void {
  if (arena !== undefined && typeof h === "object" && h !== null) deadArena.set(h, arena);
  handles.push(h);
  if (handles.length > 200) handles.splice(0, 60);
}

function killArena(a: ffi.Arena): void {
  for (const h of handles) if (typeof h === "object" && h !== null && deadArena.get(h) === a) dead.add(h);
}

let threw = 0;
let opName = "";
const ALLOWED = [TypeError, RangeError, ffi.FfiError];
const INTERNAL =
  /Cannot read properties|is not a function|is not iterable|Cannot convert object to primitive|evil toString|Maximum call stack|Invalid string length|#/;

const TRACE = Deno.env.get("FUZZ_TRACE") !== undefined;

function attempt(name: string, f: () => unknown): unknown {
  opName = name;
  if (TRACE) console.error(opIndex, name);
  try {
    return f();
  } catch (e) {
    threw++;
    if (!ALLOWED.some((C) => e instanceof C)) fail(`${name} threw a non-API error: ${String(e)}`);
    const msg = (e as Error).message;
    if (msg === "" || INTERNAL.test(msg)) {
      fail(`${name} threw an engine-level error: ${(e as Error).name}: ${msg}`);
    }
    return undefined;
  }
}

function fail(msg: string): never {
  console.error(`seed ${seed}, op ${opIndex} (${opName}): ${msg}`);
  Deno.exit(1);
}

function anyPointerLike(): unknown {
  const h = pickHandle();
  if (h !== undefined && r.int(6) !== 0) return h;
  switch (r.int(4)) {
    case 0:
      return ffi.ptr(r.int(4096)); // the first page
    case 1:
      // (void*)-1 plus an offset that wraps around to the first page
      return ffi.ptr(2n ** 64n - 1n).add(1 + r.int(64));
    default:
      return hostileValue();
  }
}

const ops: [number, () => void][] = [
  [6, () => {
    const a = r.pick(arenas);
    const size = r.int(10) === 0 ? hostileNumber() : r.int(256);
    const p = attempt(
      "alloc",
      () => r.int(4) === 0 ? a.allocType(r.pick(STRUCTS)) : a.alloc(size),
    ) as ffi.RawPointer;
    if (p !== undefined) add(p, a);
  }],
  [2, () => {
    const a = r.pick(arenas);
    const p = attempt("buffer", () => ffi.buffer(r.int(64) + 1));
    if (p !== undefined) add(p);
    void a;
  }],
  [14, () => {
    const p = anyPointerLike();
    let t: ffi.CType = r.int(5) === 0 ? r.pick(STRUCTS) : r.pick(TYPES);
    // Reading a `char*` follows whatever address the bytes hold, unchecked as in C: only through a
    // first-page pointer, where it must be refused. A struct with a string field likewise.
    if ((DEREF.has(t as string) || t === S) && !isFirstPage(p)) {
      t = "u8";
    }
    const off = r.int(3) === 0 ? hostileNumber() : r.int(48);
    if (TRACE) console.error("read", tag(p), off);
    const v = attempt(
      "read",
      () =>
        r.int(2) === 0 || !(p instanceof ffi.RawPointer)
          ? ffi.read(p as ffi.RawPointer, off, t)
          : p.read(off, t),
    );
    if (dead.has(p) && v !== undefined && t !== "void") fail(`read of dead memory returned ${String(v)}`);
  }],
  [14, () => {
    const p = anyPointerLike();
    const t = r.int(5) === 0 ? r.pick(STRUCTS) : r.pick(TYPES);
    const off = r.int(3) === 0 ? hostileNumber() : r.int(48);
    if (TRACE) console.error("write", tag(p), off);
    attempt(
      "write",
      () => ffi.write(p as ffi.RawPointer, off, t, r.int(2) === 0 ? r.int(100) : hostileValue()),
    );
  }],
  [10, () => {
    const p = anyPointerLike();
    const count = r.int(4) === 0 ? hostileNumber() : r.int(3) === 0 ? undefined : r.int(16);
    let t: ffi.CType = r.int(5) === 0 ? r.pick(STRUCTS) : r.pick(TYPES);
    // Elements that are `char*` are followed unchecked (see DEREF): only from the first page.
    if ((DEREF.has(t as string) || t === S) && !isFirstPage(p)) t = "u16";
    const tp = attempt("cast", () => ffi.cast(p as ffi.RawPointer, t, count as number)) as unknown;
    if (tp !== undefined) add(tp, typeof p === "object" && p !== null ? deadArena.get(p) : undefined);
  }],
  [14, () => {
    const tp = pickHandle() as ffi.TypedPointer<unknown>;
    if (!(tp instanceof ffi.TypedPointer)) return;
    const i = r.int(3) === 0 ? hostileNumber() : r.int(8);
    if (TRACE) console.error("typed", Deno.inspect(tp), i);
    switch (r.int(6)) {
      case 0: {
        const v = attempt("get", () => tp.get(i));
        if (dead.has(tp) && v !== undefined) fail(`get of dead memory returned ${String(v)}`);
        break;
      }
      case 1:
        attempt("set", () => tp.set(i, hostileValue()));
        break;
      case 2: {
        const v = attempt("index", () => (tp as unknown as Record<number, unknown>)[i]);
        if (dead.has(tp) && v !== undefined) fail(`index of dead memory returned ${String(v)}`);
        break;
      }
      case 3:
        // Index syntax on numeric elements is typed-array assignment: converting the value may
        // throw whatever the value's own conversion throws, as a typed array does.
        try {
          (tp as unknown as Record<number, unknown>)[i] = hostileValue();
        } catch {
          // Numeric elements convert as a typed array does (a BigInt of an array is a SyntaxError
          // there); the others are `set(i, v)`, checked through the `set` case above.
        }
        break;
      case 4:
        // Numeric elements copy as `TypedArray.prototype.set` (converting each value as it does).
        try {
          tp.set(hostileValue() as ArrayLike<unknown>, r.int(4));
        } catch {
          // any error a typed array's set gives
        }
        break;
      default: {
        // Arithmetic on unmanaged memory is unchecked, as in C: keep it on the first page.
        if (!tp.toRaw().isManaged && (typeof i !== "number" || Math.abs(i) > 500)) break;
        const q = attempt("add", () => tp.add(i));
        if (q !== undefined) add(q, deadArena.get(tp as object));
      }
    }
  }],
  [8, () => {
    const p = anyPointerLike();
    const def = r.pick(STRUCTS) as ffi.StructDefinition;
    const v = attempt("view", () => ffi.view(p as ffi.RawPointer, def)) as ffi.LooseStructView | undefined;
    if (v === undefined) return;
    add(v, typeof p === "object" && p !== null ? deadArena.get(p) : undefined);
    for (const name of def.fields()) {
      if (r.int(2) === 0) {
        // A `char*` field is followed unchecked (see DEREF), except from the first page.
        if (TRACE) console.error("field read", name, tag(ffi.toRaw(v)));
        if (name !== "s" || !ffi.toRaw(v).isManaged) attempt("field read", () => v[name]);
      } else {
        const hv = hostileValue();
        if (TRACE) console.error("field", name, "=", typeof hv);
        attempt("field write", () => (v[name] = hv));
      }
    }
    if (def !== S || !ffi.toRaw(v).isManaged) attempt("inspect", () => Deno.inspect(v));
  }],
  [5, () => {
    const d = r.int(4) === 0 ? new Uint8Array(r.int(32)) : anyPointerLike();
    const s = r.int(4) === 0 ? new ArrayBuffer(r.int(32)) : anyPointerLike();
    const n = r.int(3) === 0 ? hostileNumber() : r.int(40);
    if (r.int(2) === 0) attempt("copy", () => ffi.copy(d as ffi.RawPointer, s as ffi.RawPointer, n));
    else attempt("fill", () => ffi.fill(d as ffi.RawPointer, n, r.int(300) - 20));
  }],
  [3, () => {
    // Detach the buffer behind a typed pointer, as standard JS can.
    const tp = pickHandle();
    if (!(tp instanceof ffi.TypedPointer) || !ArrayBuffer.isView(tp)) return;
    const buf = (tp as unknown as Uint8Array).buffer as ArrayBuffer;
    attempt("detach", () => {
      if (buf.detached) return;
      const a = deadArena.get(tp);
      if (r.int(2) === 0) buf.transfer(r.int(2) === 0 ? 0 : undefined);
      else structuredClone(buf, { transfer: [buf] });
      // Everything in that chunk is dead now; the fuzzer cannot tell which handles share it, so
      // only this one is checked.
      dead.add(tp);
      void a;
    });
  }],
  [2, () => {
    const a = r.pick(arenas);
    if (r.int(5) === 0) {
      attempt("dispose", () => a[Symbol.dispose]());
      arenas = arenas.map((x) => (x === a ? ffi.arena() : x));
    } else attempt("reset", () => a.reset());
    killArena(a);
  }],
  [1, () => {
    // A callback that resets an arena while C is sorting its memory.
    const a = r.pick(arenas);
    const p = attempt("alloc for qsort", () => a.allocArray("i32", 16)) as ffi.RawPointer | undefined;
    if (p === undefined) return;
    let calls = 0;
    const cb = ffi.callback(
      (x: ffi.RawPointer, y: ffi.RawPointer) => {
        if (calls++ === 3) a.reset();
        return (x.read(0, "i32") as number) - (y.read(0, "i32") as number);
      },
      "i32",
      ["pointer", "pointer"],
    );
    attempt(
      "qsort",
      () => libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], p, 16, 4, cb),
    );
    cb.close();
    killArena(a);
  }],
  [3, () => {
    const p = ffi.ptr(r.int(4096));
    switch (r.int(5)) {
      case 0:
        attempt("first page read", () => p.read(r.int(64), r.pick(TYPES)));
        break;
      case 1:
        attempt("first page string", () => p.readString());
        break;
      case 2:
        attempt("first page typed", () => ffi.cast(p, "i32", r.int(8) + 1).get(r.int(8)));
        break;
      case 3:
        attempt("first page view", () => ffi.view(p, S).x);
        break;
      default:
        attempt("first page typed add", () => ffi.cast(ffi.ptr(0), "i32").add(r.int(1000)).get(0));
    }
  }],
  [2, () => {
    attempt("huge struct", () => ffi.struct([["a", "u8", hostileNumber()]]));
    attempt("huge cast", () => ffi.cast(permanent, "u64", hostileNumber()).count);
    attempt("offset", () => ffi.ptr(4096).offset(hostileNumber()).offset(hostileNumber()).addr);
  }],
];
const total = ops.reduce((s, [w]) => s + w, 0);

let opIndex = 0;
for (; opIndex < OPS; opIndex++) {
  let x = r.int(total);
  if (TRACE) {
    console.error("op", opIndex);
    (globalThis as { gc?: () => void }).gc?.();
  }
  for (const [w, op] of ops) {
    if ((x -= w) < 0) {
      if (TRACE) console.error("kind", ops.findIndex(([, o]) => o === op));
      op();
      break;
    }
  }
}
console.log(`ok ${OPS} ${threw}`);
