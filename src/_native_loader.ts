/**
 * Finds and opens the native library, in this order:
 *
 * 1. the path in `LUNE_FFI_NATIVE` (readable with `--allow-env`);
 * 2. a local build beside the module (`target/release/` of a checkout, resolved from `import.meta.url`,
 *    never from the working directory);
 * 3. the binary the published package ships for this platform.
 *
 * A shipped binary lives in a generated module (`deno task package` writes `_native_shipped.ts` and one
 * module of base64 bytes per platform), so Deno's own module loading fetches it, `deno cache` and the
 * lockfile cover it, and nothing is downloaded at run time. Its bytes are checked against the SHA-256 the
 * manifest fixes at package time, then handed to the system loader without ever being a file another
 * user could write: on Linux through an anonymous memory file (`memfd_create`, sealed, opened as
 * `/proc/self/fd/N`), elsewhere through a file in a fresh private directory (`mkdtemp`, mode 0700).
 * Only `--allow-ffi` is needed: the memory file and the private directory are made through libc.
 *
 * @module
 */

import { _currentPlatform, _currentPlatformName, type Platform } from "./_platforms.ts";

/** Environment variable that overrides where the native library is loaded from. */
export const NATIVE_ENV = "LUNE_FFI_NATIVE";

/** What the generated manifest says of one shipped platform. */
interface ShippedEntry {
  readonly sha256: string;
  readonly size: number;
  readonly load: () => Promise<{ readonly BASE64: string }>;
}

/** This platform's shipped binary, once the module graph has loaded it. */
interface Shipped {
  /** Every platform key the package ships, for messages. */
  readonly keys: readonly string[];
  /** The bytes, checked; `null` when this platform is not shipped. */
  readonly bytes: Uint8Array | null;
  /** Why the bytes cannot be used (a hash or size mismatch), or `null`. */
  readonly problem: string | null;
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Loads this platform's shipped binary through the module graph and checks it. `null` in a checkout
 * that has not been packaged (the manifest module does not exist).
 */
async function loadShipped(): Promise<Shipped | null> {
  let manifest: { SHIPPED?: Record<string, ShippedEntry> };
  try {
    manifest = await import("./_native_shipped.ts");
  } catch {
    return null;
  }
  const table = manifest.SHIPPED ?? {};
  const keys = Object.keys(table);
  const entry = Object.hasOwn(table, _currentPlatformName()) ? table[_currentPlatformName()] : undefined;
  if (entry === undefined) return { keys, bytes: null, problem: null };
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.fromBase64((await entry.load()).BASE64) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    return { keys, bytes: null, problem: `its module could not be loaded (${(e as Error)?.message})` };
  }
  const actual = hex(await crypto.subtle.digest("SHA-256", bytes));
  if (actual !== entry.sha256 || bytes.length !== entry.size) {
    return {
      keys,
      bytes: null,
      problem: `its bytes do not match the package (SHA-256 ${actual}, ${bytes.length} bytes; ` +
        `expected ${entry.sha256}, ${entry.size} bytes)`,
    };
  }
  return { keys, bytes, problem: null };
}

// Top-level await: the first use of the library is synchronous (an `arena.alloc`), so the shipped bytes
// are fetched, decoded and hashed while the module graph loads (about a millisecond).
const shipped: Shipped | null = await loadShipped();

/** The few libc functions the loader needs, bound on first need. */
const LIBC_SYMBOLS = {
  getenv: { parameters: ["buffer"], result: "pointer" },
  memfd_create: { parameters: ["buffer", "u32"], result: "i32", optional: true },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32", optional: true },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  mkdtemp: { parameters: ["buffer"], result: "pointer" },
  creat: { parameters: ["buffer", "u32"], result: "i32" },
  unlink: { parameters: ["buffer"], result: "i32" },
  rmdir: { parameters: ["buffer"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];
let libcSymbols: Libc | undefined;

function libc(): Libc {
  if (libcSymbols === undefined) {
    const names = Deno.build.os === "darwin" ? ["libSystem.B.dylib"] : ["libc.so.6", "libc.so"];
    let last: unknown;
    for (const name of names) {
      try {
        libcSymbols = Deno.dlopen(name, LIBC_SYMBOLS).symbols;
        break;
      } catch (e) {
        if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) throw e;
        last = e;
      }
    }
    if (libcSymbols === undefined) {
      throw new Error(
        `lune-ffi: cannot open the C library to load its native library: ${(last as Error)?.message}`,
      );
    }
  }
  return libcSymbols;
}

function cString(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s + "\0");
}

