/**
 * The published package, as a user gets it: `deno task package`, then exactly the files
 * `deno publish --dry-run` lists, served over http on 127.0.0.1 and imported from a fresh directory with a
 * fresh Deno cache and no Rust on the PATH, with `--allow-ffi` alone. Also: the lookup order, the errors
 * for a missing permission, a bad override and an unshipped platform, and that the shipped binary is what
 * the sources build.
 */

import assert from "node:assert/strict";
import { _privateFile } from "../src/_native_loader.ts";
import { _nativeLibraryPath } from "../src/_native.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const dec = new TextDecoder();

function deno(args: string[], opts: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {}) {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd: opts.cwd ?? root,
    env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1", ...opts.env },
    clearEnv: opts.clearEnv,
    stdout: "piped",
    stderr: "piped",
  }).output().then((o) => ({ code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) }));
}

/** Runs `deno task package` once for the whole file, then lists what `deno publish` would upload. */
async function publishedFiles(): Promise<string[]> {
  const pkg = await deno(["task", "package"]);
  assert.equal(pkg.code, 0, pkg.stderr + pkg.stdout);
  const dry = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(dry.code, 0, dry.stderr);
  const files = [...(dry.stdout + dry.stderr).matchAll(/^\s+file:\/\/(\S+) \(/gm)].map((m) => m[1]);
  assert.ok(files.length > 5, dry.stdout + dry.stderr);
  return files;
}

/** Copies `files` (absolute paths under the repo) into a fresh directory, keeping their relative paths. */
function stage(files: string[]): string {
  const dir = Deno.makeTempDirSync({ prefix: "lune-ffi-pkg-" });
  for (const f of files) {
    const rel = f.slice(root.length + 1);
    Deno.mkdirSync(`${dir}/${rel}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.copyFileSync(f, `${dir}/${rel}`);
  }
  return dir;
}

/** Serves `dir` over http on 127.0.0.1; the server and its URL. */
function serve(dir: string) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(dir + path);
      return new Response(body, { headers: { "content-type": "application/typescript" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const { port } = server.addr as Deno.NetAddr;
  return { server, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
}

/** A fresh user: an empty directory, an empty Deno cache, and a PATH with deno and nothing else. */
function freshUser() {
  const home = Deno.makeTempDirSync({ prefix: "lune-ffi-user-" });
  Deno.mkdirSync(`${home}/bin`);
  Deno.symlinkSync(Deno.execPath(), `${home}/bin/deno`);
  return {
    home,
    env: { PATH: `${home}/bin`, HOME: home, DENO_DIR: `${home}/deno_dir`, NO_COLOR: "1" },
  };
}

const QUICK_START = (url: string) =>
  `import * as ffi from "${url}/mod.ts";
using arena = ffi.arena();
const ints = ffi.cast(arena.alloc(1024), "i32");
ints[0] = 42;
console.log(ints[0]);
using libc = ffi.load("libc.so.6");
console.log("PID:", libc.call("getpid", "i32", []));
`;

const WHOLE_API = (url: string) =>
  `import * as ffi from "${url}/mod.ts";
using arena = ffi.arena();
using libc = ffi.load("libc.so.6");
// calls: strlen of a JS string, snprintf (variadic, with a double)
const strlen = libc.fn("strlen", "usize", ["string"]);
const out = arena.alloc(64);
libc.call("snprintf", "i32", ["pointer", "usize", "string", "i32", "f64"], out, 64, "%d %.2f", 7, 2.5);
// callbacks: qsort with a JS comparator
const n = 5;
const ints = ffi.cast(arena.allocArray("i32", n), "i32", n);
[5, 3, 9, 1, 7].forEach((v, i) => (ints[i] = v));
using cmp = ffi.callback((a, b) => ffi.read(a, 0, "i32") - ffi.read(b, 0, "i32"), "i32", ["pointer", "pointer"]);
libc.call("qsort", "void", ["pointer", "usize", "usize", "pointer"], ints, n, 4, cmp.ptr);
// structs by value: div(7, 2) returns div_t { quot, rem }
const DivT = ffi.struct([["quot", "i32"], ["rem", "i32"]]);
const d = libc.call("div", DivT, ["i32", "i32"], 7, 2);
// listExports and Buffer
const exported = libc.listExports().some((e) => e.name === "getpid" && e.kind === "function");
// C declarations, a call through a pointer, errno, and a call that does not block
const defs = ffi.cdef("size_t strlen(const char *s); int abs(int);");
const api = libc.bind(defs);
const absByPointer = ffi.fn(libc.getSymbol("abs")!, "i32", ["i32"]);
libc.call("open", "i32", ["string", "i32"], "/nonexistent/file", 0);
const errno = ffi.errno();
const slowAbs = libc.fn("abs", "i32", ["i32"], { nonblocking: true });
const buf = ffi.buffer(16);
buf.writeString(0, "héllo");
console.log(JSON.stringify({
  strlen: Number(strlen("héllo")),
  snprintf: out.readString(0),
  sorted: Array.from({ length: n }, (_, i) => ints[i]),
  div: d,
  exported,
  buffer: buf.readString(0),
  cdef: [Number(api.strlen("abc")), api.abs(-4)],
  byPointer: absByPointer(-5),
  errno,
  nonblocking: await slowAbs(-6),
}));
`;

Deno.test("the published files, served over http, run the Quick Start and the whole API with --allow-ffi alone", async (t) => {
  const files = await publishedFiles();
  assert.ok(files.some((f) => f.endsWith("src/_native_shipped.ts")), "the manifest is published");
  assert.ok(
    files.some((f) => f.endsWith("src/_native_bin/linux_x86_64.ts")),
    "the linux-x86_64 binary is published",
  );
  assert.ok(
    !files.some((f) => f.includes("/native/") || f.includes("/target/")),
    "no sources or build output",
  );
  const dir = stage(files);
  const { server, url, host } = serve(dir);
  const user = freshUser();
  try {
    Deno.writeTextFileSync(`${user.home}/quick_start.ts`, QUICK_START(url));
    Deno.writeTextFileSync(`${user.home}/whole_api.ts`, WHOLE_API(url));
    const run = (script: string, flags: string[], env: Record<string, string> = {}) =>
      deno(["run", ...flags, script], { cwd: user.home, env: { ...user.env, ...env }, clearEnv: true });

    await t.step("the Quick Start prints 42 and its PID", async () => {
      const r = await run("quick_start.ts", ["--allow-ffi", `--allow-import=${host}`]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines[0], "42");
      assert.match(lines[1], /^PID: \d+$/);
    });

    await t.step(
      "calls, callbacks, structs by value, listExports, Buffer, cdef, ffi.fn, errno and nonblocking calls work",
      async () => {
        const r = await run("whole_api.ts", ["--allow-ffi", `--allow-import=${host}`]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), {
          strlen: 6,
          snprintf: "7 2.50",
          sorted: [1, 3, 5, 7, 9],
          div: { quot: 3, rem: 1 },
          exported: true,
          buffer: "héllo",
          cdef: [3, 4],
          byPointer: 5,
          errno: 2,
          nonblocking: 6,
        });
      },
    );

    await t.step("once cached, it runs offline (server gone, --cached-only)", async () => {
      await server.shutdown();
      const r = await run("quick_start.ts", ["--allow-ffi", `--allow-import=${host}`, "--cached-only"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split("\n")[0], "42");
    });

    await t.step("without --allow-ffi the error is Deno's permission error, not build advice", async () => {
      const r = await run("quick_start.ts", [`--allow-import=${host}`, "--cached-only"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--allow-ffi/);
      assert.doesNotMatch(r.stderr, /cargo/);
    });

    await t.step("LUNE_FFI_NATIVE set without --allow-env says so", async () => {
      const r = await run("quick_start.ts", ["--allow-ffi", `--allow-import=${host}`, "--cached-only"], {
        LUNE_FFI_NATIVE: "/somewhere/liblune_ffi.so",
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /LUNE_FFI_NATIVE is set/);
      assert.match(r.stderr, /--allow-env=LUNE_FFI_NATIVE/);
    });

    await t.step("LUNE_FFI_NATIVE comes first: with --allow-env it is the library loaded", async () => {
      const bad = await run("quick_start.ts", [
        "--allow-ffi",
        "--allow-env",
        `--allow-import=${host}`,
        "--cached-only",
      ], {
        LUNE_FFI_NATIVE: "/nonexistent/liblune_ffi.so",
      });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /\/nonexistent\/liblune_ffi\.so \(set by LUNE_FFI_NATIVE\)/);
      const good = await run("quick_start.ts", [
        "--allow-ffi",
        "--allow-env",
        `--allow-import=${host}`,
        "--cached-only",
      ], {
        LUNE_FFI_NATIVE: `${root}/target/release/liblune_ffi.so`,
      });
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.stdout.trim().split("\n")[0], "42");
    });
  } finally {
    await server.shutdown().catch(() => {});
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(user.home, { recursive: true });
  }
});

Deno.test("a platform the package does not ship, or damaged bytes, give errors that say so", async (t) => {
  const files = await publishedFiles();
  const dir = stage(files);
  const manifest = `${dir}/src/_native_shipped.ts`;
  const original = Deno.readTextFileSync(manifest);
  const { server, url, host } = serve(dir);
  const user = freshUser();
  try {
    Deno.writeTextFileSync(`${user.home}/quick_start.ts`, QUICK_START(url));
    const run = () =>
      deno(["run", "--allow-ffi", `--allow-import=${host}`, "--reload", "quick_start.ts"], {
        cwd: user.home,
        env: user.env,
        clearEnv: true,
      });

    await t.step("no binary for this platform: the error names it and says how to build one", async () => {
      Deno.writeTextFileSync(manifest, original.replace('"linux-x86_64"', '"macos-arm64"'));
      const r = await run();
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /no native library for linux-x86_64/);
      assert.match(r.stderr, /linux x86_64/);
      assert.match(r.stderr, /ships native libraries for macos-arm64/);
      assert.match(r.stderr, /cargo build --release --target x86_64-unknown-linux-gnu/);
    });

    await t.step("bytes that do not match the manifest's SHA-256 are never loaded", async () => {
      Deno.writeTextFileSync(
        manifest,
        original.replace(/sha256: "([0-9a-f])/, (_, c) => `sha256: "${c === "0" ? "1" : "0"}`),
      );
      const r = await run();
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /shipped for linux-x86_64 is damaged/);
      assert.match(r.stderr, /SHA-256/);
    });
  } finally {
    await server.shutdown();
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(user.home, { recursive: true });
  }
});

