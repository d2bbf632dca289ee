/**
 * Calls that do not block the event loop: `lib.fn(..., { nonblocking: true })` runs the C function on
 * one of Deno's blocking-pool threads and returns a Promise.
 *
 * While C runs there, JavaScript goes on, and may reset the arena whose memory C is writing, close
 * the library whose code is running, or close a callback C is about to call. So each call holds what
 * it was given until it has returned: arena chunks are pinned (a reset hides them from JavaScript at
 * once and frees them after C returns, see `Chunk.free`), the library and callbacks are held (their
 * close waits likewise, see `_hold.ts`), and string copies and by-value structs are owned by the
 * call. JavaScript-owned typed arrays and ArrayBuffers are copied in and back out: JavaScript could
 * detach (and so free) them while C is using them, which no reference can prevent.
 *
 * @module
 */

import { Chunk } from "./_chunk.ts";
import { _denoDefinition, type Signature, type StructSpec, type TypeSpec } from "./_call.ts";
import { kAllocCString } from "./_codec.ts";
import { _prepareEngineCall } from "./_engine.ts";
import { _callbackHolds, type _Hold } from "./_hold.ts";
import { _native } from "./_native.ts";
import { _errnoCells } from "./errno.ts";
import { _bool, _float, _int, _int64 } from "./_values.ts";
import { _rawFromPointerValue, _rawOf, _span, _toPointerValue, kToRaw } from "./pointer.ts";
import { _describe, type PrimitiveName } from "./types.ts";
import { _isPlainObject } from "./errors.ts";

/**
 * Options of a bound function ({@linkcode Library.fn}): `nonblocking` makes it return a Promise (the
 * call runs on another thread); `errno` (with `nonblocking`) makes that Promise resolve to
 * `{ result, errno }`, the `errno` C left on the thread that ran the call.
 */
export interface CallOptions {
  /** Run the call on another thread and return a Promise of its result. */
  readonly nonblocking?: boolean;
  /** With `nonblocking`: resolve to `{ result, errno }` instead of the result. */
  readonly errno?: boolean;
}

/** What a nonblocking call with `errno: true` resolves to. */
export interface ErrnoResult<T> {
  /** The C function's result, converted as for a synchronous call. */
  readonly result: T;
  /** C's `errno` right after the function returned, on the thread that ran it. */
  readonly errno: number;
}

/**
 * Checks the options of a bound function; `what` names the function in messages.
 * @internal
 * @ignore
 */
export function _callOptions(options: unknown, what: string): { nonblocking: boolean; errno: boolean } {
  if (options === undefined) return { nonblocking: false, errno: false };
  if (!_isPlainObject(options)) {
    throw new TypeError(
      `Invalid options ${_describe(options)} for ${what}: expected an object such as { nonblocking: true }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== "nonblocking" && key !== "errno") {
      throw new TypeError(
        `Unknown option "${key}" in options ${
          _describe(options)
        } for ${what}: the options are nonblocking and errno`,
      );
    }
  }
  const o = options as CallOptions;
  for (const key of ["nonblocking", "errno"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      throw new TypeError(`Invalid option ${key}: ${_describe(o[key])} for ${what}: expected a boolean`);
    }
  }
  const nonblocking = o.nonblocking === true;
  const errno = o.errno === true;
  if (errno && !nonblocking) {
    throw new TypeError(
      `Option errno: true for ${what} needs nonblocking: true; a synchronous call's errno is ffi.errno()`,
    );
  }
  return { nonblocking, errno };
}

/**
 * Where a nonblocking function's calls go. `get` is called on every call: it throws when the target
 * is gone (library closed) and binds the symbol on first use (so a missing one rejects then).
 * @internal
 * @ignore
 */
export interface NonblockingTarget {
  /** Deno's nonblocking function for `def` (the Deno definition with `nonblocking: true`). */
  get(def: Deno.ForeignFunction): (...args: unknown[]) => Promise<unknown>;
  /** The owner of the code (a library), held for the duration of each call; null for none. */
  readonly hold: _Hold | null;
  /**
   * The C function's address, for calls through the native engine (`errno: true`); throws like
   * `get` when the target is gone.
   */
  readonly address?: () => Deno.PointerValue;
}

/** What one pending call holds until C returns. */
class PendingCall {
  /** Arena chunks the arguments point into. */
  readonly chunks: Chunk[] = [];
  /** The library and the callbacks the arguments point to. */
  readonly holds: _Hold[] = [];
  /** Objects C reads or writes through the pointers passed: string copies, struct bytes, SABs. */
  readonly owned: unknown[] = [];
  /** JS memory copied in, to be copied back: pairs of (the caller's bytes, the copy C used). */
  readonly copies: Uint8Array[] = [];
  /** The string slab this call's string copies are in (see `stringCopy`). */
  slab: Slab | null = null;
  /** An exception a callback of this call threw (on the JS thread), to reject the call with. */
  error: { value: unknown } | null = null;

