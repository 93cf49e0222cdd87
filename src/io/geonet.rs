//! Daily GEONET displacement tables: one CSV per station with east, north and up in
//! millimetres relative to the station's first day, plus a `stations.csv` of positions.
//!
//! This is the layout of the 18-station dataset (helmsman-sun, *GNSS (NEU) displacement time
//! series for 18 stations (2009–2018)*, CC BY 4.0):
//!
//! ```text
//! time,lon,lat,ver,group,year,day_fraction,days,month,day
//! 2009-01-02,0.0,0.0,0.0,J188,2009,0.0054794520547945,2,1,2
//! ```
//!
//! and its station file:
//!
//! ```text
//! site,lat_deg,lon_deg,height_m,ngl_dtbeg,ngl_dtend,ngl_numsol,geonet_orig_id
//! J188,39.6583,140.2342,74.700,2009-01-01,2024-09-28,5722,0188
//! ```
//!
//! The displacement columns are misnamed: `lat` holds **east**, `lon` holds **north** and `ver`
//! holds up. Across the 2011-03-11 Tohoku earthquake, J188 (Akita, 39.66°N 140.23°E) shows
//! `lat` +841 mm and `lon` −490 mm from 2011-03-10 to 2011-03-12, and all of north-east Japan
//! moved east (towards the trench) and, at Akita, south. [`GeonetMapping::default`] is
//! therefore `east = "lat"`, `north = "lon"`, `up = "ver"`; the integration tests check it
//! against those offsets. Another dataset in this layout can name its own columns.
//!
//! The station of each row is its `group` column, which must be the same on every row of a file;
//! its position comes from `stations.csv`. Every row must have a date and three finite values:
//! a blank value is an [`Error::Parse`] naming the file, the 1-based line (the header is line 1)
//! and the column, never a zero. (Upstream already filled gaps by linear interpolation.)

use std::collections::HashMap;
use std::path::Path;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::geo::normalize_longitude;
use crate::gnss::{Station, StationSeries, StationSet};
use crate::{Error, Result};

/// The name of the station file in a GEONET displacement directory.
pub const STATIONS_FILE: &str = "stations.csv";

/// Which displacement column holds which component.
///
/// As TOML:
///
/// ```toml
/// east = "lat"
/// north = "lon"
/// up = "ver"
/// ```
///
/// Keys left out take their default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeonetMapping {
    /// The column of the east displacement, in mm.
    pub east: String,
    /// The column of the north displacement, in mm.
    pub north: String,
    /// The column of the up displacement, in mm.
    pub up: String,
}

impl Default for GeonetMapping {
    /// The mapping of the 18-station dataset, whose column names are swapped: east is `lat`,
    /// north is `lon`, up is `ver` (see the module documentation for the evidence).
    fn default() -> Self {
        GeonetMapping {
            east: "lat".into(),
            north: "lon".into(),
            up: "ver".into(),
        }
    }
}

/// Reads a `stations.csv` (`site,lat_deg,lon_deg,height_m,...`) into stations, in file order.
///
/// Other columns (NGL's data span, GEONET's own id) are ignored. Longitudes are normalised to
/// `[-180, 180)`. A station listed twice is an error.
pub fn read_geonet_stations(path: &Path) -> Result<Vec<Station>> {
    let mut reader = open_csv(path)?;
    let header = header(path, &mut reader)?;
    let site = column(path, &header, "site")?;
    let lat = column(path, &header, "lat_deg")?;
    let lon = column(path, &header, "lon_deg")?;
    let height = column(path, &header, "height_m")?;
    let mut stations: Vec<Station> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = line_of(&record);
        check_shape(path, line, &record, &header)?;
        let name = text(path, line, &record, site, &header[site])?.to_string();
        if stations.iter().any(|s| s.name == name) {
            return Err(Error::parse(
                path,
                line,
                &header[site],
                format!("station {name} is listed twice"),
            ));
        }
        let latitude = number(path, line, &record, lat, &header[lat])?;
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(Error::parse(
                path,
                line,
                &header[lat],
                format!("latitude {latitude} is outside [-90, 90]"),
            ));
        }
        stations.push(Station {
            name,
            latitude,
            longitude: normalize_longitude(number(path, line, &record, lon, &header[lon])?),
            height_m: number(path, line, &record, height, &header[height])?,
        });
    }
    Ok(stations)
}

