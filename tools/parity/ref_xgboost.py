"""Parity fixtures for quakelab's xgboost decoder, made with the official Python package.

Reads the table of tools/parity/make_table.py (tests/fixtures/boosters/*.csv) and, for each case,
trains with `xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round)` and predicts with
`booster.predict(xgb.DMatrix(X_test))`, on one thread with a fixed seed. Writes

- tests/fixtures/boosters/xgboost_<case>.csv: one `prediction` column, or one column per
  quantile level (`q0.1`, ...), values as repr() of the float32 outputs widened to float64;
- tests/fixtures/boosters/xgboost_importance.csv: `feature,total_gain` of the contract case,
  every column (0 for a column never split on);
- tests/fixtures/boosters/xgboost_cases.json: each case's params, rounds and files.

The params dict is given in key order, as quakelab hands its (sorted) keys to XGBoost.

Run with the boosters' venv (tools/install-boosters.sh):
    .venv-boosters/bin/python tools/parity/ref_xgboost.py
"""

import csv
import json
import math
import pathlib


import numpy as np
import xgboost as xgb

DIR = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "boosters"
TARGET = "y"

CONTRACT = {"max_depth": 4, "eta": 0.1, "nthread": 1, "seed": 11}

CASES = {
    "contract": {"params": CONTRACT, "num_boost_round": 150},
    "subsampling": {
        "params": {
            **CONTRACT,
            "subsample": 0.7,
            "colsample_bytree": 0.6,
            "colsample_bynode": 0.8,
        },
        "num_boost_round": 150,
    },
    "early_stopping": {
        "params": CONTRACT,
        "num_boost_round": 500,
        "early_stopping_rounds": 10,
        "valid": "valid.csv",
    },
    "missing": {
        "params": CONTRACT,
        "num_boost_round": 150,
        "train": "train_missing.csv",
        "test": "test_missing.csv",
    },
    "quantile": {
        "params": {
            **CONTRACT,
            "objective": "reg:quantileerror",
            "quantile_alpha": [0.1, 0.5, 0.9],
        },
        "num_boost_round": 150,
    },
}


def read(name):
    """The feature names, the features (float64, NaN for missing) and the target."""
    with open(DIR / name, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    target = header.index(TARGET)
    features = [h for j, h in enumerate(header) if j != target]
    x = np.array(
        [[float(v) for j, v in enumerate(row) if j != target] for row in body],
        dtype=np.float64,
    )
    y = np.array([float(row[target]) for row in body], dtype=np.float64)
    return features, x, y


def write(path, header, columns):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for values in zip(*columns):
            w.writerow([repr(float(v)) for v in values])


def run(name, case):
    train = case.get("train", "train.csv")
    test = case.get("test", "test.csv")
    params = dict(sorted(case["params"].items()))
    _, x, y = read(train)
    _, x_test, _ = read(test)
    dtrain = xgb.DMatrix(x, label=y)
    evals = []
    if "valid" in case:
        _, x_valid, y_valid = read(case["valid"])
        evals = [(xgb.DMatrix(x_valid, label=y_valid), "valid")]
    booster = xgb.train(
        params,
        dtrain,
        case["num_boost_round"],
        evals=evals,
        early_stopping_rounds=case.get("early_stopping_rounds"),
        verbose_eval=False,
    )
    record = {
        "params": params,
        "num_boost_round": case["num_boost_round"],
        "train": train,
        "test": test,
        "output": f"xgboost_{name}.csv",
    }
    iteration_range = (0, 0)
    if "early_stopping_rounds" in case:
        record["early_stopping_rounds"] = case["early_stopping_rounds"]
        record["valid"] = case["valid"]
        record["best_iteration"] = booster.best_iteration
        record["boosted_rounds"] = booster.num_boosted_rounds()
        iteration_range = (0, booster.best_iteration + 1)
    prediction = booster.predict(xgb.DMatrix(x_test), iteration_range=iteration_range)
    if prediction.ndim == 2:
        levels = params["quantile_alpha"]
        header = [f"q{level}" for level in levels]
        columns = [prediction[:, k] for k in range(len(levels))]
    else:
        header, columns = ["prediction"], [prediction]
    write(DIR / record["output"], header, columns)
    return booster, record


def main():
    cases = {}
    for name, case in CASES.items():
        booster, record = run(name, case)
        cases[name] = record
        if name == "contract":
            features, _, _ = read(record["train"])
            scores = booster.get_score(importance_type="total_gain")
            gains = [scores.get(f"f{j}", 0.0) for j in range(len(features))]
            assert all(math.isfinite(g) for g in gains)
            with open(DIR / "xgboost_importance.csv", "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["feature", "total_gain"])
                for feature, gain in zip(features, gains):
                    w.writerow([feature, repr(float(gain))])
    summary = {"xgboost_version": xgb.__version__, "cases": cases}
    with open(DIR / "xgboost_cases.json", "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
