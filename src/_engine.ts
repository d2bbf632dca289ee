/**
 * Calls through the native call engine (`native/src/call.rs`): for the signatures Deno's fast path
 * cannot take (structs by value, and calls the variadic trampolines cannot route).
 *
 * A signature is prepared once with libffi (a process-wide cache keyed by its layout, so struct
 * definitions made anew for each call share it); each bound function gets a *call block* of its own,
 * a small native-addressable buffer holding the engine's header, one slot per argument and a result
 * slot. The generated wrapper checks and writes each argument into its slot with DataView writes,
 * calls `lffi_call(block)` on Deno's fast path, and reads the result from its slot. A struct argument
 * is written straight into its slot by the struct's codec; a struct result is read from its slot.
 *
 * A block is reused by every call of its function: libffi copies the arguments into registers and
 * onto the stack before the C function runs, so a nested call of the same function (from a callback)
 * cannot disturb the outer one, and each call reads its result before anything else runs.
 *
 * @module
 */

import { Chunk } from "./_chunk.ts";
import type { FieldInfo, StructCodec } from "./_struct_codec.ts";
import { kAllocCString } from "./_codec.ts";
import { _cstringAt } from "./_codec.ts";
import {
  _badSource,
  _ffiWords,
  _guardLine,
  _H,
  _mayRunUserCode,
  _pending,
  _signatureKey,
  _wrapperSource,
  type CallState,
  type Signature,
  type StructSpec,
  type TypeSpec,
} from "./_call.ts";
import { _errnoCells } from "./errno.ts";
import { _native } from "./_native.ts";
import { _addrOf, _rawFromAddr, _toPointerValue, kToRaw, ptr, RawPointer } from "./pointer.ts";
import type { PrimitiveName } from "./types.ts";
import { _describe } from "./types.ts";

/** A signature prepared by the engine, and the layout of its call blocks. */
export interface Prepared {
  readonly handle: Deno.PointerObject;
  readonly blockSize: number;
  /** Byte offset in a block of the result slot, and of each argument slot. */
  readonly retOffset: number;
  readonly argOffsets: readonly number[];
}

/** Prepared signatures by layout key and fixed-argument count: a handful per program, kept for good. */
const prepared = new Map<string, Prepared>();

const TWO32 = 2 ** 32;
const TWO53 = 2 ** 53;

/** Prepares `sig` for the engine (cached by layout); also used for nonblocking calls with errno. @internal */
export function _prepareEngineCall(name: string, sig: Signature, nfixed: number): Prepared {
  return prepare(name, sig, nfixed);
}

function prepare(name: string, sig: Signature, nfixed: number): Prepared {
  const key = `${_signatureKey(sig)}/${nfixed}`;
  const known = prepared.get(key);
  if (known !== undefined) return known;
  const words: number[] = [..._ffiWords(sig.ret)];
  for (const a of sig.args) for (const w of _ffiWords(a)) words.push(w);
  const desc = new Uint32Array(words);
  const n = sig.args.length;
  const layout = new Uint32Array(3 + 3 * (n + 1));
  const handle = _native().lffi_call_prepare(desc, desc.length, n, nfixed, layout, layout.length);
  if (handle === null) {
    throw new TypeError(
      `Cannot prepare a call of ${name}: the C calling convention cannot pass this signature`,
    );
  }
  // libffi laid the structs out itself: a layout it cannot express (a packed struct, a union) would
  // be passed wrongly, so it must agree with the struct's own.
  const check = (t: TypeSpec, at: number, what: string) => {
    const s = t.struct;
    if (s === null) return;
    if (layout[at + 1] !== s.size || layout[at + 2] !== s.align) {
      throw new TypeError(
        `Cannot pass ${_describe(s.def)} by value for ${what} of ${name}: its layout (${s.size} bytes, ` +
          `alignment ${s.align}) is not one the C calling convention describes by its fields ` +
          `(a packed struct or a union); pass a pointer to it instead`,
      );
    }
  };
  check(sig.ret, 3, "the return value");
  sig.args.forEach((t, i) => check(t, 6 + 3 * i, `argument ${i}`));
  const p: Prepared = {
    handle,
    blockSize: layout[0],
    retOffset: layout[1],
    argOffsets: sig.args.map((_, i) => layout[6 + 3 * i]),
  };
  prepared.set(key, p);
  return p;
}

