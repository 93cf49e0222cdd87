//! NGL's station-coordinate list (`DataHoldings.txt`): where each station is and which days it
//! has data for.
//!
//! The file is whitespace-separated with a header line:
//!
//! ```text
//! Sta  Lat(deg)   Long(deg) Hgt(m)  X(m)           Y(m)         Z(m)          Dtbeg      Dtend      Dtmod      NumSol StaOrigName
//! AIRA  31.8241   130.5996  314.650 -3530185.5351  4118797.3206  3344036.9220 1998-03-01 2024-09-28 2024-10-07   9395
//! G000  33.8770   135.9283  114.553 -3808588.1066  3687132.2117  3535191.6055 2009-01-02 2024-09-28 2024-10-07   5616 1000
//! ```
//!
//! The last column, the name the station had at its source, is often missing and may contain
//! spaces: everything after `NumSol` is that name. Longitudes may be written in 0–360; they are
//! normalised to `[-180, 180)`. Bytes that are not UTF-8 become U+FFFD rather than an error, as
//! a free-text name may hold them. A bad line is an [`Error::Parse`] naming the file, the 1-based
//! line (the header is line 1) and the column; a station code listed twice is one too, since a
//! lookup by name would then be ambiguous.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::geo::normalize_longitude;
use crate::gnss::Station;
use crate::{Error, Result};

/// One station of a station list.
#[derive(Debug, Clone, PartialEq)]
pub struct StationEntry {
    /// The station: NGL's four-character code and its position (longitude in `[-180, 180)`).
    pub station: Station,
    /// The first day with a solution (`Dtbeg`).
    pub data_begin: Date,
    /// The last day with a solution (`Dtend`).
    pub data_end: Date,
    /// When NGL last modified the station's series (`Dtmod`), where the list says.
    pub modified: Option<Date>,
    /// The number of daily solutions (`NumSol`).
    pub solutions: u32,
    /// The station's name at its source (`StaOrigName`, e.g. GEONET's `0188`), where given.
    pub original_name: Option<String>,
}

impl StationEntry {
    /// Whether the station has data from `begin` to `end`, both included, by its first and last
    /// days (it may still have gaps inside).
    pub fn spans(&self, begin: Date, end: Date) -> bool {
        self.data_begin <= begin && self.data_end >= end
    }
}

/// The entry for station `name` in `entries`, if listed.
pub fn find_station<'a>(entries: &'a [StationEntry], name: &str) -> Option<&'a StationEntry> {
    entries.iter().find(|e| e.station.name == name)
}

/// What [`read_station_list`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationListReport {
    /// The file read.
    pub path: PathBuf,
    /// Stations read (one per data line).
    pub stations: usize,
    /// Stations without an original name.
    pub unnamed: usize,
    /// Stations whose longitude was written outside `[-180, 180)` and was wrapped.
    pub wrapped_longitudes: usize,
    /// Blank lines passed over.
    pub blank_lines: usize,
}

impl fmt::Display for StationListReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} stations ({} without an original name, {} longitudes wrapped into [-180, 180))",
            self.path.display(),
            self.stations,
            self.unnamed,
            self.wrapped_longitudes
        )?;
        if self.blank_lines > 0 {
            write!(f, ", {} blank lines", self.blank_lines)?;
        }
        Ok(())
    }
}

/// The column names, as NGL's header spells them, used in error messages.
const COLUMNS: [&str; 12] = [
    "Sta",
    "Lat(deg)",
    "Long(deg)",
    "Hgt(m)",
    "X(m)",
    "Y(m)",
    "Z(m)",
    "Dtbeg",
    "Dtend",
    "Dtmod",
    "NumSol",
    "StaOrigName",
];

/// The columns before the free-text original name.
const FIXED_COLUMNS: usize = 11;

