/**
 * `deno task package`: builds `native/` for every platform whose Rust toolchain is installed and writes
 * what `deno publish` ships of it:
 *
 * - `src/_native_bin/<platform>.ts`: the library's bytes, base64, one module per platform (so a user
 *   downloads only their own);
 * - `src/_native_shipped.ts`: the manifest, with each platform's SHA-256 and size, which the loader checks
 *   the bytes against before handing them to the system loader.
 *
 * Both are generated, never committed (`.gitignore`), and always what `native/` builds. The build is
 * reproducible: its own cargo profile (`shipped`: release, symbols stripped) and source paths remapped, so
 * the same sources give the same bytes in any directory. `--verify` rebuilds from a copy of the sources
 * in a temporary directory and fails unless the bytes equal the manifest's.
 *
 * @module
 */

import { PLATFORMS } from "../src/_platforms.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const binDir = `${root}/src/_native_bin`;
const manifestPath = `${root}/src/_native_shipped.ts`;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const out = new Deno.Command(cmd, { args, ...opts, stdout: "piped", stderr: "piped" }).outputSync();
  const dec = new TextDecoder();
  return { ok: out.success, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The module-name form of a platform key: `linux-x86_64` → `linux_x86_64`. */
function moduleName(key: string): string {
  return key.replaceAll("-", "_");
}

/** Builds `native/` at `src` for `target`; the library's bytes, or why it could not. */
function build(src: string, target: string, file: string): Uint8Array<ArrayBuffer> | string {
  const sysroot = run("rustc", ["--print", "sysroot"]).stdout.trim();
  try {
    Deno.statSync(`${sysroot}/lib/rustlib/${target}/lib`);
  } catch {
    return `no Rust standard library for ${target} (rustup target add ${target})`;
  }
  // Paths remapped so the bytes do not depend on where the sources or cargo's registry sit.
  const cargoHome = Deno.env.get("CARGO_HOME") ?? `${Deno.env.get("HOME")}/.cargo`;
  const env = {
    RUSTFLAGS: `--remap-path-prefix=${src}=/lune-ffi --remap-path-prefix=${cargoHome}=/cargo`,
    CARGO_TARGET_DIR: `${src}/target`,
  };
  const r = run("cargo", [
    "build",
    "--quiet",
    "--profile",
    "shipped",
    "-p",
    "lune_ffi_native",
    "--target",
    target,
  ], {
    cwd: src,
    env,
  });
  if (!r.ok) return `cargo failed: ${r.stderr.trim().split("\n").slice(-3).join(" / ")}`;
  return Deno.readFileSync(`${src}/target/${target}/shipped/${file}`);
}

/** Copies the files the native build reads into a new temporary directory (for `--verify`). */
function copySources(): string {
  const dir = Deno.makeTempDirSync({ prefix: "lune-ffi-verify-" });
  const files = run("git", ["ls-files", "Cargo.toml", "Cargo.lock", "native", "tests/fixture"], {
    cwd: root,
  });
  if (!files.ok) throw new Error(`git ls-files failed: ${files.stderr}`);
  for (const rel of files.stdout.split("\n").filter(Boolean)) {
    const to = `${dir}/${rel}`;
    Deno.mkdirSync(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    Deno.copyFileSync(`${root}/${rel}`, to);
  }
  return dir;
}

async function verify(): Promise<number> {
  const manifest = await import(manifestPath);
  const host = PLATFORMS.find((p) => p.os === Deno.build.os && p.arch === Deno.build.arch);
  const entry = host && manifest.SHIPPED[host.key];
  if (!host || !entry) {
    console.error(`verify: the manifest has no entry for this platform; run deno task package first`);
    return 1;
  }
  const dir = copySources();
  try {
    const bytes = build(dir, host.target, host.file);
    if (typeof bytes === "string") {
      console.error(`verify: rebuild failed: ${bytes}`);
      return 1;
    }
    const hash = await sha256(bytes);
    if (hash !== entry.sha256) {
      console.error(`verify: a rebuild in ${dir} gave SHA-256 ${hash}, the package ships ${entry.sha256}`);
      return 1;
    }
    console.log(
      `verify: a rebuild from a copy of the sources gives the shipped bytes (${host.key}, ${hash})`,
    );
    return 0;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

async function packageAll(): Promise<number> {
  try {
    Deno.removeSync(binDir, { recursive: true });
  } catch {
    // Nothing packaged yet.
  }
  Deno.mkdirSync(binDir, { recursive: true });
  const entries: string[] = [];
  const skipped: string[] = [];
  for (const p of PLATFORMS) {
    const bytes = build(root, p.target, p.file);
    if (typeof bytes === "string") {
      skipped.push(`${p.key}: ${bytes}`);
      continue;
    }
    const hash = await sha256(bytes);
    const mod = moduleName(p.key);
    Deno.writeTextFileSync(
      `${binDir}/${mod}.ts`,
      `// Generated by \`deno task package\` from native/ (${p.target}, ${bytes.length} bytes). Do not edit.\n` +
        `/**\n * The native library for ${p.key}, base64.\n * @internal\n * @ignore\n */\n` +
        `export const BASE64: string =\n  "${bytes.toBase64()}";\n`,
    );
    entries.push(
      `  "${p.key}": {\n    sha256: "${hash}",\n    size: ${bytes.length},\n` +
        `    load: () => import("./_native_bin/${mod}.ts"),\n  },\n`,
    );
    console.log(`built ${p.key} (${p.target}): ${bytes.length} bytes, SHA-256 ${hash}`);
  }
  Deno.writeTextFileSync(
    manifestPath,
    `// Generated by \`deno task package\`. Do not edit: the loader checks each binary against its SHA-256.\n` +
      `/**\n * The native libraries this package ships, by platform.\n * @internal\n * @ignore\n */\n` +
      `export const SHIPPED: Record<string, { sha256: string; size: number; load: () => Promise<{ BASE64: string }> }> = {\n` +
      entries.join("") + `};\n`,
  );
  for (const s of skipped) console.log(`skipped ${s}`);
  if (entries.length === 0) {
    console.error("no platform could be built");
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(Deno.args.includes("--verify") ? await verify() : await packageAll());
}
