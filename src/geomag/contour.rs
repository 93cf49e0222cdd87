//! Contour maps of the anomaly index (papers.md §B: the stations' daily anomalies interpolated
//! onto a 480 x 480 image of the area, with contour lines), the images VGG-12 classifies.
//!
//! One day's map, as [`render_maps`] and [`render_day`] draw it:
//!
//! - The grid: `size x size` pixels over [`MapSpec::bounds`]; row 0 is the northern edge and
//!   column 0 the western edge (an image as it is viewed, north up). Pixel `(r, c)` stands for
//!   its centre, latitude `lat_max − (r + ½)·Δlat` and longitude `lon_min + (c + ½)·Δlon`.
//! - Stations inside the bounds are placed at the centre of the pixel they fall in; stations
//!   outside keep their position. A station with a missing (`NaN`) index that day is left out of
//!   that day's map and counted ([`MapStack::missing_values`]).
//! - Interpolation, with great-circle distances `d_i` in km ([`crate::geo::haversine_km`]) from
//!   the pixel centre to each station: `v = Σ w_i v_i / Σ w_i` with
//!   - inverse-distance weights `w_i = d_i^(−p)` ([`Interpolation::InverseDistance`]); a pixel
//!     holding a station takes that station's value exactly (the mean, if it holds several),
//!     which is the limit of the weights as `d → 0`;
//!   - or Gaussian weights `w_i = exp(−d_i² / (2σ²))` ([`Interpolation::Gaussian`]), a
//!     smoother that does not pass through the station values.
//! - Scale: the interpolated index `v` maps to `(v / clip + 1) / 2`, clipped to `[0, 1]`, so 0.5
//!   is no anomaly and 0 and 1 are `−clip` and `+clip`. The range is fixed for every image, not
//!   stretched to each image's own minimum and maximum: a quiet day stays a flat grey and a
//!   strong anomaly stays bright, so the amplitude, which the classes depend on, survives.
//! - Contour lines at [`MapSpec::levels`] evenly spaced values `k / (levels + 1)`,
//!   `k = 1..=levels`, of the scaled map (index `−clip + 2·clip·k/(levels + 1)`). A pixel is on a
//!   line where a level is crossed between it and one of its four neighbours, on the side of the
//!   higher value (`v_neighbour < level ≤ v_pixel`), so lines are one pixel wide. In the images
//!   given to the classifier ([`MapStack`]) line pixels are set to [`MapSpec::line_value`]
//!   (0 by default: black lines, as drawn on a contour map; an index at or below `−clip` looks
//!   the same, so keep `clip` above the usual range of the index). The figures
//!   ([`write_map_png`]) draw the lines in black over a blue–white–red colour scale.

use std::path::Path;

use plotters::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::Region;
use crate::encode::{BatchShape, ImageBatch};
use crate::geo::haversine_km;
use crate::geomag::{DailyField, GeomagStation};
use crate::report::figure::check_image_path;
use crate::{Error, Result, ensure_config};

/// The largest map side [`MapSpec::check`] accepts, in pixels.
pub const MAX_SIZE: usize = 4096;

/// How station values are spread onto the grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Interpolation {
    /// Inverse-distance weighting, `w = d^(−power)`.
    InverseDistance {
        /// The power p (2 is the usual choice).
        power: f64,
    },
    /// A Gaussian kernel, `w = exp(−d² / (2σ²))`.
    Gaussian {
        /// The width σ in km.
        sigma_km: f64,
    },
}

/// The map settings as written; [`MapSpec::check`] validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapSpec {
    /// Pixels per side (480 in the paper).
    pub size: usize,
    /// The area drawn (see [`bounds_around`] for one derived from the stations).
    pub bounds: Region,
    /// Contour lines drawn (0 for none).
    pub levels: usize,
    /// The interpolation.
    pub interpolation: Interpolation,
    /// The index value drawn as 1 (and its negative as 0), in the index's units.
    pub clip: f64,
    /// The value of line pixels in the classifier's images, in `[0, 1]`.
    pub line_value: f32,
}

