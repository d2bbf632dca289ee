// The Library and Callback API against real system libraries: libc, libm, libz, libsqlite3.
import * as ffi from "../mod.ts";
import { Tm } from "./_fixture.ts";
import assert from "node:assert/strict";
import { crc32 as nodeCrc32, inflateSync } from "node:zlib";

Deno.test("libc: getpid is Deno.pid; strlen and strcmp take JS strings", () => {
  using libc = ffi.load("libc.so.6");
  assert.equal(libc.call("getpid", "i32", []), Deno.pid);
  assert.equal(libc.call("strlen", "size_t", ["char*"], "hello, wörld"), 13n);
  const strcmp = libc.fn("strcmp", "int", ["string", "string"]);
  assert.equal(strcmp("abc", "abc"), 0);
  assert.ok((strcmp("abc", "abd") as number) < 0);
  assert.ok((strcmp("b", "a") as number) > 0);
});

Deno.test("libc: qsort sorts 100000 i32 in arena memory with a JS comparator", () => {
  using libc = ffi.load("libc.so.6");
  using arena = ffi.arena();
  const n = 100_000;
  const p = arena.allocArray("i32", n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    p.write(i * 4, "i32", seed);
  }
  let calls = 0;
  using cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer) => {
      calls++;
      const x = a.read(0, "i32") as number, y = b.read(0, "i32") as number;
      return x < y ? -1 : x > y ? 1 : 0;
    },
    "i32",
    ["pointer", "pointer"],
  );
  libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], p, n, 4, cmp);
  assert.ok(calls > n);
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = p.read(i * 4, "i32") as number;
    if (v < prev) assert.fail(`not sorted at ${i}: ${prev} > ${v}`);
    prev = v;
  }
});

Deno.test("libc: div returns a struct by value", () => {
  using libc = ffi.load("libc.so.6");
  const DivT = ffi.struct([["quot", "int"], ["rem", "int"]]);
  assert.deepEqual(libc.call("div", DivT, ["int", "int"], 17, 5), { quot: 3, rem: 2 });
  assert.deepEqual(libc.call("div", DivT, ["int", "int"], -17, 5), { quot: -3, rem: -2 });
});

Deno.test("libc: snprintf (variadic) formats i32 and f64 into a Buffer", () => {
  using libc = ffi.load("libc.so.6");
  const buf = ffi.buffer(64);
  const snprintf = libc.fn("snprintf", "i32", ["pointer", "usize", "string", "i32", "f64"]);
  // Hot enough for Deno's optimised path, with a new double each time: a wrong `al` shows at once.
  for (let i = 0; i < 20_000; i++) {
    const n = snprintf(buf, 64, "%d|%.3f", i, i / 8) as number;
    const want = `${i}|${(i / 8).toFixed(3)}`;
    if (buf.readString() !== want || n !== want.length) {
      assert.fail(`call ${i}: ${buf.readString()} != ${want}`);
    }
  }
  assert.equal(
    libc.call("snprintf", "i32", ["pointer", "usize", "string", "i32", "f64"], buf, 64, "%d %g", -7, 1e-3),
    8,
  );
  assert.equal(buf.readString(), "-7 0.001");
});

Deno.test("libc: gmtime_r fills a struct tm through a StructView", () => {
  using libc = ffi.load("libc.so.6");
  using arena = ffi.arena();
  const t = arena.allocType("i64");
  const when = Date.UTC(2024, 1, 29, 13, 45, 30); // a leap day
  t.write(0, "i64", BigInt(when / 1000));
  const tmPtr = arena.allocType(Tm);
  const ret = libc.call("gmtime_r", "pointer", ["pointer", "pointer"], t, tmPtr) as ffi.RawPointer;
  assert.equal(ret.addr, tmPtr.addr);
  const tm = ffi.view(tmPtr, Tm);
  assert.deepEqual(
    [tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday, tm.tm_yday],
    [2024, 2, 29, 13, 45, 30, 4, 59],
  );
  assert.equal(tm.tm_zone, "GMT");
});

