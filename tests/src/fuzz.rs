//! The bodies of the fuzz targets (`fuzz/`, cargo-fuzz) as plain functions, so the normal test
//! suite replays every committed corpus and regression input through the same code
//! (`tests/tests/fuzz_corpora.rs`). Each function takes arbitrary bytes and panics only when an
//! invariant breaks; bad input must end in an error, never a crash, a hang or a huge
//! allocation (the fuzz targets also bound each input's peak allocation).

pub mod peer;
pub mod smoke;

use std::path::PathBuf;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ResponseHeader, ResponseKind, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use partita_core::Millis;
use partita_core::batch::{
    BatchBuilder, assign_offsets, decode_records, set_log_append_time, split_batches,
    validate_batch,
};
use partita_core::config::{BrokerConfig, TopicConfig};
use partita_core::log::{Log, LogConfig};
use partita_core::storage::{MemoryStorage, Storage};
use partita_server::kafka::guard::{self, check_request, check_response};
use partita_server::kafka::read_frame;
use partita_server::kafka::sasl::{PlainUsers, SaslMechanisms, Session};

/// A fuzz target's body: arbitrary bytes in, a panic only when an invariant breaks.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name, as `scripts/fuzz.sh` and the corpora directories name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("request", request),
    ("response", response),
    ("batch", batch),
    ("sasl", sasl),
    ("config", config),
    ("log_recovery", log_recovery),
    ("peer", peer::peer),
];

/// The committed inputs of a target, sorted: its seeds (`fuzz/corpus/TARGET/`) and the
/// findings kept as regression inputs (`fuzz/regressions/TARGET/`).
pub fn committed_inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let dir = crate::workspace_root().join("fuzz").join(dir).join(target);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(entries.map(|e| e.expect("a readable directory entry").path()));
        }
    }
    files.sort();
    files
}

/// The frame reader, then the guard and the codec, as a connection runs them on a request.
/// Whatever the guard lets through and the codec decodes, the codec's own encoding of it must
/// pass the guard again (the guard never refuses what a client encodes).
pub fn request(data: &[u8]) {
    let mut stream = (data.len() as u32).to_be_bytes().to_vec();
    stream.extend_from_slice(data);
    let framed = poll_ready(read_frame(&mut &stream[..]));
    let frame = match framed {
        Ok(Some(frame)) => frame,
        Ok(None) | Err(_) => return,
    };
    assert_eq!(
        &frame[..],
        data,
        "the frame reader returns the frame's bytes"
    );
    if data.len() < 4 {
        assert!(check_request(data).is_err());
        return;
    }
    let api_key = i16::from_be_bytes([data[0], data[1]]);
    let version = i16::from_be_bytes([data[2], data[3]]);
    let (Ok(api), Some(_)) = (ApiKey::try_from(api_key), guard::schema(api_key, version)) else {
        assert!(check_request(data).is_err(), "no schema, no pass");
        return;
    };
    let Ok((header, body)) = partita_server::kafka::decode_request(api, version, frame) else {
        return;
    };
    let mut again = BytesMut::new();
    header
        .encode(&mut again, api.request_header_version(version))
        .expect("a decoded header encodes");
    if body.encode(&mut again, version).is_err() {
        return; // a value the version cannot carry (the codec's check, not ours)
    }
    if let Err(refusal) = check_request(&again) {
        panic!("the guard refuses the codec's own encoding: {refusal}");
    }
}

/// What the client runs on a broker's answer: the first four bytes name the API and version
/// asked, the rest is the response frame.
pub fn response(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let api_key = i16::from_be_bytes([data[0], data[1]]);
    let version = i16::from_be_bytes([data[2], data[3]]);
    let frame = &data[4..];
    let Ok(api) = ApiKey::try_from(api_key) else {
        return;
    };
    if check_response(api_key, version, frame).is_err() {
        return;
    }
    let mut buf = Bytes::copy_from_slice(frame);
    let Ok(header) = ResponseHeader::decode(&mut buf, api.response_header_version(version)) else {
        return;
    };
    let Ok(body) = ResponseKind::decode(api, &mut buf, version) else {
        return;
    };
    let mut again = BytesMut::new();
    header
        .encode(&mut again, api.response_header_version(version))
        .expect("a decoded header encodes");
    if body.encode(&mut again, version).is_err() {
        return;
    }
    if let Err(refusal) = check_response(api_key, version, &again) {
        panic!("the guard refuses the codec's own encoding: {refusal}");
    }
}

/// Record batch validation, offset assignment, LogAppendTime stamping and decoding: a batch
/// that validates still validates after the broker rewrites it.
pub fn batch(data: &[u8]) {
    let _ = split_batches(data);
    let _ = decode_records(data);
    let Ok(summary) = validate_batch(data) else {
        return;
    };
    let mut batch = data[..summary.header.size_bytes()].to_vec();
    assign_offsets(&mut batch, 1_000, 7).expect("a valid batch takes offsets");
    let assigned = validate_batch(&batch).expect("offset assignment keeps the CRC valid");
    assert_eq!(assigned.header.base_offset, 1_000);
    assert_eq!(assigned.header.record_count, summary.header.record_count);
    set_log_append_time(&mut batch, 1_700_000_000_000).expect("stamping a valid batch");
    validate_batch(&batch).expect("stamping keeps the CRC valid");
    if let Ok(records) = decode_records(&batch) {
        assert!(records.len() <= summary.header.record_count.max(0) as usize);
    }
}

