//! The SCRAM functions of RFC 5802 section 2.2 for SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 7677),
//! with RustCrypto's `sha2`, `hmac` and `pbkdf2`: `Hi` (PBKDF2-HMAC), `HMAC`, `H`, and the keys a
//! server stores (Kafka's `ScramFormatter`). Used by the broker's login (`scram.rs`), by
//! AlterUserScramCredentials (keys from the salted password a client sends) and by the tools
//! that salt a password themselves (`partita configs`, `partita serve --add-scram`).

use hmac::{Hmac, Mac};
use partita_core::controller::{ScramCredentialOp, ScramMechanism};
use sha2::{Digest, Sha256, Sha512};

/// `HMAC(key, message)` with the mechanism's hash (32 bytes for SHA-256, 64 for SHA-512).
pub fn hmac(mechanism: ScramMechanism, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .expect("HMAC takes a key of any length");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    match mechanism {
        ScramMechanism::ScramSha256 => run::<Hmac<Sha256>>(key, message),
        ScramMechanism::ScramSha512 => run::<Hmac<Sha512>>(key, message),
    }
}

/// `H(data)`, the mechanism's hash.
pub fn hash(mechanism: ScramMechanism, data: &[u8]) -> Vec<u8> {
    match mechanism {
        ScramMechanism::ScramSha256 => Sha256::digest(data).to_vec(),
        ScramMechanism::ScramSha512 => Sha512::digest(data).to_vec(),
    }
}

/// The length in bytes of the mechanism's hash, and so of a proof or a key.
pub fn hash_len(mechanism: ScramMechanism) -> usize {
    match mechanism {
        ScramMechanism::ScramSha256 => 32,
        ScramMechanism::ScramSha512 => 64,
    }
}

/// `SaltedPassword = Hi(Normalize(password), salt, i)`: PBKDF2 with the mechanism's HMAC, one
/// block. The password is used as given (Kafka does not SASLprep either).
pub fn salted_password(
    mechanism: ScramMechanism,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Vec<u8> {
    let mut out = vec![0; hash_len(mechanism)];
    match mechanism {
        ScramMechanism::ScramSha256 => {
            pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out)
        }
        ScramMechanism::ScramSha512 => {
            pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out)
        }
    }
    out
}

/// `(StoredKey, ServerKey)` of a salted password: `H(HMAC(SaltedPassword, "Client Key"))` and
/// `HMAC(SaltedPassword, "Server Key")`.
pub fn stored_and_server_keys(mechanism: ScramMechanism, salted: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let client_key = hmac(mechanism, salted, b"Client Key");
    (
        hash(mechanism, &client_key),
        hmac(mechanism, salted, b"Server Key"),
    )
}

/// A fresh salt of 32 random bytes from the OS. Fails only when the OS has no randomness to
/// give.
pub fn random_salt() -> anyhow::Result<Vec<u8>> {
    let mut salt = vec![0u8; 32];
    getrandom::getrandom(&mut salt)
        .map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
    Ok(salt)
}

/// The upsertion for `password`, salted here with a fresh salt (what `partita serve
/// --add-scram` commits; the keys only, never the password).
pub fn upsertion(
    mechanism: ScramMechanism,
    password: &str,
    iterations: i32,
) -> anyhow::Result<ScramCredentialOp> {
    let salt = random_salt()?;
    let rounds = u32::try_from(iterations)
        .map_err(|_| anyhow::anyhow!("iterations must be positive, got {iterations}"))?;
    let salted = salted_password(mechanism, password.as_bytes(), &salt, rounds);
    let (stored_key, server_key) = stored_and_server_keys(mechanism, &salted);
    Ok(ScramCredentialOp::Upsert {
        mechanism,
        iterations,
        salt,
        stored_key,
        server_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 7677 section 3's example: user "user", password "pencil", salt
    /// `W22ZaJ0SNY7soEsUEjb6gQ==`, 4096 iterations. The client's proof it gives must verify
    /// against the keys derived here.
    #[test]
    fn rfc_7677_example_verifies() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let m = ScramMechanism::ScramSha256;
        let salt = b64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = salted_password(m, b"pencil", &salt, 4096);
        let (stored, server) = stored_and_server_keys(m, &salted);
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let proof = b64
            .decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap();
        let signature = hmac(m, &stored, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        assert_eq!(hash(m, &client_key), stored);
        assert_eq!(
            b64.encode(hmac(m, &server, auth_message.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        assert_eq!(hex(&stored).len(), 64);
    }
}
