//! The GNSS gridding (paper §1.1, eqs. 1–17) against a plain direct implementation written
//! here, a closed form (a linear field is reproduced exactly) and a numpy reference fixture
//! (`tools/ref_gridding.py`).

use std::path::PathBuf;

use jiff::civil::Date;
use quakelab::catalog::Region;
use quakelab::gnss::displacement::{
    DisplacementField, displacement_field, displacement_field_in_region,
};
use quakelab::gnss::grid::{GridOrigin, GridSpec, SigmaSpacing, ValidGridSpec};
use quakelab::gnss::gridding::{
    BLOCK_DAYS, GriddingReport, MemoryLimit, grid_displacements, grid_displacements_with,
    grid_stations,
};
use quakelab::gnss::{Station, StationSeries, StationSet};
use quakelab::period::Period;
use quakelab::rng;
use rand::Rng;

const R: f64 = 6_371_000.0;

fn station(k: usize, latitude: f64, longitude: f64) -> Station {
    Station {
        name: format!("S{k:03}"),
        latitude,
        longitude,
        height_m: 0.0,
    }
}

/// A random network inside `region` with random gaps (probability `gap`), random
/// displacements, and day 3 without any station.
fn random_field(
    region: Region,
    n_st: usize,
    n_days: usize,
    gap: f64,
    seed: u64,
) -> DisplacementField {
    let mut rng = rng::stream(seed, "test.gnss_gridding");
    let stations: Vec<Station> = (0..n_st)
        .map(|k| {
            let lat = rng.random_range(region.lat_min..region.lat_max);
            let lon = rng.random_range(region.lon_min..region.lon_max);
            station(k, lat, lon)
        })
        .collect();
    let mut values = Vec::new();
    let mut present = Vec::new();
    for day in 0..n_days {
        for _ in 0..n_st {
            values.push([
                rng.random_range(-5.0..5.0),
                rng.random_range(-5.0..5.0),
                rng.random_range(-10.0..10.0),
            ]);
            present.push(day != 3 && rng.random::<f64>() >= gap);
        }
    }
    let start: Date = "2020-06-01".parse().unwrap();
    let end = start
        .checked_add(jiff::Span::new().days(n_days as i64))
        .unwrap();
    DisplacementField::from_parts(Period::new(start, end).unwrap(), stations, values, present)
        .unwrap()
}

/// The gridded images in f64, one `rows · cols · 3` vector per day.
fn grid_f64(field: &DisplacementField, grid: &ValidGridSpec) -> (Vec<Vec<f64>>, GriddingReport) {
    let mut images = Vec::new();
    let report = grid_displacements_with(field, grid, false, |day, image| {
        assert_eq!(day, images.len(), "days come in order");
        images.push(image.to_vec());
    });
    (images, report)
}

fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().atan2((1.0 - a).sqrt())
}

