//! The playground, embedded in the binary by `build.rs`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const INDEX_HTML: &str = include_str!("playground.html");
const STYLE_CSS: &str = include_str!("../../../web/style.css");
const GLUE_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/partita_web.js"));
const APP_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/partita_web_bg.wasm"));

pub async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

pub async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE_CSS,
    )
        .into_response()
}

pub async fn package_file(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "partita_web.js" => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            GLUE_JS,
        )
            .into_response(),
        "partita_web_bg.wasm" => {
            ([(header::CONTENT_TYPE, "application/wasm")], APP_WASM).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
