//! The page's state in its URL (`?scenario=...&seed=...&step=...&actions=...`), so that a
//! shared link reproduces exactly what was seen, including what the person did on the way.

use web_sys::UrlSearchParams;

use crate::page_action::{self, PageAction};

pub struct Location {
    pub scenario: String,
    pub seed: u64,
    pub step: u64,
    pub actions: Vec<(u64, PageAction)>,
}

pub fn read() -> Location {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let params = UrlSearchParams::new_with_str(&search).ok();
    let get = |name: &str| params.as_ref().and_then(|p| p.get(name));
    Location {
        scenario: get("scenario").unwrap_or_else(|| "keyed-ordering".to_string()),
        seed: get("seed").and_then(|s| s.parse().ok()).unwrap_or(1),
        step: get("step").and_then(|s| s.parse().ok()).unwrap_or(0),
        actions: get("actions")
            .map(|a| page_action::decode_all(&a))
            .unwrap_or_default(),
    }
}

/// Whether the page asks for the live view of the server (`?live`) instead of a simulation.
pub fn wants_live() -> bool {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    UrlSearchParams::new_with_str(&search).is_ok_and(|p| p.has("live"))
}

/// Replaces the URL (no new history entry per step).
pub fn write(scenario: &str, seed: u64, step: u64, actions: &[(u64, PageAction)]) {
    let Ok(params) = UrlSearchParams::new() else {
        return;
    };
    params.set("scenario", scenario);
    params.set("seed", &seed.to_string());
    params.set("step", &step.to_string());
    if !actions.is_empty() {
        params.set("actions", &page_action::encode_all(actions));
    }
    let url = format!("?{}", String::from(params.to_string()));
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}
