/**
 * Shared libraries: {@linkcode load} (and the deprecated {@linkcode open}), and {@linkcode Library}
 * with symbol lookup, the export list, and calls by C signature.
 *
 * Each (symbol, signature) pair is bound once, by the fastest route that fits its signature: its own
 * `Deno.dlopen` of the library's resolved path with that one symbol (Deno's fast path, a few
 * nanoseconds; the loader counts the references); a variadic-safe trampoline shared by every function
 * of the signature, when floating-point arguments need `al` set; or the native call engine, for
 * structs by value and what no trampoline routes.
 *
 * @module
 */

import {
  _boundCallState,
  _closeCallState,
  _compileCall,
  _denoDefinition,
  _lazyCallState,
  _signature,
  _signatureKey,
  _splitVariadic,
  _typeKey,
  type CallState,
  type Signature,
} from "./_call.ts";
import { _hasVarargTrampolines, _trampoline, _trampolineName, _trampolineTarget } from "./_dl.ts";
import {
  _compileEngineCall,
  _genericCall,
  _genericEngine,
  type EngineCall,
  type GenericCall,
} from "./_engine.ts";
import { _Hold } from "./_hold.ts";
import { _callOptions, _nonblockingFunction, type CallOptions, type ErrnoResult } from "./_nonblocking.ts";
import { _native } from "./_native.ts";
import { _isPlainObject, FfiError } from "./errors.ts";
import { _rawFromPointerValue, type CType, type RawPointer } from "./pointer.ts";
import type { CallArgs, CResult } from "./struct_types.ts";
import {
  _isCDefs,
  _isPrototype,
  _isSignatureLike,
  _toSignature,
  type Signature as CSignature,
} from "./cdef.ts";
import { _describe } from "./types.ts";

/** One symbol a library exports, as {@linkcode Library.listExports} lists it. */
export interface ExportInfo {
  /** The symbol's name, without version suffix. */
  readonly name: string;
  /** `"function"` for code (including GNU indirect functions), `"data"` for variables. */
  readonly kind: "function" | "data";
  /** Where it is: for an indirect function, the implementation the loader picked, as `getSymbol` gives. */
  readonly address: RawPointer;
}

/** A bound (symbol, signature) pair: its wrapper and the state the wrapper calls through. */
interface Binding {
  readonly name: string;
  readonly ret: unknown;
  readonly types: readonly unknown[];
  readonly st: CallState;
  readonly fn: (...args: unknown[]) => unknown;
  readonly sig: Signature;
  /** The function's address once resolved. */
  addr: Deno.PointerValue | undefined;
  /** Its shared call path (see `call`): undefined until first wanted, null where there is none. */
  g: GenericCall | null | undefined;
}

/** Whether two argument-type lists hold the same values (no struct layouts compared: the fast check). */
function identicalTypes(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The cache key of a signature as spelled, or undefined when a type is not one (resolving throws). */
function spelledKey(ret: unknown, argTypes: unknown): string | undefined {
  if (!Array.isArray(argTypes)) return undefined;
  let key = _typeKey(ret);
  if (key === undefined) return undefined;
  key += "(";
  for (let i = 0; i < argTypes.length; i++) {
    const k = _typeKey(argTypes[i]);
    if (k === undefined) return undefined;
    key += i === 0 ? k : "," + k;
  }
  return key + ")";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function cname(s: string): Uint8Array {
  return encoder.encode(s + "\0");
}

/** The loader's last error message on this thread, or a fallback. */
function loaderError(): string {
  const p = _native().lffi_library_error();
  return p === null ? "unknown loader error" : Deno.UnsafePointerView.getCString(p);
}

function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`Library.${what}(): expected a non-empty string for name, got ${_describe(name)}`);
  }
}

const kConstruct = Symbol("Library.construct");

const ELF_SYM_SIZE = 24;
const STT_FUNC = 2;
const STT_TLS = 6;
const STT_GNU_IFUNC = 10;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STB_GNU_UNIQUE = 10;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const VERSYM_HIDDEN = 0x8000;

