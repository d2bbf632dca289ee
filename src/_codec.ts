/**
 * Per-type readers and writers: one codec per C type, each reading and writing a value at a byte
 * offset either through a chunk's DataView (managed memory) or through one native call (any address).
 * Bounds and liveness are checked by the caller; codecs only check values.
 *
 * @module
 */

import type { Chunk } from "./_chunk.ts";
import { _native } from "./_native.ts";
import { _bool, _float, _int64, _intIn } from "./_values.ts";
import { _primitiveOrThrow, type PrimitiveName } from "./types.ts";
import { _addrOf, _rawFromAddr, _rawFromPointerValue, _toPointerValue, type RawPointer } from "./pointer.ts";

/** A symbol by which memory owners (arenas) allocate a C string whose lifetime matches the memory. */
export const kAllocCString: unique symbol = Symbol("lune-ffi.allocCString");

/** What a chunk's owner must offer so that a JS string can be written into its memory. @internal */
export interface CStringAllocator {
  [kAllocCString](s: string): number;
}

/** Reads and writes one C type. @internal */
export interface Codec {
  /** Canonical type name (or a struct's description), for messages. */
  readonly name: string;
  readonly size: number;
  readonly align: number;
  /** Reads at `o`: from `chunk` when it is not null, else from `base + o` natively. */
  read(chunk: Chunk | null, base: Deno.PointerValue, o: number): unknown;
  /** Checks `v` by the value rules (naming `what` in errors) and writes it at `o`. */
  write(chunk: Chunk | null, base: Deno.PointerValue, o: number, v: unknown, what: string): void;
}

const N = _native;

function int64(name: PrimitiveName, signed: boolean): Codec {
  return {
    name,
    size: 8,
    align: 8,
    read: signed
      ? (c, b, o) => c !== null ? c.dv.getBigInt64(o, true) : N().lffi_mem_read_i64(b, o)
      : (c, b, o) => c !== null ? c.dv.getBigUint64(o, true) : N().lffi_mem_read_u64(b, o),
    write(c, b, o, v, what) {
      const n = _int64(v, name, what, signed);
      if (c !== null) c.dv.setBigUint64(o, BigInt.asUintN(64, n), true);
      else N().lffi_mem_write_u64(b, o, BigInt.asUintN(64, n));
    },
  };
}

function float(name: PrimitiveName, size: 4 | 8): Codec {
  return size === 4
    ? {
      name,
      size,
      align: size,
      read: (c, b, o) => c !== null ? c.dv.getFloat32(o, true) : N().lffi_mem_read_f32(b, o),
      write(c, b, o, v, what) {
        const n = _float(v, name, what);
        if (c !== null) c.dv.setFloat32(o, n, true);
        else N().lffi_mem_write_f32(b, o, n);
      },
    }
    : {
      name,
      size,
      align: size,
      read: (c, b, o) => c !== null ? c.dv.getFloat64(o, true) : N().lffi_mem_read_f64(b, o),
      write(c, b, o, v, what) {
        const n = _float(v, name, what);
        if (c !== null) c.dv.setFloat64(o, n, true);
        else N().lffi_mem_write_f64(b, o, n);
      },
    };
}

const TWO32 = 2 ** 32;

/** Reads a pointer-sized address at `o`. @internal */
export function _readAddr(c: Chunk | null, b: Deno.PointerValue, o: number): number {
  if (c === null) return N().lffi_mem_read_addr(b, o);
  return c.dv.getUint32(o, true) + c.dv.getUint32(o + 4, true) * TWO32;
}

/** Writes a pointer-sized address at `o`. @internal */
export function _writeAddr(c: Chunk | null, b: Deno.PointerValue, o: number, addr: number): void {
  if (c === null) return N().lffi_mem_write_addr(b, o, addr);
  c.dv.setUint32(o, addr >>> 0, true);
  c.dv.setUint32(o + 4, Math.floor(addr / TWO32), true);
}

const textDecoder = new TextDecoder();

