//! The PCA stage's cache: each split's GNSS features reduced by the PCA fitted on its training
//! rows (paper §2, pitfall P8), stored under `<results_dir>/cache/pca/`, so that a run repeated
//! with the same images and splits (another decoder, another decoder setting, a report edit)
//! reads its reductions back instead of fitting them again. In the paper run those fits are
//! most of the encode stage: a randomized SVD of about 3,700 × 7,500 values per split and
//! scenario.
//!
//! # The key
//!
//! An entry's name is the SHA-256 of:
//!
//! - the entry format and the running executable (path, size, modification time);
//! - the matrix reduced: its shape and every value, as bits (`MatrixDigest`, computed once per
//!   matrix and run);
//! - the number of components, the configured solver and the seed of the randomized one;
//! - the split's training rows;
//! - faer's parallelism (its thread count): the products' sums are split by thread.
//!
//! The reduction read back is therefore the one a fit would make, bit for bit.
//!
//! # The entry
//!
//! `pca/<first two hex digits>/<key>.qlpca`, sealed and written atomically as
//! `Entries` are, little-endian: the magic `QLPCA001`; the reduced matrix's rows and
//! columns (u64 each) and its values column by column (f64); the PCA's record
//! ([`PcaSummary`]): components, input columns and fit rows (u64 each), the solver's name (u32
//! byte count, UTF-8) and the explained variance ratio (f64).

use std::path::{Path, PathBuf};

use faer::{Mat, MatRef};
use sha2::{Digest, Sha256};
use tracing::debug;

use super::{Entries, KeyHasher, Reader, Writer};
use crate::encode::PcaSolver;
use crate::encode::pca::PcaSummary;

/// The first bytes of every entry: the format and its version.
const MAGIC: &[u8; 8] = b"QLPCA001";

/// The folder of PCA cache entries under a results directory.
pub fn cache_dir(results_dir: &Path) -> PathBuf {
    results_dir.join("cache").join("pca")
}

/// The SHA-256 of a matrix's shape and values, the part of a reduction's key that would cost
/// most to hash again for every split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MatrixDigest([u8; 32]);

impl MatrixDigest {
    /// The digest of `rows` of `ncols` single-precision values each (a stack's images).
    pub fn of_f32_rows<'a>(rows: impl ExactSizeIterator<Item = &'a [f32]>, ncols: usize) -> Self {
        let mut h = Sha256::new();
        h.update(b"f32 rows");
        h.update((rows.len() as u64).to_le_bytes());
        h.update((ncols as u64).to_le_bytes());
        let mut buffer = Vec::with_capacity(ncols * 4);
        for row in rows {
            buffer.clear();
            buffer.extend(row.iter().flat_map(|v| v.to_bits().to_le_bytes()));
            h.update(&buffer);
        }
        MatrixDigest(h.finalize().into())
    }

    /// The digest of a double-precision matrix (encoded features), column by column.
    pub fn of_mat(x: MatRef<'_, f64>) -> Self {
        let mut h = Sha256::new();
        h.update(b"f64 columns");
        h.update((x.nrows() as u64).to_le_bytes());
        h.update((x.ncols() as u64).to_le_bytes());
        let mut buffer = Vec::with_capacity(x.nrows() * 8);
        for j in 0..x.ncols() {
            buffer.clear();
            buffer.extend((0..x.nrows()).flat_map(|i| x[(i, j)].to_bits().to_le_bytes()));
            h.update(&buffer);
        }
        MatrixDigest(h.finalize().into())
    }
}

/// What a reduction depends on besides the executable (see the module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PcaInputs<'a> {
    pub matrix: MatrixDigest,
    pub n_components: usize,
    pub solver: PcaSolver,
    pub seed: u64,
    pub train: &'a [usize],
}

/// A reduction's key: 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PcaKey(String);

impl PcaKey {
    /// The key of a reduction, or `None` when one cannot be made (the executable cannot be
    /// found): the reduction is then fitted and not stored.
    pub fn of(inputs: &PcaInputs<'_>) -> Option<PcaKey> {
        let key = KeyHasher::new(MAGIC).map(|mut h| {
            h.field(&inputs.matrix.0);
            h.count(inputs.n_components);
            h.field(inputs.solver.name().as_bytes());
            h.field(&inputs.seed.to_le_bytes());
            h.indices(inputs.train);
            h.field(format!("{:?}", faer::get_global_parallelism()).as_bytes());
            PcaKey(h.finish())
        });
        match key {
            Ok(key) => Some(key),
            Err(why) => {
                debug!("PCA reduction not cached: {why}");
                None
            }
        }
    }
}

