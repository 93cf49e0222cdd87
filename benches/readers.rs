//! Benchmarks of the readers that whole commands spend their time in: a ComCat CSV of about
//! 97,000 events over 15 years (`read_catalog`, the input of `features seismicity`) and a
//! directory of 300 tenv3 files of 730 days each (`read_tenv3_dir`, the input of `gnss grid`).
//!
//! The inputs are written by the bench itself into a temporary directory, with quakelab's own
//! writers (`write_comcat`, `write_tenv3`) from a fixed seed. Throughput is in bytes read.
//! `tools/bench-readers.sh` times the whole commands against the Python reference.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;
use jiff::civil::Date;
use quakelab::catalog::{Catalog, Event, Region};
use quakelab::gnss::{Station, StationSeries};
use quakelab::io::catalog::{CatalogFormat, ReadOptions, read_catalog, write_comcat};
use quakelab::io::tenv3::{Tenv3Options, read_tenv3_dir, write_tenv3};
use quakelab::rng;
use rand::Rng;

const SEED: u64 = 2019;
const N_EVENTS: usize = 97_000;
const YEARS: i64 = 15;
const N_STATIONS: usize = 300;
const N_DAYS: i64 = 730;

fn write_catalog(path: &Path) {
    let mut rng = rng::stream(SEED, "bench.readers.catalog");
    let start: Timestamp = "2009-01-01T00:00:00Z".parse().expect("valid time");
    let span_ms = YEARS * 365 * 86_400_000;
    let r = Region::JAPAN;
    let events = (0..N_EVENTS)
        .map(|_| Event {
            time: start
                .checked_add(jiff::SignedDuration::from_millis(
                    rng.random_range(0..span_ms),
                ))
                .expect("time in range"),
            latitude: (rng.random_range(r.lat_min..r.lat_max) * 1e4f64).round() / 1e4,
            longitude: (rng.random_range(r.lon_min..r.lon_max) * 1e4f64).round() / 1e4,
            depth_km: Some((rng.random_range(0.0..100.0) * 10.0f64).round() / 10.0),
            // Gutenberg-Richter with b = 1 from M2.5, binned to 0.1.
            magnitude: ((2.5 - rng.random::<f64>().max(1e-12).log10()) * 10.0).round() / 10.0,
        })
        .filter(|e| e.magnitude <= 9.0)
        .collect();
    write_comcat(path, &Catalog::from_events(events)).expect("catalog written");
}

fn write_network(dir: &Path) {
    let mut rng = rng::stream(SEED, "bench.readers.tenv3");
    let start: Date = "2009-01-01".parse().expect("valid date");
    let r = Region::JAPAN;
    for k in 0..N_STATIONS {
        let station = Station {
            name: format!("S{k:03}"),
            latitude: rng.random_range(r.lat_min..r.lat_max),
            longitude: rng.random_range(r.lon_min..r.lon_max),
            height_m: rng.random_range(0.0..500.0),
        };
        let samples = (0..N_DAYS)
            .map(|d| {
                let day = start
                    .checked_add(jiff::Span::new().days(d))
                    .expect("date in range");
                let drift = d as f64 * 1e-4;
                let enu = [
                    drift + rng.random_range(-0.003..0.003),
                    -drift + rng.random_range(-0.003..0.003),
                    rng.random_range(-0.01..0.01),
                ];
                (day, enu)
            })
            .collect();
        let series = StationSeries::new(station, samples).expect("valid series");
        write_tenv3(&dir.join(format!("S{k:03}.tenv3")), &series).expect("tenv3 written");
    }
}

fn bytes_under(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("readable directory")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum()
}

fn readers(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let catalog = dir.path().join("catalog.csv");
    write_catalog(&catalog);
    let network = dir.path().join("tenv3");
    std::fs::create_dir(&network).expect("network directory");
    write_network(&network);

    let mut group = c.benchmark_group("readers");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));

    let size = std::fs::metadata(&catalog).expect("catalog metadata").len();
    group.throughput(Throughput::Bytes(size));
    group.bench_function("read_catalog_comcat_97k", |b| {
        b.iter(|| {
            read_catalog(
                black_box(&catalog),
                &CatalogFormat::Comcat,
                &ReadOptions::default(),
            )
            .expect("catalog read")
        })
    });

    group.throughput(Throughput::Bytes(bytes_under(&network)));
    group.bench_function("read_tenv3_dir_300x730", |b| {
        b.iter(|| read_tenv3_dir(black_box(&network), &Tenv3Options::default()).expect("read"))
    });
    group.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
