//! The Kafka listener against exact bytes: what it speaks, and how it meets bad input.

use bytes::Buf;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, TopicName,
    metadata_request::MetadataRequestTopic,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use partita_server::client::KafkaClient;
use partita_tests::server::Server;

const UNSUPPORTED_VERSION: i16 = 35;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

fn api_versions_request() -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("partita-tests"))
        .with_client_software_version(StrBytes::from_static_str("1"))
}

/// Asserts the broker still answers a fresh connection.
fn assert_still_serving(server: &Server) {
    let response = KafkaClient::connect(&server.kafka_addr)
        .unwrap()
        .call(&api_versions_request(), 3)
        .unwrap();
    assert_eq!(response.error_code, 0);
}

#[test]
fn api_versions_lists_what_the_broker_speaks() {
    let server = Server::start();
    for version in 0..=4 {
        let response = KafkaClient::connect(&server.kafka_addr)
            .unwrap()
            .call(&api_versions_request(), version)
            .unwrap();
        assert_eq!(response.error_code, 0, "v{version}");
        let range = |api: ApiKey| {
            let found = response
                .api_keys
                .iter()
                .find(|k| k.api_key == api as i16)
                .expect("listed");
            (found.min_version, found.max_version)
        };
        assert_eq!(range(ApiKey::ApiVersions), (0, 4));
        assert_eq!(range(ApiKey::Metadata), (0, 12));
    }
}

#[test]
fn api_versions_of_a_newer_version_answers_unsupported_version_at_v0() {
    let server = Server::start();
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    let mut frame = Vec::new();
    frame.extend_from_slice(&(ApiKey::ApiVersions as i16).to_be_bytes());
    frame.extend_from_slice(&99i16.to_be_bytes());
    frame.extend_from_slice(&7i32.to_be_bytes()); // correlation id
    frame.extend_from_slice(&[0xff, 0xff]); // null client id; the rest is unknown to the broker
    connection.send_frame(&frame).unwrap();
    let mut response = connection
        .receive_frame()
        .unwrap()
        .expect("answered, not closed");
    assert_eq!(response.get_i32(), 7);
    let body = ApiVersionsResponse::decode(&mut response, 0).unwrap();
    assert_eq!(body.error_code, UNSUPPORTED_VERSION);
    assert!(
        body.api_keys
            .iter()
            .any(|k| k.api_key == ApiKey::ApiVersions as i16 && k.max_version == 4)
    );
}

#[test]
fn metadata_creates_unknown_topics_only_when_the_client_allows_it() {
    let server = Server::start();
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    let topic = |name: &'static str| {
        MetadataRequestTopic::default().with_name(Some(TopicName(StrBytes::from_static_str(name))))
    };
    let allowed = MetadataRequest::default()
        .with_topics(Some(vec![topic("created")]))
        .with_allow_auto_topic_creation(true);
    let response = connection.call(&allowed, 12).unwrap();
    assert_eq!(response.topics[0].error_code, 0);
    assert_eq!(
        response.topics[0].partitions.len(),
        1,
        "num.partitions defaults to 1"
    );
    // Before v4 there is no flag and Kafka creates.
    let old = connection
        .call(
            &MetadataRequest::default().with_topics(Some(vec![topic("old-client")])),
            3,
        )
        .unwrap();
    assert_eq!(old.topics[0].error_code, 0);
}

#[test]
fn metadata_lists_the_broker_and_answers_unknown_topics() {
    let server = Server::start();
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("orders")))),
        ]))
        .with_allow_auto_topic_creation(false);
    // v4 and later carry the flag; this client says no.
    for version in [4, 9, 12] {
        let response = connection.call(&request, version).unwrap();
        assert_eq!(response.brokers.len(), 1, "v{version}");
        let broker = &response.brokers[0];
        assert_eq!(
            format!("{}:{}", broker.host.as_str(), broker.port),
            server.kafka_addr
        );
        assert_eq!(response.topics.len(), 1);
        assert_eq!(response.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    }
}

#[test]
fn bad_frames_close_only_their_own_connection() {
    let server = Server::start();
    let bad_frames: Vec<(&str, Vec<u8>)> = vec![
        (
            "unknown API key",
            [
                &9999i16.to_be_bytes()[..],
                &0i16.to_be_bytes(),
                &1i32.to_be_bytes(),
            ]
            .concat(),
        ),
        ("too short for a header", vec![0, 18, 0]),
        (
            "malformed Metadata body",
            [
                &3i16.to_be_bytes()[..],
                &12i16.to_be_bytes(),
                &1i32.to_be_bytes(),
                &[0xde, 0xad],
            ]
            .concat(),
        ),
        (
            "unsupported Metadata version",
            [
                &3i16.to_be_bytes()[..],
                &99i16.to_be_bytes(),
                &1i32.to_be_bytes(),
            ]
            .concat(),
        ),
    ];
    for (what, frame) in bad_frames {
        let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
        connection.send_frame(&frame).unwrap();
        assert!(
            connection.receive_frame().unwrap().is_none(),
            "{what}: the connection is closed"
        );
        assert_still_serving(&server);
    }

    // A length above socket.request.max.bytes (100 MiB) is refused before anything is read.
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    connection
        .send_bytes(&(200 * 1024 * 1024i32).to_be_bytes())
        .unwrap();
    assert!(
        connection.receive_frame().unwrap().is_none(),
        "an oversized frame closes the connection"
    );
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    connection.send_bytes(&(-5i32).to_be_bytes()).unwrap();
    assert!(
        connection.receive_frame().unwrap().is_none(),
        "a negative length closes the connection"
    );
    assert_still_serving(&server);
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let server = Server::start();
    assert_still_serving(&server);
    assert!(
        server.stop(),
        "partita serve exits with status 0 on SIGTERM"
    );
}
