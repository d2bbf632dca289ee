/**
 * Real C-library workflows through the public API only, as a systems programmer porting C code would
 * write them: zlib streaming with a `z_stream`, sqlite3 prepared statements and callbacks, libc and libm
 * out-parameters, variadics, data symbols, structs by value, and object lifetimes.
 */
import * as ffi from "../mod.ts";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { Tm } from "./_fixture.ts";

const LIBC = "libc.so.6";
const LIBM = "libm.so.6";
const LIBZ = "libz.so.1";
const LIBSQLITE = "libsqlite3.so.0";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Bytes of a managed pointer region. */
function bytesAt(p: ffi.RawPointer, n: number): Uint8Array {
  const t = ffi.cast(p, "u8", n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = t.get(i);
  return out;
}

/** Copies bytes into managed memory at `p`. */
function putBytes(p: ffi.RawPointer, bytes: Uint8Array): void {
  const t = ffi.cast(p, "u8", bytes.length);
  for (let i = 0; i < bytes.length; i++) t[i] = bytes[i];
}

/** A NUL-terminated UTF-8 copy of `s` in `arena`. */
function cstr(arena: ffi.Arena, s: string): ffi.RawPointer {
  const b = enc.encode(s);
  const p = arena.alloc(b.length + 1);
  putBytes(p, b);
  return p;
}

/** Deterministic, compressible but not trivial test data. */
function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (i % 97 < 60) ? 65 + (i % 26) : (x >> 16) & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// zlib
// ---------------------------------------------------------------------------------------------------

const ZStream = ffi.struct([
  ["next_in", "pointer"],
  ["avail_in", "u32"],
  ["total_in", "u64"],
  ["next_out", "pointer"],
  ["avail_out", "u32"],
  ["total_out", "u64"],
  ["msg", "string"],
  ["state", "pointer"],
  ["zalloc", "pointer"],
  ["zfree", "pointer"],
  ["opaque", "pointer"],
  ["data_type", "i32"],
  ["adler", "u64"],
  ["reserved", "u64"],
]);

const Z_OK = 0, Z_STREAM_END = 1, Z_DATA_ERROR = -3, Z_BUF_ERROR = -5;
const Z_NO_FLUSH = 0, Z_FINISH = 4;

Deno.test("zlib: z_stream layout matches the C ABI (sizeof 112 on x86_64)", () => {
  assert.equal(ZStream.size, 112);
  assert.equal(ZStream.alignment, 8);
  assert.equal(ZStream.offsetOf("avail_in"), 8);
  assert.equal(ZStream.offsetOf("total_in"), 16);
  assert.equal(ZStream.offsetOf("msg"), 48);
  assert.equal(ZStream.offsetOf("data_type"), 88);
  assert.equal(ZStream.offsetOf("adler"), 96);
  assert.equal(ZStream.fieldCount, 14);
});

/** Streams `input` through deflate in `inChunk`-byte input pieces and `outChunk`-byte output windows. */
function zDeflate(
  z: ffi.Library,
  input: Uint8Array,
  inChunk: number,
  outChunk: number,
  level = 6,
): Uint8Array {
  using arena = ffi.arena();
  const version = z.call("zlibVersion", "string", []);
  assert.ok(version && /^1\./.test(version));
  const strm = ffi.view(arena.allocType(ZStream), ZStream);
  const rc = z.call(
    "deflateInit_",
    "i32",
    ["pointer", "i32", "string", "i32"],
    strm,
    level,
    version,
    ZStream.size,
  );
  assert.equal(rc, Z_OK);
  const inBuf = arena.alloc(inChunk);
  const outBuf = arena.alloc(outChunk);
  const deflate = z.fn("deflate", "i32", ["pointer", "i32"]);
  const parts: Uint8Array[] = [];
  let pos = 0;
  let ret = Z_OK;
  do {
    const n = Math.min(inChunk, input.length - pos);
    putBytes(inBuf, input.subarray(pos, pos + n));
    pos += n;
    strm.next_in = inBuf;
    strm.avail_in = n;
    const flush = pos >= input.length ? Z_FINISH : Z_NO_FLUSH;
    do {
      strm.next_out = outBuf;
      strm.avail_out = outChunk;
      ret = deflate(strm, flush);
      assert.ok(ret === Z_OK || ret === Z_STREAM_END || ret === Z_BUF_ERROR, `deflate returned ${ret}`);
      const have = outChunk - strm.avail_out;
      parts.push(bytesAt(outBuf, have));
    } while (strm.avail_out === 0);
    assert.equal(strm.avail_in, 0);
  } while (ret !== Z_STREAM_END);
  assert.equal(strm.total_in, BigInt(input.length));
  const adler = strm.adler;
  assert.equal(z.call("deflateEnd", "i32", ["pointer"], strm), Z_OK);
  assert.equal(strm.state.isNull, true);
  // The adler field is the adler32 of the whole input.
  assert.equal(
    adler,
    z.call("adler32", "u64", ["u64", "pointer", "u32"], 1, new ZBytes(input).p, input.length),
  );
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  assert.equal(strm.total_out, BigInt(out.length));
  return out;
}

/** Input bytes held in a Buffer (managed native memory). */
class ZBytes {
  readonly buf: ffi.Buffer;
  constructor(bytes: Uint8Array) {
    this.buf = ffi.buffer(Math.max(1, bytes.length));
    this.buf.writeBytes(0, bytes);
  }
  get p(): ffi.RawPointer {
    return ffi.toRaw(this.buf);
  }
}

function zInflate(z: ffi.Library, input: Uint8Array, inChunk: number, outChunk: number): Uint8Array {
  using arena = ffi.arena();
  const version = z.call("zlibVersion", "string", []);
  const strm = ffi.view(arena.allocType(ZStream), ZStream);
  assert.equal(
    z.call("inflateInit_", "i32", ["pointer", "string", "i32"], strm, version, ZStream.size),
    Z_OK,
  );
  const inBuf = arena.alloc(inChunk);
  const outBuf = arena.alloc(outChunk);
  const inflate = z.fn("inflate", "i32", ["pointer", "i32"]);
  const parts: number[] = [];
  let pos = 0;
  let ret = Z_OK;
  while (ret !== Z_STREAM_END) {
    const n = Math.min(inChunk, input.length - pos);
    assert.ok(n > 0, "ran out of input before Z_STREAM_END");
    putBytes(inBuf, input.subarray(pos, pos + n));
    pos += n;
    strm.next_in = inBuf;
    strm.avail_in = n;
    do {
      strm.next_out = outBuf;
      strm.avail_out = outChunk;
      ret = inflate(strm, Z_NO_FLUSH);
      assert.ok(ret === Z_OK || ret === Z_STREAM_END || ret === Z_BUF_ERROR, `inflate returned ${ret}`);
      const have = outChunk - strm.avail_out;
      for (const b of bytesAt(outBuf, have)) parts.push(b);
    } while (strm.avail_out === 0 && ret !== Z_STREAM_END);
  }
  assert.equal(z.call("inflateEnd", "i32", ["pointer"], strm), Z_OK);
  return Uint8Array.from(parts);
}

Deno.test("zlib: streaming deflate/inflate in small chunks agrees with node:zlib", () => {
  using z = ffi.load(LIBZ);
  const input = sample(50_000);
  const compressed = zDeflate(z, input, 4096, 1000);
  assert.ok(compressed.length < input.length);
  // Same algorithm, same level, same zlib-format: node:zlib decompresses ours and vice versa.
  assert.deepEqual(new Uint8Array(zlib.inflateSync(compressed)), input);
  const theirs = new Uint8Array(zlib.deflateSync(input, { level: 6 }));
  assert.deepEqual(zInflate(z, theirs, 777, 513), input);
  assert.deepEqual(zInflate(z, compressed, 100, 4096), input);
  // Empty input still yields a valid stream.
  const empty = zDeflate(z, new Uint8Array(0), 16, 64);
  assert.deepEqual(new Uint8Array(zlib.inflateSync(empty)), new Uint8Array(0));
});

Deno.test("zlib: inflate of garbage reports Z_DATA_ERROR and msg is a readable char*", () => {
  using z = ffi.load(LIBZ);
  using arena = ffi.arena();
  const strm = ffi.view(arena.allocType(ZStream), ZStream);
  const version = z.call("zlibVersion", "string", []);
  assert.equal(
    z.call("inflateInit_", "i32", ["pointer", "string", "i32"], strm, version, ZStream.size),
    Z_OK,
  );
  assert.equal(strm.msg, null);
  const garbage = ffi.buffer(16);
  garbage.writeBytes(0, [0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const out = arena.alloc(64);
  strm.next_in = garbage;
  strm.avail_in = 16;
  strm.next_out = out;
  strm.avail_out = 64;
  assert.equal(z.call("inflate", "i32", ["pointer", "i32"], strm, Z_NO_FLUSH), Z_DATA_ERROR);
  const msg: unknown = ffi.view(ffi.toRaw(strm), ZStream).msg; // (strm.msg was narrowed to null above)
  assert.equal(typeof msg, "string");
  assert.match(msg as string, /invalid|incorrect|unknown/);
  z.call("inflateEnd", "i32", ["pointer"], strm);
});

Deno.test("zlib: custom zalloc/zfree callbacks backed by libc malloc/free", () => {
  using z = ffi.load(LIBZ);
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const malloc = libc.fn("malloc", "pointer", ["usize"]);
  const free = libc.fn("free", "void", ["pointer"]);
  const live = new Map<number, number>();
  let opaqueSeen = 0;
  const token = arena.alloc(8);
  using zalloc = ffi.callback(
    (opaque: ffi.RawPointer, items: number, size: number) => {
      opaqueSeen = opaque.addr;
      const p = malloc(items * size);
      live.set(p.addr, items * size);
      return p;
    },
    "pointer",
    ["pointer", "u32", "u32"],
  );
  using zfree = ffi.callback(
    (_opaque: ffi.RawPointer, addr: ffi.RawPointer) => {
      assert.ok(live.has(addr.addr), "zfree of a pointer zalloc did not hand out");
      live.delete(addr.addr);
      free(addr);
    },
    "void",
    ["pointer", "pointer"],
  );
  const strm = ffi.view(arena.allocType(ZStream), ZStream);
  strm.zalloc = zalloc.ptr;
  strm.zfree = zfree;
  strm.opaque = token;
  const version = z.call("zlibVersion", "string", []);
  assert.equal(
    z.call("deflateInit_", "i32", ["pointer", "i32", "string", "i32"], strm, 9, version, ZStream.size),
    0,
  );
  assert.ok(live.size > 0);
  assert.equal(opaqueSeen, token.addr);
  const input = new ZBytes(sample(10_000));
  const out = arena.alloc(20_000);
  strm.next_in = input.buf;
  strm.avail_in = 10_000;
  strm.next_out = out;
  strm.avail_out = 20_000;
  assert.equal(z.call("deflate", "i32", ["pointer", "i32"], strm, Z_FINISH), Z_STREAM_END);
  const n = Number(strm.total_out);
  assert.equal(z.call("deflateEnd", "i32", ["pointer"], strm), Z_OK);
  assert.equal(live.size, 0, "every zalloc'd block was zfree'd");
  assert.deepEqual(new Uint8Array(zlib.inflateSync(bytesAt(out, n))), sample(10_000));
});

Deno.test("zlib: one-shot compress2/uncompress with size_t-like uLongf* out params, crc32, adler32", () => {
  using z = ffi.load(LIBZ);
  using arena = ffi.arena();
  const input = sample(3000);
  const src = new ZBytes(input);
  const bound = z.call("compressBound", "u64", ["u64"], input.length);
  assert.ok(bound >= BigInt(input.length));
  const dst = arena.alloc(Number(bound));
  const dstLen = arena.allocType("u64");
  dstLen.write(0, "u64", bound);
  assert.equal(
    z.call(
      "compress2",
      "i32",
      ["pointer", "pointer", "pointer", "u64", "i32"],
      dst,
      dstLen,
      src.buf,
      input.length,
      9,
    ),
    Z_OK,
  );
  const clen = Number(dstLen.read(0, "u64"));
  const back = arena.alloc(input.length);
  const backLen = arena.allocType("ulong");
  backLen.write(0, "ulong", input.length);
  assert.equal(
    z.call("uncompress", "i32", ["pointer", "pointer", "pointer", "u64"], back, backLen, dst, clen),
    Z_OK,
  );
  assert.equal(backLen.read(0, "u64"), BigInt(input.length));
  assert.deepEqual(bytesAt(back, input.length), input);
  // A too-small destination is Z_BUF_ERROR.
  backLen.write(0, "u64", 10);
  assert.equal(
    z.call("uncompress", "i32", ["pointer", "pointer", "pointer", "u64"], back, backLen, dst, clen),
    Z_BUF_ERROR,
  );

  // crc32 against node:zlib, and crc32_combine of two halves.
  const crc = z.fn("crc32", "u64", ["u64", "pointer", "u32"]);
  const whole = crc(0, src.buf, input.length);
  assert.equal(whole, BigInt(zlib.crc32(input)));
  const a = crc(0, src.buf, 1000);
  const b = crc(0, ffi.toRaw(src.buf).add(1000), 2000);
  assert.equal(z.call("crc32_combine", "u64", ["u64", "u64", "i64"], a, b, 2000), whole);
  // crc32 with Z_NULL buffer returns the initial value.
  assert.equal(crc(0, null, 0), 0n);
  // adler32 of "Wikipedia" is 0x11E60398.
  const wiki = ffi.buffer(9);
  wiki.writeString(0, "Wikipedi");
  wiki.write(8, "u8", "a".charCodeAt(0));
  assert.equal(z.call("adler32", "u64", ["u64", "pointer", "u32"], 1, wiki, 9), 0x11E60398n);
  const ad1 = z.call("adler32", "u64", ["u64", "pointer", "u32"], 1, wiki, 4);
  const ad2 = z.call("adler32", "u64", ["u64", "pointer", "u32"], 1, wiki.slice(4, 5), 5);
  assert.equal(z.call("adler32_combine", "u64", ["u64", "u64", "i64"], ad1, ad2, 5n), 0x11E60398n);
  // zError maps codes to messages.
  assert.equal(z.call("zError", "string", ["i32"], Z_DATA_ERROR), "data error");
});

// ---------------------------------------------------------------------------------------------------
// sqlite3
// ---------------------------------------------------------------------------------------------------

const SQLITE_OK = 0, SQLITE_ERROR = 1, SQLITE_ABORT = 4, SQLITE_ROW = 100, SQLITE_DONE = 101;
const SQLITE_INTEGER = 1, SQLITE_FLOAT = 2, SQLITE_TEXT = 3, SQLITE_BLOB = 4, SQLITE_NULL = 5;
const SQLITE_OPEN_READWRITE = 2, SQLITE_OPEN_CREATE = 4, SQLITE_UTF8 = 1, SQLITE_DETERMINISTIC = 0x800;

function openDb(sq: ffi.Library, arena: ffi.Arena): ffi.RawPointer {
  const pdb = arena.allocType("pointer");
  const rc = sq.call(
    "sqlite3_open_v2",
    "i32",
    ["string", "pointer", "i32", "string"],
    ":memory:",
    pdb,
    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
    null,
  );
  assert.equal(rc, SQLITE_OK);
  const db = pdb.read(0, "pointer");
  assert.equal(db.isNull, false);
  assert.equal(db.isManaged, false);
  return db;
}

function execOk(sq: ffi.Library, db: ffi.RawPointer, sql: string): void {
  const rc = sq.call(
    "sqlite3_exec",
    "i32",
    ["pointer", "string", "pointer", "pointer", "pointer"],
    db,
    sql,
    null,
    null,
    null,
  );
  assert.equal(rc, SQLITE_OK, sq.call("sqlite3_errmsg", "string", ["pointer"], db) ?? "");
}

/** sqlite3_prepare_v2 of `sql` (a JS string, NUL-terminated): its result code and its statement. */
function prepareStmt(
  sq: ffi.Library,
  arena: ffi.Arena,
  db: ffi.RawPointer,
  sql: string,
): [number, ffi.RawPointer] {
  const pstmt = arena.allocType("pointer");
  const rc = sq.call(
    "sqlite3_prepare_v2",
    "i32",
    ["pointer", "string", "i32", "pointer", "pointer"],
    db,
    sql,
    -1,
    pstmt,
    null,
  );
  return [rc, pstmt.read(0, "pointer")];
}

Deno.test("sqlite3: prepared statements with every bind type, tail pointer, column types", () => {
  using sq = ffi.load(LIBSQLITE);
  using arena = ffi.arena();
  const db = openDb(sq, arena);
  try {
    // Two statements in one managed buffer: the tail pointer points into it.
    const sqlText = "CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n); SELECT 1;";
    const sqlBytes = enc.encode(sqlText);
    const sql = arena.alloc(sqlBytes.length + 1);
    putBytes(sql, sqlBytes);
    const pstmt = arena.allocType("pointer");
    const ptail = arena.allocType("pointer");
    const prepare = sq.fn("sqlite3_prepare_v2", "i32", ["pointer", "pointer", "i32", "pointer", "pointer"]);
    assert.equal(prepare(db, sql, -1, pstmt, ptail), SQLITE_OK);
    const tail = ptail.read(0, "pointer");
    assert.equal(tail.addr - sql.addr, sqlText.indexOf(";") + 1);
    assert.equal(ffi.read(ptail, 0, "string"), " SELECT 1;");
    const step = sq.fn("sqlite3_step", "i32", ["pointer"]);
    const finalize = sq.fn("sqlite3_finalize", "i32", ["pointer"]);
    let st = pstmt.read(0, "pointer");
    assert.equal(step(st), SQLITE_DONE);
    assert.equal(finalize(st), SQLITE_OK);

    // INSERT with bind_* (SQLITE_TRANSIENT is (void*)-1).
    assert.equal(
      prepare(db, cstr(arena, "INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5)"), -1, pstmt, null),
      SQLITE_OK,
    );
    st = pstmt.read(0, "pointer");
    const big = 2n ** 62n + 12345n; // beyond 2^53
    assert.equal(sq.call("sqlite3_bind_int64", "i32", ["pointer", "i32", "i64"], st, 1, big), SQLITE_OK);
    assert.equal(sq.call("sqlite3_bind_double", "i32", ["pointer", "i32", "f64"], st, 2, Math.PI), SQLITE_OK);
    // The destructor argument is a pointer in C; (void*)-1 cannot be made with ffi.ptr (addresses stop
    // at 2^53), so it is passed as an isize -1, which has the same ABI representation.
    const SQLITE_TRANSIENT = -1;
    assert.equal(
      sq.call(
        "sqlite3_bind_text",
        "i32",
        ["pointer", "i32", "string", "i32", "isize"],
        st,
        3,
        "héllo ✓",
        -1,
        SQLITE_TRANSIENT,
      ),
      SQLITE_OK,
    );
    const blob = Uint8Array.from([0, 1, 2, 0xff, 0, 7]);
    const blobBuf = ffi.buffer(blob.length);
    blobBuf.writeBytes(0, blob);
    assert.equal(
      sq.call(
        "sqlite3_bind_blob",
        "i32",
        ["pointer", "i32", "pointer", "i32", "isize"],
        st,
        4,
        blobBuf,
        blob.length,
        -1,
      ),
      SQLITE_OK,
    );
    assert.equal(sq.call("sqlite3_bind_null", "i32", ["pointer", "i32"], st, 5), SQLITE_OK);
    // Out of range bind index is SQLITE_RANGE (25).
    assert.equal(sq.call("sqlite3_bind_null", "i32", ["pointer", "i32"], st, 6), 25);
    assert.equal(step(st), SQLITE_DONE);
    assert.equal(finalize(st), SQLITE_OK);
    assert.equal(sq.call("sqlite3_last_insert_rowid", "i64", ["pointer"], db), 1n);
    assert.equal(sq.call("sqlite3_changes", "i32", ["pointer"], db), 1);

    // SELECT it back with column_*.
    assert.equal(
      prepare(db, cstr(arena, "SELECT i, r, s, b, n, i % 1000 FROM t"), -1, pstmt, null),
      SQLITE_OK,
    );
    st = pstmt.read(0, "pointer");
    assert.equal(sq.call("sqlite3_column_count", "i32", ["pointer"], st), 6);
    assert.equal(sq.call("sqlite3_column_name", "string", ["pointer", "i32"], st, 2), "s");
    assert.equal(step(st), SQLITE_ROW);
    const ctype = sq.fn("sqlite3_column_type", "i32", ["pointer", "i32"]);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => ctype(st, i)), [
      SQLITE_INTEGER,
      SQLITE_FLOAT,
      SQLITE_TEXT,
      SQLITE_BLOB,
      SQLITE_NULL,
    ]);
    assert.equal(sq.call("sqlite3_column_int64", "i64", ["pointer", "i32"], st, 0), big);
    assert.equal(sq.call("sqlite3_column_int64", "i64", ["pointer", "i32"], st, 5), big % 1000n);
    assert.equal(sq.call("sqlite3_column_double", "f64", ["pointer", "i32"], st, 1), Math.PI);
    assert.equal(sq.call("sqlite3_column_text", "string", ["pointer", "i32"], st, 2), "héllo ✓");
    assert.equal(
      sq.call("sqlite3_column_bytes", "i32", ["pointer", "i32"], st, 2),
      enc.encode("héllo ✓").length,
    );
    const bp = sq.call("sqlite3_column_blob", "pointer", ["pointer", "i32"], st, 3);
    const bn = sq.call("sqlite3_column_bytes", "i32", ["pointer", "i32"], st, 3);
    assert.equal(bn, blob.length);
    const bview = ffi.cast(bp, "u8", bn);
    assert.equal(bview.count, bn);
    assert.deepEqual(Array.from({ length: bn }, (_, i) => bview[i]), Array.from(blob));
    assert.equal(sq.call("sqlite3_column_text", "string", ["pointer", "i32"], st, 4), null);
    assert.equal(sq.call("sqlite3_column_blob", "pointer", ["pointer", "i32"], st, 4).isNull, true);
    assert.equal(step(st), SQLITE_DONE);
    assert.equal(finalize(st), SQLITE_OK);

    // Errors: a syntax error gives SQLITE_ERROR, errmsg names the problem, stmt stays NULL.
    pstmt.write(0, "pointer", ffi.ptr(0x1000));
    assert.equal(prepare(db, cstr(arena, "SELEKT 1"), -1, pstmt, null), SQLITE_ERROR);
    assert.equal(pstmt.read(0, "pointer").isNull, true);
    assert.match(sq.call("sqlite3_errmsg", "string", ["pointer"], db) ?? "", /syntax error/);
    assert.equal(sq.call("sqlite3_errcode", "i32", ["pointer"], db), SQLITE_ERROR);
    assert.equal(sq.call("sqlite3_errstr", "string", ["i32"], SQLITE_ABORT), "query aborted");
    // finalize(NULL) is a harmless no-op.
    assert.equal(finalize(null), SQLITE_OK);
  } finally {
    assert.equal(sq.call("sqlite3_close_v2", "i32", ["pointer"], db), SQLITE_OK);
  }
});

Deno.test("sqlite3: bind_text with an all-ones destructor pointer given as a Deno pointer value", () => {
  // The C type is a pointer; the API accepts Deno pointer values for pointer arguments.
  using sq = ffi.load(LIBSQLITE);
  using arena = ffi.arena();
  const db = openDb(sq, arena);
  const [, st] = prepareStmt(sq, arena, db, "SELECT ?1");
  const transient = Deno.UnsafePointer.create(0xffff_ffff_ffff_ffffn);
  assert.equal(
    sq.call(
      "sqlite3_bind_text",
      "i32",
      ["pointer", "i32", "string", "i32", "pointer"],
      st,
      1,
      "temp",
      -1,
      transient,
    ),
    SQLITE_OK,
  );
  assert.equal(sq.call("sqlite3_step", "i32", ["pointer"], st), SQLITE_ROW);
  assert.equal(sq.call("sqlite3_column_text", "string", ["pointer", "i32"], st, 0), "temp");
  sq.call("sqlite3_finalize", "i32", ["pointer"], st);
  sq.call("sqlite3_close_v2", "i32", ["pointer"], db);
});

Deno.test("sqlite3: exec callback reads char** arrays, user data passes through, abort and throw", () => {
  using sq = ffi.load(LIBSQLITE);
  using arena = ffi.arena();
  const db = openDb(sq, arena);
  execOk(
    sq,
    db,
    "CREATE TABLE p(name TEXT, age INTEGER); INSERT INTO p VALUES('ann', 31), ('bob', NULL), ('cé', 7);",
  );
  const exec = sq.fn("sqlite3_exec", "i32", ["pointer", "string", "pointer", "pointer", "pointer"]);
  const userData = arena.alloc(4);
  userData.write(0, "i32", 0);
  const rows: Record<string, string | null>[] = [];
  using cb = ffi.callback(
    (ud: ffi.RawPointer, n: number, values: ffi.RawPointer, names: ffi.RawPointer) => {
      assert.equal(ud.addr, userData.addr);
      // The pointer C passes back is the managed one's address: count calls through it.
      ffi.write(ffi.ptr(ud.addr), 0, "i32", (ffi.read(ffi.ptr(ud.addr), 0, "i32") as number) + 1);
      const vs = ffi.cast(values, "string", n);
      const ns = ffi.cast(names, "string", n);
      const row: Record<string, string | null> = {};
      for (let i = 0; i < n; i++) row[ns.get(i) as string] = vs.get(i);
      rows.push(row);
      return 0;
    },
    "i32",
    ["pointer", "i32", "pointer", "pointer"],
  );
  assert.equal(cb.argCount, 4);
  assert.equal(exec(db, "SELECT name, age FROM p ORDER BY rowid", cb, userData, null), SQLITE_OK);
  assert.deepEqual(rows, [{ name: "ann", age: "31" }, { name: "bob", age: null }, { name: "cé", age: "7" }]);
  assert.equal(userData.read(0, "i32"), 3);

  // Returning non-zero aborts; errmsg out-param is a char* allocated by sqlite (freed with sqlite3_free).
  let calls = 0;
  using stopper = ffi.callback(() => ++calls >= 2 ? 1 : 0, "i32", ["pointer", "i32", "pointer", "pointer"]);
  const perr = arena.allocType("pointer");
  assert.equal(exec(db, "SELECT * FROM p", stopper, null, perr), SQLITE_ABORT);
  assert.equal(calls, 2);
  const errp = perr.read(0, "pointer");
  assert.equal(errp.isNull, false);
  assert.equal(ffi.read(perr, 0, "string"), "query aborted");
  sq.call("sqlite3_free", "void", ["pointer"], errp);

  // An exception in the callback: C sees 0 (continue), and the same error surfaces from the outer call.
  const boom = new Error("boom from exec callback");
  using thrower = ffi.callback(
    () => {
      throw boom;
    },
    "i32",
    ["pointer", "i32", "pointer", "pointer"],
  );
  assert.throws(() => exec(db, "SELECT * FROM p", thrower, null, null), (e) => e === boom);
  assert.throws(
    () =>
      sq.call(
        "sqlite3_exec",
        "i32",
        ["pointer", "string", "pointer", "pointer", "pointer"],
        db,
        "SELECT 1",
        thrower,
        null,
        null,
      ),
    (e) => e === boom,
  );
  // Afterwards the connection and the callbacks still work.
  rows.length = 0;
  assert.equal(exec(db, "SELECT name FROM p WHERE age = 7", cb, userData, null), SQLITE_OK);
  assert.deepEqual(rows, [{ name: "cé" }]);
  assert.equal(sq.call("sqlite3_close_v2", "i32", ["pointer"], db), SQLITE_OK);
});

Deno.test("sqlite3: create_function_v2 with a JS scalar function calling back into sqlite", () => {
  using sq = ffi.load(LIBSQLITE);
  using arena = ffi.arena();
  const db = openDb(sq, arena);
  const valueInt64 = sq.fn("sqlite3_value_int64", "i64", ["pointer"]);
  const valueType = sq.fn("sqlite3_value_type", "i32", ["pointer"]);
  const valueText = sq.fn("sqlite3_value_text", "string", ["pointer"]);
  const resultInt64 = sq.fn("sqlite3_result_int64", "void", ["pointer", "i64"]);
  const resultNull = sq.fn("sqlite3_result_null", "void", ["pointer"]);
  const resultText = sq.fn("sqlite3_result_text", "void", ["pointer", "string", "i32", "isize"]);
  const resultError = sq.fn("sqlite3_result_error", "void", ["pointer", "string", "i32"]);
  const userData = sq.fn("sqlite3_user_data", "pointer", ["pointer"]);
  const app = arena.alloc(1);
  let sawApp = false;
  // mul3(a, b, c): product of 64-bit integers; NULL if any argument is NULL.
  using mul = ffi.callback(
    (ctx: ffi.RawPointer, argc: number, argv: ffi.RawPointer) => {
      sawApp = userData(ctx).addr === app.addr;
      const args = ffi.cast(argv, "pointer", argc);
      let acc = 1n;
      for (let i = 0; i < argc; i++) {
        const v = args.get(i);
        if (valueType(v) === SQLITE_NULL) return resultNull(ctx);
        acc = BigInt.asIntN(64, acc * valueInt64(v));
      }
      resultInt64(ctx, acc);
    },
    "void",
    ["pointer", "i32", "pointer"],
  );
  using rev = ffi.callback(
    (ctx: ffi.RawPointer, _argc: number, argv: ffi.RawPointer) => {
      const s = valueText(ffi.cast(argv, "pointer", 1).get(0));
      if (s === "bad") return resultError(ctx, "rev: bad input", -1);
      resultText(ctx, s === null ? null : [...s].reverse().join(""), -1, -1);
    },
    "void",
    ["pointer", "i32", "pointer"],
  );
  let destroyed = 0;
  using destroy = ffi.callback(() => void destroyed++, "void", ["pointer"]);
  const create = sq.fn("sqlite3_create_function_v2", "i32", [
    "pointer",
    "string",
    "i32",
    "i32",
    "pointer",
    "pointer",
    "pointer",
    "pointer",
    "pointer",
  ]);
  assert.equal(
    create(db, "mul3", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, app, mul, null, null, destroy),
    SQLITE_OK,
  );
  assert.equal(create(db, "rev", 1, SQLITE_UTF8, null, rev.ptr, null, null, null), SQLITE_OK);

  const query = (sql: string) => {
    const [rc, st] = prepareStmt(sq, arena, db, sql);
    assert.equal(rc, SQLITE_OK);
    try {
      const rc = sq.call("sqlite3_step", "i32", ["pointer"], st);
      const type = rc === SQLITE_ROW ? sq.call("sqlite3_column_type", "i32", ["pointer", "i32"], st, 0) : -1;
      const value = type === SQLITE_INTEGER
        ? sq.call("sqlite3_column_int64", "i64", ["pointer", "i32"], st, 0)
        : type === SQLITE_TEXT
        ? sq.call("sqlite3_column_text", "string", ["pointer", "i32"], st, 0)
        : null;
      return { rc, value };
    } finally {
      sq.call("sqlite3_finalize", "i32", ["pointer"], st);
    }
  };
  assert.deepEqual(query("SELECT mul3(3, 4000000000, 1000000)"), {
    rc: SQLITE_ROW,
    value: 12_000_000_000_000_000n,
  });
  assert.equal(sawApp, true);
  assert.deepEqual(query("SELECT mul3(3, NULL, 1)"), { rc: SQLITE_ROW, value: null });
  assert.deepEqual(query("SELECT rev('abc✓')"), { rc: SQLITE_ROW, value: "✓cba" });
  assert.deepEqual(query("SELECT rev('bad')").rc, SQLITE_ERROR);
  assert.equal(sq.call("sqlite3_errmsg", "string", ["pointer"], db), "rev: bad input");
  // Sum via SQL over a table of many rows calls back once per row.
  execOk(
    sq,
    db,
    "CREATE TABLE n(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<500) INSERT INTO n SELECT i FROM c;",
  );
  assert.deepEqual(query("SELECT sum(mul3(x, x, 1)) FROM n"), { rc: SQLITE_ROW, value: 41791750n });
  // A JS exception inside the scalar function surfaces from sqlite3_step.
  const oops = new RangeError("scalar oops");
  using bad = ffi.callback(
    () => {
      throw oops;
    },
    "void",
    ["pointer", "i32", "pointer"],
  );
  assert.equal(create(db, "bad", 0, SQLITE_UTF8, null, bad, null, null, null), SQLITE_OK);
  assert.throws(() => query("SELECT bad()"), (e) => e === oops);
  assert.equal(destroyed, 0);
  assert.equal(sq.call("sqlite3_close_v2", "i32", ["pointer"], db), SQLITE_OK);
  assert.equal(destroyed, 1, "xDestroy runs when the connection closes");
});

// ---------------------------------------------------------------------------------------------------
// libc
// ---------------------------------------------------------------------------------------------------

const Rec = ffi.struct([
  ["key", "i32"],
  ["weight", "f64"],
  ["tag", "u8", 8],
]);

Deno.test("libc: qsort and bsearch over an array of structs with struct-view comparators", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  assert.equal(Rec.size, 24);
  const n = 200;
  const base = arena.allocArray(Rec, n);
  const recs = ffi.cast(base, Rec, n);
  assert.equal(recs.count, n);
  assert.equal(recs.stride, 24);
  for (let i = 0; i < n; i++) {
    const r = recs.get(i);
    r.key = (i * 7919) % 1009;
    r.weight = i / 4;
    r.tag = `r${i}`;
  }
  let compares = 0;
  using cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer) => {
      compares++;
      const ka = ffi.view(a, Rec).key as number, kb = ffi.view(b, Rec).key as number;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    },
    "i32",
    ["pointer", "pointer"],
  );
  libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], base, n, Rec.size, cmp);
  assert.ok(compares > n);
  for (let i = 1; i < n; i++) assert.ok((recs.get(i - 1).key as number) <= (recs.get(i).key as number));
  // Each record moved as a whole.
  for (let i = 0; i < n; i++) {
    const r = recs.get(i);
    const orig = Math.round((r.weight as number) * 4);
    assert.equal(r.key, (orig * 7919) % 1009);
    assert.equal(dec.decode(bytesAt(ffi.toRaw(r.tag), 8)).replace(/\0.*$/s, ""), `r${orig}`);
  }
  // bsearch: the key is a struct too; the result points into our array.
  const key = ffi.view(arena.allocType(Rec), Rec);
  const target = recs.get(123).key as number;
  key.key = target;
  const found = libc.call(
    "bsearch",
    "pointer",
    ["pointer", "pointer", "usize", "usize", "pointer"],
    key,
    base,
    n,
    Rec.size,
    cmp,
  );
  assert.equal(found.isNull, false);
  assert.equal((found.addr - base.addr) % Rec.size, 0);
  assert.equal(ffi.view(found, Rec).key, target);
  key.key = -5;
  assert.equal(
    libc.call(
      "bsearch",
      "pointer",
      ["pointer", "pointer", "usize", "usize", "pointer"],
      key,
      base,
      n,
      Rec.size,
      cmp,
    ).isNull,
    true,
  );
  // An exception in the comparator surfaces from qsort and leaves the array a permutation.
  const err = new TypeError("cmp failed");
  using badCmp = ffi.callback(
    () => {
      throw err;
    },
    "i32",
    ["pointer", "pointer"],
  );
  assert.throws(
    () => libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], base, n, Rec.size, badCmp),
    (e) => e === err,
  );
  const keys = new Set(Array.from({ length: n }, (_, i) => Math.round((recs.get(i).weight as number) * 4)));
  assert.equal(keys.size, n);
});