Deno.test("libm: cos, pow and frexp (pointer out-param) agree with Math", () => {
  using libm = ffi.load("libm.so.6");
  using arena = ffi.arena();
  const cos = libm.fn("cos", "double", ["double"]);
  for (const x of [0, 0.5, Math.PI, -2, 1e3]) {
    assert.ok(Math.abs((cos(x) as number) - Math.cos(x)) <= 1e-15, `cos ${x}`);
  }
  assert.equal(libm.call("pow", "f64", ["f64", "f64"], 2, 10), 1024);
  assert.equal(libm.call("pow", "f64", ["f64", "f64"], 9, 0.5), 3);
  const exp = arena.allocType("int");
  const mant = libm.call("frexp", "f64", ["f64", "pointer"], 48, exp);
  assert.equal(mant, 0.75);
  assert.equal(exp.read(0, "int"), 6); // 48 = 0.75 * 2^6
});

Deno.test("libz: compress2/uncompress round-trip 1 MiB, node:zlib inflates it, crc32 is right", () => {
  using z = ffi.load("libz.so.1");
  using arena = ffi.arena();
  const size = 1 << 20;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
  const src = ffi.buffer(size);
  src.writeBytes(0, data);

  const bound = z.call("compressBound", "u64", ["u64"], size) as bigint;
  const dst = ffi.buffer(Number(bound));
  const dstLen = arena.allocType("u64");
  dstLen.write(0, "u64", bound);
  assert.equal(
    z.call("compress2", "int", ["pointer", "pointer", "pointer", "u64", "int"], dst, dstLen, src, size, 9),
    0,
  );
  const packedLen = Number(dstLen.read(0, "u64"));
  assert.ok(packedLen > 0 && packedLen < size / 4, `compressed to ${packedLen}`);
  const packed = dst.readBytes(0, packedLen);
  assert.deepEqual(new Uint8Array(inflateSync(packed)), data);

  const back = ffi.buffer(size);
  const backLen = arena.allocType("u64");
  backLen.write(0, "u64", size);
  assert.equal(
    z.call("uncompress", "int", ["pointer", "pointer", "pointer", "u64"], back, backLen, dst, packedLen),
    0,
  );
  assert.equal(backLen.read(0, "u64"), BigInt(size));
  assert.deepEqual(back.readBytes(0, size), data);

  const nine = ffi.buffer(9);
  nine.writeString(0, "12345678"); // 8 bytes + NUL; then overwrite the NUL with '9'
  nine.write(8, "u8", 0x39);
  assert.equal(z.call("crc32", "ulong", ["ulong", "pointer", "uint"], 0, nine, 9), 0xcbf43926n);
  assert.equal(z.call("crc32", "u64", ["u64", "pointer", "u32"], 0, src, size), BigInt(nodeCrc32(data)));
});

