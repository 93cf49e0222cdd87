//! What an [`ImageEncoder`] receives: a batch of images,
//! N x C x H x W `f32` in C order, and the context it runs in (batch size, device, seed).
//!
//! The layout is the one image models take (the ViT on GNSS images, VGG-12 on geomagnetic
//! maps), so a batch is handed to them as is. [`encode_stack`] streams the chosen days of a
//! GNSS [`ImageStack`] through an encoder `batch_size` images at a time, so the stack is never
//! copied whole.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroUsize;

use faer::Mat;

use crate::device::Device;
use crate::encode::ImageEncoder;
use crate::gnss::stack::ImageStack;
use crate::{Error, Result};

/// The shape of a batch: `n` images of `channels x height x width` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchShape {
    /// Images in the batch (may be 0).
    pub n: usize,
    /// Channels per image (3 for the N, E, U displacements of a GNSS image).
    pub channels: usize,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
}

impl BatchShape {
    /// Values per image, `channels · height · width`, if it fits a `usize`.
    pub fn image_len(&self) -> Option<usize> {
        self.channels
            .checked_mul(self.height)?
            .checked_mul(self.width)
    }

    /// Values in the batch, `n · channels · height · width`, if it fits a `usize`.
    pub fn len(&self) -> Option<usize> {
        self.image_len()?.checked_mul(self.n)
    }

    /// Whether the batch holds no image.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

impl fmt::Display for BatchShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} x {} x {} x {}",
            self.n, self.channels, self.height, self.width
        )
    }
}

/// A batch of images, N x C x H x W `f32` in C order, borrowed or owned.
///
/// Construction checks that the data has exactly the values the shape needs, so an encoder can
/// index it without further checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageBatch<'a> {
    data: Cow<'a, [f32]>,
    shape: BatchShape,
}

impl<'a> ImageBatch<'a> {
    /// A batch of `shape` over `data` (a borrowed slice or an owned `Vec<f32>`).
    ///
    /// Refuses a zero channel, height or width, and data whose length is not
    /// `n · channels · height · width`; the error names both.
    pub fn new(data: impl Into<Cow<'a, [f32]>>, shape: BatchShape) -> Result<Self> {
        let data = data.into();
        if shape.channels == 0 || shape.height == 0 || shape.width == 0 {
            return Err(Error::Numerical(format!(
                "image batch: shape {shape} (N x C x H x W) has an empty image dimension"
            )));
        }
        match shape.len() {
            Some(expected) if expected == data.len() => Ok(ImageBatch { data, shape }),
            Some(expected) => Err(Error::Numerical(format!(
                "image batch: shape {shape} (N x C x H x W) needs {expected} values, got {}",
                data.len()
            ))),
            None => Err(Error::Numerical(format!(
                "image batch: shape {shape} (N x C x H x W) has more values than memory can hold"
            ))),
        }
    }

    /// The images of `days` of a GNSS stack, channel-major (C = 3: N, E, U).
    ///
    /// Refuses a day beyond the stack, and an image with a missing (non-finite) value, naming
    /// its date: the daily table drops such days, so none should reach an encoder, and none is
    /// ever filled in.
    pub fn from_stack(stack: &ImageStack, days: &[usize]) -> Result<ImageBatch<'static>> {
        let [_, height, width, channels] = stack.shape();
        let mut data = Vec::new();
        stack.extend_nchw(days, &mut data)?;
        let image_len = channels * height * width;
        for (image, &day) in data.chunks_exact(image_len).zip(days) {
            ensure_complete(stack, day, image)?;
        }
        ImageBatch::new(
            data,
            BatchShape {
                n: days.len(),
                channels,
                height,
                width,
            },
        )
    }

    /// The shape.
    pub fn shape(&self) -> BatchShape {
        self.shape
    }

    /// The number of images, N.
    pub fn n(&self) -> usize {
        self.shape.n
    }

    /// All values in C order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Image `i`, `channels · height · width` values in C order, if `i < n`.
    pub fn image(&self, i: usize) -> Option<&[f32]> {
        // Construction checked that n images of this length fill the data exactly.
        let len = self.shape.channels * self.shape.height * self.shape.width;
        (i < self.n()).then(|| &self.data[i * len..(i + 1) * len])
    }
}

