//! The call engine: calls a C function of any signature through a call interface prepared once per
//! signature with libffi, entered from JavaScript with one pointer.
//!
//! Deno's fast call path covers scalar signatures; everything else (structs by value, signatures the
//! trampolines of `library.rs` cannot route) comes here. The TypeScript side prepares a signature
//! once ([`lffi_call_prepare`], which also computes the layout of its *call block*), allocates one
//! call block per bound function ([`lffi_call_block_init`] checks its size and fills its header),
//! and then, for each call, writes the arguments into the block with DataView writes and calls
//! [`lffi_call`] with the block's address on Deno's fast path.
//!
//! A call block (all offsets in bytes, little-endian, 8-aligned):
//!
//! | offset | content |
//! | --- | --- |
//! | 0 | `*const Prepared` |
//! | 8 | the C function to call |
//! | 16 | where the result goes (`rvalue`, inside the block) |
//! | 24 | the errno cell: a `*mut c_int`, or null to leave `errno` alone |
//! | 32 | `avalue[nargs]`: the address of each argument's slot (inside the block) |
//! | ... | argument slots, then the result slot, at the offsets [`lffi_call_prepare`] reports |
//!
//! Everything here is panic-free: no indexing that can fail, no unwrap; allocation failure aborts
//! (it never unwinds).

use core::ffi::{c_int, c_uint, c_void};
use core::ptr;

/// libffi's `ffi_type`.
#[repr(C)]
struct FfiType {
    size: usize,
    alignment: u16,
    type_: u16,
    elements: *mut *mut FfiType,
}

/// libffi's `ffi_cif` (x86_64 and aarch64 Linux/macOS have no extra fields).
#[repr(C)]
struct FfiCif {
    abi: c_uint,
    nargs: c_uint,
    arg_types: *mut *mut FfiType,
    rtype: *mut FfiType,
    bytes: c_uint,
    flags: c_uint,
}

extern "C" {
    fn ffi_prep_cif(
        cif: *mut FfiCif,
        abi: c_uint,
        nargs: c_uint,
        rtype: *mut FfiType,
        atypes: *mut *mut FfiType,
    ) -> c_uint;
    fn ffi_prep_cif_var(
        cif: *mut FfiCif,
        abi: c_uint,
        nfixedargs: c_uint,
        ntotalargs: c_uint,
        rtype: *mut FfiType,
        atypes: *mut *mut FfiType,
    ) -> c_uint;
    fn ffi_call(cif: *mut FfiCif, f: *const c_void, rvalue: *mut c_void, avalue: *mut *mut c_void);
}

#[cfg(all(target_arch = "x86_64", not(windows)))]
const FFI_DEFAULT_ABI: c_uint = 2; // FFI_UNIX64
#[cfg(all(target_arch = "x86_64", windows))]
const FFI_DEFAULT_ABI: c_uint = 1; // FFI_WIN64
#[cfg(target_arch = "aarch64")]
const FFI_DEFAULT_ABI: c_uint = 1; // FFI_SYSV
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const FFI_DEFAULT_ABI: c_uint = 1;

const FFI_OK: c_uint = 0;
const FFI_TYPE_VOID: u32 = 0;
const FFI_TYPE_FLOAT: u32 = 2;
const FFI_TYPE_DOUBLE: u32 = 3;
const FFI_TYPE_SINT64: u32 = 12;
const FFI_TYPE_STRUCT: u32 = 13;
const FFI_TYPE_POINTER: u32 = 14;

/// Bounds on what a signature may describe: a corrupt description is refused, never walked forever.
const MAX_ARGS: u32 = 1024;
const MAX_DEPTH: u32 = 32;
const MAX_NODES: usize = 1 << 20;

/// A prepared signature: the libffi call interface and every `ffi_type` it points to. Never moved
/// once boxed (the cif points into `atypes`, struct types into `elements`).
struct Prepared {
    cif: FfiCif,
    /// Owns every `ffi_type` of the signature; boxed so their addresses stay put.
    types: Vec<Box<FfiType>>,
    /// Owns the `elements` arrays of struct types (each null-terminated).
    elements: Vec<Vec<*mut FfiType>>,
    atypes: Vec<*mut FfiType>,
    /// Byte offsets in a call block of each argument slot, then of the result slot.
    offsets: Vec<u32>,
    nargs: u32,
    block_size: u32,
    ret_offset: u32,
}

const HEADER: usize = 32;

