//! One full-size TabPFN v2 forward on the CPU (burn-flex): the official regressor's architecture
//! (emsize 192, 6 heads, 12 layers, 5000 buckets) with random weights, 1,000 training rows x 200
//! test rows x 50 features, in the deterministic configuration (one member, no preprocessing):
//! the training pass with its cached keys and values, then the test rows' logits.
//!
//! The weights are the checkpoint named by `QUAKELAB_TABPFN_BENCH_CKPT` (what
//! `tools/bench_tabpfn_reference.py save` writes, so that both sides run the same file), else
//! seeded random weights of the same architecture (the arithmetic does not depend on the
//! values). `tools/bench-tabpfn.sh` runs this and the official package in one go and prints the
//! ratio and quakelab's peak memory.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use quakelab::decode::tabpfn::architecture::Architecture;
use quakelab::decode::tabpfn::model::TabPfnModel;
use quakelab::decode::tabpfn::weights::TabPfnWeights;
use rand::Rng;

const N_TRAIN: usize = 1_000;
const N_TEST: usize = 200;
const N_FEATURES: usize = 50;

fn bench_tabpfn(c: &mut Criterion) {
    let weights = match std::env::var_os("QUAKELAB_TABPFN_BENCH_CKPT") {
        Some(path) => TabPfnWeights::read(Path::new(&path)).expect("the benchmark checkpoint"),
        None => TabPfnWeights::random(Architecture::official_v2(), 0),
    };
    let device = quakelab::device::Device::Cpu
        .burn()
        .expect("the CPU backend");
    let model = TabPfnModel::new(&weights, &device).expect("the model");
    let mut rng = quakelab::rng::stream(0, "bench.tabpfn.data");
    let mut normal = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                // Box-Muller: standard normal features, like the Python side's.
                let (u, v): (f32, f32) = (rng.random_range(1e-7..1.0), rng.random());
                (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
            })
            .collect()
    };
    let x_train = normal(N_TRAIN * N_FEATURES);
    let x_test = normal(N_TEST * N_FEATURES);
    let y_train: Vec<f32> = (0..N_TRAIN)
        .map(|i| {
            x_train[i * N_FEATURES..(i + 1) * N_FEATURES]
                .iter()
                .sum::<f32>()
                / 7.0
        })
        .collect();
    let mut group = c.benchmark_group("tabpfn");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("v2_forward_1000x200x50", |b| {
        b.iter(|| {
            let state = model
                .fit(black_box(&x_train), N_FEATURES, black_box(&y_train))
                .expect("the training pass");
            black_box(
                model
                    .logits(&state, black_box(&x_test))
                    .expect("the logits"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_tabpfn);
criterion_main!(benches);
