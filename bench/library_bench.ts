// Calls into C: Library.fn / Library.call / ffi.fn against the same functions bound with raw
// Deno.dlopen, each timed iteration making N = 1000 calls (a Deno.bench iteration alone costs ~4 ns,
// which would hide the gap of a 5 ns call). Groups (targets in brackets):
//   add i32                lib.fn add(i32, i32), errno captured, vs raw Deno          [<= 1.1x]
//   7 x i32 + 2 x f64      lib.fn vs raw Deno with the same signature                 [<= 1.5x]
//   through a pointer      ffi.fn(getSymbol(...)) vs lib.fn of the same function      [<= 3x]
//   vec2_dot by value      two structs of two doubles vs lib.fn add(i32, i32)         [<= 6x]
//   lib.call, 1000 sigs    lib.call cycling over 1000 distinct signatures vs the same
//                          calls bound by raw Deno.dlopen                             [<= 2x]
// Each target group also has a "from an array" regime: the function read from an array into a local.
import * as ffi from "../mod.ts";

const FIXTURE = decodeURIComponent(
  new URL("../target/release/liblune_ffi_fixture.so", import.meta.url).pathname,
);
const N = 1000;

const I7F2 = ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "f64", "f64"] as const;
const raw = Deno.dlopen(FIXTURE, {
  fx_add_i32: { parameters: ["i32", "i32"], result: "i32" },
  fx_add_f64: { parameters: ["f64", "f64"], result: "f64" },
  fx_strlen: { parameters: ["buffer"], result: "usize" },
  fx_sum_7_i32_2_f64: { parameters: [...I7F2], result: "f64" },
  fx_vec2_dot: {
    parameters: [{ struct: ["f64", "f64"] }, { struct: ["f64", "f64"] }],
    result: "f64",
  },
}).symbols;
const lib = ffi.load(FIXTURE);
const add = lib.fn("fx_add_i32", "i32", ["i32", "i32"]);
const addF64 = lib.fn("fx_add_f64", "f64", ["f64", "f64"]);

// ---- add(i32, i32): lib.fn (which saves errno after every call) vs raw Deno -------------------------
let acc = 0;
Deno.bench("raw Deno.dlopen add(i32, i32) x1000", { group: "add i32", baseline: true }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = raw.fx_add_i32(a & 0xffff, 1);
  acc = a;
});
Deno.bench("lib.fn add(i32, i32) x1000 (errno captured)", { group: "add i32" }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = add(a & 0xffff, 1) as number;
  acc = a;
});
Deno.bench("lib.call add(i32, i32) x1000", { group: "add i32" }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = lib.call("fx_add_i32", "i32", ["i32", "i32"], a & 0xffff, 1) as number;
  acc = a;
});

let f = 0;
Deno.bench("raw Deno.dlopen add(f64, f64) x1000", { group: "add f64", baseline: true }, () => {
  let x = f;
  for (let i = 0; i < N; i++) x = raw.fx_add_f64(x, 0.5);
  f = x % 1e6;
});
Deno.bench("lib.fn add(f64, f64) x1000 (sets al for variadics)", { group: "add f64" }, () => {
  let x = f;
  for (let i = 0; i < N; i++) x = addF64(x, 0.5) as number;
  f = x % 1e6;
});

