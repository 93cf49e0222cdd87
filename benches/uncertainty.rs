//! Benchmarks of the moving-block bootstrap of R², MSE and MAE on the scale of one run's test
//! split: 1,000 and 3,000 test days (a chronological 30 % of the paper's ~10-year period, and
//! of a 30-year one), 1,000 resamples (the `evaluation.bootstrap_resamples` default), blocks
//! of 50 days. A run bootstraps every decoder of every modality and split, so this is the cost
//! the intervals add per table row.
//!
//! Labels and predictions are a seeded AR(1) series (φ = 0.98) and a noisy copy of it.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use quakelab::eval::{BootstrapSettings, bootstrap_metrics};
use quakelab::rng;
use rand::Rng;
use rand_distr::StandardNormal;

const SEED: u64 = 2026;

fn series(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = rng::stream(SEED, "bench.uncertainty");
    let mut level = 0.0;
    let mut truth = Vec::with_capacity(n);
    let mut predicted = Vec::with_capacity(n);
    for _ in 0..n {
        let e: f64 = rng.sample(StandardNormal);
        let noise: f64 = rng.sample(StandardNormal);
        level = 0.98 * level + e;
        truth.push(level);
        predicted.push(level + 0.5 * noise);
    }
    (truth, predicted)
}

fn bench_bootstrap(c: &mut Criterion) {
    let mut group = c.benchmark_group("bootstrap_metrics");
    group.sample_size(20);
    for n in [1_000, 3_000] {
        let (truth, predicted) = series(n);
        let settings = BootstrapSettings {
            resamples: 1_000,
            block_length: 50,
            level: 0.95,
            seed: SEED,
        };
        let id = BenchmarkId::new("moving_block", format!("rows={n},resamples=1000,block=50"));
        group.bench_function(id, |b| {
            b.iter(|| {
                bootstrap_metrics(black_box(&truth), black_box(&predicted), &settings)
                    .expect("bootstrap")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_bootstrap);
criterion_main!(benches);
