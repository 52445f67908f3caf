//! getrandom 0.2's source on wasm32, where the core has none (it is sans-IO) and must not
//! reach for the browser's. raft-rs seeds `rand::thread_rng()` through getrandom the first
//! time it draws an election timeout; the quorum overwrites every such draw with one from its
//! seeded generator before it is read (see `super`'s module doc), so the bytes asked for here
//! decide nothing. They are a constant: no entropy is drawn, and runs stay repeatable.

#[cfg(target_arch = "wasm32")]
fn constant_bytes(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    buf.fill(0x5A);
    Ok(())
}

#[cfg(target_arch = "wasm32")]
getrandom::register_custom_getrandom!(constant_bytes);
