//! libFuzzer entry point for [`quakelab_fuzz::tenv3`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quakelab_fuzz::tenv3(data));
