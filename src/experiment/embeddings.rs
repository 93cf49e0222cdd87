//! The ViT stage: GNSS images to embeddings, once per run, through the stage cache.
//!
//! The pixel scale is fitted on the days that are training days in every split
//! ([`crate::encode::vit::preprocess::percentile_scale`]), so no split's test days inform it;
//! the experiment's images and the null scenario's are then encoded with that one scale.
//!
//! Embeddings are cached as `<results>/cache/embeddings/<key>.npy` (`f64`, days x hidden),
//! where the key is the SHA-256 over the weights' fingerprint, the model's `config.json` (so
//! its architecture and input size), the output, the scale, and the encoded days with their
//! images bit for bit (`cache_key`). A hit is logged and read back; a miss encodes with a
//! progress bar (images, ETA) and writes the file atomically, so an interrupted run leaves no
//! entry under the final name.

use std::path::{Path, PathBuf};

use faer::Mat;
use sha2::{Digest, Sha256};
use tracing::info;

use crate::encode::vit::encoder::{VitEncoder, VitSettings, VitWeights};
use crate::encode::vit::{VitConfig, preprocess};
use crate::encode::{EncodeContext, ImageEncoder, encode_stack};
use crate::experiment::config::ResolvedExperiment;
use crate::gnss::stack::ImageStack;
use crate::io::npy;
use crate::report::review::EncoderSheet;
use crate::{Error, Result};

/// A stack's encoded days, and whether they came from the cache.
pub(crate) struct Encoded {
    /// One row per day.
    pub features: Mat<f64>,
    /// Whether the embeddings were read from the stage cache.
    pub cached: bool,
}

/// The ViT's embeddings of `days` of the experiment's stack (and the null scenario's), the
/// pixel scale fitted on `fit_days`, and the sheet that records both.
pub(crate) fn vit_embeddings(
    experiment: &ResolvedExperiment,
    settings: &VitSettings,
    stacks: (&ImageStack, Option<&ImageStack>),
    days: &[usize],
    fit_days: &[usize],
) -> Result<(Mat<f64>, Option<Mat<f64>>, EncoderSheet)> {
    let scale = preprocess::percentile_scale(stacks.0, fit_days, settings.scale_percentile)?;
    info!(
        scale_mm = scale,
        percentile = settings.scale_percentile,
        days = fit_days.len(),
        "ViT pixel scale fitted on the training days common to every split"
    );
    let seed = experiment.seed();
    let fingerprint = settings.fingerprint(seed)?;
    let config = config_text(settings)?;
    let ctx = EncodeContext {
        batch_size: experiment.encoder().batch_size,
        device: experiment.device(),
        seed,
    };
    let mut encoder: Option<VitEncoder> = None;
    let cache_dir = cache_dir(&experiment.tracking().results_dir);
    let mut encode = |stack: &ImageStack| -> Result<Encoded> {
        let key = cache_key(&fingerprint, &config, settings, scale, stack, days)?;
        cached_embeddings(&cache_dir.join(format!("{key}.npy")), days.len(), || {
            let encoder = match &mut encoder {
                Some(e) => e,
                None => encoder.insert(VitEncoder::new(
                    settings.load(ctx.device, seed)?,
                    settings.output,
                    scale,
                )?),
            };
            encode_with_progress(encoder, stack, days, &ctx)
        })
    };
    let gnss = encode(stacks.0)?;
    let null = stacks.1.map(&mut encode).transpose()?;
    let sheet = EncoderSheet {
        encoder: settings.describe(&fingerprint),
        weights: fingerprint,
        random_init: settings.is_random(),
        device: experiment.device().name().to_string(),
        scale_mm: Some(f64::from(scale)),
        scale_percentile: Some(settings.scale_percentile),
        scale_fit_days: Some(fit_days.len()),
        from_cache: Some(gnss.cached && null.as_ref().is_none_or(|n| n.cached)),
        skipped: None,
    };
    Ok((gnss.features, null.map(|n| n.features), sheet))
}