// ---- 7 x i32 + 2 x f64 ---------------------------------------------------------------------------
const sum9 = lib.fn("fx_sum_7_i32_2_f64", "f64", [...I7F2]);
const rawSum9s = [raw.fx_sum_7_i32_2_f64];
const sum9s = [sum9];
Deno.bench("raw Deno.dlopen 7 x i32 + 2 x f64 x1000", { group: "7 x i32 + 2 x f64", baseline: true }, () => {
  let x = 0;
  for (let i = 0; i < N; i++) x += raw.fx_sum_7_i32_2_f64(i, 2, 3, 4, 5, 6, 7, 0.5, x & 0xff);
  f = x;
});
Deno.bench("lib.fn 7 x i32 + 2 x f64 x1000", { group: "7 x i32 + 2 x f64" }, () => {
  let x = 0;
  for (let i = 0; i < N; i++) x += sum9(i, 2, 3, 4, 5, 6, 7, 0.5, x & 0xff) as number;
  f = x;
});
Deno.bench("raw Deno 7 x i32 + 2 x f64, from an array x1000", {
  group: "7 x i32 + 2 x f64 (array)",
  baseline: true,
}, () => {
  let x = 0;
  const g = rawSum9s[x & 0];
  for (let i = 0; i < N; i++) x += g(i, 2, 3, 4, 5, 6, 7, 0.5, x & 0xff);
  f = x;
});
Deno.bench("lib.fn 7 x i32 + 2 x f64, from an array x1000", { group: "7 x i32 + 2 x f64 (array)" }, () => {
  let x = 0;
  const g = sum9s[x & 0];
  for (let i = 0; i < N; i++) x += g(i, 2, 3, 4, 5, 6, 7, 0.5, x & 0xff) as number;
  f = x;
});

// ---- through a function pointer ------------------------------------------------------------------
const addByPtr = ffi.fn(lib.getSymbol("fx_add_i32")!, "i32", ["i32", "i32"]);
const ops = ffi.view(lib.call("fx_ops", "pointer", []) as ffi.RawPointer, ffi.struct([["add", "pointer"]]));
const addFromTable = ffi.fn(ops.add as ffi.RawPointer, "i32", ["i32", "i32"]);
const unsafeFn = new Deno.UnsafeFnPointer(
  lib.getSymbol("fx_add_i32")!.toLightUserData()! as Deno.PointerObject<
    { parameters: ["i32", "i32"]; result: "i32" }
  >,
  { parameters: ["i32", "i32"], result: "i32" },
);
Deno.bench("lib.fn add(i32, i32) x1000", { group: "through a pointer", baseline: true }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = add(a & 0xffff, 1) as number;
  acc = a;
});
Deno.bench("ffi.fn(getSymbol) add(i32, i32) x1000", { group: "through a pointer" }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = addByPtr(a & 0xffff, 1) as number;
  acc = a;
});
Deno.bench("ffi.fn(pointer read from a C table) add x1000", { group: "through a pointer" }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = addFromTable(a & 0xffff, 1) as number;
  acc = a;
});
Deno.bench("Deno.UnsafeFnPointer add(i32, i32) x1000", { group: "through a pointer" }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = unsafeFn.call(a & 0xffff, 1);
  acc = a;
});

// ---- structs by value ----------------------------------------------------------------------------
const Vec2 = ffi.struct([["x", "f64"], ["y", "f64"]]);
const dot = lib.fn("fx_vec2_dot", "f64", [Vec2, Vec2]);
const dots = [dot];
const adds = [add];
const va = { x: 1, y: 2 };
const vb = { x: 3, y: 4 };
const rawA = new Float64Array([1, 2]);
const rawB = new Float64Array([3, 4]);
Deno.bench("lib.fn add(i32, i32) x1000", { group: "vec2_dot by value", baseline: true }, () => {
  let a = acc;
  for (let i = 0; i < N; i++) a = add(a & 0xffff, 1) as number;
  acc = a;
});
Deno.bench("lib.fn vec2_dot(vec2, vec2) x1000 (plain objects)", { group: "vec2_dot by value" }, () => {
  let x = 0;
  for (let i = 0; i < N; i++) x += dot(va, vb) as number;
  f = x;
});
Deno.bench("raw Deno vec2_dot(vec2, vec2) x1000 (Float64Arrays)", { group: "vec2_dot by value" }, () => {
  let x = 0;
  for (let i = 0; i < N; i++) x += raw.fx_vec2_dot(rawA, rawB);
  f = x;
});
Deno.bench("lib.fn add(i32, i32), from an array x1000", {
  group: "vec2_dot by value (array)",
  baseline: true,
}, () => {
  let a = acc;
  const g = adds[a & 0];
  for (let i = 0; i < N; i++) a = g(a & 0xffff, 1) as number;
  acc = a;
});
Deno.bench("lib.fn vec2_dot, from an array x1000", { group: "vec2_dot by value (array)" }, () => {
  let x = 0;
  const g = dots[x & 0];
  for (let i = 0; i < N; i++) x += g(va, vb) as number;
  f = x;
});

