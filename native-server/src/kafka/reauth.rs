//! Re-authentication of SASL connections (KIP-368), after Kafka's `SaslServerAuthenticator`
//! (`ReauthInfo`) and `KafkaChannel.maybeBeginServerReauthentication`.
//!
//! With `connections.max.reauth.ms` > 0, each SASL login lasts that long: SaslAuthenticate v1+
//! answers `session_lifetime_ms` (PLAIN and SCRAM credentials carry no lifetime of their own, so
//! it is the config itself), and a connection whose login expired is closed when it sends any
//! request other than SaslHandshake (Kafka's Processor counts these in
//! `expired-connections-killed-count`). Before then a client that knows KIP-368 (Kafka's Java
//! client since 2.2, librdkafka since 2.2.0) re-authenticates on the same connection: a new
//! SaslHandshake (at most one a second, else it is answered ILLEGAL_SASL_STATE as a handshake
//! on a logged-in connection is), then the mechanism's SaslAuthenticate exchange. The mechanism
//! and the principal must stay the same; a re-authentication that changes either, or fails,
//! closes the connection. A client without re-authentication (kafka-python) is disconnected at
//! expiry and reconnects.

use std::time::{Duration, Instant};

/// Kafka's `MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS`: re-authentications start at most once a
/// second on one connection.
pub const MIN_REAUTH_INTERVAL: Duration = Duration::from_secs(1);

/// The KIP-368 state of one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reauth {
    /// `connections.max.reauth.ms`; 0: logins never expire.
    max_ms: u64,
    /// The mechanism of the login under way or done (from its SaslHandshake).
    mechanism: Option<String>,
    /// When the current login expires (`None`: never, or no login yet).
    expires: Option<Instant>,
    /// While re-authenticating: the user and mechanism of the login being renewed.
    previous: Option<(String, String)>,
    /// When the last re-authentication began.
    last_start: Option<Instant>,
}

impl Reauth {
    /// `max_ms`: `connections.max.reauth.ms` (0: off).
    pub fn new(max_ms: u64) -> Reauth {
        Reauth {
            max_ms,
            ..Reauth::default()
        }
    }

    /// A SaslHandshake arrived on a connection logged in as `user`: whether it begins a
    /// re-authentication (the login has an expiry and none began within the last second).
    /// When it does, the caller restarts the session's exchange.
    pub fn begin(&mut self, user: &str, now: Instant) -> bool {
        if self.expires.is_none()
            || self
                .last_start
                .is_some_and(|start| now.duration_since(start) < MIN_REAUTH_INTERVAL)
        {
            return false;
        }
        let mechanism = self.mechanism.clone().unwrap_or_default();
        self.previous = Some((user.to_string(), mechanism));
        self.last_start = Some(now);
        true
    }

    /// A SaslHandshake chose `mechanism` (and it is offered): during a re-authentication it
    /// must be the one of the login being renewed (else the message to close with, Kafka's).
    pub fn handshake(&mut self, mechanism: &str) -> Result<(), String> {
        if let Some((_, previous)) = &self.previous
            && previous != mechanism
        {
            return Err(format!(
                "SASL mechanism '{mechanism}' requested by client is not supported for \
                 re-authentication of mechanism '{previous}'"
            ));
        }
        self.mechanism = Some(mechanism.to_string());
        Ok(())
    }

    /// Whether a re-authentication is under way (begun, not yet completed).
    pub fn reauthenticating(&self) -> bool {
        self.previous.is_some()
    }

    /// A login as `user` completed at `now`: the session lifetime to answer in milliseconds
    /// (0: no expiry), or, when a re-authentication changed the principal, Kafka's message (the
    /// connection is then closed).
    pub fn complete(&mut self, user: &str, now: Instant) -> Result<i64, String> {
        if let Some((previous, _)) = self.previous.take()
            && previous != user
        {
            return Err(format!(
                "Cannot change principals during re-authentication from User.{previous}: \
                 User.{user}"
            ));
        }
        if self.max_ms == 0 {
            return Ok(0);
        }
        self.expires = Some(now + Duration::from_millis(self.max_ms));
        Ok(i64::try_from(self.max_ms).unwrap_or(i64::MAX))
    }

    /// Whether the login has expired at `now` (the connection is closed at its next request
    /// other than a SaslHandshake that begins a re-authentication).
    pub fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|expires| now >= expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_logins_never_expire() {
        let mut reauth = Reauth::new(0);
        let now = Instant::now();
        reauth.handshake("PLAIN").unwrap();
        assert_eq!(reauth.complete("alice", now), Ok(0));
        assert!(!reauth.expired(now + Duration::from_secs(86_400)));
        assert!(
            !reauth.begin("alice", now),
            "no re-authentication without an expiry"
        );
    }

    #[test]
    fn a_login_lasts_the_config_and_is_renewed_with_the_same_principal() {
        let mut reauth = Reauth::new(2000);
        let t0 = Instant::now();
        reauth.handshake("SCRAM-SHA-512").unwrap();
        assert_eq!(reauth.complete("alice", t0), Ok(2000));
        assert!(!reauth.expired(t0 + Duration::from_millis(1999)));
        assert!(reauth.expired(t0 + Duration::from_millis(2000)));

        let t1 = t0 + Duration::from_millis(1800);
        assert!(!reauth.reauthenticating());
        assert!(reauth.begin("alice", t1));
        assert!(reauth.reauthenticating());
        reauth.handshake("SCRAM-SHA-512").unwrap();
        assert_eq!(reauth.complete("alice", t1), Ok(2000));
        assert!(!reauth.expired(t0 + Duration::from_millis(3000)));
        assert!(
            !reauth.begin("alice", t1 + Duration::from_millis(500)),
            "at most one re-authentication a second"
        );
        assert!(reauth.begin("alice", t1 + MIN_REAUTH_INTERVAL));
    }

    #[test]
    fn a_reauthentication_may_change_neither_mechanism_nor_principal() {
        let mut reauth = Reauth::new(1000);
        let t0 = Instant::now();
        reauth.handshake("PLAIN").unwrap();
        reauth.complete("alice", t0).unwrap();
        assert!(reauth.begin("alice", t0));
        let changed = reauth.clone().handshake("SCRAM-SHA-256").unwrap_err();
        assert!(
            changed.contains("re-authentication of mechanism 'PLAIN'"),
            "{changed}"
        );
        reauth.handshake("PLAIN").unwrap();
        assert_eq!(
            reauth.complete("bob", t0),
            Err(
                "Cannot change principals during re-authentication from User.alice: User.bob"
                    .to_string()
            )
        );
    }
}
