//! Shared libraries: the system loader (`dlopen`, `dlsym`, `dlerror`, `dlclose`), the dynamic symbol
//! table of a loaded library, and the trampolines that make variadic calls work on x86_64.
//!
//! Deno's `Deno.dlopen` gives no loader handle, no `dlsym` and no way to list what a library
//! exports, so `src/library.ts` keeps its own handle through these functions. The symbol table is
//! read from memory (the loader has already mapped it), not from the file, so no read permission
//! or path is needed and the answer is exactly what the loader sees.

use core::ffi::{c_char, c_int, c_void};
use core::ptr;

extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
    fn dlclose(handle: *mut c_void) -> c_int;
    fn dlinfo(handle: *mut c_void, request: c_int, info: *mut c_void) -> c_int;
}

/// `RTLD_LAZY | RTLD_LOCAL`: the flags Deno's own `dlopen` uses, so both see the same object.
const OPEN_FLAGS: c_int = 0x0001;
/// `dlinfo` request for the library's `struct link_map *`.
const RTLD_DI_LINKMAP: c_int = 2;

/// The public head of glibc's and musl's `struct link_map`.
#[repr(C)]
struct LinkMap {
    l_addr: usize,
    l_name: *const c_char,
    l_ld: *const Dyn,
}

/// `Elf64_Dyn`.
#[repr(C)]
struct Dyn {
    d_tag: i64,
    d_val: u64,
}

const DT_NULL: i64 = 0;
const DT_HASH: i64 = 4;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_STRSZ: i64 = 10;
const DT_GNU_HASH: i64 = 0x6fff_fef5;
const DT_VERSYM: i64 = 0x6fff_fff0;

/// Upper bound on the entries walked in a dynamic section or hash chain: a corrupt table ends the
/// walk instead of looping forever.
const WALK_LIMIT: usize = 1 << 24;

/// Opens a library with `dlopen`; null on failure (then [`lffi_library_error`] says why).
///
/// # Safety
/// `path` must be null (the main program) or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lffi_library_open(path: *const c_char) -> *mut c_void {
    // SAFETY: `path` is null or NUL-terminated, as the caller guarantees; dlopen accepts both.
    unsafe { dlopen(path, OPEN_FLAGS) }
}

/// The calling thread's last loader error message, or null when there is none. The text stays valid
/// until the next loader call on this thread.
///
/// # Safety
/// Always safe to call; `unsafe` only because it is an FFI export.
#[no_mangle]
pub unsafe extern "C" fn lffi_library_error() -> *const c_char {
    // SAFETY: dlerror has no preconditions.
    unsafe { dlerror() }
}

/// The address of `name` in the library (or in its dependencies, as `dlsym` searches), or null.
///
/// # Safety
/// `handle` must come from [`lffi_library_open`] and not be closed; `name` must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lffi_library_symbol(
    handle: *mut c_void,
    name: *const c_char,
) -> *mut c_void {
    if handle.is_null() || name.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the handle is open and the name NUL-terminated, as the caller guarantees.
    unsafe { dlsym(handle, name) }
}

/// Closes a handle from [`lffi_library_open`]; 0 on success.
///
/// # Safety
/// `handle` must come from [`lffi_library_open`] and must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn lffi_library_close(handle: *mut c_void) -> c_int {
    if handle.is_null() {
        return -1;
    }
    // SAFETY: the handle is open and the caller drops it after this call.
    unsafe { dlclose(handle) }
}

/// The library's `struct link_map`, or null.
///
/// # Safety
/// `handle` must be null or an open handle.
unsafe fn link_map(handle: *mut c_void) -> *const LinkMap {
    if handle.is_null() {
        return ptr::null();
    }
    let mut lm: *const LinkMap = ptr::null();
    // SAFETY: the handle is open; RTLD_DI_LINKMAP writes one pointer to `lm`.
    let rc = unsafe {
        dlinfo(
            handle,
            RTLD_DI_LINKMAP,
            (&mut lm as *mut *const LinkMap).cast(),
        )
    };
    if rc != 0 {
        return ptr::null();
    }
    lm
}

/// The path the loader resolved the library to (`""` for the main program), or null.
///
/// # Safety
/// `handle` must come from [`lffi_library_open`] and not be closed. The text lives as long as the
/// handle.
#[no_mangle]
pub unsafe extern "C" fn lffi_library_path(handle: *mut c_void) -> *const c_char {
    // SAFETY: the handle is open, as the caller guarantees.
    let lm = unsafe { link_map(handle) };
    if lm.is_null() {
        return ptr::null();
    }
    // SAFETY: `lm` is the loader's live link_map for this handle.
    unsafe { (*lm).l_name }
}

