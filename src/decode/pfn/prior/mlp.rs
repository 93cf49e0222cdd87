//! The MLP prior: a random structural causal model (Hollmann et al. 2023, TabPFN v1, §4 and
//! appendix C.2).
//!
//! A task draws a graph and pushes its rows through it:
//!
//! 1. `depth` hidden layers of `width` nodes each, above a layer of `width` causes; both
//!    uniform in their ranges (the width raised where needed so that the graph has
//!    `n_features + 1` nodes to read).
//! 2. Causes: independent per row and node, standard normal, or uniform on [−√3, √3] with
//!    probability `uniform_causes` (both of unit variance).
//! 3. Each layer: `h_l = a_l(W_l h_{l−1} + b_l) + σ_l ε`, with an activation `a_l` drawn from
//!    `activations`, a noise level `σ_l` log-uniform in `noise`, and ε standard normal per row
//!    and node. The weights are N(0, 1/fan-in) after each edge is dropped with a task-wide
//!    probability uniform in `edge_dropout` (every node keeps at least one edge); the biases
//!    are N(0, 0.5²).
//! 4. The target is read from a node chosen uniformly among those that vary over the rows
//!    (a constant target would teach nothing), the features from `n_features` other nodes
//!    chosen uniformly, in random order. So some features are causes of the target (earlier
//!    layers), some its effects (later layers) and some unrelated to it.
//!
//! Scale: the causes have unit variance and the 1/fan-in weights keep every layer of order
//! one (tanh and sine are bounded; relu and identity roughly preserve the variance).

use rand::Rng;
use rand::seq::index;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::{
    PriorKind, PriorTask, check_count_range, check_probability, check_range, draw_n_train,
    log_uniform, task_from_f64, uniform,
};
use crate::{Error, Result};

/// An activation function of a layer of [`MlpPrior`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// tanh(v).
    Tanh,
    /// max(v, 0).
    Relu,
    /// sin(v).
    Sine,
    /// v.
    Identity,
    /// |v|.
    Abs,
}

impl Activation {
    fn apply(self, v: f64) -> f64 {
        match self {
            Activation::Tanh => v.tanh(),
            Activation::Relu => v.max(0.0),
            Activation::Sine => v.sin(),
            Activation::Identity => v,
            Activation::Abs => v.abs(),
        }
    }
}

/// Settings of [`MlpPrior`] (`[pfn.prior.mlp]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpPriorConfig {
    /// Hidden layers above the causes, `[min, max]`, drawn uniformly (default `[1, 5]`; min ≥ 1).
    pub depth: [usize; 2],
    /// Nodes per layer, `[min, max]`, drawn uniformly (default `[4, 32]`; min ≥ 1). Raised to
    /// ⌈(n_features + 1)/(depth + 1)⌉ where smaller, so there are nodes enough to read.
    pub width: [usize; 2],
    /// The activations a layer draws from, uniformly (default all: tanh, relu, sine,
    /// identity, abs); not empty.
    pub activations: Vec<Activation>,
    /// Each layer's noise standard deviation, log-uniform in `[min, max]` (default
    /// `[0.001, 0.3]`; 0 < min ≤ max ≤ 10).
    pub noise: [f64; 2],
    /// The task-wide probability that an edge is dropped, uniform in `[min, max]` (default
    /// `[0.0, 0.7]`; within [0, 1)).
    pub edge_dropout: [f64; 2],
    /// The probability that a task's causes are uniform rather than normal (default 0.5).
    pub uniform_causes: f64,
}

impl Default for MlpPriorConfig {
    fn default() -> Self {
        MlpPriorConfig {
            depth: [1, 5],
            width: [4, 32],
            activations: vec![
                Activation::Tanh,
                Activation::Relu,
                Activation::Sine,
                Activation::Identity,
                Activation::Abs,
            ],
            noise: [0.001, 0.3],
            edge_dropout: [0.0, 0.7],
            uniform_causes: 0.5,
        }
    }
}

impl MlpPriorConfig {
    /// Refuses invalid settings, naming the key under `prefix` (`pfn.prior.mlp.noise`, …).
    pub fn check(&self, prefix: &str) -> Result<()> {
        check_count_range(&format!("{prefix}.depth"), self.depth, 1)?;
        check_count_range(&format!("{prefix}.width"), self.width, 1)?;
        if self.activations.is_empty() {
            return Err(Error::config(
                format!("{prefix}.activations"),
                "no activation to draw from: name at least one of tanh, relu, sine, identity, abs",
            ));
        }
        check_range(
            &format!("{prefix}.noise"),
            self.noise,
            f64::MIN_POSITIVE,
            10.0,
        )?;
        check_range(
            &format!("{prefix}.edge_dropout"),
            self.edge_dropout,
            0.0,
            0.99,
        )?;
        check_probability(&format!("{prefix}.uniform_causes"), self.uniform_causes)
    }
}

/// The structural-causal-model prior; see the module docs.
#[derive(Debug, Clone)]
pub struct MlpPrior {
    config: MlpPriorConfig,
}

impl MlpPrior {
    /// The prior of (checked) `config`.
    pub fn new(config: MlpPriorConfig) -> MlpPrior {
        MlpPrior { config }
    }

