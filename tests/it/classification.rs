//! Classification metrics (`eval::classification`) against scikit-learn, the paper's Table 5,
//! and the bootstrap and baselines built on them.

use quakelab::eval::classification::{
    ConfusionMatrix, bootstrap_classification, class_prior_predictions, label_block_length,
    majority_class, prior_expectation,
};
use quakelab::eval::{BootstrapSettings, bootstrap_interval};
use serde_json::Value;

use crate::support::fixture;

fn labels(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn metrics_match_scikit_learn() {
    let text = std::fs::read_to_string(fixture("classification", "metrics.json")).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    let n_classes = document["n_classes"].as_u64().unwrap() as usize;
    let cases = document["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let truth = labels(&case["truth"]);
        let predicted = labels(&case["predicted"]);
        let m = ConfusionMatrix::new(n_classes, &truth, &predicted).unwrap();
        let confusion: Vec<usize> = case["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(labels)
            .collect();
        assert_eq!(m.counts(), confusion.as_slice(), "{name}");
        for c in 0..n_classes {
            let precision = case["precision"][c].as_f64();
            let recall = case["recall"][c].as_f64();
            match (m.precision(c), precision) {
                (Some(a), Some(b)) => assert!(close(a, b), "{name} precision {c}: {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{name} precision {c}"),
            }
            match (m.recall(c), recall) {
                (Some(a), Some(b)) => assert!(close(a, b), "{name} recall {c}: {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{name} recall {c}"),
            }
        }
        for (ours, key) in [
            (m.macro_f1(), "macro_f1"),
            (m.balanced_accuracy(), "balanced_accuracy"),
            (m.accuracy(), "accuracy"),
        ] {
            let theirs = case[key].as_f64().unwrap();
            assert!(close(ours, theirs), "{name} {key}: {ours} vs {theirs}");
        }
    }
    // The fixture covers the undefined cases it claims to.
    let undefined = |key: &str| {
        cases
            .iter()
            .flat_map(|c| c[key].as_array().unwrap().iter())
            .filter(|v| v.is_null())
            .count()
    };
    assert!(undefined("precision") >= 2 && undefined("recall") >= 2);
}

/// The paper's Table 5 expanded into rows.
fn table5() -> (Vec<usize>, Vec<usize>) {
    let table = [
        [115, 3, 4, 1, 3],
        [8, 81, 8, 4, 1],
        [7, 2, 14, 1, 4],
        [6, 8, 3, 26, 1],
        [3, 0, 5, 1, 21],
    ];
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for (t, row) in table.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            truth.extend(std::iter::repeat_n(t, count));
            predicted.extend(std::iter::repeat_n(p, count));
        }
    }
    (truth, predicted)
}

#[test]
fn the_paper_table_5_gives_its_own_precision_and_recall() {
    // Row sums 126, 102, 28, 44, 30 (the paper prints 125, 103, 28, 45, 30, total 330); column
    // sums 139, 94, 34, 33, 30 as printed. Precision and recall follow by hand. They are not
    // the paper's Table 6 (precision 89.64, 89.33, 75.55, 80.34, 84.38 %): Table 6 does not
    // follow from Table 5.
    let (truth, predicted) = table5();
    let m = ConfusionMatrix::new(5, &truth, &predicted).unwrap();
    assert_eq!(m.total(), 330);
    let rows: Vec<usize> = (0..5).map(|c| m.true_total(c)).collect();
    let cols: Vec<usize> = (0..5).map(|c| m.predicted_total(c)).collect();
    assert_eq!(rows, vec![126, 102, 28, 44, 30]);
    assert_eq!(cols, vec![139, 94, 34, 33, 30]);
    let precision = [
        115.0 / 139.0,
        81.0 / 94.0,
        14.0 / 34.0,
        26.0 / 33.0,
        21.0 / 30.0,
    ];
    let recall = [
        115.0 / 126.0,
        81.0 / 102.0,
        14.0 / 28.0,
        26.0 / 44.0,
        21.0 / 30.0,
    ];
    for c in 0..5 {
        assert!(close(m.precision(c).unwrap(), precision[c]), "class {c}");
        assert!(close(m.recall(c).unwrap(), recall[c]), "class {c}");
    }
    assert!(close(m.accuracy(), 257.0 / 330.0));
    let balanced = recall.iter().sum::<f64>() / 5.0;
    assert!(close(m.balanced_accuracy(), balanced));
}