/// Writes the location of the library's dynamic symbol table into `out[0..6]`: load base, the
/// `Elf64_Sym` array, the string table, its size in bytes, the number of symbols, and the
/// `DT_VERSYM` array (0 when absent). Returns 1 on success, 0 when there is no table to read.
///
/// # Safety
/// `handle` must come from [`lffi_library_open`] and not be closed; `out` must be valid for six
/// `u64` writes.
#[no_mangle]
pub unsafe extern "C" fn lffi_library_symtab(handle: *mut c_void, out: *mut u64) -> c_int {
    if out.is_null() {
        return 0;
    }
    // SAFETY: the handle is open, as the caller guarantees.
    let lm = unsafe { link_map(handle) };
    if lm.is_null() {
        return 0;
    }
    // SAFETY: `lm` is the loader's live link_map.
    let (base, mut dynp) = unsafe { ((*lm).l_addr, (*lm).l_ld) };
    if dynp.is_null() {
        return 0;
    }
    // glibc relocates these entries in place when it loads a library, other loaders (and read-only
    // dynamic sections) leave them as offsets from the load base: anything below the base is an offset.
    let fix = |v: u64| -> usize {
        let v = v as usize;
        if v < base {
            v.wrapping_add(base)
        } else {
            v
        }
    };
    let (mut symtab, mut strtab, mut strsz, mut hash, mut gnu_hash, mut versym) =
        (0, 0, 0u64, 0, 0, 0);
    let mut n = 0;
    loop {
        // SAFETY: the dynamic section is mapped and ends with DT_NULL; WALK_LIMIT bounds a bad one.
        let d = unsafe { &*dynp };
        match d.d_tag {
            DT_NULL => break,
            DT_SYMTAB => symtab = fix(d.d_val),
            DT_STRTAB => strtab = fix(d.d_val),
            DT_STRSZ => strsz = d.d_val,
            DT_HASH => hash = fix(d.d_val),
            DT_GNU_HASH => gnu_hash = fix(d.d_val),
            DT_VERSYM => versym = fix(d.d_val),
            _ => {}
        }
        n += 1;
        if n >= WALK_LIMIT {
            return 0;
        }
        dynp = dynp.wrapping_add(1);
    }
    if symtab == 0 || strtab == 0 {
        return 0;
    }
    let count = if hash != 0 {
        // SAFETY: DT_HASH starts with nbucket, nchain; nchain is the number of symbols.
        unsafe { ptr::read((hash as *const u32).wrapping_add(1)) as usize }
    } else if gnu_hash != 0 {
        // SAFETY: the GNU hash table is mapped with the layout the loader itself walks.
        unsafe { gnu_hash_count(gnu_hash as *const u32) }
    } else {
        0
    };
    let values = [
        base as u64,
        symtab as u64,
        strtab as u64,
        strsz,
        count as u64,
        versym as u64,
    ];
    for (i, v) in values.iter().enumerate() {
        // SAFETY: the caller guarantees `out` holds six u64.
        unsafe { ptr::write(out.wrapping_add(i), *v) }
    }
    1
}

/// The number of symbols a `DT_GNU_HASH` table covers: one past the highest index its chains reach.
///
/// # Safety
/// `table` must point to a mapped GNU hash table.
unsafe fn gnu_hash_count(table: *const u32) -> usize {
    // SAFETY (whole function): every read stays inside the table the loader mapped, whose header
    // gives the sizes of its parts; WALK_LIMIT bounds the chain walk.
    unsafe {
        let nbuckets = ptr::read(table) as usize;
        let symoffset = ptr::read(table.wrapping_add(1)) as usize;
        let bloom_words = ptr::read(table.wrapping_add(2)) as usize;
        let buckets = table.wrapping_add(4 + bloom_words * 2);
        let chains = buckets.wrapping_add(nbuckets);
        let mut last = 0usize;
        for i in 0..nbuckets {
            let b = ptr::read(buckets.wrapping_add(i)) as usize;
            if b > last {
                last = b;
            }
        }
        if last < symoffset {
            return symoffset;
        }
        let mut steps = 0;
        while ptr::read(chains.wrapping_add(last - symoffset)) & 1 == 0 {
            last += 1;
            steps += 1;
            if steps >= WALK_LIMIT {
                return 0;
            }
        }
        last + 1
    }
}

/// Defines `lffi_vararg_call<k>`: a tail-call trampoline for calls with `k` integer-class arguments
/// followed by the real target as one extra integer argument (which therefore lands in the `k`-th
/// integer register, however the floating-point arguments are interleaved). It moves the target to `r11`, sets `al` to 8 and jumps.
///
/// Why: the System V x86_64 ABI requires `al` to hold an upper bound of the vector registers used by a
/// call to a variadic function (`printf("%f", x)` reads `x` from a register save area filled only when
/// `al` is non-zero). Deno's fast call path does not set it. `al` is ignored by non-variadic
/// functions, and the extra argument register is one the callee never reads.
#[cfg(all(target_arch = "x86_64", unix))]
macro_rules! vararg_trampoline {
    ($name:ident, $reg:literal) => {
        /// Variadic-safe tail call (see `vararg_trampoline!`).
        ///
        /// # Safety
        /// Must be called with exactly the arguments of the target function (none passed in memory
        /// as structs) followed by the target's address, where the target takes exactly `k`
        /// integer-class arguments (integers, pointers): the address then arrives in the register
        /// this trampoline reads, wherever the floating-point arguments sit.
        #[unsafe(naked)]
        #[no_mangle]
        pub unsafe extern "C" fn $name() {
            core::arch::naked_asm!(concat!("mov r11, ", $reg), "mov al, 8", "jmp r11")
        }
    };
}

