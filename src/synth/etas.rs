//! A space-time ETAS (epidemic-type aftershock sequence) simulator, written from the model's
//! equations (Ogata 1988, 1998).
//!
//! # The model
//!
//! Events are a branching process. Background events arrive as a Poisson process of `mu` events
//! per day (with `M >= m_min`), placed along the scenario's fault bands. Every event, background
//! or triggered, of magnitude `M` at time `t_i` triggers its own direct aftershocks with rate
//!
//! ```text
//! lambda_i(t) = K 10^(alpha (M - m_min)) / (t - t_i + c)^p,    t > t_i        (Omori-Utsu)
//! ```
//!
//! so the expected number of direct aftershocks up to a horizon `T` after the parent is
//! `K 10^(alpha (M - m_min)) (c^(1-p) - (T + c)^(1-p)) / (p - 1)`.
//!
//! - **Magnitudes** follow Gutenberg-Richter with slope `b`, truncated at `m_max`, and are reported
//!   to [`MAGNITUDE_BIN`] = 0.1: a continuous magnitude is drawn from the exponential density
//!   `beta e^(-beta (M - m_lo))`, `beta = b ln 10`, on `[m_min - 0.05, m_max + 0.05)` and rounded
//!   to the nearest bin centre. The binned magnitudes are then exactly GR-distributed on the bin
//!   centres `m_min, m_min + 0.1, ..., m_max`, which is what the Aki-Utsu estimator with its
//!   `Mc - dM/2` correction assumes.
//! - **Space**: an aftershock lies at distance `r` from its parent with the power-law density
//!   `f(r) ∝ (1 + r^2 / sigma(M))^(-q)` (Ogata 1998's model 5 form), where
//!   `sigma(M) = d^2 10^(gamma (M - m_min))`, so the cluster size grows with magnitude like a
//!   rupture length (`sqrt(sigma) ∝ 10^(gamma M / 2)`). The direction is uniform. The offset is
//!   applied in a local flat frame (111.195 km per degree), adequate for aftershock zones away
//!   from the poles; distances are capped at 20,000 km so the heavy tail stays on the globe.
//! - **Depth**: background events take their band's depth plus Gaussian scatter, aftershocks
//!   their parent's depth plus Gaussian scatter; both are reflected at the surface.
//! - **Background**: each [`BackgroundBand`] is a polyline of lon/lat vertices with a Gaussian
//!   cross-section of standard deviation `width_km`. A band receives the share `weight / Σ weight`
//!   of `mu`; within it a point is uniform along the polyline's length.
//! - **Branching ratio** `n = K c^(1-p)/(p-1) · E[10^(alpha (M - m_min))]`, the expectation taken
//!   over the binned GR distribution. `n >= 1` is supercritical (the cascade never dies out) and
//!   is refused.
//!
//! # Simulation
//!
//! The process runs from `burn_in_days` before the period start to its end, so aftershocks of
//! earlier events are present on the first day. Every simulated event triggers, including
//! those in the burn-in and those outside the region box (a shock just outside the box has
//! aftershocks inside it). Afterwards only events inside the period and the box are kept; the
//! [`SimReport`] counts those discarded for each reason. Aftershock times are truncated at the
//! period's end. Scenario events with fixed time, place and magnitude (e.g. a Tohoku analogue)
//! can be imposed with [`ImposedEvent`]; they trigger like any other event.
//!
//! # Detection
//!
//! The simulated events are the truth. With `incompleteness = "helmstetter"` a network then
//! misses the small events in the coda of large ones ([`Incompleteness::Helmstetter`], with the
//! base completeness magnitude `m_min`): the pass runs in time order over every simulated event
//! inside the region box, burn-in included (an M8 the day before the period start still hides
//! events on its first day), and events outside the box play no part (the network watches the
//! box). The returned [`Simulation`] keeps the true catalog and which of its events were detected;
//! [`simulate`] returns the detected ones, and the [`SimReport`] counts those hidden.
//!
//! All randomness comes from `rng::stream(seed, "synth.etas")`, and the loops are sequential, so
//! a seed gives the same catalog whatever the thread count. (Across platforms the same holds as
//! far as their `ln`/`exp`/`powf` agree to the last bit, which they do on the usual targets.)

use std::fmt;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Event, Region};
use crate::geo::normalize_longitude;
use crate::period::{Period, SECONDS_PER_DAY};
use crate::synth::incompleteness::Incompleteness;
use crate::{Error, Result, ensure_config, progress, rng};

/// Magnitudes are reported to this bin width.
pub const MAGNITUDE_BIN: f64 = 0.1;

pub use crate::geo::KM_PER_DEGREE;

/// The default limit on a simulation's size, in events (about 1 GB of simulation state). A
/// scenario whose expected size ([`ValidEtasParams::expected_events`]) exceeds the limit is
/// refused before anything is drawn, and a simulation that grows past it anyway (a
/// near-critical branching ratio with a huge mainshock can) stops with an error. Callers raise
/// it with [`simulate_limited`] (the command line's `--max-events`).
pub const MAX_SIMULATED_EVENTS: usize = 20_000_000;

/// The longest aftershock offset, in km: half the Earth's circumference.
const MAX_OFFSET_KM: f64 = 20_000.0;

/// After this long without finishing, a progress bar appears.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// ETAS parameters as written in a scenario's `[etas]` section (unchecked; see
/// [`EtasParams::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EtasParams {
    /// Smallest simulated magnitude, also the reference magnitude of the productivity law. A
    /// multiple of 0.1.
    pub m_min: f64,
    /// Largest magnitude (GR truncation). A multiple of 0.1.
    pub m_max: f64,
    /// Gutenberg-Richter b value.
    pub b: f64,
    /// Background rate: events per day with `M >= m_min`, summed over all bands.
    pub mu: f64,
    /// Productivity `K` of the Omori-Utsu law (events per day^(1-p)).
    pub k: f64,
    /// Productivity's magnitude scaling `alpha` (per magnitude unit, base 10).
    pub alpha: f64,
    /// Omori-Utsu `c`, in days.
    pub c_days: f64,
    /// Omori-Utsu `p` (must exceed 1).
    pub p: f64,
    /// Spatial kernel scale `d` in km at `M = m_min`.
    pub spatial_d_km: f64,
    /// Growth of the kernel's area with magnitude: `sigma = d^2 10^(gamma (M - m_min))`.
    pub spatial_gamma: f64,
    /// Power-law exponent `q` of the spatial kernel (must exceed 1).
    pub spatial_q: f64,
    /// Standard deviation of an aftershock's depth about its parent's, in km.
    pub aftershock_depth_sd_km: f64,
    /// Days simulated before the period start, so that it opens with ongoing sequences.
    pub burn_in_days: f64,
    /// Where background events occur.
    pub bands: Vec<BackgroundBand>,
    /// Events with fixed time, place and magnitude added to the background.
    #[serde(default)]
    pub imposed: Vec<ImposedEvent>,
    /// Which events the simulated network detects (`none`, the default, or `helmstetter`: short-
    /// term incompleteness after large events, see [`crate::synth::incompleteness`]). Left out
    /// of the serialised parameters when `none`, so the catalog cache keys of scenarios that
    /// do not set it are those they had before it existed.
    #[serde(default, skip_serializing_if = "Incompleteness::is_none")]
    pub incompleteness: Incompleteness,
}