Deno.test("libc: strtol/strtod/strtoull with end-pointer out params into managed memory", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const text = "  -12345xyz 0x1F 3.25e2rest 18446744073709551615";
  const bytes = enc.encode(text);
  const s = arena.alloc(bytes.length + 1);
  putBytes(s, bytes);
  const end = arena.allocType("char*");
  const strtol = libc.fn("strtol", "long", ["pointer", "pointer", "int"]);
  assert.equal(strtol(s, end, 10), -12345n);
  const e1 = end.read(0, "pointer");
  assert.equal(e1.addr - s.addr, text.indexOf("xyz"));
  assert.equal(ffi.read(end, 0, "string")?.slice(0, 3), "xyz");
  assert.equal(strtol(s.add(text.indexOf("0x")), end, 0), 31n);
  const d = libc.call("strtod", "double", ["pointer", "pointer"], s.add(text.indexOf("3.25")), end);
  assert.equal(d, 325);
  assert.equal(end.read(0, "pointer").addr, s.addr + text.indexOf("rest"));
  const u = libc.call("strtoull", "u64", ["pointer", "pointer", "int"], s.add(text.indexOf("1844")), end, 10);
  assert.equal(u, 18446744073709551615n);
  // The end pointer is a managed pointer value; with a JS string argument (a temporary copy) we get the
  // numeric result and the NULL end pointer is allowed.
  assert.equal(libc.call("strtol", "long", ["string", "pointer", "int"], "777", null, 8), 511n);
  assert.equal(libc.call("atoi", "int", ["string"], "  42abc"), 42);
  assert.equal(libc.call("atof", "double", ["char*"], "-0.5"), -0.5);
});

