//! The local model store: one folder per model, named by its hub id.
//!
//! The store is `$QUAKELAB_MODELS` when that is set and non-empty, else
//! `$XDG_CACHE_HOME/quakelab/models`, else `$HOME/.cache/quakelab/models`. A model lives in
//! `<store>/<hub id>/`, exactly the folder `save_pretrained` writes
//! (`<store>/google/vit-base-patch16-224-in21k/config.json` and `model.safetensors`), so a
//! loader reads it like any other model folder, and files copied there by hand count the same
//! as fetched ones.
//!
//! Beside each file the store may keep `<file>.sha256`, the file's SHA-256 with the size and
//! modification time it was computed for, so that `quakelab models list` hashes a 346 MB file
//! once, not on every call. A download in progress is `<file>.part`; neither kind is a model
//! file.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::checkpoint::{Checkpoint, CheckpointFormat, TensorInfo, sha256_file};
use super::registry::{ModelEntry, Registry, is_hub_id};
use super::{MODELS_ENV, hub_url};
use crate::{Error, Result};

/// The suffix of a file's cached SHA-256.
pub const SHA256_SUFFIX: &str = ".sha256";
/// The suffix of a download in progress.
pub const PART_SUFFIX: &str = ".part";

/// Weight file names a model folder is searched for, in order of preference.
const WEIGHT_FILES: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];
/// Extensions of checkpoint files.
const WEIGHT_EXTENSIONS: [&str; 6] = ["safetensors", "bin", "pt", "pth", "ckpt", "pkl"];

/// The store directory from the environment (see the module docs).
pub fn store_dir() -> Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(MODELS_ENV) {
        return Ok(PathBuf::from(dir));
    }
    // The XDG base-directory specification ignores relative paths.
    if let Some(cache) = var("XDG_CACHE_HOME").map(PathBuf::from)
        && cache.is_absolute()
    {
        return Ok(cache.join("quakelab/models"));
    }
    if let Some(home) = var("HOME") {
        return Ok(PathBuf::from(home).join(".cache/quakelab/models"));
    }
    Err(Error::config(
        MODELS_ENV,
        "no model store: set QUAKELAB_MODELS (or XDG_CACHE_HOME or HOME) to a folder",
    ))
}

/// Where to find `name_or_path` with the store of [`store_dir`] and the built-in registry:
/// the model, or an error that says where to put its files and which command fetches them.
pub fn resolve(name_or_path: &str) -> Result<ModelLocation> {
    Store::from_env()?.resolve(&Registry::builtin(), name_or_path)
}

/// Like [`resolve`], but a missing model is a value, not an error, for callers that may do
/// without it (an experiment's `optional = true`).
pub fn locate(name_or_path: &str) -> Result<Lookup> {
    Store::from_env()?.locate(&Registry::builtin(), name_or_path)
}

/// A model folder found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelLocation {
    /// The folder holding the model's files.
    pub dir: PathBuf,
    /// The weights file.
    pub weights: PathBuf,
    /// `config.json` in the folder, when there is one.
    pub config: Option<PathBuf>,
    /// The registry entry, when the model was named by its id or alias.
    pub entry: Option<ModelEntry>,
}

/// A model that is not (completely) on disk, with what is missing and how to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingModel {
    /// The name or path asked for.
    pub name: String,
    /// The folder where its files belong.
    pub dir: PathBuf,
    /// What is wrong, one item per file (`config.json is missing`).
    pub problems: Vec<String>,
    /// The registry entry, when the model is a known one.
    pub entry: Option<ModelEntry>,
    hub_url: String,
}

impl MissingModel {
    /// The command that fetches the model, when the registry knows it.
    pub fn fetch_command(&self) -> Option<String> {
        self.entry.as_ref().map(|entry| {
            let force = if self.problems.iter().any(|p| !p.ends_with("is missing")) {
                " --force"
            } else {
                ""
            };
            format!("quakelab models fetch {}{force}", entry.id)
        })
    }

    /// What a user reads: what is missing, where the files go, and how to get them.
    pub fn message(&self) -> String {
        let what = format!("model `{}` is not installed", self.name);
        let problems = self.problems.join("; ");
        match (&self.entry, self.fetch_command()) {
            (Some(entry), Some(command)) => {
                let files: Vec<&str> = entry.files.iter().map(|f| f.name.as_str()).collect();
                format!(
                    "{what} ({problems}). Fetch it with `{command}`, or, on a machine without \
                     network, download {} from {} and put them in this folder ({MODELS_ENV} \
                     chooses another store)",
                    files.join(" and "),
                    entry.tree_url(&self.hub_url)
                )
            }
            _ => format!(
                "{what} ({problems}). quakelab's registry does not know it, so it cannot be \
                 fetched: put its config.json and weights ({}) in this folder, or give the \
                 path of a folder that holds them",
                WEIGHT_FILES.join(" or ")
            ),
        }
    }

