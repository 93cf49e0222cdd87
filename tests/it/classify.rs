//! VGG-12's augmentation (never a vertical flip) and training (a tiny separable set learnt,
//! seeded reproducibility, early stopping keeping the best epoch, refusals).

use quakelab::Error;
use quakelab::classify::{
    AugmentSettings, ClassWeights, TrainSettings, Vgg12Config, augment, train,
};
use quakelab::device::Device;
use quakelab::encode::{BatchShape, ImageBatch};

// ---------------------------------------------------------------- augmentation

fn one_channel(data: Vec<f32>, n: usize, side: usize) -> ImageBatch<'static> {
    ImageBatch::new(
        data,
        BatchShape {
            n,
            channels: 1,
            height: side,
            width: side,
        },
    )
    .unwrap()
}

/// A 6 x 6 image whose value at (row, col) is `0.1 + 0.02 · (6 row + col)`: every pixel differs.
fn ramp() -> Vec<f32> {
    (0..36).map(|i| 0.1 + 0.02 * i as f32).collect()
}

#[test]
fn a_flipped_copy_is_its_source_with_each_row_reversed() {
    let source = ramp();
    let images = one_channel(source.clone(), 1, 6);
    let settings = AugmentSettings {
        copies: 40,
        brightness: 0.0,
        contrast: 0.0,
        hflip: true,
    };
    let mut rng = quakelab::rng::stream(3, "test.augment");
    let out = augment(&images, &[2], &settings, &mut rng).unwrap();
    let mirrored: Vec<f32> = source
        .chunks(6)
        .flat_map(|row| row.iter().rev().copied())
        .collect();
    let (mut same, mut flipped) = (0, 0);
    for i in 1..out.images.n() {
        let copy = out.images.image(i).unwrap();
        if copy == source.as_slice() {
            same += 1;
        } else {
            assert_eq!(
                copy,
                mirrored.as_slice(),
                "copy {i} is neither the source nor its mirror"
            );
            flipped += 1;
        }
    }
    // 40 fair coin flips: both outcomes appear (each is missing with probability 2^-40).
    assert!(
        same > 0 && flipped > 0,
        "{same} unflipped, {flipped} flipped"
    );
}

#[test]
fn a_bright_top_row_stays_on_top_in_every_copy() {
    // Row 0 is bright (0.9), the others dim (0.1 to 0.3, varying by column): a vertical flip or
    // a rotation would move the bright row off the top.
    let side = 8;
    let mut source = vec![0.0_f32; side * side];
    for (i, v) in source.iter_mut().enumerate() {
        let (row, col) = (i / side, i % side);
        *v = if row == 0 {
            0.9
        } else {
            0.1 + 0.2 * col as f32 / (side - 1) as f32
        };
    }
    let images = one_channel([source.clone(), source].concat(), 2, side);
    let settings = AugmentSettings {
        copies: 50,
        ..AugmentSettings::default()
    };
    let mut rng = quakelab::rng::stream(9, "test.augment");
    let out = augment(&images, &[1, 3], &settings, &mut rng).unwrap();
    assert_eq!(out.images.n(), 2 * 51);
    for i in 0..out.images.n() {
        let copy = out.images.image(i).unwrap();
        let top_min = copy[..side].iter().copied().fold(f32::INFINITY, f32::min);
        let rest_max = copy[side..].iter().copied().fold(0.0, f32::max);
        assert!(
            top_min > rest_max,
            "copy {i}: the top row (min {top_min}) is not the brightest (others up to {rest_max})"
        );
    }
}

