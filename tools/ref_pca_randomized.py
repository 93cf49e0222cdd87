"""Reference fixture for quakelab's randomized PCA (run once; outputs are committed).

The data is a closed-form 600 x 2000 matrix with a known, geometrically decaying spectrum, so
that the Rust test rebuilds it from the same formula instead of reading 1.2 million numbers:

    X[i, j] = sum_{m=1}^{R} s_m u_m(i) v_m(j)
    u_m(i) = sqrt(2/n) cos(pi (i + 1/2) m / n)            (DCT-II rows, orthonormal, zero mean)
    v_m(j) = sqrt(2/p) cos(pi (j + 1/2) f(m) / p)         f(m) = (37 m) mod (p - 1)
    s_m    = 50 * 0.9^(m - 1)

with n = 600, p = 2000, R = 200. Since p - 1 = 1999 is prime, f is one-to-one on 1..R and the
v_m are orthonormal too, so the singular values of the (already centred) X are exactly s_m.

Fits scikit-learn's PCA(n_components=50, svd_solver="full") on all 600 rows and writes to
tests/fixtures/pca/:
  spectrum_params.csv    n, p, rank, k, scale, decay, frequency_step (what the Rust test rebuilds)
  spectrum_variance.csv  component, explained_variance_, explained_variance_ratio_
  spectrum_scores.csv    row, pc0..pc49: transform() of rows 0, 10, ..., 590

Usage (from the repository root): .venv-tools/bin/python tools/ref_pca_randomized.py
"""

from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

OUT = Path("tests/fixtures/pca")
N, P, RANK, K = 600, 2000, 200, 50
SCALE, DECAY, FREQUENCY_STEP = 50.0, 0.9, 37
ROW_STEP = 10


def spectrum_matrix():
    m = np.arange(1, RANK + 1)
    i = np.arange(N)[:, None]
    j = np.arange(P)[:, None]
    u = np.sqrt(2.0 / N) * np.cos(np.pi * (i + 0.5) * m / N)
    f = (FREQUENCY_STEP * m) % (P - 1)
    v = np.sqrt(2.0 / P) * np.cos(np.pi * (j + 0.5) * f / P)
    s = SCALE * DECAY ** (m - 1)
    return (u * s) @ v.T, s


def write(name, header, rows):
    with open(OUT / name, "w") as out:
        out.write(",".join(header) + "\n")
        for r in rows:
            out.write(",".join(repr(float(v)) if isinstance(v, float) else str(v) for v in r) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    x, s = spectrum_matrix()
    pca = PCA(n_components=K, svd_solver="full").fit(x)
    # The closed form the fixture relies on: zero column means, variances s_m^2 / (n - 1).
    assert np.abs(pca.mean_).max() < 1e-12
    assert np.allclose(pca.explained_variance_, s[:K] ** 2 / (N - 1), rtol=1e-10)
    write(
        "spectrum_params.csv",
        ["n", "p", "rank", "k", "scale", "decay", "frequency_step"],
        [[N, P, RANK, K, SCALE, DECAY, FREQUENCY_STEP]],
    )
    write(
        "spectrum_variance.csv",
        ["component", "explained_variance", "explained_variance_ratio"],
        [[c, float(v), float(r)] for c, (v, r) in enumerate(zip(pca.explained_variance_, pca.explained_variance_ratio_))],
    )
    rows = np.arange(0, N, ROW_STEP)
    scores = pca.transform(x[rows])
    write(
        "spectrum_scores.csv",
        ["row"] + [f"pc{c}" for c in range(K)],
        [[int(r)] + [float(v) for v in z] for r, z in zip(rows, scores)],
    )


if __name__ == "__main__":
    main()
