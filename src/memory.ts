/**
 * Reading, writing, copying and filling memory through any pointer-like value.
 *
 * @module
 */

import { _native } from "./_native.ts";
import { _intIn } from "./_values.ts";
import {
  _baseOf,
  _checkRange,
  _rawOfArg,
  _span,
  type CType,
  kToRaw,
  type PointerLike,
  RawPointer,
} from "./pointer.ts";
import type { CResult } from "./struct_types.ts";
import { _describe } from "./types.ts";

/**
 * `kToRaw`, as a module-local const: V8 folds such a const into optimised code, while an imported
 * binding is a module cell it loads again on every call (measured: `ffi.read` 3.3 ns against 1.1).
 */
const K_TO_RAW: typeof kToRaw = kToRaw;

/**
 * `x instanceof RawPointer`, false where asking throws (a Proxy's `getPrototypeOf` trap): the caller's
 * slow path then names the function and parameter in its TypeError, with the trap's error as `cause`.
 */
function isRawPointer(x: unknown): x is RawPointer {
  try {
    return x instanceof RawPointer;
  } catch {
    return false;
  }
}

function rawArg(p: unknown, fn: string, name: string): RawPointer {
  const raw = _rawOfArg(p, fn, name);
  if (raw === null) {
    throw new TypeError(
      `${fn}: ${name} must be a RawPointer, TypedPointer, StructView or Buffer, got ${_describe(p)}`,
    );
  }
  return raw;
}

function lengthArg(len: unknown, fn: string): number {
  if (typeof len !== "number") throw new TypeError(`${fn}: length must be a number, got ${_describe(len)}`);
  if (!Number.isInteger(len) || len < 0) {
    throw new RangeError(`${fn}: length must be a non-negative integer, got ${len}`);
  }
  return len;
}

/**
 * Reads a value of `ctype` at `offset` bytes from `ptr` (a RawPointer, TypedPointer or Buffer).
 * With a struct definition as the type it returns a plain-object copy. The result is typed by
 * {@linkcode CResult}: `bigint` for `"i64"`, `number` for `"i32"`, `unknown` for a `string` variable.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(8);
 * ffi.write(p, 0, "i64", -5);
 * assert.equal(ffi.read(p, 0, "i64") - 1n, -6n);
 * ```
 */
export function read<T extends CType>(ptr: PointerLike, offset: number, ctype: T): CResult<T> {
  // No branch for the common case (see RawPointer.read): every pointer-like value has `[kToRaw]()`,
  // a RawPointer's returns itself; anything else throws here, and `rawArg` says what was wrong.
  let raw: RawPointer;
  try {
    raw = ptr[K_TO_RAW]();
  } catch {
    raw = rawArg(ptr, "ffi.read()", "ptr");
  }
  return raw.read(offset, ctype);
}

/**
 * Writes `value` as `ctype` at `offset` bytes from `ptr`, by the value rules of the type.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(2);
 * ffi.write(p, 0, "u8", 300 - 256);
 * assert.throws(() => ffi.write(p, 0, "u8", 300), RangeError);
 * assert.equal(ffi.read(p, 0, "u8"), 44);
 * ```
 */
export function write(ptr: PointerLike, offset: number, ctype: CType, value: unknown): void {
  let raw: RawPointer;
  try {
    raw = ptr[K_TO_RAW]();
  } catch {
    raw = rawArg(ptr, "ffi.write()", "ptr");
  }
  raw.write(offset, ctype, value);
}

/**
 * The bytes of a JS ArrayBuffer or view, or null for anything else (a TypedPointer is a typed array
 * too, but a pointer first: its bounds are its allocation's).
 */