  start(): void {
    const chunks = this.chunks;
    for (let i = 0; i < chunks.length; i++) {
      try {
        chunks[i].pin(); // throws if the memory died since its pointer was converted
      } catch (e) {
        for (let j = 0; j < i; j++) chunks[j].unpin();
        throw e;
      }
    }
    for (const h of this.holds) h.use();
    pending.add(this);
  }

  finish(): void {
    pending.delete(this);
    if (this.slab !== null) this.slab.users--;
    const copies = this.copies;
    for (let i = 0; i < copies.length; i += 2) {
      // Copied back only while the caller's memory is still there (not detached or shrunk meanwhile).
      if (copies[i].byteLength === copies[i + 1].byteLength) copies[i].set(copies[i + 1]);
    }
    for (const c of this.chunks) c.unpin();
    for (const h of this.holds) h.done();
  }
}

/** The calls that have not returned yet. */
const pending = new Set<PendingCall>();

/**
 * Gives `error`, thrown by a callback that C called from another thread, to the pending call that
 * led C to call it: the one that was given the callback, or the only pending call. Returns false
 * when there is none (the error is then uncaught). @internal
 * @ignore
 */
export function _claimCallbackError(hold: _Hold, error: unknown): boolean {
  let only: PendingCall | null = null;
  for (const call of pending) {
    if (call.holds.includes(hold)) {
      call.error ??= { value: error };
      return true;
    }
    only = only === null ? call : only;
  }
  if (only !== null && pending.size === 1) {
    only.error ??= { value: error };
    return true;
  }
  return false;
}

const encoder = new TextEncoder();

const SMALL: Partial<Record<PrimitiveName, (v: number) => number>> = {
  i8: (v) => v << 24 >> 24,
  u8: (v) => v & 0xff,
  i16: (v) => v << 16 >> 16,
  u16: (v) => v & 0xffff,
  i32: (v) => v | 0,
  u32: (v) => v >>> 0,
};

type Converter = (v: unknown, call: PendingCall) => unknown;

/**
 * String copies live in slabs of native-addressable memory: a fresh buffer per string costs about a
 * microsecond to hand to C (its address must be made stable), a slot in a slab a tenth of that. A
 * slab is only written at its end, so a pending call's strings are never overwritten; once no
 * pending call uses the current slab it is reused from the start, and a full one is left to the GC
 * when the last call using it returns.
 */
class Slab {
  readonly u8 = new Uint8Array(SLAB_SIZE);
  readonly base = Deno.UnsafePointer.of(this.u8)!;
  top = 0;
  /** Pending calls with strings in this slab. */
  users = 0;
}
const SLAB_SIZE = 64 * 1024;
let slab: Slab | null = null;

/** The address of a NUL-terminated UTF-8 copy of `s` that lives until `call` has returned. */
function stringCopy(s: string, call: PendingCall): Deno.PointerValue {
  const max = s.length * 3 + 1;
  if (max > SLAB_SIZE / 4) {
    const bytes = encoder.encode(s + "\0");
    call.owned.push(bytes);
    return Deno.UnsafePointer.of(bytes);
  }
  let sl = slab;
  if (sl === null || (sl.users === 0 && call.slab !== sl)) {
    sl = slab ??= new Slab();
    sl.top = 0;
  }
  if (sl.top + max > SLAB_SIZE) {
    // Full: a new slab. The strings of a call stay in one slab, so its old one may stay in use too.
    if (call.slab !== null) {
      const bytes = encoder.encode(s + "\0");
      call.owned.push(bytes);
      return Deno.UnsafePointer.of(bytes);
    }
    sl = slab = new Slab();
  }
  const top = sl.top;
  const u8 = sl.u8;
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x80) break;
    u8[top + i] = ch;
  }
  const end = i === n
    ? top + n
    : top + i + encoder.encodeInto(s.slice(i), u8.subarray(top + i, top + max)).written;
  u8[end] = 0;
  sl.top = (end + 16) & ~15;
  if (call.slab === null) {
    call.slab = sl;
    sl.users++;
  }
  return Deno.UnsafePointer.offset(sl.base, top);
}

