//! Throughput of the ViT-B/16 forward pass on the CPU (burn-flex): a batch of 8 images of
//! 3 x 224 x 224 through `google/vit-base-patch16-224-in21k`'s architecture with seeded random
//! weights (the arithmetic does not depend on the values), reported in images per second.
//!
//! `tools/bench-vit.sh` runs this and Hugging Face transformers on the same batch
//! (`tools/bench_vit_reference.py`) and prints the ratio.
//!
//! Measured with `tools/bench-vit.sh` on the idle 2-core AVX2 development machine: quakelab
//! 2.69 images/s (2.98 s per batch), transformers 2.9.0 4.36 images/s (1.83 s), a ratio of
//! 0.62; peak RSS 415 MiB for `quakelab encode vit --model random` on 8 images (random
//! initialisation included) against 1,096 MiB for transformers. A per-block profile (batch 8)
//! put the four matrix products at about 75 % of the time (burn-flex's GEMM, the `gemm` crate:
//! 50 to 90 GFLOP/s here, PyTorch's reaches 176), attention at about 12 % and the bias + GELU
//! pass at about 10 %; attention and bias + GELU rewritten as host kernels (faer products, a
//! vectorisable exp, rayon) measured no faster, so the forward stays in burn's operations.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use quakelab::encode::vit::{Vit, VitConfig, VitOutput};
use quakelab::encode::{BatchShape, ImageBatch};
use rand::Rng;

const BATCH: usize = 8;

fn bench_vit(c: &mut Criterion) {
    let device = quakelab::device::Device::Cpu
        .burn()
        .expect("the CPU backend");
    let config = VitConfig::base_patch16_224();
    let side = config.image_size;
    let vit = Vit::random(config, 0, &device).expect("a random ViT-B/16");
    let mut rng = quakelab::rng::stream(0, "bench.vit.pixels");
    let pixels: Vec<f32> = (0..BATCH * 3 * side * side)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let shape = BatchShape {
        n: BATCH,
        channels: 3,
        height: side,
        width: side,
    };
    let batch = ImageBatch::new(pixels, shape).expect("a batch");
    let mut group = c.benchmark_group("vit");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("b16_224_mean_batch8", |b| {
        b.iter(|| {
            black_box(
                vit.encode(black_box(&batch), VitOutput::Mean)
                    .expect("encodes"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_vit);
criterion_main!(benches);
