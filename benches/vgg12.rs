//! Training throughput of VGG-12 on the CPU (burn-flex with autodiff): one Adam step (forward,
//! backward, update) on a batch of 16 one-channel images, at the paper's 480 x 480 and at a
//! reduced 64 x 64, reported in images per second. The architecture is the paper's (filters
//! 32/64/128/256, convolutions 2/2/3/3, one hidden layer of 256 units, dropout 0.5, 5 classes).
//!
//! `tools/bench-vgg12.sh` runs this and the equivalent PyTorch model
//! (`tools/bench_vgg12_reference.py`) on the same batch and prints the ratio. A step at 480 x 480
//! takes tens of seconds on a small machine, so each size is sampled the fewest times criterion
//! allows (10), one step per sample.
//!
//! Measured with `tools/bench-vgg12.sh` on the 2-core AVX2 development machine, shared with
//! other builds (load average about 5): at 64 x 64 quakelab 20.1 images/s (0.80 s per step),
//! PyTorch 2.9.0 42.2 images/s (0.38 s), a ratio of 0.48; at 480 x 480 quakelab 0.30 images/s
//! (54 s per step), PyTorch 0.74 images/s (21.7 s), a ratio of 0.40.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use quakelab::classify::{Trainer, Vgg12Config};
use quakelab::device::Device;
use quakelab::encode::{BatchShape, ImageBatch};
use rand::Rng;

const BATCH: usize = 16;

fn bench_vgg12(c: &mut Criterion) {
    let mut group = c.benchmark_group("vgg12");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(BATCH as u64));
    for side in [64, 480] {
        let config = Vgg12Config {
            image_size: side,
            ..Vgg12Config::default()
        };
        let mut trainer = Trainer::new(&config, 1e-4, vec![1.0; config.n_classes], 0, Device::Cpu)
            .expect("a VGG-12 trainer");
        let mut rng = quakelab::rng::stream(0, "bench.vgg12.pixels");
        let pixels: Vec<f32> = (0..BATCH * side * side)
            .map(|_| rng.random_range(0.0..1.0))
            .collect();
        let shape = BatchShape {
            n: BATCH,
            channels: 1,
            height: side,
            width: side,
        };
        let batch = ImageBatch::new(pixels, shape).expect("a batch");
        let labels: Vec<usize> = (0..BATCH).map(|i| i % config.n_classes).collect();
        let indices: Vec<usize> = (0..BATCH).collect();
        group.bench_function(format!("train_step_{side}_batch16"), |b| {
            b.iter(|| {
                black_box(
                    trainer
                        .step(black_box(&batch), &labels, &indices)
                        .expect("a training step"),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_vgg12);
criterion_main!(benches);
