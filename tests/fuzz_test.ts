/**
 * The adversarial fuzzer of the managed API (`tests/_fuzz.ts`), run in child processes so that a
 * crash is a failure rather than the end of the test run. Seeded, so every run is the same.
 *
 * CI runs 4 seeds × 100,000 operations (a few seconds each). `LUNE_FFI_FUZZ_OPS` sets the operations
 * per seed and `LUNE_FFI_FUZZ_SEEDS` the number of seeds, for long runs:
 * `LUNE_FFI_FUZZ_OPS=2000000 LUNE_FFI_FUZZ_SEEDS=8 deno test -A tests/fuzz_test.ts`.
 */

import assert from "node:assert/strict";

function envInt(name: string, fallback: number): number {
  try {
    const v = Deno.env.get(name);
    return v === undefined ? fallback : Number(v);
  } catch {
    return fallback;
  }
}

const OPS = envInt("LUNE_FFI_FUZZ_OPS", 100_000);
const SEEDS = envInt("LUNE_FFI_FUZZ_SEEDS", 4);
const FUZZER = new URL("./_fuzz.ts", import.meta.url).pathname;

async function fuzz(seed: number): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-read", "--allow-env", FUZZER, String(seed), String(OPS)],
    env: { DENO_NO_PACKAGE_JSON: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(
    out.code,
    0,
    `fuzz seed ${seed} failed (exit ${out.code}, signal ${out.signal}): ${stderr.slice(-2000)}`,
  );
  const m = /^ok (\d+) (\d+)$/m.exec(stdout);
  assert.ok(m, `fuzz seed ${seed}: no summary in ${stdout}`);
  // Both sides exercised: many operations succeeded, many were refused with a clear error.
  const threw = Number(m[2]);
  assert.ok(threw > OPS / 10 && threw < OPS * 0.9, `seed ${seed}: ${threw} of ${OPS} threw`);
}

Deno.test(`fuzz: ${SEEDS} seeds × ${OPS} operations on the managed API, in child processes`, async () => {
  // Two at a time: one per core.
  for (let s = 1; s <= SEEDS; s += 2) {
    await Promise.all([fuzz(s), ...(s + 1 <= SEEDS ? [fuzz(s + 1)] : [])]);
  }
});
