//! Pretraining a PFN on its task prior: the loop of `quakelab pfn pretrain`.
//!
//! [`pretrain`] runs a [`PretrainConfig`] as a tracked run (`results/NAME/<run-id>/`, or
//! under `tracking.experiment_name` when set; mirrored to MLflow when `tracking.mlflow_uri` is
//! set):
//!
//! 1. the borders of the bar distribution are fitted once ([`fit_borders`]) on the
//!    standardised targets of `border_batches` prior batches drawn from a seed of their own
//!    (the first draw of `rng::stream(seed, "pfn.borders")`), so they never see a training
//!    task; every checkpoint keeps them;
//! 2. step `s` (0-based) trains on the prior batch `Prior::batch(seed, s, batch_tasks)`, its
//!    features bounded by the curriculum `feature_ramp_steps` while one runs
//!    ([`LoopConfig::max_features`], [`Prior::batch_within`]): the tasks depend on the seed
//!    and the step only, so a resumed run sees exactly the tasks the uninterrupted run would
//!    have; a thread of its own draws the batches a little ahead, so
//!    the prior's CPU work overlaps the network's step (on a GPU, most of the step);
//! 3. the loss is the bar-distribution NLL ([`BarLoss::mean_nll`]) over the batch's test rows,
//!    and AdamW takes a step at the schedule's rate for `s`, the gradient clipped to a global
//!    norm of `clip_norm`;
//! 4. every step records `train_loss` and `learning_rate` (step `s`), every `log_every` steps
//!    the throughput since the last record (`tasks_per_second`, `tokens_per_second`,
//!    `seconds_per_step`; a task's tokens are its rows × (feature groups + 1), the cells the
//!    network attends over);
//! 5. every `checkpoint_every` steps and at the end, a checkpoint ([`state`]); at the end the
//!    network also as `RUN_DIR/NAME.safetensors` (the file the TabPFN decoder loads), the curve
//!    as `train_loss.csv` and `train_loss.png`.
//!
//! # One split per batch
//!
//! The tasks of a prior batch share their size but each draws its own number of training rows.
//! The network takes one split per batch, so a batch trains with the smallest of its tasks'
//! `n_train`: each task keeps its first rows as context, and the rows after them (all drawn
//! like the others, the later days for the seismic prior) are predicted. A task whose context
//! targets are then all equal cannot be standardised (the decoder predicts it without the
//! network); it is left out of its step and counted (`skipped_tasks`).
//!
//! # Resume
//!
//! [`PretrainOptions::resume`] continues from a checkpoint: the network and its borders from
//! the `.safetensors`, AdamW's moments and step counts from the state file, at the step after
//! it. The run's `config.toml` must agree with the new file on everything that decides the
//! tasks and updates ([`PretrainConfig::training_difference`]); `steps` may grow. The
//! parameters are numbered by their position in the network, so the optimiser state of one
//! process finds its parameters in another, and on the CPU the resumed steps repeat the
//! uninterrupted run's losses bit for bit.

pub mod config;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Bytes, Device, Tensor};
use rand::Rng;
use tracing::info;

pub use config::{LoopConfig, ModelConfig, OptimConfig, PfnSections, PretrainConfig};
pub use state::ResumePoint;

use crate::decode::pfn::loss::{BarLoss, fit_borders};
use crate::decode::pfn::model::{CheckpointInfo, PfnModel, TaskBatch};
use crate::decode::pfn::prior::{Prior, PriorBatch};
use crate::track::{Metric, Run, RunSpec, RunStatus, Tracker};
use crate::{Error, Result, rng};

/// Prior batches drawn ahead of the step that trains on them, on a thread of their own.
const PREFETCH_BATCHES: usize = 2;

/// How a pretraining run starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PretrainOptions {
    /// Continue from this run directory's last complete checkpoint, or from this checkpoint
    /// file (`RUN_DIR/checkpoints/step-NNNNNN.safetensors`).
    pub resume: Option<PathBuf>,
}

