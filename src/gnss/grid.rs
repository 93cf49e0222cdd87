//! The image grid of the paper's §1.1: grid points (eqs. 1–4) and Gaussian weights (eq. 7) from
//! the haversine distances of [`crate::geo`] (eqs. 5–6).
//!
//! The weights depend only on the geometry (grid points and station positions), never on the
//! day, so [`gaussian_weights`] computes them once for a whole period; see
//! [`crate::gnss::gridding`] for how the per-day normalisation (eq. 8) is applied.

use faer::{Mat, MatRef};
use rayon::prelude::*;

use crate::catalog::Region;
use crate::geo::{EARTH_RADIUS_M, central_angle_of, half_dlam_sin, half_dphi_sin};
use crate::{Result, ensure_config};

/// The smallest Gaussian width `sigma_cells` [`GridSpec::check`] accepts, in grid spacings.
///
/// At a tenth of a spacing the weight of eq. (7) falls by `e^-50` between neighbouring grid
/// points, so every cell already copies its nearest station and nothing is interpolated; far
/// below it (about 1e-150 spacings) `2σ²` underflows to zero and every weight is `0/0`, which
/// made every image all NaN.
pub const MIN_SIGMA_CELLS: f64 = 0.1;

/// Where grid point `(0, 0)` sits in the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GridOrigin {
    /// The south-west corner of the region, as in the paper (eqs. 3–4):
    /// `lat_i = LAT0 + i·dlat`, `lon_j = LON0 + j·dlon`.
    #[default]
    Corner,
    /// The centre of the south-west cell: `lat_i = LAT0 + (i + 1/2)·dlat`,
    /// `lon_j = LON0 + (j + 1/2)·dlon`.
    Centre,
}

/// Which grid spacing, as a ground distance, sets the Gaussian width sigma of eq. (7).
///
/// The paper says "8 times the ground distance of the grid spacing" without naming the
/// direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigmaSpacing {
    /// `dlat` in metres on the sphere: `R · dlat` (radians). quakelab's default reading.
    #[default]
    Latitude,
    /// `dlon` in metres along the parallel through the region's middle latitude:
    /// `R · cos(lat_mid) · dlon` (radians).
    Longitude,
}

/// The grid and weight settings of the paper's interpolation, unchecked.
///
/// Call [`GridSpec::check`] to get a [`ValidGridSpec`], which the gridding takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    /// The region the grid covers (eqs. 1–2 divide it into cells).
    pub region: Region,
    /// Number of rows (latitudes), `n_rows` of eq. (1). Row 0 is the southern edge.
    pub rows: usize,
    /// Number of columns (longitudes), `n_cols` of eq. (2). Column 0 is the western edge.
    pub cols: usize,
    /// Grid points at the cell corners (the paper) or the cell centres.
    pub origin: GridOrigin,
    /// Gaussian width in grid spacings (the paper's 8).
    pub sigma_cells: f64,
    /// Which spacing `sigma_cells` multiplies.
    pub sigma_spacing: SigmaSpacing,
}

impl GridSpec {
    /// The paper's settings over `region`: 50 x 50 grid points from the corner, sigma = 8
    /// latitude spacings.
    pub fn paper(region: Region) -> Self {
        GridSpec {
            region,
            rows: 50,
            cols: 50,
            origin: GridOrigin::Corner,
            sigma_cells: 8.0,
            sigma_spacing: SigmaSpacing::Latitude,
        }
    }

