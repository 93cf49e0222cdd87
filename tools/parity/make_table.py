"""The table the boosting decoders' parity fixtures are made on (tests/fixtures/boosters/).

Eight features, a nonlinear target with noise, 300 training, 120 test and 80 validation rows,
and copies of the training and test tables with about 5 % of the feature cells missing (`NaN`).
Numbers are written with repr(), the shortest round-trip form, so quakelab reads the same
doubles that the Python packages are given.

Run with the boosters' venv (tools/install-boosters.sh):
    .venv-boosters/bin/python tools/parity/make_table.py
"""

import csv
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "boosters"
FEATURES = [f"x{j}" for j in range(8)]


def target(x, rng):
    signal = (
        np.sin(2.0 * x[:, 0])
        + 0.5 * x[:, 1] ** 2
        + np.where(x[:, 2] > 0.3, 1.0, -0.5)
        + 0.8 * x[:, 3] * x[:, 4]
    )
    return signal + 0.3 * rng.standard_normal(len(x))


def write(path, x, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FEATURES + ["y"])
        for row, label in zip(x, y):
            w.writerow([repr(float(v)) for v in row] + [repr(float(label))])


def main():
    rng = np.random.default_rng(20261128)
    OUT.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name, n in [("train", 300), ("test", 120), ("valid", 80)]:
        x = rng.uniform(-2.0, 2.0, size=(n, len(FEATURES)))
        y = target(x, rng)
        tables[name] = (x, y)
        write(OUT / f"{name}.csv", x, y)
    for name in ["train", "test"]:
        x, y = tables[name]
        holed = x.copy()
        holed[rng.random(x.shape) < 0.05] = np.nan
        write(OUT / f"{name}_missing.csv", holed, y)


if __name__ == "__main__":
    main()
