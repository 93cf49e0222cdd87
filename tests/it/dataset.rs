//! The daily table, splits, train-only transforms, controls and metrics: leakage checks and
//! hand-computed values, plus a scikit-learn PCA fixture (`tools/ref_pca.py`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use faer::Mat;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use quakelab::Error;
use quakelab::catalog::Region;
use quakelab::dataset::controls::{
    Interpolation, day_number_features, interpolation_baseline, permute_rows, shift_labels,
};
use quakelab::dataset::{
    BaInput, DailyTable, Embargo, ImageInput, LOOK_AHEAD_FLAG, LabelInput, Modality, NOWCAST_FLAG,
    Split, SplitKind, Support, TableInputs, Timing, embargo_reach_days,
};
use quakelab::device::Device;
use quakelab::encode::{EncodeContext, FlattenEncoder, Pca, Standardizer, encode_stack};
use quakelab::experiment::config::{self, Layers};
use quakelab::gnss::grid::{GridOrigin, GridSpec, SigmaSpacing};
use quakelab::gnss::stack::ImageStack;
use quakelab::period::Period;
use quakelab::seismicity::bvalue::{BAValue, Missing, WindowRow};

fn is_config_error(err: &Error, expected: &str) -> bool {
    matches!(err, Error::Config { key, .. } if key == expected)
}

fn ba_row(day: usize, b: f64, a: f64) -> WindowRow {
    WindowRow {
        day,
        n_events: 60,
        mc: 3.0,
        value: Ok(BAValue {
            b,
            b_std: 0.1,
            a,
            n_b: 60,
        }),
    }
}

/// A stack of 1 × 1 images (3 values a day) from `pixels[d]`.
fn stack(pixels: &[[f32; 3]]) -> ImageStack {
    let grid = GridSpec {
        region: Region::JAPAN,
        rows: 1,
        cols: 1,
        origin: GridOrigin::Corner,
        sigma_cells: 8.0,
        sigma_spacing: SigmaSpacing::Latitude,
    }
    .check()
    .unwrap();
    let start: jiff::civil::Date = "2020-01-01".parse().unwrap();
    let end = start
        .checked_add(jiff::Span::new().days(pixels.len() as i64))
        .unwrap();
    let period = Period::new(start, end).unwrap();
    ImageStack::new(grid, period, pixels.iter().flatten().copied().collect()).unwrap()
}

fn distinct(a: &[usize], b: &[usize]) -> bool {
    let a: BTreeSet<_> = a.iter().collect();
    b.iter().all(|r| !a.contains(r))
}

// ---------------------------------------------------------------- splits

#[test]
fn random_split_is_a_seeded_partition() {
    let days: Vec<usize> = (0..100).map(|d| 2 * d).collect();
    let kind = SplitKind::Random {
        fraction: 0.7,
        seed: 42,
    };
    let s = Split::new(kind, &days).unwrap();
    assert_eq!((s.train().len(), s.test().len()), (70, 30));
    assert!(distinct(s.train(), s.test()));
    let all: BTreeSet<usize> = s.train().iter().chain(s.test()).copied().collect();
    assert_eq!(all, (0..100).collect());
    // The same seed gives the same split, another seed another one.
    assert_eq!(Split::new(kind, &days).unwrap(), s);
    let other = Split::new(
        SplitKind::Random {
            fraction: 0.7,
            seed: 43,
        },
        &days,
    )
    .unwrap();
    assert_ne!(other.train(), s.train());
    // It is a shuffle, not the first 70 rows.
    assert_ne!(s.train(), (0..70).collect::<Vec<_>>().as_slice());
    assert_eq!(s.summary().kind, "random");
    assert_eq!(s.embargo_days(), 0);
}

#[test]
fn chronological_split_has_the_expected_boundaries() {
    let days: Vec<usize> = (0..100).collect();
    let s = Split::new(
        SplitKind::Chronological {
            fraction: 0.7,
            embargo_days: 0,
        },
        &days,
    )
    .unwrap();
    assert_eq!(s.train(), (0..70).collect::<Vec<_>>().as_slice());
    assert_eq!(s.test(), (70..100).collect::<Vec<_>>().as_slice());
    assert_eq!(s.summary().train_days, (0, 69));
    assert_eq!(s.summary().test_days, (70, 99));

    // Embargo 5: the first test day is 70, so training days must satisfy d + 5 < 70, d ≤ 64.
    let s = Split::new(
        SplitKind::Chronological {
            fraction: 0.7,
            embargo_days: 5,
        },
        &days,
    )
    .unwrap();
    assert_eq!(s.train(), (0..65).collect::<Vec<_>>().as_slice());
    assert_eq!(s.summary().n_purged, 5);
    assert_eq!(s.summary().kind, "chronological");
}

#[test]
fn blocked_fold_keeps_the_embargo_on_both_sides() {
    let days: Vec<usize> = (0..30).collect();
    // Fold 1 of 3 is rows 10..20 (days 10..=19). Embargo 4: training days d < 10 − 4 or d > 19 + 4.
    let s = Split::new(
        SplitKind::Blocked {
            folds: 3,
            fold: 1,
            embargo_days: 4,
            past_only: false,
        },
        &days,
    )
    .unwrap();
    assert_eq!(s.test(), (10..20).collect::<Vec<_>>().as_slice());
    let expected: Vec<usize> = (0..6).chain(24..30).collect();
    assert_eq!(s.train(), expected.as_slice());
    assert_eq!(
        s.summary().description,
        "blocked(k=3, fold=1, embargo=4d, both sides)"
    );
}

