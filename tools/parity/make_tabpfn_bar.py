"""Bar-distribution parity fixture (tests/fixtures/tabpfn_bar/cases.json) from tabpfn 2.2.1's own
FullSupportBarDistribution and the border helpers of `tabpfn.utils`, used as
`TabPFNRegressor.predict` uses them.

- `std_borders`: 51 sorted random borders (50 buckets), float32 values (the checkpoint stores
  `criterion.borders` in float32), and 4 rows of float32 `logits` (one row peaked in each tail,
  so that the half-normal tails matter).
- `f64`: the package's `mean`, `median` and `icdf` at `levels`, on `softmax(logits)`, both on the
  standard borders and on the raw-space criterion `borders * scale + shift` (the regressor's
  `raw_space_bardist_`), computed with float64 tensors: the package's code, float64 arithmetic.
- `members`: ensemble members with a target transform, each fitted as the regressor fits it
  (`fit_transform` on the member's standardised training targets) and applied as
  `TabPFNRegressor.forward` / `predict` do: `transform_borders_one(std_borders, ...,
  repair_nan_borders_after_transform=True)` gives the mapped borders and the cancel mask, the
  logits are divided by the temperature, masked to -inf and translated onto the standard borders
  by `translate_probs_across_borders`. `inverse` is `inverse_transform(std_borders)` before any
  repair (so a test can feed the same inverse; non-finite values as the strings "nan", "inf"), `mapped_borders` and `cancelled` the package's
  result, `probs_f64` the translation in float64, `probs_f32` in float32 exactly as the
  regressor runs it (float32 logits and standard borders). Members: tabpfn's own `safepower`
  target transform (Yeo-Johnson + standard scaler) fitted on a skewed sample, and
  `sqrt_exp`, a FunctionTransformer with inverse sqrt(v + 2) * exp(2 v) that breaks both ends
  of the borders (NaN below -2, beyond 1000 above about 3.2).
- `none_probs_f32`: the regressor's translation of an untransformed member onto its own
  borders in float32 (the identity up to float32 round-off), at temperature 0.9.
- `ensemble`: the regressor's aggregation in float64 of the three members (no transform,
  safepower, sqrt_exp) at temperature 0.9: the mean of their probabilities, its log, then the
  raw-space criterion's mean, median and quantiles.

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 tabpfn==2.2.1
safetensors numpy. Run: TABPFN_DISABLE_TELEMETRY=1 venv/bin/python tools/parity/make_tabpfn_bar.py
"""

import json
import pathlib

import numpy as np
import torch
from sklearn.preprocessing import FunctionTransformer
from tabpfn.architectures.base.bar_distribution import FullSupportBarDistribution
from tabpfn.preprocessors.reshape_feature_distribution_step import (
    get_all_reshape_feature_distribution_preprocessors,
)
from tabpfn.utils import transform_borders_one, translate_probs_across_borders

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tabpfn_bar"
LEVELS = [0.05, 0.25, 0.5, 0.75, 0.95]
TEMPERATURE = 0.9
SCALE, SHIFT = 3.7, -12.5


def summary(bar, logits):
    return {
        "mean": bar.mean(logits).tolist(),
        "median": bar.median(logits).tolist(),
        "quantiles": [bar.icdf(logits, q).tolist() for q in LEVELS],
    }


def sqrt_exp_inverse(v):
    with np.errstate(invalid="ignore"):
        return np.sqrt(v + 2.0) * np.exp(2.0 * v)


def member(name, transform, y_z, std_borders, logits):
    transform.fit_transform(y_z.reshape(-1, 1))
    inverse = transform.inverse_transform(std_borders.astype(np.float64).reshape(-1, 1)).ravel()
    # JSON has no NaN or infinity: those values are written as the strings "nan", "inf", "-inf".
    inverse = [float(v) if np.isfinite(v) else str(float(v)) for v in inverse]
    out = {"name": name, "temperature": TEMPERATURE, "inverse": inverse}
    for precision, dtype in (("f64", np.float64), ("f32", np.float32)):
        borders = std_borders.astype(dtype)
        mask, descending, borders_t = transform_borders_one(
            borders, target_transform=transform, repair_nan_borders_after_transform=True
        )
        assert not descending
        torch_dtype = torch.float64 if dtype is np.float64 else torch.float32
        scaled = torch.tensor(logits, dtype=torch_dtype) / TEMPERATURE
        if mask is not None:
            scaled[..., mask] = float("-inf")
        probs = translate_probs_across_borders(
            scaled,
            frm=torch.as_tensor(borders_t),
            to=torch.as_tensor(borders),
        )
        out[f"probs_{precision}"] = probs.tolist()
        if precision == "f64":
            out["mapped_borders"] = [float(v) for v in borders_t]
            out["cancelled"] = (
                [bool(v) for v in mask] if mask is not None else [False] * (len(borders) - 1)
            )
            out["_probs"] = probs
    print(f"{name}: {sum(out['cancelled'])} cancelled buckets")
    return out


def main():
    rng = np.random.default_rng(16)
    n_buckets = 50
    std_borders = np.sort(rng.normal(0.0, 2.5, n_buckets + 1)).astype(np.float32)
    logits = rng.normal(0.0, 2.0, (4, n_buckets)).astype(np.float32)
    logits[1, 0] += 8.0
    logits[2, -1] += 8.0
    logits[3, :] = np.linspace(-3.0, 3.0, n_buckets, dtype=np.float32)

    std64 = torch.tensor(std_borders, dtype=torch.float64)
    l64 = torch.tensor(logits, dtype=torch.float64)
    standard = FullSupportBarDistribution(std64)
    raw = FullSupportBarDistribution(std64 * SCALE + SHIFT)

    y_z = rng.lognormal(0.0, 0.8, 300)
    y_z = (y_z - y_z.mean()) / y_z.std()
    safepower = get_all_reshape_feature_distribution_preprocessors(len(y_z))["safepower"]
    sqrt_exp = FunctionTransformer(func=None, inverse_func=sqrt_exp_inverse, check_inverse=False)
    members = [
        member("safepower", safepower, y_z, std_borders, logits),
        member("sqrt_exp", sqrt_exp, y_z, std_borders, logits),
    ]

    none_f32 = translate_probs_across_borders(
        torch.tensor(logits) / TEMPERATURE,
        frm=torch.as_tensor(std_borders),
        to=torch.as_tensor(std_borders),
    )
    none_f64 = translate_probs_across_borders(l64 / TEMPERATURE, frm=std64, to=std64)
    averaged = torch.stack([none_f64] + [m.pop("_probs") for m in members]).mean(dim=0)
    ensemble_logits = averaged.log()

    fixture = {
        "std_borders": [float(v) for v in std_borders],
        "logits": logits.tolist(),
        "levels": LEVELS,
        "raw_scale": SCALE,
        "raw_shift": SHIFT,
        "f64": {"standard": summary(standard, l64), "raw": summary(raw, l64)},
        "members": members,
        "none_probs_f32": none_f32.tolist(),
        "ensemble": summary(raw, ensemble_logits),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cases.json").write_text(json.dumps(fixture, indent=1, allow_nan=False) + "\n")
    print(f"wrote {OUT / 'cases.json'}")


if __name__ == "__main__":
    main()
