// The bad-input matrix (issue 9): every public function and each of its parameters, called with
// every class of bad value. Each case must throw a TypeError (wrong kind of value), RangeError (out
// of range or size) or FfiError (freed memory, closed library or callback, missing symbol) whose
// message names the function (`Owner.method()` / `ffi.fn()`), the parameter and the value (as the
// package's formatter prints it), or succeed where the contract accepts the value. Run by
// `bad_inputs_test.ts` in a child process (a crash there is a failure); `deno run -A` on this file
// prints the failing cases.
import * as ffi from "../mod.ts";
import { _describe } from "../src/errors.ts";
import { FIXTURE } from "./_fixture.ts";

// ---------------------------------------------------------------------------------------------------
// Value classes. Each is made fresh per case (freed pointers and closed objects need their own).

interface Ctx {
  arena: ffi.Arena;
  p: ffi.RawPointer;
  buf: ffi.Buffer;
  lib: ffi.Library;
  def: ffi.StructDefinition;
}

const TRAP = new Error("trap");
function throwingProxy(): object {
  const boom = () => {
    throw TRAP;
  };
  return new Proxy({}, {
    get: boom,
    has: boom,
    ownKeys: boom,
    getPrototypeOf: boom,
    getOwnPropertyDescriptor: boom,
    apply: boom,
  });
}

const VALUES: Record<string, () => unknown> = {
  "undefined": () => undefined,
  "null": () => null,
  "NaN": () => NaN,
  "Infinity": () => Infinity,
  "-Infinity": () => -Infinity,
  "-0": () => -0,
  "1.5": () => 1.5,
  "-1": () => -1,
  "2**53": () => 2 ** 53,
  "2**64": () => 2 ** 64,
  "huge bigint": () => 2n ** 80n,
  "true": () => true,
  "bigint 1n": () => 1n,
  "bigint -1n": () => -1n,
  "Uint8Array": () => new Uint8Array(4),
  "StructView": () => {
    const S = ffi.struct([["x", "i32"]]);
    return ffi.view(ffi.arena().allocType(S), S);
  },
  "empty string": () => "",
  "numeric string": () => "12",
  "unknown name": () => "nosuchtype",
  "symbol": () => Symbol("s"),
  "plain object": () => ({ a: 1 }),
  "null-prototype object": () => Object.create(null),
  "throwing toString": () => ({
    toString() {
      throw TRAP;
    },
    valueOf() {
      throw TRAP;
    },
    [Symbol.toPrimitive]() {
      throw TRAP;
    },
  }),
  "throwing proxy": throwingProxy,
  "array": () => [1, 2],
  "sparse array": () => [1, , 3],
  "function": () => function f() {},
  "detached ArrayBuffer": () => {
    const b = new ArrayBuffer(8);
    b.transfer(0);
    return b;
  },
  "freed pointer": () => {
    const a = ffi.arena();
    const p = a.alloc(16);
    a.reset();
    return p;
  },
  "closed library": () => {
    const l = ffi.load("libc.so.6");
    l.close();
    return l;
  },
  "closed callback": () => {
    const cb = ffi.callback(() => 0, "i32", []);
    cb.close();
    return cb;
  },
  "closed callback ptr": () => {
    const cb = ffi.callback(() => 0, "i32", []);
    const p = cb.ptr;
    cb.close();
    return p;
  },
};

// ---------------------------------------------------------------------------------------------------
// Parameter kinds: what each kind makes of each value class. "ok" means the call must succeed;
// otherwise the allowed error classes.

type Outcome =
  | "ok"
  | "T"
  | "R"
  | "F"
  | "TR"
  | "RF"
  | "TF"
  | "any"
  | "okT"
  | "okR"
  | "okF"
  | "S"
  | "ST"
  | "okTR";

const NUMERIC_BAD = new Set(["NaN", "Infinity", "-Infinity", "1.5"]);
const POINTERISH = new Set(["freed pointer", "closed callback ptr"]);

