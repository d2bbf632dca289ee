/**
 * Calls that do not block the event loop, and callbacks from other threads, with real threads: the
 * fixture's `fx_thread_*` functions start pthreads, `fx_sleep_*` sleep on Deno's blocking pool.
 * Every wait is bounded, so a regression (a deadlock, a lost wake-up) fails instead of hanging.
 */

import assert from "node:assert/strict";
import * as ffi from "../mod.ts";
import { FIXTURE } from "./_fixture.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

/** `p`, or a rejection after `ms` milliseconds saying what hung. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `code` (a module importing the package as `MOD`) in a child Deno, killed after `ms`. */
async function child(code: string, ms = 20_000): Promise<{ code: number; out: string; err: string }> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, `import * as ffi from ${JSON.stringify(MOD)};\n${code}`);
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-env",
        "--v8-flags=--expose-gc",
        "--no-config",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1", FIXTURE },
      signal: AbortSignal.timeout(ms),
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("nonblocking: libc usleep runs while a timer ticks", async () => {
  using libc = ffi.load("libc.so.6");
  const usleep = libc.fn("usleep", "i32", ["u32"], { nonblocking: true });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    const pending = usleep(300_000);
    assert.ok(pending instanceof Promise);
    assert.equal(await within(5000, "usleep(300 ms)", pending), 0);
  } finally {
    clearInterval(timer);
  }
  // 30 ticks if the timer runs freely; a blocked event loop gives at most 1.
  assert.ok(ticks >= 5, `the timer ticked ${ticks} times during a 300 ms nonblocking usleep`);
});

Deno.test("nonblocking: results and arguments convert as in a synchronous call", async () => {
  using lib = ffi.load(FIXTURE);
  const nb = { nonblocking: true } as const;
  assert.equal(await lib.fn("fx_add_i32", "i32", ["i32", "i32"], nb)(2, 40), 42);
  assert.equal(await lib.fn("fx_add_i32", "i32", ["i32", "i32"], nb)(0xffffffff, 1), 0);
  assert.equal(await lib.fn("fx_add_f64", "f64", ["f64", "f64"], nb)(0.5, 2), 2.5);
  assert.equal(await lib.fn("fx_strlen", "usize", ["string"], nb)("héllo"), 6n);
  assert.equal(await lib.fn("fx_ret_string", "string", [], nb)(), lib.call("fx_ret_string", "string", []));
  assert.equal(await lib.fn("fx_ret_null_string", "string", [], nb)(), null);
  assert.equal(await lib.fn("fx_nothing", "void", [], nb)(), undefined);
  const sum = lib.fn("fx_sum_mixed", "f64", ["i8", "u16", "i32", "i64", "f32", "f64", "bool"], nb);
  assert.equal(
    await sum(-1, 2, 3, 4n, 0.5, 0.25, true),
    lib.call(
      "fx_sum_mixed",
      "f64",
      ["i8", "u16", "i32", "i64", "f32", "f64", "bool"],
      -1,
      2,
      3,
      4n,
      0.5,
      0.25,
      true,
    ),
  );
  const Point = ffi.struct([["x", "i32"], ["y", "i32"]]);
  assert.deepEqual(await lib.fn("fx_point_swap", Point, [Point], nb)({ x: 1, y: 2 }), { x: 2, y: 1 });
  using arena = ffi.arena();
  const out = arena.allocType("i32");
  await lib.fn("fx_store_i32", "void", ["pointer", "i32"], nb)(out, -5);
  assert.equal(out.read(0, "i32"), -5);
  const strdup = ffi.load("libc.so.6");
  try {
    const copy = await strdup.fn("strdup", "pointer", ["string"], nb)("abc");
    assert.ok(copy instanceof ffi.RawPointer);
    assert.equal(copy.readString(), "abc");
    strdup.call("free", "void", ["pointer"], copy);
  } finally {
    strdup.close();
  }
});

