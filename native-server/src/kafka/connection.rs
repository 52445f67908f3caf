//! One client connection: read a frame, answer it, repeat. Requests on a connection are answered
//! in order, one at a time, as Kafka does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, watch};

use super::frame::{FrameError, frame, read_length, read_rest};
use super::node::Node;
use super::reauth::Reauth;
use super::sasl::{self, Session};
use super::{ClientInfo, api_versions, authz, capture, dispatch, guard, versions};
use partita_core::ErrorCode;

/// Why a connection is closed instead of answered. Kafka closes the connection in all these
/// cases (except an unsupported ApiVersions version, which gets an answer); the broker goes on.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {0} bytes is too short for a request header")]
    TooShort(usize),
    #[error("unknown API key {0}")]
    UnknownApi(i16),
    #[error("API {0:?} is not supported by this node")]
    UnsupportedApi(ApiKey),
    #[error("{api:?} version {version} is not supported (supported: {min}..={max})")]
    UnsupportedVersion {
        api: ApiKey,
        version: i16,
        min: i16,
        max: i16,
    },
    #[error("BUG: cannot encode the {api:?} v{version} response: {reason}")]
    Encode {
        api: ApiKey,
        version: i16,
        reason: String,
    },
    #[error("the engine stopped: {0:#}")]
    Engine(anyhow::Error),
    #[error("{0:?} before SASL authentication")]
    Unauthenticated(ApiKey),
    #[error("SASL authentication failed")]
    AuthenticationFailed,
    /// A re-authentication (KIP-368) changed the mechanism or the principal.
    #[error("SASL re-authentication refused: {0}")]
    Reauthentication(String),
    #[error(
        "{0:?} after the SASL session expired (connections.max.reauth.ms): the client did \
         not re-authenticate"
    )]
    SessionExpired(ApiKey),
    #[error(transparent)]
    Refused(#[from] guard::Refusal),
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed {
        api: ApiKey,
        version: i16,
        reason: String,
    },
}

/// Serves one connection: a TCP socket, or a TLS stream over one (SSL, SASL_SSL), whose
/// client certificate named `tls_principal` (mTLS).
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut socket: S,
    peer: SocketAddr,
    tls_principal: Option<String>,
    node: Arc<Node>,
    mut shutdown: watch::Receiver<bool>,
) {
    node.metrics.connections.inc();
    let mut session = Session::new(&node.sasl_mechanisms);
    let mut reauth = Reauth::new(node.limits.connections_max_reauth_ms);
    loop {
        let frame_read = tokio::select! {
            read = next_request(&mut socket, &node, &session) => read,
            _ = shutdown.changed() => break,
        };
        let (request, _memory) = match frame_read {
            Ok(Some(request)) => request,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(%peer, "closing connection: {e}");
                break;
            }
        };
        let login = Login {
            session: &mut session,
            reauth: &mut reauth,
        };
        let answered = answer(request, peer, tls_principal.as_deref(), &node, login).await;
        let Answer { response, close } = match answered {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(%peer, "closing connection: {e}");
                break;
            }
        };
        // TLS streams buffer what is written: flush sends it (a no-op on a TCP socket).
        if let Some(response) = response
            && let Err(e) = write_response(&mut socket, &frame(&response)).await
        {
            tracing::info!(%peer, "closing connection: write failed: {e}");
            break;
        }
        if let Some(reason) = close {
            tracing::info!(%peer, "closing connection: {reason}");
            break;
        }
    }
    node.metrics.connections.dec();
}

async fn write_response<S: AsyncWrite + Unpin>(
    socket: &mut S,
    bytes: &[u8],
) -> std::io::Result<()> {
    socket.write_all(bytes).await?;
    socket.flush().await
}

/// Why no request was read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("idle for connections.max.idle.ms ({0} ms)")]
    Idle(u64),
}