impl MapSpec {
    /// The paper's size (480) over `bounds`, 10 contour lines, inverse-distance weighting with
    /// power 2, the given clip and black lines.
    pub fn paper(bounds: Region, clip: f64) -> MapSpec {
        MapSpec {
            size: 480,
            bounds,
            levels: 10,
            interpolation: Interpolation::InverseDistance { power: 2.0 },
            clip,
            line_value: 0.0,
        }
    }

    /// Validates the settings, naming the key under `geomag.map.*`: a size from 2 to
    /// [`MAX_SIZE`], well-formed bounds, a finite positive power or width, a finite positive
    /// clip, and a line value in `[0, 1]`.
    pub fn check(self) -> Result<ValidMapSpec> {
        ensure_config!(
            (2..=MAX_SIZE).contains(&self.size),
            "geomag.map.size",
            "must be from 2 to {MAX_SIZE} pixels, got {}",
            self.size
        );
        let b = self.bounds;
        Region::new(b.lon_min, b.lon_max, b.lat_min, b.lat_max)
            .map_err(|e| Error::config("geomag.map.bounds", e.to_string()))?;
        match self.interpolation {
            Interpolation::InverseDistance { power } => ensure_config!(
                power.is_finite() && power > 0.0,
                "geomag.map.power",
                "must be a positive number, got {power}"
            ),
            Interpolation::Gaussian { sigma_km } => ensure_config!(
                sigma_km.is_finite() && sigma_km > 0.0,
                "geomag.map.sigma_km",
                "must be a positive number of km, got {sigma_km}"
            ),
        }
        ensure_config!(
            self.clip.is_finite() && self.clip > 0.0,
            "geomag.map.clip",
            "must be a positive value of the index, got {}",
            self.clip
        );
        ensure_config!(
            (0.0..=1.0).contains(&self.line_value),
            "geomag.map.line_value",
            "must lie in [0, 1], got {}",
            self.line_value
        );
        Ok(ValidMapSpec(self))
    }
}

/// Settings that passed [`MapSpec::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidMapSpec(MapSpec);

impl ValidMapSpec {
    /// The checked settings.
    pub fn spec(&self) -> &MapSpec {
        &self.0
    }
}

/// The box around `stations` widened by `margin_degrees` on every side. Refuses no stations and
/// a margin that is not a positive finite number (key `geomag.map.margin_degrees`).
pub fn bounds_around(stations: &[GeomagStation], margin_degrees: f64) -> Result<Region> {
    ensure_config!(
        margin_degrees.is_finite() && margin_degrees > 0.0,
        "geomag.map.margin_degrees",
        "must be a positive number of degrees, got {margin_degrees}"
    );
    ensure_config!(
        !stations.is_empty(),
        "geomag.map.bounds",
        "cannot be derived from a network without stations"
    );
    let fold = |f: fn(f64, f64) -> f64, start: f64, get: fn(&GeomagStation) -> f64| {
        stations.iter().map(get).fold(start, f)
    };
    Region::new(
        fold(f64::min, f64::INFINITY, |s| s.longitude) - margin_degrees,
        fold(f64::max, f64::NEG_INFINITY, |s| s.longitude) + margin_degrees,
        (fold(f64::min, f64::INFINITY, |s| s.latitude) - margin_degrees).max(-90.0),
        (fold(f64::max, f64::NEG_INFINITY, |s| s.latitude) + margin_degrees).min(90.0),
    )
    .map_err(|e| Error::config("geomag.map.bounds", e.to_string()))
}

/// The weights of every pixel on every station, fixed by the geometry.
struct Geometry {
    size: usize,
    bounds: Region,
    interpolation: Interpolation,
    /// Where each station is taken to be (its pixel's centre inside the bounds).
    positions: Vec<(f64, f64)>,
    /// `weights[pixel * n_stations + s]`, scaled per pixel so the nearest station has 1 (0 for a
    /// station held by the pixel under inverse distance).
    weights: Vec<f64>,
    /// Under inverse distance, the stations each pixel holds.
    held: Vec<Vec<usize>>,
    /// The pixel `(row, column)` of each station inside the bounds.
    pixels: Vec<Option<(usize, usize)>>,
}

