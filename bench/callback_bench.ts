// qsort of 100000 i32 with an ffi.callback comparator against a raw Deno.UnsafeCallback.
// Target: ≤ 1.5x.
import * as ffi from "../mod.ts";

const N = 100_000;
const libc = Deno.dlopen("libc.so.6", {
  qsort: { parameters: ["buffer", "usize", "usize", "function"], result: "void" },
}).symbols;
const lib = ffi.load("libc.so.6");
const qsort = lib.fn("qsort", "void", ["pointer", "usize", "usize", "pointer"]);

const input = new Int32Array(N);
let seed = 1;
for (let i = 0; i < N; i++) input[i] = seed = (Math.imul(seed, 1103515245) + 12345) | 0;

// Raw Deno: the array in a JS typed array, elements read through UnsafePointerView.
const rawData = new Int32Array(N);
const rawCmp = new Deno.UnsafeCallback(
  { parameters: ["pointer", "pointer"], result: "i32" } as const,
  (a, b) => {
    const x = new Deno.UnsafePointerView(a!).getInt32(), y = new Deno.UnsafePointerView(b!).getInt32();
    return x < y ? -1 : x > y ? 1 : 0;
  },
);

// lune-ffi: the array in arena memory, elements read through the RawPointers C passes.
const arena = ffi.arena();
const p = arena.allocArray("i32", N);
const cmp = ffi.callback(
  (a: ffi.RawPointer, b: ffi.RawPointer) => {
    const x = a.read(0, "i32") as number, y = b.read(0, "i32") as number;
    return x < y ? -1 : x > y ? 1 : 0;
  },
  "i32",
  ["pointer", "pointer"],
);
const inputBytes = new Uint8Array(input.buffer);

Deno.bench("raw Deno.UnsafeCallback comparator", { group: "qsort 100000 i32", baseline: true }, (b) => {
  rawData.set(input);
  b.start();
  libc.qsort(rawData, BigInt(N), 4n, rawCmp.pointer);
  b.end();
});
Deno.bench("ffi.callback comparator", { group: "qsort 100000 i32" }, (b) => {
  ffi.copy(p, ffi.ptr(Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(inputBytes)))), N * 4);
  b.start();
  qsort(p, N, 4, cmp);
  b.end();
});

// Creating (and closing) a callback: ours builds its JS wrapper from a per-signature factory.
{
  const def = { parameters: ["i32", "i32"], result: "i32" } as const;
  const add = (a: number, b: number) => a + b;
  Deno.bench("raw new Deno.UnsafeCallback + close", { group: "callback creation", baseline: true }, () => {
    new Deno.UnsafeCallback(def, add).close();
  });
  Deno.bench("ffi.callback(fn, 'i32', ['i32', 'i32']) + close", { group: "callback creation" }, () => {
    ffi.callback(add, "i32", ["i32", "i32"]).close();
  });
}