Deno.test("nonblocking: bad arguments, a missing symbol and a closed library reject", async () => {
  const lib = ffi.load(FIXTURE);
  const add = lib.fn("fx_add_i32", "i32", ["i32", "i32"], { nonblocking: true });
  await assert.rejects(add(1.5, 2), TypeError);
  await assert.rejects(add(2 ** 32, 2), RangeError);
  // @ts-expect-error: a wrong argument count is a compile error too (the list form is typed)
  await assert.rejects(add(1), /takes 2 arguments, got 1/);
  // @ts-expect-error: a number is not a string argument (the list form is typed)
  await assert.rejects(lib.fn("fx_strlen", "usize", ["string"], { nonblocking: true })(5), TypeError);
  await assert.rejects(lib.fn("no_such_fn", "i32", [], { nonblocking: true })(), /no_such_fn/);
  assert.throws(() => lib.fn("fx_add_i32", "i32", [], { nonblocking: 1 } as never), TypeError);
  assert.throws(() => lib.fn("fx_add_i32", "i32", [], { nonblock: true } as never), /nonblock/);
  const store = lib.fn("fx_store_i32", "void", ["pointer", "i32"], { nonblocking: true });
  const arena = ffi.arena();
  const dead = arena.alloc(4);
  arena.reset();
  await assert.rejects(store(dead, 1), /freed/);
  const cb = ffi.callback(() => 0, "i32", ["i32"]);
  const ptr = cb.ptr;
  cb.close();
  await assert.rejects(
    lib.fn("fx_sleep_call", "i32", ["pointer", "i32", "u32"], { nonblocking: true })(ptr, 1, 0),
    /closed callback/,
  );
  lib.close();
  await assert.rejects(add(1, 2), /library closed/);
  assert.throws(() => lib.fn("fx_add_i32", "i32", ["i32", "i32"], { nonblocking: true }), /library closed/);
});

Deno.test("nonblocking with errno: each call resolves to its result and the errno of its own thread", async () => {
  using lib = ffi.load(FIXTURE);
  const fail = lib.fn("fx_fail_errno", "i32", ["i32"], { nonblocking: true, errno: true });
  const all = await within(
    10_000,
    "50 calls",
    Promise.all(Array.from({ length: 50 }, (_, i) => fail(i + 1))),
  );
  assert.deepEqual(all, Array.from({ length: 50 }, (_, i) => ({ result: -1, errno: i + 1 })));

  using libc = ffi.load("libc.so.6");
  const open = libc.fn("open", "i32", ["string", "i32"], { nonblocking: true, errno: true });
  assert.deepEqual(await open("/no/such/dir/file", 0), { result: -1, errno: 2 }); // ENOENT
  // ffi.errno(value) sets errno before the next call through the module, nonblocking ones included.
  const strtol = libc.fn("strtol", "i64", ["string", "pointer", "i32"], { nonblocking: true, errno: true });
  ffi.errno(0);
  assert.deepEqual(await strtol("123", null, 10), { result: 123n, errno: 0 });
  assert.deepEqual(await strtol("99999999999999999999", null, 10), { result: 2n ** 63n - 1n, errno: 34 }); // ERANGE
  // Results convert as without errno.
  const Point = ffi.struct([["x", "i32"], ["y", "i32"]]);
  const swap = lib.fn("fx_point_swap", Point, [Point], { nonblocking: true, errno: true });
  assert.deepEqual((await swap({ x: 1, y: 2 })).result, { x: 2, y: 1 });
  const str = lib.fn("fx_ret_string", "string", [], { nonblocking: true, errno: true });
  assert.equal((await str()).result, lib.call("fx_ret_string", "string", []));
  assert.throws(() => lib.fn("fx_fail_errno", "i32", ["i32"], { errno: true }), /needs nonblocking: true/);
});