/** The memory owner of a call block: a `char*` field of a struct argument gets a string copy that lives for the call. */
const callScoped = {
  [kAllocCString](s: string): number {
    return _H.strAddr(s);
  },
};

/** Writes a pointer argument's address (8 bytes) at `o`. */
function writePtr(d: DataView, o: number, x: unknown, what: string): void {
  let a: number;
  if (x instanceof RawPointer || (typeof x === "object" && x !== null && kToRaw in x)) {
    a = _addrOf(x, what);
    if (a >= TWO53) return writePointerValue(d, o, _toPointerValue(x, what));
  } else if (typeof x === "object" && x !== null && (ArrayBuffer.isView(x) || x instanceof ArrayBuffer)) {
    // A JS typed array or ArrayBuffer is lent to C for the duration of the call.
    const buffer = ArrayBuffer.isView(x) ? x.buffer : x;
    if ((buffer as ArrayBuffer).detached) {
      throw new TypeError(`Cannot pass a detached ${x.constructor.name} as a pointer for ${what}`);
    }
    return writePointerValue(d, o, Deno.UnsafePointer.of(x as BufferSource));
  } else {
    a = _addrOf(x, what);
  }
  d.setUint32(o, a >>> 0, true);
  d.setUint32(o + 4, Math.floor(a / TWO32), true);
}

function writePointerValue(d: DataView, o: number, p: Deno.PointerValue): void {
  const v = p === null ? 0n : Deno.UnsafePointer.value(p);
  d.setBigUint64(o, BigInt(v), true);
}

/** The address in the 8 bytes at `o`, as an unmanaged RawPointer (null gives the NULL pointer). */
function readPtr(d: DataView, o: number): RawPointer {
  const hi = d.getUint32(o + 4, true);
  if (hi < 0x20_0000) return _rawFromAddr(d.getUint32(o, true) + hi * TWO32);
  return ptr(d.getBigUint64(o, true));
}

function readString(d: DataView, o: number): string | null {
  const hi = d.getUint32(o + 4, true);
  const addr = d.getUint32(o, true) + hi * TWO32;
  return _cstringAt(addr);
}

function writeStruct(s: StructSpec, k: Chunk, o: number, v: unknown, what: string): void {
  if (typeof v !== "object" || v === null) {
    throw new TypeError(
      `Cannot convert ${_describe(v)} to a struct for ${what}: expected an object or a StructView`,
    );
  }
  // The slot held the last call's argument: fields the object does not name are zero.
  k.u8.fill(0, o, o + s.size);
  s.codec.write(k, k.ptr, o, v, what);
}

/** Helpers of the engine wrappers. */
const X = {
  ptr: writePtr,
  readPtr,
  readString,
  struct: writeStruct,
  fields: writeFields,
  readStruct: (s: StructSpec, k: Chunk, o: number) => s.codec.read(k, k.ptr, o),
};

const SETTER: Partial<Record<PrimitiveName, string>> = {
  i8: "setInt8",
  u8: "setUint8",
  i16: "setInt16",
  u16: "setUint16",
  i32: "setInt32",
  u32: "setUint32",
  i64: "setBigInt64",
  isize: "setBigInt64",
  u64: "setBigUint64",
  usize: "setBigUint64",
  f32: "setFloat32",
  f64: "setFloat64",
};
const GETTER: Partial<Record<PrimitiveName, string>> = {
  i8: "getInt8",
  u8: "getUint8",
  i16: "getInt16",
  u16: "getUint16",
  i32: "getInt32",
  u32: "getUint32",
  i64: "getBigInt64",
  isize: "getBigInt64",
  u64: "getBigUint64",
  usize: "getBigUint64",
  f32: "getFloat32",
  f64: "getFloat64",
};

/** Source writing `v` (already checked) of primitive type `t` at byte `o`. */
function setSource(t: PrimitiveName, v: string, o: string): string {
  if (t === "bool") return `D.setUint8(${o}, ${v} ? 1 : 0);`;
  return `D.${SETTER[t]}(${o}, ${v}, true);`;
}

