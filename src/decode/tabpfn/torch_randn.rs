//! PyTorch's CPU `torch.manual_seed(seed); torch.randn(n)` in `float32`, bit for bit (spec
//! Appendix 1): TabPFN draws its "subspace" feature-group embeddings this way (spec A.3 step 4),
//! so a port that wants the checkpoint's numbers must draw the same values.
//!
//! What PyTorch does for a contiguous `float32` tensor of n ≥ 16 values (ATen's `normal_fill`):
//!
//! 1. an MT19937 generator seeded with the seed's low 32 bits (the reference initialisation)
//!    fills all n values with uniforms `(next_u32 & 0xFFFFFF) / 2^24` in [0, 1);
//! 2. each block of 16 is turned into normals by Box–Muller over the pairs (j, j + 8),
//!    j = 0..8: `r = sqrt(-2 ln(1 - u_j))`, `θ = 2π u_{j+8}`, `out_j = r cos θ`,
//!    `out_{j+8} = r sin θ`;
//! 3. when n is not a multiple of 16, 16 fresh uniforms are drawn for the last 16 positions,
//!    which are transformed again (overwriting values of the last full block).
//!
//! The logarithm, sine and cosine are not the C library's: on an x86-64 CPU with AVX2 (the
//! capability PyTorch reports here, and on every current x86 server) step 2 runs through
//! `normal_fill_16_AVX2`, which calls the Cephes-derived `log256_ps` and `sincos256_ps` of
//! `avx_mathfun.h`, compiled with multiply–add contraction. Those polynomials are written out
//! below one lane at a time, with `mul_add` exactly where the compiled kernel fuses, so that
//! every value equals PyTorch's; the fixture test compares all bits.

/// PyTorch's CPU `torch.manual_seed(seed); torch.randn(n)` (float32), bit-exact for n ≥ 16.
///
/// For n < 16 PyTorch takes another path (scalar Box–Muller in double precision with a cached
/// second value), which TabPFN never reaches (its draws are G · emsize/4 values, a multiple
/// of 16 for the official width); this function then draws a full block of 16 and returns its
/// first n values, which are *not* PyTorch's.
pub fn torch_randn(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = Mt19937::new(seed);
    let len = n.max(16);
    let mut out: Vec<f32> = (0..len).map(|_| rng.uniform()).collect();
    for block in out.chunks_exact_mut(16) {
        box_muller_16(block);
    }
    if !len.is_multiple_of(16) {
        let tail = &mut out[len - 16..];
        for v in tail.iter_mut() {
            *v = rng.uniform();
        }
        box_muller_16(tail);
    }
    out.truncate(n);
    out
}

/// The 32-bit Mersenne twister (Matsumoto and Nishimura 1998) with the reference seeding, as
/// PyTorch's `at::mt19937`.
struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    const N: usize = 624;
    const M: usize = 397;

    fn new(seed: u64) -> Mt19937 {
        let mut state = [0u32; Self::N];
        // PyTorch keeps the seed's low 32 bits.
        state[0] = seed as u32;
        for i in 1..Self::N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 {
            state,
            index: Self::N,
        }
    }

    fn next_u32(&mut self) -> u32 {
        if self.index == Self::N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        for i in 0..Self::N {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % Self::N] & 0x7fff_ffff);
            let mut next = y >> 1;
            if y & 1 == 1 {
                next ^= 0x9908_b0df;
            }
            self.state[i] = self.state[(i + Self::M) % Self::N] ^ next;
        }
        self.index = 0;
    }

    /// A uniform in [0, 1) with 24 random bits: `uniform_real_distribution<float>(0, 1)`.
    fn uniform(&mut self) -> f32 {
        (self.next_u32() & 0x00ff_ffff) as f32 * (1.0 / 16_777_216.0)
    }
}

/// Box–Muller on one block of 16 uniforms, in place (`normal_fill_16_AVX2`, mean 0, std 1).
fn box_muller_16(block: &mut [f32]) {
    // `_mm256_set1_ps(2.0f * c10::pi<double>)`: 2π in double, rounded to float.
    let two_pi = (2.0 * std::f64::consts::PI) as f32;
    for j in 0..8 {
        let u1 = 1.0 - block[j];
        let u2 = block[j + 8];
        let radius = (-2.0 * cephes_log(u1)).sqrt();
        let (sin, cos) = cephes_sincos(two_pi * u2);
        block[j] = radius * cos;
        block[j + 8] = radius * sin;
    }
}

