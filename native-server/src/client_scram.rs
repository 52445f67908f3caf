//! The client side of a SASL/SCRAM login (RFC 5802) for the admin tools' [`KafkaClient`]
//! (`--sasl-mechanism SCRAM-SHA-256` or `SCRAM-SHA-512`): a v1 handshake, then the two
//! SaslAuthenticate round trips; the server's signature is checked, so a broker that does not
//! know the password cannot pass for one that does.

use anyhow::{Context, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;
use partita_core::controller::ScramMechanism;
use subtle::ConstantTimeEq;

use crate::client::KafkaClient;
use crate::kafka::scram_keys::{hash, hmac, salted_password};

impl KafkaClient {
    /// Logs in as `username` with SCRAM `mechanism`.
    pub fn login_scram(
        &mut self,
        mechanism: ScramMechanism,
        username: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        let name = mechanism.mechanism_name();
        let handshake =
            SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(name));
        let response = self.call(&handshake, 1)?;
        if response.error_code != 0 {
            let offered: Vec<&str> = response.mechanisms.iter().map(|m| m.as_str()).collect();
            bail!("the broker does not accept SASL/{name} (it offers {offered:?})");
        }
        let mut nonce_bytes = [0u8; 24];
        getrandom::getrandom(&mut nonce_bytes).context("the OS random source")?;
        let client_nonce = BASE64.encode(nonce_bytes);
        let user = username.replace('=', "=3D").replace(',', "=2C");
        let first_bare = format!("n={user},r={client_nonce}");
        let server_first = self.sasl_step(format!("n,,{first_bare}").into_bytes(), username)?;
        let server_first = String::from_utf8(server_first).context("server-first is not UTF-8")?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attribute in server_first.split(',') {
            match attribute.split_at_checked(2) {
                Some(("r=", v)) => nonce = Some(v.to_string()),
                Some(("s=", v)) => salt = Some(BASE64.decode(v).context("bad salt")?),
                Some(("i=", v)) => iterations = Some(v.parse::<u32>().context("bad iterations")?),
                _ => {}
            }
        }
        let (nonce, salt, iterations) = match (nonce, salt, iterations) {
            (Some(n), Some(s), Some(i)) => (n, s, i),
            _ => bail!("malformed server-first message {server_first:?}"),
        };
        ensure!(
            nonce.starts_with(&client_nonce) && nonce.len() > client_nonce.len(),
            "the server's nonce does not extend ours"
        );
        let salted = salted_password(mechanism, password.as_bytes(), &salt, iterations);
        let client_key = hmac(mechanism, &salted, b"Client Key");
        let stored_key = hash(mechanism, &client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{first_bare},{server_first},{without_proof}");
        let signature = hmac(mechanism, &stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let client_final = format!("{without_proof},p={}", BASE64.encode(proof));
        let server_final = self.sasl_step(client_final.into_bytes(), username)?;
        let server_key = hmac(mechanism, &salted, b"Server Key");
        let expected = format!(
            "v={}",
            BASE64.encode(hmac(mechanism, &server_key, auth_message.as_bytes()))
        );
        ensure!(
            bool::from(server_final.ct_eq(expected.as_bytes())),
            "the broker's SCRAM signature is wrong: it does not know the password"
        );
        Ok(())
    }

    /// One SaslAuthenticate round trip: the server's bytes, or the broker's refusal.
    fn sasl_step(&mut self, token: Vec<u8>, username: &str) -> anyhow::Result<Vec<u8>> {
        let request = SaslAuthenticateRequest::default().with_auth_bytes(token.into());
        let response = self.call(&request, 2)?;
        if response.error_code != 0 {
            bail!(
                "SASL/SCRAM login as {username} refused: {}",
                response
                    .error_message
                    .as_deref()
                    .unwrap_or("no reason given")
            );
        }
        Ok(response.auth_bytes.to_vec())
    }
}