Deno.test("libc: errno via __errno_location, strerror, ERANGE from strtol", () => {
  using libc = ffi.load(LIBC);
  const errnoLoc = libc.fn("__errno_location", "pointer", []);
  const errno = () => errnoLoc().read(0, "i32");
  assert.equal(libc.call("close", "int", ["int"], -1), -1);
  assert.equal(errno(), 9); // EBADF
  assert.equal(libc.call("strerror", "string", ["int"], 9), "Bad file descriptor");
  errnoLoc().write(0, "i32", 0);
  assert.equal(errno(), 0);
  assert.equal(
    libc.call("strtol", "long", ["string", "pointer", "int"], "99999999999999999999999", null, 10),
    2n ** 63n - 1n,
  );
  assert.equal(errno(), 34); // ERANGE
  assert.equal(libc.call("strerror", "char*", ["int"], 34), "Numerical result out of range");
  // strerror_r (GNU) returns a char* that may or may not point into the given buffer.
  const buf = ffi.buffer(128);
  const msg = libc.call("strerror_r", "string", ["int", "pointer", "usize"], 2, buf, 128);
  assert.equal(msg, "No such file or directory");
});

Deno.test("libc: setenv/getenv/unsetenv, environ as a data symbol walked as char**", () => {
  using libc = ffi.load(LIBC);
  const name = `LUNE_FFI_WF_${Deno.pid}`;
  assert.equal(libc.call("getenv", "string", ["string"], name), null);
  assert.equal(libc.call("setenv", "int", ["string", "string", "int"], name, "värde=1", 1), 0);
  assert.equal(libc.call("getenv", "string", ["string"], name), "värde=1");
  assert.equal(Deno.env.get(name), "värde=1");
  assert.equal(libc.call("setenv", "int", ["string", "string", "int"], name, "other", 0), 0);
  assert.equal(libc.call("getenv", "string", ["string"], name), "värde=1");

  assert.equal(libc.hasSymbol("environ"), true);
  const environ = libc.getSymbol("environ");
  assert.ok(environ !== null && !environ.isNull);
  const envp = environ.read(0, "pointer"); // char **environ
  const entries = ffi.cast(envp, "string");
  const seen: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const e = entries.get(i);
    if (e === null) break;
    seen.push(e);
  }
  assert.ok(seen.includes(`${name}=värde=1`));
  assert.ok(seen.some((e) => e.startsWith("PATH=")) === (Deno.env.get("PATH") !== undefined));
  assert.equal(libc.call("unsetenv", "int", ["string"], name), 0);
  assert.equal(libc.call("getenv", "string", ["string"], name), null);
});

