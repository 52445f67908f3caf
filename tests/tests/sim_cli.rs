//! `partita sim` as a shell user runs it: output cut short by the reader (`| head`) ends the
//! run quietly, not with a panic, and anomalies print as one readable line.

use std::io::Read;
use std::process::{Command, Stdio};

use partita_tests::server::partita_binary;

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    // The trace of this run is about 1 MB: far more than a pipe holds, so the writer meets
    // the closed pipe.
    let mut child = Command::new(partita_binary())
        .args(["sim", "--scenario", "lag", "--seed", "1", "--trace"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("partita starts");
    let mut first = [0u8; 64];
    child
        .stdout
        .take()
        .expect("piped")
        .read_exact(&mut first)
        .expect("some output");
    // The read end is dropped here, as `head` closes it.
    let output = child.wait_with_output().expect("partita ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn anomalies_print_as_one_readable_line() {
    // acks=1 with the leader crashing loses acknowledged writes in some seeds.
    let line = (0..40)
        .find_map(|seed| {
            let output = Command::new(partita_binary())
                .args(["sim", "--scenario", "acks1-leader-crash", "--seed"])
                .arg(seed.to_string())
                .output()
                .expect("partita runs");
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .find(|l| l.starts_with("anomaly "))
                .map(str::to_string)
        })
        .expect("some seed of acks1-leader-crash loses a write");
    assert!(line.starts_with("anomaly lost-write "), "{line}");
    assert!(!line.contains("Anomaly {"), "debug output: {line}");
}

#[test]
fn a_run_says_what_its_scenario_expects_and_whether_it_held() {
    // at-most-once loses records to processing, not acknowledged writes: the checker finds no
    // anomaly, and the output says the scenario's own expectation (`lost` > 0) held.
    let output = Command::new(partita_binary())
        .args(["sim", "--scenario", "at-most-once", "--seed", "1"])
        .output()
        .expect("partita runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("records are never processed"),
        "no description: {stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap_or_default()
            .ends_with(" holds"),
        "{stdout}"
    );
}
