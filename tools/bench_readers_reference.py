"""Peer timings for the whole `features seismicity` and `gnss grid` commands, reading the same
files as quakelab does, the straightforward Python way (pandas to read, numpy to compute).

- seismicity: pandas `read_csv` of a ComCat CSV (only earthquakes kept, ISO times parsed), then
  the b/a values of 128-day windows stepped by one day over the period (Aki's eq. 19, the
  Shi-Bolt standard error and eq. 20 for a, at least 50 events at or above Mc), written to a CSV.
  The windows are computed as `tools/bench_seismicity_reference.py` does (a loop over days with
  one boolean mask per window, numpy), which is the reference; a second timing computes them
  with cumulative sums over the time-sorted magnitudes (vectorised over windows) and is printed
  for comparison.
- gnss grid: every `*.tenv3` file of a directory read with pandas (whitespace-separated, NGL's
  header), east/north/up as integer part plus fraction and the position from the last three
  columns, gathered into a (days x stations) table with a presence mask; then the paper's
  gridding (§1.1, eqs. 5-17) as in `tools/bench_gridding_reference.py`'s fastest form: the
  Gaussian weights of every cell and station once, and each day's sums as one BLAS product
  (cells x stations) @ (stations x 13), saved as one .npy stack. A second timing runs the
  paper's per-day form of that script (each day's weights from that day's stations, normalised,
  then 13 matrix-vector products, vectorised over cells): the form issue 19 timed at 3.45 s.

Each is timed whole (read + compute + write), best of N runs, and printed as
`seismicity: best X s` and `gnss grid: best X s` for tools/bench-readers.sh.

Usage: PYTHON tools/bench_readers_reference.py CATALOG.csv TENV3_DIR START END [REPEATS]
e.g.   python tools/bench_readers_reference.py cat/catalog.csv tenv3 2009-01-01 2024-01-01 3
       (gnss grid takes its own period: the first two years from START.)

A Python to run it: python -m venv venv && venv/bin/pip install numpy pandas
"""

import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WINDOW_DAYS = 128
MC = 3.0
MIN_EVENTS = 50
R = 6_371_000.0
ROWS = COLS = 50
LON0, LON1, LAT0, LAT1 = 123.0, 148.0, 22.0, 46.0
SIGMA_CELLS = 8.0
GNSS_DAYS = 730


def windows_mask_loop(days, m, n_days):
    rows = []
    for d in range(WINDOW_DAYS - 1, n_days):
        x = m[(days >= d - WINDOW_DAYS + 1) & (days < d + 1)]
        n = len(x)
        if n < MIN_EVENTS:
            rows.append((d, n, np.nan, np.nan, np.nan))
            continue
        b = math.log10(math.e) / (x.mean() - MC)
        std = 2.3 * b * b * math.sqrt(((x - x.mean()) ** 2).sum() / (n * (n - 1)))
        rows.append((d, n, b, std, math.log10(n) + b * MC))
    d, n, b, std, a = (np.array(c) for c in zip(*rows))
    return d, n.astype(float), b, std, a


def windows_cumsum(days, m, n_days):
    order = np.argsort(days, kind="stable")
    days, m = days[order], m[order]
    s1 = np.concatenate([[0.0], np.cumsum(m)])
    s2 = np.concatenate([[0.0], np.cumsum(m * m)])
    d = np.arange(WINDOW_DAYS - 1, n_days)
    lo = np.searchsorted(days, d - WINDOW_DAYS + 1, side="left")
    hi = np.searchsorted(days, d + 1, side="left")
    n = (hi - lo).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (s1[hi] - s1[lo]) / n
        ss = (s2[hi] - s2[lo]) - n * mean * mean
        b = math.log10(math.e) / (mean - MC)
        std = 2.3 * b * b * np.sqrt(np.maximum(ss, 0.0) / (n * (n - 1)))
        a = np.log10(n) + b * MC
    return d, n, b, std, a


def seismicity(catalog, start, end, out, windows=windows_mask_loop):
    df = pd.read_csv(catalog)
    if "type" in df.columns:
        df = df[df["type"].fillna("earthquake").str.strip().str.lower() == "earthquake"]
    t = pd.to_datetime(df["time"], format="ISO8601", utc=True)
    t0 = pd.Timestamp(start, tz="UTC")
    n_days = (pd.Timestamp(end, tz="UTC") - t0).days
    days = ((t - t0).dt.total_seconds() / 86_400.0).to_numpy()
    m = df["mag"].to_numpy(dtype=float)
    keep = (days >= 0) & (days < n_days) & (m >= MC - 1e-9)
    d, n, b, std, a = windows(days[keep], m[keep], n_days)
    ok = n >= MIN_EVENTS
    dates = (t0 + pd.to_timedelta(d, unit="D")).strftime("%Y-%m-%d")
    pd.DataFrame(
        {
            "date": dates,
            "n": n.astype(int),
            "b": np.where(ok, b, np.nan),
            "b_std": np.where(ok, std, np.nan),
            "a": np.where(ok, a, np.nan),
        }
    ).to_csv(out, index=False)
    return int(ok.sum())


def read_tenv3_dir(directory):
    names = ["site", "yymmmdd", "yyyy", "mjd", "week", "d", "reflon", "e0", "east", "n0", "north",
             "u0", "up", "ant", "sig_e", "sig_n", "sig_u", "corr_en", "corr_eu", "corr_nu",
             "latitude", "longitude", "height"]
    frames = []
    for path in sorted(Path(directory).glob("*.tenv3")):
        with open(path) as f:
            has_header = f.readline().startswith("site")
        frames.append(
            pd.read_csv(path, sep=r"\s+", header=None, names=names, skiprows=1 if has_header else 0)
        )
    return frames