/** Writes all of `bytes` to `fd`, or throws. */
function writeAll(fd: number, bytes: Uint8Array<ArrayBuffer>): void {
  for (let done = 0; done < bytes.length;) {
    const n = Number(libc().write(fd, bytes.subarray(done), BigInt(bytes.length - done)));
    if (n <= 0) throw new Error("lune-ffi: writing its native library to memory failed");
    done += n;
  }
}

/** `MFD_CLOEXEC | MFD_ALLOW_SEALING`; `F_ADD_SEALS`; seal writes, growth, shrinking and the seals. */
const MFD_FLAGS = 0x1 | 0x2;
const F_ADD_SEALS = 1033;
const ALL_SEALS = 0x1 | 0x2 | 0x4 | 0x8;

/**
 * An anonymous, sealed memory file holding `bytes`, as a path this process alone can open
 * (`/proc/self/fd/N`), or `null` where `memfd_create` is missing or refused. The descriptor stays open
 * for the life of the process: the loader and later `Deno.dlopen` calls of the same library use it.
 */
function memoryFile(bytes: Uint8Array<ArrayBuffer>): string | null {
  const c = libc();
  if (Deno.build.os !== "linux" || c.memfd_create === null) return null;
  const fd = c.memfd_create(cString("lune_ffi"), MFD_FLAGS);
  if (fd < 0) return null;
  writeAll(fd, bytes);
  // Sealed, the bytes checked above are the bytes the loader maps, whoever else holds the descriptor.
  c.fcntl?.(fd, F_ADD_SEALS, ALL_SEALS);
  return `/proc/self/fd/${fd}`;
}

/**
 * A file holding `bytes` in a new directory only this user can enter (`mkdtemp` makes it 0700 and
 * fails rather than reuse a path), for systems without anonymous memory files. It is removed when the
 * program ends.
 * @internal
 * @ignore
 */
export function _privateFile(bytes: Uint8Array<ArrayBuffer>, fileName: string): string {
  const c = libc();
  const template = cString("/tmp/lune-ffi-XXXXXX");
  if (c.mkdtemp(template) === null) throw new Error("lune-ffi: cannot create a private directory in /tmp");
  const dir = new TextDecoder().decode(template.subarray(0, template.length - 1));
  const path = `${dir}/${fileName}`;
  const fd = c.creat(cString(path), 0o500);
  if (fd < 0) throw new Error(`lune-ffi: cannot create ${path}`);
  try {
    writeAll(fd, bytes);
  } finally {
    c.close(fd);
  }
  globalThis.addEventListener("unload", () => {
    c.unlink(cString(path));
    c.rmdir(cString(dir));
  });
  return path;
}

/** Whether `error` is Deno refusing a permission: such errors are passed on as they are. */
function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}

/** The loader's own words from a `Deno.dlopen` failure, without Deno's repeated prefix. */
function loaderMessage(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/^(Could not open library: )+/, "");
}

/**
 * `LUNE_FFI_NATIVE`: its value when set and readable, `undefined` when not set. Set but not readable
 * (no `--allow-env`) is an error that says so: ignoring the variable would load another library than
 * the one asked for. Whether it is set is asked of libc, so a program without `--allow-env` is never
 * prompted for it.
 */
function envOverride(): string | undefined {
  const state = Deno.permissions.querySync({ name: "env", variable: NATIVE_ENV }).state;
  if (state === "granted") return Deno.env.get(NATIVE_ENV) || undefined;
  if (libc().getenv(cString(NATIVE_ENV)) === null) return undefined;
  throw new Error(
    `lune-ffi: ${NATIVE_ENV} is set, but this program may not read it: run with ` +
      `--allow-env=${NATIVE_ENV} to load the library it names, or unset it to use the library the package ships.`,
  );
}

