/**
 * C struct and union layout as the platform's C compiler does it (the System V and AAPCS64 rules
 * that gcc and clang follow on Linux and macOS, and that `#[repr(C)]` follows for plain members):
 * natural alignment, padding and tail padding; unions; `__attribute__((packed))`; and bitfields.
 *
 * @module
 */

/**
 * The size and alignment of one member, as the layout needs them.
 * @internal
 * @ignore
 */
export interface LayoutMember {
  readonly size: number;
  readonly align: number;
  /** Set for a bitfield: its width in bits (0 closes the current unit). Its unit is `size` bytes. */
  readonly bits?: number;
  /** An unnamed bitfield: takes its bits but, as in gcc, does not raise the struct's alignment. */
  readonly unnamed?: boolean;
}

/** How the members are laid out: a struct (one after the other) or a union (all at 0), packed or not. */
export interface LayoutOptions {
  readonly union?: boolean;
  /** No padding between members and alignment 1 (`__attribute__((packed))`). */
  readonly packed?: boolean;
}

/**
 * Where each member goes, and the struct's own size and alignment.
 * @internal
 * @ignore
 */
export interface Layout {
  /** Byte offset of each member; for a bitfield, the byte that holds its first bit. */
  readonly offsets: readonly number[];
  /** For a bitfield, the offset of its first bit from the start of the struct; else `undefined`. */
  readonly bitOffsets: readonly (number | undefined)[];
  readonly size: number;
  readonly align: number;
}

/**
 * Lays members out in order, as gcc does. A plain member goes at the next multiple of its alignment.
 * A bitfield of a type of `n` bytes goes at the next free bit, unless its bits would cross a boundary
 * of an `n`-byte aligned unit, in which case it starts the next unit; so `uint8_t a; uint32_t b : 12`
 * puts `b` in bits 8..19 of the first four bytes. A zero-width bitfield moves to the next unit
 * boundary of its type. The struct is aligned to its most-aligned (named) member and its size is
 * rounded up to that alignment (tail padding), so elements of an array of it stay aligned.
 *
 * Packed: every member at the next free byte (a bitfield at the next free bit, crossing units), and
 * alignment 1. Union: every member at 0, the size the largest member's rounded up to the alignment.
 * @internal
 * @ignore
 */
export function _layout(members: readonly LayoutMember[], options: LayoutOptions = {}): Layout {
  const packed = options.packed === true;
  const offsets: number[] = [];
  const bitOffsets: (number | undefined)[] = [];
  let bit = 0; // next free bit (struct) or the largest extent in bits (union)
  let align = 1;
  for (const m of members) {
    const a = packed ? 1 : m.align;
    if (m.bits === undefined) {
      if (options.union) {
        offsets.push(0);
        bit = Math.max(bit, m.size * 8);
      } else {
        const at = alignUp(Math.ceil(bit / 8), a);
        offsets.push(at);
        bit = (at + m.size) * 8;
      }
      bitOffsets.push(undefined);
      if (a > align) align = a;
      continue;
    }
    const unit = m.size * 8;
    let at: number;
    if (options.union) {
      at = 0;
      bit = Math.max(bit, m.bits === 0 ? 0 : alignUp(m.bits, 8));
    } else if (m.bits === 0) {
      at = alignUp(bit, unit);
      bit = at;
    } else {
      at = bit;
      if (!packed && Math.floor(at / unit) !== Math.floor((at + m.bits - 1) / unit)) at = alignUp(at, unit);
      bit = at + m.bits;
    }
    offsets.push(Math.floor(at / 8));
    bitOffsets.push(at);
    if (m.bits !== 0 && !m.unnamed && a > align) align = a;
  }
  return { offsets, bitOffsets, size: alignUp(Math.ceil(bit / 8), align), align };
}

function alignUp(n: number, align: number): number {
  const r = n % align;
  return r === 0 ? n : n + align - r;
}
