"""Reference fixture for quakelab's PCA fitted on training rows only (run once; outputs are committed).

Makes 30 rows of 5 correlated features; 20 rows are training rows (flag 1), the other 10 are test
rows shifted by +5 in every feature, so the training mean differs clearly from the all-rows mean.
Fits scikit-learn's PCA(n_components=3, svd_solver="full") on the training rows only (its signs:
the largest-magnitude loading of each component is positive) and writes to tests/fixtures/dataset/:
  pca_input.csv       is_train, x0..x4 (all 30 rows)
  pca_mean.csv        the fitted mean_ (= the mean of the training rows)
  pca_components.csv  components_ (one component per line)
  pca_variance.csv    explained_variance_ (ddof = 1)
  pca_scores.csv      transform() of all 30 rows

Usage (from the repository root): .venv-tools/bin/python tools/ref_pca.py
"""

from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

OUT = Path("tests/fixtures/dataset")


def write(name, header, rows):
    with open(OUT / name, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(repr(float(v)) for v in r) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    n, p, k = 30, 5, 3
    mixing = rng.normal(size=(p, p)) * np.array([3.0, 2.0, 1.0, 0.5, 0.2])[:, None]
    x = rng.normal(size=(n, p)) @ mixing
    is_train = np.zeros(n, dtype=bool)
    is_train[rng.permutation(n)[:20]] = True
    x[~is_train] += 5.0
    pca = PCA(n_components=k, svd_solver="full").fit(x[is_train])
    assert np.allclose(pca.mean_, x[is_train].mean(axis=0))
    names = [f"x{j}" for j in range(p)]
    write("pca_input.csv", ["is_train"] + names, np.column_stack([is_train, x]))
    write("pca_mean.csv", names, [pca.mean_])
    write("pca_components.csv", names, pca.components_)
    write("pca_variance.csv", [f"pc{c}" for c in range(k)], [pca.explained_variance_])
    write("pca_scores.csv", [f"pc{c}" for c in range(k)], pca.transform(x))


if __name__ == "__main__":
    main()