function sizeKind(v: string): Outcome {
  if (v === "-0") return "ok";
  if (NUMERIC_BAD.has(v) || v === "-1" || v === "2**53" || v === "2**64") return "R";
  return "T";
}

const KINDS: Record<string, (v: string) => Outcome> = {
  size: sizeKind,
  optSize: (v) => (v === "undefined" ? "ok" : sizeKind(v)),
  // A byte offset of an access: an integer; anything out of the allocation is a RangeError.
  offset: (v) => {
    if (v === "-0") return "ok";
    if (NUMERIC_BAD.has(v)) return "TR";
    if (v === "-1" || v === "2**53" || v === "2**64") return "R";
    return "T";
  },
  optOffset: (v) => (v === "undefined" ? "ok" : KINDS.offset(v)),
  // Pointer arithmetic: may leave the bounds (like C), not the safe integers.
  arith: (v) => {
    if (v === "-0" || v === "-1") return "ok";
    if (NUMERIC_BAD.has(v)) return "TR";
    if (v === "2**53" || v === "2**64") return "R";
    return "T";
  },
  align: (v) => {
    if (NUMERIC_BAD.has(v) || v === "-1" || v === "-0" || v === "2**53" || v === "2**64") return "R";
    return "T";
  },
  // An integer value of a C integer type (i32 here, as in `write(p, 0, "i32", v)`).
  int: (v) => {
    if (v === "-0" || v === "-1") return "ok";
    if (NUMERIC_BAD.has(v) || v === "NaN") return "T";
    if (v === "2**53" || v === "2**64" || v === "huge bigint") return "TR";
    return "T";
  },
  // The byte of `fill`: as a u8 write.
  byte: (v) => KINDS.int(v),
  ctype: () => "T",
  // A pointer-like argument of an access (read/write/copy/fill/cast/view/string/toRaw).
  ptr: (v) => {
    if (POINTERISH.has(v) || v === "closed callback") return "F";
    // JS memory: ffi.copy and ffi.string take it (a RangeError when too short), the others do not.
    if (v === "Uint8Array") return "okTR";
    // A StructView is pointer-like (its 4 bytes: a RangeError for a longer access).
    if (v === "StructView") return "okR";
    if (v === "null") return "TF";
    return "T";
  },
  // Symbol names: a missing one is not an error for hasSymbol/getSymbol.
  symbolQuery: (v) => (v === "numeric string" || v === "unknown name" ? "ok" : "T"),
  symbolCall: (v) => (v === "numeric string" || v === "unknown name" ? "F" : "T"),
  // Library.fn binds lazily: a missing symbol throws when the function is first called.
  symbolBind: (v) => (v === "numeric string" || v === "unknown name" ? "okF" : "T"),
  path: (v) => (v === "numeric string" || v === "unknown name" ? "F" : "T"),
  fnValue: (v) => (v === "function" ? "ok" : "T"),
  typeList: () => "T",
  options: (v) => {
    if (v === "undefined" || v === "null-prototype object") return "ok";
    return "T";
  },
  fields: () => "T",
  def: () => "T",
  fieldName: () => "T",
  source: (v) => {
    if (v === "empty string") return "ok";
    if (v === "numeric string") return "S";
    if (v === "unknown name") return "ST"; // an unknown type name is a TypeError
    return "T";
  },
  scope: () => "T",
  bytes: (v) => (v === "array" || v === "Uint8Array" ? "ok" : "T"),
  text: (v) => (v === "empty string" || v === "numeric string" || v === "unknown name" ? "ok" : "T"),
  errnoValue: (v) => {
    if (v === "undefined" || v === "-0" || v === "-1") return "ok";
    if (NUMERIC_BAD.has(v)) return "T";
    if (v === "2**53" || v === "2**64" || v === "huge bigint") return "TR";
    return "T";
  },
  // Any object: bind() makes a function of each Signature in it and skips other values.
  defs: (v) => (["plain object", "null-prototype object", "throwing toString"].includes(v) ? "okT" : "T"),
  pointerLike: (v) => (POINTERISH.has(v) || v === "freed pointer" ? "okF" : KINDS.ptr(v)),
};

