/**
 * Per-type readers and writers: one codec per C type, each reading and writing a value at a byte
 * offset either through a chunk's DataView (managed memory) or through one native call (any address).
 * Bounds and liveness are checked by the caller; codecs only check values.
 *
 * @module
 */

import { _NULL_PAGE, type Chunk } from "./_chunk.ts";
import { FfiError } from "./errors.ts";
import { _native } from "./_native.ts";
import { _bool, _float, _int64, _intIn } from "./_values.ts";
import type { PrimitiveName } from "./types.ts";

/** A symbol by which memory owners (arenas) allocate a C string whose lifetime matches the memory. */
export const kAllocCString: unique symbol = Symbol("lune-ffi.allocCString");

/**
 * What a chunk's owner must offer so that a JS string can be written into its memory.
 * @internal
 * @ignore
 */
export interface CStringAllocator {
  [kAllocCString](s: string): number;
}

/**
 * Reads and writes one C type.
 * @internal
 * @ignore
 */
export interface Codec {
  /** Canonical type name (or a struct's description), for messages. */
  readonly name: string;
  readonly size: number;
  readonly align: number;
  /** Reads at `o`: from `chunk` when it is not null, else from `base + o` natively. */
  read(chunk: Chunk | null, base: Deno.PointerValue, o: number): unknown;
  /** Checks `v` by the value rules (naming `what` in errors) and writes it at `o`. */
  write(chunk: Chunk | null, base: Deno.PointerValue, o: number, v: unknown, what: string): void;
  /**
   * Struct codecs only: a view of the struct at `o` of `chunk`, bounded by `[lo, hi)` (`managed`:
   * arena memory, whose bounds `toRaw()` keeps). How typed pointers of structs make their elements
   * without knowing about structs.
   */
  makeView?(chunk: Chunk, o: number, managed: boolean, lo: number, hi: number): object;
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

/**
 * Reads a pointer-sized address at `o`.
 * @internal
 * @ignore
 */
export function _readAddr(c: Chunk | null, b: Deno.PointerValue, o: number): number {
  if (c === null) return N().lffi_mem_read_addr(b, o);
  return c.dv.getUint32(o, true) + c.dv.getUint32(o + 4, true) * TWO32;
}

/**
 * Writes a pointer-sized address at `o`.
 * @internal
 * @ignore
 */
export function _writeAddr(c: Chunk | null, b: Deno.PointerValue, o: number, addr: number): void {
  if (c === null) return N().lffi_mem_write_addr(b, o, addr);
  c.dv.setUint32(o, addr >>> 0, true);
  c.dv.setUint32(o + 4, Math.floor(addr / TWO32), true);
}

const textDecoder = new TextDecoder();

/**
 * Decodes the NUL-terminated UTF-8 string at an address; `null` for address 0.
 * @internal
 * @ignore
 */
export function _cstringAt(addr: number): string | null {
  if (addr === 0) return null;
  if (addr < _NULL_PAGE) {
    throw new FfiError(`Cannot read a string at address ${addr}: a null pointer access (the first page)`);
  }
  const n = N().lffi_mem_strlen(null, addr);
  if (n === 0) return "";
  const p = Deno.UnsafePointer.create(BigInt(addr));
  return textDecoder.decode(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p!, n)));
}

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

/**
 * The codecs of every primitive type but `pointer` and `string`, whose values are RawPointers: those
 * two are in `pointer.ts`, which also resolves any type to its codec.
 * @internal
 * @ignore
 */
export const _SCALAR_CODECS: Readonly<Record<Exclude<PrimitiveName, "pointer" | "string">, Codec>> = {
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
};

/** The symbol by which a struct definition exposes its codec (a plain-object copy in and out). */
export const kCodec: unique symbol = Symbol("lune-ffi.codec");
