/**
 * Struct views: {@linkcode view} reads and writes a struct in place.
 *
 * Each definition has its own view class (built once, by {@linkcode StructDefinition}'s
 * constructor) whose prototype holds a getter and a setter per field, specialised by the field's
 * type, so reading `view.health` is one getter call that loads one value through the memory's
 * DataView, with no lookup by name.
 *
 * Assigning to a field copies into it: a string into an `i8`/`u8` array writes its UTF-8 and a NUL
 * and zeroes the rest of the array (a `RangeError`, writing nothing, if it does not fit); an array, a
 * typed array or a TypedPointer into an array field copies its elements and zeroes the rest (a
 * `RangeError` if it is longer; all or nothing: a bad element writes none of them, and a TypedPointer
 * that overlaps the field is copied as `memmove` would); a plain object (or any view with the same
 * field names) into a nested struct copies every field, and a view of the same definition copies its
 * bytes. Those array and nested writes are the whole-struct copies of `_struct_codec.ts`.
 *
 * @module
 */

import type { Chunk } from "./_chunk.ts";
import { _readBits, _writeBits } from "./_bitfield.ts";
import { _readStruct, _writeArray, _writeStruct } from "./_struct_codec.ts";
import { _bool, _float, _int, _int64 } from "./_values.ts";
import { _freedError, FfiError } from "./errors.ts";
import {
  _makeManaged,
  _rawFromAddr,
  _rawOf,
  _span,
  kToRaw,
  type PointerLike,
  type RawPointer,
} from "./pointer.ts";
import { _makeView, type FieldInfo, StructDefinition } from "./struct.ts";
import type { FieldSpec, StructView } from "./struct_types.ts";
import { _elemOf, _foreignChunk, _makeTyped } from "./typed_pointer.ts";
import { _describe, type PrimitiveName } from "./types.ts";

// ---------------------------------------------------------------------------------------------------
// View slots

// Slots of a view: symbol-keyed, so a view's only string-keyed properties are its fields.
//
// They are module-local consts on purpose: V8 folds such a const into the accessors that use it, while
// an exported binding lives in a module cell that optimised code loads again on every access (field
// reads and writes measured 5x slower when `kC`/`kO` were exported). The codec's same-definition byte
// copy gets them through `_viewSlots` instead.

const kC: unique symbol = Symbol("lune-ffi.view.chunk");
const kO: unique symbol = Symbol("lune-ffi.view.offset");
const kM: unique symbol = Symbol("lune-ffi.view.managed");
const kLo: unique symbol = Symbol("lune-ffi.view.lo");
const kHi: unique symbol = Symbol("lune-ffi.view.hi");
/** Array and nested fields' views, built on first read and reused. */
const kSub: unique symbol = Symbol("lune-ffi.view.sub");
/** On each definition's view prototype: the definition. */
const kDef: unique symbol = Symbol("lune-ffi.view.def");

/** A view's chunk (`kC`), byte offset in it (`kO`) and definition (`kDef`) slots. @internal */
export const _viewSlots: { readonly kC: typeof kC; readonly kO: typeof kO; readonly kDef: typeof kDef } = {
  kC,
  kO,
  kDef,
};

/** The slots of a view. @internal */
export interface Slots {
  [kC]: Chunk;
  [kO]: number;
  [kM]: boolean;
  [kLo]: number;
  [kHi]: number;
  [kSub]: unknown[] | undefined;
  [kDef]: StructDefinition;
}

/** A definition's view class. @internal */
export type ViewCtor = new (c: Chunk, o: number, managed: boolean, lo: number, hi: number) => Slots;

/** Whether `x` is a StructView (of any definition). @internal */
export function _isView(x: unknown): boolean {
  return typeof x === "object" && x !== null && kC in x;
}

// ---------------------------------------------------------------------------------------------------
// Accessors: one pair per field, specialised by type so each getter is a single DataView call.

interface Accessor {
  get(this: Slots): unknown;
  set(this: Slots, v: unknown): void;
}

function liveR(v: Slots, f: FieldInfo): Chunk {
  const c = v[kC];
  if (c.freed) throw _freedError(`read ${f.what}`);
  return c;
}

function liveW(v: Slots, f: FieldInfo): Chunk {
  const c = v[kC];
  if (c.freed) throw _freedError(`write ${f.what}`);
  return c;
}

