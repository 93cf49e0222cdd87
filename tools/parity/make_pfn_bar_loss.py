"""Bar-distribution loss parity fixture (tests/fixtures/pfn_bar_loss/cases.json) from tabpfn
2.2.1's own `FullSupportBarDistribution.forward` (the negative log-likelihood quakelab's PFN
pretraining minimises) and `get_bucket_limits` (equal-mass borders from target samples).

- `loss`: 7 float32 borders (6 buckets of unequal widths), 12 rows of float32 logits and 12
  float32 targets: inside inner buckets, exactly on inner borders, inside both outer buckets,
  exactly on the end borders and beyond them (the half-normal tails), and `nll`, the package's
  per-target loss computed in float64 (the package's code, float64 arithmetic).
- `borders`: 40 float32 samples (a skewed draw) and `get_bucket_limits(8, ys=samples)` computed
  in float64: 9 equal-mass borders (the sample count is a multiple of 8, so the package drops
  none).

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 tabpfn==2.2.1
safetensors numpy. Run: TABPFN_DISABLE_TELEMETRY=1 venv/bin/python tools/parity/make_pfn_bar_loss.py
"""

import json
import pathlib

import numpy as np
import torch
from tabpfn.architectures.base.bar_distribution import (
    FullSupportBarDistribution,
    get_bucket_limits,
)

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/pfn_bar_loss/cases.json"


def f32(values):
    return [float(v) for v in np.asarray(values, dtype=np.float32)]


def main():
    rng = np.random.default_rng(20)
    borders = np.array([-2.5, -1.0, -0.3, 0.2, 0.9, 1.7, 3.1], dtype=np.float32)
    targets = np.array(
        [-0.6, 0.5, 1.2, -0.3, 0.9, -1.8, -2.5, -4.0, 2.4, 3.1, 5.5, 0.0],
        dtype=np.float32,
    )
    logits = (rng.normal(size=(len(targets), len(borders) - 1)) * 2).astype(np.float32)
    criterion = FullSupportBarDistribution(torch.tensor(borders, dtype=torch.float64))
    nll = criterion(torch.tensor(logits, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64))

    samples = (rng.gamma(2.0, size=40) - 2.0).astype(np.float32)
    limits = get_bucket_limits(8, ys=torch.tensor(samples, dtype=torch.float64))

    case = {
        "loss": {
            "borders": f32(borders),
            "logits": [f32(row) for row in logits],
            "targets": f32(targets),
            "nll": [float(v) for v in nll.detach().numpy()],
        },
        "borders": {
            "samples": f32(samples),
            "num_buckets": 8,
            "borders": [float(v) for v in limits.numpy()],
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(case, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