    /// A task of `n_rows` rows (≥ 2) and `n_features` features (≥ 1) drawn from `rng`.
    pub fn sample(
        &self,
        n_rows: usize,
        n_features: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<PriorTask> {
        let c = &self.config;
        let n_train = draw_n_train(n_rows, rng);
        let depth = rng.random_range(c.depth[0]..=c.depth[1]);
        let width = rng
            .random_range(c.width[0]..=c.width[1])
            .max((n_features + 1).div_ceil(depth + 1));
        let uniform_causes = rng.random::<f64>() < c.uniform_causes;
        let dropout = uniform(c.edge_dropout, rng);

        // layers[l][r * width + k]: node k of layer l in row r; layer 0 holds the causes.
        let mut layers: Vec<Vec<f64>> = Vec::with_capacity(depth + 1);
        let causes = (0..n_rows * width)
            .map(|_| {
                if uniform_causes {
                    (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt()
                } else {
                    rng.sample(StandardNormal)
                }
            })
            .collect();
        layers.push(causes);
        for _ in 0..depth {
            let activation = c.activations[rng.random_range(0..c.activations.len())];
            let noise = log_uniform(c.noise, rng);
            let weights = draw_weights(width, dropout, rng);
            let biases: Vec<f64> = (0..width)
                .map(|_| 0.5 * rng.sample::<f64, _>(StandardNormal))
                .collect();
            let below = &layers[layers.len() - 1];
            let mut layer = Vec::with_capacity(n_rows * width);
            for r in 0..n_rows {
                let inputs = &below[r * width..(r + 1) * width];
                for k in 0..width {
                    let pre: f64 = weights[k * width..(k + 1) * width]
                        .iter()
                        .zip(inputs)
                        .map(|(w, v)| w * v)
                        .sum::<f64>()
                        + biases[k];
                    let eps: f64 = rng.sample(StandardNormal);
                    layer.push(activation.apply(pre) + noise * eps);
                }
            }
            layers.push(layer);
        }

        let n_nodes = (depth + 1) * width;
        let node = |id: usize, r: usize| layers[id / width][r * width + id % width];
        let varying: Vec<usize> = (0..n_nodes)
            .filter(|&id| (1..n_rows).any(|r| node(id, r) != node(id, 0)))
            .collect();
        // The causes vary (continuous draws over at least two rows), so `varying` is not empty.
        let target = varying[rng.random_range(0..varying.len())];
        let others: Vec<usize> = (0..n_nodes).filter(|&id| id != target).collect();
        let chosen: Vec<usize> = index::sample(rng, others.len(), n_features)
            .into_iter()
            .map(|i| others[i])
            .collect();
        let x: Vec<f64> = (0..n_rows)
            .flat_map(|r| chosen.iter().map(move |&id| (id, r)))
            .map(|(id, r)| node(id, r))
            .collect();
        let y: Vec<f64> = (0..n_rows).map(|r| node(target, r)).collect();
        task_from_f64(&x, &y, n_features, n_train, PriorKind::Mlp)
    }
}

/// A `width × width` weight matrix (row k: the edges into node k), each edge kept with
/// probability `1 − dropout` (at least one per node), N(0, 1/kept) on the kept edges.
fn draw_weights(width: usize, dropout: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut weights = vec![0.0; width * width];
    for k in 0..width {
        let mut kept: Vec<usize> = (0..width)
            .filter(|_| rng.random::<f64>() >= dropout)
            .collect();
        if kept.is_empty() {
            kept.push(rng.random_range(0..width));
        }
        let scale = 1.0 / (kept.len() as f64).sqrt();
        for j in kept {
            weights[k * width + j] = scale * rng.sample::<f64, _>(StandardNormal);
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn the_target_varies_and_the_graph_has_nodes_enough_for_many_features() {
        // One hidden layer of one node above one cause: the width is raised to ⌈21/2⌉ = 11.
        let prior = MlpPrior::new(MlpPriorConfig {
            depth: [1, 1],
            width: [1, 1],
            ..MlpPriorConfig::default()
        });
        for seed in 0..20 {
            let task = prior
                .sample(50, 20, &mut ChaCha8Rng::seed_from_u64(seed))
                .unwrap();
            assert_eq!((task.n_rows(), task.n_features()), (50, 20));
            assert!(task.y().iter().any(|&v| v != task.y()[0]), "seed {seed}");
        }
    }

    #[test]
    fn each_activation_is_its_function() {
        let cases = [
            (Activation::Tanh, -0.5f64.tanh()),
            (Activation::Relu, 0.0),
            (Activation::Sine, -0.5f64.sin()),
            (Activation::Identity, -0.5),
            (Activation::Abs, 0.5),
        ];
        for (activation, expected) in cases {
            assert_eq!(activation.apply(-0.5), expected, "{activation:?}");
        }
    }

    #[test]
    fn an_identity_network_without_noise_is_linear_in_its_causes() {
        // With identity activations and (nearly) no noise, every node is an affine function of
        // the causes, so y is an affine function of any features that are all causes; here
        // one hidden layer above one cause: all nodes are affine in that single cause, so the
        // target is an exact affine function of the first feature.
        let prior = MlpPrior::new(MlpPriorConfig {
            depth: [1, 1],
            width: [1, 1],
            activations: vec![Activation::Identity],
            noise: [1e-12, 1e-12],
            edge_dropout: [0.0, 0.0],
            uniform_causes: 0.0,
        });
        let task = prior
            .sample(30, 1, &mut ChaCha8Rng::seed_from_u64(5))
            .unwrap();
        let x: Vec<f64> = (0..30).map(|r| f64::from(task.value(r, 0))).collect();
        let y: Vec<f64> = task.y().iter().map(|&v| f64::from(v)).collect();
        // The slope through the rows of smallest and largest x, well apart.
        let by_x = |a: &usize, b: &usize| x[*a].total_cmp(&x[*b]);
        let lo = (0..30).min_by(by_x).unwrap();
        let hi = (0..30).max_by(by_x).unwrap();
        let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
        for r in 0..30 {
            let predicted = y[lo] + slope * (x[r] - x[lo]);
            assert!(
                (predicted - y[r]).abs() < 1e-4 * (1.0 + y[r].abs()),
                "row {r}"
            );
        }
    }
}
