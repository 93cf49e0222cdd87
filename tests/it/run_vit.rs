//! The ViT in experiments: `[encoder.vit]` and `device` resolved and refused by key, the config
//! hash, missing weights (an error with the store's message, or skipped rows when optional),
//! and a run with a tiny random ViT: the pixel scale fitted on the training days common to
//! every split, the embedding cache, "random init" in every GNSS row.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest;

use quakelab::Error;
use quakelab::device::Device;
use quakelab::encode::vit::{VitOutput, VitWeights};
use quakelab::experiment::config::{self, Layers};
use quakelab::experiment::runner;

/// A small experiment with the ViT: one year, a coarse grid, two decoders, two time-ordered
/// splits (so every split trains on a prefix of the rows).
const SMALL_VIT: &str = r#"
name = "small_vit"
seed = 7
decoders = [{ kind = "persistence" }, { kind = "ridge", alpha = 1.0 }]
[period]
start = "2010-01-01"
end = "2011-01-01"
[data]
catalog = "synthetic:japan"
gnss = "synthetic:japan"
[features.seismicity]
window_days = 64
[features.gnss]
grid = "8x8"
[encoder]
kind = "vit"
pca_dims = 4
batch_size = 64
[split]
kinds = ["chronological", "rolling"]
rolling_origins = 2
[ablations]
modalities = ["gnss", "seismicity", "fusion"]
controls = ["day_number"]
"#;

/// A ViT small enough to run in a test: width 8, one block of two heads, 8 × 8 inputs in
/// patches of 4.
const TINY_CONFIG: &str = r#"{
  "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
  "intermediate_size": 16, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
  "image_size": 8, "patch_size": 4, "num_channels": 3, "qkv_bias": true,
  "initializer_range": 0.02
}"#;

/// Writes `SMALL_VIT` plus `extra` into `dir/e.toml`; layers over it with the results in
/// `dir/results` and `overrides`.
fn small(dir: &Path, extra: &str, overrides: &[String]) -> Layers {
    let file = dir.join("e.toml");
    std::fs::write(&file, format!("{SMALL_VIT}{extra}")).unwrap();
    Layers {
        file: Some(file),
        ..Layers::default()
    }
    .with_overrides(
        [format!(
            "tracking.results_dir={}",
            toml_string(&dir.join("results"))
        )]
        .into_iter()
        .chain(overrides.iter().cloned()),
    )
}

/// A path as a TOML string value.
fn toml_string(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

/// A model folder holding only the tiny config.
fn tiny_model(dir: &Path) -> PathBuf {
    let model = dir.join("tiny-vit");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("config.json"), TINY_CONFIG).unwrap();
    model
}

fn config_error<T: std::fmt::Debug>(result: quakelab::Result<T>) -> (String, String) {
    match result {
        Err(Error::Config { key, message }) => (key, message),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn config_show_lists_the_vit_settings_and_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let layers = small(dir.path(), "[encoder.vit]\nweights = \"random\"\n", &[]);
    let shown = config::show(&layers).unwrap();
    for line in [
        "encoder.vit.model = \"google/vit-base-patch16-224-in21k\"",
        "encoder.vit.weights = \"random\"",
        "encoder.vit.output = \"mean\"",
        "encoder.vit.scale_percentile = 99.5",
        "encoder.vit.optional = false",
        "device = \"cpu\"",
    ] {
        assert!(shown.contains(line), "{line} missing from\n{shown}");
    }
    let resolved = config::resolve(&layers).unwrap();
    let vit = resolved.encoder().vit.as_ref().unwrap();
    assert_eq!(vit.weights, VitWeights::Random { config: None });
    assert_eq!(vit.output, VitOutput::Mean);
    assert_eq!(resolved.device(), Device::Cpu);
    // Any device parses (a GPU config resolves on a laptop); running it is another matter.
    let cuda = small(
        dir.path(),
        "[encoder.vit]\nweights = \"random\"\n",
        &["device=cuda".into()],
    );
    assert_eq!(config::resolve(&cuda).unwrap().device(), Device::Cuda);
}

#[test]
fn last_hidden_state_is_refused_as_an_experiment_output() {
    let dir = tempfile::tempdir().unwrap();
    let layers = small(
        dir.path(),
        "[encoder.vit]\nweights = \"random\"\noutput = \"last_hidden_state\"\n",
        &[],
    );
    let (key, message) = config_error(config::resolve(&layers));
    assert_eq!(key, "encoder.vit.output");
    assert!(
        message.contains("not one feature row per image"),
        "{message}"
    );
}

#[test]
fn an_unknown_device_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layers = small(
        dir.path(),
        "[encoder.vit]\nweights = \"random\"\n",
        &["device=tpu".into()],
    );
    let (key, message) = config_error(config::resolve(&layers));
    assert_eq!(key, "device");
    assert!(message.contains("tpu"), "{message}");
}

