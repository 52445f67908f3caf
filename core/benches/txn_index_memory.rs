//! What a log with many aborted transactions holds in memory (review finding F11): the log's
//! own state after it is opened, the peak while it opens, and the peak of one read_committed
//! lookup of the aborted transactions (`Log::aborted_transactions`, what a Fetch asks), for
//! 1,000 to 100,000 aborted transactions. Printed as one table.
//!
//! Heap bytes are counted by `peak_alloc`'s global allocator (live bytes and their peak). The storage's own
//! bytes (the in-memory backend holds every file in the heap) are excluded: the storage is
//! built first and the log's figures are what opening it adds.
//!
//! Run: `cargo bench -p partita-core --bench txn_index_memory`.

use partita_core::Millis;
use partita_core::batch::{BatchBuilder, EndTxnMarker};
use partita_core::log::{AbortedTxn, Log, LogConfig};
use partita_core::storage::MemoryStorage;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

fn live() -> usize {
    ALLOCATOR.current_usage()
}

/// Starts a peak measurement from the bytes live now.
fn reset_peak() -> usize {
    ALLOCATOR.reset_peak_usage();
    live()
}

fn peak_since(base: usize) -> usize {
    ALLOCATOR.peak_usage().saturating_sub(base)
}

/// The number of aborted transactions a lookup answered, whether it returns them or a result.
trait Answered {
    fn answered(self) -> usize;
}

impl Answered for Vec<AbortedTxn> {
    fn answered(self) -> usize {
        self.len()
    }
}

impl<E: std::fmt::Debug> Answered for Result<Vec<AbortedTxn>, E> {
    fn answered(self) -> usize {
        self.expect("lookup").len()
    }
}

/// 1 MiB segments: a log of 100,000 aborted transactions spans about a dozen.
fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 1024 * 1024,
        retention_ms: None,
        ..LogConfig::default()
    }
}

/// Storage holding a log of `aborted` transactions of one producer, each one record and its
/// abort marker, and the log end offset.
fn build(aborted: usize) -> (MemoryStorage, i64) {
    let (mut log, _) = Log::open(MemoryStorage::new(), config()).expect("open");
    for i in 0..aborted {
        let sequence = i32::try_from(i).expect("fits");
        let mut batch = BatchBuilder::new()
            .idempotent(1, 0, sequence)
            .transactional();
        batch.push(0, None, Some(b"value"), &[]);
        log.append(&mut batch.build(), 0, Millis(0))
            .expect("append");
        let marker = EndTxnMarker {
            producer_id: 1,
            producer_epoch: 0,
            coordinator_epoch: 0,
            commit: false,
        };
        log.append_marker(&marker, 0, Millis(0)).expect("marker");
    }
    log.flush().expect("flush");
    let end = log.log_end_offset();
    (log.into_storage(), end)
}

struct Row {
    aborted: usize,
    segments: usize,
    held: usize,
    held_replicated: usize,
    open_peak: usize,
    lookup_peak: usize,
    answered: usize,
}

fn measure(aborted: usize) -> Row {
    let (storage, end) = build(aborted);
    // Opened once so that whatever files opening writes exist before the measured open.
    let (log, _) = Log::open(storage, config()).expect("open");
    let storage = log.into_storage();
    let base = reset_peak();
    let (log, _) = Log::open(storage, config()).expect("reopen");
    let open_peak = peak_since(base);
    let held = live().saturating_sub(base);
    // Once the high watermark passes the log end (the partition says so when it moves), the
    // transactions closed in the log no longer hold the last stable offset back.
    let mut log = log;
    log.note_high_watermark(end);
    let held_replicated = live().saturating_sub(base);
    // A consumer near the end of the log: a Fetch of about 1 MiB (the last 7,000 offsets).
    let start = (end - 7_000).max(0);
    let before = reset_peak();
    let answered = log.aborted_transactions(start, end).answered();
    let lookup_peak = peak_since(before);
    Row {
        aborted,
        segments: log.segments().len(),
        held,
        held_replicated,
        open_peak,
        lookup_peak,
        answered,
    }
}

fn main() {
    println!(
        "{:>14} {:>9} {:>20} {:>20} {:>18} {:>20} {:>16}",
        "aborted txns",
        "segments",
        "held after open (B)",
        "held at HW=LEO (B)",
        "peak in open (B)",
        "peak in lookup (B)",
        "txns in lookup"
    );
    for aborted in [1_000, 10_000, 100_000] {
        let row = measure(aborted);
        println!(
            "{:>14} {:>9} {:>20} {:>20} {:>18} {:>20} {:>16}",
            row.aborted,
            row.segments,
            row.held,
            row.held_replicated,
            row.open_peak,
            row.lookup_peak,
            row.answered
        );
    }
}