/// A split's reduced features (one row per table row) and the record of the PCA that made them.
#[derive(Debug)]
pub(crate) struct Reduction {
    pub features: Mat<f64>,
    pub summary: PcaSummary,
}

/// The PCA cache of one results directory.
#[derive(Debug)]
pub(crate) struct PcaCache {
    entries: Entries,
}

impl PcaCache {
    /// The cache under `results_dir` ([`cache_dir`]); nothing is created until an entry is
    /// stored.
    pub fn new(results_dir: &Path) -> Self {
        PcaCache {
            entries: Entries::new(cache_dir(results_dir), "qlpca", MAGIC, "PCA reduction"),
        }
    }

    /// The stored reduction of `key`, if there is one and it is intact; a damaged entry is
    /// reported as a warning and treated as absent.
    pub fn read(&self, key: &PcaKey) -> Option<Reduction> {
        self.entries.read(&key.0, decode_entry)
    }

    /// Stores `reduction` under `key`; a failure is a warning.
    pub fn write(&self, key: &PcaKey, reduction: &Reduction) {
        self.entries
            .write(&key.0, |out| encode_entry(reduction, out));
    }
}

/// Writes an entry's body, after its magic (see the module docs).
fn encode_entry(reduction: &Reduction, out: &mut Vec<u8>) {
    let x = &reduction.features;
    out.reserve(64 + x.nrows() * x.ncols() * 8);
    out.put_u64(x.nrows() as u64);
    out.put_u64(x.ncols() as u64);
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            out.extend_from_slice(&x[(i, j)].to_le_bytes());
        }
    }
    let s = &reduction.summary;
    out.put_u64(s.n_components as u64);
    out.put_u64(s.n_features as u64);
    out.put_u64(s.fitted_on_rows as u64);
    out.put_u32(s.solver.len() as u32);
    out.extend_from_slice(s.solver.as_bytes());
    out.put_numbers(&[s.explained_variance_ratio]);
}

