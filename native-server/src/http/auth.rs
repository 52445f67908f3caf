//! The HTTP listener's optional bearer token (RFC 6750): with `--http-token-file FILE`, every
//! request to `/api/*` and `/metrics` must carry `Authorization: Bearer <token>`, else it gets
//! 401 with `WWW-Authenticate: Bearer realm="partita"` (and `error="invalid_token"` when a token
//! was sent and is wrong). The playground's page and its files stay open: the live view asks
//! for the token when the API answers 401. The token is all-or-nothing: whoever has it reads
//! the whole (read-only) API; it names no principal and Kafka's ACLs do not apply to it.
//! Prometheus sends it with `authorization: { credentials_file: FILE }`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest token accepted (characters), so that a guessable one is refused at start.
pub const TOKEN_MIN_CHARS: usize = 16;

/// The token, kept as its SHA-256: requests are checked by comparing digests in constant time,
/// so neither the time taken nor the token's length is told to a guesser.
#[derive(Clone)]
pub struct BearerToken {
    digest: [u8; 32],
}

impl BearerToken {
    /// Reads the token from `path`: the file's text without surrounding whitespace (a final
    /// newline is fine). Errors name the file: unreadable, empty, shorter than
    /// [`TOKEN_MIN_CHARS`], or with characters a bearer token cannot have (RFC 6750's
    /// `b64token`: letters, digits and `-._~+/`, then `=` padding).
    pub fn from_file(path: &Path) -> anyhow::Result<BearerToken> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the HTTP token from {}", path.display()))?;
        let token = text.trim();
        if token.chars().count() < TOKEN_MIN_CHARS {
            bail!(
                "{}: the HTTP token must be at least {TOKEN_MIN_CHARS} characters \
                 (e.g. `openssl rand -hex 32 > {}`)",
                path.display(),
                path.display()
            );
        }
        let body = token.trim_end_matches('=');
        if !body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
        {
            bail!(
                "{}: the HTTP token may hold only letters, digits and -._~+/ (RFC 6750)",
                path.display()
            );
        }
        Ok(BearerToken::new(token))
    }

    pub fn new(token: &str) -> BearerToken {
        BearerToken {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// Whether `presented` is the token (constant time).
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.digest.ct_eq(&digest).into()
    }
}

/// The middleware: passes requests that carry the token, answers 401 to the others.
pub async fn require(
    State(token): State<Arc<BearerToken>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    match presented {
        Some(presented) if token.matches(presented) => next.run(request).await,
        Some(_) => unauthorized(r#"Bearer realm="partita", error="invalid_token""#),
        None => unauthorized(r#"Bearer realm="partita""#),
    }
}

/// The credentials of an `Authorization: Bearer <token>` header (the scheme is
/// case-insensitive, RFC 7235).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

fn unauthorized(challenge: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        )],
        "401 Unauthorized: this endpoint needs `Authorization: Bearer <token>` \
         (partita serve --http-token-file)\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly() {
        let token = BearerToken::new("0123456789abcdef0123");
        assert!(token.matches("0123456789abcdef0123"));
        assert!(!token.matches("0123456789abcdef012"));
        assert!(!token.matches("0123456789abcdef01234"));
        assert!(!token.matches(""));
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic YWxpY2U6cHc="), None);
        assert_eq!(bearer("Bearer"), None);
    }

    #[test]
    fn token_files_are_checked() {
        let dir = std::env::temp_dir().join(format!("partita-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "short\n").unwrap();
        let short = BearerToken::from_file(&file).err().unwrap().to_string();
        assert!(short.contains("at least 16"), "{short}");
        std::fs::write(&file, "has spaces in the middle of it\n").unwrap();
        assert!(BearerToken::from_file(&file).is_err());
        std::fs::write(&file, "  c2VjcmV0LXRva2VuLWZvci10ZXN0cw==\n").unwrap();
        let token = BearerToken::from_file(&file).unwrap();
        assert!(token.matches("c2VjcmV0LXRva2VuLWZvci10ZXN0cw=="));
        assert!(BearerToken::from_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
