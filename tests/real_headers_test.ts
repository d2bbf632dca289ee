/**
 * Declarations pasted as they appear in real headers (zlib.h, sqlite3.h, yaml.h, time.h,
 * sys/utsname.h, stdlib.h), with their macros expanded by hand, read by ffi.cdef and used end to end.
 */

import * as ffi from "../mod.ts";
import assert from "node:assert/strict";
import * as nodeZlib from "node:zlib";

// ---------------------------------------------------------------------------------------------------
// zlib.h (1.2.13): `ZEXTERN`, `ZEXPORT`, `OF((...))`, `FAR` and `z_const` expanded.

const ZLIB = ffi.cdef(`
typedef unsigned char  Byte;  /* 8 bits */
typedef unsigned int   uInt;  /* 16 bits or more */
typedef unsigned long  uLong; /* 32 bits or more */
typedef Byte  Bytef;
typedef uLong uLongf;
typedef void *voidpf;

typedef voidpf (*alloc_func)(voidpf opaque, uInt items, uInt size);
typedef void   (*free_func)(voidpf opaque, voidpf address);

struct internal_state;

typedef struct z_stream_s {
    const Bytef *next_in;     /* next input byte */
    uInt     avail_in;  /* number of bytes available at next_in */
    uLong    total_in;  /* total number of input bytes read so far */

    Bytef    *next_out; /* next output byte will go here */
    uInt     avail_out; /* remaining free space at next_out */
    uLong    total_out; /* total number of bytes output so far */

    const char *msg;  /* last error message, NULL if no error */
    struct internal_state *state; /* not visible by applications */

    alloc_func zalloc;  /* used to allocate the internal state */
    free_func  zfree;   /* used to free the internal state */
    voidpf     opaque;  /* private data object passed to zalloc and zfree */

    int     data_type;  /* best guess about the data type: binary or text
                           for deflate, or the decoding state for inflate */
    uLong   adler;      /* Adler-32 or CRC-32 value of the uncompressed data */
    uLong   reserved;   /* reserved for future use */
} z_stream;

typedef z_stream *z_streamp;

#define Z_NO_FLUSH      0
#define Z_FINISH        4
#define Z_OK            0
#define Z_STREAM_END    1
#define Z_DEFAULT_COMPRESSION  (-1)

const char * zlibVersion(void);
int compress(Bytef *dest,   uLongf *destLen,
                                 const Bytef *source, uLong sourceLen);
int compress2(Bytef *dest,   uLongf *destLen,
                                  const Bytef *source, uLong sourceLen,
                                  int level);
uLong compressBound(uLong sourceLen);
int uncompress(Bytef *dest,   uLongf *destLen,
                                   const Bytef *source, uLong sourceLen);
int deflateInit_(z_streamp strm, int level,
                                     const char *version, int stream_size);
int deflate(z_streamp strm, int flush);
int deflateEnd(z_streamp strm);
int inflateInit_(z_streamp strm,
                                     const char *version, int stream_size);
int inflate(z_streamp strm, int flush);
int inflateEnd(z_streamp strm);
`);

Deno.test("zlib.h: compress2/uncompress round trip through prototypes read by cdef", () => {
  using libz = ffi.load("libz.so.1");
  const z = libz.bind(ZLIB);
  using arena = ffi.arena();
  const text = "the quick brown fox jumps over the lazy dog. ".repeat(40);
  const src = new TextEncoder().encode(text);
  const bound = Number(z.compressBound(src.length));
  const dest = arena.alloc(bound);
  const destLen = arena.allocType(ZLIB.uLongf);
  destLen.write(0, ZLIB.uLongf, bound);
  assert.equal(z.compress2(dest, destLen, src, src.length, 9), ZLIB.Z_OK);
  const n = Number(destLen.read(0, "u64"));
  assert.ok(n < src.length / 5);
  // node:zlib reads what C wrote.
  const packed = new Uint8Array(n);
  for (let i = 0; i < n; i++) packed[i] = dest.read(i, "u8");
  assert.equal(new TextDecoder().decode(nodeZlib.inflateSync(packed)), text);
  const back = arena.alloc(src.length);
  const backLen = arena.allocType("unsigned long");
  backLen.write(0, "unsigned long", src.length);
  assert.equal(z.uncompress(back, backLen, dest, n), ZLIB.Z_OK);
  assert.equal(ffi.string(back, src.length), text);
});