#[test]
fn blocked_past_only_trains_before_the_test_block() {
    let days: Vec<usize> = (0..30).collect();
    let kind = |fold| SplitKind::Blocked {
        folds: 3,
        fold,
        embargo_days: 4,
        past_only: true,
    };
    // Fold 1 (days 10..=19): training days d + 4 < 10, i.e. days 0..=5; nothing after the block.
    let s = Split::new(kind(1), &days).unwrap();
    assert_eq!(s.test(), (10..20).collect::<Vec<_>>().as_slice());
    assert_eq!(s.train(), (0..6).collect::<Vec<_>>().as_slice());
    assert_eq!(
        s.summary().description,
        "blocked(k=3, fold=1, embargo=4d, past only)"
    );
    // Fold 2 (days 20..=29): days 0..=15, fold 1's rows included.
    let s = Split::new(kind(2), &days).unwrap();
    assert_eq!(s.train(), (0..16).collect::<Vec<_>>().as_slice());
    assert_eq!(kind(2).test_start_day(&days).unwrap(), Some(20));
    // Fold 0 has no past: refused alone, left out of the folds.
    let err = Split::new(kind(0), &days).unwrap_err();
    assert!(is_config_error(&err, "dataset.split"), "{err}");
    let folds = Split::blocked_folds(&days, 3, 4, true).unwrap();
    let tested: Vec<usize> = folds
        .iter()
        .map(|s| match s.kind() {
            SplitKind::Blocked { fold, .. } => fold,
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(tested, [1, 2]);
}

#[test]
fn rolling_origins_test_the_next_block_and_train_on_the_past() {
    // Ten rows with gaps in the days. initial_fraction 0.4: n₀ = 4 rows before the first test
    // block; the other m = 6 rows make 3 blocks of 2: rows 4..6, 6..8, 8..10. Embargo 2 days.
    let days = [0, 1, 2, 4, 5, 7, 8, 10, 11, 13];
    let kind = |origin| {
        SplitKind::Rolling {
            origins: 3,
            origin,
            initial_fraction: 0.4,
            embargo_days: 0,
        }
        .with_embargo(2)
    };
    // Origin 0 tests days 5, 7 and trains on days d + 2 < 5: 0, 1, 2 (day 4 purged).
    let s = Split::new(kind(0), &days).unwrap();
    assert_eq!((s.train(), s.test()), (&[0, 1, 2][..], &[4, 5][..]));
    assert_eq!(s.summary().n_purged, 5);
    // Origin 1 tests days 8, 10 and trains on d + 2 < 8: days 0, 1, 2, 4, 5 (day 7 purged).
    let s = Split::new(kind(1), &days).unwrap();
    assert_eq!((s.train(), s.test()), (&[0, 1, 2, 3, 4][..], &[6, 7][..]));
    // Origin 2 tests days 11, 13 and trains on d + 2 < 11: days up to 8 (day 10 purged).
    let s = Split::new(kind(2), &days).unwrap();
    assert_eq!(
        (s.train(), s.test()),
        (&[0, 1, 2, 3, 4, 5, 6][..], &[8, 9][..])
    );
    assert_eq!(
        s.summary().description,
        "rolling(k=3, origin=2, initial=0.4, embargo=2d)"
    );
    assert_eq!(s.embargo_days(), 2);
    assert_eq!(kind(1).test_start_day(&days).unwrap(), Some(8));
}

#[test]
fn more_rolling_origins_than_test_rows_are_refused() {
    // n₀ = round(0.4 · 10) = 4 rows before the first block leave 6 rows for 7 origins.
    let days: Vec<usize> = (0..10).collect();
    let err = Split::new(
        SplitKind::Rolling {
            origins: 7,
            origin: 0,
            initial_fraction: 0.4,
            embargo_days: 0,
        },
        &days,
    )
    .unwrap_err();
    assert!(is_config_error(&err, "split.rolling_origins"), "{err}");
    assert!(
        err.to_string()
            .contains("7 origins need at least 7 rows after the first 4, the table has 6"),
        "{err}"
    );
}

#[test]
fn test_start_days_of_each_kind() {
    let days: Vec<usize> = (0..100).map(|d| 3 * d).collect();
    let chrono = SplitKind::Chronological {
        fraction: 0.7,
        embargo_days: 0,
    };
    // Row 70 is day 210.
    assert_eq!(chrono.test_start_day(&days).unwrap(), Some(210));
    let random = SplitKind::Random {
        fraction: 0.7,
        seed: 1,
    };
    assert_eq!(random.test_start_day(&days).unwrap(), None);
    assert_eq!(random.with_embargo(30), random);
    assert_eq!(chrono.with_embargo(30).embargo_days(), 30);
    let err = SplitKind::Chronological {
        fraction: 1.5,
        embargo_days: 0,
    }
    .test_start_day(&days)
    .unwrap_err();
    assert!(is_config_error(&err, "dataset.split.fraction"), "{err}");
}

#[test]
fn blocked_folds_never_leak_across_the_embargo() {
    // Days with gaps (dropped days), so rows and days differ.
    let days: Vec<usize> = (0..500).filter(|d| d % 7 != 3 && d % 11 != 5).collect();
    let embargo = 30;
    let splits = Split::blocked_folds(&days, 5, embargo, false).unwrap();
    let mut tested = BTreeSet::new();
    for s in &splits {
        assert!(distinct(s.train(), s.test()));
        let days = &days;
        let min_gap = s
            .train()
            .iter()
            .flat_map(|&a| s.test().iter().map(move |&b| days[a].abs_diff(days[b])))
            .min()
            .unwrap();
        assert!(min_gap > embargo, "gap {min_gap} ≤ embargo {embargo}");
        tested.extend(s.test().iter().copied());
    }
    // Every row is tested exactly once over the folds.
    assert_eq!(tested.len(), days.len());
}

#[test]
fn bad_split_settings_name_their_key() {
    let days: Vec<usize> = (0..10).collect();
    let err = Split::new(
        SplitKind::Random {
            fraction: 1.0,
            seed: 1,
        },
        &days,
    )
    .unwrap_err();
    assert!(is_config_error(&err, "dataset.split.fraction"), "{err}");
    let err = Split::new(
        SplitKind::Blocked {
            folds: 1,
            fold: 0,
            embargo_days: 0,
            past_only: false,
        },
        &days,
    )
    .unwrap_err();
    assert!(is_config_error(&err, "dataset.split.folds"), "{err}");
    // An embargo as long as the series purges every training row.
    let err = Split::new(
        SplitKind::Blocked {
            folds: 2,
            fold: 0,
            embargo_days: 10,
            past_only: false,
        },
        &days,
    )
    .unwrap_err();
    assert!(is_config_error(&err, "dataset.split"), "{err}");
}

// ---------------------------------------------------------------- the table

#[test]
fn table_drops_missing_days_with_counted_reasons() {
    // Ten days. b/a: day 0 incomplete, day 1 too few events, no window ends on day 2, the rest
    // b = 1 + d/10, a = 4 + d/10.
    let mut rows = vec![
        WindowRow {
            day: 0,
            n_events: 0,
            mc: 3.0,
            value: Err(Missing::Incomplete),
        },
        WindowRow {
            day: 1,
            n_events: 12,
            mc: 3.0,
            value: Err(Missing::TooFewEvents { n: 12 }),
        },
    ];
    rows.extend((3..10).map(|d| ba_row(d, 1.0 + d as f64 / 10.0, 4.0 + d as f64 / 10.0)));
    // Images: day 4 empty, day 5 one NaN channel, others (d, 2d, 3d).
    let pixels: Vec<[f32; 3]> = (0..10)
        .map(|d| match d {
            4 => [f32::NAN; 3],
            5 => [1.0, f32::NAN, 1.0],
            _ => [d as f32, 2.0 * d as f32, 3.0 * d as f32],
        })
        .collect();
    let images = stack(&pixels);
    // Labels y_d = 100 + d, with day 9 missing.
    let labels: Vec<f64> = (0..10)
        .map(|d| if d == 9 { f64::NAN } else { 100.0 + d as f64 })
        .collect();
    let inputs = |timing| TableInputs {
        ba: Some(BaInput {
            rows: &rows,
            support: Support::trailing_window(3),
        }),
        images: Some(ImageInput {
            stack: &images,
            support: Support::gnss_displacement(),
        }),
        labels: LabelInput {
            values: &labels,
            support: Support::day(),
            look_ahead: false,
        },
        horizon: 2,
        timing,
    };
    let table = DailyTable::build(inputs(Timing::Forecast)).unwrap();
    // Forecast: row t takes b/a of day t and the image of day t − 1 (known at the end of day t).
    // Horizon 2: days 8 and 9 have no label day; day 7's label (day 9) is NaN. Days 0, 1, 2 lack
    // b/a; day 5 takes the empty image of day 4, day 6 the partial image of day 5.
    // Kept: days 3 and 4, with the images of days 2 and 3.
    assert_eq!(table.days(), &[3, 4]);
    assert_eq!(table.image_days(), &[2, 3]);
    assert_eq!(table.labels(), &[105.0, 106.0]);
    let dropped = &table.meta().dropped;
    let count = |k: &str| dropped.get(k).copied().unwrap_or(0);
    assert_eq!(count("beyond_period"), 2);
    assert_eq!(count("label_missing"), 1);
    assert_eq!(count("incomplete"), 1);
    assert_eq!(count("too_few_events"), 1);
    assert_eq!(count("ba_no_row"), 1);
    assert_eq!(count("image_empty"), 1);
    assert_eq!(count("image_partial"), 1);
    assert_eq!(dropped.values().sum::<usize>() + table.n_rows(), 10);
    assert!(table.meta().alignment.is_forecast());
    assert!(table.meta().alignment.flags().is_empty());

    // Seismicity: [b, a] of days 3 and 4.
    let x = table.design(Modality::Seismicity, None).unwrap();
    assert_eq!((x.nrows(), x.ncols()), (2, 2));
    assert!((x[(0, 0)] - 1.3).abs() < 1e-12 && (x[(0, 1)] - 4.3).abs() < 1e-12);
    assert!((x[(1, 0)] - 1.4).abs() < 1e-12 && (x[(1, 1)] - 4.4).abs() < 1e-12);

    // Fusion: [flattened image, b, a], the paper's order; row 4 holds the image of day 3.
    let ctx = EncodeContext::new(1, Device::Cpu, 0).unwrap();
    let g = encode_stack(&FlattenEncoder, &images, table.image_days(), &ctx).unwrap();
    assert_eq!(g.ncols(), 3);
    assert_eq!((g[(1, 0)], g[(1, 1)], g[(1, 2)]), (3.0, 6.0, 9.0));
    let x = table.design(Modality::Fusion, Some(g.as_ref())).unwrap();
    assert_eq!(x.ncols(), 5);
    assert_eq!(x[(0, 2)], 6.0);
    assert!((x[(0, 3)] - 1.3).abs() < 1e-12);
    let err = table.design(Modality::Gnss, None).unwrap_err();
    assert!(is_config_error(&err, "experiment.modality"), "{err}");

    // Nowcast: the image of day t itself (days 4 and 5 now lack images; 6 is kept), flagged.
    let nowcast = DailyTable::build(inputs(Timing::Nowcast)).unwrap();
    assert_eq!(nowcast.days(), &[3, 6]);
    assert_eq!(nowcast.image_days(), &[3, 6]);
    assert_eq!(nowcast.labels(), &[105.0, 108.0]);
    let flags = nowcast.meta().alignment.flags();
    assert_eq!(flags.len(), 1);
    assert!(flags[0].starts_with(NOWCAST_FLAG), "{}", flags[0]);
}

#[test]
fn forecast_timing_pairs_row_t_with_the_image_of_the_day_before() {
    // Image of day d: (d, 10d, 100d); labels 1 + d; horizon 1.
    let pixels: Vec<[f32; 3]> = (0..6)
        .map(|d| [d as f32, 10.0 * d as f32, 100.0 * d as f32])
        .collect();
    let images = stack(&pixels);
    let labels: Vec<f64> = (0..6).map(|d| 1.0 + d as f64).collect();
    let inputs = |timing| TableInputs {
        ba: None,
        images: Some(ImageInput {
            stack: &images,
            support: Support::gnss_displacement(),
        }),
        labels: LabelInput {
            values: &labels,
            support: Support::between(-3, 0),
            look_ahead: false,
        },
        horizon: 1,
        timing,
    };
    // Forecast: day 0 has no image of day −1, day 5 no label of day 6: rows 1..=4.
    let table = DailyTable::build(inputs(Timing::Forecast)).unwrap();
    assert_eq!(table.days(), &[1, 2, 3, 4]);
    assert_eq!(table.image_days(), &[0, 1, 2, 3]);
    assert_eq!(table.labels(), &[3.0, 4.0, 5.0, 6.0]);
    assert_eq!(table.meta().dropped.get("image_absent"), Some(&1));
    let ctx = EncodeContext::new(1, Device::Cpu, 0).unwrap();
    let g = encode_stack(&FlattenEncoder, &images, table.image_days(), &ctx).unwrap();
    // Row of day 3 holds the image of day 2.
    assert_eq!((g[(2, 0)], g[(2, 1)], g[(2, 2)]), (2.0, 20.0, 200.0));
    // Nowcast: the image of day t, rows 0..=4.
    let nowcast = DailyTable::build(inputs(Timing::Nowcast)).unwrap();
    assert_eq!(nowcast.image_days(), &[0, 1, 2, 3, 4]);
    assert!(!nowcast.meta().alignment.is_forecast());
}

#[test]
fn label_columns_hold_the_target_the_known_value_and_the_oracle() {
    // Rows of days 0, 2, 3, 5 (b/a missing on days 1 and 4), horizon 2, ten label days
    // L(d) = 10 d, with L(6) undefined.
    let rows: Vec<WindowRow> = [0, 2, 3, 5].iter().map(|&d| ba_row(d, 1.0, 4.0)).collect();
    let series: Vec<f64> = (0..10)
        .map(|d| if d == 6 { f64::NAN } else { 10.0 * d as f64 })
        .collect();
    let table = DailyTable::build(TableInputs {
        ba: Some(BaInput {
            rows: &rows,
            support: Support::trailing_window(1),
        }),
        images: None,
        labels: LabelInput {
            values: &series,
            support: Support::between(0, 2),
            look_ahead: false,
        },
        horizon: 2,
        timing: Timing::Forecast,
    })
    .unwrap();
    // Day 4 would target L(6) (undefined), but it has no b/a anyway.
    assert_eq!(table.days(), &[0, 2, 3, 5]);
    let nan = f64::NAN;
    // A count over days d..=d+2 (last = 2): the last known value at t is L(t − 2).
    let c = table.label_columns(&series, 2);
    let same = |a: &[f64], b: &[f64]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    };
    assert!(same(&c.target, &[20.0, 40.0, 50.0, 70.0]), "{:?}", c.target);
    assert!(same(&c.known, &[nan, 0.0, 10.0, 30.0]), "{:?}", c.known);
    assert!(same(&c.oracle, &[0.0, 20.0, 30.0, 50.0]), "{:?}", c.oracle);
    // A causal label (last = 0): known = oracle; the target of day 3 + 2 = 5 is 50.
    let causal = table.label_columns(&series, 0);
    assert!(same(&causal.known, &causal.oracle));
    // Another series of the split: the target of row 5 is L(7) = 7.
    let other: Vec<f64> = (0..10).map(|d| d as f64).collect();
    assert_eq!(
        table.label_columns(&other, 0).target,
        vec![2.0, 4.0, 5.0, 7.0]
    );
    // The mean of L(t − 2 − k), k = 0, 1: row 3 → (L(1) + L(0))/2 = 5; row 5 → (L(3) + L(2))/2
    // = 25; rows 0 and 2 reach before day 0 → NaN. A window over L(6) (NaN) is NaN too.
    let m = table.known_mean(&series, 2, 2);
    assert!(same(&m, &[nan, nan, 5.0, 25.0]), "{m:?}");
    let m = table.known_mean(&series, -2, 3);
    // Row 5: L(7), L(6), L(5) → NaN; row 3: L(5), L(4), L(3) → 40; row 2: L(4..=2) → 30;
    // row 0: L(2), L(1), L(0) → 10.
    assert!(same(&m, &[10.0, 30.0, 40.0, nan]), "{m:?}");
    assert!(table.known_mean(&series, 0, 0).iter().all(|v| v.is_nan()));
}

#[test]
fn a_centred_label_is_flagged_as_looking_ahead() {
    let rows: Vec<WindowRow> = (0..5).map(|d| ba_row(d, 1.0, 4.0)).collect();
    let labels = [0.1, 0.2, 0.3, 0.4, 0.5];
    let table = DailyTable::build(TableInputs {
        ba: Some(BaInput {
            rows: &rows,
            support: Support::trailing_window(128),
        }),
        images: None,
        labels: LabelInput {
            values: &labels,
            support: Support::between(-2, 2),
            look_ahead: true,
        },
        horizon: 1,
        timing: Timing::Forecast,
    })
    .unwrap();
    let alignment = &table.meta().alignment;
    assert!(alignment.looks_ahead() && alignment.is_forecast());
    assert!(
        alignment
            .flags()
            .iter()
            .any(|f| f.starts_with(LOOK_AHEAD_FLAG))
    );
    assert_eq!(table.labels(), &[0.2, 0.3, 0.4, 0.5]);
}

// ---------------------------------------------------------------- train-only transforms (P8)

#[test]
fn pca_and_standardizer_are_fitted_on_training_rows_only() {
    // Rows 0..4 train, 4..6 test, with very different means. Column 0 of the training rows:
    // 1, 2, 3, 4 (mean 2.5, population std sqrt(1.25)); column 1: 2, 2, 4, 4 (mean 3, std 1).
    // The test rows sit at 100: the all-rows mean of column 0 would be (10 + 200)/6 = 35.
    let x = Mat::from_fn(6, 2, |i, j| match (i, j) {
        (0..=3, 0) => (i + 1) as f64,
        (0..=3, _) => [2.0, 2.0, 4.0, 4.0][i],
        _ => 100.0,
    });
    let train = [0, 1, 2, 3];
    let pca = Pca::fit(x.as_ref(), &train, 1).unwrap();
    assert_eq!(pca.mean(), &[2.5, 3.0]);
    assert_eq!(pca.fitted_on_rows(), 4);
    let scaler = Standardizer::fit(x.as_ref(), &train).unwrap();
    assert_eq!(scaler.mean(), &[2.5, 3.0]);
    assert!((scaler.scale()[0] - 1.25f64.sqrt()).abs() < 1e-15);
    assert!((scaler.scale()[1] - 1.0).abs() < 1e-15);
    let z = scaler.transform(x.as_ref()).unwrap();
    assert!((z[(4, 1)] - 97.0).abs() < 1e-12);
}

/// Reads a fixture CSV of numbers, skipping its header line.
fn read_csv(name: &str) -> Vec<Vec<f64>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dataset")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect()
}

