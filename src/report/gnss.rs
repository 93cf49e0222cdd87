//! Fig. 1 from station series: the displacement images of chosen days, gridded and drawn.

use std::path::Path;

use jiff::civil::Date;

use crate::gnss::StationSet;
use crate::gnss::grid::ValidGridSpec;
use crate::gnss::gridding::{MemoryLimit, grid_stations_within};
use crate::period::Period;
use crate::report::figure::{DayImage, GridAxes, check_panel_size, displacement_panel};
use crate::{Error, Result};

/// Fig. 1 for `dates`: grids the span of days they cover (within the memory `limit`), then
/// draws those days' N, E and U images with the stations as dots into `out` (`.png` or `.svg`).
pub fn displacement_days(
    set: &StationSet,
    dates: &[Date],
    grid: &ValidGridSpec,
    limit: MemoryLimit,
    out: &Path,
) -> Result<()> {
    let (Some(first), Some(last)) = (dates.iter().min(), dates.iter().max()) else {
        return Err(Error::config("days", "give at least one day"));
    };
    check_panel_size(grid.rows(), grid.cols(), dates.len())?;
    let end = last
        .tomorrow()
        .map_err(|e| Error::config("days", format!("no day follows {last}: {e}")))?;
    let period = Period::new(*first, end)?;
    let (stack, _) = grid_stations_within(set, &period, grid, true, limit)?;
    let images: Vec<DayImage> = dates
        .iter()
        .filter_map(|&date| {
            period.day_index(date).map(|d| DayImage {
                date,
                values: stack.day(d),
            })
        })
        .collect();
    let axes = GridAxes {
        lat0: grid.latitude(0),
        dlat: grid.dlat(),
        lon0: grid.longitude(0),
        dlon: grid.dlon(),
        rows: grid.rows(),
        cols: grid.cols(),
    };
    let title = format!(
        "GNSS displacement V(t) = r(t+1) - r(t-1), {} stations, sigma = {} grid spacings",
        set.len(),
        grid.spec().sigma_cells
    );
    let positions: Vec<(f64, f64)> = set
        .series()
        .iter()
        .map(|s| (s.station().latitude, s.station().longitude))
        .collect();
    displacement_panel(out, &title, &axes, &images, &positions)?;
    Ok(())
}