#[test]
fn copies_are_clamped_to_the_unit_range_and_name_their_source() {
    // Black and white pixels shifted by up to ±0.5 with the contrast left alone: unclamped,
    // 0 and 1 would become b and 1 + b, one of them outside [0, 1] whenever b != 0.
    let first: Vec<f32> = (0..16).map(|i| (i % 2) as f32).collect();
    let second: Vec<f32> = (0..16).map(|i| 0.5 + 0.03 * i as f32).collect();
    let third = vec![0.5_f32; 16];
    let images = one_channel([first, second, third].concat(), 3, 4);
    let settings = AugmentSettings {
        copies: 2,
        brightness: 0.5,
        contrast: 0.0,
        hflip: true,
    };
    let mut rng = quakelab::rng::stream(5, "test.augment");
    let out = augment(&images, &[4, 0, 2], &settings, &mut rng).unwrap();
    assert_eq!(out.sources, vec![0, 0, 0, 1, 1, 1, 2, 2, 2]);
    assert_eq!(out.labels, vec![4, 4, 4, 0, 0, 0, 2, 2, 2]);
    for source in 0..3 {
        assert_eq!(out.images.image(3 * source), images.image(source));
    }
    assert!(out.images.data().iter().all(|v| (0.0..=1.0).contains(v)));
    for i in [1, 2] {
        let copy = out.images.image(i).unwrap();
        let low = copy.iter().copied().fold(f32::INFINITY, f32::min);
        let high = copy.iter().copied().fold(0.0, f32::max);
        let b = if low > 0.0 { low } else { high - 1.0 };
        assert!(b != 0.0, "copy {i} was not shifted: {copy:?}");
        // b > 0: black became b, white was clamped at 1; b < 0: white became 1 + b, black
        // was clamped at 0.
        assert!(
            (b > 0.0 && high == 1.0 && low == b) || (b < 0.0 && low == 0.0 && high == 1.0 + b),
            "copy {i}: {copy:?}"
        );
        assert!(copy.iter().all(|&v| v == low || v == high));
    }

    let mut again = quakelab::rng::stream(5, "test.augment");
    let repeat = augment(&images, &[4, 0, 2], &settings, &mut again).unwrap();
    assert_eq!(repeat.images, out.images);
    let mut other = quakelab::rng::stream(6, "test.augment");
    let different = augment(&images, &[4, 0, 2], &settings, &mut other).unwrap();
    assert_ne!(different.images, out.images);
}

// ---------------------------------------------------------------- training

const SIDE: usize = 32;

fn tiny_config() -> Vgg12Config {
    Vgg12Config {
        in_channels: 1,
        image_size: SIDE,
        filters: [4, 8, 8, 8],
        convs_per_block: [1, 1, 1, 1],
        hidden: 16,
        hidden_layers: 1,
        dropout: 0.0,
        n_classes: 4,
    }
}

/// `n` images whose class is the bright quadrant (0 top-left, 1 top-right, 2 bottom-left,
/// 3 bottom-right), classes in turn, on a seeded speckled background.
fn quadrants(n: usize, seed: u64) -> (ImageBatch<'static>, Vec<usize>) {
    use rand::Rng;
    let mut rng = quakelab::rng::stream(seed, "test.quadrants");
    let half = SIDE / 2;
    let mut data = Vec::with_capacity(n * SIDE * SIDE);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 4;
        for row in 0..SIDE {
            for col in 0..SIDE {
                let quadrant = 2 * usize::from(row >= half) + usize::from(col >= half);
                let base = if quadrant == class { 0.8 } else { 0.2 };
                data.push(base + rng.random_range(-0.1..0.1_f32));
            }
        }
        labels.push(class);
    }
    (one_channel(data, n, SIDE), labels)
}

fn settings(epochs: usize, seed: u64) -> TrainSettings {
    TrainSettings {
        epochs,
        batch_size: 4,
        learning_rate: 3e-3,
        patience: 0,
        class_weights: ClassWeights::None,
        seed,
    }
}

#[test]
fn a_tiny_model_learns_which_quadrant_is_bright() {
    let (images, labels) = quadrants(20, 1);
    let trained = train(
        (&images, &labels),
        None,
        &tiny_config(),
        &settings(40, 7),
        Device::Cpu,
    )
    .unwrap();
    assert_eq!(trained.curves.len(), 40);
    let first = trained.curves[0].train_loss;
    let last = trained.curves[39].train_loss;
    // Chance for 4 classes is ln 4 = 1.39; a network that learns the set ends far below it.
    assert!(first > 1.0, "first epoch loss {first}");
    assert!(last < 0.1, "last epoch loss {last}");
    let predictions = trained.predict(&images, 8).unwrap();
    let right = predictions
        .iter()
        .zip(&labels)
        .filter(|((class, _), label)| class == *label)
        .count();
    assert_eq!(right, 20, "training accuracy {right}/20");
    for (class, probabilities) in &predictions {
        let sum: f32 = probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{probabilities:?}");
        assert!(probabilities.iter().all(|&p| p <= probabilities[*class]));
    }
    // Fresh images of the same rule are classified too: the rule was learnt, not the pixels.
    let (fresh, fresh_labels) = quadrants(8, 2);
    let fresh_right = trained
        .predict(&fresh, 8)
        .unwrap()
        .iter()
        .zip(&fresh_labels)
        .filter(|((class, _), label)| class == *label)
        .count();
    assert_eq!(fresh_right, 8);
}

