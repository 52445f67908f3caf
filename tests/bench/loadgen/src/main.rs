//! The benchmark's load generator: librdkafka (through the `rdkafka` crate) driving a broker
//! from compiled code, so that the figures measure the broker rather than a Python loop.
//! scripts/bench.sh runs it pinned to one core with the broker on the other, and prints the
//! table; each run here prints one JSON object on stdout.
//!
//! - `produce`: sends `--total-bytes` of `--message-bytes` messages (acks as given), as fast
//!   as librdkafka takes them, or at `--rate` messages per second; reports MB/s and the
//!   latency of each message from when it was due to be sent (so a stall counts for every
//!   message held up by it, not once) to its acknowledgement.
//! - `consume`: reads `--messages` from the start of every partition, assigned directly (no
//!   group join in the figure).
//! - `tcp-pump`: the machine's own loopback TCP throughput, a sender and a receiver thread
//!   in this process, for the table's "limit" column.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

/// How long anything may take before the run is declared stuck.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Latencies above this are recorded as this (microseconds).
const LATENCY_MAX_US: u64 = 60_000_000;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Produce {
        #[arg(long)]
        bootstrap_server: String,
        #[arg(long)]
        topic: String,
        #[arg(long)]
        message_bytes: usize,
        #[arg(long)]
        total_bytes: u64,
        #[arg(long, default_value = "1")]
        acks: String,
        /// Messages per second; without it, as fast as librdkafka accepts them.
        #[arg(long)]
        rate: Option<u64>,
    },
    Consume {
        #[arg(long)]
        bootstrap_server: String,
        #[arg(long)]
        topic: String,
        #[arg(long)]
        messages: u64,
    },
    TcpPump {
        #[arg(long)]
        total_bytes: u64,
    },
}

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Produce {
            bootstrap_server,
            topic,
            message_bytes,
            total_bytes,
            acks,
            rate,
        } => produce(
            &bootstrap_server,
            &topic,
            message_bytes,
            total_bytes,
            &acks,
            rate,
        ),
        Command::Consume {
            bootstrap_server,
            topic,
            messages,
        } => consume(&bootstrap_server, &topic, messages),
        Command::TcpPump { total_bytes } => tcp_pump(total_bytes),
    }
}

