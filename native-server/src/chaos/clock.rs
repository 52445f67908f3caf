//! Clock skew for `partita chaos --faults clock`: every node runs with libfaketime preloaded
//! (`LD_PRELOAD`), reading its offset from the real time from a file of its own that the run
//! rewrites (`+300s`, `-42s`; `+0s` is the real time). Only the wall clock is faked
//! (`FAKETIME_DONT_FAKE_MONOTONIC=1`): the node's core takes all its time from the wall clock
//! (engine/clock.rs), while tokio's timers and the process's sleeps keep real time.
//!
//! libfaketime is Debian's `faketime` package (scripts/install.sh installs it).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where Debian and a `make install` of libfaketime put the thread-safe library.
const LIBRARIES: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
    "/usr/local/lib/faketime/libfaketimeMT.so.1",
];

/// libfaketime's thread-safe library, if installed.
pub fn library() -> Option<PathBuf> {
    LIBRARIES.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// One node's faked clock: the library and the node's offset file.
#[derive(Clone, Debug)]
pub struct SkewedClock {
    pub library: PathBuf,
    pub file: PathBuf,
}

impl SkewedClock {
    /// A clock at the real time (the file says `+0s`).
    pub fn create(library: &Path, file: PathBuf) -> anyhow::Result<SkewedClock> {
        let clock = SkewedClock {
            library: library.to_path_buf(),
            file,
        };
        clock.set(0)?;
        Ok(clock)
    }

    /// The environment a node runs with.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        vec![
            ("LD_PRELOAD".into(), self.library.clone().into_os_string()),
            (
                "FAKETIME_TIMESTAMP_FILE".into(),
                self.file.clone().into_os_string(),
            ),
            // Read the file again at most every second (the default caches it 10 s).
            ("FAKETIME_CACHE_DURATION".into(), "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
        ]
    }

    /// Sets the node's clock `offset_s` seconds from the real time (negative: behind). The
    /// file is replaced whole (written aside, renamed), so the node never reads half of it.
    pub fn set(&self, offset_s: i64) -> anyhow::Result<()> {
        let aside = self.file.with_extension("next");
        std::fs::write(&aside, format!("{offset_s:+}s\n"))
            .with_context(|| format!("writing {}", aside.display()))?;
        std::fs::rename(&aside, &self.file)
            .with_context(|| format!("replacing {}", self.file.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_file_says_what_libfaketime_reads() {
        let dir = std::env::temp_dir().join(format!("partita-clock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clock = SkewedClock::create(Path::new("/lib.so"), dir.join("node-1.faketime")).unwrap();
        assert_eq!(std::fs::read_to_string(&clock.file).unwrap(), "+0s\n");
        clock.set(-120).unwrap();
        assert_eq!(std::fs::read_to_string(&clock.file).unwrap(), "-120s\n");
        clock.set(3600).unwrap();
        assert_eq!(std::fs::read_to_string(&clock.file).unwrap(), "+3600s\n");
        assert!(
            clock
                .env()
                .iter()
                .any(|(k, v)| k == "LD_PRELOAD" && v == "/lib.so")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