/// Reads type descriptions from the encoded signature: a primitive is its `FFI_TYPE_*` code (with
/// 5..=12 and 14 meaning the fixed-width integers and pointers, sizes implied), a struct is
/// `FFI_TYPE_STRUCT, n, <n element descriptions>`.
struct Reader<'a> {
    words: &'a [u32],
    at: usize,
    nodes: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Option<u32> {
        let w = self.words.get(self.at).copied();
        self.at += 1;
        w
    }
}

fn primitive(code: u32) -> Option<FfiType> {
    let (size, align) = match code {
        FFI_TYPE_VOID => (1, 1),
        FFI_TYPE_FLOAT => (4, 4),
        FFI_TYPE_DOUBLE => (8, 8),
        5 | 6 => (1, 1),
        7 | 8 => (2, 2),
        9 | 10 => (4, 4),
        11 | FFI_TYPE_SINT64 | FFI_TYPE_POINTER => (8, 8),
        _ => return None,
    };
    Some(FfiType {
        size,
        alignment: align,
        type_: code as u16,
        elements: ptr::null_mut(),
    })
}

fn read_type(p: &mut Prepared, r: &mut Reader, depth: u32) -> Option<*mut FfiType> {
    r.nodes += 1;
    if depth > MAX_DEPTH || r.nodes > MAX_NODES {
        return None;
    }
    let code = r.next()?;
    let mut t = if code == FFI_TYPE_STRUCT {
        let n = r.next()? as usize;
        if n == 0 || n > MAX_NODES {
            return None;
        }
        let mut elems = Vec::with_capacity(n + 1);
        for _ in 0..n {
            let e = read_type(p, r, depth + 1)?;
            // SAFETY: `e` points to a boxed FfiType owned by `p.types`.
            if unsafe { (*e).type_ } as u32 == FFI_TYPE_VOID {
                return None;
            }
            elems.push(e);
        }
        elems.push(ptr::null_mut());
        let e = elems.as_mut_ptr();
        p.elements.push(elems); // moving the Vec keeps its heap buffer (and `e`) where it is
        Box::new(FfiType {
            size: 0,
            alignment: 0,
            type_: FFI_TYPE_STRUCT as u16,
            elements: e,
        })
    } else {
        Box::new(primitive(code)?)
    };
    let raw: *mut FfiType = &mut *t;
    p.types.push(t); // moving the Box keeps the FfiType where it is
    Some(raw)
}

fn align_up(v: usize, a: usize) -> usize {
    let a = a.max(1);
    v.div_ceil(a) * a
}