/// Reads an entry's body back; an error says what is wrong with it.
fn decode_entry(r: &mut Reader<'_>) -> std::result::Result<Reduction, String> {
    let rows = r.usize()?;
    let cols = r.usize()?;
    let columns = (0..cols)
        .map(|_| r.numbers(rows))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let features = Mat::from_fn(rows, cols, |i, j| columns[j][i]);
    let n_components = r.usize()?;
    let n_features = r.usize()?;
    let fitted_on_rows = r.usize()?;
    let name_len = r.u32()? as usize;
    let name = r.take(name_len)?;
    let solver = [PcaSolver::Auto, PcaSolver::Full, PcaSolver::Randomized]
        .into_iter()
        .map(PcaSolver::name)
        .find(|known| known.as_bytes() == name)
        .ok_or_else(|| format!("unknown solver {:?}", String::from_utf8_lossy(name)))?;
    let explained_variance_ratio = r.numbers(1)?[0];
    Ok(Reduction {
        features,
        summary: PcaSummary {
            n_components,
            n_features,
            fitted_on_rows,
            solver,
            explained_variance_ratio,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduction() -> Reduction {
        Reduction {
            features: Mat::from_fn(3, 2, |i, j| match (i, j) {
                (1, 0) => f64::NAN,
                (2, 1) => -1e-300,
                _ => (i * 2 + j) as f64 * 0.25,
            }),
            summary: PcaSummary {
                n_components: 2,
                n_features: 75,
                fitted_on_rows: 40,
                solver: "randomized",
                explained_variance_ratio: 0.625,
            },
        }
    }

    /// The bits of every value of a reduction, with its record.
    fn bits(r: &Reduction) -> (usize, Vec<u64>, String) {
        let values = (0..r.features.ncols())
            .flat_map(|j| (0..r.features.nrows()).map(move |i| r.features[(i, j)].to_bits()))
            .collect();
        (r.features.nrows(), values, format!("{:?}", r.summary))
    }

    fn sealed(cache: &PcaCache, r: &Reduction) -> Vec<u8> {
        cache.entries.seal(|out| encode_entry(r, out))
    }

    #[test]
    fn entries_read_back_bit_for_bit_and_damage_is_refused() {
        let cache = PcaCache::new(Path::new("results"));
        let entry = sealed(&cache, &reduction());
        let back = cache.entries.open(&entry, decode_entry).unwrap();
        assert_eq!(bits(&back), bits(&reduction()));
        assert_eq!(back.summary.solver, "randomized");
        for i in 0..entry.len() {
            let mut damaged = entry.clone();
            damaged[i] ^= 0x04;
            assert!(
                cache.entries.open(&damaged, decode_entry).is_err(),
                "byte {i}"
            );
        }
        for n in 0..entry.len() {
            assert!(cache.entries.open(&entry[..n], decode_entry).is_err());
        }
    }

    #[test]
    fn a_solver_name_quakelab_does_not_know_is_refused() {
        let cache = PcaCache::new(Path::new("results"));
        let mut r = reduction();
        r.summary.solver = "arpack";
        let entry = sealed(&cache, &r);
        let err = cache.entries.open(&entry, decode_entry).unwrap_err();
        assert!(err.contains("unknown solver \"arpack\""), "{err}");
    }

    #[test]
    fn digests_tell_every_value_and_the_shape_apart() {
        let rows: Vec<Vec<f32>> = vec![vec![0.5, -1.0, 2.0], vec![0.0, 3.0, 4.0]];
        let digest = |rows: &[Vec<f32>], ncols| {
            MatrixDigest::of_f32_rows(rows.iter().map(Vec::as_slice), ncols)
        };
        let base = digest(&rows, 3);
        assert_eq!(digest(&rows.clone(), 3), base);
        let mut nudged = rows.clone();
        nudged[1][2] = f32::from_bits(4.0f32.to_bits() + 1);
        assert_ne!(digest(&nudged, 3), base);
        // Negative zero is another value.
        let mut signed = rows.clone();
        signed[1][0] = -0.0;
        assert_ne!(digest(&signed, 3), base);
        // The same six values as three rows of two.
        let flat: Vec<f32> = rows.concat();
        let reshaped: Vec<Vec<f32>> = flat.chunks(2).map(<[f32]>::to_vec).collect();
        assert_ne!(digest(&reshaped, 2), base);

        let x = Mat::from_fn(2, 3, |i, j| (i * 3 + j) as f64);
        let xt = Mat::from_fn(3, 2, |i, j| x[(j, i)]);
        assert_ne!(
            MatrixDigest::of_mat(x.as_ref()),
            MatrixDigest::of_mat(xt.as_ref())
        );
        let mut y = x.clone();
        y[(1, 2)] = f64::from_bits(y[(1, 2)].to_bits() + 1);
        assert_ne!(
            MatrixDigest::of_mat(x.as_ref()),
            MatrixDigest::of_mat(y.as_ref())
        );
    }

    #[test]
    fn the_key_changes_with_every_input_and_only_then() {
        let matrix = MatrixDigest::of_mat(Mat::<f64>::identity(3, 3).as_ref());
        let train = [0, 2, 5];
        let base = PcaInputs {
            matrix,
            n_components: 4,
            solver: PcaSolver::Auto,
            seed: 2009,
            train: &train,
        };
        let key = PcaKey::of(&base).unwrap();
        assert_eq!(PcaKey::of(&base).unwrap(), key);
        let other_matrix = MatrixDigest::of_mat(Mat::<f64>::identity(3, 4).as_ref());
        let fewer = [0, 2];
        let changed = [
            PcaInputs {
                matrix: other_matrix,
                ..base
            },
            PcaInputs {
                n_components: 5,
                ..base
            },
            PcaInputs {
                solver: PcaSolver::Randomized,
                ..base
            },
            PcaInputs { seed: 2010, ..base },
            PcaInputs {
                train: &fewer,
                ..base
            },
        ];
        for (i, inputs) in changed.iter().enumerate() {
            assert_ne!(PcaKey::of(inputs).unwrap(), key, "change {i}");
        }
    }

    #[test]
    fn a_stored_reduction_is_found_under_its_key_and_nowhere_else() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PcaCache::new(dir.path());
        let train = [1, 2];
        let inputs = PcaInputs {
            matrix: MatrixDigest::of_mat(Mat::<f64>::zeros(2, 2).as_ref()),
            n_components: 1,
            solver: PcaSolver::Full,
            seed: 1,
            train: &train,
        };
        let key = PcaKey::of(&inputs).unwrap();
        assert!(cache.read(&key).is_none());
        cache.write(&key, &reduction());
        let path = cache_dir(dir.path())
            .join(&key.0[..2])
            .join(format!("{}.qlpca", key.0));
        assert!(path.is_file(), "{}", path.display());
        assert_eq!(bits(&cache.read(&key).unwrap()), bits(&reduction()));
        let other = PcaKey::of(&PcaInputs { seed: 2, ..inputs }).unwrap();
        assert!(cache.read(&other).is_none());
    }
}
