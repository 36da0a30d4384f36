#![no_main]
//! Fuzz target: see `venvaudit::fuzz_api::lock`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| venvaudit::fuzz_api::lock(data));
