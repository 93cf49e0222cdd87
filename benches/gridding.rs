//! Benchmarks of the GNSS gridding (paper §1.1, eqs. 5–17) as one blocked matrix product, on
//! the paper's setting: 1,300 stations over the Japan box, a 50 x 50 grid, sigma = 8 cells,
//! 5 % of station-days missing at random (fixed seed). Two period lengths: one year (365 days)
//! and fifteen (5,475 days). Throughput is in the matrix product's flops
//! (`GriddingReport::matmul_flops`), so criterion's "elem/s" reads as FLOP/s.
//!
//! `faer_matmul_peak` measures the machine's f64 matrix-product rate on a large square product
//! (the reference for the gridding's FLOP/s). `tools/bench_gridding_reference.py` times the
//! numpy peers on the same sizes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use jiff::civil::Date;
use quakelab::catalog::Region;
use quakelab::gnss::Station;
use quakelab::gnss::displacement::DisplacementField;
use quakelab::gnss::grid::GridSpec;
use quakelab::gnss::gridding::{BLOCK_DAYS, MemoryLimit, grid_displacements};
use quakelab::period::Period;
use quakelab::rng;
use rand::Rng;

const N_STATIONS: usize = 1_300;
const GAP: f64 = 0.05;
const SEED: u64 = 2024;

fn synthetic_field(n_days: usize) -> DisplacementField {
    let mut rng = rng::stream(SEED, "bench.gridding");
    let r = Region::JAPAN;
    let stations: Vec<Station> = (0..N_STATIONS)
        .map(|k| Station {
            name: format!("{k:04}"),
            latitude: rng.random_range(r.lat_min..r.lat_max),
            longitude: rng.random_range(r.lon_min..r.lon_max),
            height_m: 0.0,
        })
        .collect();
    let n = n_days * N_STATIONS;
    let values = (0..n)
        .map(|_| {
            [
                rng.random_range(-3.0..3.0),
                rng.random_range(-3.0..3.0),
                rng.random_range(-8.0..8.0),
            ]
        })
        .collect();
    let present = (0..n).map(|_| rng.random::<f64>() >= GAP).collect();
    let start: Date = "2009-01-01".parse().expect("valid date");
    let end = start
        .checked_add(jiff::Span::new().days(n_days as i64))
        .expect("date in range");
    let period = Period::new(start, end).expect("non-empty period");
    DisplacementField::from_parts(period, stations, values, present).expect("consistent field")
}

fn bench_gridding(c: &mut Criterion) {
    let grid = GridSpec::paper(Region::JAPAN).check().expect("paper grid");
    let mut group = c.benchmark_group("gnss_gridding");
    group.sample_size(10);
    for n_days in [365, 5_475] {
        let field = synthetic_field(n_days);
        // The product's flops, as the gridding counts them (about 7 columns per day).
        let (_, report) =
            grid_displacements(&field, &grid, false, MemoryLimit::default()).expect("gridding");
        group.throughput(Throughput::Elements(report.matmul_flops));
        // One iteration per sample (flat sampling): ten iterations of the whole period.
        group.sampling_mode(SamplingMode::Flat);
        let seconds = if n_days > 1_000 { 100 } else { 10 };
        group.measurement_time(Duration::from_secs(seconds));
        let id = BenchmarkId::new(
            "grid_displacements",
            format!("stations={N_STATIONS},grid=50x50,sigma_cells=8,days={n_days}"),
        );
        group.bench_with_input(id, &field, |b, field| {
            b.iter(|| {
                grid_displacements(black_box(field), &grid, false, MemoryLimit::default())
                    .expect("gridding")
            })
        });
    }
    group.finish();
}

fn bench_matmul_peak(c: &mut Criterion) {
    let mut rng = rng::stream(SEED, "bench.matmul");
    let mut group = c.benchmark_group("faer_matmul_peak");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(12));
    // A large square product, and the gridding's own block shape:
    // (2,500 cells x 1,300 stations) · (1,300 stations x (6 + 7·64) columns): a block's six
    // geometry columns and seven value columns per day.
    for (name, m, k, n) in [
        ("f64_square", 3_000, 3_000, 3_000),
        ("f64_gridding_block", 2_500, N_STATIONS, 6 + 7 * BLOCK_DAYS),
    ] {
        let a = Mat::<f64>::from_fn(m, k, |_, _| rng.random_range(-1.0..1.0));
        let b = Mat::<f64>::from_fn(k, n, |_, _| rng.random_range(-1.0..1.0));
        let mut dst = Mat::<f64>::zeros(m, n);
        group.throughput(Throughput::Elements(2 * (m * k * n) as u64));
        let id = BenchmarkId::new(name, format!("m={m},k={k},n={n}"));
        group.bench_function(id, |bench| {
            bench.iter(|| {
                matmul(
                    dst.as_mut(),
                    Accum::Replace,
                    a.as_ref(),
                    b.as_ref(),
                    1.0,
                    Par::rayon(0),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_matmul_peak, bench_gridding);
criterion_main!(benches);
