//! The pretraining file: the network's name and seed, its size (`[pfn.model]`), the task prior
//! (`[pfn.prior]`), the optimiser (`[pfn.optim]`), the loop (`[pfn.pretrain]`) and where the
//! run is recorded (`[tracking]`, as in experiment files).
//!
//! ```toml
//! name = "quakelab-pfn-s"
//! seed = 20
//!
//! [pfn.model]
//! emsize = 96
//! nhead = 4
//! nlayers = 4
//! mlp_hidden = 192
//!
//! [pfn.optim]
//! clip_norm = 1.0
//! schedule = { peak = 1e-3, warmup_steps = 1000, total_steps = 30000, final_ratio = 0.01 }
//!
//! [pfn.pretrain]
//! steps = 30000
//! batch_tasks = 16
//! checkpoint_every = 1000
//! ```
//!
//! Every key but `name` has a default; unknown keys are refused, and [`PretrainConfig::check`]
//! names the key of a value it refuses.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::decode::pfn::prior::PriorConfig;
use crate::decode::pfn::schedule::LearningRateSchedule;
use crate::decode::tabpfn::architecture::Architecture;
use crate::device::Device;
use crate::experiment::config::TrackingSection;
use crate::{Error, Result, ensure_config};

/// A pretraining file (module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    /// The network's own name (e.g. `quakelab-pfn-s`): it names the run's experiment directory
    /// and the final `NAME.safetensors`, and never carries the name TabPFN.
    pub name: String,
    /// The seed of everything random in the run: the initial weights, the border samples and
    /// the tasks of every step.
    #[serde(default)]
    pub seed: u64,
    /// The `[pfn.*]` sections.
    #[serde(default)]
    pub pfn: PfnSections,
    /// Where the run is recorded.
    #[serde(default)]
    pub tracking: TrackingSection,
}

/// The `[pfn.*]` sections of a pretraining file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PfnSections {
    /// The network's size.
    pub model: ModelConfig,
    /// The task prior.
    pub prior: PriorConfig,
    /// The optimiser.
    pub optim: OptimConfig,
    /// The loop.
    pub pretrain: LoopConfig,
}

/// `[pfn.model]`: the sizes of the network (a TabPFN v2 [`Architecture`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Token width E, a multiple of `nhead` and of 4 (default 96).
    pub emsize: usize,
    /// Attention heads (default 4).
    pub nhead: usize,
    /// Encoder layers (default 4).
    pub nlayers: usize,
    /// Hidden width of every MLP and of the decoder (default 192).
    pub mlp_hidden: usize,
    /// Features per token, 1 or 2 (default 2).
    pub features_per_group: usize,
    /// Buckets of the bar distribution, at least 2 (default 1000).
    pub num_buckets: usize,
    /// The seed of the fixed feature-group embeddings (the checkpoint's `config.seed`,
    /// default 0).
    pub embedding_seed: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            emsize: 96,
            nhead: 4,
            nlayers: 4,
            mlp_hidden: 192,
            features_per_group: 2,
            num_buckets: 1000,
            embedding_seed: 0,
        }
    }
}

impl ModelConfig {
    /// The network's architecture.
    pub fn architecture(&self) -> Architecture {
        Architecture {
            emsize: self.emsize,
            nhead: self.nhead,
            nlayers: self.nlayers,
            mlp_hidden: self.mlp_hidden,
            features_per_group: self.features_per_group,
            num_buckets: self.num_buckets,
            seed: self.embedding_seed,
        }
    }

    fn check(&self) -> Result<()> {
        ensure_config!(
            self.nhead >= 1,
            "pfn.model.nhead",
            "must be at least 1, got 0"
        );
        ensure_config!(
            self.emsize >= 4
                && self.emsize.is_multiple_of(self.nhead)
                && self.emsize.is_multiple_of(4),
            "pfn.model.emsize",
            "must be a positive multiple of nhead ({}) and of 4, got {}",
            self.nhead,
            self.emsize
        );
        ensure_config!(
            self.nlayers >= 1,
            "pfn.model.nlayers",
            "must be at least 1, got 0"
        );
        ensure_config!(
            self.mlp_hidden >= 1,
            "pfn.model.mlp_hidden",
            "must be at least 1, got 0"
        );
        ensure_config!(
            (1..=2).contains(&self.features_per_group),
            "pfn.model.features_per_group",
            "must be 1 or 2, got {}",
            self.features_per_group
        );
        ensure_config!(
            self.num_buckets >= 2,
            "pfn.model.num_buckets",
            "must be at least 2, got {}",
            self.num_buckets
        );
        Ok(())
    }
}