/// A band of background seismicity: a polyline with a Gaussian cross-section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackgroundBand {
    /// A label for messages.
    pub name: String,
    /// Polyline vertices as `[longitude, latitude]` in degrees; at least two.
    pub vertices: Vec<[f64; 2]>,
    /// Standard deviation of the distance across the band, in km.
    pub width_km: f64,
    /// Relative share of the background rate (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// Mean depth of the band's background events, in km.
    pub depth_km: f64,
    /// Standard deviation of their depth, in km.
    pub depth_sd_km: f64,
}

fn one() -> f64 {
    1.0
}

/// A scenario event with fixed time, place and magnitude (e.g. an analogue of a historical
/// mainshock). It triggers aftershocks like any other event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImposedEvent {
    /// Origin time, RFC 3339 (`2011-03-11T05:46:24Z`).
    pub time: String,
    /// Longitude in degrees east.
    pub longitude: f64,
    /// Latitude in degrees north.
    pub latitude: f64,
    /// Depth in km.
    pub depth_km: f64,
    /// Magnitude.
    pub magnitude: f64,
}

impl EtasParams {
    /// Checks every parameter and returns the validated set; errors name the key (`etas.k`,
    /// `etas.bands[1].width_km`, ...). Supercritical settings (branching ratio `>= 1`) are
    /// refused with the key `etas.k`.
    pub fn check(self) -> Result<ValidEtasParams> {
        let p = &self;
        let on_bin = |m: f64| (m / MAGNITUDE_BIN - (m / MAGNITUDE_BIN).round()).abs() < 1e-6;
        ensure_config!(
            p.m_min.is_finite() && on_bin(p.m_min),
            "etas.m_min",
            "must be a finite multiple of {MAGNITUDE_BIN}, got {}",
            p.m_min
        );
        ensure_config!(
            p.m_max.is_finite() && on_bin(p.m_max) && p.m_max > p.m_min && p.m_max <= 10.0,
            "etas.m_max",
            "must be a multiple of {MAGNITUDE_BIN} above m_min = {} and at most 10, got {}",
            p.m_min,
            p.m_max
        );
        ensure_config!(
            p.b > 0.0 && p.b <= 3.0,
            "etas.b",
            "must be in (0, 3], got {}",
            p.b
        );
        ensure_config!(
            p.mu >= 0.0 && p.mu.is_finite(),
            "etas.mu",
            "must be a finite rate >= 0 (events per day), got {}",
            p.mu
        );
        ensure_config!(
            p.k >= 0.0 && p.k.is_finite(),
            "etas.k",
            "must be finite and >= 0, got {}",
            p.k
        );
        ensure_config!(
            p.alpha >= 0.0 && p.alpha <= 3.0,
            "etas.alpha",
            "must be in [0, 3], got {}",
            p.alpha
        );
        ensure_config!(
            p.c_days > 0.0 && p.c_days.is_finite(),
            "etas.c_days",
            "must be a positive number of days, got {}",
            p.c_days
        );
        ensure_config!(
            p.p > 1.0 && p.p <= 3.0,
            "etas.p",
            "must be in (1, 3] (with p <= 1 the expected number of aftershocks diverges), got {}",
            p.p
        );
        ensure_config!(
            p.spatial_d_km > 0.0 && p.spatial_d_km.is_finite(),
            "etas.spatial_d_km",
            "must be a positive distance, got {}",
            p.spatial_d_km
        );
        ensure_config!(
            p.spatial_gamma >= 0.0 && p.spatial_gamma <= 3.0,
            "etas.spatial_gamma",
            "must be in [0, 3], got {}",
            p.spatial_gamma
        );
        ensure_config!(
            p.spatial_q > 1.0 && p.spatial_q <= 10.0,
            "etas.spatial_q",
            "must be in (1, 10] (q <= 1 is not a normalisable density), got {}",
            p.spatial_q
        );
        ensure_config!(
            p.aftershock_depth_sd_km >= 0.0 && p.aftershock_depth_sd_km.is_finite(),
            "etas.aftershock_depth_sd_km",
            "must be finite and >= 0, got {}",
            p.aftershock_depth_sd_km
        );
        ensure_config!(
            p.burn_in_days >= 0.0 && p.burn_in_days <= 36_525.0,
            "etas.burn_in_days",
            "must be between 0 and 36,525 days (a century), got {}",
            p.burn_in_days
        );
        ensure_config!(
            p.mu == 0.0 || !p.bands.is_empty(),
            "etas.bands",
            "a positive background rate needs at least one band"
        );
        let bands = p
            .bands
            .iter()
            .enumerate()
            .map(|(i, band)| ValidBand::new(i, band))
            .collect::<Result<Vec<_>>>()?;
        let mut band_cdf = Vec::with_capacity(bands.len());
        let total_weight: f64 = p.bands.iter().map(|b| b.weight).sum();
        let mut acc = 0.0;
        for band in &p.bands {
            acc += band.weight / total_weight;
            band_cdf.push(acc);
        }
        let imposed = p
            .imposed
            .iter()
            .enumerate()
            .map(|(i, e)| check_imposed(i, e, p.m_min))
            .collect::<Result<Vec<_>>>()?;

        let branching_ratio = p.k * p.c_days.powf(1.0 - p.p) / (p.p - 1.0)
            * mean_productivity_factor(p.b, p.alpha, p.m_min, p.m_max);
        ensure_config!(
            branching_ratio.is_finite() && branching_ratio < 1.0,
            "etas.k",
            "the branching ratio n = K c^(1-p)/(p-1) E[10^(alpha (M - m_min))] = {branching_ratio:.3} \
             is >= 1, so the cascade is supercritical; lower etas.k or etas.alpha"
        );
        Ok(ValidEtasParams {
            params: self,
            branching_ratio,
            bands,
            band_cdf,
            imposed,
        })
    }
}

fn check_imposed(i: usize, e: &ImposedEvent, m_min: f64) -> Result<Timestamp> {
    let key = |field: &str| format!("etas.imposed[{i}].{field}");
    let time: Timestamp = e.time.parse().map_err(|err| {
        Error::config(
            key("time"),
            format!("`{}` is not an RFC 3339 time: {err}", e.time),
        )
    })?;
    ensure_config!(
        (-90.0..=90.0).contains(&e.latitude),
        key("latitude"),
        "must be within ±90, got {}",
        e.latitude
    );
    ensure_config!(e.longitude.is_finite(), key("longitude"), "must be finite");
    ensure_config!(
        e.depth_km >= 0.0 && e.depth_km <= 800.0,
        key("depth_km"),
        "must be between 0 and 800 km, got {}",
        e.depth_km
    );
    ensure_config!(
        e.magnitude >= m_min && e.magnitude <= 10.0,
        key("magnitude"),
        "must be between m_min = {m_min} and 10, got {}",
        e.magnitude
    );
    Ok(time)
}

/// Number of magnitude bins from `m_min` to `m_max` inclusive.
fn bin_count(m_min: f64, m_max: f64) -> usize {
    ((m_max - m_min) / MAGNITUDE_BIN).round() as usize + 1
}

