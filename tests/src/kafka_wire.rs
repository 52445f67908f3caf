//! A raw, blocking Kafka protocol connection, for tests that send exact bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

pub struct Connection {
    stream: TcpStream,
    next_correlation_id: i32,
}

impl Connection {
    pub fn open(addr: &str) -> Connection {
        let stream = TcpStream::connect(addr).expect("connects to partita");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Connection {
            stream,
            next_correlation_id: 1,
        }
    }

    /// Sends a typed request at `version` and decodes the typed response.
    pub fn call<R: Request>(&mut self, request: &R, version: i16) -> R::Response {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let mut body = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("partita-tests")))
            .encode(&mut body, R::header_version(version))
            .unwrap();
        request.encode(&mut body, version).unwrap();
        self.send_raw(&body);
        let mut response = self.receive_raw().expect("the broker answers");
        let header = ResponseHeader::decode(
            &mut response,
            <R::Response as HeaderVersion>::header_version(version),
        )
        .unwrap();
        assert_eq!(header.correlation_id, correlation_id);
        R::Response::decode(&mut response, version).unwrap()
    }

    /// Writes a frame: the 4-byte length, then `body`.
    pub fn send_raw(&mut self, body: &[u8]) {
        let length = i32::try_from(body.len()).unwrap();
        self.stream.write_all(&length.to_be_bytes()).unwrap();
        self.stream.write_all(body).unwrap();
    }

    /// Writes bytes as they are, framing and all.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads one frame, or `None` if the broker closed the connection.
    pub fn receive_raw(&mut self) -> Option<Bytes> {
        let mut length = [0u8; 4];
        self.stream.read_exact(&mut length).ok()?;
        let mut body = vec![0u8; i32::from_be_bytes(length) as usize];
        self.stream.read_exact(&mut body).ok()?;
        Some(Bytes::from(body))
    }
}

/// The API key number for a request type, for building raw frames.
pub fn api_key(api: ApiKey) -> i16 {
    api as i16
}
