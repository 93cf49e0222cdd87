//! Augmented copies of training images (papers.md §B): brightness, contrast and horizontal
//! flip only.
//!
//! A contour map's rows run from the north edge (row 0) to the south edge, and the classes say
//! whether an event is north or south of the network; a vertical flip or a rotation would move
//! a northern anomaly south and so change the class. Neither is ever applied. A horizontal flip
//! (east and west swapped) keeps the north/south direction, as the paper's augmentation does.
//!
//! Each copy of an image, independently, is
//!
//! 1. flipped left-right with probability 1/2 (when `hflip` is on),
//! 2. contrast-scaled about its own mean, per channel: `v' = m + c (v - m)`, with
//!    `c ~ U(1 - contrast, 1 + contrast)`,
//! 3. brightness-shifted: `v'' = v' + b`, with `b ~ U(-brightness, brightness)`,
//! 4. clamped to [0, 1], the range of a rendered map.
//!
//! Sources must already lie in [0, 1] (a value outside is refused, never clamped silently), so
//! the clamp acts only on what the shift and the scaling push out.

use rand::Rng;

use crate::encode::{BatchShape, ImageBatch};
use crate::{Error, Result};

/// How many augmented copies to make and how strong they are.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentSettings {
    /// Augmented copies made of each image, beside the image itself.
    pub copies: usize,
    /// Largest additive brightness shift (images are in [0, 1]), at least 0.
    pub brightness: f64,
    /// Largest relative contrast change: the factor is drawn from `[1 - contrast, 1 +
    /// contrast]`, so `contrast` is in [0, 1).
    pub contrast: f64,
    /// Whether copies may be flipped left-right (never up-down).
    pub hflip: bool,
}

impl Default for AugmentSettings {
    /// Four copies per image (the paper grows 334 maps to 1649, about five images per map),
    /// brightness ±0.1, contrast ±20 %, flips on.
    fn default() -> Self {
        AugmentSettings {
            copies: 4,
            brightness: 0.1,
            contrast: 0.2,
            hflip: true,
        }
    }
}

impl AugmentSettings {
    /// Refuses a negative or non-finite brightness and a contrast outside [0, 1), naming the
    /// key (`classify.augment.KEY`).
    pub fn check(&self) -> Result<()> {
        if !(self.brightness.is_finite() && self.brightness >= 0.0) {
            return Err(Error::config(
                "classify.augment.brightness",
                format!(
                    "must be a finite shift of at least 0, got {}",
                    self.brightness
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.contrast) {
            return Err(Error::config(
                "classify.augment.contrast",
                format!(
                    "must be in [0, 1) (the factor is drawn from [1 - contrast, 1 + contrast]), \
                     got {}",
                    self.contrast
                ),
            ));
        }
        Ok(())
    }
}

/// Images with their augmented copies: every source image unchanged, then its copies.
#[derive(Debug, Clone)]
pub struct Augmented {
    /// `n · (1 + copies)` images of the sources' shape.
    pub images: ImageBatch<'static>,
    /// The class of each output image (its source's).
    pub labels: Vec<usize>,
    /// The index in the source batch of each output image.
    pub sources: Vec<usize>,
}

/// Each image of `images` followed by `settings.copies` augmented copies (see the module doc),
/// drawn from `rng`, with its label and source index.
///
/// Refuses `labels` of another length than the batch, a source value outside [0, 1] or
/// non-finite (naming the image), and bad settings.
pub fn augment(
    images: &ImageBatch,
    labels: &[usize],
    settings: &AugmentSettings,
    rng: &mut impl Rng,
) -> Result<Augmented> {
    settings.check()?;
    let shape = images.shape();
    if labels.len() != shape.n {
        return Err(Error::Numerical(format!(
            "augment: {} labels for {} images",
            labels.len(),
            shape.n
        )));
    }
    let per_source = 1 + settings.copies;
    let mut data = Vec::with_capacity(images.data().len() * per_source);
    let mut out_labels = Vec::with_capacity(shape.n * per_source);
    let mut sources = Vec::with_capacity(shape.n * per_source);
    for (i, &label) in labels.iter().enumerate() {
        let Some(image) = images.image(i) else {
            continue;
        };
        if let Some(bad) = image.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(Error::Numerical(format!(
                "augment: image {i} has the value {bad}, outside [0, 1]; images are rendered \
                 maps in [0, 1], and none is clamped before augmentation"
            )));
        }
        for copy in 0..per_source {
            let start = data.len();
            data.extend_from_slice(image);
            if copy > 0 {
                transform(&mut data[start..], shape, settings, rng);
            }
            out_labels.push(label);
            sources.push(i);
        }
    }
    let images = ImageBatch::new(
        data,
        BatchShape {
            n: sources.len(),
            ..shape
        },
    )?;
    Ok(Augmented {
        images,
        labels: out_labels,
        sources,
    })
}

/// One copy's flip, contrast, brightness and clamp, in place on one image.
fn transform(image: &mut [f32], shape: BatchShape, settings: &AugmentSettings, rng: &mut impl Rng) {
    let flip = settings.hflip && rng.random_bool(0.5);
    let contrast = 1.0 + rng.random_range(-1.0..=1.0) * settings.contrast;
    let brightness = rng.random_range(-1.0..=1.0) * settings.brightness;
    let plane = shape.height * shape.width;
    for channel in image.chunks_exact_mut(plane) {
        if flip {
            for row in channel.chunks_exact_mut(shape.width) {
                row.reverse();
            }
        }
        let mean = channel.iter().map(|&v| f64::from(v)).sum::<f64>() / plane as f64;
        for v in channel.iter_mut() {
            let scaled = mean + contrast * (f64::from(*v) - mean) + brightness;
            *v = scaled.clamp(0.0, 1.0) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(data: Vec<f32>, n: usize, height: usize, width: usize) -> ImageBatch<'static> {
        ImageBatch::new(
            data,
            BatchShape {
                n,
                channels: 1,
                height,
                width,
            },
        )
        .unwrap()
    }

    #[test]
    fn a_negative_brightness_is_refused() {
        let settings = AugmentSettings {
            brightness: -0.1,
            ..AugmentSettings::default()
        };
        let err = settings.check().unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "classify.augment.brightness"));
    }

    #[test]
    fn a_contrast_of_one_is_refused() {
        let settings = AugmentSettings {
            contrast: 1.0,
            ..AugmentSettings::default()
        };
        let err = settings.check().unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "classify.augment.contrast"));
    }

    #[test]
    fn labels_of_another_length_than_the_batch_are_refused() {
        let images = batch(vec![0.5; 8], 2, 2, 2);
        let mut rng = crate::rng::stream(1, "test");
        let err = augment(&images, &[0], &AugmentSettings::default(), &mut rng).unwrap_err();
        assert_eq!(err.to_string(), "augment: 1 labels for 2 images");
    }

    #[test]
    fn a_source_value_outside_the_unit_range_is_refused() {
        let images = batch(vec![0.5, 0.5, 1.5, 0.5], 1, 2, 2);
        let mut rng = crate::rng::stream(1, "test");
        let err = augment(&images, &[0], &AugmentSettings::default(), &mut rng).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("image 0") && message.contains("1.5"),
            "{message}"
        );
    }
}
