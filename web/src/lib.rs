//! The playground: a whole simulated Partita cluster, running in the browser.
//!
//! The simulation is the core's (`partita_core::sim`), the very code `partita sim` runs; this
//! crate only renders it and turns clicks and keys into inputs for it. State lives in one
//! `Reducible` ([`model::Model`]) changed by [`model::Action`]s; components, one per file,
//! read it.

mod app;
mod components;
pub mod describe;
pub mod key_colours;
pub mod live;
pub mod model;
pub mod page_action;
pub mod tours;
mod url;

pub use app::App;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the JavaScript glue once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    let root = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("app"))
        .expect("the page has an element with id=\"app\"");
    yew::Renderer::<App>::with_root(root).render();
}