// ---- lib.call cycling over 1000 distinct signatures ----------------------------------------------
// fx_add_i32 called with two i32 then five more arguments of the types given by the digits of k in
// base 4: 1024 distinct signatures (the extra arguments are ignored by the callee, as C allows).
const KINDS = ["i32", "f64", "i64", "pointer"] as const;
const VALUES = [7, 0.5, 9n, null];
const SIGS = 1000;
const sigTypes: ffi.CType[][] = [];
const sigArgs: unknown[][] = [];
const rawDefs: Record<string, Deno.ForeignFunction> = {};
for (let k = 0; k < SIGS; k++) {
  const types: ffi.CType[] = ["i32", "i32"];
  const args: unknown[] = [1, 2];
  for (let d = 0, r = k; d < 5; d++, r >>= 2) {
    types.push(KINDS[r & 3]);
    args.push(VALUES[r & 3]);
  }
  sigTypes.push(types);
  sigArgs.push(args);
  rawDefs[`s${k}`] = { name: "fx_add_i32", parameters: types as Deno.NativeType[], result: "i32" };
}
const rawCycle = Deno.dlopen(FIXTURE, rawDefs).symbols as Record<string, (...a: unknown[]) => number>;
const rawNames = Array.from({ length: SIGS }, (_, k) => `s${k}`);
// Bound on the first call; both sides then warmed up alike, so the steady state is what is compared.
// (Done when this group first runs, not at load: cycling makes the call sites inside lib.call
// megamorphic, which would slow the earlier groups' repeated lib.call of one signature.)
let warmed = false;
function warmUp(): void {
  if (warmed) return;
  warmed = true;
  for (let round = 0; round < 200; round++) {
    for (let k = 0; k < SIGS; k++) {
      lib.call("fx_add_i32", "i32", sigTypes[k], ...sigArgs[k]);
      rawCycle[`s${k}`](...sigArgs[k]);
    }
  }
}
let cyc = 0;
Deno.bench("raw Deno.dlopen, 1000 signatures cycled x1000", {
  group: "lib.call, 1000 signatures",
  baseline: true,
}, () => {
  warmUp();
  let s = 0;
  for (let i = 0; i < N; i++) {
    const k = (cyc + i) % SIGS;
    s += rawCycle[rawNames[k]](...sigArgs[k]);
  }
  cyc = (cyc + 7) % SIGS;
  acc = s;
});
Deno.bench("lib.call, 1000 signatures cycled x1000", { group: "lib.call, 1000 signatures" }, () => {
  warmUp();
  let s = 0;
  for (let i = 0; i < N; i++) {
    const k = (cyc + i) % SIGS;
    s += lib.call("fx_add_i32", "i32", sigTypes[k], ...sigArgs[k]) as number;
  }
  cyc = (cyc + 7) % SIGS;
  acc = s;
});

// ---- strings -------------------------------------------------------------------------------------
const bytes = new TextEncoder().encode("hello, world\0");
const strlen = lib.fn("fx_strlen", "usize", ["string"]);
let n = 0n;
Deno.bench("raw Deno.dlopen strlen(pre-encoded buffer) x1000", { group: "strlen", baseline: true }, () => {
  for (let i = 0; i < N; i++) n += raw.fx_strlen(bytes) as bigint;
});
Deno.bench("lib.fn strlen(JS string) x1000", { group: "strlen" }, () => {
  for (let i = 0; i < N; i++) n += strlen("hello, world") as bigint;
});
