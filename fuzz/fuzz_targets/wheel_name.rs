#![no_main]
//! Fuzz target: see `venvaudit::fuzz_api::wheel_name`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| venvaudit::fuzz_api::wheel_name(data));
