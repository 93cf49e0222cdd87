//! CPU kernels for the two steps of the forward pass that burn-flex runs slowest: attention and
//! the MLP's bias + GELU.
//!
//! burn-flex's attention evaluates one scalar `exp` per score and its GELU runs on one thread
//! (a profile of ViT-B/16 at batch 8 put them at about a quarter of a block's time against the
//! three matrix products that dominate it). On the CPU the model therefore runs these two steps
//! here, on the tensors' host memory: attention reads query, key and value in place from the
//! fused `[N·T, 3D]` projection and writes the context straight into `[N·T, D]` rows (no head
//! transposes), with the products done by faer, images in parallel; bias + GELU is one pass,
//! in parallel. Other devices keep burn's operations.

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Scaled dot-product attention for every image and head, from the fused projection `qkv`
/// (`[N·T, 3D]`, each row query | key | value, each of them `heads` blocks of `D / heads`)
/// to the context, `[N·T, D]` with the heads side by side: for each image and head,
/// `softmax(Q Kᵀ / √d) V` (spec §E.3).
pub fn attention(qkv: &[f32], tokens: usize, width: usize, heads: usize) -> Vec<f32> {
    let head_dim = width / heads;
    let scale = 1.0 / (head_dim as f32).sqrt();
    let image_in = tokens * 3 * width;
    let mut context = vec![0.0f32; qkv.len() / 3];
    context
        .par_chunks_mut(tokens * width)
        .zip(qkv.par_chunks(image_in))
        .for_each(|(out, image)| {
            let mut scores = vec![0.0f32; tokens * tokens];
            let span = (tokens - 1) * 3 * width + head_dim;
            for h in 0..heads {
                let part = |which: usize| {
                    let start = which * width + h * head_dim;
                    MatRef::from_row_major_slice_with_stride(
                        &image[start..start + span],
                        tokens,
                        head_dim,
                        3 * width,
                    )
                };
                let (q, k, v) = (part(0), part(1), part(2));
                let s = MatMut::from_row_major_slice_mut(&mut scores, tokens, tokens);
                faer::linalg::matmul::matmul(
                    s,
                    Accum::Replace,
                    q,
                    k.transpose(),
                    scale,
                    Par::Seq,
                );
                for row in scores.chunks_exact_mut(tokens) {
                    softmax(row);
                }
                let p = MatRef::from_row_major_slice(&scores, tokens, tokens);
                let start = h * head_dim;
                // faer 0.24's `from_row_major_slice_with_stride_mut` swaps the strides: build
                // the row-major view as the transpose of a column-major one.
                let o = MatMut::from_column_major_slice_with_stride_mut(
                    &mut out[start..start + (tokens - 1) * width + head_dim],
                    head_dim,
                    tokens,
                    width,
                )
                .transpose_mut();
                faer::linalg::matmul::matmul(o, Accum::Replace, p, v, 1.0, Par::Seq);
            }
        });
    context
}

/// `x + bias` (bias broadcast over the rows of `x`, `[rows, bias.len()]`), then the exact GELU
/// `x · Φ(x) = x/2 · (1 + erf(x/√2))`, in place and in parallel.
pub fn bias_gelu(x: &mut [f32], bias: &[f32]) {
    x.par_chunks_mut(bias.len()).for_each(|row| {
        for (v, b) in row.iter_mut().zip(bias) {
            let y = *v + b;
            *v = 0.5 * y * (1.0 + erf(y * std::f32::consts::FRAC_1_SQRT_2));
        }
    });
}

/// A numerically stable softmax of one row, in place.
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = exp(*v - max);
        sum += *v;
    }
    let inverse = 1.0 / sum;
    for v in row.iter_mut() {
        *v *= inverse;
    }
}

/// `eˣ` for `x ≤ 0` (softmax arguments) and the GELU's `e^(−x²)`, to about 2 ulp, in a form
/// the compiler vectorises: `x = n·ln 2 + r` with |r| ≤ ln 2 / 2, `eʳ` by its degree-6 Taylor
/// polynomial, `2ⁿ` built in the exponent bits. Arguments below −87 are taken as −87
/// (e⁻⁸⁷ ≈ 1.6e-38, the smallest normal float's order).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.max(-87.0);
    let n = (x * std::f32::consts::LOG2_E).round();
    // ln 2 split in two for an exact reduction (Cody and Waite).
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The error function to about 3e-7 absolute in `f32` (1.5e-7 for the formula itself): Abramowitz and Stegun's formula 7.1.26,
/// `erf(x) = 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵) e^(−x²)`, `t = 1 / (1 + p|x|)`, odd in x.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_to_a_few_ulp() {
        for i in 0..=2000 {
            let x = -(i as f32) * 0.04;
            let (fast, exact) = (exp(x), x.exp());
            assert!(
                (fast - exact).abs() <= 4.0 * f32::EPSILON * exact,
                "{x}: {fast} vs {exact}"
            );
        }
        assert!(exp(-200.0) < 1e-37);
    }

    #[test]
    fn erf_matches_libm_to_its_stated_accuracy() {
        for i in -400..=400 {
            let x = i as f32 * 0.01;
            let exact = libm::erf(f64::from(x));
            let error = (f64::from(erf(x)) - exact).abs();
            assert!(error < 4e-7, "{x}: {error}");
        }
    }

    #[test]
    fn attention_of_one_token_returns_its_value() {
        // With one token the softmax is 1: the context is the value, whatever q and k are.
        let (width, heads) = (4, 2);
        let qkv = [0.3, -1.0, 2.0, 0.5, 1.0, 1.0, -2.0, 7.0, 9.0, 8.0, 7.0, 6.0];
        assert_eq!(attention(&qkv, 1, width, heads), vec![9.0, 8.0, 7.0, 6.0]);
    }
}
