//! Reading the parity fixtures of `tools/parity/make_tabpfn_preprocess.py` (tests only).

use std::path::PathBuf;

use faer::Mat;

use crate::io::npy::{self, NpyData};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tabpfn_preprocess")
        .join(name)
}

/// The values and shape of `<name>.npy` (float64).
fn read(name: &str) -> (Vec<usize>, Vec<f64>) {
    let array = npy::read(&path(&format!("{name}.npy"))).unwrap();
    match array.data {
        NpyData::F64(v) => (array.shape, v),
        NpyData::F32(_) => panic!("{name}.npy is not float64"),
    }
}

/// A 2-D fixture as a matrix (the file is in C order).
pub fn matrix(name: &str) -> Mat<f64> {
    let (shape, v) = read(name);
    assert_eq!(shape.len(), 2, "{name}");
    Mat::from_fn(shape[0], shape[1], |i, j| v[i * shape[1] + j])
}

/// A 1-D fixture.
pub fn vector(name: &str) -> Vec<f64> {
    let (shape, v) = read(name);
    assert_eq!(shape.len(), 1, "{name}");
    v
}

/// `scalars.json`.
pub fn scalars() -> serde_json::Value {
    let text = std::fs::read_to_string(path("scalars.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Asserts `got` equals `want` element by element within `tol * max(1, |want|)`, NaN only where
/// `want` is NaN.
pub fn assert_close(got: &Mat<f64>, want: &Mat<f64>, tol: f64, what: &str) {
    assert_eq!(
        (got.nrows(), got.ncols()),
        (want.nrows(), want.ncols()),
        "{what}: shape"
    );
    for j in 0..want.ncols() {
        for i in 0..want.nrows() {
            let (g, w) = (got[(i, j)], want[(i, j)]);
            if w.is_nan() {
                assert!(g.is_nan(), "{what}[{i}, {j}]: got {g}, want NaN");
            } else {
                assert!(
                    (g - w).abs() <= tol * w.abs().max(1.0),
                    "{what}[{i}, {j}]: got {g}, want {w}"
                );
            }
        }
    }
}
