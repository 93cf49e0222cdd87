//! Image encoders and the transforms fitted on training rows only (paper §2, pitfall P8).
//!
//! An [`ImageEncoder`] turns a batch of images, N x C x H x W `f32` ([`ImageBatch`]), into a
//! feature matrix (one row per image), in the batch size and on the device its
//! [`EncodeContext`] names. The seam knows nothing of GNSS: the ViT (GNSS displacement images)
//! and VGG-12 (geomagnetic-anomaly maps) of later issues share it. [`encode_stack`] streams
//! the chosen days of a GNSS stack through an encoder batch by batch.
//!
//! The GNSS encoders are [`vit::VitEncoder`] (the paper's ViT-B/16: `encoder.kind = "vit"`,
//! configured by `[encoder.vit]`) and [`flatten::FlattenEncoder`] (each image's pixels as one
//! row), both reduced by [`pca::Pca`]. [`pca::Pca`] and [`standardize::Standardizer`] take the
//! rows they are fitted on explicitly, so a fit on anything but the training rows is visible
//! at the call site, and each records how many rows it was fitted on.
//!
//! # Adding an encoder
//!
//! 1. Write `src/encode/NAME.rs` with a type implementing [`ImageEncoder`].
//! 2. Add one line to the `encoders!` list below:
//!    `Variant("NAME", images = true) => |setup, ctx| Ok(Some(Box::new(...)))`; what the
//!    encoder is built from besides its kind goes into [`EncoderSetup`].
//!
//! The enum [`EncoderKind`], its config names (`encoder.kind = "NAME"`), [`EncoderKind::KINDS`]
//! and [`EncoderKind::build`] all come from that line, so they can never disagree.

pub mod batch;
pub mod flatten;
pub mod pca;
pub mod standardize;
pub mod vit;

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub use batch::{BatchShape, EncodeContext, ImageBatch, encode_stack};
pub use flatten::{FlatImages, FlattenEncoder};
pub use pca::{Pca, PcaParams, PcaSolver};
pub use standardize::Standardizer;
pub use vit::{VitEncoder, VitSettings};

/// Maps a batch of images to features.
pub trait ImageEncoder: Send + Sync {
    /// A stable name used in tables and config keys (e.g. `flatten`).
    fn name(&self) -> String;

    /// One row of features per image of `batch`, in batch order. An encoder works through the
    /// batch at most `ctx.batch_size` images at a time, on `ctx.device`.
    fn encode(&self, batch: &ImageBatch<'_>, ctx: &EncodeContext) -> Result<Mat<f64>>;
}

/// Declares [`EncoderKind`] from one line per encoder,
/// `Variant("kind", images = BOOL) => |setup, ctx| construction`, where `images` says whether
/// the kind reads the GNSS images and the construction is a `Result` of `None` (no image
/// features) or `Some(Box<dyn ImageEncoder>)`, built from the [`EncoderSetup`] and the
/// [`EncodeContext`].
macro_rules! encoders {
    ($($(#[$doc:meta])* $variant:ident($kind:literal, images = $images:literal)
        => |$setup:pat_param, $ctx:pat_param| $build:expr,)+) => {
        /// The image encoder, as named by `encoder.kind`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EncoderKind {
            $(
                $(#[$doc])*
                #[serde(rename = $kind)]
                $variant,
            )+
        }

        impl EncoderKind {
            /// The `kind` of every encoder, in declaration order.
            pub const KINDS: &'static [&'static str] = &[$($kind),+];

            /// Every encoder, in declaration order (the same order as [`EncoderKind::KINDS`]).
            pub const ALL: &'static [EncoderKind] = &[$(EncoderKind::$variant),+];

            /// This encoder's `kind`, which is also its [`ImageEncoder::name`].
            pub fn name(self) -> &'static str {
                match self {
                    $(EncoderKind::$variant => $kind,)+
                }
            }

            /// Whether this kind encodes images, so that the run needs them gridded.
            pub fn uses_images(self) -> bool {
                match self {
                    $(EncoderKind::$variant => $images,)+
                }
            }

            /// The encoder, or `None` when this kind uses no images. `setup` carries what an
            /// encoder is built from besides its kind (the ViT's settings and the pixel scale
            /// fitted on the training days); `ctx` the device and seed it runs with.
            pub fn build(
                self,
                setup: &EncoderSetup<'_>,
                ctx: &EncodeContext,
            ) -> Result<Option<Box<dyn ImageEncoder>>> {
                match self {
                    $(EncoderKind::$variant => {
                        let ($setup, $ctx) = (setup, ctx);
                        $build
                    })+
                }
            }
        }
    };
}

/// What building an encoder needs besides its kind ([`EncoderKind::build`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct EncoderSetup<'a> {
    /// The ViT's checked `[encoder.vit]` settings (`vit` only).
    pub vit: Option<&'a VitSettings>,
    /// The ViT's pixel scale in mm, fitted on the training days
    /// ([`vit::preprocess::percentile_scale`]; `vit` only).
    pub scale: Option<f32>,
}