#[test]
fn one_seed_gives_one_model_and_another_seed_another() {
    let (images, labels) = quadrants(8, 3);
    let config = Vgg12Config {
        dropout: 0.3,
        ..tiny_config()
    };
    let run = |seed| {
        train(
            (&images, &labels),
            None,
            &config,
            &settings(2, seed),
            Device::Cpu,
        )
        .unwrap()
        .predict(&images, 3)
        .unwrap()
    };
    let first = run(11);
    assert_eq!(first, run(11));
    assert_ne!(first, run(12));
}

#[test]
fn early_stopping_keeps_the_best_epoch() {
    // The validation labels are rotated by one class, so learning the rule makes the validation
    // loss rise: training must stop early and keep an early epoch.
    let (images, labels) = quadrants(12, 4);
    let (v_images, v_labels) = quadrants(8, 5);
    let v_wrong: Vec<usize> = v_labels.iter().map(|l| (l + 1) % 4).collect();
    let patience = 3;
    let settings = TrainSettings {
        patience,
        ..settings(30, 8)
    };
    let config = tiny_config();
    let trained = train(
        (&images, &labels),
        Some((&v_images, &v_wrong)),
        &config,
        &settings,
        Device::Cpu,
    )
    .unwrap();
    assert!(trained.stopped_early);
    assert_eq!(trained.curves.len(), trained.best_epoch + patience);
    let losses: Vec<f64> = trained
        .curves
        .iter()
        .map(|r| r.validation_loss.unwrap())
        .collect();
    let best = losses[trained.best_epoch - 1];
    assert!(losses.iter().all(|&l| l >= best), "{losses:?}");
    assert!(losses[trained.best_epoch..].iter().all(|&l| l > best));

    // The same seed without validation, stopped at the best epoch by hand, follows the same
    // path (validation draws no random number), so its weights are the ones kept.
    let by_hand = train(
        (&images, &labels),
        None,
        &config,
        &TrainSettings {
            epochs: trained.best_epoch,
            ..settings
        },
        Device::Cpu,
    )
    .unwrap();
    assert_eq!(
        trained.predict(&v_images, 4).unwrap(),
        by_hand.predict(&v_images, 4).unwrap()
    );
}

fn refusal(
    images: &ImageBatch,
    labels: &[usize],
    config: &Vgg12Config,
    settings: &TrainSettings,
) -> String {
    match train((images, labels), None, config, settings, Device::Cpu) {
        Err(e @ Error::Numerical(_)) => e.to_string(),
        Err(other) => panic!("expected a numerical error, got {other}"),
        Ok(_) => panic!("expected a refusal"),
    }
}

#[test]
fn a_class_beyond_the_network_is_refused() {
    let (images, mut labels) = quadrants(4, 1);
    labels[2] = 4;
    let message = refusal(&images, &labels, &tiny_config(), &settings(1, 1));
    assert_eq!(
        message,
        "VGG-12 training split: image 2 has class 4, but the network has 4 classes (0 to 3)"
    );
}

#[test]
fn images_of_another_size_than_the_network_are_refused() {
    let (images, labels) = quadrants(4, 1);
    let config = Vgg12Config {
        image_size: 64,
        ..tiny_config()
    };
    let message = refusal(&images, &labels, &config, &settings(1, 1));
    assert!(
        message.contains("1 x 32 x 32") && message.contains("1 x 64 x 64"),
        "{message}"
    );
}

#[test]
fn labels_of_another_length_than_the_images_are_refused() {
    let (images, labels) = quadrants(4, 1);
    let message = refusal(&images, &labels[..3], &tiny_config(), &settings(1, 1));
    assert_eq!(message, "VGG-12 training split: 3 labels for 4 images");
}

#[test]
fn an_empty_training_split_is_refused() {
    let images = one_channel(Vec::new(), 0, SIDE);
    let message = refusal(&images, &[], &tiny_config(), &settings(1, 1));
    assert_eq!(message, "VGG-12 training: the training split has no image");
}

#[test]
fn a_non_finite_pixel_is_refused() {
    let (images, labels) = quadrants(4, 1);
    let mut data = images.data().to_vec();
    data[SIDE * SIDE * 3 + 5] = f32::NAN;
    let images = one_channel(data, 4, SIDE);
    let message = refusal(&images, &labels, &tiny_config(), &settings(1, 1));
    assert!(
        message.contains("image 3 has a non-finite pixel"),
        "{message}"
    );
}

#[test]
fn a_diverging_loss_is_refused() {
    let (images, labels) = quadrants(8, 1);
    let settings = TrainSettings {
        learning_rate: 1e30,
        ..settings(3, 1)
    };
    let message = refusal(&images, &labels, &tiny_config(), &settings);
    assert!(message.contains("diverged in epoch"), "{message}");
}