/// `[pfn.optim]`: AdamW (decoupled weight decay) with gradient clipping by global norm, at the
/// rate of a [`LearningRateSchedule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Decoupled weight decay (default 0, as TabPFN's pretraining).
    pub weight_decay: f64,
    /// The first moment's decay β₁ (default 0.9).
    pub beta1: f64,
    /// The second moment's decay β₂ (default 0.999).
    pub beta2: f64,
    /// The denominator's ε (default 1e-8).
    pub epsilon: f64,
    /// The largest global L2 norm of the gradient; larger gradients are scaled down to it
    /// (default 1).
    pub clip_norm: f64,
    /// The learning rate per step.
    pub schedule: LearningRateSchedule,
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig {
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            clip_norm: 1.0,
            schedule: LearningRateSchedule::default(),
        }
    }
}

impl OptimConfig {
    fn check(&self) -> Result<()> {
        ensure_config!(
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            "pfn.optim.weight_decay",
            "must be a number ≥ 0, got {}",
            self.weight_decay
        );
        for (key, beta) in [
            ("pfn.optim.beta1", self.beta1),
            ("pfn.optim.beta2", self.beta2),
        ] {
            ensure_config!(
                (0.0..1.0).contains(&beta),
                key,
                "must lie in [0, 1), got {beta}"
            );
        }
        ensure_config!(
            self.epsilon.is_finite() && self.epsilon > 0.0,
            "pfn.optim.epsilon",
            "must be a positive number, got {}",
            self.epsilon
        );
        ensure_config!(
            self.clip_norm.is_finite() && self.clip_norm > 0.0,
            "pfn.optim.clip_norm",
            "must be a positive number, got {}",
            self.clip_norm
        );
        self.schedule.check("pfn.optim.schedule")
    }
}

/// `[pfn.pretrain]`: the loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopConfig {
    /// Optimiser steps in all, counting those of a resumed run (default 30,000).
    pub steps: u64,
    /// Tasks per step, one prior batch of one shared size (default 16).
    pub batch_tasks: usize,
    /// A checkpoint every this many steps, and one at the end (default 1,000).
    pub checkpoint_every: u64,
    /// Prior batches (of `batch_tasks` tasks) whose standardised targets fit the borders
    /// (default 64).
    pub border_batches: u64,
    /// Throughput is recorded every this many steps (default 50).
    pub log_every: u64,
    /// Where the network trains: `cpu` (default), `cuda` or `vulkan`.
    pub device: Device,
    /// A curriculum over the number of features (default 0, none): during the first this many
    /// steps the most features a batch may draw grows from `pfn.prior.features`' minimum to
    /// its maximum ([`LoopConfig::max_features`]). A network learns to read its context on
    /// tasks of one or two features in a few hundred steps, and on ten-feature tasks far later.
    pub feature_ramp_steps: u64,
}

impl Default for LoopConfig {
    fn default() -> Self {
        LoopConfig {
            steps: 30_000,
            batch_tasks: 16,
            checkpoint_every: 1_000,
            border_batches: 64,
            log_every: 50,
            device: Device::Cpu,
            feature_ramp_steps: 0,
        }
    }
}

impl LoopConfig {
    fn check(&self) -> Result<()> {
        for (key, value) in [
            ("pfn.pretrain.steps", self.steps),
            ("pfn.pretrain.batch_tasks", self.batch_tasks as u64),
            ("pfn.pretrain.checkpoint_every", self.checkpoint_every),
            ("pfn.pretrain.border_batches", self.border_batches),
            ("pfn.pretrain.log_every", self.log_every),
        ] {
            ensure_config!(value >= 1, key, "must be at least 1, got {value}");
        }
        Ok(())
    }

    /// The most features a batch of step `step` may draw, for the prior's feature range
    /// `[lo, hi]`: `lo + ⌊(hi − lo) · step / R⌋` while `step < R` (R = `feature_ramp_steps`),
    /// `hi` from step R on and without a ramp.
    pub fn max_features(&self, step: u64, [lo, hi]: [usize; 2]) -> usize {
        let ramp = self.feature_ramp_steps;
        if step >= ramp {
            return hi;
        }
        let span = hi.saturating_sub(lo) as u64;
        lo + (span * step / ramp) as usize
    }
}

impl PretrainConfig {
    /// Reads and checks the pretraining file `path`.
    pub fn load(path: &Path) -> Result<PretrainConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        PretrainConfig::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a pretraining file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<PretrainConfig> {
        let config: PretrainConfig =
            toml::from_str(text).map_err(|e| Error::config("pfn", format!("{origin}: {e}")))?;
        config.check()?;
        Ok(config)
    }