/** The pointer value of a pointer-like argument, holding what it points to. */
function pointerArg(v: unknown, what: string, call: PendingCall): Deno.PointerValue {
  if (v === null) return null;
  if (typeof v === "object" && !(kToRaw in v) && (ArrayBuffer.isView(v) || v instanceof ArrayBuffer)) {
    return jsMemory(v, call);
  }
  const pv = _toPointerValue(v, what);
  const raw = _rawOf(v);
  if (raw !== null && raw.isManaged) {
    const chunk = _span(raw).chunk;
    if (chunk !== null && !call.chunks.includes(chunk)) call.chunks.push(chunk);
  }
  if (pv !== null && _callbackHolds.size !== 0) {
    const hold = _callbackHolds.get(Deno.UnsafePointer.value(pv) as bigint);
    if (hold !== undefined && !call.holds.includes(hold)) call.holds.push(hold);
  }
  return pv;
}

/** The pointer C gets for JS memory: shared memory as it is, anything else as a copy kept by the call. */
function jsMemory(v: ArrayBufferView | ArrayBuffer, call: PendingCall): Deno.PointerValue {
  const buffer = ArrayBuffer.isView(v) ? v.buffer : v;
  if (buffer instanceof ArrayBuffer && buffer.detached) {
    throw new TypeError(
      `Cannot pass ${_describe(v)} as a pointer: its ArrayBuffer is detached; pass null for NULL`,
    );
  }
  const bytes = ArrayBuffer.isView(v)
    ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    : new Uint8Array(v);
  if (bytes.byteLength === 0) {
    // Detached or empty: no memory to give C (it would get NULL where the caller meant memory).
    throw new TypeError(
      `Cannot pass ${_describe(v)} as a pointer: it has no memory (detached or empty); pass null for NULL`,
    );
  }
  if (bytes.buffer instanceof SharedArrayBuffer) {
    // Shared memory cannot be detached or shrunk: C may use it in place.
    call.owned.push(bytes);
    return Deno.UnsafePointer.of(bytes);
  }
  const copy = bytes.slice();
  call.copies.push(bytes, copy);
  return Deno.UnsafePointer.of(copy);
}

/** The argument converter for `t`, checking values by the same rules as a synchronous call. */
function converter(t: TypeSpec, denoType: unknown, what: string): Converter {
  const name = t.name;
  const small = SMALL[name as PrimitiveName];
  if (small !== undefined) return (v) => small(_int(v, name, what));
  switch (name) {
    case "i64":
    case "isize":
      return (v) => _int64(v, name, what, true);
    case "u64":
    case "usize":
      return (v) => _int64(v, name, what, false);
    case "f32":
    case "f64":
      return (v) => _float(v, name, what);
    case "bool":
      return denoType === "bool" ? (v) => _bool(v, what) : (v) => (_bool(v, what) ? 1 : 0);
    case "pointer":
      return (v, call) => pointerArg(v, what, call);
    case "string":
      return (v, call) => {
        if (typeof v !== "string") return pointerArg(v, what, call);
        return stringCopy(v, call);
      };
    case "struct":
      return (v, call) => {
        const bytes = structIn(t.struct!, v, what, call);
        call.owned.push(bytes);
        return bytes;
      };
    default:
      throw new Error(`unreachable: ${name}`);
  }
}

function structIn(s: StructSpec, v: unknown, what: string, call: PendingCall): Uint8Array {
  if (typeof v !== "object" || v === null) {
    throw new TypeError(
      `Cannot convert ${_describe(v)} to a struct for ${what}: expected an object or a StructView`,
    );
  }
  // A JS string in a `char*` field is copied for the call, as a string argument is.
  const owner = {
    [kAllocCString](str: string): number {
      const bytes = encoder.encode(str + "\0");
      call.owned.push(bytes);
      return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
    },
  };
  const chunk = Chunk.allocate(s.size, owner);
  s.codec.write(chunk, chunk.ptr, 0, v, what);
  return chunk.u8.subarray(0, s.size);
}

/** The converter of Deno's result for `t`. */
function resultConverter(t: TypeSpec): (r: unknown) => unknown {
  switch (t.name) {
    case "void":
      return () => undefined;
    case "pointer":
      return (r) => _rawFromPointerValue(r as Deno.PointerValue);
    case "string":
      return (r) => r === null ? null : Deno.UnsafePointerView.getCString(r as Deno.PointerObject);
    case "struct": {
      const s = t.struct!;
      return (r) => {
        const bytes = (r as Uint8Array).slice();
        const ptr = Deno.UnsafePointer.of(bytes.buffer);
        return s.codec.read(ptr === null ? null : new Chunk(bytes.buffer, ptr, null), ptr, 0);
      };
    }
    default:
      return (r) => r;
  }
}