/// Reads the next request frame within `connections.max.idle.ms`, bounded by
/// `socket.request.max.bytes` (`sasl.server.max.receive.size` before a login; 1 MiB for the
/// small APIs, `Limits::request_max_bytes`, judged from the frame's first four bytes), holding
/// its bytes of `queued.max.request.bytes` until the returned permit is dropped (once answered).
async fn next_request<S: AsyncRead + Unpin>(
    socket: &mut S,
    node: &Node,
    session: &Session,
) -> Result<Option<(Bytes, Option<OwnedSemaphorePermit>)>, ReadError> {
    let limits = &node.limits;
    let idle = limits.idle_timeout();
    let (max, limit) = if session.logged_in() {
        (limits.socket_request_max_bytes, "socket.request.max.bytes")
    } else {
        (
            limits.sasl_server_max_receive_size,
            "sasl.server.max.receive.size",
        )
    };
    let timed_out = |_| ReadError::Idle(limits.connections_max_idle_ms);
    let length = tokio::time::timeout(idle, read_length(socket, max, limit))
        .await
        .map_err(timed_out)??;
    let Some(length) = length else {
        return Ok(None);
    };
    // The API key and version, unless the frame is a bare SASL token (after a v0 handshake).
    let mut start = [0u8; 4];
    let start: &[u8] = if length >= start.len() && !session.awaits_raw_token() {
        tokio::time::timeout(idle, socket.read_exact(&mut start))
            .await
            .map_err(timed_out)?
            .map_err(FrameError::from)?;
        let (max, limit) = limits.request_max_bytes(i16::from_be_bytes([start[0], start[1]]));
        if session.logged_in() && length > max {
            return Err(FrameError::TooLarge { length, limit, max }.into());
        }
        &start
    } else {
        &[]
    };
    let permit = node.request_memory.acquire(length).await;
    let body = tokio::time::timeout(idle, read_rest(socket, start, length))
        .await
        .map_err(timed_out)??;
    Ok(Some((body, permit)))
}

/// The encoded response to one request (`None`: the request wants none, like a produce with
/// acks=0), and whether the connection closes once it is sent (and why).
pub struct Answer {
    response: Option<Vec<u8>>,
    close: Option<ProtocolError>,
}

impl Answer {
    fn send(response: Vec<u8>) -> Answer {
        Answer {
            response: Some(response),
            close: None,
        }
    }
}

/// A connection's SASL state: the exchange or login, and its expiry (KIP-368).
pub struct Login<'a> {
    pub session: &'a mut Session,
    pub reauth: &'a mut Reauth,
}

/// Decodes one request, handles it and encodes the response.
pub async fn answer(
    request: Bytes,
    peer: SocketAddr,
    tls_principal: Option<&str>,
    node: &Node,
    login: Login<'_>,
) -> Result<Answer, ProtocolError> {
    let Login { session, reauth } = login;
    if session.awaits_raw_token() {
        // After a v0 handshake: the frame is a bare SASL token, answered by a bare frame
        // (empty after PLAIN's token, SCRAM's server messages after its two).
        let credential = sasl::credential_for(session, &request, node)
            .await
            .map_err(ProtocolError::Engine)?;
        return match session.step(&request, &node.sasl_users, credential) {
            Ok(reply) => match session
                .user()
                .map(|user| login_completed(reauth, user, node))
            {
                Some(Err(message)) => Err(ProtocolError::Reauthentication(message)),
                _ => Ok(Answer::send(reply)),
            },
            Err(message) => {
                tracing::info!(%peer, "SASL login failed: {message}");
                Err(ProtocolError::AuthenticationFailed)
            }
        };
    }
    if request.len() < 8 {
        return Err(ProtocolError::TooShort(request.len()));
    }
    let api_key = (&request[0..2]).get_i16();
    let version = (&request[2..4]).get_i16();
    let correlation_id = (&request[4..8]).get_i32();
    let api = ApiKey::try_from(api_key).map_err(|()| ProtocolError::UnknownApi(api_key))?;
    let (min, max) = versions::supported(api).ok_or(ProtocolError::UnsupportedApi(api))?;
    if version < min || version > max {
        if api == ApiKey::ApiVersions {
            // KIP-511: tell the client what we speak, at v0, so it can pick a version and retry.
            return encode(correlation_id, api, 0, &api_versions::unsupported_version())
                .map(Answer::send);
        }
        return Err(ProtocolError::UnsupportedVersion {
            api,
            version,
            min,
            max,
        });
    }

    if !session.allows(api) {
        return Err(ProtocolError::Unauthenticated(api));
    }
    // KIP-368: a SaslHandshake on a logged-in connection may begin a re-authentication; any
    // other request after the login expired closes the connection, as Kafka's Processor does.
    let now = Instant::now();
    if let Some(user) = session.user() {
        if api == ApiKey::SaslHandshake && reauth.begin(user, now) {
            tracing::debug!(%peer, user, "SASL re-authentication");
            session.restart();
        } else if reauth.expired(now) {
            node.metrics.expired_connections_killed.inc();
            return Ok(Answer {
                response: None,
                close: Some(ProtocolError::SessionExpired(api)),
            });
        }
    }
    let (header, body) = decode_request(api, version, request)?;
    // SASL belongs to the connection, not to the engine.
    let body = match body {
        RequestKind::SaslHandshake(r) => {
            if session.user().is_some() {
                // Logged in and no re-authentication begun: Kafka's KafkaApis answers so.
                let refused = kafka_protocol::messages::SaslHandshakeResponse::default()
                    .with_error_code(ErrorCode::ILLEGAL_SASL_STATE.code());
                let response = ResponseKind::SaslHandshake(refused);
                return encode(correlation_id, api, version, &response).map(Answer::send);
            }
            let response = session.handshake(&r, version, &node.sasl_mechanisms);
            let close = if response.error_code == 0 {
                reauth
                    .handshake(r.mechanism.as_str())
                    .err()
                    .map(ProtocolError::Reauthentication)
            } else {
                None
            };
            let response = ResponseKind::SaslHandshake(response);
            return Ok(Answer {
                response: Some(encode(correlation_id, api, version, &response)?),
                close,
            });
        }
        RequestKind::SaslAuthenticate(r) => {
            let credential = sasl::credential_for(session, &r.auth_bytes, node)
                .await
                .map_err(ProtocolError::Engine)?;
            let (mut response, failed) = session.authenticate(&r, &node.sasl_users, credential);
            let mut close = failed.then_some(ProtocolError::AuthenticationFailed);
            if let Some(user) = session.user().filter(|_| !failed) {
                match login_completed(reauth, user, node) {
                    // `session_lifetime_ms` is a v1 field.
                    Ok(lifetime) if version >= 1 => response.session_lifetime_ms = lifetime,
                    Ok(_) => {}
                    Err(message) => {
                        tracing::info!(%peer, "SASL re-authentication failed: {message}");
                        response = response
                            .with_error_code(ErrorCode::SASL_AUTHENTICATION_FAILED.code())
                            .with_error_message(Some(message.clone().into()));
                        close = Some(ProtocolError::Reauthentication(message));
                    }
                }
            }
            let response = encode(
                correlation_id,
                api,
                version,
                &ResponseKind::SaslAuthenticate(response),
            )?;
            return Ok(Answer {
                response: Some(response),
                close,
            });
        }
        body => body,
    };

    let started = Instant::now();
    let client = ClientInfo {
        client_id: header.client_id.as_deref().unwrap_or_default().to_string(),
        host: format!("/{}", peer.ip()),
        authz: node
            .acls
            .authz(authz::caller(session.user(), tls_principal, peer.ip())),
    };
    let response = dispatch::handle(body, version, &client, node)
        .await
        .map_err(ProtocolError::Engine)?;
    node.metrics.observe_request(api, started.elapsed());
    let response = response
        .map(|response| encode(correlation_id, api, version, &response))
        .transpose()?;
    Ok(Answer {
        response,
        close: None,
    })
}

