//! A TabPFN v2 regressor's tensors: from the official `.ckpt`, from a converted
//! `.safetensors`, or a seeded random initialisation.
//!
//! Tensors keep the checkpoint's names and PyTorch's layout (spec A.2): the fused attention
//! weights `_w_qkv` `[3, heads, d_k, E]` and `_w_out` `[heads, d_v, E]`, linear weights
//! `[out, in]`. The x-encoder's name carries the index of its step in the encoder pipeline
//! (`encoder.5.layer.weight`, or `encoder.6.…` in a checkpoint trained with
//! `remove_duplicate_features`), so any `encoder.<digits>.layer.weight` is read, and kept here
//! under [`X_ENCODER`]. `criterion.borders` becomes [`TabPfnWeights::borders`];
//! `criterion.losses_per_bucket` (a training statistic) is ignored.

use std::collections::BTreeMap;
use std::path::Path;

use rand::Rng;
use rand_distr::StandardNormal;

use crate::decode::tabpfn::architecture::Architecture;
use crate::models::{Checkpoint, sha256_file};
use crate::{Error, Result};

/// The name the x-encoder's weight is kept under, whatever its index in the file.
pub const X_ENCODER: &str = "encoder.layer.weight";

/// The name [`TabPfnWeights::write_safetensors`] gives the x-encoder's weight: its index in
/// tabpfn 2.2.1's encoder pipeline.
const WRITTEN_X_ENCODER: &str = "encoder.5.layer.weight";

/// Tensors of a checkpoint that the forward pass does not use and that are read past.
const IGNORED: [&str; 1] = ["criterion.losses_per_bucket"];

/// One tensor in PyTorch's layout: its shape, outermost first, and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

/// Every tensor of a TabPFN v2 regressor, each of the shape its architecture implies, and the
/// bar distribution's borders.
#[derive(Debug, Clone)]
pub struct TabPfnWeights {
    architecture: Architecture,
    tensors: BTreeMap<String, StoredTensor>,
    borders: Vec<f64>,
    fingerprint: String,
}

impl TabPfnWeights {
    /// Reads a `.ckpt` (the zip pickle `torch.save` writes: `state_dict` and `config`) or a
    /// `.safetensors` (the same tensor names, the config JSON-encoded under the metadata key
    /// `config`, as Prior Labs' converter writes it); the format is told by the file's first
    /// bytes.
    ///
    /// The architecture comes from the config ([`Architecture::from_config`]). Every tensor is
    /// checked against it: a missing, misshapen or unexpected tensor is an [`Error::Format`]
    /// naming the tensor, with the expected and found shapes; `criterion.borders` must be
    /// finite and strictly increasing.
    pub fn read(path: &Path) -> Result<TabPfnWeights> {
        let (checkpoint, config) = Checkpoint::open_with_config(path)?;
        let fingerprint = format!("sha256:{}", sha256_file(path)?);
        TabPfnWeights::from_checkpoint(&checkpoint, &config, fingerprint)
    }

    /// Reads the bytes of a `.safetensors` checkpoint held in memory (a network built into the
    /// binary), as [`TabPfnWeights::read`] reads the file: `origin` stands for the file in
    /// errors (`quakelab-pfn-s (built in)`), and the fingerprint is the SHA-256 of the bytes,
    /// the same as a copy of them on disk gets.
    pub fn read_safetensors_bytes(bytes: Vec<u8>, origin: &Path) -> Result<TabPfnWeights> {
        use sha2::{Digest, Sha256};
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (checkpoint, config) = Checkpoint::safetensors_with_config(bytes, origin)?;
        TabPfnWeights::from_checkpoint(&checkpoint, &config, format!("sha256:{digest}"))
    }

