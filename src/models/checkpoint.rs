//! Model weight files: safetensors and PyTorch checkpoints, their tensor inventory, and their
//! tensors read as `f32`.
//!
//! A [`Checkpoint`] is opened without reading its tensors: [`Checkpoint::tensors`] lists every
//! tensor's name, shape and element type (what `quakelab models info` prints), and
//! [`Checkpoint::read_f32`] reads one tensor when a model asks for it. Both formats the Hugging
//! Face hub serves are read:
//!
//! - `*.safetensors`: an 8-byte header length, a JSON header, then the raw little-endian data;
//! - PyTorch files (`pytorch_model.bin`, `*.pt`, `*.pth`, `*.ckpt`): the zip (or legacy) pickle
//!   container `torch.save` writes, read without Python by the `pytorch-reader` crate. Objects the
//!   pickle holds besides tensors stay unread; a checkpoint that nests its weights under a key
//!   (TabPFN's `state_dict`) is opened with [`Checkpoint::open_nested`].
//!
//! The format is chosen by the file's first bytes, not its name: a safetensors header starts
//! with its length and `{`, a zip container with `PK`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The container a checkpoint is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointFormat {
    /// Hugging Face safetensors.
    Safetensors,
    /// A `torch.save` file (zip or legacy pickle).
    Pytorch,
}

impl fmt::Display for CheckpointFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckpointFormat::Safetensors => "safetensors",
            CheckpointFormat::Pytorch => "pytorch",
        })
    }
}

/// The element type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    /// 64-bit float.
    F64,
    /// 32-bit float.
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    Bf16,
    /// Anything else (integers, booleans, 8-bit floats): listed, never read as weights.
    Other(&'static str),
}

