//! SASL authentication (Kafka's SASL_PLAINTEXT and SASL_SSL listeners) with the mechanisms of
//! Kafka's `sasl.enabled.mechanisms`: PLAIN, for users given with `--sasl-plain-user
//! NAME:PASSWORD`, and SCRAM-SHA-256 / SCRAM-SHA-512 (`scram.rs`), for the users whose
//! credentials the metadata holds (KIP-554). A connection must then authenticate before
//! anything but ApiVersions: SaslHandshake picks the mechanism, then the tokens come in
//! SaslAuthenticate requests (after a v1 handshake) or as bare frames (after v0, as old
//! clients do): PLAIN's one `authzid NUL user NUL password` (RFC 4616), SCRAM's two messages.
//! A failed login is answered (v1) and the connection closed, as Kafka does; the broker goes
//! on. The logged-in user is the session's principal, `User:<name>`. With
//! `connections.max.reauth.ms`, logins expire and are renewed on the connection (KIP-368,
//! `reauth.rs`).

use std::collections::BTreeMap;

use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use partita_core::ErrorCode;

use partita_core::controller::{ScramCredential, ScramMechanism};

use super::convert::str_bytes;
use super::node::Node;
use super::scram::{self, AwaitingFinal};

pub const PLAIN: &str = "PLAIN";

/// The mechanisms the listener offers, in Kafka's `sasl.enabled.mechanisms` order (empty: no
/// SASL). Each is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaslMechanisms(Vec<String>);

impl SaslMechanisms {
    /// From `sasl.enabled.mechanisms` (comma-separated) if given, else PLAIN when there are
    /// `--sasl-plain-user`s. PLAIN needs users and users need PLAIN; GSSAPI and OAUTHBEARER are
    /// not supported.
    pub fn resolve(enabled: Option<&str>, plain: &PlainUsers) -> anyhow::Result<SaslMechanisms> {
        let Some(enabled) = enabled else {
            return Ok(SaslMechanisms(if plain.is_empty() {
                Vec::new()
            } else {
                vec![PLAIN.to_string()]
            }));
        };
        let mut names = Vec::new();
        for name in enabled.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            anyhow::ensure!(
                name == PLAIN || ScramMechanism::from_mechanism_name(name).is_some(),
                "sasl.enabled.mechanisms: {name} is not supported (PLAIN, SCRAM-SHA-256 and \
                 SCRAM-SHA-512 are)"
            );
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        let has_plain = names.iter().any(|n| n == PLAIN);
        anyhow::ensure!(
            has_plain || plain.is_empty(),
            "--sasl-plain-user is given, yet sasl.enabled.mechanisms={enabled} does not list PLAIN"
        );
        anyhow::ensure!(
            !has_plain || !plain.is_empty(),
            "sasl.enabled.mechanisms lists PLAIN: give its users with --sasl-plain-user"
        );
        Ok(SaslMechanisms(names))
    }

    /// Only PLAIN, with users (as the fuzz targets and older callers start).
    pub fn plain() -> SaslMechanisms {
        SaslMechanisms(vec![PLAIN.to_string()])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    fn offers(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }
}

/// The users allowed in, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlainUsers(BTreeMap<String, String>);

impl PlainUsers {
    /// Reads `NAME:PASSWORD` pairs (the password may contain ':').
    pub fn parse(pairs: &[String]) -> anyhow::Result<PlainUsers> {
        let mut users = BTreeMap::new();
        for pair in pairs {
            let Some((name, password)) = pair.split_once(':') else {
                anyhow::bail!("--sasl-plain-user takes NAME:PASSWORD, got {pair:?}");
            };
            if name.is_empty() || password.is_empty() {
                anyhow::bail!(
                    "--sasl-plain-user {pair:?}: the name and the password must not be empty"
                );
            }
            users.insert(name.to_string(), password.to_string());
        }
        Ok(PlainUsers(users))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The user a PLAIN token authenticates, if it does. Only the user's own identity may be
    /// asked for (an authzid naming someone else is refused).
    fn check(&self, token: &[u8]) -> Option<String> {
        let mut parts = token.split(|&b| b == 0);
        let (authzid, user, password) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || (!authzid.is_empty() && authzid != user) {
            return None;
        }
        let user = std::str::from_utf8(user).ok()?;
        let expected = self.0.get(user)?;
        constant_time_eq(expected.as_bytes(), password).then(|| user.to_string())
    }
}

/// Compares without stopping at the first difference, so the time taken does not tell how
/// much of a guessed password was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where a connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Session {
    /// The listener needs no authentication.
    Open,
    /// Waiting for SaslHandshake.
    AwaitingHandshake,
    /// PLAIN was chosen with a v1 handshake; waiting for SaslAuthenticate.
    AwaitingAuthenticate,
    /// PLAIN was chosen with a v0 handshake: the next frame is the bare token.
    AwaitingRawToken,
    /// A SCRAM mechanism was chosen; `raw`: with a v0 handshake (bare frames).
    Scram {
        step: ScramStep,
        raw: bool,
    },
    Authenticated(String),
}

/// Which SCRAM message the server waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScramStep {
    First(ScramMechanism),
    Final(Box<AwaitingFinal>),
}

