//! SASL/SCRAM credentials in the metadata (KIP-554 in KRaft, Kafka's `ScramControlManager`):
//! the records that store and remove a user's salted credential, the image's copy of them, and
//! the controller's command for AlterUserScramCredentials.
//!
//! Only what RFC 5802 lets a server keep is stored: the salt, the iteration count, and the
//! `StoredKey = H(HMAC(SaltedPassword, "Client Key"))` and `ServerKey = HMAC(SaltedPassword,
//! "Server Key")` derived from it, never the password nor the salted password. The hashing is
//! the shell's (the broker derives the keys from the salted password a client sends, as Kafka's
//! controller does in `finishUpsertion`); the core only validates and records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::machine::Controller;
use super::records::MetadataRecord;
use crate::ErrorCode;

/// The fewest iterations a credential may have (`ScramMechanism.minIterations()`, RFC 7677).
pub const SCRAM_MIN_ITERATIONS: i32 = 4096;
/// The most iterations a credential may have (`ScramControlManager.MAX_ITERATIONS`).
pub const SCRAM_MAX_ITERATIONS: i32 = 16384;

/// A SCRAM mechanism, numbered as on the wire (Kafka's public `ScramMechanism`: 0 is UNKNOWN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScramMechanism {
    ScramSha256,
    ScramSha512,
}

impl ScramMechanism {
    /// Both mechanisms, in wire order.
    pub const ALL: [ScramMechanism; 2] = [ScramMechanism::ScramSha256, ScramMechanism::ScramSha512];

    /// The mechanism's wire number: 1 for SCRAM-SHA-256, 2 for SCRAM-SHA-512.
    pub fn wire_type(self) -> i8 {
        match self {
            ScramMechanism::ScramSha256 => 1,
            ScramMechanism::ScramSha512 => 2,
        }
    }

    /// The mechanism of a wire number; `None` for 0 (UNKNOWN) and anything else.
    pub fn from_wire_type(value: i8) -> Option<ScramMechanism> {
        ScramMechanism::ALL
            .into_iter()
            .find(|m| m.wire_type() == value)
    }

    /// The SASL mechanism name (`SCRAM-SHA-256`, `SCRAM-SHA-512`), as in SaslHandshake and
    /// `sasl.enabled.mechanisms`.
    pub fn mechanism_name(self) -> &'static str {
        match self {
            ScramMechanism::ScramSha256 => "SCRAM-SHA-256",
            ScramMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }

    /// The mechanism of a SASL name; `None` if it is not a SCRAM one.
    pub fn from_mechanism_name(name: &str) -> Option<ScramMechanism> {
        ScramMechanism::ALL
            .into_iter()
            .find(|m| m.mechanism_name() == name)
    }
}

/// A user's credential for one mechanism was set (Kafka's `UserScramCredentialRecord`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserScramCredentialRecord {
    /// The user name, the `n=` of the client's first message.
    pub name: String,
    pub mechanism: ScramMechanism,
    pub salt: Vec<u8>,
    /// `H(ClientKey)`, RFC 5802 section 3.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
    pub iterations: i32,
}

/// Keys stay out of logs and traces, as Kafka's `ScramCredentialValue.toString` hides them.
impl std::fmt::Debug for UserScramCredentialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserScramCredentialRecord")
            .field("name", &self.name)
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

/// A user's credential for one mechanism was removed (Kafka's
/// `RemoveUserScramCredentialRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveUserScramCredentialRecord {
    pub name: String,
    pub mechanism: ScramMechanism,
}

/// What a server keeps of one user's password for one mechanism.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramCredential {
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
    pub iterations: i32,
}

impl std::fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredential")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// The image's credentials, by user and mechanism.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramCredentials(BTreeMap<String, BTreeMap<ScramMechanism, ScramCredential>>);

impl ScramCredentials {
    /// The credential of `user` for `mechanism`, if there is one.
    pub fn get(&self, user: &str, mechanism: ScramMechanism) -> Option<&ScramCredential> {
        self.0.get(user)?.get(&mechanism)
    }

    /// Every user with a credential, by name, with its mechanisms and their iterations.
    pub fn users(&self) -> impl Iterator<Item = (&str, Vec<(ScramMechanism, i32)>)> {
        self.0.iter().map(|(user, by_mechanism)| {
            let infos = by_mechanism
                .iter()
                .map(|(m, c)| (*m, c.iterations))
                .collect();
            (user.as_str(), infos)
        })
    }