    /// Checks the settings: at least one row and column and at most `u32::MAX` of each (the
    /// stack file stores them as `u32`), a well-formed region (as [`Region::new`] demands), and
    /// a finite `sigma_cells` of at least [`MIN_SIGMA_CELLS`] whose width in metres squares to
    /// a normal number.
    ///
    /// The size of the grid is not limited here; the gridding estimates its memory and refuses
    /// beyond a limit (see [`crate::gnss::gridding::GriddingMemory`]).
    pub fn check(self) -> Result<ValidGridSpec> {
        let r = self.region;
        Region::new(r.lon_min, r.lon_max, r.lat_min, r.lat_max)?;
        ensure_config!(
            self.rows > 0,
            "gnss.grid.rows",
            "must be positive, got {}",
            self.rows
        );
        ensure_config!(
            self.cols > 0,
            "gnss.grid.cols",
            "must be positive, got {}",
            self.cols
        );
        for (key, n) in [("gnss.grid.rows", self.rows), ("gnss.grid.cols", self.cols)] {
            ensure_config!(
                u32::try_from(n).is_ok(),
                key,
                "must be at most {} (the stack file stores it as u32), got {n}",
                u32::MAX
            );
        }
        ensure_config!(
            self.rows
                .checked_mul(self.cols)
                .and_then(|n| n.checked_mul(3))
                .is_some(),
            "gnss.grid",
            "{} x {} cells x 3 channels do not fit a machine word",
            self.rows,
            self.cols
        );
        ensure_config!(
            self.sigma_cells.is_finite() && self.sigma_cells >= MIN_SIGMA_CELLS,
            "gnss.grid.sigma_cells",
            "must be at least {MIN_SIGMA_CELLS} grid spacings (--sigma-cells), got {:?}: a narrower \
             Gaussian (eq. 7) only copies each cell's nearest station, and below about 1e-150 \
             spacings its 2σ² underflows and every image is NaN",
            self.sigma_cells
        );
        let valid = ValidGridSpec { spec: self };
        let sigma_m = valid.sigma_m();
        ensure_config!(
            (2.0 * sigma_m * sigma_m).is_normal(),
            "gnss.grid.sigma_cells",
            "{:?} grid spacings of this region are {sigma_m:e} m, whose square is not a normal \
             number: use a larger region or fewer cells",
            self.sigma_cells
        );
        Ok(valid)
    }
}

impl Default for GridSpec {
    /// [`GridSpec::paper`] over [`Region::JAPAN`].
    fn default() -> Self {
        GridSpec::paper(Region::JAPAN)
    }
}

/// Parses a grid size `ROWSxCOLS` (e.g. `50x50`), naming `key` in the error.
pub fn parse_grid_size(key: &str, text: &str) -> Result<(usize, usize)> {
    let parsed = text
        .trim()
        .split_once(['x', 'X'])
        .and_then(|(r, c)| Some((r.trim().parse().ok()?, c.trim().parse().ok()?)));
    match parsed {
        Some((rows, cols)) if rows > 0 && cols > 0 => Ok((rows, cols)),
        _ => Err(crate::Error::config(
            key,
            format!("expected ROWSxCOLS with positive sizes (e.g. 50x50), got `{text}`"),
        )),
    }
}

/// A checked [`GridSpec`]: the grid geometry of eqs. (1)–(4) and the sigma of eq. (7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidGridSpec {
    spec: GridSpec,
}

impl ValidGridSpec {
    /// The settings.
    pub fn spec(&self) -> &GridSpec {
        &self.spec
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.spec.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.spec.cols
    }

    /// Number of grid points, `rows · cols`. Point `(i, j)` has the flat index `i · cols + j`.
    pub fn n_cells(&self) -> usize {
        self.spec.rows * self.spec.cols
    }

    /// The latitude spacing in degrees, eq. (1): `(LAT1 − LAT0) / rows`.
    pub fn dlat(&self) -> f64 {
        (self.spec.region.lat_max - self.spec.region.lat_min) / self.spec.rows as f64
    }

    /// The longitude spacing in degrees, eq. (2): `(LON1 − LON0) / cols`.
    pub fn dlon(&self) -> f64 {
        (self.spec.region.lon_max - self.spec.region.lon_min) / self.spec.cols as f64
    }

    fn offset(&self) -> f64 {
        match self.spec.origin {
            GridOrigin::Corner => 0.0,
            GridOrigin::Centre => 0.5,
        }
    }

    /// The latitude of row `i` in degrees, eq. (3).
    pub fn latitude(&self, i: usize) -> f64 {
        self.spec.region.lat_min + (i as f64 + self.offset()) * self.dlat()
    }

    /// The longitude of column `j` in degrees, eq. (4).
    pub fn longitude(&self, j: usize) -> f64 {
        self.spec.region.lon_min + (j as f64 + self.offset()) * self.dlon()
    }

