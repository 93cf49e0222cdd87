//! libFuzzer entry point for [`quakelab_fuzz::experiment_toml`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quakelab_fuzz::experiment_toml(data));
