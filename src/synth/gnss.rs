//! A synthetic GNSS network: daily east/north/up positions for a scenario's stations, with known
//! tectonic, seasonal, noise, earthquake and (optionally) precursor terms, written as NGL
//! `.tenv3` files like the real data.
//!
//! # The model
//!
//! Station `s` on day `d` (day index from the period start) is observed at noon UTC,
//! `t = d + 1/2` days, the epoch NGL's daily solutions carry. Its position is the sum of
//!
//! - **secular motion** `v_s t`. The velocity is a sum of [`VelocitySource`]s, each a trench-like
//!   polyline: a station at distance `D` (km, flat frame at the station) from the polyline moves
//!   `speed_mm_yr e^(-D / decay_km)` along `azimuth_deg` (clockwise from north) and
//!   `up_mm_yr e^(-D / decay_km)` vertically. This imitates interseismic coupling: fast
//!   westward motion and subsidence on the Pacific side, decreasing inland.
//! - **seasonal terms** `A_1 sin(2 pi t / 365.25 + phi_1) + A_2 sin(4 pi t / 365.25 + phi_2)` per
//!   component. Every station draws its own amplitudes, uniform in `[0.5, 1.5]` times the
//!   configured `annual_mm` / `semiannual_mm`, and its own phases, uniform in `[0, 2 pi)`.
//! - **coseismic offsets** from each catalog event with `M >= coseismic.m_min`, a point-source
//!   far field with a near-field cap:
//!
//!   ```text
//!   M0 = 10^(1.5 M + 9.1)                        N m (Hanks & Kanamori)
//!   a  = 10^(source_size_log10_km + source_size_per_magnitude M)   km (source size)
//!   R2 = r^2 + z^2 + a^2                          (r epicentral distance, z depth), m^2
//!   u  = coefficient M0 / (4 pi mu R2)            m, mu = rigidity_gpa 1e9 Pa
//!   ```
//!
//!   The horizontal offset `u` points toward the epicentre (`direction = "toward"`, the sense of
//!   a megathrust's coseismic rebound seen from land) or away from it; the vertical offset is
//!   `vertical_ratio u`. The static field of a point dislocation decays as `r^-2` in the far
//!   field; `a` keeps it finite within the rupture. The offset applies from the first day whose
//!   noon follows the origin time.
//! - **postseismic relaxation** after events with `M >= postseismic.m_min`:
//!   `ratio u_co ln(1 + (t - t_e) / tau_days)` for `t > t_e`, per component, where `u_co` is the
//!   event's coseismic offset vector at the station.
//! - **a precursory transient** (slow slip) before a `fraction` of the events with
//!   `M >= precursor.m_min`, when the scenario has a `[gnss.precursor]` section. Over the
//!   `duration_days` `D` before the event it grows as the normalised ramp
//!
//!   ```text
//!   ramp(t) = (tanh(6 (t - t_e + D) / D - 3) + tanh 3) / (2 tanh 3),   t_e - D <= t <= t_e
//!   ```
//!
//!   which is 0 at `t_e - D`, 1/2 at the midpoint and exactly 1 at the event, and then stays 1
//!   (the slip is permanent). Its horizontal amplitude is `amplitude_mm e^(-r^2 / (2 L^2))`
//!   (`L = footprint_km`), in the coseismic direction, and its vertical one `vertical_ratio` times
//!   that. The chosen events are listed in the [`GnssReport`]: they are the truth a
//!   planted-signal check must recover (and the `null` scenario plants none).
//! - **noise**: white noise with standard deviation `white_mm` plus a flicker-like part, the sum
//!   of `K` AR(1) processes `x_{d+1} = phi x_d + sqrt(1 - phi^2) sigma_k e_d`,
//!   `phi = e^(-1/tau_k)`, one per time constant in `flicker_time_constants_days`, each with
//!   stationary variance `sigma_k^2 = flicker_mm^2 / K` and started from it. An AR(1) process
//!   has a Lorentzian spectrum, flat below `1/(2 pi tau)` and falling as `f^-2` above; equal
//!   variances at log-spaced time constants add up to a spectrum close to `1/f` between the
//!   shortest and longest corner, which is what GNSS flicker noise looks like.
//!
//! Days are then removed: stations start late (a `late_start_fraction` of them, at a day uniform
//! in the first half of the period) or end early (`early_end_fraction`, uniform in the second
//! half), and each station has short and long gaps whose starts form Poisson processes of
//! `short_per_year` and `long_per_year`, with lengths uniform in `1..=short_max_days` and
//! `long_days[0]..=long_days[1]`. Away from the ends, a day is then missing with probability
//! `1 - exp(-(short_per_year E[L_short] + long_per_year E[L_long]) / 365.25)`.
//!
//! An event term whose amplitude at a station is below `coseismic.min_offset_mm` is left out
//! there, so a small event far away costs nothing.
//!
//! # Stations
//!
//! Either given by the caller (e.g. NGL's real station list; those outside the region box are
//! dropped and counted) or sampled uniformly in longitude and latitude inside the scenario's land
//! polygons and region box, named `S001`, `S002`, ... (`T000` follows `S999`).
//!
//! # Usage
//!
//! ```no_run
//! use std::path::Path;
//! use quakelab::period::Period;
//! use quakelab::synth::gnss::Overwrite;
//! use quakelab::synth::{Scenario, simulate_catalog, simulate_network, write_network};
//!
//! let scenario = Scenario::load("japan")?;
//! let period = Period::parse("2009-01-01", "2024-01-01")?;
//! let (catalog, _) = simulate_catalog(&scenario, &period)?;
//! // Sampled stations; or NGL's real layout:
//! // let (entries, _) = quakelab::io::stations::read_station_list(path)?;
//! // let stations: Vec<_> = entries.into_iter().map(|e| e.station).collect();
//! // simulate_network(&scenario, &catalog, &period, Some(&stations))?
//! let (network, report) = simulate_network(&scenario, &catalog, &period, None)?;
//! println!("{report}"); // lists the planted precursors: the known truth
//! // All or nothing; a previous network in `gnss/` is replaced whole.
//! write_network(Path::new("gnss"), &network, Overwrite::PreviousNetwork, |_| Ok(()))?;
//! # Ok::<(), quakelab::Error>(())
//! ```
//!
//! # Randomness
//!
//! Everything derives from the scenario seed: the layout from `synth.gnss.layout`, the choice of
//! precursor events from `synth.gnss.precursor`, and station `i`'s seasonal terms, noise and
//! gaps from `synth.gnss.station.{i}.seasonal`, `.noise` and `.gaps`. Each purpose having its own
//! stream, turning one term off leaves the others' numbers unchanged, and stations are simulated
//! in parallel with the same result for any thread count. A larger sampled network starts with
//! the stations of a smaller one (same seed), and `japan` and `null` differ only by the
//! precursor.

use std::f64::consts::{PI, TAU};
use std::fmt;
use std::path::Path;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Region};
use crate::geo::{KM_PER_DEGREE, haversine_km};
use crate::gnss::{Station, StationSeries, StationSet};
use crate::io::tenv3::write_tenv3;
use crate::period::Period;
use crate::synth::scenario::Scenario;
use crate::{Error, Result, ensure_config, progress, rng};

