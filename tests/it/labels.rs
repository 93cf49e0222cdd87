//! The label series of every kind (`seismicity::labels`) against hand-worked values, scipy
//! (`tools/ref_labels.py`), the exact reference sums, and the Fig. 12 command end to end.

use std::path::Path;
use std::process::Command;

use crate::support;
use quakelab::Error;
use quakelab::catalog::Selection;
use quakelab::experiment::config::{self, Layers};
use quakelab::report::precursor::{AroundEventsSettings, around_events};
use quakelab::rng;
use quakelab::seismicity::kde::{Bandwidth, KdeParams, LabelScale};
use quakelab::seismicity::labels::{
    BoundaryCorrection, CountTransform, LabelKind, LabelParams, LabelScaler, label_series,
    label_series_exact,
};
use rand::Rng;

// Φ at a few points (standard normal CDF tables, 15 digits).
const PHI_M15: f64 = 0.066_807_201_268_858;
const PHI_M05: f64 = 0.308_537_538_725_987;
const PHI_05: f64 = 0.691_462_461_274_013;
const PHI_15: f64 = 0.933_192_798_731_142;

fn params(kind: LabelKind, bandwidth: Bandwidth, boundary: BoundaryCorrection) -> LabelParams {
    LabelParams {
        kind,
        kde: KdeParams::new(bandwidth, LabelScale::None),
        boundary,
        window_days: 7,
        transform: CountTransform::Count,
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol
}

#[test]
fn the_boundary_correction_of_one_event_matches_hand_values() {
    // One event at t = 0.5 in a 2-day period, h = 1 day.
    let h1 = Bandwidth::FixedDays(1.0);
    let one = [0.5];
    let series = |kind, boundary| label_series(&one, &one, 2, &params(kind, h1, boundary)).unwrap();

    // Centred: y_0 = Φ(0.5) − Φ(−0.5), y_1 = Φ(1.5) − Φ(0.5); the mass inside [0, 2) at both
    // midpoints is Φ(1.5) − Φ(−0.5) = Φ(0.5) − Φ(−1.5).
    let raw = [PHI_05 - PHI_M05, PHI_15 - PHI_05];
    let mass = PHI_15 - PHI_M05;
    assert!((mass - (PHI_05 - PHI_M15)).abs() < 1e-15);
    let none = series(LabelKind::KdeCentred, BoundaryCorrection::None);
    let renorm = series(LabelKind::KdeCentred, BoundaryCorrection::Renormalise);
    for (d, r) in raw.iter().enumerate() {
        assert!((none.values[d] - r).abs() < 1e-14, "{:?}", none.values);
        assert!(
            (renorm.values[d] - r / mass).abs() < 1e-14,
            "{:?}",
            renorm.values
        );
    }
    assert_eq!(renorm.undefined_days, 0);
    assert_eq!(renorm.support, (-3, 3));

    // Causal: the half-normal puts 2(Φ(0.5) − ½) on day 0 and 2(Φ(1.5) − Φ(0.5)) on day 1; the
    // mass inside at t = 0.5 is 2Φ(0.5) − 1 = 0.383 < 0.5 (undefined), at t = 1.5 2Φ(1.5) − 1.
    let raw = [2.0 * (PHI_05 - 0.5), 2.0 * (PHI_15 - PHI_05)];
    let none = series(LabelKind::KdeCausal, BoundaryCorrection::None);
    let renorm = series(LabelKind::KdeCausal, BoundaryCorrection::Renormalise);
    for (d, r) in raw.iter().enumerate() {
        assert!((none.values[d] - r).abs() < 1e-14, "{:?}", none.values);
    }
    assert!(renorm.values[0].is_nan());
    assert!((renorm.values[1] - raw[1] / (2.0 * PHI_15 - 1.0)).abs() < 1e-14);
    assert_eq!(renorm.undefined_days, 1);
    assert_eq!(renorm.support, (-3, 0));
    assert!(!renorm.look_ahead());
}

fn fixture_events() -> (Vec<f64>, Vec<f64>) {
    let (_, rows) = support::read_csv(&support::fixture("seismicity", "label_events.csv"));
    let times: Vec<f64> = rows.iter().map(|r| r[0].trim().parse().unwrap()).collect();
    let fit = rows
        .iter()
        .filter(|r| r[1].trim() == "1")
        .map(|r| r[0].trim().parse().unwrap())
        .collect();
    (times, fit)
}

#[test]
fn kde_kinds_and_corrections_match_scipy() {
    let (times, fit) = fixture_events();
    let (header, rows) = support::read_csv(&support::fixture("seismicity", "label_kinds.csv"));
    let column = |name: &str| header.iter().position(|h| h.trim() == name).unwrap();
    for (name, bandwidth) in [
        ("fixed7", Bandwidth::FixedDays(7.0)),
        ("scott", Bandwidth::Scott),
    ] {
        let rows: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == name).collect();
        assert_eq!(rows.len(), 200);
        let h: f64 = rows[0][1].parse().unwrap();
        for (kind, prefix) in [
            (LabelKind::KdeCentred, "centred"),
            (LabelKind::KdeCausal, "causal"),
        ] {
            for (boundary, suffix) in [
                (BoundaryCorrection::None, "none"),
                (BoundaryCorrection::Renormalise, "renormalise"),
                (BoundaryCorrection::Reflect, "reflect"),
            ] {
                let c = column(&format!("{prefix}_{suffix}"));
                let expected: Vec<f64> = rows
                    .iter()
                    .map(|r| r[c].trim().parse().unwrap_or(f64::NAN))
                    .collect();
                let got =
                    label_series(&times, &fit, 200, &params(kind, bandwidth, boundary)).unwrap();
                let scale = expected
                    .iter()
                    .copied()
                    .filter(|y| y.is_finite())
                    .fold(0.0, f64::max);
                for (d, (&g, &e)) in got.values.iter().zip(&expected).enumerate() {
                    assert!(
                        close(g, e, 1e-12 * scale),
                        "{name} {prefix}_{suffix} day {d}: {g} vs scipy {e}"
                    );
                }
                let nan = expected.iter().filter(|y| y.is_nan()).count();
                assert_eq!(got.undefined_days, nan, "{name} {prefix}_{suffix}");
                assert!((got.bandwidth_days.unwrap() - h).abs() < 1e-12 * h);
                assert_eq!(got.n_fit_events, fit.len());
                assert_eq!(got.reach_days(), (3.0 * h).ceil() as usize);
            }
        }
    }
}