/// `E[10^(alpha (M - m_min))]` over the binned, truncated GR distribution: bin `j` (centre
/// `m_min + j dM`) holds the continuous mass on `[m_min + (j - 1/2) dM, m_min + (j + 1/2) dM)`.
fn mean_productivity_factor(b: f64, alpha: f64, m_min: f64, m_max: f64) -> f64 {
    let n = bin_count(m_min, m_max);
    let decay = 10f64.powf(-b * MAGNITUDE_BIN);
    let total = 1.0 - decay.powi(n as i32);
    (0..n)
        .map(|j| {
            let mass = decay.powi(j as i32) * (1.0 - decay) / total;
            mass * 10f64.powf(alpha * j as f64 * MAGNITUDE_BIN)
        })
        .sum()
}

/// A checked band, with the cumulative lengths of its segments for sampling.
#[derive(Debug, Clone)]
struct ValidBand {
    vertices: Vec<[f64; 2]>,
    /// Cumulative fraction of the polyline's length at the end of each segment.
    segment_cdf: Vec<f64>,
    width_km: f64,
    depth_km: f64,
    depth_sd_km: f64,
}

impl ValidBand {
    fn new(i: usize, band: &BackgroundBand) -> Result<Self> {
        let key = |field: &str| format!("etas.bands[{i}].{field}");
        ensure_config!(
            band.vertices.len() >= 2,
            key("vertices"),
            "band `{}` needs at least two [lon, lat] vertices, got {}",
            band.name,
            band.vertices.len()
        );
        for [lon, lat] in &band.vertices {
            ensure_config!(
                lon.is_finite() && (-90.0..=90.0).contains(lat),
                key("vertices"),
                "band `{}`: vertex [{lon}, {lat}] needs a finite longitude and a latitude within ±90",
                band.name
            );
        }
        let lengths: Vec<f64> = band
            .vertices
            .windows(2)
            .map(|w| {
                let (east, north) = local_km(w[0], w[1]);
                east.hypot(north)
            })
            .collect();
        let total: f64 = lengths.iter().sum();
        ensure_config!(
            total.is_finite() && total > 0.0,
            key("vertices"),
            "band `{}` has zero length",
            band.name
        );
        let mut acc = 0.0;
        let segment_cdf = lengths
            .iter()
            .map(|l| {
                acc += l / total;
                acc
            })
            .collect();
        ensure_config!(
            band.width_km > 0.0 && band.width_km.is_finite(),
            key("width_km"),
            "must be a positive distance, got {}",
            band.width_km
        );
        ensure_config!(
            band.weight > 0.0 && band.weight.is_finite(),
            key("weight"),
            "must be positive, got {}",
            band.weight
        );
        ensure_config!(
            band.depth_km >= 0.0 && band.depth_km <= 800.0,
            key("depth_km"),
            "must be between 0 and 800 km, got {}",
            band.depth_km
        );
        ensure_config!(
            band.depth_sd_km >= 0.0 && band.depth_sd_km.is_finite(),
            key("depth_sd_km"),
            "must be finite and >= 0, got {}",
            band.depth_sd_km
        );
        Ok(ValidBand {
            vertices: band.vertices.clone(),
            segment_cdf,
            width_km: band.width_km,
            depth_km: band.depth_km,
            depth_sd_km: band.depth_sd_km,
        })
    }
}

/// East and north offsets in km from `a` to `b` (`[lon, lat]`), in the flat frame at their
/// mean latitude.
fn local_km(a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
    let mean_lat = 0.5 * (a[1] + b[1]);
    let east = (b[0] - a[0]) * KM_PER_DEGREE * mean_lat.to_radians().cos();
    let north = (b[1] - a[1]) * KM_PER_DEGREE;
    (east, north)
}

/// ETAS parameters that passed [`EtasParams::check`].
#[derive(Debug, Clone)]
pub struct ValidEtasParams {
    params: EtasParams,
    branching_ratio: f64,
    bands: Vec<ValidBand>,
    band_cdf: Vec<f64>,
    imposed: Vec<Timestamp>,
}

impl ValidEtasParams {
    /// The parameters as written.
    pub fn params(&self) -> &EtasParams {
        &self.params
    }

    /// The branching ratio `n` (mean number of direct aftershocks per event, over infinite time).
    pub fn branching_ratio(&self) -> f64 {
        self.branching_ratio
    }

    /// The same parameters with another detection model (which no other check depends on).
    pub fn with_incompleteness(mut self, incompleteness: Incompleteness) -> ValidEtasParams {
        self.params.incompleteness = incompleteness;
        self
    }

    /// The expected number of events a simulation over `period` draws, burn-in and events outside
    /// the box included: each background event (`mu` per day over the burn-in and the period)
    /// heads a family of `1/(1 − n)` events on average, and each imposed event in the simulated
    /// span one of
    /// `1 + K 10^(alpha (M − m_min)) c^(1−p)/(p − 1) / (1 − n)`. Aftershocks cut off at the
    /// period end make the true number smaller, so this is an upper estimate.
    pub fn expected_events(&self, period: &Period) -> f64 {
        let p = &self.params;
        let family = 1.0 / (1.0 - self.branching_ratio);
        let span = period.n_days() as f64 + p.burn_in_days;
        let direct = |m: f64| {
            p.k * 10f64.powf(p.alpha * (m - p.m_min)) * p.c_days.powf(1.0 - p.p) / (p.p - 1.0)
        };
        let imposed: f64 = p
            .imposed
            .iter()
            .zip(&self.imposed)
            .filter(|(_, time)| {
                let t = period.days_since_start(**time);
                (-p.burn_in_days..period.n_days() as f64).contains(&t)
            })
            .map(|(e, _)| 1.0 + direct(e.magnitude) * family)
            .sum();
        p.mu * span * family + imposed
    }
}

/// What a simulation produced and discarded.
#[derive(Debug, Clone, PartialEq)]
pub struct SimReport {
    /// The seed used.
    pub seed: u64,
    /// The parameters' branching ratio.
    pub branching_ratio: f64,
    /// Background events simulated (burn-in and outside the box included).
    pub background: usize,
    /// Imposed events that fell in the simulated time span.
    pub imposed: usize,
    /// Triggered events simulated (burn-in and outside the box included).
    pub aftershocks: usize,
    /// Events discarded because they fell in the burn-in, before the period.
    pub before_start: usize,
    /// Events in the period discarded because they lie outside the region box.
    pub outside_region: usize,
    /// Events inside the period and the region: the true catalog.
    pub kept: usize,
    /// Of those, background events (the rest are triggered or imposed): the declustering truth.
    pub kept_background: usize,
    /// The largest magnitude kept, if any event was.
    pub max_magnitude: Option<f64>,
    /// The detection model applied to the kept events.
    pub incompleteness: Incompleteness,
    /// Kept events the network missed (short-term incompleteness); 0 without a model.
    pub thinned: usize,
}

impl SimReport {
    /// Events in the detected catalog: `kept − thinned`.
    pub fn detected(&self) -> usize {
        self.kept - self.thinned
    }
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ETAS (seed {}, branching ratio {:.3}): simulated {} background, {} imposed and {} \
             triggered events; discarded {} in the burn-in and {} outside the region; kept {} \
             ({} background)",
            self.seed,
            self.branching_ratio,
            self.background,
            self.imposed,
            self.aftershocks,
            self.before_start,
            self.outside_region,
            self.kept,
            self.kept_background,
        )?;
        if let Some(m) = self.max_magnitude {
            write!(f, ", largest M{m:.1}")?;
        }
        if self.incompleteness.is_none() {
            write!(f, ".")
        } else {
            write!(
                f,
                "; short-term incompleteness ({}) hid {} of them, {} detected.",
                self.incompleteness.name(),
                self.thinned,
                self.detected()
            )
        }
    }
}