/** The fields of a struct the wrappers write and read inline: primitives only, no overlap. */
function flatFields(s: StructSpec): readonly FieldInfo[] | null {
  const fields = (s.codec as Partial<StructCodec>).fields;
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > 16) return null;
  let end = 0;
  for (const f of fields as FieldInfo[]) {
    if (f.length !== undefined || f.def !== null || f.prim === null) return null;
    if (SETTER[f.prim] === undefined && f.prim !== "bool") return null;
    if (f.offset < end || f.name === "__proto__") return null;
    end = f.offset + f.size;
  }
  return fields as FieldInfo[];
}

/**
 * Source that writes struct argument `x` at byte `o`: a plain object (or a view) whose fields are
 * all already valid is written field by field inline; anything else goes to the struct's codec,
 * given the field values already read, so no getter runs twice.
 */
function structWriteSource(s: StructSpec, x: string, o: number, w: string, si: string): string {
  const fields = flatFields(s);
  if (fields === null) return `x.struct(${si}, K, ${o}, ${x}, ${w});`;
  const vars = fields.map((_, j) => `${x}_${j}`);
  const reads = fields.map((f, j) => `${vars[j]} = ${x}[${JSON.stringify(f.name)}]`);
  const bad = fields.map((f, j) => _badSource({ name: f.prim! } as TypeSpec, vars[j])!).map((b) => `(${b})`);
  const sets = fields.map((f, j) => setSource(f.prim!, vars[j], `${o + f.offset}`));
  return `if (typeof ${x} !== "object" || ${x} === null) x.struct(${si}, K, ${o}, ${x}, ${w});\n` +
    `else {\nconst ${reads.join(", ")};\n` +
    `if (${bad.join(" || ")}) x.fields(${si}, K, ${o}, ${x}, [${vars.join(", ")}], ${w});\n` +
    `else {\n${sets.join("\n")}\n}\n}`;
}

/** Writes the field values `vals` (read from `v`) of a struct argument through the field codecs. */
function writeFields(s: StructSpec, k: Chunk, o: number, v: object, vals: unknown[], what: string): void {
  const fields = (s.codec as StructCodec).fields;
  k.u8.fill(0, o, o + s.size);
  fields.forEach((f, j) => {
    if (vals[j] === undefined && !(f.name in v)) {
      throw new TypeError(`Cannot write ${what}: the object has no field "${f.name}"`);
    }
    f.codec.write(k, null, o + f.offset, vals[j], `${what}.${f.name}`);
  });
}

/** Source that writes argument `x` of type `t` at byte `o` of the block (scalars checked by the guard). */
function writeSource(t: TypeSpec, x: string, o: number, w: string, s: string): string {
  switch (t.name) {
    case "pointer":
      return `if (${x} === null) D.setFloat64(${o}, 0); else x.ptr(D, ${o}, ${x}, ${w});`;
    case "string":
      return `if (typeof ${x} === "string") { const a = h.strAddr(${x}); ` +
        `D.setUint32(${o}, a >>> 0, true); D.setUint32(${o + 4}, Math.floor(a / 4294967296), true); }\n` +
        `else if (${x} === null) D.setFloat64(${o}, 0); else x.ptr(D, ${o}, ${x}, ${w});`;
    case "struct":
      return structWriteSource(t.struct!, x, o, w, s);
    default:
      return setSource(t.name as PrimitiveName, x, `${o}`);
  }
}

/** Source of the expression reading a flat struct result at byte `o` as a plain object. */
function structReadSource(s: StructSpec, o: number, si: string): string {
  const fields = flatFields(s);
  if (fields === null) return `x.readStruct(${si}, K, ${o})`;
  const props = fields.map((f) => {
    const at = o + f.offset;
    const v = f.prim === "bool" ? `D.getUint8(${at}) !== 0` : `D.${GETTER[f.prim!]}(${at}, true)`;
    return `${JSON.stringify(f.name)}: ${v}`;
  });
  return `{ ${props.join(", ")} }`;
}

