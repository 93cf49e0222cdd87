"""Reference fixtures for quakelab's Diebold–Mariano test and ACF (src/eval/uncertainty.rs).

Generates, with a fixed numpy seed, two forecasts' squared-error losses on 300 serially
correlated rows, and one AR(1) series, then writes

  tests/fixtures/uncertainty/dm.csv             loss_model,loss_reference (one row per time)
  tests/fixtures/uncertainty/dm_expected.json   per lag: the HAC t-statistic of the mean of
                                                d = loss_model − loss_reference and its two-sided
                                                normal p-value
  tests/fixtures/uncertainty/acf.csv            x (one row per time)
  tests/fixtures/uncertainty/acf_expected.json  statsmodels' acf(x, nlags=20, fft=False)

The DM statistic is statsmodels' OLS of d on a constant with
cov_type="HAC", cov_kwds={"maxlags": L, "use_correction": False}: Bartlett weights
1 − j/(L + 1), autocovariances divided by n, no small-sample correction; its p-value is from
the standard normal (use_t is False for HAC).

Run from the repository root with a Python that has numpy and statsmodels:

  python tools/ref_uncertainty.py
"""

import csv
import json
from pathlib import Path

import numpy as np
import statsmodels
import statsmodels.api as sm
from statsmodels.tsa.stattools import acf

SEED = 20261128
OUT = Path("tests/fixtures/uncertainty")
N_DM = 300
LAGS = [0, 1, 5, 12]
N_ACF = 500
NLAGS = 20


def ar1(rng, n, phi):
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1.0 - phi * phi)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def main():
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)

    # Two forecasts of the same series: the model's errors are smaller on average, both are
    # serially correlated, so the loss differential is too.
    truth = ar1(rng, N_DM, 0.7)
    model = truth + 0.8 * ar1(rng, N_DM, 0.5)
    reference = truth + 0.85 * ar1(rng, N_DM, 0.6)
    loss_model = (truth - model) ** 2
    loss_reference = (truth - reference) ** 2
    with open(OUT / "dm.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["loss_model", "loss_reference"])
        for m, r in zip(loss_model, loss_reference):
            w.writerow([repr(float(m)), repr(float(r))])

    d = loss_model - loss_reference
    ones = np.ones((N_DM, 1))
    cases = []
    for lag in LAGS:
        fit = sm.OLS(d, ones).fit(
            cov_type="HAC", cov_kwds={"maxlags": lag, "use_correction": False}
        )
        cases.append(
            {
                "lag": lag,
                "mean_differential": float(fit.params[0]),
                "statistic": float(fit.tvalues[0]),
                "p_value": float(fit.pvalues[0]),
            }
        )
    with open(OUT / "dm_expected.json", "w") as f:
        json.dump(
            {"statsmodels": statsmodels.__version__, "n": N_DM, "cases": cases}, f, indent=2
        )
        f.write("\n")

    x = ar1(rng, N_ACF, 0.6)
    with open(OUT / "acf.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x"])
        for v in x:
            w.writerow([repr(float(v))])
    rho = acf(x, nlags=NLAGS, fft=False)
    with open(OUT / "acf_expected.json", "w") as f:
        json.dump(
            {
                "statsmodels": statsmodels.__version__,
                "nlags": NLAGS,
                "acf": [float(r) for r in rho],
            },
            f,
            indent=2,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
