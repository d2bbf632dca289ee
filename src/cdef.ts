/**
 * {@linkcode cdef}: C declarations read by a small recursive-descent parser (structs, unions, enums,
 * typedefs, function prototypes, `#define NAME <integer>`), turned into the library's own values:
 * struct and union definitions, type names, enum constants and {@linkcode Signature}s.
 *
 * @module
 */

import { _tokenize, CSyntaxError, type Token } from "./_c_lexer.ts";
import { StructDefinition } from "./struct.ts";
import type { FieldSpec } from "./struct_types.ts";
import { _describe, _primitive, type PrimitiveName } from "./types.ts";
import { _get, _has, _isInstance } from "./errors.ts";

/**
 * A C type as the rest of the library takes it: a type name (`"i32"`, `"pointer"`) or a struct or
 * union definition. What `ffi.cdef` gives for typedefs and in a Signature's `ret` and `args`.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const { uLong } = ffi.cdef("typedef unsigned long uLong;");
 * const t: ffi.TypeValue = uLong;
 * assert.equal(ffi.sizeof(t), 8);
 * ```
 */
export type TypeValue = string | StructDefinition;

/**
 * A C function type: what a prototype declares (`int compress2(...)`) and what a function-pointer
 * typedef declares (`typedef int (*cmp_fn)(const void *, const void *)`). `ret` and `args` are type
 * values, so `lib.fn(sig.name, sig.ret, sig.args)` is the same binding as `lib.fn(sig)`.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const { strlen } = ffi.cdef("size_t strlen(const char *s);");
 * assert.deepEqual(strlen, { name: "strlen", ret: "usize", args: ["string"], variadic: false });
 * ```
 */
export interface Signature {
  /** The function's name (the typedef's name for a function-pointer type). */
  readonly name: string;
  /** The return type (`"void"` for none). */
  readonly ret: TypeValue;
  /** The parameter types, in order (arrays and functions as parameters are `"pointer"`, as C adjusts them). */
  readonly args: readonly TypeValue[];
  /** Whether the parameter list ends with `...`. */
  readonly variadic: boolean;
}

/**
 * What {@linkcode cdef} returns: one property per declared name. A struct `S` is `defs.S` and
 * `defs["struct S"]`, a union `U` `defs.U` and `defs["union U"]`; an enum constant or a `#define` is
 * its number (a bigint beyond 2^53); an enum type is `"int"`; a typedef its type value; a prototype
 * or function-pointer typedef a {@linkcode Signature}. Pass it to a later `cdef` to use its names.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const base: ffi.CDefs = ffi.cdef("typedef struct { int x, y; } point;");
 * const more = ffi.cdef("struct line { point a, b; };", base);
 * assert.equal(more.line.size, 16);
 * ```
 */
// deno-lint-ignore no-explicit-any -- what a property holds depends on the C source, unknown to the compiler
export type CDefs = { readonly [name: string]: any };

// ---------------------------------------------------------------------------------------------------
// C types as the parser sees them

interface Rec {
  readonly tag: string | undefined;
  readonly union: boolean;
  def: StructDefinition | undefined;
}

type CT =
  | {
    readonly k: "prim";
    readonly name: PrimitiveName;
    readonly plainChar: boolean;
    readonly isEnum: boolean;
    /** An enum whose constants are all non-negative: gcc gives it `unsigned int`, which shows in bitfields. */
    readonly unsignedEnum?: boolean;
  }
  | { readonly k: "void" }
  | { readonly k: "record"; readonly rec: Rec }
  | { readonly k: "ptr"; readonly to: CT }
  | { readonly k: "array"; readonly of: CT; readonly n: number | undefined }
  | { readonly k: "func"; readonly ret: CT; readonly params: readonly CT[]; readonly variadic: boolean };

/** The names a `cdef` declared, as later sources see them. */
interface Scope {
  readonly typedefs: Map<string, CT>;
  readonly tags: Map<string, Rec>;
  readonly consts: Map<string, bigint>;
  /** Enum tags, and whether each one's constants are all non-negative. */
  readonly enums: Map<string, boolean>;
}

const kScope: unique symbol = Symbol("lune-ffi.cdef.scope");

/** Signatures that declare functions (not function-pointer typedefs): what `lib.bind` binds. */
const prototypes = new WeakSet<Signature>();

