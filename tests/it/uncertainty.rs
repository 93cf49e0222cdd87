//! Uncertainty of test metrics (`quakelab::eval::uncertainty`): the Diebold–Mariano statistic
//! and the ACF against statsmodels 0.15 (fixtures made by `tools/ref_uncertainty.py`), the
//! integrated autocorrelation time of AR(1) series against its closed form, the coverage of
//! the moving-block bootstrap interval, and the `[evaluation]` keys that set it up.

use quakelab::Error;
use quakelab::eval::{
    BootstrapSettings, autocorrelation, block_length, bootstrap_interval, diebold_mariano,
    integrated_autocorrelation_time,
};
use rand_distr::{Distribution, StandardNormal};
use serde_json::Value;

use crate::support::{fixture, read_csv};

/// The columns of a fixture CSV of numbers.
fn columns(name: &str) -> Vec<Vec<f64>> {
    let (header, rows) = read_csv(&fixture("uncertainty", name));
    (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].parse().unwrap()).collect())
        .collect()
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("uncertainty", name)).unwrap()).unwrap()
}

#[test]
fn diebold_mariano_matches_the_statsmodels_hac_t_statistic() {
    let losses = columns("dm.csv");
    let expected = json("dm_expected.json");
    assert_eq!(losses[0].len(), expected["n"].as_u64().unwrap() as usize);
    let cases = expected["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let lag = case["lag"].as_u64().unwrap() as usize;
        let dm = diebold_mariano(&losses[0], &losses[1], lag).unwrap();
        let want = |key: &str| case[key].as_f64().unwrap();
        assert_eq!(dm.lag, lag);
        assert!(
            (dm.mean_differential - want("mean_differential")).abs() < 1e-12,
            "lag {lag}: {dm:?}"
        );
        assert!(
            (dm.statistic - want("statistic")).abs() < 1e-10,
            "lag {lag}: {dm:?} vs {case}"
        );
        assert!(
            (dm.p_value - want("p_value")).abs() < 1e-10,
            "lag {lag}: {dm:?} vs {case}"
        );
    }
}

#[test]
fn autocorrelation_matches_statsmodels_acf() {
    let x = &columns("acf.csv")[0];
    let expected = json("acf_expected.json");
    let nlags = expected["nlags"].as_u64().unwrap() as usize;
    let want: Vec<f64> = expected["acf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let got = autocorrelation(x, nlags).unwrap();
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() < 1e-12, "lag {k}: {g} vs {w}");
    }
}

/// A stationary AR(1) series `x_t = φ x_{t−1} + e_t`, e standard normal, x_0 from the
/// stationary law N(0, 1/(1 − φ²)).
fn ar1(rng: &mut impl rand::Rng, n: usize, phi: f64) -> Vec<f64> {
    let mut x = Vec::with_capacity(n);
    let mut prev: f64 = StandardNormal.sample(rng);
    prev /= (1.0 - phi * phi).sqrt();
    x.push(prev);
    for _ in 1..n {
        let e: f64 = StandardNormal.sample(rng);
        prev = phi * prev + e;
        x.push(prev);
    }
    x
}

#[test]
fn integrated_autocorrelation_time_of_ar1_matches_its_closed_form() {
    // τ = Σ_k ρ_k = (1 + φ)/(1 − φ) with ρ_k = φ^|k|. Sokal's estimate with window M has
    // standard error ≈ τ √(2(2M + 1)/n) (Madras & Sokal 1988), M ≈ 5τ; the window's own bias
    // −2 φ^{M+1}/(1 − φ) is below 10⁻⁴ here. Allow 4 standard errors.
    let n = 200_000;
    let mut rng = quakelab::rng::stream(5, "test.uncertainty.iat");
    for phi in [0.5, 0.8] {
        let x = ar1(&mut rng, n, phi);
        let tau = (1.0 + phi) / (1.0 - phi);
        let window = 5.0 * tau;
        let se = tau * (2.0 * (2.0 * window + 1.0) / n as f64).sqrt();
        let got = integrated_autocorrelation_time(&x).unwrap();
        assert!(
            (got - tau).abs() < 4.0 * se,
            "φ = {phi}: τ = {got}, closed form {tau}, tolerance {}",
            4.0 * se
        );
    }
}