def haversine(pg, lg, lat, lon):
    """Great-circle distances in metres, (cells x stations)."""
    p1, p2 = np.radians(pg)[:, None], np.radians(lat)[None, :]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon[None, :] - lg[:, None]) / 2) ** 2
    return 2 * R * np.arctan2(np.sqrt(a), np.sqrt(1 - a))


def gnss_grid(directory, start, out, per_day_weights=False):
    frames = read_tenv3_dir(directory)
    mjd0 = (pd.Timestamp(start) - pd.Timestamp("1858-11-17")).days
    n_st = len(frames)
    lat = np.array([f["latitude"].iloc[0] for f in frames])
    lon = np.array([(f["longitude"].iloc[0] + 180.0) % 360.0 - 180.0 for f in frames])
    v = np.zeros((GNSS_DAYS, n_st, 3))
    present = np.zeros((GNSS_DAYS, n_st), dtype=bool)
    for k, f in enumerate(frames):
        day = f["mjd"].to_numpy() - mjd0
        inside = (day >= 0) & (day < GNSS_DAYS)
        day = day[inside]
        enu = np.column_stack(
            [f["e0"] + f["east"], f["n0"] + f["north"], f["u0"] + f["up"]]
        )[inside]
        v[day, k] = enu
        present[day, k] = True

    dlat, dlon = (LAT1 - LAT0) / ROWS, (LON1 - LON0) / COLS
    pg, lg = np.meshgrid(LAT0 + np.arange(ROWS) * dlat, LON0 + np.arange(COLS) * dlon, indexing="ij")
    pg, lg = pg.ravel(), lg.ravel()
    sigma = SIGMA_CELLS * R * np.radians(dlat)
    w = None if per_day_weights else np.exp(-(haversine(pg, lg, lat, lon) ** 2) / (2 * sigma**2))

    images = np.empty((GNSS_DAYS, ROWS, COLS, 3))
    for day in range(GNSS_DAYS):
        if per_day_weights:
            m = present[day]
            p, l, vd = lat[m], lon[m], v[day][m]
            wd = np.exp(-(haversine(pg, lg, p, l) ** 2) / (2 * sigma**2))
            wd /= wd.sum(axis=1, keepdims=True)
            cols = [np.ones_like(p), p, l, p * p, l * l, p * l, vd[:, 1], vd[:, 0], vd[:, 2],
                    p * vd[:, 1], l * vd[:, 1], p * vd[:, 0], l * vd[:, 0]]
            s = np.column_stack([wd @ c for c in cols])
        else:
            m = present[day].astype(float)
            vd = v[day]
            f = np.column_stack(
                [m, m * lat, m * lon, m * lat * lat, m * lon * lon, m * lat * lon,
                 m * vd[:, 1], m * vd[:, 0], m * vd[:, 2],
                 m * lat * vd[:, 1], m * lon * vd[:, 1], m * lat * vd[:, 0], m * lon * vd[:, 0]]
            )
            s = w @ f
            s /= s[:, :1]
        mu_p, mu_l = s[:, 1], s[:, 2]
        spp, sll, spl = s[:, 3] - mu_p**2, s[:, 4] - mu_l**2, s[:, 5] - mu_p * mu_l
        det = spp * sll - spl**2
        res = s[:, 6:9].copy()
        for ch, (i, j) in enumerate([(9, 10), (11, 12)]):
            c0 = s[:, i] - mu_p * s[:, 6 + ch]
            c1 = s[:, j] - mu_l * s[:, 6 + ch]
            res[:, ch] += (sll * c0 - spl * c1) / det * (pg - mu_p) + (spp * c1 - spl * c0) / det * (lg - mu_l)
        images[day] = res.reshape(ROWS, COLS, 3)
    np.save(out, images.astype(np.float32))
    return n_st


def best_of(f, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    catalog, directory, start, end = sys.argv[1:5]
    repeats = int(sys.argv[5]) if len(sys.argv) == 6 else 3
    with tempfile.TemporaryDirectory() as tmp:
        ba = Path(tmp) / "ba.csv"
        rows = seismicity(catalog, start, end, ba)
        best = best_of(lambda: seismicity(catalog, start, end, ba), repeats)
        print(f"seismicity: best {best:.4f} s ({rows} windows with b values, one mask per window; pandas {pd.__version__})")
        fast_rows = seismicity(catalog, start, end, ba, windows_cumsum)
        best = best_of(lambda: seismicity(catalog, start, end, ba, windows_cumsum), repeats)
        print(f"  (for comparison, windows by cumulative sums: best {best:.4f} s, {fast_rows} windows with b values)")
        stations = gnss_grid(directory, start, Path(tmp) / "images.npy")
        best = best_of(lambda: gnss_grid(directory, start, Path(tmp) / "images.npy"), repeats)
        print(f"gnss grid: best {best:.4f} s ({stations} stations x {GNSS_DAYS} days, {ROWS}x{COLS}; numpy {np.__version__})")
        paper = Path(tmp) / "images-paper.npy"
        gnss_grid(directory, start, paper, per_day_weights=True)
        best = best_of(lambda: gnss_grid(directory, start, paper, per_day_weights=True), repeats)
        print(f"gnss grid, paper's per-day form: best {best:.4f} s")
        a = np.load(Path(tmp) / "images.npy").astype(float)
        b = np.load(paper).astype(float)
        print(f"  (the two forms' images differ by at most {np.nanmax(np.abs(a - b)):.2e} mm)")


if __name__ == "__main__":
    main()
