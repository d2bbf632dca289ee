/**
 * TypedPointer access against an Int32Array over the same memory (the baseline).
 * Each iteration does N accesses so that the harness's per-call overhead does not hide the ratio.
 */
import * as ffi from "../mod.ts";
import { regimes } from "./_regimes.ts";

const N = 1024;
const arena = ffi.arena();
const raw = arena.allocArray("i32", N);
const ints = ffi.cast(raw, "i32");
const base = (ints as unknown as Int32Array).subarray(0);
// The fallback shapes, for reference: unmanaged memory of unknown count, and bool elements.
const loose = ffi.cast(ffi.ptr(raw.addr), "i32");
const bools = ffi.cast(arena.alloc(N), "bool");
let sink = 0;

Deno.bench("Int32Array[i]", { group: "read", baseline: true }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += base[i];
  sink += s;
});
Deno.bench("p.get(i)", { group: "read" }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += ints.get(i);
  sink += s;
});
Deno.bench("p[i]", { group: "read" }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += ints[i];
  sink += s;
});

Deno.bench("Int32Array[i] = v", { group: "write", baseline: true }, () => {
  for (let i = 0; i < N; i++) base[i] = i;
});
Deno.bench("p.set(i, v)", { group: "write" }, () => {
  for (let i = 0; i < N; i++) ints.set(i, i);
});
Deno.bench("p[i] = v", { group: "write" }, () => {
  for (let i = 0; i < N; i++) ints[i] = i;
});

Deno.bench("Int32Array[i]", { group: "fallback read", baseline: true }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += base[i];
  sink += s;
});
Deno.bench("unknown count p[i] (Proxy + native read)", { group: "fallback read" }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += loose[i];
  sink += s;
});
Deno.bench("bool p.get(i)", { group: "fallback read" }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += bools.get(i) ? 1 : 0;
  sink += s;
});

Deno.bench("sink", { group: "zz" }, () => {
  if (sink === -1) console.log(sink);
});

// get/set in the three regimes of `_regimes.ts`, against an Int32Array over the same memory.
{
  const tps = Array.from({ length: 8 }, () => ffi.cast(arena.allocArray("i32", N), "i32"));
  const arrays = tps.map((p) => (p as unknown as Int32Array).subarray(0));
  regimes(
    "get i32",
    { name: "Int32Array[i]", body: `s += x[i & ${N - 1}];`, subjects: arrays },
    { name: "p.get(i)", body: `s += x.get(i & ${N - 1});`, subjects: tps },
    { name: "p[i]", body: `s += x[i & ${N - 1}];`, subjects: tps },
  );
  regimes(
    "set i32",
    { name: "Int32Array[i] = v", body: `x[i & ${N - 1}] = i;`, subjects: arrays },
    { name: "p.set(i, v)", body: `x.set(i & ${N - 1}, i);`, subjects: tps },
    { name: "p[i] = v", body: `x[i & ${N - 1}] = i;`, subjects: tps },
  );
}
