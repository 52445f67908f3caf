//! Keeps the design honest: `partita-core` stays sans-IO (no runtime, files, sockets, clocks,
//! threads or OS randomness), so the browser and the server drive the very same engine.

use std::path::Path;

use partita_tests::workspace_root;

/// Paths and crates that would make the core do IO or read a clock.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "std::fs",
    "std::net",
    "std::time",
    "std::thread",
    "thread_rng",
    "Instant::now",
    "SystemTime",
    "std::process",
    "std::env",
];

/// `(line number, line)` of every non-comment line in `source` that names a forbidden path.
fn io_lines(source: &str) -> Vec<(usize, String)> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| FORBIDDEN.iter().any(|f| line.contains(f)))
        .map(|(i, line)| (i + 1, line.trim().to_string()))
        .collect()
}

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_checker_flags_io() {
    assert_eq!(
        io_lines("use std::fs::File;\n// std::time in a comment is fine\nlet x = 1;").len(),
        1
    );
    assert_eq!(io_lines("let now = std::time::Instant::now();")[0].0, 1);
    assert!(io_lines("let t = Millis(5);").is_empty());
}

#[test]
fn core_sources_do_no_io() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("core/src"), &mut files);
    assert!(!files.is_empty());
    let offences: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let source = std::fs::read_to_string(file).unwrap();
            io_lines(&source)
                .into_iter()
                .map(move |(n, line)| format!("{}:{n}: {line}", file.display()))
        })
        .collect();
    assert!(
        offences.is_empty(),
        "core/ must stay sans-IO:\n{}",
        offences.join("\n")
    );
}

#[test]
fn core_depends_on_no_runtime() {
    let manifest = std::fs::read_to_string(workspace_root().join("core/Cargo.toml")).unwrap();
    // The one exception: getrandom on wasm32 with only its `custom` source, which the core fills
    // with constant bytes (core/src/node/quorum/entropy.rs) so that raft-rs builds there; the
    // quorum overwrites every election timeout raft-rs draws with a seeded one.
    let wasm_custom_source = "[target.'cfg(target_arch = \"wasm32\")'.dependencies]\n\
                              getrandom = { version = \"0.2\", features = [\"custom\"] }\n";
    assert!(
        manifest.matches("getrandom =").count() <= 1,
        "core/Cargo.toml depends on getrandom more than once"
    );
    let manifest: String = manifest
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect::<String>()
        .replace(wasm_custom_source, "");
    for runtime in ["tokio", "async-std", "smol", "mio", "rand ", "getrandom"] {
        assert!(
            !manifest.contains(runtime),
            "core/Cargo.toml depends on {runtime}"
        );
    }
}
