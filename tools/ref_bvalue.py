"""Reference fixture for quakelab's sliding b/a values (run once; outputs are committed).

Makes a small synthetic catalog (Gutenberg-Richter magnitudes binned to 0.1, b = 1, about 3000
events over 730 days, with two incomplete aftershock bursts and a quiet stretch), then computes the
b and a values of 128-day windows (step 3 days, min_events 50) the plain way: one boolean mask per
window, numpy means. Nothing here is shared with the Rust code.

Conventions (quakelab's): day d's window holds event times t in [d - 127, d + 1); a window that
would begin before day 0 is "incomplete"; fewer than 50 events at or above Mc is "too_few_events";
M >= Mc is tested as M >= Mc - 1e-9.

Columns of tests/fixtures/seismicity/bvalue_windows.csv:
  day, n (events >= fixed Mc 2.5), missing,
  b_aki, std_aki, a_aki          eq. (19) and (20), Shi & Bolt std, 2.3·b²·sqrt(Σ(M - M̄)²/(n(n-1)))
  b_utsu, std_utsu, a_utsu       Aki-Utsu, Mc - 0.05
  b_pos, std_pos, a_pos, n_pos   b-positive: consecutive events (>= Mc) in the window, differences >= 0.1
  mc_pw, n_pw, b_pw, a_pw, missing_pw
                                 per-window Mc = MAXC + 0.2 over all window events, Aki-Utsu above it

Usage (from the repository root): .venv-tools/bin/python tools/ref_bvalue.py
"""

import csv
import math
from pathlib import Path

import numpy as np

OUT = Path("tests/fixtures/seismicity")
N_DAYS = 730
WINDOW = 128
STEP = 3
MIN_EVENTS = 50
MC = 2.5
DM = 0.1
TOL = 1e-9
LOG10E = math.log10(math.e)


def gr_magnitudes(rng, n, m_min, b=1.0):
    """GR magnitudes binned to 0.1, lowest bin m_min."""
    beta = b * math.log(10.0)
    continuous = (m_min - DM / 2) + rng.exponential(1.0 / beta, size=n)
    return np.round(continuous / DM) / 10.0


def catalog(rng):
    times, mags = [], []
    # Background: 3.9 events/day on days 0-599, 0.4/day on 600-729 (a quiet stretch).
    for lo, hi, rate in [(0, 600, 3.9), (600, N_DAYS, 0.4)]:
        n = rng.poisson(rate * (hi - lo))
        times.append(rng.uniform(lo, hi, size=n))
        mags.append(gr_magnitudes(rng, n, 2.0))
    # Two aftershock bursts in which events below 2.4 are missed (short-term incompleteness).
    for start, n in [(300.25, 250), (480.6, 200)]:
        times.append(start + rng.exponential(6.0, size=n))
        mags.append(gr_magnitudes(rng, n, 2.4))
    t = np.concatenate(times)
    m = np.concatenate(mags)
    keep = t < N_DAYS
    t, m = t[keep], m[keep]
    order = np.argsort(t, kind="stable")
    # Times with 10 decimals, so the Rust side reads exactly these numbers.
    return np.round(t[order], 10), m[order]


def fit(sample, reference, n_count, mc, correction):
    """b, Shi-Bolt std and a from a sample measured against `reference` (Mc or delta)."""
    if len(sample) < 2:
        return None
    denom = sample.mean() - (reference - correction)
    if denom <= 0:
        return None
    b = LOG10E / denom
    m = len(sample)
    std = 2.3 * b * b * math.sqrt(((sample - sample.mean()) ** 2).sum() / (m * (m - 1)))
    a = math.log10(n_count) + b * mc
    return b, std, a


def fmt(x):
    return "" if x is None else repr(float(x))


def main():
    rng = np.random.default_rng(20240101)
    t, m = catalog(rng)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "catalog.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_days", "magnitude"])
        for ti, mi in zip(t, m):
            w.writerow([f"{ti:.10f}", f"{mi:.1f}"])
    # Read back what was written, as the Rust test will.
    t = np.array([float(f"{x:.10f}") for x in t])
    m = np.array([float(f"{x:.1f}") for x in m])

    rows = []
    for d in range(0, N_DAYS, STEP):
        in_window = (t >= d - WINDOW + 1) & (t < d + 1)
        above = in_window & (m >= MC - TOL)
        n = int(above.sum())
        row = {"day": d, "n": n}
        # Per-window Mc from the magnitudes of every event in the window.
        wm = m[in_window]
        mc_pw = None
        if len(wm):
            bins, counts = np.unique(np.round(wm / DM).astype(int), return_counts=True)
            mode = bins[np.argmax(counts)]  # lowest bin among ties
            mc_pw = mode / 10.0 + 0.2
        row["mc_pw"] = mc_pw
        if d - WINDOW + 1 < 0:
            row["missing"] = "incomplete"
            row["missing_pw"] = "incomplete"
            rows.append(row)
            continue
        if n < MIN_EVENTS:
            row["missing"] = "too_few_events"
        else:
            x = m[above]
            aki = fit(x, MC, n, MC, 0.0)
            utsu = fit(x, MC, n, MC, DM / 2)
            diffs = np.diff(x)
            pos = diffs[diffs >= DM - TOL]
            bpos = fit(pos, DM, n, MC, DM / 2)
            row["missing"] = "" if aki is not None else "invalid_fit"
            for name, v in [("aki", aki), ("utsu", utsu), ("pos", bpos)]:
                if v is not None:
                    row[f"b_{name}"], row[f"std_{name}"], row[f"a_{name}"] = v
            row["n_pos"] = len(pos)
        if mc_pw is not None:
            x = wm[wm >= mc_pw - TOL]
            row["n_pw"] = len(x)
            if len(x) < MIN_EVENTS:
                row["missing_pw"] = "too_few_events"
            else:
                v = fit(x, mc_pw, len(x), mc_pw, DM / 2)
                row["missing_pw"] = "" if v is not None else "invalid_fit"
                if v is not None:
                    row["b_pw"], _, row["a_pw"] = v
        rows.append(row)

    cols = ["day", "n", "missing", "b_aki", "std_aki", "a_aki", "b_utsu", "std_utsu", "a_utsu",
            "b_pos", "std_pos", "a_pos", "n_pos", "mc_pw", "n_pw", "b_pw", "a_pw", "missing_pw"]
    with open(OUT / "bvalue_windows.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            out = []
            for c in cols:
                v = r.get(c)
                if c in ("day", "n", "n_pos", "n_pw"):
                    out.append("" if v is None else str(int(v)))
                elif c.startswith("missing"):
                    out.append(v or "")
                else:
                    out.append(fmt(v))
            w.writerow(out)
    valid = sum(1 for r in rows if r.get("missing") == "")
    few = sum(1 for r in rows if r.get("missing") == "too_few_events")
    mcs = sorted({r["mc_pw"] for r in rows if r.get("mc_pw") is not None})
    print(f"{len(t)} events, {len(rows)} rows: {valid} valid, {few} too few; per-window Mc values {mcs}")


if __name__ == "__main__":
    main()
