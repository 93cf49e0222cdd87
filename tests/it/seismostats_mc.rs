//! Completeness-magnitude methods and Weichert's estimator against SeismoStats 1.0.1, on the
//! synthetic catalogs of `tools/parity/make_seismostats_mc.py` (true Mc 2.0 to 4.0 in steps of
//! 0.1).

use std::collections::BTreeMap;
use std::path::Path;

use quakelab::catalog::Selection;
use quakelab::seismicity::bvalue::{
    BEstimator, BValueParams, McChoice, Missing, WindowSpec, sliding_b_values,
};
use quakelab::seismicity::mc::{
    MagnitudeHistogram, McEstimate, McMethod, completeness_magnitude, ks, ks_distance,
};
use quakelab::seismicity::weichert::{CompletenessPeriod, weichert};

use crate::support::{fixture, quakelab, read_csv};

/// The fixture's catalogs: true Mc in tenths → magnitudes.
fn catalogs() -> BTreeMap<u32, Vec<f64>> {
    let (_, rows) = read_csv(&fixture("seismostats/mc", "magnitudes.csv"));
    let mut catalogs = BTreeMap::<u32, Vec<f64>>::new();
    for row in rows {
        catalogs
            .entry(row[0].parse().unwrap())
            .or_default()
            .push(row[1].parse().unwrap());
    }
    catalogs
}

/// An optional number of a fixture row (empty is SeismoStats' None).
fn optional(field: &str) -> Option<f64> {
    (!field.is_empty()).then(|| field.parse().unwrap())
}

fn close(found: f64, expected: f64, tolerance: f64) -> bool {
    (found - expected).abs() <= tolerance * expected.abs().max(1.0)
}