/// Event times: a background over `n_days` and a tight cluster, `n` in all.
fn random_times(seed: u64, n: usize, n_days: f64) -> Vec<f64> {
    let mut rng = rng::stream(seed, "tests.labels");
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            if i % 4 == 0 {
                0.4 * n_days + rng.random::<f64>() * 3.0
            } else {
                rng.random::<f64>() * n_days
            }
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

#[test]
fn a_causal_label_does_not_change_when_later_events_are_added() {
    let n_days = 400;
    for seed in 0..4 {
        let times = random_times(seed, 300, n_days as f64);
        let fit: Vec<f64> = times.iter().copied().filter(|&t| t < 250.0).collect();
        let cut = 150 + 40 * seed as usize;
        let earlier: Vec<f64> = times
            .iter()
            .copied()
            .filter(|&t| t < (cut + 1) as f64)
            .collect();
        for bandwidth in [Bandwidth::Scott, Bandwidth::FixedDays(0.3)] {
            for boundary in [
                BoundaryCorrection::None,
                BoundaryCorrection::Renormalise,
                BoundaryCorrection::Reflect,
            ] {
                let p = params(LabelKind::KdeCausal, bandwidth, boundary);
                let all = label_series(&times, &fit, n_days, &p).unwrap();
                let past = label_series(&earlier, &fit, n_days, &p).unwrap();
                let scale = all
                    .values
                    .iter()
                    .copied()
                    .filter(|y| y.is_finite())
                    .fold(0.0, f64::max);
                for d in 0..=cut {
                    assert!(
                        close(all.values[d], past.values[d], 1e-13 * scale),
                        "seed {seed} {bandwidth:?} {boundary:?} day {d}: {} vs {}",
                        all.values[d],
                        past.values[d]
                    );
                }
                // The events after the cut do move the labels after it.
                let later = all.values[cut + 1..].iter().zip(&past.values[cut + 1..]);
                assert!(later.into_iter().any(|(a, b)| (a - b).abs() > 0.0));
            }
        }
    }
}

#[test]
fn the_fast_paths_equal_the_exact_sums_with_fit_events_a_subset() {
    let n_days = 1000;
    for seed in 0..3 {
        let times = random_times(seed, 500, n_days as f64);
        let fit: Vec<f64> = times.iter().copied().take(300).collect();
        for kind in [LabelKind::KdeCentred, LabelKind::KdeCausal] {
            for bandwidth in [
                Bandwidth::Scott,
                Bandwidth::FixedDays(2.0),
                Bandwidth::FixedDays(0.3),
            ] {
                let p = params(kind, bandwidth, BoundaryCorrection::Renormalise);
                let fast = label_series(&times, &fit, n_days, &p).unwrap();
                let exact = label_series_exact(&times, &fit, n_days, &p).unwrap();
                let scale = exact
                    .values
                    .iter()
                    .copied()
                    .filter(|y| y.is_finite())
                    .fold(0.0, f64::max);
                assert!(scale > 0.0);
                for (d, (a, b)) in fast.values.iter().zip(&exact.values).enumerate() {
                    assert!(
                        close(*a, *b, 1e-10 * scale),
                        "{kind} {bandwidth:?} day {d}: fast {a} exact {b}"
                    );
                }
                // 1/n_fit, not 1/n: the labels of all events sum to n/n_fit inside the period
                // (up to the edges' share).
                assert_eq!(fast.n_fit_events, 300);
            }
        }
    }
}

#[test]
fn counts_ahead_by_hand() {
    // Days of the events: 0, 1, 1, 4, 9; H = 3 days in a 10-day period.
    let times = [0.5, 1.2, 1.9, 4.0, 9.99];
    let mut p = params(
        LabelKind::CountsAhead,
        Bandwidth::Scott,
        BoundaryCorrection::Renormalise,
    );
    p.window_days = 3;
    let s = label_series(&times, &[], 10, &p).unwrap();
    // L(d) counts days d, d+1, d+2: {0,1,2}: 3, {1,2,3}: 2, {2,3,4}: 1, {3,4,5}: 1, {4,5,6}: 1,
    // {5,6,7}: 0, {6,7,8}: 0, {7,8,9}: 1, then past the end.
    assert_eq!(&s.values[..8], &[3.0, 2.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    assert!(s.values[8].is_nan() && s.values[9].is_nan());
    assert_eq!(s.undefined_days, 2);
    assert_eq!(
        (s.support, s.reach_days(), s.bandwidth_days),
        ((0, 2), 2, None)
    );
    p.transform = CountTransform::Log1p;
    let l = label_series(&times, &[], 10, &p).unwrap();
    assert!((l.values[0] - 4f64.ln()).abs() < 1e-15);
    assert!((l.values[1] - 3f64.ln()).abs() < 1e-15);
}

#[test]
fn the_label_scaler_is_fitted_on_training_values_only() {
    let train = [1.0, 2.0, 3.0, f64::NAN];
    let test = [10.0, 11.0, f64::NAN];
    // Training mean 2, population std √(2/3); the test values keep their distance from it.
    let z = LabelScaler::fit(&train, LabelScale::ZScore, 5).unwrap();
    let t = z.transform(&test);
    let std = (2.0f64 / 3.0).sqrt();
    assert!((t[0] - 8.0 / std).abs() < 1e-12 && (t[1] - 9.0 / std).abs() < 1e-12);
    assert!(t[2].is_nan());
    let m = LabelScaler::fit(&train, LabelScale::MinMax, 5).unwrap();
    assert_eq!(m.transform(&test)[..2], [4.5, 5.0]);
    let e = LabelScaler::fit(&train, LabelScale::EventsPerDay, 5).unwrap();
    assert_eq!(e.transform(&test)[..2], [50.0, 55.0]);
    assert!(LabelScaler::fit(&[2.0, f64::NAN, 2.0], LabelScale::ZScore, 5).is_err());
}

/// The `(key, message)` of resolving the defaults with `overrides`.
fn label_config_error(overrides: &[&str]) -> (String, String) {
    let input = Layers {
        file: None,
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        real_data_dir: None,
    };
    match config::resolve(&input) {
        Err(Error::Config { key, message }) => (key, message),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn the_label_defaults_are_a_true_forecast() {
    let input = Layers {
        file: None,
        overrides: vec![r#"decoders=["ridge"]"#.to_string()],
        env: Vec::new(),
        real_data_dir: None,
    };
    let resolved = config::resolve(&input).unwrap();
    let p = resolved.labels().params;
    assert_eq!(p.kind, LabelKind::KdeCausal);
    assert_eq!(p.boundary, BoundaryCorrection::Renormalise);
    assert_eq!((p.window_days, p.transform), (7, CountTransform::Count));
}

#[test]
fn a_log1p_transform_of_a_kde_label_is_refused() {
    let (key, message) = label_config_error(&["labels.kind=kde_centred", "labels.transform=log1p"]);
    assert_eq!(key, "labels.transform");
    assert!(message.contains("kde_centred"), "{message}");
}

#[test]
fn a_count_window_of_zero_days_is_refused() {
    let (key, _) = label_config_error(&["labels.kind=counts_ahead", "labels.horizon_days=0"]);
    assert_eq!(key, "labels.horizon_days");
}

#[test]
fn events_per_day_scaling_of_counts_is_refused() {
    let (key, message) =
        label_config_error(&["labels.kind=counts_ahead", "labels.scale=events_per_day"]);
    assert_eq!(key, "labels.scale");
    assert!(message.contains("counts_ahead"), "{message}");
}

#[test]
fn around_events_without_a_large_event_is_refused() {
    let selection = Selection::new(vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.9]).unwrap();
    let settings = AroundEventsSettings {
        min_magnitude: 7.0,
        days_before: 10,
        days_after: 10,
        kde: KdeParams::new(Bandwidth::Scott, LabelScale::None),
        boundary: BoundaryCorrection::Renormalise,
        count_window_days: 7,
    };
    let err = around_events(&selection, 10, &settings).unwrap_err();
    assert!(
        err.to_string().contains("no event of magnitude ≥ 7"),
        "{err}"
    );
}

/// A ComCat CSV of (ISO time, magnitude) events at one place.
fn write_comcat(path: &Path, events: &[(String, f64)]) {
    let mut text = String::from(
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n",
    );
    for (i, (time, mag)) in events.iter().enumerate() {
        text.push_str(&format!(
            "{time},36.0,141.0,10.0,{mag:.1},mb,,,,,us,ev{i},{time},somewhere,earthquake\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn around_events_counts_ahead_before_the_event_is_the_hand_count() {
    // 2010-01-01..2012-01-01 (730 days): a background event at noon every 5th day (days 0, 5,
    // ..., 725), the M7 at 06:00 on 2011-01-01 (day 365), three aftershocks on each of the days
    // 366, 367 and 368.
    let date = |day: i64| {
        jiff::civil::date(2010, 1, 1)
            .checked_add(jiff::Span::new().days(day))
            .unwrap()
    };
    let mut events: Vec<(String, f64)> = (0..146)
        .map(|k| (format!("{}T12:00:00Z", date(5 * k)), 3.5))
        .collect();
    events.push((format!("{}T06:00:00Z", date(365)), 7.0));
    for day in 366..369 {
        for hour in 1..4 {
            events.push((format!("{}T0{hour}:00:00Z", date(day)), 4.0));
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0));
    let dir = tempfile::tempdir().unwrap();
    write_comcat(&dir.path().join("cat.csv"), &events);
    let out = Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args([
            "labels",
            "around-events",
            "--catalog",
            "cat.csv",
            "--start",
            "2010-01-01",
            "--end",
            "2012-01-01",
            "--mc",
            "3.0",
            "--horizon-days",
            "7",
            "--out",
            "fig12",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 events of M >= 7"), "{stdout}");
    assert!(dir.path().join("fig12/around_events.png").is_file());
    let (header, rows) = support::read_csv(&dir.path().join("fig12/around_events.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let counts: Vec<(i64, f64)> = rows
        .iter()
        .filter(|r| r[col("kind")] == "counts_ahead")
        .map(|r| {
            (
                r[col("offset_days")].parse().unwrap(),
                r[col("label")].parse().unwrap_or(f64::NAN),
            )
        })
        .filter(|(o, _)| (-10..0).contains(o))
        .collect();
    // L(d) counts days d..=d+6 (event day 365): d = 355: days 355, 360 → 2; 356..358: day 360
    // → 1; 359: 360, 365 (background and M7) → 3; 360: + 366's three → 6; 361: 365 ×2, 366,
    // 367 → 8; 362 and 363: 365 ×2 and 366..368 → 11; 364: + day 370 → 12.
    let expected = [2.0, 1.0, 1.0, 1.0, 3.0, 6.0, 8.0, 11.0, 11.0, 12.0];
    assert_eq!(
        counts,
        (-10..0).zip(expected).collect::<Vec<_>>(),
        "{stdout}"
    );
}

#[test]
fn an_event_after_another_large_event_within_a_year_is_not_isolated() {
    // Large events on days 400, 500 (100 days later) and 900 (400 days later), in a background
    // of one M4 event a day.
    let mut events: Vec<(f64, f64)> = (0..1200).map(|d| (d as f64 + 0.5, 4.0)).collect();
    events.extend([(400.25, 7.2), (500.25, 7.0), (900.25, 7.5)]);
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let selection = Selection::new(
        events.iter().map(|e| e.0).collect(),
        events.iter().map(|e| e.1).collect(),
    )
    .unwrap();
    let settings = AroundEventsSettings {
        min_magnitude: 7.0,
        days_before: 30,
        days_after: 30,
        kde: KdeParams::new(Bandwidth::FixedDays(10.0), LabelScale::None),
        boundary: BoundaryCorrection::Renormalise,
        count_window_days: 7,
    };
    let study = around_events(&selection, 1200, &settings).unwrap();
    let isolated: Vec<bool> = study.events.iter().map(|e| e.isolated).collect();
    assert_eq!(isolated, [true, false, true]);
    // Counts ahead over days 310..=393 (last window 393..=399) before event 1: 7 a day; its
    // baseline (days 35..=220) also 7: no rise.
    let counts = study
        .rises
        .iter()
        .find(|r| r.event == 0 && r.kind == LabelKind::CountsAhead)
        .unwrap();
    assert_eq!((counts.baseline, counts.pre_event), (Some(7.0), Some(7.0)));
    assert_eq!(counts.relative_rise, Some(0.0));
}
