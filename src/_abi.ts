/**
 * How a union, a packed struct or a struct with bitfields or anonymous members is passed by value
 * (on x86-64; elsewhere only those without floating-point members, which go as their bytes):
 * Deno (libffi) describes a struct as a list of member types and has no unions or bitfields, so such
 * a definition is described by what the calling convention looks at, its eightbytes. Each 8-byte
 * piece holding only `float`/`double` members is floating point (passed in vector registers),
 * any other piece integer (general registers), as the System V x86-64 and AAPCS64 classifications
 * do; the pieces' sizes follow the definition's alignment so that libffi sees the same size.
 *
 * @module
 */

import { kCodec } from "./_codec.ts";
import type { FieldInfo, StructCodec } from "./_struct_codec.ts";
import { _anonymousMembers, type StructDefinition } from "./struct.ts";

function fieldsOf(def: { readonly [kCodec]: unknown }): readonly FieldInfo[] {
  return (def[kCodec] as StructCodec).fields;
}

/**
 * Whether `def` needs the eightbyte description (not a plain list of its members).
 * @internal
 * @ignore
 */
export function _needsAbiFields(def: StructDefinition): boolean {
  return def.kind === "union" || def.packed ||
    def.spec.some((f) => !Array.isArray(f) || typeof f[2] === "object");
}

const INT = 1;
const FLOAT = 2;

/**
 * The Deno struct member types describing `def`'s bytes by eightbyte class, and the size and
 * alignment libffi gives that description (the struct's own, or a packed struct's size rounded up
 * to the alignment of its floating-point pieces).
 * @internal
 * @ignore
 */
export function _abiFields(
  def: StructDefinition,
): { fields: Deno.NativeType[]; size: number; align: number } {
  const cls = new Uint8Array(def.size);
  const misaligned = mark(def, 0, cls);
  // A C compiler passes a struct of 16 bytes or less with a misaligned member (only packing makes one)
  // in memory; libffi can only describe members at their natural alignment, and would use registers.
  if (misaligned !== null && def.size <= 16) {
    throw new TypeError(
      `Cannot pass a packed struct of ${def.size} bytes by value: its member "${misaligned}" is not at a ` +
        `multiple of its alignment, so C passes it in memory, which cannot be described to libffi. ` +
        `Pass a pointer to it instead`,
    );
  }
  if (Deno.build.arch !== "x86_64" && cls.includes(FLOAT)) {
    // Elsewhere (AAPCS64) floating-point members make a homogeneous aggregate or not by their types,
    // which this description by bytes cannot say: refuse rather than pass it wrongly.
    throw new TypeError(
      `Cannot pass a ${def.kind} with floating-point members and ${
        def.kind === "union" ? "overlapping members" : "packing, bitfields or anonymous members"
      } by value on ${Deno.build.arch}: pass a pointer to it instead`,
    );
  }
  const out: Deno.NativeType[] = [];
  const piece = Math.min(def.alignment, 8);
  for (let k = 0; k < def.size; k += 8) {
    const end = Math.min(k + 8, def.size);
    const bytes = cls.subarray(k, end);
    const isFloat = bytes.includes(FLOAT) && !bytes.includes(INT);
    if (isFloat && (end - k) % 4 === 0) {
      // Floating point (a vector register): f32 pieces carry a double's bytes just as well, and keep
      // the alignment at 4 (a packed struct may hold a double at any multiple of 4... or 8).
      for (let at = k; at < end; at += 4) out.push("f32");
      continue;
    }
    for (let at = k; at < end; at += piece) {
      const n = Math.min(piece, end - at);
      if (n === 8) out.push("u64");
      else if (n === 4) out.push("u32");
      else if (n === 2) out.push("u16");
      else for (let i = 0; i < n; i++) out.push("u8");
    }
  }
  const align = Math.max(def.alignment, ...out.map((t) => t === "f32" ? 4 : 1));
  return { fields: out, size: Math.ceil(def.size / align) * align, align };
}

/** Marks the class of each byte; returns the name of the first misaligned member, or null. */
function mark(def: StructDefinition, base: number, cls: Uint8Array): string | null {
  let misaligned: string | null = null;
  // An anonymous member is a member too: misaligned, it makes the struct go in memory.
  const anonymous = (d: StructDefinition, at: number): void => {
    for (const a of _anonymousMembers(d)) {
      if ((at + a.offset) % a.def.alignment !== 0) misaligned ??= `(an anonymous ${a.def.kind})`;
      anonymous(a.def, at + a.offset);
    }
  };
  anonymous(def, base);
  for (const f of fieldsOf(def)) {
    if (f.bits !== undefined) {
      cls.fill(INT, base + Math.floor(f.bitOffset / 8), base + Math.ceil((f.bitOffset + f.bits) / 8));
      continue;
    }
    const elem = f.codec.size;
    for (let i = 0; i < (f.length ?? 1); i++) {
      const at = base + f.offset + i * elem;
      if (f.def !== null) {
        if (at % f.codec.align !== 0) misaligned ??= f.name;
        const inner = mark(f.def as StructDefinition, at, cls);
        misaligned ??= inner;
      } else {
        if (at % f.codec.align !== 0) misaligned ??= f.name;
        const c = f.prim === "f32" || f.prim === "f64" ? FLOAT : INT;
        for (let b = at; b < at + elem; b++) if (cls[b] !== INT) cls[b] = c;
      }
    }
  }
  return misaligned;
}