/// A ComCat CSV of `magnitudes`, one event every ten minutes from 2020-01-01.
fn write_catalog(path: &Path, magnitudes: &[f64]) {
    let mut text = String::from(
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n",
    );
    for (i, m) in magnitudes.iter().enumerate() {
        let minutes = i * 10;
        let (day, hour, minute) = (1 + minutes / 1440, (minutes / 60) % 24, minutes % 60);
        let time = format!("2020-01-{day:02}T{hour:02}:{minute:02}:00.000Z");
        text.push_str(&format!(
            "{time},36.0,141.0,10.0,{m:.1},ml,,,,,us,ev{i},{time},somewhere,earthquake\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// `quakelab features mc` on `magnitudes` with `args`: the `method,mc` row and the diagnostics
/// table's header.
fn features_mc(magnitudes: &[f64], args: &[&str]) -> (String, Option<f64>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    write_catalog(&dir.path().join("cat.csv"), magnitudes);
    let mut all = vec![
        "features",
        "mc",
        "--catalog",
        "cat.csv",
        "--start",
        "2020-01-01",
        "--end",
        "2020-02-01",
        "--out",
        "mc.csv",
    ];
    all.extend_from_slice(args);
    let out = quakelab(&all, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = read_csv(&dir.path().join("mc.csv"));
    assert_eq!(header, ["method", "mc"]);
    assert_eq!(rows.len(), 1);
    let (diagnostics, _) = read_csv(&dir.path().join("mc.diagnostics.csv"));
    (rows[0][0].clone(), optional(&rows[0][1]), diagnostics)
}

#[test]
fn features_mc_maxc_and_b_stability_equal_seismostats_for_true_mc_2_to_4() {
    let catalogs = catalogs();
    let (_, rows) = read_csv(&fixture("seismostats/mc", "expected.csv"));
    assert_eq!(rows.len(), 21);
    for row in &rows {
        let k: u32 = row[0].parse().unwrap();
        let magnitudes = &catalogs[&k];
        // maxc + 0.2 over bins of 0.1, through the command line.
        let (method, mc, header) =
            features_mc(magnitudes, &["--method", "maxc", "--correction", "0.2"]);
        assert_eq!(method, "maxc");
        assert_eq!(header, ["magnitude", "count"]);
        let want: f64 = row[2].parse().unwrap();
        assert!(
            close(mc.unwrap(), want, 1e-12),
            "catalog {k}: maxc {mc:?}, SeismoStats {want}"
        );
        // b-stability, through the command line.
        let (method, mc, header) = features_mc(magnitudes, &["--method", "b-stability"]);
        assert_eq!(method, "b-stability");
        assert_eq!(header, ["mc", "n", "b", "b_std", "b_avg", "diff_b"]);
        match (mc, optional(&row[4])) {
            (Some(found), Some(want)) => {
                assert!(
                    close(found, want, 1e-12),
                    "catalog {k}: b-stability {found}, SeismoStats {want}"
                )
            }
            (found, want) => assert_eq!(found, want, "catalog {k}: b-stability"),
        }
        // maxc over bins of 0.2: half bins of the 0.1 data round up, as bin_to_precision does.
        let estimate =
            completeness_magnitude(magnitudes, &McMethod::Maxc { correction: 0.2 }, 0.2, None)
                .unwrap();
        let want: f64 = row[3].parse().unwrap();
        assert!(
            close(estimate.mc().unwrap(), want, 1e-12),
            "catalog {k}: maxc (bins of 0.2) {:?}, SeismoStats {want}",
            estimate.mc()
        );
    }
}

#[test]
fn b_stability_diagnostics_equal_seismostats_candidate_by_candidate() {
    let catalogs = catalogs();
    let (_, expected) = read_csv(&fixture("seismostats/mc", "expected.csv"));
    let (_, rows) = read_csv(&fixture("seismostats/mc", "b_stability.csv"));
    for (k, magnitudes) in &catalogs {
        let McEstimate::BStability(s) =
            completeness_magnitude(magnitudes, &McMethod::B_STABILITY, 0.1, None).unwrap()
        else {
            panic!("a b-stability estimate");
        };
        let want: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == k.to_string()).collect();
        assert_eq!(
            s.candidates.len(),
            want.len(),
            "catalog {k}: candidates tested"
        );
        for (c, w) in s.candidates.iter().zip(&want) {
            let (mc, b, diff): (f64, f64, f64) = (
                w[1].parse().unwrap(),
                w[2].parse().unwrap(),
                w[3].parse().unwrap(),
            );
            assert!(
                close(c.mc, mc, 1e-12),
                "catalog {k}: candidate {} vs {mc}",
                c.mc
            );
            assert!(close(c.b, b, 1e-9), "catalog {k} at {mc}: b {} vs {b}", c.b);
            assert!(
                close(c.diff_b, diff, 1e-9),
                "catalog {k} at {mc}: diff_b {} vs {diff}",
                c.diff_b
            );
        }
        let row = expected.iter().find(|r| r[0] == k.to_string()).unwrap();
        match (s.b, optional(&row[5])) {
            (Some(found), Some(want)) => assert!(close(found, want, 1e-9), "catalog {k}: b"),
            (found, want) => assert_eq!(found, want, "catalog {k}: b"),
        }
    }
}

#[test]
fn ks_distances_equal_seismostats_and_p_values_agree_in_distribution() {
    let catalogs = catalogs();
    let (_, rows) = read_csv(&fixture("seismostats/mc", "ks.csv"));
    let mut worst_p = 0.0f64;
    for row in &rows {
        let k: u32 = row[0].parse().unwrap();
        let mc: f64 = row[1].parse().unwrap();
        let (n, b, distance, p): (usize, f64, f64, f64) = (
            row[2].parse().unwrap(),
            row[3].parse().unwrap(),
            row[4].parse().unwrap(),
            row[5].parse().unwrap(),
        );
        let histogram = MagnitudeHistogram::on_grid(&catalogs[&k], 0.1).unwrap();
        // SeismoStats' 2000 simulations set the bins the distance runs over.
        let found = ks(&histogram, 1.0, 2000, 7, Some(&[mc]));
        let c = &found.candidates[0];
        assert_eq!(c.n, n, "catalog {k} at {mc}");
        assert!(close(c.b, b, 1e-9), "catalog {k} at {mc}: b {} vs {b}", c.b);
        assert!(
            close(c.ks_distance, distance, 1e-9),
            "catalog {k} at {mc}: distance {} vs {distance}",
            c.ks_distance
        );
        if n > 1 && distance < 1.0 {
            assert!(
                close(ks_distance(&histogram, mc, b, 2000), distance, 1e-9),
                "catalog {k} at {mc}: ks_distance"
            );
        }
        // Two independent estimates of one p from 2000 simulations each: the standard error
        // of their difference is at most √(2 · 0.25 / 2000) = 0.0158; 0.075 is 4.7 of them.
        worst_p = worst_p.max((c.p_value - p).abs());
        assert!(
            (c.p_value - p).abs() <= 0.075,
            "catalog {k} at {mc}: p {} vs SeismoStats {p}",
            c.p_value
        );
    }
    assert!(
        worst_p > 0.0,
        "the simulations are not SeismoStats' own draws"
    );
}

#[test]
fn ks_finds_an_mc_that_is_clear_by_construction() {
    // Above 3.0 the bins hold the Gutenberg-Richter counts of b = 1 exactly
    // (round(20000·(10^−x − 10^−(x+0.1))) at 3.0 + x, up to 5.5); below, 2.9 holds 104 events,
    // 2 % of the law's 5179 there, and 2.8 holds 65, 1 % of its 6519. Every candidate below 3.0
    // misses most of its lowest bins, while at 3.0 the sample is the law itself up to rounding.
    let mut m = vec![2.8; 65];
    m.extend(std::iter::repeat_n(2.9, 104));
    for k in 0..=25 {
        let x = k as f64 / 10.0;
        let count = (20000.0 * (10f64.powf(-x) - 10f64.powf(-(x + 0.1)))).round() as usize;
        m.extend(std::iter::repeat_n(((30 + k) as f64) / 10.0, count));
    }
    let estimate = completeness_magnitude(&m, &McMethod::ks(11), 0.1, None).unwrap();
    let McEstimate::Ks(k) = estimate else {
        panic!("a KS estimate");
    };
    assert_eq!(k.mc, Some(3.0), "{:?}", k.candidates);
    let below: Vec<_> = k.candidates.iter().filter(|c| c.mc < 2.95).collect();
    assert_eq!(below.len(), 2);
    assert!(below.iter().all(|c| c.p_value == 0.0), "{below:?}");
}

#[test]
fn a_window_whose_events_are_a_fixture_catalog_gets_seismostats_b_stability_mc() {
    // Catalog 25's events spread over days 0..10, 10-day windows: the last window's Mc by
    // b-stability is SeismoStats' estimate for that catalog.
    let catalogs = catalogs();
    let (_, expected) = read_csv(&fixture("seismostats/mc", "expected.csv"));
    let want: f64 = expected.iter().find(|r| r[0] == "25").unwrap()[4]
        .parse()
        .unwrap();
    let magnitudes = catalogs[&25].clone();
    let n = magnitudes.len();
    let times: Vec<f64> = (0..n).map(|i| 10.0 * i as f64 / n as f64).collect();
    let selection = Selection::new(times, magnitudes).unwrap();
    let params = BValueParams {
        estimator: BEstimator::AkiUtsu,
        mc: McChoice::PerWindow {
            method: McMethod::B_STABILITY,
        },
        min_events: 2,
        ..BValueParams::default()
    }
    .check()
    .unwrap();
    let rows = sliding_b_values(&selection, 10, &WindowSpec::time(10, 1).unwrap(), &params);
    // The row of day 9 covers days 0..10.
    let last = &rows[9];
    assert!(close(last.mc, want, 1e-12), "{} vs {want}", last.mc);
    assert!(last.value.is_ok());
}

#[test]
fn a_window_where_b_stability_finds_no_mc_is_missing_with_its_reason() {
    // Magnitudes 2.0..2.3 span less than the stability range of 0.5.
    let magnitudes: Vec<f64> = (0..40).map(|i| 2.0 + (i % 4) as f64 / 10.0).collect();
    let times: Vec<f64> = (0..40).map(|i| i as f64 / 4.0).collect();
    let selection = Selection::new(times, magnitudes).unwrap();
    let params = BValueParams {
        mc: McChoice::PerWindow {
            method: McMethod::B_STABILITY,
        },
        min_events: 2,
        ..BValueParams::default()
    }
    .check()
    .unwrap();
    let rows = sliding_b_values(&selection, 10, &WindowSpec::time(10, 1).unwrap(), &params);
    assert_eq!(rows[9].value, Err(Missing::NoCompleteness));
    assert!(rows[9].mc.is_nan());
}

#[test]
fn weichert_equals_seismostats_on_a_catalog_with_three_completeness_periods() {
    let (_, rows) = read_csv(&fixture("seismostats/mc", "weichert_magnitudes.csv"));
    let years: Vec<f64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let magnitudes: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    let periods = [
        CompletenessPeriod {
            start: 1980.0,
            mc: 4.0,
        },
        CompletenessPeriod {
            start: 1950.0,
            mc: 4.5,
        },
        CompletenessPeriod {
            start: 1900.0,
            mc: 5.0,
        },
    ];
    let w = weichert(&years, &magnitudes, &periods, 2020.0, 0.1).unwrap();
    let (_, expected) = read_csv(&fixture("seismostats/mc", "weichert.csv"));
    let e: Vec<f64> = expected[0].iter().map(|v| v.parse().unwrap()).collect();
    // SeismoStats solves eq. (10) by Nelder-Mead (tolerance 2e-11 on |left − right|).
    for (what, found, want) in [
        ("b", w.b, e[0]),
        ("std_b", w.b_std, e[1]),
        ("rate", w.rate, e[2]),
        ("std_rate", w.rate_std, e[3]),
        ("a", w.a, e[4]),
    ] {
        assert!(
            close(found, want, 1e-6),
            "{what}: {found} vs SeismoStats {want}"
        );
    }
    assert_eq!(w.n_used, magnitudes.len());
}

#[test]
fn features_weichert_gives_the_two_bin_closed_form() {
    // 30 events at 3.0 and 10 at 3.1, complete from the period start at 3.0: eq. (10) gives
    // e^(−0.1β) = 10/30, b = 10·ln 3 / ln 10, and the rate is 40 events over the 3653 days of
    // 2020..2030, in Julian years.
    let dir = tempfile::tempdir().unwrap();
    let mut magnitudes = vec![3.0; 30];
    magnitudes.extend([3.1; 10]);
    write_catalog(&dir.path().join("cat.csv"), &magnitudes);
    std::fs::write(dir.path().join("c.csv"), "start,mc\n2020-01-01,3.0\n").unwrap();
    let out = quakelab(
        &[
            "features",
            "weichert",
            "--catalog",
            "cat.csv",
            "--start",
            "2020-01-01",
            "--end",
            "2030-01-01",
            "--completeness",
            "c.csv",
            "--out",
            "w.csv",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = read_csv(&dir.path().join("w.csv"));
    assert_eq!(
        header,
        [
            "b",
            "b_std",
            "rate",
            "rate_std",
            "a",
            "lowest_edge",
            "n_used",
            "n_below",
            "n_before"
        ]
    );
    let b: f64 = rows[0][0].parse().unwrap();
    let rate: f64 = rows[0][2].parse().unwrap();
    assert!(
        close(b, 10.0 * 3f64.ln() / std::f64::consts::LN_10, 1e-9),
        "{b}"
    );
    assert!(close(rate, 40.0 * 365.25 / 3653.0, 1e-9), "{rate}");
    assert_eq!(rows[0][6], "40");
}

#[test]
fn an_experiment_picks_the_per_window_mc_method_by_mc_method() {
    use quakelab::experiment::config::{self, Layers};
    let paper = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/paper.toml");
    let layers = |sets: &[&str]| Layers {
        file: Some(paper.clone()),
        overrides: sets.iter().map(|s| s.to_string()).collect(),
        ..Layers::default()
    };
    let resolved = config::resolve(&layers(&[
        "features.seismicity.mc_per_window=true",
        "features.seismicity.mc_method=b-stability",
        "features.seismicity.mc_stability_range=0.3",
    ]))
    .unwrap();
    assert_eq!(
        resolved.seismicity().params.params().mc,
        McChoice::PerWindow {
            method: McMethod::BStability {
                stability_range: 0.3
            }
        }
    );
    let err = config::resolve(&layers(&[
        "features.seismicity.mc_per_window=true",
        "features.seismicity.mc_method=ks",
        "features.seismicity.mc_ks_simulations=0",
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("features.seismicity.mc_ks_simulations"),
        "{err}"
    );
}

#[test]
fn features_mc_help_names_the_diagnostics_file_and_gives_an_example() {
    let out = quakelab(&["features", "mc", "--help"], Path::new("."));
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "mc.diagnostics.csv",
        "method,mc",
        "Example: quakelab features mc",
        "--ks-seed",
        "--stability-range",
        "--candidates",
    ] {
        assert!(help.contains(needle), "`{needle}` missing from:\n{help}");
    }
}