#[test]
fn pca_matches_scikit_learn_fitted_on_train_rows() {
    let x = read_csv("pca_input.csv");
    let is_train: Vec<bool> = x.iter().map(|r| r[0] == 1.0).collect();
    let p = x[0].len() - 1;
    let data = Mat::from_fn(x.len(), p, |i, j| x[i][j + 1]);
    let train: Vec<usize> = (0..x.len()).filter(|&i| is_train[i]).collect();
    let expected_mean = &read_csv("pca_mean.csv")[0];
    let expected_components = read_csv("pca_components.csv");
    let expected_scores = read_csv("pca_scores.csv");
    let expected_variance = &read_csv("pca_variance.csv")[0];
    let k = expected_components.len();
    let pca = Pca::fit(data.as_ref(), &train, k).unwrap();
    for j in 0..p {
        let train_mean = train.iter().map(|&i| x[i][j + 1]).sum::<f64>() / train.len() as f64;
        let all_mean = x.iter().map(|r| r[j + 1]).sum::<f64>() / x.len() as f64;
        // A third of the rows are shifted by +5, so the two means differ by about 5/3.
        assert!((all_mean - train_mean).abs() > 1.0);
        assert!((pca.mean()[j] - train_mean).abs() < 1e-12);
        assert!((pca.mean()[j] - expected_mean[j]).abs() < 1e-12);
    }
    for (c, component) in expected_components.iter().enumerate() {
        assert!((pca.explained_variance()[c] - expected_variance[c]).abs() < 1e-10);
        for (j, &want) in component.iter().enumerate() {
            let got = pca.components()[(j, c)];
            assert!((got - want).abs() < 1e-10, "component {c}, feature {j}");
        }
    }
    let z = pca.transform(data.as_ref()).unwrap();
    for (i, row) in expected_scores.iter().enumerate() {
        for c in 0..k {
            assert!((z[(i, c)] - row[c]).abs() < 1e-9, "row {i}, component {c}");
        }
    }
}

