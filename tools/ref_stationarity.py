"""Reference fixtures for quakelab's ADF and KPSS tests (src/seismicity/stationarity.rs).

Generates a few series with a fixed numpy seed, runs statsmodels'
``adfuller(x, regression="c", autolag="AIC")`` (default maxlag) and
``kpss(x, regression="c", nlags="auto")`` on each, and writes

  tests/fixtures/stationarity/series.csv    long format: series,index,value
  tests/fixtures/stationarity/expected.csv  one row of statsmodels results per series

Run from the repository root with a Python that has numpy and statsmodels:

  python tools/ref_stationarity.py
"""

import csv
import sys
import warnings
from pathlib import Path

import numpy as np
import statsmodels
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.stattools import adfuller, kpss

SEED = 20260523
OUT = Path("tests/fixtures/stationarity")


def ar1(rng, n, phi, burn=200):
    e = rng.standard_normal(n + burn)
    x = np.empty(n + burn)
    x[0] = e[0]
    for t in range(1, n + burn):
        x[t] = phi * x[t - 1] + e[t]
    return x[burn:]


def b_series(rng, n, window=128):
    """A smooth 128-day moving average of noisy daily b values around 1.0."""
    days = np.arange(n + window - 1)
    raw = 1.0 + 0.05 * np.sin(2 * np.pi * days / 700.0) + 0.3 * rng.standard_normal(days.size)
    return np.convolve(raw, np.ones(window) / window, mode="valid")


def make_series():
    rng = np.random.default_rng(SEED)
    series = {}
    # n = 500: maxlag = ceil(12 (5)^(1/4)) = 18.
    series["white_noise_500"] = rng.standard_normal(500)
    series["random_walk_500"] = np.cumsum(rng.standard_normal(500))
    # n = 1500: maxlag = ceil(12 (15)^(1/4)) = 24.
    series["trend_noise_1500"] = 0.002 * np.arange(1500) + rng.standard_normal(1500)
    # n = 60: maxlag = ceil(12 (0.6)^(1/4)) = 11.
    series["ar1_phi09_60"] = ar1(rng, 60, 0.9)
    series["ar1_phi05_300"] = ar1(rng, 300, 0.5)
    series["b_series_1500"] = b_series(rng, 1500)
    # n = 20: the Schwert rule gives 9, capped at n // 2 - 2 = 8.
    series["white_noise_20"] = rng.standard_normal(20)
    # n = 12: the Schwert rule gives 8, capped at n // 2 - 2 = 4.
    series["ar1_phi05_12"] = ar1(rng, 12, 0.5)
    return series


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    series = make_series()

    with open(OUT / "series.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["series", "index", "value"])
        for name, x in series.items():
            for i, v in enumerate(x):
                w.writerow([name, i, repr(float(v))])

    fields = [
        "series", "n",
        "adf_statistic", "adf_p_value", "adf_used_lag", "adf_nobs",
        "adf_crit_1", "adf_crit_5", "adf_crit_10", "adf_icbest",
        "kpss_statistic", "kpss_p_value", "kpss_lags", "kpss_clip",
    ]
    with open(OUT / "expected.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(fields)
        for name, x in series.items():
            a = adfuller(x, regression="c", autolag="AIC", result_object=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                k = kpss(x, regression="c", nlags="auto", result_object=True)
            clip = "none"
            for c in caught:
                if issubclass(c.category, InterpolationWarning):
                    clip = "greater" if "greater" in str(c.message) else "smaller"
            w.writerow([
                name, len(x),
                repr(a.statistic), repr(a.pvalue), a.lags, a.nobs,
                repr(float(a.critical_values["1%"])),
                repr(float(a.critical_values["5%"])),
                repr(float(a.critical_values["10%"])),
                repr(float(a.icbest)),
                repr(float(k.statistic)), repr(float(k.pvalue)), k.lags, clip,
            ])
            print(f"{name:18s} n={len(x):5d} ADF t={a.statistic:9.4f} p={a.pvalue:.3g} "
                  f"lag={a.lags:2d} | KPSS={k.statistic:.4f} p={k.pvalue:.3g} "
                  f"lags={k.lags} clip={clip}", file=sys.stderr)
    print(f"statsmodels {statsmodels.__version__}, numpy {np.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
