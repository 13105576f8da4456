//! Link-time settings of drctl's own binaries.
//!
//! On GNU/Linux the binaries are linked with `-z pack-relative-relocs`
//! (`DT_RELR`, glibc 2.36 and binutils 2.38 on): the dynamic loader reads
//! the binary's 24,000 relative relocations from a few kilobytes instead of
//! a 580 KB table, so every `drctl` process starts with about 0.5 MiB less
//! resident (docs/performance.md, "Memory"). The linker makes such a binary
//! need glibc's `GLIBC_ABI_DT_RELR`, so on an older glibc it refuses to
//! start with a clear error instead of misbehaving; an older linker ignores
//! the option with a warning.
//!
//! The release build of `drctl` on x86-64 GNU/Linux, linked by Rust's own
//! lld (the default there since Rust 1.90), also gets
//! `link/drctl.symbol-order`: the functions a run executes, laid out
//! together at the start of the code, so that a run keeps about 4 MiB less
//! of the binary resident (made by `scripts/symbol_order.py`). A name the
//! build lacks is skipped; when the file was made with another rustc or
//! `Cargo.lock`, whose names differ, a warning says to regenerate it.

use std::path::Path;

/// The lines of the order file that say what its names belong to.
const RUSTC_LINE: &str = "# rustc: ";
const LOCK_LINE: &str = "# Cargo.lock: fnv1a64 ";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    if std::env::var("PROFILE").as_deref() == Ok("release") && links_with_rust_lld() {
        symbol_order();
    }
}

/// Rust's lld links this build: the target's default linker is used, which
/// for `x86_64-unknown-linux-gnu` is lld since Rust 1.90 (`rust-version`
/// is newer). Other linkers may not know `--symbol-ordering-file`.
fn links_with_rust_lld() -> bool {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu")
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !["linker", "link-self-contained", "fuse-ld"]
            .iter()
            .any(|option| flags.contains(option))
}

fn symbol_order() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let order = Path::new(&root).join("link").join("drctl.symbol-order");
    let lock = Path::new(&root).join("Cargo.lock");
    println!("cargo::rerun-if-changed={}", order.display());
    println!("cargo::rerun-if-changed={}", lock.display());
    let Ok(text) = std::fs::read_to_string(&order) else {
        return;
    };
    println!(
        "cargo::rustc-link-arg-bin=drctl=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo::rustc-link-arg-bin=drctl=-Wl,--no-warn-symbol-ordering");
    let made_for = |prefix: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let this_rustc = std::process::Command::new(rustc)
        .arg("-V")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    let this_lock = std::fs::read(&lock).map_or(0, |bytes| fnv1a64(&bytes));
    let stale = if made_for(RUSTC_LINE) != this_rustc {
        Some(format!("{}, not {this_rustc}", made_for(RUSTC_LINE)))
    } else if made_for(LOCK_LINE) != format!("{this_lock:016x}") {
        Some("another Cargo.lock".to_owned())
    } else {
        None
    };
    if let Some(why) = stale {
        println!(
            "cargo::warning=link/drctl.symbol-order was made with {why}: most of its names \
             will not match, and a run keeps about 4 MiB more of drctl resident; \
             regenerate it with scripts/symbol_order.py"
        );
    }
}

/// FNV-1a, 64 bits: a fingerprint of `Cargo.lock` that needs no crate
/// (`scripts/symbol_order.py` computes the same).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
