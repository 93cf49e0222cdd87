//! The models quakelab knows by name: where their files live on the hub, and what those files
//! must hash to.
//!
//! [`Registry::builtin`] lists the official checkpoints quakelab's encoders and decoders read:
//!
//! | id | alias | files | licence |
//! |---|---|---|---|
//! | `google/vit-base-patch16-224-in21k` | `vit-b16-in21k` | `config.json`, `model.safetensors` | Apache-2.0 |
//! | `Prior-Labs/TabPFN-v2-reg` | `tabpfn-v2-reg` | `tabpfn-v2-regressor.ckpt` | Prior Labs License |
//!
//! # Where the pins come from
//!
//! Every file of the built-in registry is pinned by SHA-256, and by size where the size is on
//! record, so a download is checked against values fixed in quakelab rather than against
//! whatever a server says at the time:
//!
//! - ViT-B/16 in21k, revision `b4569560a39a0f1af58e3ddaf17facf20ab919b0` (the hub's `main` since
//!   the safetensors conversion, pull request 6; it holds `model.safetensors`, so the
//!   `pytorch_model.bin` of the same revision is not needed).
//!   - `model.safetensors`: SHA-256 `fd4e1169…619b`, the file's Git LFS object id, recorded by
//!     two independent public projects that pin this revision (a hash check in a model loader,
//!     and a listing of a Hugging Face cache, where LFS blobs are named by their SHA-256). Its
//!     size is not on record: the hub's declared size (`X-Linked-Size`, else `Content-Length`)
//!     is checked instead. The safetensors layout of the 200 tensors (86,389,248 `f32` values
//!     and a JSON header padded to 8 bytes) predicts 345,579,424 bytes.
//!   - `config.json` (not an LFS file: the hub's ETag is its Git blob id,
//!     `254071bbf72dd0fd535b61768d9cd87adcb776f4`): rebuilt byte for byte as the 502-byte
//!     `save_pretrained` JSON whose Git blob id is exactly that, then hashed.
//! - TabPFN v2 regressor (`tabpfn-v2-regressor.ckpt`): 44,390,977 bytes, SHA-256 `2ab5a07d…0736`,
//!   as two independent public verifier scripts record it; no revision is pinned (`main`).
//!
//! A file without a pinned SHA-256 (only in registries built with [`Registry::new`]) is checked
//! against the SHA-256 the hub declares in `X-Linked-ETag`; with neither, the download is refused.

use std::fmt;

use crate::{Error, Result};

/// The public hub the built-in models are fetched from.
pub const DEFAULT_HUB_URL: &str = "https://huggingface.co";

/// One file of a model, with what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// The file name inside the model folder (`model.safetensors`).
    pub name: String,
    /// The size in bytes, when pinned.
    pub size: Option<u64>,
    /// The SHA-256 as 64 lowercase hex digits, when pinned.
    pub sha256: Option<String>,
}

impl ModelFile {
    /// A file pinned by size and SHA-256.
    pub fn pinned(name: &str, size: u64, sha256: &str) -> ModelFile {
        ModelFile {
            name: name.to_string(),
            size: Some(size),
            sha256: Some(sha256.to_string()),
        }
    }
}

/// A model known by name: its hub id, aliases, revision, licence and files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    /// The hub id, `owner/name`; also the model's folder in the store.
    pub id: String,
    /// Short names that resolve to this model.
    pub aliases: Vec<String>,
    /// The hub revision the files are taken from (a commit hash, or `main`).
    pub revision: String,
    /// The licence of the weights, as a user must honour it.
    pub licence: String,
    /// A one-line description.
    pub description: String,
    /// The files that make up the model.
    pub files: Vec<ModelFile>,
}

impl ModelEntry {
    /// The URL of `file` under the hub at `hub_url` (no trailing `/`):
    /// `{hub_url}/{id}/resolve/{revision}/{file}`.
    pub fn url(&self, hub_url: &str, file: &str) -> String {
        format!(
            "{}/{}/resolve/{}/{}",
            hub_url.trim_end_matches('/'),
            self.id,
            self.revision,
            file
        )
    }