/**
 * A function that calls C function `name` with `sig` on another thread and returns a Promise of the
 * result (or of `{ result, errno }`). Bad arguments, a missing symbol or a closed library reject it.
 * @internal
 * @ignore
 */
export function _nonblockingFunction(
  name: string,
  sig: Signature,
  options: { errno: boolean },
  target: NonblockingTarget,
): (...args: unknown[]) => Promise<unknown> {
  const def = { ..._denoDefinition(sig), nonblocking: true };
  const n = sig.args.length;
  const convs = sig.args.map((t, i) =>
    converter(t, def.parameters[i], `argument ${i} (${t.label}) of ${name}`)
  );
  let result = resultConverter(sig.ret);
  const sigText = `(${sig.args.map((t) => t.label).join(", ")})`;
  const hold = target.hold;
  let start = (native: unknown[], _state: PendingCall) => target.get(def)(...native);
  if (options.errno) {
    const engine = errnoEngine(name, sig, target);
    start = engine.start;
    result = engine.result;
  }
  const scalar = (t: TypeSpec) => t.name !== "pointer" && t.name !== "string" && t.name !== "struct";
  if (!options.errno && sig.args.every(scalar) && scalar(sig.ret)) {
    // Numbers in, a number (or nothing) out: nothing to hold but the library, nothing to convert
    // back, no callback to hear from. The caller gets Deno's own Promise; the release of the library
    // is a reaction registered before any of the caller's, so it runs first.
    const done = hold === null ? null : () => hold.done();
    // Deno's nonblocking `void` gives null: the caller gets undefined, as from a synchronous call.
    const voidDone = () => {
      hold?.done();
      return undefined;
    };
    const voidFail = (e: unknown) => {
      hold?.done();
      throw e;
    };
    const isVoid = sig.ret.name === "void";
    const call = (...args: unknown[]): Promise<unknown> => {
      let run: Promise<unknown>;
      try {
        if (args.length !== n) {
          throw new TypeError(
            `${name}${sigText} takes ${n} argument${n === 1 ? "" : "s"}, got ${args.length}`,
          );
        }
        const native = new Array(n);
        for (let i = 0; i < n; i++) native[i] = convs[i](args[i], null as unknown as PendingCall);
        const f = target.get(def);
        hold?.use();
        try {
          run = f(...native);
        } catch (e) {
          hold?.done();
          throw e;
        }
      } catch (e) {
        return Promise.reject(e);
      }
      if (isVoid) return run.then(voidDone, voidFail);
      if (done !== null) run.then(done, done);
      return run;
    };
    Object.defineProperty(call, "name", { value: name });
    return call;
  }
  const call = (...args: unknown[]): Promise<unknown> => {
    const state = new PendingCall();
    let run: Promise<unknown>;
    let started = false;
    try {
      if (args.length !== n) {
        throw new TypeError(`${name}${sigText} takes ${n} argument${n === 1 ? "" : "s"}, got ${args.length}`);
      }
      const native = new Array(n);
      for (let i = 0; i < n; i++) native[i] = convs[i](args[i], state);
      if (hold !== null) state.holds.push(hold);
      state.start();
      started = true;
      try {
        run = start(native, state);
      } catch (e) {
        state.finish();
        throw e;
      }
    } catch (e) {
      if (!started && state.slab !== null) state.slab.users--;
      return Promise.reject(e);
    }
    return run.then(
      (r) => {
        state.finish();
        if (state.error !== null) throw state.error.value;
        return result(r);
      },
      (e) => {
        state.finish();
        throw e;
      },
    );
  };
  Object.defineProperty(call, "name", { value: name });
  return call;
}

/**
 * The nonblocking call of `errno: true`: through the native call engine's entry (`lffi_call`, bound
 * as a nonblocking Deno symbol), which saves `errno` into the call's own cell right after the C
 * function returns, on the thread that ran it. Each call has a block (arguments, result) and a cell
 * of its own, owned by the pending call.
 */
