/**
 * The tokens of the C that {@linkcode cdef} reads: identifiers and keywords, integer literals (decimal,
 * octal, hex, with `u`/`l` suffixes), punctuators, and `#define NAME <integer>` lines. Comments and
 * whitespace are skipped; any other preprocessor line is a `SyntaxError`. Every token carries the
 * 1-based line and column where it starts, for error messages.
 *
 * @module
 */

/**
 * One token.
 * @internal
 * @ignore
 */
export interface Token {
  readonly kind: "ident" | "number" | "punct" | "define" | "eof";
  /** The source text (for `define`, the macro's name). */
  readonly text: string;
  /** For `number`, its value; for `define`, the macro's value. */
  readonly value?: bigint;
  readonly line: number;
  readonly column: number;
}

/**
 * A syntax error in C source read by `ffi.cdef` (a `SyntaxError`), at a 1-based line and column,
 * naming the offending token.
 *
 * @example
 * ```ts
 * import * as ffi from "@x/lune-ffi";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => ffi.cdef("struct s {\n  int a\n};"), (e: unknown) => {
 *   const se = e as ffi.CSyntaxError;
 *   assert.ok(se instanceof SyntaxError);
 *   assert.deepEqual([se.line, se.column, se.token], [3, 1, "}"]);
 *   return true;
 * });
 * ```
 */
export class CSyntaxError extends SyntaxError {
  /** 1-based line of the error. */
  readonly line: number;
  /** 1-based column of the error. */
  readonly column: number;
  /** The token at the error (`"end of input"` at the end). */
  readonly token: string;
  /**
   * @internal
   * @ignore
   */
  constructor(message: string, line: number, column: number, token: string) {
    super(`ffi.cdef(): line ${line}, column ${column}: ${message}`);
    this.name = "SyntaxError";
    this.line = line;
    this.column = column;
    this.token = token;
  }
}

const PUNCT = [
  "...",
  "<<",
  ">>",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  ";",
  ",",
  "*",
  "=",
  ":",
  "-",
  "+",
  "~",
  "!",
  "|",
  "&",
  "^",
  "/",
  "%",
  "<",
  ">",
  "?",
  ".",
];

const SINGLE = new Set(PUNCT.filter((p) => p.length === 1));

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/**
 * Parses a C integer literal (`0x1F`, `0644`, `4096UL`); `undefined` if `s` is not one.
 * @internal
 * @ignore
 */
export function _intLiteral(s: string): bigint | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?$/
    .exec(s);
  if (m === null) return undefined;
  const body = m[1];
  if (/^0[xXbB]/.test(body)) return BigInt(body.toLowerCase());
  if (body.length > 1 && body[0] === "0") return BigInt("0o" + body.slice(1));
  return BigInt(body);
}

const ESCAPES: Record<string, number> = {
  n: 10,
  t: 9,
  r: 13,
  "0": 0,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  "\\": 92,
  "'": 39,
  '"': 34,
  "?": 63,
};

/**
 * The value of a C character constant (`'A'`, `'\n'`, `'\x7f'`, `'\101'`) as C's `int`: a plain `char`
 * is signed here, so `'\xff'` is -1. `undefined` for anything else (multi-character constants too).
 * @internal
 * @ignore
 */
