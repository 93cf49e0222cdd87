//! The paper's Gaussian interpolation with gradient correction (§1.1, eqs. 5–17), written as
//! dense linear algebra.
//!
//! # Formulation
//!
//! For grid point `g` and day `t`, every quantity of eqs. (8)–(15) is a ratio of sums
//! `Σ_s w_gs m_s(t) f_s(t)`, where `w_gs` is the Gaussian weight of eq. (7) (geometry only),
//! `m_s(t) ∈ {0, 1}` says whether station `s` has a displacement on day `t`, and `f_s(t)` is one
//! of K = 13 per-station quantities:
//!
//! `1, φ, λ, φ², λ², φλ, vN, vE, vU, φ·vN, λ·vN, φ·vE, λ·vE`.
//!
//! The last seven carry the displacements. Putting the mask into the right-hand side,
//! `F[s, (t, k)] = m_s(t) f_sk(t)`, their sums for all cells and days are one matrix product
//! `P = W (G x S) · F (S x 7·D)`, computed with faer in blocks of [`BLOCK_DAYS`] days so that
//! memory stays bounded. The first six (the geometry) depend only on which stations are present,
//! and a network loses few stations from one day to the next: each block's product also gives
//! the geometry sums over the block's stations (those present on any of its days), and each day
//! subtracts the weighted geometry of its absent stations from them (a cell that would lose
//! most of its weight that way is summed directly instead). This takes the product from 13 to
//! about 7 columns per day. The geometry's first sum is the day's weight sum
//! `Σ_s w_gs m_s(t)`, the per-day normalisation of eq. (8); dividing by it gives the
//! normalised weighted means, from which each cell takes (eqs. 9–17):
//!
//! - `v = P_v / P_1` for N, E, U (eq. 9) and `μ = P_φ / P_1`, `P_λ / P_1` (eqs. 11–12);
//! - `Σ = [[P_φφ/P_1 − μφ², P_φλ/P_1 − μφ μλ], [·, P_λλ/P_1 − μλ²]]` (eq. 10);
//! - `c_N = [P_φvN/P_1 − μφ vN, P_λvN/P_1 − μλ vN]` and `c_E` likewise (eq. 13);
//! - the gradients `Σ⁻¹ c_N`, `Σ⁻¹ c_E` (eqs. 14–15) and the first-order Taylor correction of
//!   N and E to the grid point (eqs. 16–17). U is not corrected, as in the paper.
//!
//! # Numerical care
//!
//! - Coordinates are centred on the region's middle (`φ − φ_mid`, `λ − λ_mid`) before they enter
//!   `F`. The covariances are translation invariant, and centring keeps the cancellation in
//!   `Σ wφ² − μφ²` to the ratio (distance from the region's middle)² / (local spread)², instead of
//!   (absolute latitude)² / (local spread)² with raw degrees. The product is exact to f64 rounding
//!   of those sums.
//! - A day's geometry sum is its block's sum less the absent stations' terms only where the day
//!   keeps at least 1/16 of the cell's block weight; elsewhere the cell is summed directly over
//!   the present stations. The subtraction's rounding is thus bounded by a small multiple of the
//!   direct sum's.
//! - Each row of `W` is scaled so that its largest entry is 1 (see
//!   [`crate::gnss::grid::gaussian_weights`]); the scale cancels in eq. (8) and keeps cells far from
//!   every station from underflowing.
//! - A covariance whose smallest eigenvalue is below `(MIN_SPREAD_CELLS · min(dlat, dlon))²`
//!   (the weighted stations spread less than [`MIN_SPREAD_CELLS`] of a grid cell in some
//!   direction) is treated as singular: that cell keeps its uncorrected eq. (9) value and is
//!   counted in [`GriddingReport::singular_cells`].

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use std::fmt;

use crate::catalog::Region;
use crate::gnss::StationSet;
use crate::gnss::displacement::{DisplacementField, displacement_field_in_region};
use crate::gnss::grid::{ValidGridSpec, gaussian_weights};
use crate::gnss::stack::ImageStack;
use crate::period::Period;
use crate::{Error, Result, ensure_config, progress};

/// The number of per-station quantities per day.
pub const K: usize = 13;

/// The first quantities, `1, φ, λ, φ², λ², φλ`: they depend on which stations are present,
/// not on their values.
const GEOMETRY: usize = 6;

