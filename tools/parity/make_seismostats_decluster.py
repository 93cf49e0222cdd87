"""Gardner-Knopoff declustering fixtures (tests/fixtures/seismostats/decluster/) from SeismoStats
1.0.1's `GardnerKnopoffType1` with its three window tables.

The catalog is quakelab's own, made here: a seeded, ETAS-like clustered catalog of a few
thousand events over three years in a box off northeast Honshu (a Poisson background, two
generations of Omori-Utsu aftershocks around each event, and two imposed large events, M 6.8
and M 6.0, so the windows' long-duration branch is exercised). Magnitudes are binned to 0.1
(equal magnitudes are common, which exercises the order in which mainshocks are taken), times
are in milliseconds, a few events share a time to the millisecond, and coordinates are rounded to
1e-4 degree.

Written:
- `catalog.csv`: time (RFC 3339 UTC, milliseconds), latitude, longitude, depth, magnitude, in
  time order; readable by quakelab as a generic CSV catalog.
- `declustered.csv`: one row per catalog event, in the same order, with SeismoStats' mainshock
  flag and cluster id for each configuration: `gardner_knopoff` (GardnerKnopoffWindow,
  fs_time_prop 1.0, the Contract's setting), `gruenthal` and `uhrhammer` (fs_time_prop 1.0),
  and `gardner_knopoff_fs05` (GardnerKnopoffWindow, fs_time_prop 0.5). The cluster ids are the
  declusterer's private `__cluster_ids`, which SeismoStats computes but does not return.

The times are handed to SeismoStats as timezone-aware UTC timestamps (as `pd.to_datetime`
reads a `...Z` time), which it compares to the nanosecond; the numbers are read back from the
CSV text (pandas parses these short decimals to the nearest double, as Rust does), so both sides
decluster the same values.

A venv for it: python -m venv venv && venv/bin/pip install seismostats==1.0.1
Run: venv/bin/python tools/parity/make_seismostats_decluster.py
"""

import pathlib

import numpy as np
import pandas as pd
from seismostats.analysis.declustering import (
    GardnerKnopoffType1,
    GardnerKnopoffWindow,
    GruenthalWindow,
    UhrhammerWindow,
)

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/seismostats/decluster"

SEED = 21
START = pd.Timestamp("2020-01-01T00:00:00Z")
DAYS = 3 * 365
M_MIN = 2.0
B = 1.0
KM_PER_DEGREE = 111.195


def magnitudes(rng, n):
    """Binned Gutenberg-Richter magnitudes, b = 1, from M_MIN, capped at 7.5."""
    continuous = M_MIN - 0.05 + rng.exponential(1.0 / (B * np.log(10.0)), n)
    return np.minimum(np.round(continuous, 1), 7.5)


def offsets(rng, n, magnitude):
    """Epicentral offsets (degrees) of aftershocks around a parent of `magnitude`."""
    scale_km = 1.0 * 10.0 ** (0.5 * (magnitude - M_MIN))
    # A heavy tail, capped at 150 km so every event stays near the box.
    r = np.minimum(scale_km * np.sqrt(rng.pareto(1.5, n) + 0.05), 150.0)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    return r * np.cos(angle) / KM_PER_DEGREE, r * np.sin(angle) / KM_PER_DEGREE


def aftershocks(rng, parents):
    """One generation of aftershocks of `parents` (rows t, lat, lon, depth, m)."""
    rows = []
    for t, lat, lon, depth, m in parents:
        n = rng.poisson(0.06 * 10.0 ** (0.9 * (m - M_MIN)))
        if n == 0:
            continue
        # Omori-Utsu times, c = 0.01 days, p = 1.2, truncated at the catalog's end.
        u = rng.uniform(size=n)
        dt = 0.01 * ((1.0 - u) ** (-1.0 / 0.2) - 1.0)
        dlat, dlon = offsets(rng, n, m)
        for k in range(n):
            if t + dt[k] < DAYS:
                rows.append(
                    (
                        t + dt[k],
                        lat + dlat[k],
                        lon + dlon[k] / np.cos(np.radians(lat)),
                        abs(depth + rng.normal(0.0, 4.0)),
                        magnitudes(rng, 1)[0],
                    )
                )
    return rows


def synthetic_catalog():
    rng = np.random.default_rng(SEED)
    n_background = 1300
    background = list(
        zip(
            rng.uniform(0.0, DAYS, n_background),
            rng.uniform(36.0, 40.0, n_background),
            rng.uniform(140.5, 144.0, n_background),
            rng.uniform(5.0, 50.0, n_background),
            magnitudes(rng, n_background),
        )
    )
    imposed = [(400.25, 38.3, 142.4, 24.0, 6.8), (800.6, 37.1, 141.2, 10.0, 6.0)]
    first = aftershocks(rng, background + imposed)
    second = aftershocks(rng, first)
    rows = background + imposed + first + second
    # A few copies of an event's time (to the millisecond) elsewhere, to exercise ties.
    for k in rng.choice(len(rows), 6, replace=False):
        t, lat, lon, depth, m = rows[k]
        rows.append((t, lat + 0.05, lon - 0.05, depth, m))
    frame = pd.DataFrame(rows, columns=["days", "latitude", "longitude", "depth", "magnitude"])
    frame = frame[(frame.days >= 0.0) & (frame.days < DAYS)]
    millis = np.round(frame.days.to_numpy() * 86_400_000.0).astype("int64")
    frame = frame.assign(time=START + pd.to_timedelta(millis, unit="ms"))
    frame = frame.sort_values("time", kind="mergesort").reset_index(drop=True)
    return pd.DataFrame(
        {
            "time": frame.time.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z",
            "latitude": frame.latitude.round(4),
            "longitude": frame.longitude.round(4),
            "depth": frame.depth.round(1),
            "magnitude": frame.magnitude.round(1),
        }
    )


CONFIGS = [
    ("gardner_knopoff", GardnerKnopoffWindow, 1.0),
    ("gruenthal", GruenthalWindow, 1.0),
    ("uhrhammer", UhrhammerWindow, 1.0),
    ("gardner_knopoff_fs05", GardnerKnopoffWindow, 0.5),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    catalog_path = OUT / "catalog.csv"
    synthetic_catalog().to_csv(catalog_path, index=False)
    catalog = pd.read_csv(catalog_path)
    catalog["time"] = pd.to_datetime(catalog["time"], utc=True)
    flags = {}
    for name, window, fs_time_prop in CONFIGS:
        declusterer = GardnerKnopoffType1(window(), fs_time_prop=fs_time_prop)
        mainshock = declusterer(catalog)
        flags[f"{name}_mainshock"] = np.where(mainshock, "true", "false")
        flags[f"{name}_cluster"] = declusterer._GardnerKnopoffType1__cluster_ids
        print(f"{name}: {len(catalog)} events, {int(mainshock.sum())} mainshocks")
    pd.DataFrame(flags).to_csv(OUT / "declustered.csv", index=False)


if __name__ == "__main__":
    main()
