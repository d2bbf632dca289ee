// ffi.cdef: parsing a 300-line declaration block (report time per line = time / 300), against
// building the same definitions from field lists; and a call bound from a prototype against the same
// call bound from a type list (the same binding underneath: within noise). 1000 calls per iteration.
import * as ffi from "../mod.ts";

const FIXTURE = decodeURIComponent(
  new URL("../target/release/liblune_ffi_fixture.so", import.meta.url).pathname,
);

/** A header-like block of exactly 300 lines: structs, a union, enums, typedefs and prototypes. */
function block(): string {
  const lines: string[] = [];
  for (let i = 0; lines.length + 17 <= 300; i++) {
    lines.push(
      `/* group ${i} */`,
      `#define G${i}_LEN ${16 + i}`,
      `enum g${i}_kind { G${i}_A, G${i}_B = 5, G${i}_C };`,
      `typedef struct g${i}_item {`,
      `  int id;`,
      `  unsigned short flags : 3, mode : 5;`,
      `  const char *name;`,
      `  double weight;`,
      `  union { int64_t i; float f; } value;`,
      `  char tag[G${i}_LEN];`,
      `  struct g${i}_item *next;`,
      `} g${i}_item_t;`,
      `typedef int (*g${i}_cmp)(const g${i}_item_t *a, const g${i}_item_t *b);`,
      `int g${i}_open(const char *path, unsigned long flags, g${i}_item_t **out);`,
      `size_t g${i}_count(const g${i}_item_t *list);`,
      `void g${i}_sort(g${i}_item_t *list, size_t n, g${i}_cmp cmp);`,
      `int g${i}_printf(const char *fmt, ...);`,
    );
  }
  // 17 groups of 17 lines, then prototypes up to 300 lines.
  for (let i = 0; lines.length < 300; i++) lines.push(`long extra_${i}(unsigned int a, const void *b);`);
  return lines.join("\n");
}

const SOURCE = block();
const GROUPS = 17;

let sink: unknown;
Deno.bench("define the same structs from field lists (ffi.struct, ffi.union)", {
  group: "300-line declaration block",
  baseline: true,
}, () => {
  for (let i = 0; i < GROUPS; i++) {
    const value = ffi.union([["i", "int64_t"], ["f", "float"]]);
    sink = ffi.struct([
      ["id", "int"],
      ["flags", "unsigned short", { bits: 3 }],
      ["mode", "unsigned short", { bits: 5 }],
      ["name", "const char*"],
      ["weight", "double"],
      ["value", value],
      ["tag", "char", 16 + i],
      ["next", "pointer"],
    ]);
  }
});
Deno.bench("ffi.cdef(300 lines) (divide by 300 for the time per line)", {
  group: "300-line declaration block",
}, () => {
  sink = ffi.cdef(SOURCE);
});

// One library: a prototype and a type list of the same C signature give the same binding. (Bound
// through two Library objects, the two bindings' wrappers share V8's feedback and the second one
// measured 17x slower in this loop: a separate matter, not the prototype's.)
const lib = ffi.load(FIXTURE);
const fromList = lib.fn("fx_add_i32", "i32", ["i32", "i32"]);
const fromPrototype = lib.fn("int32_t fx_add_i32(int32_t a, int32_t b)");
const fromBind = lib.bind(ffi.cdef("int fx_add_i32(int a, int b);")).fx_add_i32;

let acc = 0;
Deno.bench("lib.fn(name, ret, argTypes) add(i32, i32) x1000", { group: "bound call", baseline: true }, () => {
  for (let i = 0; i < 1000; i++) acc = fromList(acc & 0xffff, 1);
});
Deno.bench("lib.fn(prototype) add(i32, i32) x1000", { group: "bound call" }, () => {
  for (let i = 0; i < 1000; i++) acc = fromPrototype(acc & 0xffff, 1);
});
Deno.bench("lib.bind(cdef(...)) add(i32, i32) x1000", { group: "bound call" }, () => {
  for (let i = 0; i < 1000; i++) acc = fromBind(acc & 0xffff, 1);
});

globalThis.addEventListener("unload", () => {
  if (acc < 0 || sink === 0) console.log(acc);
});
