//! The HTTP side of `partita serve`: health, metrics and the playground's files.

use std::io::{Read, Write};
use std::net::TcpStream;

use partita_tests::server::Server;

/// A plain HTTP/1.0 GET; returns (status, body).
fn get(base_url: &str, path: &str) -> (u16, Vec<u8>) {
    let authority = base_url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end")
        + 4;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, raw[split..].to_vec())
}

#[test]
fn health_names_the_kafka_listener() {
    let server = Server::start();
    let (status, body) = get(&server.http_url, "/api/health");
    assert_eq!(status, 200);
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    assert!(body.contains(&server.kafka_addr), "{body}");
}

#[test]
fn metrics_count_requests_per_api() {
    let server = Server::start();
    partita_server::client::KafkaClient::connect(&server.kafka_addr).unwrap();
    let (status, body) = get(&server.http_url, "/metrics");
    assert_eq!(status, 200);
    let body = String::from_utf8(body).unwrap();
    assert!(
        body.contains("partita_request_seconds_count{api=\"ApiVersions\"} 1"),
        "{body}"
    );
    assert!(body.contains("# TYPE partita_connections gauge"), "{body}");
}

#[test]
fn the_playground_and_its_wasm_are_served() {
    let server = Server::start();
    let (status, page) = get(&server.http_url, "/");
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("/pkg/partita_web.js")
    );
    let (status, wasm) = get(&server.http_url, "/pkg/partita_web_bg.wasm");
    assert_eq!(status, 200);
    assert_eq!(&wasm[..4], b"\0asm", "a WebAssembly module");
    assert_eq!(get(&server.http_url, "/pkg/nothing.js").0, 404);
}
