//! Runs a Python snippet in the project's virtual environment (where confluent-kafka is), for
//! tests that need a real client's behaviour checked from Rust.

use std::process::Command;

/// Runs `script` with `.venv/bin/python` and returns its standard output; panics with its
/// standard error if it fails.
pub fn run_python(script: &str) -> String {
    let python = crate::workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/install.sh creates it",
        python.display()
    );
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}