// Each entry is its own function literal, so each getter's call site only ever sees one DataView
// method and stays monomorphic. The integer check is written out in every setter, range first: moved
// into a helper, or with Number.isInteger first, V8 stopped treating the value as a number and a
// field write measured 15 times slower.
const SCALAR: Partial<Record<PrimitiveName, (off: number, f: FieldInfo) => Accessor>> = {
  i8: (off, f) => ({
    get() {
      return liveR(this, f).dv.getInt8(this[kO] + off);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setInt8(
        this[kO] + off,
        typeof v === "number" && v >= -0x80 && v <= 0xff && Number.isInteger(v) ? v : _int(v, "i8", f.what),
      );
    },
  }),
  u8: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint8(this[kO] + off);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint8(
        this[kO] + off,
        typeof v === "number" && v >= -0x80 && v <= 0xff && Number.isInteger(v) ? v : _int(v, "u8", f.what),
      );
    },
  }),
  i16: (off, f) => ({
    get() {
      return liveR(this, f).dv.getInt16(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setInt16(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000 && v <= 0xffff && Number.isInteger(v)
          ? v
          : _int(v, "i16", f.what),
        true,
      );
    },
  }),
  u16: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint16(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint16(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000 && v <= 0xffff && Number.isInteger(v)
          ? v
          : _int(v, "u16", f.what),
        true,
      );
    },
  }),
  i32: (off, f) => ({
    get() {
      return liveR(this, f).dv.getInt32(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setInt32(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000_0000 && v <= 0xffff_ffff && Number.isInteger(v)
          ? v
          : _int(v, "i32", f.what),
        true,
      );
    },
  }),
  u32: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint32(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint32(
        this[kO] + off,
        typeof v === "number" && v >= -0x8000_0000 && v <= 0xffff_ffff && Number.isInteger(v)
          ? v
          : _int(v, "u32", f.what),
        true,
      );
    },
  }),
  f32: (off, f) => ({
    get() {
      return liveR(this, f).dv.getFloat32(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setFloat32(this[kO] + off, typeof v === "number" ? v : _float(v, "f32", f.what), true);
    },
  }),
  f64: (off, f) => ({
    get() {
      return liveR(this, f).dv.getFloat64(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setFloat64(this[kO] + off, typeof v === "number" ? v : _float(v, "f64", f.what), true);
    },
  }),
  i64: (off, f) => ({
    get() {
      return liveR(this, f).dv.getBigInt64(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setBigInt64(this[kO] + off, _int64(v, "i64", f.what, true), true);
    },
  }),
  u64: (off, f) => ({
    get() {
      return liveR(this, f).dv.getBigUint64(this[kO] + off, true);
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setBigUint64(this[kO] + off, _int64(v, "u64", f.what, false), true);
    },
  }),
  bool: (off, f) => ({
    get() {
      return liveR(this, f).dv.getUint8(this[kO] + off) !== 0;
    },
    set(v) {
      const c = liveW(this, f);
      c.dv.setUint8(this[kO] + off, (typeof v === "boolean" ? v : _bool(v, f.what)) ? 1 : 0);
    },
  }),
};
SCALAR.isize = (off, f) => ({
  get() {
    return liveR(this, f).dv.getBigInt64(this[kO] + off, true);
  },
  set(v) {
    const c = liveW(this, f);
    c.dv.setBigInt64(this[kO] + off, _int64(v, "isize", f.what, true), true);
  },
});
SCALAR.usize = (off, f) => ({
  get() {
    return liveR(this, f).dv.getBigUint64(this[kO] + off, true);
  },
  set(v) {
    const c = liveW(this, f);
    c.dv.setBigUint64(this[kO] + off, _int64(v, "usize", f.what, false), true);
  },
});

/** Pointer and string fields: through their codec (they allocate a RawPointer or a string anyway). */
function codecAccessor(off: number, f: FieldInfo): Accessor {
  const codec = f.codec;
  return {
    get() {
      return codec.read(liveR(this, f), null, this[kO] + off);
    },
    set(v) {
      codec.write(liveW(this, f), null, this[kO] + off, v, f.what);
    },
  };
}

function arrayAccessor(off: number, f: FieldInfo): Accessor {
  const elem = _elemOf(f.def ?? f.prim!);
  const n = f.length!;
  return {
    get() {
      const c = liveR(this, f);
      const sub = this[kSub] ??= [];
      return sub[f.index] ??= _makeTyped(elem, c, this[kO] + off, this[kM], this[kLo], this[kHi], n);
    },
    set(v) {
      _writeArray(liveW(this, f), this[kO] + off, f, v, f.what);
    },
  };
}

function bitfieldAccessor(f: FieldInfo): Accessor {
  return {
    get() {
      return _readBits(liveR(this, f), this[kO], f);
    },
    set(v) {
      _writeBits(liveW(this, f), this[kO], f, v);
    },
  };
}

function nestedAccessor(off: number, f: FieldInfo): Accessor {
  const def = f.def!;
  return {
    get() {
      const c = liveR(this, f);
      const sub = this[kSub] ??= [];
      return sub[f.index] ??= _makeView(def, c, this[kO] + off, this[kM], this[kLo], this[kHi]);
    },
    set(v) {
      _writeStruct(def, liveW(this, f), this[kO] + off, v, f.what);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The view class

/** Builds the view class of `def`: one accessor pair per field on a shared prototype. @internal */
export function _buildViewClass(def: StructDefinition, fields: readonly FieldInfo[]): ViewCtor {
  // A null-prototype prototype: no inherited `toString`, `constructor` or `__proto__` to shadow or be
  // shadowed by a field of that name.
  const proto = Object.create(null) as Slots;
  for (const f of fields) {
    const acc = f.bits !== undefined
      ? bitfieldAccessor(f)
      : f.length !== undefined
      ? arrayAccessor(f.offset, f)
      : f.def !== null
      ? nestedAccessor(f.offset, f)
      : (SCALAR[f.prim!] ?? codecAccessor)(f.offset, f);
    Object.defineProperty(proto, f.name, {
      get: acc.get,
      set: acc.set,
      enumerable: true,
      configurable: false,
    });
  }
  Object.defineProperty(proto, kDef, { value: def });
  Object.defineProperty(proto, kToRaw, { value: viewToRaw });
  Object.defineProperty(proto, Symbol.for("Deno.customInspect"), { value: inspectView });
  function View(this: Slots, c: Chunk, o: number, managed: boolean, lo: number, hi: number) {
    this[kC] = c;
    this[kO] = o;
    this[kM] = managed;
    this[kLo] = lo;
    this[kHi] = hi;
    this[kSub] = undefined;
  }
  View.prototype = proto;
  return View as unknown as ViewCtor;
}

function viewToRaw(this: Slots): RawPointer {
  const c = this[kC];
  return this[kM] ? _makeManaged(c, this[kO], this[kLo], this[kHi]) : _rawFromAddr(c.addr + this[kO]);
}

function inspectView(this: Slots, inspect: (v: unknown, o: unknown) => string, options: unknown): string {
  const c = this[kC];
  if (c.freed) return "StructView (freed)";
  return `StructView ${inspect(_readStruct(this[kDef], c, this[kO]), options)}`;
}

/**
 * A {@linkcode StructView} of the struct `def` at `ptr`: its properties read and write the fields in
 * place. A view of managed memory is bounds-checked once, here, and dies with its arena (later access
 * throws an {@linkcode FfiError}); a view of unmanaged memory is unchecked, as in C.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const Player = ffi.struct([["x", "f32"], ["y", "f32"], ["health", "i32"], ["name", "u8", 32]]);
 * using arena = ffi.arena();
 * const ptr = arena.alloc(Player.size);
 * const player = ffi.view(ptr, Player);
 * player.x = 10.5;
 * player.health = 100;
 * player.name = "Ada"; // UTF-8 plus NUL
 * assert.equal(player.health, 100);
 * assert.equal(ptr.read(8, "i32"), 100);
 * assert.equal(player.name[0], 65);
 * ```
 */
export function view<F extends readonly FieldSpec[]>(
  ptr: PointerLike,
  def: StructDefinition<F>,
): StructView<F> {
  const raw = _rawOf(ptr);
  if (raw === null) {
    throw new TypeError(`ffi.view(): expected a pointer, got ${_describe(ptr)}`);
  }
  if (!(def instanceof StructDefinition)) {
    throw new TypeError(`ffi.view(): expected a struct definition, got ${_describe(def)}`);
  }
  return _viewOf(raw, def as StructDefinition) as unknown as StructView<F>;
}

/** A view of `def` at a RawPointer: checked against managed bounds, or over unmanaged memory. @internal */
export function _viewOf(raw: RawPointer, def: StructDefinition): StructView {
  const s = _span(raw);
  if (s.chunk !== null) {
    if (s.off < s.lo || s.off + def.size > s.hi) {
      throw new RangeError(
        `Cannot view a struct of ${def.size} bytes at byte ${s.off - s.lo} of an allocation of ${
          s.hi - s.lo
        } bytes`,
      );
    }
    return _makeView(def, s.chunk, s.off, true, s.lo, s.hi);
  }
  const addr = raw.addr;
  if (addr === 0) throw new FfiError(`Cannot view a struct of ${def.size} bytes at a null pointer`);
  return _makeView(def, _foreignChunk(addr, def.size), 0, false, 0, def.size);
}
