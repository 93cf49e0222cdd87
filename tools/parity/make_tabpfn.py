"""TabPFN v2 parity fixtures (tests/fixtures/tabpfn/): a small random regressor built with the
official package's own classes, its checkpoint in both formats, and what the package computes
with it in the deterministic configuration of the spec (part B.6).

The model: `tabpfn.architectures.base` (tabpfn 2.2.1) in a small config, emsize 32, 2 layers,
4 heads (d_k 8), nhid_factor 4 (MLP and decoder width 128), features_per_group 2, 100 buckets,
seed 0. (emsize 32 rather than 64 keeps both checkpoint files and the references under 600 kB;
the subspace embedding is then 8 wide, so the data has 7 features: 4 groups after the pad column,
32 values of `randn`, a multiple of 16 as with the official width 48.) Every parameter is
redrawn from a normal law (weights with standard deviation 1/sqrt(fan-in), biases 0.3), so
that no tensor is at its initialisation (the package zero-initialises the output projections)
and attention is neither uniform nor saturated. `criterion.borders` is a sorted normal sample
spread over about [-4, 4].

Files:
- `model.ckpt`: `torch.save({"state_dict": ..., "config": ...})` exactly as
  `tabpfn.model_loading.save_tabpfn_model` writes it (the model's state dict plus the bar
  distribution's under `criterion.`, and `asdict(config)`);
- `model.safetensors`: the same tensors, and the config JSON-encoded under the metadata key
  `config` (the layout of Prior Labs' `convert_checkpoint_to_safetensors.py`);
- `x_train.npy` (40 x 7), `y_train.npy` (40), `x_test.npy` (12 x 7), float64: the raw data
  (NaN in two train cells and one test cell of column 1, and a test NaN in column 5);
- `model_x.npy` (52 x 7, float32): the rows the transformer was given (train rows first, after
  the package's preprocessing, which here only casts) and `model_y.npy` (40, float32), the
  standardised targets it was given;
- `logits.npy` (12 x 100, float32): the transformer's raw output for the test rows (a forward
  hook on the model);
- `layer_input.npy` (52 x 5 x 32) and `layer_0.npy`, `layer_1.npy`: the embedded input
  (features then the target token) and each encoder layer's output, float32, for debugging;
- `expected.json`: `mean` and `median` from `predict(output_type="full")`, `y_mean` and
  `y_std` (the package's y standardisation) and the config dict;
- `randn_seed0.npy`: `torch.manual_seed(0); torch.randn(64 * 48)`, and `randn_seed7.npy`:
  `torch.manual_seed(7); torch.randn(1000)` (1000 is not a multiple of 16: the last 16 values
  come from fresh uniforms), float32. The script also prints the CPU capability torch used
  (the AVX2 kernel's Cephes log/sincos decide the last bits).

The regressor: `TabPFNRegressor(model_path="model.ckpt", device="cpu", n_estimators=1,
softmax_temperature=1.0, ignore_pretraining_limits=True, inference_precision=torch.float32,
fit_mode="fit_preprocessors", inference_config={"PREPROCESS_TRANSFORMS": [{"name": "none",
"categorical_name": "none", "append_original": False, "subsample_features": -1,
"global_transformer_name": None}], "FINGERPRINT_FEATURE": False, "FEATURE_SHIFT_METHOD": None,
"REGRESSION_Y_PREPROCESS_TRANSFORMS": [None]})`. float32 is what the Rust model computes in and
what the seeded embeddings are drawn in (a float64 run draws float64 `randn`).

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 tabpfn==2.2.1
safetensors numpy. Run: TABPFN_DISABLE_TELEMETRY=1 venv/bin/python tools/parity/make_tabpfn.py
"""

import json
import os
import pathlib
from collections import OrderedDict
from dataclasses import asdict

import numpy as np
import torch
from safetensors.torch import save_file

os.environ.setdefault("TABPFN_DISABLE_TELEMETRY", "1")

from tabpfn import TabPFNRegressor  # noqa: E402
from tabpfn.architectures import base  # noqa: E402
from tabpfn.model_loading import get_loss_criterion, get_n_out  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tabpfn"

CONFIG = dict(
    max_num_classes=0,
    num_buckets=100,
    emsize=32,
    nhead=4,
    nlayers=2,
    nhid_factor=4,
    features_per_group=2,
    seed=0,
)
N_TRAIN, N_TEST, N_FEATURES = 40, 12, 7


def save(name, array, dtype):
    np.save(OUT / name, np.ascontiguousarray(np.asarray(array, dtype=dtype)))


def randn_fixtures():
    print("torch CPU capability:", torch.backends.cpu.get_cpu_capability())
    torch.manual_seed(0)
    save("randn_seed0.npy", torch.randn(64 * 48).numpy(), np.float32)
    torch.manual_seed(7)
    save("randn_seed7.npy", torch.randn(1000).numpy(), np.float32)


