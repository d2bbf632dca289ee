// Conformance checks from a sentence-by-sentence audit of API.md: the rules the audit found broken,
// each asserted as a user reads it, against libc and the C compiler's own diagnostics.
import * as ffi from "../mod.ts";
import assert from "node:assert/strict";

const libc = ffi.load("libc.so.6");

Deno.test("ffi.fn(ptr, signature) takes a prototype string as well as a Signature", () => {
  const at = libc.getSymbol("strlen")!;
  const fromString = ffi.fn(at, "size_t strlen(const char *s);");
  assert.equal(fromString("abcd"), 4n);
  const sig = ffi.cdef("size_t strlen(const char *s);").strlen as ffi.Signature;
  assert.equal(ffi.fn(at, sig)("abc"), 3n);
  // Options follow the prototype, as in `lib.fn(prototype, options)`.
  const labs = ffi.fn(libc.getSymbol("labs")!, "long labs(long j)", { nonblocking: true });
  return labs(-7).then((r: unknown) => assert.equal(r, 7n));
});

Deno.test("ffi.fn(ptr, prototype): a bad prototype is a SyntaxError, an unknown type a TypeError", () => {
  const at = libc.getSymbol("strlen")!;
  assert.throws(() => ffi.fn(at, "size_t strlen(const char *s"), SyntaxError);
  assert.throws(() => ffi.fn(at, "size_tt strlen(const char *s)"), (e: unknown) => {
    assert.ok(e instanceof TypeError && /size_tt/.test(e.message), String(e));
    return true;
  });
});

Deno.test("cdef: a missing ';', ']' or ')' is reported where gcc reports it (where it would insert it)", () => {
  // gcc 12 (`gcc -fsyntax-only`) puts these right after the last token of the unfinished line.
  const cases: [string, number, number, string][] = [
    ["typedef int T\nstruct Q { int a; };", 1, 14, "struct"],
    ["typedef unsigned long uLong\n\ntypedef int T;", 1, 28, "typedef"],
    ["int x[3\n;", 1, 8, ";"],
    ["int x[3\n", 1, 8, "end of input"],
    // Also on the same line: where the missing token goes.
    ["int x[3   ;", 1, 8, ";"],
    ["struct S { int a[3 };", 1, 19, "}"],
    ["typedef int T    int y;", 1, 14, "int"],
    // Before a token that cannot start a declaration gcc lists what may follow, at that token.
    ["struct S { int a; } x y;", 1, 23, "y"],
    // On the same line, and after a struct field (where gcc lists several tokens), at the next token.
    ["int x;\nstruct { int a }; ", 2, 16, "}"],
    ["struct S {\n  int a\n  int b; };", 3, 3, "int"],
    ["int f(int a,, int b);", 1, 13, ","],
  ];
  for (const [src, line, column, token] of cases) {
    assert.throws(() => ffi.cdef(src), (e: unknown) => {
      assert.ok(e instanceof SyntaxError, `${src}: ${e}`);
      const se = e as ffi.CSyntaxError;
      assert.deepEqual(
        [se.line, se.column, se.token],
        [line, column, token],
        `${JSON.stringify(src)}: ${se.message}`,
      );
      assert.match(se.message, new RegExp(`line ${line}, column ${column}`));
      return true;
    });
  }
});

Deno.test("cdef: character constants are integer constants, as in C (plain char is signed)", () => {
  const d = ffi.cdef(
    `enum ch { TAB = '\\t', NUL = '\\0', FF = '\\xff', OCT = '\\101', QUOTE = '\\'', A = 'A', NEXT };
#define LETTER 'x'
struct S { char pad[' ']; };`,
  );
  assert.deepEqual([d.TAB, d.NUL, d.FF, d.OCT, d.QUOTE, d.A, d.NEXT, d.LETTER], [
    9,
    0,
    -1,
    65,
    39,
    65,
    66,
    120,
  ]);
  assert.equal((d.S as ffi.StructDefinition).size, 32);
  assert.throws(() => ffi.cdef("enum { A = 'ab' };"), (e: unknown) => {
    assert.ok(
      e instanceof SyntaxError && /line 1, column 12/.test(e.message) && /'ab'/.test(e.message),
      String(e),
    );
    return true;
  });
  assert.throws(() => ffi.cdef("enum { A = 'a };"), (e: unknown) => {
    assert.ok(e instanceof SyntaxError && /line 1, column 12/.test(e.message), String(e));
    return true;
  });
});