    /// The hub page listing the files of the pinned revision.
    pub fn tree_url(&self, hub_url: &str) -> String {
        format!(
            "{}/{}/tree/{}",
            hub_url.trim_end_matches('/'),
            self.id,
            self.revision
        )
    }

    /// The file called `name`, if the model has one.
    pub fn file(&self, name: &str) -> Option<&ModelFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Whether `name` is this model's id or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.id == name || self.aliases.iter().any(|a| a == name)
    }
}

impl fmt::Display for ModelEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)?;
        if !self.aliases.is_empty() {
            write!(f, " (alias {})", self.aliases.join(", "))?;
        }
        Ok(())
    }
}

/// A set of known models, looked up by id or alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    entries: Vec<ModelEntry>,
}

impl Registry {
    /// A registry of `entries`. Refused: an id that is not `owner/name`, a file name with a
    /// path separator, a pinned hash that is not 64 hex digits, and a name (id or alias) used
    /// twice.
    pub fn new(entries: Vec<ModelEntry>) -> Result<Registry> {
        let mut names: Vec<&str> = Vec::new();
        for entry in &entries {
            if !is_hub_id(&entry.id) {
                return Err(Error::config(
                    "models.registry",
                    format!("`{}` is not a hub id of the form owner/name", entry.id),
                ));
            }
            for name in std::iter::once(&entry.id).chain(&entry.aliases) {
                if names.contains(&name.as_str()) {
                    return Err(Error::config(
                        "models.registry",
                        format!("the name `{name}` is given to two models"),
                    ));
                }
                names.push(name);
            }
            for file in &entry.files {
                if file.name.is_empty()
                    || file.name.contains(['/', '\\'])
                    || file.name.starts_with('.')
                {
                    return Err(Error::config(
                        "models.registry",
                        format!("{}: `{}` is not a plain file name", entry.id, file.name),
                    ));
                }
                if let Some(hash) = &file.sha256
                    && !is_sha256(hash)
                {
                    return Err(Error::config(
                        "models.registry",
                        format!(
                            "{}/{}: `{hash}` is not a SHA-256 (64 lowercase hex digits)",
                            entry.id, file.name
                        ),
                    ));
                }
            }
        }
        Ok(Registry { entries })
    }

    /// The official models quakelab reads (see the module docs for where every pin comes from).
    pub fn builtin() -> Registry {
        let vit = ModelEntry {
            id: "google/vit-base-patch16-224-in21k".to_string(),
            aliases: vec!["vit-b16-in21k".to_string()],
            revision: "b4569560a39a0f1af58e3ddaf17facf20ab919b0".to_string(),
            licence: "Apache-2.0".to_string(),
            description: "ViT-B/16 pretrained on ImageNet-21k (Dosovitskiy et al. 2021), \
                          86,389,248 parameters, the paper's image encoder"
                .to_string(),
            files: vec![
                ModelFile::pinned(
                    "config.json",
                    502,
                    "d477a481f825c170a1bb8cd5e4f5788319466ecf4ede0eb24e9cd923a9aa8fea",
                ),
                ModelFile {
                    name: "model.safetensors".to_string(),
                    size: None,
                    sha256: Some(
                        "fd4e1169c7aa6c2dbfa8a6448be13b35abc0ee256190857c90009d12c094619b"
                            .to_string(),
                    ),
                },
            ],
        };
        let tabpfn = ModelEntry {
            id: "Prior-Labs/TabPFN-v2-reg".to_string(),
            aliases: vec!["tabpfn-v2-reg".to_string()],
            revision: "main".to_string(),
            licence: "Prior Labs License (Apache-2.0 with attribution: products and \
                      publications using these weights must show \"Built with PriorLabs-TabPFN\")"
                .to_string(),
            description: "TabPFN v2 regressor (Hollmann et al., Nature 2025)".to_string(),
            files: vec![ModelFile::pinned(
                "tabpfn-v2-regressor.ckpt",
                44_390_977,
                "2ab5a07d5c41dfe6db9aa7ae106fc6de898326c2765be66505a07e2868c10736",
            )],
        };
        Registry {
            entries: vec![vit, tabpfn],
        }
    }

