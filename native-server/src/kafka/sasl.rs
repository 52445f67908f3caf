//! SASL/PLAIN authentication (Kafka's SASL_PLAINTEXT listener), when `partita serve` is given
//! users with `--sasl-plain-user NAME:PASSWORD`. A connection must then authenticate before
//! anything but ApiVersions: SaslHandshake picks the mechanism, then the token
//! `authzid NUL user NUL password` (RFC 4616) comes in a SaslAuthenticate request (after a v1
//! handshake) or as a bare frame (after v0, as old clients do). A failed login is answered
//! (v1) and the connection closed, as Kafka does; the broker goes on.

use std::collections::BTreeMap;

use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use partita_core::ErrorCode;

use super::convert::str_bytes;

pub const PLAIN: &str = "PLAIN";

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
    Authenticated(String),
}

impl Session {
    pub fn new(users: &PlainUsers) -> Session {
        if users.is_empty() {
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
            // One login per connection (no re-authentication).
            Session::Authenticated(_) => {
                !matches!(api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
            }
            Session::AwaitingHandshake => {
                matches!(api, ApiKey::ApiVersions | ApiKey::SaslHandshake)
            }
            Session::AwaitingAuthenticate => {
                matches!(api, ApiKey::ApiVersions | ApiKey::SaslAuthenticate)
            }
            // The frame is not a request at all; `login` reads it.
            Session::AwaitingRawToken => false,
        }
    }

    pub fn handshake(
        &mut self,
        request: &SaslHandshakeRequest,
        version: i16,
    ) -> SaslHandshakeResponse {
        let offered = if *self == Session::Open {
            Vec::new()
        } else {
            vec![str_bytes(PLAIN)]
        };
        let response = SaslHandshakeResponse::default().with_mechanisms(offered);
        if *self == Session::AwaitingHandshake && request.mechanism.as_str() == PLAIN {
            *self = if version == 0 {
                Session::AwaitingRawToken
            } else {
                Session::AwaitingAuthenticate
            };
            response
        } else {
            response.with_error_code(ErrorCode::UNSUPPORTED_SASL_MECHANISM.code())
        }
    }

    /// Checks the credentials; the second value says whether to close the connection after
    /// answering (a failed login).
    pub fn authenticate(
        &mut self,
        request: &SaslAuthenticateRequest,
        users: &PlainUsers,
    ) -> (SaslAuthenticateResponse, bool) {
        if self.login(&request.auth_bytes, users) {
            return (SaslAuthenticateResponse::default(), false);
        }
        let response = SaslAuthenticateResponse::default()
            .with_error_code(ErrorCode::SASL_AUTHENTICATION_FAILED.code())
            .with_error_message(Some(str_bytes(
                "Authentication failed: invalid username or password",
            )));
        (response, true)
    }

    /// Checks a PLAIN token (from SaslAuthenticate, or a bare frame after a v0 handshake);
    /// true if the user is now logged in.
    pub fn login(&mut self, token: &[u8], users: &PlainUsers) -> bool {
        match users.check(token) {
            Some(user) => {
                tracing::info!(user, "SASL/PLAIN login");
                *self = Session::Authenticated(user);
                true
            }
            None => false,
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
        *self == Session::AwaitingRawToken
    }
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
        let mut session = Session::new(&users);
        assert!(session.allows(ApiKey::ApiVersions));
        assert!(!session.allows(ApiKey::Metadata));
        assert!(!session.allows(ApiKey::SaslAuthenticate));
        let refused = session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes("SCRAM-SHA-256")),
            1,
        );
        assert_eq!(
            refused.error_code,
            ErrorCode::UNSUPPORTED_SASL_MECHANISM.code()
        );
        assert_eq!(session, Session::AwaitingHandshake);
        let chosen = session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes(PLAIN)),
            1,
        );
        assert_eq!(chosen.error_code, 0);
        assert!(session.allows(ApiKey::SaslAuthenticate));
        let request =
            SaslAuthenticateRequest::default().with_auth_bytes(b"\0alice\0s3:cret".to_vec().into());
        let (response, close) = session.authenticate(&request, &users);
        assert_eq!((response.error_code, close), (0, false));
        assert!(session.allows(ApiKey::Metadata));
        assert!(
            !session.allows(ApiKey::SaslHandshake),
            "no second login on a connection"
        );
        assert!(Session::new(&PlainUsers::default()).allows(ApiKey::Produce));
    }

    #[test]
    fn after_a_v0_handshake_the_token_comes_bare() {
        let users = users();
        let mut session = Session::new(&users);
        session.handshake(
            &SaslHandshakeRequest::default().with_mechanism(str_bytes(PLAIN)),
            0,
        );
        assert!(session.awaits_raw_token());
        assert!(!session.allows(ApiKey::ApiVersions));
        assert!(!session.login(b"\0alice\0nope", &users));
        assert!(session.login(b"\0alice\0s3:cret", &users));
        assert_eq!(session, Session::Authenticated("alice".into()));
    }
}
