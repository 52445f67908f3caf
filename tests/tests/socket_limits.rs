//! The socket-level bounds (`kafka/limits.rs`) against a live broker: idle connections closed
//! after `connections.max.idle.ms`, `max.connections.per.ip`, `sasl.server.max.receive.size`
//! before a login, `socket.request.max.bytes`, the 1 MiB bound of small APIs, `queued.max.request.bytes` smaller than a
//! request, a client that pipelines without reading, and the HTTP body limit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader};
use kafka_protocol::protocol::{Encodable, StrBytes};
use partita_server::client::KafkaClient;
use partita_tests::server::Server;

fn api_versions_frame(correlation_id: i32) -> Vec<u8> {
    let mut body = bytes::BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(ApiKey::ApiVersions as i16)
        .with_request_api_version(3)
        .with_correlation_id(correlation_id)
        .encode(&mut body, ApiKey::ApiVersions.request_header_version(3))
        .unwrap();
    ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("limits"))
        .with_client_software_version(StrBytes::from_static_str("1"))
        .encode(&mut body, 3)
        .unwrap();
    body.to_vec()
}

/// Whether the broker closed `connection` (a read sees the end or a reset) within `wait`.
fn closed_within(connection: &mut KafkaClient, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match connection.receive_frame() {
            Ok(None) | Err(_) => return true,
            Ok(Some(_)) => {}
        }
    }
    false
}

fn wait_for_log(server: &Server, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(line) = server.log_lines().into_iter().find(|l| l.contains(needle)) {
            return line;
        }
        assert!(Instant::now() < deadline, "nothing logged with {needle:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_idle_connection_is_closed_after_connections_max_idle_ms() {
    let server = Server::start_with(&["--config", "connections.max.idle.ms=300"]);
    let mut idle = KafkaClient::connect(&server.kafka_addr).unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(closed_within(&mut idle, Duration::from_secs(5)));
    wait_for_log(&server, "idle for connections.max.idle.ms (300 ms)");
    // A busy connection is not idle.
    let mut busy = KafkaClient::connect(&server.kafka_addr).unwrap();
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(100));
        busy.send_frame(&api_versions_frame(1)).unwrap();
        assert!(busy.receive_frame().unwrap().is_some());
    }
}

#[test]
fn connections_beyond_max_connections_per_ip_are_closed() {
    let server = Server::start_with(&["--config", "max.connections.per.ip=2"]);
    let first = KafkaClient::connect(&server.kafka_addr).unwrap();
    let _second = KafkaClient::connect(&server.kafka_addr).unwrap();
    assert!(
        KafkaClient::connect(&server.kafka_addr).is_err(),
        "a third connection from 127.0.0.1 is closed"
    );
    wait_for_log(&server, "max.connections.per.ip (2) reached");
    drop(first);
    // The slot comes back once the broker sees the close.
    let deadline = Instant::now() + Duration::from_secs(5);
    while KafkaClient::connect(&server.kafka_addr).is_err() {
        assert!(Instant::now() < deadline, "the slot never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_frame_past_sasl_server_max_receive_size_before_login_is_refused() {
    let server = Server::start_with(&[
        "--sasl-plain-user",
        "alice:secret",
        "--config",
        "sasl.server.max.receive.size=1024",
    ]);
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    // Only the length: the broker refuses before reading (or allocating) the body.
    connection.send_bytes(&2048u32.to_be_bytes()).unwrap();
    assert!(closed_within(&mut connection, Duration::from_secs(5)));
    wait_for_log(
        &server,
        "frame of 2048 bytes is larger than sasl.server.max.receive.size (1024 bytes)",
    );
    // After a login the socket limit applies instead.
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    client.login("alice", "secret").unwrap();
    let mut big = api_versions_frame(9);
    big.resize(4096, 0); // trailing bytes after the body are ignored, as by Kafka
    client.send_frame(&big).unwrap();
    assert!(client.receive_frame().unwrap().is_some());
}

#[test]
fn a_frame_past_socket_request_max_bytes_is_refused_before_it_is_read() {
    let server = Server::start_with(&["--config", "socket.request.max.bytes=1000"]);
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    connection.send_bytes(&1001u32.to_be_bytes()).unwrap();
    assert!(closed_within(&mut connection, Duration::from_secs(5)));
    wait_for_log(&server, "larger than socket.request.max.bytes (1000 bytes)");
    KafkaClient::connect(&server.kafka_addr).expect("others are served");
}

#[test]
fn a_small_api_frame_past_its_1_mib_bound_is_refused_from_its_first_bytes() {
    let server = Server::start();
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    // A 2 MiB ApiVersions: only the length and the API key and version are sent.
    let length = 2u32 << 20;
    connection.send_bytes(&length.to_be_bytes()).unwrap();
    connection.send_bytes(&[0, 18, 0, 3]).unwrap();
    assert!(closed_within(&mut connection, Duration::from_secs(5)));
    wait_for_log(
        &server,
        "frame of 2097152 bytes is larger than the 1 MiB bound of small requests (1048576 bytes)",
    );
    // Within the bound, trailing bytes and all, an ApiVersions is served.
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    let mut big = api_versions_frame(5);
    big.resize(1 << 20, 0);
    client.send_frame(&big).unwrap();
    assert!(client.receive_frame().unwrap().is_some());
}

#[test]
fn requests_larger_than_queued_max_request_bytes_wait_for_the_whole_pool_and_are_served() {
    let server = Server::start_with(&["--config", "queued.max.request.bytes=1024"]);
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let addr = server.kafka_addr.clone();
            std::thread::spawn(move || {
                let mut client = KafkaClient::connect(&addr).unwrap();
                for j in 0..20 {
                    let mut frame = api_versions_frame(i * 100 + j);
                    frame.resize(64 * 1024, 0);
                    client.send_frame(&frame).unwrap();
                    assert!(client.receive_frame().unwrap().is_some());
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn a_client_pipelining_without_reading_holds_one_request_in_the_broker() {
    let server = Server::start();
    let mut stream = TcpStream::connect(&server.kafka_addr).unwrap();
    stream.set_nonblocking(true).unwrap();
    // Write requests without reading answers until the socket buffers are full: the broker
    // stops reading once it cannot write, so the writes stall.
    let frame = {
        let body = api_versions_frame(1);
        let mut framed = (body.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&body);
        framed
    };
    let mut written = 0usize;
    let mut stalled = false;
    for _ in 0..2_000_000 {
        match stream.write(&frame) {
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                stalled = true;
                break;
            }
            Err(e) => panic!("write failed: {e}"),
        }
    }
    assert!(
        stalled,
        "{written} bytes written and the broker still reads"
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    eprintln!("stalled after {written} bytes; broker RSS {rss_kib} KiB");
    assert!(rss_kib < 256 * 1024);
    // The broker still serves others.
    KafkaClient::connect(&server.kafka_addr).unwrap();
    drop(stream);
}

#[test]
fn an_http_post_with_a_large_body_is_refused_without_harm() {
    let server = Server::start();
    let address = server
        .http_url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = vec![b'x'; 1 << 20];
    let head = format!(
        "POST /api/health HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(&body);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer.lines().next().unwrap_or_default().to_string();
    assert!(
        status.contains(" 405 ") || status.contains(" 413 "),
        "answered {status:?}"
    );
    KafkaClient::connect(&server.kafka_addr).expect("the broker is unaffected");
}
