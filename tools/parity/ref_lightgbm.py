"""LightGBM parity fixtures: the official Python package on the boosters' table.

Each case trains exactly as a user of the package would, `lgb.train(params, lgb.Dataset(X,
label=y), ...)`, and predicts the test table with `booster.predict(X_test)`. quakelab's
`lightgbm` decoder, given the same parameters, must give the same numbers (to 1e-6 relative,
asserted by tests/it/decode_lightgbm.rs).

Cases:
  contract        the issue's contract: max_depth=4, learning_rate=0.1, num_iterations=150,
                  num_threads=1, seed=11
  subsample       the contract with row and column subsampling (bagging, feature_fraction)
  early_stopping  num_iterations=500 with early_stopping_round=10 on valid.csv
  missing         the contract on the tables with ~5 % NaN cells
  quantile        objective=quantile, alpha=0.9 (one booster)
  quantile_list   alpha=[0.1, 0.5, 0.9]: quakelab's extension, one booster per level,
                  reproduced here by one lgb.train per alpha; each row's quantiles are sorted
                  (quakelab's rearrangement, so that quantiles never cross)
  importance      total gain per column of the contract case (feature_importance("gain"))

Writes tests/fixtures/boosters/lightgbm_<case>.csv (a `prediction` column, one `q<level>`
column per quantile level, or `feature,gain`) and lightgbm_cases.json (case -> parameters,
files, output columns).

Run with the boosters' venv (tools/install-boosters.sh), after tools/parity/make_table.py:
    .venv-boosters/bin/python tools/parity/ref_lightgbm.py
"""

import csv
import json
import pathlib


import lightgbm as lgb
import numpy as np

DIR = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "boosters"
CONTRACT = {
    "max_depth": 4,
    "learning_rate": 0.1,
    "num_iterations": 150,
    "num_threads": 1,
    "seed": 11,
}


def read(name):
    with open(DIR / name, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    target = header.index("y")
    x = np.array(
        [[float(v) for j, v in enumerate(row) if j != target] for row in body],
        dtype=np.float64,
    )
    y = np.array([float(row[target]) for row in body], dtype=np.float64)
    return x, y


def fit(params, train, valid=None):
    x, y = read(train)
    train_set = lgb.Dataset(x, label=y)
    if valid is None:
        return lgb.train(params, train_set)
    xv, yv = read(valid)
    valid_set = lgb.Dataset(xv, label=yv, reference=train_set)
    return lgb.train(params, train_set, valid_sets=[valid_set])


def write(name, header, rows):
    with open(DIR / name, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([v if isinstance(v, str) else repr(float(v)) for v in row])


def main():
    cases = {}

    def point_case(case, params, train="train.csv", test="test.csv", valid=None):
        booster = fit(params, train, valid)
        x_test, _ = read(test)
        prediction = booster.predict(x_test)
        out = f"lightgbm_{case}.csv"
        write(out, ["prediction"], [[v] for v in prediction])
        cases[case] = {
            "params": params,
            "train": train,
            "test": test,
            "valid": valid,
            "output": out,
            "columns": ["prediction"],
            "best_iteration": booster.best_iteration,
        }
        return booster

    contract = point_case("contract", CONTRACT)
    point_case(
        "subsample",
        {**CONTRACT, "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.6},
    )
    point_case(
        "early_stopping",
        {**CONTRACT, "num_iterations": 500, "early_stopping_round": 10},
        valid="valid.csv",
    )
    point_case("missing", CONTRACT, train="train_missing.csv", test="test_missing.csv")
    point_case("quantile", {**CONTRACT, "objective": "quantile", "alpha": 0.9})

    levels = [0.1, 0.5, 0.9]
    x_test, _ = read("test.csv")
    per_level = [
        fit({**CONTRACT, "objective": "quantile", "alpha": a}, "train.csv").predict(x_test)
        for a in levels
    ]
    rearranged = np.sort(np.column_stack(per_level), axis=1)
    columns = [f"q{a}" for a in levels]
    write("lightgbm_quantile_list.csv", columns, rearranged)
    cases["quantile_list"] = {
        "params": {**CONTRACT, "objective": "quantile", "alpha": levels},
        "train": "train.csv",
        "test": "test.csv",
        "valid": None,
        "output": "lightgbm_quantile_list.csv",
        "columns": columns,
    }

    gain = contract.feature_importance(importance_type="gain")
    names = [f"x{j}" for j in range(len(gain))]
    write("lightgbm_importance.csv", ["feature", "gain"], zip(names, gain))
    cases["importance"] = {
        "params": CONTRACT,
        "train": "train.csv",
        "test": None,
        "valid": None,
        "output": "lightgbm_importance.csv",
        "columns": ["gain"],
    }

    with open(DIR / "lightgbm_cases.json", "w") as f:
        json.dump({"lightgbm": lgb.__version__, "cases": cases}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
