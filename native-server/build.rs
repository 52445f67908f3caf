//! Builds the playground (`web/`, the `partita-web` crate) for wasm32, generates its JavaScript
//! glue with wasm-bindgen, and leaves both in `OUT_DIR` so that `src/http/assets.rs` can embed
//! them with `include_bytes!`. A release build of `partita` thus carries the whole playground.
//!
//! The wasm build uses a target directory of its own (`target/wasm-build`): the outer cargo
//! holds the lock on the normal one while this script runs.

use std::path::{Path, PathBuf};
use std::process::Command;

const WEB_CRATE: &str = "partita-web";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("native-server/ sits in the workspace");
    let out_dir = PathBuf::from(env("OUT_DIR"));

    for watched in [
        "web/src",
        "web/Cargo.toml",
        "web/style.css",
        "core/src",
        "core/Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo::rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let wasm = build_web_crate(workspace);
    generate_glue(&wasm, &out_dir);
    println!("cargo::rerun-if-env-changed=WASM_OPT");
    if let Ok(wasm_opt) = std::env::var("WASM_OPT") {
        shrink(Path::new(&wasm_opt), &out_dir.join("partita_web_bg.wasm"));
    }
}

/// `WASM_OPT=/path/to/wasm-opt` (binaryen; `npm install binaryen` has one): runs it with `-Oz`
/// on the generated wasm, in place, with the features rustc's wasm32 target emits. Measured on
/// the playground: 916 KB gzipped before, 781 KB after.
fn shrink(wasm_opt: &Path, wasm: &Path) {
    println!(
        "cargo::warning=shrinking the playground with {}",
        wasm_opt.display()
    );
    let status = Command::new(wasm_opt)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            "--strip-debug",
            "--strip-producers",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status()
        .unwrap_or_else(|e| panic!("could not run WASM_OPT={}: {e}", wasm_opt.display()));
    assert!(status.success(), "wasm-opt failed on {}", wasm.display());
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}

/// Runs `cargo build -p partita-web --target wasm32-unknown-unknown` and returns the `.wasm`.
fn build_web_crate(workspace: &Path) -> PathBuf {
    let target_dir = workspace.join("target").join("wasm-build");
    let mut cargo = Command::new(env("CARGO"));
    cargo
        .current_dir(workspace)
        .args([
            "build",
            "-p",
            WEB_CRATE,
            "--profile",
            "wasm-release",
            "--target",
            WASM_TARGET,
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings are for the host, not for wasm: flags, clippy's wrapper when
    // this runs under `cargo clippy`, and coverage or sanitizer options would all break it.
    for inherited in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cargo.env_remove(inherited);
    }
    println!("cargo::warning=building the playground ({WEB_CRATE}) for {WASM_TARGET}");
    let status = cargo
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo for the playground: {e}"));
    if !status.success() {
        panic!(
            "building the playground for {WASM_TARGET} failed (see the errors above). If the target \
             is missing, run `rustup target add {WASM_TARGET}` (rust-toolchain.toml lists it)."
        );
    }
    let wasm = target_dir
        .join(WASM_TARGET)
        .join("wasm-release")
        .join(format!("{}.wasm", WEB_CRATE.replace('-', "_")));
    assert!(
        wasm.exists(),
        "the playground build produced no {}",
        wasm.display()
    );
    wasm
}

/// Writes `partita_web.js` and `partita_web_bg.wasm` (ES module glue for `--target web`).
fn generate_glue(wasm: &Path, out_dir: &Path) {
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)
        .expect("wasm-bindgen supports --target web")
        .typescript(false)
        .generate(out_dir)
        .unwrap_or_else(|e| {
            panic!(
                "wasm-bindgen could not generate the playground's JavaScript glue: {e:#}. The \
                 `wasm-bindgen` crate in Cargo.lock and `wasm-bindgen-cli-support` must be the same \
                 version (both pinned to =0.2.130 in Cargo.toml)."
            )
        });
}
