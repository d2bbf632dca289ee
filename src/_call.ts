/**
 * Calls into C and back: C signatures, the Deno definitions they map to, and the specialised
 * JavaScript wrappers that convert each argument and result by the value rules (the guide, `docs/guide.md`).
 *
 * Both directions are compiled once per signature into a small function with only the conversions
 * that signature needs, named after the C symbol so stack traces say which call failed (the model is
 * Deno's own `00_ffi.js`). A call wrapper costs a few nanoseconds on top of Deno's fast path.
 *
 * An exception thrown by a JS callback must not unwind through C frames. The callback wrapper catches
 * it, records it in {@linkcode _pending}, and returns a zero value to C; every call wrapper checks
 * the record when C returns and rethrows the same error object to its JS caller.
 *
 * @module
 */

import { Chunk } from "./_chunk.ts";
import { type Codec, kAllocCString, kCodec } from "./_codec.ts";
import type { FieldInfo, StructCodec } from "./_struct_codec.ts";
import { _bool, _float, _int, _int64 } from "./_values.ts";
import { _abiFields, _needsAbiFields } from "./_abi.ts";
import { StructDefinition } from "./struct.ts";
import { _pending, _release } from "./_defer.ts";

export { _pending, _release };
import { _rawFromPointerValue, _toPointerValue, kToRaw, type RawPointer } from "./pointer.ts";
import { _describe, _isFunctionType, _primitive, type PrimitiveName, typeNames } from "./types.ts";
import { _get, FfiError } from "./errors.ts";
import { _errnoCells } from "./errno.ts";

/** A struct definition as a by-value C type: its codec and the Deno `{ struct: [...] }` type. */
export interface StructSpec {
  readonly def: object;
  readonly codec: Codec;
  readonly size: number;
  readonly align: number;
  readonly native: Deno.NativeStructType;
  /** Its libffi description (see `native/src/call.rs`): `FFI_TYPE_STRUCT, n, <n elements>`. */
  readonly ffi: readonly number[];
  /** Its layout as a string: equal for definitions of the same layout (the binding caches' key). */
  readonly key: string;
}

/**
 * One C type of a signature, resolved.
 * @internal
 * @ignore
 */
export interface TypeSpec {
  /** Canonical primitive name, or `"struct"`. */
  readonly name: PrimitiveName | "struct";
  /** Set for struct types. */
  readonly struct: StructSpec | null;
  /** What Deno is told. */
  readonly native: Deno.NativeResultType;
  /** How it reads in messages: `"i32"`, `"struct (8 bytes)"`. */
  readonly label: string;
  /** The type's identity for caches: its canonical name, or a struct's layout key. */
  readonly key: string;
}

/**
 * A C function type: return type and argument types, resolved.
 * @internal
 * @ignore
 */
export interface Signature {
  readonly ret: TypeSpec;
  readonly args: readonly TypeSpec[];
}

const DENO_TYPE: Record<PrimitiveName, Deno.NativeResultType> = {
  void: "void",
  bool: "bool",
  i8: "i8",
  u8: "u8",
  i16: "i16",
  u16: "u16",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  isize: "isize",
  usize: "usize",
  f32: "f32",
  f64: "f64",
  // A string argument is passed as the address of a NUL-terminated copy, a string result read from one.
  pointer: "pointer",
  string: "pointer",
};

/** libffi's `FFI_TYPE_*` code of each primitive (`bool` is a byte, `char*` a pointer). */
const FFI_CODE: Record<PrimitiveName, number> = {
  void: 0,
  f32: 2,
  f64: 3,
  bool: 5,
  u8: 5,
  i8: 6,
  u16: 7,
  i16: 8,
  u32: 9,
  i32: 10,
  u64: 11,
  usize: 11,
  i64: 12,
  isize: 12,
  pointer: 14,
  string: 14,
};
const FFI_TYPE_STRUCT = 13;

/**
 * The libffi description of a resolved type (see `native/src/call.rs`).
 * @internal
 * @ignore
 */
export function _ffiWords(t: TypeSpec): readonly number[] {
  return t.struct !== null ? t.struct.ffi : [FFI_CODE[t.name as PrimitiveName]];
}

const primitiveSpecs = new Map<PrimitiveName, TypeSpec>();
for (const name of Object.keys(DENO_TYPE) as PrimitiveName[]) {
  primitiveSpecs.set(
    name,
    Object.freeze({ name, struct: null, native: DENO_TYPE[name], label: name, key: name }),
  );
}

/** The structs already mapped to Deno types, by definition. */
const structSpecs = new WeakMap<object, StructSpec>();

function structSpec(def: object, where: string): StructSpec {
  const known = structSpecs.get(def);
  if (known !== undefined) return known;
  const codec = _get(def, kCodec) as Codec | undefined;
  // A StructDefinition keeps its field list as given (`spec`): [name, type] or [name, type, length].
  const members = _get(def, "spec");
  if (codec === undefined || !Array.isArray(members)) {
    throw new TypeError(
      `Cannot use ${_describe(def)} as the C type of ${where}: it is not a struct definition`,
    );
  }
  const fields: Deno.NativeType[] = [];
  // libffi lays out and classifies nested structs as C does (a flattened list would lose the tail
  // padding of a nested struct); an array is its element type repeated, which is ABI-identical.
  const ffi: number[] = [FFI_TYPE_STRUCT, 0];
  let size = codec.size;
  let align = codec.align;
  if (def instanceof StructDefinition && _needsAbiFields(def)) {
    // Unions, packed structs, bitfields and anonymous members: described by their eightbytes. The
    // description may be a little larger than a packed struct (its tail rounded to its pieces'
    // alignment): what crosses the boundary is that many bytes, of which the struct is the first.
    const abi = _abiFields(def);
    for (const t of abi.fields) {
      fields.push(t);
      ffi.push(FFI_CODE[t as PrimitiveName]);
      ffi[1]++;
    }
    size = abi.size;
    align = abi.align;
  } else {for (const [, type, length] of members as [string, unknown, unknown][]) {
      if (length !== undefined && typeof length !== "number") {
        throw new TypeError(
          `Cannot pass ${_describe(def)} by value for ${where}: a field with ${_describe(length)} ` +
            `(a bitfield or other special member) cannot be described to the calling convention`,
        );
      }
      const t = _typeSpec(type, `a field of the struct of ${where}`, false);
      const words = _ffiWords(t);
      for (let i = 0; i < (length ?? 1); i++) {
        fields.push(t.native as Deno.NativeType);
        for (const w of words) ffi.push(w);
        ffi[1]++;
      }
    }}
  const result: StructSpec = Object.freeze({
    def,
    codec,
    size,
    align,
    native: { struct: fields },
    ffi,
    // (The size and alignment of the description first: a packed struct's may be rounded up.)
    key: `${size}/${align}${codecKey(codec)}`,
  });
  structSpecs.set(def, result);
  return result;
}