    /// The error [`Store::resolve`] returns: the folder, then [`MissingModel::message`].
    pub fn into_error(self) -> Error {
        let message = self.message();
        Error::io(self.dir, std::io::Error::new(ErrorKind::NotFound, message))
    }
}

/// The outcome of looking a model up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Every file is there.
    Installed(ModelLocation),
    /// Some file is missing (or of the wrong size).
    Missing(MissingModel),
}

/// One model folder of the store, as [`Store::list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledModel {
    /// The folder's name relative to the store (the hub id).
    pub id: String,
    /// The folder.
    pub dir: PathBuf,
    /// The registry entry of this id, if any.
    pub entry: Option<ModelEntry>,
    /// The files, by name.
    pub files: Vec<InstalledFile>,
    /// Files the registry lists that the folder lacks.
    pub missing: Vec<String>,
    /// Downloads left unfinished (`<file>.part`).
    pub partial: Vec<String>,
}

impl InstalledModel {
    /// Whether every registry file is present and matches its pin.
    pub fn is_verified(&self) -> bool {
        self.entry.is_some()
            && self.missing.is_empty()
            && self
                .files
                .iter()
                .all(|f| matches!(f.check, FileCheck::Matches | FileCheck::NotInRegistry))
    }
}

/// One file of an installed model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledFile {
    /// The file name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// How it compares with the registry.
    pub check: FileCheck,
}

/// How a file on disk compares with the registry's pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    /// Size and SHA-256 equal every pinned value.
    Matches,
    /// A pinned value differs.
    Differs {
        /// The pinned size, when pinned.
        size: Option<u64>,
        /// The pinned SHA-256, when pinned.
        sha256: Option<String>,
    },
    /// The registry lists the file without any pin.
    Unpinned,
    /// The model or the file is not in the registry.
    NotInRegistry,
}

impl FileCheck {
    /// Whether a pinned value differs.
    pub fn is_mismatch(&self) -> bool {
        matches!(self, FileCheck::Differs { .. })
    }

    /// How `size` and `sha256` compare with what `entry` pins for file `name`.
    pub fn of(entry: Option<&ModelEntry>, name: &str, size: u64, sha256: &str) -> FileCheck {
        let Some(file) = entry.and_then(|e| e.file(name)) else {
            return FileCheck::NotInRegistry;
        };
        if file.size.is_none() && file.sha256.is_none() {
            return FileCheck::Unpinned;
        }
        let size_ok = file.size.is_none_or(|s| s == size);
        let hash_ok = file.sha256.as_deref().is_none_or(|h| h == sha256);
        if size_ok && hash_ok {
            FileCheck::Matches
        } else {
            FileCheck::Differs {
                size: file.size,
                sha256: file.sha256.clone(),
            }
        }
    }
}

/// A checkpoint's description: what `quakelab models info` prints.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// The weights file described.
    pub weights: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// `config.json` of the folder, parsed, when the path was a folder holding one; else the
    /// settings the checkpoint carries beside its tensors (TabPFN's `config`), if any.
    pub config: Option<serde_json::Value>,
    /// The container format.
    pub format: CheckpointFormat,
    /// The number of floating-point values.
    pub n_parameters: usize,
    /// Every tensor, sorted by name.
    pub tensors: Vec<TensorInfo>,
}

/// Describes a weights file, or the weights (and `config.json`) of a model folder.
pub fn inspect(path: &Path) -> Result<ModelInfo> {
    let (weights, config) = if path.is_dir() {
        let config = path.join("config.json");
        let config = if config.is_file() {
            let text = std::fs::read_to_string(&config).map_err(|e| Error::io(&config, e))?;
            let value = serde_json::from_str(&text)
                .map_err(|e| Error::parse(&config, e.line() as u64, "json", e.to_string()))?;
            Some(value)
        } else {
            None
        };
        (weights_in(path)?, config)
    } else {
        (path.to_path_buf(), None)
    };
    let size = std::fs::metadata(&weights)
        .map_err(|e| Error::io(&weights, e))?
        .len();
    // A checkpoint that carries its settings (TabPFN's `config`) shows them too.
    let (checkpoint, config) = match Checkpoint::open_with_config(&weights) {
        Ok((checkpoint, embedded)) => (checkpoint, config.or(Some(embedded))),
        Err(_) => (Checkpoint::open(&weights)?, config),
    };
    let mut tensors: Vec<TensorInfo> = checkpoint.tensors().cloned().collect();
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ModelInfo {
        size,
        config,
        format: checkpoint.format(),
        n_parameters: checkpoint.n_parameters(),
        tensors,
        weights,
    })
}

