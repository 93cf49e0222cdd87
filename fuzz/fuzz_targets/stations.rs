//! libFuzzer entry point for [`quakelab_fuzz::stations`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quakelab_fuzz::stations(data));