Deno.test("libc: listExports sees printf as a function and environ/stdout as data", () => {
  using libc = ffi.load(LIBC);
  const exports = libc.listExports();
  const byName = new Map(exports.map((e) => [e.name, e]));
  assert.equal(byName.get("printf")?.kind, "function");
  assert.equal(byName.get("qsort")?.kind, "function");
  assert.equal(byName.get("environ")?.kind, "data");
  assert.equal(byName.get("stdout")?.kind, "data");
  const printf = byName.get("printf")!;
  assert.equal(printf.address.addr, libc.getSymbol("printf")?.addr);
  // stdout is a FILE*; fileno(stdout) is 1.
  const stdoutVar = libc.getSymbol("stdout")!;
  assert.equal(libc.call("fileno", "int", ["pointer"], stdoutVar.read(0, "pointer")), 1);
  assert.equal(libc.hasSymbol("definitely_not_a_symbol_xyz"), false);
  assert.equal(libc.getSymbol("definitely_not_a_symbol_xyz"), null);
});

Deno.test("libc: time(NULL) and time(&t) agree with Date.now()", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const t = libc.call("time", "i64", ["pointer"], null);
  assert.equal(typeof t, "bigint");
  assert.ok(Math.abs(Number(t) - Date.now() / 1000) < 5);
  const out = arena.allocType("i64");
  const t2 = libc.call("time", "long", ["pointer"], out);
  assert.equal(out.read(0, "i64"), t2);
});

Deno.test("libc: gmtime_r/localtime_r/strftime/mktime with struct tm", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  assert.equal(Tm.size, 56);
  const tt = arena.allocType("time_t" in ffi.PRIMITIVES ? "time_t" : "i64");
  const when = Date.UTC(2024, 1, 29, 13, 45, 30) / 1000;
  tt.write(0, "i64", when);
  const tmp = arena.allocType(Tm);
  const r = libc.call("gmtime_r", "pointer", ["pointer", "pointer"], tt, tmp);
  assert.equal(r.addr, tmp.addr);
  const tm = ffi.view(tmp, Tm);
  assert.deepEqual(
    [tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday, tm.tm_yday],
    [124, 1, 29, 13, 45, 30, 4, 59],
  );
  assert.equal(tm.tm_zone, "GMT");
  assert.equal(tm.tm_gmtoff, 0n);
  const buf = ffi.buffer(64);
  const n = libc.call(
    "strftime",
    "usize",
    ["pointer", "usize", "string", "pointer"],
    buf,
    64,
    "%Y-%m-%dT%H:%M:%S %a %j",
    tm,
  );
  assert.equal(buf.readString(), "2024-02-29T13:45:30 Thu 060");
  assert.equal(n, BigInt(buf.readString().length));
  // Too small a buffer: strftime returns 0.
  assert.equal(
    libc.call(
      "strftime",
      "usize",
      ["pointer", "usize", "string", "pointer"],
      buf.slice(0, 4),
      4,
      "%Y-%m",
      tm,
    ),
    0n,
  );
  // timegm inverts gmtime.
  assert.equal(libc.call("timegm", "i64", ["pointer"], tm), BigInt(when));
  // localtime_r: consistent with its own gmtoff.
  const lt = ffi.view(arena.allocType(Tm), Tm);
  assert.equal(libc.call("localtime_r", "pointer", ["pointer", "pointer"], tt, lt).addr, ffi.toRaw(lt).addr);
  const local = Date.UTC(
    1900 + (lt.tm_year as number),
    lt.tm_mon as number,
    lt.tm_mday as number,
    lt.tm_hour as number,
    lt.tm_min as number,
    lt.tm_sec as number,
  ) / 1000;
  assert.equal(local - Number(lt.tm_gmtoff), when);
  assert.equal(typeof lt.tm_zone, "string");
  assert.equal(libc.call("mktime", "i64", ["pointer"], lt), BigInt(when));
});

