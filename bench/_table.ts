/**
 * Summarises a `deno bench --json` run of the regime benches (`_regimes.ts`): for each operation,
 * its time relative to the group's baseline in each regime, and the worst of them (what the README
 * shows). Usage: `deno bench -A --json --filter "/\\[/" bench/memory_bench.ts ... > out.json`, then
 * `deno run --allow-read bench/_table.ts out.json`.
 *
 * @module
 */

interface Bench {
  name: string;
  group: string | null;
  baseline: boolean;
  results: { ok?: { avg: number } }[];
}

const data = JSON.parse(Deno.readTextFileSync(Deno.args[0])) as { benches: Bench[] };
const byGroup = new Map<string, Bench[]>();
for (const b of data.benches) {
  if (b.group === null) continue;
  byGroup.set(b.group, [...(byGroup.get(b.group) ?? []), b]);
}
/** operation name (without the regime) → regime → ratio */
const rows = new Map<string, Map<string, number>>();
for (const [group, benches] of byGroup) {
  const m = /^(.*) \((.*)\)$/.exec(group);
  if (m === null) continue;
  const base = benches.find((b) => b.baseline);
  const baseAvg = base?.results[0]?.ok?.avg;
  if (base === undefined || baseAvg === undefined) continue;
  for (const b of benches) {
    if (b === base) continue;
    const avg = b.results[0]?.ok?.avg;
    if (avg === undefined) continue;
    const key = `${b.name.replace(/ \[.*\]$/, "")} vs ${base.name.replace(/ \[.*\]$/, "")}`;
    const r = rows.get(key) ?? new Map<string, number>();
    r.set(m[2], avg / baseAvg);
    rows.set(key, r);
  }
}
for (const [key, r] of rows) {
  const worst = Math.max(...r.values());
  const parts = [...r].map(([regime, x]) => `${regime} ${x.toFixed(2)}x`).join(", ");
  console.log(`${key}: worst ${worst.toFixed(2)}x (${parts})`);
}