/**
 * A loaded shared library. Get one from {@linkcode load}; close it with {@linkcode Library.close}
 * or `using`.
 *
 * @example Calling libc
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libc = ffi.load("libc.so.6");
 * assert.equal(libc.call("getpid", "i32", []), Deno.pid);
 * assert.equal(libc.call("strlen", "usize", ["string"], "hello"), 5n);
 * ```
 */
export class Library {
  /** The name or path it was loaded by. */
  readonly #name: string;
  /** The path the loader resolved it to: the per-binding `Deno.dlopen`s open this same file. */
  readonly #path: string;
  /** Our own loader handle (for `dlsym` and the symbol table), null once closed. */
  #handle: Deno.PointerObject | null;
  /** Every Deno library opened for a binding, closed with this one. */
  readonly #denoLibs: Deno.DynamicLibrary<Record<string, Deno.ForeignFunction>>[] = [];
  /**
   * Bindings by symbol name, then by signature: as spelled (`"int"`, a struct's layout) and as
   * resolved (`"i32"`), both keys leading to the same binding.
   */
  readonly #bindings = new Map<string, Map<string, Binding>>();
  /** The binding `call` last used with each argument-type array (for programs cycling many calls). */
  #byTypes = new WeakMap<object, Binding>();
  /** The binding `call` used last: repeated calls of one function skip the map. */
  #last: Binding | null = null;
  /** Nonblocking calls running the library's code: closing it waits for them to return. */
  readonly #hold = new _Hold();

  /**
   *  Use {@linkcode load}.
   * @internal
   * @ignore
   */
  constructor(token: typeof kConstruct, name: string, path: string, handle: Deno.PointerObject) {
    if (token !== kConstruct) throw new TypeError("Library cannot be constructed directly: use ffi.load()");
    this.#name = name;
    this.#path = path;
    this.#handle = handle;
  }

  /** The name or path the library was loaded by. */
  get name(): string {
    return this.#name;
  }

  /** The file the loader resolved it to. */
  get path(): string {
    return this.#path;
  }

  /** Whether the library is still open. */
  get isOpen(): boolean {
    return this.#handle !== null;
  }