/// Reads one station's displacement CSV, taking its position from `stations`.
///
/// The values are converted from millimetres to metres. A mapping that gives two components
/// the same column is an [`Error::Config`].
pub fn read_geonet_series(
    path: &Path,
    stations: &[Station],
    mapping: &GeonetMapping,
) -> Result<StationSeries> {
    let mut reader = open_csv(path)?;
    let header = header(path, &mut reader)?;
    let time = column(path, &header, "time")?;
    let group = column(path, &header, "group")?;
    let components = [
        column(path, &header, &mapping.east)?,
        column(path, &header, &mapping.north)?,
        column(path, &header, &mapping.up)?,
    ];
    if components[0] == components[1]
        || components[0] == components[2]
        || components[1] == components[2]
    {
        return Err(Error::config(
            "east/north/up",
            format!("the three components must be three different columns, got {mapping:?}"),
        ));
    }
    let mut station: Option<&Station> = None;
    let mut samples: Vec<(Date, [f64; 3])> = Vec::new();
    let mut first_line_of = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = line_of(&record);
        check_shape(path, line, &record, &header)?;
        let name = text(path, line, &record, group, &header[group])?;
        match station {
            Some(s) if s.name != name => {
                return Err(Error::parse(
                    path,
                    line,
                    &header[group],
                    format!(
                        "station {name} in a file of station {} (one file holds one station)",
                        s.name
                    ),
                ));
            }
            Some(_) => {}
            None => {
                station = Some(stations.iter().find(|s| s.name == name).ok_or_else(|| {
                    Error::parse(
                        path,
                        line,
                        &header[group],
                        format!("station {name} is not in the station file"),
                    )
                })?);
            }
        }
        let date_text = text(path, line, &record, time, &header[time])?;
        let date: Date = date_text.parse().map_err(|e| {
            Error::parse(
                path,
                line,
                &header[time],
                format!("`{date_text}` is not a date YYYY-MM-DD: {e}"),
            )
        })?;
        if let Some(earlier) = first_line_of.insert(date, line) {
            return Err(Error::parse(
                path,
                line,
                &header[time],
                format!("{date} was already given on line {earlier}"),
            ));
        }
        let mut enu_m = [0.0; 3];
        for (value, &i) in enu_m.iter_mut().zip(&components) {
            *value = number(path, line, &record, i, &header[i])? / 1000.0;
        }
        samples.push((date, enu_m));
    }
    let station = station
        .ok_or_else(|| Error::parse(path, 1, "group", "no data rows, so no station to read"))?;
    StationSeries::new(station.clone(), samples)
}

/// Reads a directory of GEONET displacement CSVs into one station set.
///
/// Positions come from the directory's [`STATIONS_FILE`]; every other `*.csv` in it (not its
/// subdirectories) is read as one station's series with `mapping`. Fails if no series file is
/// there or two files hold the same station.
pub fn read_geonet_dir(dir: &Path, mapping: &GeonetMapping) -> Result<StationSet> {
    let stations = read_geonet_stations(&dir.join(STATIONS_FILE))?;
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let is_series = path.extension().is_some_and(|ext| ext == "csv")
            && path.file_name().is_some_and(|name| name != STATIONS_FILE)
            && path.is_file();
        if is_series {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(Error::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no displacement *.csv file beside stations.csv",
            ),
        ));
    }
    paths.sort();
    let series = paths
        .iter()
        .map(|path| read_geonet_series(path, &stations, mapping))
        .collect::<Result<Vec<_>>>()?;
    StationSet::new(series)
}

fn open_csv(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        // Short rows are reported by the column they lack, not as a CSV error.
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, e))
}

/// The header's trimmed column names.
fn header(path: &Path, reader: &mut csv::Reader<std::fs::File>) -> Result<Vec<String>> {
    Ok(reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect())
}

/// The position of column `name` in the header (case-insensitive).
fn column(path: &Path, header: &[String], name: &str) -> Result<usize> {
    header
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            Error::parse(
                path,
                1,
                "header",
                format!("no column `{name}`; the header is [{}]", header.join(", ")),
            )
        })
}

/// The 1-based line a record starts on.
fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}

/// Fails unless `record` has one field per header column.
fn check_shape(
    path: &Path,
    line: u64,
    record: &csv::StringRecord,
    header: &[String],
) -> Result<()> {
    match record.len().cmp(&header.len()) {
        std::cmp::Ordering::Less => Err(Error::parse(
            path,
            line,
            &header[record.len()],
            format!(
                "the row has {} fields and ends before this column",
                record.len()
            ),
        )),
        std::cmp::Ordering::Greater => Err(Error::parse(
            path,
            line,
            "row",
            format!(
                "the row has {} fields, more than the header's {}",
                record.len(),
                header.len()
            ),
        )),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// The trimmed, non-blank text of field `i` of a record that [`check_shape`] passed.
fn text<'r>(
    path: &Path,
    line: u64,
    record: &'r csv::StringRecord,
    i: usize,
    name: &str,
) -> Result<&'r str> {
    match record.get(i).map(str::trim) {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(Error::parse(
            path,
            line,
            name,
            "blank value (a missing value is never read as zero)",
        )),
    }
}

/// Field `i` as a finite number.
fn number(path: &Path, line: u64, record: &csv::StringRecord, i: usize, name: &str) -> Result<f64> {
    let text = text(path, line, record, i, name)?;
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(Error::parse(
            path,
            line,
            name,
            format!("`{text}` is not a finite number"),
        )),
    }
}

