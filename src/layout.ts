/**
 * C struct layout: the one rule the x86_64 and aarch64 ABIs (System V, AAPCS64, Windows x64) share
 * for `struct` members of natural alignment, and that `#[repr(C)]` follows.
 *
 * @module
 */

/** The size and alignment of one member, as the layout needs them. @internal */
export interface LayoutMember {
  readonly size: number;
  readonly align: number;
}

/** Where each member goes, and the struct's own size and alignment. @internal */
export interface Layout {
  readonly offsets: readonly number[];
  readonly size: number;
  readonly align: number;
}

/**
 * Lays members out in order: each at the next multiple of its alignment, the struct aligned to its
 * most-aligned member, its size rounded up to that alignment (tail padding) so that elements of an
 * array of it stay aligned.
 * @internal
 */
export function _layout(members: readonly LayoutMember[]): Layout {
  const offsets: number[] = [];
  let end = 0;
  let align = 1;
  for (const m of members) {
    const at = alignUp(end, m.align);
    offsets.push(at);
    end = at + m.size;
    if (m.align > align) align = m.align;
  }
  return { offsets, size: alignUp(end, align), align };
}

function alignUp(n: number, align: number): number {
  const r = n % align;
  return r === 0 ? n : n + align - r;
}
