//! VGG-12 (papers.md §B): four blocks of 3x3 convolutions, each block closed by a 2x2
//! max-pooling, then fully connected layers with dropout and a softmax output.
//!
//! ## Which twelve layers
//!
//! The paper derives VGG-12 from VGG-16 (13 convolutions in five blocks of 2/2/3/3/3, then three
//! fully connected layers, the last being the 1000-way output): it drops the fifth block and the
//! last fully connected layer, and adds dropout. VGG-16 less three convolutions and one fully
//! connected layer is 16 - 3 - 1 = 12 weight layers: ten convolutions (2/2/3/3) and **two fully
//! connected layers, the second of which is the 5-way output**. The paper's "each fully connected
//! layer has a dropout layer" is read as dropout *before* each of them:
//!
//! ```text
//! [conv3x3 + ReLU] x convs_per_block[b], max-pool 2x2      (b = 0..4, filters[b] channels)
//! flatten -> dropout -> FC(hidden) + ReLU -> dropout -> FC(n_classes) -> softmax
//! ```
//!
//! `hidden_layers` (default 1) sets how many `dropout -> FC(hidden) + ReLU` stages come before
//! the output; 2 is the other reading of the paper's text ("two fully connected layers to the
//! output layer"), which makes 13 weight layers with 2/2/3/3 convolutions. The weight layers
//! are `sum(convs_per_block) + hidden_layers + 1` ([`Vgg12Config::weight_layers`]).
//!
//! ## Initialisation
//!
//! Every weight is drawn from He's uniform distribution, `U(-sqrt(6 / fan_in), sqrt(6 /
//! fan_in))` (fan-in = in channels x 9 for a convolution, the input width for a fully
//! connected layer), every bias is zero, from the stream [`crate::rng::stream`]`(seed,
//! "classify.vgg12.init")` on the host, so the same seed gives the same network on every
//! backend and whatever else draws random numbers at the same time.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The number of 2x2 max-poolings, one per block: the image side must be a multiple of 2^4.
const POOLINGS: u32 = 4;

/// VGG-12's architecture. [`Default`] is the paper's: one channel, 480 x 480 maps, filters
/// 32/64/128/256, convolutions 2/2/3/3, one hidden fully connected layer of 256 units (the paper
/// gives no width), dropout 0.5, five classes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Vgg12Config {
    /// Channels of the input images (1 for a contour map).
    pub in_channels: usize,
    /// Side of the square input images, a multiple of 16 (four 2x2 poolings).
    pub image_size: usize,
    /// Filters of the convolutions of each block.
    pub filters: [usize; 4],
    /// Convolutions in each block.
    pub convs_per_block: [usize; 4],
    /// Width of each hidden fully connected layer.
    pub hidden: usize,
    /// Hidden fully connected layers before the output (see the module doc: 1 makes the twelve
    /// weight layers with 2/2/3/3 convolutions).
    pub hidden_layers: usize,
    /// Dropout probability before each fully connected layer, in [0, 1).
    pub dropout: f64,
    /// Output classes (5 in the paper).
    pub n_classes: usize,
}

impl Default for Vgg12Config {
    fn default() -> Self {
        Vgg12Config {
            in_channels: 1,
            image_size: 480,
            filters: [32, 64, 128, 256],
            convs_per_block: [2, 2, 3, 3],
            hidden: 256,
            hidden_layers: 1,
            dropout: 0.5,
            n_classes: 5,
        }
    }
}

