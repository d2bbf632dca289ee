/**
 * Finding the native library: next to the module whatever the working directory, overridable by
 * LUNE_FFI_NATIVE, and a clear error saying how to build it when it is missing.
 */

import assert from "node:assert/strict";

const modUrl = new URL("../mod.ts", import.meta.url).href;

async function runScript(code: string, env: Record<string, string>, cwd: string) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env: { ...env, DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" },
    cwd,
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("the native library is found next to the module from any working directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runScript(
      `import * as ffi from "${modUrl}"; const a = ffi.arena(); const p = a.alloc(8); ` +
        `ffi.fill(p, 8, 7); console.log(p.read(0, "u8"));`,
      {},
      dir,
    );
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.trim(), "7");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing native library is an error that names the path and says how to build it", async () => {
  const r = await runScript(
    `import * as ffi from "${modUrl}"; ffi.arena().alloc(8);`,
    { LUNE_FFI_NATIVE: "/nonexistent/liblune_ffi.so" },
    Deno.cwd(),
  );
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /\/nonexistent\/liblune_ffi\.so/);
  assert.match(r.stderr, /cargo build --release/);
});
