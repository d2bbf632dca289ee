/**
 * Random C declarations (structs and unions with bitfields, packing, arrays, nested and anonymous
 * members) laid out by ffi.cdef and by the system's C compiler, compared: every sizeof, _Alignof and
 * offsetof, and the bytes of every bitfield written alone into a zeroed object. Skipped if there is no
 * `cc` (the fixture library's build needs one anyway).
 */

import * as ffi from "../mod.ts";
import assert from "node:assert/strict";
import { Lcg } from "./_rng.ts";

const SCALARS: [string, number, boolean][] = [
  ["char", 1, true],
  ["signed char", 1, true],
  ["unsigned char", 1, false],
  ["short", 2, true],
  ["unsigned short", 2, false],
  ["int", 4, true],
  ["unsigned int", 4, false],
  ["long", 8, true],
  ["unsigned long", 8, false],
  ["long long", 8, true],
  ["uint8_t", 1, false],
  ["int16_t", 2, true],
  ["uint32_t", 4, false],
  ["int64_t", 8, true],
  ["_Bool", 1, false],
];
const PLAIN = ["float", "double", "void *", "const char *", "size_t"];

interface Bit {
  readonly struct: string;
  readonly path: string;
  readonly value: bigint;
}

/** Generates `count` declarations; returns the C source and the bitfield writes to compare. */
function generate(
  seed: number,
  count: number,
): { src: string; names: string[]; bits: Bit[]; offsets: [string, string][] } {
  const r = new Lcg(seed);
  const lines: string[] = [];
  const names: string[] = [];
  const bits: Bit[] = [];
  const offsets: [string, string][] = [];
  let uniq = 0;
  const member = (owner: string, depth: number, prefix: string): string => {
    const k = r.int(10);
    const name = `m${uniq++}`;
    if (k < 3) {
      const [t, size, signed] = r.int(6) === 0
        ? r.pick([["enum fz_u", 4, false], ["enum fz_s", 4, true]] as [string, number, boolean][])
        : r.pick(SCALARS);
      const max = t === "_Bool" ? 1 : size * 8;
      const unnamed = r.int(8) === 0;
      const w = unnamed ? r.int(max + 1) : 1 + r.int(max);
      if (unnamed) return `${t} : ${w};`;
      const top = signed ? (1n << BigInt(w - 1)) - 1n : (1n << BigInt(w)) - 1n;
      const v = r.int(3) === 0 && signed ? -1n : top - BigInt(r.int(2));
      if (!depth) bits.push({ struct: owner, path: prefix + name, value: v < 0n && !signed ? 0n : v });
      else bits.push({ struct: owner, path: prefix + name, value: v < 0n && !signed ? 0n : v });
      return `${t} ${name} : ${w};`;
    }
    offsets.push([owner, prefix + name]);
    if (k === 5 && r.int(2) === 0) return `enum ${r.pick(["fz_u", "fz_s"])} ${name};`;
    if (k < 6) return `${r.pick([...SCALARS.map((s) => s[0]), ...PLAIN])} ${name};`;
    if (k < 8) return `${r.pick(SCALARS)[0]} ${name}[${1 + r.int(5)}];`;
    if (depth < 2 && k === 8) {
      // An anonymous struct or union: its members are promoted.
      offsets.pop();
      const kw = r.pick(["struct", "union"]);
      const inner = Array.from({ length: 1 + r.int(3) }, () => member(owner, depth + 1, prefix));
      return `${kw} { ${inner.join(" ")} };`;
    }
    if (names.length > 0) {
      // A nested struct or union, sometimes an array of them.
      return `struct ${r.pick(names)} ${name}${r.int(3) === 0 ? `[${2 + r.int(2)}]` : ""};`;
    }
    return `double ${name};`;
  };
  // Enums: one with only non-negative constants (unsigned for gcc), one with a negative one.
  lines.push("enum fz_u { FZ_U0, FZ_U1, FZ_U7 = 7 };", "enum fz_s { FZ_SN = -3, FZ_S0 = 0, FZ_S5 = 5 };");
  for (let i = 0; i < count; i++) {
    const kw = r.int(5) === 0 ? "union" : "struct";
    const name = `s${seed}_${i}`;
    const packed = r.int(4) === 0;
    const body = Array.from({ length: 1 + r.int(6) }, () => member(name, 0, ""));
    lines.push(`${kw} ${packed ? "__attribute__((packed)) " : ""}${name} { ${body.join(" ")} };`);
    names.push(name);
  }
  // Only unions and structs may be nested: `struct sN` of a union is wrong, so name unions' uses right.
  const src = lines.join("\n").replace(/struct (s\d+_\d+) m/g, (m, n) => {
    const decl = lines.find((l) => l.includes(` ${n} {`))!;
    return decl.startsWith("union") ? `union ${n} m` : m;
  });
  return { src, names, bits, offsets };
}

