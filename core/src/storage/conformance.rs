//! The behaviour every [`Storage`] backend must have, as a reusable check: the in-memory and
//! fault-injecting backends run it here, the server's file backend runs it in its own tests.

use super::{Storage, StorageError};

/// Runs the whole suite against fresh, empty backends made by `make`. Panics on the first
/// deviation from the [`Storage`] contract.
pub fn check_backend<S: Storage>(make: impl Fn() -> S) {
    append_creates_and_extends(make());
    read_is_short_only_at_the_end(make());
    truncate_shortens_and_ignores_longer_lengths(make());
    delete_and_list(make());
    missing_files_are_not_found(make());
    sync_keeps_contents(make());
    rename_moves_and_replaces(make());
}

fn all(storage: &impl Storage, file: &str) -> Vec<u8> {
    let len = storage.len(file).expect("len") as usize;
    storage.read(file, 0, len).expect("read")
}

fn append_creates_and_extends(mut storage: impl Storage) {
    storage.append("00000000000000000000.log", b"").unwrap();
    assert_eq!(
        storage.len("00000000000000000000.log"),
        Ok(0),
        "empty append creates the file"
    );
    storage
        .append("00000000000000000000.log", b"hello ")
        .unwrap();
    storage
        .append("00000000000000000000.log", b"world")
        .unwrap();
    assert_eq!(all(&storage, "00000000000000000000.log"), b"hello world");
}

fn read_is_short_only_at_the_end(mut storage: impl Storage) {
    storage.append("f", b"0123456789").unwrap();
    let check = |position: u64, len: usize, expect: &[u8]| {
        assert_eq!(
            storage.read("f", position, len).unwrap(),
            expect,
            "read({position}, {len})"
        );
    };
    check(0, 4, b"0123");
    check(6, 10, b"6789");
    check(10, 5, b"");
    check(20, 5, b"");
    check(3, 0, b"");
}

fn truncate_shortens_and_ignores_longer_lengths(mut storage: impl Storage) {
    storage.append("f", b"0123456789").unwrap();
    storage.truncate("f", 4).unwrap();
    assert_eq!(all(&storage, "f"), b"0123");
    storage.truncate("f", 100).unwrap();
    assert_eq!(all(&storage, "f"), b"0123");
    storage.append("f", b"x").unwrap();
    assert_eq!(all(&storage, "f"), b"0123x");
    storage.truncate("f", 0).unwrap();
    assert_eq!(storage.len("f"), Ok(0));
}

fn delete_and_list(mut storage: impl Storage) {
    assert_eq!(storage.list().unwrap(), Vec::<String>::new());
    for file in ["b.index", "a.log", "c.timeindex"] {
        storage.append(file, b"x").unwrap();
    }
    assert_eq!(storage.list().unwrap(), ["a.log", "b.index", "c.timeindex"]);
    storage.delete("b.index").unwrap();
    assert_eq!(storage.list().unwrap(), ["a.log", "c.timeindex"]);
}

fn missing_files_are_not_found(mut storage: impl Storage) {
    let not_found = Err(StorageError::NotFound("nope".into()));
    assert_eq!(storage.len("nope"), not_found.clone());
    assert_eq!(
        storage.read("nope", 0, 1),
        not_found.clone().map(|_: u64| Vec::new())
    );
    assert_eq!(storage.truncate("nope", 0), not_found.clone().map(drop));
    assert_eq!(storage.rename("nope", "other"), not_found.clone().map(drop));
    assert_eq!(storage.delete("nope"), not_found.map(drop));
}

fn sync_keeps_contents(mut storage: impl Storage) {
    storage.append("f", b"abc").unwrap();
    storage.sync("f").unwrap();
    storage.append("f", b"def").unwrap();
    storage.sync("f").unwrap();
    assert_eq!(all(&storage, "f"), b"abcdef");
}

fn rename_moves_and_replaces(mut storage: impl Storage) {
    storage
        .append("00000000000000000000.log.cleaned", b"new")
        .unwrap();
    storage.sync("00000000000000000000.log.cleaned").unwrap();
    storage
        .append("00000000000000000000.log", b"old contents")
        .unwrap();
    storage
        .rename(
            "00000000000000000000.log.cleaned",
            "00000000000000000000.log.swap",
        )
        .unwrap();
    assert_eq!(
        storage.list().unwrap(),
        ["00000000000000000000.log", "00000000000000000000.log.swap"]
    );
    storage
        .rename("00000000000000000000.log.swap", "00000000000000000000.log")
        .unwrap();
    assert_eq!(storage.list().unwrap(), ["00000000000000000000.log"]);
    assert_eq!(all(&storage, "00000000000000000000.log"), b"new");
    // The renamed file goes on as itself: appends land after its contents.
    storage.append("00000000000000000000.log", b"er").unwrap();
    assert_eq!(all(&storage, "00000000000000000000.log"), b"newer");
}
