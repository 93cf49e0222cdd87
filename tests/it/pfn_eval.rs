//! `quakelab pfn eval`: a tiny pretrained network scored beside ridge and a random forest on
//! held-out prior tasks, Friedman tables and a table from a file, through the real binary.

use std::fmt::Write as _;
use std::path::Path;

use quakelab::decode::pfn::pretrain::{PretrainConfig, PretrainOptions, pretrain};

use crate::support::quakelab;

/// Pretrains a tiny network for 4 steps into `dir`; returns its checkpoint and its file.
fn tiny_network(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let text = format!(
        "name = \"quakelab-pfn-tiny\"\nseed = 5\n\n\
         [pfn.model]\nemsize = 16\nnhead = 2\nnlayers = 1\nmlp_hidden = 32\nnum_buckets = 10\n\n\
         [pfn.prior]\nrows = [16, 24]\nfeatures = [1, 3]\n\n\
         [pfn.pretrain]\nsteps = 4\nbatch_tasks = 4\ncheckpoint_every = 4\nborder_batches = 4\nlog_every = 2\n\n\
         [tracking]\nresults_dir = \"{}\"\n",
        dir.join("results").display()
    );
    let file = dir.join("tiny.toml");
    std::fs::write(&file, &text).unwrap();
    let config = PretrainConfig::parse(&text, "test").unwrap();
    let report = pretrain(&config, &PretrainOptions { resume: None }).unwrap();
    (report.run_dir.join("quakelab-pfn-tiny.safetensors"), file)
}

#[test]
fn every_model_is_ranked_on_every_task_and_the_table_splits_chronologically() {
    let dir = tempfile::tempdir().unwrap();
    let (weights, config) = tiny_network(dir.path());
    // y = 2·x + 1 over rows x = 0..40: the first 32 rows train, the last 8 (y = 65..79) test.
    // A forest predicts at most the largest training target, 63, so its test errors are at
    // least 2, 4, …, 16 and its RMSE at least √102; a linear model extrapolates.
    let mut table = String::from("x,y\n");
    for x in 0..40 {
        writeln!(table, "{x},{}", 2 * x + 1).unwrap();
    }
    let table_path = dir.path().join("line.csv");
    std::fs::write(&table_path, table).unwrap();
    let out = dir.path().join("eval");
    let args = [
        "pfn",
        "eval",
        "--weights",
        weights.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--prior-tasks",
        "3",
        "--friedman-tables",
        "1",
        "--friedman-rows",
        "40",
        "--table",
        table_path.to_str().unwrap(),
        "--target",
        "y",
        "--models",
        "pfn,ridge,random_forest",
        "--out",
        out.to_str().unwrap(),
    ];
    let output = quakelab(&args, dir.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out.join("tasks.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("task,family,n_train,n_test,n_features,model,rmse,r2,rank")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    // 3 prior tasks, Friedman #1-3 once each, the file: 7 tasks of 3 models.
    assert_eq!(rows.len(), 7 * 3);
    for task in rows.chunks(3) {
        assert!(task.iter().all(|r| r[0] == task[0][0]));
        let models: Vec<&str> = task.iter().map(|r| r[5].as_str()).collect();
        assert_eq!(
            models,
            ["PFN (quakelab-pfn-tiny)", "ridge", "random_forest"]
        );
        let rmse: Vec<f64> = task.iter().map(|r| r[6].parse().unwrap()).collect();
        let rank: Vec<f64> = task.iter().map(|r| r[8].parse().unwrap()).collect();
        assert_eq!(rank.iter().sum::<f64>(), 6.0, "ranks 1 + 2 + 3");
        for i in 0..3 {
            for j in 0..3 {
                if rmse[i] < rmse[j] {
                    assert!(rank[i] < rank[j], "{task:?}");
                }
            }
        }
    }
    let friedman: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "friedman").collect();
    assert_eq!(friedman.len(), 9);
    // 80 % of 40 rows train.
    assert!(friedman.iter().all(|r| r[2] == "32" && r[3] == "8"));
    let line: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "line").collect();
    assert!(
        line.iter()
            .all(|r| r[1] == "table" && r[2] == "32" && r[3] == "8")
    );
    let forest_rmse: f64 = line[2][6].parse().unwrap();
    assert!(forest_rmse >= 102f64.sqrt() - 1e-9, "{forest_rmse}");
    let ridge_rmse: f64 = line[1][6].parse().unwrap();
    assert!(ridge_rmse < forest_rmse);
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("family,model,tasks,mean_rank,wins,mean_r2\n"));
    assert!(summary.contains("\nall,ridge,7,"));
}

#[test]
fn pfn_eval_table_without_target_is_refused_naming_target() {
    let dir = tempfile::tempdir().unwrap();
    let (weights, _) = tiny_network(dir.path());
    let table = dir.path().join("t.csv");
    std::fs::write(&table, "x,y\n1,2\n3,4\n").unwrap();
    let output = quakelab(
        &[
            "pfn",
            "eval",
            "--weights",
            weights.to_str().unwrap(),
            "--table",
            table.to_str().unwrap(),
            "--out",
            dir.path().join("e").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("--target") && err.contains("target column"),
        "{err}"
    );
    assert!(!dir.path().join("e").exists(), "nothing written");
}

#[test]
fn pfn_eval_without_weights_scores_the_built_in_network() {
    let dir = tempfile::tempdir().unwrap();
    // Small held-out tasks keep the 1.5M-parameter network quick on the CPU.
    std::fs::write(
        dir.path().join("prior.toml"),
        "[pfn.prior]\nrows = [16, 24]\nfeatures = [1, 3]\n",
    )
    .unwrap();
    let output = quakelab(
        &[
            "pfn",
            "eval",
            "--config",
            "prior.toml",
            "--prior-tasks",
            "2",
            "--friedman-tables",
            "0",
            "--models",
            "pfn,ridge",
            "--out",
            "e",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = std::fs::read_to_string(dir.path().join("e/summary.csv")).unwrap();
    let all: Vec<&str> = summary.lines().filter(|l| l.starts_with("all,")).collect();
    assert_eq!(all.len(), 2, "{summary}");
    assert!(
        all[0].starts_with("all,PFN (quakelab-pfn-s),2,"),
        "{summary}"
    );
    assert!(all[1].starts_with("all,ridge,2,"), "{summary}");
}

#[test]
fn pfn_eval_with_a_missing_weights_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = quakelab(
        &[
            "pfn",
            "eval",
            "--weights",
            "no/such.safetensors",
            "--models",
            "pfn,ridge",
            "--out",
            "e",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("decoder.weights") && err.contains("no/such.safetensors"),
        "{err}"
    );
    assert!(!dir.path().join("e").exists(), "nothing written");
}