/// Days per year in every rate and period of the model (Julian year).
pub const DAYS_PER_YEAR: f64 = 365.25;

/// The most stations a sampled layout may have (names `S001` to `Z999`).
pub const MAX_STATIONS: usize = 7_999;

/// Station-days above which simulation and writing show a progress bar (about a second's work).
const PROGRESS_STATION_DAYS: usize = 1_000_000;

/// Candidate points tried per requested station before the layout gives up: a land area this
/// small a share of its bounding box is a mistake in the polygons.
const LAYOUT_ATTEMPTS_PER_STATION: usize = 10_000;

/// The `[gnss]` section of a scenario, as written (unchecked; see [`GnssParams::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GnssParams {
    /// Where sampled stations go.
    pub layout: LayoutParams,
    /// The secular velocity field.
    pub velocity: VelocityParams,
    /// Annual and semi-annual terms.
    pub seasonal: SeasonalParams,
    /// White and flicker-like noise.
    pub noise: NoiseParams,
    /// Station start and end dates and data gaps.
    pub gaps: GapParams,
    /// Coseismic offsets.
    pub coseismic: CoseismicParams,
    /// Postseismic relaxation.
    pub postseismic: PostseismicParams,
    /// The planted precursory transient; absent means none is planted.
    #[serde(default)]
    pub precursor: Option<PrecursorParams>,
}

/// `[gnss.layout]`: the sampled station network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutParams {
    /// Number of stations (GEONET has about 1,300).
    pub n_stations: usize,
    /// Station heights are uniform in `[0, max_height_m]`.
    pub max_height_m: f64,
    /// Land polygons; stations are sampled inside their union (and the region box).
    pub land: Vec<LandPolygon>,
}

/// A rough land outline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandPolygon {
    /// A label for messages.
    pub name: String,
    /// Vertices as `[longitude, latitude]` in degrees, at least three; the polygon closes itself.
    pub vertices: Vec<[f64; 2]>,
}

/// `[gnss.velocity]`: the secular velocity field, a sum of sources (none means no motion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocityParams {
    /// The sources, summed.
    #[serde(default)]
    pub sources: Vec<VelocitySource>,
}

/// One source of secular motion: a trench-like polyline whose pull decays inland.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocitySource {
    /// A label for messages.
    pub name: String,
    /// Polyline vertices as `[longitude, latitude]` in degrees; at least two.
    pub trench: Vec<[f64; 2]>,
    /// Horizontal speed on the polyline, mm/yr.
    pub speed_mm_yr: f64,
    /// Direction of the horizontal motion, degrees clockwise from north.
    pub azimuth_deg: f64,
    /// e-folding distance of the speed away from the polyline, km.
    pub decay_km: f64,
    /// Vertical velocity on the polyline, mm/yr (negative: subsidence), decaying likewise.
    pub up_mm_yr: f64,
}

/// `[gnss.seasonal]`: mean amplitudes of the seasonal terms, `[east, north, up]` in mm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonalParams {
    /// Annual amplitude.
    pub annual_mm: [f64; 3],
    /// Semi-annual amplitude.
    pub semiannual_mm: [f64; 3],
}

/// `[gnss.noise]`: standard deviations `[east, north, up]` in mm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseParams {
    /// White noise.
    pub white_mm: [f64; 3],
    /// Total stationary standard deviation of the flicker-like part.
    pub flicker_mm: [f64; 3],
    /// Time constants of its AR(1) components, days.
    pub flicker_time_constants_days: Vec<f64>,
}

/// `[gnss.gaps]`: missing data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapParams {
    /// Share of stations that start after the period start (uniformly in its first half).
    pub late_start_fraction: f64,
    /// Share of stations that end before the period end (uniformly in its second half).
    pub early_end_fraction: f64,
    /// Short gaps per station per year.
    pub short_per_year: f64,
    /// Short gaps last `1..=short_max_days` days, uniformly.
    pub short_max_days: u32,
    /// Long gaps per station per year.
    pub long_per_year: f64,
    /// Long gaps last `long_days[0]..=long_days[1]` days, uniformly.
    pub long_days: [u32; 2],
}

/// The sense of horizontal coseismic (and precursory) motion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Toward the epicentre (a megathrust seen from the hanging wall's land side).
    Toward,
    /// Away from the epicentre.
    Away,
}

/// `[gnss.coseismic]`: the point-source offset `u = coefficient M0 / (4 pi mu (r^2 + z^2 + a^2))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoseismicParams {
    /// Events with at least this magnitude produce offsets.
    pub m_min: f64,
    /// Shear modulus `mu`, GPa.
    pub rigidity_gpa: f64,
    /// Dimensionless scale of the offset (a radiation-pattern average); 0 turns offsets off.
    pub coefficient: f64,
    /// Horizontal sense.
    pub direction: Direction,
    /// Vertical offset as a signed multiple of the horizontal one.
    pub vertical_ratio: f64,
    /// `log10` of the source size `a` in km at `M = 0`.
    pub source_size_log10_km: f64,
    /// Growth of `log10 a` per magnitude unit.
    pub source_size_per_magnitude: f64,
    /// Depth used for events the catalog gives none, km.
    pub default_depth_km: f64,
    /// Event terms smaller than this at a station (mm) are left out there.
    pub min_offset_mm: f64,
}

/// `[gnss.postseismic]`: `ratio u_co ln(1 + t / tau_days)` after large events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostseismicParams {
    /// Events with at least this magnitude relax (only those with coseismic offsets, so a value
    /// below `coseismic.m_min` acts as `coseismic.m_min`).
    pub m_min: f64,
    /// Amplitude as a multiple of the coseismic offset; 0 turns relaxation off.
    pub ratio: f64,
    /// Time constant `tau`, days.
    pub tau_days: f64,
}

/// `[gnss.precursor]`: the planted slow-slip transient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecursorParams {
    /// Candidate events have at least this magnitude.
    pub m_min: f64,
    /// Share of the candidates that get a precursor (`round(fraction n)` of them, chosen at
    /// random).
    pub fraction: f64,
    /// Horizontal amplitude at the epicentre, mm (the strength knob).
    pub amplitude_mm: f64,
    /// Length of the ramp, ending at the event, days.
    pub duration_days: f64,
    /// Gaussian footprint radius `L`, km.
    pub footprint_km: f64,
    /// Vertical amplitude as a signed multiple of the horizontal one.
    pub vertical_ratio: f64,
}