impl ElementType {
    /// The short name (`f32`, `bf16`, `i64`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ElementType::F64 => "f64",
            ElementType::F32 => "f32",
            ElementType::F16 => "f16",
            ElementType::Bf16 => "bf16",
            ElementType::Other(name) => name,
        }
    }

    fn size(self) -> Option<usize> {
        match self {
            ElementType::F64 => Some(8),
            ElementType::F32 => Some(4),
            ElementType::F16 | ElementType::Bf16 => Some(2),
            ElementType::Other(_) => None,
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One tensor of a checkpoint, as listed in its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The stored name (`encoder.layer.0.attention.attention.query.weight`).
    pub name: String,
    /// The shape, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// The stored element type.
    pub dtype: ElementType,
}

impl TensorInfo {
    /// The number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where the bytes of the tensors are.
enum Source {
    /// The whole safetensors file and the offset of its data section.
    Safetensors {
        bytes: Vec<u8>,
        offsets: BTreeMap<String, (usize, usize)>,
    },
    /// The lazily read PyTorch container.
    Pytorch(pytorch_reader::PytorchReader),
}

/// An opened weight file: its inventory, and its tensors on demand.
pub struct Checkpoint {
    path: PathBuf,
    format: CheckpointFormat,
    tensors: BTreeMap<String, TensorInfo>,
    source: Source,
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

impl Checkpoint {
    /// Opens a safetensors or PyTorch file, reading its inventory.
    pub fn open(path: &Path) -> Result<Checkpoint> {
        Checkpoint::open_inner(path, None)
    }

    /// Opens a PyTorch file whose tensors sit in the dictionary under `key` (such as
    /// `state_dict`); a safetensors file has no nesting and refuses a key.
    pub fn open_nested(path: &Path, key: &str) -> Result<Checkpoint> {
        Checkpoint::open_inner(path, Some(key))
    }

    /// Opens a checkpoint that carries its settings beside its tensors, as TabPFN's do: a
    /// `torch.save` dictionary with the tensors under `state_dict` and the settings under
    /// `config`, or a safetensors file with the settings JSON-encoded under the header's
    /// metadata key `config` (the layout of Prior Labs' converter). Returns the tensors and
    /// the settings as JSON; a file without them is an [`Error::Format`].
    pub fn open_with_config(path: &Path) -> Result<(Checkpoint, serde_json::Value)> {
        if is_safetensors(path)? {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Checkpoint::safetensors_with_config(bytes, path)
        } else {
            Ok((
                Checkpoint::open_nested(path, "state_dict")?,
                pickle_config(path)?,
            ))
        }
    }

    fn open_inner(path: &Path, key: Option<&str>) -> Result<Checkpoint> {
        let mut head = [0u8; 9];
        let n = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| Error::io(path, e))?;
        let head = &head[..n];
        if n == 9 && head[8] == b'{' {
            if let Some(key) = key {
                return Err(Error::format(
                    path,
                    "header",
                    format!("a safetensors file has no nested `{key}` dictionary"),
                ));
            }
            Checkpoint::open_safetensors(path)
        } else if head.starts_with(b"PK") || head.first() == Some(&0x80) {
            Checkpoint::open_pytorch(path, key)
        } else {
            Err(Error::format(
                path,
                "header",
                "neither a safetensors file nor a PyTorch (torch.save) checkpoint",
            ))
        }
    }

    /// [`Checkpoint::open_with_config`] for the bytes of a safetensors file held in memory (a
    /// model built into the binary); `origin` stands for the file in errors
    /// (`quakelab-pfn-s (built in)`). Reading a safetensors file from disk comes here.
    pub fn safetensors_with_config(
        bytes: Vec<u8>,
        origin: &Path,
    ) -> Result<(Checkpoint, serde_json::Value)> {
        let config = safetensors_config(&bytes, origin);
        let checkpoint = Checkpoint::from_safetensors_bytes(bytes, origin)?;
        Ok((checkpoint, config?))
    }

    /// Opens the bytes of a safetensors file held in memory, as [`Checkpoint::open`] opens the
    /// file; `origin` stands for the file in errors and is [`Checkpoint::path`].
    fn from_safetensors_bytes(bytes: Vec<u8>, origin: &Path) -> Result<Checkpoint> {
        let (data_start, metadata) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::format(origin, "header", e.to_string()))?;
        let data_start = data_start + 8;
        let mut tensors = BTreeMap::new();
        let mut offsets = BTreeMap::new();
        for (name, info) in metadata.tensors() {
            let dtype = match info.dtype {
                safetensors::Dtype::F64 => ElementType::F64,
                safetensors::Dtype::F32 => ElementType::F32,
                safetensors::Dtype::F16 => ElementType::F16,
                safetensors::Dtype::BF16 => ElementType::Bf16,
                other => ElementType::Other(safetensors_name(other)),
            };
            let (begin, end) = info.data_offsets;
            offsets.insert(name.clone(), (data_start + begin, data_start + end));
            tensors.insert(
                name.clone(),
                TensorInfo {
                    name,
                    shape: info.shape.clone(),
                    dtype,
                },
            );
        }
        Ok(Checkpoint {
            path: origin.to_path_buf(),
            format: CheckpointFormat::Safetensors,
            tensors,
            source: Source::Safetensors { bytes, offsets },
        })
    }

    fn open_safetensors(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Checkpoint::from_safetensors_bytes(bytes, path)
    }

    fn open_pytorch(path: &Path, key: Option<&str>) -> Result<Checkpoint> {
        let reader = match key {
            Some(key) => pytorch_reader::PytorchReader::with_top_level_key(path, key),
            None => pytorch_reader::PytorchReader::new(path),
        }
        .map_err(|e| Error::format(path, "container", e.to_string()))?;
        let tensors = reader
            .tensors()
            .iter()
            .map(|(name, t)| {
                use pytorch_reader::DType as D;
                let dtype = match t.dtype() {
                    D::F64 => ElementType::F64,
                    D::F32 => ElementType::F32,
                    D::F16 => ElementType::F16,
                    D::BF16 => ElementType::Bf16,
                    D::I64 => ElementType::Other("i64"),
                    D::I32 => ElementType::Other("i32"),
                    D::I16 => ElementType::Other("i16"),
                    D::I8 => ElementType::Other("i8"),
                    D::U64 => ElementType::Other("u64"),
                    D::U32 => ElementType::Other("u32"),
                    D::U16 => ElementType::Other("u16"),
                    D::U8 => ElementType::Other("u8"),
                    D::Bool => ElementType::Other("bool"),
                };
                let info = TensorInfo {
                    name: name.clone(),
                    shape: t.shape().to_vec(),
                    dtype,
                };
                (name.clone(), info)
            })
            .collect();
        Ok(Checkpoint {
            path: path.to_path_buf(),
            format: CheckpointFormat::Pytorch,
            tensors,
            source: Source::Pytorch(reader),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The container format.
    pub fn format(&self) -> CheckpointFormat {
        self.format
    }

    /// Every tensor, by name.
    pub fn tensors(&self) -> impl Iterator<Item = &TensorInfo> {
        self.tensors.values()
    }

    /// The tensor `name`, if the file holds it.
    pub fn get(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.get(name)
    }

    /// The number of values over all floating-point tensors.
    pub fn n_parameters(&self) -> usize {
        self.tensors
            .values()
            .filter(|t| t.dtype.size().is_some())
            .map(TensorInfo::len)
            .sum()
    }

    /// Reads tensor `name` as `f32` values in C order. `f64`, `f16` and `bf16` tensors are
    /// converted (`f64` rounded to nearest); a missing tensor or a non-float one is an
    /// [`Error::Format`] naming it.
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>> {
        let item = || format!("tensor `{name}`");
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| Error::format(&self.path, item(), "not in the file".to_string()))?;
        let size = info.dtype.size().ok_or_else(|| {
            Error::format(
                &self.path,
                item(),
                format!("holds {} values, not floating-point weights", info.dtype),
            )
        })?;
        let bytes: std::borrow::Cow<'_, [u8]> = match &self.source {
            Source::Safetensors { bytes, offsets } => {
                let (begin, end) = offsets[name];
                std::borrow::Cow::Borrowed(bytes.get(begin..end).ok_or_else(|| {
                    Error::format(
                        &self.path,
                        item(),
                        "its data lies beyond the end of the file",
                    )
                })?)
            }
            Source::Pytorch(reader) => std::borrow::Cow::Owned(
                reader
                    .get(name)
                    .expect("the inventory lists the reader's tensors")
                    .read()
                    .map_err(|e| Error::format(&self.path, item(), e.to_string()))?,
            ),
        };
        if bytes.len() != info.len() * size {
            return Err(Error::format(
                &self.path,
                item(),
                format!(
                    "shape {:?} of {} needs {} bytes, the file holds {}",
                    info.shape,
                    info.dtype,
                    info.len() * size,
                    bytes.len()
                ),
            ));
        }
        Ok(match info.dtype {
            ElementType::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            ElementType::F64 => bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8")) as f32)
                .collect(),
            ElementType::F16 => bytes
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
            ElementType::Bf16 => bytes
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
                .collect(),
            ElementType::Other(_) => unreachable!("refused above"),
        })
    }
}

fn safetensors_name(dtype: safetensors::Dtype) -> &'static str {
    use safetensors::Dtype as D;
    match dtype {
        D::BOOL => "bool",
        D::U8 => "u8",
        D::I8 => "i8",
        D::I16 => "i16",
        D::U16 => "u16",
        D::I32 => "i32",
        D::U32 => "u32",
        D::I64 => "i64",
        D::U64 => "u64",
        _ => "other",
    }
}

/// IEEE 754 binary16 to binary32, exactly (every half is a float).
fn f16_to_f32(h: u16) -> f32 {
    let exponent = (h >> 10) & 0x1f;
    let mantissa = u32::from(h & 0x3ff);
    let magnitude = match exponent {
        // Zero and the subnormals: mantissa · 2^-24.
        0 => mantissa as f32 * 2f32.powi(-24),
        0x1f => f32::from_bits(0x7f80_0000 | (mantissa << 13)),
        e => f32::from_bits(((u32::from(e) + 127 - 15) << 23) | (mantissa << 13)),
    };
    if h >> 15 == 1 { -magnitude } else { magnitude }
}

/// Whether the file is a safetensors file: an 8-byte header length, then `{`.
fn is_safetensors(path: &Path) -> Result<bool> {
    let mut head = [0u8; 9];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::io(path, e))?;
    Ok(n == 9 && head[8] == b'{')
}