    /// The Gaussian width sigma of eq. (7) in metres: `sigma_cells` times one grid spacing as a
    /// ground distance (see [`SigmaSpacing`]).
    pub fn sigma_m(&self) -> f64 {
        let spacing_m = match self.spec.sigma_spacing {
            SigmaSpacing::Latitude => EARTH_RADIUS_M * self.dlat().to_radians(),
            SigmaSpacing::Longitude => {
                let r = &self.spec.region;
                let mid = 0.5 * (r.lat_min + r.lat_max);
                EARTH_RADIUS_M * mid.to_radians().cos() * self.dlon().to_radians()
            }
        };
        self.spec.sigma_cells * spacing_m
    }

    /// The grid points' `(latitude, longitude)` in degrees, row-major (flat index
    /// `i · cols + j`).
    pub fn points(&self) -> Vec<(f64, f64)> {
        (0..self.rows())
            .flat_map(|i| (0..self.cols()).map(move |j| (self.latitude(i), self.longitude(j))))
            .collect()
    }
}

/// The Gaussian weights of eq. (7) as a `cells x stations` matrix (cells in the flat order of
/// [`ValidGridSpec::points`], stations as given by `(latitude, longitude)` in degrees), each
/// row scaled by a positive per-cell constant.
///
/// Row `g` holds `exp(−(d_gs² − min_s d_gs²) / (2σ²))`: eq. (7) times `exp(min_s d_gs² / 2σ²)`.
/// The factor is the same for every station of a cell, so it cancels in the normalisation of
/// eq. (8) on every day, whichever stations are present; it keeps the weights of cells far
/// from all stations from underflowing to zero.
pub fn gaussian_weights(spec: &ValidGridSpec, stations: &[(f64, f64)]) -> Mat<f64> {
    let two_sigma2 = 2.0 * spec.sigma_m().powi(2);
    let n_cells = spec.n_cells();
    // The haversine distance's parts that depend on a grid row or column alone (see
    // `geo::central_angle_of`).
    let row_latitudes: Vec<f64> = (0..spec.rows())
        .map(|i| spec.latitude(i).to_radians())
        .collect();
    let row_cosines: Vec<f64> = row_latitudes.iter().map(|p| p.cos()).collect();
    let column_longitudes: Vec<f64> = (0..spec.cols()).map(|j| spec.longitude(j)).collect();
    // Column-major `cells x stations`: one station's column is contiguous.
    let mut w = vec![0.0; n_cells * stations.len()];
    let mut weights = || {
        if n_cells == 0 {
            return;
        }
        // Squared distances first.
        w.par_chunks_mut(n_cells)
            .zip(stations.par_iter())
            .for_each(|(column, &(lat, lon))| {
                let p = lat.to_radians();
                let cos_p = p.cos();
                let dlam: Vec<f64> = column_longitudes
                    .iter()
                    .map(|&lon_g| half_dlam_sin(lon_g, lon))
                    .collect();
                let rows = column.chunks_exact_mut(spec.cols());
                for ((row, &p_g), &cos_g) in rows.zip(&row_latitudes).zip(&row_cosines) {
                    let dphi = half_dphi_sin(p_g, p);
                    let cos_product = cos_g * cos_p;
                    for (d, &dl) in row.iter_mut().zip(&dlam) {
                        *d = (EARTH_RADIUS_M * central_angle_of(dphi, cos_product, dl)).powi(2);
                    }
                }
            });
        let mut nearest = vec![f64::INFINITY; n_cells];
        for column in w.chunks(n_cells) {
            for (m, &d) in nearest.iter_mut().zip(column) {
                *m = m.min(d);
            }
        }
        // Then the weights, in place.
        w.par_chunks_mut(n_cells).for_each(|column| {
            for (d, &m) in column.iter_mut().zip(&nearest) {
                *d = (-(*d - m) / two_sigma2).exp();
            }
        });
    };
    // Fresh threads: workers that have just run the wide-vector matrix kernels of an earlier
    // gridding can run the trigonometric library calls many times slower (measured: 1.8 s
    // instead of 0.1 s for the paper's grid and 1,300 stations); the exponentials are library
    // calls of the same kind. As many as the current pool has, so that a sweep's run keeps to
    // its share of the cores.
    match rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .build()
    {
        Ok(pool) => pool.install(weights),
        Err(_) => weights(),
    }
    MatRef::from_column_major_slice(&w, n_cells, stations.len()).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::haversine_m;

    fn japan() -> ValidGridSpec {
        GridSpec::paper(Region::JAPAN).check().unwrap()
    }

    #[test]
    fn grid_points_follow_eqs_3_and_4() {
        let g = japan();
        // Japan box 123–148°E, 22–46°N in 50 x 50: dlat = 24/50, dlon = 25/50.
        assert_eq!(g.dlat(), 0.48);
        assert_eq!(g.dlon(), 0.5);
        assert_eq!(g.latitude(0), 22.0);
        assert_eq!(g.longitude(0), 123.0);
        assert!((g.latitude(49) - (22.0 + 49.0 * 0.48)).abs() < 1e-12);
        let centred = GridSpec {
            origin: GridOrigin::Centre,
            ..GridSpec::paper(Region::JAPAN)
        }
        .check()
        .unwrap();
        assert!((centred.latitude(0) - 22.24).abs() < 1e-12);
        assert!((centred.longitude(0) - 123.25).abs() < 1e-12);
        let points = g.points();
        assert_eq!(points.len(), 2500);
        assert_eq!(points[51], (g.latitude(1), g.longitude(1)));
    }

    #[test]
    fn sigma_is_eight_latitude_spacings_in_metres() {
        // 8 · 0.48° on a sphere of radius 6,371 km: 8 · 6371000 · 0.48 · π/180.
        let expected = 8.0 * 6_371_000.0 * 0.48 * std::f64::consts::PI / 180.0;
        assert!((japan().sigma_m() - expected).abs() < 1e-6);
        let lon = GridSpec {
            sigma_spacing: SigmaSpacing::Longitude,
            ..GridSpec::paper(Region::JAPAN)
        }
        .check()
        .unwrap();
        let expected = 8.0 * 6_371_000.0 * 34f64.to_radians().cos() * 0.5f64.to_radians();
        assert!((lon.sigma_m() - expected).abs() < 1e-6);
    }

    #[test]
    fn weights_are_gaussian_up_to_a_per_cell_factor() {
        let spec = GridSpec {
            rows: 2,
            cols: 3,
            ..GridSpec::paper(Region::new(130.0, 133.0, 30.0, 32.0).unwrap())
        }
        .check()
        .unwrap();
        let stations = [(30.2, 130.1), (31.5, 132.0), (33.0, 129.0)];
        let w = gaussian_weights(&spec, &stations);
        let s2 = spec.sigma_m().powi(2);
        for (g, &(lat, lon)) in spec.points().iter().enumerate() {
            let raw: Vec<f64> = stations
                .iter()
                .map(|&(a, b)| (-haversine_m(lat, lon, a, b).powi(2) / (2.0 * s2)).exp())
                .collect();
            let factor = w[(g, 0)] / raw[0];
            for s in 0..3 {
                assert!((w[(g, s)] - factor * raw[s]).abs() <= 1e-14 * w[(g, s)].max(1e-300));
            }
            let max = (0..3).map(|s| w[(g, s)]).fold(0.0, f64::max);
            assert_eq!(max, 1.0, "the nearest station has weight 1");
        }
    }

    #[test]
    fn bad_settings_name_their_key() {
        let mut spec = GridSpec::paper(Region::JAPAN);
        spec.rows = 0;
        assert!(
            spec.check()
                .unwrap_err()
                .to_string()
                .contains("gnss.grid.rows")
        );
        let mut spec = GridSpec::paper(Region::JAPAN);
        spec.sigma_cells = f64::NAN;
        let err = spec.check().unwrap_err().to_string();
        assert!(err.contains("gnss.grid.sigma_cells"), "{err}");
        assert_eq!(parse_grid_size("grid", "50x40").unwrap(), (50, 40));
        assert!(parse_grid_size("grid", "50x0").is_err());
        assert!(parse_grid_size("grid", "fifty").is_err());
    }
}
