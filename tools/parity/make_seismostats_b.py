"""b-value parity fixtures (tests/fixtures/seismostats/b/) from SeismoStats 1.0.1.

The catalog is quakelab's own, made here with a seeded numpy generator: 420 days of
background events plus a few aftershock bursts (Omori-like delays after a larger event), with
Gutenberg-Richter magnitudes (b = 1) above 2.5, rounded to 0.1 as catalogs are. Times are days
since the period start, in whole milliseconds. Each event also carries a seeded weight in [0.2, 2) for the weighted
estimators.

Files:
- catalog.csv: `time,magnitude,weight` (time order; magnitudes written with one decimal; the
  values below are computed from the parsed strings, as quakelab reads them).
- windows.csv: for each day d of the 128-day sliding windows (step 1) that lie inside the
  period, the events with `d + 1 - 128 <= t < d + 1`, and at Mc 3.0, delta_m 0.1, default dmc
  and the times given: `day,n,b_tm,a_tm,std_tm,b_pos,n_pos,std_pos,b_more,n_more,std_more,
  b_more_dmc2,n_more_dmc2` from ClassicBValueEstimator, ClassicAValueEstimator (m_ref 0, the
  classic b), BPositiveBValueEstimator and BMorePositiveBValueEstimator (dmc 0.2 for the last
  pair of columns). The std columns are SeismoStats' `shi_bolt_confidence` of the values each
  estimator used (magnitudes, or its differences), which carries ln 10 where quakelab's Shi &
  Bolt constant is 2.3.
- weighted.csv: `estimator,b,std,n` for the weighted estimators (the whole catalog, Mc 3.0,
  weights from catalog.csv): classic, utsu, b_positive, b_more_positive; std as above with the
  weights.
- significance.csv: `estimator,n_m,conservative,p,mac,mu_mac,std_mac` from `b_significant_1D`
  on the whole catalog (Mc 3.0, min_num 2) with ClassicBValueEstimator, BPositiveBValueEstimator
  and BMorePositiveBValueEstimator. For the last, the subclass below skips only the bootstrap
  standard error that `values_from_partitioning` computes and the test never uses (500
  resamples of an O(n^2) search per subsample would take hours); b and n are SeismoStats' own.

A venv for it: python -m venv venv && venv/bin/pip install seismostats==1.0.1
Run: venv/bin/python tools/parity/make_seismostats_b.py
"""

import pathlib
import warnings

import numpy as np
from seismostats.analysis import (BMorePositiveBValueEstimator,
                                  BPositiveBValueEstimator,
                                  ClassicAValueEstimator,
                                  ClassicBValueEstimator,
                                  UtsuBValueEstimator)
from seismostats.analysis.b_significant import b_significant_1D
from seismostats.analysis.bvalue import shi_bolt_confidence

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/seismostats/b"
N_DAYS = 420
WINDOW = 128
MC = 3.0
DELTA_M = 0.1
MS_PER_DAY = 86_400_000.0


class BMorePositiveNoBootstrap(BMorePositiveBValueEstimator):
    """b-more-positive without the bootstrap standard error (unused by b_significant_1D)."""

    @property
    def std(self):
        return float("nan")


def catalog(rng):
    beta = np.log(10.0)
    times = list(rng.uniform(0.0, N_DAYS, size=2600))
    mags = list(2.45 + rng.exponential(1.0 / beta, size=len(times)))
    # Bursts: a larger event followed by events whose delays fall off like 1/t.
    for _ in range(6):
        t0 = rng.uniform(10.0, N_DAYS - 30.0)
        times.append(t0)
        mags.append(4.6 + rng.exponential(1.0 / beta))
        n = rng.integers(60, 160)
        delays = 0.01 * np.exp(rng.uniform(0.0, np.log(2500.0), size=n))
        times.extend(t0 + delays)
        mags.extend(2.45 + rng.exponential(1.0 / beta, size=n))
    times = np.array(times)
    mags = np.array(mags)
    keep = times < N_DAYS
    times, mags = times[keep], mags[keep]
    # Whole milliseconds, so that the ComCat file of the command-line test holds the same times;
    # none within a millisecond of a day boundary, where the two could place it differently.
    times = np.round(times * MS_PER_DAY) / MS_PER_DAY
    frac = times - np.floor(times)
    assert np.all((frac > 1.0 / MS_PER_DAY) & (frac < 1.0 - 1.0 / MS_PER_DAY))
    order = np.argsort(times, kind="stable")
    times, mags = times[order], mags[order]
    assert np.all(np.diff(times) > 0), "distinct times keep the time order unambiguous"
    text_mags = [f"{np.floor(m * 10.0 + 0.5) / 10.0:.1f}" for m in mags]
    weights = rng.uniform(0.2, 2.0, size=len(times))
    return times, text_mags, weights


