"""Friedman #1-3 fixtures (tests/fixtures/friedman/friedman{1,2,3}.csv) from scikit-learn's
`make_friedman1`, `make_friedman2` and `make_friedman3` with `noise=0`: 20 rows each of the
inputs and the noise-free target, which quakelab's `decode::pfn::suite::Friedman::target` must
reproduce from the inputs.

A venv for it: python -m venv venv && venv/bin/pip install scikit-learn==1.6.1 numpy.
Run: venv/bin/python tools/parity/make_friedman.py
"""

import pathlib

import numpy as np
from sklearn.datasets import make_friedman1, make_friedman2, make_friedman3

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/friedman"


def write(name, x, y):
    header = ",".join([f"x{j}" for j in range(x.shape[1])] + ["y"])
    rows = [",".join(repr(float(v)) for v in list(row) + [target]) for row, target in zip(x, y)]
    (OUT / name).write_text(header + "\n" + "\n".join(rows) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in [
        ("friedman1.csv", lambda: make_friedman1(n_samples=20, n_features=10, noise=0.0, random_state=1)),
        ("friedman2.csv", lambda: make_friedman2(n_samples=20, noise=0.0, random_state=2)),
        ("friedman3.csv", lambda: make_friedman3(n_samples=20, noise=0.0, random_state=3)),
    ]:
        x, y = make()
        write(name, np.asarray(x), np.asarray(y))


if __name__ == "__main__":
    main()
