// Library.call and Library.fn against the same symbol bound with raw Deno.dlopen.
// Targets: call ≤ 3x, fn ≤ 1.2x the raw call.
import * as ffi from "../mod.ts";

const FIXTURE = decodeURIComponent(
  new URL("../target/release/liblune_ffi_fixture.so", import.meta.url).pathname,
);

const raw = Deno.dlopen(FIXTURE, {
  fx_add_i32: { parameters: ["i32", "i32"], result: "i32" },
  fx_add_f64: { parameters: ["f64", "f64"], result: "f64" },
  fx_strlen: { parameters: ["buffer"], result: "usize" },
}).symbols;
const lib = ffi.load(FIXTURE);
const add = lib.fn("fx_add_i32", "i32", ["i32", "i32"]);
const addF64 = lib.fn("fx_add_f64", "f64", ["f64", "f64"]);

let acc = 0;
Deno.bench("raw Deno.dlopen add(i32, i32)", { group: "add i32", baseline: true }, () => {
  acc = raw.fx_add_i32(acc & 0xffff, 1);
});
Deno.bench("lib.fn add(i32, i32)", { group: "add i32" }, () => {
  acc = add(acc & 0xffff, 1) as number;
});
Deno.bench("lib.call add(i32, i32)", { group: "add i32" }, () => {
  acc = lib.call("fx_add_i32", "i32", ["i32", "i32"], acc & 0xffff, 1) as number;
});

let f = 0;
Deno.bench("raw Deno.dlopen add(f64, f64)", { group: "add f64", baseline: true }, () => {
  f = raw.fx_add_f64(f, 0.5);
});
Deno.bench("lib.fn add(f64, f64) (sets al for variadics)", { group: "add f64" }, () => {
  f = addF64(f, 0.5) as number;
});
Deno.bench("lib.call add(f64, f64)", { group: "add f64" }, () => {
  f = lib.call("fx_add_f64", "f64", ["f64", "f64"], f, 0.5) as number;
});

const bytes = new TextEncoder().encode("hello, world\0");
const strlen = lib.fn("fx_strlen", "usize", ["string"]);
let n = 0n;
Deno.bench("raw Deno.dlopen strlen(pre-encoded buffer)", { group: "strlen", baseline: true }, () => {
  n += raw.fx_strlen(bytes) as bigint;
});
Deno.bench("raw Deno.dlopen strlen(encode per call)", { group: "strlen" }, () => {
  n += raw.fx_strlen(new TextEncoder().encode("hello, world\0")) as bigint;
});
Deno.bench("lib.fn strlen(JS string)", { group: "strlen" }, () => {
  n += strlen("hello, world") as bigint;
});