/// What a pretraining run did.
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainReport {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The trained network, `RUN_DIR/NAME.safetensors`.
    pub model: PathBuf,
    /// The step the run started from (0, or the resumed checkpoint's).
    pub start_step: u64,
    /// Steps done in all, the resumed ones included.
    pub steps: u64,
    /// Trainable values in the network.
    pub parameters: usize,
    /// The last step's loss.
    pub final_loss: f64,
    /// Tasks left out of their step for constant context targets (module docs).
    pub skipped_tasks: usize,
    /// Tasks trained on per second of the steps (borders, checkpoints and records excluded).
    pub tasks_per_second: f64,
    /// Tokens per second of the steps.
    pub tokens_per_second: f64,
    /// Seconds per step.
    pub seconds_per_step: f64,
    /// Whether an MLflow call failed (the run then needs `quakelab sync`).
    pub unsynced: bool,
}

/// Runs `config` as a tracked pretraining run (module docs).
///
/// Refused: a resume point that is missing or incomplete ([`ResumePoint::locate`]), a run
/// whose config differs from `config` in a key that decides the training (an
/// [`Error::Config`] naming it), and a checkpoint already at or beyond `pfn.pretrain.steps`;
/// the run fails (recorded FAILED with the error) on a loss that is not finite.
pub fn pretrain(config: &PretrainConfig, options: &PretrainOptions) -> Result<PretrainReport> {
    config.check()?;
    let resume = options
        .resume
        .as_deref()
        .map(|path| resume_point(config, path))
        .transpose()?;
    let device = config.pfn.pretrain.device.burn()?.autodiff();
    let experiment = match config.tracking.experiment_name.as_str() {
        "" => config.name.as_str(),
        name => name,
    };
    let spec = RunSpec::new(experiment, config.to_toml()?, config.seed);
    let mlflow = Some(config.tracking.mlflow_uri.as_str()).filter(|uri| !uri.is_empty());
    let mut run = Run::start(Path::new(&config.tracking.results_dir), &spec, mlflow)?;
    info!(run = %run.dir().display(), "pretraining run started");
    let outcome = train(&mut run, config, resume.as_ref(), &device);
    if let Err(err) = &outcome
        && let Err(fail) = run.fail(&err.to_string())
    {
        tracing::error!(run = %run.dir().display(), "could not record the run's error: {fail}");
    }
    outcome
}

/// The checkpoint at `path`, checked against `config`.
fn resume_point(config: &PretrainConfig, path: &Path) -> Result<ResumePoint> {
    let point = ResumePoint::locate(path)?;
    let recorded = point.run_dir.join(crate::track::store::CONFIG_FILE);
    let text = std::fs::read_to_string(&recorded).map_err(|e| Error::io(&recorded, e))?;
    let before = PretrainConfig::parse(&text, &recorded.display().to_string())?;
    if let Some(key) = config.training_difference(&before)? {
        return Err(Error::config(
            key,
            format!(
                "differs from the run being resumed ({}): a resumed run trains the same \
                 network on the same tasks; start a new run instead",
                point.run_dir.display()
            ),
        ));
    }
    if point.step >= config.pfn.pretrain.steps {
        return Err(Error::config(
            "pfn.pretrain.steps",
            format!(
                "{} steps, but the checkpoint has done {} already",
                config.pfn.pretrain.steps, point.step
            ),
        ));
    }
    Ok(point)
}

