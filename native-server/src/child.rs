//! Child processes that do not outlive the `partita` that started them.
//!
//! `partita chaos` and `partita cluster` start `partita serve` nodes with `--parent-pid` (and
//! the chaos recorder asks the same of Linux itself, `scripts/history_recorder.py`). When the
//! parent dies by any signal (SIGTERM, SIGINT, or SIGKILL, which no handler can catch), Linux
//! sends each such child SIGKILL: `PR_SET_PDEATHSIG`, prctl(2). The child asks for it itself,
//! at start, since asking between fork and exec needs `unsafe` (`pre_exec`), which the
//! workspace forbids.

use std::process::Command;

use anyhow::{Context, bail};

/// Adds `--parent-pid <this process>` to a `partita serve` command: the node then ends with
/// this process. Spawn it from a thread that lives as long as the process (the main thread):
/// Linux signals the child when the thread that forked it exits (prctl(2)).
pub fn serve_ends_with_this_process(command: &mut Command) -> &mut Command {
    command.args(["--parent-pid", &std::process::id().to_string()])
}

/// Asks Linux to SIGKILL this process when its parent exits, which must be the process
/// `parent`: if it already exited (this process was orphaned before it could ask), that is an
/// error, and the caller stops.
///
/// SIGKILL rather than SIGTERM: a node stopped by SIGSTOP (a `pause` fault of `partita chaos`)
/// would never act on SIGTERM. It costs a node nothing it wrote: the page cache survives.
pub fn exit_with_parent(parent: u32) -> anyhow::Result<()> {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .context("asking for PR_SET_PDEATHSIG")?;
    let now = rustix::process::getppid().map_or(0, |pid| pid.as_raw_nonzero().get());
    if u32::try_from(now).ok() != Some(parent) {
        bail!("--parent-pid {parent}: that process has exited already (the parent is {now})");
    }
    Ok(())
}
