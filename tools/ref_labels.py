"""Reference fixture for quakelab's label series of the KDE kinds (run once; outputs are committed).

Draws 60 event times in a 200-day period (a background plus a cluster near each edge, so the
boundary corrections matter), and takes the events before day 120 as the fit events (what a split
may learn from). For two bandwidths (fixed 7 days, and Scott's rule on the fit events:
h = n_fit^(-1/5) * std(fit, ddof=1)) it computes, with scipy.stats, for every day d = [d, d + 1):

  centred_none        (1/n_fit) sum_i [norm.cdf(d+1; t_i, h) - norm.cdf(d; t_i, h)] over all events
  centred_renormalise centred_none / (norm.cdf((T - t)/h) - norm.cdf(-t/h)), t = d + 1/2, T = 200;
                      empty where that mass is below 0.5
  centred_reflect     centred_none summed over the events, their mirrors -t_i and 2T - t_i
  causal_none         (1/n_fit) sum_i [halfnorm.cdf(d+1 - t_i; h) - halfnorm.cdf(d - t_i; h)]
  causal_renormalise  causal_none / halfnorm.cdf(t; h), t = d + 1/2; empty below 0.5
  causal_reflect      causal_none plus each mirror -t_i counted from t_i on:
                      (1/n_fit) sum_i integral over [d, d+1) of 1[t >= t_i] halfnorm.pdf(t + t_i; h)

Writes tests/fixtures/seismicity/label_events.csv (time, fit) and label_kinds.csv
(bandwidth, h_days, day, and the six columns).

Usage (from the repository root): .venv-tools/bin/python tools/ref_labels.py
"""

import csv
from pathlib import Path

import numpy as np
from scipy.stats import halfnorm, norm

OUT = Path("tests/fixtures/seismicity")
N_DAYS = 200
FIT_BEFORE = 120.0
MIN_MASS = 0.5


def centred(events, n_fit, h):
    d = np.arange(N_DAYS)[:, None]
    e = np.asarray(events)[None, :]
    return (norm.cdf(d + 1, loc=e, scale=h) - norm.cdf(d, loc=e, scale=h)).sum(axis=1) / n_fit


def causal(events, n_fit, h):
    d = np.arange(N_DAYS)[:, None]
    e = np.asarray(events)[None, :]
    return (halfnorm.cdf(d + 1 - e, scale=h) - halfnorm.cdf(d - e, scale=h)).sum(axis=1) / n_fit


def causal_known_mirrors(events, n_fit, h):
    d = np.arange(N_DAYS)[:, None]
    e = np.asarray(events)[None, :]
    lower = np.maximum(d, e)
    part = halfnorm.cdf(d + 1 + e, scale=h) - halfnorm.cdf(lower + e, scale=h)
    return np.where(d + 1 > e, part, 0.0).sum(axis=1) / n_fit


def main():
    rng = np.random.default_rng(13)
    times = np.sort(
        np.concatenate(
            [
                rng.uniform(0, N_DAYS, 40),
                rng.normal(4.0, 2.0, 10).clip(0.0, 30.0),
                rng.normal(195.0, 2.0, 10).clip(170.0, N_DAYS - 1e-3),
            ]
        )
    )
    fit = times[times < FIT_BEFORE]
    n_fit = len(fit)
    scott = n_fit ** (-0.2) * fit.std(ddof=1)
    mid = np.arange(N_DAYS) + 0.5
    with open(OUT / "label_events.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "fit"])
        for t in times:
            w.writerow([f"{t:.15e}", int(t < FIT_BEFORE)])
    with open(OUT / "label_kinds.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "bandwidth",
                "h_days",
                "day",
                "centred_none",
                "centred_renormalise",
                "centred_reflect",
                "causal_none",
                "causal_renormalise",
                "causal_reflect",
            ]
        )
        for name, h in [("fixed7", 7.0), ("scott", scott)]:
            c = centred(times, n_fit, h)
            c_mass = norm.cdf((N_DAYS - mid) / h) - norm.cdf(-mid / h)
            c_ref = centred(np.concatenate([times, -times, 2 * N_DAYS - times]), n_fit, h)
            k = causal(times, n_fit, h)
            k_mass = halfnorm.cdf(mid, scale=h)
            k_ref = k + causal_known_mirrors(times, n_fit, h)
            for d in range(N_DAYS):
                renorm_c = f"{c[d] / c_mass[d]:.15e}" if c_mass[d] >= MIN_MASS else ""
                renorm_k = f"{k[d] / k_mass[d]:.15e}" if k_mass[d] >= MIN_MASS else ""
                w.writerow(
                    [
                        name,
                        f"{h:.15e}",
                        d,
                        f"{c[d]:.15e}",
                        renorm_c,
                        f"{c_ref[d]:.15e}",
                        f"{k[d]:.15e}",
                        renorm_k,
                        f"{k_ref[d]:.15e}",
                    ]
                )


if __name__ == "__main__":
    main()