impl Session {
    pub fn new(mechanisms: &SaslMechanisms) -> Session {
        if mechanisms.is_empty() {
            Session::Open
        } else {
            Session::AwaitingHandshake
        }
    }

    /// Whether a request of `api` may be handled now. ApiVersions always may (clients ask it
    /// first, to learn that SaslHandshake is spoken).
    pub fn allows(&self, api: ApiKey) -> bool {
        match self {
            // Without SASL a handshake is answered (no mechanism is offered).
            Session::Open => true,
            // A SaslHandshake may begin a re-authentication (KIP-368, `reauth.rs`); the
            // connection answers it ILLEGAL_SASL_STATE when it does not.
            Session::Authenticated(_) => api != ApiKey::SaslAuthenticate,
            Session::AwaitingHandshake => {
                matches!(api, ApiKey::ApiVersions | ApiKey::SaslHandshake)
            }
            Session::AwaitingAuthenticate | Session::Scram { raw: false, .. } => {
                matches!(api, ApiKey::ApiVersions | ApiKey::SaslAuthenticate)
            }
            // The frame is not a request at all; `step` reads it.
            Session::AwaitingRawToken | Session::Scram { raw: true, .. } => false,
        }
    }

    /// Starts a re-authentication (KIP-368) of a logged-in session: back to waiting for a
    /// SaslHandshake, whose exchange then runs as the first login's did.
    pub fn restart(&mut self) {
        *self = Session::AwaitingHandshake;
    }

    /// Answers SaslHandshake with the offered mechanisms; a chosen one that is offered starts
    /// its exchange, any other is UNSUPPORTED_SASL_MECHANISM.
    pub fn handshake(
        &mut self,
        request: &SaslHandshakeRequest,
        version: i16,
        offered: &SaslMechanisms,
    ) -> SaslHandshakeResponse {
        let offered_names = if *self == Session::Open {
            Vec::new()
        } else {
            offered
                .names()
                .iter()
                .map(|n| str_bytes(n.clone()))
                .collect()
        };
        let response = SaslHandshakeResponse::default().with_mechanisms(offered_names);
        let chosen = request.mechanism.as_str();
        if *self != Session::AwaitingHandshake || !offered.offers(chosen) {
            return response.with_error_code(ErrorCode::UNSUPPORTED_SASL_MECHANISM.code());
        }
        let raw = version == 0;
        *self = match ScramMechanism::from_mechanism_name(chosen) {
            Some(mechanism) => Session::Scram {
                step: ScramStep::First(mechanism),
                raw,
            },
            None if raw => Session::AwaitingRawToken,
            None => Session::AwaitingAuthenticate,
        };
        response
    }

    /// The user and mechanism whose SCRAM credential the next `step` needs, when `token` is a
    /// client-first message this session waits for.
    pub fn scram_lookup(&self, token: &[u8]) -> Option<(String, ScramMechanism)> {
        match self {
            Session::Scram {
                step: ScramStep::First(mechanism),
                ..
            } => scram::parse_client_first(token)
                .ok()
                .map(|first| (first.user, *mechanism)),
            _ => None,
        }
    }

