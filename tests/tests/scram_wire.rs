//! SCRAM credentials' admin APIs on the wire (KIP-554), with what no client library lets one
//! send: an unknown mechanism is UNSUPPORTED_SASL_MECHANISM, an empty name or iterations out of
//! 4096..=16384 UNACCEPTABLE_CREDENTIAL, the same (user, mechanism) twice DUPLICATE_RESOURCE
//! for that user only (both mechanisms of one user in one request are fine), a user described
//! twice DUPLICATE_RESOURCE; then the client's own SCRAM login (`partita`'s tools) with a
//! credential it made, and a wrong password refused.

use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;
use partita_core::controller::ScramMechanism;
use partita_server::client::KafkaClient;
use partita_server::kafka::scram_keys::salted_password;
use partita_tests::server::Server;

const SHA256: i8 = 1;
const SHA512: i8 = 2;

fn upsert(user: &str, mechanism: i8, iterations: i32, password: &str) -> ScramCredentialUpsertion {
    let salt = b"0123456789abcdef".to_vec();
    let salted = ScramMechanism::from_wire_type(mechanism).map_or_else(
        || vec![0; 32],
        |m| salted_password(m, password.as_bytes(), &salt, iterations.max(1) as u32),
    );
    ScramCredentialUpsertion::default()
        .with_name(StrBytes::from_string(user.to_string()))
        .with_mechanism(mechanism)
        .with_iterations(iterations)
        .with_salt(salt.into())
        .with_salted_password(salted.into())
}

fn login(server: &Server, mechanism: ScramMechanism, user: &str, password: &str) -> bool {
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    client.login_scram(mechanism, user, password).is_ok()
}

#[test]
fn kafkas_checks_and_a_login_with_what_was_made() {
    let server = Server::start_with(&[
        "--config",
        "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
        "--add-scram",
        "SCRAM-SHA-512=[name=admin,password=admin-secret]",
    ]);
    let mut admin = KafkaClient::connect(&server.kafka_addr).unwrap();
    let mut logged_in = false;
    for _ in 0..50 {
        if admin
            .login_scram(ScramMechanism::ScramSha512, "admin", "admin-secret")
            .is_ok()
        {
            logged_in = true;
            break;
        }
        // `--add-scram` runs once the node is up; the refused connection is closed.
        std::thread::sleep(std::time::Duration::from_millis(100));
        admin = KafkaClient::connect(&server.kafka_addr).unwrap();
    }
    assert!(logged_in, "admin from --add-scram logs in");

    let request = AlterUserScramCredentialsRequest::default()
        .with_upsertions(vec![
            upsert("alice", SHA256, 8192, "a-pw"),
            upsert("alice", SHA512, 4096, "a-pw"),
            upsert("bob", SHA256, 4096, "b"),
            upsert("bob", SHA256, 4096, "b"),
            upsert("carol", 3, 4096, "c"),
            upsert("dave", SHA256, 4095, "d"),
            upsert("erin", SHA512, 16385, "e"),
            upsert("", SHA256, 4096, "f"),
        ])
        .with_deletions(vec![
            ScramCredentialDeletion::default()
                .with_name(StrBytes::from_static_str("frank"))
                .with_mechanism(SHA256),
        ]);
    let response = admin.call(&request, 0).unwrap();
    let mut results: Vec<(String, Option<ErrorCode>, String)> = response
        .results
        .iter()
        .map(|r| {
            (
                r.user.to_string(),
                ErrorCode::from_code(r.error_code),
                r.error_message.as_deref().unwrap_or_default().to_string(),
            )
        })
        .collect();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let unacceptable = Some(ErrorCode::UNACCEPTABLE_CREDENTIAL);
    assert_eq!(
        results,
        vec![
            (
                String::new(),
                unacceptable,
                "Username must not be empty".into()
            ),
            ("alice".into(), Some(ErrorCode::NONE), String::new()),
            (
                "bob".into(),
                Some(ErrorCode::DUPLICATE_RESOURCE),
                "A user credential cannot be altered twice in the same request".into()
            ),
            (
                "carol".into(),
                Some(ErrorCode::UNSUPPORTED_SASL_MECHANISM),
                "Unknown SCRAM mechanism".into()
            ),
            ("dave".into(), unacceptable, "Too few iterations".into()),
            ("erin".into(), unacceptable, "Too many iterations".into()),
            (
                "frank".into(),
                Some(ErrorCode::RESOURCE_NOT_FOUND),
                "Attempt to delete a user credential that does not exist".into()
            ),
        ]
    );

    let twice = UserName::default().with_name(StrBytes::from_static_str("alice"));
    let described = admin
        .call(
            &DescribeUserScramCredentialsRequest::default()
                .with_users(Some(vec![twice.clone(), twice])),
            0,
        )
        .unwrap();
    assert_eq!(described.results.len(), 1);
    assert_eq!(
        described.results[0].error_code,
        ErrorCode::DUPLICATE_RESOURCE.code()
    );

    assert!(login(&server, ScramMechanism::ScramSha256, "alice", "a-pw"));
    assert!(login(&server, ScramMechanism::ScramSha512, "alice", "a-pw"));
    assert!(!login(
        &server,
        ScramMechanism::ScramSha512,
        "alice",
        "wrong"
    ));
    assert!(
        !login(&server, ScramMechanism::ScramSha256, "bob", "b"),
        "refused whole"
    );
    assert!(server.stop(), "the broker stopped cleanly after all that");
}