impl GnssParams {
    /// Checks every parameter and returns the validated set; errors name the key
    /// (`gnss.noise.white_mm`, `gnss.layout.land[2].vertices`, ...).
    pub fn check(self) -> Result<ValidGnssParams> {
        let p = &self;
        let l = &p.layout;
        ensure_config!(
            (1..=MAX_STATIONS).contains(&l.n_stations),
            "gnss.layout.n_stations",
            "must be between 1 and {MAX_STATIONS}, got {}",
            l.n_stations
        );
        ensure_config!(
            l.max_height_m >= 0.0 && l.max_height_m <= 9_000.0,
            "gnss.layout.max_height_m",
            "must be between 0 and 9,000 m, got {}",
            l.max_height_m
        );
        ensure_config!(
            !l.land.is_empty(),
            "gnss.layout.land",
            "needs at least one polygon"
        );
        for (i, polygon) in l.land.iter().enumerate() {
            ensure_config!(
                polygon.vertices.len() >= 3 && polygon.vertices.iter().all(|v| lon_lat_ok(*v)),
                format!("gnss.layout.land[{i}].vertices"),
                "polygon `{}` needs at least three [lon, lat] vertices with finite longitudes and \
                 latitudes within ±90",
                polygon.name
            );
        }
        for (i, s) in p.velocity.sources.iter().enumerate() {
            let key = |field: &str| format!("gnss.velocity.sources[{i}].{field}");
            ensure_config!(
                s.trench.len() >= 2 && s.trench.iter().all(|v| lon_lat_ok(*v)),
                key("trench"),
                "source `{}` needs at least two [lon, lat] vertices with finite longitudes and \
                 latitudes within ±90",
                s.name
            );
            ensure_config!(
                s.speed_mm_yr.is_finite() && s.speed_mm_yr.abs() <= 1_000.0,
                key("speed_mm_yr"),
                "must be within ±1,000 mm/yr, got {}",
                s.speed_mm_yr
            );
            ensure_config!(
                s.azimuth_deg.is_finite(),
                key("azimuth_deg"),
                "must be finite"
            );
            ensure_config!(
                s.decay_km > 0.0 && s.decay_km.is_finite(),
                key("decay_km"),
                "must be a positive distance, got {}",
                s.decay_km
            );
            ensure_config!(
                s.up_mm_yr.is_finite() && s.up_mm_yr.abs() <= 1_000.0,
                key("up_mm_yr"),
                "must be within ±1,000 mm/yr, got {}",
                s.up_mm_yr
            );
        }
        check_mm(p.seasonal.annual_mm, "gnss.seasonal.annual_mm")?;
        check_mm(p.seasonal.semiannual_mm, "gnss.seasonal.semiannual_mm")?;
        check_mm(p.noise.white_mm, "gnss.noise.white_mm")?;
        check_mm(p.noise.flicker_mm, "gnss.noise.flicker_mm")?;
        let taus = &p.noise.flicker_time_constants_days;
        ensure_config!(
            taus.iter().all(|t| t.is_finite() && *t > 0.0),
            "gnss.noise.flicker_time_constants_days",
            "must be positive numbers of days, got {taus:?}"
        );
        ensure_config!(
            !taus.is_empty() || p.noise.flicker_mm.iter().all(|s| *s == 0.0),
            "gnss.noise.flicker_time_constants_days",
            "a nonzero flicker_mm needs at least one time constant"
        );
        let g = &p.gaps;
        for (value, key) in [
            (g.late_start_fraction, "gnss.gaps.late_start_fraction"),
            (g.early_end_fraction, "gnss.gaps.early_end_fraction"),
        ] {
            ensure_config!(
                (0.0..=1.0).contains(&value),
                key,
                "must be in [0, 1], got {value}"
            );
        }
        for (value, key) in [
            (g.short_per_year, "gnss.gaps.short_per_year"),
            (g.long_per_year, "gnss.gaps.long_per_year"),
        ] {
            ensure_config!(
                (0.0..=DAYS_PER_YEAR).contains(&value),
                key,
                "must be between 0 and {DAYS_PER_YEAR} gaps per year, got {value}"
            );
        }
        ensure_config!(
            g.short_max_days >= 1,
            "gnss.gaps.short_max_days",
            "must be at least 1"
        );
        ensure_config!(
            g.long_days[0] >= 1 && g.long_days[0] <= g.long_days[1],
            "gnss.gaps.long_days",
            "must be [min, max] with 1 <= min <= max, got {:?}",
            g.long_days
        );
        let c = &p.coseismic;
        check_magnitude(c.m_min, "gnss.coseismic.m_min")?;
        ensure_config!(
            c.rigidity_gpa > 0.0 && c.rigidity_gpa.is_finite(),
            "gnss.coseismic.rigidity_gpa",
            "must be positive, got {}",
            c.rigidity_gpa
        );
        ensure_config!(
            c.coefficient >= 0.0 && c.coefficient.is_finite(),
            "gnss.coseismic.coefficient",
            "must be finite and >= 0, got {}",
            c.coefficient
        );
        ensure_config!(
            c.vertical_ratio.is_finite(),
            "gnss.coseismic.vertical_ratio",
            "must be finite"
        );
        ensure_config!(
            c.source_size_log10_km.is_finite() && c.source_size_per_magnitude.is_finite(),
            "gnss.coseismic.source_size_log10_km",
            "source_size_log10_km and source_size_per_magnitude must be finite"
        );
        ensure_config!(
            c.default_depth_km >= 0.0 && c.default_depth_km <= 800.0,
            "gnss.coseismic.default_depth_km",
            "must be between 0 and 800 km, got {}",
            c.default_depth_km
        );
        ensure_config!(
            c.min_offset_mm >= 0.0 && c.min_offset_mm.is_finite(),
            "gnss.coseismic.min_offset_mm",
            "must be finite and >= 0, got {}",
            c.min_offset_mm
        );
        let post = &p.postseismic;
        check_magnitude(post.m_min, "gnss.postseismic.m_min")?;
        ensure_config!(
            post.ratio >= 0.0 && post.ratio.is_finite(),
            "gnss.postseismic.ratio",
            "must be finite and >= 0, got {}",
            post.ratio
        );
        ensure_config!(
            post.tau_days > 0.0 && post.tau_days.is_finite(),
            "gnss.postseismic.tau_days",
            "must be a positive number of days, got {}",
            post.tau_days
        );
        if let Some(pre) = &p.precursor {
            check_magnitude(pre.m_min, "gnss.precursor.m_min")?;
            ensure_config!(
                (0.0..=1.0).contains(&pre.fraction),
                "gnss.precursor.fraction",
                "must be in [0, 1], got {}",
                pre.fraction
            );
            ensure_config!(
                pre.amplitude_mm >= 0.0 && pre.amplitude_mm <= 10_000.0,
                "gnss.precursor.amplitude_mm",
                "must be between 0 and 10,000 mm, got {}",
                pre.amplitude_mm
            );
            ensure_config!(
                pre.duration_days > 0.0 && pre.duration_days <= 3_650.0,
                "gnss.precursor.duration_days",
                "must be in (0, 3,650] days, got {}",
                pre.duration_days
            );
            ensure_config!(
                pre.footprint_km > 0.0 && pre.footprint_km.is_finite(),
                "gnss.precursor.footprint_km",
                "must be a positive distance, got {}",
                pre.footprint_km
            );
            ensure_config!(
                pre.vertical_ratio.is_finite(),
                "gnss.precursor.vertical_ratio",
                "must be finite"
            );
        }
        Ok(ValidGnssParams { params: self })
    }
}

fn lon_lat_ok([lon, lat]: [f64; 2]) -> bool {
    lon.is_finite() && (-90.0..=90.0).contains(&lat)
}

fn check_mm(values: [f64; 3], key: &str) -> Result<()> {
    ensure_config!(
        values
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0 && *v <= 10_000.0),
        key,
        "must be [east, north, up] amplitudes between 0 and 10,000 mm, got {values:?}"
    );
    Ok(())
}