def build_checkpoint():
    config, unused = base.parse_config(dict(CONFIG))
    assert not unused, unused
    criterion = get_loss_criterion(config)
    model = base.get_architecture(
        config, n_out=get_n_out(config, criterion), cache_trainset_representation=False
    )
    gen = torch.Generator().manual_seed(16)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            else:
                # Fan-in: the last axis for every weight here ([..., in]), except `_w_out`
                # ([heads, d_v, out]), whose inputs are its first two axes.
                fan_in = p.shape[0] * p.shape[1] if name.endswith("_w_out") else p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in**0.5)
        rng = np.random.default_rng(16)
        borders = np.sort(rng.normal(size=CONFIG["num_buckets"] + 1))
        borders = borders / np.abs(borders).max() * 4.0
        assert np.all(np.diff(borders) > 0)
        criterion.borders.copy_(torch.tensor(borders, dtype=torch.float32))
    state_dict = OrderedDict(model.state_dict())
    for k, v in criterion.state_dict().items():
        state_dict[f"criterion.{k}"] = v
    config_dict = asdict(config)
    print("config keys:", sorted(config_dict))
    torch.save({"state_dict": state_dict, "config": config_dict}, OUT / "model.ckpt")
    save_file(
        {k: v.contiguous() for k, v in state_dict.items()},
        OUT / "model.safetensors",
        metadata={"config": json.dumps(config_dict)},
    )
    return config_dict


def data():
    rng = np.random.default_rng(7)
    n = N_TRAIN + N_TEST
    scales = np.array([1.0, 3.0, 0.5, 10.0, 2.0, 1.0, 0.2])
    offsets = np.array([0.0, 5.0, -1.0, 100.0, 0.0, -3.0, 1.0])
    x = rng.normal(size=(n, N_FEATURES)) * scales + offsets
    y = (
        np.sin(x[:, 0])
        + 0.3 * (x[:, 1] - 5.0)
        + 0.05 * (x[:, 3] - 100.0)
        + x[:, 4] ** 2 / 4.0
        + 0.1 * rng.normal(size=n)
    )
    x_train, x_test = x[:N_TRAIN].copy(), x[N_TRAIN:].copy()
    x_train[3, 1] = np.nan
    x_train[17, 1] = np.nan
    x_test[2, 1] = np.nan
    x_test[5, 5] = np.nan
    return x_train, y[:N_TRAIN], x_test


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    randn_fixtures()
    config_dict = build_checkpoint()
    x_train, y_train, x_test = data()
    save("x_train.npy", x_train, np.float64)
    save("y_train.npy", y_train, np.float64)
    save("x_test.npy", x_test, np.float64)

    reg = TabPFNRegressor(
        model_path=str(OUT / "model.ckpt"),
        device="cpu",
        n_estimators=1,
        softmax_temperature=1.0,
        ignore_pretraining_limits=True,
        inference_precision=torch.float32,
        fit_mode="fit_preprocessors",
        inference_config={
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
        },
    )
    reg.fit(x_train, y_train)

    seen = {}
    model = reg.model_

    def on_model(_module, args, kwargs, output):
        seen["x"] = args[0].detach().clone()
        seen["y"] = args[1].detach().clone()
        seen["logits"] = output.detach().clone()

    def on_first_layer(_module, args):
        seen["layer_input"] = args[0].detach().clone()

    def on_layer(i):
        def hook(_module, _args, output):
            seen[f"layer_{i}"] = output.detach().clone()

        return hook

    handles = [model.register_forward_hook(on_model, with_kwargs=True)]
    layers = model.transformer_encoder.layers
    handles.append(layers[0].register_forward_pre_hook(on_first_layer))
    handles += [layer.register_forward_hook(on_layer(i)) for i, layer in enumerate(layers)]
    full = reg.predict(x_test, output_type="full")
    for h in handles:
        h.remove()

    x_seen = seen["x"][:, 0, :].numpy()
    assert x_seen.shape == (N_TRAIN + N_TEST, N_FEATURES), x_seen.shape
    assert seen["x"].dtype == torch.float32
    save("model_x.npy", x_seen, np.float32)
    save("model_y.npy", seen["y"].reshape(-1).numpy(), np.float32)
    logits = seen["logits"][:, 0, :].numpy()
    assert logits.shape == (N_TEST, CONFIG["num_buckets"]), logits.shape
    save("logits.npy", logits, np.float32)
    save("layer_input.npy", seen["layer_input"][0].numpy(), np.float32)
    for i in range(len(layers)):
        save(f"layer_{i}.npy", seen[f"layer_{i}"][0].numpy(), np.float32)

    expected = {
        "mean": [float(v) for v in full["mean"]],
        "median": [float(v) for v in full["median"]],
        "y_mean": float(reg.y_train_mean_),
        "y_std": float(reg.y_train_std_),
        "config": config_dict,
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