    /// The mechanisms and iterations of `user`'s credentials (empty: none).
    pub fn describe(&self, user: &str) -> Vec<(ScramMechanism, i32)> {
        self.0.get(user).map_or_else(Vec::new, |by_mechanism| {
            by_mechanism
                .iter()
                .map(|(m, c)| (*m, c.iterations))
                .collect()
        })
    }

    /// Why `record` does not fit, if it does not: a removal of a credential that is not there
    /// (Kafka's replay throws "Unable to find credential to delete").
    pub(super) fn check_removal(&self, r: &RemoveUserScramCredentialRecord) -> Result<(), String> {
        match self.get(&r.name, r.mechanism) {
            Some(_) => Ok(()),
            None => Err(format!("{r:?}: no such credential")),
        }
    }

    pub(super) fn apply_set(&mut self, r: &UserScramCredentialRecord) {
        self.0.entry(r.name.clone()).or_default().insert(
            r.mechanism,
            ScramCredential {
                salt: r.salt.clone(),
                stored_key: r.stored_key.clone(),
                server_key: r.server_key.clone(),
                iterations: r.iterations,
            },
        );
    }

    pub(super) fn apply_remove(&mut self, r: &RemoveUserScramCredentialRecord) {
        let by_mechanism = self
            .0
            .get_mut(&r.name)
            .expect("a removed credential exists");
        by_mechanism
            .remove(&r.mechanism)
            .expect("a removed credential exists");
        if by_mechanism.is_empty() {
            self.0.remove(&r.name);
        }
    }
}

/// One change to a user's credentials in AlterUserScramCredentials, after the broker's own
/// checks (a known mechanism, each (user, mechanism) once) and with the keys derived.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub enum ScramCredentialOp {
    /// Set the credential of `mechanism`.
    Upsert {
        mechanism: ScramMechanism,
        iterations: i32,
        salt: Vec<u8>,
        stored_key: Vec<u8>,
        server_key: Vec<u8>,
    },
    /// Remove the credential of `mechanism`.
    Delete { mechanism: ScramMechanism },
    /// Set the credential of `mechanism` only if the user has none of that mechanism
    /// (`partita serve --add-scram`, Kafka's bootstrap credentials of KIP-900). The active
    /// controller decides against its own image, so a node that restarts with an image not yet
    /// caught up cannot put back a password changed since.
    CreateIfAbsent {
        mechanism: ScramMechanism,
        iterations: i32,
        salt: Vec<u8>,
        stored_key: Vec<u8>,
        server_key: Vec<u8>,
    },
}

impl ScramCredentialOp {
    /// An upsert made a [`ScramCredentialOp::CreateIfAbsent`]; any other op unchanged.
    pub fn if_absent(self) -> ScramCredentialOp {
        match self {
            ScramCredentialOp::Upsert {
                mechanism,
                iterations,
                salt,
                stored_key,
                server_key,
            } => ScramCredentialOp::CreateIfAbsent {
                mechanism,
                iterations,
                salt,
                stored_key,
                server_key,
            },
            other => other,
        }
    }
}

impl std::fmt::Debug for ScramCredentialOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScramCredentialOp::Upsert {
                mechanism,
                iterations,
                ..
            }
            | ScramCredentialOp::CreateIfAbsent {
                mechanism,
                iterations,
                ..
            } => f
                .debug_struct(match self {
                    ScramCredentialOp::Upsert { .. } => "Upsert",
                    _ => "CreateIfAbsent",
                })
                .field("mechanism", mechanism)
                .field("iterations", iterations)
                .finish_non_exhaustive(),
            ScramCredentialOp::Delete { mechanism } => f
                .debug_struct("Delete")
                .field("mechanism", mechanism)
                .finish(),
        }
    }
}

