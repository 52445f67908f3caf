//! A small blocking Kafka client: enough for the admin commands and the tests. It speaks the
//! versions the caller names and checks first that the broker speaks them too. Every response
//! is walked by the guard (`kafka::guard::check_response`) before the codec decodes it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader, SaslAuthenticateRequest,
    SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use crate::kafka::guard;

const CLIENT_ID: &str = "partita-admin";
const RESPONSE_MAX_BYTES: usize = 100 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct KafkaClient {
    /// The `host:port` connected to, for messages.
    addr: String,
    stream: Stream,
    /// Whether [`KafkaClient::login`] succeeded (a closed connection before that is probably a
    /// listener that requires a login).
    logged_in: bool,
    next_correlation_id: i32,
    /// The broker's `(min, max)` version per API key, from ApiVersions.
    broker_versions: HashMap<i16, (i16, i16)>,
}

impl KafkaClient {
    /// Connects and asks the broker which APIs and versions it speaks.
    pub fn connect(addr: &str) -> anyhow::Result<KafkaClient> {
        Self::connect_with_timeout(addr, TIMEOUT)
    }

    /// [`KafkaClient::connect`] over TLS when `tls` is given (an SSL or SASL_SSL listener):
    /// the handshake is done before ApiVersions, and its failure (an untrusted or misnamed
    /// certificate, a listener that wants a client certificate) is the error.
    pub fn connect_tls(
        addr: &str,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> anyhow::Result<KafkaClient> {
        Self::open(addr, TIMEOUT, tls)
    }

    /// [`KafkaClient::connect`] with `timeout` for the connection and every read and write
    /// (`partita chaos` asks nodes that may be paused).
    pub fn connect_with_timeout(addr: &str, timeout: Duration) -> anyhow::Result<KafkaClient> {
        Self::open(addr, timeout, None)
    }

    fn open(
        addr: &str,
        timeout: Duration,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> anyhow::Result<KafkaClient> {
        let socket = addr
            .to_socket_addrs()
            .with_context(|| format!("resolving {addr}"))?
            .next()
            .with_context(|| format!("{addr} resolves to no address"))?;
        let stream = TcpStream::connect_timeout(&socket, timeout)
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        let stream = match tls {
            None => Stream::Plain(stream),
            Some(config) => Stream::Tls(Box::new(handshake(addr, config, stream)?)),
        };
        let mut client = KafkaClient {
            addr: addr.to_string(),
            stream,
            logged_in: false,
            next_correlation_id: 0,
            broker_versions: HashMap::new(),
        };
        let versions = client.call_unchecked(
            &ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("partita"))
                .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION"))),
            3,
        )?;
        if versions.error_code != 0 {
            bail!(
                "{addr} answered ApiVersions with error code {}",
                versions.error_code
            );
        }
        client.broker_versions = versions
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Ok(client)
    }

    /// Logs in with SASL/PLAIN (a v1 handshake, then SaslAuthenticate), for a broker whose
    /// listener requires it.
    pub fn login(&mut self, username: &str, password: &str) -> anyhow::Result<()> {
        let handshake =
            SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
        let response = self.call(&handshake, 1)?;
        if response.error_code != 0 {
            let offered: Vec<&str> = response.mechanisms.iter().map(|m| m.as_str()).collect();
            bail!("the broker does not accept SASL/PLAIN (it offers {offered:?})");
        }
        let token = format!("\0{username}\0{password}").into_bytes();
        let authenticate = SaslAuthenticateRequest::default().with_auth_bytes(token.into());
        let response = self.call(&authenticate, 2)?;
        if response.error_code != 0 {
            bail!(
                "SASL/PLAIN login as {username} refused: {}",
                response
                    .error_message
                    .as_deref()
                    .unwrap_or("no reason given")
            );
        }
        self.logged_in = true;
        Ok(())
    }

    /// The `host:port` this client connected to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends `request` at `version`, after checking the broker speaks it.
    pub fn call<R: Request>(&mut self, request: &R, version: i16) -> anyhow::Result<R::Response> {
        let api =
            ApiKey::try_from(R::KEY).map_err(|()| anyhow::anyhow!("unknown API key {}", R::KEY))?;
        match self.broker_versions.get(&R::KEY) {
            Some(&(min, max)) if (min..=max).contains(&version) => {}
            Some(&(min, max)) => bail!("the broker speaks {api:?} {min}..={max}, not v{version}"),
            None => bail!("the broker does not speak {api:?}"),
        }
        self.call_unchecked(request, version)
    }

    /// Sends `request` at `version` without looking at what the broker speaks.
    pub fn call_unchecked<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> anyhow::Result<R::Response> {
        let correlation_id = self.send_request(request, version)?;
        let Some(mut response) = self.receive_frame()? else {
            return Err(Disconnected {
                addr: self.addr.clone(),
                before_login: !self.logged_in,
            }
            .into());
        };
        // A hostile broker must not make the codec reserve what the frame does not hold.
        guard::check_response(R::KEY, version, &response)?;
        let header = ResponseHeader::decode(
            &mut response,
            <R::Response as HeaderVersion>::header_version(version),
        )?;
        if header.correlation_id != correlation_id {
            bail!(
                "response for correlation id {} while waiting for {correlation_id}",
                header.correlation_id
            );
        }
        R::Response::decode(&mut response, version)
    }

    /// Sends `request` at `version` and expects no answer (a produce with acks=0).
    pub fn send_only<R: Request>(&mut self, request: &R, version: i16) -> anyhow::Result<()> {
        self.send_request(request, version).map(|_| ())
    }

    /// Encodes and sends one request; returns its correlation id.
    fn send_request<R: Request>(&mut self, request: &R, version: i16) -> anyhow::Result<i32> {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        let mut body = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)))
            .encode(&mut body, R::header_version(version))?;
        request.encode(&mut body, version)?;
        self.send_frame(&body)?;
        Ok(correlation_id)
    }

    /// Writes one frame: the 4-byte length, then `body`.
    pub fn send_frame(&mut self, body: &[u8]) -> anyhow::Result<()> {
        let length = i32::try_from(body.len()).context("request too large")?;
        self.send_bytes(&length.to_be_bytes())?;
        self.send_bytes(body)
    }

    /// Writes bytes exactly as given (tests use it to send broken frames).
    pub fn send_bytes(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Reads one frame, or `None` if the broker closed the connection.
    pub fn receive_frame(&mut self) -> anyhow::Result<Option<Bytes>> {
        let mut length = [0u8; 4];
        match self.stream.read_exact(&mut length) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        if looks_like_tls(length) {
            return Err(NeedsTls {
                addr: self.addr.clone(),
            }
            .into());
        }
        let length =
            usize::try_from(i32::from_be_bytes(length)).context("negative response length")?;
        if length > RESPONSE_MAX_BYTES {
            bail!("response of {length} bytes is larger than {RESPONSE_MAX_BYTES}");
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body)?;
        Ok(Some(Bytes::from(body)))
    }
}

