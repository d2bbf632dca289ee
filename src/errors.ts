/**
 * Error types: `TypeError` for a wrong kind of value or an unknown type name, `RangeError` for
 * out-of-bounds access and bad sizes (both built in), and {@linkcode FfiError} for native failures:
 * freed memory, a missing library or symbol, a closed library or callback.
 *
 * Also the one formatter of values for every error message ({@linkcode _describe}): the lowest
 * module of the package, so that every other module can use it.
 *
 * @module
 */

/**
 * An error from the native side of the FFI: freed memory, a library or symbol that cannot be found,
 * a closed library or callback.
 *
 * @example Catching access to freed memory
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const arena = ffi.arena();
 * const p = arena.alloc(8);
 * arena.reset();
 * assert.throws(() => p.read(0, "i32"), ffi.FfiError);
 * ```
 */
export class FfiError extends Error {
  /** Always `"FfiError"`. */
  override name = "FfiError";
}

/**
 *  The error for any access to memory its arena has freed (or whose buffer was detached).
 * @internal
 * @ignore
 */
export function _freedError(what: string): FfiError {
  return new FfiError(`Cannot ${what}: the memory was freed (its arena was reset or disposed)`);
}

/**
 * The method by which the package's own objects (pointers, views, definitions) describe themselves
 * in error messages: short, and never throwing. A registered symbol, so this module imports nothing.
 * @internal
 * @ignore
 */
export const kDescribe: unique symbol = Symbol.for("lune-ffi.describe") as never;

/** Longest quoted string an error message shows whole. */
const MAX_STRING = 60;
/** Most keys or elements an error message lists. */
const MAX_ITEMS = 4;

function describeString(s: string): string {
  const q = JSON.stringify(s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s);
  return s.length > MAX_STRING ? `${q.slice(0, -1)}..." (${s.length} characters)` : q;
}

function describeNumber(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

function describePrimitive(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return describeString(v);
    case "number":
      return describeNumber(v);
    case "bigint":
      return `${v}n`;
    case "boolean":
      return String(v);
    case "undefined":
      return "undefined";
    case "symbol":
      return v.description === undefined ? "a symbol" : `Symbol(${describeString(v.description)})`;
    case "function":
      return v.name ? `function ${v.name}` : "a function";
  }
  return v === null ? "null" : undefined;
}

function describeObject(o: object): string {
  const own = (o as { [kDescribe]?: unknown })[kDescribe];
  if (typeof own === "function") {
    const s = own.call(o);
    if (typeof s === "string") return s;
  }
  if (Array.isArray(o)) {
    const n = o.length;
    if (n <= MAX_ITEMS) {
      const items: string[] = [];
      for (let i = 0; i < n; i++) {
        const e = i in o ? o[i] : undefined;
        items.push(i in o ? (describePrimitive(e) ?? "an object") : "<hole>");
      }
      return `[${items.join(", ")}]`;
    }
    return `an array of ${n} elements`;
  }
  if (ArrayBuffer.isView(o)) {
    const name = Object.getPrototypeOf(o)?.constructor?.name ?? "view";
    const len = (o as { length?: number }).length ?? (o as DataView).byteLength;
    return `${String(name)}(${len})`;
  }
  if (o instanceof ArrayBuffer) {
    return o.detached ? "a detached ArrayBuffer" : `ArrayBuffer(${o.byteLength})`;
  }
  const proto = Object.getPrototypeOf(o);
  const keys = Object.keys(o);
  if (proto === null && keys.length === 0) return "a Deno pointer value or null-prototype object";
  const listed = keys.slice(0, MAX_ITEMS).join(", ") + (keys.length > MAX_ITEMS ? ", ..." : "");
  const ctor = proto === null ? undefined : Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
  const name = typeof ctor === "function" && typeof ctor.name === "string" ? ctor.name : "";
  if (name === "" || name === "Object") {
    return proto === null ? `a null-prototype object {${listed}}` : `an object {${listed}}`;
  }
  return `a ${name}`;
}

/**
 * Formats any value for an error message: short, exact for primitives (`"abc"`, `-0`, `5n`), a
 * summary for objects (`Uint8Array(216792)`, `an object {x, y}`, `a RawPointer(0x1000)`). It never
 * throws, whatever the value does (a throwing `toString`, a Proxy, a revoked Proxy): it calls no
 * `toString` or `valueOf`, and anything else that throws gives `an object`.
 * @internal
 * @ignore
 */
export function _describe(v: unknown): string {
  const p = describePrimitive(v);
  if (p !== undefined) return p;
  try {
    return describeObject(v as object);
  } catch {
    return "an object";
  }
}

/**
 * Whether `o` is a plain object (`{...}` or a null-prototype object): what an options parameter takes.
 * Never throws (a Proxy whose traps throw is not one).
 * @internal
 * @ignore
 */
export function _isPlainObject(o: unknown): o is Record<string, unknown> {
  if (typeof o !== "object" || o === null) return false;
  try {
    const proto = Object.getPrototypeOf(o);
    return proto === null || proto === Object.prototype;
  } catch {
    return false;
  }
}

/**
 * `key in o`, but `false` where asking throws (a Proxy whose `has` trap throws): type and pointer
 * checks use it, so that such a value gets the TypeError naming the function, the parameter and the
 * value instead of the trap's own exception.
 * @internal
 * @ignore
 */
export function _has(o: object, key: PropertyKey): boolean {
  try {
    return key in o;
  } catch {
    return false;
  }
}

/**
 * `o[key]`, or `undefined` where reading it throws (a getter or a Proxy trap).
 * @internal
 * @ignore
 */
export function _get(o: object, key: PropertyKey): unknown {
  try {
    return (o as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * `o instanceof C`, or `false` where asking throws (a Proxy whose `getPrototypeOf` trap throws).
 * @internal
 * @ignore
 */
export function _isInstance(o: unknown, C: abstract new (...args: never[]) => unknown): boolean {
  try {
    return o instanceof C;
  } catch {
    return false;
  }
}

/**
 * The message of a bad argument: `fn: expected <what> for param, got <value>`, with the value
 * formatted by {@linkcode _describe}.
 * @internal
 * @ignore
 */
export function _argMessage(fn: string, param: string, expected: string, v: unknown): string {
  return `${fn}: expected ${expected} for ${param}, got ${_describe(v)}`;
}
