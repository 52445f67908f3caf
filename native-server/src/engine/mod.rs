//! The engine thread: the one owner of the core's [`partita_core::node::Node`]. Connections
//! hand it closures and client requests and await the replies; the thread runs them in order,
//! acts on the node's outputs after each (records written and synced before the answers that
//! depend on them), then lets time pass, and syncs once for everything that arrived together
//! (group commit).

mod clock;
mod metadata_store;
mod offsets_log;
mod producer_ids;
mod state;
#[cfg(test)]
mod test_config;

pub use clock::now;
pub use state::{EngineConfig, Refusal, State};

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use partita_core::client::{Request, Response};
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
    /// Runs `f` on the engine thread and returns its result, once what `f` made the node
    /// write is durable (if that write fails, the result is dropped: an error here).
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |state| {
                let result = f(state);
                if state.drain() {
                    let _ = tx.send(result);
                }
            }))
            .map_err(|_| anyhow::anyhow!("the engine has stopped"))?;
        rx.await.context("the engine could not answer")
    }

    /// Hands a client request to the node and waits for its answer (a produce waiting for
    /// acks, a fetch for data, a JoinGroup for the other members).
    pub async fn request(&self, request: Request) -> anyhow::Result<Response> {
        self.call_later(move |state, reply| state.submit(request, Some(reply)))
            .await
    }

    /// Hands several client requests to the node in one go (so they run side by side) and
    /// waits for their answers, in order.
    pub async fn requests(&self, requests: Vec<Request>) -> anyhow::Result<Vec<Response>> {
        let replies = self
            .call(move |state| {
                requests
                    .into_iter()
                    .map(|request| {
                        let (tx, rx) = oneshot::channel();
                        state.submit(request, Some(tx));
                        rx
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        let mut responses = Vec::with_capacity(replies.len());
        for reply in replies {
            responses.push(reply.await.context("the engine dropped the request")?);
        }
        Ok(responses)
    }

    /// Hands a client request that gets no answer (a produce with acks=0) to the node.
    pub async fn send(&self, request: Request) -> anyhow::Result<()> {
        self.call(move |state| state.submit(request, None)).await
    }

    /// Runs `f` on the engine thread, which hands it a sender for an answer that may come later
    /// (a produce waiting for acks, a fetch waiting for data).
    pub async fn call_later<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State, oneshot::Sender<T>) + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |state| {
                f(state, tx);
                state.drain();
            }))
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