/// The other quantities, `vN, vE, vU, φ·vN, λ·vN, φ·vE, λ·vE`: the columns of `F` for one day.
const VALUES: usize = K - GEOMETRY;

/// A cell whose day weight is below this share of its block reference weight has its geometry
/// sums recomputed directly (see [`day_geometry`]).
const REFERENCE_SHARE: f64 = 1.0 / 16.0;

/// Days per matrix product. With the paper's 50 x 50 grid and 1,300 stations, one block holds
/// `F` (S x 7·64, 4.7 MB) and the product (2,500 x 7·64, 9 MB).
pub const BLOCK_DAYS: usize = 64;

/// A cell's covariance (eq. 10) counts as singular when the weighted stations spread less
/// than this fraction of a grid spacing in some direction.
pub const MIN_SPREAD_CELLS: f64 = 1e-4;

/// The share of NaN cell-days above which a stack counts as mostly NaN (and the gridding
/// warns).
pub const MOSTLY_NAN: f64 = 0.5;

/// What the gridding met on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GriddingReport {
    /// Days gridded.
    pub n_days: usize,
    /// Grid cells per image.
    pub n_cells: usize,
    /// Stations in the field.
    pub n_stations: usize,
    /// Days whose image is NaN in every cell, whatever the cause (no station, or no cell with
    /// a finite value).
    pub empty_days: usize,
    /// Days on which no station had a displacement (a subset of the empty days).
    pub days_without_stations: usize,
    /// Cell-days that are NaN (in any channel) in the stack, empty days included.
    pub nan_cells: usize,
    /// Cell-days whose covariance (eq. 10) was singular: the gradient correction (eqs. 14–17)
    /// was skipped there and the cell kept its weighted mean (eq. 9).
    pub singular_cells: usize,
    /// Cell-days on a non-empty day whose weight sum (eq. 8) was zero, because every present
    /// station was so far away that its weight underflowed: NaN in the image.
    pub unweighted_cells: usize,
    /// Floating-point operations of the matrix products, `2 · cells · stations · 13 · days`
    /// over the days with a station.
    pub matmul_flops: u64,
}

impl GriddingReport {
    /// The share of the stack's cell-days that are NaN, `nan_cells / (n_days · n_cells)`
    /// (0 for an empty stack).
    pub fn nan_fraction(&self) -> f64 {
        let total = self.n_days * self.n_cells;
        if total == 0 {
            0.0
        } else {
            self.nan_cells as f64 / total as f64
        }
    }

    /// Whether more than [`MOSTLY_NAN`] of the stack is NaN.
    pub fn is_mostly_nan(&self) -> bool {
        self.nan_fraction() > MOSTLY_NAN
    }
}

impl fmt::Display for GriddingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} days x {} cells from {} stations: {} empty days (all NaN; {} without any \
             station), {:.2}% of cell-days NaN ({} of {}), {} cell-days without gradient \
             correction",
            self.n_days,
            self.n_cells,
            self.n_stations,
            self.empty_days,
            self.days_without_stations,
            100.0 * self.nan_fraction(),
            self.nan_cells,
            self.n_days * self.n_cells,
            self.singular_cells
        )
    }
}

/// The default [`MemoryLimit`]: 8 GiB, beyond which a gridding is refused before it allocates.
/// The paper's setting (50 x 50 cells, 15 years, 1,300 stations) needs about 0.3 GiB.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 8 << 30;

/// The most memory a gridding may allocate, checked against [`GriddingMemory`] before
/// anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimit {
    bytes: u64,
}

impl MemoryLimit {
    /// A limit of `gib` GiB (2³⁰ bytes); fails unless `gib` is positive and finite, naming
    /// `max_memory_gb`.
    pub fn gib(gib: f64) -> Result<Self> {
        ensure_config!(
            gib.is_finite() && gib > 0.0,
            "max_memory_gb",
            "must be a positive number of GiB, got {gib:?}"
        );
        // Saturates at u64::MAX for absurdly large limits, which then never refuse.
        Ok(MemoryLimit {
            bytes: (gib * GIB) as u64,
        })
    }

    /// The limit in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Default for MemoryLimit {
    /// [`DEFAULT_MAX_MEMORY_BYTES`].
    fn default() -> Self {
        MemoryLimit {
            bytes: DEFAULT_MAX_MEMORY_BYTES,
        }
    }
}

const GIB: f64 = (1u64 << 30) as f64;