/// The training of a started run.
fn train(
    run: &mut Run,
    config: &PretrainConfig,
    resume: Option<&ResumePoint>,
    device: &Device,
) -> Result<PretrainReport> {
    let settings = &config.pfn.pretrain;
    let prior = Prior::new(config.pfn.prior.clone())?;
    let architecture = config.pfn.model.architecture();
    let mut optimizer = optimizer(&config.pfn.optim);
    let (model, borders, start) = match resume {
        Some(point) => {
            let (model, borders, info) = PfnModel::read_checkpoint(&point.checkpoint, device)?;
            let bytes = std::fs::read(&point.state).map_err(|e| Error::io(&point.state, e))?;
            optimizer = optimizer
                .from_bytes(Bytes::from_bytes_vec(bytes))
                .map_err(|e| Error::format(&point.state, "optimiser state", e.to_string()))?;
            info!(step = info.steps, checkpoint = %point.checkpoint.display(), "resuming");
            (model, borders, point.step)
        }
        None => {
            let borders = prior_borders(&prior, config)?;
            let model = PfnModel::init(architecture.clone(), config.seed, device)?;
            (model, borders, 0)
        }
    };
    let model = model.map(&mut Renumber { next: 0 });
    let parameters = model.num_params();
    let loss = BarLoss::new(borders.clone())?;
    let mut params = vec![
        ("name".to_string(), config.name.clone()),
        ("parameters".to_string(), parameters.to_string()),
        ("start_step".to_string(), start.to_string()),
        ("device".to_string(), settings.device.name().to_string()),
    ];
    if let Some(point) = resume {
        params.push((
            "resumed_from".to_string(),
            point.checkpoint.display().to_string(),
        ));
    }
    run.log_params(&params)?;
    let run_dir = run.dir().to_path_buf();
    std::fs::create_dir_all(run_dir.join(state::CHECKPOINT_DIR))
        .map_err(|e| Error::io(run_dir.join(state::CHECKPOINT_DIR), e))?;
    let checkpoint = Checkpointer {
        run_dir: run_dir.clone(),
        borders,
        info: CheckpointInfo {
            name: config.name.clone(),
            prior: prior_description(config),
            steps: 0,
            seed: config.seed,
            commit: run.record().git_commit.clone(),
        },
    };
    let bar = crate::progress::bar(settings.steps - start, "pretraining");
    let mut pending = Vec::new();
    let mut curve = Vec::new();
    let mut window = Throughput::default();
    let mut total = Throughput::default();
    let mut skipped_tasks = 0;
    let model = std::thread::scope(|scope| -> Result<PfnModel> {
        let mut model = model;
        // The receiver lives in this closure, so an early return drops it and the drawing
        // thread's next send fails, ending it before the scope joins.
        let (sender, batches) = mpsc::sync_channel(PREFETCH_BATCHES);
        scope.spawn(|| {
            let sender = sender;
            for step in start..settings.steps {
                let max_features = settings.max_features(step, prior.config().features);
                let next = prior
                    .batch_within(config.seed, step, settings.batch_tasks, max_features)
                    .and_then(|batch| task_batch(&batch, step));
                let failed = next.is_err();
                if sender.send(next).is_err() || failed {
                    break;
                }
            }
        });
        for step in start..settings.steps {
            let began = Instant::now();
            let (tasks, skipped) = batches.recv().map_err(|_| {
                Error::Numerical(format!(
                    "pretraining step {step}: the prior stopped drawing"
                ))
            })??;
            skipped_tasks += skipped;
            let value = loss.mean_nll(model.forward(&tasks), &tasks)?;
            let train_loss = f64::from(value.clone().into_scalar::<f32>());
            if !train_loss.is_finite() {
                return Err(Error::Numerical(format!(
                    "pretraining step {step}: the loss is {train_loss}"
                )));
            }
            let rate = config.pfn.optim.schedule.at(step);
            let grads = GradientsParams::from_grads(value.backward(), &model);
            model = optimizer.step(rate, model, grads);
            let seconds = began.elapsed().as_secs_f64();
            let tokens = tasks.tasks()
                * tasks.rows()
                * (tasks.features().div_ceil(architecture.features_per_group) + 1);
            for t in [&mut window, &mut total] {
                t.add(tasks.tasks(), tokens, seconds);
            }
            let s = step as i64;
            pending.push(Metric::new("train_loss", train_loss, s));
            pending.push(Metric::new("learning_rate", rate, s));
            curve.push((step, train_loss, rate));
            bar.inc(1);
            bar.set_message(format!("loss {train_loss:.4}"));
            let done = step + 1;
            let log = done % settings.log_every == 0;
            if log {
                pending.extend(window.metrics(s));
                window = Throughput::default();
            }
            let save = done % settings.checkpoint_every == 0 || done == settings.steps;
            if log || save {
                run.log_metrics(&std::mem::take(&mut pending))?;
            }
            if save {
                checkpoint.write(run, &model, &optimizer, done)?;
            }
        }
        Ok(model)
    })?;
    bar.finish_and_clear();
    let final_path = run_dir.join(format!("{}.safetensors", config.name));
    model.write_checkpoint(
        &final_path,
        checkpoint.borders.clone(),
        &checkpoint.info(settings.steps),
    )?;
    run.log_artifact(&final_path, &format!("{}.safetensors", config.name))?;
    write_curve(run, &config.name, &curve)?;
    run.finish(RunStatus::Finished)?;
    Ok(PretrainReport {
        run_dir,
        model: final_path,
        start_step: start,
        steps: settings.steps,
        parameters,
        final_loss: curve.last().map_or(f64::NAN, |c| c.1),
        skipped_tasks,
        tasks_per_second: total.tasks as f64 / total.seconds,
        tokens_per_second: total.tokens as f64 / total.seconds,
        seconds_per_step: total.seconds / total.steps as f64,
        unsynced: run.is_unsynced(),
    })
}

