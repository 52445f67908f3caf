//! The server side of a SASL/SCRAM login (RFC 5802, SCRAM-SHA-256 and SCRAM-SHA-512 of
//! RFC 7677, as Kafka's `ScramSaslServer`, KIP-84): two client messages, two answers.
//!
//! 1. client-first `gs2-header client-first-bare`, where the gs2 header is `n,,` or `y,,`
//!    (channel binding, `p=`, is not offered) with an optional `a=authzid` that must name the
//!    user itself, and the bare part `n=user,r=client-nonce[,ext...]`. Kafka's `tokenauth`
//!    extension (delegation tokens) is refused; other extensions are ignored, as Kafka does.
//!    The answer is server-first `r=client-nonce server-nonce,s=salt,i=iterations`, the server
//!    nonce being 24 bytes of the OS's randomness.
//! 2. client-final `c=base64(gs2-header),r=nonce[,ext...],p=proof`. The nonce must start with
//!    the client's first nonce and be exactly the combined nonce sent (Kafka before 3.8.1 only
//!    checked that it ended with it: CVE-2024-56128), the proof must verify against the stored
//!    key (compared in constant time with `subtle`). The answer is server-final
//!    `v=server-signature`. One other nonce is accepted: the client's nonce followed by the
//!    combined one, which librdkafka before 2.6.1 sends (its client nonce twice,
//!    confluentinc/librdkafka#4895; Debian's kcat links 2.0.2). Kafka 3.8.1 to 3.9 accept it
//!    too; Kafka 4 refuses it. It leaves a forger no freedom: every byte is fixed by the two
//!    nonces of this exchange.
//!
//! Any failure ends the exchange with a message for the client (SASL_AUTHENTICATION_FAILED);
//! an unknown user and a wrong password get the same one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use partita_core::controller::{ScramCredential, ScramMechanism};
use subtle::ConstantTimeEq;

use super::scram_keys::{hash, hash_len, hmac};

/// What an unknown user and a wrong password are both told (Kafka's message for a failed
/// `SaslException`), so that a client cannot tell which users exist.
pub fn invalid_credentials(mechanism: ScramMechanism) -> String {
    format!(
        "Authentication failed during authentication due to invalid credentials with SASL \
         mechanism {}",
        mechanism.mechanism_name()
    )
}

/// A parsed client-first message.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// The gs2 header as sent (`n,,`, `n,a=alice,`): client-final's `c=` must be its base64.
    gs2_header: String,
    /// `client-first-message-bare`, part of the AuthMessage.
    bare: String,
    pub user: String,
    nonce: String,
}

impl std::fmt::Debug for ClientFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFirst")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Reads a client-first message; the error is the client's message.
pub fn parse_client_first(token: &[u8]) -> Result<ClientFirst, String> {
    let malformed =
        |why: &str| format!("Authentication failed: invalid SCRAM client-first message: {why}");
    let text = std::str::from_utf8(token).map_err(|_| malformed("not UTF-8"))?;
    let mut parts = text.splitn(3, ',');
    let (flag, authzid, bare) = match (parts.next(), parts.next(), parts.next()) {
        (Some(flag), Some(authzid), Some(bare)) => (flag, authzid, bare),
        _ => {
            return Err(malformed(
                "expected gs2-header and client-first-message-bare",
            ));
        }
    };
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => {
            return Err(malformed("channel binding is not supported"));
        }
        _ => return Err(malformed("unknown gs2 channel-binding flag")),
    }
    let gs2_header = format!("{flag},{authzid},");
    let authzid = match authzid {
        "" => None,
        a => Some(
            decode_saslname(
                a.strip_prefix("a=")
                    .ok_or_else(|| malformed("bad authzid"))?,
            )
            .ok_or_else(|| malformed("bad authzid"))?,
        ),
    };
    let mut attributes = bare.split(',');
    let user = match attributes.next() {
        Some(n) if n.starts_with("m=") => {
            return Err(malformed("mandatory extensions are not supported"));
        }
        Some(n) => n
            .strip_prefix("n=")
            .ok_or_else(|| malformed("expected n=username"))?,
        None => return Err(malformed("expected n=username")),
    };
    let user = decode_saslname(user).ok_or_else(|| malformed("bad username"))?;
    let nonce = attributes
        .next()
        .and_then(|r| r.strip_prefix("r="))
        .ok_or_else(|| malformed("expected r=nonce"))?;
    if !valid_nonce(nonce) {
        return Err(malformed("bad nonce"));
    }
    for extension in attributes {
        let (key, value) = extension
            .split_once('=')
            .ok_or_else(|| malformed("bad extension"))?;
        if key == "tokenauth" && value.eq_ignore_ascii_case("true") {
            return Err(
                "Authentication failed: delegation tokens (tokenauth) are not supported"
                    .to_string(),
            );
        }
    }
    if user.is_empty() {
        return Err(malformed("empty username"));
    }
    if authzid.as_ref().is_some_and(|a| *a != user) {
        return Err(
            "Authentication failed: Client requested an authorization id that is \
                    different from username"
                .to_string(),
        );
    }
    Ok(ClientFirst {
        gs2_header,
        bare: bare.to_string(),
        user,
        nonce: nonce.to_string(),
    })
}