fn check_magnitude(m: f64, key: &str) -> Result<()> {
    ensure_config!(
        m.is_finite() && m <= 10.0,
        key,
        "must be a finite magnitude of at most 10, got {m}"
    );
    Ok(())
}

/// GNSS parameters that passed [`GnssParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidGnssParams {
    params: GnssParams,
}

impl ValidGnssParams {
    /// The parameters as written.
    pub fn params(&self) -> &GnssParams {
        &self.params
    }

    /// The planted precursor's parameters, if the scenario plants one.
    pub fn precursor(&self) -> Option<&PrecursorParams> {
        self.params.precursor.as_ref()
    }

    /// The same network with the planted precursor's amplitude set to `amplitude_mm`, or with
    /// no precursor at all (`None`: the planted-signal null). Everything else, random draws
    /// included, is unchanged. The new amplitude is checked as a scenario file's would be
    /// (key `gnss.precursor.amplitude_mm`); a network without a precursor gets none.
    pub fn with_precursor_amplitude(&self, amplitude_mm: Option<f64>) -> Result<ValidGnssParams> {
        let mut params = self.params.clone();
        params.precursor = match (params.precursor, amplitude_mm) {
            (Some(mut p), Some(mm)) => {
                p.amplitude_mm = mm;
                Some(p)
            }
            _ => None,
        };
        params.check()
    }

    /// Secular velocity at a point, `[east, north, up]` in mm/yr.
    pub fn velocity_mm_yr(&self, latitude: f64, longitude: f64) -> [f64; 3] {
        let mut v = [0.0; 3];
        for s in &self.params.velocity.sources {
            let weight =
                (-distance_to_polyline_km(latitude, longitude, &s.trench) / s.decay_km).exp();
            let azimuth = s.azimuth_deg.to_radians();
            v[0] += s.speed_mm_yr * weight * azimuth.sin();
            v[1] += s.speed_mm_yr * weight * azimuth.cos();
            v[2] += s.up_mm_yr * weight;
        }
        v
    }

    /// Whether a point lies inside one of the land polygons.
    pub fn on_land(&self, latitude: f64, longitude: f64) -> bool {
        self.params
            .layout
            .land
            .iter()
            .any(|p| inside_polygon(&p.vertices, longitude, latitude))
    }
}