/// Prepares a signature. `desc[0..len]` holds the result type then the `nargs` argument types
/// (encoded as [`Reader`] says); `nfixed < nargs` marks a variadic call with `nfixed` fixed
/// arguments (`nfixed == nargs` otherwise). On success returns the prepared signature and writes
/// `3 + 3 * (nargs + 1)` words to `layout`: the call block's size, the result slot's offset, the
/// header size, then for the result and each argument its slot offset, size and alignment (as
/// libffi computed them, for the caller to check against its own struct layouts). Returns null for
/// a description libffi refuses, or when `layout_len` is too small.
///
/// # Safety
/// `desc` must be valid for `len` reads of `u32`, `layout` for `layout_len` writes of `u32`.
#[no_mangle]
pub unsafe extern "C" fn lffi_call_prepare(
    desc: *const u32,
    len: u32,
    nargs: u32,
    nfixed: u32,
    layout: *mut u32,
    layout_len: u32,
) -> *mut c_void {
    if desc.is_null() || layout.is_null() || nargs > MAX_ARGS || nfixed > nargs {
        return ptr::null_mut();
    }
    let need = 3 + 3 * (nargs as usize + 1);
    if (layout_len as usize) < need {
        return ptr::null_mut();
    }
    // SAFETY: the caller guarantees `desc` holds `len` words.
    let words = unsafe { core::slice::from_raw_parts(desc, len as usize) };
    let mut p = Box::new(Prepared {
        cif: FfiCif {
            abi: 0,
            nargs: 0,
            arg_types: ptr::null_mut(),
            rtype: ptr::null_mut(),
            bytes: 0,
            flags: 0,
        },
        types: Vec::new(),
        elements: Vec::new(),
        atypes: Vec::with_capacity(nargs as usize),
        offsets: Vec::with_capacity(nargs as usize + 1),
        nargs,
        block_size: 0,
        ret_offset: 0,
    });
    let mut r = Reader {
        words,
        at: 0,
        nodes: 0,
    };
    let Some(rtype) = read_type(&mut p, &mut r, 0) else {
        return ptr::null_mut();
    };
    for _ in 0..nargs {
        let Some(t) = read_type(&mut p, &mut r, 0) else {
            return ptr::null_mut();
        };
        // SAFETY: `t` points to a boxed FfiType owned by `p.types`.
        if unsafe { (*t).type_ } as u32 == FFI_TYPE_VOID {
            return ptr::null_mut();
        }
        p.atypes.push(t);
    }
    if r.at != words.len() {
        return ptr::null_mut();
    }
    let atypes = if nargs == 0 {
        ptr::null_mut()
    } else {
        p.atypes.as_mut_ptr()
    };
    let status = if nfixed < nargs {
        // SAFETY: every type pointer is live and owned by `p`, which outlives the cif.
        unsafe { ffi_prep_cif_var(&mut p.cif, FFI_DEFAULT_ABI, nfixed, nargs, rtype, atypes) }
    } else {
        // SAFETY: as above.
        unsafe { ffi_prep_cif(&mut p.cif, FFI_DEFAULT_ABI, nargs, rtype, atypes) }
    };
    if status != FFI_OK {
        return ptr::null_mut();
    }
    // The block: header, avalue array, argument slots (8-aligned, at least 8 bytes), result slot
    // (16-aligned, at least 16 bytes: libffi widens small integer results to a full register).
    let mut at = HEADER + 8 * nargs as usize;
    let mut out: Vec<u32> = Vec::with_capacity(need);
    let mut arg_info: Vec<u32> = Vec::with_capacity(3 * nargs as usize);
    for &t in &p.atypes {
        // SAFETY: prep_cif has filled in size and alignment of every type.
        let (size, align) = unsafe { ((*t).size, (*t).alignment as usize) };
        at = align_up(at, align.max(8));
        p.offsets.push(at as u32);
        arg_info.extend_from_slice(&[at as u32, size as u32, align as u32]);
        at += align_up(size.max(8), 8);
    }
    // SAFETY: as above.
    let (rsize, ralign) = unsafe { ((*rtype).size, (*rtype).alignment as usize) };
    at = align_up(at, 16);
    let ret_offset = at;
    at += align_up(rsize.max(16), 16);
    if at > u32::MAX as usize / 2 {
        return ptr::null_mut();
    }
    p.offsets.push(ret_offset as u32);
    p.block_size = at as u32;
    p.ret_offset = ret_offset as u32;
    out.extend_from_slice(&[at as u32, ret_offset as u32, HEADER as u32]);
    out.extend_from_slice(&[ret_offset as u32, rsize as u32, ralign as u32]);
    out.extend_from_slice(&arg_info);
    for (i, w) in out.iter().enumerate() {
        // SAFETY: `out` has exactly `need` words and the caller gave at least that many.
        unsafe { ptr::write(layout.add(i), *w) }
    }
    Box::into_raw(p).cast()
}

/// Fills in the header of a call block for `prepared` calling `func`, with `errno_cell` (null for
/// none; else valid for three `int`s, see [`lffi_call`]): the block's own addresses go into the `rvalue` and `avalue` fields. Returns 1, or 0 (and
/// writes nothing) when `block_len` is smaller than the signature's block.
///
/// # Safety
/// `prepared` must come from [`lffi_call_prepare`]; `block` must be valid for `block_len` writes and
/// 8-aligned.
#[no_mangle]
pub unsafe extern "C" fn lffi_call_block_init(
    prepared: *const c_void,
    block: *mut u8,
    block_len: f64,
    func: *const c_void,
    errno_cell: *mut c_int,
) -> c_int {
    if prepared.is_null() || block.is_null() || (block as usize) % 8 != 0 {
        return 0;
    }
    // SAFETY: `prepared` came from lffi_call_prepare and is never freed.
    let p = unsafe { &*(prepared as *const Prepared) };
    if !(block_len >= p.block_size as f64) {
        return 0;
    }
    // SAFETY: the block holds at least `block_size` bytes, which covers the header and every slot.
    unsafe {
        ptr::write(block.cast::<*const c_void>(), prepared);
        ptr::write(block.add(8).cast::<*const c_void>(), func);
        ptr::write(
            block.add(16).cast::<*mut u8>(),
            block.add(p.ret_offset as usize),
        );
        ptr::write(block.add(24).cast::<*mut c_int>(), errno_cell);
        for (i, off) in p.offsets.iter().take(p.nargs as usize).enumerate() {
            ptr::write(
                block.add(HEADER + 8 * i).cast::<*mut u8>(),
                block.add(*off as usize),
            );
        }
    }
    1
}