/// `avx_mathfun.h`'s `log256_ps` for one positive lane: the exponent split off, the mantissa
/// moved into [√½, √2), and Cephes' degree-9 polynomial for `ln(1 + x)`.
// The constants are avx_mathfun's (Cephes'), digit for digit.
#[allow(clippy::excessive_precision)]
fn cephes_log(value: f32) -> f32 {
    let x = value.max(f32::MIN_POSITIVE);
    let bits = x.to_bits();
    let mut e = ((bits >> 23) as i32 - 0x7f) as f32 + 1.0;
    // The mantissa with the exponent of 0.5: a value in [0.5, 1).
    let mut m = f32::from_bits((bits & !0x7f80_0000) | 0.5f32.to_bits());
    let below = m < std::f32::consts::FRAC_1_SQRT_2;
    let tmp = if below { m } else { 0.0 };
    m -= 1.0;
    if below {
        e -= 1.0;
    }
    m += tmp;
    let z = m * m;
    let mut y = 7.0376836292e-2f32;
    for c in [
        -1.1514610310e-1f32,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    ] {
        y = y.mul_add(m, c);
    }
    y *= m;
    y = y.mul_add(z, e * -2.12194440e-4);
    y = z.mul_add(-0.5, y);
    let m = m + y;
    e.mul_add(0.693359375, m)
}

/// `avx_mathfun.h`'s `sincos256_ps` for one lane: reduction by multiples of π/4 in three parts
/// (Cody–Waite), then Cephes' sine and cosine polynomials on [-π/4, π/4]. Returns (sin, cos).
#[allow(clippy::excessive_precision)]
fn cephes_sincos(theta: f32) -> (f32, f32) {
    let mut sign_sin = theta.to_bits() & 0x8000_0000;
    let x = f32::from_bits(theta.to_bits() & 0x7fff_ffff);
    // 4/π, truncated to an integer (cvttps) and rounded up to even.
    let octant = (((x * 1.27323954473516f32) as i32) + 1) & !1;
    let y = octant as f32;
    let swap_sign_sin = ((octant & 4) as u32) << 29;
    let use_sin_poly = octant & 2 == 0;
    let sign_cos = ((!(octant - 2) & 4) as u32) << 29;
    sign_sin ^= swap_sign_sin;

    let x = y.mul_add(-0.785_156_25, x);
    let x = y.mul_add(-2.4187564849853515625e-4, x);
    let x = y.mul_add(-3.77489497744594108e-8, x);
    let z = x * x;

    let mut cos_poly = 2.443315711809948e-5f32.mul_add(z, -1.388731625493765e-3);
    cos_poly = cos_poly.mul_add(z, 4.166664568298827e-2);
    cos_poly *= z;
    let half_z = z * 0.5;
    cos_poly = cos_poly.mul_add(z, -half_z);
    cos_poly += 1.0;

    let mut sin_poly = (-1.9515295891e-4f32).mul_add(z, 8.3321608736e-3);
    sin_poly = sin_poly.mul_add(z, -1.6666654611e-1);
    sin_poly *= z;
    sin_poly = sin_poly.mul_add(x, x);

    // The kernel selects by masks and adds the zero other half: the same values.
    let (sin_part, cos_part) = if use_sin_poly {
        (0.0 + sin_poly, cos_poly + 0.0)
    } else {
        (cos_poly + 0.0, 0.0 + sin_poly)
    };
    (
        f32::from_bits(sin_part.to_bits() ^ sign_sin),
        f32::from_bits(cos_part.to_bits() ^ sign_cos),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_zero_gives_pytorchs_published_values() {
        // PyTorch's documentation and countless notebooks: torch.manual_seed(0);
        // torch.randn(4, 4), printed to four decimals.
        let expected = [
            -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.6920, -0.3160, -2.1152, 0.3223, -1.2633,
            0.3500, 0.3081, 0.1198, 1.2377, 1.1168, -0.2473,
        ];
        let found = torch_randn(0, 16);
        for (f, e) in found.iter().zip(expected) {
            assert!((f - e).abs() < 5e-5, "{found:?}");
        }
    }

    #[test]
    fn the_mersenne_twister_matches_the_reference_output() {
        // Matsumoto's mt19937ar reference: the 10000th output for seed 5489 is 4123659995.
        let mut rng = Mt19937::new(5489);
        let mut last = 0;
        for _ in 0..10_000 {
            last = rng.next_u32();
        }
        assert_eq!(last, 4_123_659_995);
    }

    #[test]
    fn the_cephes_functions_are_accurate() {
        for i in 1..2000 {
            let u = i as f32 / 2000.0;
            assert!((cephes_log(u) - u.ln()).abs() <= 2.0 * f32::EPSILON * u.ln().abs().max(1.0));
            let theta = u * std::f32::consts::TAU;
            let (s, c) = cephes_sincos(theta);
            assert!((s - theta.sin()).abs() < 3e-7 && (c - theta.cos()).abs() < 3e-7);
        }
    }
}