/// The weights file of a model folder: `model.safetensors`, else `pytorch_model.bin`, else the
/// only checkpoint file in it.
fn weights_in(dir: &Path) -> Result<PathBuf> {
    if let Some(found) = WEIGHT_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
    {
        return Ok(found);
    }
    let candidates: Vec<PathBuf> = model_files(dir)?
        .into_iter()
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| WEIGHT_EXTENSIONS.contains(&e))
        })
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::io(
            dir,
            std::io::Error::new(
                ErrorKind::NotFound,
                format!(
                    "no weights file in this folder (looked for {} and *.{})",
                    WEIGHT_FILES.join(", "),
                    WEIGHT_EXTENSIONS.join(", *.")
                ),
            ),
        )),
        many => Err(Error::io(
            dir,
            std::io::Error::other(format!(
                "{} weights files in this folder ({}): name the one to use",
                many.len(),
                many.iter()
                    .filter_map(|p| p.file_name())
                    .map(|n| n.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
    }
}

/// The regular files of `dir` that are model files (not hash sidecars, not partial
/// downloads), sorted by name.
fn model_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let item = item.map_err(|e| Error::io(dir, e))?;
        let path = item.path();
        let name = item.file_name().to_string_lossy().into_owned();
        if path.is_file()
            && !name.ends_with(SHA256_SUFFIX)
            && !name.ends_with(PART_SUFFIX)
            && !name.starts_with('.')
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The cached hash beside a file.
#[derive(Debug, Serialize, Deserialize)]
struct HashRecord {
    size: u64,
    modified_ns: u128,
    sha256: String,
}

fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(SHA256_SUFFIX);
    PathBuf::from(name)
}

/// The size and modification time (ns since 1970) of a file.
pub(crate) fn stamp(path: &Path) -> Result<(u64, u128)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok((meta.len(), modified))
}

/// The size and SHA-256 of a file, read from its `<file>.sha256` record when that was made for
/// the same size and modification time, else computed (and recorded, when the folder is
/// writable).
pub fn file_digest(path: &Path) -> Result<(u64, String)> {
    let (size, modified_ns) = stamp(path)?;
    let record = sidecar(path);
    if let Ok(text) = std::fs::read_to_string(&record)
        && let Ok(cached) = serde_json::from_str::<HashRecord>(&text)
        && cached.size == size
        && cached.modified_ns == modified_ns
        && super::registry::is_sha256(&cached.sha256)
    {
        return Ok((size, cached.sha256));
    }
    let sha256 = sha256_file(path)?;
    record_digest(path, &sha256);
    Ok((size, sha256))
}

/// Records a file's SHA-256 beside it. A store that cannot be written to only loses the cache,
/// so a failure is logged, not returned.
pub fn record_digest(path: &Path, sha256: &str) {
    let result = stamp(path).and_then(|(size, modified_ns)| {
        let record = HashRecord {
            size,
            modified_ns,
            sha256: sha256.to_string(),
        };
        let text = serde_json::to_string(&record).unwrap_or_default();
        let target = sidecar(path);
        std::fs::write(&target, text).map_err(|e| Error::io(&target, e))
    });
    if let Err(e) = result {
        tracing::warn!("cannot cache the SHA-256 of {}: {e}", path.display());
    }
}

/// A model store rooted at one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// The store at `root` (which need not exist yet).
    pub fn at(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    /// The store of [`store_dir`].
    pub fn from_env() -> Result<Store> {
        Ok(Store::at(store_dir()?))
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of the model with hub id `id`.
    pub fn model_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Like [`Store::locate`], with a missing model as the error of
    /// [`MissingModel::into_error`].
    pub fn resolve(&self, registry: &Registry, name_or_path: &str) -> Result<ModelLocation> {
        match self.locate(registry, name_or_path)? {
            Lookup::Installed(location) => Ok(location),
            Lookup::Missing(missing) => Err(missing.into_error()),
        }
    }

    /// Finds a model. A name the registry knows (id or alias) is looked up in this store and
    /// is installed when every file of the entry is there (with its pinned size, when one is
    /// pinned; hashes are checked by `quakelab models list`, not on every use). Any other name
    /// is a path, a folder or a weights file; one that does not exist but has the shape of a
    /// hub id (`owner/name`) is looked up in the store as an unknown model.
    pub fn locate(&self, registry: &Registry, name_or_path: &str) -> Result<Lookup> {
        if let Some(entry) = registry.find(name_or_path) {
            return self.locate_entry(entry, name_or_path);
        }
        let path = Path::new(name_or_path);
        let dir = if path.exists() || !is_hub_id(name_or_path) {
            path.to_path_buf()
        } else {
            self.model_dir(name_or_path)
        };
        let missing = |problem: String| {
            Ok(Lookup::Missing(MissingModel {
                name: name_or_path.to_string(),
                dir: dir.clone(),
                problems: vec![problem],
                entry: None,
                hub_url: hub_url(),
            }))
        };
        if dir.is_file() {
            let config = dir
                .parent()
                .map(|p| p.join("config.json"))
                .filter(|c| c.is_file());
            return Ok(Lookup::Installed(ModelLocation {
                dir: dir.parent().map(Path::to_path_buf).unwrap_or_default(),
                weights: dir.clone(),
                config,
                entry: None,
            }));
        }
        if !dir.is_dir() {
            return missing("no such file or folder".to_string());
        }
        match weights_in(&dir) {
            Ok(weights) => {
                let config = Some(dir.join("config.json")).filter(|c| c.is_file());
                Ok(Lookup::Installed(ModelLocation {
                    dir,
                    weights,
                    config,
                    entry: None,
                }))
            }
            Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                missing("no weights file in the folder".to_string())
            }
            Err(e) => Err(e),
        }
    }

    fn locate_entry(&self, entry: &ModelEntry, name: &str) -> Result<Lookup> {
        let dir = self.model_dir(&entry.id);
        let mut problems = Vec::new();
        for file in &entry.files {
            let path = dir.join(&file.name);
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => {
                    if let Some(size) = file.size
                        && meta.len() != size
                    {
                        problems.push(format!(
                            "{} has {} bytes, not the {size} of the registry",
                            file.name,
                            meta.len()
                        ));
                    }
                }
                _ => problems.push(format!("{} is missing", file.name)),
            }
        }
        if !problems.is_empty() {
            return Ok(Lookup::Missing(MissingModel {
                name: name.to_string(),
                dir,
                problems,
                entry: Some(entry.clone()),
                hub_url: hub_url(),
            }));
        }
        let weights = entry
            .files
            .iter()
            .find(|f| !f.name.ends_with(".json"))
            .map_or_else(|| weights_in(&dir), |f| Ok(dir.join(&f.name)))?;
        let config = entry
            .file("config.json")
            .map(|f| dir.join(&f.name))
            .filter(|c| c.is_file());
        Ok(Lookup::Installed(ModelLocation {
            dir,
            weights,
            config,
            entry: Some(entry.clone()),
        }))
    }

    /// Every model folder in the store (`<store>/<owner>/<name>/`, or `<store>/<name>/` for
    /// an id without owner), sorted by id, with each file's size, SHA-256 and registry check.
    /// An absent store holds no model.
    pub fn list(&self, registry: &Registry) -> Result<Vec<InstalledModel>> {
        let mut dirs = Vec::new();
        if !self.root.is_dir() {
            return Ok(Vec::new());
        }
        for owner in subdirs(&self.root)? {
            let owner_name = dir_name(&owner);
            if has_entries(&owner)? {
                dirs.push((owner_name.clone(), owner.clone()));
            }
            for model in subdirs(&owner)? {
                dirs.push((format!("{owner_name}/{}", dir_name(&model)), model));
            }
        }
        dirs.sort();
        dirs.into_iter()
            .map(|(id, dir)| {
                let entry = registry.find(&id).filter(|e| e.id == id).cloned();
                let mut files = Vec::new();
                for path in model_files(&dir)? {
                    let name = dir_name(&path);
                    let (size, sha256) = file_digest(&path)?;
                    let check = FileCheck::of(entry.as_ref(), &name, size, &sha256);
                    files.push(InstalledFile {
                        name,
                        size,
                        sha256,
                        check,
                    });
                }
                let missing = entry
                    .iter()
                    .flat_map(|e| &e.files)
                    .filter(|f| !files.iter().any(|g| g.name == f.name))
                    .map(|f| f.name.clone())
                    .collect();
                let partial = partial_downloads(&dir)?;
                Ok(InstalledModel {
                    id,
                    dir,
                    entry,
                    files,
                    missing,
                    partial,
                })
            })
            .collect()
    }
}