// ---------------------------------------------------------------- controls

#[test]
fn interpolation_baseline_uses_the_training_neighbours() {
    // Days 0, 1, 2, 4, 5, 9 with labels 0, 10, 20, 40, 50, 95.
    let days = [0, 1, 2, 4, 5, 9];
    let labels = [0.0, 10.0, 20.0, 40.0, 50.0, 95.0];
    // Blocked, 3 folds, fold 1 = rows 2..4 (days 2, 4), embargo 0: training rows 0, 1, 4, 5.
    let split = Split::new(
        SplitKind::Blocked {
            folds: 3,
            fold: 1,
            embargo_days: 0,
            past_only: false,
        },
        &days,
    )
    .unwrap();
    assert_eq!(split.test(), &[2, 3]);
    // Day 2: neighbours day 1 (10) and day 5 (50). Mean 30; linear 10 + (1/4)·40 = 20.
    // Day 4: the same neighbours. Mean 30; linear 10 + (3/4)·40 = 40.
    let mean =
        interpolation_baseline(&days, &labels, &split, Interpolation::NeighbourMean).unwrap();
    assert_eq!(mean, vec![30.0, 30.0]);
    let linear = interpolation_baseline(&days, &labels, &split, Interpolation::Linear).unwrap();
    assert_eq!(linear, vec![20.0, 40.0]);
    // Fold 2 = rows 4, 5 (days 5, 9) has training days on one side only (days 0, 1, 2, 4):
    // both test days get the label of the nearest one, day 4 (40).
    let last = Split::new(
        SplitKind::Blocked {
            folds: 3,
            fold: 2,
            embargo_days: 0,
            past_only: false,
        },
        &days,
    )
    .unwrap();
    assert_eq!(last.test(), &[4, 5]);
    let y = interpolation_baseline(&days, &labels, &last, Interpolation::Linear).unwrap();
    assert_eq!(y, vec![40.0, 40.0]);
}