/// Refuses the image of `day` of `stack` (its values in any order) when a value is missing,
/// naming its date: the daily table drops such days, so none should reach an encoder, and
/// none is ever filled in.
pub(crate) fn ensure_complete(stack: &ImageStack, day: usize, image: &[f32]) -> Result<()> {
    let missing = image.iter().filter(|v| !v.is_finite()).count();
    if missing > 0 {
        return Err(Error::Numerical(format!(
            "the GNSS image of {} (day {day}) has {missing} missing values of {}; days with \
             missing cells are dropped from the daily table, never filled",
            stack.period().date(day),
            image.len()
        )));
    }
    Ok(())
}

/// How an encoder runs: how many images at a time, on which device, with which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeContext {
    /// The most images an encoder processes at once (and [`encode_stack`] copies at once).
    pub batch_size: NonZeroUsize,
    /// Where the arithmetic runs.
    pub device: Device,
    /// The experiment seed. An encoder with randomness (drop-out, random initialisation) draws
    /// from its own stream, [`crate::rng::stream`]`(seed, "encode.NAME")`.
    pub seed: u64,
}

impl EncodeContext {
    /// A context; a zero `batch_size` is refused (key `encoder.batch_size`).
    pub fn new(batch_size: usize, device: Device, seed: u64) -> Result<Self> {
        let batch_size = NonZeroUsize::new(batch_size)
            .ok_or_else(|| Error::config("encoder.batch_size", "must be at least 1, got 0"))?;
        Ok(EncodeContext {
            batch_size,
            device,
            seed,
        })
    }
}

/// Encodes the images of `days` (indices into `stack`), one feature row per day in that
/// order, `ctx.batch_size` images at a time.
///
/// Every batch must give one row per image and the same number of columns; an encoder that
/// does not is an [`Error::Numerical`] naming it.
pub fn encode_stack(
    encoder: &dyn ImageEncoder,
    stack: &ImageStack,
    days: &[usize],
    ctx: &EncodeContext,
) -> Result<Mat<f64>> {
    let mut out: Option<Mat<f64>> = None;
    let mut row = 0;
    for chunk in days.chunks(ctx.batch_size.get()) {
        let batch = ImageBatch::from_stack(stack, chunk)?;
        let features = encoder.encode(&batch, ctx)?;
        let out = out.get_or_insert_with(|| Mat::zeros(days.len(), features.ncols()));
        if features.nrows() != chunk.len() || features.ncols() != out.ncols() {
            return Err(Error::Numerical(format!(
                "encoder `{}` gave {} x {} features for a batch of {} images (expected {} \
                 columns)",
                encoder.name(),
                features.nrows(),
                features.ncols(),
                chunk.len(),
                out.ncols()
            )));
        }
        out.subrows_mut(row, chunk.len()).copy_from(&features);
        row += chunk.len();
    }
    match out {
        Some(out) => Ok(out),
        None => {
            let empty = ImageBatch::from_stack(stack, &[])?;
            encoder.encode(&empty, ctx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(n: usize, channels: usize, height: usize, width: usize) -> BatchShape {
        BatchShape {
            n,
            channels,
            height,
            width,
        }
    }

    #[test]
    fn a_shape_mismatch_names_both_sizes() {
        let data = [0.0_f32; 23];
        let err = ImageBatch::new(&data[..], shape(2, 3, 2, 2)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image batch: shape 2 x 3 x 2 x 2 (N x C x H x W) needs 24 values, got 23"
        );
        assert!(ImageBatch::new(&data[..0], shape(0, 0, 2, 2)).is_err());
        let overflow = shape(usize::MAX, 2, 2, 2);
        assert!(ImageBatch::new(&data[..], overflow).is_err());
    }

    #[test]
    fn images_are_contiguous_slices() {
        let data: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let batch = ImageBatch::new(data, shape(3, 1, 2, 2)).unwrap();
        assert_eq!(batch.image(1), Some(&[4.0, 5.0, 6.0, 7.0][..]));
        assert_eq!(batch.image(3), None);
        assert_eq!(batch.n(), 3);
    }

    #[test]
    fn a_zero_batch_size_names_its_key() {
        let err = EncodeContext::new(0, Device::Cpu, 1).unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "encoder.batch_size"));
    }
}
