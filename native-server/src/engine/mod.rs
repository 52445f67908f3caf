//! The engine thread: the one place the core's state machines (controller, broker) live and
//! change. Connections hand it closures and await the replies; the thread runs them in order,
//! then syncs once for everything that arrived together (group commit), lets time pass, and
//! delivers the answers the core has produced.

mod clock;
mod groups;
mod producer_ids;
mod state;

pub use clock::now;
pub use state::{EngineConfig, Refusal, State};

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;

/// The longest the thread sleeps without a command: time-driven work (heartbeats, retention)
/// never waits longer than this.
const IDLE_WAKE_MS: u64 = 100;

type Job = Box<dyn FnOnce(&mut State) + Send>;

/// A cheap, cloneable way to reach the engine thread.
#[derive(Clone)]
pub struct EngineHandle {
    jobs: mpsc::Sender<Job>,
}

impl EngineHandle {
    /// Runs `f` on the engine thread and returns its result.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |state| {
                let _ = tx.send(f(state));
            }))
            .map_err(|_| anyhow::anyhow!("the engine has stopped"))?;
        rx.await.context("the engine has stopped")
    }

    /// Runs `f` on the engine thread, which hands it a sender for an answer that may come later
    /// (a produce waiting for acks, a fetch waiting for data).
    pub async fn call_later<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State, oneshot::Sender<T>) + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |state| f(state, tx)))
            .map_err(|_| anyhow::anyhow!("the engine has stopped"))?;
        rx.await.context("the engine dropped the request")
    }
}

/// Starts the engine thread on `config`'s data directory (recovering what is there).
pub fn start(config: EngineConfig) -> anyhow::Result<(EngineHandle, JoinHandle<()>)> {
    let mut state = State::open(config)?;
    let (jobs, inbox) = mpsc::channel::<Job>();
    let thread = std::thread::Builder::new()
        .name("partita-engine".into())
        .spawn(move || {
            loop {
                let wait = state
                    .next_deadline()
                    .map_or(IDLE_WAKE_MS, |d| d.since(now()).0.min(IDLE_WAKE_MS));
                match inbox.recv_timeout(Duration::from_millis(wait)) {
                    Ok(job) => job(&mut state),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                // Everything already queued shares the next sync.
                while let Ok(job) = inbox.try_recv() {
                    job(&mut state);
                }
                state.tick(now());
            }
            state.shut_down();
        })?;
    Ok((EngineHandle { jobs }, thread))
}
