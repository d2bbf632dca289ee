// Every bad input to the public API is a clear error (issue 9): the matrix of `_bad_inputs.ts` (every
// public function, each parameter, every class of bad value) runs in a child process, where a crash
// is the failure, and must report no case whose error has the wrong class or whose message does not
// name the function, the parameter and the value.
import assert from "node:assert/strict";

/** Cases known to fall short, and why (none today). */
const KNOWN: ReadonlySet<string> = new Set<string>([]);

Deno.test("bad inputs: every public function and parameter, every bad value class", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-env",
      new URL("./_bad_inputs.ts", import.meta.url).pathname,
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `the matrix crashed (code ${out.code}, signal ${out.signal}): ${stderr}`);
  const { cases, failures } = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    cases: number;
    failures: { fn: string; param: string; value: string; problem: string }[];
  };
  assert.ok(cases > 3000, `only ${cases} cases ran`);
  const unexpected = failures.filter((f) => !KNOWN.has(`${f.fn} ${f.param} <- ${f.value}`));
  assert.deepEqual(
    unexpected.map((f) => `${f.fn} ${f.param} <- ${f.value}: ${f.problem}`),
    [],
    `${unexpected.length} of ${cases} cases fall short`,
  );
});