    /// The file's text, as a run records it (`config.toml`) and a resumed run compares it.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self)
            .map_err(|e| Error::config("pfn", format!("cannot write the config: {e}")))
    }

    /// Refuses invalid settings, naming the key: a name that is empty, carries "TabPFN" (in
    /// any case) or is not one path component; model sizes that do not fit together; optimiser
    /// settings out of range; counts of the loop that are 0; and the prior's own refusals.
    pub fn check(&self) -> Result<()> {
        let name = self.name.trim();
        ensure_config!(
            !name.is_empty() && !name.to_lowercase().contains("tabpfn"),
            "name",
            "`{}`: a pretrained network needs a name of its own, which never carries the name \
             TabPFN",
            self.name
        );
        ensure_config!(
            name == self.name
                && !name.contains(['/', '\\'])
                && name != "."
                && name != ".."
                && !name.starts_with('.'),
            "name",
            "`{}` names a directory and a file: no slash, no surrounding spaces, no leading dot",
            self.name
        );
        self.pfn.model.check()?;
        self.pfn.prior.check()?;
        self.pfn.optim.check()?;
        self.pfn.pretrain.check()
    }

    /// The first key (`seed`, `pfn.model.emsize`, …) whose value differs between this file and
    /// the one a run was started with (`other`), among those that decide the tasks and the
    /// updates of every step: the seed, `[pfn.model]`, `[pfn.prior]`, `[pfn.optim]`,
    /// `pfn.pretrain.batch_tasks` and `pfn.pretrain.border_batches`. `None` when they agree.
    pub fn training_difference(&self, other: &PretrainConfig) -> Result<Option<String>> {
        let fixed = |c: &PretrainConfig| -> Result<toml::Value> {
            let mut table = toml::Table::new();
            table.insert("seed".into(), toml::Value::Integer(c.seed as i64));
            table.insert("pfn.model".into(), section(&c.pfn.model)?);
            table.insert("pfn.prior".into(), section(&c.pfn.prior)?);
            table.insert("pfn.optim".into(), section(&c.pfn.optim)?);
            table.insert(
                "pfn.pretrain.batch_tasks".into(),
                toml::Value::Integer(c.pfn.pretrain.batch_tasks as i64),
            );
            table.insert(
                "pfn.pretrain.border_batches".into(),
                toml::Value::Integer(c.pfn.pretrain.border_batches as i64),
            );
            table.insert(
                "pfn.pretrain.feature_ramp_steps".into(),
                toml::Value::Integer(c.pfn.pretrain.feature_ramp_steps as i64),
            );
            Ok(toml::Value::Table(table))
        };
        Ok(first_difference("", &fixed(self)?, &fixed(other)?))
    }
}

/// A section as a TOML value, to compare two files key by key.
fn section<T: Serialize>(value: &T) -> Result<toml::Value> {
    toml::Value::try_from(value)
        .map_err(|e| Error::config("pfn", format!("cannot write the config: {e}")))
}

