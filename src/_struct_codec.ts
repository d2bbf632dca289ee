/**
 * Whole-struct and whole-array copies: a struct read out as a plain object, a plain object (or a
 * view) written into a struct or a nested field, an array-like, string or TypedPointer written into
 * an array field, and the codec through which `read`, `write` and calls copy a struct by value.
 *
 * Whole-struct writes of a plain object (`ffi.write` with a definition, a nested field, an argument by
 * value) are C designated initialisers: the fields the object leaves out are zero, a name the struct
 * lacks is a TypeError. They are all or nothing: built in a scratch copy, then copied in, so a bad
 * value in any field leaves the struct as it was. Array writes are all or nothing too (see
 * {@linkcode _writeArray}).
 *
 * @module
 */

import { _readBits, _writeBits } from "./_bitfield.ts";
import { _foreignChunk, type Chunk } from "./_chunk.ts";
import type { Codec } from "./_codec.ts";
import { _isTypedPointer } from "./_typed_access.ts";
import { _native } from "./_native.ts";
import { _describe } from "./errors.ts";
import type { PrimitiveName } from "./types.ts";
import type { TypedPointer } from "./typed_pointer.ts";

/**
 * What a definition knows about one field.
 * @internal
 * @ignore
 */
export interface FieldInfo {
  readonly name: string;
  readonly index: number;
  readonly offset: number;
  /** Bytes the field takes (element size × length). */
  readonly size: number;
  readonly align: number;
  /** Element count for arrays, or `undefined` for a single value. */
  readonly length: number | undefined;
  /** Canonical primitive name, or null for a nested struct. */
  readonly prim: PrimitiveName | null;
  /** The nested struct's definition, or null. */
  readonly def: object | null;
  /** Codec of one element: a {@linkcode StructCodec} for a nested struct. */
  readonly codec: Codec;
  /** `field "name"`, for messages. */
  readonly what: string;
  /** `u8[32]`, `struct (8 bytes)`: for descriptions. */
  readonly desc: string;
  /** Set for a bitfield: its width in bits. */
  readonly bits: number | undefined;
  /** For a bitfield: the offset of its first bit from the start of the struct. */
  readonly bitOffset: number;
}

/**
 * The codec of a struct definition: also its fields, and how to make a view of it.
 * @internal
 * @ignore
 */
export interface StructCodec extends Codec {
  readonly def: object;
  readonly fields: readonly FieldInfo[];
  makeView(chunk: Chunk, o: number, managed: boolean, lo: number, hi: number): object;
}

/**
 * The method by which a view tells a whole-struct copy its definition and where its bytes are (so
 * that a view of the same definition is copied as bytes): installed on each view prototype by
 * `struct_view.ts`, which is above this module.
 * @internal
 * @ignore
 */
export const kViewSource: unique symbol = Symbol("lune-ffi.viewSource");

/**
 * What `[kViewSource]()` returns.
 * @internal
 * @ignore
 */
export interface ViewSource {
  readonly def: object;
  readonly chunk: Chunk;
  readonly off: number;
}

function fieldsOf(f: FieldInfo): readonly FieldInfo[] {
  return (f.codec as StructCodec).fields;
}

const encoder = new TextEncoder();

/**
 * Copies the struct `def` at offset `o` of `c` out as a plain object.
 * @internal
 * @ignore
 */