/** Decodes the NUL-terminated UTF-8 string at an address; `null` for address 0. @internal */
export function _cstringAt(addr: number): string | null {
  if (addr === 0) return null;
  const n = N().lffi_mem_strlen(null, addr);
  if (n === 0) return "";
  const p = Deno.UnsafePointer.create(BigInt(addr));
  return textDecoder.decode(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p!, n)));
}

/**
 * Reads a pointer at `o`. Above 2^53 a number cannot hold the address exactly (sentinels such as
 * `(void*)-1`: `MAP_FAILED`, `SQLITE_TRANSIENT`, `(iconv_t)-1`), so the pointer keeps the exact Deno
 * pointer value; its `addr` is then approximate, but writing it back or passing it to C is exact.
 */
function readPointer(c: Chunk | null, b: Deno.PointerValue, o: number): RawPointer {
  const a = _readAddr(c, b, o);
  if (a <= Number.MAX_SAFE_INTEGER) return _rawFromAddr(a);
  const exact = c !== null ? c.dv.getBigUint64(o, true) : N().lffi_mem_read_u64(b, o);
  return _rawFromPointerValue(Deno.UnsafePointer.create(exact));
}

/**
 * Writes a pointer-like value at `o`. Its `addr` (a number) is exact below 2^53; above, the value's
 * exact Deno pointer value is stored instead (writing `addr` stored 0 for `(void*)-1`, turning
 * `MAP_FAILED` into NULL).
 */
function writePointer(c: Chunk | null, b: Deno.PointerValue, o: number, v: unknown, what: string): void {
  const a = _addrOf(v, what);
  if (a <= Number.MAX_SAFE_INTEGER) return _writeAddr(c, b, o, a);
  const exact = BigInt.asUintN(64, BigInt(Deno.UnsafePointer.value(_toPointerValue(v, what))));
  if (c !== null) c.dv.setBigUint64(o, exact, true);
  else N().lffi_mem_write_u64(b, o, exact);
}

const pointerCodec: Codec = {
  name: "pointer",
  size: 8,
  align: 8,
  read: readPointer,
  write: writePointer,
};

const stringCodec: Codec = {
  name: "string",
  size: 8,
  align: 8,
  read: (c, b, o) => _cstringAt(_readAddr(c, b, o)),
  write(c, b, o, v, what) {
    if (typeof v !== "string") return writePointer(c, b, o, v, what);
    const owner = c?.owner as Partial<CStringAllocator> | null | undefined;
    if (!owner?.[kAllocCString]) {
      throw new TypeError(
        `Cannot write a JS string for ${what} into unmanaged memory: nothing would own the copy. ` +
          `Allocate it yourself (arena.alloc + writeString) and write that pointer.`,
      );
    }
    _writeAddr(c, b, o, owner[kAllocCString](v));
  },
};

const boolCodec: Codec = {
  name: "bool",
  size: 1,
  align: 1,
  read: (c, b, o) => (c !== null ? c.dv.getUint8(o) : N().lffi_mem_read_u8(b, o)) !== 0,
  write(c, b, o, v, what) {
    const n = _bool(v, what) ? 1 : 0;
    if (c !== null) c.dv.setUint8(o, n);
    else N().lffi_mem_write_u8(b, o, n);
  },
};

const voidCodec: Codec = {
  name: "void",
  size: 0,
  align: 1,
  read() {
    throw new TypeError("Cannot read a value of type void");
  },
  write() {
    throw new TypeError("Cannot write a value of type void");
  },
};

