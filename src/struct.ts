/**
 * C struct definitions: {@linkcode struct} defines a layout, which is also a C type.
 *
 * A definition is specialised once, when it is created: every field gets its offset and its size,
 * the definition gets a view class whose prototype holds a pair of accessors per field (built by
 * `struct_view.ts`, where {@linkcode view} lives) and a codec that copies the whole struct to and
 * from a plain object (built by `_struct_codec.ts`), for `read`, `write` and calls.
 *
 * The types that map a definition to its views and values are in `struct_types.ts`.
 *
 * @module
 */

import { type Codec, kCodec } from "./_codec.ts";
import { _buildCodec, type FieldInfo, type StructCodec } from "./_struct_codec.ts";
import { _describe, _get, _isInstance, _isPlainObject } from "./errors.ts";
import { _layout } from "./layout.ts";
import { _codecOf, type FieldName, type FieldSpec, type StructType } from "./pointer.ts";
import { _buildViewClass, type ViewCtor } from "./struct_view.ts";
import { _isFunctionType, _primitive, type AnyString, type PrimitiveName } from "./types.ts";

export type { FieldInfo } from "./_struct_codec.ts";

/** The largest struct: what one ArrayBuffer over unmanaged memory may hold (`_MAX_VIEW_BYTES`). */
const MAX_STRUCT_SIZE = 2 ** 32;

/**
 * How {@linkcode struct} lays a definition out: `{ packed: true }` as C's `__attribute__((packed))`.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const options: ffi.StructOptions = { packed: true };
 * const Header = ffi.struct([["tag", "u8"], ["len", "u32"]], options);
 * assert.deepEqual([Header.size, Header.alignment, Header.offsetOf("len")], [5, 1, 1]);
 * ```
 */
export interface StructOptions {
  /** No padding between fields and alignment 1, as C's `__attribute__((packed))`. */
  readonly packed?: boolean;
}

/** The integer types a bitfield may have (and `bool`, as C's `_Bool`). */
const BITFIELD_TYPES = new Set([
  "bool",
  "i8",
  "u8",
  "i16",
  "u16",
  "i32",
  "u32",
  "i64",
  "u64",
  "isize",
  "usize",
]);

/**
 * The anonymous struct and union members of a definition, at their offsets.
 * @internal
 * @ignore
 */
export let _anonymousMembers: (
  def: StructDefinition,
) => readonly { readonly offset: number; readonly def: StructDefinition }[];

/** `ffi.struct()` or `ffi.union()`: the definition being built, for messages. */
let fn = "ffi.struct()";

function fieldError(i: number, name: unknown, msg: string, E: ErrorConstructor = TypeError): Error {
  const who = typeof name === "string" && name !== "" ? `field "${name}"` : `field ${i}`;
  return new E(`${fn}: ${who} ${msg}`);
}

/** A field as parsed, before the layout gives it its offset. */
type ParsedField = { -readonly [K in keyof FieldInfo]: FieldInfo[K] };