/// The ViT, loaded (or initialised) on `ctx.device` with the pixel scale of `setup`.
fn build_vit(
    setup: &EncoderSetup<'_>,
    ctx: &EncodeContext,
) -> Result<Option<Box<dyn ImageEncoder>>> {
    let settings = setup.vit.ok_or_else(|| {
        Error::config(
            "encoder.vit",
            "the vit encoder is built from its [encoder.vit] settings",
        )
    })?;
    let scale = setup.scale.ok_or_else(|| {
        Error::Numerical(
            "the vit encoder needs the pixel scale fitted on the training days".to_string(),
        )
    })?;
    let model = settings.load(ctx.device, ctx.seed)?;
    Ok(Some(Box::new(VitEncoder::new(
        model,
        settings.output,
        scale,
    )?)))
}

encoders! {
    /// Each image's pixels as one row ([`FlattenEncoder`]).
    Flatten("flatten", images = true) => |_, _| Ok(Some(Box::new(FlattenEncoder))),
    /// The ViT of the paper ([`VitEncoder`], `[encoder.vit]`): one embedding per image.
    Vit("vit", images = true) => |setup, ctx| build_vit(setup, ctx),
    /// No image features: the GNSS images are not even gridded.
    None("none", images = false) => |_, _| Ok(None),
}

impl std::fmt::Display for EncoderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The rows `rows` of `x`, in that order.
pub fn select_rows(x: MatRef<'_, f64>, rows: &[usize]) -> Result<Mat<f64>> {
    if let Some(&r) = rows.iter().find(|&&r| r >= x.nrows()) {
        return Err(Error::Numerical(format!(
            "row {r} out of range for a matrix of {} rows",
            x.nrows()
        )));
    }
    Ok(Mat::from_fn(rows.len(), x.ncols(), |i, j| x[(rows[i], j)]))
}

/// A feature matrix as the transforms fitted on training rows read it: a stored matrix
/// (`MatRef<f64>`) or a view that widens its rows on demand ([`FlatImages`]), so that a large
/// encoded matrix need not be held in `f64` besides the data it is read from.
pub trait FeatureRows {
    /// The number of rows.
    fn nrows(&self) -> usize;
    /// The number of columns.
    fn ncols(&self) -> usize;
    /// Fails unless every value is finite; `what` names the matrix in the error.
    fn ensure_finite(&self, what: &str) -> Result<()>;
    /// The rows `rows`, in that order, as a new matrix; an error when one is out of range.
    fn select(&self, rows: &[usize]) -> Result<Mat<f64>>;
    /// The `n` rows from row `first` on, each minus `shift` (one value per column), as a new
    /// matrix. Panics if they run past the last row or `shift` is shorter than a row.
    fn shifted(&self, first: usize, n: usize, shift: &[f64]) -> Mat<f64>;
}

impl FeatureRows for MatRef<'_, f64> {
    fn nrows(&self) -> usize {
        MatRef::nrows(self)
    }

    fn ncols(&self) -> usize {
        MatRef::ncols(self)
    }

    fn ensure_finite(&self, what: &str) -> Result<()> {
        ensure_finite(*self, what)
    }

    fn select(&self, rows: &[usize]) -> Result<Mat<f64>> {
        select_rows(*self, rows)
    }

    fn shifted(&self, first: usize, n: usize, shift: &[f64]) -> Mat<f64> {
        let rows = self.subrows(first, n);
        Mat::from_fn(n, rows.ncols(), |i, j| rows[(i, j)] - shift[j])
    }
}

/// Fails unless every value of `x` is finite; `what` names the matrix in the error.
pub(crate) fn ensure_finite(x: MatRef<'_, f64>, what: &str) -> Result<()> {
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            if !x[(i, j)].is_finite() {
                return Err(Error::Numerical(format!(
                    "{what}: value at row {i}, column {j} is {} (missing values are dropped \
                     from the table, never filled)",
                    x[(i, j)]
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_config_name() {
        assert_eq!(EncoderKind::KINDS.len(), EncoderKind::ALL.len());
        for (&kind, &name) in EncoderKind::ALL.iter().zip(EncoderKind::KINDS) {
            assert_eq!(kind.name(), name);
            let parsed: EncoderKind = serde_json::from_value(name.into()).unwrap();
            assert_eq!(parsed, kind);
        }
        let ctx = EncodeContext::new(1, crate::device::Device::Cpu, 0).unwrap();
        let setup = EncoderSetup::default();
        let flatten = EncoderKind::Flatten.build(&setup, &ctx).unwrap().unwrap();
        assert_eq!(flatten.name(), "flatten");
        assert!(EncoderKind::None.build(&setup, &ctx).unwrap().is_none());
        // The ViT is never built without its settings.
        assert!(EncoderKind::Vit.build(&setup, &ctx).is_err());
        assert!(!EncoderKind::None.uses_images());
        assert!(EncoderKind::Flatten.uses_images() && EncoderKind::Vit.uses_images());
    }
}