Deno.test("libc: memchr/strchr/strstr return pointers into managed memory", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const text = "hello, world";
  const p = arena.alloc(32);
  putBytes(p, enc.encode(text));
  const hit = libc.call("memchr", "pointer", ["pointer", "int", "usize"], p, "w".charCodeAt(0), text.length);
  assert.equal(hit.addr, p.addr + 7);
  assert.equal(hit.read(0, "u8"), "w".charCodeAt(0));
  assert.equal(
    libc.call("memchr", "pointer", ["pointer", "int", "usize"], p, "z".charCodeAt(0), text.length).isNull,
    true,
  );
  // memchr with the length limit stops before the match.
  assert.equal(
    libc.call("memchr", "pointer", ["pointer", "int", "usize"], p, "w".charCodeAt(0), 7).isNull,
    true,
  );
  const comma = libc.call("strchr", "pointer", ["pointer", "int"], p, ",".charCodeAt(0));
  assert.equal(comma.addr - p.addr, 5);
  const sub = libc.call("strstr", "string", ["pointer", "string"], p, "wor");
  assert.equal(sub, "world");
  assert.equal(libc.call("strlen", "usize", ["pointer"], p), BigInt(text.length));
  // memset/memcpy/memcmp on managed memory.
  const q = arena.alloc(32);
  libc.call("memcpy", "pointer", ["pointer", "pointer", "usize"], q, p, 13);
  assert.equal(libc.call("memcmp", "int", ["pointer", "pointer", "usize"], p, q, 13), 0);
  libc.call("memset", "pointer", ["pointer", "int", "usize"], q.add(5), 0x41, 3);
  assert.equal(ffi.read(ffi.cast(q, "u8"), 0, "u8"), "h".charCodeAt(0));
  assert.equal(dec.decode(bytesAt(q, 12)), "helloAAAorld");
  assert.ok(libc.call("memcmp", "int", ["pointer", "pointer", "usize"], p, q, 13) < 0); // ',' < 'A'
});

Deno.test("libc: snprintf/sprintf with many mixed variadic arguments", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const buf = arena.alloc(256);
  const target = arena.alloc(8);
  const n = libc.call(
    "snprintf",
    "int",
    [
      "pointer",
      "usize",
      "string",
      "i32",
      "i64",
      "f64",
      "string",
      "pointer",
      "u32",
      "f64",
      "i32",
      "i64",
      "f64",
      "f64",
      "f64",
      "i32",
    ],
    buf,
    256,
    "%d|%lld|%.3f|%s|%p|%x|%g|%c|%lld|%.1f|%.1f|%.1f|%d",
    -7,
    -(2n ** 62n),
    Math.E,
    "ünï",
    target,
    0xdeadbeef,
    1e-10,
    0x41,
    9007199254740993n,
    1.5,
    2.5,
    3.5,
    42,
  );
  const s = ffi.read(ffi.cast(buf, "u8"), 0, "u8") ? dec.decode(bytesAt(buf, n)) : "";
  const expected = `-7|-4611686018427387904|2.718|ünï|0x${
    target.addr.toString(16)
  }|deadbeef|1e-10|A|9007199254740993|1.5|2.5|3.5|42`;
  assert.equal(s, expected);
  assert.equal(n, enc.encode(expected).length);
  // Truncation: snprintf returns the length it would have written.
  const small = arena.alloc(8);
  assert.equal(
    libc.call("snprintf", "int", ["pointer", "usize", "string", "string"], small, 8, "%s", "0123456789"),
    10,
  );
  assert.equal(dec.decode(bytesAt(small, 8)), "0123456\0");
  // sprintf returns the count; more than 8 double args spill to the stack.
  const m = libc.call(
    "sprintf",
    "int",
    ["pointer", "string", "f64", "f64", "f64", "f64", "f64", "f64", "f64", "f64", "f64", "f64"],
    buf,
    "%g %g %g %g %g %g %g %g %g %g",
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
  );
  assert.equal(dec.decode(bytesAt(buf, m)), "1 2 3 4 5 6 7 8 9 10");
  // Many integer args spill too.
  const k = libc.call(
    "sprintf",
    "int",
    ["pointer", "string", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i64"],
    buf,
    "%d,%d,%d,%d,%d,%d,%d,%lld",
    1,
    -2,
    3,
    -4,
    5,
    -6,
    7,
    -8n,
  );
  assert.equal(dec.decode(bytesAt(buf, k)), "1,-2,3,-4,5,-6,7,-8");
});

Deno.test("libc: sscanf writes through many out pointers", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const i = arena.allocType("int");
  const l = arena.allocType("i64");
  const d = arena.allocType("double");
  const f = arena.allocType("float");
  const word = arena.alloc(16);
  const n = libc.call(
    "sscanf",
    "int",
    ["string", "string", "pointer", "pointer", "pointer", "pointer", "pointer"],
    "12 -9000000000 2.5 0.1 word!",
    "%d %lld %lf %f %15s",
    i,
    l,
    d,
    f,
    word,
  );
  assert.equal(n, 5);
  assert.equal(i.read(0, "int"), 12);
  assert.equal(l.read(0, "i64"), -9_000_000_000n);
  assert.equal(d.read(0, "double"), 2.5);
  assert.equal(f.read(0, "float"), Math.fround(0.1));
  assert.equal(ffi.read(ffi.toRaw(word), 0, "u8"), "w".charCodeAt(0));
  assert.equal(dec.decode(bytesAt(word, 5)), "word!");
});

const DivT = ffi.struct([["quot", "int"], ["rem", "int"]]);
const LDivT = ffi.struct([["quot", "long"], ["rem", "long"]]);
const InAddr = ffi.struct([["s_addr", "u32"]]);
const Complex = ffi.struct([["re", "f64"], ["im", "f64"]]);
const ComplexF = ffi.struct([["re", "f32"], ["im", "f32"]]);

Deno.test("libc/libm: structs by value — div/ldiv/lldiv, inet_ntoa, complex doubles", () => {
  using libc = ffi.load(LIBC);
  using libm = ffi.load(LIBM);
  assert.deepEqual(libc.call("div", DivT, ["int", "int"], 17, -5), { quot: -3, rem: 2 });
  assert.deepEqual(libc.call("ldiv", LDivT, ["long", "long"], -(2n ** 62n) - 3n, 10), {
    quot: (-(2n ** 62n) - 3n) / 10n,
    rem: -7n,
  });
  const lldiv = libc.fn("lldiv", LDivT, ["i64", "i64"]);
  assert.deepEqual(lldiv(9_007_199_254_740_993n, 2), { quot: 4_503_599_627_370_496n, rem: 1n });
  // imaxdiv is the same shape.
  assert.deepEqual(libc.call("imaxdiv", LDivT, ["i64", "i64"], 7, 7), { quot: 1n, rem: 0n });

  // struct in_addr by value (network byte order): 192.168.1.20.
  const addr = libc.call("inet_addr", "u32", ["string"], "192.168.1.20");
  assert.equal(libc.call("inet_ntoa", "string", [InAddr], { s_addr: addr }), "192.168.1.20");
  // And a StructView as the by-value argument.
  using arena = ffi.arena();
  const v = ffi.view(arena.allocType(InAddr), InAddr);
  v.s_addr = libc.call("htonl", "u32", ["u32"], 0x7f000001);
  assert.equal(libc.call("inet_ntoa", "string", [InAddr], v), "127.0.0.1");

  // double complex is passed and returned like struct { double re, im } on x86_64 SysV.
  assert.equal(libm.call("cabs", "f64", [Complex], { re: 3, im: 4 }), 5);
  assert.equal(libm.call("carg", "f64", [Complex], { re: 0, im: 1 }), Math.PI / 2);
  const sq = libm.call("csqrt", Complex, [Complex], { re: -4, im: 0 });
  assert.deepEqual(sq, { re: 0, im: 2 });
  const e = libm.call("cexp", Complex, [Complex], { re: 0, im: Math.PI });
  assert.ok(Math.abs((e.re as number) + 1) < 1e-15 && Math.abs(e.im as number) < 1e-15);
  const prod = libm.call("cpow", Complex, [Complex, Complex], { re: 0, im: 1 }, { re: 2, im: 0 });
  assert.ok(Math.abs((prod.re as number) + 1) < 1e-15 && Math.abs(prod.im as number) < 1e-15);
  // float complex: two f32 packed into one SSE register.
  assert.equal(libm.call("cabsf", "f32", [ComplexF], { re: 5, im: 12 }), 13);
  assert.deepEqual(libm.call("conjf", ComplexF, [ComplexF], { re: 1.5, im: -2.25 }), { re: 1.5, im: 2.25 });
});

// ---------------------------------------------------------------------------------------------------
// libm
// ---------------------------------------------------------------------------------------------------

Deno.test("libm: out-parameter functions frexp/modf/lgamma_r/sincos/remquo", () => {
  using libm = ffi.load(LIBM);
  using arena = ffi.arena();
  const ip = arena.allocType("int");
  assert.equal(libm.call("frexp", "f64", ["f64", "pointer"], 48, ip), 0.75);
  assert.equal(ip.read(0, "int"), 6);
  assert.equal(libm.call("ldexp", "f64", ["f64", "int"], 0.75, 6), 48);
  const dp = arena.allocType("double");
  assert.equal(libm.call("modf", "f64", ["f64", "pointer"], -3.75, dp), -0.75);
  assert.equal(dp.read(0, "f64"), -3);
  // lgamma_r(-0.5): |Γ(-0.5)| = 2√π, sign negative.
  const lg = libm.call("lgamma_r", "f64", ["f64", "pointer"], -0.5, ip);
  assert.ok(Math.abs(lg - Math.log(2 * Math.sqrt(Math.PI))) < 1e-14);
  assert.equal(ip.read(0, "int"), -1);
  libm.call("lgamma_r", "f64", ["f64", "pointer"], 5, ip);
  assert.equal(ip.read(0, "int"), 1);
  // sincos writes two doubles.
  const two = ffi.cast(arena.allocArray("f64", 2), "f64", 2);
  assert.equal(libm.call("sincos", "void", ["f64", "pointer", "pointer"], 1.25, two, two.add(1)), undefined);
  assert.equal(two[0], Math.sin(1.25));
  assert.equal(two[1], Math.cos(1.25));
  // remquo: remainder and low bits of the quotient.
  const r = libm.call("remquo", "f64", ["f64", "f64", "pointer"], 29, 3, ip);
  assert.equal(r, -1);
  assert.equal(ip.read(0, "int") & 7, 10 & 7);
  const r2 = libm.call("remquo", "f64", ["f64", "f64", "pointer"], -29, 3, ip);
  assert.equal(r2, 1);
  assert.ok((ip.read(0, "int") as number) < 0);
  // frexpf / modff with float out-params.
  assert.equal(libm.call("frexpf", "f32", ["f32", "pointer"], 0.1, ip), Math.fround(0.8));
  assert.equal(ip.read(0, "int"), -3);
  const fp = arena.allocType("float");
  assert.equal(libm.call("modff", "f32", ["f32", "pointer"], 2.5, fp), 0.5);
  assert.equal(fp.read(0, "f32"), 2);
});

