//! The encoder seam (N x C x H x W batches streamed from a GNSS stack), the encoder registry in
//! experiment files, and the PCA solvers against scikit-learn on a closed-form spectrum
//! (`tools/ref_pca_randomized.py`).

use std::sync::Mutex;

use faer::{Mat, MatRef};
use quakelab::Error;
use quakelab::catalog::Region;
use quakelab::device::Device;
use quakelab::encode::{
    EncodeContext, EncoderKind, FeatureRows, FlatImages, FlattenEncoder, ImageBatch, ImageEncoder,
    PcaParams, PcaSolver, encode_stack, select_rows,
};
use quakelab::experiment::config::{self, Layers};
use quakelab::gnss::grid::GridSpec;
use quakelab::gnss::stack::ImageStack;
use quakelab::period::Period;

use crate::support::{fixture, read_csv};

// ---------------------------------------------------------------- the batch seam

/// A stack of `days` days over a 2 x 3 grid whose value at (day, row, col, channel) is
/// `1000·day + 100·row + 10·col + channel`, so every value names its own position.
fn positional_stack(days: usize) -> ImageStack {
    let grid = GridSpec {
        rows: 2,
        cols: 3,
        ..GridSpec::paper(Region::JAPAN)
    }
    .check()
    .unwrap();
    let start: jiff::civil::Date = "2020-02-27".parse().unwrap();
    let end = start
        .checked_add(jiff::Span::new().days(days as i64))
        .unwrap();
    let mut data = Vec::new();
    for d in 0..days {
        for r in 0..2 {
            for c in 0..3 {
                for k in 0..3 {
                    data.push((1000 * d + 100 * r + 10 * c + k) as f32);
                }
            }
        }
    }
    ImageStack::new(grid, Period::new(start, end).unwrap(), data).unwrap()
}

/// Records the size of every batch it is given, and encodes each image as its first value
/// and its channel count.
#[derive(Default)]
struct Recorder {
    sizes: Mutex<Vec<usize>>,
}

impl ImageEncoder for Recorder {
    fn name(&self) -> String {
        "recorder".into()
    }

    fn encode(&self, batch: &ImageBatch<'_>, _ctx: &EncodeContext) -> quakelab::Result<Mat<f64>> {
        self.sizes.lock().unwrap().push(batch.n());
        let channels = batch.shape().channels as f64;
        Ok(Mat::from_fn(batch.n(), 2, |i, j| match j {
            0 => f64::from(batch.image(i).unwrap()[0]),
            _ => channels,
        }))
    }
}

fn context(batch_size: usize) -> EncodeContext {
    EncodeContext::new(batch_size, Device::Cpu, 7).unwrap()
}

#[test]
fn a_stack_is_streamed_in_batches_of_the_batch_size() {
    let stack = positional_stack(5);
    let days = [4, 0, 2, 3];
    let recorder = Recorder::default();
    let x = encode_stack(&recorder, &stack, &days, &context(3)).unwrap();
    assert_eq!(*recorder.sizes.lock().unwrap(), [3, 1]);
    // Each image's first value is (row 0, col 0, channel N) = 1000·day.
    let first: Vec<f64> = (0..4).map(|i| x[(i, 0)]).collect();
    assert_eq!(first, [4000.0, 0.0, 2000.0, 3000.0]);
    assert!((0..4).all(|i| x[(i, 1)] == 3.0));
}

#[test]
fn flatten_features_are_each_days_pixels_cell_by_cell() {
    let stack = positional_stack(5);
    let days = [4, 0, 2];
    for batch_size in [1, 2, 64] {
        let x = encode_stack(&FlattenEncoder, &stack, &days, &context(batch_size)).unwrap();
        assert_eq!((x.nrows(), x.ncols()), (3, 18));
        for (i, &d) in days.iter().enumerate() {
            // Column (row·3 + col)·3 + channel holds 1000·day + 100·row + 10·col + channel.
            for r in 0..2 {
                for c in 0..3 {
                    for k in 0..3 {
                        let expected = (1000 * d + 100 * r + 10 * c + k) as f64;
                        assert_eq!(x[(i, (r * 3 + c) * 3 + k)], expected);
                    }
                }
            }
        }
    }
}

