//! `PARTITA_CAPTURE_REQUESTS=DIR`: writes request frames that passed the guard to `DIR`, a few
//! per API and version, named `<api key>-v<version>-<n>.bin`. The fuzz corpora are seeded from
//! real clients this way (`scripts/fuzz.sh --capture`); unset, this costs one branch.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// Frames kept per (API, version): enough variety for a seed, a corpus that stays small.
const FRAMES_PER_VERSION: usize = 4;

/// Where frames go, and how many were kept per (API key, version).
struct Capture {
    dir: PathBuf,
    counts: Mutex<HashMap<(i16, i16), usize>>,
}

static CAPTURE: OnceLock<Option<Capture>> = OnceLock::new();

/// Keeps `frame` if capturing and this API and version has fewer than `FRAMES_PER_VERSION`.
pub fn request(api_key: i16, version: i16, frame: &[u8]) {
    let capture = CAPTURE.get_or_init(|| {
        let dir = PathBuf::from(std::env::var_os("PARTITA_CAPTURE_REQUESTS")?);
        std::fs::create_dir_all(&dir).ok()?;
        Some(Capture {
            dir,
            counts: Mutex::new(HashMap::new()),
        })
    });
    let Some(Capture { dir, counts }) = capture else {
        return;
    };
    let n = {
        let mut counts = counts.lock().expect("never poisoned");
        let count = counts.entry((api_key, version)).or_insert(0);
        if *count >= FRAMES_PER_VERSION {
            return;
        }
        *count += 1;
        *count
    };
    let name = format!("{api_key}-v{version}-{}-{n}.bin", std::process::id());
    if let Err(e) = std::fs::write(dir.join(name), frame) {
        tracing::warn!("PARTITA_CAPTURE_REQUESTS: {e}");
    }
}
