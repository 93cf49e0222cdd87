//! `quakelab pfn pretrain`: the loop's curve, checkpoints and resume through the library, and
//! the command end to end through the real binary.

use std::path::{Path, PathBuf};

use quakelab::decode::pfn::model::{PfnModel, TaskBatch};
use quakelab::decode::pfn::pretrain::{PretrainConfig, PretrainOptions, PretrainReport, pretrain};
use quakelab::decode::pfn::prior::Prior;
use quakelab::decode::tabpfn::weights::TabPfnWeights;
use quakelab::track::{RunStatus, read_run};

use crate::support::quakelab;

/// A tiny network on small tasks: `steps` steps of 4 tasks, a checkpoint every 4.
fn tiny(results: &Path, steps: u64) -> String {
    format!(
        "name = \"quakelab-pfn-tiny\"\nseed = 3\n\n\
         [pfn.model]\nemsize = 16\nnhead = 2\nnlayers = 1\nmlp_hidden = 32\nnum_buckets = 10\n\n\
         [pfn.prior]\nrows = [16, 24]\nfeatures = [1, 3]\n\n\
         [pfn.optim]\nschedule = {{ peak = 3e-3, warmup_steps = 2, total_steps = 40, final_ratio = 0.1 }}\n\n\
         [pfn.pretrain]\nsteps = {steps}\nbatch_tasks = 4\ncheckpoint_every = 4\nborder_batches = 4\nlog_every = 2\n\n\
         [tracking]\nresults_dir = \"{}\"\n",
        results.display()
    )
}

fn config(text: &str) -> PretrainConfig {
    PretrainConfig::parse(text, "test").unwrap()
}

fn run(config: &PretrainConfig, resume: Option<PathBuf>) -> PretrainReport {
    pretrain(config, &PretrainOptions { resume }).unwrap()
}

/// The run's `train_loss` values by step, as recorded.
fn losses(run_dir: &Path) -> Vec<(i64, f64)> {
    let stored = read_run(run_dir).unwrap();
    let mut found: Vec<(i64, f64)> = stored
        .metrics
        .iter()
        .filter(|m| m.metric.key == "train_loss")
        .map(|m| (m.metric.step, m.metric.value))
        .collect();
    found.sort_by_key(|p| p.0);
    found
}

/// The test-row logits of `path`'s network on prior batch 1000 of `config`.
fn predictions(path: &Path, config: &PretrainConfig) -> Vec<f32> {
    let device = quakelab::device::Device::Cpu.burn().unwrap();
    let (model, _, _) = PfnModel::read_checkpoint(path, &device).unwrap();
    let prior = Prior::new(config.pfn.prior.clone()).unwrap();
    let batch = prior.batch(99, 1000, 3).unwrap();
    let n_train = batch.tasks.iter().map(|t| t.n_train()).min().unwrap();
    let x: Vec<f32> = batch.tasks.iter().flat_map(|t| t.x().to_vec()).collect();
    let y: Vec<f32> = batch.tasks.iter().flat_map(|t| t.y().to_vec()).collect();
    let tasks = TaskBatch::new(3, batch.n_rows, n_train, batch.n_features, x, &y).unwrap();
    model
        .forward(&tasks)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

#[test]
fn a_resumed_run_continues_the_same_loss_curve() {
    let dir = tempfile::tempdir().unwrap();
    let (k, n) = (4, 8);
    let straight = config(&tiny(&dir.path().join("straight"), n));
    let first = config(&tiny(&dir.path().join("first"), k));
    let straight_run = run(&straight, None);
    let first_run = run(&first, None);
    let resumed = config(&tiny(&dir.path().join("resumed"), n));
    let resumed_run = run(&resumed, Some(first_run.run_dir.clone()));
    assert_eq!(resumed_run.start_step, k);
    let whole = losses(&straight_run.run_dir);
    let before = losses(&first_run.run_dir);
    let after = losses(&resumed_run.run_dir);
    assert_eq!(whole.len(), n as usize);
    // The first k steps are the same steps, and the resumed k repeat the straight run's last
    // k bit for bit: the same tasks (a function of seed and step), the same weights and
    // AdamW moments (stored in f32, exactly), and the CPU backend's fixed summation order.
    assert_eq!(before, whole[..k as usize]);
    assert_eq!(after, whole[k as usize..]);
    assert_eq!(
        predictions(&straight_run.model, &straight),
        predictions(&resumed_run.model, &straight)
    );
}

#[test]
fn checkpoints_are_written_every_n_steps_and_the_final_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&tiny(dir.path(), 10));
    let report = run(&config, None);
    let checkpoints = report.run_dir.join("checkpoints");
    let mut names: Vec<String> = std::fs::read_dir(&checkpoints)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Every 4 steps and at the end: after 4, 8 and 10; nothing half-written left behind.
    assert_eq!(
        names,
        [
            "latest",
            "state-000004.bpk",
            "state-000008.bpk",
            "state-000010.bpk",
            "step-000004.safetensors",
            "step-000008.safetensors",
            "step-000010.safetensors",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(checkpoints.join("latest")).unwrap(),
        "10\n"
    );
    assert_eq!(
        report.model,
        report.run_dir.join("quakelab-pfn-tiny.safetensors")
    );
    let weights = TabPfnWeights::read(&report.model).unwrap();
    assert_eq!(weights.architecture(), &config.pfn.model.architecture());
    let device = quakelab::device::Device::Cpu.burn().unwrap();
    let (_, borders, info) = PfnModel::read_checkpoint(&report.model, &device).unwrap();
    assert_eq!(borders.len(), 11);
    assert_eq!(info.name, "quakelab-pfn-tiny");
    assert_eq!((info.steps, info.seed), (10, 3));
    assert_eq!(
        info.commit,
        read_run(&report.run_dir).unwrap().record.git_commit
    );
    // The last checkpoint is the final network.
    assert_eq!(
        predictions(&checkpoints.join("step-000010.safetensors"), &config),
        predictions(&report.model, &config)
    );
}