#[test]
fn an_image_with_missing_cells_is_refused_with_its_date() {
    let stack = positional_stack(3);
    let mut data = stack.data().to_vec();
    data[18 + 4] = f32::NAN;
    let stack = ImageStack::new(*stack.grid(), *stack.period(), data).unwrap();
    let err = encode_stack(&FlattenEncoder, &stack, &[0, 1], &context(8)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the GNSS image of 2020-02-28 (day 1) has 1 missing values of 18; days with missing \
         cells are dropped from the daily table, never filled"
    );
    let err = encode_stack(&FlattenEncoder, &stack, &[0, 3], &context(8)).unwrap_err();
    assert!(err.to_string().contains("day 3 is beyond"), "{err}");
    // The view the paper run reads instead of the stored matrix refuses the same days.
    let err = FlatImages::new(&stack, &[0, 1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the GNSS image of 2020-02-28 (day 1) has 1 missing values of 18; days with missing \
         cells are dropped from the daily table, never filled"
    );
    let err = FlatImages::new(&stack, &[0, 3]).unwrap_err();
    assert!(err.to_string().contains("day 3 is beyond"), "{err}");
}

#[test]
fn flat_images_borrow_each_days_image_from_the_stack() {
    let stack = positional_stack(5);
    let days = [4, 0, 2];
    let view = FlatImages::new(&stack, &days).unwrap();
    // No copy: the view holds the stack itself, and each row is the stack's own day.
    assert!(std::ptr::eq(view.stack(), &stack));
    for (i, &d) in days.iter().enumerate() {
        assert_eq!(view.row(i).as_ptr(), stack.day(d).as_ptr());
    }
    assert_eq!((view.nrows(), view.ncols()), (3, 18));
    let x = view.to_mat();
    for (i, &d) in days.iter().enumerate() {
        for r in 0..2 {
            for c in 0..3 {
                for k in 0..3 {
                    let expected = (1000 * d + 100 * r + 10 * c + k) as f64;
                    assert_eq!(x[(i, (r * 3 + c) * 3 + k)], expected);
                }
            }
        }
    }
    let picked = view.select(&[2, 0]).unwrap();
    assert_eq!((picked[(0, 0)], picked[(1, 17)]), (2000.0, 4122.0));
    assert!(view.select(&[3]).is_err());
    let shifted = view.shifted(1, 2, &[1.0; 18]);
    assert_eq!((shifted[(0, 0)], shifted[(1, 17)]), (-1.0, 2121.0));
}

#[test]
fn pca_of_flat_images_equals_pca_of_the_stored_flatten_matrix_bit_for_bit() {
    // 150 days (more than one block of rows) of irregular values over the 2 x 3 grid.
    let stack = positional_stack(150);
    let data: Vec<f32> = (0..stack.data().len())
        .map(|i| ((i as f32) * 0.37).sin() * 10.0 + (i % 7) as f32)
        .collect();
    let stack = ImageStack::new(*stack.grid(), *stack.period(), data).unwrap();
    let days: Vec<usize> = (3..150).rev().collect();
    let train: Vec<usize> = (0..days.len()).filter(|i| i % 3 != 1).collect();
    let stored = encode_stack(&FlattenEncoder, &stack, &days, &context(16)).unwrap();
    let view = FlatImages::new(&stack, &days).unwrap();
    let bits = |x: &Mat<f64>| -> Vec<u64> {
        (0..x.ncols())
            .flat_map(|j| (0..x.nrows()).map(move |i| x[(i, j)].to_bits()))
            .collect()
    };
    assert_eq!(bits(&view.to_mat()), bits(&stored));
    for solver in [PcaSolver::Full, PcaSolver::Randomized] {
        let params = PcaParams::new(4).solver(solver).seed(11);
        let from_stored = params.fit(stored.as_ref(), &train).unwrap();
        let from_view = params.fit(view, &train).unwrap();
        assert_eq!(from_view.mean(), from_stored.mean());
        assert_eq!(
            from_view.explained_variance(),
            from_stored.explained_variance()
        );
        let z_stored = from_stored.transform(stored.as_ref()).unwrap();
        let z_view = from_view.transform(view).unwrap();
        assert_eq!((z_view.nrows(), z_view.ncols()), (days.len(), 4));
        assert_eq!(bits(&z_view), bits(&z_stored), "{solver:?}");
    }
}

// ---------------------------------------------------------------- the registry in experiment files

fn resolve_encoder(
    dir: &std::path::Path,
    overrides: &[&str],
) -> quakelab::Result<config::EncoderSettings> {
    let file = dir.join("e.toml");
    std::fs::write(
        &file,
        "name = \"e\"\ndecoders = [{ kind = \"climatology\" }]\n",
    )
    .unwrap();
    let layers = Layers {
        file: Some(file),
        ..Layers::default()
    }
    .with_overrides(overrides.iter().map(|s| s.to_string()));
    config::resolve(&layers).map(|r| r.encoder().clone())
}

#[test]
fn every_encoder_kind_and_pca_solver_is_accepted_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (&kind, &name) in EncoderKind::ALL.iter().zip(EncoderKind::KINDS) {
        // The ViT resolves without any download with declared random weights.
        let settings = resolve_encoder(
            dir.path(),
            &[
                &format!("encoder.kind={name}"),
                "encoder.vit.weights=random",
            ],
        )
        .unwrap();
        assert_eq!(settings.kind, kind);
    }
    assert!(EncoderKind::KINDS.contains(&"none"));
    let none = resolve_encoder(dir.path(), &["encoder.kind=none"]).unwrap();
    assert!(!none.kind.uses_images());
    for (name, solver) in [
        ("auto", PcaSolver::Auto),
        ("full", PcaSolver::Full),
        ("randomized", PcaSolver::Randomized),
    ] {
        let settings =
            resolve_encoder(dir.path(), &[&format!("encoder.pca_solver={name}")]).unwrap();
        assert_eq!(settings.pca_solver, solver);
    }
    let err = resolve_encoder(dir.path(), &["encoder.kind=vit2"]).unwrap_err();
    assert!(err.to_string().contains("encoder.kind"), "{err}");
    let err = resolve_encoder(dir.path(), &["encoder.batch_size=0"]).unwrap_err();
    assert!(
        matches!(&err, Error::Config { key, .. } if key == "encoder.batch_size"),
        "{err}"
    );
}