impl Vgg12Config {
    /// Refuses a setting the network cannot be built with, naming its key
    /// (`classify.vgg12.KEY`).
    pub fn check(&self) -> Result<()> {
        let key = |name: &str| format!("classify.vgg12.{name}");
        if self.in_channels == 0 {
            return Err(Error::config(
                key("in_channels"),
                "must be at least 1, got 0",
            ));
        }
        let divisor = 2_usize.pow(POOLINGS);
        if self.image_size == 0 || !self.image_size.is_multiple_of(divisor) {
            return Err(Error::config(
                key("image_size"),
                format!(
                    "must be a positive multiple of {divisor} (four 2x2 max-poolings halve it \
                     four times), got {}",
                    self.image_size
                ),
            ));
        }
        if self.filters.contains(&0) {
            return Err(Error::config(
                key("filters"),
                format!(
                    "every block needs at least one filter, got {:?}",
                    self.filters
                ),
            ));
        }
        if self.convs_per_block.contains(&0) {
            return Err(Error::config(
                key("convs_per_block"),
                format!(
                    "every block needs at least one convolution, got {:?}",
                    self.convs_per_block
                ),
            ));
        }
        if self.hidden == 0 && self.hidden_layers > 0 {
            return Err(Error::config(
                key("hidden"),
                "a hidden fully connected layer needs at least one unit, got 0",
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::config(
                key("dropout"),
                format!("must be in [0, 1), got {}", self.dropout),
            ));
        }
        if self.n_classes < 2 {
            return Err(Error::config(
                key("n_classes"),
                format!(
                    "a classifier needs at least 2 classes, got {}",
                    self.n_classes
                ),
            ));
        }
        Ok(())
    }

    /// Convolutional plus fully connected layers: `sum(convs_per_block) + hidden_layers + 1`
    /// (12 for the default).
    pub fn weight_layers(&self) -> usize {
        self.convs_per_block.iter().sum::<usize>() + self.hidden_layers + 1
    }

    /// Values the convolutions hand to the first fully connected layer:
    /// `filters[3] · (image_size / 16)²`.
    pub fn flattened(&self) -> usize {
        let side = self.image_size / 2_usize.pow(POOLINGS);
        self.filters[3] * side * side
    }

    /// The input width of every fully connected layer, the output layer last.
    fn fc_inputs(&self) -> impl Iterator<Item = usize> {
        std::iter::once(self.flattened())
            .chain(std::iter::repeat_n(self.hidden, self.hidden_layers))
    }

    /// The `(in, out)` channels of every convolution, in order.
    fn conv_channels(&self) -> Vec<(usize, usize)> {
        let mut channels = Vec::new();
        let mut previous = self.in_channels;
        for (&filters, &convs) in self.filters.iter().zip(&self.convs_per_block) {
            for _ in 0..convs {
                channels.push((previous, filters));
                previous = filters;
            }
        }
        channels
    }
}

/// The trainable parameters of `config`'s network, in closed form: each 3x3 convolution from
/// `c_in` to `c_out` channels has `(9 c_in + 1) c_out`, each fully connected layer from `a` to
/// `b` units `(a + 1) b`, with `a = filters[3] · (image_size / 16)²` for the first.
pub fn parameter_count(config: &Vgg12Config) -> usize {
    let convs: usize = config
        .conv_channels()
        .iter()
        .map(|&(c_in, c_out)| (9 * c_in + 1) * c_out)
        .sum();
    let outputs = std::iter::repeat_n(config.hidden, config.hidden_layers)
        .chain(std::iter::once(config.n_classes));
    let fcs: usize = config
        .fc_inputs()
        .zip(outputs)
        .map(|(a, b)| (a + 1) * b)
        .sum();
    convs + fcs
}

/// The convolutions of one block (each followed by a ReLU) and its 2x2 max-pooling.
#[derive(Module, Debug)]
struct Block {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
}

/// VGG-12 as a burn module; [`Vgg12::forward`] maps `N x C x S x S` images to `N x n_classes`
/// logits.
#[derive(Module, Debug)]
pub struct Vgg12 {
    blocks: Vec<Block>,
    /// The hidden fully connected layers, then the output layer.
    fcs: Vec<Linear>,
    dropout: f64,
}

impl Vgg12 {
    /// A seeded network of `config`'s architecture on `device` (see the module doc for the
    /// initialisation); a bad config is refused as [`Vgg12Config::check`] says.
    pub fn init(config: &Vgg12Config, seed: u64, device: &Device) -> Result<Vgg12> {
        config.check()?;
        let mut rng = crate::rng::stream(seed, "classify.vgg12.init");
        let mut channels = config.conv_channels().into_iter();
        let blocks = config
            .convs_per_block
            .iter()
            .map(|&convs| Block {
                convs: channels
                    .by_ref()
                    .take(convs)
                    .map(|(c_in, c_out)| conv3x3(c_in, c_out, &mut rng, device))
                    .collect(),
                pool: MaxPool2dConfig::new([2, 2]).init(),
            })
            .collect();
        let outputs = std::iter::repeat_n(config.hidden, config.hidden_layers)
            .chain(std::iter::once(config.n_classes));
        let fcs = config
            .fc_inputs()
            .zip(outputs)
            .map(|(a, b)| linear(a, b, &mut rng, device))
            .collect();
        Ok(Vgg12 {
            blocks,
            fcs,
            dropout: config.dropout,
        })
    }

