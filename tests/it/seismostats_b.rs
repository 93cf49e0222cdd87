//! b-value estimators, weighted estimates and the b-value significance test against SeismoStats
//! 1.0.1 (fixtures made by `tools/parity/make_seismostats_b.py` on its own seeded catalog).

use std::path::{Path, PathBuf};

use quakelab::catalog::Selection;
use quakelab::experiment::config::{self, Layers};
use quakelab::seismicity::b_significance::{SignificanceParams, Undetermined, b_significance};
use quakelab::seismicity::bvalue::weighted::{WeightedSample, weighted_b_value};
use quakelab::seismicity::bvalue::{
    BEstimator, BValueParams, DifferenceMle, McChoice, SHI_BOLT_FACTOR, ValidBValueParams,
    WindowRow, WindowSpec, sliding_b_values,
};

use crate::support;

/// The fixture catalog's period, in days.
const N_DAYS: usize = 420;
/// The sliding window of the contract.
const WINDOW_DAYS: usize = 128;
/// The parity tolerance (relative).
const TOLERANCE: f64 = 1e-9;

fn fixture(name: &str) -> PathBuf {
    support::fixture("seismostats/b", name)
}

/// A fixture CSV as its header and rows.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn load(name: &str) -> Self {
        let (header, rows) = support::read_csv(&fixture(name));
        Csv { header, rows }
    }

    fn text<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        let i = self
            .header
            .iter()
            .position(|h| h == column)
            .unwrap_or_else(|| panic!("no column {column}"));
        &row[i]
    }

    fn number(&self, row: &[String], column: &str) -> f64 {
        self.text(row, column).parse().unwrap()
    }
}

/// The catalog: times (days since the period start), magnitudes and weights.
fn catalog() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let csv = Csv::load("catalog.csv");
    let column = |name: &str| csv.rows.iter().map(|r| csv.number(r, name)).collect();
    (column("time"), column("magnitude"), column("weight"))
}

fn selection() -> Selection {
    let (times, magnitudes, _) = catalog();
    Selection::new(times, magnitudes).unwrap()
}

fn params(estimator: BEstimator, dmc: Option<f64>) -> ValidBValueParams {
    BValueParams {
        estimator,
        mc: McChoice::Fixed(3.0),
        bin_width: 0.1,
        min_events: 2,
        dmc,
        difference_mle: DifferenceMle::TintiMulargia,
    }
    .check()
    .unwrap()
}

fn assert_close(found: f64, expected: f64, what: &str) {
    assert!(
        (found - expected).abs() <= TOLERANCE * expected.abs(),
        "{what}: quakelab {found}, SeismoStats {expected}"
    );
}

/// SeismoStats' Shi & Bolt error carries ln 10 where quakelab's carries 2.3.
fn shi_bolt_in_quakelab_units(seismostats_std: f64) -> f64 {
    seismostats_std * SHI_BOLT_FACTOR / std::f64::consts::LN_10
}

/// The 128-day windows of `params`, one per day.
fn windows(params: &ValidBValueParams) -> Vec<WindowRow> {
    let spec = WindowSpec::time(WINDOW_DAYS, 1).unwrap();
    sliding_b_values(&selection(), N_DAYS, &spec, params)
}

/// Compares every complete window's b (column `b`), its sample size (`n`, if given) and its
/// Shi & Bolt error (`std`) with the fixture.
fn check_windows(rows: &[WindowRow], b: &str, n: Option<&str>, std: Option<&str>) {
    let reference = Csv::load("windows.csv");
    assert_eq!(rows.len(), N_DAYS);
    assert_eq!(reference.rows.len(), N_DAYS - (WINDOW_DAYS - 1));
    for r in &reference.rows {
        let day: usize = reference.text(r, "day").parse().unwrap();
        let row = &rows[day];
        assert_eq!(row.day, day);
        assert_eq!(row.n_events, reference.number(r, "n") as usize, "day {day}");
        let value = row.value.unwrap_or_else(|e| panic!("day {day}: {e}"));
        assert_close(value.b, reference.number(r, b), &format!("{b}, day {day}"));
        if let Some(n) = n {
            assert_eq!(value.n_b, reference.number(r, n) as usize, "{n}, day {day}");
        }
        if let Some(std) = std {
            assert_close(
                value.b_std,
                shi_bolt_in_quakelab_units(reference.number(r, std)),
                &format!("{std}, day {day}"),
            );
        }
    }
}

