// Calls that do not block, and callbacks from other threads, each against raw Deno FFI doing the same:
// - awaited nonblocking calls of an empty function (target: ≤ 1.2x raw Deno's `nonblocking` symbol);
// - 100 concurrent nonblocking calls, awaited together;
// - a C thread calling a thread-safe callback 100 times (each call crosses to the JS thread and waits
//   for the result), awaited as a nonblocking call.
import * as ffi from "../mod.ts";

const FIXTURE = decodeURIComponent(
  new URL("../target/release/liblune_ffi_fixture.so", import.meta.url).pathname,
);

const raw = Deno.dlopen(FIXTURE, {
  fx_nothing: { parameters: [], result: "void", nonblocking: true },
  fx_add_i32: { parameters: ["i32", "i32"], result: "i32", nonblocking: true },
  fx_thread_call_cb: { parameters: ["pointer", "i32"], result: "i64", nonblocking: true },
}).symbols;
const lib = ffi.load(FIXTURE);
const nothing = lib.fn("fx_nothing", "void", [], { nonblocking: true });
const add = lib.fn("fx_add_i32", "i32", ["i32", "i32"], { nonblocking: true });
const threadCalls = lib.fn("fx_thread_call_cb", "i64", ["pointer", "i32"], { nonblocking: true });

// 20 awaited calls in sequence per iteration: a single one is dominated by the thread hop's jitter.
const SEQUENTIAL = 20;
Deno.bench(
  "raw Deno nonblocking",
  { group: "await an empty call, 20 in sequence", baseline: true },
  async () => {
    for (let i = 0; i < SEQUENTIAL; i++) await raw.fx_nothing();
  },
);
Deno.bench("lib.fn nonblocking", { group: "await an empty call, 20 in sequence" }, async () => {
  for (let i = 0; i < SEQUENTIAL; i++) await nothing();
});

const CONCURRENT = 100;
Deno.bench("raw Deno nonblocking", { group: "100 concurrent add(i32, i32)", baseline: true }, async () => {
  const all: Promise<number>[] = [];
  for (let i = 0; i < CONCURRENT; i++) all.push(raw.fx_add_i32(i, 1));
  await Promise.all(all);
});
Deno.bench("lib.fn nonblocking", { group: "100 concurrent add(i32, i32)" }, async () => {
  const all: Promise<number>[] = [];
  for (let i = 0; i < CONCURRENT; i++) all.push(add(i, 1));
  await Promise.all(all);
});

const CALLBACKS = 100;
const rawCb = Deno.UnsafeCallback.threadSafe({ parameters: ["i32"], result: "i32" } as const, (i) => i);
const cb = ffi.callback((i: number) => i, "i32", ["i32"], { threadSafe: true });
// The callbacks must not keep `deno bench` alive once it is done.
rawCb.unref();
cb.unref();
Deno.bench(
  "raw Deno.UnsafeCallback.threadSafe",
  { group: "100 callbacks from a C thread", baseline: true },
  async () => {
    await raw.fx_thread_call_cb(rawCb.pointer, CALLBACKS);
  },
);
Deno.bench("ffi.callback threadSafe", { group: "100 callbacks from a C thread" }, async () => {
  await threadCalls(cb, CALLBACKS);
});
