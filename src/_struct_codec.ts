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
import type { Chunk } from "./_chunk.ts";
import type { Codec } from "./_codec.ts";
import { _native } from "./_native.ts";
import { _freedError, FfiError } from "./errors.ts";
import { _fieldsOf, type FieldInfo, type StructDefinition } from "./struct.ts";
import { _isView, _viewSlots, type Slots } from "./struct_view.ts";
import { _foreignChunk, _isTypedPointer, type TypedPointer } from "./typed_pointer.ts";
import { _describe } from "./types.ts";

const encoder = new TextEncoder();

/** Copies the struct `def` at offset `o` of `c` out as a plain object. @internal */
export function _readStruct(def: StructDefinition, c: Chunk, o: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of _fieldsOf(def)) {
    const at = o + f.offset;
    let v: unknown;
    if (f.bits !== undefined) {
      v = _readBits(c, o, f);
    } else if (f.length !== undefined) {
      const arr = new Array(f.length);
      const stride = f.codec.size;
      for (let i = 0; i < f.length; i++) {
        arr[i] = f.def !== null
          ? _readStruct(f.def, c, at + i * stride)
          : f.codec.read(c, null, at + i * stride);
      }
      v = arr;
    } else {
      v = f.def !== null ? _readStruct(f.def, c, at) : f.codec.read(c, null, at);
    }
    // A field may be called `__proto__`: define it rather than assign it.
    Object.defineProperty(out, f.name, { value: v, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/**
 * Writes a plain object (or a view of another definition, read as an object of its fields) into the
 * struct `def` at offset `o` of `c`; a view of the same definition is copied as bytes. An object is a
 * C designated initialiser: the fields it does not name are zero, a name the struct lacks a TypeError.
 * @internal
 */
export function _writeStruct(def: StructDefinition, c: Chunk, o: number, v: unknown, what: string): void {
  if (_isView(v)) {
    const src = v as Slots;
    if (src[_viewSlots.kDef] === def) {
      return copyBytes(c, o, src[_viewSlots.kC], src[_viewSlots.kO], def.size, what);
    }
  } else if (typeof v !== "object" || v === null) {
    throw new TypeError(
      `Cannot write ${_describe(v)} to ${what}: expected a plain object with the fields ${
        def.fields().join(", ")
      }`,
    );
  }
  // Built in a zeroed scratch copy, then copied in: the fields the object does not name are zero (a C
  // designated initialiser), and a bad value writes nothing. The scratch stands in for the chunk as
  // in `_writeArray` (its `owner` allocates the copies of JS strings written to `char*` fields).
  const scratch = new Uint8Array(def.size);
  const tmp = {
    buf: scratch.buffer,
    u8: scratch,
    dv: new DataView(scratch.buffer),
    owner: c.owner,
    freed: false,
  };
  initialise(def, tmp as Chunk, 0, v as Record<string, unknown>, what);
  c.u8.set(scratch, o);
}

/** Writes the fields `obj` names into zeroed memory; a name `def` lacks is a TypeError. */
function initialise(
  def: StructDefinition,
  c: Chunk,
  o: number,
  obj: Record<string, unknown>,
  what: string,
): void {
  const names = namesOf(def);
  for (const k in obj) {
    if (!names.has(k)) {
      throw new TypeError(
        `Cannot write ${what}: the struct has no field "${k}" (fields: ${def.fields().join(", ")})`,
      );
    }
  }
  for (const f of _fieldsOf(def)) {
    const fv = obj[f.name];
    if (fv === undefined && !(f.name in obj)) continue;
    const fwhat = `${what}.${f.name}`;
    if (f.def !== null && f.length === undefined && typeof fv === "object" && fv !== null && !_isView(fv)) {
      initialise(f.def, c, o + f.offset, fv as Record<string, unknown>, fwhat);
    } else {
      writeField(c, o, f, fv, fwhat);
    }
  }
}

function writeField(c: Chunk, o: number, f: FieldInfo, fv: unknown, what: string): void {
  if (f.bits !== undefined) _writeBits(c, o, f, fv, what);
  else if (f.length !== undefined) _writeArray(c, o + f.offset, f, fv, what);
  else if (f.def !== null) _writeStruct(f.def, c, o + f.offset, fv, what);
  else f.codec.write(c, null, o + f.offset, fv, what);
}

const nameSets = new WeakMap<StructDefinition, Set<string>>();

function namesOf(def: StructDefinition): Set<string> {
  let s = nameSets.get(def);
  if (s === undefined) nameSets.set(def, s = new Set(def.fields()));
  return s;
}

function copyBytes(dst: Chunk, dOff: number, src: Chunk, sOff: number, n: number, what: string): void {
  if (src.freed) throw _freedError(`copy a struct into ${what}`);
  if (src === dst) dst.u8.copyWithin(dOff, sOff, sOff + n);
  else dst.u8.set(new Uint8Array(src.buf, sOff, n), dOff);
}

/**
 * Copies a string (UTF-8 plus NUL, byte arrays only), a TypedPointer or an array-like into an array
 * field. Elements past the source are zeroed, as a C initializer (or `strncpy`) leaves them.
 * @internal
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
    if (f.def !== null) _writeStruct(f.def, tmp as Chunk, i * stride, e, `${what}[${i}]`);
    else f.codec.write(tmp as Chunk, null, i * stride, e, `${what}[${i}]`);
  }
  scratch.fill(0, len * stride);
  c.u8.set(scratch, o);
}

/** The codec of `def`: copies the whole struct to and from a plain object. @internal */
export function _buildCodec(def: StructDefinition, fields: readonly FieldInfo[]): Codec {
  const size = def.size;
  return {
    name: `struct { ${fields.map((f) => `${f.name}: ${f.desc}`).join("; ")} }`,
    size,
    align: def.alignment,
    read(c, b, o) {
      if (c === null) return _readStruct(def, foreignAt(b, o, size), 0);
      return _readStruct(def, c, o);
    },
    write(c, b, o, v, what) {
      if (c === null) return _writeStruct(def, foreignAt(b, o, size), 0, v, what);
      _writeStruct(def, c, o, v, what);
    },
  };
}

/** A chunk over unmanaged memory at `base + o`, for whole-struct copies. */
function foreignAt(base: Deno.PointerValue, o: number, size: number): Chunk {
  const addr = (base === null ? 0 : _native().lffi_mem_addr(base)) + o;
  if (addr === 0) throw new FfiError(`Cannot access a struct of ${size} bytes at a null pointer`);
  return _foreignChunk(addr, size);
}
