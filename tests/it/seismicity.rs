//! b/a windows and KDE labels against reference fixtures (numpy per-window masks, scipy
//! `gaussian_kde`; see `tools/ref_bvalue.py` and `tools/ref_kde.py`) and closed forms.

use std::path::PathBuf;

use crate::support;
use quakelab::catalog::Selection;
use quakelab::rng;
use quakelab::seismicity::bvalue::{
    BAValue, BEstimator, BValueParams, DifferenceMle, McChoice, Missing, ValidBValueParams,
    WindowRow, WindowSpec, a_value_std, b_value, sliding_b_values,
};
use quakelab::seismicity::kde::{
    Bandwidth, KdeParams, LabelScale, bandwidth_days, kde_labels, kde_labels_exact,
};
use rand::Rng;

const N_DAYS: usize = 730;

fn fixture(name: &str) -> PathBuf {
    support::fixture("seismicity", name)
}

/// A CSV fixture as a header and rows of string fields.
fn read_csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    support::read_csv(&fixture(name))
}

fn catalog() -> Selection {
    let (_, rows) = read_csv("catalog.csv");
    Selection::new(
        rows.iter().map(|r| r[0].parse().unwrap()).collect(),
        rows.iter().map(|r| r[1].parse().unwrap()).collect(),
    )
    .unwrap()
}

/// The settings of the numpy fixture; b-positive with Aki-Utsu on the differences, as the
/// fixture computes it (`DifferenceMle::AkiUtsu`).
fn params(estimator: BEstimator, mc: McChoice) -> ValidBValueParams {
    BValueParams {
        estimator,
        mc,
        difference_mle: DifferenceMle::AkiUtsu,
        ..BValueParams::default()
    }
    .check()
    .unwrap()
}

/// The fixture's rows keyed by column name.
struct Reference {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Reference {
    fn load() -> Self {
        let (header, rows) = read_csv("bvalue_windows.csv");
        Reference { header, rows }
    }

    fn field<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        let i = self.header.iter().position(|h| h == column).unwrap();
        &row[i]
    }

    fn number(&self, row: &[String], column: &str) -> f64 {
        self.field(row, column).parse().unwrap()
    }
}

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-9,
        "{what}: {actual} vs reference {expected}"
    );
}

/// Compares one estimator's rows with the fixture columns `b_<suffix>`, `std_<suffix>`, `a_<suffix>`.
fn check_fixed_mc(estimator: BEstimator, suffix: &str) {
    let reference = Reference::load();
    let spec = WindowSpec::time(128, 3).unwrap();
    let rows = sliding_b_values(
        &catalog(),
        N_DAYS,
        &spec,
        &params(estimator, McChoice::Fixed(2.5)),
    );
    assert_eq!(rows.len(), reference.rows.len());
    let mut fitted = 0;
    for (row, r) in rows.iter().zip(&reference.rows) {
        let day: usize = reference.field(r, "day").parse().unwrap();
        assert_eq!(row.day, day);
        assert_eq!(row.mc, 2.5);
        match reference.field(r, "missing") {
            "incomplete" => assert_eq!(row.value, Err(Missing::Incomplete), "day {day}"),
            "too_few_events" => {
                let n = reference.number(r, "n") as usize;
                assert_eq!(row.value, Err(Missing::TooFewEvents { n }), "day {day}");
            }
            _ => {
                assert_eq!(row.n_events, reference.number(r, "n") as usize, "day {day}");
                let v: BAValue = row.value.unwrap();
                close(v.b, reference.number(r, &format!("b_{suffix}")), "b");
                close(
                    v.b_std,
                    reference.number(r, &format!("std_{suffix}")),
                    "b_std",
                );
                close(v.a, reference.number(r, &format!("a_{suffix}")), "a");
                if suffix == "pos" {
                    assert_eq!(v.n_b, reference.number(r, "n_pos") as usize);
                }
                fitted += 1;
            }
        }
    }
    assert!(fitted > 150, "only {fitted} windows fitted");
}