Deno.test("libsqlite3: in-memory database, sqlite3_exec with a row callback and prepared statements", () => {
  using sq = ffi.load("libsqlite3.so.0");
  using arena = ffi.arena();
  const SQLITE_OK = 0, SQLITE_ROW = 100, SQLITE_DONE = 101;
  const dbOut = arena.allocType("pointer");
  assert.equal(sq.call("sqlite3_open", "int", ["string", "pointer"], ":memory:", dbOut), SQLITE_OK);
  const db = dbOut.read(0, "pointer") as ffi.RawPointer;
  assert.equal(db.isNull, false);
  const errmsg = (): string | null => sq.call("sqlite3_errmsg", "string", ["pointer"], db) as string | null;
  try {
    const exec = sq.fn("sqlite3_exec", "int", ["pointer", "string", "pointer", "pointer", "pointer"]);
    const ok = (rc: unknown) => assert.equal(rc, SQLITE_OK, errmsg() ?? "");
    ok(exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, big INTEGER)", null, null, null));

    /** sqlite3_prepare_v2 of `sql`, checked: its statement. */
    const prepare = (sql: string): ffi.RawPointer => {
      const out = arena.allocType("pointer");
      ok(
        sq.call(
          "sqlite3_prepare_v2",
          "int",
          ["pointer", "string", "int", "pointer", "pointer"],
          db,
          sql,
          -1,
          out,
          null,
        ),
      );
      return out.read(0, "pointer") as ffi.RawPointer;
    };

    const stmt = prepare("INSERT INTO t (name, big) VALUES (?, ?)");
    const TRANSIENT = Deno.UnsafePointer.create(0xffff_ffff_ffff_ffffn); // SQLITE_TRANSIENT: sqlite copies the text
    const rows: [string, bigint][] = [["ada", 2n ** 62n + 1n], ["grace", -(2n ** 40n)], ["ünïcode ✓", 0n]];
    for (const [name, big] of rows) {
      ok(
        sq.call(
          "sqlite3_bind_text",
          "int",
          ["pointer", "int", "string", "int", "pointer"],
          stmt,
          1,
          name,
          -1,
          TRANSIENT,
        ),
      );
      ok(sq.call("sqlite3_bind_int64", "int", ["pointer", "int", "i64"], stmt, 2, big));
      assert.equal(sq.call("sqlite3_step", "int", ["pointer"], stmt), SQLITE_DONE, errmsg() ?? "");
      ok(sq.call("sqlite3_reset", "int", ["pointer"], stmt));
    }
    ok(sq.call("sqlite3_finalize", "int", ["pointer"], stmt));

    // sqlite3_exec calls back once per row with the values and column names as char*[].
    const seen: Record<string, string | null>[] = [];
    using onRow = ffi.callback(
      (_ctx: ffi.RawPointer, n: number, values: ffi.RawPointer, names: ffi.RawPointer) => {
        const row: Record<string, string | null> = {};
        for (let i = 0; i < n; i++) {
          row[names.read(i * 8, "string") as string] = values.read(i * 8, "string") as string | null;
        }
        seen.push(row);
        return 0;
      },
      "int",
      ["pointer", "int", "pointer", "pointer"],
    );
    ok(exec(db, "SELECT id, name, big FROM t ORDER BY id", onRow, null, null));
    assert.deepEqual(seen, rows.map(([name, big], i) => ({ id: String(i + 1), name, big: String(big) })));

    // Prepared statement: 64-bit integer and text columns.
    const q = prepare("SELECT name, big FROM t WHERE big <> ? ORDER BY id");
    ok(sq.call("sqlite3_bind_int64", "int", ["pointer", "int", "i64"], q, 1, 0));
    const step = sq.fn("sqlite3_step", "int", ["pointer"]);
    const text = sq.fn("sqlite3_column_text", "string", ["pointer", "int"]);
    const int64 = sq.fn("sqlite3_column_int64", "i64", ["pointer", "int"]);
    const got: [unknown, unknown][] = [];
    while (step(q) === SQLITE_ROW) got.push([text(q, 0), int64(q, 1)]);
    assert.deepEqual(got, rows.slice(0, 2));
    ok(sq.call("sqlite3_finalize", "int", ["pointer"], q));

    // Calls with string arguments inside the callback, while sqlite3_exec still reads its SQL text
    // (the second statement is parsed after the first one's rows are delivered).
    using libc = ffi.load("libc.so.6");
    const strlen = libc.fn("strlen", "usize", ["string"]);
    const lengths: bigint[] = [];
    using nested = ffi.callback(
      (_c: ffi.RawPointer, _n: number, values: ffi.RawPointer) => {
        lengths.push(
          strlen(values.read(0, "string") as string) as bigint,
          strlen("z".repeat(70_000)) as bigint,
        );
        return 0;
      },
      "int",
      ["pointer", "int", "pointer", "pointer"],
    );
    ok(exec(db, "SELECT 'first row';   SELECT 'second';", nested, null, null));
    assert.deepEqual(lengths, [9n, 70_000n, 6n, 70_000n]);

    // An exception in the row callback: sqlite3_exec gets 0 ("continue"), and the error is rethrown.
    const stop = new Error("stop reading rows");
    using failing = ffi.callback(
      () => {
        throw stop;
      },
      "int",
      ["pointer", "int", "pointer", "pointer"],
    );
    assert.throws(() => exec(db, "SELECT * FROM t", failing, null, null), (e: unknown) => e === stop);
  } finally {
    assert.equal(sq.call("sqlite3_close", "int", ["pointer"], db), SQLITE_OK);
  }
});
