/**
 * Struct field access against a DataView over the same memory (the baseline).
 * Each iteration does N accesses so that the harness's per-call overhead does not hide the ratio.
 */
import * as ffi from "../mod.ts";
import { regimes } from "./_regimes.ts";

const N = 1000;
const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["id", "i64"], ["name", "u8", 32]]);
const arena = ffi.arena();
const raw = arena.allocType(Player);
const player = ffi.view(raw, Player);
const rawBytes = ffi.cast(raw, "u8", Player.size) as unknown as Uint8Array;
const dv = new DataView(rawBytes.buffer, rawBytes.byteOffset, Player.size);
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

// Field reads and writes in the three regimes of `_regimes.ts`, against a DataView over the same
// bytes (through a `u8` cast: the arena's own buffer).
{
  const views = Array.from({ length: 8 }, () => ffi.view(arena.allocType(Player), Player));
  const dvs = views.map((v) => {
    const u8 = ffi.cast(ffi.toRaw(v), "u8", Player.size) as unknown as Uint8Array;
    return new DataView(u8.buffer, u8.byteOffset, Player.size);
  });
  regimes(
    "field read i32",
    { name: "DataView#getInt32", body: `s += x.getInt32(${HEALTH}, true);`, subjects: dvs },
    { name: "view.health", body: `s += x.health;`, subjects: views },
  );
  regimes(
    "field write i32",
    { name: "DataView#setInt32", body: `x.setInt32(${HEALTH}, i, true);`, subjects: dvs },
    { name: "view.health = v", body: `x.health = i;`, subjects: views },
  );
  regimes(
    "field write f32",
    { name: "DataView#setFloat32", body: `x.setFloat32(${X}, i, true);`, subjects: dvs },
    { name: "view.x = v", body: `x.x = i;`, subjects: views },
  );
}