#[test]
fn a_missing_weights_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layers = small(
        dir.path(),
        "[encoder.vit]\nweights = \"no/such/model.safetensors\"\n",
        &[],
    );
    let (key, message) = config_error(config::resolve(&layers));
    assert_eq!(key, "encoder.vit.weights");
    assert!(
        message.contains("`no/such/model.safetensors` not found"),
        "{message}"
    );
}

#[test]
fn a_scale_percentile_outside_0_to_100_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for p in ["0", "100.5", "-3"] {
        let layers = small(
            dir.path(),
            "[encoder.vit]\nweights = \"random\"\n",
            &[format!("encoder.vit.scale_percentile={p}")],
        );
        let (key, message) = config_error(config::resolve(&layers));
        assert_eq!(key, "encoder.vit.scale_percentile");
        assert!(message.contains("must lie in (0, 100]"), "{message}");
    }
}

#[test]
fn the_vit_settings_change_the_hash_only_under_the_vit() {
    let dir = tempfile::tempdir().unwrap();
    let hash = |extra: &str, overrides: &[&str]| {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        config::resolve(&small(dir.path(), extra, &overrides))
            .unwrap()
            .config_hash()
            .to_string()
    };
    let flatten = hash("", &["encoder.kind=flatten"]);
    // Under another encoder the ViT's section changes nothing, nor does the default device.
    assert_eq!(
        flatten,
        hash(
            "[encoder.vit]\nscale_percentile = 90.0\n",
            &["encoder.kind=flatten", "device=cpu"]
        )
    );
    assert_ne!(flatten, hash("", &["encoder.kind=flatten", "device=cuda"]));
    let random = "[encoder.vit]\nweights = \"random\"\n";
    assert_ne!(
        hash(random, &[]),
        hash(random, &["encoder.vit.scale_percentile=90"])
    );
}

#[test]
fn optional_missing_weights_skip_the_gnss_rows_and_the_run_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-weights");
    std::fs::create_dir_all(&empty).unwrap();
    let layers = small(
        dir.path(),
        &format!(
            "[encoder.vit]\nmodel = {}\noptional = true\n",
            toml_string(&empty)
        ),
        &[],
    );
    let experiment = config::resolve(&layers).unwrap();
    let outcome = runner::run(&experiment).unwrap();
    // 3 splits (chronological, 2 rolling origins) x (gnss, fusion, fusion_gnss_shuffled) x 2
    // decoders, none fitted.
    let skipped: Vec<_> = outcome.results.iter().filter(|r| r.is_skipped()).collect();
    assert_eq!(skipped.len(), 3 * 3 * 2);
    for row in &skipped {
        assert!(
            row.status
                .starts_with("skipped: the model folder is not complete")
        );
        assert!(row.status.contains("config.json"), "{}", row.status);
        assert!(row.test_r2.is_nan());
    }
    let fitted: Vec<&str> = outcome
        .results
        .iter()
        .filter(|r| !r.is_skipped())
        .map(|r| r.features.as_str())
        .collect();
    assert!(fitted.contains(&"seismicity"));
    assert!(!fitted.iter().any(|f| f.contains("gnss") || *f == "fusion"));
    let summary = outcome.summary.join("\n");
    // Per split: 3 feature sets x 2 decoders.
    assert!(
        summary.contains(
            "6 rows SKIPPED (features gnss, fusion, fusion_gnss_shuffled; decoders persistence, ridge)"
        ),
        "{summary}"
    );
    assert!(summary.contains("encoder: vit(mean,"), "{summary}");
    let report = std::fs::read_to_string(outcome.run_dir.join("report.md")).unwrap();
    assert!(report.contains("SKIPPED"), "{report}");
    assert!(report.contains("| skipped"), "{report}");
    let table = std::fs::read_to_string(outcome.run_dir.join("tables/results.csv")).unwrap();
    assert!(
        table.lines().next().unwrap().ends_with(",status"),
        "{table}"
    );
    // Nothing was gridded for a ViT that cannot run.
    assert!(!dir.path().join("results/cache/gnss").exists());
}

#[test]
fn missing_weights_fail_before_any_work_with_the_store_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("e.toml"), SMALL_VIT).unwrap();
    let store = dir.path().join("store");
    let out = Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args(["run", "e.toml"])
        .current_dir(dir.path())
        .env("QUAKELAB_MODELS", &store)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("encoder.vit.weights"), "{err}");
    assert!(
        err.contains("quakelab models fetch google/vit-base-patch16-224-in21k"),
        "{err}"
    );
    let folder = store.join("google/vit-base-patch16-224-in21k");
    assert!(err.contains(&folder.display().to_string()), "{err}");
    assert!(!dir.path().join("results").exists());
}