    /// The regressor in an opened checkpoint, checked against the architecture its `config`
    /// describes (see [`TabPfnWeights::read`]).
    fn from_checkpoint(
        checkpoint: &Checkpoint,
        config: &serde_json::Value,
        fingerprint: String,
    ) -> Result<TabPfnWeights> {
        let path = checkpoint.path();
        let architecture = Architecture::from_config(config, path)?;
        let encoder_names: Vec<&str> = checkpoint
            .tensors()
            .map(|t| t.name.as_str())
            .filter(|name| is_x_encoder(name))
            .collect();
        let encoder_name = match encoder_names.as_slice() {
            [one] => one.to_string(),
            [] => {
                return Err(Error::format(
                    path,
                    "tensor `encoder.<digits>.layer.weight`",
                    "missing: the checkpoint has no x-encoder",
                ));
            }
            many => {
                return Err(Error::format(
                    path,
                    format!("tensor `{}`", many[1]),
                    format!("a second x-encoder besides `{}`", many[0]),
                ));
            }
        };
        let expected = expected_shapes(&architecture);
        let stored_name = |name: &str| {
            if name == X_ENCODER {
                encoder_name.clone()
            } else {
                name.to_string()
            }
        };
        let known: Vec<String> = expected.iter().map(|(name, _)| stored_name(name)).collect();
        if let Some(extra) = checkpoint
            .tensors()
            .find(|t| !known.contains(&t.name) && !IGNORED.contains(&t.name.as_str()))
        {
            return Err(Error::format(
                path,
                format!("tensor `{}`", extra.name),
                format!(
                    "not part of a TabPFN v2 regressor ({}): another architecture",
                    describe(&architecture)
                ),
            ));
        }
        let mut tensors = BTreeMap::new();
        for (name, shape) in expected {
            let key = stored_name(&name);
            let item = format!("tensor `{key}`");
            let info = checkpoint.get(&key).ok_or_else(|| {
                Error::format(
                    path,
                    &item,
                    format!(
                        "missing; expected shape {shape:?} for {}",
                        describe(&architecture)
                    ),
                )
            })?;
            if info.shape != shape {
                return Err(Error::format(
                    path,
                    &item,
                    format!(
                        "expected shape {shape:?}, found {:?} (config: {})",
                        info.shape,
                        describe(&architecture)
                    ),
                ));
            }
            let data = checkpoint.read_f32(&key)?;
            tensors.insert(name, StoredTensor { shape, data });
        }
        let borders = take_borders(&mut tensors, path)?;
        tracing::info!(
            "{}: read a TabPFN v2 regressor ({}, {})",
            path.display(),
            describe(&architecture),
            checkpoint.format()
        );
        Ok(TabPfnWeights {
            architecture,
            tensors,
            borders,
            fingerprint,
        })
    }

    /// Seeded random weights of `architecture`, for benchmarks and shape tests; they predict
    /// nothing meaningful. Weights are normal with standard deviation 1/√fan-in, biases 0,
    /// drawn from [`crate::rng::stream`]`(seed, "decode.tabpfn.init")` in a fixed order; the
    /// borders are evenly spaced on [-3, 3].
    pub fn random(architecture: Architecture, seed: u64) -> TabPfnWeights {
        let mut rng = crate::rng::stream(seed, "decode.tabpfn.init");
        let mut tensors = BTreeMap::new();
        for (name, shape) in expected_shapes(&architecture) {
            if name == BORDERS {
                continue;
            }
            let len = shape.iter().product();
            let data = if shape.len() == 1 {
                vec![0.0; len]
            } else {
                let fan_in = if name.ends_with("._w_out") {
                    shape[0] * shape[1]
                } else {
                    shape[shape.len() - 1]
                };
                let std = 1.0 / (fan_in as f32).sqrt();
                (0..len)
                    .map(|_| rng.sample::<f32, _>(StandardNormal) * std)
                    .collect()
            };
            tensors.insert(name, StoredTensor { shape, data });
        }
        let n = architecture.num_buckets;
        let borders = (0..=n).map(|i| -3.0 + 6.0 * i as f64 / n as f64).collect();
        TabPfnWeights {
            architecture,
            tensors,
            borders,
            fingerprint: format!("random:{seed}"),
        }
    }