  /** The handle; the FfiError of a closed library otherwise, naming the method `fn` when given. */
  #open(verb: string, fn?: string): Deno.PointerObject {
    if (this.#handle === null) {
      throw new FfiError(
        `${fn === undefined ? "C" : `${fn}: c`}annot ${verb}: library closed (${this.#name})`,
      );
    }
    return this.#handle;
  }

  /** The address of `name`, or null. */
  #lookup(handle: Deno.PointerObject, name: string): Deno.PointerValue {
    return _native().lffi_library_symbol(handle, cname(name));
  }

  /**
   * Whether the library (or, as `dlsym` searches, one of its dependencies) defines `name`.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libm = ffi.load("libm.so.6");
   * assert.equal(libm.hasSymbol("cos"), true);
   * assert.equal(libm.hasSymbol("no_such_function"), false);
   * ```
   */
  hasSymbol(name: string): boolean {
    checkName(name, "hasSymbol");
    return this.#lookup(this.#open(`look up "${name}"`, "Library.hasSymbol()"), name) !== null;
  }

  /**
   * The address of symbol `name` as the loader resolves it (`dlsym`), or `null` when there is none.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libc = ffi.load("libc.so.6");
   * const p = libc.getSymbol("getpid");
   * assert.ok(p !== null && !p.isNull);
   * assert.equal(libc.getSymbol("no_such_function"), null);
   * ```
   */
  getSymbol(name: string): RawPointer | null {
    checkName(name, "getSymbol");
    const p = this.#lookup(this.#open(`look up "${name}"`, "Library.getSymbol()"), name);
    return p === null ? null : _rawFromPointerValue(p);
  }

  /**
   * Every symbol the library itself defines and exports, read from its dynamic symbol table: the
   * names `nm -D --defined-only` prints, without version suffixes and without the version markers
   * (`A` entries), sorted by name.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libz = ffi.load("libz.so.1");
   * const crc32 = libz.listExports().find((e) => e.name === "crc32");
   * assert.equal(crc32?.kind, "function");
   * assert.equal(crc32?.address.addr, libz.getSymbol("crc32")?.addr);
   * ```
   */
  listExports(): ExportInfo[] {
    const handle = this.#open("list exports", "Library.listExports()");
    const dl = _native();
    const info = new BigUint64Array(6);
    if (dl.lffi_library_symtab(handle, info) !== 1) return [];
    const [base, symtab, strtab, strsz, count, versym] = Array.from(info, Number);
    const syms = new DataView(copyOut(symtab, count * ELF_SYM_SIZE));
    const strs = new Uint8Array(copyOut(strtab, strsz));
    const vers = versym !== 0 ? new DataView(copyOut(versym, count * 2)) : null;

    // Versioned libraries list some names twice (an old version and the default one): keep the default.
    const chosen = new Map<string, { i: number; hidden: boolean }>();
    for (let i = 1; i < count; i++) {
      const o = i * ELF_SYM_SIZE;
      const info = syms.getUint8(o + 4);
      const bind = info >> 4;
      const shndx = syms.getUint16(o + 6, true);
      const visibility = syms.getUint8(o + 5) & 3;
      if (shndx === SHN_UNDEF || shndx === SHN_ABS) continue;
      if (bind !== STB_GLOBAL && bind !== STB_WEAK && bind !== STB_GNU_UNIQUE) continue;
      if (visibility === 1 || visibility === 2) continue; // internal, hidden
      const nameAt = syms.getUint32(o, true);
      let end = nameAt;
      while (end < strs.length && strs[end] !== 0) end++;
      if (end === nameAt) continue;
      const name = decoder.decode(strs.subarray(nameAt, end));
      const hidden = vers !== null && (vers.getUint16(i * 2, true) & VERSYM_HIDDEN) !== 0;
      const seen = chosen.get(name);
      if (seen === undefined || (seen.hidden && !hidden)) chosen.set(name, { i, hidden });
    }

    const out: ExportInfo[] = [];
    for (const [name, { i }] of chosen) {
      const o = i * ELF_SYM_SIZE;
      const type = syms.getUint8(o + 4) & 0xf;
      const value = Number(syms.getBigUint64(o + 8, true));
      let address: RawPointer;
      if (type === STT_GNU_IFUNC || type === STT_TLS) {
        // The table holds a resolver (or a TLS offset); the loader knows the real address.
        const p = this.#lookup(handle, name);
        address = p !== null ? _rawFromPointerValue(p) : _rawFromPointerValue(ptrAt(base + value));
      } else {
        address = _rawFromPointerValue(ptrAt(base + value));
      }
      out.push(
        Object.freeze({
          name,
          kind: type === STT_FUNC || type === STT_GNU_IFUNC ? "function" : "data",
          address,
        }),
      );
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Calls C function `name` with the C signature `(argTypes) -> ret` and the arguments `args`,
   * converted by the value rules (see the guide, `docs/guide.md`); the result is typed by {@linkcode CResult} (`number`
   * for `"i32"`, `undefined` for `"void"`, `unknown` for a type name known only at run time). Any
   * string compiles as a type name: an unknown one is a `TypeError`. The binding is built on the first call and cached,
   * so later calls cost a few nanoseconds more than raw Deno FFI. Variadic functions are called with
   * the types of this call's arguments.
   *
   * @throws {TypeError} for an unknown type name, a wrong number or kind of arguments (naming the
   *   argument's index and type).
   * @throws {RangeError} for an integer outside its type's range.
   * @throws {FfiError} when the symbol does not exist or the library is closed.
   *
   * @example Calling `snprintf` (variadic) into a Buffer
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libc = ffi.load("libc.so.6");
   * const buf = ffi.buffer(64);
   * const n = libc.call("snprintf", "i32", ["pointer", "usize", "string", "i32", "f64"], buf, 64, "%d %.2f", 7, 2.5);
   * assert.equal(buf.readString(), "7 2.50");
   * assert.equal(n + 1, 7);
   * assert.equal(libc.call("getpid", "int", []), Deno.pid);
   * ```
   */
  call<R extends CType>(name: string, ret: R, argTypes: readonly CType[], ...args: unknown[]): CResult<R> {
    // The same call as last time; else see #find.
    const b = this.#last;
    if (b !== null && b.name === name && b.ret === ret && identicalTypes(b.types, argTypes)) {
      return b.fn(...args) as CResult<R>;
    }
    // Another signature than last time: a program cycling through many. Each compiled wrapper is
    // fast only once V8 has optimised it, which a wrapper run now and then never is; the shared path
    // is one function for all of them (see `_genericEngine`).
    const f = this.#find(name, ret, argTypes);
    let g = f.g;
    if (g === undefined) g = f.g = _genericEngine(name, f.sig, f.addr ?? this.#address(f));
    if (g !== null) return _genericCall(g, args) as CResult<R>;
    return f.fn(...args) as CResult<R>;
  }

  /**
   * The binding for `call`: the one last used with this very type array (a program cycling through
   * many signatures keeps its arrays), else by name and signature.
   */
  #find(name: string, ret: unknown, argTypes: readonly unknown[]): Binding {
    const isObject = typeof argTypes === "object" && argTypes !== null;
    let b = isObject ? this.#byTypes.get(argTypes) : undefined;
    if (b === undefined || b.name !== name || b.ret !== ret || !identicalTypes(b.types, argTypes)) {
      b = this.#binding(name, ret, argTypes, "call");
      if (isObject) this.#byTypes.set(argTypes, b);
    }
    this.#last = b;
    return b;
  }

  /**
   * A plain function calling C function `name` with the C signature `(argTypes) -> ret`; it returns
   * the type {@linkcode CResult} gives for `ret`. The symbol
   * is resolved on the first call (so a missing one throws then); after {@linkcode Library.close}
   * the function throws. For numeric signatures it costs within a few percent of raw Deno FFI.
   *
   * With `{ nonblocking: true }` the function returns a Promise instead: the call runs on another
   * thread while the event loop goes on (timers fire, I/O is served, thread-safe callbacks run).
   * Arguments are checked and converted as for a synchronous call; a bad one, a missing symbol or a
   * closed library rejects the Promise. Memory passed to a pending call stays allocated until the
   * Promise settles: an arena `reset()` or disposal meanwhile makes its pointers dead for
   * JavaScript at once and frees the memory after C has returned; closing the library, or a
   * callback passed to the call, likewise waits for C to return. JavaScript typed arrays and
   * ArrayBuffers are lent as a copy that is written back when the call returns (JavaScript could
   * otherwise detach them while C writes); `SharedArrayBuffer` memory and arena memory are used in
   * place. A callback that throws while C runs it for a pending call rejects that call's Promise
   * (C gets zero), unless it is a thread-safe callback (see {@linkcode callback}).
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libm = ffi.load("libm.so.6");
   * const pow = libm.fn("pow", "f64", ["f64", "f64"]);
   * assert.equal(pow(2, 10) + 1, 1025);
   * ```
   *
   * @example A call that does not block the event loop
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libc = ffi.load("libc.so.6");
   * const usleep = libc.fn("usleep", "i32", ["u32"], { nonblocking: true });
   * let ticks = 0;
   * const timer = setInterval(() => ticks++, 10);
   * assert.equal(await usleep(100_000), 0); // 100 ms on another thread
   * clearInterval(timer);
   * assert.ok(ticks >= 3);
   * ```
   */
  fn<R extends CType, const A extends readonly CType[]>(
    name: string,
    ret: R,
    argTypes: A,
    options: CallOptions & { nonblocking: true; errno: true },
  ): (...args: CallArgs<A>) => Promise<ErrnoResult<CResult<R>>>;
  /**
   * A function calling C function `name` on another thread (`{ nonblocking: true }`): it returns a
   * Promise of the result. See the first signature for what is held while the call is pending.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libm = ffi.load("libm.so.6");
   * const sqrt = libm.fn("sqrt", "f64", ["f64"], { nonblocking: true });
   * assert.equal(await sqrt(16), 4);
   * ```
   */
  fn<R extends CType, const A extends readonly CType[]>(
    name: string,
    ret: R,
    argTypes: A,
    options: CallOptions & { nonblocking: true },
  ): (...args: CallArgs<A>) => Promise<CResult<R>>;
  /**
   * A plain function calling C function `name` synchronously. See the first signature. Written with
   * literal type names, its parameters and result are typed from them: a wrong number or kind of
   * argument fails to compile.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libc = ffi.load("libc.so.6");
   * const abs = libc.fn("abs", "int", ["int"]);
   * assert.equal(abs(-3), 3);
   * // @ts-expect-error: abs takes one int
   * assert.throws(() => abs("3", 4), TypeError);
   * ```
   */
  fn<R extends CType, const A extends readonly CType[]>(
    name: string,
    ret: R,
    argTypes: A,
    options?: CallOptions,
  ): (...args: CallArgs<A>) => CResult<R>;
  /**
   * A function bound from a C prototype, given as a string (`"size_t strlen(const char *s)"`, a
   * trailing `;` optional) or a {@linkcode Signature} from {@linkcode cdef}: the same binding as
   * `lib.fn(sig.name, sig.ret, sig.args, options)`. A variadic prototype's function takes, after the
   * fixed arguments, each extra argument as a type and a value: `printf("%d %s\n", "int", 42, "string", "x")`.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libc = ffi.load("libc.so.6");
   * const strlen = libc.fn("size_t strlen(const char *s)");
   * assert.equal(strlen("hello"), 5n);
   * const { abs } = ffi.cdef("int abs(int j);");
   * assert.equal(libc.fn(abs)(-3), 3);
   * const snprintf = libc.fn("int snprintf(char *buf, size_t n, const char *fmt, ...)");
   * const buf = new Uint8Array(32);
   * snprintf(buf, 32, "%d-%.1f", "int", 7, "double", 2.5);
   * assert.equal(ffi.string(buf), "7-2.5");
   * ```
   */
  // deno-lint-ignore no-explicit-any -- the types of a prototype string are not known to the compiler
  fn(prototype: string | CSignature, options?: CallOptions): (...args: any[]) => any;
  fn(
    nameOrPrototype: string | CSignature,
    ret?: unknown,
    argTypes?: unknown,
    options?: CallOptions,
  ): (...args: never[]) => unknown {
    if (
      argTypes === undefined && ret !== undefined && typeof ret !== "object" &&
      typeof nameOrPrototype === "string" &&
      !nameOrPrototype.includes("(")
    ) {
      // The list form `fn(name, ret, argTypes)` without its argument types.
      checkName(nameOrPrototype, "fn");
      throw new TypeError(
        `Library.fn(): expected an array of C types for argTypes (of ${nameOrPrototype}), got undefined`,
      );
    }
    if (argTypes === undefined) {
      // The prototype forms: `fn(prototype, options?)`.
      const sig = _toSignature(nameOrPrototype, "Library.fn()");
      if (ret !== undefined) {
        const o = _callOptions(ret, `Library.fn("${sig.name}")`);
        if (o.nonblocking) {
          if (sig.variadic) return this.#nonblockingVariadic(sig, o);
          return this.#nonblocking(sig.name, sig.ret, sig.args, o);
        }
      }
      return this.#fromSignature(sig);
    }
    const name = nameOrPrototype as string;
    if (options !== undefined) {
      const o = _callOptions(options, `Library.fn(${_describe(name)})`);
      if (o.nonblocking) return this.#nonblocking(name, ret, argTypes, o);
    }
    return this.#binding(name, ret, argTypes, "fn").fn;
  }

  /**
   * One bound function per function prototype in `defs` (the result of {@linkcode cdef}, or any
   * object whose values are prototype strings or Signatures), under the same names. Function-pointer
   * typedefs, types and constants in `defs` are skipped. Symbols are resolved on first call: a symbol
   * the library lacks throws then, naming it.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * using libc = ffi.load("libc.so.6");
   * const c = libc.bind(ffi.cdef(`
   *   size_t strlen(const char *s);
   *   int atoi(const char *s);
   * `));
   * assert.equal(c.strlen("four"), 4n);
   * assert.equal(c.atoi("42"), 42);
   * ```
   */
  // deno-lint-ignore no-explicit-any -- the bound functions' types are not known to the compiler
  bind(defs: { readonly [name: string]: unknown }): { [name: string]: (...args: any[]) => any } {
    this.#open("bind functions", "Library.bind()");
    if (!_isPlainObject(defs)) {
      throw new TypeError(
        `Library.bind(): expected the result of ffi.cdef() for defs, got ${_describe(defs)}`,
      );
    }
    const out: { [name: string]: (...args: never[]) => unknown } = {};
    for (const [key, v] of Object.entries(defs)) {
      // From cdef, only prototypes (not function-pointer typedefs); elsewhere any prototype or Signature.
      const isProto = _isCDefs(defs) ? _isPrototype(v) : typeof v === "string" || _isSignatureLike(v);
      if (!isProto) continue;
      try {
        out[key] = this.#fromSignature(_toSignature(v, `Library.bind(): "${key}"`));
      } catch (e) {
        // One prototype that cannot be bound (a type that cannot pass by value) does not stop the
        // others: its function throws the error when called, as a missing symbol does.
        out[key] = {
          [key]: () => {
            throw e;
          },
        }[key];
      }
    }
    return out;
  }

  /**
   * The nonblocking function of a variadic prototype: like its synchronous one, it takes each extra
   * argument as a C type and a value, and each list of types gets its own nonblocking binding.
   */
  #nonblockingVariadic(sig: CSignature, options: { errno: boolean }): (...args: never[]) => unknown {
    const name = sig.name;
    const bound = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    const bindTypes = (types: CType[]) => this.#nonblocking(name, sig.ret, types, options);
    return {
      [name](...args: unknown[]): Promise<unknown> {
        try {
          const { types, values } = _splitVariadic(`${name}()`, sig.args, args) as {
            types: CType[];
            values: unknown[];
          };
          const key = types.every((t) => typeof t === "string") ? types.join(",") : null;
          let f = key === null ? undefined : bound.get(key);
          if (f === undefined) {
            f = bindTypes(types);
            if (key !== null) bound.set(key, f);
          }
          return f(...values);
        } catch (e) {
          return Promise.reject(e);
        }
      },
    }[name] as (...args: never[]) => unknown;
  }

  #fromSignature(sig: CSignature): (...args: never[]) => unknown {
    if (!sig.variadic) return this.#binding(sig.name, sig.ret, sig.args, "fn").fn;
    const name = sig.name;
    const call = (types: CType[], values: unknown[]) => this.call(name, sig.ret, types, ...values);
    return {
      [name](...args: unknown[]): unknown {
        const { types, values } = _splitVariadic(`${name}()`, sig.args, args) as {
          types: CType[];
          values: unknown[];
        };
        return call(types, values);
      },
    }[name] as (...args: never[]) => unknown;
  }

  /**
   * A nonblocking function for (name, signature): its own Deno binding with `nonblocking: true`,
   * made on the first call, and the library held by each call until C returns.
   */
  #nonblocking(
    name: string,
    ret: unknown,
    argTypes: unknown,
    options: { errno: boolean },
  ): (...args: unknown[]) => Promise<unknown> {
    checkName(name, "fn");
    this.#open(`bind "${name}"`, "Library.fn()");
    const sig = _signature(name, ret, argTypes, "Library.fn()");
    let f: ((...args: unknown[]) => Promise<unknown>) | null = null;
    let address: Deno.PointerValue = null;
    return _nonblockingFunction(name, sig, options, {
      hold: this.#hold,
      address: () => {
        const handle = this.#open(`call "${name}"`);
        if (address !== null) return address;
        address = this.#lookup(handle, name);
        if (address === null) {
          throw new FfiError(`Cannot call "${name}": symbol not found in ${this.#name}: ${loaderError()}`);
        }
        return address;
      },
      get: (def) => {
        const handle = this.#open(`call "${name}"`);
        if (f !== null) return f;
        if (this.#lookup(handle, name) === null) {
          throw new FfiError(`Cannot call "${name}": symbol not found in ${this.#name}: ${loaderError()}`);
        }
        // libffi (which runs Deno's nonblocking calls) sets `al`, so variadic functions need no trampoline.
        const lib = Deno.dlopen(this.#path, { f: { name, ...def } });
        this.#denoLibs.push(lib);
        return (f = lib.symbols.f as unknown as (...args: unknown[]) => Promise<unknown>);
      },
    });
  }

  /** The binding of (name, signature), built on first request. */
  #binding(name: string, ret: unknown, argTypes: unknown, method: string): Binding {
    checkName(name, method);
    this.#open(`bind "${name}"`, `Library.${method}()`);
    let byName = this.#bindings.get(name);
    const spelled = spelledKey(ret, argTypes);
    if (byName !== undefined && spelled !== undefined) {
      const known = byName.get(spelled);
      if (known !== undefined) return known;
    }
    const sig = _signature(name, ret, argTypes, `Library.${method}()`);
    const resolved = _signatureKey(sig);
    if (byName === undefined) this.#bindings.set(name, byName = new Map());
    const same = byName.get(resolved);
    if (same !== undefined) {
      if (spelled !== undefined) byName.set(spelled, same);
      return same;
    }
    const route = this.#route(sig);
    let engine: EngineCall | null = null;
    let fn: (...args: unknown[]) => unknown;
    let addr: Deno.PointerValue | undefined;
    let st: CallState | undefined;
    // Bound now when the symbol is there (a missing symbol still throws only when called), so the
    // wrapper's call state is final from the start and V8 inlines Deno's fast call into it (see
    // `_boundCallState`). A trampoline is shared by every function of the signature; a direct
    // binding is the symbol's own `Deno.dlopen`, made now instead of at the first call; an engine
    // call's block points at the function from the start.
    const found = this.#lookup(this.#open(`bind "${name}"`), name);
    if (route !== "engine") {
      if (found !== null) {
        addr = found;
        if (route !== "direct") {
          st = _boundCallState(_trampoline(route, _denoDefinition(sig)), _trampolineTarget(route, found));
        } else {
          const lib = Deno.dlopen(this.#path, { f: { name, ..._denoDefinition(sig) } });
          this.#denoLibs.push(lib);
          st = _boundCallState(lib.symbols.f as (...args: unknown[]) => unknown, undefined);
        }
      }
    }
    if (route === "engine") {
      if (found !== null) addr = found;
      engine = _compileEngineCall(name, sig, sig.args.length, found ?? _lazyCallState(undefined));
      st = engine.st;
      fn = engine.fn;
    } else {
      st ??= _lazyCallState(undefined);
      fn = _compileCall(name, sig, st, route !== "direct");
    }
    const b: Binding = {
      name,
      ret,
      types: [...(argTypes as unknown[])],
      st,
      fn,
      sig,
      addr,
      g: undefined,
    };
    // Resolved on first use when it was missing at bind time: lazy symbol resolution, as Lune promises.
    if (st.f === null) st.r = () => this.#resolve(b, sig, route, engine);
    byName.set(resolved, b);
    if (spelled !== undefined) byName.set(spelled, b);
    return b;
  }

  /**
   * How calls with `sig` go: `"direct"` (the symbol bound with `Deno.dlopen`, Deno's fast path),
   * a trampoline's name (on x86_64 a call with floating-point arguments must set `al` in case the
   * function is variadic, and Deno's fast path does not), or `"engine"` (structs by value, and
   * signatures no trampoline routes).
   */
  #route(sig: Signature): string {
    if (sig.ret.struct !== null || sig.args.some((a) => a.struct !== null)) return "engine";
    if (!_hasVarargTrampolines || !sig.args.some((a) => a.name === "f32" || a.name === "f64")) {
      return "direct";
    }
    return _trampolineName(sig) ?? "engine";
  }

  /** The address of a binding's symbol, looked up once; throws when it is missing. */
  #address(b: Binding): Deno.PointerValue {
    const handle = this.#open(`call "${b.name}"`);
    if (b.addr !== undefined) return b.addr;
    const addr = this.#lookup(handle, b.name);
    if (addr === null) {
      throw new FfiError(`Cannot call "${b.name}": symbol not found in ${this.#name}: ${loaderError()}`);
    }
    return b.addr = addr;
  }

  /** Binds a symbol for real, by its route. */
  #resolve(b: Binding, sig: Signature, route: string, engine: EngineCall | null): void {
    const addr = this.#address(b);
    if (engine !== null) {
      engine.init(addr);
      b.st.f = engine.enter as (...args: unknown[]) => unknown;
    } else if (route !== "direct") {
      b.st.f = _trampoline(route, _denoDefinition(sig));
      b.st.t = _trampolineTarget(route, addr);
    } else {
      const lib = Deno.dlopen(this.#path, { f: { name: b.name, ..._denoDefinition(sig) } });
      this.#denoLibs.push(lib);
      b.st.f = lib.symbols.f as (...args: unknown[]) => unknown;
    }
  }

  /**
   * Closes the library: every function from {@linkcode Library.fn} and every later method call
   * throws an {@linkcode FfiError} saying "library closed". Another `Library` of the same file stays
   * open. Closing twice does nothing.
   *
   * @example
   * ```ts
   * import * as ffi from "@x/lune-ffi";
   * import assert from "node:assert/strict";
   *
   * const libc = ffi.load("libc.so.6");
   * const getpid = libc.fn("getpid", "i32", []);
   * libc.close();
   * assert.throws(() => getpid(), /library closed/);
   * ```
   */
  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    this.#last = null;
    this.#byTypes = new WeakMap();
    for (const byName of this.#bindings.values()) {
      for (const b of new Set(byName.values())) {
        const name = b.name;
        _closeCallState(b.st, () => {
          throw new FfiError(`Cannot call "${name}": library closed (${this.#name})`);
        });
        b.addr = undefined;
        b.g = null;
      }
    }
    this.#bindings.clear();
    const libs = this.#denoLibs.splice(0);
    // Closed from inside a callback, the library may be the C code on the stack: unload it once C
    // returns. Closed while nonblocking calls run its code on other threads: once they have returned.
    this.#hold.release(() => {
      for (const lib of libs) lib.close();
      _native().lffi_library_close(handle);
    });
  }

  /** Closes the library (`using lib = ffi.load(...)`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Debug output for `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Library(${JSON.stringify(this.#name)}${this.#path !== this.#name ? ` at ${this.#path}` : ""}${
      this.#handle === null ? ", closed" : ""
    })`;
  }
}

function ptrAt(addr: number): Deno.PointerValue {
  return Deno.UnsafePointer.create(BigInt(addr));
}

/** A copy of `len` bytes at an address the loader mapped. */
function copyOut(addr: number, len: number): ArrayBuffer {
  const bytes = new Uint8Array(len);
  const p = ptrAt(addr);
  if (p !== null && len > 0) new Deno.UnsafePointerView(p).copyInto(bytes);
  return bytes.buffer;
}