    /// Logits, `N x n_classes`, for `N x C x S x S` images, without dropout (inference).
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_with_dropout(images, None)
    }

    /// Logits with dropout drawn from `rng` when one is given (training): each unit entering a
    /// fully connected layer is kept with probability `1 - p` and scaled by `1 / (1 - p)`. The
    /// masks are drawn on the host, so training is reproducible on every backend.
    pub(crate) fn forward_with_dropout(
        &self,
        images: Tensor<4>,
        mut rng: Option<&mut ChaCha8Rng>,
    ) -> Tensor<2> {
        let mut x = images;
        for block in &self.blocks {
            for conv in &block.convs {
                x = relu(conv.forward(x));
            }
            x = block.pool.forward(x);
        }
        let mut x: Tensor<2> = x.flatten(1, 3);
        let last = self.fcs.len() - 1;
        for (i, fc) in self.fcs.iter().enumerate() {
            if let Some(rng) = rng.as_deref_mut() {
                x = dropout(x, self.dropout, rng);
            }
            x = fc.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
    }
}

/// Inverted dropout with a host-drawn mask.
fn dropout(x: Tensor<2>, p: f64, rng: &mut ChaCha8Rng) -> Tensor<2> {
    if p == 0.0 {
        return x;
    }
    let [rows, cols] = x.dims();
    let keep = (1.0 / (1.0 - p)) as f32;
    let mask: Vec<f32> = (0..rows * cols)
        .map(|_| if rng.random::<f64>() < p { 0.0 } else { keep })
        .collect();
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [rows, cols]), &x.device());
    x * mask
}

/// `n` values from He's uniform distribution for a layer of fan-in `fan_in`.
fn he_uniform(n: usize, fan_in: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let bound = (6.0 / fan_in as f64).sqrt();
    (0..n)
        .map(|_| rng.random_range(-bound..bound) as f32)
        .collect()
}

/// A 3x3 convolution with padding 1 (the side is kept), He-uniform weights and zero biases.
fn conv3x3(c_in: usize, c_out: usize, rng: &mut ChaCha8Rng, device: &Device) -> Conv2d {
    let weight = he_uniform(c_out * c_in * 9, c_in * 9, rng);
    Conv2d {
        weight: Param::from_data(TensorData::new(weight, [c_out, c_in, 3, 3]), device),
        bias: Some(Param::from_data(
            TensorData::new(vec![0.0_f32; c_out], [c_out]),
            device,
        )),
        stride: [1, 1],
        kernel_size: [3, 3],
        dilation: [1, 1],
        groups: 1,
        padding: PaddingConfig2d::Explicit(1, 1, 1, 1),
    }
}