let unknownLayouts = 0;
const unknownKeys = new WeakMap<object, string>();

/**
 * A string equal for struct codecs that read and write the same fields at the same places (so one
 * binding serves definitions made anew at each call site): size, alignment, and each field's name,
 * offset, type (a nested struct's own key), array length and bit range.
 */
function codecKey(codec: Codec): string {
  const fields = (codec as Partial<StructCodec>).fields;
  if (!Array.isArray(fields)) {
    // Not a codec we know the fields of: its own key, shared with nothing.
    let k = unknownKeys.get(codec);
    if (k === undefined) unknownKeys.set(codec, k = `?${++unknownLayouts}`);
    return k;
  }
  const parts = (fields as FieldInfo[]).map((f) =>
    `${JSON.stringify(f.name)}@${f.offset}:${f.def !== null ? codecKey(f.codec) : f.prim}` +
    `${f.length !== undefined ? `[${f.length}]` : ""}${
      f.bits !== undefined ? `:${f.bits}@${f.bitOffset}` : ""
    }`
  );
  return `{${codec.size}/${codec.align}:${parts.join(",")}}`;
}

/**
 * Resolves one C type of a signature; a TypeError that names the position for an unknown type, or
 * `void` as an argument.
 * @internal
 * @ignore
 */
export function _typeSpec(t: unknown, where: string, isReturn: boolean): TypeSpec {
  if (typeof t === "string") {
    const info = _primitive(t);
    if (info === undefined) throw unknownType(t, where);
    const spec = primitiveSpecs.get(info.name)!;
    if (spec.name === "void" && !isReturn) {
      throw new TypeError(`Invalid C type "void" for ${where}: void is only a return type`);
    }
    return spec;
  }
  // A function type (a Signature from ffi.cdef) is a function pointer.
  if (_isFunctionType(t)) return primitiveSpecs.get("pointer")!;
  if (typeof t === "object" && t !== null) {
    const struct = structSpec(t, where);
    return {
      name: "struct",
      struct,
      native: struct.native,
      label: `struct (${struct.size} bytes)`,
      key: struct.key,
    };
  }
  throw unknownType(t, where);
}

function unknownType(t: unknown, where: string): TypeError {
  return new TypeError(
    `Unknown C type ${_describe(t)} for ${where}: expected a type name (${
      typeNames.join(", ")
    }) or a struct definition`,
  );
}

/**
 * The cache identity of a C type as given: a type name as spelled, a struct definition's layout key
 * (equal for equal layouts, so a definition made anew at each call site finds the same binding), or
 * `undefined` for a value that is not a type (resolving it then throws the proper error).
 * @internal
 * @ignore
 */
export function _typeKey(t: unknown): string | undefined {
  if (typeof t === "string") return t;
  if (typeof t !== "object" || t === null) return undefined;
  const known = structSpecs.get(t);
  if (known !== undefined) return known.key;
  try {
    return structSpec(t, "a cache key").key;
  } catch {
    return undefined;
  }
}

/**
 * The identity of a resolved signature, for caches shared by every library and pointer.
 * @internal
 * @ignore
 */
export function _signatureKey(sig: Signature): string {
  return `${sig.ret.key}(${sig.args.map((a) => a.key).join(",")})`;
}

/**
 * Resolves a signature, checking every type. `what` names the C function in messages, `fn` the
 * public function given the types (`Library.call()`), whose parameters are `ret` and `argTypes`.
 * @internal
 * @ignore
 */
export function _signature(what: string, ret: unknown, argTypes: unknown, fn?: string): Signature {
  if (!Array.isArray(argTypes)) {
    throw new TypeError(
      fn === undefined
        ? `Invalid argument types for ${what}: expected an array of C types, got ${_describe(argTypes)}`
        : `${fn}: expected an array of C types for argTypes (of ${what}), got ${_describe(argTypes)}`,
    );
  }
  // A plain loop: `map` skips the holes of a sparse list (`["i32", , "i32"]`), which then reached the
  // generated code as a syntax error.
  const args = [];
  for (let i = 0; i < argTypes.length; i++) {
    if (!(i in argTypes)) {
      throw new TypeError(
        `${fn === undefined ? "" : `${fn}: `}Invalid argument types for ${what}: argument ${i} has no type ` +
          `(a hole in argTypes ${_describe(argTypes)})`,
      );
    }
    const where = `argument ${i} of ${what}`;
    args.push(_typeSpec(argTypes[i], fn === undefined ? where : `argTypes[${i}] of ${fn} (${where})`, false));
  }
  const where = `the return value of ${what}`;
  return { ret: _typeSpec(ret, fn === undefined ? where : `ret of ${fn} (${where})`, true), args };
}

