"""The reference for benches/tabpfn.rs: the official tabpfn 2.2.1 TabPFNRegressor on the same
random-weight full-size model and the same data.

`save PATH` builds the official v2 regressor architecture with the package's own classes
(`ModelConfig()` defaults: emsize 192, 6 heads, 12 layers, MLP 768, features_per_group 2, seed 0;
5000 buckets, `max_num_classes` 0) with PyTorch's default initialisation after
`torch.manual_seed(0)`, and 5001 evenly spaced criterion borders on [-3, 3], and saves it in the
official checkpoint format, `torch.save({"state_dict": ..., "config": asdict(config)})` with the
criterion's `borders` and `losses_per_bucket` under `criterion.` (as
`tabpfn.model_loading.save_tabpfn_model` writes it), so that quakelab loads the same file.

`time PATH [CONFIG ...]` loads it into `TabPFNRegressor(model_path=PATH, device="cpu",
ignore_pretraining_limits=True)` and times `predict` (which runs the whole forward pass: with the
default `fit_mode="fit_preprocessors"`, `fit` only fits the preprocessing) on 1,000 train x 200
test rows x 50 features (standard normal features, a noisy linear target, numpy seed 0), torch
threads = the machine's cores, float32. Each CONFIG runs in a fresh process so that its peak
resident memory is its own:
- `deterministic` (the default): n_estimators=1, softmax_temperature=1.0, no feature transform,
  no fingerprint feature, no feature shift, no target transform (the parity recipe); one
  warm-up prediction, then REPEATS timed ones (median reported);
- `defaults4`, `defaults8`: the package's default inference configuration (quantile+SVD and
  power pipelines, fingerprint, shuffle, safepower targets on half the members, temperature 0.9)
  with 4 and 8 estimators; one timed prediction each.
Prints, per configuration, seconds per prediction, seconds per estimator (one forward each),
the fit time and the process's peak RSS.

`csv FOLDER` writes the same data as `train.csv` and `test.csv` (columns x0..x49, y) for
`quakelab decode`.

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 tabpfn==2.2.1
safetensors numpy psutil. Run: TABPFN_DISABLE_TELEMETRY=1 venv/bin/python
tools/bench_tabpfn_reference.py save tabpfn.ckpt && ... time tabpfn.ckpt
(tools/bench-tabpfn.sh runs both).
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict

N_TRAIN, N_TEST, N_FEATURES = 1000, 200, 50
N_BUCKETS = 5000
REPEATS = 3
CONFIGS = ("deterministic", "defaults4", "defaults8")

DETERMINISTIC = {
    "PREPROCESS_TRANSFORMS": [
        {
            "name": "none",
            "categorical_name": "none",
            "append_original": False,
            "subsample_features": -1,
            "global_transformer_name": None,
        }
    ],
    "FINGERPRINT_FEATURE": False,
    "FEATURE_SHIFT_METHOD": None,
    "REGRESSION_Y_PREPROCESS_TRANSFORMS": [None],
}


def save(path):
    import torch
    from tabpfn.architectures.base import get_architecture
    from tabpfn.architectures.base.bar_distribution import FullSupportBarDistribution
    from tabpfn.architectures.base.config import ModelConfig

    torch.manual_seed(0)
    config = ModelConfig(max_num_classes=0, num_buckets=N_BUCKETS)
    model = get_architecture(config, n_out=N_BUCKETS, cache_trainset_representation=False)
    criterion = FullSupportBarDistribution(torch.linspace(-3.0, 3.0, N_BUCKETS + 1))
    state_dict = dict(model.state_dict())
    state_dict.update({f"criterion.{k}": v for k, v in criterion.state_dict().items()})
    torch.save({"state_dict": state_dict, "config": asdict(config)}, path)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {path}: {os.path.getsize(path)} bytes, {n_params} parameters")


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N_TRAIN + N_TEST, N_FEATURES))
    y = x @ rng.standard_normal(N_FEATURES) + 0.5 * rng.standard_normal(N_TRAIN + N_TEST)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:]


def write_csv(folder):
    import numpy as np

    x_train, y_train, x_test = data()
    header = ",".join([f"x{j}" for j in range(N_FEATURES)] + ["y"])
    # The test rows' targets are not known to the model; a column of zeros fills the place.
    for name, x, y in (("train", x_train, y_train), ("test", x_test, np.zeros(N_TEST))):
        rows = np.column_stack([x, y])
        np.savetxt(f"{folder}/{name}.csv", rows, delimiter=",", header=header, comments="", fmt="%.17g")


def run_one(path, config):
    import torch
    from tabpfn import TabPFNRegressor

    torch.set_num_threads(os.cpu_count())
    if config == "deterministic":
        kwargs = {"n_estimators": 1, "softmax_temperature": 1.0, "inference_config": DETERMINISTIC}
        warmups, repeats = 1, REPEATS
    else:
        kwargs = {"n_estimators": int(config.removeprefix("defaults"))}
        warmups, repeats = 0, 1
    x_train, y_train, x_test = data()
    regressor = TabPFNRegressor(
        model_path=path, device="cpu", ignore_pretraining_limits=True, **kwargs
    )
    start = time.perf_counter()
    regressor.fit(x_train, y_train)
    fit_s = time.perf_counter() - start
    for _ in range(warmups):
        regressor.predict(x_test)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pred = regressor.predict(x_test)
        times.append(time.perf_counter() - start)
    assert pred.shape == (N_TEST,)
    print(
        json.dumps(
            {
                "config": config,
                "n_estimators": regressor.n_estimators,
                "fit_s": fit_s,
                "predict_s": statistics.median(times),
                "times_s": times,
                "threads": torch.get_num_threads(),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def time_all(path, configs):
    import tabpfn
    import torch

    for config in configs:
        if config not in CONFIGS:
            sys.exit(f"unknown configuration {config!r}; one of {', '.join(CONFIGS)}")
        out = subprocess.run(
            [sys.executable, __file__, "_run", path, config],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        per_forward = r["predict_s"] / r["n_estimators"]
        print(
            f"tabpfn {tabpfn.__version__} (torch {torch.__version__}, CPU, {r['threads']} threads) "
            f"{config}: {r['predict_s']:.2f} s per prediction "
            f"({r['n_estimators']} estimator(s), {per_forward:.2f} s per forward; "
            f"runs {', '.join(f'{t:.2f}' for t in r['times_s'])} s), fit {r['fit_s']:.2f} s, "
            f"{N_TRAIN} train x {N_TEST} test x {N_FEATURES} features, "
            f"peak RSS {r['peak_rss_mib']:.0f} MiB"
        )


def main():
    usage = f"usage: {sys.argv[0]} save PATH | time PATH [{' '.join(CONFIGS)}] | csv FOLDER"
    if len(sys.argv) < 3:
        sys.exit(usage)
    command, path = sys.argv[1], sys.argv[2]
    if command == "save":
        save(path)
    elif command == "time":
        time_all(path, sys.argv[3:] or ["deterministic"])
    elif command == "csv":
        write_csv(path)
    elif command == "_run":
        run_one(path, sys.argv[3])
    else:
        sys.exit(usage)


if __name__ == "__main__":
    main()
