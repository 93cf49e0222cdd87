//! The daily table, splits, train-only transforms, controls and metrics: leakage checks and
//! hand-computed values, plus a scikit-learn PCA fixture (`tools/ref_pca.py`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use faer::Mat;
use quakelab::Error;
use quakelab::catalog::Region;
use quakelab::dataset::controls::{
    Interpolation, day_number_features, interpolation_baseline, permute_rows, shift_labels,
};
use quakelab::dataset::{
    BaInput, DailyTable, ImageInput, LabelInput, Modality, NOWCAST_FLAG, Split, SplitKind, Support,
    TableInputs,
};
use quakelab::device::Device;
use quakelab::encode::{EncodeContext, FlattenEncoder, Pca, Standardizer, encode_stack};
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
        },
        &days,
    )
    .unwrap();
    assert_eq!(s.test(), (10..20).collect::<Vec<_>>().as_slice());
    let expected: Vec<usize> = (0..6).chain(24..30).collect();
    assert_eq!(s.train(), expected.as_slice());
    assert_eq!(s.summary().description, "blocked(k=3, fold=1, embargo=4d)");
}

#[test]
fn blocked_folds_never_leak_across_the_embargo() {
    // Days with gaps (dropped days), so rows and days differ.
    let days: Vec<usize> = (0..500).filter(|d| d % 7 != 3 && d % 11 != 5).collect();
    let embargo = 30;
    let splits = Split::blocked_folds(&days, 5, embargo).unwrap();
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
    let table = DailyTable::build(TableInputs {
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
        },
        horizon: 2,
    })
    .unwrap();
    // Horizon 2: days 8 and 9 have no label day; day 7's label (day 9) is NaN.
    // Kept: days 3 and 6 (0, 1, 2 lack b/a; 4, 5 lack images; 7 lacks its label).
    assert_eq!(table.days(), &[3, 6]);
    assert_eq!(table.labels(), &[105.0, 108.0]);
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
    assert!(table.meta().alignment.is_proven_causal());

    // Seismicity: [b, a] of days 3 and 6.
    let x = table.design(Modality::Seismicity, None).unwrap();
    assert_eq!((x.nrows(), x.ncols()), (2, 2));
    assert!((x[(0, 0)] - 1.3).abs() < 1e-12 && (x[(0, 1)] - 4.3).abs() < 1e-12);
    assert!((x[(1, 0)] - 1.6).abs() < 1e-12 && (x[(1, 1)] - 4.6).abs() < 1e-12);

    // Fusion: [flattened image, b, a], the paper's order.
    let ctx = EncodeContext::new(1, Device::Cpu, 0).unwrap();
    let g = encode_stack(&FlattenEncoder, &images, table.days(), &ctx).unwrap();
    assert_eq!(g.ncols(), 3);
    assert_eq!((g[(1, 0)], g[(1, 1)], g[(1, 2)]), (6.0, 12.0, 18.0));
    let x = table.design(Modality::Fusion, Some(g.as_ref())).unwrap();
    assert_eq!(x.ncols(), 5);
    assert_eq!(x[(0, 2)], 9.0);
    assert!((x[(0, 3)] - 1.3).abs() < 1e-12);
    let err = table.design(Modality::Gnss, None).unwrap_err();
    assert!(is_config_error(&err, "experiment.modality"), "{err}");
}

#[test]
fn gnss_features_refuse_a_one_day_horizon() {
    let images = stack(&[[1.0, 1.0, 1.0]; 6]);
    let labels = [1.0; 6];
    let inputs = |horizon| TableInputs {
        ba: None,
        images: Some(ImageInput {
            stack: &images,
            support: Support::gnss_displacement(),
        }),
        labels: LabelInput {
            values: &labels,
            support: Support::day(),
        },
        horizon,
    };
    // V(t) uses day t + 1, the label of day t + 1 covers day t + 1: not causal.
    let err = DailyTable::build(inputs(1)).unwrap_err();
    assert!(is_config_error(&err, "dataset.horizon"), "{err}");
    let table = DailyTable::build(inputs(2)).unwrap();
    assert_eq!(table.days(), &[0, 1, 2, 3]);
    assert_eq!(table.meta().alignment.min_horizon(), Some(2));
}

#[test]
fn centred_kde_label_is_flagged_as_a_nowcast() {
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
            support: Support::unbounded(),
        },
        horizon: 1,
    })
    .unwrap();
    let alignment = &table.meta().alignment;
    assert!(!alignment.is_proven_causal());
    assert!(
        alignment
            .flags()
            .iter()
            .any(|f| f.starts_with(NOWCAST_FLAG))
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
    for split in Split::blocked_folds(&days, 5, 60).unwrap() {
        let r2_blocked = score(&split);
        assert!(r2_blocked < 0.2, "blocked R² {r2_blocked}");
    }
}