function jsBytes(x: unknown, param: string): Uint8Array | null {
  if (typeof x !== "object" || x === null) return null;
  let buf: ArrayBufferLike | null;
  try {
    if (K_TO_RAW in x) return null;
    buf = x instanceof ArrayBuffer ? x : ArrayBuffer.isView(x) ? x.buffer : null;
  } catch (e) {
    // Asking a Proxy (or an object with a throwing getter) what it is threw: it is neither.
    throw new TypeError(
      `ffi.copy(): expected a pointer-like value, ArrayBuffer or typed array for ${param}, got ${
        _describe(x)
      } (inspecting it threw)`,
      { cause: e },
    );
  }
  if (buf === null) return null;
  if ((buf as ArrayBuffer).detached) {
    throw new TypeError(`ffi.copy(): ${param} is ${_describe(x)}, whose ArrayBuffer is detached`);
  }
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  const v = x as ArrayBufferView;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function jsRange(bytes: Uint8Array, n: number, side: string): Uint8Array {
  if (n > bytes.length) {
    throw new RangeError(
      `ffi.copy(): ${n} bytes do not fit in the ${side}: a JS buffer of ${bytes.length} bytes (${
        side === "destination" ? "dst" : "src"
      } ${_describe(bytes)})`,
    );
  }
  return bytes.subarray(0, n);
}

/**
 * Copies `len` bytes from `src` to `dst` (memmove: the ranges may overlap). Either side may also be a
 * JS `ArrayBuffer` or typed array (or DataView). Both sides are bounds-checked (managed pointers
 * against their allocation, JS memory against its length) before anything is copied: a `RangeError`
 * copies nothing.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const a = arena.alloc(8), b = arena.alloc(8);
 * a.write(0, "f64", Math.PI);
 * ffi.copy(b, a, 8);
 * assert.equal(b.read(0, "f64"), Math.PI);
 *
 * const bytes = new TextEncoder().encode("hi!");
 * ffi.copy(a, bytes, 3); // from JS memory
 * const back = new Uint8Array(3);
 * ffi.copy(back, a, 3); // to JS memory
 * assert.equal(new TextDecoder().decode(back), "hi!");
 * ```
 */
export function copy(
  dst: PointerLike | ArrayBuffer | ArrayBufferView,
  src: PointerLike | ArrayBuffer | ArrayBufferView,
  len: number,
): void {
  // Two RawPointers (the common case) first, in few enough steps that the call stays cheap.
  if (
    isRawPointer(dst) && isRawPointer(src) && typeof len === "number" && len >= 0 &&
    len % 1 === 0
  ) {
    const dOff = _checkRange(dst, 0, len, "write (ffi.copy() destination)");
    const sOff = _checkRange(src, 0, len, "read (ffi.copy() source)");
    if (len !== 0) _native().lffi_mem_copy(_baseOf(dst), dOff, _baseOf(src), sOff, len);
    return;
  }
  return copySlow(dst, src, len);
}

/** {@linkcode copy} for everything but two RawPointers and a valid length. */
function copySlow(dst: unknown, src: unknown, len: unknown): void {
  const n = typeof len === "number" && len >= 0 && Number.isInteger(len) ? len : lengthArg(len, "ffi.copy()");
  // No `instanceof` here: on a StructView it is a runtime call (see `_rawOf`); `jsBytes` gives null
  // for every pointer-like value, RawPointers included, and `rawArg` takes them all.
  const dJs = jsBytes(dst, "dst");
  const sJs = jsBytes(src, "src");
  if (dJs === null && sJs === null) {
    const d = rawArg(dst, "ffi.copy()", "dst");
    const s = rawArg(src, "ffi.copy()", "src");
    const dOff = _checkRange(d, 0, n, "write (ffi.copy() destination)");
    const sOff = _checkRange(s, 0, n, "read (ffi.copy() source)");
    if (n === 0) return;
    _native().lffi_mem_copy(_baseOf(d), dOff, _baseOf(s), sOff, n);
    return;
  }
  if (dJs !== null && sJs !== null) {
    // JS to JS: `set` copies as memmove does when both share a buffer.
    jsRange(dJs, n, "destination").set(jsRange(sJs, n, "source"));
    return;
  }
  // One side is JS memory: both become Uint8Arrays, copied with `set` (which also handles the
  // case of a TypedPointer given as JS memory's neighbour in the same chunk).
  const to = dJs !== null
    ? jsRange(dJs, n, "destination")
    : pointerBytes(rawArg(dst, "ffi.copy()", "dst"), n, "write (ffi.copy() destination)");
  const from = sJs !== null
    ? jsRange(sJs, n, "source")
    : pointerBytes(rawArg(src, "ffi.copy()", "src"), n, "read (ffi.copy() source)");
  to.set(from);
}

/** The `n` bytes at a pointer as a Uint8Array, checked as native access would be. */
function pointerBytes(p: RawPointer, n: number, verb: string): Uint8Array {
  const off = _checkRange(p, 0, n, verb);
  if (n === 0) return new Uint8Array(0);
  const chunk = _span(p).chunk;
  if (chunk !== null) return chunk.u8.subarray(off, off + n);
  const base = _baseOf(p);
  const at = base === null ? Deno.UnsafePointer.create(BigInt(off)) : Deno.UnsafePointer.offset(base, off);
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(at!, n));
}

/**
 * Sets `len` bytes at `ptr` to `byte` (0 to 255; -128 to -1 store their two's complement).
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using arena = ffi.arena();
 * const p = arena.alloc(1024);
 * ffi.fill(p, 1024, 0xab);
 * assert.equal(p.read(1023, "u8"), 0xab);
 * ```
 */
export function fill(ptr: PointerLike, len: number, byte: number): void {
  const p = isRawPointer(ptr) ? ptr : rawArg(ptr, "ffi.fill()", "ptr");
  const n = typeof len === "number" && len >= 0 && Number.isInteger(len) ? len : lengthArg(len, "ffi.fill()");
  const b = _intIn(byte, -0x80, 0xff, "u8", "ffi.fill() byte") & 0xff;
  const off = _checkRange(p, 0, n, "fill");
  if (n === 0) return;
  _native().lffi_mem_fill(_baseOf(p), off, n, b);
}
