//! Figures, drawn with plotters into PNG or SVG (chosen by the file extension).
//!
//! Text is set in DejaVu Sans, shipped in `assets/fonts/` and registered from bytes, so drawing
//! needs no fontconfig or system fonts.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::period::Period;
use crate::{Error, Result};

const FONT: &str = "sans-serif";
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(214, 95, 14);
const GREY: RGBColor = RGBColor(150, 150, 150);
/// The lowest rate drawn on a logarithmic events-per-day axis.
const LOG_FLOOR: f64 = 0.01;

/// Opens a PNG or SVG drawing area for `$path` (by extension), runs the drawing expression with
/// the area bound to `$root`, and saves the file. A macro rather than a function because the two
/// backends are different types and the drawing code is generic over them.
macro_rules! render {
    ($path:expr, $size:expr, |$root:ident| $draw:expr) => {{
        let path: &Path = $path;
        check_image_path(path)?;
        register_font();
        let fail = |message: String| Error::Render {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let is_svg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
        if is_svg {
            let $root = SVGBackend::new(path, $size).into_drawing_area();
            $root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            $draw.map_err(fail)?;
            $root.present().map_err(|e| fail(e.to_string()))
        } else {
            let $root = BitMapBackend::new(path, $size).into_drawing_area();
            $root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            $draw.map_err(fail)?;
            $root.present().map_err(|e| fail(e.to_string()))
        }
    }};
}

/// Checks that `path` names an image format figures are drawn in: `.png` or `.svg` (case
/// ignored). Otherwise fails naming `out` and both extensions. Every figure checks this before
/// drawing; a command calls it first so that a mistyped output fails before any work.
pub fn check_image_path(path: &Path) -> Result<()> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("png" | "svg") => Ok(()),
        other => Err(Error::config(
            "out",
            format!(
                "`{}` {}: figures are written as .png or .svg",
                path.display(),
                match other {
                    Some(e) => format!("has the unsupported extension `.{e}`"),
                    None => "has no extension".to_string(),
                }
            ),
        )),
    }
}

/// One day of the b and a series, as drawn in Fig. 2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaPoint {
    /// Day index in the period.
    pub day: usize,
    /// b value and its standard error, if the window was valid.
    pub b: Option<(f64, f64)>,
    /// a value and its standard error, if the window was valid.
    pub a: Option<(f64, f64)>,
}

/// The paper's Fig. 2: the b and a series over time, each with a ±1σ band. Missing windows
/// leave gaps; they are never drawn as zero.
pub fn ba_series(path: &Path, period: &Period, title: &str, points: &[BaPoint]) -> Result<()> {
    let b: Vec<(f64, Option<(f64, f64)>)> = points.iter().map(|p| (p.day as f64, p.b)).collect();
    let a: Vec<(f64, Option<(f64, f64)>)> = points.iter().map(|p| (p.day as f64, p.a)).collect();
    render!(path, (1200, 800), |root| draw_ba(
        &root, period, title, &b, &a
    ))
}

fn draw_ba<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    period: &Period,
    title: &str,
    b: &[(f64, Option<(f64, f64)>)],
    a: &[(f64, Option<(f64, f64)>)],
) -> DrawResult {
    let root = root.titled(title, (FONT, 24)).map_err(|e| e.to_string())?;
    let panels = root.split_evenly((2, 1));
    band_panel(&panels[0], period, "b value", b, BLUE)?;
    band_panel(&panels[1], period, "a value", a, ORANGE)
}

/// The paper's Fig. 3: the KDE activity labels drawn over the daily event counts, both in
/// events per day (labels scaled by the number of events, `n·y_d`), so the two share an axis.
/// The axis is logarithmic: an aftershock sequence's busiest day would otherwise flatten
/// every other day (and the label) to the baseline.
pub fn kde_over_counts(
    path: &Path,
    period: &Period,
    title: &str,
    daily_counts: &[usize],
    labels_per_day: &[f64],
) -> Result<()> {
    let max_count = daily_counts.iter().copied().max().unwrap_or(0) as f64;
    let max_label = labels_per_day.iter().copied().fold(0.0, f64::max);
    let y_max = max_count.max(max_label).max(1.0) * 1.5;
    render!(path, (1200, 600), |root| draw_kde(
        &root,
        period,
        title,
        daily_counts,
        labels_per_day,
        y_max
    ))
}

