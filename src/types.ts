/**
 * The C type table: primitive names, their aliases, sizes and alignments, all derived from one list.
 *
 * @module
 */

import { _describe, _get, _has } from "./errors.ts";

/** Size in bytes of a pointer on this platform (Deno's FFI is 64-bit only). */
const PTR = 8;

/**
 * Every primitive C type: canonical name, size, alignment, the aliases of Lune's table (`aliases`,
 * what `typeNames` lists) and C spellings of it (`c`). The single source of truth: the name union,
 * the alias map, the size table and the C spellings are derived from it (C's other spellings, such
 * as `long unsigned int` or `int*`, are read by C's rules from these).
 *
 * @example
 * ```ts
 * import { PRIMITIVES } from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const i32 = PRIMITIVES.find((p) => p.name === "i32")!;
 * assert.deepEqual(i32.aliases, ["int", "int32"]);
 * assert.ok(i32.c.includes("int32_t"));
 * ```
 */
export const PRIMITIVES = [
  { name: "void", size: 0, align: 1, aliases: [], c: ["void"] },
  { name: "bool", size: 1, align: 1, aliases: [], c: ["_Bool"] },
  { name: "i8", size: 1, align: 1, aliases: ["char", "int8"], c: ["signed char", "int8_t"] },
  { name: "u8", size: 1, align: 1, aliases: ["uchar", "byte"], c: ["unsigned char", "uint8_t"] },
  {
    name: "i16",
    size: 2,
    align: 2,
    aliases: ["short", "int16"],
    c: ["short int", "signed short", "int16_t"],
  },
  {
    name: "u16",
    size: 2,
    align: 2,
    aliases: ["ushort", "uint16"],
    c: ["unsigned short", "unsigned short int", "uint16_t"],
  },
  { name: "i32", size: 4, align: 4, aliases: ["int", "int32"], c: ["signed", "signed int", "int32_t"] },
  {
    name: "u32",
    size: 4,
    align: 4,
    aliases: ["uint", "uint32"],
    c: ["unsigned", "unsigned int", "uint32_t"],
  },
  {
    name: "i64",
    size: 8,
    align: 8,
    aliases: ["long", "int64"],
    c: ["long int", "signed long", "long long", "long long int", "signed long long", "int64_t"],
  },
  {
    name: "u64",
    size: 8,
    align: 8,
    aliases: ["ulong", "uint64"],
    c: ["unsigned long", "unsigned long int", "unsigned long long", "unsigned long long int", "uint64_t"],
  },
  { name: "isize", size: PTR, align: PTR, aliases: ["ssize_t", "ptrdiff_t"], c: ["intptr_t"] },
  { name: "usize", size: PTR, align: PTR, aliases: ["size_t"], c: ["uintptr_t"] },
  { name: "f32", size: 4, align: 4, aliases: ["float"], c: [] },
  { name: "f64", size: 8, align: 8, aliases: ["double"], c: [] },
  {
    name: "pointer",
    size: PTR,
    align: PTR,
    aliases: ["ptr", "void*"],
    c: ["void *", "const void*", "const void *"],
  },
  {
    name: "string",
    size: PTR,
    align: PTR,
    aliases: ["cstring", "char*"],
    c: ["char *", "const char*", "const char *"],
  },
] as const;

/** One entry of {@linkcode PRIMITIVES}. */
export type Primitive = typeof PRIMITIVES[number];

/** A canonical primitive C type name, such as `"i32"` or `"pointer"`. */
export type PrimitiveName = Primitive["name"];

/**
 * Any primitive C type name the compiler knows: a canonical name, one of its aliases (`"int"`,
 * `"size_t"`, ...) or a listed C spelling (`"uint32_t"`, `"unsigned int"`, `"const char*"`). The run
 * time also takes every other order and combination C accepts (`"long unsigned int"`, `"int*"`).
 */
export type CTypeName = PrimitiveName | Primitive["aliases"][number] | Primitive["c"][number];

/**
 * A type name as the API's parameters take it: any string, with the names of {@linkcode CTypeName}
 * offered by autocompletion. The compiler cannot tell a known name from an unknown one in a `string`
 * variable, so names are checked at run time: an unknown one is a `TypeError` that names it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * for (const t of ["i8", "u8"]) assert.equal(ffi.sizeof(t), 1);
 * const bad: ffi.TypeName = "int33";
 * assert.throws(() => ffi.sizeof(bad), /int33/);
 * ```
 */
export type TypeName = CTypeName | AnyString;

/** Any string: `string & Record<never, never>` keeps the literal members of a union with it for autocompletion. */
export type AnyString = string & Record<never, never>;

/** The canonical name of a type name or alias: `CanonicalOf<"int">` is `"i32"`. */
export type CanonicalOf<N extends string> = {
  [P in Primitive as P["name"]]: N extends P["name"] | P["aliases"][number] | P["c"][number] ? P["name"]
    : never;
}[PrimitiveName];

/** Facts about one primitive type, as used internally by every module. */
export interface PrimitiveInfo {
  /** Canonical name. */
  readonly name: PrimitiveName;
  /** Size in bytes. */
  readonly size: number;
  /** Natural alignment in bytes. */
  readonly align: number;
}

