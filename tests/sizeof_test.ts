// sizeof / alignof of every type name and alias, and of struct definitions.
import * as ffi from "../mod.ts";
import assert from "node:assert/strict";

const EXPECTED: Record<string, [number, number]> = {
  void: [0, 1],
  bool: [1, 1],
  i8: [1, 1],
  char: [1, 1],
  int8: [1, 1],
  u8: [1, 1],
  uchar: [1, 1],
  byte: [1, 1],
  i16: [2, 2],
  short: [2, 2],
  int16: [2, 2],
  u16: [2, 2],
  ushort: [2, 2],
  uint16: [2, 2],
  i32: [4, 4],
  int: [4, 4],
  int32: [4, 4],
  u32: [4, 4],
  uint: [4, 4],
  uint32: [4, 4],
  i64: [8, 8],
  long: [8, 8],
  int64: [8, 8],
  u64: [8, 8],
  ulong: [8, 8],
  uint64: [8, 8],
  isize: [8, 8],
  ssize_t: [8, 8],
  ptrdiff_t: [8, 8],
  usize: [8, 8],
  size_t: [8, 8],
  f32: [4, 4],
  float: [4, 4],
  f64: [8, 8],
  double: [8, 8],
  pointer: [8, 8],
  ptr: [8, 8],
  "void*": [8, 8],
  string: [8, 8],
  cstring: [8, 8],
  "char*": [8, 8],
};

Deno.test("sizeof() and alignof() know every type name and alias of the seed's table", () => {
  assert.deepEqual(new Set(Object.keys(EXPECTED)), new Set(ffi.typeNames));
  for (const [name, [size, align]] of Object.entries(EXPECTED)) {
    assert.equal(ffi.sizeof(name as ffi.CTypeName), size, `sizeof ${name}`);
    assert.equal(ffi.alignof(name as ffi.CTypeName), align, `alignof ${name}`);
  }
});

Deno.test("sizeof() and alignof() of a struct definition are its size and alignment", () => {
  const S = ffi.struct([["a", "u8"], ["b", "u16"], ["c", "u8"]]);
  assert.equal(ffi.sizeof(S), 6);
  assert.equal(ffi.alignof(S), 2);
  const Outer = ffi.struct([["s", S, 3], ["d", "f64"]]);
  assert.equal(ffi.sizeof(Outer), 32);
  assert.equal(ffi.alignof(Outer), 8);
});

Deno.test("sizeof() and alignof() throw a TypeError naming an unknown type", () => {
  assert.throws(() => ffi.sizeof("int128" as never), { name: "TypeError", message: /"int128"/ });
  assert.throws(() => ffi.alignof("Int" as never), { name: "TypeError", message: /"Int"/ });
  assert.throws(() => ffi.sizeof({} as never), TypeError);
  assert.throws(() => ffi.sizeof(42 as never), { name: "TypeError", message: /42/ });
});
