//! The caches of a run's derived results under `<results_dir>/cache/`, beside the data stages'
//! own (catalogs, GNSS images, ViT embeddings):
//!
//! - [`fits`]: what each decoder fit produced, under `cache/fits/`;
//! - [`pca`]: each split's GNSS features reduced by the PCA fitted on its training rows, under
//!   `cache/pca/`.
//!
//! Both name an entry by a `KeyHasher` digest (length-prefixed fields, led by the entry
//! format and the running executable's identity, so a rebuilt quakelab computes afresh) and
//! store it sealed (`Entries`): the format's magic, the body, then the SHA-256 of both,
//! written atomically. A damaged entry is ignored with a warning and computed again, which
//! replaces it; a failed write is a warning, never the run's error.

pub mod fits;
pub mod pca;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use tracing::{debug, warn};

use crate::models::store::stamp;

/// The bytes of an entry's trailing checksum.
const CHECKSUM_BYTES: usize = 32;

/// Feeds length-prefixed fields to SHA-256, so that no two different sequences of fields hash
/// the same bytes.
pub(crate) struct KeyHasher(Sha256);

impl KeyHasher {
    /// A hasher whose first fields are `magic` (the entry format) and the running
    /// executable's identity; an error when the executable cannot be found.
    pub fn new(magic: &[u8]) -> std::result::Result<Self, String> {
        let mut h = KeyHasher(Sha256::new());
        h.field(magic);
        h.field(executable_identity()?.as_bytes());
        Ok(h)
    }

    /// One field: its length, then its bytes.
    pub fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// A count or an index as one field.
    pub fn count(&mut self, n: usize) {
        self.field(&(n as u64).to_le_bytes());
    }

    /// Numbers as one field: their count, then their bits.
    pub fn numbers(&mut self, values: impl ExactSizeIterator<Item = f64>) {
        self.0.update((values.len() as u64).to_le_bytes());
        let mut buffer = Vec::with_capacity(values.len() * 8);
        for value in values {
            buffer.extend_from_slice(&value.to_bits().to_le_bytes());
        }
        self.0.update(&buffer);
    }

    /// Indices (rows, days) as one field.
    pub fn indices(&mut self, values: &[usize]) {
        let bytes: Vec<u8> = values
            .iter()
            .flat_map(|&v| (v as u64).to_le_bytes())
            .collect();
        self.field(&bytes);
    }

    /// The digest: 64 lower-case hex digits.
    pub fn finish(self) -> String {
        format!("{:x}", self.0.finalize())
    }
}