#[test]
fn resuming_with_a_changed_model_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(&config(&tiny(dir.path(), 4)), None);
    let changed = tiny(dir.path(), 8).replace("emsize = 16", "emsize = 24");
    let err = pretrain(
        &config(&changed),
        &PretrainOptions {
            resume: Some(first.run_dir.clone()),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("pfn.model.emsize") && err.contains("differs from the run being resumed"),
        "{err}"
    );
}

/// The bar-distribution NLL of a standardised target `y` under equal probabilities for the
/// buckets between `borders`, in closed form: log K plus the log width of an inner bucket, or
/// minus the log half-normal density of a tail (its median the outer bucket's width).
fn uniform_nll(borders: &[f64], y: f64) -> f64 {
    let k = borders.len() - 1;
    let half_normal_median = 0.674_489_750_196_081_7;
    let tail = |w: f64, d: f64| {
        let s = w / half_normal_median;
        -((2.0 / std::f64::consts::PI).sqrt() / s * (-d * d / (2.0 * s * s)).exp()).ln()
    };
    let below = borders.iter().filter(|&&b| b < y).count();
    let bucket = below.saturating_sub(1).min(k - 1);
    (k as f64).ln()
        + match bucket {
            0 => tail(borders[1] - borders[0], (borders[1] - y).max(1e-8)),
            b if b == k - 1 => tail(borders[k] - borders[k - 1], (y - borders[k - 1]).max(1e-8)),
            b => (borders[b + 1] - borders[b]).ln(),
        }
}

/// The mean uniform-bucket loss of step `step`'s test rows: each batch predicted from its
/// smallest context, targets standardised on it by hand, tasks with a constant context left
/// out (as the loop does).
fn uniform_loss(config: &PretrainConfig, borders: &[f64], step: u64) -> f64 {
    let prior = Prior::new(config.pfn.prior.clone()).unwrap();
    let batch = prior
        .batch(config.seed, step, config.pfn.pretrain.batch_tasks)
        .unwrap();
    let n_train = batch.tasks.iter().map(|t| t.n_train()).min().unwrap();
    let (mut sum, mut count) = (0.0, 0);
    for task in &batch.tasks {
        let y: Vec<f64> = task.y().iter().map(|&v| f64::from(v)).collect();
        let mean = y[..n_train].iter().sum::<f64>() / n_train as f64;
        let std =
            (y[..n_train].iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n_train as f64).sqrt();
        if std == 0.0 {
            continue;
        }
        for v in &y[n_train..] {
            sum += uniform_nll(borders, f64::from(((v - mean) / std) as f32));
            count += 1;
        }
    }
    sum / count as f64
}