/// RFC 5802 `saslname`: `=2C` is `,`, `=3D` is `=`, any other `=` is an error.
fn decode_saslname(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3)?;
        out.push(match escape {
            "=2C" => ',',
            "=3D" => '=',
            _ => return None,
        });
        rest = &rest[at + 3..];
    }
    if rest.contains(',') {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// RFC 5802 `printable`: ASCII 0x21..=0x7E except `,`; at least one.
fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// A login waiting for the client-final message: what the server sent and must check.
#[derive(Clone, PartialEq, Eq)]
pub struct AwaitingFinal {
    mechanism: ScramMechanism,
    first: ClientFirst,
    server_first: String,
    /// The combined nonce the server sent.
    nonce: String,
    credential: ScramCredential,
}

impl std::fmt::Debug for AwaitingFinal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwaitingFinal")
            .field("mechanism", &self.mechanism)
            .field("user", &self.first.user)
            .finish_non_exhaustive()
    }
}

impl AwaitingFinal {
    /// The server-first message for `first`, with `server_nonce` (printable, from the OS RNG)
    /// and the user's `credential`, and the state that checks the answer to it.
    pub fn new(
        mechanism: ScramMechanism,
        first: ClientFirst,
        server_nonce: &str,
        credential: ScramCredential,
    ) -> (AwaitingFinal, Vec<u8>) {
        let nonce = format!("{}{server_nonce}", first.nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            BASE64.encode(&credential.salt),
            credential.iterations
        );
        let bytes = server_first.clone().into_bytes();
        let state = AwaitingFinal {
            mechanism,
            first,
            server_first,
            nonce,
            credential,
        };
        (state, bytes)
    }

    pub fn user(&self) -> &str {
        &self.first.user
    }