const byName: Map<string, PrimitiveInfo> = new Map();
/** Lune's names and aliases (what `typeNames` lists) come first; C's one-word spellings after. */
const cWords: Map<string, PrimitiveInfo> = new Map();
const infoOf: Map<PrimitiveName, PrimitiveInfo> = new Map();
for (const p of PRIMITIVES) {
  const info: PrimitiveInfo = Object.freeze({ name: p.name, size: p.size, align: p.align });
  infoOf.set(p.name, info);
  byName.set(p.name, info);
  for (const alias of p.aliases) byName.set(alias, info);
  for (const c of p.c) if (!c.includes(" ")) cWords.set(c, info);
}
for (const [w, info] of byName) if (/^\w+$/.test(w)) cWords.set(w, info);

/** Qualifiers C allows around a type that change nothing about its layout or its values. */
const QUALIFIERS = new Set(["const", "volatile", "restrict", "__restrict", "__restrict__", "__const"]);

/** Spellings resolved by {@linkcode cSpelling}, so each is parsed once (bounded: names are few). */
const spelled: Map<string, PrimitiveInfo | null> = new Map();

/**
 * The primitive a C spelling names, by C's rules: type specifiers in any order (`long unsigned int`,
 * `short int`), `const`/`volatile` ignored, `char*` a `string` and any other `T*` a `pointer`
 * (`int*`, `void**`, `struct tm*`, `unsigned char*`). `undefined` when it is not a valid spelling of a
 * primitive type (`unsigned double`, `long long long`, `long double`, `FILE*`).
 */
function cSpelling(name: string): PrimitiveInfo | undefined {
  const known = spelled.get(name);
  if (known !== undefined) return known ?? undefined;
  const r = parseSpelling(name);
  if (spelled.size < 4096) spelled.set(name, r ?? null);
  return r;
}

function parseSpelling(name: string): PrimitiveInfo | undefined {
  const toks = name.match(/[A-Za-z_]\w*|\S/g);
  if (toks === null) return undefined;
  let stars = 0;
  const words: string[] = [];
  for (const t of toks) {
    if (t === "*") stars++;
    else if (!/^[A-Za-z_]/.test(t)) return undefined;
    else if (QUALIFIERS.has(t)) continue;
    else if (stars > 0) return undefined; // a name after the `*`: a declarator, not a type
    else words.push(t);
  }
  if (words.length === 0) return undefined;
  if (stars > 0) {
    // `struct tm *`, `union u *`, `enum e *`: a pointer to a tagged type, known or not.
    const tagged = words.length === 2 && /^(struct|union|enum)$/.test(words[0]);
    if (!tagged && baseType(words) === undefined) return undefined;
    return infoOf.get(stars === 1 && words.length === 1 && words[0] === "char" ? "string" : "pointer");
  }
  const base = baseType(words);
  return base === undefined ? undefined : infoOf.get(base);
}

/** The primitive named by C type specifiers without a `*`, or `undefined` for an impossible mix. */
function baseType(words: readonly string[]): PrimitiveName | undefined {
  if (words.length === 1) {
    const info = cWords.get(words[0]);
    return info?.name;
  }
  const n: Record<string, number> = {};
  for (const w of words) {
    if (!/^(signed|unsigned|char|short|int|long)$/.test(w)) return undefined;
    n[w] = (n[w] ?? 0) + 1;
  }
  const { signed = 0, unsigned = 0, char = 0, short = 0, int = 0, long = 0 } = n;
  if (signed + unsigned > 1 || char > 1 || short > 1 || int > 1 || long > 2) return undefined;
  const u = unsigned === 1;
  if (char === 1) return short + int + long === 0 ? (u ? "u8" : "i8") : undefined;
  if (short === 1) return long === 0 ? (u ? "u16" : "i16") : undefined;
  if (long > 0) return u ? "u64" : "i64";
  return u ? "u32" : "i32";
}

/**
 * Looks up a type name: a canonical name, an alias or a C spelling (`"unsigned int"`, `"uint8_t"`,
 * `"const char *"`, `"struct tm*"`); `undefined` when it names no primitive.
 * @internal
 * @ignore
 */
export function _primitive(name: string): PrimitiveInfo | undefined {
  return byName.get(name) ?? cSpelling(name);
}

/**
 * Looks up a primitive type name or alias, throwing a `TypeError` that names it when it is unknown.
 * @internal
 * @ignore
 */
export function _primitiveOrThrow(name: unknown, what = "type", fn?: string, param?: string): PrimitiveInfo {
  const info = typeof name === "string" ? _primitive(name) : undefined;
  if (info === undefined) {
    const head = fn === undefined
      ? `Unknown C ${what} ${_describe(name)}`
      : `${fn}: unknown C ${what} ${_describe(name)} for ${param ?? "ctype"}`;
    throw new TypeError(
      `${head}: expected one of ${
        [...byName.keys()].join(", ")
      }, a C spelling of one (unsigned int, uint8_t, const char*, int*), or a struct definition`,
    );
  }
  return info;
}

/**
 * Whether `x` is a C function type (a Signature `{ ret, args }`, as `ffi.cdef` gives for a prototype or a
 * function-pointer typedef): as the type of a field, an argument or a result, a pointer to such a function.
 * @internal
 * @ignore
 */
export function _isFunctionType(x: unknown): boolean {
  return typeof x === "object" && x !== null && _has(x, "ret") && Array.isArray(_get(x, "args")) &&
    !_has(x, "spec");
}

/** Every accepted primitive type name, aliases included. */
export const typeNames: readonly CTypeName[] = Object.freeze([...byName.keys()] as CTypeName[]);

/**
 *  Formats any value for an error message (the one formatter: see `errors.ts`).
 * @internal
 * @ignore
 */
export { _describe } from "./errors.ts";