fn draw_kde<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    period: &Period,
    title: &str,
    daily_counts: &[usize],
    labels_per_day: &[f64],
    y_max: f64,
) -> DrawResult {
    let n_days = daily_counts.len().max(labels_per_day.len()).max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n_days, (LOG_FLOOR..y_max).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(10)
        .x_label_formatter(&|x| month_label(period, *x))
        .y_desc("events per day (log scale)")
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            daily_counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(d, &c)| {
                    Rectangle::new(
                        [(d as f64, LOG_FLOOR), (d as f64 + 1.0, c as f64)],
                        GREY.mix(0.6).filled(),
                    )
                }),
        )
        .map_err(|e| e.to_string())?
        .label("daily count (M ≥ Mc)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], GREY.filled()));
    chart
        .draw_series(LineSeries::new(
            labels_per_day
                .iter()
                .enumerate()
                .map(|(d, &y)| (d as f64 + 0.5, y.max(LOG_FLOOR))),
            BLUE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("KDE label × n (events per day)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLUE.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

type DrawResult = std::result::Result<(), String>;

/// Draws the series labels of `chart` in a framed, slightly transparent box at `position`.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()
        .map_err(|e| e.to_string())
}

/// Draws one panel: a line through the values with a shaded ±1σ band, broken at gaps.
fn band_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    period: &Period,
    y_desc: &str,
    series: &[(f64, Option<(f64, f64)>)],
    color: RGBColor,
) -> DrawResult {
    let (lo, hi) = series
        .iter()
        .filter_map(|(_, v)| *v)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (v, s)| {
            (lo.min(v - s), hi.max(v + s))
        });
    let (lo, hi) = if lo.is_finite() && hi > lo {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    } else {
        (0.0, 1.0)
    };
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..period.n_days().max(1) as f64, lo..hi)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(10)
        .x_label_formatter(&|x| month_label(period, *x))
        .y_desc(y_desc)
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    for run in contiguous_runs(series) {
        let mut outline: Vec<(f64, f64)> = run.iter().map(|&(x, v, s)| (x, v + s)).collect();
        outline.extend(run.iter().rev().map(|&(x, v, s)| (x, v - s)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                color.mix(0.25).filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                run.iter().map(|&(x, v, _)| (x, v)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Splits a series into runs of consecutive present values (x, value, std).
fn contiguous_runs(series: &[(f64, Option<(f64, f64)>)]) -> Vec<Vec<(f64, f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for &(x, v) in series {
        match v {
            Some((value, std)) => current.push((x, value, std)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn month_label(period: &Period, x: f64) -> String {
    if x < 0.0 {
        return String::new();
    }
    let date = period.date(x as usize);
    format!("{:04}-{:02}", date.year(), date.month())
}

fn register_font() {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        // The bytes are a valid TTF shipped with the crate; a failure here is a packaging bug
        // and shows up as a drawing error naming the missing font.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
        );
    });
}

/// Where the points of a gridded image lie: point `(i, j)` (row `i`, column `j`) is at latitude
/// `lat0 + i·dlat` and longitude `lon0 + j·dlon`, the paper's eq. (3); row 0 is the south.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridAxes {
    /// Latitude of row 0.
    pub lat0: f64,
    /// Row spacing in degrees.
    pub dlat: f64,
    /// Longitude of column 0.
    pub lon0: f64,
    /// Column spacing in degrees.
    pub dlon: f64,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
}

/// The most grid cells one map of a [`displacement_panel`] draws, 500 x 500: each map is
/// about 450 x 330 pixels, so finer cells fall below a pixel and only cost drawing time (and,
/// in an SVG, one rectangle each).
pub const MAX_PANEL_CELLS: usize = 250_000;

/// The most days one [`displacement_panel`] draws; each day is a row of three maps, 330 pixels
/// tall.
pub const MAX_PANEL_DAYS: usize = 31;

/// Checks a [`displacement_panel`]'s size before anything is computed or drawn: at most
/// [`MAX_PANEL_CELLS`] cells per map (naming `grid`) and [`MAX_PANEL_DAYS`] days (naming
/// `days`), with the sizes in the message.
pub fn check_panel_size(rows: usize, cols: usize, n_days: usize) -> Result<()> {
    let cells = rows.saturating_mul(cols);
    if cells > MAX_PANEL_CELLS {
        return Err(Error::config(
            "grid",
            format!(
                "{rows}x{cols} = {cells} cells per map ({} rectangles over 3 maps x {n_days} \
                 day(s)) is more than the {MAX_PANEL_CELLS} (500x500) a map of about 450x330 \
                 pixels can show: use a coarser grid",
                cells.saturating_mul(3).saturating_mul(n_days)
            ),
        ));
    }
    if n_days > MAX_PANEL_DAYS {
        return Err(Error::config(
            "days",
            format!(
                "{n_days} days would make a figure {} pixels tall; draw at most {MAX_PANEL_DAYS} \
                 days per figure",
                panel_height(n_days)
            ),
        ));
    }
    Ok(())
}

/// The panel's height in pixels: a title band, 330 pixels per day, the colour bars.
fn panel_height(n_days: usize) -> u32 {
    let days = u32::try_from(n_days.max(1)).unwrap_or(u32::MAX);
    days.saturating_mul(330).saturating_add(130)
}

/// One day's image for [`displacement_panel`]: `rows × cols × 3` values (N, E, U in mm,
/// channel last, row-major), NaN where there is no value.
#[derive(Debug, Clone, Copy)]
pub struct DayImage<'a> {
    /// The date shown in the panel title.
    pub date: jiff::civil::Date,
    /// The image values.
    pub values: &'a [f32],
}

/// The paper's Fig. 1: a panel of N, E and U displacement images (columns) for chosen days
/// (rows), in a diverging colour map centred on zero with one colour bar in mm per component,
/// longitude/latitude axes, and the date in each title. The stations (`(latitude, longitude)`)
/// are marked as dots, so extrapolated areas far from any station are easy to tell apart.
///
/// Each component's colour scale is symmetric and shared by all its days, so colours compare
/// across days; its half-range is the 99th percentile of |value|, so one station's outlier does
/// not wash out the rest (values beyond it take the end colours).
///
/// Refuses a panel beyond [`check_panel_size`]. Logs a warning naming the days whose image is
/// NaN everywhere (drawn blank), and says so plainly when that is every day.
pub fn displacement_panel(
    path: &Path,
    title: &str,
    axes: &GridAxes,
    days: &[DayImage<'_>],
    stations: &[(f64, f64)],
) -> Result<()> {
    check_panel_size(axes.rows, axes.cols, days.len())?;
    let cells = axes.rows * axes.cols;
    if let Some(bad) = days.iter().find(|d| d.values.len() != cells * 3) {
        return Err(Error::Render {
            path: path.to_path_buf(),
            message: format!(
                "image for {} has {} values, expected {} ({}x{}x3)",
                bad.date,
                bad.values.len(),
                cells * 3,
                axes.rows,
                axes.cols
            ),
        });
    }
    let limits: Vec<f64> = (0..3)
        .map(|c| {
            let mut magnitudes: Vec<f64> = days
                .iter()
                .flat_map(|d| d.values.iter().skip(c).step_by(3))
                .filter(|v| v.is_finite())
                .map(|v| f64::from(v.abs()))
                .collect();
            magnitudes.sort_by(f64::total_cmp);
            let p99 = magnitudes
                .get((magnitudes.len() * 99 / 100).min(magnitudes.len().saturating_sub(1)))
                .copied()
                .unwrap_or(1.0);
            if p99 > 0.0 { p99 } else { 1.0 }
        })
        .collect();
    let blank: Vec<String> = days
        .iter()
        .filter(|d| d.values.iter().all(|v| v.is_nan()))
        .map(|d| d.date.to_string())
        .collect();
    if !days.is_empty() && blank.len() == days.len() {
        tracing::warn!(
            "{}: every displacement value is NaN (no station had a displacement on these days \
             inside the region): the figure draws nothing",
            path.display()
        );
    } else if !blank.is_empty() {
        tracing::warn!(
            "{}: no value on {} (all NaN): drawn blank",
            path.display(),
            blank.join(", ")
        );
    }
    render!(path, (1350, panel_height(days.len())), |root| draw_panel(
        &root, title, axes, days, stations, &limits
    ))
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    axes: &GridAxes,
    days: &[DayImage<'_>],
    stations: &[(f64, f64)],
    limits: &[f64],
) -> DrawResult {
    let root = root.titled(title, (FONT, 24)).map_err(|e| e.to_string())?;
    let (maps, bars) = root.split_vertically(root.dim_in_pixel().1 - 70);
    let rows = maps.split_evenly((days.len().max(1), 3));
    for (r, day) in days.iter().enumerate() {
        for (c, name) in ["N", "E", "U"].iter().enumerate() {
            let caption = format!("{name}, {}", day.date);
            let image = Heatmap {
                values: day.values,
                channel: c,
                limit: limits[c],
            };
            heatmap(&rows[r * 3 + c], &caption, axes, &image, stations)?;
        }
    }
    for (c, area) in bars.split_evenly((1, 3)).iter().enumerate() {
        colour_bar(area, ["N", "E", "U"][c], limits[c])?;
    }
    Ok(())
}

/// One channel of an image and its colour scale.
struct Heatmap<'a> {
    values: &'a [f32],
    channel: usize,
    limit: f64,
}

fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    axes: &GridAxes,
    image: &Heatmap<'_>,
    stations: &[(f64, f64)],
) -> DrawResult {
    let half_lon = axes.dlon / 2.0;
    let half_lat = axes.dlat / 2.0;
    let lon_range = (axes.lon0 - half_lon)..(axes.lon0 + (axes.cols as f64 - 0.5) * axes.dlon);
    let lat_range = (axes.lat0 - half_lat)..(axes.lat0 + (axes.rows as f64 - 0.5) * axes.dlat);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(40)
        .build_cartesian_2d(lon_range, lat_range)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(5)
        .y_labels(5)
        .x_label_formatter(&|x| format!("{x:.0}°E"))
        .y_label_formatter(&|y| format!("{y:.0}°N"))
        .label_style((FONT, 12))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series((0..axes.rows).flat_map(|i| {
            (0..axes.cols).map(move |j| {
                let lat = axes.lat0 + i as f64 * axes.dlat;
                let lon = axes.lon0 + j as f64 * axes.dlon;
                let v = image.values[(i * axes.cols + j) * 3 + image.channel];
                Rectangle::new(
                    [
                        (lon - half_lon, lat - half_lat),
                        (lon + half_lon, lat + half_lat),
                    ],
                    diverging(f64::from(v), image.limit).filled(),
                )
            })
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            stations
                .iter()
                .map(|&(lat, lon)| Circle::new((lon, lat), 2, BLACK.filled())),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    name: &str,
    limit: f64,
) -> DrawResult {
    let mut chart = ChartBuilder::on(area)
        .margin_left(50)
        .margin_right(30)
        .margin_top(5)
        .x_label_area_size(30)
        .build_cartesian_2d(-limit..limit, 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_y_axis()
        .x_labels(5)
        .x_desc(format!("{name} displacement (mm)"))
        .x_label_formatter(&|x| format!("{x:.1}"))
        .label_style((FONT, 12))
        .draw()
        .map_err(|e| e.to_string())?;
    const STEPS: usize = 100;
    let width = 2.0 * limit / STEPS as f64;
    chart
        .draw_series((0..STEPS).map(|k| {
            let x = -limit + k as f64 * width;
            Rectangle::new(
                [(x, 0.0), (x + width, 1.0)],
                diverging(x + width / 2.0, limit).filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A blue–white–red diverging colour for `value` on the symmetric scale `[-limit, limit]`
/// (values beyond take the end colours); light grey for a missing value.
fn diverging(value: f64, limit: f64) -> RGBColor {
    const NEGATIVE: (f64, f64, f64) = (33.0, 102.0, 172.0);
    const ZERO: (f64, f64, f64) = (247.0, 247.0, 247.0);
    const POSITIVE: (f64, f64, f64) = (178.0, 24.0, 43.0);
    if !value.is_finite() {
        return RGBColor(210, 210, 210);
    }
    let x = (value / limit).clamp(-1.0, 1.0);
    let (end, t) = if x < 0.0 {
        (NEGATIVE, -x)
    } else {
        (POSITIVE, x)
    };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(ZERO.0, end.0), mix(ZERO.1, end.1), mix(ZERO.2, end.2))
}

/// One panel of [`predicted_vs_true`]: a set of rows (train or test) with its R².
#[derive(Debug, Clone, Copy)]
pub struct ScatterPanel<'a> {
    /// Panel title, e.g. `train` or `test`.
    pub label: &'a str,
    /// True labels.
    pub truth: &'a [f64],
    /// Predicted labels, one per true label.
    pub predicted: &'a [f64],
    /// The model's R² on these rows (computed by the caller's metrics, shown in the title).
    pub r2: f64,
}

/// Predicted against true labels, one panel per row set (the paper's Figs. 6–11): the points,
/// the least-squares line of predicted on true, and the identity line (dashed) for reference.
pub fn predicted_vs_true(path: &Path, title: &str, panels: &[ScatterPanel<'_>]) -> Result<()> {
    render!(path, (600 * panels.len().max(1) as u32, 620), |root| {
        draw_scatter_panels(&root, title, panels)
    })
}

fn draw_scatter_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panels: &[ScatterPanel<'_>],
) -> DrawResult {
    let root = root.titled(title, (FONT, 22)).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, panel) in areas.iter().zip(panels) {
        let (lo, hi) = panel
            .truth
            .iter()
            .chain(panel.predicted)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let (lo, hi) = padded(lo, hi);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{} (R² = {:.3})", panel.label, panel.r2),
                (FONT, 18),
            )
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("true label")
            .y_desc("predicted label")
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(DashedLineSeries::new(
                [(lo, lo), (hi, hi)],
                6,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                panel
                    .truth
                    .iter()
                    .zip(panel.predicted)
                    .map(|(&t, &p)| Circle::new((t, p), 2, BLUE.mix(0.5).filled())),
            )
            .map_err(|e| e.to_string())?;
        if let Some((slope, intercept)) = least_squares_line(panel.truth, panel.predicted) {
            chart
                .draw_series(LineSeries::new(
                    [(lo, intercept + slope * lo), (hi, intercept + slope * hi)],
                    ORANGE.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// A histogram of residuals (predicted − true) as a density, with the normal density of the
/// same mean and standard deviation drawn over it.
pub fn residual_histogram(path: &Path, title: &str, residuals: &[f64]) -> Result<()> {
    render!(path, (900, 600), |root| draw_histogram(
        &root, title, residuals
    ))
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    residuals: &[f64],
) -> DrawResult {
    let values: Vec<f64> = residuals
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = padded(lo, hi);
    // Sturges' rule for the number of bins.
    let bins = (n.log2().ceil() as usize + 1).max(5);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in &values {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let density = |c: usize| c as f64 / (n * width);
    let normal = |x: f64| {
        if sd > 0.0 {
            (-(x - mean).powi(2) / (2.0 * sd * sd)).exp()
                / (sd * (2.0 * std::f64::consts::PI).sqrt())
        } else {
            0.0
        }
    };
    let y_max = counts
        .iter()
        .map(|&c| density(c))
        .fold(normal(mean), f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(lo..hi, 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("residual (predicted − true)")
        .y_desc("density")
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(counts.iter().enumerate().map(|(k, &c)| {
            let x = lo + k as f64 * width;
            Rectangle::new([(x, 0.0), (x + width, density(c))], BLUE.mix(0.45).filled())
        }))
        .map_err(|e| e.to_string())?
        .label(format!("test residuals (n = {})", values.len()))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], BLUE.mix(0.45).filled()));
    chart
        .draw_series(LineSeries::new(
            (0..=200).map(|k| {
                let x = lo + (hi - lo) * k as f64 / 200.0;
                (x, normal(x))
            }),
            ORANGE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(format!("normal (mean {mean:.3e}, sd {sd:.3e})"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], ORANGE.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Horizontal bars, one per `(name, value)`, the first at the top: a decoder's feature
/// importances.
pub fn importance_bars(path: &Path, title: &str, bars: &[(String, f64)]) -> Result<()> {
    let height = 120 + 28 * bars.len().max(1) as u32;
    render!(path, (900, height), |root| draw_bars(&root, title, bars))
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    bars: &[(String, f64)],
) -> DrawResult {
    let n = bars.len().max(1);
    let top = bars
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(140)
        .build_cartesian_2d(0.0..top, 0.0..n as f64)
        .map_err(|e| e.to_string())?;
    let label = |y: &f64| {
        let k = n as f64 - y - 0.5;
        bars.get(k.round() as usize)
            .filter(|_| (k - k.round()).abs() < 1e-6 && k >= 0.0)
            .map_or(String::new(), |(name, _)| name.clone())
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(2 * n + 1)
        .y_label_formatter(&label)
        .x_desc("mean share of the total gain")
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().enumerate().map(|(k, (_, v))| {
            let y = (n - 1 - k) as f64;
            Rectangle::new([(0.0, y + 0.15), (*v, y + 0.85)], BLUE.mix(0.7).filled())
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Labels and predictions over time, with the test days shaded: what a random split's
/// interleaving of train and test days looks like, next to a chronological split's block.
pub fn labels_over_time(
    path: &Path,
    period: &Period,
    title: &str,
    labels: &[(usize, f64)],
    predictions: &[(usize, f64)],
    test_days: &[usize],
) -> Result<()> {
    render!(path, (1200, 500), |root| draw_over_time(
        &root,
        period,
        title,
        labels,
        predictions,
        test_days
    ))
}

fn draw_over_time<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    period: &Period,
    title: &str,
    labels: &[(usize, f64)],
    predictions: &[(usize, f64)],
    test_days: &[usize],
) -> DrawResult {
    let (lo, hi) = labels
        .iter()
        .chain(predictions)
        .map(|&(_, v)| v)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = padded(lo, hi);
    let mut chart = time_chart(root, period, title, (lo, hi), test_days)?;
    chart
        .draw_series(LineSeries::new(
            labels.iter().map(|&(d, v)| (d as f64 + 0.5, v)),
            BLACK.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label("label")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLACK.stroke_width(1)));
    chart
        .draw_series(
            predictions
                .iter()
                .map(|&(d, v)| Circle::new((d as f64 + 0.5, v), 1, ORANGE.filled())),
        )
        .map_err(|e| e.to_string())?
        .label("prediction")
        .legend(|(x, y)| Circle::new((x + 7, y), 3, ORANGE.filled()));
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// The frame [`labels_over_time`] and [`prediction_intervals`] share: the period's days
/// against the label's range `lo..hi`, with the test days shaded.
fn time_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    period: &Period,
    title: &str,
    (lo, hi): (f64, f64),
    test_days: &[usize],
) -> std::result::Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String>
{
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..period.n_days().max(1) as f64, lo..hi)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(10)
        .x_label_formatter(&|x| month_label(period, *x))
        .y_desc("label")
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| e.to_string())?;
    let mut sorted = test_days.to_vec();
    sorted.sort_unstable();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for d in sorted {
        match spans.last_mut() {
            Some((_, end)) if *end == d => *end = d + 1,
            _ => spans.push((d, d + 1)),
        }
    }
    chart
        .draw_series(spans.iter().map(|&(a, b)| {
            Rectangle::new([(a as f64, lo), (b as f64, hi)], GREY.mix(0.2).filled())
        }))
        .map_err(|e| e.to_string())?
        .label("test days")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], GREY.mix(0.2).filled()));
    Ok(chart)
}

/// One day of [`prediction_intervals`]: the label, the point prediction and the band's ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalPoint {
    /// The feature day.
    pub day: usize,
    /// The label.
    pub truth: f64,
    /// The point prediction.
    pub prediction: f64,
    /// The band's lower end (the lowest quantile asked for).
    pub lower: f64,
    /// The band's upper end (the highest quantile asked for).
    pub upper: f64,
}

/// Labels and predictions over time with each day's predictive band (`band_label`, e.g.
/// `q0.05 to q0.95`) drawn as a vertical bar, the test days shaded as in [`labels_over_time`].
pub fn prediction_intervals(
    path: &Path,
    period: &Period,
    title: &str,
    band_label: &str,
    points: &[IntervalPoint],
    test_days: &[usize],
) -> Result<()> {
    render!(path, (1200, 500), |root| draw_intervals(
        &root, period, title, band_label, points, test_days
    ))
}

fn draw_intervals<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    period: &Period,
    title: &str,
    band_label: &str,
    points: &[IntervalPoint],
    test_days: &[usize],
) -> DrawResult {
    let (lo, hi) = points
        .iter()
        .flat_map(|p| [p.truth, p.prediction, p.lower, p.upper])
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = padded(lo, hi);
    let mut chart = time_chart(root, period, title, (lo, hi), test_days)?;
    let band = BLUE.mix(0.35);
    chart
        .draw_series(points.iter().map(|p| {
            let x = p.day as f64 + 0.5;
            PathElement::new([(x, p.lower), (x, p.upper)], band.stroke_width(1))
        }))
        .map_err(|e| e.to_string())?
        .label(band_label.to_string())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], band.filled()));
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.day as f64 + 0.5, p.truth)),
            BLACK.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label("label")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLACK.stroke_width(1)));
    chart
        .draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.day as f64 + 0.5, p.prediction), 1, ORANGE.filled())),
        )
        .map_err(|e| e.to_string())?
        .label("prediction")
        .legend(|(x, y)| Circle::new((x + 7, y), 3, ORANGE.filled()));
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// A metric against a sweep axis, one line (with markers) per series.
pub fn metric_vs_axis(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    render!(path, (1000, 600), |root| draw_metric_vs_axis(
        &root, title, x_label, y_label, series
    ))
}

fn draw_metric_vs_axis<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> DrawResult {
    let points = || series.iter().flat_map(|(_, p)| p.iter().copied());
    let bounds = |f: fn((f64, f64)) -> f64| {
        points()
            .map(f)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (x0, x1) = bounds(|p| p.0);
    let (y0, y1) = bounds(|p| p.1);
    let (x0, x1) = padded(x0, x1);
    let (y0, y1) = padded(y0, y1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, (name, pts)) in series.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        let mut sorted = pts.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(
                sorted.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], colour.stroke_width(2)));
        chart
            .draw_series(sorted.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| e.to_string())?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// One panel of [`line_panels`]: a title and named lines of `(x, y)` points (a non-finite y
/// breaks its line).
#[derive(Debug, Clone, PartialEq)]
pub struct LinePanel {
    /// The panel's title.
    pub title: String,
    /// Named lines.
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

/// Panels stacked vertically, each with its lines on a logarithmic y axis (values below the
/// smallest positive one drawn at that floor) and a dashed vertical line at x = 0.
pub fn line_panels(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    panels: &[LinePanel],
) -> Result<()> {
    let height = 60 + 320 * panels.len().max(1) as u32;
    render!(path, (1200, height), |root| draw_line_panels(
        &root, title, x_label, y_label, panels
    ))
}

fn draw_line_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    panels: &[LinePanel],
) -> DrawResult {
    let body = root.titled(title, (FONT, 22)).map_err(|e| e.to_string())?;
    let areas = body.split_evenly((panels.len().max(1), 1));
    for (area, panel) in areas.iter().zip(panels) {
        let points = || panel.lines.iter().flat_map(|(_, p)| p.iter().copied());
        let (x0, x1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (x, _)| {
            (lo.min(x), hi.max(x))
        });
        let (x0, x1) = padded(x0, x1);
        let positive = points().map(|p| p.1).filter(|y| y.is_finite() && *y > 0.0);
        let (floor, top) = positive.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        let (floor, top) = if floor.is_finite() && top > floor {
            (floor, top * 1.5)
        } else {
            (LOG_FLOOR, 1.0)
        };
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FONT, 16))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, (floor..top).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, floor), (0.0, top)],
                4,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        for (k, (name, line)) in panel.lines.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            for run in line.split(|p| !p.1.is_finite()).filter(|r| !r.is_empty()) {
                chart
                    .draw_series(LineSeries::new(
                        run.iter().map(|&(x, y)| (x, y.max(floor))),
                        colour.stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(|e| e.to_string())?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 15, y)], colour.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}

/// A confusion matrix as a heatmap: true classes in rows (top to bottom), predicted classes in
/// columns, each cell shaded by its share of its true class (its row) and labelled with its
/// count. `counts` is truth-major, `names.len()²` long.
pub fn confusion_heatmap(
    path: &Path,
    title: &str,
    names: &[String],
    counts: &[usize],
) -> Result<()> {
    let k = names.len();
    if counts.len() != k * k {
        return Err(Error::Numerical(format!(
            "a confusion matrix of {k} classes needs {} counts, got {}",
            k * k,
            counts.len()
        )));
    }
    render!(path, (640, 600), |root| draw_confusion(
        &root, title, names, counts
    ))
}

fn draw_confusion<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    names: &[String],
    counts: &[usize],
) -> DrawResult {
    let k = names.len();
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..k as f64, 0.0..k as f64)
        .map_err(|e| e.to_string())?;
    let label = |v: &f64| {
        let i = v.floor() as usize;
        if (v - v.floor() - 0.5).abs() < 1e-9 && i < k {
            names[i].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("predicted class")
        .y_desc("true class")
        .x_labels(k * 2 + 1)
        .y_labels(k * 2 + 1)
        .x_label_formatter(&label)
        .y_label_formatter(&|v: &f64| label(&(k as f64 - v)))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    for t in 0..k {
        let row_total: usize = counts[t * k..(t + 1) * k].iter().sum();
        for p in 0..k {
            let count = counts[t * k + p];
            let share = if row_total > 0 {
                count as f64 / row_total as f64
            } else {
                0.0
            };
            // White to dark blue with the share of the true class.
            let shade = |c: f64| (255.0 - share * (255.0 - c)).round() as u8;
            let colour = RGBColor(shade(8.0), shade(48.0), shade(107.0));
            // Row 0 at the top.
            let y = (k - 1 - t) as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(p as f64, y), (p as f64 + 1.0, y + 1.0)],
                    colour.filled(),
                )))
                .map_err(|e| e.to_string())?;
            let text_colour = if share > 0.5 { WHITE } else { BLACK };
            chart
                .draw_series(std::iter::once(Text::new(
                    count.to_string(),
                    (p as f64 + 0.42, y + 0.55),
                    (FONT, 16).into_font().color(&text_colour),
                )))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// One epoch of [`training_curves`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochPoint {
    /// The epoch, from 1.
    pub epoch: f64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Validation loss, where there was a validation split.
    pub validation_loss: Option<f64>,
    /// Validation accuracy.
    pub validation_accuracy: Option<f64>,
}

/// Loss (top) and accuracy (bottom) per epoch, training and validation.
pub fn training_curves(path: &Path, title: &str, epochs: &[EpochPoint]) -> Result<()> {
    render!(path, (900, 700), |root| draw_training_curves(
        &root, title, epochs
    ))
}

fn draw_training_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    epochs: &[EpochPoint],
) -> DrawResult {
    let body = root.titled(title, (FONT, 20)).map_err(|e| e.to_string())?;
    let areas = body.split_evenly((2, 1));
    let last = epochs.iter().map(|e| e.epoch).fold(1.0, f64::max);
    type Pick = fn(&EpochPoint) -> Option<f64>;
    let panels: [(&str, Pick, Pick); 2] = [
        ("loss", |e| Some(e.train_loss), |e| e.validation_loss),
        (
            "accuracy",
            |e| Some(e.train_accuracy),
            |e| e.validation_accuracy,
        ),
    ];
    for (area, (name, train, validation)) in areas.iter().zip(panels) {
        let values = epochs
            .iter()
            .flat_map(|e| [train(e), validation(e)])
            .flatten()
            .filter(|v| v.is_finite());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (lo, hi) = padded(lo, hi);
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5..last + 0.5, lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("epoch")
            .y_desc(name)
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        for (label, pick, colour) in [("train", train, BLUE), ("validation", validation, ORANGE)] {
            let points: Vec<(f64, f64)> = epochs
                .iter()
                .filter_map(|e| pick(e).filter(|v| v.is_finite()).map(|v| (e.epoch, v)))
                .collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 15, y)], colour.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    Ok(())
}

/// One panel of [`split_scatter_grid`]: the training and the test points of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitScatterPanel {
    /// The panel's title.
    pub title: String,
    /// The training rows' `(x, y)` points, drawn in blue.
    pub train: Vec<(f64, f64)>,
    /// The test rows' `(x, y)` points, drawn in orange.
    pub test: Vec<(f64, f64)>,
}

