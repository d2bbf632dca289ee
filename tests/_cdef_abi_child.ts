/**
 * Run by tests/cdef_abi_fuzz_test.ts in a child process (a wrong calling convention can crash): for
 * each seed on the command line, random small structs and unions (floats, bitfields, arrays, anonymous unions, packing) passed to and
 * returned from C by value, against code the system's C compiler built: a C function makes a value,
 * JavaScript gets it back and passes it to a C function that hashes its fields, and the hash must be
 * the one C computes without JavaScript in between. Skipped if there is no `cc`.
 */

import * as ffi from "../mod.ts";
import assert from "node:assert/strict";
import { Lcg } from "./_rng.ts";

const INTS = [
  "char",
  "unsigned char",
  "short",
  "unsigned short",
  "int",
  "unsigned int",
  "long",
  "int64_t",
  "uint16_t",
];
const FLOATS = ["float", "double"];

interface Gen {
  decl: string;
  /** C statements that assign every field of `v` from `s` (a uint64_t seed). */
  make: string[];
  /** C statements that hash every field of `v` into `h`. */
  hash: string[];
}

function generate(r: Lcg, name: string): Gen {
  const make: string[] = [];
  const hash: string[] = [];
  let n = 0;
  const H = (e: string) => hash.push(`h = h * 1099511628211ULL + (uint64_t)(int64_t)(${e});`);
  const scalar = (t: string, path: string) => {
    const k = n++;
    if (FLOATS.includes(t)) {
      make.push(`v.${path} = (${t})((s + ${k}) % 97) / 4;`);
      H(`v.${path} * 8`);
    } else {
      make.push(`v.${path} = (${t})(s * ${2 * k + 3} + ${k});`);
      H(`v.${path}`);
    }
  };
  const members = (count: number, prefix: string, inUnion: boolean, depth: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const f = `f${n}`;
      const k = r.int(inUnion ? 3 : 7);
      if (k === 0) {
        const t = r.pick(INTS);
        out.push(`${t} ${f};`);
        scalar(t, prefix + f);
      } else if (k === 1) {
        const t = r.pick(INTS);
        const len = 1 + r.int(4);
        out.push(`${t} ${f}[${len}];`);
        for (let j = 0; j < len; j++) scalar(t, `${prefix}${f}[${j}]`);
      } else if (k === 2) {
        const t = r.pick(["unsigned int", "int", "unsigned char", "uint16_t"]);
        const w = 1 + r.int(t.includes("char") ? 8 : t.includes("16") ? 16 : 32);
        out.push(`${t} ${f} : ${w};`);
        scalar(t, prefix + f);
        if (inUnion) break; // one member of a union is assigned: the others alias it
      } else if (k === 3 || k === 4) {
        const t = r.pick(FLOATS);
        out.push(`${t} ${f};`);
        scalar(t, prefix + f);
      } else if (depth < 1) {
        // An anonymous union of integer members (only its first member is assigned and hashed).
        const before = make.length;
        const inner = members(1 + r.int(2), prefix, true, depth + 1);
        make.splice(before + 1);
        hash.splice(hash.length - (inner.length > 0 ? 0 : 0));
        out.push(`union { ${inner.join(" ")} };`);
      }
    }
    return out;
  };
  const kw = r.int(6) === 0 ? "union" : "struct";
  const body = kw === "union" ? members(1, "", true, 1) : members(1 + r.int(4), "", false, 0);
  const packed = r.int(5) === 0 ? "__attribute__((packed)) " : "";
  // Hash only the fields whose assignment was kept.
  const kept = new Set(make.map((m) => m.slice(2, m.indexOf(" = "))));
  const hashKept = hash.filter((h) => [...kept].some((p) => h.includes(`(v.${p}`)));
  return { decl: `typedef ${kw} ${packed}{ ${body.join(" ")} } ${name};`, make, hash: hashKept };
}