/**
 * Whether `sig` came from a function prototype (rather than a function-pointer typedef).
 * @internal
 * @ignore
 */
export function _isPrototype(sig: unknown): boolean {
  return typeof sig === "object" && sig !== null && prototypes.has(sig as Signature);
}

const BUILTIN = new Set([
  "void",
  "char",
  "short",
  "int",
  "long",
  "float",
  "double",
  "signed",
  "unsigned",
  "_Bool",
]);
const IGNORED = new Set([
  "const",
  "volatile",
  "restrict",
  "__restrict",
  "__restrict__",
  "__const",
  "extern",
  "static",
  "inline",
  "__inline",
  "__inline__",
  "register",
  "__extension__",
  "_Noreturn",
]);
const KEYWORDS = new Set([
  ...BUILTIN,
  ...IGNORED,
  "struct",
  "union",
  "enum",
  "typedef",
  "sizeof",
  "__attribute__",
  "__attribute",
]);

// ---------------------------------------------------------------------------------------------------
// The parser

class Parser {
  #toks: Token[];
  #i = 0;
  readonly scope: Scope = { typedefs: new Map(), tags: new Map(), consts: new Map(), enums: new Map() };
  readonly #outer: readonly Scope[];
  readonly defs: Record<string, unknown> = {};

  constructor(src: string, outer: readonly Scope[]) {
    this.#toks = _tokenize(src);
    this.#outer = outer;
  }

  // -- tokens