/// The paper's eqs. (3)–(17) for one day, one grid point and one station at a time, in raw
/// degrees, with the two-pass weighted covariance. Returns the image and the number of cells
/// whose covariance was singular (smallest eigenvalue below (1e-4 · min(dlat, dlon))²).
fn direct(field: &DisplacementField, day: usize, spec: &GridSpec) -> (Vec<f64>, usize) {
    let r = spec.region;
    let dlat = (r.lat_max - r.lat_min) / spec.rows as f64; // eq. (1)
    let dlon = (r.lon_max - r.lon_min) / spec.cols as f64; // eq. (2)
    let o = match spec.origin {
        GridOrigin::Corner => 0.0,
        GridOrigin::Centre => 0.5,
    };
    let sigma = spec.sigma_cells
        * match spec.sigma_spacing {
            SigmaSpacing::Latitude => R * dlat.to_radians(),
            SigmaSpacing::Longitude => {
                R * (0.5 * (r.lat_min + r.lat_max)).to_radians().cos() * dlon.to_radians()
            }
        };
    let tol = (1e-4 * dlat.min(dlon)).powi(2);
    let mut st = Vec::new();
    for s in 0..field.n_stations() {
        if let Some(v) = field.get(day, s) {
            let info = &field.stations()[s];
            st.push((info.latitude, info.longitude, v));
        }
    }
    let mut image = vec![f64::NAN; spec.rows * spec.cols * 3];
    let mut singular = 0;
    if st.is_empty() {
        return (image, 0);
    }
    for i in 0..spec.rows {
        for j in 0..spec.cols {
            let pg = r.lat_min + (i as f64 + o) * dlat; // eq. (3)
            let lg = r.lon_min + (j as f64 + o) * dlon; // eq. (4)
            // eqs. (5)–(7)
            let mut w: Vec<f64> = st
                .iter()
                .map(|&(p, l, _)| (-haversine(pg, lg, p, l).powi(2) / (2.0 * sigma * sigma)).exp())
                .collect();
            // eq. (8)
            let total: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x /= total);
            // eq. (9)
            let mut v = [0.0; 3];
            let (mut mu_p, mut mu_l) = (0.0, 0.0);
            for (wi, &(p, l, vi)) in w.iter().zip(&st) {
                for c in 0..3 {
                    v[c] += wi * vi[c];
                }
                mu_p += wi * p; // eq. (11)
                mu_l += wi * l; // eq. (12)
            }
            // eq. (10)
            let (mut spp, mut sll, mut spl) = (0.0, 0.0, 0.0);
            for (wi, &(p, l, _)) in w.iter().zip(&st) {
                spp += wi * (p - mu_p) * (p - mu_p);
                sll += wi * (l - mu_l) * (l - mu_l);
                spl += wi * (p - mu_p) * (l - mu_l);
            }
            let det = spp * sll - spl * spl;
            let tr = spp + sll;
            let lambda_min = 0.5 * (tr - ((spp - sll).powi(2) + 4.0 * spl * spl).sqrt());
            let mut out = v;
            if lambda_min >= tol {
                for c in 0..2 {
                    // eq. (13)
                    let (mut c0, mut c1) = (0.0, 0.0);
                    for (wi, &(p, l, vi)) in w.iter().zip(&st) {
                        c0 += wi * p * vi[c];
                        c1 += wi * l * vi[c];
                    }
                    c0 -= mu_p * v[c];
                    c1 -= mu_l * v[c];
                    // eqs. (14)–(15): the inverse of a 2 x 2 matrix.
                    let g0 = (sll * c0 - spl * c1) / det;
                    let g1 = (spp * c1 - spl * c0) / det;
                    // eqs. (16)–(17)
                    out[c] = v[c] + g0 * (pg - mu_p) + g1 * (lg - mu_l);
                }
            } else {
                singular += 1;
            }
            let k = (i * spec.cols + j) * 3;
            image[k..k + 3].copy_from_slice(&out);
        }
    }
    (image, singular)
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            assert_eq!(x.is_nan(), y.is_nan(), "NaN in the same places");
            if x.is_nan() { 0.0 } else { (x - y).abs() }
        })
        .fold(0.0, f64::max)
}

#[test]
fn matrix_product_matches_the_direct_equations() {
    let region = Region::new(137.0, 141.5, 33.0, 37.0).unwrap();
    let field = random_field(region, 30, 9, 0.25, 7);
    let mut worst: f64 = 0.0;
    for (rows, cols, origin, sigma_cells, spacing) in [
        (7, 9, GridOrigin::Corner, 8.0, SigmaSpacing::Latitude),
        (6, 5, GridOrigin::Centre, 2.0, SigmaSpacing::Longitude),
        (10, 10, GridOrigin::Corner, 1.0, SigmaSpacing::Latitude),
    ] {
        let spec = GridSpec {
            rows,
            cols,
            origin,
            sigma_cells,
            sigma_spacing: spacing,
            region,
        };
        let grid = spec.check().unwrap();
        let (images, report) = grid_f64(&field, &grid);
        assert_eq!(images.len(), 9);
        let mut singular = 0;
        for (day, image) in images.iter().enumerate() {
            let (want, s) = direct(&field, day, &spec);
            singular += s;
            let diff = max_abs_diff(image, &want);
            worst = worst.max(diff);
            assert!(diff <= 1e-9, "{rows}x{cols} day {day}: {diff:e} mm");
        }
        assert_eq!(report.singular_cells, singular);
        assert_eq!(report.empty_days, 1, "day 3 has no station");
        assert!(images[3].iter().all(|v| v.is_nan()));
        assert_eq!(report.unweighted_cells, 0);
    }
    eprintln!("matrix product vs direct equations: max |diff| = {worst:e} mm");
}

