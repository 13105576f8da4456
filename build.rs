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

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