/**
 * Whether call arguments of C types narrower than `int` (`bool`, `i8`, `u8`, `i16`, `u16`) are passed to
 * Deno as a full 32-bit `i32`/`u32`. Deno writes only the low 1 or 2 bytes of such an argument when it
 * lands in a stack slot (the 7th integer argument onwards on x86_64), leaving garbage above it. A
 * variadic callee reads an `int` there (C promotes the caller's small arguments to `int`), so
 * `snprintf(buf, n, fmt, ..., (bool)true)` printed 513; clang-built callees also assume a
 * sign/zero-extended 32-bit value for fixed arguments. Every value is already range-checked and
 * sign/zero-extended by {@linkcode toNative}, so passing it widened is what a C caller does. Not on
 * Apple arm64, whose ABI packs fixed stack arguments at their natural size.
 */
const WIDEN_SMALL_ARGS = !(Deno.build.os === "darwin" && Deno.build.arch === "aarch64");
const WIDENED: Partial<Record<PrimitiveName, Deno.NativeType>> = WIDEN_SMALL_ARGS
  ? { bool: "u32", i8: "i32", u8: "u32", i16: "i32", u16: "u32" }
  : {};

/**
 * The Deno definition of a signature (for calls into C; callbacks use the types as they are).
 * @internal
 * @ignore
 */
export function _denoDefinition(sig: Signature): Deno.ForeignFunction {
  return {
    parameters: sig.args.map((a) => WIDENED[a.name as PrimitiveName] ?? a.native as Deno.NativeType),
    result: sig.ret.native,
  };
}

/** Number of arguments passed in general-purpose registers or stack slots (System V "INTEGER" class). */
export function _integerClassCount(sig: Signature): number {
  let n = 0;
  for (const a of sig.args) if (a.name !== "f32" && a.name !== "f64" && a.name !== "struct") n++;
  return n;
}

// The pointer of a closed callback is refused by `_toPointerValue` (pointer.ts), for call arguments,
// callback results and memory writes alike.
function pointerArg(x: unknown, what: string): Deno.PointerValue {
  // A JS typed array or ArrayBuffer is lent to C for the duration of the call, as Deno's "buffer"
  // type does (typed pointers are typed arrays too, but go through their RawPointer, bounds kept).
  if (
    typeof x === "object" && x !== null && !(kToRaw in x) &&
    (ArrayBuffer.isView(x) || x instanceof ArrayBuffer)
  ) {
    const p = Deno.UnsafePointer.of(x);
    // Deno gives null for a detached or empty buffer: C would get NULL where the caller meant memory.
    if (p === null) {
      throw new TypeError(
        `Cannot pass ${_describe(x)} as a pointer for ${what}: it has no memory (detached or empty); ` +
          `pass null for NULL`,
      );
    }
    return p;
  }
  return _toPointerValue(x, what);
}

/** Rethrows the pending callback exception and clears it. */
function rethrow(): never {
  const e = _pending.error;
  _pending.has = false;
  _pending.error = undefined;
  throw e;
}

/**
 * Records an exception thrown inside a callback. The first one wins: later callbacks of the same
 * outer call return zero without running. If no synchronous call of ours is there to rethrow it (C
 * called from another thread, or was reached through raw `Deno.dlopen`), the callback's `claim`
 * may give it to a pending nonblocking call, else it is rethrown from a microtask so it still
 * surfaces as uncaught.
 * @internal
 * @ignore
 */
export function _fail(e: unknown, g?: { claim?: (e: unknown) => boolean }): void {
  if (_pending.has) return;
  _pending.has = true;
  _pending.error = e;
  queueMicrotask(() => {
    if (!_pending.has || _pending.error !== e) return;
    if (g?.claim?.(e)) {
      _pending.has = false;
      _pending.error = undefined;
    } else {
      rethrow();
    }
  });
}

const encoder = new TextEncoder();

/**
 * String arguments are copied into a scratch stack of native-addressable memory, at slot boundaries
 * whose Deno pointer objects are made once: encoding a fresh `Uint8Array` and taking its address
 * costs about a microsecond, this costs tens of nanoseconds. A call frees its copies when it returns
 * (`_H.top` goes back to where it was), so calls nested through callbacks stack above it.
 */
const SCRATCH_SIZE = 64 * 1024;
const SLOT = 16;
let scratch: Uint8Array | null = null;
let scratchBase: Deno.PointerObject | null = null;
let scratchAddr = 0;
const slotPointers: Deno.PointerObject[] = [];

function slotPointer(slot: number): Deno.PointerObject {
  return (slotPointers[slot] = Deno.UnsafePointer.offset(scratchBase!, slot * SLOT)!);
}

/**
 * Copies `s` as NUL-terminated UTF-8 into the scratch, where it lives until the current call
 * returns; gives its byte offset there, or -1 when it was too big and went to the end of `_H.spill`.
 */
function strInto(s: string): number {
  if (scratch === null) {
    const buf = new ArrayBuffer(SCRATCH_SIZE);
    scratch = new Uint8Array(buf);
    scratchBase = Deno.UnsafePointer.of(buf)!;
    scratchAddr = Number(Deno.UnsafePointer.value(scratchBase));
  }
  const top = _H.top;
  const n = s.length;
  if (top + n * 3 + 1 > SCRATCH_SIZE) {
    // Too big for what is left of the scratch: a copy of its own, kept alive in `spill` until the
    // outermost call returns. Reserving a slot makes nested calls see a non-zero `top`.
    _H.spill.push(encoder.encode(s + "\0"));
    if (top + SLOT <= SCRATCH_SIZE) _H.top = top + SLOT;
    return -1;
  }
  const u8 = scratch;
  let i = 0;
  for (; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x80) break;
    u8[top + i] = ch;
  }
  const end = i === n ? top + n : top + i + encoder.encodeInto(s.slice(i), u8.subarray(top + i)).written;
  u8[end] = 0;
  _H.top = (end + SLOT) & ~(SLOT - 1);
  return top;
}