#[test]
fn blocks_of_days_join_seamlessly() {
    // More days than one matrix product holds: every day, on both sides of each block
    // boundary, still matches the direct equations.
    let n_days = 2 * BLOCK_DAYS + 5;
    let region = Region::new(137.0, 141.5, 33.0, 37.0).unwrap();
    let field = random_field(region, 20, n_days, 0.15, 5);
    let spec = GridSpec {
        rows: 3,
        cols: 4,
        ..GridSpec::paper(region)
    };
    let (images, report) = grid_f64(&field, &spec.check().unwrap());
    assert_eq!(images.len(), n_days);
    let empty = (0..n_days).filter(|&d| field.n_present(d) == 0).count();
    assert_eq!(report.empty_days, empty);
    for (day, image) in images.iter().enumerate() {
        let (want, _) = direct(&field, day, &spec);
        let diff = max_abs_diff(image, &want);
        assert!(diff <= 1e-9, "day {day}: {diff:e} mm");
    }
}

#[test]
fn a_cell_that_loses_nearly_all_its_weight_is_summed_directly() {
    // One station beside the corner cell, and a cluster ten sigmas away whose weights there are
    // about 1e-22 of the near one's. Day 0 has both, so the near station is in the block's sums;
    // day 1 loses it: subtracting its weight from the block's sums would leave 1 − 1 = 0 for the
    // corner cells instead of the cluster's 1e-21, so those cells must be summed directly. Every
    // cell of day 1 matches the direct equations. (Day 0 is not compared: between the two
    // groups, some cells' covariances sit at the singularity threshold, where either answer is
    // right.)
    let region = Region::new(137.0, 141.5, 33.0, 37.0).unwrap();
    let mut rng = rng::stream(11, "test.gnss_gridding.absent");
    let mut stations = vec![station(0, 33.1, 137.1)];
    for k in 1..=8 {
        let lat = rng.random_range(36.6..37.0);
        let lon = rng.random_range(141.1..141.5);
        stations.push(station(k, lat, lon));
    }
    let n_st = stations.len();
    let mut values = Vec::new();
    let mut present = Vec::new();
    for day in 0..2 {
        for s in 0..n_st {
            values.push([
                rng.random_range(-5.0..5.0),
                rng.random_range(-5.0..5.0),
                rng.random_range(-10.0..10.0),
            ]);
            present.push(!(day == 1 && s == 0));
        }
    }
    let start: Date = "2020-06-01".parse().unwrap();
    let period = Period::new(start, "2020-06-03".parse().unwrap()).unwrap();
    let field = DisplacementField::from_parts(period, stations, values, present).unwrap();
    let spec = GridSpec {
        rows: 10,
        cols: 10,
        origin: GridOrigin::Corner,
        sigma_cells: 1.0,
        sigma_spacing: SigmaSpacing::Latitude,
        region,
    };
    let (images, report) = grid_f64(&field, &spec.check().unwrap());
    assert_eq!(report.unweighted_cells, 0);
    let (want, singular) = direct(&field, 1, &spec);
    assert_eq!(singular, 0);
    let diff = max_abs_diff(&images[1], &want);
    // Far from the cluster the correction extrapolates its gradient over several degrees, to
    // hundreds of mm: the bound is relative to the largest value.
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(diff <= 1e-11 * scale, "day 1: {diff:e} mm of {scale} mm");
}