/// A login as `user` completed now: its lifetime in milliseconds for `session_lifetime_ms`
/// (0: none), counting a successful re-authentication; or Kafka's message when a
/// re-authentication changed the principal.
fn login_completed(reauth: &mut Reauth, user: &str, node: &Node) -> Result<i64, String> {
    let renewing = reauth.reauthenticating();
    let lifetime = reauth.complete(user, Instant::now())?;
    if renewing {
        node.metrics.reauthentications.inc();
    }
    Ok(lifetime)
}

/// Decodes a whole request frame (header and body) of a supported `api` and `version`, after
/// the guard (`guard::check_request`) has walked it against Kafka's schema: the codec then
/// never sees a count or length larger than the bytes behind it (issue 17).
pub fn decode_request(
    api: ApiKey,
    version: i16,
    mut request: Bytes,
) -> Result<(RequestHeader, RequestKind), ProtocolError> {
    guard::check_request(&request)?;
    capture::request(api as i16, version, &request);
    let malformed = |reason: anyhow::Error| ProtocolError::Malformed {
        api,
        version,
        reason: format!("{reason:#}"),
    };
    let header = RequestHeader::decode(&mut request, api.request_header_version(version))
        .map_err(malformed)?;
    let body = RequestKind::decode(api, &mut request, version).map_err(malformed)?;
    Ok((header, body))
}

/// Encodes a response. Failing here is a bug in a handler (a field set that the version does
/// not have): the connection is closed and the error logged, the process goes on.
fn encode(
    correlation_id: i32,
    api: ApiKey,
    version: i16,
    response: &ResponseKind,
) -> Result<Vec<u8>, ProtocolError> {
    let mut buf = BytesMut::new();
    let encode_error = |e: anyhow::Error| ProtocolError::Encode {
        api,
        version,
        reason: format!("{e:#}"),
    };
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut buf, api.response_header_version(version))
        .map_err(encode_error)?;
    response.encode(&mut buf, version).map_err(encode_error)?;
    Ok(buf.to_vec())
}
