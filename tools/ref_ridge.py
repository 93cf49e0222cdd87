"""Reference fixture for quakelab's ridge decoder (run once; outputs are committed).

Draws a small regression table with correlated features on different scales (numpy, seed 20),
fits scikit-learn's Ridge(alpha, fit_intercept=True) on the training rows for several alphas,
and predicts the test rows. Writes to tests/fixtures/decode/:
  ridge_train.csv        x0..x4, y    (40 rows)
  ridge_test.csv         x0..x4, y    (15 rows; y is the noisy truth, unused by ridge)
  ridge_predictions.csv  row, alpha_0.01, alpha_1, alpha_100   (one prediction per test row)

Usage (from the repository root): .venv-tools/bin/python tools/ref_ridge.py
"""

import csv
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge

OUT = Path("tests/fixtures/decode")
ALPHAS = [0.01, 1.0, 100.0]
N_TRAIN, N_TEST, P = 40, 15, 5


def draw(rng, n):
    base = rng.normal(size=(n, P))
    # Correlated columns on very different scales, and a non-zero mean, so that centring and
    # the unpenalised intercept matter.
    x = np.empty_like(base)
    x[:, 0] = 10.0 + 3.0 * base[:, 0]
    x[:, 1] = 0.5 * base[:, 0] + 0.2 * base[:, 1]
    x[:, 2] = -4.0 + 50.0 * base[:, 2]
    x[:, 3] = base[:, 3] + 0.9 * base[:, 2]
    x[:, 4] = 0.01 * base[:, 4]
    y = 7.0 + 1.5 * x[:, 0] - 2.0 * x[:, 1] + 0.03 * x[:, 2] + 0.8 * x[:, 3] + 40.0 * x[:, 4]
    y += rng.normal(scale=0.5, size=n)
    return x, y


def write_table(path, x, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*(f"x{j}" for j in range(P)), "y"])
        for row, target in zip(x, y):
            w.writerow([*(repr(float(v)) for v in row), repr(float(target))])


def main():
    rng = np.random.default_rng(20)
    x_train, y_train = draw(rng, N_TRAIN)
    x_test, y_test = draw(rng, N_TEST)
    write_table(OUT / "ridge_train.csv", x_train, y_train)
    write_table(OUT / "ridge_test.csv", x_test, y_test)
    predictions = {}
    for alpha in ALPHAS:
        model = Ridge(alpha=alpha, fit_intercept=True).fit(x_train, y_train)
        predictions[alpha] = model.predict(x_test)
        print(f"alpha={alpha}: coef={model.coef_}, intercept={model.intercept_}")
    with open(OUT / "ridge_predictions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", *(f"alpha_{a:g}" for a in ALPHAS)])
        for i in range(N_TEST):
            w.writerow([i, *(repr(float(predictions[a][i])) for a in ALPHAS)])


if __name__ == "__main__":
    main()