#[test]
fn linear_field_is_reproduced_at_every_grid_point() {
    // vN = 3 + 2φ − 1.5λ and vE = −1 + 0.5φ + 4λ (mm, degrees) at the stations: the gradient
    // correction (eqs. 14–17) must give the field's value at every grid point, edges included.
    let region = Region::new(130.0, 136.0, 30.0, 34.0).unwrap();
    let template = random_field(region, 25, 6, 0.3, 11);
    let (ref_p, ref_l) = (32.0, 133.0);
    let lin_n = |p: f64, l: f64| 3.0 + 2.0 * (p - ref_p) - 1.5 * (l - ref_l);
    let lin_e = |p: f64, l: f64| -1.0 + 0.5 * (p - ref_p) + 4.0 * (l - ref_l);
    let mut values = Vec::new();
    let mut present = Vec::new();
    for day in 0..template.n_days() {
        for (s, st) in template.stations().iter().enumerate() {
            let p = template.get(day, s).is_some();
            values.push([
                lin_n(st.latitude, st.longitude),
                lin_e(st.latitude, st.longitude),
                7.0,
            ]);
            present.push(p);
        }
    }
    let field = DisplacementField::from_parts(
        *template.period(),
        template.stations().to_vec(),
        values,
        present,
    )
    .unwrap();
    let mut worst: f64 = 0.0;
    for origin in [GridOrigin::Corner, GridOrigin::Centre] {
        let grid = GridSpec {
            rows: 8,
            cols: 12,
            origin,
            ..GridSpec::paper(region)
        }
        .check()
        .unwrap();
        let (images, report) = grid_f64(&field, &grid);
        assert_eq!(report.singular_cells, 0);
        for (day, image) in images.iter().enumerate() {
            if day == 3 {
                continue;
            }
            for i in 0..8 {
                for j in 0..12 {
                    let k = (i * 12 + j) * 3;
                    let (p, l) = (grid.latitude(i), grid.longitude(j));
                    let errs = [
                        image[k] - lin_n(p, l),
                        image[k + 1] - lin_e(p, l),
                        // U is uncorrected, so only a constant is reproduced exactly.
                        image[k + 2] - 7.0,
                    ];
                    for e in errs {
                        worst = worst.max(e.abs());
                        assert!(e.abs() <= 1e-9, "day {day} ({i}, {j}): {e:e}");
                    }
                }
            }
        }
    }
    // The corner grid reaches the southern and western edges (row 0 at 30°N, column 0 at
    // 130°E), where the uncorrected weighted mean is biased toward the interior.
    eprintln!("linear field: max |error| = {worst:e} mm");
}

#[test]
fn collinear_network_skips_the_correction_and_counts_it() {
    // All stations on one meridian: the longitude variance is zero, so Σ (eq. 10) is singular
    // in every cell and every value is the plain weighted mean of eq. (9).
    let region = Region::new(139.0, 141.0, 35.0, 37.0).unwrap();
    let stations: Vec<Station> = (0..4)
        .map(|k| station(k, 35.2 + 0.5 * k as f64, 140.0))
        .collect();
    let values: Vec<[f64; 3]> = (0..4).map(|k| [k as f64, 1.0, 2.0]).collect();
    let period = Period::parse("2021-01-01", "2021-01-02").unwrap();
    let field = DisplacementField::from_parts(period, stations, values, vec![true; 4]).unwrap();
    let spec = GridSpec {
        rows: 3,
        cols: 2,
        ..GridSpec::paper(region)
    };
    let (images, report) = grid_f64(&field, &spec.check().unwrap());
    assert_eq!(report.singular_cells, 6);
    let (want, singular) = direct(&field, 0, &spec);
    assert_eq!(singular, 6);
    assert!(max_abs_diff(&images[0], &want) <= 1e-12);
    // Constant E and U stay constant.
    assert!(
        images[0]
            .chunks(3)
            .all(|v| (v[1] - 1.0).abs() < 1e-12 && (v[2] - 2.0).abs() < 1e-12)
    );
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gnss/gridding")
        .join(name)
}

fn csv_rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn fixture_network() -> StationSet {
    let mut series = Vec::new();
    let positions = csv_rows("positions.csv");
    for row in csv_rows("stations.csv") {
        let st = Station {
            name: row[0].clone(),
            latitude: row[1].parse().unwrap(),
            longitude: row[2].parse().unwrap(),
            height_m: 0.0,
        };
        let samples = positions
            .iter()
            .filter(|p| p[0] == row[0])
            .map(|p| {
                let date: Date = p[1].parse().unwrap();
                (
                    date,
                    [
                        p[2].parse().unwrap(),
                        p[3].parse().unwrap(),
                        p[4].parse().unwrap(),
                    ],
                )
            })
            .collect();
        series.push(StationSeries::new(st, samples).unwrap());
    }
    StationSet::new(series).unwrap()
}