#[test]
fn day_number_and_shifted_label_controls() {
    let x = day_number_features(&[3, 5, 8]);
    assert_eq!((x.nrows(), x.ncols()), (3, 1));
    assert_eq!((x[(0, 0)], x[(1, 0)], x[(2, 0)]), (3.0, 5.0, 8.0));

    let y: Vec<f64> = (0..40).map(f64::from).collect();
    let s = shift_labels(&y, 30).unwrap();
    assert_eq!(s[0], 30.0);
    assert_eq!(s[9], 39.0);
    assert!(s[10..].iter().all(|v| v.is_nan()));
    for bad in [29, 366] {
        let err = shift_labels(&vec![0.0; 400], bad).unwrap_err();
        assert!(is_config_error(&err, "dataset.controls.label_shift_days"));
    }
    // A shift as long as the series is refused too.
    assert!(shift_labels(&y, 40).is_err());
}

#[test]
fn modality_shuffle_permutes_training_rows_only() {
    // Column 0: the modality to shuffle (10·i), column 1: another modality (i).
    let x = Mat::from_fn(8, 2, |i, j| if j == 0 { 10.0 * i as f64 } else { i as f64 });
    let train = [0, 1, 2, 3, 4, 5];
    let a = permute_rows(x.as_ref(), &train, 0..1, 7).unwrap();
    let b = permute_rows(x.as_ref(), &train, 0..1, 7).unwrap();
    assert_eq!(a, b);
    // Test rows and the other column are untouched.
    for i in 0..8 {
        assert_eq!(a[(i, 1)], i as f64);
    }
    assert_eq!((a[(6, 0)], a[(7, 0)]), (60.0, 70.0));
    // The training rows of column 0 are a permutation of 0, 10, ..., 50.
    let mut col: Vec<f64> = train.iter().map(|&i| a[(i, 0)]).collect();
    col.sort_by(f64::total_cmp);
    assert_eq!(col, vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
    // Some seed moves something (a fixed point for all of 20 seeds has odds (1/720)^20).
    assert!((0..20).any(|seed| {
        let p = permute_rows(x.as_ref(), &train, 0..1, seed).unwrap();
        train.iter().any(|&i| p[(i, 0)] != x[(i, 0)])
    }));
    assert!(permute_rows(x.as_ref(), &train, 0..3, 7).is_err());
}

// ---------------------------------------------------------------- the harness detects leakage (P1)

/// A 30-day moving average of seeded standard normal noise: a smooth label with no signal.
fn smoothed_noise(n: usize, seed: u64) -> Vec<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = quakelab::rng::stream(seed, "test.dataset.noise");
    let white: Vec<f64> = (0..n + 29)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    white
        .windows(30)
        .map(|w| w.iter().sum::<f64>() / 30.0)
        .collect()
}

