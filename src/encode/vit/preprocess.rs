//! From GNSS displacement images (mm) to ViT pixels: a symmetric scale fitted on training days,
//! then a bilinear resize to the model's input size (spec §E.5).
//!
//! The ViT was pretrained on natural images normalised to [−1, 1] with mid-grey at 0. A
//! displacement image is mapped into that range so that 0 mm stays 0 and the sign of a motion is
//! kept: `pixel = clip(d / s, −1, 1)`, with one scale `s` for all three channels (N, E, U keep
//! their relative amplitudes), the `percentile`-th percentile of |d| over the training days'
//! images ([`percentile_scale`]). Per-image normalisation would discard the absolute amplitude,
//! which is the signal. The scaled 50 × 50 image is then resized to the model's square input
//! (224 for ViT-B/16) by [`resize_bilinear`], the three channels becoming R, G and B.

use crate::encode::{BatchShape, ImageBatch};
use crate::gnss::stack::ImageStack;
use crate::{Error, Result};

/// The `percentile`-th percentile (0 < p ≤ 100) of the absolute values of the images of `days`,
/// by NumPy's default rule (linear interpolation between the two nearest ranks).
///
/// Missing (non-finite) values are skipped and do not count; a set of days with no finite
/// value, or whose percentile is 0 (all images blank), has no scale and is an error.
pub fn percentile_scale(stack: &ImageStack, days: &[usize], percentile: f64) -> Result<f32> {
    if !(percentile > 0.0 && percentile <= 100.0) {
        return Err(Error::config(
            "encoder.vit.scale_percentile",
            format!("must lie in (0, 100], got {percentile}"),
        ));
    }
    let mut values = Vec::new();
    for &day in days {
        if day >= stack.n_days() {
            return Err(Error::Numerical(format!(
                "scale fit: day {day} is beyond the stack's {} days",
                stack.n_days()
            )));
        }
        values.extend(
            stack
                .day(day)
                .iter()
                .filter(|v| v.is_finite())
                .map(|v| v.abs()),
        );
    }
    let scale = percentile_of(&mut values, percentile).ok_or_else(|| {
        Error::Numerical(format!(
            "scale fit: the {} training days' images hold no finite value",
            days.len()
        ))
    })?;
    if scale > 0.0 {
        Ok(scale)
    } else {
        Err(Error::Numerical(format!(
            "scale fit: the {percentile}th percentile of |displacement| over the {} training days \
             is 0 mm (blank images); there is nothing to scale",
            days.len()
        )))
    }
}

/// The `p`-th percentile of `values` (reordered in place), NumPy's `linear` method: the value
/// at rank `(p / 100) · (n − 1)`, interpolated between its neighbours. `None` when empty.
pub fn percentile_of(values: &mut [f32], p: f64) -> Option<f32> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let rank = p / 100.0 * (n - 1) as f64;
    let lo = rank.floor() as usize;
    let frac = rank - lo as f64;
    let (_, &mut below, above) = values.select_nth_unstable_by(lo, f32::total_cmp);
    let next = above
        .iter()
        .copied()
        .min_by(f32::total_cmp)
        .unwrap_or(below);
    Some((f64::from(below) + frac * (f64::from(next) - f64::from(below))) as f32)
}

/// Divides every value by `scale` and clips the result to [−1, 1], in place.
pub fn scale_symmetric(values: &mut [f32], scale: f32) {
    let inverse = 1.0 / scale;
    for v in values {
        *v = (*v * inverse).clamp(-1.0, 1.0);
    }
}

/// Resizes every image of `batch` to `height` × `width` by bilinear interpolation with
/// half-pixel centres: output pixel `i` samples the input at `(i + 0.5) · in / out − 0.5`,
/// clamped to the image (PyTorch's `interpolate(mode="bilinear", align_corners=False)`, without
/// antialiasing).
pub fn resize_bilinear(
    batch: &ImageBatch<'_>,
    height: usize,
    width: usize,
) -> Result<ImageBatch<'static>> {
    let shape = batch.shape();
    let rows = taps(shape.height, height);
    let cols = taps(shape.width, width);
    let mut out = Vec::with_capacity(shape.n * shape.channels * height * width);
    let plane = shape.height * shape.width;
    for image in batch.data().chunks_exact(shape.channels * plane) {
        for channel in image.chunks_exact(plane) {
            for &(r0, r1, wr) in &rows {
                let (top, bottom) = (
                    &channel[r0 * shape.width..][..shape.width],
                    &channel[r1 * shape.width..][..shape.width],
                );
                for &(c0, c1, wc) in &cols {
                    let t = top[c0] + wc * (top[c1] - top[c0]);
                    let b = bottom[c0] + wc * (bottom[c1] - bottom[c0]);
                    out.push(t + wr * (b - t));
                }
            }
        }
    }
    ImageBatch::new(
        out,
        BatchShape {
            height,
            width,
            ..shape
        },
    )
}

/// For each of `output` positions, the two input positions it lies between and the weight
/// of the second.
fn taps(input: usize, output: usize) -> Vec<(usize, usize, f32)> {
    let ratio = input as f64 / output as f64;
    (0..output)
        .map(|i| {
            let src = ((i as f64 + 0.5) * ratio - 0.5).max(0.0);
            let lo = (src.floor() as usize).min(input - 1);
            let hi = (lo + 1).min(input - 1);
            (lo, hi, (src - lo as f64) as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_numpy_linear_rule() {
        // np.percentile([1, 2, 3, 4], 50) = 2.5; 100 -> 4; 25 -> 1.75.
        for (p, expected) in [(50.0, 2.5), (100.0, 4.0), (25.0, 1.75)] {
            let mut v = [4.0, 1.0, 3.0, 2.0];
            assert_eq!(percentile_of(&mut v, p), Some(expected));
        }
        assert_eq!(percentile_of(&mut [], 50.0), None);
    }

    #[test]
    fn scaling_keeps_zero_and_sign_and_clips() {
        let mut v = [0.0, 2.0, -2.0, 8.0, -8.0];
        scale_symmetric(&mut v, 4.0);
        assert_eq!(v, [0.0, 0.5, -0.5, 1.0, -1.0]);
    }

    #[test]
    fn a_ramp_resizes_to_the_sampled_positions() {
        // f(x) = x on 4 columns, resized to 8: bilinear interpolation of a linear function is
        // the function at the sampling position (i + 0.5) / 2 − 0.5, clamped to [0, 3].
        let data: Vec<f32> = (0..2).flat_map(|_| (0..4).map(|c| c as f32)).collect();
        let shape = BatchShape {
            n: 1,
            channels: 1,
            height: 2,
            width: 4,
        };
        let batch = ImageBatch::new(data, shape).unwrap();
        let out = resize_bilinear(&batch, 3, 8).unwrap();
        let expected: Vec<f32> = (0..8)
            .map(|i| ((i as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, 3.0))
            .collect();
        for row in out.data().chunks(8) {
            assert_eq!(row, &expected[..]);
        }
        assert_eq!(out.shape().height, 3);
    }

    #[test]
    fn same_size_is_the_identity() {
        let data: Vec<f32> = (0..18).map(|v| (v * v) as f32).collect();
        let shape = BatchShape {
            n: 2,
            channels: 1,
            height: 3,
            width: 3,
        };
        let batch = ImageBatch::new(data.clone(), shape).unwrap();
        assert_eq!(resize_bilinear(&batch, 3, 3).unwrap().data(), &data[..]);
    }
}