/// The SASL exchange: a handshake naming a mechanism, then a token, with PLAIN's one user
/// `alice:secret` and SCRAM-SHA-256 offered too (a token for SCRAM is a client-first message,
/// then after a 0xfe byte a client-final one, with a credential for `alice`). Only her PLAIN
/// token logs in; no SCRAM exchange can (the proof needs the password).
pub fn sasl(data: &[u8]) {
    let users = PlainUsers::parse(&["alice:secret".to_string()]).unwrap();
    let offered = SaslMechanisms::resolve(Some("PLAIN,SCRAM-SHA-256"), &users).unwrap();
    let (mechanism, token) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let version = i16::from(data.first().is_some_and(|b| b & 1 == 1));
    let mut session = Session::new(&offered);
    let mechanism = String::from_utf8_lossy(mechanism).into_owned();
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_string(mechanism));
    session.handshake(&handshake, version, &offered);
    let valid = token == b"\0alice\0secret" || token == b"alice\0alice\0secret";
    let scram = session.scram_lookup(b"n,,n=alice,r=x").is_some();
    let logged_in = if scram {
        let (first, last) = match token.iter().position(|&b| b == 0xfe) {
            Some(at) => (&token[..at], &token[at + 1..]),
            None => (token, &[][..]),
        };
        let credential = session
            .scram_lookup(first)
            .filter(|(user, _)| user == "alice")
            .map(|_| partita_core::controller::ScramCredential {
                salt: b"salt".to_vec(),
                stored_key: vec![7; 32],
                server_key: vec![9; 32],
                iterations: 4096,
            });
        let logged = session.step(first, &users, credential).is_ok()
            && session.step(last, &users, None).is_ok();
        assert!(!logged, "a SCRAM login without the password: {token:02x?}");
        false
    } else if session.awaits_raw_token() {
        session.step(token, &users, None).is_ok()
    } else if session.allows(ApiKey::SaslAuthenticate) {
        let request =
            SaslAuthenticateRequest::default().with_auth_bytes(Bytes::copy_from_slice(token));
        !session.authenticate(&request, &users, None).1
    } else {
        false
    };
    if logged_in {
        assert!(valid, "logged in with {token:02x?}");
        assert!(session.allows(ApiKey::Produce));
    } else if handshake.mechanism.as_str() == "PLAIN" {
        assert!(!valid, "refused a valid token");
    }
}

/// The config parsers: lines of `name=value` as broker configs, topic overrides, and
/// `partita serve --config` pairs.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let _ = BrokerConfig::from_pairs(pairs.iter().copied());
    let _ = TopicConfig::default().with_overrides(pairs.iter().copied());
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let _ = partita_server::config::parse(&lines);
}

/// Log recovery on arbitrary files: the input is split into a segment, its offset index, its
/// time index and the log-start checkpoint (a 2-byte length before each of the first three).
/// Recovery must repair or refuse, and what it keeps must read back and survive a reopen.
pub fn log_recovery(data: &[u8]) {
    let mut rest = data;
    let take = |rest: &mut &[u8]| -> Vec<u8> {
        if rest.len() < 2 {
            return std::mem::take(rest).to_vec();
        }
        let length = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let part = rest[2..2 + length].to_vec();
        *rest = &rest[2 + length..];
        part
    };
    let segment = take(&mut rest);
    let index = take(&mut rest);
    let time_index = take(&mut rest);
    let checkpoint = rest.to_vec();
    let mut storage = MemoryStorage::new();
    for (file, bytes) in [
        ("00000000000000000000.log", &segment),
        ("00000000000000000000.index", &index),
        ("00000000000000000000.timeindex", &time_index),
        ("log-start-offset.checkpoint", &checkpoint),
    ] {
        if !bytes.is_empty() {
            storage.append(file, bytes).unwrap();
        }
    }
    let Ok((mut log, _report)) = Log::open(storage, LogConfig::default()) else {
        return;
    };
    let start = log.log_start_offset();
    let end = log.log_end_offset();
    assert!(start <= end, "log start {start} after log end {end}");
    if let Ok(read) = log.read(start, 1 << 20) {
        let _ = split_batches(&read.records).expect("recovery keeps only valid batches");
    }
    let mut builder = BatchBuilder::new();
    builder.push(1, None, Some(b"after recovery"), &[]);
    let mut batch = builder.build();
    let Ok(appended) = log.append(&mut batch, 0, Millis(1)) else {
        return;
    };
    log.flush().unwrap();
    let storage = log.into_storage();
    let (reopened, _) = Log::open(storage, LogConfig::default()).expect("our own log reopens");
    assert!(reopened.log_end_offset() > appended.last_offset);
}

/// Drives a future that never waits (reading from a byte slice) to its end.
fn poll_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("reading from a slice never waits"),
    }
}