/// The JSON config under the metadata key `config` of the safetensors file whose bytes are
/// `bytes` (`path` names it in errors).
fn safetensors_config(bytes: &[u8], path: &Path) -> Result<Value> {
    let bad = |message: String| Error::format(path, "metadata `config`", message);
    let header = bytes
        .get(..8)
        .and_then(|len| usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok())
        .and_then(|len| bytes.get(8..8usize.checked_add(len)?))
        .ok_or_else(|| Error::format(path, "header", "shorter than its stated length"))?;
    let header: Value = serde_json::from_slice(header)
        .map_err(|e| Error::format(path, "header", format!("not JSON: {e}")))?;
    let text = header
        .get("__metadata__")
        .and_then(|m| m.get("config"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("missing: a converted TabPFN checkpoint stores its config there as JSON".into())
        })?;
    serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))
}

/// The `config` dictionary of a `torch.save` checkpoint, as JSON.
fn pickle_config(path: &Path) -> Result<Value> {
    let value = pytorch_reader::PytorchReader::read_pickle_data(path, Some("config"))
        .map_err(|e| Error::format(path, "config", e.to_string()))?;
    Ok(pickle_to_json(value))
}

/// A pickled value as JSON; what JSON cannot hold (bytes, objects the reader does not
/// interpret) becomes a descriptive string, which a key that needs a number then refuses.
fn pickle_to_json(value: pytorch_reader::PickleValue) -> Value {
    use pytorch_reader::PickleValue as P;
    match value {
        P::None => Value::Null,
        P::Bool(b) => Value::Bool(b),
        P::Int(i) => Value::from(i),
        P::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        P::String(s) => Value::String(s),
        P::List(items) => Value::Array(items.into_iter().map(pickle_to_json).collect()),
        P::Dict(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, pickle_to_json(v)))
                .collect(),
        ),
        P::Bytes(bytes) => Value::String(format!("<{} bytes>", bytes.len())),
        P::Unsupported(kind) => Value::String(format!("<{kind}>")),
    }
}