impl Geometry {
    fn new(stations: &[GeomagStation], spec: &MapSpec) -> Geometry {
        let size = spec.size;
        let b = spec.bounds;
        let dlat = (b.lat_max - b.lat_min) / size as f64;
        let dlon = (b.lon_max - b.lon_min) / size as f64;
        let pixels: Vec<Option<(usize, usize)>> = stations
            .iter()
            .map(|s| {
                let inside = s.latitude >= b.lat_min
                    && s.latitude <= b.lat_max
                    && s.longitude >= b.lon_min
                    && s.longitude <= b.lon_max;
                inside.then(|| {
                    let r = (((b.lat_max - s.latitude) / dlat) as usize).min(size - 1);
                    let c = (((s.longitude - b.lon_min) / dlon) as usize).min(size - 1);
                    (r, c)
                })
            })
            .collect();
        let mut held = vec![Vec::new(); size * size];
        if matches!(spec.interpolation, Interpolation::InverseDistance { .. }) {
            for (s, p) in pixels.iter().enumerate() {
                if let Some((r, c)) = p {
                    held[r * size + c].push(s);
                }
            }
        }
        let mut geometry = Geometry {
            size,
            bounds: b,
            interpolation: spec.interpolation,
            positions: Vec::new(),
            weights: Vec::new(),
            held,
            pixels,
        };
        geometry.positions = stations
            .iter()
            .zip(&geometry.pixels)
            .map(|(s, p)| {
                p.map_or((s.latitude, s.longitude), |(r, c)| {
                    geometry.centre(r * size + c)
                })
            })
            .collect();
        let rows: Vec<Vec<f64>> = (0..size * size)
            .into_par_iter()
            .map(|pixel| {
                let logs: Vec<f64> = (0..stations.len())
                    .map(|s| geometry.log_weight(pixel, s))
                    .collect();
                let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                logs.iter().map(|l| (l - top).exp()).collect()
            })
            .collect();
        geometry.weights = rows.concat();
        geometry
    }

    /// The centre (latitude, longitude) of pixel `pixel` (row-major, row 0 north).
    fn centre(&self, pixel: usize) -> (f64, f64) {
        let b = self.bounds;
        let (r, c) = (pixel / self.size, pixel % self.size);
        let size = self.size as f64;
        (
            b.lat_max - (r as f64 + 0.5) * (b.lat_max - b.lat_min) / size,
            b.lon_min + (c as f64 + 0.5) * (b.lon_max - b.lon_min) / size,
        )
    }

    /// The log of station `s`'s weight at pixel `pixel` (−∞ for a station the pixel holds).
    fn log_weight(&self, pixel: usize, s: usize) -> f64 {
        if self.held[pixel].contains(&s) {
            return f64::NEG_INFINITY;
        }
        let (lat, lon) = self.centre(pixel);
        let (slat, slon) = self.positions[s];
        let d = haversine_km(lat, lon, slat, slon);
        match self.interpolation {
            Interpolation::InverseDistance { power } => -power * d.ln(),
            Interpolation::Gaussian { sigma_km } => -d * d / (2.0 * sigma_km * sigma_km),
        }
    }

    /// The interpolated index of every pixel from one day's station values (`NaN` missing).
    fn interpolate(&self, values: &[f64]) -> Vec<f64> {
        let n = self.positions.len();
        (0..self.size * self.size)
            .into_par_iter()
            .map(|pixel| {
                let own: Vec<f64> = self.held[pixel]
                    .iter()
                    .map(|&s| values[s])
                    .filter(|v| v.is_finite())
                    .collect();
                if !own.is_empty() {
                    return own.iter().sum::<f64>() / own.len() as f64;
                }
                let w = &self.weights[pixel * n..(pixel + 1) * n];
                let (mut num, mut den) = (0.0, 0.0);
                for (wi, vi) in w.iter().zip(values) {
                    if vi.is_finite() {
                        num += wi * vi;
                        den += wi;
                    }
                }
                if den > 0.0 {
                    return num / den;
                }
                // The weights of every present station underflowed (a narrow Gaussian far from
                // them): rescale by the largest present weight instead.
                let logs: Vec<(f64, f64)> = (0..n)
                    .filter(|&s| values[s].is_finite())
                    .map(|s| (self.log_weight(pixel, s), values[s]))
                    .collect();
                let top = logs.iter().map(|l| l.0).fold(f64::NEG_INFINITY, f64::max);
                let (num, den) = logs.iter().fold((0.0, 0.0), |(num, den), &(l, v)| {
                    let wi = (l - top).exp();
                    (num + wi * v, den + wi)
                });
                num / den
            })
            .collect()
    }
}