fn settings(block_length: usize) -> BootstrapSettings {
    BootstrapSettings {
        resamples: 400,
        block_length,
        level: 0.9,
        seed: 11,
    }
}

#[test]
fn perfect_predictions_have_point_intervals() {
    let truth: Vec<usize> = (0..60).map(|i| (i / 7) % 5).collect();
    let intervals = bootstrap_classification(&truth, &truth, 5, &settings(6)).unwrap();
    for interval in [
        intervals.accuracy,
        intervals.macro_f1,
        intervals.balanced_accuracy,
    ] {
        assert_eq!((interval.low, interval.high), (1.0, 1.0));
    }
}

#[test]
fn the_accuracy_interval_is_the_bootstrap_of_the_hits() {
    // Accuracy on a resample is the mean of the per-row hits over its rows; the generic
    // bootstrap of that mean uses the same resamples, so the intervals agree exactly.
    let (truth, predicted) = table5();
    // Interleave the rows so that every block mixes classes.
    let order: Vec<usize> = (0..330).map(|i| (i * 97) % 330).collect();
    let truth: Vec<usize> = order.iter().map(|&i| truth[i]).collect();
    let predicted: Vec<usize> = order.iter().map(|&i| predicted[i]).collect();
    let hits: Vec<f64> = truth
        .iter()
        .zip(&predicted)
        .map(|(t, p)| if t == p { 1.0 } else { 0.0 })
        .collect();
    let s = settings(10);
    let intervals = bootstrap_classification(&truth, &predicted, 5, &s).unwrap();
    let direct = bootstrap_interval(330, &s, |rows| {
        rows.iter().map(|&r| hits[r]).sum::<f64>() / rows.len() as f64
    })
    .unwrap();
    assert_eq!(intervals.accuracy, direct);
    let point = 257.0 / 330.0;
    assert!(intervals.accuracy.low < point && point < intervals.accuracy.high);
    assert!(intervals.macro_f1.low < intervals.macro_f1.high);
    assert!(intervals.balanced_accuracy.low < intervals.balanced_accuracy.high);
}

#[test]
fn the_class_prior_baseline_scores_its_closed_form_expectation() {
    // Training frequencies 0.5, 0.3, 0.2; test frequencies 0.2, 0.2, 0.6: expected accuracy
    // 0.5·0.2 + 0.3·0.2 + 0.2·0.6 = 0.28, expected balanced accuracy (0.5 + 0.3 + 0.2)/3.
    let train: Vec<usize> = (0..10).map(|i| [0, 0, 0, 0, 0, 1, 1, 1, 2, 2][i]).collect();
    let n = 20_000;
    let test: Vec<usize> = (0..n)
        .map(|i| match i % 5 {
            0 => 0,
            1 => 1,
            _ => 2,
        })
        .collect();
    let expected = prior_expectation(&train, &test, 3).unwrap();
    assert!(close(expected.accuracy, 0.28));
    assert!(close(expected.balanced_accuracy, 1.0 / 3.0));
    let predicted = class_prior_predictions(&train, n, 3).unwrap();
    let m = ConfusionMatrix::new(3, &test, &predicted).unwrap();
    // Binomial standard deviation √(0.28·0.72/20000) ≈ 0.0032; allow four.
    assert!((m.accuracy() - 0.28).abs() < 0.013, "{}", m.accuracy());
    assert!((m.balanced_accuracy() - 1.0 / 3.0).abs() < 0.02);
    assert_eq!(majority_class(&train).unwrap(), 0);
}

#[test]
fn block_lengths_follow_the_dependence_of_the_labels() {
    // Alternating labels: τ = 1 (the ACF at lag 1 is negative), block ⌈5·1⌉ = 5.
    let alternating: Vec<usize> = (0..200).map(|i| i % 2).collect();
    assert_eq!(label_block_length(&alternating).unwrap(), 5);
    // Runs of 20 equal labels are strongly dependent: a longer block, at most half the rows.
    let runs: Vec<usize> = (0..200).map(|i| (i / 20) % 3).collect();
    let block = label_block_length(&runs).unwrap();
    assert!(block > 20 && block <= 100, "{block}");
}