export function _charLiteral(s: string): bigint | undefined {
  const m = /^'(?:([^'\\\n])|\\([ntr0abfv\\'"?])|\\x([0-9a-fA-F]{1,2})|\\([0-7]{1,3}))'$/.exec(s);
  if (m === null) return undefined;
  let v: number;
  if (m[1] !== undefined) {
    v = m[1].charCodeAt(0);
    if (v > 127) return undefined; // a UTF-8 sequence of several bytes is a multi-character constant
  } else if (m[2] !== undefined) v = ESCAPES[m[2]];
  else if (m[3] !== undefined) v = parseInt(m[3], 16);
  else {
    v = parseInt(m[4], 8);
    if (v > 255) return undefined;
  }
  return BigInt(v > 127 ? v - 256 : v);
}

/**
 * Splits C source into tokens.
 * @internal
 * @ignore
 */
export function _tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let atLineStart = true; // only whitespace since the last newline: a `#` starts a directive
  const n = src.length;
  const err = (msg: string, at: number, tok: string): never => {
    throw new CSyntaxError(msg, line, at - lineStart + 1, tok);
  };
  while (i < n) {
    const ch = src[i];
    if (ch === "\n") {
      i++;
      line++;
      lineStart = i;
      atLineStart = true;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\r" || ch === "\f" || ch === "\v") {
      i++;
      continue;
    }
    if (ch === "\\" && (src[i + 1] === "\n" || (src[i + 1] === "\r" && src[i + 2] === "\n"))) {
      i += src[i + 1] === "\n" ? 2 : 3;
      line++;
      lineStart = i;
      continue;
    }
    if (ch === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && src[i + 1] === "*") {
      const startCol = i - lineStart + 1;
      const startLine = line;
      i += 2;
      while (i < n && !(src[i] === "*" && src[i + 1] === "/")) {
        if (src[i] === "\n") {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= n) throw new CSyntaxError("unterminated comment", startLine, startCol, "/*");
      i += 2;
      continue;
    }
    const column = i - lineStart + 1;
    if (ch === "#") {
      if (!atLineStart) err("unexpected '#' in the middle of a line", i, "#");
      out.push(directive());
      continue;
    }
    atLineStart = false;
    const code = src.charCodeAt(i);
    if (isIdentStart(code)) {
      let j = i + 1;
      while (j < n && isIdentPart(src.charCodeAt(j))) j++;
      out.push({ kind: "ident", text: src.slice(i, j), line, column });
      i = j;
      continue;
    }
    if (code >= 48 && code <= 57) {
      let j = i + 1;
      while (j < n && (isIdentPart(src.charCodeAt(j)) || src.charCodeAt(j) === 46)) j++;
      const text = src.slice(i, j);
      const value = _intLiteral(text);
      if (value === undefined) {
        err(`invalid or unsupported number '${text}' (only integer literals)`, i, text);
      }
      out.push({ kind: "number", text, value, line, column });
      i = j;
      continue;
    }
    if (ch === "'") {
      // A character constant is an integer constant (`enum { TAB = '\t' }`).
      let j = i + 1;
      while (j < n && src[j] !== "'" && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      if (src[j] !== "'") err("missing terminating ' character", i, "'");
      const text = src.slice(i, j + 1);
      const value = _charLiteral(text);
      if (value === undefined) err(`invalid or unsupported character constant ${text}`, i, text);
      out.push({ kind: "number", text, value, line, column });
      i = j + 1;
      continue;
    }
    const p = SINGLE.has(ch) && !(ch === "<" || ch === ">" || ch === ".")
      ? ch
      : PUNCT.find((q) => src.startsWith(q, i));
    if (p === undefined) err(`unexpected character '${ch}'`, i, ch);
    out.push({ kind: "punct", text: p!, line, column });
    i += p!.length;
  }
  out.push({ kind: "eof", text: "end of input", line, column: i - lineStart + 1 });
  return out;

  /** `#define NAME <integer>` (whitespace allowed after `#`, a value in parentheses or negated). */
  function directive(): Token {
    const start = i;
    const column = i - lineStart + 1;
    let end = i;
    // The directive runs to the end of the line, line continuations included.
    while (end < n && src[end] !== "\n") {
      if (src[end] === "\\" && src[end + 1] === "\n") end += 2;
      else end++;
    }
    const text = src.slice(start, end).replace(/\\\n/g, " ").replace(/\/\*.*?\*\/|\/\/.*$/g, " ").trim();
    const m = /^#\s*define\s+([A-Za-z_]\w*)\s+(.*)$/.exec(text);
    const value = m === null ? undefined : defineValue(m[2].trim());
    if (m === null || value === undefined) {
      const word = /^#\s*(\w*)/.exec(text)?.[1] ?? "";
      throw new CSyntaxError(
        word === "define"
          ? `unsupported #define '${text}': only '#define NAME <integer literal>' is read`
          : `unsupported preprocessor directive '#${word}': only '#define NAME <integer literal>' is read ` +
            `(expand macros and includes by hand)`,
        line,
        column,
        `#${word}`,
      );
    }
    const tok: Token = { kind: "define", text: m[1], value, line, column };
    // Count the newlines of continuations.
    for (let k = start; k < end; k++) {
      if (src[k] === "\n") {
        line++;
        lineStart = k + 1;
      }
    }
    i = end;
    return tok;
  }
}

function defineValue(s: string): bigint | undefined {
  let t = s;
  while (t.startsWith("(") && t.endsWith(")")) t = t.slice(1, -1).trim();
  let neg = false;
  if (t.startsWith("-")) {
    neg = true;
    t = t.slice(1).trim();
  }
  const v = _intLiteral(t) ?? _charLiteral(t);
  return v === undefined ? undefined : neg ? -v : v;
}