/// One day's map before the lines are drawn into it, for figures.
#[derive(Debug, Clone, PartialEq)]
pub struct DayMap {
    /// Pixels per side.
    pub size: usize,
    /// The scaled map, `size · size` values in `[0, 1]`, row 0 north.
    pub field: Vec<f32>,
    /// Whether each pixel is on a contour line.
    pub lines: Vec<bool>,
    /// The pixel `(row, column)` of each station inside the bounds.
    pub station_pixels: Vec<Option<(usize, usize)>>,
}

/// The images of a set of days, N x 1 x size x size, values in `[0, 1]`, contour lines drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct MapStack {
    data: Vec<f32>,
    size: usize,
    days: Vec<usize>,
    missing_values: usize,
}

impl MapStack {
    /// The number of images.
    pub fn n(&self) -> usize {
        self.days.len()
    }

    /// Pixels per side.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The day index of each image.
    pub fn days(&self) -> &[usize] {
        &self.days
    }

    /// Image `i`, `size · size` values, row 0 north. Panics past the images.
    pub fn image(&self, i: usize) -> &[f32] {
        let len = self.size * self.size;
        &self.data[i * len..(i + 1) * len]
    }

    /// Station-days left out of the maps because the index was missing.
    pub fn missing_values(&self) -> usize {
        self.missing_values
    }

    /// The images as a batch for an image model: N x 1 x size x size, borrowed.
    pub fn as_batch(&self) -> Result<ImageBatch<'_>> {
        ImageBatch::new(
            self.data.as_slice(),
            BatchShape {
                n: self.n(),
                channels: 1,
                height: self.size,
                width: self.size,
            },
        )
    }
}

/// The maps of `days` of the anomaly index (module docs), rendered in parallel.
///
/// Refuses a day beyond the index and a day whose stations are all missing, naming its date.
pub fn render_maps(index: &DailyField, days: &[usize], spec: &ValidMapSpec) -> Result<MapStack> {
    check_days(index, days)?;
    let spec = spec.spec();
    let geometry = Geometry::new(index.stations(), spec);
    let len = spec.size * spec.size;
    let mut data = vec![0f32; days.len() * len];
    data.par_chunks_mut(len)
        .zip(days.par_iter())
        .for_each(|(image, &day)| {
            let field = scaled(&geometry.interpolate(index.day(day)), spec.clip);
            let lines = contour_lines(&field, spec.size, spec.levels);
            for ((out, v), on_line) in image.iter_mut().zip(&field).zip(&lines) {
                *out = if *on_line { spec.line_value } else { *v };
            }
        });
    let missing_values = days
        .iter()
        .map(|&d| index.day(d).iter().filter(|v| !v.is_finite()).count())
        .sum();
    Ok(MapStack {
        data,
        size: spec.size,
        days: days.to_vec(),
        missing_values,
    })
}

/// The map of one day before its lines are drawn in, with the lines and the station pixels
/// beside it, for [`write_map_png`]. Refuses as [`render_maps`] does.
pub fn render_day(index: &DailyField, day: usize, spec: &ValidMapSpec) -> Result<DayMap> {
    check_days(index, &[day])?;
    let spec = spec.spec();
    let geometry = Geometry::new(index.stations(), spec);
    let field = scaled(&geometry.interpolate(index.day(day)), spec.clip);
    let lines = contour_lines(&field, spec.size, spec.levels);
    Ok(DayMap {
        size: spec.size,
        field,
        lines,
        station_pixels: geometry.pixels,
    })
}

