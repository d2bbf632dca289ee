/**
 * Struct field access against a DataView over the same memory (the baseline).
 * Each iteration does N accesses so that the harness's per-call overhead does not hide the ratio.
 */
import * as ffi from "../mod.ts";

const N = 1000;
const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["id", "i64"], ["name", "u8", 32]]);
const arena = ffi.arena();
const raw = arena.allocType(Player);
const player = ffi.view(raw, Player);
const dv = new DataView(Deno.UnsafePointerView.getArrayBuffer(raw.toLightUserData()!, Player.size));
const HEALTH = Player.offsetOf("health");
const X = Player.offsetOf("x");
let sink = 0;

Deno.bench("DataView.getInt32", { group: "field read i32", baseline: true }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += dv.getInt32(HEALTH, true);
  sink += s;
});
Deno.bench("view.health", { group: "field read i32" }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += player.health;
  sink += s;
});

Deno.bench("DataView.setInt32", { group: "field write i32", baseline: true }, () => {
  for (let i = 0; i < N; i++) dv.setInt32(HEALTH, i, true);
});
Deno.bench("view.health = v", { group: "field write i32" }, () => {
  for (let i = 0; i < N; i++) player.health = i;
});

Deno.bench("DataView.getFloat32", { group: "field read f32", baseline: true }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += dv.getFloat32(X, true);
  sink += s;
});
Deno.bench("view.x", { group: "field read f32" }, () => {
  let s = 0;
  for (let i = 0; i < N; i++) s += player.x;
  sink += s;
});

Deno.bench("DataView.setFloat32", { group: "field write f32", baseline: true }, () => {
  for (let i = 0; i < N; i++) dv.setFloat32(X, i * 0.5, true);
});
Deno.bench("view.x = v", { group: "field write f32" }, () => {
  for (let i = 0; i < N; i++) player.x = i * 0.5;
});

Deno.bench("DataView.getUint8 + new view", { group: "view creation", baseline: true }, () => {
  for (let i = 0; i < N; i++) sink += new DataView(dv.buffer, 0, 8).getUint8(0);
});
Deno.bench("ffi.view(raw, Player)", { group: "view creation" }, () => {
  for (let i = 0; i < N; i++) sink += ffi.view(raw, Player).health;
});

Deno.bench("sink", { group: "zz" }, () => {
  if (sink === -1) console.log(sink);
});
