//! Benchmarks of the PCA on the paper's scale: 2,000 training days of flattened 50 x 50 x 3
//! GNSS images (7,500 features), reduced to 16 components (the spine's default) and to 498
//! (the paper's ViT feature count, paper §2).
//!
//! The data is low-rank plus noise with a fixed seed: 64 directions whose scales decay by 0.9
//! each, plus Gaussian noise at 1 % of the leading scale, so that both solvers face a
//! realistic spectrum. Each setting times the whole fit (selection of the training rows,
//! centring, SVD, sign flip). The exact solver is timed once, at k = 498: its cost does not
//! depend on k, and it is what `encoder.pca_solver = "full"` runs.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use faer::Mat;
use quakelab::encode::{PcaParams, PcaSolver};
use quakelab::rng;
use rand::Rng;
use rand_distr::StandardNormal;

const N_ROWS: usize = 2_000;
const N_FEATURES: usize = 7_500;
const RANK: usize = 64;
const SEED: u64 = 2024;

fn images() -> Mat<f64> {
    let mut rng = rng::stream(SEED, "bench.pca");
    let mut normal = || -> f64 { rng.sample(StandardNormal) };
    let scores = Mat::from_fn(N_ROWS, RANK, |_, c| normal() * 0.9_f64.powi(c as i32));
    let loadings = Mat::from_fn(RANK, N_FEATURES, |_, _| normal());
    let mut x = &scores * &loadings;
    for j in 0..N_FEATURES {
        for i in 0..N_ROWS {
            x[(i, j)] += 0.01 * normal();
        }
    }
    x
}

fn bench_pca(c: &mut Criterion) {
    let x = images();
    let rows: Vec<usize> = (0..N_ROWS).collect();
    let mut group = c.benchmark_group("pca");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for (solver, k, seconds) in [
        (PcaSolver::Randomized, 16, 20),
        (PcaSolver::Randomized, 498, 60),
        (PcaSolver::Full, 498, 120),
    ] {
        group.measurement_time(Duration::from_secs(seconds));
        let params = PcaParams::new(k).solver(solver).seed(SEED);
        let id = BenchmarkId::new(
            solver.name(),
            format!("rows={N_ROWS},features={N_FEATURES},k={k}"),
        );
        group.bench_function(id, |b| {
            b.iter(|| params.fit(black_box(x.as_ref()), &rows).expect("PCA fit"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_pca);
criterion_main!(benches);