/// The model's `config.json` as it is on disk, or ViT-B/16's as JSON for a random init of it.
fn config_text(settings: &VitSettings) -> Result<Vec<u8>> {
    let path = match &settings.weights {
        VitWeights::Files(path) if path.is_dir() => Some(path.join("config.json")),
        VitWeights::Files(path) => path.parent().map(|dir| dir.join("config.json")),
        VitWeights::Random { config } => config.clone(),
        VitWeights::Missing { reason } => {
            return Err(Error::config("encoder.vit.weights", reason.clone()));
        }
    };
    match path {
        Some(path) => std::fs::read(&path).map_err(|e| Error::io(&path, e)),
        None => serde_json::to_vec(&VitConfig::base_patch16_224())
            .map_err(|e| Error::Numerical(format!("cannot serialise the ViT config: {e}"))),
    }
}

/// The cache key of a stack's embeddings (see the module docs).
pub(crate) fn cache_key(
    fingerprint: &str,
    config: &[u8],
    settings: &VitSettings,
    scale: f32,
    stack: &ImageStack,
    days: &[usize],
) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(b"quakelab.embeddings.v1");
    field(fingerprint.as_bytes());
    field(config);
    field(settings.output.name().as_bytes());
    field(&scale.to_le_bytes());
    let [_, height, width, channels] = stack.shape();
    field(format!("{height}x{width}x{channels}").as_bytes());
    for &day in days {
        if day >= stack.n_days() {
            return Err(Error::Numerical(format!(
                "embeddings: day {day} is beyond the stack's {} days",
                stack.n_days()
            )));
        }
        field(&(day as u64).to_le_bytes());
        let image: Vec<u8> = stack
            .day(day)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        field(&image);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The embeddings at `path` when it holds `rows` rows, else `compute`'s, written there.
fn cached_embeddings(
    path: &Path,
    rows: usize,
    compute: impl FnOnce() -> Result<Mat<f64>>,
) -> Result<Encoded> {
    if path.is_file() {
        match read_embeddings(path, rows) {
            Ok(features) => {
                info!(path = %path.display(), "ViT embeddings from the stage cache");
                return Ok(Encoded {
                    features,
                    cached: true,
                });
            }
            Err(e) => tracing::warn!("ignoring an unreadable cache entry: {e}"),
        }
    }
    let features = compute()?;
    let data: Vec<f64> = (0..features.nrows())
        .flat_map(|i| (0..features.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| features[(i, j)])
        .collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    npy::write_f64(path, &[features.nrows(), features.ncols()], &data)?;
    info!(path = %path.display(), "ViT embeddings written to the stage cache");
    Ok(Encoded {
        features,
        cached: false,
    })
}

/// A cache entry: `rows` x D `f64` in C order.
fn read_embeddings(path: &Path, rows: usize) -> Result<Mat<f64>> {
    let array = npy::read(path)?;
    let npy::NpyData::F64(data) = array.data else {
        return Err(Error::format(path, "embeddings", "expected f64 values"));
    };
    match array.shape[..] {
        [n, d] if n == rows && data.len() == n * d => {
            Ok(Mat::from_fn(n, d, |i, j| data[i * d + j]))
        }
        _ => Err(Error::format(
            path,
            "embeddings",
            format!("expected shape [{rows}, D], found {:?}", array.shape),
        )),
    }
}

/// Encodes `days` of `stack` a batch at a time, with a progress bar over the images.
fn encode_with_progress(
    encoder: &dyn ImageEncoder,
    stack: &ImageStack,
    days: &[usize],
    ctx: &EncodeContext,
) -> Result<Mat<f64>> {
    let bar = crate::progress::bar(days.len() as u64, "ViT images");
    let mut parts = Vec::new();
    for chunk in days.chunks(ctx.batch_size.get()) {
        parts.push(encode_stack(encoder, stack, chunk, ctx)?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let cols = parts.first().map_or(0, |p| p.ncols());
    let mut out = Mat::zeros(days.len(), cols);
    let mut row = 0;
    for part in parts {
        out.subrows_mut(row, part.nrows()).copy_from(&part);
        row += part.nrows();
    }
    Ok(out)
}

/// The stage cache's folder of embeddings under a results directory.
pub fn cache_dir(results_dir: &Path) -> PathBuf {
    results_dir.join("cache").join("embeddings")
}