const CANONICAL: Record<PrimitiveName, Codec> = {
  void: voidCodec,
  bool: boolCodec,
  // The integer codecs are written out one by one, not made by a factory: each function then has
  // its own type feedback, so V8 inlines its DataView access even when a program uses every type.
  i8: {
    name: "i8",
    size: 1,
    align: 1,
    read: (c, b, o) => c !== null ? c.dv.getInt8(o) : N().lffi_mem_read_i8(b, o),
    write(c, b, o, v, what) {
      const n = _intIn(v, -0x80, 0xff, "i8", what);
      if (c !== null) c.dv.setInt8(o, n);
      else N().lffi_mem_write_u8(b, o, n & 0xff);
    },
  },
  u8: {
    name: "u8",
    size: 1,
    align: 1,
    read: (c, b, o) => c !== null ? c.dv.getUint8(o) : N().lffi_mem_read_u8(b, o),
    write(c, b, o, v, what) {
      const n = _intIn(v, -0x80, 0xff, "u8", what);
      if (c !== null) c.dv.setUint8(o, n);
      else N().lffi_mem_write_u8(b, o, n & 0xff);
    },
  },
  i16: {
    name: "i16",
    size: 2,
    align: 2,
    read: (c, b, o) => c !== null ? c.dv.getInt16(o, true) : N().lffi_mem_read_i16(b, o),
    write(c, b, o, v, what) {
      const n = _intIn(v, -0x8000, 0xffff, "i16", what);
      if (c !== null) c.dv.setInt16(o, n, true);
      else N().lffi_mem_write_u16(b, o, n & 0xffff);
    },
  },
  u16: {
    name: "u16",
    size: 2,
    align: 2,
    read: (c, b, o) => c !== null ? c.dv.getUint16(o, true) : N().lffi_mem_read_u16(b, o),
    write(c, b, o, v, what) {
      const n = _intIn(v, -0x8000, 0xffff, "u16", what);
      if (c !== null) c.dv.setUint16(o, n, true);
      else N().lffi_mem_write_u16(b, o, n & 0xffff);
    },
  },
  i32: {
    name: "i32",
    size: 4,
    align: 4,
    read: (c, b, o) => c !== null ? c.dv.getInt32(o, true) : N().lffi_mem_read_i32(b, o),
    write(c, b, o, v, what) {
      const n = _intIn(v, -0x8000_0000, 0xffff_ffff, "i32", what);
      if (c !== null) c.dv.setInt32(o, n, true);
      else N().lffi_mem_write_u32(b, o, n >>> 0);
    },
  },
  u32: {
    name: "u32",
    size: 4,
    align: 4,
    read: (c, b, o) => c !== null ? c.dv.getUint32(o, true) : N().lffi_mem_read_u32(b, o),
    write(c, b, o, v, what) {
      const n = _intIn(v, -0x8000_0000, 0xffff_ffff, "u32", what);
      if (c !== null) c.dv.setUint32(o, n, true);
      else N().lffi_mem_write_u32(b, o, n >>> 0);
    },
  },
  i64: int64("i64", true),
  u64: int64("u64", false),
  isize: int64("isize", true),
  usize: int64("usize", false),
  f32: float("f32", 4),
  f64: float("f64", 8),
  pointer: pointerCodec,
  string: stringCodec,
};

/** Every name and alias → its codec, filled on first use of each name. */
const BY_NAME: Map<string, Codec> = new Map();

/** The codec of a primitive type name or alias; a TypeError naming it when unknown. @internal */
export function _codecOf(name: string): Codec {
  const c = BY_NAME.get(name);
  if (c !== undefined) return c;
  const codec = CANONICAL[_primitiveOrThrow(name).name];
  BY_NAME.set(name, codec);
  return codec;
}

/** The symbol by which a struct definition exposes its codec (a plain-object copy in and out). */
export const kCodec: unique symbol = Symbol("lune-ffi.codec");

/**
 * The last type resolved and its codec: code usually reads and writes one type many times in a row,
 * and comparing with the last name is cheaper than any table lookup.
 */
let lastType: string = "i32";
let lastCodec: Codec = CANONICAL.i32;

/** The codec of any C type: a primitive name or alias, or a struct definition. @internal */
export function _resolveCodec(ctype: unknown): Codec {
  if (ctype === lastType) return lastCodec;
  if (typeof ctype === "string") {
    const codec = _codecOf(ctype);
    lastType = ctype;
    return (lastCodec = codec);
  }
  if (typeof ctype === "object" && ctype !== null && kCodec in ctype) {
    return (ctype as { [kCodec]: Codec })[kCodec];
  }
  return _codecOf(ctype as string); // throws the TypeError naming it
}
