/**
 * The core is layered (values → chunks → codecs → pointers → typed pointers → structs and views →
 * libraries and callbacks): no module of src/ imports, directly or through others, a module that
 * imports it back. Type-only imports count too.
 */

import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"\.\/([^"]+)"/gms)) out.push(m[1]);
  return out;
}

Deno.test("src/ has no import cycles, type-only imports included", () => {
  const graph = new Map<string, string[]>();
  for (const e of Deno.readDirSync(SRC)) {
    if (e.name.endsWith(".ts")) graph.set(e.name, importsOf(Deno.readTextFileSync(new URL(e.name, SRC))));
  }
  assert.ok(graph.size > 10);
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d].join(" -> "));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  assert.deepEqual(cycles, []);
});