// ---------------------------------------------------------------------------------------------------
// The functions: a label (as messages name it), parameters (name and kind), and a call that puts
// the bad value at position `i` of otherwise valid arguments.

interface Fn {
  label: string;
  params: [string, string][];
  call: (c: Ctx, args: unknown[]) => unknown;
  valid: (c: Ctx) => unknown[];
}

// deno-lint-ignore no-explicit-any
type Any = any;

const FNS: Fn[] = [
  {
    label: "Arena.alloc",
    params: [["size", "size"]],
    valid: () => [8],
    call: (c, a) => c.arena.alloc(a[0] as Any),
  },
  {
    label: "Arena.allocAligned",
    params: [["size", "size"], ["align", "align"]],
    valid: () => [8, 8],
    call: (c, a) => c.arena.allocAligned(a[0] as Any, a[1] as Any),
  },
  {
    label: "Arena.allocType",
    params: [["ctype", "ctype"]],
    valid: () => ["i32"],
    call: (c, a) => c.arena.allocType(a[0] as Any),
  },
  {
    label: "Arena.allocArray",
    params: [["ctype", "ctype"], ["count", "size"]],
    valid: () => ["i32", 4],
    call: (c, a) => c.arena.allocArray(a[0] as Any, a[1] as Any),
  },
  {
    label: "ffi.read",
    params: [["ptr", "ptr"], ["offset", "offset"], ["ctype", "ctype"]],
    valid: (c) => [c.p, 0, "i32"],
    call: (_c, a) => ffi.read(a[0] as Any, a[1] as Any, a[2] as Any),
  },
  {
    label: "ffi.write",
    params: [["ptr", "ptr"], ["offset", "offset"], ["ctype", "ctype"], ["value", "int"]],
    valid: (c) => [c.p, 0, "i32", 1],
    call: (_c, a) => ffi.write(a[0] as Any, a[1] as Any, a[2] as Any, a[3] as Any),
  },
  {
    label: "ffi.copy",
    params: [["dst", "ptr"], ["src", "ptr"], ["len", "size"]],
    valid: (c) => [c.p, c.p.add(8), 8],
    call: (_c, a) => ffi.copy(a[0] as Any, a[1] as Any, a[2] as Any),
  },
  {
    label: "ffi.fill",
    params: [["ptr", "ptr"], ["len", "size"], ["byte", "byte"]],
    valid: (c) => [c.p, 8, 0],
    call: (_c, a) => ffi.fill(a[0] as Any, a[1] as Any, a[2] as Any),
  },
  {
    label: "ffi.ptr",
    params: [["addr", "ptrAddr"]],
    valid: () => [4096],
    call: (_c, a) => ffi.ptr(a[0] as Any),
  },
  {
    label: "ffi.sizeof",
    params: [["ctype", "ctype"]],
    valid: () => ["i32"],
    call: (_c, a) => ffi.sizeof(a[0] as Any),
  },
  {
    label: "ffi.alignof",
    params: [["ctype", "ctype"]],
    valid: () => ["i32"],
    call: (_c, a) => ffi.alignof(a[0] as Any),
  },
  {
    label: "ffi.cast",
    params: [["ptr", "ptr"], ["ctype", "ctype"], ["count", "optSize"]],
    valid: (c) => [c.p, "i32", 4],
    call: (_c, a) => ffi.cast(a[0] as Any, a[1] as Any, a[2] as Any),
  },
  {
    label: "ffi.view",
    params: [["ptr", "ptr"], ["def", "def"]],
    valid: (c) => [c.p, c.def],
    call: (_c, a) => ffi.view(a[0] as Any, a[1] as Any),
  },
  {
    label: "ffi.toRaw",
    params: [["x", "pointerLike"]],
    valid: (c) => [c.p],
    call: (_c, a) => ffi.toRaw(a[0] as Any),
  },
  {
    label: "ffi.string",
    params: [["ptr", "ptr"], ["len", "optSize"]],
    valid: (c) => [c.p, 4],
    call: (_c, a) => ffi.string(a[0] as Any, a[1] as Any),
  },
  {
    label: "RawPointer.read",
    params: [["offset", "offset"], ["ctype", "ctype"]],
    valid: () => [0, "i32"],
    call: (c, a) => c.p.read(a[0] as Any, a[1] as Any),
  },
  {
    label: "RawPointer.write",
    params: [["offset", "offset"], ["ctype", "ctype"], ["value", "int"]],
    valid: () => [0, "i32", 1],
    call: (c, a) => c.p.write(a[0] as Any, a[1] as Any, a[2] as Any),
  },
  {
    label: "RawPointer.offset",
    params: [["bytes", "arith"]],
    valid: () => [4],
    call: (c, a) => c.p.offset(a[0] as Any),
  },
  {
    label: "RawPointer.add",
    params: [["bytes", "arith"]],
    valid: () => [4],
    call: (c, a) => c.p.add(a[0] as Any),
  },
  {
    label: "TypedPointer.get",
    params: [["i", "offset"]],
    valid: () => [0],
    call: (c, a) => ffi.cast(c.p, "i32", 4).get(a[0] as Any),
  },
  {
    label: "TypedPointer.set",
    params: [["i", "setIndex"], ["value", "int"]],
    valid: () => [0, 1],
    call: (c, a) => ffi.cast(c.p, "i32", 4).set(a[0] as Any, a[1] as Any),
  },
  {
    label: "TypedPointer.add",
    params: [["n", "arith"]],
    valid: () => [1],
    call: (c, a) => ffi.cast(c.p, "i32", 4).add(a[0] as Any),
  },
  {
    label: "ffi.struct",
    params: [["fields", "fields"], ["options", "options"]],
    valid: () => [[["x", "i32"]], undefined],
    call: (_c, a) => ffi.struct(a[0] as Any, a[1] as Any),
  },
  {
    label: "ffi.union",
    params: [["fields", "fields"], ["options", "options"]],
    valid: () => [[["x", "i32"]], undefined],
    call: (_c, a) => ffi.union(a[0] as Any, a[1] as Any),
  },
  {
    label: "ffi.struct",
    params: [["fields[0][0] (name)", "fieldNameSpec"], ["fields[0][1] (type)", "ctype"], [
      "fields[0][2] (length)",
      "arrayLength",
    ]],
    valid: () => ["x", "i32", 2],
    call: (_c, a) => ffi.struct([[a[0], a[1], a[2]]] as Any),
  },
  {
    label: "StructView.field",
    params: [["x (an i32 field)", "int"], ["p (a pointer field)", "pointerValue"]],
    valid: () => [1, null],
    call: (c, a) => {
      const S = ffi.struct([["x", "i32"], ["p", "pointer"]]);
      const v = ffi.view(c.arena.allocType(S), S);
      v.x = a[0] as Any;
      v.p = a[1] as Any;
    },
  },
  {
    label: "RawPointer.readString",
    params: [["offset", "optOffset"]],
    valid: () => [0],
    call: (c, a) => c.p.readString(a[0] as Any),
  },
  {
    label: "StructDefinition.constructor",
    params: [["fields", "fields"], ["options", "options"]],
    valid: () => [[["x", "i32"]], undefined],
    call: (_c, a) => new ffi.StructDefinition(a[0] as Any, a[1] as Any),
  },
  {
    label: "Library.fn",
    params: [["prototype", "prototype"], ["options", "options"]],
    valid: () => ["int abs(int)", undefined],
    call: (c, a) => c.lib.fn(a[0] as Any, a[1] as Any),
  },
  {
    label: "StructDefinition.offsetOf",
    params: [["name", "fieldName"]],
    valid: () => ["x"],
    call: (c, a) => c.def.offsetOf(a[0] as Any),
  },
  {
    label: "StructDefinition.sizeOf",
    params: [["name", "fieldName"]],
    valid: () => ["x"],
    call: (c, a) => c.def.sizeOf(a[0] as Any),
  },
  {
    label: "ffi.load",
    params: [["path", "path"]],
    valid: () => ["libc.so.6"],
    call: (_c, a) => ffi.load(a[0] as Any),
  },
  {
    label: "Library.hasSymbol",
    params: [["name", "symbolQuery"]],
    valid: () => ["getpid"],
    call: (c, a) => c.lib.hasSymbol(a[0] as Any),
  },
  {
    label: "Library.getSymbol",
    params: [["name", "symbolQuery"]],
    valid: () => ["getpid"],
    call: (c, a) => c.lib.getSymbol(a[0] as Any),
  },
  {
    label: "Library.call",
    params: [["name", "symbolCall"], ["ret", "ctype"], ["argTypes", "typeList"], ["args[0]", "int"]],
    valid: () => ["abs", "i32", ["i32"], -3],
    call: (c, a) => c.lib.call(a[0] as Any, a[1] as Any, a[2] as Any, a[3] as Any),
  },
  {
    label: "Library.fn",
    params: [["name", "symbolBind"], ["ret", "ctype"], ["argTypes", "typeList"], ["options", "options"]],
    valid: () => ["abs", "i32", ["i32"], undefined],
    call: (c, a) => c.lib.fn(a[0] as Any, a[1] as Any, a[2] as Any, a[3] as Any),
  },
  {
    label: "Library.bind",
    params: [["defs", "defs"]],
    valid: () => [ffi.cdef("int abs(int);")],
    call: (c, a) => c.lib.bind(a[0] as Any),
  },
  {
    label: "ffi.fn",
    params: [["ptr", "ptr"], ["ret", "ctype"], ["argTypes", "typeList"]],
    valid: (c) => [c.lib.getSymbol("abs"), "i32", ["i32"]],
    call: (_c, a) => ffi.fn(a[0] as Any, a[1] as Any, a[2] as Any),
  },
  {
    label: "ffi.callback",
    params: [["fn", "fnValue"], ["ret", "ctype"], ["argTypes", "typeList"], ["options", "options"]],
    valid: () => [() => 0, "i32", [], undefined],
    call: (_c, a) => {
      const cb = ffi.callback(a[0] as Any, a[1] as Any, a[2] as Any, a[3] as Any);
      cb.close();
      return cb;
    },
  },
  {
    label: "ffi.buffer",
    params: [["size", "size"]],
    valid: () => [8],
    call: (_c, a) => ffi.buffer(a[0] as Any),
  },
  {
    label: "Buffer.read",
    params: [["offset", "offset"], ["ctype", "ctype"]],
    valid: () => [0, "i32"],
    call: (c, a) => c.buf.read(a[0] as Any, a[1] as Any),
  },
  {
    label: "Buffer.write",
    params: [["offset", "offset"], ["ctype", "ctype"], ["value", "int"]],
    valid: () => [0, "i32", 1],
    call: (c, a) => c.buf.write(a[0] as Any, a[1] as Any, a[2] as Any),
  },
  {
    label: "Buffer.readBytes",
    params: [["offset", "offset"], ["len", "size"]],
    valid: () => [0, 4],
    call: (c, a) => c.buf.readBytes(a[0] as Any, a[1] as Any),
  },
  {
    label: "Buffer.writeBytes",
    params: [["offset", "offset"], ["bytes", "bytes"]],
    valid: () => [0, [1, 2]],
    call: (c, a) => c.buf.writeBytes(a[0] as Any, a[1] as Any),
  },
  {
    label: "Buffer.readString",
    params: [["offset", "optOffset"]],
    valid: () => [0],
    call: (c, a) => c.buf.readString(a[0] as Any),
  },
  {
    label: "Buffer.writeString",
    params: [["offset", "offset"], ["s", "text"]],
    valid: () => [0, "ab"],
    call: (c, a) => c.buf.writeString(a[0] as Any, a[1] as Any),
  },
  {
    label: "Buffer.slice",
    params: [["offset", "offset"], ["size", "size"]],
    valid: () => [0, 4],
    call: (c, a) => c.buf.slice(a[0] as Any, a[1] as Any),
  },
  {
    label: "ffi.cdef",
    params: [["source", "source"], ["scopes[0]", "scope"]],
    valid: () => ["int abs(int);", ffi.cdef("")],
    call: (_c, a) => ffi.cdef(a[0] as Any, a[1] as Any),
  },
  {
    label: "ffi.isNull",
    params: [["ptr", "isNullPtr"]],
    valid: (c) => [c.p],
    call: (_c, a) => ffi.isNull(a[0] as Any),
  },
  {
    label: "ffi.open",
    params: [["path", "path"]],
    valid: () => ["libc.so.6"],
    call: (_c, a) => ffi.open(a[0] as Any),
  },
  {
    label: "ffi.lastError",
    params: [["value", "errnoValue"]],
    valid: () => [0],
    call: (_c, a) => ffi.lastError(a[0] as Any),
  },
  {
    label: "ffi.errno",
    params: [["value", "errnoValue"]],
    valid: () => [0],
    call: (_c, a) => ffi.errno(a[0] as Any),
  },
];