/// Crossing-number test: a ray from the point toward +longitude crosses the boundary an odd
/// number of times iff the point is inside.
fn inside_polygon(vertices: &[[f64; 2]], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let mut j = vertices.len() - 1;
    for (i, a) in vertices.iter().enumerate() {
        let b = vertices[j];
        if (a[1] > lat) != (b[1] > lat) {
            let crossing = a[0] + (lat - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if lon < crossing {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Distance in km from a point to a polyline, in the flat frame centred on the point (good to a
/// few percent over the few hundred km where the velocity sources matter).
fn distance_to_polyline_km(latitude: f64, longitude: f64, vertices: &[[f64; 2]]) -> f64 {
    let cos_lat = latitude.to_radians().cos();
    let local = |[lon, lat]: [f64; 2]| {
        [
            (lon - longitude) * KM_PER_DEGREE * cos_lat,
            (lat - latitude) * KM_PER_DEGREE,
        ]
    };
    vertices
        .windows(2)
        .map(|w| {
            let a = local(w[0]);
            let b = local(w[1]);
            let ab = [b[0] - a[0], b[1] - a[1]];
            let length2 = ab[0] * ab[0] + ab[1] * ab[1];
            // The segment's point nearest the origin, clamped to its ends.
            let s = if length2 > 0.0 {
                (-(a[0] * ab[0] + a[1] * ab[1]) / length2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (a[0] + s * ab[0]).hypot(a[1] + s * ab[1])
        })
        .fold(f64::INFINITY, f64::min)
}

/// Great-circle distance in km from a station to an epicentre, and the horizontal unit vector
/// `[east, north]` at the station pointing toward the epicentre (zero if they coincide).
fn toward_epicentre(station: &Station, latitude: f64, longitude: f64) -> (f64, [f64; 2]) {
    let (phi1, phi2) = (station.latitude.to_radians(), latitude.to_radians());
    let dlambda = (longitude - station.longitude).to_radians();
    // Haversine: accurate at short range, where the offsets are largest.
    let distance = haversine_km(station.latitude, station.longitude, latitude, longitude);
    if distance == 0.0 {
        return (0.0, [0.0, 0.0]);
    }
    // Initial bearing of the great circle from the station to the epicentre.
    let east = dlambda.sin() * phi2.cos();
    let north = phi1.cos() * phi2.sin() - phi1.sin() * phi2.cos() * dlambda.cos();
    let norm = east.hypot(north);
    if norm == 0.0 {
        return (distance, [0.0, 0.0]);
    }
    (distance, [east / norm, north / norm])
}

/// A planted precursor: the known truth of a planted-signal check.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedPrecursor {
    /// Index of the event in the catalog (time order).
    pub event_index: usize,
    /// The event's origin time, where the ramp ends.
    pub time: Timestamp,
    /// Epicentre latitude.
    pub latitude: f64,
    /// Epicentre longitude.
    pub longitude: f64,
    /// The event's magnitude.
    pub magnitude: f64,
    /// When the ramp starts (`duration_days` before the event).
    pub ramp_start: Timestamp,
    /// Horizontal amplitude at the epicentre, mm.
    pub amplitude_mm: f64,
    /// Footprint radius, km.
    pub footprint_km: f64,
    /// Stations of the returned set where the transient is planted (its amplitude there is at
    /// least `coseismic.min_offset_mm`); 0 means no station can see it.
    pub stations_reached: usize,
    /// The largest horizontal amplitude at any station of the set, mm.
    pub peak_station_mm: f64,
}

/// What a network simulation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct GnssReport {
    /// The seed used.
    pub seed: u64,
    /// Stations in the returned set.
    pub stations: usize,
    /// Given stations dropped because they lie outside the region box.
    pub outside_region: usize,
    /// Stations dropped because gaps left them no observation.
    pub empty_stations: usize,
    /// Days in the period.
    pub days: usize,
    /// Observed station-days.
    pub observed_station_days: usize,
    /// Catalog events with `M >= coseismic.m_min`.
    pub coseismic_events: usize,
    /// Catalog events with `M >= postseismic.m_min`.
    pub postseismic_events: usize,
    /// Catalog events that were candidates for a precursor.
    pub precursor_candidates: usize,
    /// The events that got one, in catalog order.
    pub precursors: Vec<PlantedPrecursor>,
}

impl GnssReport {
    /// Share of station-days missing (gaps, late starts and early ends).
    pub fn missing_fraction(&self) -> f64 {
        let total = (self.stations * self.days) as f64;
        if total == 0.0 {
            0.0
        } else {
            1.0 - self.observed_station_days as f64 / total
        }
    }
}

impl fmt::Display for GnssReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GNSS (seed {}): {} stations over {} days, {:.1}% of station-days missing",
            self.seed,
            self.stations,
            self.days,
            100.0 * self.missing_fraction()
        )?;
        if self.outside_region > 0 {
            write!(
                f,
                "; {} given stations outside the region",
                self.outside_region
            )?;
        }
        if self.empty_stations > 0 {
            write!(f, "; {} stations left empty by gaps", self.empty_stations)?;
        }
        write!(
            f,
            "; coseismic offsets from {} events, postseismic relaxation after {}; precursors \
             planted before {} of {} candidate events",
            self.coseismic_events,
            self.postseismic_events,
            self.precursors.len(),
            self.precursor_candidates
        )?;
        for p in &self.precursors {
            write!(
                f,
                "\n  event #{} M{:.1} at {} ({:.3}N, {:.3}E): ramp from {}, {} mm at the \
                 epicentre, footprint {} km; reaches {} stations, at most {:.2} mm",
                p.event_index,
                p.magnitude,
                p.time,
                p.latitude,
                p.longitude,
                p.ramp_start,
                p.amplitude_mm,
                p.footprint_km,
                p.stations_reached,
                p.peak_station_mm
            )?;
        }
        Ok(())
    }
}

/// An event's terms, prepared once for all stations.
struct Source {
    latitude: f64,
    longitude: f64,
    /// `M0 / (4 pi mu)`, m^3, times the coefficient; zero if the event makes no offset.
    potency: f64,
    /// `z^2 + a^2`, km^2.
    depth_and_size2: f64,
    /// First day whose noon follows the event.
    first_day: usize,
    /// `ln(1 + (t - t_e) / tau)` from `first_day` on, if the event relaxes.
    relaxation: Option<Vec<f64>>,
    /// The precursor's ramp, if the event has one.
    precursor: Option<Ramp>,
}

/// A precursor ramp on the day grid: `values[k]` on day `start + k`, then 1 from day `full` on.
struct Ramp {
    start: usize,
    values: Vec<f64>,
    full: usize,
}

/// The first day index whose noon is after `t` days since the start (clamped to `[0, n]`).
fn first_day_after(t: f64, n: usize) -> usize {
    // Noon of day d is d + 1/2, so d > t - 1/2.
    let d = (t - 0.5).floor() + 1.0;
    if d <= 0.0 {
        0
    } else if d >= n as f64 {
        n
    } else {
        d as usize
    }
}

/// The normalised tanh ramp over `[t_e - D, t_e]` (0 before, 1 after).
fn ramp(t: f64, t_event: f64, duration: f64) -> f64 {
    if t >= t_event {
        return 1.0;
    }
    let start = t_event - duration;
    if t <= start {
        return 0.0;
    }
    let edge = 3f64.tanh();
    ((6.0 * (t - start) / duration - 3.0).tanh() + edge) / (2.0 * edge)
}

/// Simulates the scenario's GNSS network over `period`, with coseismic and postseismic terms
/// from `catalog` and the scenario's precursors; all randomness from `scenario.seed`.
///
/// `stations` gives the layout (e.g. NGL's station list; those outside the region box are
/// dropped); `None` samples `gnss.layout.n_stations` stations on the land polygons.
pub fn simulate_network(
    scenario: &Scenario,
    catalog: &Catalog,
    period: &Period,
    stations: Option<&[Station]>,
) -> Result<(StationSet, GnssReport)> {
    let params = &scenario.gnss;
    let seed = scenario.seed;
    let (stations, outside_region) = match stations {
        Some(given) => {
            let inside: Vec<Station> = given
                .iter()
                .filter(|s| scenario.region.contains(s.latitude, s.longitude))
                .cloned()
                .collect();
            let outside = given.len() - inside.len();
            (inside, outside)
        }
        None => (sample_layout(params, &scenario.region, seed)?, 0),
    };
    let n = period.n_days();
    let mut report = GnssReport {
        seed,
        stations: 0,
        outside_region,
        empty_stations: 0,
        days: n,
        observed_station_days: 0,
        coseismic_events: 0,
        postseismic_events: 0,
        precursor_candidates: 0,
        precursors: Vec::new(),
    };
    let sources = prepare_sources(params, catalog, period, seed, &mut report)?;
    let dates: Vec<Date> = (0..n).map(|d| period.date(d)).collect();

    let bar = (stations.len() * n > PROGRESS_STATION_DAYS)
        .then(|| progress::bar(stations.len() as u64, "synth gnss"));
    let simulated: Vec<Option<StationSeries>> = stations
        .into_par_iter()
        .enumerate()
        .map(|(index, station)| {
            let series = simulate_station(params, &sources, &dates, seed, index, station);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            series
        })
        .collect::<Result<_>>()?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut kept = Vec::with_capacity(simulated.len());
    for series in simulated {
        match series {
            Some(s) => {
                report.observed_station_days += s.len();
                kept.push(s);
            }
            None => report.empty_stations += 1,
        }
    }
    report.stations = kept.len();
    let set = StationSet::new(kept)?;
    if let Some(pre) = params.precursor() {
        for planted in &mut report.precursors {
            for series in set.series() {
                let (r_km, _) =
                    toward_epicentre(series.station(), planted.latitude, planted.longitude);
                let amplitude_mm = precursor_amplitude_mm(pre, r_km);
                if amplitude_mm > 0.0 && amplitude_mm >= params.params().coseismic.min_offset_mm {
                    planted.stations_reached += 1;
                    planted.peak_station_mm = planted.peak_station_mm.max(amplitude_mm);
                }
            }
        }
    }
    tracing::debug!("{report}");
    Ok((set, report))
}

/// Samples the station layout inside the land polygons and the region box.
fn sample_layout(params: &ValidGnssParams, region: &Region, seed: u64) -> Result<Vec<Station>> {
    let layout = &params.params().layout;
    // Sample in the bounding box of the land, clipped to the region, and reject points at sea.
    let mut bounds = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for [lon, lat] in layout.land.iter().flat_map(|p| p.vertices.iter()) {
        bounds[0] = bounds[0].min(*lon);
        bounds[1] = bounds[1].max(*lon);
        bounds[2] = bounds[2].min(*lat);
        bounds[3] = bounds[3].max(*lat);
    }
    let lon = (bounds[0].max(region.lon_min), bounds[1].min(region.lon_max));
    let lat = (bounds[2].max(region.lat_min), bounds[3].min(region.lat_max));
    ensure_config!(
        lon.0 < lon.1 && lat.0 < lat.1,
        "gnss.layout.land",
        "the land polygons do not overlap the region box"
    );
    let mut rng = rng::stream(seed, "synth.gnss.layout");
    let mut stations = Vec::with_capacity(layout.n_stations);
    let mut attempts = 0usize;
    while stations.len() < layout.n_stations {
        attempts += 1;
        ensure_config!(
            attempts <= LAYOUT_ATTEMPTS_PER_STATION * layout.n_stations,
            "gnss.layout.land",
            "found land for only {} of {} stations in {attempts} tries; do the polygons \
             overlap the region box?",
            stations.len(),
            layout.n_stations
        );
        let longitude = rng.random_range(lon.0..lon.1);
        let latitude = rng.random_range(lat.0..lat.1);
        if region.contains(latitude, longitude) && params.on_land(latitude, longitude) {
            let height_m = layout.max_height_m * rng.random::<f64>();
            stations.push(Station {
                name: station_name(stations.len() + 1),
                latitude,
                longitude,
                height_m,
            });
        }
    }
    Ok(stations)
}

/// `S001`..`S999`, then `T000`..`T999`, and so on to `Z999`: four characters, in index order.
fn station_name(number: usize) -> String {
    let letter = char::from(b'S' + (number / 1000) as u8);
    format!("{letter}{:03}", number % 1000)
}

/// The catalog's events as terms on the day grid, and the choice of precursors.
fn prepare_sources(
    params: &ValidGnssParams,
    catalog: &Catalog,
    period: &Period,
    seed: u64,
    report: &mut GnssReport,
) -> Result<Vec<Source>> {
    let p = params.params();
    let n = period.n_days();
    let co = &p.coseismic;
    let post = &p.postseismic;
    let events = catalog.events();

    let mut planted = vec![false; events.len()];
    if let Some(pre) = &p.precursor {
        let candidates: Vec<usize> = (0..events.len())
            .filter(|&i| crate::catalog::at_or_above(events[i].magnitude, pre.m_min))
            .collect();
        report.precursor_candidates = candidates.len();
        let chosen = (pre.fraction * candidates.len() as f64).round() as usize;
        // A partial Fisher-Yates shuffle picks `chosen` candidates uniformly without replacement.
        let mut rng = rng::stream(seed, "synth.gnss.precursor");
        let mut pool = candidates;
        for k in 0..chosen.min(pool.len()) {
            let j = rng.random_range(k..pool.len());
            pool.swap(k, j);
            planted[pool[k]] = true;
        }
    }

    let mut sources = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let offsets = crate::catalog::at_or_above(event.magnitude, co.m_min);
        let relaxes = offsets && crate::catalog::at_or_above(event.magnitude, post.m_min);
        if !offsets && !planted[index] {
            continue;
        }
        report.coseismic_events += usize::from(offsets);
        report.postseismic_events += usize::from(relaxes);
        let t_event = period.days_since_start(event.time);
        let first_day = first_day_after(t_event, n);
        let depth = event.depth_km.unwrap_or(co.default_depth_km);
        let size_km =
            10f64.powf(co.source_size_log10_km + co.source_size_per_magnitude * event.magnitude);
        let moment = 10f64.powf(1.5 * event.magnitude + 9.1);
        let potency = if offsets {
            co.coefficient * moment / (4.0 * PI * co.rigidity_gpa * 1e9)
        } else {
            0.0
        };
        let relaxation = (relaxes && post.ratio > 0.0).then(|| {
            (first_day..n)
                .map(|d| (d as f64 + 0.5 - t_event) / post.tau_days)
                .map(f64::ln_1p)
                .collect()
        });
        let precursor = match (&p.precursor, planted[index]) {
            (Some(pre), true) => {
                let start = first_day_after(t_event - pre.duration_days, n);
                // The first day whose noon is at or after the event carries the full ramp.
                let full = first_day_after(t_event - 1e-9, n).max(start);
                let values = (start..full)
                    .map(|d| ramp(d as f64 + 0.5, t_event, pre.duration_days))
                    .collect();
                let ramp_start = event
                    .time
                    .checked_sub(SignedDuration::from_secs_f64(
                        pre.duration_days * crate::period::SECONDS_PER_DAY,
                    ))
                    .map_err(|e| Error::Numerical(format!("precursor ramp start: {e}")))?;
                report.precursors.push(PlantedPrecursor {
                    event_index: index,
                    time: event.time,
                    latitude: event.latitude,
                    longitude: event.longitude,
                    magnitude: event.magnitude,
                    ramp_start,
                    amplitude_mm: pre.amplitude_mm,
                    footprint_km: pre.footprint_km,
                    stations_reached: 0,
                    peak_station_mm: 0.0,
                });
                Some(Ramp {
                    start,
                    values,
                    full,
                })
            }
            _ => None,
        };
        sources.push(Source {
            latitude: event.latitude,
            longitude: event.longitude,
            potency,
            depth_and_size2: depth * depth + size_km * size_km,
            first_day,
            relaxation,
            precursor,
        });
    }
    Ok(sources)
}

/// One station's series; `None` if gaps left it no observation.
fn simulate_station(
    params: &ValidGnssParams,
    sources: &[Source],
    dates: &[Date],
    seed: u64,
    index: usize,
    station: Station,
) -> Result<Option<StationSeries>> {
    let p = params.params();
    let n = dates.len();
    let mut enu = vec![[0.0f64; 3]; n];
    // Piecewise-constant terms (steps) go into a difference array, summed once at the end.
    let mut steps = vec![[0.0f64; 3]; n + 1];

    let velocity = params
        .velocity_mm_yr(station.latitude, station.longitude)
        .map(|v| v * 1e-3 / DAYS_PER_YEAR);
    for (d, x) in enu.iter_mut().enumerate() {
        let t = d as f64 + 0.5;
        *x = velocity.map(|v| v * t);
    }

    add_seasonal(&p.seasonal, &mut enu, seed, index);
    add_events(p, sources, &station, &mut enu, &mut steps);
    let mut level = [0.0; 3];
    for (x, step) in enu.iter_mut().zip(&steps) {
        for c in 0..3 {
            level[c] += step[c];
            x[c] += level[c];
        }
    }
    add_noise(&p.noise, &mut enu, seed, index);

    let observed = observed_days(&p.gaps, n, seed, index)?;
    let samples: Vec<(Date, [f64; 3])> = (0..n)
        .filter(|&d| observed[d])
        .map(|d| (dates[d], enu[d]))
        .collect();
    if samples.is_empty() {
        return Ok(None);
    }
    StationSeries::new(station, samples).map(Some)
}

fn add_seasonal(seasonal: &SeasonalParams, enu: &mut [[f64; 3]], seed: u64, index: usize) {
    let mut rng = rng::stream(seed, &format!("synth.gnss.station.{index}.seasonal"));
    let omega = TAU / DAYS_PER_YEAR;
    for c in 0..3 {
        let annual = seasonal.annual_mm[c] * 1e-3 * rng.random_range(0.5..1.5);
        let annual_phase = rng.random_range(0.0..TAU);
        let semiannual = seasonal.semiannual_mm[c] * 1e-3 * rng.random_range(0.5..1.5);
        let semiannual_phase = rng.random_range(0.0..TAU);
        if annual == 0.0 && semiannual == 0.0 {
            continue;
        }
        for (d, x) in enu.iter_mut().enumerate() {
            let t = d as f64 + 0.5;
            x[c] += annual * (omega * t + annual_phase).sin()
                + semiannual * (2.0 * omega * t + semiannual_phase).sin();
        }
    }
}

fn add_events(
    p: &GnssParams,
    sources: &[Source],
    station: &Station,
    enu: &mut [[f64; 3]],
    steps: &mut [[f64; 3]],
) {
    let min_offset = p.coseismic.min_offset_mm * 1e-3;
    let sense = match p.coseismic.direction {
        Direction::Toward => 1.0,
        Direction::Away => -1.0,
    };
    for source in sources {
        let (r_km, toward) = toward_epicentre(station, source.latitude, source.longitude);
        let horizontal = toward.map(|x| sense * x);
        let amplitude = source.potency / ((r_km * r_km + source.depth_and_size2) * 1e6);
        if amplitude > 0.0 && amplitude >= min_offset {
            let offset = [
                amplitude * horizontal[0],
                amplitude * horizontal[1],
                amplitude * p.coseismic.vertical_ratio,
            ];
            if source.first_day < steps.len() {
                add(&mut steps[source.first_day], offset, 1.0);
            }
            if let Some(log_terms) = &source.relaxation {
                let ratio = p.postseismic.ratio;
                for (x, l) in enu[source.first_day..].iter_mut().zip(log_terms) {
                    add(x, offset, ratio * l);
                }
            }
        }
        if let (Some(ramp), Some(pre)) = (&source.precursor, &p.precursor) {
            let amplitude = precursor_amplitude_mm(pre, r_km) * 1e-3;
            if amplitude > 0.0 && amplitude >= min_offset {
                let slip = [
                    amplitude * horizontal[0],
                    amplitude * horizontal[1],
                    amplitude * pre.vertical_ratio,
                ];
                for (x, r) in enu[ramp.start..].iter_mut().zip(&ramp.values) {
                    add(x, slip, *r);
                }
                if ramp.full < steps.len() {
                    add(&mut steps[ramp.full], slip, 1.0);
                }
            }
        }
    }
}

/// The precursor's horizontal amplitude `r_km` from the epicentre, mm.
fn precursor_amplitude_mm(pre: &PrecursorParams, r_km: f64) -> f64 {
    let footprint = pre.footprint_km;
    pre.amplitude_mm * (-r_km * r_km / (2.0 * footprint * footprint)).exp()
}

fn add(x: &mut [f64; 3], v: [f64; 3], scale: f64) {
    for c in 0..3 {
        x[c] += scale * v[c];
    }
}

fn add_noise(noise: &NoiseParams, enu: &mut [[f64; 3]], seed: u64, index: usize) {
    let mut rng = rng::stream(seed, &format!("synth.gnss.station.{index}.noise"));
    let taus = &noise.flicker_time_constants_days;
    let phis: Vec<f64> = taus.iter().map(|tau| (-1.0 / tau).exp()).collect();
    let mut states = vec![0.0; taus.len()];
    for c in 0..3 {
        let white = noise.white_mm[c] * 1e-3;
        let flicker = noise.flicker_mm[c] * 1e-3;
        if white > 0.0 {
            for x in enu.iter_mut() {
                x[c] += white * normal(&mut rng);
            }
        }
        if flicker > 0.0 {
            // Equal stationary variances flicker^2 / K, each process started from it.
            let sigma = flicker / (taus.len() as f64).sqrt();
            for state in states.iter_mut() {
                *state = sigma * normal(&mut rng);
            }
            let innovation: Vec<f64> = phis
                .iter()
                .map(|phi| sigma * (1.0 - phi * phi).sqrt())
                .collect();
            for x in enu.iter_mut() {
                let mut sum = 0.0;
                for ((state, phi), scale) in states.iter_mut().zip(&phis).zip(&innovation) {
                    sum += *state;
                    *state = phi * *state + scale * normal(&mut rng);
                }
                x[c] += sum;
            }
        }
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// Which days a station observes: its start and end dates and its gaps.
fn observed_days(gaps: &GapParams, n: usize, seed: u64, index: usize) -> Result<Vec<bool>> {
    let mut rng = rng::stream(seed, &format!("synth.gnss.station.{index}.gaps"));
    let half = n / 2;
    // Every draw is made whatever the fractions, so changing them does not shift the gaps.
    let (late, late_day) = (rng.random::<f64>(), rng.random_range(1..=half.max(1)));
    let (early, early_day) = (rng.random::<f64>(), rng.random_range(half..n));
    let first = if late < gaps.late_start_fraction {
        late_day.min(half)
    } else {
        0
    };
    let end = if early < gaps.early_end_fraction {
        early_day
    } else {
        n
    };
    let mut observed: Vec<bool> = (0..n).map(|d| d >= first && d < end).collect();
    let kinds = [
        (gaps.short_per_year, 1, gaps.short_max_days),
        (gaps.long_per_year, gaps.long_days[0], gaps.long_days[1]),
    ];
    for (per_year, shortest, longest) in kinds {
        if per_year == 0.0 {
            continue;
        }
        let waiting = Exp::new(per_year / DAYS_PER_YEAR)
            .map_err(|e| Error::Numerical(format!("gap rate {per_year}: {e}")))?;
        // Start the process a longest gap before day 0, so the first days are as likely to be
        // covered as any other.
        let mut t = -f64::from(longest);
        loop {
            t += waiting.sample(&mut rng);
            if t >= n as f64 {
                break;
            }
            let length = rng.random_range(shortest..=longest) as i64;
            let start = t.floor() as i64;
            let from = start.max(0) as usize;
            let to = (start + length).clamp(0, n as i64) as usize;
            for day in observed.iter_mut().take(to).skip(from) {
                *day = false;
            }
        }
    }
    Ok(observed)
}

/// The file that marks a folder as written by [`write_network`], so that writing again may
/// replace it.
pub const NETWORK_MARKER: &str = "quakelab-synth-gnss.txt";

/// What [`write_network`] may do with an output folder that exists and is not empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Replace a previous [`write_network`] output (a folder holding [`NETWORK_MARKER`]);
    /// refuse any other non-empty folder.
    #[default]
    PreviousNetwork,
    /// Replace any folder; its contents are deleted (`synth gnss --force`).
    Any,
}

/// Writes one `<NAME>.tenv3` file per station, then whatever `extra` writes (e.g. the planted
/// precursors), and [`NETWORK_MARKER`], as the folder `dir`, all or nothing.
///
/// The files go into a fresh hidden folder beside `dir` (`.<name>.partial-…`), which replaces
/// `dir` by a rename only once every file is written; on any failure it is removed and `dir` is
/// as it was. The rule for `dir`:
///
/// - absent, or an empty folder: written;
/// - a previous output of this function (it holds [`NETWORK_MARKER`]): replaced whole, so no
///   station of the old network survives beside the new ones;
/// - any other non-empty folder: refused (naming `out` and `--force`) unless `overwrite` is
///   [`Overwrite::Any`], which replaces it whole too;
/// - something that is not a folder: refused.
pub fn write_network(
    dir: &Path,
    set: &StationSet,
    overwrite: Overwrite,
    extra: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let replace = check_output_folder(dir, overwrite)?;
    let removed = remove_stale_partial_folders(dir);
    if removed > 0 {
        tracing::warn!(
            "removed {removed} half-written folder(s) of `{}` left by a `synth gnss` that was killed",
            dir.display()
        );
    }
    let staging = staging_folder(dir, "partial")?;
    let written = write_stations(&staging, set)
        .and_then(|()| extra(&staging))
        .and_then(|()| {
            let marker = staging.join(NETWORK_MARKER);
            let text = format!(
                "written by quakelab synth gnss: {} stations; writing this folder again \
                 replaces it whole\n",
                set.len()
            );
            std::fs::write(&marker, text).map_err(|e| Error::io(&marker, e))
        })
        .and_then(|()| move_into_place(&staging, dir, replace));
    if written.is_err() {
        // The half-written folder is useless; the error that matters is the one returned.
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

/// Checks, before any simulation, that [`write_network`] may write `dir` under `overwrite`
/// (the same rule, the same errors).
pub fn check_network_output(dir: &Path, overwrite: Overwrite) -> Result<()> {
    check_output_folder(dir, overwrite).map(|_| ())
}

/// Whether `dir` exists as a folder with content that the new network replaces (`true`), or
/// is absent or empty (`false`); an error if it may not be replaced.
fn check_output_folder(dir: &Path, overwrite: Overwrite) -> Result<bool> {
    let mut entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(_) if dir.exists() && !dir.is_dir() => {
            return Err(Error::config(
                "out",
                format!("`{}` exists and is not a folder", dir.display()),
            ));
        }
        Err(e) => return Err(Error::io(dir, e)),
    };
    if entries.next().is_none() {
        return Ok(false);
    }
    if overwrite == Overwrite::Any || dir.join(NETWORK_MARKER).is_file() {
        return Ok(true);
    }
    Err(Error::config(
        "out",
        format!(
            "`{}` is a non-empty folder that is not a previous `synth gnss` output (it has no \
             {NETWORK_MARKER}); writing into it would mix its files with the new stations: \
             choose a new or empty folder, or give --force to replace it (its contents are \
             deleted)",
            dir.display()
        ),
    ))
}

/// A new, empty hidden folder beside `dir`, named `.<name>.<what>-<pid>-<n>`.
fn staging_folder(dir: &Path, what: &str) -> Result<std::path::PathBuf> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let name = dir
        .file_name()
        .ok_or_else(|| Error::config("out", format!("`{}` is not a folder name", dir.display())))?
        .to_string_lossy();
    for n in 0u32.. {
        let candidate = parent.join(format!(".{name}.{what}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&candidate, e)),
        }
    }
    Err(Error::config(
        "out",
        format!("no free temporary folder name beside `{}`", dir.display()),
    ))
}

/// Removes the staging folders of `dir` (`.<name>.partial-<pid>-<n>`, see [`staging_folder`])
/// whose writing process is no longer alive, as a killed `synth gnss` leaves them, and returns
/// how many it removed.
///
/// Conservative, like [`crate::io::remove_stale_temporaries`]: only where `/proc` tells which
/// processes live (Linux); never this process's own folders or a live process's; never the
/// `.old-` folders of an interrupted replacement, which may hold the only copy of a network.
fn remove_stale_partial_folders(dir: &Path) -> usize {
    let proc = Path::new("/proc");
    if !cfg!(target_os = "linux") || !proc.join("self").exists() {
        return 0;
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (Some(name), Ok(entries)) = (dir.file_name(), std::fs::read_dir(parent)) else {
        return 0;
    };
    let prefix = format!(".{}.partial-", name.to_string_lossy());
    let own = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.split_once('-'))
            .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own || proc.join(pid.to_string()).exists() || !entry.path().is_dir() {
            continue;
        }
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(
                "cannot remove the stale folder {}: {e}",
                entry.path().display()
            ),
        }
    }
    removed
}

/// Renames the finished `staging` folder to `dir`. An old `dir` is first renamed aside, and
/// renamed back if the move fails, then deleted.
fn move_into_place(staging: &Path, dir: &Path, replace: bool) -> Result<()> {
    if !replace {
        // An empty folder (or none): rename cannot replace a folder, so remove it first.
        match std::fs::remove_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(dir, e)),
        }
        return std::fs::rename(staging, dir).map_err(|e| Error::io(dir, e));
    }
    let old = staging_folder(dir, "old")?;
    // The name is reserved; the old folder takes it.
    std::fs::remove_dir(&old).map_err(|e| Error::io(&old, e))?;
    std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
    if let Err(e) = std::fs::rename(staging, dir) {
        // Put the old folder back: the caller promised the user it stays intact.
        let _ = std::fs::rename(&old, dir);
        return Err(Error::io(dir, e));
    }
    if let Err(e) = std::fs::remove_dir_all(&old) {
        tracing::warn!(
            "the new network is in place, but the old one could not be deleted from {}: {e}",
            old.display()
        );
    }
    Ok(())
}

