//! The follower's truncation rounds (KIP-101, KIP-279) on one partition, answer by answer, and
//! the epoch cache rebuilt from the batches on open.

use crate::Millis;
use crate::batch::BatchBuilder;
use crate::broker::epoch_cache::LeaderEpochCache;
use crate::broker::follower::{FollowerFetch, FollowerPhase};
use crate::broker::partition::Partition;
use crate::broker::{BrokerSettings, EpochEndOffset, PartitionSettings};
use crate::storage::MemoryStorage;
use crate::{ErrorCode, assignor::TopicPartition};

/// A follower of broker 1 whose log holds `epochs`: (epoch, record count) per batch.
fn follower(epochs: &[(i32, usize)]) -> Partition<MemoryStorage> {
    let settings = BrokerSettings {
        node_id: 2,
        durable: false,
    };
    let (mut p, _) = Partition::open(
        MemoryStorage::new(),
        PartitionSettings::default(),
        settings,
        Millis(0),
    )
    .expect("opens");
    for &(epoch, count) in epochs {
        let mut builder = BatchBuilder::new();
        for _ in 0..count {
            builder.push(0, None, Some(b"x"), &[]);
        }
        p.log
            .append(&mut builder.build(), epoch, Millis(0))
            .expect("appends");
    }
    // As on open: the cache comes from the batches.
    p.epochs = LeaderEpochCache::from_starts(&p.log.epoch_starts().expect("reads"));
    p.follower = Some(FollowerFetch::new(1, 9));
    p
}

fn answer(leader_epoch: i32, end_offset: i64) -> EpochEndOffset {
    EpochEndOffset {
        tp: TopicPartition::new("t", 0),
        error: ErrorCode::NONE,
        leader_epoch,
        end_offset,
    }
}

/// Log end, epochs and phase after the answers.
fn check(p: &mut Partition<MemoryStorage>, answers: &[EpochEndOffset], expect: &str) {
    for a in answers {
        p.on_epoch_end_offset(a, Millis(0), Millis(100))
            .expect("truncates");
    }
    let epochs: Vec<String> = p
        .epochs
        .entries()
        .iter()
        .map(|e| format!("{}@{}", e.epoch, e.start_offset))
        .collect();
    let phase = p.follower.expect("follows").phase;
    assert_eq!(
        format!(
            "end={} epochs=[{}] {phase:?}",
            p.log.log_end_offset(),
            epochs.join(" ")
        ),
        expect
    );
}

#[test]
fn the_cache_is_rebuilt_from_batch_epochs() {
    let p = follower(&[(0, 2), (0, 1), (2, 3), (5, 1)]);
    let entries: Vec<(i32, i64)> = p
        .epochs
        .entries()
        .iter()
        .map(|e| (e.epoch, e.start_offset))
        .collect();
    assert_eq!(entries, vec![(0, 0), (2, 3), (5, 6)]);
}

#[test]
fn same_epoch_cuts_at_the_smaller_end() {
    check(
        &mut follower(&[(0, 3), (2, 4)]),
        &[answer(2, 5)],
        "end=3 epochs=[0@0] Fetching",
    );
    // Cut by whole batch: 5 falls inside the batch 3..6, which goes.
    check(
        &mut follower(&[(0, 3), (2, 2), (2, 2)]),
        &[answer(2, 5)],
        "end=5 epochs=[0@0 2@3] Fetching",
    );
    check(
        &mut follower(&[(0, 3), (2, 2)]),
        &[answer(2, 9)],
        "end=5 epochs=[0@0 2@3] Fetching",
    );
}

#[test]
fn an_epoch_the_follower_never_saw_takes_another_round() {
    // Follower: 0@0 2@5. Leader: 0@0 1@3 3@6. Asked about 2, the leader answers with epoch 1
    // (the newest it has at or below 2), ending at 6; the follower never saw epoch 1, so it
    // cuts at its own end of epoch 0 (5) and asks again about 0, which ended at 3.
    let mut p = follower(&[(0, 3), (0, 2), (2, 3)]);
    check(&mut p, &[answer(1, 6)], "end=5 epochs=[0@0] Truncating");
    check(&mut p, &[answer(0, 3)], "end=3 epochs=[0@0] Fetching");
}

#[test]
fn undefined_answers() {
    // The leader cannot place the epoch: keep only what is known committed (the high
    // watermark, 0 here).
    check(
        &mut follower(&[(0, 3)]),
        &[answer(-1, -1)],
        "end=0 epochs=[] Fetching",
    );
    // An old leader without epochs: trust its offset.
    check(
        &mut follower(&[(0, 3)]),
        &[answer(-1, 2)],
        "end=0 epochs=[] Fetching",
    );
}

#[test]
fn errors_back_off_and_keep_truncating() {
    let mut p = follower(&[(0, 3)]);
    let fenced = EpochEndOffset {
        error: ErrorCode::FENCED_LEADER_EPOCH,
        ..answer(-1, -1)
    };
    check(&mut p, &[fenced], "end=3 epochs=[0@0] Truncating");
    assert_eq!(
        p.follower.expect("follows").backoff_until,
        Some(Millis(100))
    );
    assert_eq!(
        p.follower.expect("follows").phase,
        FollowerPhase::Truncating
    );
}