Deno.test("zlib.h: a z_stream from the pasted typedef deflates and inflates in chunks", () => {
  using libz = ffi.load("libz.so.1");
  const z = libz.bind(ZLIB);
  const ZStream = ZLIB.z_stream;
  assert.equal(ZStream, ZLIB["struct z_stream_s"]);
  assert.equal(ZStream.size, 112);
  using arena = ffi.arena();
  const input = new TextEncoder().encode("streaming ".repeat(500));
  const strm = ffi.view(arena.allocType(ZStream), ZStream);
  const version = z.zlibVersion();
  assert.equal(z.deflateInit_(strm, ZLIB.Z_DEFAULT_COMPRESSION, version, ZStream.size), ZLIB.Z_OK);
  const inBuf = arena.alloc(input.length);
  input.forEach((b, i) => inBuf.write(i, "u8", b));
  const out = arena.alloc(64);
  const chunks: number[] = [];
  strm.next_in = inBuf;
  strm.avail_in = input.length;
  let rc: number;
  do {
    strm.next_out = out;
    strm.avail_out = 64;
    rc = z.deflate(strm, ZLIB.Z_FINISH);
    for (let i = 0; i < 64 - strm.avail_out; i++) chunks.push(out.read(i, "u8"));
  } while (rc !== ZLIB.Z_STREAM_END);
  assert.equal(strm.total_in, BigInt(input.length));
  assert.equal(z.deflateEnd(strm), ZLIB.Z_OK);
  assert.deepEqual(nodeZlib.inflateSync(new Uint8Array(chunks)), Buffer.from(input));
});

// ---------------------------------------------------------------------------------------------------
// sqlite3.h (3.40): `SQLITE_API` expanded (to nothing).

const SQLITE = ffi.cdef(`
typedef struct sqlite3 sqlite3;
const char *sqlite3_libversion(void);
int sqlite3_open(
  const char *filename,   /* Database filename (UTF-8) */
  sqlite3 **ppDb          /* OUT: SQLite db handle */
);
int sqlite3_close(sqlite3*);
typedef int (*sqlite3_callback)(void*,int,char**, char**);
int sqlite3_exec(
  sqlite3*,                                  /* An open database */
  const char *sql,                           /* SQL to be evaluated */
  int (*callback)(void*,int,char**,char**),  /* Callback function */
  void *,                                    /* 1st argument to callback */
  char **errmsg                              /* Error msg written here */
);
void sqlite3_free(void*);
#define SQLITE_OK           0   /* Successful result */
#define SQLITE_ERROR        1   /* Generic error */
#define SQLITE_ABORT        4   /* Callback routine requested an abort */
`);

Deno.test("sqlite3.h: open, exec with a callback typed by the sqlite3_callback typedef, close", () => {
  using lib = ffi.load("libsqlite3.so.0");
  const sq = lib.bind(SQLITE);
  assert.match(sq.sqlite3_libversion(), /^3\./);
  using arena = ffi.arena();
  const ppDb = arena.allocType("void **");
  assert.equal(sq.sqlite3_open(":memory:", ppDb), SQLITE.SQLITE_OK);
  const db = ppDb.read(0, "pointer");
  const rows: Record<string, string | null>[] = [];
  using onRow = ffi.callback(
    (_ctx: ffi.RawPointer, n: number, values: ffi.RawPointer, names: ffi.RawPointer) => {
      const row: Record<string, string | null> = {};
      for (let i = 0; i < n; i++) row[names.read(i * 8, "string")!] = values.read(i * 8, "string");
      rows.push(row);
      return 0;
    },
    SQLITE.sqlite3_callback,
  );
  const errmsg = arena.allocType("char **");
  const sql = "CREATE TABLE t(id INTEGER, name TEXT); INSERT INTO t VALUES (1, 'ada'), (2, NULL);" +
    "SELECT id, name FROM t ORDER BY id;";
  assert.equal(sq.sqlite3_exec(db, sql, onRow, null, errmsg), SQLITE.SQLITE_OK);
  assert.deepEqual(rows, [{ id: "1", name: "ada" }, { id: "2", name: null }]);
  // An error message comes back through the char** and is freed by sqlite3_free.
  assert.equal(sq.sqlite3_exec(db, "SELECT nope FROM t", null, null, errmsg), SQLITE.SQLITE_ERROR);
  const msg = errmsg.read(0, "pointer");
  assert.match(ffi.string(msg), /no such column: nope/);
  sq.sqlite3_free(msg);
  assert.equal(sq.sqlite3_close(db), SQLITE.SQLITE_OK);
});

