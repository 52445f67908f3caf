//! Guided tours: for each named scenario, what the seed article says, what to watch, and which
//! events the timeline highlights as they happen.

use partita_core::sim::TraceEvent;

pub struct Tour {
    pub scenario: &'static str,
    pub title: &'static str,
    /// The seed article's section.
    pub section: &'static str,
    pub text: &'static str,
    pub highlight: fn(&TraceEvent) -> bool,
}

fn durability(e: &TraceEvent) -> bool {
    matches!(
        e,
        TraceEvent::LeaderElected { .. }
            | TraceEvent::Truncated { .. }
            | TraceEvent::IsrChanged { .. }
            | TraceEvent::Fault { .. }
            | TraceEvent::ProduceFailed { .. }
    )
}

fn rebalance(e: &TraceEvent) -> bool {
    matches!(
        e,
        TraceEvent::Revoked { .. } | TraceEvent::Synced { .. } | TraceEvent::GroupState { .. }
    )
}

fn transactions(e: &TraceEvent) -> bool {
    matches!(
        e,
        TraceEvent::Transaction { .. } | TraceEvent::Fault { .. } | TraceEvent::Polled { .. }
    )
}

fn delivery(e: &TraceEvent) -> bool {
    matches!(
        e,
        TraceEvent::Commit { .. } | TraceEvent::Fault { .. } | TraceEvent::Synced { .. }
    )
}

