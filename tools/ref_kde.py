"""Reference fixture for quakelab's KDE labels (run once; outputs are committed).

Reads the synthetic catalog written by tools/ref_bvalue.py (tests/fixtures/seismicity/catalog.csv),
fits scipy's gaussian_kde on all event times (days since the period start) and integrates it over
each day d = [d, d + 1) with integrate_box_1d, for three bandwidths:
  scott      bw_method="scott"      (h = n^(-1/5) * std, ddof = 1)
  silverman  bw_method="silverman"  (h = (3n/4)^(-1/5) * std)
  fixed7     bw_method=7/std        (h = 7 days)
Writes tests/fixtures/seismicity/kde_labels.csv (day, scott, silverman, fixed7) and
kde_bandwidths.csv (name, h_days).

Usage (from the repository root): .venv-tools/bin/python tools/ref_kde.py
"""

import csv
from pathlib import Path

import numpy as np
from scipy.stats import gaussian_kde

OUT = Path("tests/fixtures/seismicity")
N_DAYS = 730


def main():
    t = np.loadtxt(OUT / "catalog.csv", delimiter=",", skiprows=1, usecols=0)
    std = t.std(ddof=1)
    kdes = {
        "scott": gaussian_kde(t, bw_method="scott"),
        "silverman": gaussian_kde(t, bw_method="silverman"),
        "fixed7": gaussian_kde(t, bw_method=7.0 / std),
    }
    labels = {
        name: [k.integrate_box_1d(d, d + 1) for d in range(N_DAYS)] for name, k in kdes.items()
    }
    with open(OUT / "kde_labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["day", *kdes])
        for d in range(N_DAYS):
            w.writerow([d, *(f"{labels[name][d]:.15e}" for name in kdes)])
    with open(OUT / "kde_bandwidths.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "h_days"])
        for name, k in kdes.items():
            w.writerow([name, repr(float(np.sqrt(k.covariance[0, 0])))])
    for name, k in kdes.items():
        print(f"{name}: h = {np.sqrt(k.covariance[0, 0]):.6f} days, sum of labels {sum(labels[name]):.6f}")


if __name__ == "__main__":
    main()