Deno.test("nonblocking: 100 concurrent calls all resolve with their own results", async () => {
  using lib = ffi.load(FIXTURE);
  const add = lib.fn("fx_add_i32", "i32", ["i32", "i32"], { nonblocking: true });
  const strlen = lib.fn("fx_strlen", "usize", ["string"], { nonblocking: true });
  const sums = await within(
    10_000,
    "100 calls",
    Promise.all(Array.from({ length: 100 }, (_, i) => add(i, i))),
  );
  assert.deepEqual(sums, Array.from({ length: 100 }, (_, i) => 2 * i));
  const lens = await within(
    10_000,
    "100 calls",
    Promise.all(Array.from({ length: 100 }, (_, i) => strlen("x".repeat(i)))),
  );
  assert.deepEqual(lens, Array.from({ length: 100 }, (_, i) => BigInt(i)));
});

Deno.test("threads: a pthread calls a thread-safe callback N times, awaited as a nonblocking call", async () => {
  using lib = ffi.load(FIXTURE);
  const run = lib.fn("fx_thread_call_cb", "i64", ["pointer", "i32"], { nonblocking: true });
  const seen: number[] = [];
  using cb = ffi.callback(
    (i: number) => {
      seen.push(i);
      return i * 2;
    },
    "i32",
    ["i32"],
    { threadSafe: true },
  );
  assert.equal(cb.threadSafe, true);
  assert.equal(await within(10_000, "fx_thread_call_cb", run(cb, 100)), 9900n);
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("threads: a C thread started by a synchronous call calls back while JavaScript awaits a timer", async () => {
  using lib = ffi.load(FIXTURE);
  let calls = 0;
  const done = Promise.withResolvers<void>();
  using cb = ffi.callback(
    (i: number) => {
      calls++;
      if (i === 9) done.resolve();
      return 1;
    },
    "i32",
    ["i32"],
    { threadSafe: true },
  );
  const handle = lib.call("fx_thread_start", "pointer", ["pointer", "i32", "u32"], cb, 10, 20);
  await within(10_000, "callbacks from a detached thread", done.promise);
  assert.equal(calls, 10);
  const join = lib.fn("fx_thread_join", "i64", ["pointer"], { nonblocking: true });
  assert.equal(await within(10_000, "join", join(handle)), 10n);
});

Deno.test("threads: a thread-safe callback's exception goes to onError and C gets 0", async () => {
  using lib = ffi.load(FIXTURE);
  const run = lib.fn("fx_thread_call_cb", "i64", ["pointer", "i32"], { nonblocking: true });
  const boom = new Error("boom at 3");
  const errors: unknown[] = [];
  using cb = ffi.callback(
    (i: number) => {
      if (i === 3) throw boom;
      return 10;
    },
    "i32",
    ["i32"],
    { threadSafe: true, onError: (e) => errors.push(e) },
  );
  assert.equal(await within(10_000, "fx_thread_call_cb", run(cb, 5)), 40n); // 10 + 10 + 10 + 0 + 10
  assert.equal(errors.length, 1);
  assert.equal(errors[0], boom);
});

Deno.test("threads: without onError, the exception is an error event on globalThis", async () => {
  using lib = ffi.load(FIXTURE);
  const run = lib.fn("fx_thread_call_cb", "i64", ["pointer", "i32"], { nonblocking: true });
  const boom = new Error("unhandled in a thread-safe callback");
  const events: ErrorEvent[] = [];
  const listener = (e: Event) => {
    events.push(e as ErrorEvent);
    e.preventDefault();
  };
  globalThis.addEventListener("error", listener);
  try {
    using cb = ffi.callback(
      () => {
        throw boom;
      },
      "i32",
      ["i32"],
      { threadSafe: true },
    );
    assert.equal(await within(10_000, "fx_thread_call_cb", run(cb, 2)), 0n);
    await new Promise((r) => setTimeout(r, 0));
  } finally {
    globalThis.removeEventListener("error", listener);
  }
  assert.equal(events.length, 2);
  assert.equal(events[0].error, boom);
});

Deno.test("threads: with no error listener, a thread-safe callback's exception ends the program non-zero", async () => {
  const r = await child(`
    const lib = ffi.load(Deno.env.get("FIXTURE"));
    const cb = ffi.callback(() => { throw new Error("thrown on purpose"); }, "i32", ["i32"], { threadSafe: true });
    await lib.fn("fx_thread_call_cb", "i64", ["pointer", "i32"], { nonblocking: true })(cb, 1);
    await new Promise((r) => setTimeout(r, 200));
    console.log("still running");
  `);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /thrown on purpose/);
  assert.doesNotMatch(r.out, /still running/);
});

Deno.test("threads: an open thread-safe callback keeps the program alive until it is closed", async () => {
  const r = await child(`
    const lib = ffi.load(Deno.env.get("FIXTURE"));
    let n = 0;
    const cb = ffi.callback((i) => {
      n++;
      if (i === 2) { console.log("called", n); cb.close(); }
      return 0;
    }, "i32", ["i32"], { threadSafe: true });
    lib.call("fx_thread_start", "pointer", ["pointer", "i32", "u32"], cb, 3, 200);
  `);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), "called 3");
});