// TypedPointer.set(i, v), whose first argument may also be an array-like (the typed-array form
// `set(arrayLike, offset?)`, which takes any object as TypedArray.prototype.set does).
KINDS.setIndex = (v) => {
  if (["plain object", "null-prototype object", "array", "sparse array", "function"].includes(v)) {
    return "okT";
  }
  if (
    ["throwing toString", "freed pointer", "closed library", "closed callback", "closed callback ptr"]
      .includes(v)
  ) {
    return "okT";
  }
  if (v === "detached ArrayBuffer" || v === "StructView") return "okT";
  if (v === "Uint8Array") return "okR"; // 4 elements at offset 1 of a count of 4: a RangeError
  return KINDS.offset(v);
};

// A field name in a struct description: a non-empty string (any other value is a TypeError).
KINDS.fieldNameSpec = (v) => (v === "numeric string" || v === "unknown name" ? "ok" : "T");
// An array length in a field spec: a positive integer, or undefined (no array).
KINDS.arrayLength = (v) => {
  if (v === "undefined") return "ok";
  if (NUMERIC_BAD.has(v) || v === "-1" || v === "-0" || v === "2**53" || v === "2**64") return "R";
  return "T";
};
// A value written to a pointer field: a pointer-like value or null.
KINDS.pointerValue = (v) => {
  if (v === "StructView") return "ok";
  if (v === "null" || v === "null-prototype object") return "okT";
  if (POINTERISH.has(v) || v === "closed callback") return "F";
  return "T";
};