#[test]
fn a_random_vit_run_fits_the_scale_on_common_training_days_and_caches_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let extra = format!(
        "[encoder.vit]\nmodel = {}\nweights = \"random\"\n",
        toml_string(&model)
    );
    let experiment = config::resolve(&small(dir.path(), &extra, &[])).unwrap();
    let first = runner::run(&experiment).unwrap();
    let sheet = |run: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(run.join("evaluation.json")).unwrap())
            .unwrap()
    };
    let s = sheet(&first.run_dir);
    let encoder = &s["encoder"];
    assert_eq!(encoder["encoder"], "vit(mean, random init)");
    assert_eq!(encoder["random_init"], true);
    assert_eq!(encoder["from_cache"], false);
    assert_eq!(encoder["scale_percentile"], 99.5);
    assert!(encoder["scale_mm"].as_f64().unwrap() > 0.0);
    // Every split trains on a prefix of the rows, so the days common to all of them are the
    // shortest prefix: the smallest training set.
    let shortest = s["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|split| split["n_train"].as_u64().unwrap())
        .min()
        .unwrap();
    assert_eq!(encoder["scale_fit_days"].as_u64().unwrap(), shortest);
    for row in &first.results {
        let gnss = row.features.contains("gnss") || row.features.starts_with("fusion");
        let expected = if gnss { "vit(mean, random init)" } else { "" };
        assert_eq!(row.encoder, expected, "{} / {}", row.features, row.decoder);
    }
    assert!(first.summary.join("\n").contains("RANDOM INIT"));
    let report = std::fs::read_to_string(first.run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("fusion [vit(mean, random init)]"),
        "{report}"
    );
    let cache = quakelab::experiment::embeddings::cache_dir(&dir.path().join("results"));
    let entries = || std::fs::read_dir(&cache).unwrap().count();
    assert_eq!(entries(), 1);

    // The same run again reads the embeddings back and gets the same numbers.
    let second = runner::run(&experiment).unwrap();
    assert_eq!(sheet(&second.run_dir)["encoder"]["from_cache"], true);
    let r2 = |o: &runner::RunOutcome| -> Vec<u64> {
        o.results.iter().map(|r| r.test_r2.to_bits()).collect()
    };
    assert_eq!(r2(&first), r2(&second));
    // Another scale is another entry.
    let other = config::resolve(&small(
        dir.path(),
        &extra,
        &["encoder.vit.scale_percentile=90".into()],
    ))
    .unwrap();
    let third = runner::run(&other).unwrap();
    assert_eq!(sheet(&third.run_dir)["encoder"]["from_cache"], false);
    assert_eq!(entries(), 2);
}

#[test]
fn rows_from_real_weights_name_the_model_and_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let model = crate::support::fixture("vit", "tiny");
    let extra = format!(
        "[encoder.vit]\nmodel = {}\noutput = \"pooler\"\n",
        toml_string(&model)
    );
    let experiment = config::resolve(&small(
        dir.path(),
        &extra,
        &[r#"split.kinds=["chronological"]"#.into()],
    ))
    .unwrap();
    let outcome = runner::run(&experiment).unwrap();
    // The folder's weights file is model.safetensors (preferred over pytorch_model.bin).
    let bytes = std::fs::read(model.join("model.safetensors")).unwrap();
    let hex: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let expected = format!("vit(pooler, {}, sha256:{})", model.display(), &hex[..12]);
    let gnss: Vec<_> = outcome
        .results
        .iter()
        .filter(|r| r.features == "gnss" || r.features == "fusion")
        .collect();
    assert!(!gnss.is_empty());
    for row in gnss {
        assert_eq!(row.encoder, expected);
    }
    assert!(!outcome.summary.join("\n").contains("RANDOM INIT"));
}

#[test]
fn the_paper_vit_experiment_declares_random_weights_and_resolves() {
    let mut input = Layers::new("experiments/paper_vit.toml");
    input.real_data_dir = None;
    let paper = config::resolve(&input).unwrap();
    assert_eq!(paper.name(), "paper_vit");
    let vit = paper.encoder().vit.as_ref().unwrap();
    assert_eq!(vit.model, "google/vit-base-patch16-224-in21k");
    assert_eq!(vit.weights, VitWeights::Random { config: None });
    assert_eq!(vit.output, VitOutput::Mean);
    assert_eq!(vit.scale_percentile, 99.5);
    assert_eq!(paper.device(), Device::Cpu);
    // 2010-07-01 .. 2012-01-01: 184 + 365 days.
    assert_eq!(paper.period().n_days(), 549);
}

#[test]
fn a_model_that_is_neither_a_folder_nor_a_hub_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layers = small(
        dir.path(),
        "[encoder.vit]\nmodel = \"no-such-folder\"\nweights = \"random\"\n",
        &[],
    );
    let (key, message) = config_error(config::resolve(&layers));
    assert_eq!(key, "encoder.vit.model");
    assert!(
        message.contains("`no-such-folder` is neither a folder nor a hub id"),
        "{message}"
    );
}

#[test]
fn a_random_init_of_an_unknown_hub_model_is_refused_for_want_of_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let layers = small(
        dir.path(),
        "[encoder.vit]\nmodel = \"someone/vit-large\"\nweights = \"random\"\n",
        &[],
    );
    let (key, message) = config_error(config::resolve(&layers));
    assert_eq!(key, "encoder.vit.model");
    assert!(
        message.contains(
            "the architecture of `someone/vit-large` is not known without its config.json"
        ),
        "{message}"
    );
}
