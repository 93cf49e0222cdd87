"""Reference fixture for the GNSS gridding (GeoViT-PFN paper §1.1, eqs. 1-17).

A plain implementation, one day and one grid point at a time, straight from the paper's
equations, independent of quakelab's matrix-product formulation:

- displacement V(t) = r(t+1) - r(t-1) in mm, [N, E, U], only where both days exist;
- stations inside the region only (edges included);
- grid points lat_i = LAT0 + (i + o) dlat, lon_j = LON0 + (j + o) dlon, o = 0 (corner) or 1/2;
- haversine distance (eqs. 5-6), R = 6,371,000 m; Gaussian weights (eq. 7) with
  sigma = sigma_cells x one grid spacing in metres (latitude: R dlat; longitude:
  R cos(lat_mid) dlon); normalised over the day's stations (eq. 8);
- weighted mean (eq. 9), weighted mean position (eqs. 11-12), weighted covariance (eq. 10)
  computed two-pass as sum w (x - mu)(y - mu), co-vectors as written in eq. (13), gradients by
  numpy.linalg.solve (eqs. 14-15), correction of N and E (eqs. 16-17), U uncorrected;
- a covariance whose smallest eigenvalue is below (1e-4 min(dlat, dlon))^2 is singular: the
  correction is skipped (quakelab's documented rule);
- a day without any station displacement is all NaN.

Writes tests/fixtures/gnss/gridding/{stations,positions}.csv (the input) and one
expected_<case>.csv per case (day, row, col, N, E, U in mm, shortest round-trip decimals).

Usage (from the repository root): .venv-tools/bin/python tools/ref_gridding.py
"""

import datetime as dt
import math
import pathlib

import numpy as np

R = 6_371_000.0
OUT = pathlib.Path("tests/fixtures/gnss/gridding")
REGION = (138.0, 141.0, 34.0, 36.5)  # LON0, LON1, LAT0, LAT1
START = dt.date(2021, 3, 1)
N_DAYS = 7
CASES = {
    # name: (rows, cols, origin offset, sigma_cells, sigma spacing)
    "corner_5x6_s3_lat": (5, 6, 0.0, 3.0, "lat"),
    "centre_4x4_s8_lon": (4, 4, 0.5, 8.0, "lon"),
}


def network(rng):
    lon0, lon1, lat0, lat1 = REGION
    names = [f"S{k:03d}" for k in range(15)]
    lat = rng.uniform(lat0, lat1, size=15)
    lon = rng.uniform(lon0, lon1, size=15)
    # The last station lies outside the region and must be ignored.
    lat[-1], lon[-1] = lat1 + 0.4, lon0 + 1.0
    # Positions on days -1 .. N_DAYS (one day either side of the period), with gaps.
    days = [START + dt.timedelta(days=d) for d in range(-1, N_DAYS + 1)]
    rows = []
    for s in range(15):
        for d, day in enumerate(days):
            if day == dt.date(2021, 3, 4):
                continue  # nobody observed: days 03-03 and 03-05 have no displacement
            if rng.uniform() < 0.15:
                continue
            t = d - 1
            east = 0.002 * t * math.sin(lat[s]) + 0.0005 * rng.normal()
            north = 0.001 * t * (lon[s] - 139.0) + 0.0005 * rng.normal()
            up = 0.0003 * t + 0.001 * rng.normal()
            rows.append((names[s], day, east, north, up))
    return names, lat, lon, rows


def haversine(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(
        math.radians(lon2 - lon1) / 2
    ) ** 2
    return 2 * R * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def displacements(names, lat, lon, rows):
    lon0, lon1, lat0, lat1 = REGION
    pos = {(n, day): (e, nn, u) for n, day, e, nn, u in rows}
    out = []  # per day: list of (lat, lon, [N, E, U] mm)
    for d in range(N_DAYS):
        day = START + dt.timedelta(days=d)
        before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
        todays = []
        for s, name in enumerate(names):
            if not (lat0 <= lat[s] <= lat1 and lon0 <= lon[s] <= lon1):
                continue
            if (name, before) in pos and (name, after) in pos:
                e0, n0, u0 = pos[(name, before)]
                e1, n1, u1 = pos[(name, after)]
                todays.append((lat[s], lon[s], [(n1 - n0) * 1000, (e1 - e0) * 1000, (u1 - u0) * 1000]))
        out.append(todays)
    return out


def grid_day(todays, rows, cols, offset, sigma_cells, spacing):
    lon0, lon1, lat0, lat1 = REGION
    dlat, dlon = (lat1 - lat0) / rows, (lon1 - lon0) / cols
    if spacing == "lat":
        sigma = sigma_cells * R * math.radians(dlat)
    else:
        sigma = sigma_cells * R * math.cos(math.radians((lat0 + lat1) / 2)) * math.radians(dlon)
    min_eigen = (1e-4 * min(dlat, dlon)) ** 2
    image = np.full((rows, cols, 3), np.nan)
    if not todays:
        return image
    phi = np.array([t[0] for t in todays])
    lam = np.array([t[1] for t in todays])
    v = np.array([t[2] for t in todays])
    for i in range(rows):
        for j in range(cols):
            pg = lat0 + (i + offset) * dlat
            lg = lon0 + (j + offset) * dlon
            w = np.array([math.exp(-haversine(pg, lg, p, l) ** 2 / (2 * sigma**2)) for p, l in zip(phi, lam)])
            w = w / w.sum()
            vg = w @ v
            mu_p, mu_l = w @ phi, w @ lam
            cov = np.array(
                [
                    [w @ ((phi - mu_p) ** 2), w @ ((phi - mu_p) * (lam - mu_l))],
                    [w @ ((phi - mu_p) * (lam - mu_l)), w @ ((lam - mu_l) ** 2)],
                ]
            )
            out = vg.copy()
            if np.linalg.eigvalsh(cov)[0] >= min_eigen:
                for ch in (0, 1):
                    c = np.array([w @ (phi * v[:, ch]) - mu_p * vg[ch], w @ (lam * v[:, ch]) - mu_l * vg[ch]])
                    grad = np.linalg.solve(cov, c)
                    out[ch] = vg[ch] + grad[0] * (pg - mu_p) + grad[1] * (lg - mu_l)
            image[i, j] = out
    return image


def main():
    rng = np.random.default_rng(20240611)
    names, lat, lon, rows = network(rng)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "stations.csv", "w") as f:
        f.write("name,latitude,longitude\n")
        for n, p, l in zip(names, lat, lon):
            f.write(f"{n},{float(p)!r},{float(l)!r}\n")
    with open(OUT / "positions.csv", "w") as f:
        f.write("name,date,east_m,north_m,up_m\n")
        for n, day, e, nn, u in rows:
            f.write(f"{n},{day.isoformat()},{float(e)!r},{float(nn)!r},{float(u)!r}\n")
    per_day = displacements(names, lat, lon, rows)
    for case, (nr, nc, offset, sigma_cells, spacing) in CASES.items():
        with open(OUT / f"expected_{case}.csv", "w") as f:
            f.write("day,row,col,n_mm,e_mm,u_mm\n")
            for d, todays in enumerate(per_day):
                image = grid_day(todays, nr, nc, offset, sigma_cells, spacing)
                for i in range(nr):
                    for j in range(nc):
                        vals = ",".join(repr(float(x)) for x in image[i, j])
                        f.write(f"{d},{i},{j},{vals}\n")
    print("stations in region per day:", [len(t) for t in per_day])


if __name__ == "__main__":
    main()
