/**
 * Edges found by adversarial testing (issue 9): each scenario runs in a child process, where a crash
 * (a signal, a V8 fatal abort) is the failure, and prints what the managed API answered.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

async function run(body: string): Promise<string> {
  const code = `import * as ffi from ${JSON.stringify(MOD)};\nconst out = [];\n` +
    `const t = (f) => { try { const r = f(); out.push("ok " + String(typeof r === "bigint" ? r + "n" : r)); } ` +
    `catch (e) { out.push(e?.name + ": " + e?.message); } };\n${body}\nconsole.log(JSON.stringify(out));`;
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=js", code],
    env: { DENO_NO_PACKAGE_JSON: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, `child crashed (code ${r.code}, signal ${r.signal}): ${stderr}`);
  return new TextDecoder().decode(r.stdout).trim();
}

function results(s: string): string[] {
  return JSON.parse(s.split("\n").at(-1)!);
}

Deno.test("a typed pointer's detached buffer kills its memory for every access, never crashes", async () => {
  const out = results(
    await run(`
    const arena = ffi.arena();
    const p = arena.alloc(64);
    const u8 = ffi.cast(p, "u8");
    u8.buffer.transfer(0);
    t(() => ffi.fill(p, 64, 0x41));
    t(() => ffi.copy(p, arena.alloc(8), 8));
    t(() => p.read(0, "i32"));
    t(() => p.write(0, "i32", 1));
    t(() => u8.get(0));
    t(() => p.toLightUserData());
    t(() => arena.reset());
    const q = arena.alloc(8); q.write(0, "i32", 7); t(() => q.read(0, "i32"));
  `),
  );
  for (const line of out.slice(0, 6)) assert.match(line, /^FfiError: .*detached/);
  assert.deepEqual(out.slice(6), ["ok undefined", "ok 7"]);
});

Deno.test("the first page (0 to 4095) is refused on every access path", async () => {
  const out = results(
    await run(`
    t(() => ffi.cast(ffi.ptr(0), "i32").add(1).get(0));
    t(() => ffi.cast(ffi.ptr(8), "i32", 4).get(0));
    t(() => ffi.cast(ffi.ptr(8), "i32", 4)[0]);
    const S = ffi.struct([["s", "string"], ["x", "i32"]]);
    t(() => ffi.view(ffi.ptr(8), S).x);
    t(() => ffi.ptr(4095).read(0, "u8"));
    const arena = ffi.arena();
    const m = arena.allocType(S); m.write(0, "pointer", ffi.ptr(16));
    t(() => ffi.view(m, S).s);
    t(() => Deno.inspect(ffi.view(m, S)).length > 0);
  `),
  );
  assert.match(out[0], /^FfiError: .*null pointer/);
  assert.match(out[1], /^FfiError: .*null pointer/);
  assert.equal(out[2], "ok undefined");
  assert.match(out[3], /^FfiError: .*null pointer/);
  assert.match(out[4], /^FfiError: .*null pointer/);
  assert.match(out[5], /^FfiError: .*null pointer/);
});

Deno.test("sizes JS cannot hold are RangeErrors, offsets past 2^53 are refused", async () => {
  const out = results(
    await run(`
    t(() => ffi.struct([["a", "u8", 2 ** 52]]));
    t(() => ffi.struct([["a", "u8", 1e300]]));
    t(() => ffi.cast(ffi.ptr(4096), "u64", 2 ** 52).count);
    t(() => ffi.ptr(4096).offset(2 ** 53));
    t(() => ffi.arena().alloc(2 ** 60));
    t(() => ffi.ptr(2n ** 64n - 1n).offset(1).addr);
  `),
  );
  assert.match(out[0], /^RangeError/);
  assert.match(out[1], /^RangeError/);
  assert.ok(/^RangeError/.test(out[2]) || out[2] === "ok 4503599627370496", out[2]);
  assert.match(out[3], /^RangeError: .*not a safe integer/);
  assert.match(out[4], /^RangeError/);
  assert.equal(out[5], "ok 0");
});

Deno.test("error messages format any value without throwing, and name the function and parameter", async () => {
  const out = results(
    await run(`
    const arena = ffi.arena();
    const S = ffi.struct([["x", "i32"]]);
    const v = ffi.view(arena.allocType(S), S);
    const evil = { toString() { throw new Error("boom"); } };
    t(() => ffi.cast(v, "u8").set(0, evil));
    t(() => ffi.read(Object.create(null), 0, "i32"));
    t(() => ffi.view(v, v));
    t(() => ffi.cast(evil, "i32"));
    t(() => ffi.cast(arena.alloc(4), "u8").set(0, new Uint8Array(216792)));
    t(() => ffi.write(arena.alloc(8), 0, "pointer", { [ffi.kToRaw]() { return { addr: 1234 }; } }));
  `),
  );
  for (const line of out) {
    assert.doesNotMatch(line, /boom|Cannot convert object to primitive/);
    assert.ok(line.length < 400, line);
  }
  assert.match(out[2], /ffi\.view\(\).*def.*StructView/);
  assert.match(out[3], /ffi\.cast\(\).*ptr/);
  assert.match(out[5], /^TypeError: .*not a RawPointer/);
});

Deno.test("deep nesting: a struct's description does not spell out every nested field", () => {
  // 22 levels once took 315 MB and 24 threw "Invalid string length".
  let def: ffi.StructDefinition = ffi.struct([["a", "i32"], ["b", "i32"]]);
  for (let i = 0; i < 26; i++) def = ffi.struct([["l", def], ["r", def]]);
  assert.ok(ffi.sizeof(def) > 0);
  assert.ok(Deno.inspect(def).length < 400);
});

Deno.test("a detached or empty JS buffer passed as a pointer is a TypeError, never NULL for C", async () => {
  using libc = ffi.load("libc.so.6");
  const memset = libc.fn("memset", "pointer", ["pointer", "i32", "usize"]);
  const nonblocking = libc.fn("memset", "pointer", ["pointer", "i32", "usize"], { nonblocking: true });
  const detached = new Uint8Array(8);
  detached.buffer.transfer(0);
  for (const x of [detached, new Uint8Array(0), new ArrayBuffer(0)]) {
    assert.throws(() => memset(x as never, 0, 0), TypeError);
    assert.throws(() => libc.call("memset", "pointer", ["pointer", "i32", "usize"], x, 0, 0), TypeError);
    await assert.rejects(async () => await nonblocking(x as never, 0, 0), TypeError);
  }
  // Holes are refused rather than written as 0 or turned into code.
  // deno-lint-ignore no-sparse-arrays
  assert.throws(() => ffi.buffer(4).writeBytes(0, [1, , 3] as never), TypeError);
  // deno-lint-ignore no-sparse-arrays
  assert.throws(() => libc.call("abs", "i32", ["i32", , "i32"] as never, 1), TypeError);
  // deno-lint-ignore no-sparse-arrays
  assert.throws(() => ffi.struct([["a", "i32"], , ["b", "i32"]] as never), TypeError);
});
