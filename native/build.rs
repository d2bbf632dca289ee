//! Links libffi statically (Debian/Ubuntu: `apt-get install libffi-dev`, which ships `libffi_pic.a`,
//! position-independent code a shared library can contain), so the built library depends on nothing
//! but libc. `LUNE_FFI_LIBFFI_DIR` points the build at another directory holding `libffi_pic.a` or
//! `libffi.a`.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=LUNE_FFI_LIBFFI_DIR");
    let target = std::env::var("TARGET").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(d) = std::env::var("LUNE_FFI_LIBFFI_DIR") {
        dirs.push(PathBuf::from(d));
    }
    // Debian's multiarch directory for the target triple (x86_64-unknown-linux-gnu -> x86_64-linux-gnu).
    let multiarch = target.replace("-unknown-", "-");
    for d in [
        format!("/usr/lib/{multiarch}"),
        "/usr/lib64".to_string(),
        "/usr/lib".to_string(),
        "/usr/local/lib".to_string(),
        "/opt/homebrew/opt/libffi/lib".to_string(),
        "/usr/local/opt/libffi/lib".to_string(),
    ] {
        dirs.push(PathBuf::from(d));
    }
    for dir in &dirs {
        for (file, name) in [("libffi_pic.a", "ffi_pic"), ("libffi.a", "ffi")] {
            if Path::new(dir).join(file).is_file() {
                println!("cargo:rustc-link-search=native={}", dir.display());
                println!("cargo:rustc-link-lib=static={name}");
                return;
            }
        }
    }
    println!(
        "cargo:warning=libffi not found (looked for libffi_pic.a / libffi.a in {}). Install it \
         (Debian/Ubuntu: apt-get install libffi-dev) or set LUNE_FFI_LIBFFI_DIR.",
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::process::exit(1);
}
