//! ADF and KPSS against statsmodels 0.15 (`adfuller(x, regression="c", autolag="AIC")`,
//! `kpss(x, regression="c", nlags="auto")`), on the series that `tools/ref_stationarity.py`
//! generated and evaluated into `tests/fixtures/stationarity/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quakelab::seismicity::stationarity::{PValueClip, adf, kpss};

/// Relative tolerance on statistics, critical values and the AIC.
const RELATIVE: f64 = 1e-6;
/// Absolute tolerance on p-values.
const P_ABSOLUTE: f64 = 1e-3;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stationarity")
}

/// The series of `series.csv`, by name, in index order.
fn load_series() -> BTreeMap<String, Vec<f64>> {
    let mut reader = csv::Reader::from_path(fixture_dir().join("series.csv")).unwrap();
    let mut series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        let values = series.entry(record[0].to_string()).or_default();
        assert_eq!(
            record[1].parse::<usize>().unwrap(),
            values.len(),
            "indices in order"
        );
        values.push(record[2].parse().unwrap());
    }
    series
}

/// One row of `expected.csv`: statsmodels' results for one series.
struct Expected {
    name: String,
    n: usize,
    adf_statistic: f64,
    adf_p_value: f64,
    adf_used_lag: usize,
    adf_nobs: usize,
    adf_critical: [f64; 3],
    adf_icbest: f64,
    kpss_statistic: f64,
    kpss_p_value: f64,
    kpss_lags: usize,
    kpss_clip: Option<PValueClip>,
}

fn load_expected() -> Vec<Expected> {
    let mut reader = csv::Reader::from_path(fixture_dir().join("expected.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let field = |name: &str| {
                let i = headers.iter().position(|h| h == name).unwrap();
                record[i].to_string()
            };
            let float = |name: &str| field(name).parse::<f64>().unwrap();
            let int = |name: &str| field(name).parse::<usize>().unwrap();
            Expected {
                name: field("series"),
                n: int("n"),
                adf_statistic: float("adf_statistic"),
                adf_p_value: float("adf_p_value"),
                adf_used_lag: int("adf_used_lag"),
                adf_nobs: int("adf_nobs"),
                adf_critical: [
                    float("adf_crit_1"),
                    float("adf_crit_5"),
                    float("adf_crit_10"),
                ],
                adf_icbest: float("adf_icbest"),
                kpss_statistic: float("kpss_statistic"),
                kpss_p_value: float("kpss_p_value"),
                kpss_lags: int("kpss_lags"),
                kpss_clip: match field("kpss_clip").as_str() {
                    "none" => None,
                    "greater" => Some(PValueClip::AtLeast),
                    "smaller" => Some(PValueClip::AtMost),
                    other => panic!("unknown kpss_clip {other}"),
                },
            }
        })
        .collect()
}

fn relative_difference(actual: f64, expected: f64) -> f64 {
    (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE)
}

fn assert_relative(what: &str, actual: f64, expected: f64) {
    let diff = relative_difference(actual, expected);
    assert!(
        diff <= RELATIVE,
        "{what}: {actual} vs statsmodels {expected} (relative difference {diff:e})"
    );
}

fn assert_p(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= P_ABSOLUTE,
        "{what}: p = {actual} vs statsmodels {expected}"
    );
}

#[test]
fn fixture_covers_the_cases_it_is_meant_to() {
    let expected = load_expected();
    assert!(expected.len() >= 5);
    for n in [12, 20, 60, 500, 1500] {
        assert!(expected.iter().any(|e| e.n == n), "no series of length {n}");
    }
    // Both KPSS clipping directions and an interpolated p-value.
    for clip in [None, Some(PValueClip::AtLeast), Some(PValueClip::AtMost)] {
        assert!(
            expected.iter().any(|e| e.kpss_clip == clip),
            "no KPSS case {clip:?}"
        );
    }
    // ADF p-values from both MacKinnon surfaces (τ* = −1.61) and from beyond τ_min.
    assert!(expected.iter().any(|e| e.adf_statistic < -18.83));
    assert!(
        expected
            .iter()
            .any(|e| (-18.83..=-1.61).contains(&e.adf_statistic))
    );
    assert!(expected.iter().any(|e| e.adf_statistic > -1.61));
}

#[test]
fn adf_matches_statsmodels() {
    let series = load_series();
    for e in load_expected() {
        let x = &series[&e.name];
        assert_eq!(x.len(), e.n, "{}: length", e.name);
        let result = adf(x).unwrap();
        assert_eq!(result.used_lag, e.adf_used_lag, "{}: used lag", e.name);
        assert_eq!(result.nobs, e.adf_nobs, "{}: nobs", e.name);
        assert_relative(
            &format!("{}: ADF statistic", e.name),
            result.statistic,
            e.adf_statistic,
        );
        assert_p(&format!("{}: ADF p", e.name), result.p_value, e.adf_p_value);
        let cv = result.critical_values;
        let ours = [cv.one_percent, cv.five_percent, cv.ten_percent];
        for (level, (a, b)) in ["1%", "5%", "10%"]
            .iter()
            .zip(ours.iter().zip(e.adf_critical))
        {
            assert_relative(&format!("{}: ADF critical value {level}", e.name), *a, b);
        }
        assert_relative(&format!("{}: ADF AIC", e.name), result.aic, e.adf_icbest);
    }
}

#[test]
fn kpss_matches_statsmodels() {
    let series = load_series();
    for e in load_expected() {
        let result = kpss(&series[&e.name]).unwrap();
        assert_eq!(result.lags, e.kpss_lags, "{}: KPSS lags", e.name);
        assert_eq!(result.nobs, e.n, "{}: nobs", e.name);
        assert_relative(
            &format!("{}: KPSS statistic", e.name),
            result.statistic,
            e.kpss_statistic,
        );
        assert_p(
            &format!("{}: KPSS p", e.name),
            result.p_value,
            e.kpss_p_value,
        );
        assert_eq!(result.clipped, e.kpss_clip, "{}: KPSS clipping", e.name);
    }
}
