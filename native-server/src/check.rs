//! `partita check FILE`: reads a history file (JSON lines, the format of
//! `partita_core::checker::jsonl`) written by any client, runs the core's checker on it and
//! prints the anomalies. Exit status: 0 clean, 1 an anomaly, 2 a file that cannot be read.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::ExitCode;

use partita_core::checker::{self, Anomaly, History, Op, jsonl};
use serde::Serialize;

use crate::cli::CheckArgs;

/// What the checker made of a history: the part `partita check --json` and `partita chaos
/// --json` share with `partita sim --json`.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// Sends the producers were told succeeded.
    pub acknowledged: u64,
    /// Sends the producers were told failed.
    pub failed: u64,
    /// Records consumers polled.
    pub polled: u64,
    pub anomalies: Vec<Anomaly>,
    /// Anomalies by kind name.
    pub counts: BTreeMap<&'static str, usize>,
}

impl Verdict {
    pub fn of(history: &History) -> Verdict {
        let count = |f: fn(&Op) -> bool| history.ops.iter().filter(|op| f(op)).count() as u64;
        let anomalies = checker::check(history, &[]);
        Verdict {
            acknowledged: count(|op| matches!(op, Op::Ack { .. })),
            failed: count(|op| matches!(op, Op::Fail { .. })),
            polled: count(|op| matches!(op, Op::Poll { .. })),
            counts: checker::count_by_kind(&anomalies),
            anomalies,
        }
    }

    /// Human-readable lines: the totals, then one line per anomaly.
    pub fn print(&self) {
        println!(
            "acknowledged {} failed {} polled {}",
            self.acknowledged, self.failed, self.polled
        );
        if self.anomalies.is_empty() {
            println!("no anomalies");
        }
        for a in &self.anomalies {
            println!("{a}");
        }
    }
}

/// Reads and parses a history file; the error names the line.
pub fn read_history(path: &std::path::Path) -> anyhow::Result<History> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
    };
    jsonl::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn run(args: CheckArgs) -> ExitCode {
    let history = match read_history(&args.file) {
        Ok(history) => history,
        Err(e) => {
            eprintln!("partita: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let verdict = Verdict::of(&history);
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&verdict).expect("verdicts serialize")
        );
    } else {
        verdict.print();
    }
    if verdict.anomalies.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