  get #t(): Token {
    return this.#toks[this.#i];
  }
  #peek(k = 1): Token {
    return this.#toks[Math.min(this.#i + k, this.#toks.length - 1)];
  }
  #next(): Token {
    const t = this.#toks[this.#i];
    if (t.kind !== "eof") this.#i++;
    return t;
  }
  #is(text: string): boolean {
    const t = this.#t;
    return (t.kind === "punct" || t.kind === "ident") && t.text === text;
  }
  #accept(text: string): boolean {
    if (!this.#is(text)) return false;
    this.#i++;
    return true;
  }
  #expect(text: string, what = `'${text}'`, afterPrevious = true): Token {
    if (this.#is(text)) return this.#next();
    // gcc reports a missing ';', ')' or ']' where it would insert it, right after the token before
    // (`int x[3   ;` is 1:8, `typedef int T\nstruct Q` is 1:14). Where it expects one of several
    // tokens (after a struct field), it reports the next token.
    const prev = this.#toks[this.#i - 1];
    if (
      afterPrevious && prev !== undefined && prev.kind !== "define" && what === `'${text}'` &&
      ";)]".includes(text)
    ) {
      throw this.#error(`expected ${what}`, this.#t, prev.line, prev.column + prev.text.length);
    }
    throw this.#error(`expected ${what}`);
  }
  #error(msg: string, t: Token = this.#t, line = t.line, column = t.column): CSyntaxError {
    const shown = t.kind === "eof" ? "end of input" : t.kind === "define" ? `#define ${t.text}` : t.text;
    return new CSyntaxError(`${msg} before '${shown}'`, line, column, shown);
  }

  // -- names

  #typedef(name: string): CT | undefined {
    const own = this.scope.typedefs.get(name);
    if (own !== undefined) return own;
    for (const s of this.#outer) {
      const t = s.typedefs.get(name);
      if (t !== undefined) return t;
    }
    // The fixed-width and size types of <stdint.h>/<stddef.h>, and `bool` of <stdbool.h>.
    if (/_t$/.test(name) || name === "bool") {
      const p = _primitive(name);
      if (p !== undefined && p.name !== "string" && p.name !== "pointer") return prim(p.name);
    }
    return undefined;
  }
  #const(name: string): bigint | undefined {
    const own = this.scope.consts.get(name);
    if (own !== undefined) return own;
    for (const s of this.#outer) {
      const v = s.consts.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  #tag(key: string): Rec | undefined {
    const own = this.scope.tags.get(key);
    if (own !== undefined) return own;
    for (const s of this.#outer) {
      const r = s.tags.get(key);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  #define(name: string, value: unknown, t: Token): void {
    if (Object.hasOwn(this.defs, name) && this.defs[name] !== value) {
      throw new CSyntaxError(`redefinition of '${name}'`, t.line, t.column, name);
    }
    this.defs[name] = value;
  }
  #constant(name: string, v: bigint, t: Token): void {
    this.scope.consts.set(name, v);
    this.#define(name, v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v, t);
  }

  // -- declarations

  /**
   * One function type: a prototype (`int abs(int j)`) or a type name (`int (int, int)`,
   * `int (*)(const void *, const void *)`), a trailing `;` optional. `undefined` name when unnamed.
   */
  functionType(): { name: string | undefined; sig: Signature } {
    const start = this.#t;
    const spec = this.#specifiers(false);
    const d = this.#declarator(true);
    const t = d.derive(spec.type);
    this.#attributes();
    this.#accept(";");
    if (this.#t.kind !== "eof") throw this.#error("expected the end of the prototype");
    const f = t.k === "func" ? t : t.k === "ptr" && t.to.k === "func" ? t.to : undefined;
    if (f === undefined) {
      throw new CSyntaxError("expected a function prototype", start.line, start.column, start.text);
    }
    return { name: d.name, sig: signature(d.name ?? "", f, start) };
  }

  parse(): void {
    while (this.#t.kind !== "eof") {
      const t = this.#t;
      if (t.kind === "define") {
        this.#next();
        this.#constant(t.text, t.value!, t);
        continue;
      }
      if (this.#accept(";")) continue;
      this.#declaration();
    }
  }

  #declaration(): void {
    const spec = this.#specifiers(true);
    if (this.#accept(";")) return; // `struct S { ... };`, `enum E { ... };`
    for (;;) {
      const nameTok = this.#t;
      const d = this.#declarator(false);
      const t = d.derive(spec.type);
      this.#attributes();
      this.#asmLabel();
      if (d.name === undefined) throw this.#error("expected a name", nameTok);
      if (this.#is("{")) throw this.#error("function bodies are not declarations: give the prototype only");
      if (this.#is("=")) throw this.#error("initialisers are not supported: declare only");
      if (spec.typedef) {
        this.scope.typedefs.set(d.name, t);
        const v = typedefValue(d.name, t, nameTok);
        if (v !== undefined) this.#define(d.name, v, nameTok);
      } else if (t.k === "func") {
        const sig = signature(d.name, t, nameTok);
        prototypes.add(sig);
        this.#define(d.name, sig, nameTok);
      }
      // A variable (`extern int errno;`) declares nothing a binding can use: it is skipped.
      if (this.#accept(",")) continue;
      // gcc: a missing ';' before what starts a declaration goes right after the declarator; before
      // anything else it lists what may follow a declarator, at the next token.
      this.#expect(";", "';'", this.#t.kind === "eof" || this.#startsDeclaration());
      return;
    }
  }

  /** Whether the next token can start declaration specifiers (a type word, a qualifier, a typedef name). */
  #startsDeclaration(): boolean {
    const t = this.#t;
    if (t.kind !== "ident") return false;
    return IGNORED.has(t.text) || BUILTIN.has(t.text) || t.text === "typedef" || t.text === "struct" ||
      t.text === "union" || t.text === "enum" || t.text === "__attribute__" || t.text === "__attribute" ||
      this.#typedef(t.text) !== undefined;
  }

  /** Declaration specifiers: a type (built-in words, a struct/union/enum, a typedef name) and qualifiers. */
  #specifiers(allowTypedef: boolean): { type: CT; typedef: boolean } {
    const words: string[] = [];
    let base: CT | undefined;
    let typedef = false;
    const start = this.#t;
    for (;;) {
      const t = this.#t;
      if (t.kind !== "ident") break;
      if (IGNORED.has(t.text)) {
        this.#next();
      } else if (t.text === "__attribute__" || t.text === "__attribute") {
        this.#attributes();
      } else if (t.text === "typedef") {
        if (!allowTypedef) throw this.#error("unexpected 'typedef'");
        typedef = true;
        this.#next();
      } else if (BUILTIN.has(t.text)) {
        if (base !== undefined) throw this.#error("two types in one declaration");
        words.push(t.text);
        this.#next();
      } else if (t.text === "struct" || t.text === "union") {
        if (base !== undefined || words.length > 0) throw this.#error("two types in one declaration");
        base = this.#record();
      } else if (t.text === "enum") {
        if (base !== undefined || words.length > 0) throw this.#error("two types in one declaration");
        base = this.#enum();
      } else if (base === undefined && words.length === 0) {
        const td = this.#typedef(t.text);
        if (td === undefined) {
          // A name where a type must be: what a C compiler calls an unknown type name.
          throw new TypeError(
            `ffi.cdef(): line ${t.line}, column ${t.column}: unknown type name '${t.text}' ` +
              `(declare it first, e.g. 'typedef struct ${t.text} ${t.text};' or 'typedef long ${t.text};')`,
          );
        }
        base = td;
        this.#next();
      } else {
        break; // the declarator's name
      }
    }
    if (words.length > 0) {
      const spelling = words.join(" ");
      if (spelling === "void") return { type: { k: "void" }, typedef };
      const p = words.includes("void") ? undefined : _primitive(spelling);
      if (p === undefined) {
        throw new TypeError(
          `ffi.cdef(): line ${start.line}, column ${start.column}: '${spelling}' is not a C type this library supports`,
        );
      }
      return { type: prim(p.name, spelling === "char"), typedef };
    }
    if (base === undefined) throw this.#error("expected a type");
    return { type: base, typedef };
  }

  /** `__attribute__((...))` lists: `packed` is returned; `aligned` is refused; the rest are ignored. */
  #attributes(): boolean {
    let packed = false;
    while (this.#is("__attribute__") || this.#is("__attribute")) {
      const at = this.#next();
      this.#expect("(");
      let depth = 1;
      while (depth > 0) {
        const t = this.#next();
        if (t.kind === "eof") throw this.#error("unterminated __attribute__", at);
        if (t.text === "(") depth++;
        else if (t.text === ")") depth--;
        else if (t.text === "packed" || t.text === "__packed__") packed = true;
        else if (t.text === "aligned" || t.text === "__aligned__") {
          throw new TypeError(
            `ffi.cdef(): line ${t.line}, column ${t.column}: __attribute__((aligned)) is not supported`,
          );
        }
      }
    }
    return packed;
  }

  /** glibc's `__asm__ ("" "name")` after a prototype: strings are not tokens here, so only `__asm__()`. */
  #asmLabel(): void {
    if (this.#is("__asm__") || this.#is("asm")) {
      throw this.#error("asm labels are not supported: remove them");
    }
  }

  #record(): CT {
    const kw = this.#next();
    const isUnion = kw.text === "union";
    let packed = this.#attributes();
    let tag: string | undefined;
    let tagTok: Token | undefined;
    if (this.#t.kind === "ident" && !KEYWORDS.has(this.#t.text)) {
      tagTok = this.#next();
      tag = tagTok.text;
    }
    const key = tag === undefined ? undefined : `${kw.text} ${tag}`;
    if (!this.#is("{")) {
      if (key === undefined) throw this.#error(`expected a ${kw.text} name or '{'`);
      let rec = this.#tag(key);
      if (rec === undefined) {
        // A forward declaration (or a pointer to a struct declared nowhere): incomplete, as in C.
        rec = { tag, union: isUnion, def: undefined };
        this.scope.tags.set(key, rec);
      }
      return { k: "record", rec };
    }
    const open = this.#next();
    let rec = key === undefined ? undefined : this.scope.tags.get(key);
    if (rec !== undefined && rec.def !== undefined) {
      throw new CSyntaxError(`redefinition of '${key}'`, tagTok!.line, tagTok!.column, tag!);
    }
    if (rec === undefined) {
      rec = { tag, union: isUnion, def: undefined };
      if (key !== undefined) this.scope.tags.set(key, rec);
    }
    const fields: FieldSpec[] = [];
    while (!this.#accept("}")) {
      if (this.#t.kind === "eof") {
        throw this.#error(`expected '}' to close the ${kw.text} opened at line ${open.line}`);
      }
      if (this.#t.kind === "define") {
        const d = this.#next();
        this.#constant(d.text, d.value!, d);
        continue;
      }
      this.#member(fields);
    }
    packed = this.#attributes() || packed;
    if (fields.length === 0) throw this.#error(`an empty ${kw.text} is not supported`, open);
    rec.def = new StructDefinition(fields, { union: isUnion, packed });
    if (tag !== undefined) {
      this.#define(key!, rec.def, tagTok!);
      this.#define(tag, rec.def, tagTok!);
    }
    return { k: "record", rec };
  }

  #member(fields: FieldSpec[]): void {
    const spec = this.#specifiers(false);
    if (this.#accept(";")) {
      const t = spec.type;
      if (t.k === "record" && t.rec.tag === undefined && t.rec.def !== undefined) fields.push(t.rec.def);
      return;
    }
    for (;;) {
      if (this.#accept(":")) {
        fields.push(["", bitfieldType(spec.type, this.#t), { bits: this.#constInt() }]);
      } else {
        const nameTok = this.#t;
        const d = this.#declarator(false);
        if (d.name === undefined) throw this.#error("expected a field name", nameTok);
        const t = d.derive(spec.type);
        this.#attributes();
        if (this.#accept(":")) {
          fields.push([d.name, bitfieldType(t, nameTok), { bits: this.#constInt() }]);
        } else if (t.k === "array") {
          let n = 1;
          let e: CT = t;
          while (e.k === "array") {
            if (e.n === undefined) {
              throw new TypeError(
                `ffi.cdef(): line ${nameTok.line}, column ${nameTok.column}: field '${d.name}' is a flexible ` +
                  `array member, which a fixed layout cannot hold: declare it with a length`,
              );
            }
            n *= e.n;
            e = e.of;
          }
          fields.push([d.name, valueOf(e, nameTok, "field"), n]);
        } else {
          fields.push([d.name, valueOf(t, nameTok, "field")]);
        }
      }
      if (this.#accept(",")) continue;
      this.#expect(";", "';'", false);
      return;
    }
  }

  #enum(): CT {
    this.#next();
    this.#attributes();
    let tag: Token | undefined;
    if (this.#t.kind === "ident" && !KEYWORDS.has(this.#t.text)) tag = this.#next();
    let unsigned = tag === undefined ? undefined : this.#enumSign(tag.text);
    if (this.#accept("{")) {
      unsigned = true;
      let v = -1n;
      while (!this.#accept("}")) {
        const nameTok = this.#t;
        if (nameTok.kind !== "ident") throw this.#error("expected an enumerator name");
        this.#next();
        v = this.#accept("=") ? this.#constExpr() : v + 1n;
        if (v < 0n) unsigned = false;
        this.#constant(nameTok.text, v, nameTok);
        if (!this.#accept(",")) {
          this.#expect("}", "',' or '}'");
          break;
        }
      }
      if (tag !== undefined) {
        this.scope.enums.set(tag.text, unsigned);
        this.#define(tag.text, "int", tag);
        this.#define(`enum ${tag.text}`, "int", tag);
      }
    } else if (tag === undefined) {
      throw this.#error("expected an enum name or '{'");
    }
    return { k: "prim", name: "i32", plainChar: false, isEnum: true, unsignedEnum: unsigned === true };
  }

  #enumSign(tag: string): boolean | undefined {
    const own = this.scope.enums.get(tag);
    if (own !== undefined) return own;
    for (const s of this.#outer) {
      const v = s.enums.get(tag);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /**
   * A declarator: pointers, a name (or none, in an abstract declarator), arrays and parameter lists,
   * and parenthesised inner declarators (`(*fn)(int)`). Returns the name and how it derives its type
   * from the base type, inside out as C reads it.
   */
  #declarator(abstract: boolean): { name: string | undefined; derive: (base: CT) => CT } {
    let ptrs = 0;
    for (;;) {
      if (this.#accept("*")) ptrs++;
      else if (this.#t.kind === "ident" && IGNORED.has(this.#t.text)) this.#next();
      else if (this.#is("__attribute__") || this.#is("__attribute")) this.#attributes();
      else break;
    }
    let name: string | undefined;
    let inner: ((t: CT) => CT) | undefined;
    if (
      this.#is("(") && (this.#peek().text === "*" || this.#peek().text === "(" || this.#peek().text === "^")
    ) {
      this.#next();
      const d = this.#declarator(abstract);
      this.#expect(")", "')'");
      name = d.name;
      inner = d.derive;
    } else if (this.#t.kind === "ident" && !KEYWORDS.has(this.#t.text)) {
      name = this.#next().text;
    } else if (!abstract) {
      throw this.#error("expected a name");
    }
    const suffixes: ((t: CT) => CT)[] = [];
    for (;;) {
      if (this.#accept("[")) {
        let n: number | undefined;
        if (!this.#is("]")) {
          const at = this.#t;
          const v = this.#constExpr();
          if (v <= 0n || v > 0x7fff_ffffn) throw this.#error(`array length must be positive, got ${v}`, at);
          n = Number(v);
        }
        this.#expect("]", "']'");
        suffixes.push((t) => ({ k: "array", of: t, n }));
      } else if (this.#is("(")) {
        const { params, variadic } = this.#params();
        suffixes.push((t) => ({ k: "func", ret: t, params, variadic }));
      } else {
        break;
      }
    }
    return {
      name,
      derive(base) {
        let t = base;
        for (let i = 0; i < ptrs; i++) t = { k: "ptr", to: t };
        for (let i = suffixes.length - 1; i >= 0; i--) t = suffixes[i](t);
        return inner === undefined ? t : inner(t);
      },
    };
  }

  #params(): { params: CT[]; variadic: boolean } {
    this.#expect("(");
    const params: CT[] = [];
    if (this.#accept(")")) return { params, variadic: false };
    if (this.#is("void") && this.#peek().text === ")") {
      this.#next();
      this.#next();
      return { params, variadic: false };
    }
    for (;;) {
      if (this.#accept("...")) {
        if (params.length === 0) throw this.#error("'...' needs a named parameter before it");
        this.#expect(")", "')'");
        return { params, variadic: true };
      }
      const spec = this.#specifiers(false);
      const d = this.#declarator(true);
      let t = d.derive(spec.type);
      // C adjusts array and function parameters to pointers.
      if (t.k === "array") t = { k: "ptr", to: t.of };
      else if (t.k === "func") t = { k: "ptr", to: t };
      if (t.k === "void") throw this.#error("'void' must be the only parameter");
      params.push(t);
      if (this.#accept(",")) continue;
      this.#expect(")", "',' or ')'");
      return { params, variadic: false };
    }
  }

  // -- integer constant expressions (enum values, array lengths, bit widths)

  #constInt(): number {
    const at = this.#t;
    const v = this.#constExpr();
    if (v < 0n || v > 64n) throw this.#error(`bitfield width must be 0 to 64, got ${v}`, at);
    return Number(v);
  }

  #constExpr(): bigint {
    return this.#binary(0);
  }

  static #PREC: Record<string, number> = {
    "|": 1,
    "^": 2,
    "&": 3,
    "<<": 4,
    ">>": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
  };

  #binary(min: number): bigint {
    let lhs = this.#unary();
    for (;;) {
      const t = this.#t;
      const p = t.kind === "punct" ? Parser.#PREC[t.text] : undefined;
      if (p === undefined || p <= min) return lhs;
      this.#next();
      const rhs = this.#binary(p);
      switch (t.text) {
        case "|":
          lhs |= rhs;
          break;
        case "^":
          lhs ^= rhs;
          break;
        case "&":
          lhs &= rhs;
          break;
        case "<<":
          lhs <<= rhs;
          break;
        case ">>":
          lhs >>= rhs;
          break;
        case "+":
          lhs += rhs;
          break;
        case "-":
          lhs -= rhs;
          break;
        case "*":
          lhs *= rhs;
          break;
        default:
          if (rhs === 0n) throw this.#error("division by zero", t);
          lhs = t.text === "/" ? lhs / rhs : lhs % rhs;
      }
    }
  }

  #unary(): bigint {
    const t = this.#t;
    if (this.#accept("-")) return -this.#unary();
    if (this.#accept("+")) return this.#unary();
    if (this.#accept("~")) return ~this.#unary();
    if (this.#accept("!")) return this.#unary() === 0n ? 1n : 0n;
    if (this.#accept("(")) {
      const v = this.#constExpr();
      this.#expect(")", "')'");
      return v;
    }
    if (t.kind === "number") {
      this.#next();
      return t.value!;
    }
    if (t.kind === "ident" && t.text === "sizeof") {
      // `sizeof(type)`, as array lengths in headers use it (`char buf[sizeof(long) * 4]`).
      this.#next();
      this.#expect("(", "'(' (sizeof of a type)");
      const spec = this.#specifiers(false);
      const d = this.#declarator(true);
      this.#expect(")", "')'");
      return BigInt(sizeOfType(d.derive(spec.type), t));
    }
    if (t.kind === "ident" && !KEYWORDS.has(t.text)) {
      const v = this.#const(t.text);
      if (v === undefined) {
        throw new TypeError(
          `ffi.cdef(): line ${t.line}, column ${t.column}: '${t.text}' is not a known constant ` +
            `(an enumerator or '#define ${t.text} <integer>' declared before it)`,
        );
      }
      this.#next();
      return v;
    }
    throw this.#error("expected an integer constant");
  }
}

function prim(name: PrimitiveName, plainChar = false, isEnum = false): CT {
  return { k: "prim", name, plainChar, isEnum };
}

/** The type value of a C type in a field, a parameter or a result. */
function valueOf(t: CT, at: Token, where: string): TypeValue {
  switch (t.k) {
    case "prim":
      return t.isEnum ? "int" : t.name;
    case "void":
      if (where === "result") return "void";
      throw new TypeError(
        `ffi.cdef(): line ${at.line}, column ${at.column}: a ${where} cannot have type void`,
      );
    case "ptr":
      return t.to.k === "prim" && t.to.plainChar ? "string" : "pointer";
    case "func":
      return "pointer";
    case "array":
      return "pointer";
    case "record":
      if (t.rec.def === undefined) {
        throw new TypeError(
          `ffi.cdef(): line ${at.line}, column ${at.column}: incomplete type '${
            t.rec.union ? "union" : "struct"
          } ${t.rec.tag}' used by value: define it (its fields) before this ${where}`,
        );
      }
      return t.rec.def;
  }
}

/** `sizeof` of a C type, in bytes. */
function sizeOfType(t: CT, at: Token): number {
  const where = `ffi.cdef(): line ${at.line}, column ${at.column}`;
  if (t.k === "array") {
    if (t.n === undefined) throw new TypeError(`${where}: sizeof of an array of unknown length`);
    return t.n * sizeOfType(t.of, at);
  }
  if (t.k === "void" || t.k === "func") {
    throw new TypeError(`${where}: sizeof of ${t.k === "void" ? "void" : "a function"}`);
  }
  const v = valueOf(t, at, "sizeof");
  return v instanceof StructDefinition ? v.size : _primitive(v)!.size;
}

function bitfieldType(t: CT, at: Token): string {
  if (t.k !== "prim" || t.name === "f32" || t.name === "f64" || t.name === "string" || t.name === "pointer") {
    throw new TypeError(
      `ffi.cdef(): line ${at.line}, column ${at.column}: a bitfield must have an integer type`,
    );
  }
  return t.isEnum ? (t.unsignedEnum ? "u32" : "int") : t.name;
}

/** The Signature of a function type; `at` (its name's token) places errors about its types. */
function signature(name: string, f: Extract<CT, { k: "func" }>, at: Token): Signature {
  if (f.ret.k === "array" || f.ret.k === "func") {
    throw new TypeError(
      `ffi.cdef(): line ${at.line}, column ${at.column}: '${name}' cannot return ${
        f.ret.k === "array" ? "an array" : "a function"
      }`,
    );
  }
  return Object.freeze({
    name,
    ret: valueOf(f.ret, at, "result"),
    args: Object.freeze(f.params.map((p) => valueOf(p, at, "parameter"))),
    variadic: f.variadic,
  });
}

/** What `defs.T` is for `typedef <t> T;`: a Signature for function (pointer) types, else the type value. */
function typedefValue(name: string, t: CT, at: Token): unknown {
  if (t.k === "func") return signature(name, t, at);
  if (t.k === "ptr" && t.to.k === "func") return signature(name, t.to, at);
  if (t.k === "record") return t.rec.def; // undefined while incomplete: usable only behind a pointer
  if (t.k === "array") return undefined;
  if (t.k === "void") return "void";
  return valueOf(t, at, "typedef");
}

function scopeOf(x: unknown, i: number): Scope {
  const s = typeof x === "object" && x !== null ? _get(x, kScope) as Scope | undefined : undefined;
  if (s === undefined) {
    throw new TypeError(
      `ffi.cdef(): expected the result of an earlier ffi.cdef() for scopes[${i}], got ${_describe(x)}`,
    );
  }
  return s;
}

/**
 * Reads C declarations and returns their definitions, one property per declared name. `scopes` are
 * earlier results whose names (typedefs, struct tags, constants) the source may use.
 *
 * What it reads: `struct`/`union` definitions (fixed arrays, nested and anonymous members,
 * bitfields, `__attribute__((packed))`, pointers to themselves), `enum`s (each constant a property,
 * the enum type `"int"`), `typedef`s, function prototypes (named or unnamed parameters, `(void)`,
 * `...`) and function-pointer typedefs (each a {@linkcode Signature}), comments, and
 * `#define NAME <integer>`. C spellings map as everywhere: `char *` is `"string"`, any other pointer
 * `"pointer"`, `long` 8 bytes on 64-bit Linux and macOS.
 *
 * What it refuses: any other preprocessor line (expand macros and `#include`s by hand), function
 * bodies, initialisers, K&R declarations, C++. A syntax error is a `SyntaxError` whose message (and
 * `line`, `column` and `token` properties) say where; an unknown type name is a `TypeError` naming it.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * const defs = ffi.cdef(`
 *   #define NAME_LEN 16
 *   enum shape_kind { CIRCLE, RECT = 5, TRIANGLE };
 *   struct point { float x, y; };
 *   typedef struct shape {
 *     enum shape_kind kind;
 *     union { float radius; struct point corner; };   // anonymous: promoted
 *     char name[NAME_LEN];
 *     unsigned visible : 1, layer : 4;                 // bitfields
 *     struct shape *next;
 *   } shape_t;
 *   int shape_area(const shape_t *s, double *out);
 * `);
 * assert.equal(defs.TRIANGLE, 6);
 * assert.equal(defs.shape_t, defs["struct shape"]);
 * assert.equal(defs.shape_t.offsetOf("radius"), 4);
 * assert.equal(defs.shape_t.size, 40);
 * assert.deepEqual(defs.shape_area.args, ["pointer", "pointer"]);
 *
 * using arena = ffi.arena();
 * const s = ffi.view(arena.allocType(defs.shape_t), defs.shape_t);
 * s.layer = 9;
 * s.name = "disk";
 * assert.equal(s.layer, 9);
 * assert.equal(String(s.name), "disk");
 * ```
 */
export function cdef(source: string, ...scopes: CDefs[]): CDefs {
  if (typeof source !== "string") {
    throw new TypeError(`ffi.cdef(): expected C source as a string for source, got ${_describe(source)}`);
  }
  const outer: Scope[] = [];
  // A plain loop: `map` skips holes, and the index names the scope in messages.
  for (let i = 0; i < scopes.length; i++) outer.push(scopeOf(scopes[i], i));
  const p = new Parser(source, outer);
  p.parse();
  Object.defineProperty(p.defs, kScope, { value: p.scope });
  return Object.freeze(p.defs);
}

/**
 * Parses one prototype (`"size_t strlen(const char *s)"`, a trailing `;` optional) into a Signature;
 * with `needsName` false, an unnamed function type too (`"int (int, int)"`, for callbacks).
 * @internal
 * @ignore
 */
export function _parsePrototype(
  proto: string,
  what: string,
  needsName = true,
  ...scopes: CDefs[]
): Signature {
  if (typeof proto !== "string") {
    throw new TypeError(
      `${what}: expected a C prototype string or a Signature for prototype, got ${_describe(proto)}`,
    );
  }
  const p = new Parser(proto, scopes.map(scopeOf));
  const { name, sig } = p.functionType();
  if (name === undefined && needsName) {
    throw new SyntaxError(`${what}: the prototype ${JSON.stringify(proto)} needs the function's name`);
  }
  prototypes.add(sig);
  return sig;
}

/**
 * Whether `x` has a Signature's shape (`{ name, ret, args, variadic }`).
 * @internal
 * @ignore
 */
export function _isSignatureLike(x: unknown): x is Signature {
  return typeof x === "object" && x !== null && !_isInstance(x, StructDefinition) &&
    typeof _get(x, "name") === "string" && _has(x, "ret") && Array.isArray(_get(x, "args"));
}

/**
 * Whether `x` is a result of {@linkcode cdef}.
 * @internal
 * @ignore
 */
export function _isCDefs(x: unknown): boolean {
  return typeof x === "object" && x !== null && kScope in x;
}

/**
 * A Signature from a prototype string or a Signature (checked: a name, a return type, an argument
 * list, as `lib.fn(name, ret, argTypes)` takes them).
 * @internal
 * @ignore
 */
export function _toSignature(x: unknown, what: string, needsName = true): Signature {
  if (typeof x === "string") return _parsePrototype(x, what, needsName);
  if (!_isSignatureLike(x)) {
    throw new TypeError(
      `${what}: expected a C prototype string ("int abs(int j)") or a Signature from ffi.cdef() for ` +
        `prototype, got ${_describe(x)}`,
    );
  }
  return x;
}