#[test]
fn aki_windows_match_numpy_reference() {
    check_fixed_mc(BEstimator::Aki, "aki");
}

#[test]
fn aki_utsu_windows_match_numpy_reference() {
    check_fixed_mc(BEstimator::AkiUtsu, "utsu");
}

#[test]
fn b_positive_windows_match_numpy_reference() {
    check_fixed_mc(BEstimator::BPositive, "pos");
}

#[test]
fn per_window_mc_matches_numpy_reference() {
    let reference = Reference::load();
    let spec = WindowSpec::time(128, 3).unwrap();
    // The catalog's floor is 2.0: every event enters the per-window histogram.
    let rows: Vec<WindowRow> = sliding_b_values(
        &catalog(),
        N_DAYS,
        &spec,
        &params(BEstimator::AkiUtsu, McChoice::per_window_maxc()),
    );
    let mut distinct_mc = Vec::new();
    for (row, r) in rows.iter().zip(&reference.rows) {
        let mc = reference.number(r, "mc_pw");
        close(row.mc, mc, "per-window Mc");
        if !distinct_mc.iter().any(|m: &f64| (m - mc).abs() < 1e-9) {
            distinct_mc.push(mc);
        }
        match reference.field(r, "missing_pw") {
            "incomplete" => assert_eq!(row.value, Err(Missing::Incomplete)),
            "too_few_events" => {
                let n = reference.number(r, "n_pw") as usize;
                assert_eq!(row.value, Err(Missing::TooFewEvents { n }));
            }
            _ => {
                assert_eq!(row.n_events, reference.number(r, "n_pw") as usize);
                let v = row.value.unwrap();
                close(v.b, reference.number(r, "b_pw"), "b");
                close(v.a, reference.number(r, "a_pw"), "a");
            }
        }
    }
    // The aftershock bursts raise the window Mc, so the histogram really moves.
    assert!(distinct_mc.len() >= 3, "{distinct_mc:?}");
}

#[test]
fn event_count_windows_match_a_direct_computation() {
    // Windows of 200 events at or above Mc 2.5, step 50: each row's b is eq. (19) over exactly
    // those magnitudes, computed here from scratch.
    let sel = catalog();
    let kept: Vec<(f64, f64)> = sel
        .times()
        .iter()
        .zip(sel.magnitudes())
        .filter(|&(_, &m)| m >= 2.5 - 1e-9)
        .map(|(&t, &m)| (t, m))
        .collect();
    let spec = WindowSpec::events(200, 50).unwrap();
    let rows = sliding_b_values(
        &sel,
        N_DAYS,
        &spec,
        &params(BEstimator::Aki, McChoice::Fixed(2.5)),
    );
    assert_eq!(rows.len(), (kept.len() - 200) / 50 + 1);
    for (w, row) in rows.iter().enumerate() {
        let window = &kept[w * 50..w * 50 + 200];
        let mean = window.iter().map(|e| e.1).sum::<f64>() / 200.0;
        let b = std::f64::consts::LOG10_E / (mean - 2.5);
        assert_eq!(row.day, window[199].0.floor() as usize);
        assert_eq!(row.n_events, 200);
        close(row.value.unwrap().b, b, "b");
    }
}

#[test]
fn aki_utsu_recovers_a_known_b_within_three_shi_bolt_sigmas() {
    // 20,000 Gutenberg-Richter magnitudes with b = 1.2 above Mc = 2.0, binned to 0.1.
    let b_true = 1.2;
    let beta = b_true * std::f64::consts::LN_10;
    let mut rng = rng::stream(11, "tests.seismicity.gr");
    let magnitudes: Vec<f64> = (0..20_000)
        .map(|_| {
            let u: f64 = rng.random();
            let m = 1.95 - (1.0 - u).ln() / beta;
            (m * 10.0).round() / 10.0
        })
        .collect();
    let v = b_value(
        &magnitudes,
        2.0,
        &params(BEstimator::AkiUtsu, McChoice::Fixed(2.0)),
    )
    .unwrap();
    assert!(
        (v.b - b_true).abs() <= 3.0 * v.b_std,
        "b = {} ± {}",
        v.b,
        v.b_std
    );
    // The Shi & Bolt error of n = 20,000 is about b/√n.
    assert!((v.b_std / (b_true / 20_000f64.sqrt()) - 1.0).abs() < 0.1);
    // b-positive on the same independent sample estimates the same b.
    let p = b_value(
        &magnitudes,
        2.0,
        &params(BEstimator::BPositive, McChoice::Fixed(2.0)),
    )
    .unwrap();
    assert!(
        (p.b - b_true).abs() <= 3.0 * p.b_std,
        "b+ = {} ± {}",
        p.b,
        p.b_std
    );
}