/// Scatter panels in a grid of ⌈√n⌉ columns, each with its training points in blue and its
/// test points in orange (the prior tasks of `quakelab pfn prior show`).
pub fn split_scatter_grid(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    panels: &[SplitScatterPanel],
) -> Result<()> {
    let cols = (panels.len().max(1) as f64).sqrt().ceil() as usize;
    let rows = panels.len().max(1).div_ceil(cols);
    let size = (360 * cols as u32, 60 + 300 * rows as u32);
    render!(path, size, |root| draw_split_scatter_grid(
        &root,
        title,
        x_label,
        y_label,
        (rows, cols),
        panels
    ))
}

fn draw_split_scatter_grid<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    grid: (usize, usize),
    panels: &[SplitScatterPanel],
) -> DrawResult {
    let body = root.titled(title, (FONT, 22)).map_err(|e| e.to_string())?;
    let areas = body.split_evenly(grid);
    for (area, panel) in areas.iter().zip(panels) {
        let points = || panel.train.iter().chain(&panel.test).copied();
        let span = |pick: fn((f64, f64)) -> f64| {
            let (lo, hi) = points()
                .map(pick)
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            padded(lo, hi)
        };
        let (x0, x1) = span(|p| p.0);
        let (y0, y1) = span(|p| p.1);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FONT, 15))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((FONT, 11))
            .draw()
            .map_err(|e| e.to_string())?;
        for (label, set, colour) in [("train", &panel.train, BLUE), ("test", &panel.test, ORANGE)] {
            chart
                .draw_series(
                    set.iter()
                        .map(|&p| Circle::new(p, 2, colour.mix(0.7).filled())),
                )
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 7, y), 3, colour.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}

