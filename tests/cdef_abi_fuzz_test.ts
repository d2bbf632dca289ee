/**
 * Random small structs and unions (floats, bitfields, arrays, anonymous unions, packing) passed to and
 * returned from C by value, against code the system's C compiler built (see _cdef_abi_child.ts). The
 * check runs in a child process: a calling convention that disagrees with C's can crash, and a crash
 * is the failure. Skipped if there is no `cc`.
 */

import assert from "node:assert/strict";

const hasCC = await new Deno.Command(Deno.env.get("CC") ?? "cc", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "random structs and unions by value: C and lune-ffi agree on the calling convention (child process)",
  ignore: !hasCC,
  async fn() {
    const seeds = (Deno.env.get("CDEF_ABI_SEEDS") ?? "1,2,3,4,5,6,7,8,36").split(",");
    const child = decodeURIComponent(new URL("./_cdef_abi_child.ts", import.meta.url).pathname);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        "--allow-env",
        child,
        ...seeds,
      ],
      env: { NO_COLOR: "1" },
    }).output();
    const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`ok ${seeds.length} seeds`));
  },
});