fn check_days(index: &DailyField, days: &[usize]) -> Result<()> {
    for &day in days {
        if day >= index.n_days() {
            return Err(Error::Numerical(format!(
                "map of day {day}: the index covers only {} days ({})",
                index.n_days(),
                index.period()
            )));
        }
        if index.day(day).iter().all(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "map of {} (day {day}): every station's index is missing that day, so there is \
                 nothing to draw",
                index.period().date(day)
            )));
        }
    }
    Ok(())
}

/// `(v / clip + 1) / 2` clipped to `[0, 1]`.
fn scaled(values: &[f64], clip: f64) -> Vec<f32> {
    values
        .iter()
        .map(|v| ((v / clip + 1.0) / 2.0).clamp(0.0, 1.0) as f32)
        .collect()
}

/// Whether each pixel of a `size x size` scaled map lies on one of `levels` contour lines
/// (module docs: a level crossed towards a 4-neighbour, the pixel on the higher side).
pub fn contour_lines(field: &[f32], size: usize, levels: usize) -> Vec<bool> {
    let crossed = |high: f32, low: f32| {
        // A level k/(L+1) lies in (low, high] iff ⌊high·(L+1)⌋ > ⌊low·(L+1)⌋ after clipping
        // to the levels 1..=L.
        let step = (levels + 1) as f32;
        let top = ((high * step).floor() as usize).min(levels);
        let bottom = (low * step).floor().max(0.0) as usize;
        low < high && top > bottom.min(levels)
    };
    (0..size * size)
        .map(|p| {
            if levels == 0 {
                return false;
            }
            let (r, c) = (p / size, p % size);
            let v = field[p];
            let mut neighbours = [None; 4];
            if r > 0 {
                neighbours[0] = Some(p - size);
            }
            if r + 1 < size {
                neighbours[1] = Some(p + size);
            }
            if c > 0 {
                neighbours[2] = Some(p - 1);
            }
            if c + 1 < size {
                neighbours[3] = Some(p + 1);
            }
            neighbours.iter().flatten().any(|&q| crossed(v, field[q]))
        })
        .collect()
}

/// A blue–white–red colour for a scaled value (0.5 white).
fn colour(value: f32) -> RGBColor {
    const LOW: (f32, f32, f32) = (33.0, 102.0, 172.0);
    const MID: (f32, f32, f32) = (247.0, 247.0, 247.0);
    const HIGH: (f32, f32, f32) = (178.0, 24.0, 43.0);
    let x = (2.0 * value - 1.0).clamp(-1.0, 1.0);
    let (end, t) = if x < 0.0 { (LOW, -x) } else { (HIGH, x) };
    let mix = |a: f32, b: f32| (a + (b - a) * t).round() as u8;
    RGBColor(mix(MID.0, end.0), mix(MID.1, end.1), mix(MID.2, end.2))
}

