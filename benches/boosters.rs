//! The overhead of quakelab's boosters over the official Python packages, on the paper's fused
//! shape: 3,800 days × 500 features (498 ViT components + b + a, paper §2), one thread, a fixed
//! seed, 100 rounds of depth-6 trees at learning rate 0.1.
//!
//! Each library is timed twice: `fit` (the table handed over, the model trained) and `predict`
//! (the 3,800 training rows predicted). quakelab runs the same compiled library as the Python
//! package (libxgboost.so, lib_lightgbm.so, CatBoost's worker process), so the difference is
//! the binding: data conversion, calls, and for CatBoost the binary exchange with the worker.
//!
//! The table is written to `target/bench-boosters/` (`x.f64`, `y.f64`: little-endian, row-major)
//! so that `tools/bench_boosters_reference.py` times the Python packages on the identical
//! numbers; `tools/bench-boosters.sh` runs both and prints the ratios.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Mat;
use quakelab::decode::{DecoderConfig, FitContext, Regressor};
use quakelab::rng;
use rand::Rng;
use rand_distr::StandardNormal;

const N_ROWS: usize = 3_800;
const N_FEATURES: usize = 500;
const SEED: u64 = 2024;

/// Each library's settings, in its own parameter names: the same trees everywhere, and the same
/// parameters as the Python reference (logging off for LightGBM and CatBoost there and here).
const SETTINGS: [(&str, &[&str]); 3] = [
    (
        "xgboost",
        &[
            "decoder.num_boost_round=100",
            "decoder.max_depth=6",
            "decoder.eta=0.1",
            "decoder.nthread=1",
            "decoder.seed=0",
        ],
    ),
    (
        "lightgbm",
        &[
            "decoder.num_iterations=100",
            "decoder.max_depth=6",
            "decoder.learning_rate=0.1",
            "decoder.num_threads=1",
            "decoder.seed=0",
            "decoder.verbose=-1",
        ],
    ),
    (
        "catboost",
        &[
            "decoder.iterations=100",
            "decoder.depth=6",
            "decoder.learning_rate=0.1",
            "decoder.thread_count=1",
            "decoder.random_seed=0",
            "decoder.verbose=false",
        ],
    ),
];

/// Standard normal features; the target is a sum of a few nonlinear terms plus noise.
fn table() -> (Mat<f64>, Vec<f64>) {
    let mut rng = rng::stream(SEED, "bench.boosters");
    let x = Mat::from_fn(N_ROWS, N_FEATURES, |_, _| {
        rng.sample::<f64, _>(StandardNormal)
    });
    let y = (0..N_ROWS)
        .map(|i| {
            (2.0 * x[(i, 0)]).sin()
                + 0.5 * x[(i, 1)] * x[(i, 1)]
                + 0.8 * x[(i, 2)] * x[(i, 3)]
                + x[(i, 498)]
                - 0.5 * x[(i, 499)]
                + 0.3 * rng.sample::<f64, _>(StandardNormal)
        })
        .collect();
    (x, y)
}

/// Writes the table where the Python reference reads it.
fn write_table(x: &Mat<f64>, y: &[f64]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-boosters");
    std::fs::create_dir_all(&dir).expect("the bench folder can be made");
    let mut bytes = Vec::with_capacity(N_ROWS * N_FEATURES * 8);
    for i in 0..N_ROWS {
        for j in 0..N_FEATURES {
            bytes.extend_from_slice(&x[(i, j)].to_le_bytes());
        }
    }
    std::fs::write(dir.join("x.f64"), bytes).expect("x.f64 is written");
    let y_bytes: Vec<u8> = y.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("y.f64"), y_bytes).expect("y.f64 is written");
}

fn model(kind: &str, overrides: &[&str], names: &[String]) -> Box<dyn Regressor> {
    let mut config = DecoderConfig::from_kind(kind).expect("the booster is compiled in");
    for assignment in overrides {
        config.apply_override(assignment).expect("valid setting");
    }
    config.build(names).expect("the booster builds")
}

fn bench_boosters(c: &mut Criterion) {
    let (x, y) = table();
    write_table(&x, &y);
    let names: Vec<String> = (0..N_FEATURES).map(|j| format!("x{j}")).collect();
    let ctx = FitContext::new(0);
    let mut group = c.benchmark_group("boosters_3800x500");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for (kind, overrides) in SETTINGS {
        group.bench_function(format!("{kind}_fit"), |b| {
            b.iter(|| {
                let mut m = model(kind, overrides, &names);
                m.fit(black_box(x.as_ref()), black_box(&y), &ctx)
                    .expect("the fit succeeds");
                m
            })
        });
        let mut fitted = model(kind, overrides, &names);
        fitted.fit(x.as_ref(), &y, &ctx).expect("the fit succeeds");
        group.bench_function(format!("{kind}_predict"), |b| {
            b.iter(|| {
                fitted
                    .predict(black_box(x.as_ref()))
                    .expect("the prediction succeeds")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_boosters);
criterion_main!(benches);
