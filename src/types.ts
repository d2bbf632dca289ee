/**
 * The C type table: primitive names, their aliases, sizes and alignments, all derived from one list.
 *
 * @module
 */

import { _describe } from "./errors.ts";

/** Size in bytes of a pointer on this platform (Deno's FFI is 64-bit only). */
const PTR = 8;

/**
 * Every primitive C type: canonical name, size, alignment and its C aliases.
 * The single source of truth: the name union, the alias map and the size table are derived from it.
 *
 * @example
 * ```ts
 * import { PRIMITIVES } from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const i32 = PRIMITIVES.find((p) => p.name === "i32")!;
 * assert.deepEqual(i32.aliases, ["int", "int32"]);
 * ```
 */
export const PRIMITIVES = [
  { name: "void", size: 0, align: 1, aliases: [] },
  { name: "bool", size: 1, align: 1, aliases: [] },
  { name: "i8", size: 1, align: 1, aliases: ["char", "int8"] },
  { name: "u8", size: 1, align: 1, aliases: ["uchar", "byte"] },
  { name: "i16", size: 2, align: 2, aliases: ["short", "int16"] },
  { name: "u16", size: 2, align: 2, aliases: ["ushort", "uint16"] },
  { name: "i32", size: 4, align: 4, aliases: ["int", "int32"] },
  { name: "u32", size: 4, align: 4, aliases: ["uint", "uint32"] },
  { name: "i64", size: 8, align: 8, aliases: ["long", "int64"] },
  { name: "u64", size: 8, align: 8, aliases: ["ulong", "uint64"] },
  { name: "isize", size: PTR, align: PTR, aliases: ["ssize_t", "ptrdiff_t"] },
  { name: "usize", size: PTR, align: PTR, aliases: ["size_t"] },
  { name: "f32", size: 4, align: 4, aliases: ["float"] },
  { name: "f64", size: 8, align: 8, aliases: ["double"] },
  { name: "pointer", size: PTR, align: PTR, aliases: ["ptr", "void*"] },
  { name: "string", size: PTR, align: PTR, aliases: ["cstring", "char*"] },
] as const;

/** One entry of {@linkcode PRIMITIVES}. */
export type Primitive = typeof PRIMITIVES[number];

/** A canonical primitive C type name, such as `"i32"` or `"pointer"`. */
export type PrimitiveName = Primitive["name"];

/** Any primitive C type name accepted by the API: a canonical name or one of its aliases (`"int"`, `"size_t"`, ...). */
export type CTypeName = PrimitiveName | Primitive["aliases"][number];

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
  [P in Primitive as P["name"]]: N extends P["name"] | P["aliases"][number] ? P["name"] : never;
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
for (const p of PRIMITIVES) {
  const info: PrimitiveInfo = Object.freeze({ name: p.name, size: p.size, align: p.align });
  byName.set(p.name, info);
  for (const alias of p.aliases) byName.set(alias, info);
}

/**
 * Looks up a primitive type name or alias; `undefined` when the name is not a primitive.
 * @internal
 */
export function _primitive(name: string): PrimitiveInfo | undefined {
  return byName.get(name);
}

/**
 * Looks up a primitive type name or alias, throwing a `TypeError` that names it when it is unknown.
 * @internal
 */
export function _primitiveOrThrow(name: unknown, what = "type"): PrimitiveInfo {
  const info = typeof name === "string" ? byName.get(name) : undefined;
  if (info === undefined) {
    throw new TypeError(
      `Unknown C ${what} ${_describe(name)}: expected one of ${
        [...byName.keys()].join(", ")
      }, or a struct definition`,
    );
  }
  return info;
}

/** Every accepted primitive type name, aliases included. */
export const typeNames: readonly CTypeName[] = Object.freeze([...byName.keys()] as CTypeName[]);

/** @internal Formats any value for an error message (the one formatter: see `errors.ts`). */
export { _describe } from "./errors.ts";
