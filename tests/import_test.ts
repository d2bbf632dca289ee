/**
 * API.md's examples import "jsr:@x/lune-ffi": inside this repository that specifier (and the bare
 * "@x/lune-ffi" the doc examples use) resolves to the checkout, through deno.json's import map.
 */

import assert from "node:assert/strict";
import * as local from "../mod.ts";
// deno-lint-ignore no-unversioned-import -- API.md's examples use exactly this unversioned specifier
import * as viaJsr from "jsr:@x/lune-ffi";
import * as viaBare from "@x/lune-ffi";

Deno.test("jsr:@x/lune-ffi and @x/lune-ffi resolve to this checkout's mod.ts", () => {
  assert.equal(viaJsr.arena, local.arena);
  assert.equal(viaBare.RawPointer, local.RawPointer);
  using arena = viaJsr.arena();
  const ints = viaJsr.cast(arena.alloc(8), "i32");
  ints[1] = 42;
  assert.equal(local.read(ints, 4, "i32"), 42);
});