#[test]
fn tinti_mulargia_windows_match_seismostats_classic_estimator() {
    let rows = windows(&params(BEstimator::TintiMulargia, None));
    check_windows(&rows, "b_tm", None, Some("std_tm"));
    // The a value of eq. (20) is SeismoStats' classic a value with m_ref = 0.
    let reference = Csv::load("windows.csv");
    for r in &reference.rows {
        let day: usize = reference.text(r, "day").parse().unwrap();
        let a = rows[day].value.unwrap().a;
        assert_close(a, reference.number(r, "a_tm"), &format!("a, day {day}"));
    }
}

#[test]
fn b_positive_windows_match_seismostats() {
    let rows = windows(&params(BEstimator::BPositive, None));
    check_windows(&rows, "b_pos", Some("n_pos"), Some("std_pos"));
}

#[test]
fn b_more_positive_windows_match_seismostats() {
    let rows = windows(&params(BEstimator::BMorePositive, None));
    check_windows(&rows, "b_more", Some("n_more"), Some("std_more"));
    let rows = windows(&params(BEstimator::BMorePositive, Some(0.2)));
    check_windows(&rows, "b_more_dmc2", Some("n_more_dmc2"), None);
}

#[test]
fn weighted_estimates_match_seismostats() {
    let (_, magnitudes, weights) = catalog();
    let sample = WeightedSample::new(magnitudes, weights).unwrap();
    let reference = Csv::load("weighted.csv");
    for r in &reference.rows {
        let (estimator, mle) = match reference.text(r, "estimator") {
            "classic" => (BEstimator::TintiMulargia, DifferenceMle::TintiMulargia),
            "utsu" => (BEstimator::AkiUtsu, DifferenceMle::TintiMulargia),
            "b_positive" => (BEstimator::BPositive, DifferenceMle::TintiMulargia),
            "b_more_positive" => (BEstimator::BMorePositive, DifferenceMle::TintiMulargia),
            other => panic!("unknown estimator {other}"),
        };
        let p = BValueParams {
            difference_mle: mle,
            ..*params(estimator, None).params()
        }
        .check()
        .unwrap();
        let v = weighted_b_value(&sample, 3.0, &p).unwrap();
        let what = reference.text(r, "estimator");
        assert_close(v.b, reference.number(r, "b"), what);
        assert_close(
            v.b_std,
            shi_bolt_in_quakelab_units(reference.number(r, "std")),
            what,
        );
        assert_eq!(v.n_b, reference.number(r, "n") as usize, "{what}");
    }
}

#[test]
fn weights_of_different_length_are_refused() {
    let err = WeightedSample::new(vec![3.0, 3.1], vec![1.0]).unwrap_err();
    assert!(
        err.to_string().contains("2 magnitudes but 1 weights"),
        "{err}"
    );
}

#[test]
fn a_negative_weight_is_refused() {
    let err = WeightedSample::new(vec![3.0, 3.1], vec![1.0, -0.5]).unwrap_err();
    assert!(err.to_string().contains("weight 1 is -0.5"), "{err}");
}

#[test]
fn a_magnitude_that_is_not_finite_is_refused_with_weights() {
    let err = WeightedSample::new(vec![3.0, f64::NAN], vec![1.0, 1.0]).unwrap_err();
    assert!(err.to_string().contains("magnitude 1 is NaN"), "{err}");
}