for (const seed of Deno.args.map(Number)) {
  const r = new Lcg(seed);
  const count = 30;
  const gens = Array.from({ length: count }, (_, i) => generate(r, `t${i}`));
  const c: string[] = ["#include <stdint.h>", "#include <string.h>"];
  const protos: string[] = [];
  gens.forEach((g, i) => {
    c.push(g.decl);
    c.push(
      `t${i} make${i}(uint64_t s) { t${i} v; memset(&v, 0, sizeof v); ${g.make.join(" ")} return v; }`,
    );
    c.push(
      `uint64_t hash${i}(int a, t${i} v, double d) { uint64_t h = (uint64_t)a * 31 + (uint64_t)(d * 2); ${
        g.hash.join(" ")
      } return h; }`,
    );
    c.push(`uint64_t self${i}(int a, uint64_t s, double d) { return hash${i}(a, make${i}(s), d); }`);
    protos.push(g.decl, `t${i} make${i}(uint64_t s);`, `uint64_t hash${i}(int a, t${i} v, double d);`);
    protos.push(`uint64_t self${i}(int a, uint64_t s, double d);`);
    // C calling JavaScript with the struct by value, as an argument and as a result.
    c.push(
      `uint64_t viacb${i}(uint64_t (*cb)(int, t${i}, double), uint64_t s) { return cb(7 + ${i}, make${i}(s), 2.5); }`,
    );
    c.push(
      `uint64_t fromcb${i}(t${i} (*cb)(uint64_t), uint64_t s) { return hash${i}(7 + ${i}, cb(s), 2.5); }`,
    );
    protos.push(
      `typedef uint64_t (*argcb${i})(int, t${i}, double);`,
      `typedef t${i} (*retcb${i})(uint64_t);`,
      `uint64_t viacb${i}(argcb${i} cb, uint64_t s);`,
      `uint64_t fromcb${i}(retcb${i} cb, uint64_t s);`,
    );
  });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/abi.c`, c.join("\n"));
    const built = await new Deno.Command(Deno.env.get("CC") ?? "cc", {
      args: ["-std=c11", "-O1", "-w", "-shared", "-fPIC", "-o", `${dir}/libabi.so`, `${dir}/abi.c`],
    }).output();
    assert.ok(built.success, new TextDecoder().decode(built.stderr));
    const defs = ffi.cdef(protos.join("\n"));
    using lib = ffi.load(`${dir}/libabi.so`);
    const f = lib.bind(defs);
    let checked = 0;
    for (let i = 0; i < count; i++) {
      const def = defs[`t${i}`] as ffi.StructDefinition;
      let v: unknown;
      try {
        v = f[`make${i}`](BigInt(seed * 1000 + i));
      } catch (e) {
        // Only a small packed struct with a misaligned member is refused (C passes it in memory).
        assert.ok(e instanceof TypeError && def.packed && def.size <= 16, `${gens[i].decl}: ${e}`);
        continue;
      }
      const want = f[`self${i}`](7 + i, BigInt(seed * 1000 + i), 2.5);
      assert.equal(f[`hash${i}`](7 + i, v, 2.5), want, `${gens[i].decl} (size ${def.size})`);
      // The struct as a callback's argument (JavaScript hands it back to C) and as its result.
      const seedI = BigInt(seed * 1000 + i);
      const argCb = ffi.callback(
        (a: number, x: unknown, d: number) => f[`hash${i}`](a, x, d),
        defs[`argcb${i}`],
      );
      assert.equal(f[`viacb${i}`](argCb, seedI), want, `${gens[i].decl}: as a callback argument`);
      argCb.close();
      const retCb = ffi.callback((x: bigint) => f[`make${i}`](x), defs[`retcb${i}`]);
      assert.equal(f[`fromcb${i}`](retCb, seedI), want, `${gens[i].decl}: as a callback result`);
      retCb.close();
      checked++;
    }
    assert.ok(checked > count / 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
console.log(`ok ${Deno.args.length} seeds`);