pub const TOURS: &[Tour] = &[
    Tour {
        scenario: "keyed-ordering",
        title: "Keys and partitions",
        section: "Partitions: Parallelism and Ordering",
        text: "Messages with the same key go to the same partition, so they stay in order. Watch each \
               acknowledgement: one key always lands in one partition, at increasing offsets.",
        highlight: |e| matches!(e, TraceEvent::Produced { .. }),
    },
    Tour {
        scenario: "keyed-vs-keyless",
        title: "Keyed versus keyless",
        section: "Partitions: Parallelism and Ordering",
        text: "Two producers write to the same three partitions. The keyed one's records keep their \
               key's colour in one partition each: the partition is a hash of the key. The keyless \
               one's records (grey) are spread over all three partitions, one batch here, the next \
               there: more even, but with no order between partitions.",
        highlight: |e| matches!(e, TraceEvent::Produced { .. }),
    },
    Tour {
        scenario: "partition-parallelism",
        title: "Partition count caps parallelism",
        section: "Partitions: Parallelism and Ordering",
        text: "Four consumers share a topic of three partitions. Each partition goes to one consumer of \
               the group, so one consumer gets nothing and stays idle.",
        highlight: |e| matches!(e, TraceEvent::Synced { .. }),
    },
    Tour {
        scenario: "replication-isr",
        title: "Replication and the ISR",
        section: "Replication: Fault Tolerance",
        text: "Twelve partitions, three replicas each, spread over three brokers. Followers fetch from \
               each partition's leader (the timeline says who fetched which offsets from whom). Broker 2 \
               crashes: the controller fences it, drops it from every ISR and moves its leaderships. It \
               comes back, truncates to the leaders' logs, catches up and rejoins each ISR; acks=all \
               with min.insync.replicas=2 keeps every acknowledged write.",
        highlight: |e| {
            matches!(
                e,
                TraceEvent::IsrChanged { .. }
                    | TraceEvent::LeaderElected { .. }
                    | TraceEvent::BrokerFenced { .. }
                    | TraceEvent::BrokerUnfenced { .. }
                    | TraceEvent::Fault { .. }
            )
        },
    },
    Tour {
        scenario: "acks0-leader-crash",
        title: "acks=0 under a leader crash",
        section: "Replication: Fault Tolerance",
        text: "Fire and forget: the producer never waits. When the leader crashes, whatever its \
               followers had not copied is gone, and the producer never knew.",
        highlight: durability,
    },
    Tour {
        scenario: "acks1-leader-crash",
        title: "acks=1 under a leader crash",
        section: "Replication: Fault Tolerance",
        text: "The leader acknowledges as soon as it has the write. Crash it before the followers fetch: \
               a follower becomes leader without those records, and when the old leader returns it cuts \
               them from its log. Acknowledged writes are lost.",
        highlight: durability,
    },
    Tour {
        scenario: "acks-all-leader-crash",
        title: "acks=all with min.insync.replicas=2",
        section: "Replication: Fault Tolerance",
        text: "The leader acknowledges only when the in-sync replicas have the write (the high watermark \
               passed it). The new leader comes from the ISR, so it has every acknowledged write.",
        highlight: durability,
    },
    Tour {
        scenario: "min-isr",
        title: "min.insync.replicas=2 with one, then two brokers down",
        section: "Replication: Fault Tolerance",
        text: "One follower stops: once the controller fences it the ISR is two replicas, still enough \
               for min.insync.replicas=2, and acks=all writes go on. The second follower stops: the ISR \
               is the leader alone, and acks=all produces are refused with NOT_ENOUGH_REPLICAS rather \
               than risk losing them. The followers return and writes are accepted again.",
        highlight: durability,
    },
    Tour {
        scenario: "rebalance-eager",
        title: "Eager rebalancing",
        section: "Consumer Groups",
        text: "A third consumer joins two that share six partitions. Under an eager assignor every \
               member gives up all its partitions first: all six pause.",
        highlight: rebalance,
    },
    Tour {
        scenario: "rebalance-cooperative",
        title: "Cooperative-sticky rebalancing",
        section: "Consumer Groups",
        text: "The same join under cooperative-sticky: only the two partitions that move to the new \
               member are revoked; the other four keep being consumed.",
        highlight: rebalance,
    },
    Tour {
        scenario: "at-least-once",
        title: "At-least-once",
        section: "Offsets and Delivery Semantics",
        text: "The consumer processes, then commits. It crashes in between: the next consumer starts \
               from the last commit and processes those records again. Nothing is lost; some repeat.",
        highlight: delivery,
    },
    Tour {
        scenario: "at-most-once",
        title: "At-most-once",
        section: "Offsets and Delivery Semantics",
        text: "The consumer commits, then processes. It crashes in between: the next consumer starts \
               after records nobody processed. They are lost.",
        highlight: delivery,
    },
    Tour {
        scenario: "at-least-once-ctp",
        title: "Consume-transform-produce, at least once",
        section: "Exactly-Once Semantics",
        text: "An application reads orders, writes one invoice per order (an idempotent producer), \
               then commits its consumer offsets. It crashes after writing a batch of invoices and \
               before committing: its next life reads those orders again from the last commit and \
               writes their invoices again. Idempotence only stops a retried batch from being \
               appended twice; these are new sends. The checker finds each order invoiced twice \
               (ctp-duplicate).",
        highlight: delivery,
    },
    Tour {
        scenario: "exactly-once",
        title: "Exactly-once: consume-transform-produce in transactions",
        section: "Exactly-Once Semantics",
        text: "The same application with a transactional producer: each poll's invoices and the \
               consumer's offsets go into one transaction (sendOffsetsToTransaction), committed \
               together. It crashes with a transaction open: its invoices are in the log, above \
               the last stable offset (lso), and the read_committed reader waits there. The next \
               life calls initTransactions with the same transactional.id: the coordinator bumps \
               the epoch, fencing the old one, and writes abort markers (A); those invoices are \
               shaded and skipped. The offsets were never committed, so the orders are read again \
               and invoiced in a new transaction, committed with its markers (C). Every order has \
               exactly one visible invoice.",
        highlight: transactions,
    },
    Tour {
        scenario: "idempotence-off",
        title: "Retries without idempotence",
        section: "Replication: Fault Tolerance",
        text: "Responses get lost and the producer retries: the broker appends the same batch twice.",
        highlight: |e| matches!(e, TraceEvent::Retry { .. } | TraceEvent::Dropped { .. }),
    },
    Tour {
        scenario: "idempotence-on",
        title: "The idempotent producer",
        section: "Replication: Fault Tolerance",
        text: "Same losses, enable.idempotence=true: the broker recognises the retried batch by its \
               producer id and sequence number and answers with the original offset.",
        highlight: |e| matches!(e, TraceEvent::Retry { .. } | TraceEvent::Dropped { .. }),
    },
    Tour {
        scenario: "transactions",
        title: "Transactions, read_committed and read_uncommitted",
        section: "Exactly-Once Semantics",
        text: "A transactional producer (transactional.id=payments-app) writes transactions of four \
               records over two partitions: AddPartitionsToTxn, then the records, then EndTxn; the \
               coordinator writes a commit marker (C) in each partition. Every third transaction \
               is aborted: abort markers (A), and its records are shaded. The lso is where the \
               first open transaction begins. Two consumers read side by side: read_committed \
               stops at the lso and drops aborted records (it polls 40), read_uncommitted reads \
               up to the high watermark and gets all 60.",
        highlight: transactions,
    },
    Tour {
        scenario: "zombie-fenced",
        title: "A zombie producer is fenced",
        section: "Exactly-Once Semantics",
        text: "A transactional producer stops for 2.5 s (a long GC pause). Meanwhile a new instance \
               starts with the same transactional.id: InitProducerId bumps the producer epoch, and \
               any transaction the old one left open is aborted. The old one wakes up and goes on \
               with its old epoch: the coordinator and the partition leaders refuse it \
               (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH) and it stops. Nothing it writes after \
               the fence is ever read committed.",
        highlight: transactions,
    },
    Tour {
        scenario: "txn-coordinator-crash",
        title: "The transaction coordinator crashes mid-commit",
        section: "Exactly-Once Semantics",
        text: "Three brokers. A transaction's state lives in __transaction_state, replicated like \
               any topic; its coordinator is the leader of the partition its transactional.id \
               hashes to. From 600 ms the coordinator's commit markers to the other brokers are \
               lost: the transaction it just answered EndTxn for stays in PrepareCommit (the \
               producer's next AddPartitionsToTxn hears CONCURRENT_TRANSACTIONS), and at 800 ms \
               the coordinator's broker crashes. The new leader of that partition loads the \
               PrepareCommit record and writes the markers: the transaction is committed whole, \
               the lso moves on, and the producer finds the new coordinator and goes on.",
        highlight: transactions,
    },
    Tour {
        scenario: "lag",
        title: "Lag grows, then drains",
        section: "Lag Monitoring",
        text: "One slow consumer falls behind the producer: lag (high watermark minus committed offset) \
               grows. More consumers join, up to the partition count, and the lag drains.",
        highlight: |e| matches!(e, TraceEvent::Synced { .. } | TraceEvent::Commit { .. }),
    },
    Tour {
        scenario: "controller-failover",
        title: "Controller failover",
        section: "The Controller Quorum",
        text: "Three controllers form a Raft quorum; the metadata log is its log, and the leader is the \
               active controller. It crashes. The others stop hearing its heartbeats, one wins an \
               election in a new term and replays the log before it acts; brokers asking the old \
               leader hear NOT_CONTROLLER and the new leader's id. A topic is created through it; the \
               old controller returns as a follower and catches up: no committed record is lost.",
        highlight: |e| {
            matches!(
                e,
                TraceEvent::ControllerElected { .. }
                    | TraceEvent::Fault { .. }
                    | TraceEvent::BrokerFenced { .. }
                    | TraceEvent::BrokerUnfenced { .. }
            )
        },
    },
    Tour {
        scenario: "compaction",
        title: "Compaction keeps the latest value of each key",
        section: "Log Compaction",
        text: "The topic table has cleanup.policy=compact and small segments (segment.bytes=1500). Two \
               producers overwrite eight keys hundreds of times; every crossed cell is a tombstone, a \
               record with a null value that deletes its key. Each time a segment closes, the log \
               cleaner (log.cleaner.backoff.ms=200) rewrites the closed segments: the cells of a key \
               collapse to its newest one, and a tombstone stays until delete.retention.ms (1 s) has \
               passed since the cleaning that first kept it (the timeline highlights each cleaning round), then goes too (k7 ends with no record at \
               all). Offsets never change: the dashed +n marks are the offsets removed, and the \
               reader that starts at 7 s from the earliest offset jumps over them.",
        highlight: |e| matches!(e, TraceEvent::Cleaned { .. } | TraceEvent::Polled { .. }),
    },
    Tour {
        scenario: "coordinator-failover",
        title: "The group coordinator fails over",
        section: "Consumer Groups",
        text: "Committed offsets are records in __consumer_offsets, a compacted topic replicated like \
               any other; a group's coordinator is the broker leading the partition its group.id \
               hashes to. The consumer commits after each batch it processes; at 1.5 s that broker \
               crashes. The controller elects a new leader of the offsets partition from its ISR, \
               which loads the group from its own replica; the consumer hears NOT_COORDINATOR or \
               nothing, asks FindCoordinator again and goes on from the committed offsets: \
               nothing is skipped, and only what was in flight since the last commit is processed again.",
        highlight: |e| {
            matches!(
                e,
                TraceEvent::Coordinator { .. }
                    | TraceEvent::Fault { .. }
                    | TraceEvent::LeaderElected { .. }
                    | TraceEvent::Commit { .. }
            )
        },
    },
];

pub fn find(scenario: &str) -> Option<&'static Tour> {
    TOURS.iter().find(|t| t.scenario == scenario)
}
