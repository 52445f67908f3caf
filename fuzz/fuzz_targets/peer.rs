#![no_main]

#[global_allocator]
static ALLOCATOR: partita_fuzz::Counting = partita_fuzz::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| partita_fuzz::bounded(data, partita_fuzz::peer::peer));