/// Writes a day's map as a PNG figure: the scaled map in a blue–white–red scale (white = no
/// anomaly), the contour lines in black and the stations as white dots ringed in black. Each
/// map pixel is drawn as a square of `⌈480 / size⌉` image pixels, so small maps stay legible.
pub fn write_map_png(path: &Path, map: &DayMap) -> Result<()> {
    check_image_path(path)?;
    let fail = |message: String| Error::Render {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let scale = 480usize.div_ceil(map.size).max(1);
    let side = u32::try_from(map.size * scale).map_err(|e| fail(e.to_string()))?;
    let root = BitMapBackend::new(path, (side, side)).into_drawing_area();
    for p in 0..map.size * map.size {
        let (r, c) = (p / map.size, p % map.size);
        let fill = if map.lines[p] {
            BLACK
        } else {
            colour(map.field[p])
        };
        let (x, y) = ((c * scale) as i32, (r * scale) as i32);
        root.draw(&Rectangle::new(
            [(x, y), (x + scale as i32, y + scale as i32)],
            fill.filled(),
        ))
        .map_err(|e| fail(e.to_string()))?;
    }
    let radius = (scale as i32 * 2).clamp(3, 8);
    for &(r, c) in map.station_pixels.iter().flatten() {
        let centre = (
            (c * scale + scale / 2) as i32,
            (r * scale + scale / 2) as i32,
        );
        root.draw(&Circle::new(centre, radius, WHITE.filled()))
            .and_then(|_| root.draw(&Circle::new(centre, radius, BLACK.stroke_width(1))))
            .map_err(|e| fail(e.to_string()))?;
    }
    root.present().map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_crossed_between_neighbours_marks_the_higher_pixel() {
        // One row of 3 values and 1 level at 0.5: 0.4 | 0.6 | 0.7 → only the 0.6 pixel.
        // A 3 x 3 map with the same rows everywhere.
        let row = [0.4f32, 0.6, 0.7];
        let field: Vec<f32> = (0..9).map(|p| row[p % 3]).collect();
        let lines = contour_lines(&field, 3, 1);
        let expected: Vec<bool> = (0..9).map(|p| p % 3 == 1).collect();
        assert_eq!(lines, expected);
        // A level exactly at a value: 0.5 ≤ 0.5 counts on the pixel at 0.5.
        let field: Vec<f32> = (0..4)
            .map(|p| if p % 2 == 0 { 0.25 } else { 0.5 })
            .collect();
        assert_eq!(contour_lines(&field, 2, 1), vec![false, true, false, true]);
        assert!(contour_lines(&field, 2, 0).iter().all(|l| !l));
    }

    #[test]
    fn the_colour_scale_is_white_at_half_and_saturates() {
        assert_eq!(colour(0.5), RGBColor(247, 247, 247));
        assert_eq!(colour(1.0), RGBColor(178, 24, 43));
        assert_eq!(colour(-3.0), RGBColor(33, 102, 172));
    }

    fn spec() -> MapSpec {
        MapSpec {
            size: 8,
            bounds: Region::new(101.0, 103.0, 27.0, 29.0).unwrap(),
            levels: 0,
            interpolation: Interpolation::InverseDistance { power: 2.0 },
            clip: 1.0,
            line_value: 0.0,
        }
    }

    #[test]
    fn a_map_size_of_one_pixel_is_refused() {
        let err = MapSpec { size: 1, ..spec() }
            .check()
            .unwrap_err()
            .to_string();
        assert!(err.contains("geomag.map.size"), "{err}");
    }

    #[test]
    fn reversed_map_bounds_are_refused() {
        let bounds = Region {
            lon_min: 103.0,
            lon_max: 101.0,
            lat_min: 27.0,
            lat_max: 29.0,
        };
        let err = MapSpec { bounds, ..spec() }
            .check()
            .unwrap_err()
            .to_string();
        assert!(err.contains("geomag.map.bounds"), "{err}");
    }

    #[test]
    fn an_inverse_distance_power_of_zero_is_refused() {
        let interpolation = Interpolation::InverseDistance { power: 0.0 };
        let err = MapSpec {
            interpolation,
            ..spec()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(err.contains("geomag.map.power"), "{err}");
    }

    #[test]
    fn a_negative_gaussian_width_is_refused() {
        let interpolation = Interpolation::Gaussian { sigma_km: -5.0 };
        let err = MapSpec {
            interpolation,
            ..spec()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(err.contains("geomag.map.sigma_km"), "{err}");
    }

    #[test]
    fn a_clip_of_zero_is_refused() {
        let err = MapSpec {
            clip: 0.0,
            ..spec()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(err.contains("geomag.map.clip"), "{err}");
    }

    #[test]
    fn a_line_value_outside_zero_and_one_is_refused() {
        let err = MapSpec {
            line_value: 1.5,
            ..spec()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(err.contains("geomag.map.line_value"), "{err}");
    }

    #[test]
    fn a_margin_of_zero_degrees_is_refused() {
        let stations = [GeomagStation {
            code: "A".into(),
            latitude: 28.0,
            longitude: 102.0,
        }];
        let err = bounds_around(&stations, 0.0).unwrap_err().to_string();
        assert!(err.contains("geomag.map.margin_degrees"), "{err}");
        let b = bounds_around(&stations, 0.5).unwrap();
        assert_eq!(
            (b.lon_min, b.lon_max, b.lat_min, b.lat_max),
            (101.5, 102.5, 27.5, 28.5)
        );
    }
}
