/** The C library's name on this platform, for the raw `Deno.dlopen` baselines. */
export const LIBC: string = Deno.build.os === "darwin"
  ? "libSystem.dylib"
  : Deno.build.os === "windows"
  ? "msvcrt.dll"
  : "libc.so.6";
