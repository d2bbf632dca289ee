//! Native core of `@x/lune-ffi`.
//!
//! Deno's FFI reaches memory only through views it must build first (hundreds of nanoseconds each) or
//! through `UnsafePointerView` getters (tens of nanoseconds each). These functions let the TypeScript
//! side touch any address in one fast FFI call. Every function takes its address as a `base` pointer
//! plus an `f64` byte offset, because a pointer and an `f64` keep Deno on its fast call path while a
//! JS number in a 64-bit integer parameter does not. Offsets are exact: the TypeScript side only
//! passes integers below 2^53.
//!
//! Nothing here can panic: no indexing, no unwrap, no allocation.

mod call;
mod library;
mod memory;
mod sysv;
