// The public types, checked by the compiler itself: pass.ts (precise types) and api_style.ts (test
// code written the way API.md reads, with no casts) must type-check, and fail.ts must fail with an
// error on exactly the lines it marks `// error`.
import assert from "node:assert/strict";

const dir = new URL("./types_check/", import.meta.url);
const path = (name: string) => decodeURIComponent(new URL(name, dir).pathname);

async function check(file: string, ...flags: string[]): Promise<{ success: boolean; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", ...flags, path(file)],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const td = new TextDecoder();
  return { success, output: td.decode(stdout) + td.decode(stderr) };
}

Deno.test("tests/types_check/pass.ts type-checks (its @ts-expect-error lines do fail)", async () => {
  const { success, output } = await check("pass.ts");
  assert.ok(success, output);
});

Deno.test("tests/types_check/api_style.ts (API.md-style test code, no casts) type-checks", async () => {
  const { success, output } = await check("api_style.ts");
  assert.ok(success, output);
});

Deno.test("tests/types_check/fail.ts fails to type-check on exactly its marked lines", async () => {
  const source = await Deno.readTextFile(path("fail.ts"));
  const marked = source.split("\n").flatMap((line, i) => /\/\/ error:/.test(line) ? [i + 1] : []);
  assert.ok(marked.length >= 10);
  // fail.ts is excluded from the workspace so that whole-tree checks stay clean: check it alone.
  const { success, output } = await check("fail.ts", "--no-config");
  assert.equal(success, false, output);
  const reported = [...output.matchAll(/fail\.ts:(\d+):\d+/g)].map((m) => Number(m[1]));
  assert.deepEqual([...new Set(reported)].sort((a, b) => a - b), marked, output);
  assert.equal(reported.length, marked.length, output);
});