/// The running executable's path, size and modification time, read once per process.
fn executable_identity() -> std::result::Result<&'static str, String> {
    static IDENTITY: OnceLock<std::result::Result<String, String>> = OnceLock::new();
    IDENTITY
        .get_or_init(|| {
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find the running executable: {e}"))?;
            file_identity(&exe)
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// `path size mtime_ns` of a file, its path made absolute.
pub(crate) fn file_identity(path: &Path) -> std::result::Result<String, String> {
    let absolute = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (size, modified) = stamp(&absolute).map_err(|e| e.to_string())?;
    Ok(format!("{} {size} {modified}", absolute.display()))
}

/// A folder of sealed entries of one format: `<dir>/<first two hex digits>/<key>.<extension>`,
/// 256 subfolders so that no folder grows to the size of the whole cache.
#[derive(Debug)]
pub(crate) struct Entries {
    dir: PathBuf,
    extension: &'static str,
    magic: &'static [u8; 8],
    /// What an entry holds, for warnings (`fit`, `PCA reduction`).
    what: &'static str,
}

impl Entries {
    /// The entries of format `magic` under `dir`; nothing is created until one is written.
    pub fn new(
        dir: PathBuf,
        extension: &'static str,
        magic: &'static [u8; 8],
        what: &'static str,
    ) -> Self {
        Entries {
            dir,
            extension,
            magic,
            what,
        }
    }

    /// Where the entry of `key` lies.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.{}", self.extension))
    }

    /// The entry of `key` read by `decode` (given the body after the magic), if there is one
    /// and it is intact; a damaged entry is reported as a warning and treated as absent.
    pub fn read<T>(
        &self,
        key: &str,
        decode: impl FnOnce(&mut Reader<'_>) -> std::result::Result<T, String>,
    ) -> Option<T> {
        let path = self.path(key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                warn!(path = %path.display(), "ignoring an unreadable {} cache entry: {e}", self.what);
                return None;
            }
        };
        match self.open(&bytes, decode) {
            Ok(value) => {
                debug!(path = %path.display(), "{} read from its cache", self.what);
                Some(value)
            }
            Err(why) => {
                warn!(
                    path = %path.display(),
                    "ignoring a damaged {} cache entry ({why}); computing it again",
                    self.what
                );
                None
            }
        }
    }

    /// Stores the body `encode` writes under `key`, sealed. A failure is a warning, never the
    /// run's error: what is stored was computed.
    pub fn write(&self, key: &str, encode: impl FnOnce(&mut Vec<u8>)) {
        let path = self.path(key);
        let entry = self.seal(encode);
        if let Err(e) = crate::io::write_atomic(&path, |w| w.write_all(&entry)) {
            warn!("cannot store a {} in its cache: {e}", self.what);
        }
    }

    /// The magic, the body `encode` writes, and the SHA-256 of both.
    fn seal(&self, encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = self.magic.to_vec();
        encode(&mut out);
        let checksum = Sha256::digest(&out);
        out.extend_from_slice(&checksum);
        out
    }

    /// The value `decode` reads from the body of the sealed entry `bytes`, which it must read
    /// to the end; an error says what is wrong with the bytes.
    fn open<T>(
        &self,
        bytes: &[u8],
        decode: impl FnOnce(&mut Reader<'_>) -> std::result::Result<T, String>,
    ) -> std::result::Result<T, String> {
        let mut r = self.unseal(bytes)?;
        let value = decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }

    /// A reader of the body of a sealed entry; an error says what is wrong with its bytes.
    fn unseal<'a>(&self, bytes: &'a [u8]) -> std::result::Result<Reader<'a>, String> {
        let Some(body_len) = bytes.len().checked_sub(CHECKSUM_BYTES) else {
            return Err(format!("{} bytes, shorter than a checksum", bytes.len()));
        };
        let (body, checksum) = bytes.split_at(body_len);
        if Sha256::digest(body).as_slice() != checksum {
            return Err("its checksum does not match its content".into());
        }
        let mut r = Reader { bytes: body };
        if r.take(self.magic.len())? != self.magic {
            return Err(format!("not a {} cache entry of this version", self.what));
        }
        Ok(r)
    }
}

/// Writes an entry's fields, little-endian.
pub(crate) trait Writer {
    /// A count as four bytes.
    fn put_u32(&mut self, value: u32);
    /// A count as eight bytes.
    fn put_u64(&mut self, value: u64);
    /// Numbers, eight bytes each.
    fn put_numbers(&mut self, values: &[f64]);
}

impl Writer for Vec<u8> {
    fn put_u32(&mut self, value: u32) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn put_u64(&mut self, value: u64) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn put_numbers(&mut self, values: &[f64]) {
        for value in values {
            self.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// Reads an entry's fields in order.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if n > self.bytes.len() {
            return Err(format!(
                "it ends early: {n} bytes wanted, {} left",
                self.bytes.len()
            ));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The next byte.
    pub fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    /// The next four-byte count.
    pub fn u32(&mut self) -> std::result::Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// The next eight-byte count.
    pub fn u64(&mut self) -> std::result::Result<u64, String> {
        let mut word = [0; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(word))
    }

    /// The next eight-byte count as a `usize`.
    pub fn usize(&mut self) -> std::result::Result<usize, String> {
        usize::try_from(self.u64()?).map_err(|_| "a count too large for this machine".to_string())
    }

    /// The next `n` numbers.
    pub fn numbers(&mut self, n: usize) -> std::result::Result<Vec<f64>, String> {
        let bytes = self.take(n.checked_mul(8).ok_or("too many values")?)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }

    /// Refuses bytes left after the last field.
    fn finish(self) -> std::result::Result<(), String> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(format!("{} bytes left over", self.bytes.len()))
        }
    }
}
