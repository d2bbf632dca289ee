//! Memory primitives: copy, fill, and scalar reads and writes at `base + offset`.

use core::ptr;

/// The address `base + off`, where `off` is an integer of magnitude below 2^53 given as `f64`. It may
/// be negative: C code may hand out a pointer into the middle of a block, and `p.read(-4, "i32")`
/// through it is legal C.
#[inline(always)]
fn at(base: *mut u8, off: f64) -> *mut u8 {
    // `as isize` saturates instead of wrapping and never panics; the caller guarantees an exact integer.
    base.wrapping_offset(off as isize)
}

/// Copies `len` bytes from `src + src_off` to `dst + dst_off`; the ranges may overlap (memmove).
///
/// # Safety
/// Both ranges must be valid for `len` bytes. The TypeScript side checks this for managed memory;
/// for raw addresses the caller vouches for them, as in C.
#[no_mangle]
pub unsafe extern "C" fn lffi_mem_copy(
    dst: *mut u8,
    dst_off: f64,
    src: *mut u8,
    src_off: f64,
    len: f64,
) {
    let n = len as usize;
    if n == 0 {
        return;
    }
    // SAFETY: the caller guarantees both ranges are valid for `n` bytes; `ptr::copy` allows overlap.
    unsafe { ptr::copy(at(src, src_off), at(dst, dst_off), n) }
}

/// Sets `len` bytes at `base + off` to `byte`.
///
/// # Safety
/// The range must be valid for writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn lffi_mem_fill(base: *mut u8, off: f64, len: f64, byte: u8) {
    let n = len as usize;
    if n == 0 {
        return;
    }
    // SAFETY: the caller guarantees the range is valid for `n` bytes of writes.
    unsafe { ptr::write_bytes(at(base, off), byte, n) }
}

/// Length of the NUL-terminated string at `base + off`, as an `f64`.
///
/// # Safety
/// The address must point to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lffi_mem_strlen(base: *mut u8, off: f64) -> f64 {
    let start = at(base, off);
    let mut n = 0usize;
    // SAFETY: the caller guarantees a NUL terminator follows, so every byte read up to it is valid.
    while unsafe { ptr::read(start.wrapping_add(n)) } != 0 {
        n += 1;
    }
    n as f64
}

macro_rules! scalar {
    ($read:ident, $write:ident, $t:ty) => {
        /// Reads one value (unaligned) at `base + off`.
        ///
        /// # Safety
        /// The address must be valid for reads of the value's size.
        #[no_mangle]
        pub unsafe extern "C" fn $read(base: *mut u8, off: f64) -> $t {
            // SAFETY: the caller guarantees the address is readable; `read_unaligned` needs no alignment.
            unsafe { ptr::read_unaligned(at(base, off) as *const $t) }
        }

        /// Writes one value (unaligned) at `base + off`.
        ///
        /// # Safety
        /// The address must be valid for writes of the value's size.
        #[no_mangle]
        pub unsafe extern "C" fn $write(base: *mut u8, off: f64, value: $t) {
            // SAFETY: the caller guarantees the address is writable; `write_unaligned` needs no alignment.
            unsafe { ptr::write_unaligned(at(base, off) as *mut $t, value) }
        }
    };
}

scalar!(lffi_mem_read_i8, lffi_mem_write_i8, i8);
scalar!(lffi_mem_read_u8, lffi_mem_write_u8, u8);
scalar!(lffi_mem_read_i16, lffi_mem_write_i16, i16);
scalar!(lffi_mem_read_u16, lffi_mem_write_u16, u16);
scalar!(lffi_mem_read_i32, lffi_mem_write_i32, i32);
scalar!(lffi_mem_read_u32, lffi_mem_write_u32, u32);
scalar!(lffi_mem_read_i64, lffi_mem_write_i64, i64);
scalar!(lffi_mem_read_u64, lffi_mem_write_u64, u64);
scalar!(lffi_mem_read_f32, lffi_mem_write_f32, f32);
scalar!(lffi_mem_read_f64, lffi_mem_write_f64, f64);

/// Reads a pointer at `base + off` and returns its address as an `f64` (exact below 2^53, which
/// covers every user-space address on 64-bit Linux, macOS and Windows).
///
/// # Safety
/// The address must be valid for reads of a pointer.
#[no_mangle]
pub unsafe extern "C" fn lffi_mem_read_addr(base: *mut u8, off: f64) -> f64 {
    // SAFETY: the caller guarantees the address is readable.
    let p = unsafe { ptr::read_unaligned(at(base, off) as *const usize) };
    p as f64
}

/// Writes the address `addr` (an integer below 2^53 given as `f64`) as a pointer at `base + off`.
///
/// # Safety
/// The address must be valid for writes of a pointer.
#[no_mangle]
pub unsafe extern "C" fn lffi_mem_write_addr(base: *mut u8, off: f64, addr: f64) {
    // SAFETY: the caller guarantees the address is writable.
    unsafe { ptr::write_unaligned(at(base, off) as *mut usize, addr as usize) }
}

/// The address of `p` as an `f64`, so TypeScript can learn an address without a bigint.
#[no_mangle]
pub extern "C" fn lffi_mem_addr(p: *mut u8) -> f64 {
    p as usize as f64
}
