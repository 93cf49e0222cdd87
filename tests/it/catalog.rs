//! Catalog reading end to end: hand-made fixtures, then the real public catalogs in place.
//!
//! The real-data tests read `../shared/data` (or `QUAKELAB_REAL_DATA`); `build.rs` has them listed
//! as ignored, with the reason, when it is absent. Their expected numbers come from the data README and were recounted with an
//! independent script (Python's csv module), not from this reader's output.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use quakelab::Error;
use quakelab::catalog::{CatalogFilter, Region};
use quakelab::io::catalog::{
    CatalogFormat, ColumnMapping, ReadOptions, RowProblem, SkipReason, UtcOffset, read_catalog,
    write_comcat,
};
use quakelab::period::Period;

use crate::support;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalog")
        .join(name)
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The real catalog `name` (see [`support::real_data`]).
fn real_catalog(name: &str) -> PathBuf {
    support::real_data(&format!("catalogs/{name}"))
}

fn lenient() -> ReadOptions {
    ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    }
}

#[test]
fn comcat_fixture_with_duplicates_and_a_region_filter() {
    let path = fixture("comcat_sample.csv");
    assert_eq!(CatalogFormat::detect(&path).unwrap(), CatalogFormat::Comcat);
    // Five rows: Kumamoto 2016, Tohoku twice, Iburi 2018, Maule 2010 (Chile).
    let (cat, report) =
        read_catalog(&path, &CatalogFormat::Comcat, &ReadOptions::default()).unwrap();
    assert_eq!((report.rows, report.kept), (5, 5));
    assert_eq!(
        (
            report.duplicate_groups,
            report.duplicate_copies,
            report.duplicates_dropped
        ),
        (1, 1, 0)
    );
    // Time order: Maule (2010) first, then the two Tohoku copies.
    assert_eq!(cat.events()[0].magnitude, 8.8);
    assert_eq!(cat.events()[0].longitude, -72.898);
    assert_eq!(cat.events()[1].time, ts("2011-03-11T05:46:24.120Z"));

    let options = ReadOptions {
        filter: CatalogFilter {
            region: Some(Region::JAPAN),
            ..CatalogFilter::default()
        },
        drop_duplicates: true,
        ..ReadOptions::default()
    };
    let (cat, report) = read_catalog(&path, &CatalogFormat::Comcat, &options).unwrap();
    assert_eq!(
        (report.kept, report.filtered_out, report.duplicates_dropped),
        (3, 1, 1)
    );
    let magnitudes: Vec<f64> = cat.events().iter().map(|e| e.magnitude).collect();
    assert_eq!(magnitudes, vec![9.1, 7.0, 6.6]);
    assert_eq!(cat.events()[2].depth_km, Some(35.0));
}

#[test]
fn messy_generic_fixture_strict_then_lenient() {
    let path = fixture("generic_messy.csv");
    let format = CatalogFormat::detect(&path).unwrap();
    let CatalogFormat::Generic(mapping) = &format else {
        panic!("expected a generic layout, got {format:?}");
    };
    assert_eq!(mapping.time, "origin_time");
    assert_eq!(mapping.depth.as_deref(), Some("depth_km"));

    // Strict: the first bad row is line 4 (header = line 1), a blank `mag`.
    let err = read_catalog(&path, &format, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 4, field, .. } if field == "mag"),
        "{err}"
    );
    assert!(
        err.to_string().contains("generic_messy.csv:4: field `mag`"),
        "{err}"
    );

    // Lenient: lines 2, 3 and 8 are good; 4 and 7 have blank magnitudes, 5 a latitude of 91,
    // 6 no time.
    let (cat, report) = read_catalog(&path, &format, &lenient()).unwrap();
    assert_eq!(
        (report.rows, report.kept, report.skipped_total()),
        (7, 3, 4)
    );
    let count = |field: &str, problem| {
        let reason = SkipReason {
            field: field.to_string(),
            problem,
        };
        report
            .skipped
            .get(&reason)
            .map(|s| (s.count, s.first_lines.clone()))
    };
    assert_eq!(count("mag", RowProblem::Blank), Some((2, vec![4, 7])));
    assert_eq!(count("lat", RowProblem::OutOfRange), Some((1, vec![5])));
    assert_eq!(
        count("origin_time", RowProblem::Malformed),
        Some((1, vec![6]))
    );

    let e = cat.events();
    assert_eq!(e[1].time, ts("2020-01-02T12:30:00.5Z"));
    // 220°E is 140°W; the blank depth is unknown.
    assert_eq!((e[1].longitude, e[1].depth_km), (-140.0, None));
    // 09:00 at +09:00 is midnight UTC.
    assert_eq!(
        (e[2].time, e[2].magnitude),
        (ts("2020-01-07T00:00:00Z"), 5.1)
    );
}

