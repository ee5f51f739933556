#![no_main]
//! Fuzzes `accord_fuzz_targets::inspection` (the stable test runs the same function).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    accord_fuzz_targets::inspection(data);
});
