/**
 * The platforms a release can ship the native library for: one table, read by the loader (to name the
 * running platform and find its shipped binary) and by `deno task package` (to know what to build).
 *
 * @module
 */

/** One platform: how Deno names it, how Rust names it, and the library file cargo produces there. */
export interface Platform {
  /** The key used in messages and in generated module names: `linux-x86_64`. */
  readonly key: string;
  /** `Deno.build.os` on that platform. */
  readonly os: typeof Deno.build.os;
  /** `Deno.build.arch` on that platform. */
  readonly arch: typeof Deno.build.arch;
  /** The Rust target triple `cargo build --target` takes. */
  readonly target: string;
  /** The file cargo writes for the `lune_ffi` cdylib. */
  readonly file: string;
}

/**
 * Every platform the package can carry a native library for.
 * @internal
 * @ignore
 */
export const PLATFORMS: readonly Platform[] = [
  {
    key: "linux-x86_64",
    os: "linux",
    arch: "x86_64",
    target: "x86_64-unknown-linux-gnu",
    file: "liblune_ffi.so",
  },
  {
    key: "linux-aarch64",
    os: "linux",
    arch: "aarch64",
    target: "aarch64-unknown-linux-gnu",
    file: "liblune_ffi.so",
  },
  {
    key: "macos-x86_64",
    os: "darwin",
    arch: "x86_64",
    target: "x86_64-apple-darwin",
    file: "liblune_ffi.dylib",
  },
  {
    key: "macos-arm64",
    os: "darwin",
    arch: "aarch64",
    target: "aarch64-apple-darwin",
    file: "liblune_ffi.dylib",
  },
  {
    key: "windows-x86_64",
    os: "windows",
    arch: "x86_64",
    target: "x86_64-pc-windows-msvc",
    file: "lune_ffi.dll",
  },
];

/**
 * The running platform's entry, or `undefined` on a platform the table does not know.
 * @internal
 * @ignore
 */
export function _currentPlatform(): Platform | undefined {
  return PLATFORMS.find((p) => p.os === Deno.build.os && p.arch === Deno.build.arch);
}

/**
 * The running platform as messages name it: its key, or `os-arch` when the table lacks it.
 * @internal
 * @ignore
 */
export function _currentPlatformName(): string {
  return _currentPlatform()?.key ?? `${Deno.build.os}-${Deno.build.arch}`;
}