// ---------------------------------------------------------------------------------------------------
// yaml.h (libyaml 0.2.5): `YAML_DECLARE(type)` expanded to `type`; yaml_parser_t is kept opaque
// (only libyaml reads it): allocated at its sizeof, 480 bytes on x86_64.

const YAML = ffi.cdef(`
typedef unsigned char yaml_char_t;

typedef struct yaml_version_directive_s {
    int major;
    int minor;
} yaml_version_directive_t;

typedef struct yaml_tag_directive_s {
    yaml_char_t *handle;
    yaml_char_t *prefix;
} yaml_tag_directive_t;

typedef enum yaml_encoding_e {
    YAML_ANY_ENCODING,
    YAML_UTF8_ENCODING,
    YAML_UTF16LE_ENCODING,
    YAML_UTF16BE_ENCODING
} yaml_encoding_t;

typedef struct yaml_mark_s {
    size_t index;
    size_t line;
    size_t column;
} yaml_mark_t;

typedef enum yaml_scalar_style_e {
    YAML_ANY_SCALAR_STYLE,
    YAML_PLAIN_SCALAR_STYLE,
    YAML_SINGLE_QUOTED_SCALAR_STYLE,
    YAML_DOUBLE_QUOTED_SCALAR_STYLE,
    YAML_LITERAL_SCALAR_STYLE,
    YAML_FOLDED_SCALAR_STYLE
} yaml_scalar_style_t;

typedef enum yaml_sequence_style_e {
    YAML_ANY_SEQUENCE_STYLE,
    YAML_BLOCK_SEQUENCE_STYLE,
    YAML_FLOW_SEQUENCE_STYLE
} yaml_sequence_style_t;

typedef enum yaml_mapping_style_e {
    YAML_ANY_MAPPING_STYLE,
    YAML_BLOCK_MAPPING_STYLE,
    YAML_FLOW_MAPPING_STYLE
} yaml_mapping_style_t;

typedef enum yaml_event_type_e {
    YAML_NO_EVENT,
    YAML_STREAM_START_EVENT,
    YAML_STREAM_END_EVENT,
    YAML_DOCUMENT_START_EVENT,
    YAML_DOCUMENT_END_EVENT,
    YAML_ALIAS_EVENT,
    YAML_SCALAR_EVENT,
    YAML_SEQUENCE_START_EVENT,
    YAML_SEQUENCE_END_EVENT,
    YAML_MAPPING_START_EVENT,
    YAML_MAPPING_END_EVENT
} yaml_event_type_t;

typedef struct yaml_event_s {
    yaml_event_type_t type;
    union {
        struct {
            yaml_encoding_t encoding;
        } stream_start;
        struct {
            yaml_version_directive_t *version_directive;
            struct {
                yaml_tag_directive_t *start;
                yaml_tag_directive_t *end;
            } tag_directives;
            int implicit;
        } document_start;
        struct {
            int implicit;
        } document_end;
        struct {
            yaml_char_t *anchor;
        } alias;
        struct {
            yaml_char_t *anchor;
            yaml_char_t *tag;
            yaml_char_t *value;
            size_t length;
            int plain_implicit;
            int quoted_implicit;
            yaml_scalar_style_t style;
        } scalar;
        struct {
            yaml_char_t *anchor;
            yaml_char_t *tag;
            int implicit;
            yaml_sequence_style_t style;
        } sequence_start;
        struct {
            yaml_char_t *anchor;
            yaml_char_t *tag;
            int implicit;
            yaml_mapping_style_t style;
        } mapping_start;
    } data;
    yaml_mark_t start_mark;
    yaml_mark_t end_mark;
} yaml_event_t;

typedef struct yaml_parser_s yaml_parser_t;
#define YAML_PARSER_SIZE 480

const char *
yaml_get_version_string(void);
int
yaml_parser_initialize(yaml_parser_t *parser);
void
yaml_parser_delete(yaml_parser_t *parser);
void
yaml_parser_set_input_string(yaml_parser_t *parser,
        const unsigned char *input, size_t size);
int
yaml_parser_parse(yaml_parser_t *parser, yaml_event_t *event);
void
yaml_event_delete(yaml_event_t *event);
`);