Deno.test("libm: NaN, fma exactness, float variants rounded to f32", () => {
  using libm = ffi.load(LIBM);
  assert.ok(Number.isNaN(libm.call("nan", "f64", ["string"], "")));
  assert.ok(Number.isNaN(libm.call("nanf", "f32", ["string"], "0x1")));
  // fma does one rounding: 0.1*10 - 1 is not 0.
  const fma = libm.call("fma", "f64", ["f64", "f64", "f64"], 0.1, 10, -1);
  assert.equal(fma, 5.551115123125783e-17);
  assert.equal(0.1 * 10 - 1, 0);
  assert.equal(libm.call("fmaf", "f32", ["f32", "f32", "f32"], 2, 3, 4), 10);
  const sinf = libm.fn("sinf", "f32", ["f32"]);
  for (const x of [0.1, 1, 2.5, 100]) {
    const y = sinf(x);
    assert.equal(Math.fround(y), y, "sinf returns an f32 value");
    assert.ok(Math.abs(y - Math.sin(Math.fround(x))) < 1e-6);
  }
  const powf = libm.fn("powf", "f32", ["f32", "f32"]);
  const p = powf(1.1, 2.2);
  assert.equal(Math.fround(p), p);
  assert.notEqual(p, Math.pow(1.1, 2.2)); // not the double result
  assert.ok(Math.abs(p - Math.pow(Math.fround(1.1), Math.fround(2.2))) < 1e-6);
  assert.equal(powf(2, 10), 1024);
  // sqrtf is correctly rounded: identical to fround of the double sqrt.
  assert.equal(libm.call("sqrtf", "f32", ["f32"], 2), Math.fround(Math.SQRT2));
  // Argument rounding: 16777217 is not an f32; it rounds to 16777216 before floorf sees it.
  assert.equal(libm.call("floorf", "f32", ["f32"], 16777217), 16777216);
  assert.equal(libm.call("copysign", "f64", ["f64", "f64"], 3, -0), -3);
  assert.ok(Object.is(libm.call("copysign", "f64", ["f64", "f64"], 0, -1), -0));
  assert.equal(libm.call("hypot", "f64", ["f64", "f64"], 1e200, 1e200), Math.SQRT2 * 1e200);
  assert.equal(libm.call("ilogb", "int", ["f64"], 1024), 10);
  assert.equal(libm.call("lround", "long", ["f64"], -2.5), -3n);
  assert.equal(libm.call("llrint", "i64", ["f64"], 2 ** 60), 2n ** 60n);
  assert.equal(libm.call("nextafter", "f64", ["f64", "f64"], 1, 2), 1 + Number.EPSILON);
  assert.equal(libm.call("nextafterf", "f32", ["f32", "f32"], 1, 2), 1 + 2 ** -23);
});

// ---------------------------------------------------------------------------------------------------
// Lifetimes
// ---------------------------------------------------------------------------------------------------

Deno.test("lifetimes: a closed Library and its fn functions throw instead of crashing", () => {
  const libz = ffi.load(LIBZ);
  const crc = libz.fn("crc32", "u64", ["u64", "pointer", "u32"]);
  assert.equal(crc(0, null, 0), 0n);
  libz.close();
  assert.throws(() => libz.call("zlibVersion", "string", []), Error);
  assert.throws(() => crc(0, null, 0), Error);
  assert.throws(() => libz.fn("adler32", "u64", ["u64", "pointer", "u32"]), Error);
  assert.throws(() => libz.getSymbol("crc32"), Error);
  assert.throws(() => libz.hasSymbol("crc32"), Error);
  assert.throws(() => libz.listExports(), Error);
  // close() twice is harmless, as is dispose after close.
  libz.close();
  libz[Symbol.dispose]();
});

Deno.test("lifetimes: two loads of libz closed in either order stay independent", () => {
  for (const order of [0, 1]) {
    const a = ffi.load(LIBZ);
    const b = ffi.load("libz.so.1");
    const fa = a.fn("zlibVersion", "string", []);
    const fb = b.fn("zlibVersion", "string", []);
    assert.equal(fa(), fb());
    const [first, second, fSecond] = order === 0 ? [a, b, fb] : [b, a, fa];
    first.close();
    assert.equal(typeof fSecond(), "string");
    assert.equal(second.call("crc32", "u64", ["u64", "pointer", "u32"], 0, null, 0), 0n);
    assert.equal(second.hasSymbol("inflate"), true);
    second.close();
    assert.throws(() => fSecond());
  }
});

Deno.test("lifetimes: using scopes, stored fn functions, closed callbacks", () => {
  let stored: (x: number) => number;
  let lib: ffi.Library;
  {
    using libm = ffi.load(LIBM);
    lib = libm;
    stored = libm.fn("cbrt", "f64", ["f64"]);
    assert.equal(stored(64), 4); // (glibc's cbrt(27) is 3.0000000000000004)
  }
  assert.throws(() => stored(8));
  assert.throws(() => lib.call("cbrt", "f64", ["f64"], 8));

  // A stored fn called much later, after lots of other work, still works.
  using libc = ffi.load(LIBC);
  const abs = libc.fn("labs", "long", ["long"]);
  for (let i = 0; i < 100; i++) ffi.arena().alloc(1024);
  assert.equal(abs(-(2n ** 40n)), 2n ** 40n);

  let cbRef: ffi.Callback;
  {
    using cb = ffi.callback(
      (a: ffi.RawPointer, b: ffi.RawPointer) => a.read(0, "i32") - b.read(0, "i32"),
      "i32",
      [
        "pointer",
        "pointer",
      ],
    );
    cbRef = cb;
    assert.equal(cb.isValid, true);
    using arena = ffi.arena();
    const ints = ffi.cast(arena.allocArray("i32", 3), "i32", 3);
    ints[0] = 3, ints[1] = 1, ints[2] = 2;
    libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], ints, 3, 4, cb);
    assert.deepEqual([ints[0], ints[1], ints[2]], [1, 2, 3]);
  }
  assert.equal(cbRef.isValid, false);
  // A closed callback cannot be passed to C again.
  using arena = ffi.arena();
  const ints = arena.allocArray("i32", 2);
  assert.throws(() =>
    libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], ints, 2, 4, cbRef)
  );
  cbRef.close(); // idempotent
});

Deno.test("lifetimes: arena reset while C holds a pointer is detected on the JS side", () => {
  using libc = ffi.load(LIBC);
  const arena = ffi.arena();
  const p = arena.alloc(16);
  const found = libc.call("memchr", "pointer", ["pointer", "int", "usize"], p, 0, 16);
  assert.equal(found.addr, p.addr);
  arena.reset();
  assert.throws(() => p.read(0, "u8"), /freed/);
  assert.throws(() => libc.call("strlen", "usize", ["pointer"], p), /freed/);
});

Deno.test("lifetimes: 10 000 calls with string arguments and results keep RSS stable", () => {
  using libc = ffi.load(LIBC);
  using sq = ffi.load(LIBSQLITE);
  const strlen = libc.fn("strlen", "usize", ["string"]);
  const strerror = libc.fn("strerror", "string", ["int"]);
  const long = "x".repeat(4096);
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      assert.equal(strlen(long + i), BigInt(4096 + String(i).length));
      assert.equal(libc.call("strncmp", "int", ["string", "string", "usize"], "abc" + i, "abc" + i, 100), 0);
      strerror(i % 100);
      sq.call("sqlite3_libversion", "string", []);
    }
  };
  run(2000);
  (globalThis as { gc?: () => void }).gc?.();
  const before = Deno.memoryUsage().rss;
  run(10_000);
  (globalThis as { gc?: () => void }).gc?.();
  const after = Deno.memoryUsage().rss;
  // 10 000 leaked 4 KiB copies would be 40 MiB.
  assert.ok(after - before < 20 * 1024 * 1024, `RSS grew by ${((after - before) / 1048576).toFixed(1)} MiB`);
});

// ---------------------------------------------------------------------------------------------------
// More workflows: sret structs, double out-pointers, data symbols written by C, callbacks with string and
// 64-bit arguments, nested callbacks, and sentinel pointers.
// ---------------------------------------------------------------------------------------------------

/** Decodes a `char*` held as a RawPointer (stores it in a slot, then reads the slot as `string`). */
function cString(p: ffi.RawPointer): string | null {
  using arena = ffi.arena();
  const slot = arena.allocType("pointer");
  slot.write(0, "pointer", p);
  return slot.read(0, "string");
}

const MallInfo2 = ffi.struct([
  ["arena", "usize"],
  ["ordblks", "usize"],
  ["smblks", "usize"],
  ["hblks", "usize"],
  ["hblkhd", "usize"],
  ["usmblks", "usize"],
  ["fsmblks", "usize"],
  ["uordblks", "usize"],
  ["fordblks", "usize"],
  ["keepcost", "usize"],
]);
const MallInfo = ffi.struct([
  ["arena", "int"],
  ["ordblks", "int"],
  ["smblks", "int"],
  ["hblks", "int"],
  ["hblkhd", "int"],
  ["usmblks", "int"],
  ["fsmblks", "int"],
  ["uordblks", "int"],
  ["fordblks", "int"],
  ["keepcost", "int"],
]);

Deno.test("libc: structs larger than 16 bytes returned by value (hidden sret pointer): mallinfo/mallinfo2", () => {
  using libc = ffi.load(LIBC);
  assert.equal(MallInfo2.size, 80);
  assert.equal(MallInfo.size, 40);
  const p = libc.call("malloc", "pointer", ["usize"], 100_000);
  try {
    const mi2 = libc.call("mallinfo2", MallInfo2, []);
    assert.equal(typeof mi2.uordblks, "bigint");
    assert.ok(mi2.uordblks >= 100_000n || mi2.hblkhd >= 100_000n, JSON.stringify(mi2, (_, v) => String(v)));
    assert.equal(mi2.usmblks, 0n);
    const mi = libc.call("mallinfo", MallInfo, []);
    assert.equal(BigInt(mi.arena), mi2.arena & 0xffffffffn);
    assert.equal(mi.usmblks, 0);
    assert.deepEqual(Object.keys(mi), MallInfo.fields());
  } finally {
    libc.call("free", "void", ["pointer"], p);
  }
});

Deno.test("libc: realpath(path, NULL) returns a malloc'd char* that we decode and free", () => {
  using libc = ffi.load(LIBC);
  const p = libc.call("realpath", "pointer", ["string", "pointer"], "/usr/../usr/./lib", null);
  assert.equal(p.isNull, false);
  assert.equal(p.isManaged, false);
  assert.equal(cString(p), Deno.realPathSync("/usr/lib"));
  libc.call("free", "void", ["pointer"], p);
  // strdup round trip through an unmanaged pointer and index syntax.
  const d = libc.call("strdup", "pointer", ["string"], "héllo");
  const bytes = ffi.cast(d, "u8", 7);
  assert.equal(bytes[1], 0xc3);
  bytes[0] = "H".charCodeAt(0);
  assert.equal(cString(d), "Héllo");
  libc.call("free", "void", ["pointer"], d);
});

