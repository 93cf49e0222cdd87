"""The reference for benches/vit.rs: Hugging Face transformers' ViTModel on the same batch.

`ViTModel(ViTConfig())` (ViT-B/16 at 224, randomly initialised, with pooler) in eval mode under
`torch.inference_mode()`, float32, torch threads = the machine's cores, on a batch of 8 images of
3 x 224 x 224 uniform in [-1, 1]; one warm-up pass, then REPEATS timed passes. Prints images per
second (the median pass) and the process's peak resident memory.

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 transformers==4.57.6
numpy. Run: venv/bin/python tools/bench_vit_reference.py (tools/bench-vit.sh runs it).
"""

import os
import resource
import statistics
import time

import torch
from transformers import ViTConfig, ViTModel

BATCH = 8
REPEATS = 5


def main():
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    model = ViTModel(ViTConfig()).eval()
    pixels = torch.rand(BATCH, 3, 224, 224) * 2.0 - 1.0
    times = []
    with torch.inference_mode():
        model(pixel_values=pixels)
        for _ in range(REPEATS):
            start = time.perf_counter()
            out = model(pixel_values=pixels).last_hidden_state.mean(1)
            times.append(time.perf_counter() - start)
    assert out.shape == (BATCH, 768)
    seconds = statistics.median(times)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"transformers {torch.__version__} ViT-B/16: {BATCH / seconds:.2f} images/s "
        f"({seconds:.2f} s per batch of {BATCH}, {torch.get_num_threads()} threads), "
        f"peak RSS {peak_mib:.0f} MiB"
    )


if __name__ == "__main__":
    main()
