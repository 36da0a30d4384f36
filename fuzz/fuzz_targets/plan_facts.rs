#![no_main]
//! Fuzz target: see `venvaudit::fuzz_api::plan_facts`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| venvaudit::fuzz_api::plan_facts(data));