function parseField(spec: unknown, i: number): ParsedField {
  if (spec instanceof StructDefinition) {
    // An anonymous struct or union member (C11): its fields are promoted into this struct.
    return {
      name: "",
      index: i,
      offset: 0,
      size: spec.size,
      align: spec.alignment,
      length: undefined,
      prim: null,
      def: spec,
      codec: spec[kCodec],
      what: `field ${i}`,
      desc: `${spec.kind} (${spec.size} bytes)`,
      bits: undefined,
      bitOffset: 0,
    };
  }
  if (!Array.isArray(spec) || spec.length < 2 || spec.length > 3) {
    throw new TypeError(
      `${fn}: field ${i} must be [name, type], [name, type, length], [name, type, { bits }] or an ` +
        `anonymous struct or union definition, got ${_describe(spec)}`,
    );
  }
  const [name, given, length] = spec as [unknown, unknown, unknown];
  // A function type (a Signature from ffi.cdef) is a function pointer.
  const type = _isFunctionType(given) ? "pointer" : given;
  const bitSpec = typeof length === "object" && length !== null ? { bits: _get(length, "bits") } : undefined;
  // C allows unnamed bitfields (`int : 3;`, `int : 0;`): padding that no one reads.
  if (typeof name !== "string" || (name === "" && bitSpec === undefined)) {
    throw fieldError(i, name, `must have a non-empty string name, got ${_describe(name)}`);
  }
  let prim: PrimitiveName | null = null;
  let def: StructDefinition | null = null;
  let codec: Codec;
  let elemDesc: string;
  if (_isInstance(type, StructDefinition)) {
    def = type as StructDefinition;
    codec = def[kCodec];
    elemDesc = `${def.kind} (${def.size} bytes)`;
  } else {
    const info = typeof type === "string" ? _primitive(type) : undefined;
    if (info === undefined) {
      throw fieldError(
        i,
        name,
        `has unknown type ${
          _describe(type)
        }: expected a C type name (i32, f64, pointer, ...) or a struct definition`,
      );
    }
    if (info.name === "void") throw fieldError(i, name, "cannot have type void");
    prim = info.name;
    codec = _codecOf(info.name);
    elemDesc = info.name;
  }
  let count: number | undefined;
  let bits: number | undefined;
  if (bitSpec !== undefined) {
    bits = bitSpec.bits as number;
    if (prim === null || !BITFIELD_TYPES.has(prim)) {
      throw fieldError(i, name, `is a bitfield of type ${elemDesc}: a bitfield must have an integer type`);
    }
    if (typeof bits !== "number" || !Number.isInteger(bits)) {
      throw fieldError(
        i,
        name,
        `must have an integer bit width ({ bits: n }) as its third element, got ${_describe(bits)} in ${
          _describe(length)
        }`,
      );
    }
    const max = prim === "bool" ? 1 : codec.size * 8;
    const min = name === "" ? 0 : 1;
    if (bits < min || bits > max) {
      throw fieldError(
        i,
        name,
        `has a bit width of ${bits}: a ${
          name === "" ? "" : "named "
        }${elemDesc} bitfield takes ${min} to ${max} bits`,
        RangeError,
      );
    }
  } else if (length !== undefined) {
    if (typeof length !== "number") {
      throw fieldError(i, name, `has an array length that is not a number: ${_describe(length)}`);
    }
    if (!Number.isInteger(length) || length <= 0) {
      throw fieldError(
        i,
        name,
        `must have a positive integer array length, got ${_describe(length)}`,
        RangeError,
      );
    }
    // Past this, offsets are no longer exact, and no memory could hold one anyway.
    if (codec.size * length > MAX_STRUCT_SIZE) {
      throw fieldError(
        i,
        name,
        `has an array length of ${length}: ${codec.size * length} bytes is more than a struct can hold ` +
          `(${MAX_STRUCT_SIZE})`,
        RangeError,
      );
    }
    count = length;
  }
  return {
    name,
    index: i,
    offset: 0,
    size: codec.size * (count ?? 1),
    align: codec.align,
    length: count,
    prim,
    def,
    codec,
    what: `field "${name}"`,
    desc: bits !== undefined
      ? `${elemDesc} : ${bits}`
      : count === undefined
      ? elemDesc
      : `${elemDesc}[${count}]`,
    bits,
    bitOffset: 0,
  };
}

/**
 * The fields of a definition as views and codecs see them: the named members at their offsets, with
 * the fields of anonymous members promoted (C11), and unnamed bitfields left out.
 */
function flatten(
  parsed: readonly ParsedField[],
  offsets: readonly number[],
  bitOffsets: readonly (number | undefined)[],
): readonly FieldInfo[] {
  const out: ParsedField[] = [];
  parsed.forEach((f, i) => {
    if (f.name !== "") {
      out.push({ ...f, offset: offsets[i], bitOffset: bitOffsets[i] ?? 0 });
    } else if (f.bits === undefined) {
      for (const g of (f.codec as StructCodec).fields) {
        out.push({ ...g, offset: g.offset + offsets[i], bitOffset: g.bitOffset + offsets[i] * 8 });
      }
    }
  });
  return Object.freeze(out.map((f, index) => Object.freeze({ ...f, index })));
}