/// Axis limits padded by 5 % of the span; `(0, 1)` when there is nothing finite to show.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 };
    (lo - pad, hi + pad)
}

/// Ordinary least squares of `y` on `x`: `(slope, intercept)`, or `None` when `x` is constant.
fn least_squares_line(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len().min(y.len()) as f64;
    if n < 2.0 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    (sxx > 0.0).then(|| (sxy / sxx, my - sxy / sxx * mx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_map_is_white_at_zero_and_saturates_at_the_limit() {
        assert_eq!(diverging(0.0, 5.0), RGBColor(247, 247, 247));
        assert_eq!(diverging(5.0, 5.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(50.0, 5.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(-5.0, 5.0), RGBColor(33, 102, 172));
        // Half way to the negative end: each channel half way between white and blue.
        assert_eq!(diverging(-2.5, 5.0), RGBColor(140, 175, 210));
        assert_eq!(diverging(f64::NAN, 5.0), RGBColor(210, 210, 210));
    }

    #[test]
    fn least_squares_line_through_exact_points() {
        // y = 2x + 1 exactly.
        let x = [0.0, 1.0, 2.0, 4.0];
        let y = [1.0, 3.0, 5.0, 9.0];
        assert_eq!(least_squares_line(&x, &y), Some((2.0, 1.0)));
        assert_eq!(least_squares_line(&[1.0, 1.0], &[0.0, 2.0]), None);
    }

    #[test]
    fn regression_figures_render_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let truth = [0.1, 0.2, 0.3, 0.4];
        let predicted = [0.12, 0.18, 0.33, 0.39];
        let panel = ScatterPanel {
            label: "test",
            truth: &truth,
            predicted: &predicted,
            r2: 0.9,
        };
        for ext in ["png", "svg"] {
            let path = dir.path().join(format!("scatter.{ext}"));
            predicted_vs_true(&path, "predicted vs true", &[panel]).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            if ext == "png" {
                assert_eq!(&bytes[..4], b"\x89PNG");
            } else {
                assert!(String::from_utf8_lossy(&bytes).contains("<svg"));
            }
        }
        let residuals: Vec<f64> = predicted.iter().zip(&truth).map(|(p, t)| p - t).collect();
        residual_histogram(&dir.path().join("hist.png"), "residuals", &residuals).unwrap();
        let period = Period::parse("2020-01-01", "2020-01-11").unwrap();
        let labels: Vec<(usize, f64)> = (0..10).map(|d| (d, d as f64)).collect();
        labels_over_time(
            &dir.path().join("time.png"),
            &period,
            "labels",
            &labels,
            &labels[5..],
            &[5, 6, 7, 8, 9],
        )
        .unwrap();
    }

    #[test]
    fn runs_break_at_missing_values() {
        let series = [
            (0.0, Some((1.0, 0.1))),
            (1.0, None),
            (2.0, Some((2.0, 0.1))),
            (3.0, Some((3.0, 0.1))),
        ];
        let runs = contiguous_runs(&series);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1], vec![(2.0, 2.0, 0.1), (3.0, 3.0, 0.1)]);
    }
}