#[test]
fn interpolation_scores_on_a_random_split_and_fails_on_a_blocked_one() {
    use quakelab::eval::{label_dependence, r2};
    let labels = smoothed_noise(2000, 3);
    let days: Vec<usize> = (0..labels.len()).collect();

    // An MA(30) of white noise has lag-1 autocorrelation 29/30 and τ = 1 + 2 Σ_{k<30} (1 − k/30)
    // = 30, so N_eff ≈ N/30. With N/τ ≈ 67 independent stretches the estimate of τ is rough
    // (standard error ≈ τ √(2(2M + 1)/N) ≈ 16 at Sokal's window M ≈ 150), so only τ̂ > 10
    // (N_eff < N/10) is asserted: still an order of magnitude below N.
    let dep = label_dependence(&labels).unwrap();
    assert!(
        (dep.lag1_autocorrelation - 29.0 / 30.0).abs() < 0.03,
        "{dep:?}"
    );
    assert!(dep.effective_sample_size < 2000.0 / 10.0, "{dep:?}");

    let score = |split: &Split| {
        let pred = interpolation_baseline(&days, &labels, split, Interpolation::Linear).unwrap();
        let truth: Vec<f64> = split.test().iter().map(|&r| labels[r]).collect();
        r2(&truth, &pred).unwrap()
    };
    // Random 7:3: almost every test day has training days within a few days of it.
    let random = Split::new(
        SplitKind::Random {
            fraction: 0.7,
            seed: 1,
        },
        &days,
    )
    .unwrap();
    let r2_random = score(&random);
    assert!(r2_random > 0.95, "random-split R² {r2_random}");
    // Blocked with a 60-day embargo: the nearest training label is more than two smoothing
    // windows away, so interpolation carries no information.
    for split in Split::blocked_folds(&days, 5, 60, false).unwrap() {
        let r2_blocked = score(&split);
        assert!(r2_blocked < 0.2, "blocked R² {r2_blocked}");
    }
}