/// A byte count for people: GiB or TiB with one decimal, MiB below 1 GiB.
pub fn format_bytes(bytes: f64) -> String {
    if bytes >= 1024.0 * GIB {
        format!("{:.1} TiB", bytes / (1024.0 * GIB))
    } else if bytes >= GIB {
        format!("{:.1} GiB", bytes / GIB)
    } else {
        format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
    }
}

/// The memory a gridding allocates, estimated from its sizes before anything is allocated
/// (in bytes, as `f64` so that absurd sizes do not overflow).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GriddingMemory {
    /// Grid rows and columns.
    pub rows: usize,
    /// See `rows`.
    pub cols: usize,
    /// Days gridded.
    pub n_days: usize,
    /// Stations in the region.
    pub n_stations: usize,
    /// The image stack, `cells · days · 3 · 4` bytes (`f32`).
    pub stack_bytes: f64,
    /// The Gaussian weights of eq. (7) and the squared distances they are made from,
    /// `cells · stations · 2 · 8` bytes.
    pub weights_bytes: f64,
    /// The daily displacements, `days · stations · (3 · 8 + 1)` bytes.
    pub field_bytes: f64,
    /// The blocked matrix product's buffers, `(stations · 7 + cells · 10) · min(days, 64) · 8`
    /// bytes plus the block's geometry, `(stations + cells) · 6 · 8`, each thread's day geometry,
    /// `cells · 6 · 8`, and the grid points, `cells · 2 · 16` bytes.
    pub work_bytes: f64,
}

impl GriddingMemory {
    /// The estimate for gridding `n_days` days of `n_stations` stations on `grid`.
    pub fn estimate(grid: &ValidGridSpec, n_stations: usize, n_days: usize) -> Self {
        let cells = grid.rows() as f64 * grid.cols() as f64;
        let (stations, days) = (n_stations as f64, n_days as f64);
        let block = n_days.clamp(1, BLOCK_DAYS) as f64;
        GriddingMemory {
            rows: grid.rows(),
            cols: grid.cols(),
            n_days,
            n_stations,
            stack_bytes: cells * days * 3.0 * 4.0,
            weights_bytes: cells * stations * 2.0 * 8.0,
            field_bytes: days * stations * 25.0,
            work_bytes: (stations * VALUES as f64 + cells * (VALUES + 3) as f64) * block * 8.0
                + (stations + cells * (1 + rayon::current_num_threads()) as f64)
                    * GEOMETRY as f64
                    * 8.0
                + cells * 32.0,
        }
    }

    /// The total in bytes.
    pub fn total_bytes(&self) -> f64 {
        self.stack_bytes + self.weights_bytes + self.field_bytes + self.work_bytes
    }

    /// Fails, naming `gnss.grid` and every part of the estimate, if the total exceeds `limit`.
    pub fn check(&self, limit: MemoryLimit) -> Result<()> {
        if self.total_bytes() <= limit.bytes() as f64 {
            return Ok(());
        }
        Err(Error::config(
            "gnss.grid",
            format!(
                "gridding {}x{} cells over {} days with {} stations needs about {} (image stack \
                 {} = cells x days x 3 x 4 bytes; Gaussian weights {} = cells x stations x 16 \
                 bytes; displacements {}; work buffers {}), above the memory limit of {}: use a \
                 coarser grid or a shorter period, or raise the limit (--max-memory-gb)",
                self.rows,
                self.cols,
                self.n_days,
                self.n_stations,
                format_bytes(self.total_bytes()),
                format_bytes(self.stack_bytes),
                format_bytes(self.weights_bytes),
                format_bytes(self.field_bytes),
                format_bytes(self.work_bytes),
                format_bytes(limit.bytes() as f64)
            ),
        ))
    }
}

/// The region's middle, the reference the coordinates are centred on.
fn reference(region: &Region) -> (f64, f64) {
    (
        0.5 * (region.lat_min + region.lat_max),
        0.5 * (region.lon_min + region.lon_max),
    )
}

/// The mask-free quantities `1, φ, λ, φ², λ², φλ` of a station at centred `(p, l)`: the first
/// [`GEOMETRY`] of the `K`.
fn geometry((p, l): (f64, f64)) -> [f64; GEOMETRY] {
    [1.0, p, l, p * p, l * l, p * l]
}

