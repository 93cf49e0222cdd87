//! libFuzzer entry point for [`quakelab_fuzz::catalog_csv`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quakelab_fuzz::catalog_csv(data));