/// One `<NAME>.tenv3` file per station into the existing folder `dir`.
fn write_stations(dir: &Path, set: &StationSet) -> Result<()> {
    let station_days: usize = set.series().iter().map(StationSeries::len).sum();
    let bar = (station_days > PROGRESS_STATION_DAYS)
        .then(|| progress::bar(set.len() as u64, "write tenv3"));
    let written: Vec<Result<()>> = set
        .series()
        .par_iter()
        .map(|series| {
            let path = dir.join(format!("{}.tenv3", series.station().name));
            let result = write_tenv3(&path, series);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            result
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // The first failure in station order, so the error does not depend on thread timing.
    written.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::EARTH_RADIUS_KM;

    #[test]
    fn station_names_are_four_characters_in_index_order() {
        assert_eq!(station_name(1), "S001");
        assert_eq!(station_name(999), "S999");
        assert_eq!(station_name(1000), "T000");
        assert_eq!(station_name(MAX_STATIONS), "Z999");
        let names: Vec<String> = (1..=MAX_STATIONS).map(station_name).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn point_in_polygon_and_distance_to_polyline() {
        let square = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];
        assert!(inside_polygon(&square, 1.0, 1.0));
        assert!(!inside_polygon(&square, 3.0, 1.0));
        assert!(!inside_polygon(&square, 1.0, -0.5));
        // On the equator, one degree of longitude from a meridian segment is KM_PER_DEGREE km;
        // past the segment's end, the distance is to the end vertex.
        let meridian = [[0.0, -1.0], [0.0, 1.0]];
        let d = distance_to_polyline_km(0.0, 1.0, &meridian);
        assert!((d - KM_PER_DEGREE).abs() < 1e-9, "{d}");
        let d = distance_to_polyline_km(2.0, 0.0, &meridian);
        assert!((d - KM_PER_DEGREE).abs() < 1e-9, "{d}");
    }

    #[test]
    fn ramp_runs_from_zero_through_half_to_one() {
        assert_eq!(ramp(-1.0, 10.0, 10.0), 0.0);
        assert_eq!(ramp(0.0, 10.0, 10.0), 0.0);
        assert!((ramp(5.0, 10.0, 10.0) - 0.5).abs() < 1e-15);
        assert_eq!(ramp(10.0, 10.0, 10.0), 1.0);
        assert_eq!(ramp(11.0, 10.0, 10.0), 1.0);
    }

    #[test]
    fn first_day_after_uses_noon() {
        assert_eq!(first_day_after(-3.0, 10), 0);
        assert_eq!(first_day_after(0.4, 10), 0);
        assert_eq!(first_day_after(0.5, 10), 1);
        assert_eq!(first_day_after(0.6, 10), 1);
        assert_eq!(first_day_after(9.6, 10), 10);
    }

    #[test]
    fn bearing_points_toward_the_epicentre() {
        let station = Station {
            name: "S001".into(),
            latitude: 0.0,
            longitude: 1.0,
            height_m: 0.0,
        };
        let (r, toward) = toward_epicentre(&station, 0.0, 0.0);
        assert!((r - EARTH_RADIUS_KM * 1f64.to_radians()).abs() < 1e-9);
        assert!((toward[0] + 1.0).abs() < 1e-12 && toward[1].abs() < 1e-12);
        let (r, toward) = toward_epicentre(&station, 1.0, 1.0);
        assert!((r - EARTH_RADIUS_KM * 1f64.to_radians()).abs() < 1e-9);
        assert!(toward[0].abs() < 1e-12 && (toward[1] - 1.0).abs() < 1e-12);
    }
}