/// A two-year synthetic experiment on an 8 x 8 grid (192 flattened features), GNSS only.
const ALL_COMPONENTS: &str = r#"
name = "pca_all"
seed = 3
decoders = [{ kind = "climatology" }]
[period]
start = "2010-01-01"
end = "2012-01-01"
[features.seismicity]
window_days = 64
[features.gnss]
grid = "8x8"
[encoder]
kind = "flatten"
pca_dims = 192
pca_solver = "randomized"
[split]
kinds = ["random", "chronological"]
[ablations]
modalities = ["gnss"]
"#;

#[test]
fn a_run_logs_the_pca_explained_variance_per_split() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pca_all.toml");
    std::fs::write(&file, ALL_COMPONENTS).unwrap();
    let results = dir.path().join("results");
    let layers = Layers {
        file: Some(file),
        ..Layers::default()
    }
    .with_overrides([format!("tracking.results_dir={}", results.display())]);
    let experiment = config::resolve(&layers).unwrap();
    let outcome = quakelab::experiment::runner::run(&experiment).unwrap();
    let (header, rows) = read_csv(&outcome.run_dir.join("metrics.csv"));
    let (key, value, step) = (
        header.iter().position(|h| h == "key").unwrap(),
        header.iter().position(|h| h == "value").unwrap(),
        header.iter().position(|h| h == "step").unwrap(),
    );
    // All 192 components of 192 features keep all of the training rows' variance.
    for (split, expected_step) in [("random", "0"), ("chronological", "1")] {
        let name = format!("pca_explained_variance_ratio_{split}");
        let row = rows.iter().find(|r| r[key] == name).unwrap();
        let ratio: f64 = row[value].parse().unwrap();
        assert!((ratio - 1.0).abs() < 1e-9, "{name} = {ratio}");
        assert_eq!(row[step], expected_step);
    }
}

// ---------------------------------------------------------------- section 3: the pca_dims key