#[test]
fn numpy_reference_fixture_is_reproduced() {
    let set = fixture_network();
    let period = Period::parse("2021-03-01", "2021-03-08").unwrap();
    let region = Region::new(138.0, 141.0, 34.0, 36.5).unwrap();
    let mut worst: f64 = 0.0;
    for (case, rows, cols, origin, sigma_cells, spacing) in [
        (
            "corner_5x6_s3_lat",
            5,
            6,
            GridOrigin::Corner,
            3.0,
            SigmaSpacing::Latitude,
        ),
        (
            "centre_4x4_s8_lon",
            4,
            4,
            GridOrigin::Centre,
            8.0,
            SigmaSpacing::Longitude,
        ),
    ] {
        let grid = GridSpec {
            region,
            rows,
            cols,
            origin,
            sigma_cells,
            sigma_spacing: spacing,
        }
        .check()
        .unwrap();
        let expected = csv_rows(&format!("expected_{case}.csv"));
        assert_eq!(expected.len(), 7 * rows * cols);
        let want: Vec<f64> = expected
            .iter()
            .flat_map(|r| r[3..6].iter().map(|v| v.parse::<f64>().unwrap()))
            .collect();
        // f64 path: the region's stations (one station lies outside and is dropped).
        let field = displacement_field_in_region(&set, &period, &region);
        assert_eq!(field.n_stations(), 14);
        let (images, report) = grid_f64(&field, &grid);
        assert_eq!(report.empty_days, 2, "nobody observed on 03-04");
        let got: Vec<f64> = images.concat();
        let diff = max_abs_diff(&got, &want);
        worst = worst.max(diff);
        assert!(diff <= 1e-9, "{case}: {diff:e} mm");
        // The top-level entry and its f32 stack.
        let (stack, _) = grid_stations(&set, &period, &grid, false).unwrap();
        assert_eq!(stack.shape(), [7, rows, cols, 3]);
        for (s, w) in stack.data().iter().zip(&want) {
            assert_eq!(s.is_nan(), w.is_nan());
            if !w.is_nan() {
                assert!((f64::from(*s) - w).abs() <= 1e-6 * w.abs().max(1.0));
            }
        }
    }
    // Without the region filter, the outside station takes part.
    assert_eq!(displacement_field(&set, &period).n_stations(), 15);
    eprintln!("numpy fixture: max |diff| = {worst:e} mm");
}