function errnoEngine(name: string, sig: Signature, target: NonblockingTarget): {
  start: (native: unknown[], state: PendingCall) => Promise<unknown>;
  result: (r: unknown) => unknown;
} {
  if (target.address === undefined) {
    throw new TypeError(`Option errno: true is not available for ${name}`);
  }
  const address = target.address;
  const p = _prepareEngineCall(name, sig, sig.args.length);
  const writers = sig.args.map((t, i) => slotWriter(t, p.argOffsets[i]));
  const read = slotReader(sig.ret, p.retOffset);
  const native = _native();
  // The errno cell (errno, last error on Windows, flags) sits after the block, in the same buffer.
  const cellAt = (p.blockSize + 7) & ~7;
  // Blocks of calls that have returned, ready for the next call (initialising one costs a native
  // call and making its address stable about a microsecond).
  const idle: EngineBlock[] = [];
  return {
    start(values, _state) {
      const fn = address();
      let b = idle.pop();
      if (b === undefined || b.fn !== fn) {
        const buf = new ArrayBuffer(cellAt + 16);
        const ptr = Deno.UnsafePointer.of(buf)!;
        const cell = new Int32Array(buf, cellAt, 4);
        const cellPtr = Deno.UnsafePointer.offset(ptr, cellAt);
        if (native.lffi_call_block_init(p.handle, ptr, p.blockSize, fn, cellPtr) !== 1) {
          throw new Error(`lune-ffi: the call block of ${name} does not fit its signature`);
        }
        b = { fn, ptr, d: new DataView(buf), cell };
      }
      const cells = _errnoCells();
      if ((cells.saved[2] & 1) !== 0) {
        // `ffi.errno(value)` asked for errno = value before the next call: this is the next call.
        b.cell[0] = cells.saved[0];
        b.cell[2] = 1;
        cells.saved[2] &= ~1;
      } else {
        b.cell[2] = 0;
      }
      for (let i = 0; i < values.length; i++) writers[i](b.d, values[i]);
      const block = b;
      return native.lffi_call_nonblocking(b.ptr).then(() => block);
    },
    result(r) {
      const b = r as EngineBlock;
      const out = { result: read(b.d), errno: b.cell[0] };
      idle.push(b);
      return out;
    },
  };
}

/** A call block of the engine with its errno cell, for one call at a time. */
interface EngineBlock {
  readonly fn: Deno.PointerValue;
  readonly ptr: Deno.PointerObject;
  readonly d: DataView;
  readonly cell: Int32Array;
}

/** Writes a converted argument (as Deno would take it) into its slot of a call block. */
function slotWriter(t: TypeSpec, o: number): (d: DataView, v: unknown) => void {
  switch (t.name) {
    case "bool":
      return (d, v) => d.setUint8(o, v === true || v === 1 ? 1 : 0);
    case "i8":
    case "u8":
      return (d, v) => d.setUint8(o, (v as number) & 0xff);
    case "i16":
    case "u16":
      return (d, v) => d.setUint16(o, (v as number) & 0xffff, true);
    case "i32":
    case "u32":
      return (d, v) => d.setUint32(o, (v as number) >>> 0, true);
    case "i64":
    case "isize":
    case "u64":
    case "usize":
      return (d, v) => d.setBigUint64(o, BigInt.asUintN(64, v as bigint), true);
    case "f32":
      return (d, v) => d.setFloat32(o, v as number, true);
    case "f64":
      return (d, v) => d.setFloat64(o, v as number, true);
    case "pointer":
    case "string":
      return (d, v) =>
        d.setBigUint64(o, v === null ? 0n : BigInt(Deno.UnsafePointer.value(v as Deno.PointerObject)), true);
    case "struct": {
      const size = t.struct!.size;
      return (d, v) => new Uint8Array(d.buffer, o, size).set(v as Uint8Array);
    }
    default:
      throw new Error(`unreachable: ${t.name}`);
  }
}

/** Reads the result of type `t` from its slot of a call block, converted as a synchronous call's. */
function slotReader(t: TypeSpec, o: number): (d: DataView) => unknown {
  switch (t.name) {
    case "void":
      return () => undefined;
    case "bool":
      return (d) => d.getUint8(o) !== 0;
    case "i8":
      return (d) => d.getInt8(o);
    case "u8":
      return (d) => d.getUint8(o);
    case "i16":
      return (d) => d.getInt16(o, true);
    case "u16":
      return (d) => d.getUint16(o, true);
    case "i32":
      return (d) => d.getInt32(o, true);
    case "u32":
      return (d) => d.getUint32(o, true);
    case "i64":
    case "isize":
      return (d) => d.getBigInt64(o, true);
    case "u64":
    case "usize":
      return (d) => d.getBigUint64(o, true);
    case "f32":
      return (d) => d.getFloat32(o, true);
    case "f64":
      return (d) => d.getFloat64(o, true);
    case "pointer":
    case "string": {
      const convert = resultConverter(t);
      return (d) => {
        const a = d.getBigUint64(o, true);
        return convert(a === 0n ? null : Deno.UnsafePointer.create(a));
      };
    }
    case "struct": {
      const convert = resultConverter(t);
      const size = t.struct!.size;
      return (d) => convert(new Uint8Array(d.buffer, o, size));
    }
    default:
      throw new Error(`unreachable: ${t.name}`);
  }
}
