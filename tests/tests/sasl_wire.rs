//! SASL/PLAIN on the wire, byte for byte: before a login only ApiVersions and the handshake
//! are served; after a v1 handshake the token comes in SaslAuthenticate, after v0 as a bare
//! frame answered by an empty one; a wrong password closes that connection only.

use kafka_protocol::messages::{MetadataRequest, SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;
use partita_server::client::KafkaClient;
use partita_tests::server::Server;

const USER: &str = "alice:s3:cret";
const GOOD_TOKEN: &[u8] = b"\0alice\0s3:cret";

fn handshake(client: &mut KafkaClient, version: i16) -> i16 {
    let request =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
    let response = client.call(&request, version).expect("a handshake answer");
    assert_eq!(
        response
            .mechanisms
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        ["PLAIN"]
    );
    response.error_code
}

fn metadata_works(client: &mut KafkaClient) -> bool {
    client.call(&MetadataRequest::default(), 9).is_ok()
}

#[test]
fn plain_logins_over_both_handshakes_and_refusals() {
    let server = Server::start_with(&["--sasl-plain-user", USER]);

    let mut anonymous = KafkaClient::connect(&server.kafka_addr).expect("ApiVersions is served");
    assert!(!metadata_works(&mut anonymous), "no request before a login");

    let mut v1 = KafkaClient::connect(&server.kafka_addr).unwrap();
    assert_eq!(handshake(&mut v1, 1), 0);
    let request = SaslAuthenticateRequest::default().with_auth_bytes(GOOD_TOKEN.to_vec().into());
    assert_eq!(v1.call(&request, 2).unwrap().error_code, 0);
    assert!(metadata_works(&mut v1));

    let mut v0 = KafkaClient::connect(&server.kafka_addr).unwrap();
    assert_eq!(handshake(&mut v0, 0), 0);
    v0.send_frame(GOOD_TOKEN).unwrap();
    assert_eq!(
        v0.receive_frame().unwrap().as_deref(),
        Some(&[][..]),
        "an empty frame"
    );
    assert!(metadata_works(&mut v0));

    let mut wrong = KafkaClient::connect(&server.kafka_addr).unwrap();
    assert_eq!(handshake(&mut wrong, 1), 0);
    let request =
        SaslAuthenticateRequest::default().with_auth_bytes(b"\0alice\0guess".to_vec().into());
    let refused = wrong.call(&request, 2).unwrap();
    assert_eq!(refused.error_code, 58, "SASL_AUTHENTICATION_FAILED");
    assert!(
        wrong.receive_frame().unwrap().is_none(),
        "then the connection is closed"
    );

    let mut wrong_v0 = KafkaClient::connect(&server.kafka_addr).unwrap();
    handshake(&mut wrong_v0, 0);
    wrong_v0.send_frame(b"\0alice\0guess").unwrap();
    assert!(wrong_v0.receive_frame().unwrap().is_none());

    assert!(metadata_works(&mut v1), "the others are still served");
    assert!(server.stop(), "and the server stops cleanly");
}