Deno.test("libc: mmap/munmap an anonymous page, and MAP_FAILED ((void*)-1)", () => {
  using libc = ffi.load(LIBC);
  const mmap = libc.fn("mmap", "pointer", ["pointer", "usize", "int", "int", "int", "i64"]);
  const PROT_RW = 3, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
  const page = mmap(null, 8192, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.equal(page.isNull, false);
  const words = ffi.cast(page, "u64", 1024);
  assert.equal(words[1023], 0n);
  words[1023] = 0xfeedfacecafebeefn;
  assert.equal(page.read(8184, "u64"), 0xfeedfacecafebeefn);
  ffi.fill(page, 8192, 0xab);
  assert.equal(words[5], 0xababababababababn);
  assert.equal(libc.call("munmap", "int", ["pointer", "usize"], page, 8192), 0);
  // Without MAP_ANONYMOUS, fd -1 is EBADF and mmap returns MAP_FAILED, an all-ones address. Declared with
  // an integer return type the sentinel is exact:
  const mmapInt = libc.fn("mmap", "isize", ["pointer", "usize", "int", "int", "int", "i64"]);
  assert.equal(mmapInt(null, 4096, PROT_RW, MAP_PRIVATE, -1, 0), -1n);
  // Declared as returning a pointer, MAP_FAILED stays exactly all-ones: as a Deno pointer value, stored
  // into memory or a struct field and read back, and passed back to C.
  const failed = mmap(null, 4096, PROT_RW, MAP_PRIVATE, -1, 0);
  assert.equal(failed.isNull, false);
  assert.equal(BigInt(Deno.UnsafePointer.value(failed.toLightUserData())), 2n ** 64n - 1n);
  using arena = ffi.arena();
  const Mapping = ffi.struct([["base", "pointer"], ["len", "usize"]]);
  const m = ffi.view(arena.allocType(Mapping), Mapping);
  m.base = failed;
  assert.equal(ffi.read(m, 0, "u64"), 2n ** 64n - 1n, "MAP_FAILED stored into memory must not become NULL");
  const back = m.base;
  assert.equal(back.isNull, false);
  const slot = arena.allocType("pointer");
  slot.write(0, "pointer", back);
  assert.equal(slot.read(0, "u64"), 2n ** 64n - 1n);
  // intptr_t-typed identity through C: labs((long)-1) is 1.
  assert.equal(libc.call("labs", "long", ["pointer"], back), 1n);
  // Addresses above 2^53 survive a round trip through memory too.
  slot.write(0, "u64", 2n ** 53n + 1n);
  const odd = slot.read(0, "pointer");
  ffi.write(m, 0, "pointer", odd);
  assert.equal(ffi.read(m, 0, "u64"), 2n ** 53n + 1n);
});

Deno.test("sqlite3: SQLITE_TRANSIENT ((void*)-1) made through the public API as a pointer read from memory", () => {
  using sq = ffi.load(LIBSQLITE);
  using arena = ffi.arena();
  const db = openDb(sq, arena);
  const cell = arena.allocType("pointer");
  cell.write(0, "isize", -1);
  const SQLITE_TRANSIENT = cell.read(0, "pointer");
  const [, st] = prepareStmt(sq, arena, db, "SELECT ?1 || ?2");
  const bindText = sq.fn("sqlite3_bind_text", "i32", ["pointer", "i32", "string", "i32", "pointer"]);
  // The JS string's copy lives only for the call: TRANSIENT makes sqlite copy it.
  assert.equal(bindText(st, 1, "trans", -1, SQLITE_TRANSIENT), SQLITE_OK);
  assert.equal(bindText(st, 2, "ient", -1, SQLITE_TRANSIENT), SQLITE_OK);
  "x".repeat(10_000); // churn the scratch space
  assert.equal(sq.call("sqlite3_step", "i32", ["pointer"], st), SQLITE_ROW);
  assert.equal(sq.call("sqlite3_column_text", "string", ["pointer", "i32"], st, 0), "transient");
  sq.call("sqlite3_finalize", "i32", ["pointer"], st);
  sq.call("sqlite3_close_v2", "i32", ["pointer"], db);
});

Deno.test("libc: getopt reads an argv we build in arena memory and writes the optind/optarg data symbols", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const args = ["prog", "-v", "-o", "out.txt", "input1", "-n42", "input2"];
  const argv = ffi.cast(arena.allocArray("char*", args.length + 1), "string", args.length + 1);
  args.forEach((a, i) => argv.set(i, a));
  argv.set(args.length, null);
  assert.equal(argv.get(3), "out.txt");
  const optind = libc.getSymbol("optind")!;
  const optarg = libc.getSymbol("optarg")!;
  optind.write(0, "int", 0); // 0 makes glibc reinitialise its state
  const seen: string[] = [];
  for (;;) {
    const c = libc.call("getopt", "int", ["int", "pointer", "string"], args.length, argv, "vo:n:");
    if (c === -1) break;
    const ch = String.fromCharCode(c);
    seen.push(ch === "v" ? "v" : `${ch}=${optarg.read(0, "string")}`);
  }
  assert.deepEqual(seen, ["v", "o=out.txt", "n=42"]);
  // GNU getopt permutes argv so that the operands come last; optind points at the first of them.
  const first = optind.read(0, "int");
  const operands = [];
  for (let i = first; i < args.length; i++) operands.push(argv.get(i));
  assert.deepEqual(operands, ["input1", "input2"]);
});

Deno.test("libc: qsort_r passes a user-data pointer to the comparator as the third argument", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  const words = ["pear", "Apple", "fig", "banana", "Cherry"];
  const arr = ffi.cast(arena.allocArray("string", words.length), "string", words.length);
  words.forEach((w, i) => arr.set(i, w));
  const mode = arena.allocType("int");
  using cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer, m: ffi.RawPointer) => {
      const sa = a.read(0, "string")!, sb = b.read(0, "string")!;
      const desc = m.read(0, "int") === 1;
      const r = sa.toLowerCase() < sb.toLowerCase() ? -1 : sa.toLowerCase() > sb.toLowerCase() ? 1 : 0;
      return desc ? -r : r;
    },
    "int",
    ["pointer", "pointer", "pointer"],
  );
  const sortR = () =>
    libc.call(
      "qsort_r",
      "void",
      ["pointer", "usize", "usize", "pointer", "pointer"],
      arr,
      words.length,
      8,
      cmp,
      mode,
    );
  sortR();
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => arr.get(i)), [
    "Apple",
    "banana",
    "Cherry",
    "fig",
    "pear",
  ]);
  mode.write(0, "int", 1);
  sortR();
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => arr[i]), ["pear", "fig", "Cherry", "banana", "Apple"]);
});

Deno.test("libc: iconv with char** / size_t* in-out pointers", () => {
  using libc = ffi.load(LIBC);
  using arena = ffi.arena();
  // iconv_open returns (iconv_t)-1 on failure: declare it as an integer to test the sentinel.
  assert.equal(libc.call("iconv_open", "isize", ["string", "string"], "NO-SUCH-CHARSET", "UTF-8"), -1n);
  const cd = libc.call("iconv_open", "pointer", ["string", "string"], "UTF-16LE", "UTF-8");
  assert.equal(cd.isNull, false);
  const text = "Grüße, ✓ 𝄞";
  const src = cstr(arena, text);
  const srcLen = enc.encode(text).length;
  const out = arena.alloc(64);
  const inPtr = arena.allocType("pointer");
  const outPtr = arena.allocType("pointer");
  const inLeft = arena.allocType("size_t");
  const outLeft = arena.allocType("size_t");
  inPtr.write(0, "pointer", src);
  outPtr.write(0, "pointer", out);
  inLeft.write(0, "size_t", srcLen);
  outLeft.write(0, "size_t", 64);
  const iconv = libc.fn("iconv", "usize", ["pointer", "pointer", "pointer", "pointer", "pointer"]);
  assert.equal(iconv(cd, inPtr, inLeft, outPtr, outLeft), 0n);
  assert.equal(inLeft.read(0, "size_t"), 0n);
  assert.equal(inPtr.read(0, "pointer").addr, src.addr + srcLen);
  const written = 64 - Number(outLeft.read(0, "size_t"));
  assert.equal(outPtr.read(0, "pointer").addr, out.addr + written);
  const u16 = ffi.cast(out, "u16", written / 2);
  assert.equal(String.fromCharCode(...Array.from({ length: written / 2 }, (_, i) => u16[i] as number)), text);
  // Too small an output buffer: (size_t)-1 and errno E2BIG.
  inPtr.write(0, "pointer", src);
  inLeft.write(0, "size_t", srcLen);
  outPtr.write(0, "pointer", out);
  outLeft.write(0, "size_t", 4);
  assert.equal(iconv(cd, inPtr, inLeft, outPtr, outLeft), 2n ** 64n - 1n);
  assert.equal(libc.call("__errno_location", "pointer", []).read(0, "int"), 7); // E2BIG
  assert.equal(libc.call("iconv_close", "int", ["pointer"], cd), 0);
});

const DlPhdrInfo = ffi.struct([
  ["dlpi_addr", "u64"],
  ["dlpi_name", "string"],
  ["dlpi_phdr", "pointer"],
  ["dlpi_phnum", "u16"],
]);

Deno.test("libc: dl_iterate_phdr callback receives a struct pointer and a size_t (bigint)", () => {
  using libc = ffi.load(LIBC);
  using z = ffi.load(LIBZ);
  const names: string[] = [];
  let sizeArg: unknown;
  let phnumOk = true;
  const data = ffi.buffer(4);
  using cb = ffi.callback(
    (info: ffi.RawPointer, size: bigint, ud: ffi.RawPointer) => {
      sizeArg = size;
      assert.equal(ud.addr, ffi.toRaw(data).addr);
      const v = ffi.view(info, DlPhdrInfo);
      names.push(v.dlpi_name ?? "");
      phnumOk &&= (v.dlpi_phnum as number) > 0;
      return 0;
    },
    "int",
    ["pointer", "size_t", "pointer"],
  );
  assert.equal(libc.call("dl_iterate_phdr", "int", ["pointer", "pointer"], cb, data), 0);
  assert.equal(typeof sizeArg, "bigint");
  assert.ok((sizeArg as bigint) >= BigInt(DlPhdrInfo.size));
  assert.ok(phnumOk);
  assert.ok(names.some((n) => n.includes("libz.so.1")), names.join(", "));
  assert.ok(names.some((n) => n.includes("libc.so.6")));
  // Returning non-zero stops the iteration and is dl_iterate_phdr's result.
  let n = 0;
  using stop = ffi.callback(() => ++n === 2 ? 77 : 0, "int", ["pointer", "size_t", "pointer"]);
  assert.equal(libc.call("dl_iterate_phdr", "int", ["pointer", "pointer"], stop, null), 77);
  assert.equal(n, 2);
  z.close();
});