    /// Takes one token of the exchange: the bytes to answer it with, or the message of a
    /// failed login (the connection is then closed). `credential` is what `scram_lookup`
    /// asked for (`None`: no such user).
    pub fn step(
        &mut self,
        token: &[u8],
        users: &PlainUsers,
        credential: Option<ScramCredential>,
    ) -> Result<Vec<u8>, String> {
        match self {
            Session::AwaitingAuthenticate | Session::AwaitingRawToken => match users.check(token) {
                Some(user) => {
                    tracing::info!(user, "SASL/PLAIN login");
                    *self = Session::Authenticated(user);
                    Ok(Vec::new())
                }
                None => Err("Authentication failed: invalid username or password".to_string()),
            },
            Session::Scram { step, raw } => {
                let raw = *raw;
                match step {
                    ScramStep::First(mechanism) => {
                        let mechanism = *mechanism;
                        let first = scram::parse_client_first(token)?;
                        let credential =
                            credential.ok_or_else(|| scram::invalid_credentials(mechanism))?;
                        let nonce = scram::server_nonce()?;
                        let (state, reply) =
                            AwaitingFinal::new(mechanism, first, &nonce, credential);
                        *self = Session::Scram {
                            step: ScramStep::Final(Box::new(state)),
                            raw,
                        };
                        Ok(reply)
                    }
                    ScramStep::Final(state) => {
                        let reply = state.finish(token)?;
                        let user = state.user().to_string();
                        tracing::info!(user, "SASL/SCRAM login");
                        *self = Session::Authenticated(user);
                        Ok(reply)
                    }
                }
            }
            Session::Open | Session::AwaitingHandshake | Session::Authenticated(_) => {
                Err("Unexpected SASL token: no exchange is under way".to_string())
            }
        }
    }

    /// SaslAuthenticate: one `step`; the second value says whether to close the connection
    /// after answering (a failed login).
    pub fn authenticate(
        &mut self,
        request: &SaslAuthenticateRequest,
        users: &PlainUsers,
        credential: Option<ScramCredential>,
    ) -> (SaslAuthenticateResponse, bool) {
        match self.step(&request.auth_bytes, users, credential) {
            Ok(reply) => (
                SaslAuthenticateResponse::default().with_auth_bytes(reply.into()),
                false,
            ),
            Err(message) => {
                tracing::info!("SASL login failed: {message}");
                let response = SaslAuthenticateResponse::default()
                    .with_error_code(ErrorCode::SASL_AUTHENTICATION_FAILED.code())
                    .with_error_message(Some(str_bytes(message)));
                (response, true)
            }
        }
    }

    /// Open (no SASL) or logged in: frames may be as large as `socket.request.max.bytes`;
    /// before that, `sasl.server.max.receive.size` bounds them.
    pub fn logged_in(&self) -> bool {
        matches!(self, Session::Open | Session::Authenticated(_))
    }

    /// The authenticated user's name, once logged in (the principal `User:<name>`).
    pub fn user(&self) -> Option<&str> {
        match self {
            Session::Authenticated(user) => Some(user),
            _ => None,
        }
    }

    pub fn awaits_raw_token(&self) -> bool {
        matches!(
            self,
            Session::AwaitingRawToken | Session::Scram { raw: true, .. }
        )
    }
}

