//! Link options of the `gatehouse` binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link/symbol-order.txt");
    let env = |key: &str| std::env::var(key).unwrap_or_default();
    if env("CARGO_CFG_TARGET_OS") == "linux" && env("CARGO_CFG_TARGET_ENV") == "gnu" {
        // Packed relative relocations (DT_RELR, glibc 2.36+; an older linker or glibc ignores
        // the flag): the position-independent binary's ~50,000 pointer fix-ups take 14 KiB
        // instead of a 1.2 MiB table that the loader reads at every start, and that then stays
        // resident (measured: idle RSS 0.9 MiB lower).
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    if env("PROFILE") == "release" && links_with_rust_lld(&env) {
        // The functions that start-up, a sign-in and the common requests run, laid out first
        // and together (link/symbol-order.txt, made by scripts/symbol-order.sh). Without it
        // they are spread over the whole 26 MB of code, and the kernel maps the binary in
        // 64 KiB windows around every page touched: start-up alone mapped 21 of its 26 MiB.
        let order = std::path::Path::new(&env("CARGO_MANIFEST_DIR")).join("link/symbol-order.txt");
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={},--no-warn-symbol-ordering",
            order.display()
        );
    }
}

/// Rust ≥ 1.90 links x86_64 Linux binaries with its own lld unless told otherwise; GNU ld has
/// no `--symbol-ordering-file`, so any other linker setting skips the layout.
fn links_with_rust_lld(env: &dyn Fn(&str) -> String) -> bool {
    let flags = env("CARGO_ENCODED_RUSTFLAGS");
    env("TARGET") == "x86_64-unknown-linux-gnu"
        && !flags.contains("linker")
        && !flags.contains("link-self-contained")
        && env("RUSTC_LINKER").is_empty()
}