#[test]
fn the_loss_goes_down_below_the_uniform_bucket_loss() {
    let dir = tempfile::tempdir().unwrap();
    let steps: u64 = 2000;
    // Smooth one- and two-feature GP tasks, which a network that reads its context predicts
    // far better than the marginal.
    let text = tiny(dir.path(), steps)
        .replace("rows = [16, 24]", "rows = [24, 32]")
        .replace(
            "features = [1, 3]",
            "features = [1, 2]\nweights = { mlp = 0.0, gp = 1.0, seismic = 0.0 }",
        )
        .replace("total_steps = 40", &format!("total_steps = {steps}"))
        .replace("peak = 3e-3", "peak = 5e-3")
        .replace(
            "checkpoint_every = 4",
            &format!("checkpoint_every = {steps}"),
        );
    let config = config(&text);
    let report = run(&config, None);
    let curve = losses(&report.run_dir);
    let device = quakelab::device::Device::Cpu.burn().unwrap();
    let (_, borders, _) = PfnModel::read_checkpoint(&report.model, &device).unwrap();
    let window = 50;
    let last: f64 = curve[curve.len() - window..]
        .iter()
        .map(|p| p.1)
        .sum::<f64>()
        / window as f64;
    let uniform: f64 = (steps - window as u64..steps)
        .map(|s| uniform_loss(&config, &borders, s))
        .sum::<f64>()
        / window as f64;
    let first: f64 = curve[..window].iter().map(|p| p.1).sum::<f64>() / window as f64;
    // The borders are equal-mass quantiles of the same prior's standardised targets, so equal
    // bucket probabilities are about the best a network that ignores the context can do: a
    // loss below theirs comes from reading the context. After 2,000 steps the density at the
    // test targets is on average more than 1.4 times theirs (measured: about 1.7, a loss 0.53
    // below), and the first steps, near the uniform loss, are beaten by as much.
    let margin = 1.4f64.ln();
    assert!(
        last < uniform - margin && last < first - margin,
        "first {window} steps {first}, last {window} {last}, uniform {uniform}"
    );
}

#[test]
fn pfn_pretrain_writes_the_run_its_checkpoints_and_the_model() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), tiny(Path::new("ignored"), 40)).unwrap();
    let output = quakelab(
        &[
            "pfn",
            "pretrain",
            "tiny.toml",
            "--steps",
            "6",
            "--out",
            "runs",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("from step 0 to 6"), "{stdout}");
    let experiment = dir.path().join("runs").join("quakelab-pfn-tiny");
    let runs: Vec<PathBuf> = std::fs::read_dir(&experiment)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let stored = read_run(&runs[0]).unwrap();
    assert_eq!(stored.record.status, RunStatus::Finished);
    let steps: Vec<i64> = stored
        .metrics
        .iter()
        .filter(|m| m.metric.key == "train_loss")
        .map(|m| m.metric.step)
        .collect();
    assert_eq!(steps, [0, 1, 2, 3, 4, 5]);
    assert!(
        stored
            .metrics
            .iter()
            .any(|m| m.metric.key == "tokens_per_second")
    );
    for file in [
        "checkpoints/step-000004.safetensors",
        "checkpoints/step-000006.safetensors",
        "quakelab-pfn-tiny.safetensors",
        "train_loss.csv",
        "train_loss.png",
    ] {
        assert!(runs[0].join(file).is_file(), "{file}");
        assert!(stored.artifacts.iter().any(|a| a == file), "{file}");
    }
    assert!(!dir.path().join("ignored").exists());
}

#[test]
fn the_shipped_recipe_parses_and_its_network_fits_in_20_mb() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/pfn/quakelab-pfn-s.toml");
    let config = PretrainConfig::load(&path).unwrap();
    assert_eq!(config.name, "quakelab-pfn-s");
    let m = &config.pfn.model;
    let (e, h, k) = (m.emsize, m.mlp_hidden, m.num_buckets);
    // Per layer: two attentions (q, k, v and out: 4 E² each) and the MLP (2 E H, no biases);
    // then the x-encoder (2 fpg · E), the y-encoder (2 E + E), the subspace map (E/4 · E + E)
    // and the decoder (E H + H, H K + K).
    let by_hand = m.nlayers * (8 * e * e + 2 * e * h)
        + 2 * m.features_per_group * e
        + 3 * e
        + (e / 4 * e + e)
        + (e * h + h)
        + (h * k + k);
    assert_eq!(by_hand, 170_212, "the count the recipe's comment states");
    let device = quakelab::device::Device::Cpu.burn().unwrap();
    let model = PfnModel::init(m.architecture(), 0, &device).unwrap();
    assert_eq!(burn::module::Module::num_params(&model), by_hand);
    assert!(by_hand * 4 <= 20_000_000);
}

#[test]
fn resuming_a_run_already_at_its_steps_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(&config(&tiny(dir.path(), 4)), None);
    let err = pretrain(
        &config(&tiny(dir.path(), 4)),
        &PretrainOptions {
            resume: Some(first.run_dir.clone()),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("pfn.pretrain.steps") && err.contains("the checkpoint has done 4 already"),
        "{err}"
    );
}