#[test]
fn block_bootstrap_interval_of_the_mean_covers_the_true_mean_of_ar1_series() {
    // 1000 AR(1) series (φ = 0.8, τ = 9, n = 400, true mean 0), each with the 95 % moving-block
    // percentile interval of its mean from 1000 resamples, block length from `block_length`
    // (⌈5τ̂⌉). The Monte-Carlo standard error of the coverage is √(0.95 · 0.05 / 1000) ≈ 0.007
    // at 95 % (≈ 0.009 at 91 %, what a numpy simulation of the same procedure gave).
    // The same series with blocks of ⌈τ̂⌉ show why the block is longer than τ: their
    // bootstrap variance of the mean keeps about 57 % of the true one (Bartlett weights
    // 1 − |k|/9 on ρ_k = 0.8^|k|: 5.15 of 9), so the interval covers about 83 % (numpy).
    let (n, phi, replications) = (400, 0.8, 1000);
    let mut rng = quakelab::rng::stream(21, "test.uncertainty.coverage");
    let (mut covered, mut covered_short) = (0, 0);
    for replication in 0..replications {
        let x = ar1(&mut rng, n, phi);
        let mean = |rows: &[usize]| rows.iter().map(|&r| x[r]).sum::<f64>() / n as f64;
        let covers = |block_length: usize| {
            let settings = BootstrapSettings {
                resamples: 1000,
                block_length,
                level: 0.95,
                seed: replication,
            };
            let interval = bootstrap_interval(n, &settings, mean).unwrap();
            interval.low <= 0.0 && 0.0 <= interval.high
        };
        covered += u32::from(covers(block_length(&x).unwrap()));
        let tau = integrated_autocorrelation_time(&x).unwrap();
        covered_short += u32::from(covers(tau.ceil() as usize));
    }
    let coverage = f64::from(covered) / replications as f64;
    assert!((0.88..=0.99).contains(&coverage), "coverage {coverage}");
    let short = f64::from(covered_short) / replications as f64;
    assert!(short < 0.88, "coverage with blocks of ⌈τ⌉: {short}");
}

fn resolve_evaluation(lines: &str) -> quakelab::Result<quakelab::experiment::ResolvedExperiment> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.toml");
    std::fs::write(
        &path,
        format!("name = \"e\"\ndecoders = [{{ kind = \"climatology\" }}]\n[evaluation]\n{lines}\n"),
    )
    .unwrap();
    let mut layers = quakelab::experiment::Layers::new(&path);
    layers.real_data_dir = None;
    quakelab::experiment::resolve(&layers)
}

#[test]
fn evaluation_defaults_and_settings_reach_the_bootstrap() {
    let defaults = resolve_evaluation("").unwrap();
    let s = defaults.evaluation().bootstrap_settings(7, defaults.seed());
    assert_eq!((s.resamples, s.block_length, s.level), (1000, 7, 0.95));
    let set = resolve_evaluation("bootstrap_resamples = 250\nconfidence_level = 0.9").unwrap();
    assert_eq!(set.evaluation().bootstrap_resamples, 250);
    assert_eq!(set.evaluation().confidence_level, 0.9);
}

#[test]
fn fewer_than_100_bootstrap_resamples_are_refused() {
    match resolve_evaluation("bootstrap_resamples = 99") {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "evaluation.bootstrap_resamples");
            assert!(
                message.starts_with("must be at least 100, got 99"),
                "{message}"
            );
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn a_confidence_level_outside_one_half_and_one_is_refused() {
    match resolve_evaluation("confidence_level = 1.0") {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "evaluation.confidence_level");
            assert!(
                message.starts_with("must lie strictly between 0.5 and 1, got 1"),
                "{message}"
            );
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}