Deno.test("yaml.h: libyaml's event union, read through the cdef definition", () => {
  const Event = YAML.yaml_event_t;
  // What gcc gives (sizeof, offsetof(data), offsetof(start_mark), offsetof(data.scalar.length)).
  assert.equal(Event.size, 104);
  assert.equal(Event.offsetOf("data"), 8);
  assert.equal(Event.offsetOf("start_mark"), 56);
  assert.equal(Event.offsetOf("data") + YAML.yaml_event_t.spec[1][1].offsetOf("scalar") + 24, 32);
  using lib = ffi.load("libyaml-0.so.2");
  const y = lib.bind(YAML);
  assert.match(y.yaml_get_version_string(), /^0\.2\./);
  using arena = ffi.arena();
  const parser = arena.alloc(YAML.YAML_PARSER_SIZE);
  assert.equal(y.yaml_parser_initialize(parser), 1);
  const doc = new TextEncoder().encode("name: lune\nlist: [1, two]\n");
  y.yaml_parser_set_input_string(parser, doc, doc.length);
  const ev = ffi.view(arena.allocType(Event), Event);
  const seen: string[] = [];
  for (;;) {
    assert.equal(y.yaml_parser_parse(parser, ev), 1);
    const type = ev.type;
    if (type === YAML.YAML_SCALAR_EVENT) {
      const s = ev.data.scalar;
      seen.push(
        `scalar ${ffi.string(s.value, Number(s.length))} @${ev.start_mark.line}:${ev.start_mark.column}`,
      );
    } else if (type === YAML.YAML_SEQUENCE_START_EVENT) {
      seen.push(`seq ${ev.data.sequence_start.style === YAML.YAML_FLOW_SEQUENCE_STYLE ? "flow" : "block"}`);
    } else if (type === YAML.YAML_MAPPING_START_EVENT) {
      seen.push("map");
    } else if (type === YAML.YAML_STREAM_START_EVENT) {
      assert.equal(ev.data.stream_start.encoding, YAML.YAML_UTF8_ENCODING);
    }
    y.yaml_event_delete(ev);
    if (type === YAML.YAML_STREAM_END_EVENT) break;
  }
  y.yaml_parser_delete(parser);
  assert.deepEqual(seen, [
    "map",
    "scalar name @0:0",
    "scalar lune @0:6",
    "scalar list @1:0",
    "seq flow",
    "scalar 1 @1:7",
    "scalar two @1:10",
  ]);
});

// ---------------------------------------------------------------------------------------------------
// time.h (glibc 2.36): `__time_t`, `__restrict` and the `__USE_MISC` fields expanded.

const TIME = ffi.cdef(`
typedef long int __time_t;
typedef __time_t time_t;
struct tm
{
  int tm_sec;			/* Seconds.	[0-60] (1 leap second) */
  int tm_min;			/* Minutes.	[0-59] */
  int tm_hour;			/* Hours.	[0-23] */
  int tm_mday;			/* Day.		[1-31] */
  int tm_mon;			/* Month.	[0-11] */
  int tm_year;			/* Year	- 1900.  */
  int tm_wday;			/* Day of week.	[0-6] */
  int tm_yday;			/* Days in year.[0-365]	*/
  int tm_isdst;			/* DST.		[-1/0/1]*/

  long int tm_gmtoff;		/* Seconds east of UTC.  */
  const char *tm_zone;		/* Timezone abbreviation.  */
};
extern time_t mktime (struct tm *__tp);
extern size_t strftime (char *__restrict __s, size_t __maxsize,
			const char *__restrict __format,
			const struct tm *__restrict __tp);
extern struct tm *gmtime_r (const time_t *__restrict __timer,
			    struct tm *__restrict __tp);
extern struct tm *localtime_r (const time_t *__restrict __timer,
			       struct tm *__restrict __tp);
`);