#[test]
fn comcat_written_then_read_is_unchanged() {
    let (cat, _) = read_catalog(
        &fixture("comcat_sample.csv"),
        &CatalogFormat::Comcat,
        &ReadOptions::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("catalog.csv");
    write_comcat(&out, &cat).unwrap();
    let (back, _) = read_catalog(&out, &CatalogFormat::Comcat, &ReadOptions::default()).unwrap();
    assert_eq!(back, cat);
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn real_japan_comcat_matches_the_data_readme() {
    let path = real_catalog("japan_comcat_1990-2019.csv");
    // Columns id,time,longitude,latitude,magnitude,x,y: a generic layout read with no mapping.
    let format = CatalogFormat::detect(&path).unwrap();
    assert!(matches!(&format, CatalogFormat::Generic(m) if m.time == "time" && m.depth.is_none()));
    let (all, report) = read_catalog(&path, &format, &ReadOptions::default()).unwrap();
    assert_eq!(
        (report.rows, all.len(), report.skipped_total()),
        (37_581, 37_581, 0)
    );
    assert_eq!(report.duplicate_groups, 0);

    // The README's 16,494 events with M >= 3 in 2009-2019 inside the paper's box.
    let options = ReadOptions {
        filter: CatalogFilter {
            region: Some(Region::JAPAN),
            period: Some(Period::parse("2009-01-01", "2020-01-01").unwrap()),
            min_magnitude: Some(3.0),
        },
        ..ReadOptions::default()
    };
    let (selected, report) = read_catalog(&path, &format, &options).unwrap();
    assert_eq!(selected.len(), 16_494);
    assert_eq!(report.filtered_out, 37_581 - 16_494);

    // The Tohoku mainshock, USGS: 2011-03-11 05:46:24.120 UTC, 38.297N 142.373E, M9.1.
    let tohoku = ts("2011-03-11T05:46:24.120Z");
    let found = selected.events().iter().find(|e| e.time == tohoku).unwrap();
    assert_eq!(
        (found.latitude, found.longitude, found.magnitude),
        (38.297, 142.373, 9.1)
    );
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn real_cenc_sichuan_beijing_time_becomes_utc() {
    let path = real_catalog("cenc_sichuan_box_2012-2024.csv");
    let mapping = ColumnMapping {
        time: "time_bjt".into(),
        latitude: "latitude".into(),
        longitude: "longitude".into(),
        depth: Some("depth_km".into()),
        magnitude: "magnitude".into(),
        time_format: None,
        utc_offset: Some("+08:00".parse::<UtcOffset>().unwrap()),
    };
    let format = CatalogFormat::Generic(mapping.clone());
    let (cat, report) = read_catalog(&path, &format, &ReadOptions::default()).unwrap();
    assert_eq!((report.rows, cat.len()), (625, 625));
    // Luding M6.8: 2022-09-05 12:52:18 Beijing time is 04:52:18 UTC.
    let luding = cat
        .events()
        .iter()
        .find(|e| e.magnitude == 6.8 && e.time == ts("2022-09-05T04:52:18Z"))
        .unwrap();
    assert_eq!(
        (luding.latitude, luding.longitude, luding.depth_km),
        (29.59, 102.08, Some(16.0))
    );

    // The column name says the zone, so detection infers the same mapping.
    assert_eq!(CatalogFormat::detect(&path).unwrap(), format);

    // README: 47 events with M >= 3 in 2022 (none lies within 8 h of a year boundary, so the
    // count is the same in Beijing time and UTC).
    let options = ReadOptions {
        filter: CatalogFilter {
            period: Some(Period::parse("2022-01-01", "2023-01-01").unwrap()),
            min_magnitude: Some(3.0),
            ..CatalogFilter::default()
        },
        ..ReadOptions::default()
    };
    let (in_2022, _) = read_catalog(&path, &format, &options).unwrap();
    assert_eq!(in_2022.len(), 47);
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn real_jma_felt_list_blank_magnitudes_are_bad_rows() {
    let path = real_catalog("jma_felt_1985-2022.csv");
    // time_jst and time_utc both exist: the UTC column wins.
    let format = CatalogFormat::detect(&path).unwrap();
    assert!(
        matches!(&format, CatalogFormat::Generic(m) if m.time == "time_utc" && m.utc_offset.is_none())
    );
    // The first blank magnitude is on line 7.
    let err = read_catalog(&path, &format, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 7, field, .. } if field == "magnitude"),
        "{err}"
    );

    // README: 7,869 rows have a blank magnitude; 27,182 events with M >= 3 in the box from 2009.
    let options = ReadOptions {
        filter: CatalogFilter {
            region: Some(Region::JAPAN),
            period: Some(Period::parse("2009-01-01", "2023-01-01").unwrap()),
            min_magnitude: Some(3.0),
        },
        lenient: true,
        ..ReadOptions::default()
    };
    let (cat, report) = read_catalog(&path, &format, &options).unwrap();
    let blank = SkipReason {
        field: "magnitude".into(),
        problem: RowProblem::Blank,
    };
    assert_eq!(report.skipped.get(&blank).map(|s| s.count), Some(7_869));
    // The file has CR LF line ends; these line numbers were counted with a separate script.
    assert_eq!(report.skipped[&blank].first_lines, vec![7, 31, 51, 60, 61]);
    assert_eq!(report.skipped_total(), 7_869);
    assert_eq!(cat.len(), 27_182);
    assert_eq!(report.rows, 93_203);
}
