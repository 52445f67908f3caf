//! The page's state in its URL (`?scenario=...&seed=...&step=...`), so that a shared link
//! reproduces exactly what was seen.

use web_sys::UrlSearchParams;

pub struct Location {
    pub scenario: String,
    pub seed: u64,
    pub step: u64,
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
    }
}

/// Replaces the URL (no new history entry per step).
pub fn write(scenario: &str, seed: u64, step: u64) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let url = format!("?scenario={scenario}&seed={seed}&step={step}");
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}