// ---------------------------------------------------------------- embargo (P1, P2)

/// The three label kinds' supports `(first, last)`: the centred KDE (−R, R), the causal KDE
/// (−R, 0) and the counts over H days (0, H − 1).
fn label_support(kind: usize, r: i64, h_count: i64) -> (i64, i64) {
    match kind {
        0 => (-r, r),
        1 => (-r, 0),
        _ => (0, h_count - 1),
    }
}

/// The first pair (training day, test day) whose data overlap: the training target's days
/// `[t + h + first, t + h + last]` against the test row's feature window `[t' − W + 1, t']` and
/// its target's days.
fn first_overlap(
    split: &Split,
    days: &[usize],
    window: i64,
    horizon: i64,
    (first, last): (i64, i64),
) -> Option<(usize, usize)> {
    let overlaps = |a: (i64, i64), b: (i64, i64)| a.0 <= b.1 && b.0 <= a.1;
    for &r in split.train() {
        let t = days[r] as i64;
        let train_label = (t + horizon + first, t + horizon + last);
        for &q in split.test() {
            let u = days[q] as i64;
            let test_features = (u - window + 1, u);
            let test_label = (u + horizon + first, u + horizon + last);
            if overlaps(train_label, test_features) || overlaps(train_label, test_label) {
                return Some((days[r], days[q]));
            }
        }
    }
    None
}

/// Every time-ordered split of `days` with embargo `embargo`: chronological, each rolling
/// origin, and the blocked folds past-only and on both sides. Settings that leave a side empty
/// are skipped.
fn time_ordered_splits(days: &[usize], embargo: usize) -> Vec<Split> {
    let mut kinds = vec![SplitKind::Chronological {
        fraction: 0.6,
        embargo_days: embargo,
    }];
    kinds.extend((0..3).map(|origin| SplitKind::Rolling {
        origins: 3,
        origin,
        initial_fraction: 0.4,
        embargo_days: embargo,
    }));
    for past_only in [true, false] {
        kinds.extend((0..4).map(|fold| SplitKind::Blocked {
            folds: 4,
            fold,
            embargo_days: embargo,
            past_only,
        }));
    }
    kinds
        .into_iter()
        .filter_map(|kind| Split::new(kind, days).ok())
        .collect()
}

#[test]
fn the_derived_embargo_of_the_japan_setting() {
    // A 128-day b/a window, h = 134 d (causal reach ceil(3 · 134) = 402), horizon 1: 531 days.
    let e = Embargo {
        feature_window_days: 128,
        label_reach_days: embargo_reach_days((-402, 0)),
        horizon_days: 1,
        configured_days: None,
        allow_short: false,
    };
    assert_eq!(e.days().unwrap(), 531);
    // Counts over 7 days (reach 6) with the same window: 128 + 6 + 1 = 135.
    let counts = Embargo {
        label_reach_days: embargo_reach_days((0, 6)),
        ..e
    };
    assert_eq!(counts.days().unwrap(), 135);
    // The centred label reaches 402 days both ways: 128 + 804 + 1 = 933.
    let centred = Embargo {
        label_reach_days: embargo_reach_days((-402, 402)),
        ..e
    };
    assert_eq!(centred.days().unwrap(), 933);
    // The old embargo (window + horizon, 129 d) is short; allowed only when asked for.
    let old = Embargo {
        configured_days: Some(129),
        allow_short: true,
        ..e
    };
    assert_eq!(old.days().unwrap(), 129);
    assert!(old.is_short());
}

