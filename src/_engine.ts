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
  _boundCallState,
  _ffiWords,
  _guardLine,
  _H,
  _hasPointerField,
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
import { FfiError } from "./errors.ts";
import { _native } from "./_native.ts";
import { _addrOf, _rawFromAddr, _toPointerValue, kToRaw, ptr, type RawPointer } from "./pointer.ts";
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

/**
 * Prepares `sig` for the engine (cached by layout); also used for nonblocking calls with errno.
 * @internal
 * @ignore
 */
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
  // `kToRaw in x` alone (a RawPointer has the method too): `instanceof` on a StructView would walk
  // to the Proxy at the end of its prototype chain, a runtime call.
  if (typeof x === "object" && x !== null && kToRaw in x) {
    a = _addrOf(x, what);
    if (a >= TWO53) return writePointerValue(d, o, _toPointerValue(x, what));
  } else if (typeof x === "object" && x !== null && (ArrayBuffer.isView(x) || x instanceof ArrayBuffer)) {
    // A JS typed array or ArrayBuffer is lent to C for the duration of the call.
    // Deno gives null for a detached or empty buffer: C would get NULL where the caller meant memory.
    const p = Deno.UnsafePointer.of(x as BufferSource);
    if (p === null) {
      throw new TypeError(
        `Cannot pass ${_describe(x)} as a pointer for ${what}: it has no memory (detached or empty); ` +
          `pass null for NULL`,
      );
    }
    return writePointerValue(d, o, p);
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

/**
 * Where an argument or the result lives in a block: at byte `at`, contiguous; or, for a struct
 * passed in registers, one slot per eightbyte (`slots`), with `at` a contiguous scratch copy.
 */
interface Loc {
  readonly at: number;
  readonly slots: readonly number[] | null;
}

/** Where the byte at `off` of a struct at `loc` goes. */
function byteAt(loc: Loc, off: number): number {
  return loc.slots === null ? loc.at + off : loc.slots[off >> 3] + (off & 7);
}

/** Copies a struct's contiguous scratch copy into its eightbyte slots. */
function spread(k: Chunk, loc: Loc, size: number): void {
  const slots = loc.slots!;
  for (let e = 0; e < slots.length; e++) {
    k.u8.copyWithin(slots[e], loc.at + 8 * e, loc.at + Math.min(8 * e + 8, size));
  }
}

/** Gathers a struct result's eightbyte slots into its contiguous area. */
function gather(k: Chunk, loc: Loc, size: number): void {
  const slots = loc.slots!;
  for (let e = 0; e < slots.length; e++) {
    k.u8.copyWithin(loc.at + 8 * e, slots[e], slots[e] + Math.min(8, size - 8 * e));
  }
}

function writeStruct(s: StructSpec, k: Chunk, loc: Loc, v: unknown, what: string): void {
  if (typeof v !== "object" || v === null) {
    throw new TypeError(
      `Cannot convert ${_describe(v)} to a struct for ${what}: expected an object or a StructView`,
    );
  }
  // The area held the last call's argument: fields the object does not name are zero.
  k.u8.fill(0, loc.at, loc.at + s.size);
  s.codec.write(k, k.ptr, loc.at, v, what);
  if (loc.slots !== null) spread(k, loc, s.size);
}

function readStruct(s: StructSpec, k: Chunk, loc: Loc): unknown {
  if (loc.slots !== null) gather(k, loc, s.size);
  return s.codec.read(k, k.ptr, loc.at);
}

/** Whether converting the arguments of `sig` can run user code (getters, `kToRaw` methods). */
function runsUserCode(sig: Signature): boolean {
  return sig.args.some((t) => t.name === "pointer" || t.name === "string" || t.name === "struct");
}

/**
 * Refuses a call whose arguments were being written into its block when user code run by the
 * conversion (a getter of a struct argument, a `kToRaw` method) called the same function: that
 * call wrote its own arguments into the same block, so some already written are gone.
 */
function reentered(name: string): never {
  throw new FfiError(
    `Cannot call ${name}: a getter or kToRaw method run to convert its arguments called ${name} ` +
      `itself, which overwrote the arguments already converted; compute the values before the call`,
  );
}

/** Helpers of the engine wrappers. */
const X = {
  ptr: writePtr,
  readPtr,
  readString,
  struct: writeStruct,
  readStruct,
  reentered,
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

/** Source writing `v` (already checked) of primitive type `t` at byte `o`, at its own width. */
function setSource(t: PrimitiveName, v: string, o: number): string {
  if (t === "bool") return `D.setUint8(${o}, ${v} ? 1 : 0);`;
  return `D.${SETTER[t]}(${o}, ${v}, true);`;
}

/**
 * Source writing a scalar argument `v` (already checked) at byte `o`: integers narrower than 32
 * bits are written sign- or zero-extended to 32, as C callers pass them in a register.
 */
function argSetSource(t: PrimitiveName, v: string, o: number): string {
  switch (t) {
    case "bool":
      return `D.setUint32(${o}, ${v} ? 1 : 0, true);`;
    case "i8":
    case "i16":
      return `D.setInt32(${o}, ${v}, true);`;
    case "u8":
    case "u16":
      return `D.setUint32(${o}, ${v}, true);`;
    default:
      return setSource(t, v, o);
  }
}

/** The fields of a struct the wrappers write and read inline: primitives only, no overlap. */
function flatFields(s: StructSpec): readonly FieldInfo[] | null {
  const fields = (s.codec as Partial<StructCodec>).fields;
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > 16) return null;
  let end = 0;
  for (const f of fields as FieldInfo[]) {
    if (f.length !== undefined || f.def !== null || f.prim === null || f.bits !== undefined) return null;
    if (SETTER[f.prim] === undefined && f.prim !== "bool") return null;
    if (f.offset < end || f.name === "__proto__" || (f.offset & 7) + f.size > 8) return null;
    end = f.offset + f.size;
  }
  return fields as FieldInfo[];
}

/**
 * Source that writes struct argument `x` at `loc` (`li` names it in the generated code): a plain
 * object whose keys are exactly the fields, all with valid values, is written field by field by a
 * helper of its own (pushed on `helpers`, called as `F[k]`); anything else (missing fields, which are
 * zero, unknown names, which are an error, views, bad values) goes to the struct's codec, which reads
 * the object again. The helper keeps the wrapper under V8's size limit for inlining: inlined into
 * the caller's loop, a call returning a double no longer allocates its result (vec2_dot 5.3x an
 * `add(i32, i32)` with the writes inline, 3.6x with helpers).
 */
function structWriteSource(
  s: StructSpec,
  x: string,
  loc: Loc,
  li: string,
  w: string,
  si: string,
  helpers: string[],
): string {
  const fields = flatFields(s);
  if (fields === null) return `x.struct(${si}, K, ${li}, ${x}, ${w});`;
  const vars = fields.map((_, j) => `v${j}`);
  const reads = fields.map((f, j) => `${vars[j]} = v[${JSON.stringify(f.name)}]`);
  const bad = fields.map((f, j) => _badSource({ name: f.prim! } as TypeSpec, vars[j])!).map((b) => `(${b})`);
  const sets = fields.map((f, j) => setSource(f.prim!, vars[j], byteAt(loc, f.offset)));
  // `for...in` counts the enumerable keys, own and inherited: any beyond the fields is an unknown name.
  helpers.push(
    `function (v) {\nif (typeof v !== "object" || v === null) return false;\n` +
      `const ${reads.join(", ")};\n` +
      `if (${bad.join(" || ")}) return false;\n` +
      `let n = 0;\nfor (const _ in v) n++;\nif (n !== ${fields.length}) return false;\n` +
      `${sets.join("\n")}\nreturn true;\n}`,
  );
  return `if (!F[${helpers.length - 1}](${x})) x.struct(${si}, K, ${li}, ${x}, ${w});`;
}

/** Source that writes argument `x` of type `t` at `loc` (scalars checked by the guard). */
function writeSource(
  t: TypeSpec,
  x: string,
  loc: Loc,
  li: string,
  w: string,
  s: string,
  helpers: string[],
): string {
  const o = loc.at;
  switch (t.name) {
    case "pointer":
      return `if (${x} === null) D.setFloat64(${o}, 0); else x.ptr(D, ${o}, ${x}, ${w});`;
    case "string":
      return `if (typeof ${x} === "string") { const a = h.strAddr(${x}); ` +
        `D.setUint32(${o}, a >>> 0, true); D.setUint32(${o + 4}, Math.floor(a / 4294967296), true); }\n` +
        `else if (${x} === null) D.setFloat64(${o}, 0); else x.ptr(D, ${o}, ${x}, ${w});`;
    case "struct":
      return structWriteSource(t.struct!, x, loc, li, w, s, helpers);
    default:
      return argSetSource(t.name as PrimitiveName, x, o);
  }
}

/** Source of the expression reading a struct result at `loc` as a plain object. */
function structReadSource(s: StructSpec, loc: Loc, li: string, si: string): string {
  const fields = flatFields(s);
  if (fields === null) return `x.readStruct(${si}, K, ${li})`;
  const props = fields.map((f) => {
    const at = byteAt(loc, f.offset);
    const v = f.prim === "bool" ? `D.getUint8(${at}) !== 0` : `D.${GETTER[f.prim!]}(${at}, true)`;
    return `${JSON.stringify(f.name)}: ${v}`;
  });
  return `{ ${props.join(", ")} }`;
}

/** Source of the expression reading the result of type `t` at `loc`. */
function readSource(t: TypeSpec, loc: Loc, li: string, s: string): string {
  const o = loc.at;
  switch (t.name) {
    case "void":
      return "undefined";
    case "bool":
      return `D.getUint8(${o}) !== 0`;
    case "pointer":
      return `x.readPtr(D, ${o})`;
    case "string":
      return `x.readString(D, ${o})`;
    case "struct":
      return structReadSource(t.struct!, loc, li, s);
    default: {
      const g = GETTER[t.name as PrimitiveName];
      if (g === undefined) throw new Error(`unreachable: result type ${t.name}`);
      return `D.${g}(${o}, true)`;
    }
  }
}

// ---- System V x86-64: our own register engine (native/src/sysv.rs) -------------------------------

/** Whether calls go through the System V register engine (else libffi's `ffi_call`). */
const SYSV = Deno.build.arch === "x86_64" && Deno.build.os !== "windows";
/**
 * Tests set this to run the libffi engine where the register engine would be used.
 * @internal
 * @ignore
 */
export const _engineOptions: { libffi: boolean } = { libffi: !SYSV };

const GPR = 32;
const XMM = 80;
const RAX = 144;
const RDX = 152;
const XMM0 = 160;
const XMM1 = 168;
const RESULT_AREA = 176;
const INT_CLASS = 1;
const SSE_CLASS = 2;

/** Marks each byte of a struct at `base` INTEGER or SSE; false when a field is unaligned (MEMORY). */
function markBytes(codec: StructCodec, base: number, cls: Uint8Array): boolean {
  for (const f of codec.fields) {
    if (f.bits !== undefined) {
      cls.fill(INT_CLASS, base + Math.floor(f.bitOffset / 8), base + Math.ceil((f.bitOffset + f.bits) / 8));
      continue;
    }
    const elem = f.codec.size;
    for (let i = 0; i < (f.length ?? 1); i++) {
      const at = base + f.offset + i * elem;
      if (f.def !== null) {
        if (!markBytes(f.codec as StructCodec, at, cls)) return false;
        continue;
      }
      if (at % elem !== 0) return false;
      const c = f.prim === "f32" || f.prim === "f64" ? SSE_CLASS : INT_CLASS;
      for (let b = at; b < at + elem; b++) if (cls[b] !== INT_CLASS) cls[b] = c;
    }
  }
  return true;
}

/**
 * The System V class of each eightbyte of a struct passed by value, or null when it is passed in
 * memory (larger than 16 bytes, or with an unaligned field). An eightbyte with any integer byte is
 * INTEGER, one of only `float`/`double` bytes (or padding) SSE.
 */
function eightbytes(s: StructSpec): number[] | null {
  const codec = s.codec as Partial<StructCodec>;
  if (s.size > 16 || s.size === 0 || !Array.isArray(codec.fields)) return null;
  const cls = new Uint8Array(s.size);
  if (!markBytes(codec as StructCodec, 0, cls)) return null;
  const out: number[] = [];
  for (let k = 0; k < s.size; k += 8) {
    out.push(cls.subarray(k, k + 8).includes(INT_CLASS) ? INT_CLASS : SSE_CLASS);
  }
  return out;
}

/** Whether the register engine can describe `sig` (every struct's fields are known). */
function sysvCan(sig: Signature): boolean {
  const known = (t: TypeSpec) =>
    t.struct === null || Array.isArray((t.struct.codec as Partial<StructCodec>).fields);
  return known(sig.ret) && sig.args.every(known);
}

interface Layout {
  readonly blockSize: number;
  readonly args: readonly Loc[];
  readonly ret: Loc;
  readonly nstack: number;
  readonly stackAt: number;
  readonly retInMemory: boolean;
}

/** Assigns every argument and the result its registers or stack slots (System V x86-64). */
function sysvLayout(sig: Signature): Layout {
  let gpr = 0;
  let sse = 0;
  let words = 0;
  let scratch = RESULT_AREA;
  const ret = sig.ret;
  let retLoc: Loc;
  let retInMemory = false;
  if (ret.struct !== null) {
    const cls = eightbytes(ret.struct);
    if (cls === null) {
      retInMemory = true;
      gpr = 1; // the hidden result pointer
      retLoc = { at: RESULT_AREA, slots: null };
    } else {
      let i = 0;
      let f = 0;
      retLoc = {
        at: RESULT_AREA,
        slots: cls.map((c) => (c === INT_CLASS ? [RAX, RDX][i++] : [XMM0, XMM1][f++])),
      };
    }
    scratch += Math.max(16, Math.ceil(ret.struct.size / 16) * 16);
  } else {
    retLoc = { at: ret.name === "f32" || ret.name === "f64" ? XMM0 : RAX, slots: null };
    scratch += 16;
  }
  // Stack words are given byte offsets once the scratch areas are known: [word, arg] pairs first.
  const onStack: [number, number, number][] = [];
  const args: (Loc | null)[] = sig.args.map((t, i) => {
    if (t.struct === null) {
      if (t.name === "f32" || t.name === "f64") {
        if (sse < 8) return { at: XMM + 8 * sse++, slots: null };
      } else if (gpr < 6) {
        return { at: GPR + 8 * gpr++, slots: null };
      }
      onStack.push([words++, i, 0]);
      return null;
    }
    const s = t.struct;
    const cls = eightbytes(s);
    if (cls !== null) {
      const ints = cls.filter((c) => c === INT_CLASS).length;
      if (gpr + ints <= 6 && sse + cls.length - ints <= 8) {
        const slots = cls.map((c) => (c === INT_CLASS ? GPR + 8 * gpr++ : XMM + 8 * sse++));
        const at = scratch;
        scratch += Math.ceil(s.size / 8) * 8;
        return { at, slots };
      }
    }
    onStack.push([words, i, 0]);
    words += Math.ceil(s.size / 8);
    return null;
  });
  const stackAt = Math.ceil(scratch / 16) * 16;
  for (const [word, i] of onStack) args[i] = { at: stackAt + 8 * word, slots: null };
  return {
    blockSize: stackAt + 8 * words + 16,
    args: args as Loc[],
    ret: retLoc,
    nstack: words,
    stackAt,
    retInMemory,
  };
}

/**
 * Most bytes of struct arguments one call may pass by value: they are copied onto the native stack
 * (the thread's stack is a few megabytes), so a bigger total is refused rather than overflowing it.
 */
const MAX_BY_VALUE = 1 << 20;

/** Refuses a signature whose struct arguments would overflow the native stack. */
function _checkByValueSize(name: string, sig: Signature): void {
  let total = 0;
  for (const t of sig.args) if (t.struct !== null) total += t.struct.size;
  if (total > MAX_BY_VALUE) {
    throw new RangeError(
      `Cannot call ${name}: its struct arguments take ${total} bytes by value, more than the ${MAX_BY_VALUE} ` +
        `a call can copy onto the native stack; pass pointers to them instead`,
    );
  }
}

/** A function bound to the engine: the wrapper, and how to point its block at the C function. */
export interface EngineCall {
  readonly fn: (...args: unknown[]) => unknown;
  /** Points the call block at the C function `target` (once, before the first call). */
  readonly init: (target: Deno.PointerValue) => void;
  /** The engine's entry, for `st.f` once {@linkcode EngineCall.init} has run. */
  readonly enter: (block: Deno.PointerObject) => void;
  /** The call state the wrapper calls through (final when the target was given). */
  readonly st: CallState;
}

/**
 * Compiles the wrapper calling C function `name` of signature `sig` (`nfixed` fixed arguments, the
 * rest variadic) through the engine: `st.f(block)` runs the call (`st.f` is the engine's entry once
 * the block is initialised; a library sets a resolver there first). On x86-64 System V platforms
 * the engine is our own register engine; elsewhere libffi's.
 * @internal
 * @ignore
 */
export function _compileEngineCall(
  name: string,
  sig: Signature,
  nfixed: number,
  stOrTarget: CallState | Deno.PointerObject,
): EngineCall {
  _checkByValueSize(name, sig);
  const sysv = !_engineOptions.libffi && sysvCan(sig);
  const p = sysv ? null : prepare(name, sig, nfixed);
  const layout: Layout = p === null ? sysvLayout(sig) : {
    blockSize: p.blockSize,
    args: p.argOffsets.map((at) => ({ at, slots: null })),
    ret: { at: p.retOffset, slots: null },
    nstack: 0,
    stackAt: 0,
    retInMemory: false,
  };
  const buf = new ArrayBuffer(layout.blockSize);
  const block = Deno.UnsafePointer.of(buf);
  if (block === null) throw new Error(`lune-ffi: no address for the call block of ${name}`);
  const k = new Chunk(buf, block, callScoped);
  const d = new DataView(buf);
  const { live, saved, lastError: LE } = _errnoCells();
  const native = _native();
  const init = (target: Deno.PointerValue) => {
    const ok = p === null
      ? native.lffi_sysv_block_init(
        block,
        buf.byteLength,
        target,
        layout.nstack,
        layout.stackAt,
        layout.retInMemory ? 1 : 0,
      )
      : native.lffi_call_block_init(p.handle, block, buf.byteLength, target, _errnoCells().savedPtr);
    if (ok !== 1) throw new Error(`lune-ffi: the call block of ${name} does not fit its signature`);
  };
  const enter = (p === null ? native.lffi_call_sysv : native.lffi_call) as (
    block: Deno.PointerObject,
  ) => void;
  // Given the target, the block points at it now and the call state is final from the start, so V8
  // inlines the entry's fast call into the wrapper (see `_boundCallState`).
  let st: CallState;
  if (isCallState(stOrTarget)) {
    st = stOrTarget;
  } else {
    init(stOrTarget);
    st = _boundCallState(enter as (...args: unknown[]) => unknown, undefined);
  }

  const n = sig.args.length;
  const what = sig.args.map((t, i) => `argument ${i} (${t.label}) of ${name}`);
  const structs = [...sig.args.map((t) => t.struct), sig.ret.struct];
  const locs = [...layout.args, layout.ret];
  const lines: string[] = [];
  lines.push(_guardLine(sig));
  // String copies (arguments, and `char*` fields of struct arguments) are freed when the call ends.
  const scoped = sig.args.some((t) =>
    t.name === "string" || (t.struct !== null && _hasPointerField(t.struct))
  );
  if (scoped) lines.push("const t0 = h.top;\ntry {");
  const userCode = _mayRunUserCode(sig);
  if (userCode) lines.push("const f0 = P.frees;");
  // Converting an argument can run user code (a getter, a kToRaw method) that calls this same
  // function, whose arguments then overwrite the ones already in the block: refused (see `reentered`).
  const reentrant = runsUserCode(sig);
  if (reentrant) lines.push("const n0 = N.c;");
  const helpers: string[] = [];
  sig.args.forEach((t, i) =>
    lines.push(writeSource(t, `a${i}`, layout.args[i], `G[${i}]`, `W[${i}]`, `S[${i}]`, helpers))
  );
  if (userCode) lines.push(`if (P.frees !== f0) h.freedDuring(${JSON.stringify(name)});`);
  if (reentrant) lines.push(`if (N.c !== n0) x.reentered(${JSON.stringify(name)});\nN.c = n0 + 1;`);
  // errno: the register engine runs no native code of its own around the call, so the wrapper
  // saves errno as the Deno fast-path wrappers do; libffi's entry saves it natively.
  if (sysv) lines.push("if (P.errnoSet) h.putErrno();");
  lines.push("if (st.f == null) st.r();");
  lines.push("st.f(B);");
  if (sysv) {
    lines.push("ES[0] = E[0];");
    if (LE !== null) lines.push("ES[1] = LE[0];");
  }
  lines.push("if (P.has) h.rethrow();");
  lines.push(`return ${readSource(sig.ret, layout.ret, `G[${n}]`, `S[${n}]`)};`);
  if (scoped) {
    lines.push("} finally {\nh.top = t0;\nif (t0 === 0 && h.spill.length !== 0) h.spill.length = 0;\n}");
  }
  const src = _wrapperSource(name, sig, lines);
  // Each helper's source is unique too (V8 shares type feedback between functions of one source).
  const F = new Function(
    "D",
    `"use strict"; /* ${name} ${helperSerial++} */ return [${helpers.join(",\n")}];`,
  )(d);
  const fn = new Function("h", "x", "P", "st", "W", "S", "D", "K", "B", "G", "E", "ES", "LE", "N", "F", src)(
    _H,
    X,
    _pending,
    st,
    what,
    structs,
    d,
    k,
    block,
    locs,
    live,
    saved,
    LE,
    { c: 0 },
    F,
  );
  return { fn, init, enter, st };
}

/** Counts the struct-argument helpers compiled, to make each one's source unique. */
let helperSerial = 0;

function isCallState(x: CallState | Deno.PointerObject): x is CallState {
  return typeof (x as CallState).r === "function";
}

// ---- One shared call path for programs that cycle through many signatures -------------------------

// Argument kinds of the shared path (numbers, for a switch V8 compiles to a jump table).
const Code = {
  I32: 0,
  U32: 1,
  I64: 2,
  F32: 3,
  F64: 4,
  Bool: 5,
  Pointer: 6,
  String: 7,
  Struct: 8,
  Void: 9,
} as const;

function codeOf(t: TypeSpec): number {
  switch (t.name) {
    case "i8":
    case "i16":
    case "i32":
      return Code.I32;
    case "u8":
    case "u16":
    case "u32":
      return Code.U32;
    case "i64":
    case "isize":
    case "u64":
    case "usize":
      return Code.I64;
    case "f32":
      return Code.F32;
    case "f64":
      return Code.F64;
    case "bool":
      return Code.Bool;
    case "pointer":
      return Code.Pointer;
    case "string":
      return Code.String;
    case "struct":
      return Code.Struct;
    default:
      return Code.Void;
  }
}

/**
 * A function bound for the shared call path: what {@linkcode _genericCall} needs to check, write
 * and read its arguments and result in its register block.
 */
export interface GenericCall {
  readonly name: string;
  readonly sig: Signature;
  readonly codes: Int32Array;
  readonly at: Int32Array;
  readonly locs: readonly Loc[];
  readonly what: readonly string[];
  readonly d: DataView;
  readonly k: Chunk;
  readonly block: Deno.PointerObject;
  /** Calls made so far (to detect a call re-entered while its arguments are written). */
  calls: number;
}

/**
 * The shared call path for `sig` calling `target`, or null where it does not apply (no register
 * engine on this platform). Every bound function gets its own compiled wrapper, which V8 optimises
 * once it has run a while; until then each of its calls leaves Deno's fast path (hundreds of
 * nanoseconds). A program cycling through many signatures (`Library.call` with a different one at
 * every call) keeps most wrappers cold: this one function serves them all, so it is the one V8
 * optimises, and its one call into the engine stays on Deno's fast path.
 * @internal
 * @ignore
 */
export function _genericEngine(name: string, sig: Signature, target: Deno.PointerValue): GenericCall | null {
  if (_engineOptions.libffi || !sysvCan(sig)) return null;
  _checkByValueSize(name, sig);
  const layout = sysvLayout(sig);
  const buf = new ArrayBuffer(layout.blockSize);
  const block = Deno.UnsafePointer.of(buf);
  if (block === null) return null;
  const ok = _native().lffi_sysv_block_init(
    block,
    buf.byteLength,
    target,
    layout.nstack,
    layout.stackAt,
    layout.retInMemory ? 1 : 0,
  );
  if (ok !== 1) return null;
  return {
    name,
    sig,
    codes: Int32Array.from([...sig.args, sig.ret], codeOf),
    at: Int32Array.from([...layout.args, layout.ret], (l) => l.at),
    locs: [...layout.args, layout.ret],
    what: sig.args.map((t, i) => `argument ${i} (${t.label}) of ${name}`),
    d: new DataView(buf),
    k: new Chunk(buf, block, callScoped),
    block,
    calls: 0,
  };
}

/** Checks and writes argument `i` of a shared-path call. */
function genericArg(g: GenericCall, i: number, x: unknown): void {
  const d = g.d;
  const o = g.at[i];
  const t = g.sig.args[i];
  switch (g.codes[i]) {
    case Code.I32:
      d.setInt32(
        o,
        typeof x === "number" && (x | 0) === x && t.name === "i32" ? x : _H.cint(x, t.name, g.what[i]),
        true,
      );
      return;
    case Code.U32:
      d.setUint32(
        o,
        typeof x === "number" && (x >>> 0) === x && t.name === "u32" ? x : _H.cint(x, t.name, g.what[i]),
        true,
      );
      return;
    case Code.I64:
      // (Comparisons with constants inside the int64 range are compiled inline by V8; one with 2^64-1
      // is a runtime call, so values from 2^63 up take the helper.)
      if (typeof x === "bigint" && x >= -9223372036854775808n && x <= 9223372036854775807n) {
        d.setBigInt64(o, x, true);
      } else if (typeof x === "number" && Number.isSafeInteger(x)) {
        d.setUint32(o, x >>> 0, true);
        d.setInt32(o + 4, Math.floor(x / 4294967296), true);
      } else {
        d.setBigInt64(o, _H.i64(x, t.name, g.what[i], t.name === "i64" || t.name === "isize"), true);
      }
      return;
    case Code.F32:
      d.setFloat32(o, typeof x === "number" ? x : _H.float(x, "f32", g.what[i]), true);
      return;
    case Code.F64:
      d.setFloat64(o, typeof x === "number" ? x : _H.float(x, "f64", g.what[i]), true);
      return;
    case Code.Bool:
      d.setUint32(o, (x === true || x === false ? x : _H.bool(x, g.what[i])) ? 1 : 0, true);
      return;
    case Code.String:
      if (typeof x === "string") {
        const a = _H.strAddr(x);
        d.setUint32(o, a >>> 0, true);
        d.setUint32(o + 4, Math.floor(a / 4294967296), true);
      } else if (x === null) {
        d.setFloat64(o, 0);
      } else {
        writePtr(d, o, x, g.what[i]);
      }
      return;
    case Code.Pointer:
      if (x === null) d.setFloat64(o, 0);
      else writePtr(d, o, x, g.what[i]);
      return;
    case Code.Struct:
      writeStruct(t.struct!, g.k, g.locs[i], x, g.what[i]);
      return;
  }
}

/** Reads the result of a shared-path call. */
function genericResult(g: GenericCall): unknown {
  const n = g.sig.args.length;
  const d = g.d;
  const o = g.at[n];
  const t = g.sig.ret;
  switch (t.name) {
    case "void":
      return undefined;
    case "bool":
      return d.getUint8(o) !== 0;
    case "i8":
      return d.getInt8(o);
    case "u8":
      return d.getUint8(o);
    case "i16":
      return d.getInt16(o, true);
    case "u16":
      return d.getUint16(o, true);
    case "i32":
      return d.getInt32(o, true);
    case "u32":
      return d.getUint32(o, true);
    case "i64":
    case "isize":
      return d.getBigInt64(o, true);
    case "u64":
    case "usize":
      return d.getBigUint64(o, true);
    case "f32":
      return d.getFloat32(o, true);
    case "f64":
      return d.getFloat64(o, true);
    case "pointer":
      return readPtr(d, o);
    case "string":
      return readString(d, o);
    default:
      return readStruct(t.struct!, g.k, g.locs[n]);
  }
}

let sysvEntry: ((block: Deno.PointerObject) => void) | null = null;

/**
 * Calls `g` with `args` on the shared path: the same value rules, string lifetimes, errno and
 * callback-exception handling as the compiled wrappers.
 * @internal
 * @ignore
 */
export function _genericCall(g: GenericCall, args: unknown[]): unknown {
  const n = g.sig.args.length;
  if (args.length !== n) {
    _H.arity(g.name, `(${g.sig.args.map((t) => t.label).join(", ")})`, n, args.length);
  }
  const { live, saved, lastError } = _errnoCells();
  const entry = sysvEntry ??= _native().lffi_call_sysv as (block: Deno.PointerObject) => void;
  const t0 = _H.top;
  try {
    const f0 = _pending.frees;
    const n0 = g.calls;
    for (let i = 0; i < n; i++) genericArg(g, i, args[i]);
    if (_pending.frees !== f0) _H.freedDuring(g.name);
    if (g.calls !== n0) reentered(g.name);
    g.calls = n0 + 1;
    if (saved[2] !== 0) _H.putErrno();
    entry(g.block);
    saved[0] = live[0];
    if (lastError !== null) saved[1] = lastError[0];
    if (_pending.has) _H.rethrow();
    return genericResult(g);
  } finally {
    _H.top = t0;
    if (t0 === 0 && _H.spill.length !== 0) _H.spill.length = 0;
  }
}
