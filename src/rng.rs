//! Reproducible randomness: one named stream per stage, all derived from the experiment seed.
//!
//! `stream(seed, "synth.etas")` always gives the same generator for the same seed and name, and
//! different names give independent-looking streams, so adding randomness to one stage never
//! shifts the numbers of another.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator for stage `name` under experiment seed `seed`.
pub fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(seed, name))
}

/// The seed of stage `name` under experiment seed `seed`, for code that seeds its own
/// generator (a decoder's fit, a library that takes a `u64`). [`stream`] seeds its generator
/// with exactly this value.
pub fn derive_seed(seed: u64, name: &str) -> u64 {
    mix(seed, name)
}

/// FNV-1a over the name, folded with the seed through SplitMix64's finaliser. Stable across
/// Rust releases, unlike `std`'s `DefaultHasher`.
fn mix(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = seed ^ h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn same_name_same_stream_other_name_other_stream() {
        let a = stream(7, "synth.etas").next_u64();
        assert_eq!(a, stream(7, "synth.etas").next_u64());
        assert_ne!(a, stream(7, "synth.gnss").next_u64());
        assert_ne!(a, stream(8, "synth.etas").next_u64());
    }

    #[test]
    fn derived_seed_is_the_seed_of_the_stream() {
        let seed = derive_seed(7, "decode.random.ridge");
        assert_eq!(
            ChaCha8Rng::seed_from_u64(seed).next_u64(),
            stream(7, "decode.random.ridge").next_u64()
        );
        assert_ne!(seed, derive_seed(7, "decode.random.random_forest"));
        assert_ne!(seed, derive_seed(8, "decode.random.ridge"));
    }
}
