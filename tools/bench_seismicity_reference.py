"""Peer timings for benches/seismicity.rs: the straightforward Python way, same sizes.

Same synthetic design as the Rust bench (100,000 events over 5,475 days: a uniform background plus
bursts, Gutenberg-Richter magnitudes b = 1 binned to 0.1 from 2.0), drawn with numpy's generator, so
the numbers are the same kind of catalog but not the identical events.

- b/a values: 128-day windows, step 1 day, Mc = 3.0, Aki (eq. 19) and eq. (20), a loop over days
  with one boolean mask per window (numpy), and the same loop with pandas selection.
- KDE labels: scipy gaussian_kde (Scott) and integrate_box_1d per day. Each call costs O(n), so the
  script times a subset of days and scales to 5,475 days; it prints the subset size.

Usage (from the repository root): .venv-tools/bin/python tools/bench_seismicity_reference.py
"""

import math
import time

import numpy as np
import pandas as pd
from scipy.stats import gaussian_kde

N_EVENTS = 100_000
N_DAYS = 5_475
WINDOW = 128
MC = 3.0
MIN_EVENTS = 50
KDE_DAYS_TIMED = 200


def catalog(rng):
    i = np.arange(N_EVENTS)
    t = rng.uniform(0, N_DAYS, size=N_EVENTS)
    burst = i % 4 == 0
    starts = (i[burst] // 4 % 40) * (N_DAYS / 40)
    t[burst] = np.minimum(starts + rng.exponential(5.0, size=burst.sum()), N_DAYS - 1e-6)
    m = np.round((1.95 + rng.exponential(1 / math.log(10), size=N_EVENTS)) * 10) / 10
    order = np.argsort(t, kind="stable")
    return t[order], m[order]


def b_numpy(t, m):
    out = []
    for d in range(N_DAYS):
        if d - WINDOW + 1 < 0:
            out.append(None)
            continue
        mask = (t >= d - WINDOW + 1) & (t < d + 1) & (m >= MC - 1e-9)
        x = m[mask]
        n = len(x)
        if n < MIN_EVENTS:
            out.append(None)
            continue
        b = math.log10(math.e) / (x.mean() - MC)
        std = 2.3 * b * b * math.sqrt(((x - x.mean()) ** 2).sum() / (n * (n - 1)))
        out.append((b, std, math.log10(n) + b * MC))
    return out


def b_pandas(df):
    out = []
    for d in range(N_DAYS):
        if d - WINDOW + 1 < 0:
            out.append(None)
            continue
        x = df.loc[(df.t >= d - WINDOW + 1) & (df.t < d + 1) & (df.m >= MC - 1e-9), "m"]
        n = len(x)
        if n < MIN_EVENTS:
            out.append(None)
            continue
        b = math.log10(math.e) / (x.mean() - MC)
        std = 2.3 * b * b * math.sqrt(((x - x.mean()) ** 2).sum() / (n * (n - 1)))
        out.append((b, std, math.log10(n) + b * MC))
    return out


def best_of(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times), sorted(times)[len(times) // 2]


def main():
    rng = np.random.default_rng(2024)
    t, m = catalog(rng)
    print(f"catalog: {N_EVENTS} events over {N_DAYS} days")

    best, median = best_of(lambda: b_numpy(t, m), 3)
    print(f"b/a numpy mask loop (128 d, step 1, {N_DAYS} rows): best {best * 1e3:.1f} ms, median {median * 1e3:.1f} ms")
    df = pd.DataFrame({"t": t, "m": m})
    best, median = best_of(lambda: b_pandas(df), 1)
    print(f"b/a pandas mask loop (128 d, step 1, {N_DAYS} rows): {best * 1e3:.1f} ms (one run)")

    kde = gaussian_kde(t, bw_method="scott")
    h = math.sqrt(kde.covariance[0, 0])
    days = np.linspace(0, N_DAYS - 1, KDE_DAYS_TIMED).astype(int)
    start = time.perf_counter()
    for d in days:
        kde.integrate_box_1d(d, d + 1)
    subset = time.perf_counter() - start
    fit_start = time.perf_counter()
    gaussian_kde(t, bw_method="scott")
    fit = time.perf_counter() - fit_start
    scaled = fit + subset * N_DAYS / KDE_DAYS_TIMED
    print(
        f"KDE labels gaussian_kde + integrate_box_1d (Scott, h = {h:.1f} d): timed {KDE_DAYS_TIMED} of "
        f"{N_DAYS} days in {subset * 1e3:.1f} ms (fit {fit * 1e3:.1f} ms); scaled to all days: {scaled:.2f} s"
    )


if __name__ == "__main__":
    main()