/// Fills the [`GEOMETRY`] columns (each `n_stations` long, column-major) of the stations in
/// `present`, zero elsewhere.
fn fill_geometry(columns: &mut [f64], present: &[bool], centred: &[(f64, f64)]) {
    let n = centred.len();
    for (s, (&point, &m)) in centred.iter().zip(present).enumerate() {
        let f = if m { geometry(point) } else { [0.0; GEOMETRY] };
        for (k, fk) in f.into_iter().enumerate() {
            columns[k * n + s] = fk;
        }
    }
}

/// Fills the [`VALUES`] columns (each `n_stations` long, column-major) of one day:
/// `vN, vE, vU, φ·vN, λ·vN, φ·vE, λ·vE` for present stations, zero for absent ones.
fn fill_values(columns: &mut [f64], values: &[[f64; 3]], present: &[bool], centred: &[(f64, f64)]) {
    let n = centred.len();
    for (s, ((&(p, l), v), &m)) in centred.iter().zip(values).zip(present).enumerate() {
        let f: [f64; VALUES] = if m {
            let [vn, ve, vu] = *v;
            [vn, ve, vu, p * vn, l * vn, p * ve, l * ve]
        } else {
            [0.0; VALUES]
        };
        for (k, fk) in f.into_iter().enumerate() {
            columns[k * n + s] = fk;
        }
    }
}

/// Cells per group in [`day_geometry`]: a group's [`GEOMETRY`] sums fill twelve 256-bit
/// vector registers.
const CELL_LANES: usize = 8;

/// What one day met: cells whose covariance was singular, cells without weight, and cells NaN
/// in any channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct DayCounts {
    singular: usize,
    unweighted: usize,
    nan: usize,
}

/// Cells per group in [`day_image`]'s loop over cells.
const CELL_GROUP: usize = 64;

/// The inputs of one day's image that do not change from day to day.
struct DayInputs<'a> {
    /// The Gaussian weights, cells x stations.
    w: &'a Mat<f64>,
    /// The stations' centred coordinates.
    centred: &'a [(f64, f64)],
    /// The grid points' centred coordinates.
    points: &'a [(f64, f64)],
    /// See [`MIN_SPREAD_CELLS`].
    min_eigen: f64,
}

/// One day's image to compute, with what it is computed from.
struct Day<'a, P> {
    /// What every day shares.
    inputs: &'a DayInputs<'a>,
    /// The block's geometry sums over the stations in `in_block` (column-major, cells x
    /// [`GEOMETRY`]).
    reference: &'a [f64],
    /// The stations present on any day of the block.
    in_block: &'a [bool],
    /// The stations present on this day.
    present: &'a [bool],
    /// The day's value sums (column-major, cells x [`VALUES`]).
    sums: &'a [f64],
    /// Scratch for the day's geometry sums (column-major, cells x [`GEOMETRY`]).
    geo: &'a mut [f64],
    /// The image: cells x 3, N/E/U per cell.
    image: &'a mut [P],
}

/// Computes one day's image ([`day_geometry`], then eqs. (8)–(17) cell by cell) and returns the
/// day's [`DayCounts`].
///
/// Compiled for AVX2 where the processor has it, with the same operations per value either way
/// (Rust does not fuse a product and a sum), so the same results.
fn day_image<P: Pixel>(day: Day<'_, P>) -> DayCounts {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        return unsafe { day_image_avx2(day) };
    }
    day_image_lanes(day)
}

/// [`day_image_lanes`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn day_image_avx2<P: Pixel>(day: Day<'_, P>) -> DayCounts {
    day_image_lanes(day)
}