#[test]
fn b_significance_matches_seismostats() {
    let (_, magnitudes, _) = catalog();
    let reference = Csv::load("significance.csv");
    assert_eq!(reference.rows.len(), 8);
    for r in &reference.rows {
        let estimator = match reference.text(r, "estimator") {
            "tinti_mulargia" => BEstimator::TintiMulargia,
            "b_positive" => BEstimator::BPositive,
            "b_more_positive" => BEstimator::BMorePositive,
            other => panic!("unknown estimator {other}"),
        };
        let n_m = reference.number(r, "n_m") as usize;
        let conservative = reference.text(r, "conservative") == "true";
        let settings = SignificanceParams::new(n_m, 2, conservative).unwrap();
        let what = format!("{estimator:?}, n_m {n_m}, conservative {conservative}");
        let s = b_significance(&magnitudes, 3.0, &settings, &params(estimator, None))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_close(s.mac, reference.number(r, "mac"), &format!("mac, {what}"));
        assert_close(
            s.mu_mac,
            reference.number(r, "mu_mac"),
            &format!("mu, {what}"),
        );
        assert_close(
            s.std_mac,
            reference.number(r, "std_mac"),
            &format!("std, {what}"),
        );
        assert_close(s.p_value, reference.number(r, "p"), &format!("p, {what}"));
    }
}

