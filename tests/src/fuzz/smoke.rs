//! A short, seeded smoke of every fuzz target that needs no libFuzzer build: each target's
//! body runs on its committed inputs (`fuzz/corpus/TARGET`, `fuzz/regressions/TARGET`), then on
//! a fixed number of inputs derived from them by a small seeded mutator (bit flips, boundary
//! integers over length and count fields, truncated varints, inserted, erased and duplicated
//! ranges, splices of two inputs). It is not the fuzzer: no coverage feedback, so it finds
//! only shallow bugs, but it runs in the normal test suite in seconds (the instrumented
//! cargo-fuzz build takes tens of minutes on 2 cores) and the same seed always runs the same
//! inputs, so a failure reproduces. A panicking input is saved to a file named in the panic
//! message; commit it to `fuzz/regressions/TARGET/` with its fix.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::Target;

/// The longest input the mutator makes: libFuzzer's default `-max_len`, and more than any
/// committed seed (the largest captured request is about 1 KiB).
pub const MAX_LEN: usize = 4096;

/// What one target's smoke ran, for the table the test prints.
#[derive(Clone, Debug)]
pub struct SmokeRun {
    pub target: &'static str,
    pub seeds: usize,
    pub executions: u64,
    pub elapsed: Duration,
}

/// Runs `target` on each of `seeds`, then on `mutations` inputs the seeded mutator derives
/// from them. Panics (with the input saved to a file) if the target panics on any of them.
pub fn smoke(
    name: &'static str,
    target: Target,
    seeds: &[Vec<u8>],
    mutations: u64,
    seed: u64,
) -> SmokeRun {
    assert!(!seeds.is_empty(), "{name}: no seeds to mutate");
    let started = Instant::now();
    for input in seeds {
        run_one(name, target, input, "seed");
    }
    let mut mutator = Mutator::new(seed);
    for i in 0..mutations {
        let input = mutator.next_input(seeds);
        run_one(
            name,
            target,
            &input,
            &format!("seed {seed:#x} mutation {i}"),
        );
    }
    SmokeRun {
        target: name,
        seeds: seeds.len(),
        executions: seeds.len() as u64 + mutations,
        elapsed: started.elapsed(),
    }
}

fn run_one(name: &str, target: Target, input: &[u8], what: &str) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(input))) {
        let path = saved_input_path(name, input);
        match std::fs::write(&path, input) {
            Ok(()) => eprintln!(
                "fuzz smoke: {name} panicked on {what}; input saved to {} \
                 (commit it to fuzz/regressions/{name}/ with the fix)",
                path.display()
            ),
            Err(e) => eprintln!("fuzz smoke: {name} panicked on {what} ({e} saving {input:02x?})"),
        }
        resume_unwind(panic);
    }
}

fn saved_input_path(name: &str, input: &[u8]) -> PathBuf {
    let digest = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    std::env::temp_dir().join(format!("partita-fuzz-smoke-{name}-{digest:016x}.bin"))
}

/// Values at the edges of the integer types a frame's counts, lengths and offsets use.
const INTERESTING_8: [u8; 6] = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_16: [i16; 6] = [0, 1, -1, i16::MAX, i16::MIN, 0x0100];
const INTERESTING_32: [i32; 8] = [0, 1, -1, i32::MAX, i32::MIN, 0x0001_0000, 255, 4096];
const INTERESTING_64: [i64; 6] = [0, 1, -1, i64::MAX, i64::MIN, 1 << 40];

/// A small deterministic mutator (splitmix64 randomness), in the spirit of libFuzzer's.
pub struct Mutator {
    state: u64,
}

impl Mutator {
    pub fn new(seed: u64) -> Mutator {
        Mutator { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// One to four stacked mutations of a randomly chosen seed.
    pub fn next_input(&mut self, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut input = seeds[self.below(seeds.len())].clone();
        for _ in 0..1 + self.below(4) {
            self.mutate(&mut input, seeds);
        }
        input.truncate(MAX_LEN);
        input
    }

    fn mutate(&mut self, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
        if input.is_empty() {
            input.push(self.next_u64() as u8);
            return;
        }
        let at = self.below(input.len());
        match self.below(11) {
            0 => input[at] ^= 1 << self.below(8),
            1 => input[at] = self.next_u64() as u8,
            2 => input[at] = INTERESTING_8[self.below(INTERESTING_8.len())],
            3 => {
                let v = INTERESTING_16[self.below(INTERESTING_16.len())];
                overwrite(input, at, &v.to_be_bytes());
            }
            4 => {
                let v = INTERESTING_32[self.below(INTERESTING_32.len())];
                overwrite(input, at, &v.to_be_bytes());
            }
            5 => {
                let v = INTERESTING_64[self.below(INTERESTING_64.len())];
                overwrite(input, at, &v.to_be_bytes());
            }
            6 => {
                // Random bytes, or a varint that never ends (continuation bits only).
                let n = 1 + self.below(8);
                let bytes: Vec<u8> = if self.below(2) == 0 {
                    (0..n).map(|_| self.next_u64() as u8).collect()
                } else {
                    vec![0x80 | self.next_u64() as u8; n]
                };
                input.splice(at..at, bytes);
            }
            7 => {
                let end = (at + 1 + self.below(16)).min(input.len());
                input.drain(at..end);
            }
            8 => {
                let end = (at + 1 + self.below(32)).min(input.len());
                let chunk = input[at..end].to_vec();
                let to = self.below(input.len() + 1);
                input.splice(to..to, chunk);
            }
            9 => input.truncate(at),
            _ => {
                // Splice: this input's head, another seed's tail.
                let other = &seeds[self.below(seeds.len())];
                let from = self.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
        }
    }
}

/// Writes `bytes` at `at`, as far as the input reaches.
fn overwrite(input: &mut [u8], at: usize, bytes: &[u8]) {
    let n = bytes.len().min(input.len() - at);
    input[at..at + n].copy_from_slice(&bytes[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_inputs_and_they_differ_from_the_seeds() {
        let seeds = vec![b"hello, fuzzer".to_vec(), vec![0; 40]];
        let run = |seed| {
            let mut m = Mutator::new(seed);
            (0..200).map(|_| m.next_input(&seeds)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let changed = run(7).iter().filter(|i| !seeds.contains(i)).count();
        assert!(changed > 150, "only {changed} of 200 inputs were mutated");
        assert!(run(7).iter().all(|i| i.len() <= MAX_LEN));
    }
}