/// The SHA-256 of a file, as 64 lowercase hex digits, read in 1 MiB pieces.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file written by hand from the format's description: the little-endian
    /// header length, the JSON header, then the data.
    fn safetensors_bytes() -> Vec<u8> {
        let header = r#"{"a.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"n":{"dtype":"I64","shape":[1],"data_offsets":[22,30]}}"#;
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        for v in [1.0f32, -2.0, 0.5, 3.25] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        // 1.0, -2.0 and 2^-24 (the smallest subnormal) in binary16.
        for h in [0x3c00u16, 0xc000, 0x0001] {
            out.extend_from_slice(&h.to_le_bytes());
        }
        out.extend_from_slice(&7i64.to_le_bytes());
        out
    }

    #[test]
    fn reads_a_safetensors_inventory_and_its_tensors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        std::fs::write(&path, safetensors_bytes()).unwrap();
        let ckpt = Checkpoint::open(&path).unwrap();
        assert_eq!(ckpt.format(), CheckpointFormat::Safetensors);
        let names: Vec<&str> = ckpt.tensors().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a.weight", "b", "n"]);
        assert_eq!(ckpt.get("a.weight").unwrap().shape, vec![2, 2]);
        assert_eq!(ckpt.n_parameters(), 7);
        assert_eq!(
            ckpt.read_f32("a.weight").unwrap(),
            vec![1.0, -2.0, 0.5, 3.25]
        );
        assert_eq!(ckpt.read_f32("b").unwrap(), vec![1.0, -2.0, 2f32.powi(-24)]);
        let err = ckpt.read_f32("n").unwrap_err().to_string();
        assert!(err.contains("tensor `n`") && err.contains("i64"), "{err}");
        let err = ckpt.read_f32("missing").unwrap_err().to_string();
        assert!(err.contains("tensor `missing`: not in the file"), "{err}");
    }

    #[test]
    fn refuses_a_file_of_neither_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bin");
        std::fs::write(&path, b"hello, not weights").unwrap();
        let err = Checkpoint::open(&path).unwrap_err().to_string();
        assert!(
            err.contains("neither a safetensors file nor a PyTorch"),
            "{err}"
        );
    }

    #[test]
    fn halves_convert_exactly() {
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert_eq!(f16_to_f32(0x8001), -(2f32.powi(-24)));
    }

    #[test]
    fn hashes_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