export function _readStruct(fields: readonly FieldInfo[], c: Chunk, o: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const at = o + f.offset;
    let v: unknown;
    if (f.bits !== undefined) {
      v = _readBits(c, o, f);
    } else if (f.length !== undefined) {
      const arr = new Array(f.length);
      const stride = f.codec.size;
      for (let i = 0; i < f.length; i++) {
        arr[i] = f.def !== null
          ? _readStruct(fieldsOf(f), c, at + i * stride)
          : f.codec.read(c, null, at + i * stride);
      }
      v = arr;
    } else {
      v = f.def !== null ? _readStruct(fieldsOf(f), c, at) : f.codec.read(c, null, at);
    }
    // A field may be called `__proto__`: define it rather than assign it.
    Object.defineProperty(out, f.name, { value: v, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/**
 * Writes a plain object (or a view of another definition, read as an object of its fields) into the
 * struct at offset `o` of `c`; a view of the same definition is copied as bytes. An object is a C
 * designated initialiser: the fields it does not name are zero, a name the struct lacks a TypeError.
 * @internal
 * @ignore
 */
export function _writeStruct(codec: StructCodec, c: Chunk, o: number, v: unknown, what: string): void {
  if (typeof v !== "object" || v === null) {
    throw new TypeError(
      `Cannot write ${_describe(v)} to ${what}: expected a plain object with the fields ${
        codec.fields.map((f) => f.name).join(", ")
      }`,
    );
  }
  if (kViewSource in v) {
    const src = (v as { [kViewSource](): ViewSource })[kViewSource]();
    if (src.def === codec.def) return copyBytes(c, o, src.chunk, src.off, codec.size, what);
  }
  // Built in a zeroed scratch copy, then copied in: the fields the object does not name are zero (a C
  // designated initialiser), and a bad value writes nothing. The scratch stands in for the chunk as
  // in `_writeArray` (its `owner` allocates the copies of JS strings written to `char*` fields).
  const scratch = new Uint8Array(codec.size);
  const tmp = {
    buf: scratch.buffer,
    u8: scratch,
    dv: new DataView(scratch.buffer),
    owner: c.owner,
    freed: false,
  };
  initialise(codec, tmp as unknown as Chunk, 0, v as Record<string, unknown>, what);
  c.u8.set(scratch, o);
}

/** Writes the fields `obj` names into zeroed memory; a name the struct lacks is a TypeError. */
function initialise(
  codec: StructCodec,
  c: Chunk,
  o: number,
  obj: Record<string, unknown>,
  what: string,
): void {
  const names = namesOf(codec);
  for (const k in obj) {
    if (!names.has(k)) {
      throw new TypeError(
        `Cannot write ${what}: the struct has no field "${k}" (fields: ${[...names].join(", ")})`,
      );
    }
  }
  for (const f of codec.fields) {
    const fv = obj[f.name];
    if (fv === undefined && !(f.name in obj)) continue;
    const fwhat = `${what}.${f.name}`;
    if (f.bits !== undefined) _writeBits(c, o, f, fv, fwhat);
    else if (f.length !== undefined) _writeArray(c, o + f.offset, f, fv, fwhat);
    else if (f.def === null) f.codec.write(c, null, o + f.offset, fv, fwhat);
    else if (typeof fv === "object" && fv !== null && !(kViewSource in fv)) {
      initialise(f.codec as StructCodec, c, o + f.offset, fv as Record<string, unknown>, fwhat);
    } else _writeStruct(f.codec as StructCodec, c, o + f.offset, fv, fwhat);
  }
}

const nameSets = new WeakMap<StructCodec, Set<string>>();

function namesOf(codec: StructCodec): Set<string> {
  let s = nameSets.get(codec);
  if (s === undefined) nameSets.set(codec, s = new Set(codec.fields.map((f) => f.name)));
  return s;
}

function copyBytes(dst: Chunk, dOff: number, src: Chunk, sOff: number, n: number, what: string): void {
  src.check(`copy a struct into ${what}`);
  if (src === dst) dst.u8.copyWithin(dOff, sOff, sOff + n);
  else dst.u8.set(new Uint8Array(src.buf, sOff, n), dOff);
}

/**
 * Copies a string (UTF-8 plus NUL, byte arrays only), a TypedPointer or an array-like into an array
 * field. Elements past the source are zeroed, as a C initializer (or `strncpy`) leaves them.
 * @internal
 * @ignore
 */
export function _writeArray(c: Chunk, o: number, f: FieldInfo, v: unknown, what: string): void {
  const n = f.length!;
  const stride = f.codec.size;
  if (typeof v === "string") {
    if (f.prim !== "u8" && f.prim !== "i8") {
      throw new TypeError(`Cannot write a string to ${what}: only i8 and u8 arrays take a string`);
    }
    const bytes = encoder.encode(v);
    if (bytes.length + 1 > n) {
      throw new RangeError(
        `Cannot write ${_describe(v)} to ${what}: it takes ${bytes.length} bytes of UTF-8 plus a NUL, ` +
          `the field holds ${n}`,
      );
    }
    c.u8.set(bytes, o);
    c.u8.fill(0, o + bytes.length, o + n);
    return;
  }
  let len: number;
  let at: (i: number) => unknown;
  if (_isTypedPointer(v)) {
    const tp = v as TypedPointer;
    if (tp.count === undefined) {
      throw new TypeError(`Cannot copy a TypedPointer of unknown count to ${what}: cast it with a count`);
    }
    len = tp.count;
    at = (i) => tp.get(i);
  } else if (typeof v === "object" && v !== null && typeof (v as ArrayLike<unknown>).length === "number") {
    const arr = v as ArrayLike<unknown>;
    len = arr.length;
    at = (i) => arr[i];
  } else {
    throw new TypeError(
      `Cannot write ${_describe(v)} to ${what}: expected an array${
        f.prim === "u8" || f.prim === "i8" ? ", a string" : ""
      } or a TypedPointer`,
    );
  }
  if (len > n) {
    throw new RangeError(`Cannot write ${len} elements to ${what}: the field holds ${n}`);
  }
  // The new contents are built in a scratch copy of the field, then copied in. So the write is all
  // or nothing (a bad element or a freed source leaves the field as it was, instead of half
  // written), and a source that overlaps the field (a TypedPointer into the same memory) is read
  // before any of it is overwritten, as memmove would. The scratch stands in for the chunk: codecs
  // and `_writeStruct` only use its `u8`/`dv`/`buf`, and its `owner` (which allocates the copies of
  // JS strings written to pointer elements).
  const scratch = c.u8.slice(o, o + n * stride);
  const tmp = {
    buf: scratch.buffer,
    u8: scratch,
    dv: new DataView(scratch.buffer),
    owner: c.owner,
    freed: false,
  };
  for (let i = 0; i < len; i++) {
    const e = at(i);
    if (f.def !== null) _writeStruct(f.codec as StructCodec, tmp as Chunk, i * stride, e, `${what}[${i}]`);
    else f.codec.write(tmp as Chunk, null, i * stride, e, `${what}[${i}]`);
  }
  scratch.fill(0, len * stride);
  c.u8.set(scratch, o);
}

/** Most fields a struct's description lists. */
const MAX_DESCRIBED = 8;

/**
 * The codec of the definition `def`: copies the whole struct to and from a plain object. Its name
 * describes the top level only (a nested struct is `struct (N bytes)`): spelled out all the way
 * down, 22 levels of nesting took 315 MB.
 * @internal
 * @ignore
 */
export function _buildCodec(
  def: object,
  fields: readonly FieldInfo[],
  size: number,
  align: number,
  makeView: StructCodec["makeView"],
): StructCodec {
  const listed = fields.slice(0, MAX_DESCRIBED).map((f) => `${f.name}: ${f.desc}`);
  if (fields.length > MAX_DESCRIBED) listed.push(`... ${fields.length - MAX_DESCRIBED} more`);
  const codec: StructCodec = {
    name: `struct { ${listed.join("; ")} }`,
    size,
    align,
    def,
    fields,
    makeView,
    read(c, b, o) {
      if (c === null) return _readStruct(fields, foreignAt(b, o, size), 0);
      return _readStruct(fields, c, o);
    },
    write(c, b, o, v, what) {
      if (c === null) return _writeStruct(codec, foreignAt(b, o, size), 0, v, what);
      _writeStruct(codec, c, o, v, what);
    },
  };
  return codec;
}

/** A chunk over unmanaged memory at `base + o`, for whole-struct copies. */
function foreignAt(base: Deno.PointerValue, o: number, size: number): Chunk {
  const addr = (base === null ? 0 : _native().lffi_mem_addr(base)) + o;
  return _foreignChunk(addr, size, `access a struct of ${size} bytes`);
}