/// A TLS client connection over a blocking socket (the socket's timeouts apply).
type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// The connection: plain TCP, or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Does the TLS handshake with `addr` now, so that a refused certificate is reported as such
/// rather than as a lost connection at the first request.
fn handshake(
    addr: &str,
    config: &Arc<rustls::ClientConfig>,
    mut socket: TcpStream,
) -> anyhow::Result<TlsStream> {
    let name = crate::tls::client::server_name(addr)?;
    let mut connection = rustls::ClientConnection::new(config.clone(), name)
        .with_context(|| format!("starting TLS with {addr}"))?;
    while connection.is_handshaking() {
        connection
            .complete_io(&mut socket)
            .map_err(|e| TlsHandshake {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
    }
    Ok(rustls::StreamOwned::new(connection, socket))
}

/// The TLS handshake with a broker failed (its certificate is not trusted or does not name
/// the host, it wants a client certificate, or it does not speak TLS).
#[derive(Debug)]
pub struct TlsHandshake {
    pub addr: String,
    pub reason: String,
}

impl std::fmt::Display for TlsHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TLS handshake with {} failed: {}",
            self.addr, self.reason
        )?;
        if self.reason.contains("not valid for name") {
            f.write_str(
                " (the certificate must name the host connected to; \
                 ssl.endpoint.identification.algorithm= with an empty value turns that check off)",
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for TlsHandshake {}

/// Whether the first 4 bytes of an answer are a TLS record header rather than a Kafka frame
/// length: content type 20..=24 (change_cipher_spec, alert, handshake, application_data,
/// heartbeat; RFC 8446 §5.1) and major version 3. As a length that would be over 335 MB, far
/// above [`RESPONSE_MAX_BYTES`], so no real Kafka response is mistaken for one.
pub fn looks_like_tls(first: [u8; 4]) -> bool {
    (20..=24).contains(&first[0]) && first[1] == 3 && first[2] <= 4
}

/// The broker closed the connection while an answer was awaited (it died, or the listener
/// wants something the client did not do: a SASL login).
#[derive(Debug)]
pub struct Disconnected {
    pub addr: String,
    /// Whether the client had not logged in (SASL) on this connection.
    pub before_login: bool,
}

impl std::fmt::Display for Disconnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} closed the connection", self.addr)?;
        if self.before_login {
            f.write_str(
                " (if its listener is SASL_PLAINTEXT, a login is probably required: \
                 --sasl-username and --sasl-password)",
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Disconnected {}

/// The broker answered a plaintext request with a TLS record: its listener speaks TLS (SSL or
/// SASL_SSL), so the client needs `security.protocol=SSL` or `SASL_SSL`.
#[derive(Debug)]
pub struct NeedsTls {
    pub addr: String,
}

impl std::fmt::Display for NeedsTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} answered with a TLS record: the listener seems to need TLS; give \
             --command-config FILE with security.protocol=SSL (or SASL_SSL) and \
             ssl.truststore.location (ssl.truststore.type=PEM)",
            self.addr
        )
    }
}

impl std::error::Error for NeedsTls {}

/// Whether `error` means the connection is gone or unusable (an I/O error, or the broker
/// closed it): a client retries such a request elsewhere after refreshing its metadata.
pub fn connection_lost(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.is::<std::io::Error>() || cause.is::<Disconnected>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_alert_is_recognised_and_a_kafka_length_is_not() {
        // The alert a TLS listener sends a plaintext client: 352518912 read as a length.
        assert!(looks_like_tls(352_518_912u32.to_be_bytes()));
        assert!(looks_like_tls([0x16, 0x03, 0x01, 0x00]));
        assert!(!looks_like_tls(1_000_000u32.to_be_bytes()));
        assert!(!looks_like_tls((RESPONSE_MAX_BYTES as u32).to_be_bytes()));
    }

    #[test]
    fn a_closed_connection_before_login_suggests_one() {
        let error: anyhow::Error = Disconnected {
            addr: "h:1".into(),
            before_login: true,
        }
        .into();
        assert!(error.to_string().contains("--sasl-username"));
        assert!(connection_lost(&error));
        let error = error.context("listing topics");
        assert!(connection_lost(&error));
        assert!(!connection_lost(&anyhow::anyhow!("NOT_LEADER_OR_FOLLOWER")));
    }
}
