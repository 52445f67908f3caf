//! The live view's data: what the real `partita serve` that served this page reports on its
//! JSON API (`/api/cluster`, `/api/topics`, `/api/groups`), fetched again every second.
//! When the server requires a token (`partita serve --http-token-file`), the API answers 401:
//! the view asks for the token, keeps it in the tab's `sessionStorage` (gone when the tab is
//! closed) and sends it as `Authorization: Bearer <token>`.

use gloo::net::http::Request;
use serde::Deserialize;
use serde::de::DeserializeOwned;

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Cluster {
    pub cluster_id: String,
    pub controller_id: i32,
    pub brokers: Vec<Broker>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Broker {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub fenced: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Topic {
    pub name: String,
    pub partitions: Vec<Partition>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Partition {
    pub partition: u32,
    pub leader: i32,
    pub leader_epoch: i32,
    pub isr: Vec<i32>,
    pub log_start_offset: Option<i64>,
    pub high_watermark: Option<i64>,
    pub log_end_offset: Option<i64>,
    pub size_bytes: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Group {
    pub group_id: String,
    pub state: String,
    pub protocol: String,
    pub members: Vec<Member>,
    pub offsets: Vec<GroupOffset>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Member {
    pub member_id: String,
    pub client_id: String,
    pub host: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct GroupOffset {
    pub topic: String,
    pub partition: i32,
    pub committed_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    pub lag: Option<i64>,
    pub consumer_id: Option<String>,
}

/// Everything the live view shows, as of one poll.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveView {
    pub cluster: Cluster,
    pub topics: Vec<Topic>,
    pub groups: Vec<Group>,
}

impl LiveView {
    /// Each group's total lag, for the charts.
    pub fn lag_by_group(&self) -> Vec<(String, i64)> {
        self.groups
            .iter()
            .map(|g| {
                (
                    g.group_id.clone(),
                    g.offsets.iter().filter_map(|o| o.lag).sum(),
                )
            })
            .collect()
    }
}

/// Why a poll brought no view.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchError {
    /// 401: the server wants a token, and none (or a wrong one) was sent.
    Unauthorized,
    /// Anything else, as text.
    Failed(String),
}

/// The `sessionStorage` key of the token.
const TOKEN_KEY: &str = "partita.http.token";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The token kept for this tab, if any.
pub fn token() -> Option<String> {
    session_storage()?
        .get_item(TOKEN_KEY)
        .ok()?
        .filter(|t| !t.is_empty())
}

/// Keeps `token` for this tab (an empty one forgets it).
pub fn set_token(token: &str) {
    if let Some(storage) = session_storage() {
        let _ = if token.is_empty() {
            storage.remove_item(TOKEN_KEY)
        } else {
            storage.set_item(TOKEN_KEY, token)
        };
    }
}

/// Reads the three endpoints. Paths are relative to the page, so the view works wherever
/// `partita serve` mounts it; a page served by something else (`trunk serve`) gets an error
/// saying so.
pub async fn fetch() -> Result<LiveView, FetchError> {
    Ok(LiveView {
        cluster: get("api/cluster").await?,
        topics: get("api/topics").await?,
        groups: get("api/groups").await?,
    })
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, FetchError> {
    let failed = |e: String| FetchError::Failed(format!("{path}: {e}"));
    let mut request = Request::get(path);
    if let Some(token) = token() {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request.send().await.map_err(|e| failed(e.to_string()))?;
    if response.status() == 401 {
        return Err(FetchError::Unauthorized);
    }
    if !response.ok() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    // The browser's JSON parser and serde-wasm-bindgen, rather than serde_json: the same
    // result for tens of KiB less wasm.
    let text = response.text().await.map_err(|e| failed(e.to_string()))?;
    let value = js_sys::JSON::parse(&text).map_err(|_| failed("not JSON".to_string()))?;
    serde_wasm_bindgen::from_value(value).map_err(|e| failed(e.to_string()))
}