/// [`day_image`] in loops that vectorise.
#[inline(always)]
fn day_image_lanes<P: Pixel>(day: Day<'_, P>) -> DayCounts {
    let Day {
        inputs,
        reference,
        in_block,
        present,
        sums,
        geo,
        image,
    } = day;
    day_geometry(geo, reference, inputs.w, in_block, present, inputs.centred);
    let n = inputs.points.len();
    let geo: [&[f64]; GEOMETRY] = std::array::from_fn(|k| &geo[k * n..][..n]);
    let sums: [&[f64]; VALUES] = std::array::from_fn(|k| &sums[k * n..][..n]);
    let image = &mut image[..3 * n];
    let mut counts = DayCounts::default();
    // A group of cells into one column per channel first, the channels interleaved after, so
    // that the first loop has unit strides only.
    let mut channels = [[0.0; CELL_GROUP]; 3];
    for first in (0..n).step_by(CELL_GROUP) {
        let len = CELL_GROUP.min(n - first);
        for i in 0..len {
            let g = first + i;
            let p: [f64; K] = std::array::from_fn(|k| {
                if k < GEOMETRY {
                    geo[k][g]
                } else {
                    sums[k - GEOMETRY][g]
                }
            });
            let (v, outcome) = cell(p, inputs.points[g], inputs.min_eigen);
            counts.singular += usize::from(outcome == Outcome::Singular);
            counts.unweighted += usize::from(outcome == Outcome::Unweighted);
            counts.nan += usize::from(v[0].is_nan() | v[1].is_nan() | v[2].is_nan());
            for (channel, value) in channels.iter_mut().zip(v) {
                channel[i] = value;
            }
        }
        for (i, out) in image[3 * first..][..3 * len]
            .chunks_exact_mut(3)
            .enumerate()
        {
            for (o, channel) in out.iter_mut().zip(&channels) {
                *o = P::from_f64(channel[i]);
            }
        }
    }
    counts
}

/// One day's [`GEOMETRY`] sums of every cell (column-major, `cells x GEOMETRY`), from the
/// block's reference sums `reference` over the stations in `in_block` by subtracting the
/// weighted quantities of the stations of `in_block` that are absent on the day.
///
/// A cell whose day weight falls below [`REFERENCE_SHARE`] of its reference weight (most of its
/// weight is absent, so the difference would cancel) is summed directly over the present
/// stations instead. Otherwise each sum's rounding stays within a small multiple of that of the
/// direct sum, since the reference exceeds the day's sum by less than `1 / REFERENCE_SHARE`.
#[inline(always)]
fn day_geometry(
    out: &mut [f64],
    reference: &[f64],
    w: &Mat<f64>,
    in_block: &[bool],
    present: &[bool],
    centred: &[(f64, f64)],
) {
    let n_cells = w.nrows();
    out.copy_from_slice(reference);
    let absent: Vec<(usize, [f64; GEOMETRY])> = centred
        .iter()
        .zip(in_block.iter().zip(present))
        .enumerate()
        .filter(|&(_, (_, (&r, &m)))| r && !m)
        .map(|(s, (&point, _))| (s, geometry(point)))
        .collect();
    // A group of cells at a time, station after station: each sum takes the same subtractions
    // in the same order as station by station over all cells, while the group's sums stay in
    // vector registers.
    let whole = n_cells - n_cells % CELL_LANES;
    for first in (0..whole).step_by(CELL_LANES) {
        subtract_absent::<CELL_LANES>(out, n_cells, first, w, &absent);
    }
    for g in whole..n_cells {
        subtract_absent::<1>(out, n_cells, g, w, &absent);
    }
    for g in 0..n_cells {
        if out[g] < REFERENCE_SHARE * reference[g] {
            let mut sums = [0.0; GEOMETRY];
            for (s, (&point, &m)) in centred.iter().zip(present).enumerate() {
                if m {
                    let wg = w.col_as_slice(s)[g];
                    for (sum, fk) in sums.iter_mut().zip(geometry(point)) {
                        *sum += wg * fk;
                    }
                }
            }
            for (k, sum) in sums.into_iter().enumerate() {
                out[k * n_cells + g] = sum;
            }
        }
    }
}

/// Subtracts the weighted geometry of the `absent` stations (index and [`geometry`]) from the
/// sums of cells `first .. first + L` in `out` (column-major, `n_cells x GEOMETRY`).
#[inline(always)]
fn subtract_absent<const L: usize>(
    out: &mut [f64],
    n_cells: usize,
    first: usize,
    w: &Mat<f64>,
    absent: &[(usize, [f64; GEOMETRY])],
) {
    let mut sums: [[f64; L]; GEOMETRY] = std::array::from_fn(|k| {
        out[k * n_cells + first..][..L]
            .try_into()
            .expect("a group of L cells")
    });
    for &(s, f) in absent {
        let column: &[f64; L] = w.col_as_slice(s)[first..][..L]
            .try_into()
            .expect("a group of L cells");
        for (sum, fk) in sums.iter_mut().zip(f) {
            for (o, &wg) in sum.iter_mut().zip(column) {
                *o -= wg * fk;
            }
        }
    }
    for (k, sum) in sums.iter().enumerate() {
        out[k * n_cells + first..][..L].copy_from_slice(sum);
    }
}