/// A CSV error as an I/O error, or as a parse error at its line when it is about the text.
fn csv_error(path: &Path, error: csv::Error) -> Error {
    let line = error.position().map_or(1, csv::Position::line);
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        _ => Error::parse(path, line, "row", message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATIONS: &str = "site,lat_deg,lon_deg,height_m,ngl_dtbeg,ngl_dtend,ngl_numsol,geonet_orig_id\n\
                            AAAA,39.6583,140.2342,74.700,2009-01-01,2024-09-28,5722,0188\n\
                            BBBB,33.0,200.0,10.0,2009-01-01,2024-09-28,5722,\n";

    const HEADER: &str = "time,lon,lat,ver,group,year,day_fraction,days,month,day";

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn columns_map_to_components_in_metres() {
        let a = format!(
            "{HEADER}\n2011-03-10,-19.89,17.48,8.81,AAAA,2011,0.18,69,3,10\n\
             2011-03-12,-510.11,858.34,45.42,AAAA,2011,0.19,71,3,12\n"
        );
        let b = format!("{HEADER}\n2011-03-10,1.0,2.0,3.0,BBBB,2011,0.18,69,3,10\n");
        let dir = dir_with(&[
            ("stations.csv", STATIONS),
            ("AAAAneu.csv", &a),
            ("BBBBneu.csv", &b),
        ]);
        let set = read_geonet_dir(dir.path(), &GeonetMapping::default()).unwrap();
        assert_eq!(set.len(), 2);
        let aaaa = &set.series()[0];
        assert_eq!(aaaa.station().name, "AAAA");
        assert_eq!(aaaa.station().latitude, 39.6583);
        assert_eq!(aaaa.dates(), [day("2011-03-10"), day("2011-03-12")]);
        // Default: east is `lat`, north is `lon`, up is `ver`; mm become m.
        let close = |a: [f64; 3], b: [f64; 3]| (0..3).all(|k| (a[k] - b[k]).abs() < 1e-12);
        assert!(close(aaaa.positions()[0], [0.01748, -0.01989, 0.00881]));
        assert!(close(aaaa.positions()[1], [0.85834, -0.51011, 0.04542]));
        // BBBB is written at 200E, which is -160.
        assert_eq!(set.series()[1].station().longitude, -160.0);

        let literal: GeonetMapping = toml::from_str("east = \"lon\"\nnorth = \"lat\"").unwrap();
        assert_eq!(literal.up, "ver");
        let set = read_geonet_dir(dir.path(), &literal).unwrap();
        assert!(close(
            set.series()[0].positions()[0],
            [-0.01989, 0.01748, 0.00881]
        ));
        let typo = toml::from_str::<GeonetMapping>("est = \"lat\"")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("est"), "{typo}");
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let good = "2011-03-10,-19.89,17.48,8.81,AAAA,2011,0.18,69,3,10";
        let cases = [
            ("2011-03-11,-19.89,,8.81,AAAA,2011,0.18,69,3,10", "lat"),
            ("2011-03-11,-19.89,abc,8.81,AAAA,2011,0.18,69,3,10", "lat"),
            ("2011-02-30,-19.89,1,8.81,AAAA,2011,0.18,69,3,10", "time"),
            ("2011-03-11,-19.89,1,8.81,BBBB,2011,0.18,69,3,10", "group"),
            ("2011-03-11,-19.89,1", "ver"),
            (good, "time"),
        ];
        for (bad, column) in cases {
            let text = format!("{HEADER}\n{good}\n{bad}\n");
            let dir = dir_with(&[("stations.csv", STATIONS), ("AAAAneu.csv", &text)]);
            let err = read_geonet_dir(dir.path(), &GeonetMapping::default()).unwrap_err();
            assert!(
                matches!(&err, Error::Parse { line: 3, field, .. } if field == column),
                "{bad}: {err}"
            );
        }
        let unknown = format!("{HEADER}\n2011-03-10,1,2,3,CCCC,2011,0.18,69,3,10\n");
        let dir = dir_with(&[("stations.csv", STATIONS), ("CCCCneu.csv", &unknown)]);
        let err = read_geonet_dir(dir.path(), &GeonetMapping::default()).unwrap_err();
        assert!(
            err.to_string().contains("CCCC is not in the station file"),
            "{err}"
        );
        let mapping = GeonetMapping {
            east: "east".into(),
            ..GeonetMapping::default()
        };
        let text = format!("{HEADER}\n{good}\n");
        let dir = dir_with(&[("stations.csv", STATIONS), ("AAAAneu.csv", &text)]);
        let err = read_geonet_dir(dir.path(), &mapping).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { line: 1, .. })
                && err.to_string().contains("no column `east`"),
            "{err}"
        );
        let twice = GeonetMapping {
            north: "LAT".into(),
            ..GeonetMapping::default()
        };
        let err = read_geonet_dir(dir.path(), &twice).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err}");
    }

    #[test]
    fn a_station_listed_twice_is_refused() {
        let text = format!("{STATIONS}AAAA,1,2,3,2009-01-01,2024-09-28,1,\n");
        let dir = dir_with(&[("stations.csv", &text)]);
        let err = read_geonet_stations(&dir.path().join("stations.csv")).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { line: 4, field, .. } if field == "site"),
            "{err}"
        );
    }
}