    /// Every model, in registration order.
    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }

    /// The model called `name` (its id or an alias).
    pub fn find(&self, name: &str) -> Option<&ModelEntry> {
        self.entries.iter().find(|e| e.is_named(name))
    }

    /// The model called `name`, or an error listing the known names.
    pub fn get(&self, name: &str) -> Result<&ModelEntry> {
        self.find(name).ok_or_else(|| {
            Error::config(
                "model",
                format!(
                    "`{name}` is not a known model; known: {}",
                    self.entries
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
        })
    }
}

/// Whether `name` has the shape of a hub id: `owner/name`, both parts non-empty and made of
/// letters, digits, `-`, `_` and `.` (not starting with `.`).
pub fn is_hub_id(name: &str) -> bool {
    let mut parts = name.split('/');
    let (Some(owner), Some(model), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    [owner, model].iter().all(|part| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    })
}

/// Whether `text` is a SHA-256 written as 64 lowercase hex digits.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_registry_finds_models_by_id_and_alias() {
        let registry = Registry::builtin();
        assert!(Registry::new(registry.entries().to_vec()).is_ok());
        let vit = registry.find("vit-b16-in21k").unwrap();
        assert_eq!(vit.id, "google/vit-base-patch16-224-in21k");
        assert_eq!(
            vit.url(DEFAULT_HUB_URL, "config.json"),
            "https://huggingface.co/google/vit-base-patch16-224-in21k/resolve/\
             b4569560a39a0f1af58e3ddaf17facf20ab919b0/config.json"
        );
        assert!(registry.find("Prior-Labs/TabPFN-v2-reg").is_some());
        let err = registry.get("vit-l16").unwrap_err().to_string();
        assert!(err.contains("`vit-l16` is not a known model"), "{err}");
        assert!(err.contains("google/vit-base-patch16-224-in21k (alias vit-b16-in21k)"));
    }

    #[test]
    fn hub_ids_and_hashes_are_recognised() {
        assert!(is_hub_id("google/vit-base-patch16-224-in21k"));
        assert!(is_hub_id("Prior-Labs/TabPFN-v2-reg"));
        for bad in ["vit", "a/b/c", "/b", "a/", "../x", "a/b c"] {
            assert!(!is_hub_id(bad), "{bad}");
        }
        assert!(is_sha256(&"ab".repeat(32)));
        assert!(!is_sha256(&"AB".repeat(32)));
        assert!(!is_sha256("abc"));
    }

    fn one_file(name: &str, sha256: Option<&str>) -> ModelEntry {
        ModelEntry {
            id: "test/one".to_string(),
            aliases: Vec::new(),
            revision: "main".to_string(),
            licence: "MIT".to_string(),
            description: String::new(),
            files: vec![ModelFile {
                name: name.to_string(),
                size: None,
                sha256: sha256.map(str::to_string),
            }],
        }
    }

    #[test]
    fn a_registry_id_that_is_not_owner_slash_name_is_refused() {
        let mut entry = one_file("w.bin", None);
        entry.id = "just-a-name".to_string();
        let err = Registry::new(vec![entry]).unwrap_err().to_string();
        assert_eq!(
            err,
            "setting `models.registry`: `just-a-name` is not a hub id of the form owner/name"
        );
    }

    #[test]
    fn a_registry_file_name_with_a_path_is_refused() {
        let err = Registry::new(vec![one_file("../w.bin", None)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test/one: `../w.bin` is not a plain file name"),
            "{err}"
        );
    }

    #[test]
    fn a_registry_pin_that_is_not_a_sha256_is_refused() {
        let err = Registry::new(vec![one_file("w.bin", Some("abc"))])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test/one/w.bin: `abc` is not a SHA-256 (64 lowercase hex digits)"),
            "{err}"
        );
    }

    #[test]
    fn a_registry_with_a_name_used_twice_is_refused() {
        let mut entry = Registry::builtin().entries()[0].clone();
        entry.id = "test/other".to_string();
        let mut entries = Registry::builtin().entries().to_vec();
        entries.push(entry);
        let err = Registry::new(entries).unwrap_err().to_string();
        assert!(
            err.contains("the name `vit-b16-in21k` is given to two models"),
            "{err}"
        );
    }
}