Deno.test("libc: nftw walks a directory with a (const char*, const struct stat*, int, struct FTW*) callback", () => {
  using libc = ffi.load(LIBC);
  const dir = Deno.makeTempDirSync({ prefix: "lune_ffi_wf_" });
  try {
    Deno.mkdirSync(`${dir}/sub`);
    Deno.writeTextFileSync(`${dir}/a.txt`, "aaaa");
    Deno.writeTextFileSync(`${dir}/sub/b.txt`, "bb");
    const FTW = ffi.struct([["base", "int"], ["level", "int"]]);
    const seen: string[] = [];
    using cb = ffi.callback(
      (path: string, _st: ffi.RawPointer, type: number, ftw: ffi.RawPointer) => {
        const f = ffi.view(ftw, FTW);
        const rel = path.slice(dir.length) || "/";
        assert.equal(path.slice(f.base as number), rel === "/" ? dir.split("/").pop() : rel.split("/").pop());
        seen.push(`${f.level}:${type === 1 ? "d" : type === 0 ? "f" : type}:${rel}`);
        return 0;
      },
      "int",
      ["string", "pointer", "int", "pointer"],
    );
    assert.equal(
      libc.call("nftw", "int", ["string", "pointer", "int", "int"], dir, cb, 16, 1 /* FTW_PHYS */),
      0,
    );
    seen.sort();
    assert.deepEqual(seen, ["0:d:/", "1:d:/sub", "1:f:/a.txt", "2:f:/sub/b.txt"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("libc: variadic small integer types are promoted correctly (i8, i16, u8, u16, bool) and %s of NULL", () => {
  using libc = ffi.load(LIBC);
  const buf = ffi.buffer(128);
  const n = libc.call(
    "snprintf",
    "int",
    ["pointer", "usize", "string", "i8", "i16", "u8", "u16", "bool", "i32", "u32", "string"],
    buf,
    128,
    "%d %d %u %u %d %d %u %s",
    -1,
    -2,
    255,
    65535,
    true,
    -2147483648,
    4294967295,
    null,
  );
  assert.equal(buf.readString(), "-1 -2 255 65535 1 -2147483648 4294967295 (null)");
  assert.equal(n, buf.readString().length);
  // The same types past the six integer registers land in stack slots, which C reads as whole ints.
  const types = ["bool", "i8", "i16", "u8", "u16", "bool", "i8", "i16"] as const;
  const values = [true, -128, -32768, 200, 65535, false, -1, 12345];
  for (let round = 0; round < 3; round++) {
    libc.call(
      "snprintf",
      "int",
      ["pointer", "usize", "string", "i32", "i32", "i32", ...types],
      buf,
      128,
      "%d %d %d|%d %d %d %u %u %d %d %d",
      1,
      2,
      3,
      ...values,
    );
    assert.equal(buf.readString(), "1 2 3|1 -128 -32768 200 65535 0 -1 12345");
  }
});

Deno.test("callbacks: nested — a comparator calls into sqlite whose callback throws; the comparator catches it", () => {
  using libc = ffi.load(LIBC);
  using sq = ffi.load(LIBSQLITE);
  using arena = ffi.arena();
  const db = openDb(sq, arena);
  const inner = new Error("inner");
  let innerRuns = 0;
  using thrower = ffi.callback(
    () => {
      innerRuns++;
      throw inner;
    },
    "int",
    ["pointer", "int", "pointer", "pointer"],
  );
  let caught = 0;
  using cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer) => {
      try {
        sq.call(
          "sqlite3_exec",
          "int",
          ["pointer", "string", "pointer", "pointer", "pointer"],
          db,
          "SELECT 1 UNION ALL SELECT 2",
          thrower,
          null,
          null,
        );
      } catch (e) {
        assert.equal(e, inner);
        caught++;
      }
      return a.read(0, "int") - b.read(0, "int");
    },
    "int",
    ["pointer", "pointer"],
  );
  const ints = ffi.cast(arena.allocArray("int", 4), "int", 4);
  [4, 2, 3, 1].forEach((v, i) => ints[i] = v);
  // The inner error was handled inside the comparator: it must not resurface from qsort.
  libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], ints, 4, 4, cmp);
  assert.deepEqual([ints[0], ints[1], ints[2], ints[3]], [1, 2, 3, 4]);
  assert.ok(caught > 0);
  // Only the first invocation per outer exec runs once one has thrown.
  assert.equal(innerRuns, caught);
  // And an uncaught inner error propagates through both levels to the outermost call.
  using cmp2 = ffi.callback(
    () => {
      sq.call(
        "sqlite3_exec",
        "int",
        ["pointer", "string", "pointer", "pointer", "pointer"],
        db,
        "SELECT 1",
        thrower,
        null,
        null,
      );
      return 0;
    },
    "int",
    ["pointer", "pointer"],
  );
  assert.throws(
    () => libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], ints, 4, 4, cmp2),
    (e) => e === inner,
  );
  // The next, unrelated call is clean.
  libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], ints, 4, 4, cmp);
  sq.call("sqlite3_close_v2", "int", ["pointer"], db);
});

Deno.test("sqlite3: update hook (i64 + string callback args), authorizer, collation over (len, bytes) pairs", () => {
  using sq = ffi.load(LIBSQLITE);
  using arena = ffi.arena();
  const db = openDb(sq, arena);
  const events: string[] = [];
  using hook = ffi.callback(
    (_ud: ffi.RawPointer, op: number, dbName: string, table: string, rowid: bigint) => {
      events.push(`${op}:${dbName}.${table}#${rowid}`);
    },
    "void",
    ["pointer", "int", "string", "string", "i64"],
  );
  sq.call("sqlite3_update_hook", "pointer", ["pointer", "pointer", "pointer"], db, hook, null);
  execOk(
    sq,
    db,
    "CREATE TABLE k(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO k VALUES(9007199254740993, 'a');",
  );
  // (A DELETE without WHERE takes the truncate optimisation, which skips the hook.)
  execOk(sq, db, "UPDATE k SET v = 'b'; DELETE FROM k WHERE id > 0;");
  assert.deepEqual(events, [
    "18:main.k#9007199254740993",
    "23:main.k#9007199254740993",
    "9:main.k#9007199254740993",
  ]);

  // Authorizer: nullable string arguments; SQLITE_DENY (1) on reading column v.
  const reads: string[] = [];
  using auth = ffi.callback(
    (
      _ud: ffi.RawPointer,
      action: number,
      a: string | null,
      b: string | null,
      _c: string | null,
      _d: string | null,
    ) => {
      if (action === 20 /* SQLITE_READ */) {
        reads.push(`${a}.${b}`);
        return b === "v" ? 1 : 0;
      }
      return 0;
    },
    "int",
    ["pointer", "int", "string", "string", "string", "string"],
  );
  assert.equal(
    sq.call("sqlite3_set_authorizer", "int", ["pointer", "pointer", "pointer"], db, auth, null),
    0,
  );
  const pstmt = arena.allocType("pointer");
  const prep = (sql: string) =>
    sq.call(
      "sqlite3_prepare_v2",
      "int",
      ["pointer", "string", "int", "pointer", "pointer"],
      db,
      sql,
      -1,
      pstmt,
      null,
    );
  assert.equal(prep("SELECT v FROM k"), 23 /* SQLITE_AUTH */);
  assert.match(sq.call("sqlite3_errmsg", "string", ["pointer"], db)!, /not authorized|prohibited/);
  assert.equal(prep("SELECT id FROM k"), 0);
  sq.call("sqlite3_finalize", "int", ["pointer"], pstmt.read(0, "pointer"));
  assert.ok(reads.includes("k.v") && reads.includes("k.id"));
  sq.call("sqlite3_set_authorizer", "int", ["pointer", "pointer", "pointer"], db, null, null);

  // A collation comparing by length, then bytes (the strings are NOT NUL-terminated).
  let compares = 0;
  using coll = ffi.callback(
    (_ud: ffi.RawPointer, n1: number, p1: ffi.RawPointer, n2: number, p2: ffi.RawPointer) => {
      compares++;
      if (n1 !== n2) return n1 - n2;
      const a = ffi.cast(p1, "u8", n1), b = ffi.cast(p2, "u8", n2);
      for (let i = 0; i < n1; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
      return 0;
    },
    "int",
    ["pointer", "int", "pointer", "int", "pointer"],
  );
  assert.equal(
    sq.call(
      "sqlite3_create_collation_v2",
      "int",
      ["pointer", "string", "int", "pointer", "pointer", "pointer"],
      db,
      "BYLEN",
      1,
      null,
      coll,
      null,
    ),
    0,
  );
  execOk(sq, db, "CREATE TABLE w(s TEXT); INSERT INTO w VALUES('ccc'),('a'),('bb'),('aaaa'),('b');");
  const got: string[] = [];
  using collect = ffi.callback(
    (_u: ffi.RawPointer, _n: number, vals: ffi.RawPointer) => {
      got.push(ffi.cast(vals, "string", 1)[0] as string);
      return 0;
    },
    "int",
    ["pointer", "int", "pointer", "pointer"],
  );
  assert.equal(
    sq.call(
      "sqlite3_exec",
      "int",
      ["pointer", "string", "pointer", "pointer", "pointer"],
      db,
      "SELECT s FROM w ORDER BY s COLLATE BYLEN",
      collect,
      null,
      null,
    ),
    0,
  );
  assert.deepEqual(got, ["a", "b", "bb", "ccc", "aaaa"]);
  assert.ok(compares > 0);
  sq.call("sqlite3_close_v2", "int", ["pointer"], db);
});

Deno.test("zlib: gzopen/gzprintf (variadic)/gzwrite/gzclose then gzgets, checked with node:zlib", () => {
  using z = ffi.load(LIBZ);
  const path = Deno.makeTempFileSync({ suffix: ".gz" });
  try {
    const gz = z.call("gzopen", "pointer", ["string", "string"], path, "wb9");
    assert.equal(gz.isNull, false);
    const n = z.call(
      "gzprintf",
      "int",
      ["pointer", "string", "string", "int", "f64", "i64"],
      gz,
      "%s=%d %.2f %lld\n",
      "line",
      42,
      0.125,
      -(2n ** 40n),
    );
    assert.equal(n, "line=42 0.13 -1099511627776\n".length);
    const payload = ffi.buffer(6);
    payload.writeString(0, "bytes");
    payload.write(5, "u8", 10);
    assert.equal(z.call("gzwrite", "int", ["pointer", "pointer", "u32"], gz, payload, 6), 6);
    assert.equal(
      z.call("gzputs", "int", ["pointer", "string"], gz, "tail ✓\n"),
      enc.encode("tail ✓\n").length,
    );
    assert.equal(z.call("gzclose", "int", ["pointer"], gz), 0);
    const expected = "line=42 0.12 -1099511627776\nbytes\ntail ✓\n";
    const text = dec.decode(zlib.gunzipSync(Deno.readFileSync(path)));
    // %.2f of 0.125 rounds half to even in glibc.
    assert.equal(text, expected);
    const rd = z.call("gzopen", "pointer", ["string", "string"], path, "rb");
    const line = ffi.buffer(64);
    const lines: string[] = [];
    for (;;) {
      const r = z.call("gzgets", "pointer", ["pointer", "pointer", "int"], rd, line, 64);
      if (r.isNull) break;
      assert.equal(r.addr, ffi.toRaw(line).addr);
      lines.push(line.readString());
    }
    assert.equal(lines.join(""), expected);
    assert.equal(z.call("gzeof", "int", ["pointer"], rd), 1);
    assert.equal(z.call("gzclose", "int", ["pointer"], rd), 0);
  } finally {
    Deno.removeSync(path);
  }
});
