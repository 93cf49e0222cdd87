//! Scaled dot-product attention on the CPU, fused and blocked: for every independent problem
//! (a token column and head, or a row and head) and every block of [`BLOCK`] query rows, the
//! scores `Q_blk Kᵀ · scale` are one small matrix product into a scratch buffer that stays in
//! cache, the softmax runs in place on each row (max-subtracted, in single precision), and
//! `P V` is a second product straight into the output block; each output row is divided by
//! its row's sum of exponentials at the end. Blocks run in parallel on rayon's threads.
//!
//! This replaces burn-flex's attention on the CPU, whose long-sequence path walks the keys
//! one tile at a time without matrix products.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Query rows per block: the block's scores (`BLOCK · s_k` values) stay in the L2 cache for
/// the sequence lengths TabPFN meets (a few thousand training rows).
const BLOCK: usize = 64;

/// The shape of a batch of attention problems: `batches` independent problems, each with
/// `queries` query rows, `keys` key and value rows, all of width `head_dim`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Independent problems.
    pub batches: usize,
    /// Query rows per problem.
    pub queries: usize,
    /// Key (and value) rows per problem.
    pub keys: usize,
    /// Width of every query, key and value row.
    pub head_dim: usize,
}

/// `softmax(Q Kᵀ · scale) V` for every problem of `shape`: `q` is `[batches, queries, d]`,
/// `k` and `v` are `[batches, keys, d]`, all row-major; the result is
/// `[batches, queries, d]` row-major.
pub(crate) fn attention(q: &[f32], k: &[f32], v: &[f32], shape: Shape, scale: f32) -> Vec<f32> {
    let Shape {
        batches,
        queries,
        keys,
        head_dim: d,
    } = shape;
    debug_assert_eq!(q.len(), batches * queries * d);
    debug_assert_eq!(k.len(), batches * keys * d);
    debug_assert_eq!(v.len(), batches * keys * d);
    let mut out = vec![0.0; batches * queries * d];
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(queries * d)
        .enumerate()
        .for_each(|(b, out_b)| {
            let k_b = MatRef::from_row_major_slice(&k[b * keys * d..][..keys * d], keys, d);
            let v_b = MatRef::from_row_major_slice(&v[b * keys * d..][..keys * d], keys, d);
            let q_b = &q[b * queries * d..][..queries * d];
            out_b
                .par_chunks_mut(BLOCK * d)
                .zip(q_b.par_chunks(BLOCK * d))
                .for_each(|(out_blk, q_blk)| block(q_blk, k_b, v_b, out_blk, keys, d, scale));
        });
    out
}

/// One block of query rows `q_blk` (`[rows, d]`) against one problem's keys and values,
/// written to `out_blk` (`[rows, d]`).
fn block(
    q_blk: &[f32],
    k: MatRef<'_, f32>,
    v: MatRef<'_, f32>,
    out_blk: &mut [f32],
    keys: usize,
    d: usize,
    scale: f32,
) {
    let rows = q_blk.len() / d;
    let mut scores = vec![0.0f32; rows * keys];
    matmul(
        MatMut::from_row_major_slice_mut(&mut scores, rows, keys),
        Accum::Replace,
        MatRef::from_row_major_slice(q_blk, rows, d),
        k.transpose(),
        scale,
        Par::Seq,
    );
    let sums: Vec<f32> = scores.chunks_exact_mut(keys).map(softmax_row).collect();
    matmul(
        MatMut::from_row_major_slice_mut(out_blk, rows, d),
        Accum::Replace,
        MatRef::from_row_major_slice(&scores, rows, keys),
        v,
        1.0,
        Par::Seq,
    );
    for (row, sum) in out_blk.chunks_exact_mut(d).zip(&sums) {
        let inverse = 1.0 / sum;
        for o in row {
            *o *= inverse;
        }
    }
}

/// Lanes of the hand-unrolled loops below: eight independent accumulators, so that the
/// compiler can keep them in vector registers.
const LANES: usize = 8;

/// [`exp_shifted`] on one row of scores, eight lanes at a time where the processor has AVX2
/// (the same operations in the same order per lane, so the same results), else four.
fn softmax_row(row: &mut [f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        return unsafe { exp_shifted_avx2(row) };
    }
    exp_shifted(row)
}

