//! Producer ids for idempotent producers (InitProducerId), never handed out twice: ids are
//! reserved in blocks whose end is synced to disk before any id of the block is used, so a
//! restart continues after the last reserved block (Kafka reserves blocks the same way).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

const BLOCK_SIZE: i64 = 1_000;

pub struct ProducerIds {
    path: PathBuf,
    next: i64,
    block_end: i64,
}

impl ProducerIds {
    pub fn open(dir: &Path) -> anyhow::Result<ProducerIds> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("next-block");
        let block_end = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse()
                .with_context(|| format!("{}: not a number", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e.into()),
        };
        Ok(ProducerIds {
            path,
            next: block_end,
            block_end,
        })
    }

    pub fn allocate(&mut self) -> anyhow::Result<i64> {
        if self.next == self.block_end {
            let end = self.block_end + BLOCK_SIZE;
            let fresh = self.path.with_extension("new");
            let mut file = File::create(&fresh)?;
            write!(file, "{end}")?;
            file.sync_all()?;
            std::fs::rename(&fresh, &self.path)?;
            File::open(self.path.parent().expect("in a directory"))?.sync_all()?;
            self.block_end = end;
        }
        let id = self.next;
        self.next += 1;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused_across_restarts() {
        let dir = std::env::temp_dir().join(format!("partita-producer-ids-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut ids = ProducerIds::open(&dir).unwrap();
        assert_eq!((ids.allocate().unwrap(), ids.allocate().unwrap()), (0, 1));
        drop(ids);
        let mut ids = ProducerIds::open(&dir).unwrap();
        assert_eq!(ids.allocate().unwrap(), BLOCK_SIZE);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