/**
 * A C struct layout, made by {@linkcode struct}: sizes, alignment and field offsets by the C ABI of
 * the platform. It is also a C type: `sizeof`, `alignof`, `arena.allocType`, `arena.allocArray`,
 * `cast`, `read` and `write` (a plain-object copy) all accept it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Player = ffi.struct([
 *   ["x", "f32"],
 *   ["y", "f32"],
 *   ["health", "i32"],
 *   ["name", "u8", 32],
 * ]);
 * assert.equal(Player.size, 44);
 * assert.equal(Player.offsetOf("health"), 8);
 * assert.deepEqual(Player.fields(), ["x", "y", "health", "name"]);
 * ```
 */
export class StructDefinition<F extends readonly FieldSpec[] = readonly FieldSpec[]>
  implements StructType<F> {
  /** Total size in bytes, tail padding included. */
  readonly size: number;
  /** Alignment in bytes: the largest alignment of its fields. */
  readonly alignment: number;
  /** Number of fields (the fields of anonymous members counted, as they are promoted). */
  readonly fieldCount: number;
  /** `"struct"`, or `"union"` for a definition made by {@linkcode union}. */
  readonly kind: "struct" | "union";
  /** Whether the fields are packed (no padding, alignment 1). */
  readonly packed: boolean;
  /**
   * The field list, as given: for type-level use (`StructView<typeof Def.spec>`).
   */
  readonly spec: F;
  #fields: readonly FieldInfo[];
  /** The anonymous struct and union members, at their offsets (their fields are in `#fields`). */
  #anonymous: readonly { readonly offset: number; readonly def: StructDefinition }[];
  #byName: Map<string, FieldInfo>;
  #codec: StructCodec;

  /**
   * Lays out `fields` (see {@linkcode struct}, which is the usual way to call this).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const Tail = new ffi.StructDefinition([["a", "i64"], ["b", "i8"]]);
   * assert.equal(Tail.size, 16);
   * ```
   */
  constructor(fields: F, options?: StructOptions & { readonly union?: boolean }) {
    checkOptions(options, "ffi.struct()", true);
    const isUnion = options?.union === true;
    fn = isUnion ? "ffi.union()" : "ffi.struct()";
    if (!Array.isArray(fields)) {
      throw new TypeError(`${fn}: expected an array of fields, got ${_describe(fields)}`);
    }
    if (fields.length === 0) {
      throw new TypeError(`${fn}: a ${isUnion ? "union" : "struct"} needs at least one field`);
    }
    const packed = options?.packed === true;
    const parsed: ParsedField[] = [];
    for (let i = 0; i < fields.length; i++) {
      // `map` would skip the holes of a sparse list, which then broke the layout with a vague error.
      if (!(i in fields)) throw new TypeError(`ffi.struct(): field ${i} is missing (a hole in the list)`);
      parsed.push(parseField(fields[i], i));
    }
    const layout = _layout(
      parsed.map((f) => ({ size: f.size, align: f.align, bits: f.bits, unnamed: f.name === "" })),
      { union: isUnion, packed },
    );
    const infos = flatten(parsed, layout.offsets, layout.bitOffsets);
    const byName = new Map<string, FieldInfo>();
    for (const f of infos) {
      const prev = byName.get(f.name);
      if (prev !== undefined) {
        throw new TypeError(
          `${fn}: duplicate field name "${f.name}" (fields ${prev.index} and ${f.index})`,
        );
      }
      byName.set(f.name, f);
    }
    if (layout.size > MAX_STRUCT_SIZE) {
      throw new RangeError(
        `${fn}: the ${isUnion ? "union" : "struct"} takes ${layout.size} bytes, more than ${MAX_STRUCT_SIZE}`,
      );
    }
    this.size = layout.size;
    this.alignment = layout.align;
    this.fieldCount = infos.length;
    this.kind = isUnion ? "union" : "struct";
    this.packed = packed;
    this.spec = Object.freeze(
      fields.map((f) => f instanceof StructDefinition ? f : Object.freeze([...(f as readonly unknown[])])),
    ) as unknown as F;
    this.#fields = Object.freeze(infos);
    this.#anonymous = parsed.flatMap((f, i) =>
      f.name === "" && f.bits === undefined
        ? [{ offset: layout.offsets[i], def: f.def as StructDefinition }]
        : []
    );
    this.#byName = byName;
    // The view class is built on first use: a definition used only for calls or copies never pays
    // for one.
    let Ctor: ViewCtor | undefined;
    const codec: StructCodec = _buildCodec(
      this,
      infos,
      layout.size,
      layout.align,
      (c, o, managed, lo, hi) => {
        Ctor ??= _buildViewClass(codec, infos);
        return new Ctor(c, o, managed, lo, hi);
      },
    );
    if (isUnion || packed) {
      // The codec's name describes the fields; say what kind of definition it is too.
      (codec as { name: string }).name = `${packed ? "packed " : ""}${
        codec.name.replace(/^struct/, this.kind)
      }`;
    }
    this.#codec = codec;
    Object.freeze(this);
  }

  /**
   * The byte offset of a field from the start of the struct. Any string compiles (the field names
   * autocomplete); an unknown field is a `TypeError` naming it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const S = ffi.struct([["a", "i8"], ["b", "f64"]]);
   * assert.equal(S.offsetOf("b"), 8);
   * assert.throws(() => S.offsetOf("c"), /"c"/);
   * ```
   */
  offsetOf(name: FieldName<F> | AnyString): number {
    return this.#field(name, "offsetOf").offset;
  }

  /**
   * The size in bytes of a field (element size × length for an array); an unknown field is a
   * `TypeError` naming it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const S = ffi.struct([["name", "u8", 32]]);
   * assert.equal(S.sizeOf("name"), 32);
   * ```
   */
  sizeOf(name: FieldName<F> | AnyString): number {
    return this.#field(name, "sizeOf").size;
  }

  /**
   * The field names, in declaration order.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(ffi.struct([["x", "f32"], ["y", "f32"]]).fields(), ["x", "y"]);
   * ```
   */
  fields(): FieldName<F>[] {
    return this.#fields.map((f) => f.name);
  }

  /**
   * Reads and writes the whole struct as a plain object, for `read`, `write` and calls.
   * @ignore
   */
  get [kCodec](): Codec {
    return this.#codec;
  }

  #field(name: unknown, method: string): FieldInfo {
    const f = typeof name === "string" ? this.#byName.get(name) : undefined;
    if (f === undefined) {
      throw new TypeError(
        `StructDefinition.${method}(): the struct has no field ${_describe(name)} (fields: ${
          this.#fields.map((x) => x.name).join(", ")
        })`,
      );
    }
    return f;
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `StructDefinition ${this.#codec.name} (size ${this.size}, alignment ${this.alignment})`;
  }

  static {
    _anonymousMembers = (def) => def.#anonymous;
  }

  /** Short description for error messages. */
  [Symbol.for("lune-ffi.describe")](): string {
    return `a StructDefinition (size ${this.size})`;
  }
}

