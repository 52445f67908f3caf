//! What each named scenario is known to show, as the seed article predicts it: acks=1 loses
//! acknowledged writes under a leader crash in some seeds, acks=all with
//! `min.insync.replicas=2` in none, and so on. The seed sweeps (`tests/tests/sim_sweep.rs`, the
//! core's own tests) hold every seed's [`Summary`] against these.

use super::Summary;

fn field(summary: &Summary, name: &str) -> i64 {
    *summary
        .fields
        .get(name)
        .unwrap_or_else(|| panic!("{} reports no {name}", summary.scenario))
}

fn clean(summary: &Summary) -> bool {
    summary.anomalies.is_empty()
}

/// Whether `summary` shows what its scenario must show in every seed. Panics for a scenario
/// without an expectation, so that a new scenario cannot go unchecked.
pub fn holds_in_every_seed(summary: &Summary) -> bool {
    let s = summary;
    match s.scenario.as_str() {
        "keyed-ordering" => {
            clean(s) && field(s, "out_of_order_keys") == 0 && field(s, "processed") == 90
        }
        "keyed-vs-keyless" => {
            clean(s)
                && field(s, "keys") == 3
                && field(s, "partitions_per_key_max") == 1
                && field(s, "keyless_partitions") == 3
        }
        "partition-parallelism" => clean(s) && field(s, "idle_consumers") == 1,
        "replication-isr" => {
            clean(s)
                && s.acknowledged == 400
                && field(s, "isr_min") == 2
                && field(s, "under_replicated_final") == 0
        }
        // Lost writes are allowed (that is the point); nothing else is.
        "acks0-leader-crash" | "acks1-leader-crash" => s
            .anomalies
            .iter()
            .all(|a| matches!(a.kind.name(), "lost-write" | "duplicate")),
        "acks-all-leader-crash" => clean(s) && s.acknowledged > 0,
        "min-isr" => {
            clean(s)
                && field(s, "acknowledged_one_down") > 0
                && field(s, "rejected_not_enough_replicas") > 0
        }
        "rebalance-eager" => clean(s) && field(s, "revoked") == 6,
        "rebalance-cooperative" => clean(s) && field(s, "revoked") == 2,
        "at-least-once" => clean(s) && field(s, "redelivered") > 0 && field(s, "lost") == 0,
        "at-most-once" => field(s, "lost") > 0,
        // Duplicates show in some seeds, not all.
        "idempotence-off" => true,
        "idempotence-on" => clean(s) && field(s, "duplicates") == 0 && s.acknowledged == 100,
        "lag" => clean(s) && field(s, "lag_max") > 0 && field(s, "lag_final") == 0,
        "controller-failover" => {
            clean(s)
                && s.acknowledged == 300
                && field(s, "active_final") >= 0
                && field(s, "active_final") != field(s, "active_before_crash")
                && field(s, "term_max") >= 2
                && field(s, "voters_in_sync") == 3
                && field(s, "records_final") > field(s, "records_before_crash")
                && field(s, "topics") == 2
                && field(s, "created_after_failover") == 1
        }
        // The coordinator moved with the leadership of the group's offsets partition, and the
        // group went on from its committed offsets: nothing skipped, nothing lagging at the
        // end, and at most the records between a commit and the crash processed again.
        "coordinator-failover" => {
            clean(s)
                && s.acknowledged == 200
                && field(s, "coordinator_before") >= 0
                && field(s, "coordinator_after") >= 0
                && field(s, "coordinator_after") != field(s, "coordinator_before")
                && field(s, "processed") == 200
                && field(s, "lost") == 0
                && field(s, "lag_final") == 0
                && field(s, "reprocessed") <= 10
        }
        "compaction" => {
            clean(s)
                && s.acknowledged == 316
                && field(s, "distinct_keys") == 8
                && field(s, "keys_deleted") >= 1
                && field(s, "records_left") < field(s, "records_produced") / 2
                && field(s, "tombstones_removed") > 0
                && field(s, "consumer_offset_gaps") > 1
                && field(s, "consumer_polled") >= field(s, "records_left")
        }
        // Every aborted transaction's records are in the log; read_committed sees none of
        // them and every committed one, read_uncommitted sees everything.
        "transactions" => {
            clean(s)
                && s.acknowledged == 60
                && field(s, "committed_transactions") == 10
                && field(s, "aborted_transactions") == 5
                && field(s, "aborted_records") == 20
                && field(s, "read_committed_polled") == 40
                && field(s, "read_committed_saw_aborted") == 0
                && field(s, "read_uncommitted_polled") == 60
                && field(s, "read_uncommitted_saw_aborted") == 20
        }
        // The crash left an open transaction with outputs in the log (aborted when the next
        // life fenced it); every input has exactly one visible output.
        "exactly-once" => {
            clean(s)
                && field(s, "inputs") == 80
                && field(s, "outputs_missing") == 0
                && field(s, "ctp_duplicates") == 0
                && field(s, "aborted_outputs") > 0
                && field(s, "reader_polled") == 80
        }
        // Outputs made before the crash whose offsets were never committed are made again.
        "at-least-once-ctp" => {
            s.anomalies.iter().all(|a| a.kind.name() == "ctp-duplicate")
                && field(s, "inputs") == 80
                && field(s, "outputs_missing") == 0
                && field(s, "ctp_duplicates") > 0
        }
        "zombie-fenced" => {
            clean(s)
                && s.acknowledged >= 40
                && field(s, "zombie_fenced") == 1
                && field(s, "successor_fenced") == 0
                && field(s, "successor_committed") == 8
        }
        // The prepared commit is finished by the new coordinator: every transaction is
        // committed and read whole.
        "txn-coordinator-crash" => {
            clean(s)
                && s.acknowledged == 60
                && field(s, "coordinator_before") >= 0
                && field(s, "coordinator_after") >= 0
                && field(s, "coordinator_after") != field(s, "coordinator_before")
                && field(s, "committed_transactions") == 10
                && field(s, "unfinished_transactions") == 0
                && field(s, "reader_polled") == 60
        }
        other => panic!("no expectation written for scenario {other}"),
    }
}

/// The anomaly a scenario must show in at least one seed of a sweep (faults that only
/// sometimes bite).
pub fn shows_in_some_seed(scenario: &str) -> Option<&'static str> {
    match scenario {
        "acks0-leader-crash" | "acks1-leader-crash" => Some("lost-write"),
        "idempotence-off" => Some("duplicate"),
        _ => None,
    }
}