Deno.test("in a checkout the local build beside the module is loaded, not the shipped bytes", () => {
  assert.equal(_nativeLibraryPath(), `${root}/target/release/liblune_ffi.so`);
});

Deno.test("without anonymous memory files, the bytes go to a private directory only this user can enter", () => {
  const bytes = Deno.readFileSync(`${root}/target/release/liblune_ffi.so`);
  const path = _privateFile(bytes, "liblune_ffi.so");
  const dir = path.replace(/\/[^/]+$/, "");
  assert.match(dir, /^\/tmp\/lune-ffi-/);
  assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
  assert.equal(Deno.statSync(path).uid, Deno.uid());
  const lib = Deno.dlopen(path, { lffi_mem_addr: { parameters: ["pointer"], result: "f64" } });
  try {
    assert.equal(lib.symbols.lffi_mem_addr(Deno.UnsafePointer.create(4096n)), 4096);
  } finally {
    lib.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the shipped binary is what the sources build: a rebuild elsewhere gives the same bytes", async () => {
  const r = await deno(["task", "package", "--verify"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /gives the shipped bytes/);
});

Deno.test("the published documentation shows no internal members", async () => {
  const r = await deno(["doc", "--json", "mod.ts"]);
  assert.equal(r.code, 0, r.stderr);
  const leaks: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
    if (node === null || typeof node !== "object") return;
    const o = node as Record<string, unknown>;
    const tags = (o.jsDoc as { tags?: { kind: string }[] } | undefined)?.tags ?? [];
    const name = typeof o.name === "string" ? o.name : "";
    if (tags.some((t) => t.kind === "internal")) leaks.push(`${path} ${name} (@internal)`);
    if (/^_[a-z]/i.test(name) && (o.kind !== undefined || o.jsDoc !== undefined)) {
      leaks.push(`${path} ${name}`);
    }
    for (const [k, v] of Object.entries(o)) if (k !== "jsDoc") walk(v, `${path}.${k}`);
  };
  walk(JSON.parse(r.stdout), "doc");
  assert.deepEqual(leaks, []);
});
