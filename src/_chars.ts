/**
 * C text in bytes: UTF-8 up to the first NUL (or the end). A leaf module, so typed pointers and
 * {@linkcode string} share it without importing each other.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * Decodes `bytes` as UTF-8 up to the first NUL, or all of them if there is none.
 * @internal
 * @ignore
 */
export function _textUpToNul(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/**
 * Decodes `bytes` as UTF-8, NULs kept.
 * @internal
 * @ignore
 */
export function _text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * `toString()` of `i8`/`u8` TypedPointers (typed arrays over the memory): the text up to the NUL.
 * @internal
 * @ignore
 */
export function _charsToString(this: ArrayBufferView): string {
  return _textUpToNul(new Uint8Array(this.buffer, this.byteOffset, this.byteLength));
}