/// How eqs. (8)–(17) went for one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The weighted mean (eq. 9) with the gradient correction of eqs. (14)–(17).
    Corrected,
    /// The covariance (eq. 10) was singular: the weighted mean (eq. 9) alone.
    Singular,
    /// The weight sum (eq. 8) was zero or not finite: NaN.
    Unweighted,
}

/// Eqs. (8)–(17) for one cell from its K sums `p` (about the centred coordinates), with the
/// grid point `(pg, lg)` in the same centred coordinates: its N, E and U, and how they came.
///
/// Every quantity is computed whatever the outcome and the outcome only selects among them, so
/// that a loop over cells has no branch and vectorises.
#[inline(always)]
fn cell(p: [f64; K], (pg, lg): (f64, f64), min_eigen: f64) -> ([f64; 3], Outcome) {
    let w = p[0];
    let inv = 1.0 / w;
    // eqs. (11)–(12)
    let (mu_p, mu_l) = (p[1] * inv, p[2] * inv);
    // eq. (10)
    let s_pp = p[3] * inv - mu_p * mu_p;
    let s_ll = p[4] * inv - mu_l * mu_l;
    let s_pl = p[5] * inv - mu_p * mu_l;
    // eq. (9)
    let (vn, ve, vu) = (p[6] * inv, p[7] * inv, p[8] * inv);
    // eq. (13) for N and E
    let c_n = [p[9] * inv - mu_p * vn, p[10] * inv - mu_l * vn];
    let c_e = [p[11] * inv - mu_p * ve, p[12] * inv - mu_l * ve];
    let det = s_pp * s_ll - s_pl * s_pl;
    let lambda_max = 0.5 * (s_pp + s_ll + ((s_pp - s_ll).powi(2) + 4.0 * s_pl * s_pl).sqrt());
    let lambda_min = det / lambda_max;
    // eqs. (14)–(15): Σ⁻¹ c by the 2 x 2 adjugate.
    let solve = |c: [f64; 2]| {
        [
            (s_ll * c[0] - s_pl * c[1]) / det,
            (s_pp * c[1] - s_pl * c[0]) / det,
        ]
    };
    let (g_n, g_e) = (solve(c_n), solve(c_e));
    // eqs. (16)–(17)
    let (dp, dl) = (pg - mu_p, lg - mu_l);
    let corrected = [
        vn + g_n[0] * dp + g_n[1] * dl,
        ve + g_e[0] * dp + g_e[1] * dl,
        vu,
    ];
    // A zero Σ gives 0/0: NaN counts as singular too. Non-short-circuit operators and
    // selects of computed values, so that nothing branches.
    let singular = lambda_min.is_nan() | (lambda_min <= min_eigen);
    let weighted = (w > 0.0) & w.is_finite();
    let pick = |corrected: f64, mean: f64| {
        let value = if singular { mean } else { corrected };
        if weighted { value } else { f64::NAN }
    };
    let v = [pick(corrected[0], vn), pick(corrected[1], ve), pick(vu, vu)];
    let outcome = if !weighted {
        Outcome::Unweighted
    } else if singular {
        Outcome::Singular
    } else {
        Outcome::Corrected
    };
    (v, outcome)
}

/// Grids every day of `field` on `grid` (eqs. 5–17) and hands each day's image to `on_day` in
/// day order: `(day, image)`, with `image` the `rows · cols · 3` values (C order, channels N,
/// E, U, f64 mm). Days without a station and unweighted cells are NaN; the report counts every
/// NaN cell-day, whatever its cause.
///
/// Draws a progress bar over the days when `show_progress` is set. Allocates the weights and
/// the work buffers of [`GriddingMemory`] (not the stack) without checking their size;
/// [`grid_displacements`] checks first.
pub fn grid_displacements_with(
    field: &DisplacementField,
    grid: &ValidGridSpec,
    show_progress: bool,
    on_day: impl FnMut(usize, &[f64]),
) -> GriddingReport {
    grid_pixels(field, grid, show_progress, on_day)
}

/// A value type of the images: `f64` for [`grid_displacements_with`], `f32` for the stack.
/// Each cell's value is converted as it is computed, on the thread that computes it.
trait Pixel: Copy + Send + Sync + 'static {
    /// Not a number.
    const NAN: Self;
    /// The value nearest to `value`.
    fn from_f64(value: f64) -> Self;
}