Deno.test("time.h: struct tm with gmtime_r/localtime_r and strftime", () => {
  using libc = ffi.load("libc.so.6");
  const c = libc.bind(TIME);
  const Tm = TIME.tm;
  assert.equal(Tm.size, 56);
  assert.equal(Tm.offsetOf("tm_zone"), 48);
  using arena = ffi.arena();
  const t = arena.allocType(TIME.time_t);
  t.write(0, TIME.time_t, 1_700_000_000);
  const tm = ffi.view(arena.allocType(Tm), Tm);
  assert.equal(c.gmtime_r(t, tm).addr, ffi.toRaw(tm).addr);
  assert.deepEqual([tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour], [2023, 11, 14, 22]);
  assert.equal(tm.tm_zone, "GMT");
  const buf = arena.alloc(64);
  const n = c.strftime(buf, 64, "%Y-%m-%d %H:%M:%S", tm);
  assert.equal(ffi.string(buf, Number(n)), "2023-11-14 22:13:20");
  // localtime_r gives the same instant back through mktime.
  const local = ffi.view(arena.allocType(Tm), Tm);
  c.localtime_r(t, local);
  assert.equal(c.mktime(local), 1_700_000_000n);
  // A struct tm initialiser: the fields left out are zero.
  const tm2 = arena.allocType(Tm);
  ffi.write(tm2, 0, Tm, { tm_year: 124, tm_mday: 29, tm_mon: 1, tm_hour: 12 });
  assert.equal(c.strftime(buf, 64, "%F %T", tm2), 19n);
  assert.equal(ffi.string(buf), "2024-02-29 12:00:00");
});

// ---------------------------------------------------------------------------------------------------
// sys/utsname.h and stdlib.h

Deno.test("sys/utsname.h: char arrays print as text; qsort with a cmp_fn typedef callback", () => {
  const U = ffi.cdef(`
    #define _UTSNAME_LENGTH 65
    struct utsname {
      char sysname[_UTSNAME_LENGTH];
      char nodename[_UTSNAME_LENGTH];
      char release[_UTSNAME_LENGTH];
      char version[_UTSNAME_LENGTH];
      char machine[_UTSNAME_LENGTH];
      char domainname[_UTSNAME_LENGTH];
    };
    extern int uname (struct utsname *__name);
    typedef int (*__compar_fn_t) (const void *, const void *);
    extern void qsort (void *__base, size_t __nmemb, size_t __size, __compar_fn_t __compar);
  `);
  using libc = ffi.load("libc.so.6");
  const c = libc.bind(U);
  using arena = ffi.arena();
  const u = ffi.view(arena.allocType(U.utsname), U.utsname);
  assert.equal(c.uname(u), 0);
  assert.equal(`${u.sysname}`, Deno.build.os === "linux" ? "Linux" : `${u.sysname}`);
  assert.equal(String(u.machine), Deno.build.arch);
  assert.ok(ffi.string(u.nodename).length > 0);
  assert.equal(ffi.string(u.release), String(u.release));
  const ints = ffi.cast(arena.allocArray("int", 5), "int", 5);
  [5, 3, 9, -1, 0].forEach((v, i) => ints[i] = v);
  using cmp = ffi.callback(
    (a: ffi.RawPointer, b: ffi.RawPointer) => a.read(0, "int") - b.read(0, "int"),
    U.__compar_fn_t,
  );
  c.qsort(ints, 5, ffi.sizeof("int"), cmp);
  assert.deepEqual([...ints], [-1, 0, 3, 5, 9]);
});