#[test]
fn a_centred_label_needs_twice_its_reach() {
    // W = 1, horizon 1, a centred label of reach R = 10: support (−10, 10). Days 0..100,
    // chronological 0.5: the first test day is 50.
    let days: Vec<usize> = (0..100).collect();
    let support = (-10, 10);
    let split = |embargo| {
        Split::new(
            SplitKind::Chronological {
                fraction: 0.5,
                embargo_days: embargo,
            },
            &days,
        )
        .unwrap()
    };
    // With R = max(−first, last) = 10 the embargo is 12: training days up to 37, whose target
    // covers days 28..=48, while test day 50's target covers days 41..=61.
    // From training day 30 on (target days 21..=41) the targets overlap.
    let short = split(1 + 10 + 1);
    assert_eq!(short.train().last(), Some(&37));
    assert_eq!(first_overlap(&short, &days, 1, 1, support), Some((30, 50)));
    // With the embargo reach 2R = 20 the embargo is 22: the last training day 27's target ends
    // on day 38 < 41.
    assert_eq!(embargo_reach_days(support), 20);
    let derived = split(1 + 20 + 1);
    assert_eq!(derived.train().last(), Some(&27));
    assert_eq!(first_overlap(&derived, &days, 1, 1, support), None);
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(64) })]

    /// For each label kind and each time-ordered split, the derived embargo keeps every
    /// training target's days apart from every test row's feature window and target.
    #[test]
    fn no_training_label_shares_a_day_with_a_test_row(
        keep in proptest::collection::vec(proptest::bool::weighted(0.8), 60..240),
        kind in 0usize..3,
        reach in 0i64..25,
        count_days in 1i64..15,
        window in 1usize..30,
        horizon in 1usize..8,
    ) {
        let days: Vec<usize> = keep.iter().enumerate().filter(|(_, k)| **k).map(|(d, _)| d).collect();
        prop_assume!(days.len() >= 20);
        let support = label_support(kind, reach, count_days);
        let embargo = Embargo {
            feature_window_days: window,
            label_reach_days: embargo_reach_days(support),
            horizon_days: horizon,
            configured_days: None,
            allow_short: false,
        }
        .days()
        .unwrap();
        for split in time_ordered_splits(&days, embargo) {
            let overlap = first_overlap(&split, &days, window as i64, horizon as i64, support);
            prop_assert!(
                overlap.is_none(),
                "{} with support {support:?}: training day and test day {overlap:?} share data",
                split.kind()
            );
        }
    }
}

// ---------------------------------------------------------------- the split manifest

/// A minimal experiment with the extra sections `sections`, resolved.
fn resolve(sections: &str) -> quakelab::Result<config::ResolvedExperiment> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exp.toml");
    std::fs::write(
        &file,
        format!("name = \"t\"\ndecoders = [{{ kind = \"climatology\" }}]\n{sections}\n"),
    )
    .unwrap();
    let layers = Layers {
        file: Some(file),
        overrides: Vec::new(),
        env: Vec::new(),
        real_data_dir: None,
    };
    config::resolve(&layers)
}

/// The split manifest of a minimal experiment with the `[split]` settings `split`.
fn manifest(split: &str) -> quakelab::Result<config::SplitSettings> {
    Ok(resolve(&format!("[split]\n{split}"))?.split().clone())
}

#[test]
fn timing_is_a_forecast_unless_declared_a_nowcast() {
    assert_eq!(resolve("").unwrap().timing(), Timing::Forecast);
    let nowcast = resolve("[dataset]\ntiming = \"nowcast\"").unwrap();
    assert_eq!(nowcast.timing(), Timing::Nowcast);
    assert!(resolve("[dataset]\ntiming = \"hindcast\"").is_err());
}

#[test]
fn the_manifest_lists_rolling_origins_and_past_only_folds() {
    let m = manifest("kinds = [\"chronological\", \"rolling\"]\nrolling_origins = 3").unwrap();
    let names: Vec<String> = m.splits.iter().map(|k| k.to_string()).collect();
    assert_eq!(
        names,
        [
            "chronological(train=0.7, embargo=0d)",
            "rolling(k=3, origin=0, initial=0.7, embargo=0d)",
            "rolling(k=3, origin=1, initial=0.7, embargo=0d)",
            "rolling(k=3, origin=2, initial=0.7, embargo=0d)",
        ]
    );
    assert_eq!((m.configured_embargo, m.allow_short_embargo), (None, false));
    // Blocked, past-only by default: folds 1..5, fold 0 has no past.
    let m = manifest("kinds = [\"blocked\"]\nembargo_days = 40").unwrap();
    let folds: Vec<(usize, bool)> = m
        .splits
        .iter()
        .map(|k| match *k {
            SplitKind::Blocked {
                fold, past_only, ..
            } => (fold, past_only),
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(folds, [(1, true), (2, true), (3, true), (4, true)]);
    assert_eq!(m.configured_embargo, Some(40));
    let both =
        manifest("kinds = [\"blocked\"]\nblocked_past_only = false\nallow_short_embargo = true")
            .unwrap();
    assert_eq!(both.splits.len(), 5);
    assert!(both.allow_short_embargo);
}

#[test]
fn a_rolling_split_without_origins_is_refused() {
    let err = manifest("kinds = [\"rolling\"]\nrolling_origins = 0").unwrap_err();
    assert!(is_config_error(&err, "split.rolling_origins"), "{err}");
    assert!(
        err.to_string().contains("must be at least 1, got 0"),
        "{err}"
    );
}

#[test]
fn a_rolling_origin_out_of_range_is_refused() {
    let days: Vec<usize> = (0..10).collect();
    let kind = |origins, origin| SplitKind::Rolling {
        origins,
        origin,
        initial_fraction: 0.5,
        embargo_days: 0,
    };
    let err = Split::new(kind(3, 3), &days).unwrap_err();
    assert!(is_config_error(&err, "split.rolling_origins"), "{err}");
    assert!(
        err.to_string()
            .contains("origin 3 is out of range for 3 origins"),
        "{err}"
    );
    let err = Split::new(kind(0, 0), &days).unwrap_err();
    assert!(
        err.to_string().contains("need at least 1 origin, got 0"),
        "{err}"
    );
}
