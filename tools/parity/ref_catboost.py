"""CatBoost parity fixtures: the official catboost package on the boosters' parity table.

For each case, trains `catboost.CatBoostRegressor(**params).fit(X, y)` on a training file and
predicts a test file, with exactly the keyword arguments quakelab's catboost decoder gives the
package for the same `[decoder]` keys (the user's keys, plus `allow_writing_files=False`;
`thread_count` and `random_seed` are set by every case, so quakelab adds nothing else), on
C-ordered float64 arrays as quakelab sends them. Writes tests/fixtures/boosters/catboost_<case>.csv
(one `prediction` column, or one `q<level>` column per level of a MultiQuantile loss, in the
loss's order) and catboost_cases.json (case -> the `[decoder]` keys, files, and for the
contract case the feature importances).

Run with the boosters' venv, after tools/parity/make_table.py:
    .venv-boosters/bin/python tools/parity/ref_catboost.py
"""

import csv
import io
import json
import pathlib


import catboost
import numpy as np

DIR = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "boosters"

CONTRACT = {
    "depth": 4,
    "learning_rate": 0.1,
    "iterations": 150,
    "thread_count": 1,
    "random_seed": 11,
}

CASES = {
    "contract": {"decoder": CONTRACT, "train": "train.csv", "test": "test.csv"},
    "subsample": {
        "decoder": dict(CONTRACT, bootstrap_type="Bernoulli", subsample=0.7, rsm=0.6),
        "train": "train.csv",
        "test": "test.csv",
    },
    "early_stopping": {
        "decoder": dict(CONTRACT, iterations=500, early_stopping_rounds=10),
        "train": "train.csv",
        "test": "test.csv",
        "valid": "valid.csv",
    },
    "missing": {"decoder": CONTRACT, "train": "train_missing.csv", "test": "test_missing.csv"},
    "multiquantile": {
        "decoder": dict(CONTRACT, loss_function="MultiQuantile:alpha=0.1,0.5,0.9"),
        "train": "train.csv",
        "test": "test.csv",
        "levels": [0.1, 0.5, 0.9],
    },
}


def read(name):
    """Features (C order, float64) and the target `y` of a parity table."""
    with open(DIR / name, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    target = header.index("y")
    values = np.array([[float(v) for v in row] for row in body], dtype=np.float64)
    x = np.ascontiguousarray(np.delete(values, target, axis=1))
    y = np.ascontiguousarray(values[:, target])
    return x, y


def run(case):
    params = dict(case["decoder"])
    early_stopping = params.pop("early_stopping_rounds", None)
    params.setdefault("allow_writing_files", False)
    model = catboost.CatBoostRegressor(**params)
    x, y = read(case["train"])
    # The iteration log is kept out of the terminal, as quakelab keeps it in its log; the
    # model's parameters are untouched.
    fit_args = {"log_cout": io.StringIO()}
    if early_stopping is not None:
        fit_args["eval_set"] = read(case["valid"])
        fit_args["early_stopping_rounds"] = early_stopping
    model.fit(x, y, **fit_args)
    x_test, _ = read(case["test"])
    return model, model.predict(x_test)


def main():
    cases = {}
    for name, case in CASES.items():
        model, prediction = run(case)
        columns = (
            [f"q{level}" for level in case["levels"]] if "levels" in case else ["prediction"]
        )
        prediction = prediction.reshape(len(prediction), len(columns))
        with open(DIR / f"catboost_{name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(columns)
            for row in prediction:
                w.writerow([repr(float(v)) for v in row])
        entry = dict(case)
        if name == "contract":
            entry["importance"] = [float(v) for v in model.get_feature_importance()]
        if "valid" in case:
            entry["best_iteration"] = model.get_best_iteration()
        cases[name] = entry
    with open(DIR / "catboost_cases.json", "w") as f:
        json.dump({"catboost": catboost.__version__, "cases": cases}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