/// AdamW with clipping by global norm, as `[pfn.optim]` says.
fn optimizer(optim: &OptimConfig) -> ModuleOptimizer {
    AdamWConfig::new()
        .with_beta_1(optim.beta1 as f32)
        .with_beta_2(optim.beta2 as f32)
        .with_epsilon(optim.epsilon as f32)
        .with_weight_decay(optim.weight_decay as f32)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(optim.clip_norm as f32)))
        .init()
}

/// The borders fitted on the standardised targets of `border_batches` prior batches from a
/// seed of their own (module docs).
fn prior_borders(prior: &Prior, config: &PretrainConfig) -> Result<Vec<f64>> {
    let seed = rng::stream(config.seed, "pfn.borders").random::<u64>();
    let mut samples = Vec::new();
    for b in 0..config.pfn.pretrain.border_batches {
        let batch = prior.batch(seed, b, config.pfn.pretrain.batch_tasks)?;
        let (tasks, _) = task_batch(&batch, b)?;
        samples.extend_from_slice(tasks.standardised_targets());
    }
    fit_borders(&samples, config.pfn.model.num_buckets)
}

/// The prior batch as one [`TaskBatch`] with the smallest of its tasks' splits, and the number
/// of tasks left out for constant context targets (module docs). Refused when every task is.
fn task_batch(batch: &PriorBatch, step: u64) -> Result<(TaskBatch, usize)> {
    let n_train = batch
        .tasks
        .iter()
        .map(|t| t.n_train())
        .min()
        .ok_or_else(|| Error::Numerical(format!("prior batch {step}: no task")))?;
    let (n_rows, n_features) = (batch.n_rows, batch.n_features);
    let mut x = Vec::with_capacity(batch.tasks.len() * n_rows * n_features);
    let mut y = Vec::with_capacity(batch.tasks.len() * n_rows);
    let mut kept = 0;
    for task in &batch.tasks {
        let context = &task.y()[..n_train];
        if context.iter().all(|&v| v == context[0]) {
            continue;
        }
        x.extend_from_slice(task.x());
        y.extend_from_slice(task.y());
        kept += 1;
    }
    if kept == 0 {
        return Err(Error::Numerical(format!(
            "prior batch {step}: the first {n_train} targets of every task are constant"
        )));
    }
    let tasks = TaskBatch::new(kept, n_rows, n_train, n_features, x, &y)?;
    Ok((tasks, batch.tasks.len() - kept))
}

/// The prior as a checkpoint describes it: the mixture weights and the task sizes.
fn prior_description(config: &PretrainConfig) -> String {
    let p = &config.pfn.prior;
    format!(
        "quakelab prior mixture: mlp {}, gp {}, seismic {}; rows {}-{}, features {}-{}",
        p.weights.mlp,
        p.weights.gp,
        p.weights.seismic,
        p.rows[0],
        p.rows[1],
        p.features[0],
        p.features[1]
    )
}

/// Writes a run's checkpoints.
struct Checkpointer {
    run_dir: PathBuf,
    borders: Vec<f64>,
    info: CheckpointInfo,
}

impl Checkpointer {
    fn info(&self, steps: u64) -> CheckpointInfo {
        CheckpointInfo {
            steps,
            ..self.info.clone()
        }
    }