// A C prototype string (or Signature) for lib.fn(prototype): a string that is no prototype is a
// SyntaxError (or a TypeError for an unknown type name), anything else a TypeError.
KINDS.prototype = (v) => {
  if (v === "empty string" || v === "numeric string" || v === "unknown name") return "ST";
  return "T";
};

// ffi.isNull: `null` and `undefined` count as NULL; a pointer is asked, never accessed.
KINDS.isNullPtr = (v) => {
  if (["undefined", "null", "freed pointer", "closed callback ptr", "StructView"].includes(v)) return "ok";
  if (v === "closed callback") return "F";
  return "T";
};

// ffi.ptr's address: a non-negative integer below 2^64 (number or bigint).
KINDS.ptrAddr = (v) => {
  if (v === "-0" || v === "bigint 1n") return "ok";
  if (v === "bigint -1n") return "R";
  if (v === "null") return "okT";
  if (NUMERIC_BAD.has(v)) return "TR";
  if (v === "-1" || v === "2**64" || v === "huge bigint") return "R";
  if (v === "2**53") return "okR";
  if (POINTERISH.has(v)) return "okT";
  return "T";
};

// ---------------------------------------------------------------------------------------------------

export interface Failure {
  fn: string;
  param: string;
  value: string;
  problem: string;
}