#[test]
fn pca_dims_errors_name_encoder_pca_dims() {
    let x = Mat::from_fn(3, 4, |i, j| (i * 4 + j * j) as f64);
    let err = PcaParams::new(4).fit(x.as_ref(), &[0, 1, 2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "setting `encoder.pca_dims`: must lie in 1..=3 (the fewer of 3 training rows and 4 \
         features), got 4"
    );
}

// ---------------------------------------------------------------- PCA solvers vs scikit-learn

/// The constants of `tools/ref_pca_randomized.py`, checked against its `spectrum_params.csv`.
const N: usize = 600;
const P: usize = 2000;
const RANK: usize = 200;
const K: usize = 50;
const SCALE: f64 = 50.0;
const DECAY: f64 = 0.9;
const FREQUENCY_STEP: usize = 37;

fn numbers(name: &str) -> Vec<Vec<f64>> {
    let (_, rows) = read_csv(&fixture("pca", name));
    rows.iter()
        .map(|r| r.iter().map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// `X = Σ_m s_m u_m v_mᵀ` with orthonormal DCT-II vectors, exactly as the fixture script
/// builds it: its singular values are exactly `s_m = 50·0.9^(m−1)` and its column means 0.
fn spectrum_matrix() -> Mat<f64> {
    let params = &numbers("spectrum_params.csv")[0];
    let expected = [N, P, RANK, K].map(|v| v as f64);
    assert_eq!(&params[..4], &expected);
    assert_eq!(&params[4..], &[SCALE, DECAY, FREQUENCY_STEP as f64]);
    let pi = std::f64::consts::PI;
    let s = |m: usize| SCALE * DECAY.powi(m as i32 - 1);
    let us = Mat::from_fn(N, RANK, |i, c| {
        let m = c + 1;
        s(m) * (2.0 / N as f64).sqrt() * (pi * (i as f64 + 0.5) * m as f64 / N as f64).cos()
    });
    let v = Mat::from_fn(P, RANK, |j, c| {
        let f = (FREQUENCY_STEP * (c + 1)) % (P - 1);
        (2.0 / P as f64).sqrt() * (pi * (j as f64 + 0.5) * f as f64 / P as f64).cos()
    });
    &us * v.transpose()
}

/// The cosines of the principal angles between the column spaces of two p × k matrices with
/// orthonormal columns: the singular values of `aᵀb`.
fn principal_cosines(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Vec<f64> {
    let m = a.transpose() * b;
    m.singular_values().unwrap()
}

// Why these tolerances: the spectrum decays by 0.9 per component, the randomized solver keeps
// l = k + 10 = 60 directions and runs q = 7 power iterations (k = 50 < 0.1·600). Halko et al.
// (2011, §10.4) bound the error of component j by (σ_{l+1}/σ_j)^(2q+1) ≤ (0.9^11)^15 ≈ 3e-8 for
// its direction and by the square of that for its variance, so both solvers must agree with
// the exact SVD to rounding: 1e-9 relative on variances, 1e-7 of the first score's scale on
// scores (the scores of component j are mixed with those of later, smaller components by at
// most that angle), and principal-angle cosines within 1e-12 of 1.
#[test]
fn pca_solvers_match_scikit_learn_on_a_known_spectrum() {
    let x = spectrum_matrix();
    let rows: Vec<usize> = (0..N).collect();
    let variance = numbers("spectrum_variance.csv");
    let scores = numbers("spectrum_scores.csv");
    let mut fits = Vec::new();
    for solver in [PcaSolver::Full, PcaSolver::Randomized] {
        let pca = PcaParams::new(K)
            .solver(solver)
            .seed(2026)
            .fit(x.as_ref(), &rows)
            .unwrap();
        assert_eq!(pca.solver(), solver);
        for (c, expected) in variance.iter().enumerate() {
            let (ev, ratio) = (expected[1], expected[2]);
            // The closed form, independent of scikit-learn: s_m²/(n − 1).
            let closed = (SCALE * DECAY.powi(c as i32)).powi(2) / (N - 1) as f64;
            assert!((ev - closed).abs() <= 1e-10 * closed);
            let got = pca.explained_variance()[c];
            assert!(
                (got - ev).abs() <= 1e-9 * ev,
                "{solver:?} pc{c}: {got} vs {ev}"
            );
            let got = pca.explained_variance_ratio()[c];
            assert!(
                (got - ratio).abs() <= 1e-9 * ratio,
                "{solver:?} pc{c}: {got}"
            );
        }
        let sampled: Vec<usize> = scores.iter().map(|r| r[0] as usize).collect();
        let z = pca
            .transform(select_rows(x.as_ref(), &sampled).unwrap().as_ref())
            .unwrap();
        let scale = scores.iter().map(|r| r[1].abs()).fold(0.0, f64::max);
        for c in 0..K {
            // Signs are compared up to a flip: a DCT vector's largest loadings come in
            // mirrored pairs of equal magnitude, so the sign rule is decided by rounding.
            let sign = if z[(0, c)] * scores[0][1 + c] < 0.0 {
                -1.0
            } else {
                1.0
            };
            for (i, expected) in scores.iter().enumerate() {
                let diff = (sign * z[(i, c)] - expected[1 + c]).abs();
                assert!(diff <= 1e-7 * scale, "{solver:?} row {i} pc{c}: {diff}");
            }
        }
        fits.push(pca);
    }
    let cosines = principal_cosines(fits[0].components(), fits[1].components());
    assert_eq!(cosines.len(), K);
    assert!(
        cosines.iter().all(|c| (c - 1.0).abs() <= 1e-12),
        "{cosines:?}"
    );
}

#[test]
fn randomized_pca_is_reproducible_by_seed() {
    let x = spectrum_matrix();
    let rows: Vec<usize> = (0..N).step_by(2).collect();
    let fit = |seed| {
        PcaParams::new(20)
            .solver(PcaSolver::Randomized)
            .seed(seed)
            .fit(x.as_ref(), &rows)
            .unwrap()
    };
    let (a, b, other) = (fit(1), fit(1), fit(2));
    assert_eq!(a.components(), b.components());
    assert_eq!(a.explained_variance(), b.explained_variance());
    assert_ne!(a.components(), other.components());
    let cosines = principal_cosines(a.components(), other.components());
    assert!(
        cosines.iter().all(|c| (c - 1.0).abs() <= 1e-12),
        "{cosines:?}"
    );
}