Deno.test("threads: a plain callback's exception during a nonblocking call rejects that call", async () => {
  using lib = ffi.load(FIXTURE);
  const run = lib.fn("fx_thread_call_cb", "i64", ["pointer", "i32"], { nonblocking: true });
  const boom = new Error("boom");
  using cb = ffi.callback(
    (i: number) => {
      if (i === 1) throw boom;
      return i;
    },
    "i32",
    ["i32"],
  );
  await assert.rejects(within(10_000, "fx_thread_call_cb", run(cb, 4)), (e) => e === boom);
});

Deno.test("memory: resetting the arena while C sleeps on it is safe, and C's write lands in memory still held", async () => {
  using lib = ffi.load(FIXTURE);
  const fill = lib.fn("fx_sleep_fill", "usize", ["pointer", "usize", "u32", "u8"], { nonblocking: true });
  const sum = lib.fn("fx_sleep_sum", "u64", ["pointer", "usize", "u32"], { nonblocking: true });
  const arena = ffi.arena();
  const p = arena.alloc(256);
  const bytes = ffi.cast(p, "u8", 256);
  const filled = fill(p, 256, 50, 7);
  const summed = sum(p, 256, 250); // reads the memory after the fill, long after the reset
  arena.reset();
  // Dead for JavaScript at once...
  assert.throws(() => p.read(0, "u8"), /freed/);
  assert.equal(bytes[0], undefined);
  assert.throws(() => lib.call("fx_strlen", "usize", ["pointer"], p), /freed/);
  // ...while the allocations that follow cannot reuse it under C.
  for (let i = 0; i < 100; i++) arena.alloc(256).write(0, "u8", 1);
  assert.equal(await within(10_000, "fx_sleep_fill", filled), 256n);
  assert.equal(await within(10_000, "fx_sleep_sum", summed), 256n * 7n);
});

Deno.test("memory: disposing the arena, or the Buffer going out of reach, while C sleeps on it is safe", async () => {
  using lib = ffi.load(FIXTURE);
  const sum = lib.fn("fx_sleep_sum", "u64", ["pointer", "usize", "u32"], { nonblocking: true });
  let pending: Promise<unknown>;
  {
    using arena = ffi.arena();
    const p = arena.alloc(64);
    ffi.fill(p, 64, 3);
    pending = sum(p, 64, 100);
  }
  let bufferSum: Promise<unknown>;
  {
    const buf = ffi.buffer(32);
    buf.writeBytes(0, new Uint8Array(32).fill(2));
    bufferSum = sum(buf, 32, 100);
  }
  (globalThis as { gc?: () => void }).gc?.();
  assert.equal(await within(10_000, "fx_sleep_sum", pending), 192n);
  assert.equal(await within(10_000, "fx_sleep_sum", bufferSum), 64n);
});