/**
 * Defines a C struct layout from a list of fields: `[name, type]` or `[name, type, length]` for a
 * fixed array; a type is a C type name or another definition. Fields are laid out by the C ABI of
 * the platform (natural alignment, padding, tail padding), as a C compiler or `#[repr(C)]` would.
 *
 * Declared `as const`, the definition is precisely typed: its views have exactly its fields, each
 * of the type it reads as, and an unknown field is a compile error. Without `as const` the field
 * names are plain `string`s and its views are loose (`LooseStructView`: any property, of
 * type `any`), so every write the run time accepts compiles as written. Type names are checked at
 * run time: an unknown one is a `TypeError` naming it.
 *
 * @example A game's Player record
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Player = ffi.struct([
 *   ["x", "f32"],
 *   ["y", "f32"],
 *   ["health", "i32"],
 *   ["name", "u8", 32], // fixed array
 * ]);
 * assert.equal(Player.size, 44);
 * assert.equal(Player.alignment, 4);
 * assert.equal(Player.offsetOf("health"), 8);
 * assert.equal(Player.sizeOf("name"), 32);
 * ```
 *
 * @example Precise types with `as const`
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]] as const);
 * using arena = ffi.arena();
 * const v = ffi.view(arena.allocType(Vec2), Vec2);
 * v.x = 1.5;
 * const x: number = v.x;
 * // @ts-expect-error: Vec2 has no field "z"
 * v.z;
 * assert.equal(x, 1.5);
 * ```
 *
 * @example Packed structs and bitfields, laid out as gcc does
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Packed = ffi.struct([["tag", "uint8_t"], ["value", "uint32_t"]], { packed: true });
 * assert.equal(Packed.size, 5);
 * const Flags = ffi.struct([["lead", "uint8_t"], ["x", "uint32_t", { bits: 12 }], ["y", "int", { bits: 5 }]]);
 * assert.equal(Flags.size, 4); // x shares the unit `lead` started, as in gcc
 * using arena = ffi.arena();
 * const f = ffi.view(arena.allocType(Flags), Flags);
 * f.x = 4095;
 * f.y = -16;
 * assert.deepEqual([f.x, f.y, f.lead], [4095, -16, 0]);
 * assert.throws(() => f.x = 4096, RangeError);
 * ```
 *
 * @example Nested structs and arrays of them
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Vec2 = ffi.struct([["x", "f32"], ["y", "f32"]]);
 * const Path = ffi.struct([["len", "u8"], ["points", Vec2, 4], ["id", "i64"]]);
 * assert.equal(Path.offsetOf("points"), 4);
 * assert.equal(Path.offsetOf("id"), 40);
 * assert.equal(Path.size, 48);
 * ```
 */