#[test]
fn stack_files_round_trip() {
    let region = Region::new(137.0, 141.5, 33.0, 37.0).unwrap();
    let field = random_field(region, 12, 5, 0.2, 3);
    let grid = GridSpec {
        rows: 4,
        cols: 5,
        ..GridSpec::paper(region)
    }
    .check()
    .unwrap();
    let (stack, _) = grid_displacements(&field, &grid, false, MemoryLimit::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images.qlimg");
    stack.write(&path).unwrap();
    let back = quakelab::gnss::stack::ImageStack::read(&path).unwrap();
    assert_eq!(back.content_hash(), stack.content_hash());
    assert_eq!(back.data().len(), stack.data().len());
    assert!(
        back.data()
            .iter()
            .zip(stack.data())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    let npy = dir.path().join("images.npy");
    stack.write_npy(&npy).unwrap();
    let bytes = std::fs::read(&npy).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (5, 4, 5, 3)"), "{header}");
    let data: Vec<f32> = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert!(
        data.iter()
            .zip(stack.data())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

/// Runs the `quakelab` binary in `cwd`.
fn quakelab(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the quakelab binary runs")
}

/// The fixture network written as one `.tenv3` file per station into `dir/tenv3`.
fn fixture_tenv3_dir(dir: &std::path::Path) -> PathBuf {
    let out = dir.join("tenv3");
    std::fs::create_dir_all(&out).unwrap();
    for series in fixture_network().series() {
        let path = out.join(format!("{}.tenv3", series.station().name));
        quakelab::io::tenv3::write_tenv3(&path, series).unwrap();
    }
    out
}

#[test]
fn gnss_grid_100000x100000_is_refused_with_the_memory_estimate() {
    let set = fixture_network();
    let period = Period::parse("2021-01-01", "2022-01-01").unwrap();
    let grid = GridSpec {
        rows: 100_000,
        cols: 100_000,
        ..GridSpec::paper(Region::new(138.0, 141.0, 34.0, 36.5).unwrap())
    }
    .check()
    .unwrap();
    let err = quakelab::gnss::gridding::grid_stations_within(
        &set,
        &period,
        &grid,
        false,
        MemoryLimit::default(),
    )
    .unwrap_err()
    .to_string();
    // 14 of the fixture's 15 stations lie in the region. The stack alone is
    // 1e10 cells x 365 days x 3 x 4 bytes = 4.38e13 bytes = 39.8 TiB, the weights
    // 1e10 x 14 x 16 bytes = 2.24e12 bytes = 2.0 TiB.
    for part in [
        "100000x100000 cells over 365 days with 14 stations",
        "image stack 39.8 TiB",
        "Gaussian weights 2.0 TiB",
        "memory limit of 8.0 GiB",
        "--max-memory-gb",
    ] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    // A raised limit lets a size through that the default refuses: 2,000 x 2,000 cells x
    // 365 days is a 16.3 GiB stack.
    let big = GridSpec {
        rows: 2_000,
        cols: 2_000,
        ..*grid.spec()
    }
    .check()
    .unwrap();
    let estimate = quakelab::gnss::gridding::GriddingMemory::estimate(&big, 14, 365);
    assert!((estimate.stack_bytes - 4e6 * 365.0 * 12.0).abs() < 1.0);
    assert!(estimate.check(MemoryLimit::default()).is_err());
    assert!(estimate.check(MemoryLimit::gib(1e4).unwrap()).is_ok());
    assert!(MemoryLimit::gib(0.0).is_err() && MemoryLimit::gib(f64::NAN).is_err());
}

#[test]
fn render_grid_5000x5000_is_refused_before_gridding() {
    let dir = tempfile::tempdir().unwrap();
    let tenv3 = fixture_tenv3_dir(dir.path());
    let started = std::time::Instant::now();
    let out = quakelab(
        &[
            "render",
            "gnss",
            "--tenv3",
            tenv3.to_str().unwrap(),
            "--days",
            "2021-03-02",
            "--region",
            "138,141,34,36.5",
            "--grid",
            "5000x5000",
            "--out",
            "fig.png",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    // 5,000 x 5,000 = 25,000,000 cells, 100 times the 500 x 500 a map can show.
    assert!(
        stderr.contains("setting `grid`: 5000x5000 = 25000000 cells per map")
            && stderr.contains("250000 (500x500)"),
        "{stderr}"
    );
    assert!(!dir.path().join("fig.png").exists());
    eprintln!("refused after {:?}", started.elapsed());
    let err = quakelab::report::figure::check_panel_size(50, 50, 40)
        .unwrap_err()
        .to_string();
    // 40 days of 330 pixels plus 130 for the title and colour bars.
    assert!(
        err.contains("setting `days`") && err.contains("13330 pixels"),
        "{err}"
    );
    assert!(quakelab::report::figure::check_panel_size(500, 500, 31).is_ok());
}

#[test]
fn sigma_cells_1e_300_is_refused_naming_sigma_cells() {
    let spec = GridSpec {
        sigma_cells: 1e-300,
        ..GridSpec::paper(Region::JAPAN)
    };
    let err = spec.check().unwrap_err().to_string();
    assert!(
        err.contains("setting `gnss.grid.sigma_cells`")
            && err.contains("at least 0.1 grid spacings (--sigma-cells), got 1e-300"),
        "{err}"
    );
    // The smallest accepted value grids without NaN where stations are present.
    let region = Region::new(137.0, 141.5, 33.0, 37.0).unwrap();
    let grid = GridSpec {
        rows: 6,
        cols: 6,
        sigma_cells: quakelab::gnss::grid::MIN_SIGMA_CELLS,
        ..GridSpec::paper(region)
    }
    .check()
    .unwrap();
    let field = random_field(region, 10, 5, 0.0, 11);
    let (_, report) = grid_f64(&field, &grid);
    // Day 3 of `random_field` has no station; the other four days have no NaN cell.
    assert_eq!((report.empty_days, report.nan_cells), (1, 36));
}

#[test]
fn all_nan_stack_is_reported_as_empty_days_and_its_nan_fraction() {
    let region = Region::new(137.0, 141.5, 33.0, 37.0).unwrap();
    let grid = GridSpec {
        rows: 4,
        cols: 5,
        ..GridSpec::paper(region)
    }
    .check()
    .unwrap();
    // 8 days, day 3 without stations (random_field): 1 of 8 days NaN, 20 of 160 cell-days.
    let (_, report) = grid_f64(&random_field(region, 6, 8, 0.0, 5), &grid);
    assert_eq!(
        (
            report.empty_days,
            report.days_without_stations,
            report.nan_cells
        ),
        (1, 1, 20)
    );
    assert_eq!(report.nan_fraction(), 0.125);
    assert!(!report.is_mostly_nan());
    // Stations outside the region: nothing to grid on any day, all NaN and said so.
    let elsewhere = Region::new(100.0, 101.0, 10.0, 11.0).unwrap();
    let field = random_field(elsewhere, 6, 8, 0.0, 5)
        .retain_stations(|s| region.contains(s.latitude, s.longitude));
    let (_, report) = grid_f64(&field, &grid);
    assert_eq!((report.empty_days, report.nan_cells), (8, 160));
    assert_eq!(report.nan_fraction(), 1.0);
    assert!(report.is_mostly_nan());
    let summary = report.to_string();
    assert!(
        summary.contains("8 empty days (all NaN; 8 without any station)")
            && summary.contains("100.00% of cell-days NaN (160 of 160)"),
        "{summary}"
    );
}

#[test]
fn render_out_without_extension_is_refused_naming_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    // The station folder does not exist: the output is checked before anything is read.
    let out = quakelab(
        &[
            "render",
            "gnss",
            "--tenv3",
            "missing",
            "--days",
            "2021-03-02",
            "--out",
            "x",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("setting `out`: `x` has no extension: figures are written as .png or .svg"),
        "{stderr}"
    );
}

#[test]
fn gnss_grid_out_with_an_unknown_extension_is_refused_naming_npy_and_qlimg() {
    let dir = tempfile::tempdir().unwrap();
    for (name, says) in [
        ("x", "has no extension"),
        ("x.png", "has the unsupported extension `.png`"),
    ] {
        let out = quakelab(
            &[
                "gnss",
                "grid",
                "--tenv3",
                "missing",
                "--start",
                "2021-03-01",
                "--end",
                "2021-03-08",
                "--out",
                name,
            ],
            dir.path(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains(&format!("setting `out`: `{name}` {says}"))
                && stderr.contains(".npy (NumPy) or .qlimg"),
            "{stderr}"
        );
    }
}

#[test]
fn render_of_days_without_any_station_warns_that_it_draws_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tenv3 = fixture_tenv3_dir(dir.path());
    // The fixture's stations are observed in March 2021 only.
    let out = quakelab(
        &[
            "render",
            "gnss",
            "--tenv3",
            tenv3.to_str().unwrap(),
            "--days",
            "2022-06-01",
            "--region",
            "138,141,34,36.5",
            "--grid",
            "5x6",
            "--out",
            "fig.svg",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("every displacement value is NaN") && stderr.contains("draws nothing"),
        "{stderr}"
    );
    // And `gnss grid` over a period half without observations reports and warns.
    let out = quakelab(
        &[
            "gnss",
            "grid",
            "--tenv3",
            tenv3.to_str().unwrap(),
            "--start",
            "2021-03-02",
            "--end",
            "2021-03-22",
            "--region",
            "138,141,34,36.5",
            "--grid",
            "5x6",
            "--out",
            "images.npy",
        ],
        dir.path(),
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    eprintln!("{stdout}{stderr}");
    assert!(stdout.contains("empty days (all NaN;"), "{stdout}");
    assert!(stderr.contains("mostly NaN"), "{stderr}");
}
