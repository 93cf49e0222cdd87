//! Benchmarks of the seismicity hot paths on a 15-year synthetic catalog (fixed seeds):
//! b/a sliding windows (128 days, step 1) and KDE labels (Scott bandwidth), 100k events over
//! 5,475 days. `tools/bench_seismicity_reference.py` times the plain Python peer on the same sizes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use quakelab::catalog::Selection;
use quakelab::rng;
use quakelab::seismicity::bvalue::{
    BEstimator, BValueParams, McChoice, WindowSpec, sliding_b_values,
};
use quakelab::seismicity::kde::{Bandwidth, KdeParams, LabelScale, kde_labels};
use rand::Rng;

const N_EVENTS: usize = 100_000;
const N_DAYS: usize = 5_475;
const SEED: u64 = 2024;

/// A uniform background (3/4 of the events) plus bursts decaying over a few days, with
/// Gutenberg-Richter magnitudes (b = 1) binned to 0.1 from 2.0 up.
fn synthetic_catalog() -> Selection {
    let mut rng = rng::stream(SEED, "bench.seismicity");
    let beta = std::f64::consts::LN_10;
    let mut events: Vec<(f64, f64)> = (0..N_EVENTS)
        .map(|i| {
            let t = if i % 4 == 0 {
                let start = (i / 4 % 40) as f64 * (N_DAYS as f64 / 40.0);
                let u: f64 = rng.random();
                (start - 5.0 * (1.0 - u).ln()).min(N_DAYS as f64 - 1e-6)
            } else {
                rng.random::<f64>() * N_DAYS as f64
            };
            let u: f64 = rng.random();
            let m = ((1.95 - (1.0 - u).ln() / beta) * 10.0).round() / 10.0;
            (t, m)
        })
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (times, magnitudes) = events.into_iter().unzip();
    Selection::new(times, magnitudes).expect("the benchmark catalog is a valid selection")
}

fn bench_bvalue(c: &mut Criterion) {
    let sel = synthetic_catalog();
    let spec = WindowSpec::time(128, 1).expect("valid window");
    let mut group = c.benchmark_group("b_a_sliding_windows");
    for (name, estimator, mc) in [
        ("aki_fixed_mc3", BEstimator::Aki, McChoice::Fixed(3.0)),
        (
            "b_positive_fixed_mc3",
            BEstimator::BPositive,
            McChoice::Fixed(3.0),
        ),
        (
            "b_more_positive_fixed_mc3",
            BEstimator::BMorePositive,
            McChoice::Fixed(3.0),
        ),
        (
            "aki_utsu_maxc_plus_0.2",
            BEstimator::AkiUtsu,
            McChoice::per_window_maxc(),
        ),
    ] {
        let params = BValueParams {
            estimator,
            mc,
            ..BValueParams::default()
        }
        .check()
        .expect("valid parameters");
        let id = BenchmarkId::new(
            name,
            format!("events={N_EVENTS},days={N_DAYS},window=128,step=1,seed={SEED}"),
        );
        group.bench_function(id, |b| {
            b.iter(|| sliding_b_values(black_box(&sel), N_DAYS, &spec, &params))
        });
    }
    group.finish();
}

fn bench_kde(c: &mut Criterion) {
    let sel = synthetic_catalog();
    let mut group = c.benchmark_group("kde_labels");
    for (name, bandwidth) in [
        ("scott", Bandwidth::Scott),
        ("fixed_7d", Bandwidth::FixedDays(7.0)),
    ] {
        let params = KdeParams::new(bandwidth, LabelScale::None);
        let id = BenchmarkId::new(
            name,
            format!("events={N_EVENTS},days={N_DAYS},truncation=10sigma,seed={SEED}"),
        );
        group.bench_function(id, |b| {
            b.iter(|| kde_labels(black_box(sel.times()), N_DAYS, &params))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_bvalue, bench_kde);
criterion_main!(benches);
