"""Peer timings for benches/boosters.rs: the official Python packages on the identical table.

Reads the table the Rust bench wrote (target/bench-boosters/x.f64 and y.f64: 3,800 x 500,
little-endian float64, row-major), times each package's fit and predict with the same parameters
(one thread, seed 0, 100 rounds of depth-6 trees at learning rate 0.1), the median of 5 runs after
one warm-up, and prints them next to quakelab's criterion medians
(target/criterion/boosters_3800x500/<library>_<fit|predict>/new/estimates.json) with the ratio
quakelab / Python.

Usage (from the repository root): tools/bench-boosters.sh
(or, after `cargo bench --bench boosters`: .venv-boosters/bin/python tools/bench_boosters_reference.py)
"""

import json
import pathlib
import statistics
import time

import catboost
import lightgbm as lgb
import numpy as np
import xgboost as xgb

ROOT = pathlib.Path(__file__).resolve().parents[1]
N_ROWS, N_FEATURES = 3_800, 500
RUNS = 5


def load():
    folder = ROOT / "target" / "bench-boosters"
    x = np.fromfile(folder / "x.f64", dtype="<f8").reshape(N_ROWS, N_FEATURES)
    y = np.fromfile(folder / "y.f64", dtype="<f8")
    return x, y


def xgboost_fit(x, y):
    params = {"max_depth": 6, "eta": 0.1, "nthread": 1, "seed": 0}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=100)


def xgboost_predict(model, x):
    return model.predict(xgb.DMatrix(x))


def lightgbm_fit(x, y):
    params = {
        "max_depth": 6,
        "learning_rate": 0.1,
        "num_threads": 1,
        "seed": 0,
        "verbose": -1,
    }
    return lgb.train(params, lgb.Dataset(x, label=y), num_boost_round=100)


def lightgbm_predict(model, x):
    return model.predict(x)


def catboost_fit(x, y):
    model = catboost.CatBoostRegressor(
        iterations=100,
        depth=6,
        learning_rate=0.1,
        thread_count=1,
        random_seed=0,
        verbose=False,
        allow_writing_files=False,
    )
    return model.fit(x, y)


def catboost_predict(model, x):
    return model.predict(x)


def median_seconds(work):
    work()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def quakelab_seconds(name):
    path = ROOT / "target" / "criterion" / "boosters_3800x500" / name / "new" / "estimates.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"] / 1e9


def main():
    x, y = load()
    print(f"{'step':<18} {'Python s':>10} {'quakelab s':>11} {'ratio':>7}")
    for library, fit, predict in [
        ("xgboost", xgboost_fit, xgboost_predict),
        ("lightgbm", lightgbm_fit, lightgbm_predict),
        ("catboost", catboost_fit, catboost_predict),
    ]:
        model = fit(x, y)
        for step, work in [("fit", lambda: fit(x, y)), ("predict", lambda: predict(model, x))]:
            python = median_seconds(work)
            ours = quakelab_seconds(f"{library}_{step}")
            ratio = f"{ours / python:7.3f}" if ours else "      -"
            ours_text = f"{ours:11.4f}" if ours else "          -"
            print(f"{library + '_' + step:<18} {python:10.4f} {ours_text} {ratio}")


if __name__ == "__main__":
    main()