/** What the C compiler says: `name size align`, `name.field offset`, `name.bitfield hexbytes`. */
async function compile(
  src: string,
  g: ReturnType<typeof generate>,
  kinds: Map<string, string>,
): Promise<Map<string, string> | null> {
  const dir = await Deno.makeTempDir();
  const prog: string[] = [
    "#include <stdio.h>",
    "#include <stddef.h>",
    "#include <stdint.h>",
    "#include <string.h>",
    src,
    "int main(void) {",
  ];
  for (const n of g.names) {
    const k = kinds.get(n)!;
    prog.push(`printf("${n} %zu %zu\\n", sizeof(${k} ${n}), _Alignof(${k} ${n}));`);
  }
  for (const [n, f] of g.offsets) {
    prog.push(`printf("${n}.${f} %zu\\n", offsetof(${kinds.get(n)} ${n}, ${f}));`);
  }
  for (const b of g.bits) {
    const k = kinds.get(b.struct)!;
    prog.push(`{ ${k} ${b.struct} v; memset(&v, 0, sizeof v); v.${b.path} = ${b.value}LL;`);
    prog.push(
      `  printf("${b.struct}.${b.path} "); for (size_t i = 0; i < sizeof v; i++) printf("%02x", ((unsigned char *)&v)[i]); printf("\\n"); }`,
    );
  }
  prog.push("return 0; }");
  await Deno.writeTextFile(`${dir}/t.c`, prog.join("\n"));
  try {
    const cc = await new Deno.Command(Deno.env.get("CC") ?? "cc", {
      args: ["-std=c11", "-w", "-o", `${dir}/t`, `${dir}/t.c`],
    }).output();
    if (!cc.success) throw new Error(new TextDecoder().decode(cc.stderr));
    const out = await new Deno.Command(`${dir}/t`).output();
    const m = new Map<string, string>();
    for (const line of new TextDecoder().decode(out.stdout).trim().split("\n")) {
      const i = line.indexOf(" ");
      m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const hasCC = await new Deno.Command(Deno.env.get("CC") ?? "cc", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

for (const seed of (Deno.env.get("CDEF_FUZZ_SEEDS") ?? "1,2,3,4,5,6,7,8").split(",").map(Number)) {
  Deno.test({
    name: `random declarations (seed ${seed}): cdef lays them out as the C compiler does`,
    ignore: !hasCC,
    async fn() {
      const g = generate(seed, 25);
      const defs = ffi.cdef(g.src);
      const kinds = new Map(g.names.map((n) => [n, defs[n].kind as string]));
      const c = (await compile(g.src, g, kinds))!;
      for (const n of g.names) {
        const d = defs[n] as ffi.StructDefinition;
        assert.equal(`${d.size} ${d.alignment}`, c.get(n), `size/align of ${n}\n${g.src}`);
      }
      for (const [n, f] of g.offsets) {
        assert.equal(String((defs[n] as ffi.StructDefinition).offsetOf(f)), c.get(`${n}.${f}`), `${n}.${f}`);
      }
      using arena = ffi.arena();
      for (const b of g.bits) {
        const d = defs[b.struct] as ffi.StructDefinition;
        const p = arena.allocType(d);
        const v = ffi.view(p, d);
        v[b.path] = d.fields().includes(b.path) && typeof v[b.path] === "boolean" ? b.value === 1n : b.value;
        const hex = Array.from({ length: d.size }, (_, i) => p.read(i, "u8").toString(16).padStart(2, "0"))
          .join("");
        assert.equal(hex, c.get(`${b.struct}.${b.path}`), `${b.struct}.${b.path} = ${b.value}\n${g.src}`);
        // (A field wider than 32 bits reads as a number: exact up to 2^53.)
        const back = v[b.path];
        assert.equal(
          typeof back === "boolean" ? BigInt(back) : back,
          typeof back === "boolean" ? b.value : Number(b.value),
        );
      }
    },
  });
}