/** Source of the expression reading the result of type `t` at byte `o` of the block. */
function readSource(t: TypeSpec, o: number, s: string): string {
  switch (t.name) {
    case "void":
      return "undefined";
    case "bool":
      return `D.getUint8(${o}) !== 0`;
    case "i8":
      return `D.getInt8(${o})`;
    case "u8":
      return `D.getUint8(${o})`;
    case "i16":
      return `D.getInt16(${o}, true)`;
    case "u16":
      return `D.getUint16(${o}, true)`;
    case "i32":
      return `D.getInt32(${o}, true)`;
    case "u32":
      return `D.getUint32(${o}, true)`;
    case "i64":
    case "isize":
      return `D.getBigInt64(${o}, true)`;
    case "u64":
    case "usize":
      return `D.getBigUint64(${o}, true)`;
    case "f32":
      return `D.getFloat32(${o}, true)`;
    case "f64":
      return `D.getFloat64(${o}, true)`;
    case "pointer":
      return `x.readPtr(D, ${o})`;
    case "string":
      return `x.readString(D, ${o})`;
    case "struct":
      return structReadSource(t.struct!, o, s);
    default:
      throw new Error(`unreachable: result type ${t.name}`);
  }
}

/** A function bound to the engine: the wrapper, and how to point its block at the C function. */
export interface EngineCall {
  readonly fn: (...args: unknown[]) => unknown;
  /** Points the call block at the C function `target` (once, before the first call). */
  readonly init: (target: Deno.PointerValue) => void;
  /** The engine's entry, for `st.f` once {@linkcode EngineCall.init} has run. */
  readonly enter: (block: Deno.PointerObject) => void;
}

/**
 * Compiles the wrapper calling C function `name` of signature `sig` (`nfixed` fixed arguments, the
 * rest variadic) through the engine: `st.f(block)` runs the call (`st.f` is the engine's entry once
 * the block is initialised; a library sets a resolver there first).
 * @internal
 */
export function _compileEngineCall(name: string, sig: Signature, nfixed: number, st: CallState): EngineCall {
  const p = prepare(name, sig, nfixed);
  const buf = new ArrayBuffer(p.blockSize);
  const block = Deno.UnsafePointer.of(buf);
  if (block === null) throw new Error(`lune-ffi: no address for the call block of ${name}`);
  const k = new Chunk(buf, block, callScoped);
  const d = new DataView(buf);
  const errnoCells = _errnoCells();

  const n = sig.args.length;
  const what = sig.args.map((t, i) => `argument ${i} (${t.label}) of ${name}`);
  const structs = [...sig.args.map((t) => t.struct), sig.ret.struct];
  const lines: string[] = [];
  lines.push(_guardLine(sig));
  // String copies (arguments, and `char*` fields of struct arguments) are freed when the call ends.
  const scoped = sig.args.some((t) => t.name === "string" || t.name === "struct") ||
    sig.ret.name === "struct";
  if (scoped) lines.push("const t0 = h.top;\ntry {");
  const userCode = _mayRunUserCode(sig);
  if (userCode) lines.push("const f0 = P.frees;");
  sig.args.forEach((t, i) => lines.push(writeSource(t, `a${i}`, p.argOffsets[i], `W[${i}]`, `S[${i}]`)));
  if (userCode) lines.push(`if (P.frees !== f0) h.freedDuring(${JSON.stringify(name)});`);
  lines.push("if (st.f === null) st.r();");
  lines.push("st.f(B);");
  lines.push("if (P.has) h.rethrow();");
  lines.push(`return ${readSource(sig.ret, p.retOffset, `S[${n}]`)};`);
  if (scoped) {
    lines.push("} finally {\nh.top = t0;\nif (t0 === 0 && h.spill.length !== 0) h.spill.length = 0;\n}");
  }
  const src = _wrapperSource(name, sig, lines);
  const fn = new Function("h", "x", "P", "st", "W", "S", "D", "K", "B", src)(
    _H,
    X,
    _pending,
    st,
    what,
    structs,
    d,
    k,
    block,
  );
  const native = _native();
  return {
    fn,
    init(target) {
      if (native.lffi_call_block_init(p.handle, block, buf.byteLength, target, errnoCells.savedPtr) !== 1) {
        throw new Error(`lune-ffi: the call block of ${name} does not fit its signature`);
      }
    },
    enter: native.lffi_call as (block: Deno.PointerObject) => void,
  };
}