/// Reads an NGL station list (`DataHoldings.txt` layout), in file order.
///
/// The header line is recognised by its first word, `Sta`, and may be absent.
pub fn read_station_list(path: &Path) -> Result<(Vec<StationEntry>, StationListReport)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut report = StationListReport {
        path: path.to_path_buf(),
        ..StationListReport::default()
    };
    let mut entries = Vec::new();
    let mut lines_of: HashMap<String, u64> = HashMap::new();
    let mut reader = BufReader::new(file);
    let mut bytes = Vec::new();
    let mut line_number = 0u64;
    loop {
        bytes.clear();
        if reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| Error::io(path, e))?
            == 0
        {
            break;
        }
        line_number += 1;
        // Source names are free text that is not always UTF-8; the columns that matter are
        // ASCII, so a stray byte only blurs a name.
        let text = String::from_utf8_lossy(&bytes);
        let (fields, rest) = split_fixed(&text);
        if fields.is_empty() {
            report.blank_lines += 1;
            continue;
        }
        if line_number == 1 && fields[0] == COLUMNS[0] {
            continue;
        }
        let bad = |column: usize, message: String| {
            Error::parse(path, line_number, COLUMNS[column], message)
        };
        if fields.len() < FIXED_COLUMNS {
            return Err(bad(
                fields.len(),
                format!(
                    "the line has {} fields and ends before this column",
                    fields.len()
                ),
            ));
        }
        let number = |i: usize| -> Result<f64> {
            match fields[i].parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(bad(i, format!("`{}` is not a finite number", fields[i]))),
            }
        };
        let day = |i: usize| -> Result<Date> {
            fields[i]
                .parse::<Date>()
                .map_err(|e| bad(i, format!("`{}` is not a date YYYY-MM-DD: {e}", fields[i])))
        };
        let name = fields[0].to_string();
        let latitude = number(1)?;
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(bad(1, format!("latitude {latitude} is outside [-90, 90]")));
        }
        let raw_longitude = number(2)?;
        let longitude = normalize_longitude(raw_longitude);
        if longitude != raw_longitude {
            report.wrapped_longitudes += 1;
        }
        let height_m = number(3)?;
        for i in 4..7 {
            number(i)?;
        }
        let data_begin = day(7)?;
        let data_end = day(8)?;
        if data_end < data_begin {
            return Err(bad(
                8,
                format!("last day {data_end} is before the first, {data_begin}"),
            ));
        }
        let modified = Some(day(9)?);
        let solutions = fields[10]
            .parse::<u32>()
            .map_err(|_| bad(10, format!("`{}` is not a count", fields[10])))?;
        let original_name = (!rest.is_empty()).then(|| rest.to_string());
        if original_name.is_none() {
            report.unnamed += 1;
        }
        if let Some(earlier) = lines_of.get(&name) {
            return Err(bad(
                0,
                format!("station {name} is already listed on line {earlier}"),
            ));
        }
        lines_of.insert(name.clone(), line_number);
        entries.push(StationEntry {
            station: Station {
                name,
                latitude,
                longitude,
                height_m,
            },
            data_begin,
            data_end,
            modified,
            solutions,
            original_name,
        });
    }
    report.stations = entries.len();
    Ok((entries, report))
}