impl Pixel for f64 {
    const NAN: Self = f64::NAN;
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl Pixel for f32 {
    const NAN: Self = f32::NAN;
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

/// [`grid_displacements_with`] with images of `P`.
fn grid_pixels<P: Pixel>(
    field: &DisplacementField,
    grid: &ValidGridSpec,
    show_progress: bool,
    mut on_day: impl FnMut(usize, &[P]),
) -> GriddingReport {
    let (n_days, n_st, n_cells) = (field.n_days(), field.n_stations(), grid.n_cells());
    let (ref_p, ref_l) = reference(&grid.spec().region);
    let centred: Vec<(f64, f64)> = field
        .stations()
        .iter()
        .map(|s| (s.latitude - ref_p, s.longitude - ref_l))
        .collect();
    let points: Vec<(f64, f64)> = grid
        .points()
        .into_iter()
        .map(|(p, l)| (p - ref_p, l - ref_l))
        .collect();
    let positions: Vec<(f64, f64)> = field
        .stations()
        .iter()
        .map(|s| (s.latitude, s.longitude))
        .collect();
    let w: Mat<f64> = gaussian_weights(grid, &positions);
    let inputs = DayInputs {
        w: &w,
        centred: &centred,
        points: &points,
        min_eigen: (MIN_SPREAD_CELLS * grid.dlat().min(grid.dlon())).powi(2),
    };
    let nan_image = vec![P::NAN; n_cells * 3];
    let bar = show_progress.then(|| progress::bar(n_days as u64, "gridding"));

    let mut report = GriddingReport {
        n_days,
        n_cells,
        n_stations: n_st,
        ..GriddingReport::default()
    };
    let block = BLOCK_DAYS.min(n_days.max(1));
    // `F`: the block's reference geometry columns, then the value columns of each busy day.
    let mut f_buf = vec![0.0; n_st * (GEOMETRY + VALUES * block)];
    let mut p_buf = vec![0.0; n_cells * (GEOMETRY + VALUES * block)];
    let mut images = vec![P::NAN; n_cells * 3 * block];
    for first in (0..n_days).step_by(block) {
        let days: Vec<usize> = (first..(first + block).min(n_days)).collect();
        let busy: Vec<usize> = days
            .iter()
            .copied()
            .filter(|&d| field.n_present(d) > 0)
            .collect();
        let b = busy.len();
        let mut busy_nan = Vec::new();
        if b > 0 && n_st > 0 {
            // The block's stations: those present on any of its busy days.
            let mut in_block = vec![false; n_st];
            for &d in &busy {
                for (r, &m) in in_block.iter_mut().zip(field.day(d).1) {
                    *r |= m;
                }
            }
            let columns = GEOMETRY + VALUES * b;
            let f = &mut f_buf[..n_st * columns];
            let (reference, value_columns) = f.split_at_mut(n_st * GEOMETRY);
            fill_geometry(reference, &in_block, &centred);
            value_columns
                .par_chunks_mut(n_st * VALUES)
                .zip(busy.par_iter())
                .for_each(|(columns, &d)| {
                    let (values, present) = field.day(d);
                    fill_values(columns, values, present, &centred);
                });
            let p = &mut p_buf[..n_cells * columns];
            matmul(
                MatMut::from_column_major_slice_mut(p, n_cells, columns),
                Accum::Replace,
                w.as_ref(),
                MatRef::from_column_major_slice(f, n_st, columns),
                1.0,
                Par::rayon(0),
            );
            let (reference, value_sums) = p_buf[..n_cells * columns].split_at(n_cells * GEOMETRY);
            let day_counts: Vec<DayCounts> = images[..n_cells * 3 * b]
                .par_chunks_mut(n_cells * 3)
                .zip(value_sums.par_chunks(n_cells * VALUES))
                .zip(busy.par_iter())
                .map_init(
                    || vec![0.0; n_cells * GEOMETRY],
                    |geo, ((image, sums), &d)| {
                        day_image(Day {
                            inputs: &inputs,
                            reference,
                            in_block: &in_block,
                            present: field.day(d).1,
                            sums,
                            geo,
                            image,
                        })
                    },
                )
                .collect();
            for counts in &day_counts {
                report.singular_cells += counts.singular;
                report.unweighted_cells += counts.unweighted;
            }
            busy_nan = day_counts.iter().map(|c| c.nan).collect();
            report.matmul_flops += (2 * n_cells * n_st * columns) as u64;
        }
        let mut computed = busy
            .iter()
            .zip(images.chunks(n_cells * 3).zip(&busy_nan))
            .peekable();
        for &d in &days {
            match computed.peek() {
                Some(&(&busy_day, (image, &nan))) if busy_day == d && n_st > 0 => {
                    on_day(d, image);
                    report.nan_cells += nan;
                    report.empty_days += usize::from(nan == n_cells);
                    computed.next();
                }
                _ => {
                    report.empty_days += 1;
                    report.days_without_stations += 1;
                    report.nan_cells += n_cells;
                    on_day(d, &nan_image);
                }
            }
        }
        if let Some(bar) = &bar {
            bar.inc(days.len() as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report
}

/// Grids every day of `field` on `grid` (eqs. 5–17) into an [`ImageStack`] (f32 mm).
///
/// Refuses before allocating anything if the [`GriddingMemory`] estimate exceeds `limit`.
/// Logs a warning when the stack is mostly NaN ([`GriddingReport::is_mostly_nan`]).
pub fn grid_displacements(
    field: &DisplacementField,
    grid: &ValidGridSpec,
    show_progress: bool,
    limit: MemoryLimit,
) -> Result<(ImageStack, GriddingReport)> {
    GriddingMemory::estimate(grid, field.n_stations(), field.n_days()).check(limit)?;
    let mut data = Vec::with_capacity(field.n_days() * grid.n_cells() * 3);
    let report = grid_pixels::<f32>(field, grid, show_progress, |_, image| {
        data.extend_from_slice(image);
    });
    if report.is_mostly_nan() {
        tracing::warn!(
            "the gridded stack is mostly NaN ({:.1}% of cell-days; {} of {} days empty, {} of \
             them without any station in the region): check the period, the region, the \
             station files and sigma",
            100.0 * report.nan_fraction(),
            report.empty_days,
            report.n_days,
            report.days_without_stations
        );
    }
    Ok((ImageStack::new(*grid, *field.period(), data)?, report))
}

/// The whole of the paper's §1.1 for the days of `period`: daily displacements
/// `V(t) = r(t+1) − r(t−1)` of the stations of `set` inside the grid's region, gridded with
/// gradient correction (eqs. 5–17), within the default [`MemoryLimit`].
pub fn grid_stations(
    set: &StationSet,
    period: &Period,
    grid: &ValidGridSpec,
    show_progress: bool,
) -> Result<(ImageStack, GriddingReport)> {
    grid_stations_within(set, period, grid, show_progress, MemoryLimit::default())
}

/// [`grid_stations`] within `limit`: the memory is estimated from the period, the grid and
/// the number of stations in the region, and the gridding refused beyond `limit` before the
/// displacements are built. This is what `quakelab gnss grid` runs.
pub fn grid_stations_within(
    set: &StationSet,
    period: &Period,
    grid: &ValidGridSpec,
    show_progress: bool,
    limit: MemoryLimit,
) -> Result<(ImageStack, GriddingReport)> {
    let region = &grid.spec().region;
    let inside = set
        .series()
        .iter()
        .filter(|s| region.contains(s.station().latitude, s.station().longitude))
        .count();
    GriddingMemory::estimate(grid, inside, period.n_days()).check(limit)?;
    let field = displacement_field_in_region(set, period, region);
    grid_displacements(&field, grid, show_progress, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collinear_stations_skip_the_correction() {
        // Weights 1/4 and 3/4 at latitudes 0 and 1 on one meridian: Σ has λ-variance 0.
        let mut p = [0.0; K];
        let (phi, v) = ([0.0, 1.0], [2.0, 6.0]);
        for (&w, (&x, &vn)) in [1.0, 3.0].iter().zip(phi.iter().zip(&v)) {
            p[0] += w;
            p[1] += w * x;
            p[3] += w * x * x;
            p[6] += w * vn;
            p[9] += w * x * vn;
        }
        // eq. (9): (1·2 + 3·6)/4 = 5.
        assert_eq!(
            cell(p, (5.0, 5.0), 1e-12),
            ([5.0, 0.0, 0.0], Outcome::Singular)
        );
        let (v, outcome) = cell([0.0; K], (0.0, 0.0), 1e-12);
        assert_eq!(outcome, Outcome::Unweighted);
        assert!(v.iter().all(|x| x.is_nan()));
    }
}