    /// Checks the client-final message: the server-final message (`v=signature`) if the
    /// client proved it knows the password, else the client's error message.
    pub fn finish(&self, token: &[u8]) -> Result<Vec<u8>, String> {
        let malformed =
            |why: &str| format!("Authentication failed: invalid SCRAM client-final message: {why}");
        let text = std::str::from_utf8(token).map_err(|_| malformed("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| malformed("expected p=proof last"))?;
        let mut attributes = without_proof.split(',');
        let binding = attributes
            .next()
            .and_then(|c| c.strip_prefix("c="))
            .ok_or_else(|| malformed("expected c=channel-binding first"))?;
        let nonce = attributes
            .next()
            .and_then(|r| r.strip_prefix("r="))
            .ok_or_else(|| malformed("expected r=nonce"))?;
        let old_librdkafka = format!("{}{}", self.first.nonce, self.nonce);
        if !nonce.starts_with(&self.first.nonce) || (nonce != self.nonce && nonce != old_librdkafka)
        {
            return Err(
                "Authentication failed: Invalid client nonce in the final client message."
                    .to_string(),
            );
        }
        let binding = BASE64
            .decode(binding)
            .map_err(|_| malformed("c= is not base64"))?;
        if binding != self.first.gs2_header.as_bytes() {
            return Err(malformed(
                "c= does not repeat the gs2 header of the first message",
            ));
        }
        let proof = BASE64
            .decode(proof)
            .map_err(|_| malformed("p= is not base64"))?;
        let m = self.mechanism;
        if proof.len() != hash_len(m) {
            return Err(invalid_credentials(m));
        }
        let auth_message = format!("{},{},{without_proof}", self.first.bare, self.server_first);
        let signature = hmac(m, &self.credential.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        let computed = hash(m, &client_key);
        if !bool::from(computed.ct_eq(&self.credential.stored_key)) {
            return Err(invalid_credentials(m));
        }
        let server_signature = hmac(m, &self.credential.server_key, auth_message.as_bytes());
        Ok(format!("v={}", BASE64.encode(server_signature)).into_bytes())
    }
}

/// A server nonce: 24 bytes from the OS, base64 (printable, no comma).
pub fn server_nonce() -> Result<String, String> {
    let mut bytes = [0u8; 24];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| format!("Authentication failed: no randomness for a nonce: {e}"))?;
    Ok(BASE64.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::super::scram_keys::{salted_password, stored_and_server_keys};
    use super::*;

    const SHA256: ScramMechanism = ScramMechanism::ScramSha256;

    /// RFC 7677's credential for user "user", password "pencil".
    fn credential() -> ScramCredential {
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = salted_password(SHA256, b"pencil", &salt, 4096);
        let (stored_key, server_key) = stored_and_server_keys(SHA256, &salted);
        ScramCredential {
            salt,
            stored_key,
            server_key,
            iterations: 4096,
        }
    }

    fn started() -> (AwaitingFinal, Vec<u8>) {
        let first = parse_client_first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        AwaitingFinal::new(
            SHA256,
            first,
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
            credential(),
        )
    }

    /// RFC 7677 section 3, byte for byte.
    #[test]
    fn the_rfc_7677_exchange() {
        let (state, server_first) = started();
        assert_eq!(
            server_first,
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let server_final = state
            .finish(
                b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            )
            .unwrap();
        assert_eq!(
            server_final,
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        assert_eq!(state.user(), "user");
    }

    #[test]
    fn a_wrong_proof_or_forged_nonce_is_refused() {
        let (state, _) = started();
        let wrong = state
            .finish(
                b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  p=AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            )
            .unwrap_err();
        assert!(wrong.contains("invalid credentials"), "{wrong}");
        // The server's nonce behind another client nonce (CVE-2024-56128's forgery).
        let forged = state
            .finish(b"c=biws,r=XXXX%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap_err();
        assert!(forged.contains("nonce"), "{forged}");
        // librdkafka before 2.6.1: its nonce, then the combined one. The nonce passes; this
        // proof (over the other nonce) does not.
        let old = state
            .finish(
                b"c=biws,r=rOprNGfwEbeRWgbNEkqOrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            )
            .unwrap_err();
        assert!(old.contains("invalid credentials"), "{old}");
        // The client's nonce alone, twice, or with more after the server's.
        for nonce in [
            "rOprNGfwEbeRWgbNEkqO",
            "rOprNGfwEbeRWgbNEkqOrOprNGfwEbeRWgbNEkqO",
            "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0x",
            "rOprNGfwEbeRWgbNEkqOxrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        ] {
            let token = format!("c=biws,r={nonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
            assert!(
                state
                    .finish(token.as_bytes())
                    .unwrap_err()
                    .contains("nonce")
            );
        }
        // Another channel binding than the first message's header.
        let rebound = state
            .finish(b"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap_err();
        assert!(rebound.contains("gs2"), "{rebound}");
        for garbage in [&b""[..], b"p=", b"c=biws", b"\xff\xfe", b"c=!!,r=x,p=y"] {
            assert!(state.finish(garbage).is_err());
        }
    }

    #[test]
    fn client_first_messages() {
        let first = parse_client_first(b"n,a=al=2Cice,n=al=2Cice,r=abc,ext=1").unwrap();
        assert_eq!(first.user, "al,ice");
        assert_eq!(first.gs2_header, "n,a=al=2Cice,");
        assert_eq!(first.bare, "n=al=2Cice,r=abc,ext=1");
        assert!(parse_client_first(b"y,,n=bob,r=abc").is_ok());
        let refused = [
            &b"p=tls-unique,,n=bob,r=abc"[..],
            b"n,,n=bob,r=abc,tokenauth=true",
            b"n,a=eve,n=bob,r=abc",
            b"n,,m=x,n=bob,r=abc",
            b"n,,n=bob",
            b"n,,n=bob,r=",
            b"n,,n=b=ob,r=abc",
            b"n,,n=,r=abc",
            b"n,,r=abc",
            b"x,,n=bob,r=abc",
            b"n,,n=bob,r=a\x01c",
            b"\xff",
            b"",
        ];
        for token in refused {
            assert!(parse_client_first(token).is_err(), "{token:?}");
        }
        let nonce = server_nonce().unwrap();
        assert!(valid_nonce(&nonce));
        assert_ne!(nonce, server_nonce().unwrap());
    }
}
