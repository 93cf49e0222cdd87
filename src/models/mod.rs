//! Pretrained models: their weight files ([`checkpoint`]), the models quakelab knows by name
//! ([`registry`]), the local model store ([`store`]) and downloads into it ([`fetch`]).
//!
//! A model is named by its hub id (`google/vit-base-patch16-224-in21k`), an alias
//! (`vit-b16-in21k`) or a path. [`resolve`] finds its folder in the store, or says where to put
//! the files and which command fetches them; `quakelab models fetch NAME` downloads and
//! verifies them, `quakelab models list` shows what is installed, and `quakelab models info
//! PATH` prints a checkpoint's config and tensors.

pub mod checkpoint;
pub mod fetch;
pub(crate) mod linear;
pub mod registry;
pub mod store;

pub use checkpoint::{Checkpoint, CheckpointFormat, ElementType, TensorInfo, sha256_file};
pub use fetch::{FetchAction, FetchReport, FetchedFile, Fetcher};
pub use registry::{DEFAULT_HUB_URL, ModelEntry, ModelFile, Registry};
pub use store::{
    InstalledModel, Lookup, MissingModel, ModelInfo, ModelLocation, Store, inspect, locate,
    resolve, store_dir,
};

/// The environment variable naming the model store's folder.
pub const MODELS_ENV: &str = "QUAKELAB_MODELS";

/// The environment variable that replaces the hub's base URL ([`DEFAULT_HUB_URL`]), for a
/// mirror or a test server.
pub const HUB_URL_ENV: &str = "QUAKELAB_HUB_URL";

/// The hub's base URL: `$QUAKELAB_HUB_URL` when set and non-empty, else [`DEFAULT_HUB_URL`];
/// without a trailing `/`.
pub fn hub_url() -> String {
    std::env::var(HUB_URL_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_HUB_URL.to_string())
        .trim_end_matches('/')
        .to_string()
}