function className(e: unknown): string {
  if (e instanceof ffi.FfiError) return "F";
  if (e instanceof RangeError) return "R";
  if (e instanceof SyntaxError) return "S";
  if (e instanceof TypeError) return "T";
  return "other";
}

/** Words a message may use for a parameter instead of its name. */
const SYNONYMS: Record<string, string[]> = {
  align: ["alignment"],
  len: ["length"],
  i: ["index", "element", "array"],
  n: ["count"],
  ctype: ["type"],
  ret: ["return type", "result type"],
  argTypes: ["argument types", "argTypes"],
  fn: ["function"],
  s: ["string", "text"],
  x: ["value"],
  name: ["symbol name", "field name", "symbol", "field"],
  addr: ["address"],
  bytes: ["bytes"],
  defs: ["definitions"],
  source: ["C source"],
  scopes: ["scope"],
  args: ["argument"],
  count: ["element count"],
  fields: ["field"],
  length: ["array length", "third element"],
};

const CLASS_NAME: Record<string, string> = {
  T: "TypeError",
  R: "RangeError",
  F: "FfiError",
  S: "SyntaxError",
};

/** Runs the matrix; returns the number of cases and the failures. */
export function runMatrix(): { cases: number; failures: Failure[] } {
  const failures: Failure[] = [];
  let cases = 0;
  const def = ffi.struct([["x", "i32"], ["y", "f64"]]);
  const lib = ffi.load("libc.so.6");
  void FIXTURE;
  for (const f of FNS) {
    f.params.forEach(([param, kind], i) => {
      for (const [vname, make] of Object.entries(VALUES)) {
        // A closed callback's code address kept from before `close()` is an unmanaged pointer: memory
        // access through it is unchecked, as in C (writing there crashes even while it is open).
        if (vname === "closed callback ptr" && kind === "ptr" && f.label !== "ffi.fn") continue;
        cases++;
        const arena = ffi.arena();
        const c: Ctx = { arena, p: arena.alloc(64), buf: ffi.buffer(64), lib, def };
        const args = f.valid(c);
        const v = make();
        args[i] = v;
        const expected = KINDS[kind](vname);
        if (Deno.env.get("BI_TRACE")) console.error(`${f.label} ${param} ${vname}`);
        const fail = (problem: string) => failures.push({ fn: f.label, param, value: vname, problem });
        let error: unknown = undefined;
        let threw = false;
        try {
          f.call(c, args);
        } catch (e) {
          threw = true;
          error = e;
        } finally {
          arena.reset();
        }
        if (!threw) {
          if (!expected.startsWith("ok")) fail(`no error (expected ${expected})`);
          continue;
        }
        if (expected === "ok") {
          fail(`threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
          continue;
        }
        const cls = className(error);
        const allowed = expected.replace("ok", "");
        const msg = (error as Error)?.message ?? String(error);
        if (!allowed.includes(cls) && expected !== "any") {
          fail(
            `${(error as Error)?.name} instead of ${
              [...allowed].map((k) => CLASS_NAME[k]).join("/")
            }: ${msg}`,
          );
          continue;
        }
        const missing: string[] = [];
        // C source is reported by its line and column (and token), as a compiler does.
        if ((kind === "source" || kind === "prototype") && /line \d+, column \d+/.test(msg)) continue;
        // A pointer too small for the access: the bounds message names the access and the allocation.
        if (kind === "ptr" && cls === "R" && /allocation/.test(msg) && msg.includes(`${f.label}(`)) continue;
        const method = f.label.split(".")[1];
        // A call argument is named by the C function that takes it ("argument 0 (i32) of abs").
        const callee = f.label === "Library.call" && param === "args[0]"
          ? /\bof abs\b/
          : f.label === "StructDefinition.constructor"
          ? /ffi\.struct\(\)/ // the constructor is what ffi.struct() calls
          : null;
        if (!new RegExp(`\\b${method}\\b`).test(msg) && !callee?.test(msg)) missing.push("function");
        const pname = param.replace(/\[0\]$/, "").replace(/^fields\[0\]\[\d\] \((\w+)\)$/, "$1")
          .replace(/ \(an? \w+ field\)$/, "");
        const names = [pname, ...(SYNONYMS[pname] ?? [])];
        const pos = param.endsWith("[0]") ? "0" : String(i);
        if (
          cls !== "F" && cls !== "S" && !names.some((n) =>
            new RegExp(`\\b${n.replace(/[[\]]/g, "\\$&")}\\b`, "i").test(msg)
          ) &&
          !msg.includes(`argument ${pos}`) &&
          !(["len", "size", "count"].includes(pname) && msg.includes(`${_describe(v)} bytes`))
        ) {
          missing.push("parameter");
        }
        // A list names its bad element (`[1, 2]` as argTypes: "Unknown C type 1 for argTypes[0]").
        const shown = Array.isArray(v) && v.length > 0 ? [_describe(v), _describe(v[0])] : [_describe(v)];
        if (cls !== "F" && cls !== "S" && !shown.some((d) => msg.includes(d))) {
          missing.push(`value ${_describe(v)}`);
        }
        if (missing.length > 0) fail(`message lacks ${missing.join(", ")}: ${msg}`);
      }
    });
  }
  // Closed or disposed receivers: every method of a closed Library and the allocations of a
  // disposed Arena are FfiErrors naming the method.
  const closedLib: [string, (l: ffi.Library) => unknown][] = [
    ["Library.hasSymbol", (l) => l.hasSymbol("abs")],
    ["Library.getSymbol", (l) => l.getSymbol("abs")],
    ["Library.listExports", (l) => l.listExports()],
    ["Library.call", (l) => l.call("abs", "i32", ["i32"], 1)],
    ["Library.fn", (l) => l.fn("abs", "i32", ["i32"])],
    ["Library.fn", (l) => l.fn("int abs(int)")],
    ["Library.bind", (l) => l.bind(ffi.cdef("int abs(int);"))],
  ];
  const disposed: [string, (a: ffi.Arena) => unknown][] = [
    ["Arena.alloc", (a) => a.alloc(8)],
    ["Arena.allocAligned", (a) => a.allocAligned(8, 8)],
    ["Arena.allocType", (a) => a.allocType("i32")],
    ["Arena.allocArray", (a) => a.allocArray("i32", 2)],
  ];
  const receivers: [string, string, () => unknown][] = [
    ...closedLib.map(([label, f]): [string, string, () => unknown] => [label, "closed library", () => {
      const l = ffi.load("libc.so.6");
      l.close();
      return f(l);
    }]),
    ...disposed.map(([label, f]): [string, string, () => unknown] => [label, "disposed arena", () => {
      const a = ffi.arena();
      a[Symbol.dispose]();
      return f(a);
    }]),
  ];
  for (const [label, state, run] of receivers) {
    cases++;
    const fail = (problem: string) => failures.push({ fn: label, param: "this", value: state, problem });
    try {
      run();
      fail("no error (expected FfiError)");
    } catch (e) {
      const msg = (e as Error)?.message ?? "";
      if (!(e instanceof ffi.FfiError)) fail(`${(e as Error)?.name} instead of FfiError: ${msg}`);
      else if (!new RegExp(`\\b${label.split(".")[1]}\\b`).test(msg)) fail(`message lacks function: ${msg}`);
    }
  }
  return { cases, failures };
}

if (import.meta.main) {
  const { cases, failures } = runMatrix();
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify({ cases, failures }));
  } else {
    for (const f of failures) console.log(`${f.fn} ${f.param} <- ${f.value}: ${f.problem}`);
    console.log(`${cases} cases, ${failures.length} failures`);
  }
}
