#![no_main]
//! Fuzz target: see `venvaudit::fuzz_api::run_request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| venvaudit::fuzz_api::run_request(data));
