/**
 * The demo (`npm run demo`) is the seed's Quick Start for real: it must run and print what the seed
 * says it prints.
 */

import assert from "node:assert/strict";

Deno.test("examples/quick_start.ts prints 42 and its own PID", async () => {
  const script = new URL("../examples/quick_start.ts", import.meta.url);
  const config = new URL("../deno.json", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--config", config.pathname, script.pathname],
    env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = stdout.trim().split("\n");
  assert.equal(lines[0], "42");
  assert.equal(lines[1], `PID: ${child.pid}`);
});