    /// The network and optimiser after `done` steps, then `latest` (see [`state`]).
    fn write(
        &self,
        run: &mut Run,
        model: &PfnModel,
        optimizer: &ModuleOptimizer,
        done: u64,
    ) -> Result<()> {
        let checkpoint = state::checkpoint_path(&self.run_dir, done);
        model.write_checkpoint(&checkpoint, self.borders.clone(), &self.info(done))?;
        let state = state::state_path(&self.run_dir, done);
        let bytes = optimizer
            .into_bytes()
            .map_err(|e| Error::format(&state, "optimiser state", e.to_string()))?;
        state::write_atomic(&state, &bytes)?;
        state::write_latest(&self.run_dir, done)?;
        for path in [checkpoint, state] {
            let name = path
                .strip_prefix(&self.run_dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .map_err(|_| Error::format(&path, "path", "outside the run directory"))?;
            run.log_artifact(&path, &name)?;
        }
        Ok(())
    }
}

/// Tasks, tokens and seconds of some steps.
#[derive(Debug, Default)]
struct Throughput {
    steps: u64,
    tasks: usize,
    tokens: usize,
    seconds: f64,
}

impl Throughput {
    fn add(&mut self, tasks: usize, tokens: usize, seconds: f64) {
        self.steps += 1;
        self.tasks += tasks;
        self.tokens += tokens;
        self.seconds += seconds;
    }

    fn metrics(&self, step: i64) -> [Metric; 3] {
        [
            Metric::new("tasks_per_second", self.tasks as f64 / self.seconds, step),
            Metric::new("tokens_per_second", self.tokens as f64 / self.seconds, step),
            Metric::new("seconds_per_step", self.seconds / self.steps as f64, step),
        ]
    }
}

/// `train_loss.csv` (step, train_loss, learning_rate) and its figure.
fn write_curve(run: &mut Run, name: &str, curve: &[(u64, f64, f64)]) -> Result<()> {
    run.write_artifact("train_loss.csv", |w| {
        writeln!(w, "step,train_loss,learning_rate")?;
        for (step, loss, rate) in curve {
            writeln!(w, "{step},{loss},{rate}")?;
        }
        Ok(())
    })?;
    let figure = run.dir().join("train_loss.png");
    let points = curve.iter().map(|&(s, l, _)| (s as f64, l)).collect();
    crate::report::figure::metric_vs_axis(
        &figure,
        &format!("{name}: training loss"),
        "step",
        "bar-distribution NLL",
        &[("train_loss".to_string(), points)],
    )?;
    run.log_artifact(&figure, "train_loss.png")
}

/// Numbers the parameters 0, 1, … in the network's order, so that an optimiser state written
/// by one process names the same parameters in another.
struct Renumber {
    next: u64,
}

impl ModuleMapper for Renumber {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (_, value, mapper) = param.consume();
        let id = ParamId::from(self.next);
        self.next += 1;
        Param::from_mapped_value(id, value, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::pfn::prior::{PriorKind, PriorTask};

    fn task(y: Vec<f32>, n_train: usize) -> PriorTask {
        let x = (0..y.len()).map(|i| i as f32).collect();
        PriorTask::new(x, y, 1, n_train, PriorKind::Gp).unwrap()
    }

    #[test]
    fn a_batch_trains_with_its_smallest_split_and_counts_constant_contexts() {
        let batch = PriorBatch {
            n_rows: 5,
            n_features: 1,
            tasks: vec![
                task(vec![1.0, 2.0, 3.0, 4.0, 5.0], 4),
                // Constant over the batch's 3 context rows, though not over its own 4.
                task(vec![7.0, 7.0, 7.0, 8.0, 9.0], 4),
                task(vec![0.0, 2.0, 4.0, 6.0, 8.0], 3),
            ],
        };
        let (tasks, skipped) = task_batch(&batch, 0).unwrap();
        assert_eq!((tasks.tasks(), tasks.n_train(), skipped), (2, 3, 1));
        // Task 0 standardised on [1, 2, 3]: mean 2, population sd √(2/3).
        let sd = (2.0f64 / 3.0).sqrt();
        let expected: Vec<f32> = [(4.0 - 2.0) / sd, (5.0 - 2.0) / sd]
            .iter()
            .map(|&v| v as f32)
            .collect();
        assert_eq!(tasks.test_targets()[..2], expected[..]);
    }

    #[test]
    fn a_batch_whose_every_context_is_constant_is_refused() {
        let batch = PriorBatch {
            n_rows: 4,
            n_features: 1,
            tasks: vec![task(vec![2.0, 2.0, 3.0, 4.0], 2)],
        };
        let err = task_batch(&batch, 17).unwrap_err().to_string();
        assert!(
            err.contains("prior batch 17: the first 2 targets of every task are constant"),
            "{err}"
        );
    }
}