/**
 * Loads a shared library by path, or by a name the system loader resolves (`"libc.so.6"`,
 * `"libsqlite3.so.0"`). Each call gives an independent {@linkcode Library}: closing one leaves the
 * others working.
 *
 * @throws {FfiError} when the loader cannot load it; the message names `path` and carries the
 *   loader's own explanation.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libm = ffi.load("libm.so.6");
 * assert.equal(libm.call("cos", "f64", ["f64"], 0), 1);
 * assert.throws(() => ffi.load("libdoes-not-exist.so"), /libdoes-not-exist\.so/);
 * ```
 */
export function load(path: string): Library {
  return loadAs(path, "ffi.load()");
}

/** `load`, naming `fn` (`ffi.load()` or its alias `ffi.open()`) in its errors. */
function loadAs(path: unknown, fn: string): Library {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(
      `${fn}: cannot load library ${_describe(path)}: expected a non-empty path or library name for path`,
    );
  }
  const dl = _native();
  const handle = dl.lffi_library_open(cname(path));
  if (handle === null) throw new FfiError(`${fn}: cannot load library "${path}": ${loaderError()}`);
  const p = dl.lffi_library_path(handle);
  const resolved = p === null ? "" : Deno.UnsafePointerView.getCString(p);
  return new Library(kConstruct, path, resolved !== "" ? resolved : path, handle);
}

let warned = false;

/**
 * Deprecated alias of {@linkcode load}, kept from Lune's API; prints one deprecation warning
 * per process.
 *
 * @deprecated Use {@linkcode load}.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * using libc = ffi.open("libc.so.6"); // warns once: use ffi.load()
 * assert.equal(libc.hasSymbol("getpid"), true);
 * ```
 */
export function open(path: string): Library {
  if (!warned) {
    warned = true;
    console.warn("lune-ffi: ffi.open() is deprecated, use ffi.load() instead");
  }
  return loadAs(path, "ffi.open()");
}