export function struct<F extends readonly FieldSpec[]>(
  fields: F,
  options?: StructOptions,
): StructDefinition<F> {
  checkOptions(options, "ffi.struct()");
  return new StructDefinition(fields, options === undefined ? undefined : { ...options, union: false });
}

/** The options of `ffi.struct`/`ffi.union`: `undefined`, or an object whose only key is `packed`. */
function checkOptions(options: unknown, fn: string, union = false): void {
  if (options === undefined) return;
  if (!_isPlainObject(options)) {
    throw new TypeError(
      `${fn}: expected an options object ({ packed: true }) for options, got ${_describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== "packed" && !(union && key === "union")) {
      throw new TypeError(
        `${fn}: unknown option ${JSON.stringify(key)} in options ${
          _describe(options)
        }: the only option is packed`,
      );
    }
  }
  const packed = (options as { packed?: unknown }).packed;
  if (packed !== undefined && typeof packed !== "boolean") {
    throw new TypeError(`${fn}: option packed must be a boolean, got ${_describe(packed)} in options`);
  }
}

/**
 * Defines a C union: every field starts at offset 0, the size is the largest field's rounded up to
 * the alignment, which is the largest field alignment. Fields are given as to {@linkcode struct}
 * (arrays, nested definitions, bitfields), and a union is used wherever a struct definition is:
 * fields, views, arrays, `read`/`write`, and arguments and results by value.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Value = ffi.union([["i", "int32_t"], ["f", "float"], ["bytes", "u8", 8]]);
 * assert.equal(Value.size, 8);
 * assert.equal(Value.offsetOf("bytes"), 0);
 * using arena = ffi.arena();
 * const v = ffi.view(arena.allocType(Value), Value);
 * v.f = 1;
 * assert.equal(v.i, 0x3f800000);
 * ```
 */
export function union<F extends readonly FieldSpec[]>(
  fields: F,
  options?: StructOptions,
): StructDefinition<F> {
  checkOptions(options, "ffi.union()");
  return new StructDefinition(fields, { ...options, union: true });
}
