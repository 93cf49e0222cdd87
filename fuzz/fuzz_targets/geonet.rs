//! libFuzzer entry point for [`quakelab_fuzz::geonet`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quakelab_fuzz::geonet(data));
