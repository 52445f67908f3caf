//! The app mounts in a real browser (headless Chromium through wasm-bindgen-test-runner).

use std::time::Duration;

use partita_web::App;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

#[wasm_bindgen_test]
async fn app_mounts_with_its_header() {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root(root.clone()).render();
    yew::platform::time::sleep(Duration::from_millis(50)).await;

    let playground = root
        .query_selector("[data-testid=playground]")
        .unwrap()
        .expect("rendered");
    assert!(playground.text_content().unwrap().contains("Partita"));
}