/// A fully connected layer `x · W + b` with `W` `[a, b]`, He-uniform, and zero biases.
fn linear(a: usize, b: usize, rng: &mut ChaCha8Rng, device: &Device) -> Linear {
    let weight = he_uniform(a * b, a, rng);
    Linear {
        weight: Param::from_data(TensorData::new(weight, [a, b]), device),
        bias: Some(Param::from_data(
            TensorData::new(vec![0.0_f32; b], [b]),
            device,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Vgg12Config {
        Vgg12Config {
            in_channels: 1,
            image_size: 16,
            filters: [2, 2, 2, 2],
            convs_per_block: [1, 1, 1, 1],
            hidden: 4,
            hidden_layers: 1,
            dropout: 0.5,
            n_classes: 5,
        }
    }

    fn refused_key(config: Vgg12Config) -> String {
        match config.check() {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn the_default_has_twelve_weight_layers() {
        let config = Vgg12Config::default();
        assert!(config.check().is_ok());
        assert_eq!(config.weight_layers(), 2 + 2 + 3 + 3 + 2);
        assert_eq!(config.flattened(), 256 * 30 * 30);
    }

    #[test]
    fn the_parameter_count_matches_a_hand_count_and_the_module() {
        // Four 3x3 convolutions 1->2, 2->2, 2->2, 2->2: (9*1+1)*2 + 3 * (9*2+1)*2 = 20 + 114.
        // 16 / 16 = 1, so 2 values are flattened: FC 2->4 has (2+1)*4 = 12, output 4->5 has
        // (4+1)*5 = 25. Total 20 + 114 + 12 + 25 = 171.
        let config = small();
        assert_eq!(parameter_count(&config), 171);
        let device = crate::device::Device::Cpu.burn().unwrap();
        let model = Vgg12::init(&config, 1, &device).unwrap();
        assert_eq!(model.num_params(), 171);

        let paper = Vgg12Config::default();
        let model = Vgg12::init(
            &Vgg12Config {
                image_size: 32,
                ..paper
            },
            1,
            &device,
        )
        .unwrap();
        assert_eq!(
            model.num_params(),
            parameter_count(&Vgg12Config {
                image_size: 32,
                ..paper
            })
        );
    }

    #[test]
    fn the_output_is_one_row_of_class_logits_per_image() {
        let device = crate::device::Device::Cpu.burn().unwrap();
        let config = Vgg12Config {
            in_channels: 2,
            image_size: 32,
            hidden_layers: 2,
            ..small()
        };
        let model = Vgg12::init(&config, 3, &device).unwrap();
        let images = Tensor::<4>::ones([3, 2, 32, 32], &device);
        assert_eq!(model.forward(images).dims(), [3, 5]);
        assert_eq!(config.weight_layers(), 4 + 2 + 1);
    }

    #[test]
    fn the_same_seed_gives_the_same_network() {
        let device = crate::device::Device::Cpu.burn().unwrap();
        let images = Tensor::<4>::ones([1, 1, 16, 16], &device);
        let logits = |seed| {
            Vgg12::init(&small(), seed, &device)
                .unwrap()
                .forward(images.clone())
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(logits(4), logits(4));
        assert_ne!(logits(4), logits(5));
    }

    #[test]
    fn zero_input_channels_are_refused() {
        let key = refused_key(Vgg12Config {
            in_channels: 0,
            ..small()
        });
        assert_eq!(key, "classify.vgg12.in_channels");
    }

    #[test]
    fn an_image_size_four_poolings_do_not_divide_is_refused() {
        let config = Vgg12Config {
            image_size: 40,
            ..small()
        };
        assert_eq!(refused_key(config), "classify.vgg12.image_size");
        let message = config.check().unwrap_err().to_string();
        assert!(
            message.contains("multiple of 16") && message.contains("40"),
            "{message}"
        );
    }

    #[test]
    fn a_block_without_filters_is_refused() {
        let key = refused_key(Vgg12Config {
            filters: [2, 0, 2, 2],
            ..small()
        });
        assert_eq!(key, "classify.vgg12.filters");
    }

    #[test]
    fn a_block_without_convolutions_is_refused() {
        let key = refused_key(Vgg12Config {
            convs_per_block: [1, 1, 0, 1],
            ..small()
        });
        assert_eq!(key, "classify.vgg12.convs_per_block");
    }

    #[test]
    fn a_hidden_layer_without_units_is_refused() {
        let key = refused_key(Vgg12Config {
            hidden: 0,
            ..small()
        });
        assert_eq!(key, "classify.vgg12.hidden");
    }

    #[test]
    fn a_dropout_of_one_is_refused() {
        let key = refused_key(Vgg12Config {
            dropout: 1.0,
            ..small()
        });
        assert_eq!(key, "classify.vgg12.dropout");
    }

    #[test]
    fn a_single_class_is_refused() {
        let key = refused_key(Vgg12Config {
            n_classes: 1,
            ..small()
        });
        assert_eq!(key, "classify.vgg12.n_classes");
    }
}