fn dir_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = item.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() && !dir_name(&path).starts_with('.') {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Whether a folder holds model files or unfinished downloads of its own.
fn has_entries(dir: &Path) -> Result<bool> {
    Ok(!model_files(dir)?.is_empty() || !partial_downloads(dir)?.is_empty())
}

fn partial_downloads(dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let name = item
            .map_err(|e| Error::io(dir, e))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(stem) = name.strip_suffix(PART_SUFFIX) {
            found.push(stem.to_string());
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::registry::ModelFile;

    fn entry() -> ModelEntry {
        ModelEntry {
            id: "test/tiny".to_string(),
            aliases: vec!["tiny".to_string()],
            revision: "main".to_string(),
            licence: "MIT".to_string(),
            description: "a test model".to_string(),
            files: vec![
                // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
                ModelFile::pinned(
                    "config.json",
                    3,
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                ),
                ModelFile {
                    name: "model.safetensors".to_string(),
                    size: None,
                    sha256: None,
                },
            ],
        }
    }

    #[test]
    fn a_known_model_resolves_to_its_store_folder_once_complete() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::at(root.path());
        let registry = Registry::new(vec![entry()]).unwrap();
        let Lookup::Missing(missing) = store.locate(&registry, "tiny").unwrap() else {
            panic!("an empty store holds no model");
        };
        assert_eq!(missing.dir, root.path().join("test/tiny"));
        assert_eq!(
            missing.problems,
            ["config.json is missing", "model.safetensors is missing"]
        );
        assert_eq!(
            missing.fetch_command().unwrap(),
            "quakelab models fetch test/tiny"
        );
        let dir = root.path().join("test/tiny");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), "abc").unwrap();
        std::fs::write(dir.join("model.safetensors"), "weights").unwrap();
        let location = store.resolve(&registry, "test/tiny").unwrap();
        assert_eq!(location.weights, dir.join("model.safetensors"));
        assert_eq!(location.config, Some(dir.join("config.json")));
        assert_eq!(location.entry.unwrap().id, "test/tiny");
    }

    #[test]
    fn a_known_model_with_a_file_of_the_wrong_size_is_not_installed() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::at(root.path());
        let registry = Registry::new(vec![entry()]).unwrap();
        let dir = root.path().join("test/tiny");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), "abcd").unwrap();
        std::fs::write(dir.join("model.safetensors"), "weights").unwrap();
        let err = store.resolve(&registry, "tiny").unwrap_err().to_string();
        assert!(
            err.contains("config.json has 4 bytes, not the 3 of the registry"),
            "{err}"
        );
        assert!(
            err.contains("`quakelab models fetch test/tiny --force`"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_path_resolves_to_its_weights() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::at(root.path().join("store"));
        let registry = Registry::new(vec![entry()]).unwrap();
        let dir = root.path().join("mine");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pytorch_model.bin"), "w").unwrap();
        let location = store.resolve(&registry, dir.to_str().unwrap()).unwrap();
        assert_eq!(location.weights, dir.join("pytorch_model.bin"));
        assert_eq!(location.config, None);
        let err = store
            .resolve(&registry, root.path().join("nowhere").to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such file or folder"), "{err}");
    }

    #[test]
    fn a_folder_with_two_weights_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.ckpt"), "w").unwrap();
        std::fs::write(dir.path().join("b.pt"), "w").unwrap();
        let err = weights_in(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("2 weights files in this folder (a.ckpt, b.pt): name the one to use"),
            "{err}"
        );
    }

    #[test]
    fn a_stale_hash_record_is_recomputed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "abc").unwrap();
        let (size, sha) = file_digest(&path).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sidecar(&path).is_file());
        // A record claiming another hash for the same stamp is believed (that is the cache);
        // one for another size is not.
        std::fs::write(&path, "abcd").unwrap();
        let (size, sha) = file_digest(&path).unwrap();
        assert_eq!(size, 4);
        // SHA-256("abcd"), from `printf abcd | sha256sum`.
        assert_eq!(
            sha,
            "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"
        );
    }
}