/** The address of a NUL-terminated UTF-8 copy of `s` that lives until the current call returns. */
function str(s: string): Deno.PointerValue {
  const at = strInto(s);
  if (at < 0) return Deno.UnsafePointer.of(_H.spill[_H.spill.length - 1]);
  const slot = at / SLOT;
  return slotPointers[slot] ?? slotPointer(slot);
}

/** {@linkcode str} as a numeric address. */
function strAddr(s: string): number {
  const at = strInto(s);
  if (at >= 0) return scratchAddr + at;
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(_H.spill[_H.spill.length - 1])));
}

/** Decodes a non-null `char*`. */
function cstring(p: Deno.PointerObject): string {
  return Deno.UnsafePointerView.getCString(p);
}

/**
 * The owner of a by-value struct argument's bytes: a JS string in a `char*` field is copied to the
 * call's string scratch, so it lives for the call, as a plain string argument does.
 */
const callStrings = {
  [kAllocCString]: (s: string): number => Number(Deno.UnsafePointer.value(str(s))),
};

/** Writes a struct argument (plain object or StructView) into fresh bytes for Deno. */
function structIn(s: StructSpec, v: unknown, what: string): Uint8Array {
  if (typeof v !== "object" || v === null) {
    throw new TypeError(
      `Cannot convert ${_describe(v)} to a struct for ${what}: expected an object or a StructView`,
    );
  }
  const chunk = Chunk.allocate(s.size, callStrings);
  s.codec.write(chunk, chunk.ptr, 0, v, what);
  return chunk.u8.subarray(0, s.size);
}

/** Reads a struct result (the bytes Deno returns) as a plain object. */
function structOut(s: StructSpec, bytes: Uint8Array): unknown {
  const buf = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer as ArrayBuffer
    : bytes.slice().buffer;
  const ptr = Deno.UnsafePointer.of(buf);
  if (ptr === null) return s.codec.read(null, null, 0);
  return s.codec.read(new Chunk(buf, ptr, null), ptr, 0);
}

/**
 * Helpers the generated code calls: everything off the fast path lives here.
 * @internal
 * @ignore
 */
export const _H = {
  /** Bytes of the string scratch in use (see `str`). */
  top: 0,
  /** String copies too big for the scratch, alive until the outermost call returns. */
  spill: [] as Uint8Array[],
  str,
  strAddr,
  int: _int,
  /** Checks a JS value for a C integer type of at most 32 bits and converts it as C does. */
  cint(v: unknown, type: string, what: string): number {
    const n = _int(v, type, what);
    switch (type) {
      case "i8":
        return n << 24 >> 24;
      case "u8":
        return n & 0xff;
      case "i16":
        return n << 16 >> 16;
      case "u16":
        return n & 0xffff;
      case "u32":
        return n >>> 0;
      default:
        return n | 0;
    }
  },
  i64: _int64,
  float: _float,
  bool: _bool,
  ptr: pointerArg,
  raw: (p: Deno.PointerValue): RawPointer => _rawFromPointerValue(p),
  cstring,
  structIn,
  structOut,
  rethrow,
  fail: _fail,
  arity(name: string, sig: string, want: number, got: number): never {
    throw new TypeError(`${name}${sig} takes ${want} argument${want === 1 ? "" : "s"}, got ${got}`);
  },
  ptrResult: _toPointerValue,
  /** Puts back the errno and last-error values `ffi.errno(v)`/`ffi.lastError(v)` set (Windows). */
  putErrno(): void {
    const c = _errnoCells();
    if (c.saved[2] & 1) c.live[0] = c.saved[0];
    if (c.saved[2] & 2 && c.lastError !== null) c.lastError[0] = c.saved[1];
    c.saved[2] = 0;
    _pending.errnoSet = false;
  },
  freedDuring(name: string): never {
    throw new FfiError(
      `Cannot call ${name}: managed memory was freed while its arguments were converted (by a getter ` +
        `or kToRaw method run for one of them), so an argument may point to freed memory`,
    );
  },
  strResult(v: unknown, what: string): Deno.PointerValue {
    if (typeof v === "string") {
      throw new TypeError(
        `Cannot return a JS string as ${what}: C would get memory that dies with the callback. ` +
          `Return a pointer to memory that outlives it (an arena allocation), or null`,
      );
    }
    return _toPointerValue(v, what);
  },
};

/** Integer types up to 32 bits: the range a value must be in, and how C converts it to the width. */
const SMALL_INT: Partial<Record<PrimitiveName, { min: number; max: number; conv: string }>> = {
  i8: { min: -0x80, max: 0xff, conv: "<< 24 >> 24" },
  u8: { min: -0x80, max: 0xff, conv: "& 0xff" },
  i16: { min: -0x8000, max: 0xffff, conv: "<< 16 >> 16" },
  u16: { min: -0x8000, max: 0xffff, conv: "& 0xffff" },
};

const I64_RANGE = "-9223372036854775808n && X <= 9223372036854775807n";
const U64_RANGE = "0n && X <= 18446744073709551615n";

/**
 * Source that converts the JS value `x` to what Deno takes for `t`, into `const c`; `w` is the
 * expression naming the value in messages. Checks come first so nothing is passed unchecked.
 */