extern "C" {
    #[cfg_attr(
        any(target_os = "macos", target_os = "ios", target_os = "freebsd"),
        link_name = "__error"
    )]
    #[cfg_attr(target_os = "linux", link_name = "__errno_location")]
    #[cfg_attr(windows, link_name = "_errno")]
    fn errno_location() -> *mut c_int;
}

/// The address of the calling thread's `errno`: fixed for the thread's life, so the TypeScript side
/// keeps a typed-array view over it and reads and writes `errno` with no native call.
///
/// # Safety
/// Always safe to call; `unsafe` only because it is an FFI export.
#[no_mangle]
pub unsafe extern "C" fn lffi_errno_location() -> *mut c_int {
    // SAFETY: libc's errno accessor has no preconditions.
    unsafe { errno_location() }
}

/// The address of the calling thread's last-error value (`GetLastError`/`SetLastError` read and write
/// it: `LastErrorValue` in the thread environment block), for the same typed-array view as errno.
///
/// # Safety
/// Always safe to call; `unsafe` only because it is an FFI export.
#[cfg(all(windows, target_arch = "x86_64"))]
#[no_mangle]
pub unsafe extern "C" fn lffi_last_error_location() -> *mut u32 {
    let teb: *mut u8;
    // SAFETY: on x64 Windows `gs:[0x30]` always holds the current thread's TEB address.
    unsafe { core::arch::asm!("mov {}, qword ptr gs:[0x30]", out(reg) teb, options(nostack, readonly)) };
    teb.wrapping_add(0x68).cast()
}

/// Null: there is no `GetLastError` outside Windows.
///
/// # Safety
/// Always safe to call; `unsafe` only because it is an FFI export.
#[cfg(not(all(windows, target_arch = "x86_64")))]
#[no_mangle]
pub unsafe extern "C" fn lffi_last_error_location() -> *mut u32 {
    ptr::null_mut()
}

/// **The engine's entry**: runs the call a block describes (see the module docs), on the calling
/// thread. The block's errno cell (when not null) is three `int`s: `errno` is saved into `cell[0]`
/// right after the call, before anything else can run on this thread; when bit 0 of `cell[2]` is
/// set, `errno` is first set from `cell[0]` right before the call (`ffi.errno(value)`), and `cell[2]`
/// is cleared. On Windows `cell[1]` and bit 1 do the same for `GetLastError`.
///
/// Safe to run on any thread (bound with Deno's `nonblocking: true` it runs on a worker thread, and
/// the errno captured is that thread's): it touches nothing but the block, the cell, the prepared
/// signature (read-only) and what the called function touches. A block must not be used by two
/// calls at once: give each concurrent call a block of its own, initialised with
/// [`lffi_call_block_init`] (whose `avalue` entries point into that block), and a cell of its own.
///
/// # Safety
/// `block` must have been initialised by [`lffi_call_block_init`] and hold the arguments, and the
/// function must have the signature the block was prepared for.
#[no_mangle]
pub unsafe extern "C" fn lffi_call(block: *mut u8) {
    if block.is_null() {
        return;
    }
    // SAFETY: the block's header was written by lffi_call_block_init; its pointers point into the
    // block (or to the prepared signature, which is never freed), and the caller guarantees the
    // function's signature.
    unsafe {
        let p = ptr::read(block.cast::<*mut Prepared>());
        let func = ptr::read(block.add(8).cast::<*const c_void>());
        let rvalue = ptr::read(block.add(16).cast::<*mut c_void>());
        let cell = ptr::read(block.add(24).cast::<*mut c_int>());
        let avalue = block.add(HEADER).cast::<*mut c_void>();
        if p.is_null() || func.is_null() {
            return;
        }
        if cell.is_null() {
            ffi_call(&mut (*p).cif, func, rvalue, avalue);
        } else {
            let e = errno_location();
            let pending = ptr::read(cell.add(2));
            if pending & 1 != 0 {
                *e = *cell;
            }
            #[cfg(all(windows, target_arch = "x86_64"))]
            let le = lffi_last_error_location().cast::<c_int>();
            #[cfg(all(windows, target_arch = "x86_64"))]
            if pending & 2 != 0 {
                ptr::write(le, ptr::read(cell.add(1)));
            }
            ptr::write(cell.add(2), 0);
            ffi_call(&mut (*p).cif, func, rvalue, avalue);
            *cell = *e;
            #[cfg(all(windows, target_arch = "x86_64"))]
            ptr::write(cell.add(1), ptr::read(le));
        }
    }
}