/// The first [`FIXED_COLUMNS`] whitespace-separated words of `line`, and the trimmed rest of
/// the line after them (the free-text original name, which may hold spaces).
fn split_fixed(line: &str) -> (Vec<&str>, &str) {
    let mut fields = Vec::with_capacity(FIXED_COLUMNS);
    let mut rest = line.trim_start();
    while fields.len() < FIXED_COLUMNS && !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    (fields, rest.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Sta  Lat(deg)   Long(deg) Hgt(m)  X(m)           Y(m)         Z(m)          Dtbeg      Dtend      Dtmod      NumSol StaOrigName";

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn read(text: &str) -> Result<(Vec<StationEntry>, StationListReport)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("DataHoldings.txt");
        std::fs::write(&path, text).unwrap();
        read_station_list(&path)
    }

    #[test]
    fn names_may_be_missing_or_hold_spaces_and_longitudes_wrap() {
        // AIRA has no original name; G000's is 1000; WRAP is written at 235.5E, which is
        // 235.5 - 360 = -124.5, and has a name with spaces and trailing blanks.
        let text = format!(
            "{HEADER}\n\
             AIRA  31.8241   130.5996  314.650 -3530185.5351  4118797.3206  3344036.9220 1998-03-01 2024-09-28 2024-10-07   9395\n\
             G000  33.8770   135.9283  114.553 -3808588.1066  3687132.2117  3535191.6055 2009-01-02 2024-09-28 2024-10-07   5616 1000\n\
             \n\
             WRAP  35.0000   235.5000   10.000 1.0 2.0 3.0 2010-01-01 2011-01-01 2011-02-01     300 Some  Place Name  \n"
        );
        let (entries, report) = read(&text).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.station.name.as_str()).collect();
        assert_eq!(names, ["AIRA", "G000", "WRAP"]);
        assert_eq!(entries[0].original_name, None);
        assert_eq!(entries[1].original_name.as_deref(), Some("1000"));
        assert_eq!(
            entries[2].original_name.as_deref(),
            Some("Some  Place Name")
        );
        assert_eq!(entries[2].station.longitude, -124.5);
        assert_eq!(entries[1].station.longitude, 135.9283);
        assert_eq!(entries[1].station.latitude, 33.8770);
        assert_eq!(entries[1].station.height_m, 114.553);
        assert_eq!(entries[0].data_begin, day("1998-03-01"));
        assert_eq!(entries[0].data_end, day("2024-09-28"));
        assert_eq!(entries[0].modified, Some(day("2024-10-07")));
        assert_eq!(entries[0].solutions, 9395);
        assert_eq!(
            (
                report.stations,
                report.unnamed,
                report.wrapped_longitudes,
                report.blank_lines
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(
            find_station(&entries, "G000").map(|e| e.solutions),
            Some(5616)
        );
        assert!(find_station(&entries, "G001").is_none());
        // AIRA runs 1998-03-01 to 2024-09-28; G000 starts on 2009-01-02.
        let spanning: Vec<&str> = entries
            .iter()
            .filter(|e| e.spans(day("2009-01-01"), day("2024-01-01")))
            .map(|e| e.station.name.as_str())
            .collect();
        assert_eq!(spanning, ["AIRA"]);
    }

    #[test]
    fn a_name_that_is_not_utf8_is_kept_with_a_replacement_character() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("DataHoldings.txt");
        let mut text =
            b"AIRA  31.8241 130.5996 314.650 1.0 2.0 3.0 1998-03-01 2024-09-28 2024-10-07 9395 Caf"
                .to_vec();
        text.extend_from_slice(b"\xe9 site\n");
        std::fs::write(&path, text).unwrap();
        let (entries, _) = read_station_list(&path).unwrap();
        assert_eq!(
            entries[0].original_name.as_deref(),
            Some("Caf\u{FFFD} site")
        );
    }

    #[test]
    fn bad_lines_name_line_and_column() {
        let good = "AIRA  31.8241   130.5996  314.650 -3530185.5351  4118797.3206  3344036.9220 1998-03-01 2024-09-28 2024-10-07   9395";
        let cases = [
            (good.replace("1998-03-01", "1998-13-01"), "Dtbeg"),
            (good.replace("31.8241", "91.8241"), "Lat(deg)"),
            (good.replace("130.5996", "east"), "Long(deg)"),
            (good.replace("9395", "-1"), "NumSol"),
            (good.replace("2024-09-28", "1990-01-01"), "Dtend"),
            ("AIRA 31.8 130.6".to_string(), "Hgt(m)"),
            // The same code twice makes lookups ambiguous.
            (good.to_string(), "Sta"),
        ];
        for (bad, column) in cases {
            // Line 1 header, line 2 good, line 3 bad.
            let err = read(&format!("{HEADER}\n{good}\n{bad}\n")).unwrap_err();
            assert!(
                matches!(&err, Error::Parse { line: 3, field, .. } if field == column),
                "{bad}: {err}"
            );
        }
        // Without a header the first line is data.
        let (entries, _) = read(&format!("{good}\n")).unwrap();
        assert_eq!(entries.len(), 1);
    }
}