fn kde_reference() -> (Vec<String>, Vec<Vec<f64>>) {
    let (header, rows) = read_csv("kde_labels.csv");
    let rows = rows
        .iter()
        .map(|r| r.iter().map(|x| x.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

fn reference_bandwidth(name: &str) -> f64 {
    let (_, rows) = read_csv("kde_bandwidths.csv");
    rows.iter().find(|r| r[0] == name).unwrap()[1]
        .parse()
        .unwrap()
}

#[test]
fn kde_labels_match_scipy_gaussian_kde() {
    let times = catalog().times().to_vec();
    let (header, rows) = kde_reference();
    for (name, bandwidth) in [
        ("scott", Bandwidth::Scott),
        ("silverman", Bandwidth::Silverman),
        ("fixed7", Bandwidth::FixedDays(7.0)),
    ] {
        let column = header.iter().position(|h| h == name).unwrap();
        let params = KdeParams::new(bandwidth, LabelScale::None);
        let h = bandwidth_days(&times, bandwidth).unwrap();
        let h_ref = reference_bandwidth(name);
        assert!((h / h_ref - 1.0).abs() < 1e-12, "{name}: h {h} vs {h_ref}");
        for labels in [
            kde_labels_exact(&times, N_DAYS, &params).unwrap(),
            kde_labels(&times, N_DAYS, &params).unwrap(),
        ] {
            assert_eq!(labels.values.len(), N_DAYS);
            assert_eq!(labels.n_events, times.len());
            assert_eq!(labels.bandwidth_days, h);
            for (d, row) in rows.iter().enumerate() {
                assert!(
                    (labels.values[d] - row[column]).abs() <= 1e-9,
                    "{name} day {d}: {} vs scipy {}",
                    labels.values[d],
                    row[column]
                );
            }
        }
    }
}

/// A clustered synthetic catalog: a uniform background plus bursts, with times anywhere in a day.
fn synthetic_times(n: usize, n_days: usize, seed: u64) -> Vec<f64> {
    let mut rng = rng::stream(seed, "tests.seismicity.kde");
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            if i % 4 == 0 {
                // bursts after days 100 and 400: exponential decay over a few days
                let start = if i % 8 == 0 { 100.3 } else { 400.7 };
                let u: f64 = rng.random();
                (start - 3.0 * (1.0 - u).ln()).min(n_days as f64 - 1e-6)
            } else {
                rng.random::<f64>() * n_days as f64
            }
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

#[test]
fn fast_kde_matches_exact_within_the_stated_bound() {
    let n_days = 600;
    let times = synthetic_times(4000, n_days, 5);
    for bandwidth in [
        Bandwidth::Scott,
        Bandwidth::Silverman,
        Bandwidth::FixedDays(0.2),
        Bandwidth::FixedDays(0.5),
        Bandwidth::FixedDays(1.0),
        Bandwidth::FixedDays(7.0),
        Bandwidth::FixedDays(30.0),
        Bandwidth::FixedDays(90.0),
        Bandwidth::FixedDays(2000.0),
    ] {
        let params = KdeParams::new(bandwidth, LabelScale::None);
        let exact = kde_labels_exact(&times, n_days, &params).unwrap();
        let fast = kde_labels(&times, n_days, &params).unwrap();
        let max = exact.values.iter().copied().fold(0.0, f64::max);
        let err = exact
            .values
            .iter()
            .zip(&fast.values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err <= 1e-10 * max,
            "{bandwidth:?}: max error {err:e}, max label {max:e}"
        );
    }
}

/// `Φ(x)` from `erfc`, written out here rather than taken from the library.
fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

#[test]
fn labels_sum_to_the_density_mass_inside_the_period() {
    let n_days = 600;
    let times = synthetic_times(3000, n_days, 9);
    for bandwidth in [
        Bandwidth::Scott,
        Bandwidth::FixedDays(1.0),
        Bandwidth::FixedDays(90.0),
    ] {
        let h = bandwidth_days(&times, bandwidth).unwrap();
        let t_end = n_days as f64;
        let mass = times
            .iter()
            .map(|&t| phi((t_end - t) / h) - phi((0.0 - t) / h))
            .sum::<f64>()
            / times.len() as f64;
        let params = KdeParams::new(bandwidth, LabelScale::None);
        for labels in [
            kde_labels(&times, n_days, &params).unwrap(),
            kde_labels_exact(&times, n_days, &params).unwrap(),
        ] {
            let total: f64 = labels.values.iter().sum();
            assert!(
                (total - mass).abs() < 1e-12,
                "{bandwidth:?}: {total} vs {mass}"
            );
        }
        // Edge losses are real: with h = 90 days, mass leaks past both ends.
        if bandwidth == Bandwidth::FixedDays(90.0) {
            assert!(mass < 0.95, "{mass}");
        }
    }
}

#[test]
fn events_per_day_scale_is_n_times_the_probability_mass() {
    let times = catalog().times().to_vec();
    let n = times.len() as f64;
    let raw = kde_labels(
        &times,
        N_DAYS,
        &KdeParams::new(Bandwidth::Scott, LabelScale::None),
    )
    .unwrap();
    let per_day = kde_labels(
        &times,
        N_DAYS,
        &KdeParams::new(Bandwidth::Scott, LabelScale::EventsPerDay),
    )
    .unwrap();
    for (r, p) in raw.values.iter().zip(&per_day.values) {
        assert!((p - n * r).abs() < 1e-12);
    }
    let minmax = kde_labels(
        &times,
        N_DAYS,
        &KdeParams::new(Bandwidth::Scott, LabelScale::MinMax),
    )
    .unwrap();
    let lo = minmax.values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = minmax.values.iter().copied().fold(0.0, f64::max);
    assert_eq!((lo, hi), (0.0, 1.0));
}

#[test]
fn kde_refuses_empty_input_and_bad_bandwidth() {
    let params = KdeParams::new(Bandwidth::Scott, LabelScale::None);
    assert!(kde_labels(&[], 10, &params).is_err());
    assert!(kde_labels(&[1.0], 10, &params).is_err());
    let fixed = KdeParams::new(Bandwidth::FixedDays(-1.0), LabelScale::None);
    let err = kde_labels(&[1.0, 2.0], 10, &fixed).unwrap_err();
    assert!(
        err.to_string().contains("seismicity.kde.bandwidth"),
        "{err}"
    );
}

#[test]
fn events_far_outside_the_period_only_dilute_the_labels() {
    // Two events at days 10.5 and 1e7 with h = 2 days: the far one adds nothing to days 0..30,
    // so each label is half the single-event label Φ((d + 1 − 10.5)/2) − Φ((d − 10.5)/2).
    let params = KdeParams::new(Bandwidth::FixedDays(2.0), LabelScale::None);
    let labels = kde_labels(&[10.5, 1e7], 30, &params).unwrap();
    for (d, y) in labels.values.iter().enumerate() {
        let d = d as f64;
        let single = phi((d + 1.0 - 10.5) / 2.0) - phi((d - 10.5) / 2.0);
        assert!((y - 0.5 * single).abs() < 1e-15, "day {d}: {y}");
    }
}

#[test]
fn per_window_b_positive_matches_a_direct_computation() {
    // With a per-window Mc, b-positive pairs consecutive selected events (all above the 2.0
    // floor) that both lie in the window; n and a use the window's Mc from the numpy fixture.
    let reference = Reference::load();
    let sel = catalog();
    let spec = WindowSpec::time(128, 3).unwrap();
    let rows = sliding_b_values(
        &sel,
        N_DAYS,
        &spec,
        &params(BEstimator::BPositive, McChoice::per_window_maxc()),
    );
    let mut fitted = 0;
    for (row, r) in rows.iter().zip(&reference.rows) {
        if !reference.field(r, "missing_pw").is_empty() {
            continue;
        }
        let d = row.day as f64;
        let window: Vec<f64> = sel
            .times()
            .iter()
            .zip(sel.magnitudes())
            .filter(|&(&t, _)| t >= d - 127.0 && t < d + 1.0)
            .map(|(_, &m)| m)
            .collect();
        let kept: Vec<f64> = window
            .windows(2)
            .map(|p| p[1] - p[0])
            .filter(|&x| x >= 0.1 - 1e-9)
            .collect();
        let mean = kept.iter().sum::<f64>() / kept.len() as f64;
        let b = std::f64::consts::LOG10_E / (mean - 0.05);
        let mc = reference.number(r, "mc_pw");
        let n = reference.number(r, "n_pw");
        let v = row.value.unwrap();
        assert_eq!(v.n_b, kept.len());
        close(v.b, b, "b+");
        close(v.a, n.log10() + b * mc, "a");
        fitted += 1;
    }
    assert!(fitted > 150, "{fitted}");
}

// Issue 12, section 3: one absurd magnitude early in a catalog left every later window's prefix
// sums dominated by it (b_std = 0 two years later). Now a window's sums are the exact sums of
// its own values: changing one event's magnitude to M 10.5 (the largest accepted) changes no
// window that does not hold it, to the last bit, for a fixed and a per-window Mc alike.
#[test]
fn prefix_sums_carry_no_value_into_later_windows() {
    let sel = catalog();
    let mut magnitudes = sel.magnitudes().to_vec();
    // An event after day 200, so complete windows hold it.
    let first = (0..magnitudes.len())
        .find(|&i| magnitudes[i] >= 2.5 && sel.times()[i] > 200.0)
        .unwrap();
    let first_time = sel.times()[first];
    magnitudes[first] = 10.5;
    let altered = Selection::new(sel.times().to_vec(), magnitudes).unwrap();
    let spec = WindowSpec::time(128, 1).unwrap();
    for mc in [McChoice::Fixed(2.5), McChoice::per_window_maxc()] {
        for estimator in [BEstimator::Aki, BEstimator::BPositive] {
            let p = params(estimator, mc);
            let plain = sliding_b_values(&sel, N_DAYS, &spec, &p);
            let with_big = sliding_b_values(&altered, N_DAYS, &spec, &p);
            // The window of day d holds [d − 127, d + 1): days from first_time + 128 on lack it.
            let clear = (first_time + 128.0).ceil() as usize;
            let mut compared = 0;
            for (a, b) in plain.iter().zip(&with_big).filter(|(a, _)| a.day >= clear) {
                assert_eq!(a, b, "day {} ({estimator:?}, {mc:?})", a.day);
                compared += a.value.is_ok() as usize;
            }
            assert!(compared > 100, "only {compared} valid windows compared");
            // The windows that hold it do see it.
            let first_day = first_time.floor() as usize;
            assert_ne!(plain[first_day + 1], with_big[first_day + 1]);
        }
    }
}

#[test]
fn a_value_standard_error_matches_a_hand_computation() {
    // Mc 3, σ_b 0.1, N 100: σ_a² = (3·0.1)² + (log10 e)²/100 = 0.09 + 0.188612/100, worked out
    // by hand (log10 e = 0.4342945): σ_a = sqrt(0.0918861) = 0.3031272.
    assert!((a_value_std(3.0, 0.1, 100) - 0.3031272).abs() < 1e-7);
    // Without b uncertainty only the Poisson term is left: log10(e)/sqrt(N) = 0.4342945/2.
    assert!((a_value_std(3.0, 0.0, 4) - 0.2171472).abs() < 1e-7);
}
