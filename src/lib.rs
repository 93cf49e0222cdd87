//! # quakelab
//!
//! An experiment framework for multimodal earthquake-activity research. It reproduces two
//! published methods end to end (GeoViT-PFN: GNSS images and catalog statistics to a daily
//! activity label; VGG-12: geomagnetic-anomaly maps to an event class) and adds what the
//! papers lack: baselines, leakage-proof splits and synthetic scenarios with known truth.
//!
//! ## Module map
//!
//! Data moves forward only; a lower stage never imports a higher one.
//!
//! | module | what lives there |
//! |---|---|
//! | [`period`] | the `[start, end)` day convention every stage indexes by |
//! | [`catalog`] | events, regions, event types, selection by period and completeness magnitude, loading from files or scenarios |
//! | [`geo`] | the Earth's radius, haversine distances, longitude normalisation (one definition each) |
//! | [`io`] | readers and writers of real file formats (ComCat and generic CSV catalogs, NGL `.tenv3`, INTERMAGNET IAGA-2002 and the geomagnetic series CSV, `.npy`) |
//! | [`gnss`] | GNSS stations, daily position series, displacement images |
//! | [`synth`] | scenario generators that write the same formats (ETAS catalogs, with short-term aftershock incompleteness; GNSS networks; magnetometer networks with planted anomalies) |
//! | [`geomag`] | the second method's data: a network's daily field, the causal anomaly index, contour maps, the five event classes (k-means north/south × magnitude) |
//! | [`seismicity`] | Mc (MAXC, GFT, b-stability, KS), Gutenberg-Richter b and a values in sliding windows (Aki, Aki-Utsu, Tinti-Mulargia, b-positive, b-more-positive), b significance, Weichert, labels (centred and causal KDE, counts ahead), ADF/KPSS, the window study, declustering (Gardner-Knopoff, Reasenberg) |
//! | [`dataset`] | the daily table, feature availability times (forecast or nowcast), random/chronological/rolling/blocked splits, the derived embargo |
//! | [`classify`] | VGG-12 on geomagnetic maps in burn: augmentation (brightness, contrast, horizontal flip), Adam with early stopping |
//! | [`encode`] | the `ImageEncoder` seam over N x C x H x W batches (flatten, the ViT in burn), PCA, fitted on training rows only |
//! | [`decode`] | the `Regressor` seam (fit context, predictive distributions, roles): baselines, ridge, random forest, the boosters, TabPFN v2, and quakelab's own PFN (`decode::pfn`: task priors, the trainable network, its loss and pretraining) |
//! | [`device`] | the device a model runs on (burn's CPU backend, CUDA behind the `cuda` feature) |
//! | [`models`] | pretrained weights: checkpoint files (safetensors, PyTorch), the local model store |
//! | [`eval`] | classification metrics (confusion matrix, per-class precision and recall, macro-F1, balanced accuracy, baselines), regression metrics, skill scores, pinball loss and CRPS, autocorrelation, block-bootstrap intervals, the Diebold–Mariano test |
//! | [`experiment`] | experiment files (figment layering), sweeps and their launchers, the runner and a run's evaluation (both methods: `method = "geovit_pfn"` or `"vgg12_geomag"`) |
//! | [`track`] | the local run store and the MLflow client |
//! | [`report`] | tables (CSV, Markdown, LaTeX), figures (PNG, SVG), the reviewer's report and `evaluation.json`, labels around large events |
//! | [`cli`] | the `quakelab` command; parses arguments and calls the library |
//!
//! Equation numbers in the docs refer to the GeoViT-PFN paper (see `shared/spec/papers.md`).

#![warn(missing_docs)]

pub mod catalog;
pub mod classify;
pub mod cli;
pub mod dataset;
pub mod decode;
pub mod device;
pub mod encode;
mod error;
pub mod eval;
pub mod experiment;
pub mod geo;
pub mod geomag;
pub mod gnss;
pub mod io;
pub mod models;
pub mod period;
pub mod progress;
pub mod report;
pub mod rng;
pub mod seismicity;
pub mod synth;
pub mod track;

pub use error::{Error, Result};
