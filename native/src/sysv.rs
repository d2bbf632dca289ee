//! A call engine of our own for the System V x86-64 calling convention, faster than libffi's
//! `ffi_call` (which classifies and copies every argument again on every call): the TypeScript side
//! classifies a signature once and writes each argument straight into the register or stack slot the
//! convention gives it, in a *register block*; [`lffi_call_sysv`] loads the registers, copies the
//! stack arguments, calls, and stores the result registers. Structs by value of every class
//! (INTEGER, SSE, mixed, MEMORY) are laid out by the TypeScript side; a struct returned in memory
//! gets the block's result area as its hidden pointer (`rdi`, set once by [`lffi_sysv_block_init`]).
//!
//! A register block (offsets in bytes, little-endian):
//!
//! | offset | content |
//! | --- | --- |
//! | 0 | the function to call |
//! | 8 | the number of 8-byte stack arguments |
//! | 16 | how many stack words the block has room for (the call is refused above it) |
//! | 24 | the offset of the stack arguments in the block |
//! | 32 | `rdi rsi rdx rcx r8 r9` (6 × 8) |
//! | 80 | `xmm0`..`xmm7`, low 8 bytes each (8 × 8) |
//! | 144 | after the call: `rax`, `rdx`, `xmm0`, `xmm1` (low 8 bytes each) |
//! | 176 | the result area (a struct returned in memory), then per-call scratch, then stack arguments |

use core::ffi::c_void;

/// Offset of the first argument register in a register block.
const GPR: usize = 32;
/// Offset of the stack-argument count, capacity and offset.
const NSTACK: usize = 8;
const CAPACITY: usize = 16;
const STACK_AT: usize = 24;
/// Where the result area starts: the smallest valid stack-argument offset.
const RESULT_AREA: usize = 176;

/// Calls the function a register block describes (see the module docs). Sets `al` to 8, as a
/// variadic callee needs (an upper bound of the vector registers used). Does nothing when the block
/// asks for more stack words than it has room for.
///
/// # Safety
/// `block` must have been initialised by [`lffi_sysv_block_init`], hold the arguments where the
/// convention puts them for the function's signature, and the function must have that signature.
#[cfg(all(target_arch = "x86_64", unix))]
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn lffi_call_sysv(block: *mut u8) {
    core::arch::naked_asm!(
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "mov rbx, rdi",
        // Stack arguments: refuse a count above the block's capacity, then copy them below rsp,
        // keeping rsp 16-byte aligned at the call.
        "mov rcx, qword ptr [rbx + 8]",
        "cmp rcx, qword ptr [rbx + 16]",
        "ja 3f",
        "mov r12, qword ptr [rbx + 24]",
        "add r12, rbx",
        "lea rax, [rcx*8 + 15]",
        "and rax, -16",
        "sub rsp, rax",
        "xor edx, edx",
        "2:",
        "cmp rdx, rcx",
        "jae 4f",
        "mov rax, qword ptr [r12 + rdx*8]",
        "mov qword ptr [rsp + rdx*8], rax",
        "inc rdx",
        "jmp 2b",
        "4:",
        "movsd xmm0, qword ptr [rbx + 80]",
        "movsd xmm1, qword ptr [rbx + 88]",
        "movsd xmm2, qword ptr [rbx + 96]",
        "movsd xmm3, qword ptr [rbx + 104]",
        "movsd xmm4, qword ptr [rbx + 112]",
        "movsd xmm5, qword ptr [rbx + 120]",
        "movsd xmm6, qword ptr [rbx + 128]",
        "movsd xmm7, qword ptr [rbx + 136]",
        "mov rdi, qword ptr [rbx + 32]",
        "mov rsi, qword ptr [rbx + 40]",
        "mov rdx, qword ptr [rbx + 48]",
        "mov rcx, qword ptr [rbx + 56]",
        "mov r8, qword ptr [rbx + 64]",
        "mov r9, qword ptr [rbx + 72]",
        "mov r11, qword ptr [rbx]",
        "mov eax, 8",
        "call r11",
        "mov qword ptr [rbx + 144], rax",
        "mov qword ptr [rbx + 152], rdx",
        "movsd qword ptr [rbx + 160], xmm0",
        "movsd qword ptr [rbx + 168], xmm1",
        "3:",
        "lea rsp, [rbp - 16]",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    )
}

/// Elsewhere there is no such engine (the TypeScript side uses libffi's): does nothing.
///
/// # Safety
/// Always safe to call.
#[cfg(not(all(target_arch = "x86_64", unix)))]
#[no_mangle]
pub unsafe extern "C" fn lffi_call_sysv(_block: *mut u8) {}

/// Initialises a register block of `block_len` bytes for calling `func` with `nstack` stack words
/// stored at byte `stack_at`; when `result_area` is set, the hidden result pointer (`rdi`) points
/// to the block's result area. Returns 1, or 0 (writing nothing) when the stack words or the result
/// area would not fit in the block.
///
/// # Safety
/// `block` must be valid for `block_len` writes and 8-aligned.
#[no_mangle]
pub unsafe extern "C" fn lffi_sysv_block_init(
    block: *mut u8,
    block_len: f64,
    func: *const c_void,
    nstack: f64,
    stack_at: f64,
    result_area: i32,
) -> i32 {
    if block.is_null() || (block as usize) % 8 != 0 || !(block_len >= 0.0) || block_len > 1e9 {
        return 0;
    }
    if !(nstack >= 0.0 && nstack <= 1e6)
        || !(stack_at >= RESULT_AREA as f64)
        || stack_at % 8.0 != 0.0
    {
        return 0;
    }
    let len = block_len as usize;
    let (nstack, stack_at) = (nstack as usize, stack_at as usize);
    let Some(end) = nstack.checked_mul(8).and_then(|n| n.checked_add(stack_at)) else {
        return 0;
    };
    if end > len {
        return 0;
    }
    let capacity = (len - stack_at) / 8;
    // SAFETY: the block holds at least `stack_at >= RESULT_AREA` bytes, which covers the header
    // and the registers.
    unsafe {
        core::ptr::write(block.cast::<*const c_void>(), func);
        core::ptr::write(block.add(NSTACK).cast::<u64>(), nstack as u64);
        core::ptr::write(block.add(CAPACITY).cast::<u64>(), capacity as u64);
        core::ptr::write(block.add(STACK_AT).cast::<u64>(), stack_at as u64);
        if result_area != 0 {
            core::ptr::write(block.add(GPR).cast::<*mut u8>(), block.add(RESULT_AREA));
        }
    }
    1
}