/// The SCRAM credential `token` (a client-first message) asks for, from this node's copy of
/// the metadata image (`None`: not a client-first message, or no such user).
pub async fn credential_for(
    session: &Session,
    token: &[u8],
    node: &Node,
) -> anyhow::Result<Option<ScramCredential>> {
    let Some((user, mechanism)) = session.scram_lookup(token) else {
        return Ok(None);
    };
    node.engine
        .call(move |state| {
            state
                .image()
                .scram_credentials()
                .get(&user, mechanism)
                .cloned()
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> PlainUsers {
        PlainUsers::parse(&["alice:s3:cret".to_string()]).unwrap()
    }

    #[test]
    fn plain_tokens_are_checked() {
        let users = users();
        assert_eq!(users.check(b"\0alice\0s3:cret"), Some("alice".into()));
        assert_eq!(users.check(b"alice\0alice\0s3:cret"), Some("alice".into()));
        assert_eq!(users.check(b"\0alice\0wrong"), None);
        assert_eq!(users.check(b"\0bob\0s3:cret"), None);
        assert_eq!(
            users.check(b"root\0alice\0s3:cret"),
            None,
            "no acting as another"
        );
        assert_eq!(users.check(b"\0alice"), None);
        assert_eq!(users.check(b"\0alice\0s3:cret\0x"), None);
        assert!(PlainUsers::parse(&["nocolon".into()]).is_err());
        assert!(PlainUsers::parse(&[":pw".into()]).is_err());
    }

    #[test]
    fn only_api_versions_and_the_handshake_come_before_a_login() {
        let users = users();
        let offered = SaslMechanisms::plain();
        let mut session = Session::new(&offered);
        assert!(session.allows(ApiKey::ApiVersions));
        assert!(!session.allows(ApiKey::Metadata));
        assert!(!session.allows(ApiKey::SaslAuthenticate));
        let refused = session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes("SCRAM-SHA-256")),
            1,
            &offered,
        );
        assert_eq!(
            refused.error_code,
            ErrorCode::UNSUPPORTED_SASL_MECHANISM.code()
        );
        assert_eq!(session, Session::AwaitingHandshake);
        let chosen = session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes(PLAIN)),
            1,
            &offered,
        );
        assert_eq!(chosen.error_code, 0);
        assert!(session.allows(ApiKey::SaslAuthenticate));
        let request =
            SaslAuthenticateRequest::default().with_auth_bytes(b"\0alice\0s3:cret".to_vec().into());
        let (response, close) = session.authenticate(&request, &users, None);
        assert_eq!((response.error_code, close), (0, false));
        assert!(session.allows(ApiKey::Metadata));
        assert!(
            !session.allows(ApiKey::SaslAuthenticate),
            "no token outside an exchange"
        );
        assert!(session.allows(ApiKey::SaslHandshake), "re-authentication");
        session.restart();
        assert!(!session.allows(ApiKey::Metadata) && session.user().is_none());
        assert!(Session::new(&SaslMechanisms::default()).allows(ApiKey::Produce));
    }

    #[test]
    fn after_a_v0_handshake_the_token_comes_bare() {
        let users = users();
        let offered = SaslMechanisms::plain();
        let mut session = Session::new(&offered);
        session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes(PLAIN)),
            0,
            &offered,
        );
        assert!(session.awaits_raw_token());
        assert!(!session.allows(ApiKey::ApiVersions));
        let mut failed = session.clone();
        assert!(failed.step(b"\0alice\0nope", &users, None).is_err());
        assert_eq!(
            session.step(b"\0alice\0s3:cret", &users, None),
            Ok(Vec::new())
        );
        assert_eq!(session, Session::Authenticated("alice".into()));
    }

    #[test]
    fn enabled_mechanisms_are_offered_and_only_they_start_an_exchange() {
        let users = users();
        let none = PlainUsers::default();
        assert_eq!(
            SaslMechanisms::resolve(None, &none).unwrap(),
            SaslMechanisms::default()
        );
        assert_eq!(
            SaslMechanisms::resolve(None, &users).unwrap(),
            SaslMechanisms::plain()
        );
        assert!(SaslMechanisms::resolve(Some("GSSAPI"), &none).is_err());
        assert!(
            SaslMechanisms::resolve(Some("PLAIN"), &none).is_err(),
            "PLAIN needs users"
        );
        assert!(
            SaslMechanisms::resolve(Some("SCRAM-SHA-256"), &users).is_err(),
            "users need PLAIN"
        );
        let offered = SaslMechanisms::resolve(Some("SCRAM-SHA-512, SCRAM-SHA-256"), &none).unwrap();
        assert_eq!(offered.names(), ["SCRAM-SHA-512", "SCRAM-SHA-256"]);

        let mut session = Session::new(&offered);
        let plain = session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes(PLAIN)),
            1,
            &offered,
        );
        assert_eq!(
            plain.error_code,
            ErrorCode::UNSUPPORTED_SASL_MECHANISM.code()
        );
        let names: Vec<&str> = plain.mechanisms.iter().map(|m| m.as_str()).collect();
        assert_eq!(names, ["SCRAM-SHA-512", "SCRAM-SHA-256"]);
        let scram = session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes("SCRAM-SHA-256")),
            1,
            &offered,
        );
        assert_eq!(scram.error_code, 0);
        assert!(session.allows(ApiKey::SaslAuthenticate) && !session.allows(ApiKey::Metadata));
        assert_eq!(
            session.scram_lookup(b"n,,n=bob,r=abc"),
            Some(("bob".to_string(), ScramMechanism::ScramSha256))
        );
        // An unknown user: the same message as a wrong password, and no login.
        let refused = session
            .clone()
            .step(b"n,,n=bob,r=abc", &none, None)
            .unwrap_err();
        assert!(refused.contains("invalid credentials"), "{refused}");
        let credential = ScramCredential {
            salt: vec![1; 16],
            stored_key: vec![2; 32],
            server_key: vec![3; 32],
            iterations: 4096,
        };
        let server_first = session
            .step(b"n,,n=bob,r=abc", &none, Some(credential))
            .unwrap();
        assert!(server_first.starts_with(b"r=abc"));
        assert!(!session.logged_in());
        let wrong = session
            .step(b"c=biws,r=abc,p=AAAA", &none, None)
            .unwrap_err();
        assert!(wrong.contains("nonce"), "{wrong}");
    }
}