    /// Weights of `architecture` from tensors in PyTorch's layout under the names of
    /// [`expected_shapes`] (the x-encoder under [`X_ENCODER`], the borders apart), as a
    /// trained network hands them over; `fingerprint` says where they come from.
    ///
    /// Refused (an [`Error::Numerical`]): a missing, misshapen or unexpected tensor, data whose
    /// length is not its shape's, and borders that are not `num_buckets + 1` finite, strictly
    /// increasing values.
    pub fn from_tensors(
        architecture: Architecture,
        tensors: BTreeMap<String, StoredTensor>,
        borders: Vec<f64>,
        fingerprint: String,
    ) -> Result<TabPfnWeights> {
        let refuse = |message: String| Err(Error::Numerical(format!("TabPFN weights: {message}")));
        let expected = expected_shapes(&architecture);
        for (name, shape) in &expected {
            if name == BORDERS {
                continue;
            }
            match tensors.get(name) {
                None => return refuse(format!("tensor `{name}` is missing")),
                Some(t) if &t.shape != shape || t.data.len() != shape.iter().product::<usize>() => {
                    return refuse(format!(
                        "tensor `{name}` has shape {:?} and {} values, expected shape {shape:?}",
                        t.shape,
                        t.data.len()
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = tensors.keys().find(|name| {
            name.as_str() == BORDERS || !expected.iter().any(|(known, _)| known == *name)
        }) {
            return refuse(format!(
                "tensor `{extra}` is not part of a TabPFN v2 regressor ({})",
                describe(&architecture)
            ));
        }
        if borders.len() != architecture.num_buckets + 1 {
            return refuse(format!(
                "{} borders for {} buckets (expected {})",
                borders.len(),
                architecture.num_buckets,
                architecture.num_buckets + 1
            ));
        }
        if let Some(i) = (0..borders.len()).find(|&i| !borders[i].is_finite()) {
            return refuse(format!("border {i} is {}, not a finite number", borders[i]));
        }
        if let Some(i) = (1..borders.len()).find(|&i| borders[i] <= borders[i - 1]) {
            return refuse(format!(
                "borders must increase strictly, but border {i} is {} after {}",
                borders[i],
                borders[i - 1]
            ));
        }
        Ok(TabPfnWeights {
            architecture,
            tensors,
            borders,
            fingerprint,
        })
    }

    /// Writes the weights as a `.safetensors` file that [`TabPfnWeights::read`] reads back:
    /// every tensor in f32 under its checkpoint name (the x-encoder as
    /// `encoder.5.layer.weight`, the borders, rounded to f32, as `criterion.borders`), the
    /// architecture's [`Architecture::to_config`] JSON under the metadata key `config`, and
    /// `metadata`'s entries besides. The file is replaced atomically.
    ///
    /// Refused: a `metadata` key `config` (an [`Error::Config`] naming it), an architecture
    /// that has no config dictionary, and the errors of writing the file.
    pub fn write_safetensors(
        &self,
        path: &Path,
        metadata: &BTreeMap<String, String>,
    ) -> Result<()> {
        if metadata.contains_key("config") {
            return Err(Error::config(
                "metadata.config",
                "the key `config` holds the architecture; choose another name",
            ));
        }
        let mut info: std::collections::HashMap<String, String> = metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        info.insert("config".into(), self.architecture.to_config()?.to_string());
        let bytes_of =
            |data: &[f32]| -> Vec<u8> { data.iter().flat_map(|v| v.to_le_bytes()).collect() };
        let mut raw: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .tensors
            .iter()
            .map(|(name, t)| {
                let name = if name == X_ENCODER {
                    WRITTEN_X_ENCODER
                } else {
                    name.as_str()
                };
                (name.to_string(), t.shape.clone(), bytes_of(&t.data))
            })
            .collect();
        let borders: Vec<f32> = self.borders.iter().map(|&b| b as f32).collect();
        raw.push((BORDERS.to_string(), vec![borders.len()], bytes_of(&borders)));
        let views = raw
            .iter()
            .map(|(name, shape, bytes)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| Error::format(path, format!("tensor `{name}`"), e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let bytes = safetensors::tensor::serialize(views, Some(info))
            .map_err(|e| Error::format(path, "safetensors", e.to_string()))?;
        crate::io::write_atomic(path, |out| out.write_all(&bytes))
    }

    /// The architecture the weights are for.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// `criterion.borders`: `num_buckets + 1` values in standardised-target units, strictly
    /// increasing (checked at read time).
    pub fn borders(&self) -> &[f64] {
        &self.borders
    }

    /// `sha256:<hex>` of the file read, `random:<seed>` for random weights.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The tensor `name` (a checkpoint name; the x-encoder as [`X_ENCODER`]); an
    /// [`Error::Numerical`] if the architecture has no such tensor.
    pub fn tensor(&self, name: &str) -> Result<&StoredTensor> {
        self.tensors
            .get(name)
            .ok_or_else(|| Error::Numerical(format!("TabPFN weights: no tensor `{name}`")))
    }
}

/// The string entries of a `.safetensors` file's header metadata (`__metadata__`), empty when
/// it has none; [`TabPfnWeights::write_safetensors`] writes them. Only the header is read.
///
/// Refused: a file that cannot be read, or whose header is not a safetensors header (an
/// [`Error::Format`] naming the header).
pub fn safetensors_metadata(path: &Path) -> Result<BTreeMap<String, String>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|_| Error::format(path, "header", "shorter than a safetensors header"))?;
    let len = header_length(len, file_len, path)?;
    let mut header = vec![0u8; len];
    file.read_exact(&mut header)
        .map_err(|e| Error::io(path, e))?;
    parse_metadata(&header, path)
}

/// [`safetensors_metadata`] of the bytes of a `.safetensors` file held in memory; `origin`
/// stands for the file in errors.
pub fn safetensors_metadata_of_bytes(
    bytes: &[u8],
    origin: &Path,
) -> Result<BTreeMap<String, String>> {
    let len: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::format(origin, "header", "shorter than a safetensors header"))?;
    let len = header_length(len, bytes.len() as u64, origin)?;
    parse_metadata(&bytes[8..8 + len], origin)
}

/// The header length a safetensors file states in its first 8 bytes, checked to fit in a file
/// of `file_len` bytes.
fn header_length(len: [u8; 8], file_len: u64, path: &Path) -> Result<usize> {
    let len = u64::from_le_bytes(len);
    if len > file_len.saturating_sub(8) {
        return Err(Error::format(
            path,
            "header",
            format!("a header of {len} bytes does not fit in a file of {file_len} bytes"),
        ));
    }
    usize::try_from(len).map_err(|_| {
        Error::format(
            path,
            "header",
            format!("a header of {len} bytes is too long"),
        )
    })
}

/// The `__metadata__` entries of a safetensors JSON header.
fn parse_metadata(header: &[u8], path: &Path) -> Result<BTreeMap<String, String>> {
    let bad = |message: String| Error::format(path, "header", message);
    let header: serde_json::Value =
        serde_json::from_slice(header).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Some(metadata) = header.get("__metadata__") else {
        return Ok(BTreeMap::new());
    };
    let entries = metadata
        .as_object()
        .ok_or_else(|| bad(format!("`__metadata__` is {metadata}, not a dictionary")))?;
    entries
        .iter()
        .map(|(key, value)| match value.as_str() {
            Some(text) => Ok((key.clone(), text.to_string())),
            None => Err(bad(format!("metadata `{key}` is {value}, not a string"))),
        })
        .collect()
}

/// The name of the bar distribution's borders in a checkpoint.
const BORDERS: &str = "criterion.borders";

/// Every tensor the forward pass uses, with its PyTorch shape (spec A.2), the x-encoder under
/// [`X_ENCODER`] and the borders last.
pub fn expected_shapes(a: &Architecture) -> Vec<(String, Vec<usize>)> {
    let (e, h, d, m) = (a.emsize, a.nhead, a.head_dim(), a.mlp_hidden);
    let mut out: Vec<(String, Vec<usize>)> = vec![
        (X_ENCODER.into(), vec![e, 2 * a.features_per_group]),
        ("y_encoder.1.layer.weight".into(), vec![e, 2]),
        ("y_encoder.1.layer.bias".into(), vec![e]),
    ];
    for i in 0..a.nlayers {
        let layer = format!("transformer_encoder.layers.{i}");
        for attention in ["self_attn_between_features", "self_attn_between_items"] {
            out.push((format!("{layer}.{attention}._w_qkv"), vec![3, h, d, e]));
            out.push((format!("{layer}.{attention}._w_out"), vec![h, d, e]));
        }
        out.push((format!("{layer}.mlp.linear1.weight"), vec![m, e]));
        out.push((format!("{layer}.mlp.linear2.weight"), vec![e, m]));
    }
    out.extend([
        ("decoder_dict.standard.0.weight".into(), vec![m, e]),
        ("decoder_dict.standard.0.bias".into(), vec![m]),
        (
            "decoder_dict.standard.2.weight".into(),
            vec![a.num_buckets, m],
        ),
        ("decoder_dict.standard.2.bias".into(), vec![a.num_buckets]),
        (
            "feature_positional_embedding_embeddings.weight".into(),
            vec![e, a.subspace_width()],
        ),
        (
            "feature_positional_embedding_embeddings.bias".into(),
            vec![e],
        ),
        (BORDERS.into(), vec![a.num_buckets + 1]),
    ]);
    out
}

/// Whether `name` is `encoder.<digits>.layer.weight`.
fn is_x_encoder(name: &str) -> bool {
    name.strip_prefix("encoder.")
        .and_then(|rest| rest.strip_suffix(".layer.weight"))
        .is_some_and(|index| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes the borders from `tensors`, checked finite and strictly increasing.
fn take_borders(tensors: &mut BTreeMap<String, StoredTensor>, path: &Path) -> Result<Vec<f64>> {
    let borders: Vec<f64> = tensors
        .remove(BORDERS)
        .map(|t| t.data.into_iter().map(f64::from).collect())
        .unwrap_or_default();
    if let Some(i) = (0..borders.len()).find(|&i| !borders[i].is_finite()) {
        return Err(Error::format(
            path,
            format!("tensor `{BORDERS}`"),
            format!("border {i} is {}, not a finite number", borders[i]),
        ));
    }
    if let Some(i) = (1..borders.len()).find(|&i| borders[i] <= borders[i - 1]) {
        return Err(Error::format(
            path,
            format!("tensor `{BORDERS}`"),
            format!(
                "borders must increase strictly, but border {i} is {} after {}",
                borders[i],
                borders[i - 1]
            ),
        ));
    }
    Ok(borders)
}

/// A short description of the architecture for error messages.
fn describe(a: &Architecture) -> String {
    format!(
        "emsize {}, nhead {}, nlayers {}, MLP {}, features_per_group {}, num_buckets {}",
        a.emsize, a.nhead, a.nlayers, a.mlp_hidden, a.features_per_group, a.num_buckets
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_regressor_has_the_published_parameter_count() {
        // Spec §C.1: 11,081,864 parameters, plus 5001 borders.
        let n: usize = expected_shapes(&Architecture::official_v2())
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum();
        assert_eq!(n, 11_081_864 + 5001);
    }

    #[test]
    fn x_encoder_names_are_recognised() {
        assert!(is_x_encoder("encoder.5.layer.weight"));
        assert!(is_x_encoder("encoder.6.layer.weight"));
        assert!(!is_x_encoder("encoder..layer.weight"));
        assert!(!is_x_encoder("y_encoder.1.layer.weight"));
        assert!(!is_x_encoder("encoder.5.layer.bias"));
    }

    #[test]
    fn random_weights_have_every_shape_and_follow_the_seed() {
        let arch = Architecture {
            emsize: 16,
            nhead: 2,
            nlayers: 1,
            mlp_hidden: 32,
            features_per_group: 2,
            num_buckets: 10,
            seed: 0,
        };
        let a = TabPfnWeights::random(arch.clone(), 1);
        let b = TabPfnWeights::random(arch.clone(), 1);
        let c = TabPfnWeights::random(arch, 2);
        let name = "transformer_encoder.layers.0.mlp.linear1.weight";
        assert_eq!(a.tensor(name).unwrap().shape, vec![32, 16]);
        assert_eq!(a.tensor(name).unwrap().data, b.tensor(name).unwrap().data);
        assert_ne!(a.tensor(name).unwrap().data, c.tensor(name).unwrap().data);
        assert_eq!(a.borders().len(), 11);
        assert_eq!((a.borders()[0], a.borders()[10]), (-3.0, 3.0));
        assert_eq!(a.fingerprint(), "random:1");
    }

    /// The tensors and borders of seeded random weights, to build from.
    fn parts() -> (Architecture, BTreeMap<String, StoredTensor>, Vec<f64>) {
        let arch = Architecture {
            emsize: 8,
            nhead: 2,
            nlayers: 1,
            mlp_hidden: 16,
            features_per_group: 1,
            num_buckets: 4,
            seed: 0,
        };
        let w = TabPfnWeights::random(arch.clone(), 3);
        (arch, w.tensors.clone(), w.borders.clone())
    }

    fn from_parts_error(
        edit: impl FnOnce(&mut BTreeMap<String, StoredTensor>, &mut Vec<f64>),
    ) -> String {
        let (arch, mut tensors, mut borders) = parts();
        edit(&mut tensors, &mut borders);
        TabPfnWeights::from_tensors(arch, tensors, borders, "test".into())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn weights_from_tensors_keep_every_tensor() {
        let (arch, tensors, borders) = parts();
        let w = TabPfnWeights::from_tensors(arch, tensors.clone(), borders.clone(), "t".into())
            .unwrap();
        assert_eq!(w.tensors, tensors);
        assert_eq!(w.borders(), borders.as_slice());
        assert_eq!(w.fingerprint(), "t");
    }

    #[test]
    fn a_missing_tensor_is_refused() {
        let err = from_parts_error(|t, _| {
            t.remove("decoder_dict.standard.0.bias");
        });
        assert!(
            err.contains("tensor `decoder_dict.standard.0.bias` is missing"),
            "{err}"
        );
    }

    #[test]
    fn a_misshapen_tensor_is_refused() {
        let err = from_parts_error(|t, _| {
            t.get_mut("y_encoder.1.layer.bias").unwrap().data.pop();
        });
        assert!(err.contains("has shape [8] and 7 values"), "{err}");
    }

    #[test]
    fn a_tensor_of_another_architecture_is_refused() {
        let err = from_parts_error(|t, _| {
            let extra = t["y_encoder.1.layer.bias"].clone();
            t.insert(
                "transformer_encoder.layers.1.mlp.linear1.weight".into(),
                extra,
            );
        });
        assert!(
            err.contains("is not part of a TabPFN v2 regressor"),
            "{err}"
        );
    }

    #[test]
    fn borders_of_another_count_are_refused() {
        let err = from_parts_error(|_, b| {
            b.pop();
        });
        assert!(
            err.contains("4 borders for 4 buckets (expected 5)"),
            "{err}"
        );
    }

    #[test]
    fn a_border_that_is_not_finite_is_refused() {
        let err = from_parts_error(|_, b| b[4] = f64::INFINITY);
        assert!(err.contains("border 4 is inf"), "{err}");
    }

    #[test]
    fn borders_that_do_not_increase_are_refused() {
        let err = from_parts_error(|_, b| b[2] = b[1]);
        assert!(err.contains("border 2 is"), "{err}");
    }

    #[test]
    fn a_metadata_key_named_config_is_refused() {
        let (arch, tensors, borders) = parts();
        let w = TabPfnWeights::from_tensors(arch, tensors, borders, "t".into()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let metadata = BTreeMap::from([("config".to_string(), "{}".to_string())]);
        let err = w
            .write_safetensors(&dir.path().join("w.safetensors"), &metadata)
            .unwrap_err()
            .to_string();
        assert!(err.contains("metadata.config"), "{err}");
    }

    #[test]
    fn a_safetensors_header_that_does_not_fit_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.safetensors");
        let mut bytes = 1000u64.to_le_bytes().to_vec();
        bytes.extend(b"{}");
        std::fs::write(&path, bytes).unwrap();
        let err = safetensors_metadata(&path).unwrap_err().to_string();
        assert!(err.contains("a header of 1000 bytes does not fit"), "{err}");
    }
}