Deno.test("memory: a string argument lives until the call returns", async () => {
  using lib = ffi.load(FIXTURE);
  const sum = lib.fn("fx_sleep_sum", "u64", ["string", "usize", "u32"], { nonblocking: true });
  const pending = sum("abc", 3, 100);
  // Synchronous calls reuse the scratch memory their own strings are copied to.
  for (let i = 0; i < 100; i++) lib.call("fx_strlen", "usize", ["string"], "zzzzzzzz");
  assert.equal(await within(10_000, "fx_sleep_sum", pending), 97n + 98n + 99n);
});

Deno.test("memory: a string in a struct passed by value lives until the call returns", async () => {
  using lib = ffi.load(FIXTURE);
  const Label = ffi.struct([["id", "i32"], ["text", "char*"]]);
  const label = lib.fn("fx_sleep_label", "i64", [Label, "u32"], { nonblocking: true });
  const pending = label({ id: 7, text: "héllo" }, 100);
  for (let i = 0; i < 100; i++) lib.call("fx_strlen", "usize", ["string"], "zzzzzzzzzzzzzzzz");
  assert.equal(await within(10_000, "fx_sleep_label", pending), 7006n);
  assert.equal(await label({ id: 2, text: null }, 0), 2000n);
});

Deno.test("memory: a JS typed array gets C's writes when the call returns; shared memory is used in place", async () => {
  using lib = ffi.load(FIXTURE);
  const fill = lib.fn("fx_sleep_fill", "usize", ["pointer", "usize", "u32", "u8"], { nonblocking: true });
  const u8 = new Uint8Array(16);
  await within(10_000, "fill", fill(u8.subarray(4), 8, 10, 9));
  assert.deepEqual([...u8], [0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0]);
  const ab = new ArrayBuffer(8);
  await within(10_000, "fill", fill(ab, 8, 10, 5));
  assert.deepEqual([...new Uint8Array(ab)], [5, 5, 5, 5, 5, 5, 5, 5]);
  // Detached while C writes: C wrote into the call's copy, nothing is freed under it.
  const gone = new ArrayBuffer(64);
  const pending = fill(gone, 64, 50, 1);
  gone.transfer(0);
  assert.equal(await within(10_000, "fill", pending), 64n);
  const shared = new Uint8Array(new SharedArrayBuffer(8));
  assert.equal(await within(10_000, "fill", fill(shared, 8, 10, 4)), 8n);
  assert.deepEqual([...shared], [4, 4, 4, 4, 4, 4, 4, 4]);
});

Deno.test("close: closing the library or a callback the pending call uses waits for C to return", async () => {
  const lib = ffi.load(FIXTURE);
  const call = lib.fn("fx_sleep_call", "i32", ["pointer", "i32", "u32"], { nonblocking: true });
  const cb = ffi.callback((v: number) => v + 1, "i32", ["i32"]);
  const pending = call(cb, 41, 100);
  cb.close();
  lib.close();
  assert.equal(cb.isValid, false);
  assert.throws(() => cb.ptr, /closed/);
  await assert.rejects(call(cb, 1, 0), /closed/);
  assert.equal(await within(10_000, "fx_sleep_call", pending), 42);
});

Deno.test("crash regression: resets, closes and GC while many calls are pending never crash", async () => {
  const r = await child(`
    const lib = ffi.load(Deno.env.get("FIXTURE"));
    const fill = lib.fn("fx_sleep_fill", "usize", ["pointer", "usize", "u32", "u8"], { nonblocking: true });
    const call = lib.fn("fx_sleep_call", "i32", ["pointer", "i32", "u32"], { nonblocking: true });
    const all = [];
    for (let round = 0; round < 20; round++) {
      const arena = ffi.arena();
      for (let i = 0; i < 5; i++) all.push(fill(arena.alloc(1 << 16), 1 << 16, 5 + i, round));
      const cb = ffi.callback((v) => v, "i32", ["i32"]);
      all.push(call(cb, round, 5));
      arena.reset();
      cb.close();
      for (let i = 0; i < 50; i++) arena.alloc(1 << 16).write(0, "u8", 1);
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 2));
    }
    const done = await Promise.all(all);
    lib.close();
    console.log(done.length);
  `);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), "120");
});