function toNative(t: TypeSpec, x: string, c: string, w: string, sIdx: string, isResult: boolean): string {
  // Each check is one conditional expression whose slow arm (a helper that converts or throws) gives
  // the value: V8 then knows the type of the result. An `if (bad) h.fail(x)` statement before the
  // conversion (the helper might return, as far as V8 knows) made a nine-argument call 2x slower.
  const small = SMALL_INT[t.name as PrimitiveName];
  if (small !== undefined) {
    return `const ${c} = typeof ${x} === "number" && ${x} >= ${small.min} && ${x} <= ${small.max} && ` +
      `(${x} | 0) === ${x} ? ${x} ${small.conv} : h.cint(${x}, "${t.name}", ${w});`;
  }
  switch (t.name) {
    case "i32":
      // Either range is accepted (0xFFFFFFFF passes as -1, as C converts it), in the helper.
      // `typeof` first: `|` on a bigint throws, and on an object would run its valueOf.
      return `const ${c} = typeof ${x} === "number" && (${x} | 0) === ${x} ? ${x} : h.cint(${x}, "i32", ${w});`;
    case "u32":
      return `const ${c} = typeof ${x} === "number" && (${x} >>> 0) === ${x} ? ${x} : h.cint(${x}, "u32", ${w});`;
    case "i64":
    case "isize":
      // Deno's fast path takes 64-bit integers as bigint only: a number would send it to its slow path.
      return `const ${c} = typeof ${x} === "bigint" && ${x} >= ${I64_RANGE.replaceAll("X", x)} ? ${x} : ` +
        `h.i64(${x}, "${t.name}", ${w}, true);`;
    case "u64":
    case "usize":
      return `const ${c} = typeof ${x} === "bigint" && ${x} >= ${U64_RANGE.replaceAll("X", x)} ? ${x} : ` +
        `h.i64(${x}, "${t.name}", ${w}, false);`;
    case "f32":
    case "f64":
      return `const ${c} = typeof ${x} === "number" ? ${x} : h.float(${x}, "${t.name}", ${w});`;
    case "bool":
      if (!isResult && WIDEN_SMALL_ARGS) {
        // As a call argument it is passed widened to u32 (see WIDEN_SMALL_ARGS): 0 or 1.
        return `const ${c} = (${x} === true || ${x} === false ? ${x} : h.bool(${x}, ${w})) ? 1 : 0;`;
      }
      return `const ${c} = ${x} === true || ${x} === false ? ${x} : h.bool(${x}, ${w});`;
    case "pointer":
      // A callback result is not lent for a call: C uses it after the callback returns, when a JS typed
      // array may be gone, so it takes what memory writes take (as a `string` result does).
      if (isResult) return `const ${c} = ${x} === null ? null : h.ptrResult(${x}, ${w});`;
      return `const ${c} = ${x} === null ? null : h.ptr(${x}, ${w});`;
    case "string":
      if (isResult) return `const ${c} = ${x} === null ? null : h.strResult(${x}, ${w});`;
      return `const ${c} = typeof ${x} === "string" ? h.str(${x}) : ${x} === null ? null : h.ptr(${x}, ${w});`;
    case "struct":
      return `const ${c} = h.structIn(${sIdx}, ${x}, ${w});`;
    default:
      throw new Error(`unreachable: ${t.name}`);
  }
}