impl Controller {
    /// AlterUserScramCredentials for one user: every op, all or nothing. Kafka's checks and
    /// messages: an empty name or too few/many iterations is UNACCEPTABLE_CREDENTIAL ("Username
    /// must not be empty", "Too few iterations", "Too many iterations"), a deletion of a
    /// credential that does not exist RESOURCE_NOT_FOUND.
    pub fn alter_user_scram_credentials(
        &mut self,
        user: &str,
        ops: &[ScramCredentialOp],
    ) -> Result<Vec<MetadataRecord>, (ErrorCode, String)> {
        if user.is_empty() {
            return Err((
                ErrorCode::UNACCEPTABLE_CREDENTIAL,
                "Username must not be empty".to_string(),
            ));
        }
        let mut records = Vec::new();
        for op in ops {
            records.push(match op {
                ScramCredentialOp::CreateIfAbsent { mechanism, .. }
                    if self
                        .image
                        .scram_credentials()
                        .get(user, *mechanism)
                        .is_some() =>
                {
                    continue;
                }
                ScramCredentialOp::Upsert {
                    mechanism,
                    iterations,
                    salt,
                    stored_key,
                    server_key,
                }
                | ScramCredentialOp::CreateIfAbsent {
                    mechanism,
                    iterations,
                    salt,
                    stored_key,
                    server_key,
                } => {
                    if *iterations < SCRAM_MIN_ITERATIONS {
                        return Err((
                            ErrorCode::UNACCEPTABLE_CREDENTIAL,
                            "Too few iterations".to_string(),
                        ));
                    }
                    if *iterations > SCRAM_MAX_ITERATIONS {
                        return Err((
                            ErrorCode::UNACCEPTABLE_CREDENTIAL,
                            "Too many iterations".to_string(),
                        ));
                    }
                    MetadataRecord::UserScramCredential(UserScramCredentialRecord {
                        name: user.to_string(),
                        mechanism: *mechanism,
                        salt: salt.clone(),
                        stored_key: stored_key.clone(),
                        server_key: server_key.clone(),
                        iterations: *iterations,
                    })
                }
                ScramCredentialOp::Delete { mechanism } => {
                    if self
                        .image
                        .scram_credentials()
                        .get(user, *mechanism)
                        .is_none()
                    {
                        return Err((
                            ErrorCode::RESOURCE_NOT_FOUND,
                            "Attempt to delete a user credential that does not exist".to_string(),
                        ));
                    }
                    MetadataRecord::RemoveUserScramCredential(RemoveUserScramCredentialRecord {
                        name: user.to_string(),
                        mechanism: *mechanism,
                    })
                }
            });
        }
        Ok(self.commit(records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BrokerConfig;

    fn upsert(mechanism: ScramMechanism, iterations: i32, key: u8) -> ScramCredentialOp {
        ScramCredentialOp::Upsert {
            mechanism,
            iterations,
            salt: vec![key; 16],
            stored_key: vec![key; 32],
            server_key: vec![key + 1; 32],
        }
    }

    #[test]
    fn credentials_are_set_replaced_removed_and_replayed() {
        let mut controller = Controller::new(BrokerConfig::default(), 1);
        let mut log = Vec::new();
        let sha256 = ScramMechanism::ScramSha256;
        let sha512 = ScramMechanism::ScramSha512;
        log.extend(
            controller
                .alter_user_scram_credentials(
                    "alice",
                    &[upsert(sha256, 8192, 1), upsert(sha512, 4096, 2)],
                )
                .unwrap(),
        );
        let creds = controller.image().scram_credentials();
        assert_eq!(
            creds.describe("alice"),
            vec![(sha256, 8192), (sha512, 4096)]
        );
        assert_eq!(creds.get("alice", sha512).unwrap().stored_key, vec![2; 32]);
        log.extend(
            controller
                .alter_user_scram_credentials("alice", &[upsert(sha256, 16384, 3)])
                .unwrap(),
        );
        assert_eq!(
            controller
                .image()
                .scram_credentials()
                .get("alice", sha256)
                .unwrap()
                .salt,
            vec![3; 16]
        );
        log.extend(
            controller
                .alter_user_scram_credentials(
                    "alice",
                    &[ScramCredentialOp::Delete { mechanism: sha512 }],
                )
                .unwrap(),
        );
        assert_eq!(
            controller.image().scram_credentials().describe("alice"),
            vec![(sha256, 16384)]
        );
        let mut replayed = Controller::new(BrokerConfig::default(), 1);
        for record in &log {
            assert_eq!(replayed.image().check(record), Ok(()));
            replayed.replay(record);
        }
        assert_eq!(replayed.image(), controller.image());
        let removal = MetadataRecord::RemoveUserScramCredential(RemoveUserScramCredentialRecord {
            name: "alice".into(),
            mechanism: sha512,
        });
        assert!(replayed.image().check(&removal).is_err(), "already removed");
    }

    /// `--add-scram`'s op: the active controller keeps a credential set since (a changed
    /// password) and creates only a missing one, so a restarted node cannot undo a change.
    #[test]
    fn create_if_absent_never_replaces_a_credential() {
        let mut controller = Controller::new(BrokerConfig::default(), 1);
        let sha512 = ScramMechanism::ScramSha512;
        let create = |key: u8| upsert(sha512, 4096, key).if_absent();
        let created = controller
            .alter_user_scram_credentials("admin", &[create(1)])
            .unwrap();
        assert_eq!(created.len(), 1);
        // The password changed since (a plain upsert), then a node restarts with --add-scram.
        controller
            .alter_user_scram_credentials("admin", &[upsert(sha512, 4096, 7)])
            .unwrap();
        let again = controller
            .alter_user_scram_credentials("admin", &[create(1)])
            .unwrap();
        assert!(again.is_empty(), "{again:?}");
        let kept = controller.image().scram_credentials();
        assert_eq!(kept.get("admin", sha512).unwrap().salt, vec![7; 16]);
        // Still checked like an upsert when it does create.
        assert_eq!(
            controller
                .alter_user_scram_credentials(
                    "bob",
                    &[ScramCredentialOp::CreateIfAbsent {
                        mechanism: sha512,
                        iterations: 1,
                        salt: vec![1; 16],
                        stored_key: vec![1; 32],
                        server_key: vec![2; 32],
                    }]
                )
                .unwrap_err()
                .0,
            ErrorCode::UNACCEPTABLE_CREDENTIAL
        );
    }

    #[test]
    fn kafka_refusals() {
        let mut controller = Controller::new(BrokerConfig::default(), 1);
        let sha256 = ScramMechanism::ScramSha256;
        let code = |r: Result<Vec<MetadataRecord>, (ErrorCode, String)>| r.unwrap_err();
        assert_eq!(
            code(controller.alter_user_scram_credentials("a", &[upsert(sha256, 4095, 1)])),
            (
                ErrorCode::UNACCEPTABLE_CREDENTIAL,
                "Too few iterations".into()
            )
        );
        assert_eq!(
            code(controller.alter_user_scram_credentials("a", &[upsert(sha256, 16385, 1)])),
            (
                ErrorCode::UNACCEPTABLE_CREDENTIAL,
                "Too many iterations".into()
            )
        );
        assert_eq!(
            code(controller.alter_user_scram_credentials("", &[upsert(sha256, 4096, 1)])).0,
            ErrorCode::UNACCEPTABLE_CREDENTIAL
        );
        assert_eq!(
            code(controller.alter_user_scram_credentials(
                "a",
                &[ScramCredentialOp::Delete { mechanism: sha256 }]
            ))
            .0,
            ErrorCode::RESOURCE_NOT_FOUND
        );
        // All or nothing: a good upsert with a bad one leaves nothing.
        let refused = controller.alter_user_scram_credentials(
            "a",
            &[
                upsert(sha256, 4096, 1),
                upsert(ScramMechanism::ScramSha512, 1, 1),
            ],
        );
        assert!(refused.is_err());
        assert!(
            controller
                .image()
                .scram_credentials()
                .describe("a")
                .is_empty()
        );
        assert_eq!(controller.image().record_count(), 0);
        assert_eq!(ScramMechanism::from_wire_type(0), None);
        assert_eq!(
            ScramMechanism::from_wire_type(2),
            Some(ScramMechanism::ScramSha512)
        );
        assert_eq!(
            ScramMechanism::from_mechanism_name("SCRAM-SHA-256"),
            Some(sha256)
        );
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let op = upsert(ScramMechanism::ScramSha256, 4096, 7);
        let record = UserScramCredentialRecord {
            name: "alice".into(),
            mechanism: ScramMechanism::ScramSha256,
            salt: vec![7; 4],
            stored_key: vec![7; 4],
            server_key: vec![7; 4],
            iterations: 4096,
        };
        for text in [format!("{op:?}"), format!("{record:?}")] {
            assert!(!text.contains("7, 7"), "{text}");
        }
    }
}