Deno.test("threads: a thread-safe callback also works when C calls it on the JavaScript thread", () => {
  using lib = ffi.load(FIXTURE);
  const errors: unknown[] = [];
  using add = ffi.callback(
    (a: number, b: number) => {
      if (a < 0) throw new RangeError("negative");
      return a + b;
    },
    "i32",
    ["i32", "i32"],
    { threadSafe: true, onError: (e) => errors.push(e) },
  );
  assert.equal(lib.call("fx_call_cb_i32", "i32", ["pointer", "i32", "i32"], add, 2, 3), 5);
  // Its exception goes to onError (it has no JavaScript caller in general), and C gets 0.
  assert.equal(lib.call("fx_call_cb_i32", "i32", ["pointer", "i32", "i32"], add, -1, 3), 0);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof RangeError);
});

Deno.test("callback options are checked", () => {
  const f = () => 0;
  assert.throws(() => ffi.callback(f, "i32", [], { threadSafe: "yes" } as never), TypeError);
  assert.throws(() => ffi.callback(f, "i32", [], { onError: f }), /needs threadSafe: true/);
  assert.throws(() => ffi.callback(f, "i32", [], { threadsafe: true } as never), /threadsafe/);
  assert.throws(() => ffi.callback(f, "i32", [], 5 as never), TypeError);
  using plain = ffi.callback(f, "i32", []);
  assert.equal(plain.threadSafe, false);
});

Deno.test("ffi.fn through a pointer: nonblocking, with errno, and over a callback closed while pending", async () => {
  using lib = ffi.load(FIXTURE);
  const sleepFill = ffi.fn(lib.getSymbol("fx_sleep_fill")!, "usize", ["pointer", "usize", "u32", "u8"], {
    nonblocking: true,
  });
  using arena = ffi.arena();
  const p = arena.alloc(16);
  const pending = sleepFill(p, 16, 50, 3);
  assert.ok(pending instanceof Promise);
  assert.equal(await within(10_000, "fx_sleep_fill", pending), 16n);
  assert.equal(p.read(15, "u8"), 3);
  const fail = ffi.fn(lib.getSymbol("fx_fail_errno")!, { ret: "i32", args: ["i32"] }, {
    nonblocking: true,
    errno: true,
  });
  assert.deepEqual(await fail(7), { result: -1, errno: 7 });

  // A callback as the target: it runs on the JS thread, called from the pool thread.
  const cb = ffi.callback((v: number) => v * 3, "i32", ["i32"]);
  const triple = ffi.fn(cb, "i32", ["i32"], { nonblocking: true });
  assert.equal(await within(10_000, "callback target", triple(5)), 15);
  const viaSleep = lib.fn("fx_sleep_call", "i32", ["pointer", "i32", "u32"], { nonblocking: true });
  const later = viaSleep(cb, 4, 100);
  cb.close();
  await assert.rejects(triple(1), /closed/);
  assert.equal(await within(10_000, "fx_sleep_call", later), 12);
});

Deno.test("prototype forms: nonblocking functions and thread-safe callbacks from C declarations", async () => {
  using lib = ffi.load(FIXTURE);
  const defs = ffi.cdef(`
    typedef int (*job_fn)(int i);
    int64_t fx_thread_call_cb(job_fn cb, int n);
    int fx_fail_errno(int value);
  `);
  const run = lib.fn(defs.fx_thread_call_cb as ffi.Signature, { nonblocking: true });
  using job = ffi.callback((i: number) => i + 1, defs.job_fn as ffi.Signature, { threadSafe: true });
  assert.equal(job.threadSafe, true);
  assert.equal(await within(10_000, "fx_thread_call_cb", run(job, 10)), 55n);
  const fail = lib.fn("int fx_fail_errno(int value)", { nonblocking: true, errno: true });
  assert.deepEqual(await fail(9), { result: -1, errno: 9 });
  using libc = ffi.load("libc.so.6");
  const usleep = libc.fn("int usleep(unsigned int usec);", { nonblocking: true });
  assert.equal(await within(5000, "usleep", usleep(1000)), 0);
});

