"""Parity fixtures for quakelab's completeness-magnitude methods and Weichert's estimator.

Reference: SeismoStats 1.0.1 (Swiss Seismological Service). Make the environment with

    python -m venv venv-seis && venv-seis/bin/pip install seismostats==1.0.1

and run from the repository root:

    venv-seis/bin/python tools/parity/make_seismostats_mc.py

The synthetic catalogs are this script's own: seeded numpy Gutenberg-Richter magnitudes (b = 1)
with an incompleteness ramp below a true Mc, rounded to 0.1 with SeismoStats' bin_to_precision.
One catalog per true Mc from 2.0 to 4.0 in steps of 0.1 (21 catalogs). Written to
tests/fixtures/seismostats/mc/:

- magnitudes.csv          catalog,magnitude (catalog = true Mc in tenths, 20..40)
- expected.csv            catalog,true_mc,maxc,maxc_bin02,b_stability,b_stability_b
                          (estimate_mc_maxc with fmd_bin 0.1 and correction 0.2; with fmd_bin 0.2
                          and correction 0.2; estimate_mc_b_stability with delta_m 0.1; empty
                          where SeismoStats returns None)
- b_stability.csv         catalog,mc,b,diff_b for every candidate estimate_mc_b_stability tested
- ks.csv                  catalog,mc,n,b,ks_distance,p_value: estimate_mc_ks (delta_m 0.1,
                          n = 2000, stop_when_passed False, numpy seed 21) on catalogs 20, 25,
                          30, 35, 40, every candidate
- weichert_magnitudes.csv year,magnitude: a catalog over 1900..2019 whose completeness
                          improves in steps (see weichert_catalog)
- weichert.csv            b,std_b,rate_at_lmc,std_rate_at_lmc,a_val from estimate_b_weichert
"""

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
from seismostats.analysis.bvalue.weichert import estimate_b_weichert
from seismostats.analysis.estimate_mc import (estimate_mc_b_stability,
                                              estimate_mc_ks, estimate_mc_maxc)
from seismostats.utils.binning import bin_to_precision

OUT = Path("tests/fixtures/seismostats/mc")
DELTA_M = 0.1


def synthetic_catalog(true_mc: float, rng: np.random.Generator) -> np.ndarray:
    """2500 continuous GR magnitudes (b = 1) from true_mc - 1.05 up; an event a distance d below
    true_mc - 0.05 is detected with probability 1 - d (a linear ramp over one magnitude unit);
    the detected magnitudes rounded to 0.1."""
    m0 = true_mc - 1.05
    m = rng.exponential(1 / np.log(10), 2500) + m0
    below = np.clip(true_mc - 0.05 - m, 0.0, None)
    detected = rng.uniform(size=m.size) >= below
    return bin_to_precision(m[detected], DELTA_M)


def weichert_catalog(rng: np.random.Generator):
    """Annual GR magnitudes (b = 1, 10 events per year at M >= 4.0) over 1900..2019, bins of
    0.1; an event is kept when its magnitude is at or above the completeness of its year:
    5.0 before 1950, 4.5 from 1950, 4.0 from 1980."""
    years, mags = [], []
    for year in range(1900, 2020):
        n = rng.poisson(10)
        m = bin_to_precision(rng.exponential(1 / np.log(10), n) + 3.95, DELTA_M)
        mc = 5.0 if year < 1950 else (4.5 if year < 1980 else 4.0)
        keep = m >= mc - 1e-9
        years += [year] * int(keep.sum())
        mags += list(m[keep])
    return np.array(years), np.array(mags)


def quiet(f, *args, **kwargs):
    """Calls f without SeismoStats' prints and warnings."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


def fmt(x) -> str:
    return "" if x is None else repr(float(x))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2021)
    catalogs = {k: synthetic_catalog(k / 10, rng) for k in range(20, 41)}

    with open(OUT / "magnitudes.csv", "w") as f:
        f.write("catalog,magnitude\n")
        for k, m in catalogs.items():
            for v in m:
                f.write(f"{k},{float(v)!r}\n")

    with open(OUT / "expected.csv", "w") as f, \
            open(OUT / "b_stability.csv", "w") as g:
        f.write("catalog,true_mc,maxc,maxc_bin02,b_stability,b_stability_b\n")
        g.write("catalog,mc,b,diff_b\n")
        for k, m in catalogs.items():
            maxc, _ = estimate_mc_maxc(m, fmd_bin=0.1, correction_factor=0.2)
            maxc02, _ = estimate_mc_maxc(m, fmd_bin=0.2, correction_factor=0.2)
            stab, info = quiet(estimate_mc_b_stability, m, delta_m=DELTA_M)
            f.write(f"{k},{k / 10!r},{fmt(maxc)},{fmt(maxc02)},{fmt(stab)},"
                    f"{fmt(info['best_b_value'])}\n")
            for mc, b, d in zip(info["mcs_tested"], info["b_values_tested"],
                                info["diff_bs"]):
                g.write(f"{k},{fmt(mc)},{fmt(b)},{fmt(d)}\n")

    np.random.seed(21)
    with open(OUT / "ks.csv", "w") as f:
        f.write("catalog,mc,n,b,ks_distance,p_value\n")
        for k in (20, 25, 30, 35, 40):
            m = catalogs[k]
            _, info = quiet(estimate_mc_ks, m, delta_m=DELTA_M, n=2000,
                            stop_when_passed=False)
            for mc, b, d, p in zip(info["mcs_tested"], info["b_values_tested"],
                                   info["ks_ds"], info["p_values"]):
                n = int(np.sum(m >= mc - DELTA_M / 2))
                f.write(f"{k},{fmt(mc)},{n},{fmt(b)},{fmt(d)},{fmt(p)}\n")

    years, mags = weichert_catalog(np.random.default_rng(1980))
    with open(OUT / "weichert_magnitudes.csv", "w") as f:
        f.write("year,magnitude\n")
        for y, v in zip(years, mags):
            f.write(f"{y},{float(v)!r}\n")
    times = np.array([np.datetime64(f"{y}-07-01") for y in years])
    table = np.array([[3.95, 1980], [4.45, 1950], [4.95, 1900]])
    b, std_b, rate, std_rate, a_val = quiet(
        estimate_b_weichert, mags, times, table, mag_max=10.0, last_year=2020,
        delta_m=DELTA_M)
    with open(OUT / "weichert.csv", "w") as f:
        f.write("b,std_b,rate_at_lmc,std_rate_at_lmc,a_val\n")
        f.write(",".join(fmt(x) for x in (b, std_b, rate, std_rate, a_val)) + "\n")


if __name__ == "__main__":
    main()