def r(x):
    return repr(float(x))


def main():
    warnings.simplefilter("ignore")
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20241129)
    times, text_mags, weights = catalog(rng)
    lines = ["time,magnitude,weight"]
    lines += [f"{r(t)},{m},{r(w)}" for t, m, w in zip(times, text_mags, weights)]
    (OUT / "catalog.csv").write_text("\n".join(lines) + "\n")

    # What quakelab reads back.
    times = np.array([float(r(t)) for t in times])
    mags = np.array([float(m) for m in text_mags])
    weights = np.array([float(r(w)) for w in weights])

    rows = ["day,n,b_tm,a_tm,std_tm,b_pos,n_pos,std_pos,b_more,n_more,std_more,"
            "b_more_dmc2,n_more_dmc2"]
    for day in range(WINDOW - 1, N_DAYS):
        start = day + 1.0 - WINDOW
        end = day + 1.0
        inside = (times >= start) & (times < end)
        m, t = mags[inside], times[inside]
        n = int(np.sum(m >= MC - DELTA_M / 2))
        classic = ClassicBValueEstimator()
        b_tm = classic.calculate(m, mc=MC, delta_m=DELTA_M)
        a_tm = ClassicAValueEstimator().calculate(
            m, mc=MC, delta_m=DELTA_M, m_ref=0.0, b_value=b_tm)
        std_tm = shi_bolt_confidence(classic.magnitudes, b_tm)
        pos = BPositiveBValueEstimator()
        b_pos = pos.calculate(m, mc=MC, delta_m=DELTA_M, times=t)
        std_pos = shi_bolt_confidence(pos.magnitudes, b_pos)
        more = BMorePositiveBValueEstimator()
        b_more = more.calculate(m, mc=MC, delta_m=DELTA_M, times=t)
        std_more = shi_bolt_confidence(more.magnitudes, b_more)
        more2 = BMorePositiveBValueEstimator()
        b_more2 = more2.calculate(m, mc=MC, delta_m=DELTA_M, times=t, dmc=0.2)
        rows.append(",".join([
            str(day), str(n), r(b_tm), r(a_tm), r(std_tm),
            r(b_pos), str(pos.n), r(std_pos),
            r(b_more), str(more.n), r(std_more),
            r(b_more2), str(more2.n),
        ]))
    (OUT / "windows.csv").write_text("\n".join(rows) + "\n")

    rows = ["estimator,b,std,n"]
    for name, cls, extra in [
        ("classic", ClassicBValueEstimator, {}),
        ("utsu", UtsuBValueEstimator, {}),
        ("b_positive", BPositiveBValueEstimator, {"times": times}),
        ("b_more_positive", BMorePositiveBValueEstimator, {"times": times}),
    ]:
        est = cls()
        b = est.calculate(mags, mc=MC, delta_m=DELTA_M, weights=weights, **extra)
        std = shi_bolt_confidence(est.magnitudes, b, weights=est.weights)
        rows.append(f"{name},{r(b)},{r(std)},{est.n}")
    (OUT / "weighted.csv").write_text("\n".join(rows) + "\n")

    rows = ["estimator,n_m,conservative,p,mac,mu_mac,std_mac"]
    for name, cls, cases in [
        ("tinti_mulargia", ClassicBValueEstimator,
         [(25, True), (40, True), (40, False), (80, True)]),
        ("b_positive", BPositiveBValueEstimator, [(30, True), (60, True)]),
        ("b_more_positive", BMorePositiveNoBootstrap, [(30, True), (60, False)]),
    ]:
        for n_m, conservative in cases:
            p, mac, mu, std = b_significant_1D(
                mags, mc=MC, delta_m=DELTA_M, times=times, n_m=n_m, min_num=2,
                method=cls, conservative=conservative)
            rows.append(
                f"{name},{n_m},{str(conservative).lower()},{r(p)},{r(mac)},{r(mu)},{r(std)}")
    (OUT / "significance.csv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