/** Source of the expression converting Deno's value `r` of type `t` to ours. */
function fromNative(t: TypeSpec, r: string, sIdx: string): string {
  switch (t.name) {
    case "pointer":
      return `h.raw(${r})`;
    case "string":
      return `(${r} === null ? null : h.cstring(${r}))`;
    case "struct":
      return `h.structOut(${sIdx}, ${r})`;
    case "void":
      return "undefined";
    default:
      return r;
  }
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Names the generated code uses for itself, which a wrapper's own name must not shadow. */
const INTERNAL = /^(?:[hPWSEDKBxLnr]|st|ES|LE|fn|g|t0|f0|xa|[ac]\d+|arguments|eval|undefined)$/;

/**
 * A valid function name for generated code: the C name when JS allows it (and it does not shadow a
 * name of the generated code), else `$` and the name with other characters replaced.
 * @internal
 * @ignore
 */
export function _jsName(name: string): string {
  if (IDENT.test(name) && !INTERNAL.test(name)) {
    try {
      new Function(`function ${name}() {}`);
      return name;
    } catch {
      // A JS reserved word (`delete`, `new`): fall through.
    }
  }
  return "$" + name.replace(/[^\w$]/g, "_");
}

/**
 * The state a call wrapper calls through: `f` is the Deno function (null until `r`, the resolver,
 * has bound it), `t` the extra trampoline argument. The wrapper calls `r()` first while `f` is
 * null, so its call site only ever sees the final function: a call site that has seen two targets
 * is megamorphic, and V8 then leaves Deno's fast path (about 10 ns more per call).
 */
export interface CallState {
  f: ((...args: unknown[]) => unknown) | null;
  t: Deno.PointerValue | number | undefined;
  r: () => void;
}

/**
 * The state of a function bound now: `f` and `t` final from the start. Such objects are only ever
 * written again when their library closes, so V8 treats `f` as a constant of the wrapper and inlines
 * Deno's fast call; a field written after creation (a lazily resolved symbol) makes the pre-call load
 * and test real work for every object of that shape, 2.7 ns a call (75% of a raw Deno call). Lazily
 * resolved states are made by {@linkcode _lazyCallState}, of another shape, so they never cost the
 * bound ones that.
 * @internal
 * @ignore
 */
export function _boundCallState(
  f: (...args: unknown[]) => unknown,
  t: Deno.PointerValue | number | undefined,
): CallState {
  return { f, t, r: noResolve };
}

function noResolve(): void {}

/**
 * Makes `st` refuse further calls through `refuse` (its library closed). `f` is deleted rather than
 * written: the object drops out of the shape bound states share, so their `f` stays a constant of
 * their wrappers (a write would make it a variable for all of them, see {@linkcode _boundCallState}).
 * @internal
 * @ignore
 */
export function _closeCallState(st: CallState, refuse: () => never): void {
  delete (st as { f?: unknown }).f;
  st.t = undefined;
  st.r = refuse;
}

/** The state of a function resolved on first call (see {@linkcode _boundCallState}). */
class LazyCallState implements CallState {
  f: ((...args: unknown[]) => unknown) | null = null;
  t: Deno.PointerValue | number | undefined;
  r: () => void = noResolve;
  constructor(t: Deno.PointerValue | number | undefined) {
    this.t = t;
  }
}

/**
 * A call state whose `f` is set later, by its resolver `r` or right after the wrapper is compiled.
 * @internal
 * @ignore
 */
export function _lazyCallState(t: Deno.PointerValue | number | undefined): CallState {
  return new LazyCallState(t);
}

/**
 * Compiles the JS wrapper for calls to C function `name` with `sig` through `st.f`, appending `st.t`
 * when `withTarget` is set (the variadic trampoline). Arguments are checked and converted before the
 * call; a pending callback exception is rethrown after it.
 * @internal
 * @ignore
 */
export function _compileCall(
  name: string,
  sig: Signature,
  st: CallState,
  withTarget: boolean,
): (...args: unknown[]) => unknown {
  const { live, saved, lastError: LE } = _errnoCells();
  const n = sig.args.length;
  const what = sig.args.map((t, i) => `argument ${i} (${t.label}) of ${name}`);
  const structs = [...sig.args.map((t) => t.struct), sig.ret.struct];
  const lines: string[] = [];
  lines.push(_guardLine(sig));
  // (A struct argument may hold a JS string in a `char*` field: copied to the same scratch.)
  const hasString = sig.args.some((t) => t.name === "string" || t.name === "struct");
  // String copies are freed when the call ends, however it ends.
  if (hasString) lines.push("const t0 = h.top;\ntry {");
  const userCode = _mayRunUserCode(sig);
  if (userCode) lines.push("const f0 = P.frees;");
  const callArgs: string[] = [];
  sig.args.forEach((t, i) => {
    if (_badSource(t, `a${i}`) !== null) {
      // Checked by the guard: passed as it is (a bool as 0 or 1, see WIDEN_SMALL_ARGS; an integer
      // through `| 0` or `>>> 0`, free in optimised code, which turns -0, refused by Deno, into 0).
      callArgs.push(
        t.name === "bool" && WIDEN_SMALL_ARGS
          ? `(a${i} ? 1 : 0)`
          : t.name === "i8" || t.name === "i16" || t.name === "i32"
          ? `a${i} | 0`
          : t.name === "u8" || t.name === "u16" || t.name === "u32"
          ? `a${i} >>> 0`
          : `a${i}`,
      );
    } else {
      lines.push(toNative(t, `a${i}`, `c${i}`, `W[${i}]`, `S[${i}]`, false));
      callArgs.push(`c${i}`);
    }
  });
  if (userCode) lines.push(`if (P.frees !== f0) h.freedDuring(${JSON.stringify(name)});`);
  // A target known now (a number: see `_trampolineTarget`) is a constant of the code.
  if (withTarget) callArgs.push(typeof st.t === "number" && st.f !== null ? String(st.t) : "st.t");
  // errno: saved right after the call; set right before it when `ffi.errno(value)` asked for it.
  lines.push("if (P.errnoSet) h.putErrno();");
  // `== null`: also true once the library closed (`_closeCallState` deletes `f`).
  lines.push("if (st.f == null) st.r();");
  lines.push(`const r = st.f(${callArgs.join(", ")});`);
  lines.push("ES[0] = E[0];");
  if (LE !== null) lines.push("ES[1] = LE[0];");
  lines.push(`if (P.has) h.rethrow();`);
  lines.push(`return ${fromNative(sig.ret, "r", `S[${n}]`)};`);
  if (hasString) {
    lines.push("} finally {\nh.top = t0;\nif (t0 === 0 && h.spill.length !== 0) h.spill.length = 0;\n}");
  }
  const src = _wrapperSource(name, sig, lines);
  return new Function("h", "P", "st", "W", "S", "E", "ES", "LE", src)(
    _H,
    _pending,
    st,
    what,
    structs,
    live,
    saved,
    LE,
  );
}

/**
 * Source of the test that is true when the JS value `x` is *not* already what Deno (or the engine)
 * takes for `t` as it is, or null for types converted on every call (pointers, strings, structs).
 * @internal
 * @ignore
 */
export function _badSource(t: TypeSpec, x: string, short = true): string | null {
  if (!short) {
    // Range and `% 1` fold away for a small integer, where \`(x | 0) !== x\` on an argument that varies
    // cost 2.7 ns a call (75% of a raw Deno call) in a two-argument wrapper. The longer test is used
    // only for few arguments: with many, it grew the wrapper past V8's inlining budget (a nine-argument
    // call went from 1.1x to 3.4x raw).
    const range = INT_RANGE[t.name];
    if (range !== undefined) {
      return `typeof ${x} !== "number" || !(${x} >= ${range[0]} && ${x} <= ${range[1]} && ${x} % 1 === 0)`;
    }
  }
  switch (t.name) {
    case "i8":
      return `typeof ${x} !== "number" || (${x} << 24 >> 24) !== ${x}`;
    case "u8":
      return `typeof ${x} !== "number" || (${x} & 255) !== ${x}`;
    case "i16":
      return `typeof ${x} !== "number" || (${x} << 16 >> 16) !== ${x}`;
    case "u16":
      return `typeof ${x} !== "number" || (${x} & 65535) !== ${x}`;
    case "i32":
      // `typeof` first: `|` on a bigint throws, and on an object would run its valueOf.
      return `typeof ${x} !== "number" || (${x} | 0) !== ${x}`;
    case "u32":
      return `typeof ${x} !== "number" || (${x} >>> 0) !== ${x}`;
    case "f32":
    case "f64":
      return `typeof ${x} !== "number"`;
    case "i64":
    case "isize":
      return `typeof ${x} !== "bigint" || ${x} < -9223372036854775808n || ${x} > 9223372036854775807n`;
    case "u64":
    case "usize":
      // V8 compiles comparisons with constants inside the int64 range inline; one with 2^64-1 is a
      // runtime call, made here only for values from 2^63 up.
      return `typeof ${x} !== "bigint" || (${x} < 0n || ${x} > 9223372036854775807n) && ` +
        `(${x} < 0n || ${x} > 18446744073709551615n)`;
    case "bool":
      return `${x} !== true && ${x} !== false`;
    default:
      return null;
  }
}

/** The integer types a call passes as they are, with their ranges (see {@linkcode _badSource}). */
const INT_RANGE: Partial<Record<string, readonly [number, number]>> = {
  i8: [-128, 127],
  u8: [0, 255],
  i16: [-32768, 32767],
  u16: [0, 65535],
  i32: [-2147483648, 2147483647],
  u32: [0, 4294967295],
};

/** Source of the slow-path expression giving `x` as {@linkcode _badSource} wants it, or throwing. */
function canonSource(t: TypeSpec, x: string, w: string): string {
  switch (t.name) {
    case "i8":
    case "u8":
    case "i16":
    case "u16":
    case "i32":
    case "u32":
      return `h.cint(${x}, "${t.name}", ${w})`;
    case "f32":
    case "f64":
      return `h.float(${x}, "${t.name}", ${w})`;
    case "i64":
    case "isize":
    case "u64":
    case "usize":
      return `h.i64(${x}, "${t.name}", ${w}, ${t.name === "i64" || t.name === "isize"})`;
    case "bool":
      return `h.bool(${x}, ${w})`;
    default:
      return x;
  }
}

/**
 * The first line of a call wrapper: one test of the argument count and of every argument that is
 * passed as it is, sending anything else to the slow path `L`, which checks and converts (or throws
 * the error naming the argument) and calls the wrapper again. Keeping the checks to one condition
 * keeps the wrapper's bytecode small enough for V8 to inline it into the caller: a nine-argument
 * wrapper with a helper call per argument was not inlined, and cost 2x a raw call.
 * @internal
 * @ignore
 */
export function _guardLine(sig: Signature): string {
  const n = sig.args.length;
  // Arity is checked through one extra parameter, `xa` (more arguments than declared) and the last one
  // (fewer): reading `arguments.length` on the hot path kept V8 from inlining the wrapper into its
  // caller and cost 2.7 ns a call, 75% of a raw Deno call. The slow path reads the exact count.
  // A last argument of a type with no test of its own (a pointer, a string) may be an explicit
  // `undefined`, which its conversion refuses: only a real shortfall goes to the slow path, or it would
  // come back here.
  const tests = ["xa !== undefined"];
  if (n !== 0) {
    const lastTested = _badSource(sig.args[n - 1], "x") !== null;
    tests.push(
      lastTested ? `a${n - 1} === undefined` : `(a${n - 1} === undefined && arguments.length !== ${n})`,
    );
  }
  sig.args.forEach((t, i) => {
    const bad = _badSource(t, `a${i}`, n > 3);
    if (bad !== null) tests.push(bad);
  });
  const params = sig.args.map((_, i) => `a${i}`);
  return `if (${tests.join(" || ")}) return L(arguments.length${params.map((p) => `, ${p}`).join("")});`;
}

/** Counts the wrappers compiled, to make each one's source unique (see {@linkcode _wrapperSource}). */
let wrapperSerial = 0;

/**
 * The source of a call wrapper (named after the C function, so stack traces say which call failed)
 * with body `lines`, and of its slow path `L` (see {@linkcode _guardLine}); `W[i]` names argument `i`.
 * @internal
 * @ignore
 */
export function _wrapperSource(name: string, sig: Signature, lines: readonly string[]): string {
  const n = sig.args.length;
  // A serial makes each wrapper's source unique. V8 caches `new Function` by source, and wrappers
  // compiled from the same source share their type feedback: the same symbol bound twice (two Library
  // objects of one file) then calls two Deno functions from one call site, which stops inlining Deno's
  // fast call and cost 80 ns instead of 5 per call.
  const serial = `// binding ${++wrapperSerial}\n`;
  const params = sig.args.map((_, i) => `a${i}`);
  const fname = _jsName(name);
  const sigText = `(${sig.args.map((t) => t.label).join(", ")})`;
  const conv = sig.args.map((t, i) => canonSource(t, `a${i}`, `W[${i}]`));
  return `"use strict";\n${serial}function ${fname}(${[...params, "xa"].join(", ")}) {\n${
    lines.join("\n")
  }\n}\n` +
    `function L(n${params.map((p) => `, ${p}`).join("")}) {\n` +
    `if (n !== ${n}) h.arity(${JSON.stringify(name)}, ${JSON.stringify(sigText)}, ${n}, n);\n` +
    `return ${fname}(${conv.join(", ")});\n}\n` +
    // Its `length` is the C function's argument count, not counting the extra parameter `xa`.
    `Object.defineProperty(${fname}, "length", { value: ${n} });\nreturn ${fname};`;
}

/**
 * Whether converting the arguments of `sig` can run user code (a getter of a struct argument, the
 * `kToRaw` method of a pointer-like object) that could free memory an earlier argument points to.
 * @internal
 * @ignore
 */
export function _mayRunUserCode(sig: Signature): boolean {
  // Freeing memory matters only to an argument that points to memory: a pointer or string, or a
  // struct with such a field (a struct of numbers is copied whole into the call, getters or not).
  const points = (t: TypeSpec) =>
    t.name === "pointer" || t.name === "string" || (t.struct !== null && _hasPointerField(t.struct));
  const runs = (t: TypeSpec) => t.name === "pointer" || t.name === "string" || t.name === "struct";
  return sig.args.some(points) && sig.args.some(runs);
}

/**
 * Whether a struct has a `pointer` or `string` field, at any depth (or fields we cannot see).
 * @internal
 * @ignore
 */
export function _hasPointerField(s: StructSpec): boolean {
  const fields = (s.codec as Partial<StructCodec>).fields;
  if (!Array.isArray(fields)) return true;
  return (fields as FieldInfo[]).some((f) =>
    f.def !== null
      ? _hasPointerField({ codec: f.codec } as StructSpec)
      : f.prim === "pointer" || f.prim === "string"
  );
}

/** The zero value C gets from a callback that threw. */
function zeroSource(t: TypeSpec, sIdx: string): string {
  switch (t.name) {
    case "void":
      return "undefined";
    case "bool":
      return "false";
    case "i64":
    case "u64":
    case "isize":
    case "usize":
      return "0n";
    case "pointer":
    case "string":
      return "null";
    case "struct":
      return `new Uint8Array(${sIdx}.size)`;
    default:
      return "0";
  }
}

/**
 * Compiles the function Deno's `UnsafeCallback` calls: converts C's arguments to our values, calls
 * `fn`, checks and converts its result, and turns any exception into a zero result plus a pending
 * rethrow.
 * @internal
 * @ignore
 */
export function _compileCallback(
  label: string,
  sig: Signature,
  fn: (...args: unknown[]) => unknown,
  g: { open: boolean; closedError: () => Error; claim?: (e: unknown) => boolean },
): (...args: unknown[]) => unknown {
  const n = sig.args.length;
  const what = `the return value (${sig.ret.label}) of ${label}`;
  // The wrapper's code depends only on the signature's types: compiled once per signature (`new
  // Function` took ~20 µs, ten times a raw UnsafeCallback), then made per callback by its factory.
  // The last signature's factory is found without building its key: the types of primitives are
  // shared objects, so the same signature made again has the same ones.
  let factory = sameTypes(sig, lastFactorySig) ? lastFactory : undefined;
  let structs = NO_STRUCTS;
  if (sig.ret.struct !== undefined || sig.args.some((t) => t.struct !== undefined)) {
    structs = [...sig.args.map((t) => t.struct), sig.ret.struct];
    factory = undefined;
  }
  const sigKey = factory === undefined ? `${sig.ret.key}(${sig.args.map((t) => t.key).join(",")})` : "";
  if (factory === undefined) factory = wrapperFactories.get(sigKey);
  if (factory === undefined) {
    const params = sig.args.map((_, i) => `a${i}`);
    const conv = sig.args.map((t, i) => {
      // Deno hands 64-bit integers over as bigint already; pointers and strings need wrapping.
      return fromNative(t, `a${i}`, `S[${i}]`);
    });
    const zero = zeroSource(sig.ret, `S[${n}]`);
    const body: string[] = [];
    // A closed callback C still calls (it closed itself, or its release waits for C to return) runs
    // no more: C gets zero and the outer call throws.
    body.push(`if (P.has || !g.open) {\nif (!g.open) h.fail(g.closedError(), g);\nreturn ${zero};\n}`);
    body.push(`P.depth++;`);
    body.push(`try {`);
    body.push(`const x = fn(${conv.join(", ")});`);
    if (sig.ret.name === "void") {
      body.push(`return;`);
    } else {
      body.push(toNative(sig.ret, "x", "c", "W", `S[${n}]`, true));
      body.push(`return c;`);
    }
    body.push(`} catch (e) {\nh.fail(e, g);\nreturn ${zero};\n} finally {\nP.depth--;\n}`);
    const src = `"use strict";\nreturn function (fn, W, S, g) {\nreturn function callback(${
      params.join(", ")
    }) {\n${body.join("\n")}\n};\n};`;
    factory = new Function("h", "P", src)(_H, _pending) as WrapperFactory;
    wrapperFactories.set(sigKey, factory);
  }
  if (structs === NO_STRUCTS) {
    lastFactorySig = sig;
    lastFactory = factory;
  }
  return factory(fn, what, structs, g);
}

/** What a wrapper without struct types gets for the struct layouts it never reads. */
const NO_STRUCTS: unknown[] = [];
/** The last signature without structs that `_compileCallback` saw, and its factory. */
let lastFactorySig: Signature | null = null;
let lastFactory: WrapperFactory | undefined = undefined;

/** Whether two signatures have the same types (by identity: primitive types are shared objects). */
function sameTypes(a: Signature, b: Signature | null): boolean {
  if (b === null || a.ret !== b.ret || a.args.length !== b.args.length) return false;
  for (let i = 0; i < a.args.length; i++) if (a.args[i] !== b.args[i]) return false;
  return true;
}

/** Makes a callback wrapper for one function (see `_compileCallback`). */
type WrapperFactory = (
  fn: (...args: unknown[]) => unknown,
  what: string,
  structs: unknown[],
  g: { open: boolean; closedError: () => Error; claim?: (e: unknown) => boolean },
) => (...args: unknown[]) => unknown;

/** Wrapper factories by the wrapper's source: one per distinct callback signature. */
const wrapperFactories: Map<string, WrapperFactory> = new Map();

/**
 * Splits the arguments of a variadic function called as `f(fixed..., type, value, type, value, ...)`
 * into the whole list of C types and the values. A count that does not fit is a TypeError naming
 * `label`, the function as the user wrote it.
 * @internal
 * @ignore
 */
export function _splitVariadic(
  label: string,
  fixed: readonly unknown[],
  args: readonly unknown[],
): { types: unknown[]; values: unknown[] } {
  const n = fixed.length;
  if (args.length < n || (args.length - n) % 2 !== 0) {
    throw new TypeError(
      `${label} is variadic: after its ${n} fixed argument${n === 1 ? "" : "s"}, pass each extra ` +
        `argument as a C type and a value ("int", 42); got ${args.length} arguments`,
    );
  }
  const types = [...fixed];
  const values = args.slice(0, n);
  for (let i = n; i < args.length; i += 2) {
    types.push(args[i]);
    values.push(args[i + 1]);
  }
  return { types, values };
}