/// Whence an event came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Background,
    Imposed,
    Triggered,
}

/// An event during simulation; `t` is in days since the period start (negative in the burn-in).
#[derive(Debug, Clone, Copy)]
struct Quake {
    t: f64,
    latitude: f64,
    longitude: f64,
    depth_km: f64,
    magnitude: f64,
    origin: Origin,
}

/// The random draws of the model, over one generator.
struct Sampler<'p> {
    params: &'p ValidEtasParams,
    rng: ChaCha8Rng,
    beta: f64,
    /// `1 - e^(-beta (m_max - m_min + dM))`: the untruncated mass of the magnitude range.
    magnitude_mass: f64,
    bins: usize,
}

impl<'p> Sampler<'p> {
    fn new(params: &'p ValidEtasParams, rng: ChaCha8Rng) -> Self {
        let p = &params.params;
        let beta = p.b * std::f64::consts::LN_10;
        let bins = bin_count(p.m_min, p.m_max);
        Sampler {
            params,
            rng,
            beta,
            magnitude_mass: 1.0 - (-beta * bins as f64 * MAGNITUDE_BIN).exp(),
            bins,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    fn normal(&mut self) -> f64 {
        self.rng.sample(StandardNormal)
    }

    fn poisson(&mut self, mean: f64) -> usize {
        match Poisson::new(mean) {
            Ok(dist) => dist.sample(&mut self.rng) as usize,
            // Poisson::new refuses a zero mean, which has the certain outcome 0.
            Err(_) => 0,
        }
    }

    /// A binned GR magnitude: inverse-CDF draw on the truncated exponential, then the bin.
    fn magnitude(&mut self) -> f64 {
        let u = self.uniform();
        let excess = -(1.0 - u * self.magnitude_mass).ln() / self.beta;
        let bin = ((excess / MAGNITUDE_BIN).floor() as usize).min(self.bins - 1);
        round_to(self.params.params.m_min + bin as f64 * MAGNITUDE_BIN, 1)
    }

    /// A background epicentre and depth: a band by weight, a point uniform along its length,
    /// then a Gaussian offset across it.
    fn background_site(&mut self) -> (f64, f64, f64) {
        let params = self.params;
        let u = self.uniform();
        let band_index = params
            .band_cdf
            .partition_point(|&c| c < u)
            .min(params.bands.len() - 1);
        let band = &params.bands[band_index];
        let u = self.uniform();
        let segment = band
            .segment_cdf
            .partition_point(|&c| c < u)
            .min(band.segment_cdf.len() - 1);
        let (a, b) = (band.vertices[segment], band.vertices[segment + 1]);
        let along = self.uniform();
        let lon = a[0] + along * (b[0] - a[0]);
        let lat = a[1] + along * (b[1] - a[1]);
        let (east, north) = local_km(a, b);
        let length = east.hypot(north);
        let across = self.normal() * band.width_km;
        // The unit normal to the segment in the local frame is (-north, east) / length.
        let (latitude, longitude) =
            displaced(lat, lon, -north / length * across, east / length * across);
        let depth = (band.depth_km + self.normal() * band.depth_sd_km).abs();
        (latitude, longitude, depth)
    }

    /// Appends the direct aftershocks of `parent` that fall before `t_end` to `out`.
    fn aftershocks(&mut self, parent: &Quake, t_end: f64, out: &mut Vec<Quake>) {
        let params = self.params;
        let p = &params.params;
        let horizon = t_end - parent.t;
        if horizon <= 0.0 || p.k == 0.0 {
            return;
        }
        let early = p.c_days.powf(1.0 - p.p);
        let late = (horizon + p.c_days).powf(1.0 - p.p);
        let productivity = p.k * 10f64.powf(p.alpha * (parent.magnitude - p.m_min));
        let count = self.poisson(productivity * (early - late) / (p.p - 1.0));
        let sigma =
            p.spatial_d_km.powi(2) * 10f64.powf(p.spatial_gamma * (parent.magnitude - p.m_min));
        for _ in 0..count {
            // Inverse CDF of the Omori-Utsu density truncated to [0, horizon).
            let u = self.uniform();
            let dt = (early - u * (early - late)).powf(1.0 / (1.0 - p.p)) - p.c_days;
            // Inverse CDF of P(R <= r) = 1 - (1 + r^2/sigma)^(1-q).
            let u = self.uniform();
            let r = (sigma * ((1.0 - u).powf(-1.0 / (p.spatial_q - 1.0)) - 1.0))
                .sqrt()
                .min(MAX_OFFSET_KM);
            let azimuth = std::f64::consts::TAU * self.uniform();
            let (latitude, longitude) = displaced(
                parent.latitude,
                parent.longitude,
                r * azimuth.cos(),
                r * azimuth.sin(),
            );
            let depth_km = (parent.depth_km + self.normal() * p.aftershock_depth_sd_km).abs();
            let magnitude = self.magnitude();
            out.push(Quake {
                t: parent.t + dt,
                latitude,
                longitude,
                depth_km,
                magnitude,
                origin: Origin::Triggered,
            });
        }
    }
}

/// The point `north_km`, `east_km` away from (`latitude`, `longitude`) in the flat local frame.
fn displaced(latitude: f64, longitude: f64, north_km: f64, east_km: f64) -> (f64, f64) {
    // Keep cos(latitude) away from zero so a (rare, far-flung) event near a pole stays finite.
    let cos_lat = latitude.to_radians().cos().max(1e-6);
    let lat = (latitude + north_km / KM_PER_DEGREE).clamp(-90.0, 90.0);
    let lon = normalize_longitude(longitude + east_km / (KM_PER_DEGREE * cos_lat));
    (lat, lon)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// Simulates an ETAS catalog over `period`, keeping the events inside `region` that the network
/// detects (all of them unless the parameters set an incompleteness model), within the default
/// size limit [`MAX_SIMULATED_EVENTS`].
///
/// Deterministic in `seed` (stream `synth.etas`). Times are rounded to the millisecond,
/// coordinates to 1e-4 degree, depths to 0.1 km and magnitudes to 0.1, so the catalog survives a
/// round trip through [`crate::io::catalog::write_comcat`] unchanged.
pub fn simulate(
    params: &ValidEtasParams,
    region: &Region,
    period: &Period,
    seed: u64,
) -> Result<(Catalog, SimReport)> {
    simulate_limited(params, region, period, seed, MAX_SIMULATED_EVENTS)
}

/// [`simulate`] with a size limit of `max_events`: a scenario expected to draw more
/// ([`ValidEtasParams::expected_events`]) is refused up front with the estimate in the message
/// (key `etas.mu`), and a simulation that passes the limit while running stops with an error.
/// A simulation that runs for more than a second shows a progress bar on a terminal.
pub fn simulate_limited(
    params: &ValidEtasParams,
    region: &Region,
    period: &Period,
    seed: u64,
    max_events: usize,
) -> Result<(Catalog, SimReport)> {
    Ok(simulate_with_truth(params, region, period, seed, max_events)?.into_observed())
}

/// [`simulate_limited`], keeping the truth: the whole simulated catalog inside the period and
/// the region, and which of its events the network detected under the parameters'
/// incompleteness model.
pub fn simulate_with_truth(
    params: &ValidEtasParams,
    region: &Region,
    period: &Period,
    seed: u64,
    max_events: usize,
) -> Result<Simulation> {
    let p = &params.params;
    let expected = params.expected_events(period);
    if expected > max_events as f64 {
        return Err(Error::config(
            "etas.mu",
            format!(
                "the scenario would simulate about {expected:.3e} events (mu = {} per day over \
                 {} days with {} days of burn-in, families of 1/(1 - n) = {:.2} events for a \
                 branching ratio of {:.3}, plus the imposed events and their aftershocks), more \
                 than the limit of {max_events}; lower etas.mu or etas.k, shorten the period, \
                 or raise the limit (--max-events)",
                p.mu,
                period.n_days(),
                p.burn_in_days,
                1.0 / (1.0 - params.branching_ratio),
                params.branching_ratio,
            ),
        ));
    }
    let t_end = period.n_days() as f64;
    let t_start = -p.burn_in_days;
    let mut sampler = Sampler::new(params, rng::stream(seed, "synth.etas"));

    let mut roots = Vec::new();
    for _ in 0..sampler.poisson(p.mu * (t_end - t_start)) {
        let t = t_start + sampler.uniform() * (t_end - t_start);
        let (latitude, longitude, depth_km) = sampler.background_site();
        let magnitude = sampler.magnitude();
        roots.push(Quake {
            t,
            latitude,
            longitude,
            depth_km,
            magnitude,
            origin: Origin::Background,
        });
    }
    for (event, time) in p.imposed.iter().zip(&params.imposed) {
        let t = period.days_since_start(*time);
        if (t_start..t_end).contains(&t) {
            roots.push(Quake {
                t,
                latitude: event.latitude,
                longitude: normalize_longitude(event.longitude),
                depth_km: event.depth_km,
                magnitude: event.magnitude,
                origin: Origin::Imposed,
            });
        }
    }
    roots.sort_by(|a, b| a.t.total_cmp(&b.t));

    // Each root's whole family, depth first: memory stays at one family's front, and the order
    // of draws (hence the catalog) depends only on the seed.
    let started = Instant::now();
    let mut bar = None;
    let mut simulated = Vec::with_capacity(roots.len() * 2);
    let mut stack = Vec::new();
    for (done, root) in roots.iter().enumerate() {
        stack.push(*root);
        while let Some(quake) = stack.pop() {
            sampler.aftershocks(&quake, t_end, &mut stack);
            simulated.push(quake);
            if simulated.len() + stack.len() > max_events {
                return Err(Error::Numerical(format!(
                    "the ETAS simulation passed {max_events} events (branching ratio {:.3}); \
                     lower etas.k or etas.alpha, shorten the period, or raise the limit \
                     (--max-events)",
                    params.branching_ratio
                )));
            }
        }
        if bar.is_none() && started.elapsed() > PROGRESS_AFTER {
            let b = progress::bar(roots.len() as u64, "synth etas");
            b.set_position(done as u64);
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }

    let mut report = SimReport {
        seed,
        branching_ratio: params.branching_ratio,
        background: 0,
        imposed: 0,
        aftershocks: 0,
        before_start: 0,
        outside_region: 0,
        kept: 0,
        kept_background: 0,
        max_magnitude: None,
        incompleteness: p.incompleteness,
        thinned: 0,
    };
    let start_ms = period.start_timestamp().as_millisecond();
    let end_ms = period.end_timestamp().as_millisecond();
    let ms_per_day = SECONDS_PER_DAY * 1000.0;
    // Each kept event with whether it is a background event (the declustering truth).
    let mut events = Vec::new();
    // The burn-in events inside the box, which the detection pass needs before the period's.
    let mut burn_in = Vec::new();
    for quake in &simulated {
        match quake.origin {
            Origin::Background => report.background += 1,
            Origin::Imposed => report.imposed += 1,
            Origin::Triggered => report.aftershocks += 1,
        }
        // Aftershock times are drawn below the period end, but rounding (of the inverse CDF, then
        // to the millisecond) can reach it; such an event belongs to the period's last instant.
        let millis = (start_ms + (quake.t * ms_per_day).round() as i64).min(end_ms - 1);
        let time = Timestamp::from_millisecond(millis).map_err(|e| {
            Error::Numerical(format!("simulated time {millis} ms is out of range: {e}"))
        })?;
        let event = Event {
            time,
            latitude: round_to(quake.latitude, 4),
            longitude: normalize_longitude(round_to(quake.longitude, 4)),
            depth_km: Some(round_to(quake.depth_km, 1)),
            magnitude: round_to(quake.magnitude, 1),
        };
        let in_region = region.contains(event.latitude, event.longitude);
        if !period.contains(event.time) {
            report.before_start += 1;
            if in_region && !p.incompleteness.is_none() {
                burn_in.push(event);
            }
        } else if !in_region {
            report.outside_region += 1;
        } else {
            if quake.origin == Origin::Background {
                report.kept_background += 1;
            }
            report.max_magnitude = Some(
                report
                    .max_magnitude
                    .map_or(event.magnitude, |m: f64| m.max(event.magnitude)),
            );
            events.push((event, quake.origin == Origin::Background));
        }
    }
    report.kept = events.len();
    // Sorted here (stably, as `Catalog::from_events` sorts) so the flags keep their events' order.
    events.sort_by_key(|(event, _)| event.time);
    let (events, background): (Vec<Event>, Vec<bool>) = events.into_iter().unzip();
    let truth = Catalog::from_events(events);
    let detected = if p.incompleteness.is_none() {
        vec![true; truth.len()]
    } else {
        // Every burn-in event precedes every event of the period, so after the (stable) sort
        // the period's events follow the burn-in's in the truth's order.
        let n_burn_in = burn_in.len();
        burn_in.extend_from_slice(truth.events());
        let mut flags = p
            .incompleteness
            .detected(&Catalog::from_events(burn_in), p.m_min);
        flags.drain(..n_burn_in);
        flags
    };
    report.thinned = detected.iter().filter(|&&d| !d).count();
    Ok(Simulation {
        truth,
        detected,
        background,
        report,
    })
}

/// A simulation's outcome: the true catalog, and which of its events the network detected.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    truth: Catalog,
    detected: Vec<bool>,
    background: Vec<bool>,
    report: SimReport,
}

impl Simulation {
    /// Every simulated event inside the period and the region, detected or not.
    pub fn truth(&self) -> &Catalog {
        &self.truth
    }

    /// For each event of [`Simulation::truth`], in its order, whether the network detected it
    /// (all true without an incompleteness model).
    pub fn detected(&self) -> &[bool] {
        &self.detected
    }

    /// For each event of [`Simulation::truth`], in its order, whether it is a background event
    /// (not triggered, not imposed): the truth a declustering is scored against.
    pub fn background(&self) -> &[bool] {
        &self.background
    }

    /// What was simulated, discarded and hidden.
    pub fn report(&self) -> &SimReport {
        &self.report
    }

    /// The detected events: the catalog a user of the scenario sees.
    pub fn observed(&self) -> Catalog {
        Catalog::from_events(
            self.truth
                .events()
                .iter()
                .zip(&self.detected)
                .filter(|(_, detected)| **detected)
                .map(|(event, _)| *event)
                .collect(),
        )
    }

    /// The detected catalog and the report (without a copy when nothing was hidden).
    pub fn into_observed(self) -> (Catalog, SimReport) {
        if self.report.thinned == 0 {
            (self.truth, self.report)
        } else {
            (self.observed(), self.report)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::catalog::{CatalogFormat, ReadOptions, read_catalog, write_comcat};
    use crate::seismicity::bvalue::{
        BAValue, BEstimator, BValueParams, DifferenceMle, McChoice, b_value,
    };
    use crate::synth::incompleteness::helmstetter_mc;

    /// A small setting: one band along the equator, M3 to M8, b = 1.
    fn params(mu: f64, k: f64) -> EtasParams {
        EtasParams {
            m_min: 3.0,
            m_max: 8.0,
            b: 1.0,
            mu,
            k,
            alpha: 0.8,
            c_days: 0.01,
            p: 1.1,
            spatial_d_km: 2.0,
            spatial_gamma: 0.6,
            spatial_q: 1.8,
            aftershock_depth_sd_km: 3.0,
            burn_in_days: 0.0,
            bands: vec![BackgroundBand {
                name: "equator".into(),
                vertices: vec![[10.0, 0.0], [20.0, 0.0]],
                width_km: 20.0,
                weight: 1.0,
                depth_km: 10.0,
                depth_sd_km: 5.0,
            }],
            imposed: Vec::new(),
            incompleteness: Incompleteness::None,
        }
    }

    fn whole_earth() -> Region {
        Region::new(-180.0, 180.0, -90.0, 90.0).unwrap()
    }

    fn period(days: &str) -> Period {
        Period::parse("2020-01-01", days).unwrap()
    }

    #[test]
    fn without_aftershocks_the_count_is_poisson_mu_t() {
        // mu = 5/day over 1,000 days: N ~ Poisson(5,000), sd = sqrt(5000) = 70.7.
        let valid = params(5.0, 0.0).check().unwrap();
        let p = Period::parse("2020-01-01", "2022-09-27").unwrap();
        assert_eq!(p.n_days(), 1000);
        let (cat, report) = simulate(&valid, &whole_earth(), &p, 11).unwrap();
        let n = cat.len() as f64;
        assert!((n - 5000.0).abs() < 4.0 * 5000f64.sqrt(), "N = {n}");
        assert_eq!(
            (report.aftershocks, report.kept_background, report.kept),
            (0, cat.len(), cat.len())
        );
        // Background events lie along the band: within 5 widths (100 km ≈ 0.9°) of the equator
        // between 10°E and 20°E, up to that margin.
        for e in cat.events() {
            assert!(
                e.latitude.abs() < 0.9 && (9.0..21.0).contains(&e.longitude),
                "{e:?}"
            );
        }
        // Uniform in time: about half in each half of the period (sd of the half count ≈ 35).
        let first_half = cat
            .events()
            .iter()
            .filter(|e| p.days_since_start(e.time) < 500.0)
            .count() as f64;
        assert!(
            (first_half - n / 2.0).abs() < 4.0 * (n / 4.0).sqrt(),
            "{first_half} of {n}"
        );
    }

    #[test]
    fn magnitudes_follow_binned_gutenberg_richter() {
        let valid = params(1.0, 0.0).check().unwrap();
        let mut sampler = Sampler::new(&valid, rng::stream(5, "test"));
        let n = 20_000;
        let m: Vec<f64> = (0..n).map(|_| sampler.magnitude()).collect();
        for &x in &m {
            assert!(
                (3.0..=8.0).contains(&x) && (x * 10.0 - (x * 10.0).round()).abs() < 1e-9,
                "{x}"
            );
        }
        // Aki-Utsu with the half-bin correction, and Shi & Bolt's standard error
        // sigma_b = 2.3 b^2 sqrt(sum (M - mean)^2 / (n (n - 1))).
        let nf = n as f64;
        let mean = m.iter().sum::<f64>() / nf;
        let b = std::f64::consts::LOG10_E / (mean - (3.0 - 0.05));
        let ss: f64 = m.iter().map(|x| (x - mean).powi(2)).sum();
        let sigma = 2.3 * b * b * (ss / (nf * (nf - 1.0))).sqrt();
        assert!((b - 1.0).abs() < 3.0 * sigma, "b = {b} ± {sigma}");
        // The lowest bin holds P = 1 - 10^(-0.1) = 0.205672 of the mass (truncation at 8.05
        // changes it by 1e-5); binomial sd sqrt(p (1-p) / n) = 0.00286.
        let lowest = m.iter().filter(|&&x| x == 3.0).count() as f64 / nf;
        assert!((lowest - 0.205_672).abs() < 4.0 * 0.002_86, "{lowest}");
    }

    #[test]
    fn direct_aftershocks_match_the_omori_integral() {
        // Parent M6, K = 0.02, alpha = 0.8, c = 0.01 d, p = 1.1, horizon 100 days:
        // E[N] = K 10^(alpha (6 - 3)) (c^(1-p) - (100 + c)^(1-p)) / (p - 1)
        //      = 0.02 * 251.189 * (1.584893 - 0.630951) / 0.1 = 47.924 per parent.
        // Children's magnitudes play no part here; m_max = 4 keeps the setting subcritical.
        let mut p = params(0.0, 0.02);
        p.m_max = 4.0;
        let valid = p.check().unwrap();
        let mut sampler = Sampler::new(&valid, rng::stream(9, "test"));
        let parent = Quake {
            t: 0.0,
            latitude: 0.0,
            longitude: 0.0,
            depth_km: 10.0,
            magnitude: 6.0,
            origin: Origin::Imposed,
        };
        let parents = 400;
        let mut children = Vec::new();
        for _ in 0..parents {
            sampler.aftershocks(&parent, 100.0, &mut children);
        }
        let expected = 47.924 * parents as f64;
        let n = children.len() as f64;
        assert!(
            (n - expected).abs() < 4.0 * expected.sqrt(),
            "{n} vs {expected}"
        );
        assert!(children.iter().all(|c| (0.0..=100.0).contains(&c.t)));
        // Share in the first day: (c^(1-p) - (1 + c)^(1-p)) / (c^(1-p) - (100 + c)^(1-p))
        // = (1.584893 - 0.999005) / 0.953942 = 0.61418.
        let first_day = children.iter().filter(|c| c.t < 1.0).count() as f64 / n;
        let sd = (0.614 * 0.386 / n).sqrt();
        assert!((first_day - 0.614_18).abs() < 4.0 * sd, "{first_day}");
        // Share within sqrt(sigma) of the parent: 1 - 2^(1-q) = 1 - 2^(-0.8) = 0.42565, with
        // sigma = d^2 10^(gamma (M - m_min)) = 4 * 10^1.8 km^2.
        let scale = (4.0 * 10f64.powf(1.8)).sqrt();
        let near = children
            .iter()
            .filter(|c| {
                let north = c.latitude * KM_PER_DEGREE;
                let east = c.longitude * KM_PER_DEGREE;
                north.hypot(east) <= scale
            })
            .count() as f64
            / n;
        assert!(
            (near - 0.425_65).abs() < 4.0 * (0.43 * 0.57 / n).sqrt(),
            "{near}"
        );
    }

    #[test]
    fn branching_ratio_has_its_closed_form() {
        // alpha = 0: E[10^0] = 1, so n = K c^(1-p) / (p-1) = 0.05 * 1.584893 / 0.1 = 0.792447.
        let mut p = params(1.0, 0.05);
        p.alpha = 0.0;
        let n = p.check().unwrap().branching_ratio();
        assert!((n - 0.792_447).abs() < 1e-6, "{n}");
        // alpha = b over M3..M5 (21 bins): every bin contributes equally, so
        // E = 21 (1 - 10^-0.1) / (1 - 10^-2.1) = 21 * 0.2056718 / 0.9920567 = 4.353681.
        let mut p = params(1.0, 0.01);
        p.alpha = 1.0;
        p.m_max = 5.0;
        let n = p.check().unwrap().branching_ratio();
        assert!((n - 0.01 * 15.84893 * 4.353_681).abs() < 1e-5, "{n}");
    }

    #[test]
    fn supercritical_and_invalid_settings_name_their_key() {
        let key_of = |p: EtasParams| match p.check() {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert_eq!(key_of(params(1.0, 0.2)), "etas.k");
        let mut p = params(1.0, 0.01);
        p.p = 1.0;
        assert_eq!(key_of(p), "etas.p");
        let mut p = params(1.0, 0.01);
        p.m_min = 3.05;
        assert_eq!(key_of(p), "etas.m_min");
        let mut p = params(1.0, 0.01);
        p.bands[0].width_km = 0.0;
        assert_eq!(key_of(p), "etas.bands[0].width_km");
        let mut p = params(1.0, 0.01);
        p.bands[0].vertices.truncate(1);
        assert_eq!(key_of(p), "etas.bands[0].vertices");
        let mut p = params(1.0, 0.01);
        p.imposed.push(ImposedEvent {
            time: "2011-03-11 05:46".into(),
            longitude: 142.0,
            latitude: 38.0,
            depth_km: 20.0,
            magnitude: 9.0,
        });
        assert_eq!(key_of(p), "etas.imposed[0].time");
        let mut p = params(1.0, 0.01);
        p.bands.clear();
        assert_eq!(key_of(p), "etas.bands");
    }

    #[test]
    fn same_seed_same_catalog_other_seed_other_catalog() {
        let valid = params(2.0, 0.01).check().unwrap();
        let p = period("2021-01-01");
        let region = whole_earth();
        let (a, ra) = simulate(&valid, &region, &p, 1).unwrap();
        let (b, rb) = simulate(&valid, &region, &p, 1).unwrap();
        let (c, _) = simulate(&valid, &region, &p, 2).unwrap();
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        assert_ne!(a, c);
        assert!(!a.is_empty());
    }

    #[test]
    fn burn_in_and_region_discards_are_counted() {
        let mut p = params(3.0, 0.015);
        p.burn_in_days = 200.0;
        let valid = p.check().unwrap();
        let period = period("2020-07-01");
        // The western half of the band only.
        let region = Region::new(10.0, 15.0, -5.0, 5.0).unwrap();
        let (cat, report) = simulate(&valid, &region, &period, 3).unwrap();
        let total = report.background + report.imposed + report.aftershocks;
        assert_eq!(
            total,
            report.before_start + report.outside_region + report.kept
        );
        assert_eq!(report.kept, cat.len());
        assert!(report.before_start > 0 && report.outside_region > 0 && report.aftershocks > 0);
        assert!(report.kept > report.kept_background);
        assert!(
            cat.events()
                .iter()
                .all(|e| period.contains(e.time) && region.contains(e.latitude, e.longitude))
        );
    }

    #[test]
    fn burn_in_events_trigger_into_the_period() {
        // No background; one M7.5 ten days before the start. Its direct aftershock rate on the
        // first day is about K 10^(0.8 * 4.5) / 10^1.1 = 0.015 * 3981 / 12.6 = 4.7 per day, so
        // the period opens with aftershocks even though every root lies in the burn-in.
        let mut p = params(0.0, 0.015);
        p.burn_in_days = 30.0;
        p.imposed.push(ImposedEvent {
            time: "2019-12-22T00:00:00Z".into(),
            longitude: 15.0,
            latitude: 0.0,
            depth_km: 20.0,
            magnitude: 7.5,
        });
        let valid = p.check().unwrap();
        let period = period("2020-02-01");
        let (cat, report) = simulate(&valid, &whole_earth(), &period, 6).unwrap();
        assert_eq!(
            (report.background, report.imposed, report.kept_background),
            (0, 1, 0)
        );
        let first_day = cat
            .events()
            .iter()
            .filter(|e| period.days_since_start(e.time) < 1.0)
            .count();
        assert!(first_day > 0, "{report}");
    }

    #[test]
    fn imposed_events_appear_with_their_magnitude() {
        let mut p = params(0.5, 0.01);
        p.imposed.push(ImposedEvent {
            time: "2020-03-01T12:00:00Z".into(),
            longitude: 15.0,
            latitude: 0.0,
            depth_km: 25.0,
            magnitude: 7.5,
        });
        let valid = p.check().unwrap();
        let (cat, report) = simulate(&valid, &whole_earth(), &period("2020-06-01"), 4).unwrap();
        assert_eq!(report.imposed, 1);
        let t: Timestamp = "2020-03-01T12:00:00Z".parse().unwrap();
        assert!(
            cat.events()
                .iter()
                .any(|e| e.time == t && e.magnitude == 7.5 && e.depth_km == Some(25.0))
        );
    }

    #[test]
    fn simulated_catalog_survives_a_comcat_round_trip() {
        let valid = params(2.0, 0.01).check().unwrap();
        let (cat, _) = simulate(&valid, &whole_earth(), &period("2020-04-01"), 8).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.csv");
        write_comcat(&path, &cat).unwrap();
        let (back, report) =
            read_catalog(&path, &CatalogFormat::Comcat, &ReadOptions::default()).unwrap();
        assert_eq!(report.rows, cat.len());
        assert_eq!(back, cat);
    }

    /// An M8 mainshock on 2020-01-11 in a quiet month (background 0.5 per day), K = 0.01: a
    /// sequence of about a thousand M >= 3 events in its first two days.
    fn mainshock_sequence(incompleteness: Incompleteness) -> ValidEtasParams {
        let mut p = params(0.5, 0.01);
        p.imposed.push(ImposedEvent {
            time: "2020-01-11T00:00:00Z".into(),
            longitude: 15.0,
            latitude: 0.0,
            depth_km: 20.0,
            magnitude: 8.0,
        });
        p.incompleteness = incompleteness;
        p.check().unwrap()
    }

    /// Magnitudes (in time order) of the detected events in the first `days` after the
    /// mainshock (2020-01-11), the mainshock itself excluded.
    fn after_mainshock(sim: &Simulation, days: f64) -> Vec<f64> {
        let period = period("2020-02-01");
        sim.truth()
            .events()
            .iter()
            .zip(sim.detected())
            .filter(|(e, detected)| {
                let t = period.days_since_start(e.time) - 10.0;
                **detected && t > 0.0 && t <= days
            })
            .map(|(e, _)| e.magnitude)
            .collect()
    }

    /// b of `magnitudes` (time order) at Mc 3 by `estimator`, with its Shi & Bolt error.
    fn fit_b(magnitudes: &[f64], estimator: BEstimator) -> BAValue {
        let params = BValueParams {
            estimator,
            mc: McChoice::Fixed(3.0),
            bin_width: MAGNITUDE_BIN,
            min_events: 2,
            dmc: None,
            difference_mle: DifferenceMle::AkiUtsu,
        }
        .check()
        .unwrap();
        b_value(magnitudes, 3.0, &params).unwrap()
    }

    // Pitfall P5 and issue 13's "Show": short-term incompleteness biases the classic b low after
    // a mainshock; b-positive is immune.
    //
    // The catalog has b = 1 by construction. Over the first two days after the M8 the truth holds
    // about 900 M >= 3 events, so Shi & Bolt's sigma is about 0.03 (classic) and 0.05 (b-positive,
    // about 400 positive differences), and both estimates lie within 2 sigma of 1.
    //
    // The Helmstetter threshold of the M8 is 3.5 − 0.75 log10(t): 5.0 after a quarter of an hour,
    // 3.5 after a day, 3.27 after two. About 100 events stay detected, and their magnitudes are
    // Gutenberg-Richter above the threshold of their time, not above Mc 3: the detected rate falls
    // like t^-1.1 · 10^-(0.5 − 0.75 log10 t) = t^-0.35, over which the threshold exceeds 3 by
    // 0.5 − 0.75 E[log10 t] = 0.5 + 0.75 · 0.37 = 0.78 on average, so the mean magnitude is about
    // 3 + 0.78 + 0.43 and the classic (Aki-Utsu) b about log10(e) / (0.78 + 0.43 + 0.05) = 0.35.
    // It comes out between 0.33 and 0.43 over seeds 1 to 20 (the estimate ignores c and the
    // secondary sequences), more than 10 sigma below 1; the test asks for b < 0.6.
    //
    // b-positive uses the differences of consecutive detected events, m2 − m1 >= 0.1. The
    // threshold only falls between two detections (each event's m_c decreases with time, and an
    // undetected event in between adds at most its magnitude − 2.13, below the threshold that hid
    // it), so a second event larger than the first was above the threshold that let the first
    // through: the positive differences are complete and keep b = 1, within 2 sigma (sigma about
    // 0.13 from about 50 differences).
    //
    // The classic estimator is Aki-Utsu (Aki's eq. 19 with Utsu's half-bin correction): plain Aki
    // on magnitudes binned to 0.1 is biased high even on the truth, log10(e) / 0.386 = 1.12.
    // Seed 1; over seeds 1 to 20 every assertion held except one truth b-positive at −2.3 sigma,
    // as a 2 sigma band allows.
    #[test]
    fn classic_b_dips_after_a_mainshock_under_short_term_incompleteness_while_b_positive_holds() {
        let sim = simulate_with_truth(
            &mainshock_sequence(Incompleteness::Helmstetter),
            &whole_earth(),
            &period("2020-02-01"),
            1,
            MAX_SIMULATED_EVENTS,
        )
        .unwrap();
        let truth = Simulation {
            detected: vec![true; sim.truth().len()],
            ..sim.clone()
        };
        let true_window = after_mainshock(&truth, 2.0);
        let seen_window = after_mainshock(&sim, 2.0);
        assert!(
            true_window.len() > 500 && seen_window.len() < true_window.len() / 3,
            "{} true, {} detected",
            true_window.len(),
            seen_window.len()
        );
        let within_2_sigma = |fit: &BAValue| (fit.b - 1.0).abs() < 2.0 * fit.b_std;
        for estimator in [BEstimator::AkiUtsu, BEstimator::BPositive] {
            let fit = fit_b(&true_window, estimator);
            assert!(within_2_sigma(&fit), "truth, {estimator:?}: {fit:?}");
        }
        let classic = fit_b(&seen_window, BEstimator::AkiUtsu);
        assert!(classic.b < 0.6, "detected, classic: {classic:?}");
        let positive = fit_b(&seen_window, BEstimator::BPositive);
        assert!(
            within_2_sigma(&positive),
            "detected, b-positive: {positive:?}"
        );
    }

    #[test]
    fn the_report_counts_the_hidden_events_and_the_truth_is_kept() {
        let p = period("2020-02-01");
        let region = whole_earth();
        let plain = simulate_with_truth(
            &mainshock_sequence(Incompleteness::None),
            &region,
            &p,
            4,
            MAX_SIMULATED_EVENTS,
        )
        .unwrap();
        let thinned = simulate_with_truth(
            &mainshock_sequence(Incompleteness::Helmstetter),
            &region,
            &p,
            4,
            MAX_SIMULATED_EVENTS,
        )
        .unwrap();
        // Detection draws nothing: the same seed gives the same truth.
        assert_eq!(plain.truth(), thinned.truth());
        assert_eq!(plain.report().thinned, 0);
        assert!(plain.detected().iter().all(|&d| d));
        let report = thinned.report();
        let hidden = thinned.detected().iter().filter(|&&d| !d).count();
        assert!(hidden > 0);
        assert_eq!(
            (report.thinned, report.kept, report.detected()),
            (
                hidden,
                thinned.truth().len(),
                thinned.truth().len() - hidden
            )
        );
        let (observed, _) = thinned.clone().into_observed();
        assert_eq!(observed.len(), report.detected());
        assert_eq!(
            simulate_limited(
                &mainshock_sequence(Incompleteness::Helmstetter),
                &region,
                &p,
                4,
                MAX_SIMULATED_EVENTS
            )
            .unwrap()
            .0,
            observed
        );
        let text = report.to_string();
        assert!(
            text.ends_with(&format!(
                "; short-term incompleteness (helmstetter) hid {hidden} of them, {} detected.",
                report.detected()
            )),
            "{text}"
        );
        assert!(plain.report().to_string().ends_with(", largest M8.0."));
    }

    #[test]
    fn a_large_event_in_the_burn_in_hides_events_in_the_period() {
        // No background; an M8 one hour before the period start. Its threshold alone,
        // 3.5 − 0.75 log10(t), hides every aftershock below it; on the first day it is above
        // 3.5, so some of the period's first events must be missing.
        let mut p = params(0.0, 0.01);
        p.burn_in_days = 1.0;
        p.imposed.push(ImposedEvent {
            time: "2019-12-31T23:00:00Z".into(),
            longitude: 15.0,
            latitude: 0.0,
            depth_km: 20.0,
            magnitude: 8.0,
        });
        p.incompleteness = Incompleteness::Helmstetter;
        let period = period("2020-01-05");
        let sim = simulate_with_truth(
            &p.check().unwrap(),
            &whole_earth(),
            &period,
            2,
            MAX_SIMULATED_EVENTS,
        )
        .unwrap();
        let mainshock = period.days_since_start("2019-12-31T23:00:00Z".parse().unwrap());
        let mut below = 0;
        for (event, &detected) in sim.truth().events().iter().zip(sim.detected()) {
            let elapsed = period.days_since_start(event.time) - mainshock;
            if event.magnitude < helmstetter_mc(8.0, elapsed) - 1e-9 {
                below += 1;
                assert!(!detected, "{event:?}");
            }
        }
        assert!(below > 0 && sim.report().thinned >= below);
    }
}