/** Where a local build would be: `target/release/` beside the package, when the module is a file. */
function localBuildPath(platform: Platform | undefined): string | null {
  const url = new URL(`../target/release/${platform?.file ?? "liblune_ffi.so"}`, import.meta.url);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : null;
}

/** An opened native library and the path it was opened from (for further `Deno.dlopen` calls). */
export interface OpenedNative<S extends Deno.ForeignLibraryInterface> {
  readonly library: Deno.DynamicLibrary<S>;
  readonly path: string;
}

/**
 * Opens the native library with `symbols`, by the lookup order of this module. Errors tell the truth:
 * Deno's own permission error when `--allow-ffi` is missing, the override's path and the loader's
 * message when `LUNE_FFI_NATIVE` is wrong, and the platform and how to build for it when the package
 * ships nothing for it.
 * @internal
 * @ignore
 */
export function _openNative<S extends Deno.ForeignLibraryInterface>(symbols: S): OpenedNative<S> {
  const platform = _currentPlatform();
  const override = envOverride();
  if (override !== undefined) {
    try {
      return { library: Deno.dlopen(override, symbols), path: override };
    } catch (cause) {
      if (isPermissionError(cause)) throw cause;
      throw new Error(
        `lune-ffi: cannot load its native library from ${override} (set by ${NATIVE_ENV}): ` +
          `${loaderMessage(cause)}. Point ${NATIVE_ENV} at a library built from this version's native/ ` +
          `(\`cargo build --release\`), or unset it to use the library the package ships.`,
        { cause },
      );
    }
  }

  const local = localBuildPath(platform);
  let localProblem = "";
  if (local !== null) {
    try {
      return { library: Deno.dlopen(local, symbols), path: local };
    } catch (cause) {
      if (isPermissionError(cause)) throw cause;
      if (!/No such file or directory/.test(loaderMessage(cause))) {
        localProblem = ` (${loaderMessage(cause)})`;
      }
    }
  }

  const name = _currentPlatformName();
  if (shipped?.problem) {
    throw new Error(
      `lune-ffi: the native library shipped for ${name} is damaged: ${shipped.problem}. ` +
        `Reload the package (\`deno cache --reload\`) or reinstall it.`,
    );
  }
  if (shipped?.bytes) {
    const bytes = shipped.bytes as Uint8Array<ArrayBuffer>;
    const memory = memoryFile(bytes);
    if (memory !== null) {
      try {
        return { library: Deno.dlopen(memory, symbols), path: memory };
      } catch (cause) {
        // Without a mounted /proc the memory file has no path to open: the private file below.
        if (isPermissionError(cause)) throw cause;
      }
    }
    const path = _privateFile(bytes, platform?.file ?? "liblune_ffi");
    try {
      return { library: Deno.dlopen(path, symbols), path };
    } catch (cause) {
      if (isPermissionError(cause)) throw cause;
      throw new Error(
        `lune-ffi: the system loader refused the native library shipped for ${name}: ${loaderMessage(cause)}`,
        { cause },
      );
    }
  }

  const where = shipped === null
    ? `this copy of the package carries no native library${
      local ? ` and has no local build at ${local}${localProblem}` : ""
    } (in a checkout, run \`cargo build --release\`)`
    : `this package ships native libraries for ${
      shipped.keys.join(", ") || "no platform"
    }, not for ${name} ` +
      `(${Deno.build.os} ${Deno.build.arch})`;
  const target = platform ? ` --target ${platform.target}` : "";
  throw new Error(
    `lune-ffi: no native library for ${name}: ${where}. To build one, get the lune-ffi sources, run ` +
      `\`cargo build --release${target}\` there, and set ${NATIVE_ENV} to the ${
        platform?.file ?? "library"
      } it ` +
      `writes (run with --allow-env=${NATIVE_ENV}).`,
  );
}

/**
 * The platforms the loaded package ships binaries for (empty in an unpackaged checkout).
 * @internal
 * @ignore
 */
export function _shippedPlatforms(): readonly string[] {
  return shipped?.keys ?? [];
}
