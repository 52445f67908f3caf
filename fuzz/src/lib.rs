//! What every fuzz target shares: a counting allocator, so an input whose handling allocates
//! more than a bound derived from its own length is a finding (an abort in the broker was
//! issue 17's crash), and the targets' bodies, which live in `partita_tests::fuzz` so that the
//! normal test suite replays the corpora through the same code.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub use partita_tests::fuzz::*;

// Live and peak bytes of this thread (libFuzzer runs the target on one thread), and the live
// byte count past which an allocation panics at once (usize::MAX outside `bounded`), so that the
// finding's backtrace names the allocation that crossed the bound, not the end of the input.
thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The system allocator, counting.
pub struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grow(new_size);
        shrink(layout.size());
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn grow(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(size);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        if LIMIT.try_with(Cell::get).is_ok_and(|limit| now > limit) {
            // Lift the limit first: the report allocates. Abort rather than panic: an
            // allocator must not unwind. libFuzzer saves the input on the signal.
            let _ = LIMIT.try_with(|limit| limit.set(usize::MAX));
            let trace = std::backtrace::Backtrace::force_capture();
            eprintln!("{now} bytes live at once, past the bound, allocating {size} more\n{trace}");
            std::process::abort();
        }
    });
}

fn shrink(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

/// The most one input may hold at once: a fixed allowance plus this many bytes per input byte.
/// kafka-protocol's structs take up to about 40 bytes of memory per wire byte (a Metadata
/// topic: 2 bytes on the wire, ~80 in memory); the guard keeps every count within the bytes.
pub const ALLOWANCE_BYTES: usize = 1 << 20;
pub const BYTES_PER_INPUT_BYTE: usize = 256;

/// Runs `target` on `data` and panics if its peak allocation passed the bound.
pub fn bounded(data: &[u8], target: fn(&[u8])) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    let bound = ALLOWANCE_BYTES + BYTES_PER_INPUT_BYTE * data.len();
    LIMIT.with(|limit| limit.set(base.saturating_add(bound)));
    target(data);
    LIMIT.with(|limit| limit.set(usize::MAX));
    let peak = PEAK.with(Cell::get) - base;
    assert!(
        peak <= bound,
        "an input of {} bytes made {peak} bytes live at once (bound {bound})",
        data.len()
    );
}