/// Writes the fixture catalog as a ComCat CSV, times counted from 2020-01-01T00:00:00Z.
fn write_comcat(path: &Path) {
    const START_MS: i64 = 1_577_836_800_000;
    let (times, magnitudes, _) = catalog();
    let mut text = String::from(
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n",
    );
    for (i, (t, m)) in times.iter().zip(&magnitudes).enumerate() {
        let ms = (t * 86_400_000.0).round() as i64;
        let time = jiff::Timestamp::from_millisecond(START_MS + ms).unwrap();
        text.push_str(&format!(
            "{time},36.0,141.0,10.0,{m:.1},ml,,,,,us,ev{i},{time},somewhere,earthquake\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

// The contract: the command's b values per 128-day window equal SeismoStats' classic,
// b-positive and b-more-positive estimators to 1e-9 relative.
#[test]
fn features_seismicity_matches_seismostats_for_each_estimator() {
    let dir = tempfile::tempdir().unwrap();
    write_comcat(&dir.path().join("cat.csv"));
    let reference = Csv::load("windows.csv");
    for (estimator, column) in [
        ("tinti-mulargia", "b_tm"),
        ("b-positive", "b_pos"),
        ("b-more-positive", "b_more"),
    ] {
        let out = support::quakelab(
            &[
                "features",
                "seismicity",
                "--catalog",
                "cat.csv",
                "--start",
                "2020-01-01",
                // 2020-01-01 + 420 days (366 in 2020, then 54).
                "--end",
                "2021-02-24",
                "--mc",
                "3.0",
                "--window-days",
                "128",
                "--step-days",
                "1",
                "--estimator",
                estimator,
                "--out",
                "b.csv",
            ],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (header, rows) = support::read_csv(&dir.path().join("b.csv"));
        assert_eq!(header[..3], ["date", "n_events", "b_value"]);
        assert_eq!(rows.len(), N_DAYS);
        for r in &reference.rows {
            let day: usize = reference.text(r, "day").parse().unwrap();
            let row = &rows[day];
            assert_eq!(row[1], reference.text(r, "n"), "{estimator}, day {day}");
            let b: f64 = row[2].parse().unwrap();
            assert_close(
                b,
                reference.number(r, column),
                &format!("{estimator}, day {day}"),
            );
        }
    }
}

/// Writes an experiment file with `body` under `[features.seismicity]` and resolves it.
fn resolve_experiment(dir: &Path, body: &str) -> config::ResolvedExperiment {
    let file = dir.join("exp.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"t\"\ndecoders = [{{ kind = \"climatology\" }}]\n\n[features.seismicity]\n{body}"
        ),
    )
    .unwrap();
    let layers = Layers {
        file: Some(file),
        overrides: Vec::new(),
        env: Vec::new(),
        real_data_dir: None,
    };
    config::resolve(&layers).unwrap()
}

// b-positive's default estimate on the differences changed (Aki-Utsu to Tinti-Mulargia): a
// file relying on the default must not hash like the runs made before, when it meant Aki-Utsu.
#[test]
fn a_b_positive_file_hashes_with_its_difference_estimate_spelled_out() {
    let dir = tempfile::tempdir().unwrap();
    let hash = |body: &str| {
        resolve_experiment(dir.path(), body)
            .config_hash()
            .to_string()
    };
    let default = hash("estimator = \"b_positive\"\n");
    assert_eq!(
        default,
        hash("estimator = \"b_positive\"\ndifference_mle = \"tinti_mulargia\"\n")
    );
    assert_ne!(
        default,
        hash("estimator = \"b_positive\"\ndifference_mle = \"aki_utsu\"\n")
    );
}

#[test]
fn the_experiment_file_names_the_new_estimators_and_reads_the_old_dmc_key() {
    let dir = tempfile::tempdir().unwrap();
    let resolve = |body: &str| {
        *resolve_experiment(dir.path(), body)
            .seismicity()
            .params
            .params()
    };
    let p = resolve("estimator = \"b_more_positive\"\ndifference_mle = \"aki_utsu\"\ndmc = 0.2\n");
    assert_eq!(p.estimator, BEstimator::BMorePositive);
    assert_eq!(p.difference_mle, DifferenceMle::AkiUtsu);
    assert_eq!(p.dmc, Some(0.2));
    let p = resolve("estimator = \"tinti-mulargia\"\n");
    assert_eq!(p.estimator, BEstimator::TintiMulargia);
    assert_eq!(p.difference_mle, DifferenceMle::TintiMulargia);
    let p = resolve("estimator = \"b_positive\"\nb_positive_delta = 0.3\n");
    assert_eq!(p.estimator, BEstimator::BPositive);
    assert_eq!(p.dmc, Some(0.3));
}

#[test]
fn fewer_than_three_subsamples_give_no_p_value() {
    // 977 events at or above Mc 3.0 in the catalog: n_m = 326 leaves 2.997 subsamples, below
    // the 3 SeismoStats asks for (it returns NaN).
    let (_, magnitudes, _) = catalog();
    let p = params(BEstimator::TintiMulargia, None);
    let n = magnitudes.iter().filter(|&&m| m >= 3.0 - 1e-9).count();
    assert_eq!(n, 977);
    let settings = SignificanceParams::new(326, 2, true).unwrap();
    assert_eq!(
        b_significance(&magnitudes, 3.0, &settings, &p),
        Err(Undetermined::TooFewSubsamples {
            n_events: 977,
            n_m: 326
        })
    );
    // n_m = 325 passes that check, but only offsets 0, 1 and 2 (977 − 3·325 = 2) have three
    // full subsamples, hence two neighbouring pairs each: the mean n_p is 2, and σ would be 0.
    let settings = SignificanceParams::new(325, 2, true).unwrap();
    assert_eq!(
        b_significance(&magnitudes, 3.0, &settings, &p),
        Err(Undetermined::TooFewNeighbours)
    );
}

#[test]
fn the_window_study_reports_the_significance_beside_each_window_length() {
    use quakelab::seismicity::window_study::window_study;
    let sel = selection();
    // 977 events in 420 days: a 128-day window holds 977·128/420 = 297.8 on average.
    let study = window_study(
        &sel,
        N_DAYS,
        &[64, 128],
        &params(BEstimator::TintiMulargia, None),
    )
    .unwrap();
    let n_m: Vec<usize> = study.significance.iter().map(|s| s.n_m).collect();
    assert_eq!(n_m, [149, 298]);
    let (_, magnitudes, _) = catalog();
    let settings = SignificanceParams::new(298, 2, true).unwrap();
    let direct = b_significance(
        &magnitudes,
        3.0,
        &settings,
        &params(BEstimator::TintiMulargia, None),
    );
    assert_eq!(study.significance[1].result, direct);
    // With a per-window Mc there is no single catalog cut to partition.
    let per_window = BValueParams {
        mc: McChoice::per_window_maxc(),
        ..*params(BEstimator::TintiMulargia, None).params()
    }
    .check()
    .unwrap();
    let study = window_study(&sel, N_DAYS, &[128], &per_window).unwrap();
    assert_eq!(study.significance[0].result, Err(Undetermined::NoFixedMc));
}