/// Records each acknowledgement's latency; counts failures.
struct Deliveries {
    started: Instant,
    latencies_us: Mutex<Histogram<u64>>,
    failed: Mutex<Option<String>>,
    acknowledged: std::sync::atomic::AtomicU64,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    /// Nanoseconds from `started` to when the message was due to be sent.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, due_ns: usize) {
        if let Err((error, _)) = result {
            let mut failed = self.failed.lock().expect("not poisoned");
            failed.get_or_insert_with(|| error.to_string());
            return;
        }
        let elapsed_ns = self.started.elapsed().as_nanos() as u64;
        let latency_us = elapsed_ns.saturating_sub(due_ns as u64) / 1_000;
        self.latencies_us
            .lock()
            .expect("not poisoned")
            .saturating_record(latency_us.clamp(1, LATENCY_MAX_US));
        self.acknowledged
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn produce(
    bootstrap: &str,
    topic: &str,
    message_bytes: usize,
    total_bytes: u64,
    acks: &str,
    rate: Option<u64>,
) -> anyhow::Result<()> {
    let count = total_bytes / message_bytes as u64;
    let context = Deliveries {
        started: Instant::now(),
        latencies_us: Mutex::new(Histogram::new_with_max(LATENCY_MAX_US, 3)?),
        failed: Mutex::new(None),
        acknowledged: Default::default(),
    };
    let producer: BaseProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", acks)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("compression.codec", "none")
        .create_with_context(context)
        .context("creating the producer")?;
    let payload = vec![b'x'; message_bytes];
    let interval_ns = rate.map(|r| 1_000_000_000 / r.max(1));
    let started = producer.context().started;
    for i in 0..count {
        let due_ns = match interval_ns {
            Some(interval) => {
                let due = Duration::from_nanos(i * interval);
                while started.elapsed() < due {
                    producer.poll(Duration::ZERO);
                    std::hint::spin_loop();
                }
                due.as_nanos() as usize
            }
            None => started.elapsed().as_nanos() as usize,
        };
        let mut record = BaseRecord::with_opaque_to(topic, due_ns).payload(&payload[..]);
        let blocked_since = Instant::now();
        loop {
            match producer.send::<[u8], [u8]>(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    if blocked_since.elapsed() > STALL_TIMEOUT {
                        bail!("the producer's queue stayed full for {STALL_TIMEOUT:?}");
                    }
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
                Err((error, _)) => bail!("producing: {error}"),
            }
        }
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(STALL_TIMEOUT)
        .context("waiting for acknowledgements")?;
    let seconds = started.elapsed().as_secs_f64();
    let context = producer.context();
    if let Some(error) = context.failed.lock().expect("not poisoned").take() {
        bail!("a message failed: {error}");
    }
    let acknowledged = context
        .acknowledged
        .load(std::sync::atomic::Ordering::Relaxed);
    if acknowledged != count {
        bail!("{acknowledged} of {count} messages acknowledged");
    }
    let latencies = context.latencies_us.lock().expect("not poisoned");
    let bytes = count * message_bytes as u64;
    println!(
        "{{\"mode\":\"produce\",\"messages\":{count},\"bytes\":{bytes},\"seconds\":{seconds:.3},\
         \"mb_per_s\":{:.1},\"msgs_per_s\":{:.0},\"latency_ms\":{{\"p50\":{:.2},\"p99\":{:.2},\
         \"p999\":{:.2},\"max\":{:.2}}}}}",
        bytes as f64 / 1e6 / seconds,
        count as f64 / seconds,
        latencies.value_at_quantile(0.5) as f64 / 1e3,
        latencies.value_at_quantile(0.99) as f64 / 1e3,
        latencies.value_at_quantile(0.999) as f64 / 1e3,
        latencies.max() as f64 / 1e3,
    );
    Ok(())
}

fn consume(bootstrap: &str, topic: &str, messages: u64) -> anyhow::Result<()> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "partita-loadgen")
        .set("enable.auto.commit", "false")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .create()
        .context("creating the consumer")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), STALL_TIMEOUT)
        .context("fetching metadata")?;
    let partitions = metadata
        .topics()
        .first()
        .map(|t| t.partitions().len())
        .filter(|&n| n > 0)
        .context("the topic has no partitions")?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions as i32 {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    let started = Instant::now();
    consumer.assign(&assignment)?;
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut last_progress = Instant::now();
    while count < messages {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                count += 1;
                bytes += message.payload_len() as u64;
                last_progress = Instant::now();
            }
            Some(Err(error)) => bail!("consuming: {error}"),
            None if last_progress.elapsed() > STALL_TIMEOUT => {
                bail!("no message for {STALL_TIMEOUT:?} after {count} of {messages}")
            }
            None => {}
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"mode\":\"consume\",\"messages\":{count},\"bytes\":{bytes},\"seconds\":{seconds:.3},\
         \"mb_per_s\":{:.1},\"msgs_per_s\":{:.0}}}",
        bytes as f64 / 1e6 / seconds,
        count as f64 / seconds,
    );
    Ok(())
}

fn tcp_pump(total_bytes: u64) -> anyhow::Result<()> {
    const CHUNK_BYTES: usize = 1 << 20;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let receiver = std::thread::spawn(move || -> anyhow::Result<u64> {
        let (mut stream, _) = listener.accept()?;
        let mut buffer = vec![0u8; CHUNK_BYTES];
        let mut received = 0u64;
        loop {
            let n = stream.read(&mut buffer)?;
            if n == 0 {
                return Ok(received);
            }
            received += n as u64;
        }
    });
    let mut stream = TcpStream::connect(address)?;
    let chunk = vec![b'x'; CHUNK_BYTES];
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < total_bytes {
        stream.write_all(&chunk)?;
        sent += CHUNK_BYTES as u64;
    }
    drop(stream);
    let received = receiver.join().expect("the receiver thread panicked")?;
    let seconds = started.elapsed().as_secs_f64();
    if received != sent {
        bail!("sent {sent} bytes, received {received}");
    }
    println!(
        "{{\"mode\":\"tcp-pump\",\"bytes\":{sent},\"seconds\":{seconds:.3},\"mb_per_s\":{:.1}}}",
        sent as f64 / 1e6 / seconds
    );
    Ok(())
}