/// [`exp_shifted`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn exp_shifted_avx2(row: &mut [f32]) -> f32 {
    exp_shifted(row)
}

/// Replaces every score of `row` by `exp(score − max(row))` and returns their sum.
#[inline(always)]
fn exp_shifted(row: &mut [f32]) -> f32 {
    let mut maxima = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (m, &s) in maxima.iter_mut().zip(chunk) {
            *m = if s > *m { s } else { *m };
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(&maxima)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    let mut sums = [0.0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (total, s) in sums.iter_mut().zip(chunk) {
            *s = exp(*s - max);
            *total += *s;
        }
    }
    let mut sum: f32 = sums.iter().sum();
    for s in chunks.into_remainder() {
        *s = exp(*s - max);
        sum += *s;
    }
    sum
}

/// `eˣ` for `x ≤ 0` in single precision, within about one unit in the last place (Cephes'
/// `expf`: `x = n ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-7 polynomial for `eʳ`, then
/// `2ⁿ` from the exponent bits), written without branches or library calls so that loops
/// over it vectorise. Arguments below −87 give `e⁻⁸⁷` (about 1.6e-38) instead of a
/// subnormal or zero: nothing next to the row's maximum, whose term is 1.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    /// 1.5 · 2²³: adding it rounds a float of magnitude below 2²² to an integer, which then
    /// sits in the low bits of the sum's mantissa.
    const ROUNDER: f32 = 12_582_912.0;
    /// ln 2 in two parts, the first exact in few bits, so that `n · LN2_HI` is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = if x > -87.0 { x } else { -87.0 };
    let shifted = x * std::f32::consts::LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let n_bits = shifted.to_bits().wrapping_sub(ROUNDER.to_bits()) as i32;
    e_r * f32::from_bits(((n_bits + 127) << 23) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_attention_matches_the_definition_written_out() {
        // Two problems, 70 queries (a full block and a partial one), 5 keys, width 3; the
        // reference computes softmax(q·k · scale) · v term by term in double precision.
        let shape = Shape {
            batches: 2,
            queries: 70,
            keys: 5,
            head_dim: 3,
        };
        let value = |i: usize, salt: usize| (((i * 31 + salt * 17) % 23) as f32 - 11.0) / 7.0;
        let q: Vec<f32> = (0..2 * 70 * 3).map(|i| value(i, 1)).collect();
        let k: Vec<f32> = (0..2 * 5 * 3).map(|i| value(i, 2)).collect();
        let v: Vec<f32> = (0..2 * 5 * 3).map(|i| value(i, 3)).collect();
        let scale = 0.6;
        let found = attention(&q, &k, &v, shape, scale);
        for b in 0..2 {
            for i in 0..70 {
                let qi = &q[(b * 70 + i) * 3..][..3];
                let logits: Vec<f64> = (0..5)
                    .map(|j| {
                        let kj = &k[(b * 5 + j) * 3..][..3];
                        let dot: f64 = (0..3).map(|t| f64::from(qi[t] * kj[t])).sum();
                        dot * f64::from(scale)
                    })
                    .collect();
                let weights: Vec<f64> = logits.iter().map(|l| l.exp()).collect();
                let total: f64 = weights.iter().sum();
                for t in 0..3 {
                    let expected: f64 = (0..5)
                        .map(|j| weights[j] / total * f64::from(v[(b * 5 + j) * 3 + t]))
                        .sum();
                    let got = f64::from(found[(b * 70 + i) * 3 + t]);
                    assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
                }
            }
        }
    }

    #[test]
    fn the_exponential_is_within_two_ulps_of_the_library_one() {
        let mut x = 0.0f32;
        while x > -87.0 {
            let (found, expected) = (exp(x), x.exp());
            let ulps = (found.to_bits() as i64 - expected.to_bits() as i64).abs();
            assert!(ulps <= 2, "exp({x}) = {found}, library {expected}");
            x -= 0.000_37;
        }
        assert!(exp(-200.0) < 2e-38);
    }
}