#[cfg(all(target_arch = "x86_64", unix))]
vararg_trampoline!(lffi_vararg_call0, "rdi");
#[cfg(all(target_arch = "x86_64", unix))]
vararg_trampoline!(lffi_vararg_call1, "rsi");
#[cfg(all(target_arch = "x86_64", unix))]
vararg_trampoline!(lffi_vararg_call2, "rdx");
#[cfg(all(target_arch = "x86_64", unix))]
vararg_trampoline!(lffi_vararg_call3, "rcx");
#[cfg(all(target_arch = "x86_64", unix))]
vararg_trampoline!(lffi_vararg_call4, "r8");
#[cfg(all(target_arch = "x86_64", unix))]
vararg_trampoline!(lffi_vararg_call5, "r9");

/// Defines `lffi_vararg_stack<j>`: like `vararg_trampoline!`, for calls whose integer-class
/// arguments fill all six registers, so the target (the last argument) is passed in memory: it is
/// the `j`-th 8-byte stack argument, where `j` counts the arguments passed in memory before it
/// (integer-class ones past the sixth, floating-point ones past the eighth). The stack arguments stay
/// where they are for the target, which ignores the extra one (the caller pops it).
#[cfg(all(target_arch = "x86_64", unix))]
macro_rules! stack_trampoline {
    ($($name:ident = $off:literal),* $(,)?) => {
        $(
            /// Variadic-safe tail call with the target on the stack (see `stack_trampoline!`).
            ///
            /// # Safety
            /// Must be called with exactly the arguments of the target function followed by its
            /// address, which must then be the stack argument this trampoline reads.
            #[unsafe(naked)]
            #[no_mangle]
            pub unsafe extern "C" fn $name() {
                core::arch::naked_asm!(concat!("mov r11, qword ptr [rsp + ", $off, "]"), "mov al, 8", "jmp r11")
            }
        )*
    };
}

#[cfg(all(target_arch = "x86_64", unix))]
stack_trampoline!(
    lffi_vararg_stack0 = 8,
    lffi_vararg_stack1 = 16,
    lffi_vararg_stack2 = 24,
    lffi_vararg_stack3 = 32,
    lffi_vararg_stack4 = 40,
    lffi_vararg_stack5 = 48,
    lffi_vararg_stack6 = 56,
    lffi_vararg_stack7 = 64,
    lffi_vararg_stack8 = 72,
    lffi_vararg_stack9 = 80,
    lffi_vararg_stack10 = 88,
    lffi_vararg_stack11 = 96,
    lffi_vararg_stack12 = 104,
    lffi_vararg_stack13 = 112,
    lffi_vararg_stack14 = 120,
    lffi_vararg_stack15 = 128,
);

/// Defines `lffi_vararg_fcall<k>`: like `vararg_trampoline!`, for calls with `k < 8` floating-point
/// arguments, the target passed as one more `f64` (its address as a double: exact below 2^53, which
/// every user-space address is), so it arrives in `xmm<k>` wherever the integer arguments sit. A JS
/// number goes to Deno's fast path as it is, where a pointer object must be unwrapped first.
#[cfg(all(target_arch = "x86_64", unix))]
macro_rules! float_trampoline {
    ($($name:ident = $reg:literal),* $(,)?) => {
        $(
            /// Variadic-safe tail call with the target as a double (see `float_trampoline!`).
            ///
            /// # Safety
            /// Must be called with exactly the arguments of the target function followed by its
            /// address as an `f64`, which must then be the vector register this trampoline reads.
            #[unsafe(naked)]
            #[no_mangle]
            pub unsafe extern "C" fn $name() {
                core::arch::naked_asm!(concat!("cvttsd2si r11, ", $reg), "mov al, 8", "jmp r11")
            }
        )*
    };
}

#[cfg(all(target_arch = "x86_64", unix))]
float_trampoline!(
    lffi_vararg_fcall0 = "xmm0",
    lffi_vararg_fcall1 = "xmm1",
    lffi_vararg_fcall2 = "xmm2",
    lffi_vararg_fcall3 = "xmm3",
    lffi_vararg_fcall4 = "xmm4",
    lffi_vararg_fcall5 = "xmm5",
    lffi_vararg_fcall6 = "xmm6",
    lffi_vararg_fcall7 = "xmm7",
);