/// The dotted key of the first value that differs between `a` and `b` (tables compared key by
/// key in order, other values as a whole).
fn first_difference(prefix: &str, a: &toml::Value, b: &toml::Value) -> Option<String> {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match (a, b) {
        (toml::Value::Table(a), toml::Value::Table(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .find_map(|key| match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => first_difference(&join(key), x, y),
                    _ => Some(join(key)),
                })
        }
        _ if a == b => None,
        _ => Some(prefix.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> &'static str {
        "name = \"quakelab-pfn-test\"\n"
    }

    #[test]
    fn a_minimal_file_takes_the_defaults() {
        let config = PretrainConfig::parse(minimal(), "test").unwrap();
        assert_eq!(config.seed, 0);
        assert_eq!(config.pfn.model, ModelConfig::default());
        assert_eq!(config.pfn.pretrain.device, Device::Cpu);
        assert_eq!(config.tracking.results_dir, "results");
    }

    #[test]
    fn the_feature_ramp_grows_linearly_to_the_maximum() {
        let mut settings = LoopConfig::default();
        // No ramp: the maximum from step 0.
        assert_eq!(settings.max_features(0, [1, 10]), 10);
        settings.feature_ramp_steps = 90;
        // 1 + ⌊9 s / 90⌋ = 1 + ⌊s / 10⌋, then 10 from step 90 on.
        for (step, max) in [
            (0, 1),
            (9, 1),
            (10, 2),
            (45, 5),
            (89, 9),
            (90, 10),
            (1000, 10),
        ] {
            assert_eq!(settings.max_features(step, [1, 10]), max, "step {step}");
        }
        // An empty range stays put.
        assert_eq!(settings.max_features(3, [4, 4]), 4);
        let text = format!("{}[pfn.pretrain]\nfeature_ramp_steps = 90\n", minimal());
        let config = PretrainConfig::parse(&text, "test").unwrap();
        assert_eq!(config.pfn.pretrain.feature_ramp_steps, 90);
        // A resumed run must keep the curriculum.
        let plain = PretrainConfig::parse(minimal(), "test").unwrap();
        assert_eq!(
            config.training_difference(&plain).unwrap().as_deref(),
            Some("pfn.pretrain.feature_ramp_steps")
        );
    }

    #[test]
    fn a_name_carrying_tabpfn_is_refused() {
        let err = PretrainConfig::parse("name = \"my-TabPFN-small\"\n", "test")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`name`") && err.contains("never carries the name TabPFN"),
            "{err}"
        );
    }

    #[test]
    fn checkpoint_every_zero_is_refused() {
        let text = format!("{}[pfn.pretrain]\ncheckpoint_every = 0\n", minimal());
        let err = PretrainConfig::parse(&text, "test")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pfn.pretrain.checkpoint_every") && err.contains("got 0"),
            "{err}"
        );
    }

    #[test]
    fn batch_tasks_zero_is_refused() {
        let text = format!("{}[pfn.pretrain]\nbatch_tasks = 0\n", minimal());
        let err = PretrainConfig::parse(&text, "test")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pfn.pretrain.batch_tasks") && err.contains("got 0"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let text = format!("{}[pfn.model]\nwidth = 3\n", minimal());
        let err = PretrainConfig::parse(&text, "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `width`"), "{err}");
    }

    #[test]
    fn the_first_differing_training_key_is_named() {
        let a = PretrainConfig::parse(minimal(), "a").unwrap();
        let mut b = a.clone();
        b.pfn.pretrain.steps = 7;
        b.tracking.results_dir = "elsewhere".into();
        assert_eq!(a.training_difference(&b).unwrap(), None);
        b.pfn.model.nlayers = 2;
        b.pfn.optim.schedule.peak = 0.5;
        assert_eq!(
            a.training_difference(&b).unwrap().as_deref(),
            Some("pfn.model.nlayers")
        );
    }

    fn refusal(section: &str) -> String {
        let text = format!("{}{section}", minimal());
        PretrainConfig::parse(&text, "test")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_name_that_is_not_one_path_component_is_refused() {
        let err = PretrainConfig::parse("name = \"runs/pfn\"\n", "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`name`") && err.contains("no slash"), "{err}");
    }

    #[test]
    fn an_emsize_that_is_not_a_multiple_of_the_heads_is_refused() {
        let err = refusal("[pfn.model]\nemsize = 20\nnhead = 3\n");
        assert!(
            err.contains("pfn.model.emsize") && err.contains("got 20"),
            "{err}"
        );
    }

    #[test]
    fn three_features_per_group_are_refused() {
        let err = refusal("[pfn.model]\nfeatures_per_group = 3\n");
        assert!(
            err.contains("pfn.model.features_per_group") && err.contains("got 3"),
            "{err}"
        );
    }

    #[test]
    fn one_bucket_is_refused() {
        let err = refusal("[pfn.model]\nnum_buckets = 1\n");
        assert!(err.contains("pfn.model.num_buckets"), "{err}");
    }

    #[test]
    fn zero_layers_are_refused() {
        let err = refusal("[pfn.model]\nnlayers = 0\n");
        assert!(err.contains("pfn.model.nlayers"), "{err}");
    }

    #[test]
    fn a_beta_of_one_is_refused() {
        let err = refusal("[pfn.optim]\nbeta2 = 1.0\n");
        assert!(
            err.contains("pfn.optim.beta2") && err.contains("[0, 1)"),
            "{err}"
        );
    }

    #[test]
    fn a_clip_norm_of_zero_is_refused() {
        let err = refusal("[pfn.optim]\nclip_norm = 0.0\n");
        assert!(err.contains("pfn.optim.clip_norm"), "{err}");
    }

    #[test]
    fn a_negative_weight_decay_is_refused() {
        let err = refusal("[pfn.optim]\nweight_decay = -0.1\n");
        assert!(err.contains("pfn.optim.weight_decay"), "{err}");
    }

    #[test]
    fn zero_steps_are_refused() {
        let err = refusal("[pfn.pretrain]\nsteps = 0\n");
        assert!(err.contains("pfn.pretrain.steps"), "{err}");
    }

    #[test]
    fn a_schedule_refusal_names_its_key_under_pfn_optim() {
        let err = refusal("[pfn.optim.schedule]\npeak = 0.0\n");
        assert!(err.contains("pfn.optim.schedule.peak"), "{err}");
    }
}