Deno.test("memory: string copies of many overlapping calls never overwrite one another", async () => {
  using lib = ffi.load(FIXTURE);
  const sum = lib.fn("fx_sleep_sum", "u64", ["string", "usize", "u32"], { nonblocking: true });
  const enc = new TextEncoder();
  let seed = 7;
  const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const calls: Promise<unknown>[] = [];
  const expected: bigint[] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 50; i++) {
      const s = (rand(2) === 0 ? "é" : "x").repeat(1 + rand(3000));
      const bytes = enc.encode(s);
      expected.push(bytes.reduce((a, b) => a + BigInt(b), 0n));
      calls.push(sum(s, bytes.length, rand(20)));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual(await within(20_000, "200 calls", Promise.all(calls)), expected);
});

Deno.test("prototype forms: a variadic prototype called nonblocking takes (type, value) pairs as its synchronous form", async () => {
  using libc = ffi.load("libc.so.6");
  const snprintf = libc.fn("int snprintf(char *buf, size_t n, const char *fmt, ...)", { nonblocking: true });
  using arena = ffi.arena();
  const buf = arena.alloc(64);
  assert.equal(await snprintf(buf, 64, "%d-%.1f-%s", "int", 7, "double", 2.5, "char*", "x"), 7);
  assert.equal(ffi.string(buf), "7-2.5-x");
  assert.equal(await snprintf(buf, 64, "%d", "int", 8), 1);
  assert.equal(ffi.string(buf), "8");
  await assert.rejects(snprintf(buf, 64, "%d", "int"), /variadic/);
});

Deno.test("threads: unref() lets the program end with a thread-safe callback open; ref() undoes it", async () => {
  const r = await child(`
    const a = ffi.callback(() => {}, "void", [], { threadSafe: true });
    a.unref();
    const b = ffi.callback(() => {}, "void", [], { threadSafe: true });
    b.unref();
    b.ref();
    setTimeout(() => { console.log("closing"); b.close(); }, 100);
  `);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), "closing");
});

Deno.test("threads: a thread-safe callback's bad result goes to onError too, and C gets 0", async () => {
  using lib = ffi.load(FIXTURE);
  const run = lib.fn("fx_thread_call_cb", "i64", ["pointer", "i32"], { nonblocking: true });
  const errors: unknown[] = [];
  using cb = ffi.callback((i: number) => (i === 1 ? "one" : 5), "i32", ["i32"], {
    threadSafe: true,
    onError: (e) => errors.push(e),
  });
  assert.equal(await within(10_000, "fx_thread_call_cb", run(cb, 3)), 10n);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TypeError);
});

Deno.test("threads: libc pthread_create runs a thread-safe callback; pthread_join awaited nonblocking", async () => {
  using libc = ffi.load("libc.so.6");
  using arena = ffi.arena();
  let calls = 0;
  using start = ffi.callback(
    (arg: ffi.RawPointer) => {
      calls++;
      arg.write(0, "i32", 77);
      return null;
    },
    "pointer",
    ["pointer"],
    { threadSafe: true },
  );
  const tid = arena.alloc(8);
  const box = arena.alloc(4);
  const create = libc.fn("pthread_create", "i32", ["pointer", "pointer", "pointer", "pointer"]);
  assert.equal(create(tid, null, start, box), 0);
  const join = libc.fn("pthread_join", "i32", ["u64", "pointer"], { nonblocking: true });
  assert.equal(await within(10_000, "pthread_join", join(tid.read(0, "u64"), null)), 0);
  assert.equal(calls, 1);
  assert.equal(box.read(0, "i32"), 77);
});
