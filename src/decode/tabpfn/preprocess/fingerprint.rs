//! The fingerprint column (the package's `AddFingerprintFeaturesStep`): a hash of each row, so
//! that the model can tell identical rows apart.
//!
//! A row's value is `sha256(the little-endian f64 bytes of (row + salt))` read as a big integer,
//! modulo 10¹², divided by 10¹²: a number in [0, 1) that depends on the row only, not on its
//! position. The salt is drawn per member in [0, 2¹⁶).
//!
//! Train rows: a row whose value was already given to an earlier train row (a duplicate) is
//! re-hashed as `(row + salt) + k` for k = 1, 2, … until its value is new (rows that are all
//! missing keep the shared value), as the package does.
//!
//! Test rows are hashed as `(row + salt) + salt`, without the collision re-hash. This is the
//! package's quirk (2.2.1 adds the salt twice for test rows), and we copy it on purpose: the
//! package is the behavioural reference, and with the quirk a test row that duplicates a train
//! row gets the same unrelated value there and here, so an ensemble member sees the inputs the
//! package's member sees. It only matters for duplicated rows; the model is not told that a test
//! row equals a train row either way.

use std::collections::HashSet;

use faer::MatRef;
use rand::Rng;
use sha2::{Digest, Sha256};

/// The hash modulus: values are multiples of 10⁻¹² in [0, 1).
const MODULUS: u64 = 1_000_000_000_000;

/// One member's fingerprint: the salt it hashes rows with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    salt: u32,
}

impl Fingerprint {
    /// A fingerprint with a salt drawn uniformly from [0, 2¹⁶).
    pub fn random(rng: &mut impl Rng) -> Fingerprint {
        Fingerprint {
            salt: rng.random_range(0..1 << 16),
        }
    }

    /// A fingerprint with the given salt (fixtures, tests).
    pub fn with_salt(salt: u32) -> Fingerprint {
        Fingerprint { salt }
    }

    /// The salt.
    pub fn salt(&self) -> u32 {
        self.salt
    }

    /// The fingerprint of each train row, duplicates re-hashed until unique.
    pub fn train_column(&self, x: MatRef<'_, f64>) -> Vec<f64> {
        let salt = f64::from(self.salt);
        let mut seen: HashSet<u64> = HashSet::new();
        (0..x.nrows())
            .map(|i| {
                let salted: Vec<f64> = (0..x.ncols()).map(|j| x[(i, j)] + salt).collect();
                let all_missing = salted.iter().all(|v| v.is_nan());
                let mut h = row_hash(salted.iter().copied());
                let mut k = 0.0;
                while seen.contains(&h.to_bits()) && !all_missing {
                    k += 1.0;
                    h = row_hash(salted.iter().map(|v| v + k));
                }
                seen.insert(h.to_bits());
                h
            })
            .collect()
    }

    /// The fingerprint of each test row: `(row + salt) + salt`, no re-hash (see the module doc).
    pub fn test_column(&self, x: MatRef<'_, f64>) -> Vec<f64> {
        let salt = f64::from(self.salt);
        (0..x.nrows())
            .map(|i| row_hash((0..x.ncols()).map(|j| (x[(i, j)] + salt) + salt)))
            .collect()
    }
}

/// sha256 of the values' little-endian bytes, as a big-endian integer mod 10¹², over 10¹².
fn row_hash(values: impl Iterator<Item = f64>) -> f64 {
    let mut hasher = Sha256::new();
    for v in values {
        hasher.update(v.to_le_bytes());
    }
    let digest = hasher.finalize();
    let rest = digest
        .iter()
        .fold(0u64, |r, &b| (r * 256 + u64::from(b)) % MODULUS);
    // Both are below 2^53, so the conversions are exact and the quotient is correctly rounded,
    // as Python's int / int.
    rest as f64 / MODULUS as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tabpfn::preprocess::fixture;

    #[test]
    fn one_row_hashes_as_python_hashlib_does() {
        let scalars = fixture::scalars();
        let salt = scalars["fingerprint_salt"].as_f64().unwrap();
        let row: Vec<f64> = scalars["fingerprint_row"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let expected = scalars["fingerprint_hash"].as_f64().unwrap();
        assert_eq!(row_hash(row.iter().map(|v| v + salt)), expected);
    }

    #[test]
    fn train_and_test_columns_match_the_package() {
        let salt = fixture::scalars()["fingerprint_salt"].as_u64().unwrap() as u32;
        let fingerprint = Fingerprint::with_salt(salt);
        let train = fixture::matrix("fingerprint_train");
        let test = fixture::matrix("fingerprint_test");
        let train_out = fingerprint.train_column(train.as_ref());
        let test_out = fingerprint.test_column(test.as_ref());
        assert_eq!(train_out, fixture::vector("fingerprint_train_out"));
        assert_eq!(test_out, fixture::vector("fingerprint_test_out"));
        // Rows 0, 2 and 4 are the same row: the re-hash made their values differ.
        assert_ne!(train_out[0], train_out[2]);
        assert_ne!(train_out[2], train_out[4]);
    }

    #[test]
    fn the_salt_is_below_two_to_the_sixteen() {
        let mut rng = crate::rng::stream(1, "t");
        for _ in 0..100 {
            assert!(Fingerprint::random(&mut rng).salt() < 1 << 16);
        }
    }
}
