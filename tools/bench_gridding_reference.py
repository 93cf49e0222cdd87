"""Peer timings for benches/gridding.rs: the paper's gridding (§1.1, eqs. 5-17) in numpy,
vectorised per day, on the same sizes: 1,300 stations over the Japan box (123-148E, 22-46N),
a 50 x 50 grid from the corner, sigma = 8 latitude spacings, 5 % of station-days missing at
random, 15 years (5,475 days). Same design as the Rust bench, drawn with numpy's generator.

Two numpy peers, both vectorised over grid points and stations within a day, looping over days:

- `per_day_paper`: the paper's procedure as written, day by day: haversine distances and
  Gaussian weights for that day's stations (eqs. 5-7), normalisation (eq. 8), the weighted
  means, covariance and co-vectors as (cells x stations) @ (stations,) products (eqs. 9-13),
  a batched 2 x 2 solve (eqs. 14-15) and the correction (eqs. 16-17).
- `per_day_precomputed_weights`: the same, with the geometry-only weights computed once for all
  stations and each day's sums taken as one BLAS product (cells x stations) @ (stations x 13)
  of the masked per-station quantities, the strongest per-day numpy form we know.

Each is timed on a subset of days (printed) and scaled to 5,475 days. numpy's BLAS uses the
machine's cores, as faer does in the Rust bench.

Usage (from the repository root): .venv-tools/bin/python tools/bench_gridding_reference.py
"""

import time

import numpy as np

R = 6_371_000.0
N_STATIONS = 1_300
N_DAYS = 5_475
ROWS = COLS = 50
LON0, LON1, LAT0, LAT1 = 123.0, 148.0, 22.0, 46.0
GAP = 0.05
SIGMA_CELLS = 8.0
DAYS_TIMED_PAPER = 20
DAYS_TIMED_PRECOMPUTED = 200


def setup(rng):
    lat = rng.uniform(LAT0, LAT1, N_STATIONS)
    lon = rng.uniform(LON0, LON1, N_STATIONS)
    return lat, lon


def day_data(rng):
    v = np.column_stack(
        [
            rng.uniform(-3, 3, N_STATIONS),
            rng.uniform(-3, 3, N_STATIONS),
            rng.uniform(-8, 8, N_STATIONS),
        ]
    )
    mask = rng.uniform(size=N_STATIONS) >= GAP
    return v, mask


def grid_points():
    dlat, dlon = (LAT1 - LAT0) / ROWS, (LON1 - LON0) / COLS
    pg, lg = np.meshgrid(LAT0 + np.arange(ROWS) * dlat, LON0 + np.arange(COLS) * dlon, indexing="ij")
    sigma = SIGMA_CELLS * R * np.radians(dlat)
    return pg.ravel(), lg.ravel(), sigma


def weights(pg, lg, lat, lon, sigma):
    p1, p2 = np.radians(pg)[:, None], np.radians(lat)[None, :]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon[None, :] - lg[:, None]) / 2) ** 2
    d = 2 * R * np.arctan2(np.sqrt(a), np.sqrt(1 - a))
    return np.exp(-(d**2) / (2 * sigma**2))


def finish(pg, lg, s):
    """Eqs. (9)-(17) from normalised sums s[:, k] (k as in quakelab: 1, p, l, pp, ll, pl, vN,
    vE, vU, p vN, l vN, p vE, l vE)."""
    mu_p, mu_l = s[:, 1], s[:, 2]
    spp, sll, spl = s[:, 3] - mu_p**2, s[:, 4] - mu_l**2, s[:, 5] - mu_p * mu_l
    det = spp * sll - spl**2
    out = s[:, 6:9].copy()
    for ch, (a, b) in enumerate([(9, 10), (11, 12)]):
        c0 = s[:, a] - mu_p * s[:, 6 + ch]
        c1 = s[:, b] - mu_l * s[:, 6 + ch]
        g0 = (sll * c0 - spl * c1) / det
        g1 = (spp * c1 - spl * c0) / det
        out[:, ch] += g0 * (pg - mu_p) + g1 * (lg - mu_l)
    return out


def per_day_paper(pg, lg, sigma, lat, lon, v, mask):
    p, l, vv = lat[mask], lon[mask], v[mask]
    w = weights(pg, lg, p, l, sigma)
    w /= w.sum(axis=1, keepdims=True)
    cols = [np.ones_like(p), p, l, p * p, l * l, p * l, vv[:, 0], vv[:, 1], vv[:, 2]]
    cols += [p * vv[:, 0], l * vv[:, 0], p * vv[:, 1], l * vv[:, 1]]
    s = np.column_stack([w @ c for c in cols])
    return finish(pg, lg, s)


def per_day_precomputed(pg, lg, w_all, lat, lon, v, mask):
    m = mask.astype(float)
    p, l = lat, lon
    f = np.column_stack(
        [m, m * p, m * l, m * p * p, m * l * l, m * p * l, m * v[:, 0], m * v[:, 1], m * v[:, 2],
         m * p * v[:, 0], m * l * v[:, 0], m * p * v[:, 1], m * l * v[:, 1]]
    )
    s = w_all @ f
    s /= s[:, :1]
    return finish(pg, lg, s)


def main():
    rng = np.random.default_rng(2024)
    lat, lon = setup(rng)
    pg, lg, sigma = grid_points()
    days = [day_data(rng) for _ in range(DAYS_TIMED_PRECOMPUTED)]

    t0 = time.perf_counter()
    for v, mask in days[:DAYS_TIMED_PAPER]:
        per_day_paper(pg, lg, sigma, lat, lon, v, mask)
    t_paper = (time.perf_counter() - t0) / DAYS_TIMED_PAPER

    t0 = time.perf_counter()
    w_all = weights(pg, lg, lat, lon, sigma)
    t_weights = time.perf_counter() - t0
    t0 = time.perf_counter()
    for v, mask in days:
        per_day_precomputed(pg, lg, w_all, lat, lon, v, mask)
    t_pre = (time.perf_counter() - t0) / DAYS_TIMED_PRECOMPUTED

    print(f"numpy {np.__version__}; {N_STATIONS} stations, {ROWS}x{COLS} grid, {N_DAYS} days")
    print(
        f"per_day_paper: {t_paper * 1e3:.1f} ms/day over {DAYS_TIMED_PAPER} days timed, "
        f"scaled to {N_DAYS} days: {t_paper * N_DAYS:.1f} s"
    )
    print(
        f"per_day_precomputed_weights: weights {t_weights:.2f} s once + {t_pre * 1e3:.2f} ms/day "
        f"over {DAYS_TIMED_PRECOMPUTED} days timed, scaled to {N_DAYS} days: "
        f"{t_weights + t_pre * N_DAYS:.1f} s"
    )


if __name__ == "__main__":
    main()
