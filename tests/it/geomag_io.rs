//! Magnetometer records: IAGA-2002 (hand-made fixtures and the real USGS Boulder files), the
//! station series CSV, station metadata, daily means, and `quakelab geomag read` end to end.
//!
//! The fixtures in `tests/fixtures/geomag/` are written by `tools/make_geomag_fixtures.py`;
//! every expected value below is read off those files by hand.

use std::path::Path;

use jiff::Timestamp;
use quakelab::Error;
use quakelab::geomag::GeomagStation;
use quakelab::io::geomag::{
    Cadence, GeomagSeries, daily_field, read_iaga2002, read_series_csv, read_stations_csv,
    series_from_iaga, write_series_csv,
};
use quakelab::period::Period;

use crate::support::{self, quakelab};

fn fixture(name: &str) -> std::path::PathBuf {
    support::fixture("geomag", name)
}

fn time(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The line and field of a parse error, failing the test on anything else.
fn parse_error(result: quakelab::Result<impl std::fmt::Debug>) -> (u64, String, String) {
    match result {
        Err(Error::Parse {
            line,
            field,
            message,
            ..
        }) => (line, field, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

#[test]
fn minute_file_gives_station_components_cadence_and_missing_codes() {
    let file = read_iaga2002(&fixture("abc20200101vmin.min")).unwrap();
    assert_eq!(
        file.station,
        GeomagStation {
            code: "ABC".into(),
            latitude: 30.5,
            // 250 E written in [0, 360) is 110 W.
            longitude: -110.0,
        }
    );
    assert_eq!(file.components, ['X', 'Y', 'Z', 'F']);
    assert_eq!(file.cadence, Cadence::Minute);
    assert_eq!(file.times.len(), 5);
    assert_eq!(file.times[0], time("2020-01-01T00:00:00Z"));
    assert_eq!(file.times[4], time("2020-01-01T00:04:00Z"));
    // 99999.00 in X of the third record, 88888.00 in F of the second.
    assert_eq!(file.missing, [1, 0, 0, 1]);
    assert!(file.values[0][2].is_nan() && file.values[3][1].is_nan());
    assert_eq!(file.values[2][4], 45004.0);
    assert_eq!(file.values[1][0], -1500.0);
    assert_eq!(file.header_value("data type"), Some("variation"));
}

#[test]
fn second_file_is_second_data() {
    let file = read_iaga2002(&fixture("def20200101vsec.sec")).unwrap();
    assert_eq!(file.cadence, Cadence::Second);
    assert_eq!(file.cadence.per_day(), 86_400);
    assert_eq!(
        (file.station.latitude, file.station.longitude),
        (-12.25, 10.0)
    );
    assert_eq!(file.times[3], time("2020-01-01T12:00:03Z"));
    assert_eq!(file.missing, [1, 1, 1, 1]);
    assert_eq!(file.values[3][3], 36071.0);
}

// Data records start on line 15 of the fixtures: 12 header records, a comment, the column header.

#[test]
fn a_value_that_is_not_a_number_is_refused() {
    let (line, field, message) = parse_error(read_iaga2002(&fixture("bad_number.min")));
    assert_eq!((line, field.as_str()), (17, "Z"));
    assert!(message.contains("45O02.00"), "{message}");
}

#[test]
fn a_time_that_is_not_a_time_is_refused() {
    let (line, field, message) = parse_error(read_iaga2002(&fixture("bad_time.min")));
    assert_eq!((line, field.as_str()), (18, "TIME"));
    assert!(message.contains("00:63:00"), "{message}");
}

#[test]
fn a_record_with_the_wrong_number_of_fields_is_refused() {
    let (line, field, message) = parse_error(read_iaga2002(&fixture("short_record.min")));
    assert_eq!((line, field.as_str()), (19, "record"));
    assert!(message.contains("found 6"), "{message}");
}

#[test]
fn a_time_going_backwards_is_refused() {
    let (line, field, message) = parse_error(read_iaga2002(&fixture("backwards.min")));
    assert_eq!((line, field.as_str()), (18, "TIME"));
    assert!(message.contains("00:02:00"), "{message}");
}

#[test]
fn a_missing_header_record_is_refused() {
    let (line, field, message) = parse_error(read_iaga2002(&fixture("no_latitude.min")));
    // Reported at the column header, where the header ends (line 13 without the latitude).
    assert_eq!((line, field.as_str()), (13, "Geodetic Latitude"));
    assert!(message.contains("no `Geodetic Latitude`"), "{message}");
}

#[test]
fn an_interval_type_contradicting_the_time_stamps_is_refused() {
    let (line, field, message) = parse_error(read_iaga2002(&fixture("cadence_mismatch.min")));
    assert_eq!((line, field.as_str()), (11, "Data Interval Type"));
    assert!(
        message.contains("second") && message.contains("minute"),
        "{message}"
    );
}

fn abc_and_def() -> Vec<GeomagSeries> {
    let files: Vec<_> = [
        "abc20200102vmin.min",
        "def20200101vsec.sec",
        "abc20200101vmin.min",
    ]
    .iter()
    .map(|n| read_iaga2002(&fixture(n)).unwrap())
    .collect();
    series_from_iaga(&files).unwrap()
}

#[test]
fn files_of_one_station_join_in_time_order() {
    let series = abc_and_def();
    assert_eq!(series.len(), 2);
    let abc = &series[0];
    assert_eq!(abc.station, "ABC");
    assert_eq!(abc.times.len(), 8);
    assert_eq!(abc.times[0], time("2020-01-01T00:00:00Z"));
    assert_eq!(abc.times[5], time("2020-01-02T00:00:00Z"));
    assert_eq!(abc.component('F').unwrap()[5], 49690.0);
    assert_eq!(series[1].station, "DEF");
    assert_eq!(abc.n_missing() + series[1].n_missing(), 3 + 4);
}

#[test]
fn files_with_different_components_are_refused() {
    let files: Vec<_> = ["abc20200101vmin.min", "ghi20200101vmin.min"]
        .iter()
        .map(|n| read_iaga2002(&fixture(n)).unwrap())
        .collect();
    let (line, field, message) = parse_error(series_from_iaga(&files));
    assert_eq!((line, field.as_str()), (8, "Reported"));
    assert!(
        message.contains("H,D,Z,F") && message.contains("X,Y,Z,F"),
        "{message}"
    );
}

#[test]
fn overlapping_files_of_one_station_are_refused() {
    let one = read_iaga2002(&fixture("abc20200101vmin.min")).unwrap();
    let err = series_from_iaga(&[one.clone(), one])
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlap") && err.contains("ABC"), "{err}");
}

#[test]
fn series_csv_writes_empty_fields_for_missing_values_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    let series = abc_and_def();
    write_series_csv(&path, &series).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "station,time,X,Y,Z,F");
    assert_eq!(lines[1], "ABC,2020-01-01T00:00:00Z,21000,-1500,45000,49680");
    assert_eq!(lines[2], "ABC,2020-01-01T00:01:00Z,21001,-1501,45001,");
    assert_eq!(lines[3], "ABC,2020-01-01T00:02:00Z,,-1502,45002,49682");
    assert_eq!(lines[11], "DEF,2020-01-01T12:00:02Z,,,,");
    assert_eq!(lines.len(), 1 + 8 + 4);
    let back = read_series_csv(&path).unwrap();
    assert_eq!(back.len(), 2);
    for (a, b) in back.iter().zip(&series) {
        assert_eq!(
            (&a.station, &a.components, &a.times),
            (&b.station, &b.components, &b.times)
        );
        for (x, y) in a.values.iter().flatten().zip(b.values.iter().flatten()) {
            assert!(same(*x, *y), "{x} vs {y}");
        }
    }
}

#[test]
fn series_csv_reads_plain_utc_times_and_interleaved_stations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    std::fs::write(
        &path,
        "station,time,H,Z\nA,2020-01-01 00:00:00,1.5,\nB,2020-01-01T08:00:00+08:00,2,3\nA,2020-01-01 00:01:00,,4\n",
    )
    .unwrap();
    let series = read_series_csv(&path).unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(
        series[0].times,
        [time("2020-01-01T00:00:00Z"), time("2020-01-01T00:01:00Z")]
    );
    assert_eq!(series[0].values[0][0], 1.5);
    assert!(series[0].values[1][0].is_nan() && series[0].values[0][1].is_nan());
    // 08:00 at +08:00 is midnight UTC.
    assert_eq!(series[1].times, [time("2020-01-01T00:00:00Z")]);
}

/// A series CSV with `body` after the header `station,time,H,Z`, and the error reading it.
fn series_csv_error(body: &str) -> (u64, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    std::fs::write(&path, format!("station,time,H,Z\n{body}")).unwrap();
    parse_error(read_series_csv(&path))
}

#[test]
fn a_series_value_that_is_not_a_number_is_refused() {
    let (line, field, _) = series_csv_error("A,2020-01-01T00:00:00Z,1,NaN\n");
    assert_eq!((line, field.as_str()), (2, "Z"));
}

#[test]
fn a_series_row_going_back_in_time_is_refused() {
    let (line, field, _) =
        series_csv_error("A,2020-01-01T00:01:00Z,1,2\nA,2020-01-01T00:00:00Z,1,2\n");
    assert_eq!((line, field.as_str()), (3, "time"));
}

#[test]
fn a_series_row_with_the_wrong_number_of_fields_is_refused() {
    let (line, field, _) = series_csv_error("A,2020-01-01T00:00:00Z,1\n");
    assert_eq!((line, field.as_str()), (2, "record"));
}

#[test]
fn a_series_time_that_is_not_a_time_is_refused() {
    let (line, field, _) = series_csv_error("A,2020-01-01,1,2\n");
    assert_eq!((line, field.as_str()), (2, "time"));
}

#[test]
fn a_series_component_column_that_is_not_one_letter_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    std::fs::write(&path, "station,time,BOUH\n").unwrap();
    let (line, field, _) = parse_error(read_series_csv(&path));
    assert_eq!((line, field.as_str()), (1, "BOUH"));
}

#[test]
fn station_metadata_reads_aliases_and_wraps_longitudes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stations.csv");
    std::fs::write(
        &path,
        "code,lat,lon,name\nABC,30.5,250,Test\nDEF,-12.25,10,Other\n",
    )
    .unwrap();
    let stations = read_stations_csv(&path).unwrap();
    assert_eq!(stations[0].longitude, -110.0);
    assert_eq!(stations[1].latitude, -12.25);
    std::fs::write(&path, "station,latitude,longitude\nABC,30.5,250\nABC,1,2\n").unwrap();
    let (line, field, message) = parse_error(read_stations_csv(&path));
    assert_eq!((line, field.as_str()), (3, "station"));
    assert!(message.contains("twice"), "{message}");
}

fn abc_station() -> GeomagStation {
    GeomagStation {
        code: "ABC".into(),
        latitude: 30.5,
        longitude: -110.0,
    }
}

#[test]
fn daily_means_by_hand() {
    let series = &abc_and_def()[..1];
    let period = Period::parse("2020-01-01", "2020-01-04").unwrap();
    let (field, report) = daily_field(series, &[abc_station()], 'F', &period, 1).unwrap();
    // Day 1: F = 49680, (88888), 49682, 49683, 49684; day 2: 49690, 49691, (99999); day 3: none.
    assert_eq!(
        field.day(0),
        [(49680.0 + 49682.0 + 49683.0 + 49684.0) / 4.0]
    );
    assert_eq!(field.day(1), [49690.5]);
    assert!(field.day(2)[0].is_nan());
    assert_eq!((report.samples_used, report.missing_samples), (6, 2));
    assert_eq!((report.short_days, report.outside_period), (1, 0));
    assert_eq!(report.intensity_from, ["read"]);
    // A minimum of 3 samples leaves day 2 missing too.
    let (field, report) = daily_field(series, &[abc_station()], 'F', &period, 3).unwrap();
    assert!(field.day(1)[0].is_nan());
    assert_eq!(report.short_days_per_station, [2]);
    // X: 21000, 21001, (99999), 21003, 21004 on day 1.
    let (field, _) = daily_field(series, &[abc_station()], 'X', &period, 1).unwrap();
    assert_eq!(field.day(0), [21002.0]);
    // Samples after the period are counted, not used.
    let day_one = Period::parse("2020-01-01", "2020-01-02").unwrap();
    let (_, report) = daily_field(series, &[abc_station()], 'F', &day_one, 1).unwrap();
    assert_eq!(report.outside_period, 3);
}

#[test]
fn total_intensity_is_computed_when_absent() {
    let one = |components: &[char], values: &[f64]| GeomagSeries {
        station: "ABC".into(),
        components: components.to_vec(),
        times: vec![time("2020-01-01T06:00:00Z")],
        values: values.iter().map(|&v| vec![v]).collect(),
    };
    let period = Period::parse("2020-01-01", "2020-01-02").unwrap();
    let stations = [abc_station()];
    // 3-4-5 and 2-3-6-7 right triangles; D is an angle and stays out.
    let cases = [
        (
            one(&['H', 'D', 'Z'], &[3.0, 100.0, 4.0]),
            5.0,
            "sqrt(H²+Z²)",
        ),
        (
            one(&['X', 'Y', 'Z'], &[2.0, 3.0, 6.0]),
            7.0,
            "sqrt(X²+Y²+Z²)",
        ),
        (
            one(&['H', 'E', 'Z'], &[2.0, 3.0, 6.0]),
            7.0,
            "sqrt(H²+E²+Z²)",
        ),
    ];
    for (series, expected, formula) in cases {
        let (field, report) = daily_field(&[series], &stations, 'F', &period, 1).unwrap();
        assert_eq!(field.day(0), [expected]);
        assert_eq!(report.intensity_from, [formula]);
    }
}

#[test]
fn a_component_the_station_lacks_is_refused() {
    let series = &abc_and_def()[..1];
    let period = Period::parse("2020-01-01", "2020-01-02").unwrap();
    let err = daily_field(series, &[abc_station()], 'H', &period, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ABC") && err.contains("X,Y,Z,F") && err.contains("not H"),
        "{err}"
    );
}

#[test]
fn a_series_of_a_station_without_a_position_is_refused() {
    let series = abc_and_def();
    let period = Period::parse("2020-01-01", "2020-01-02").unwrap();
    let err = daily_field(&series, &[abc_station()], 'F', &period, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("DEF") && err.contains("no position"), "{err}");
}

#[test]
fn geomag_read_converts_iaga_files_to_the_series_csv() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = support::fixture("geomag", "");
    let out = quakelab(
        &[
            "geomag",
            "read",
            "abc20200102vmin.min",
            "def20200101vsec.sec",
            "abc20200101vmin.min",
            "--out",
            dir.path().join("series.csv").to_str().unwrap(),
        ],
        &fixtures,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("12 rows, 2 stations, 7 missing values"),
        "{stdout}"
    );
    let (header, rows) = support::read_csv(&dir.path().join("series.csv"));
    assert_eq!(header, ["station", "time", "X", "Y", "Z", "F"]);
    assert_eq!(rows.len(), 12);
    assert_eq!(
        rows[0],
        [
            "ABC",
            "2020-01-01T00:00:00Z",
            "21000",
            "-1500",
            "45000",
            "49680"
        ]
    );
    assert_eq!(
        rows[7],
        ["ABC", "2020-01-02T00:03:00Z", "21013", "-1513", "45013", ""]
    );
    assert_eq!(rows[8][..3], ["DEF", "2020-01-01T12:00:00Z", "30000"]);
}

#[test]
fn geomag_read_refuses_files_with_different_components() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = support::fixture("geomag", "");
    let target = dir.path().join("series.csv");
    let out = quakelab(
        &[
            "geomag",
            "read",
            "abc20200101vmin.min",
            "ghi20200101vmin.min",
            "--out",
            target.to_str().unwrap(),
        ],
        &fixtures,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("ghi20200101vmin.min") && stderr.contains("H,D,Z,F"),
        "{stderr}"
    );
    assert!(!target.exists());
}

/// The seven USGS Boulder minute files, 2014-11-01 to 2014-11-07.
fn boulder_files() -> Vec<std::path::PathBuf> {
    (1..=7)
        .map(|d| support::real_data(&format!("geomag/bou201411{d:02}vmin.min")))
        .collect()
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn the_boulder_minute_file_reads_as_the_file_says() {
    let path = support::real_data("geomag/bou20141101vmin.min");
    let file = read_iaga2002(&path).unwrap();
    assert_eq!(file.station.code, "BOU");
    // Header: Geodetic Latitude 40.137, Geodetic Longitude 254.764 (= 105.236 W).
    assert_eq!(file.station.latitude, 40.137);
    assert!((file.station.longitude - (254.764 - 360.0)).abs() < 1e-9);
    assert_eq!(file.components, ['H', 'D', 'Z', 'F']);
    assert_eq!(file.cadence, Cadence::Minute);
    assert_eq!(file.times.len(), 1440);
    assert_eq!(file.n_missing(), 0);
    // Line 746 (`sed -n 746p`): 2014-11-01 12:00:00.000 305 20885.29 -6.51 47474.37 52399.22,
    // the 721st record after the 25 header lines.
    assert_eq!(file.times[720], time("2014-11-01T12:00:00Z"));
    let at_noon: Vec<f64> = file.values.iter().map(|c| c[720]).collect();
    assert_eq!(at_noon, [20885.29, -6.51, 47474.37, 52399.22]);
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn the_boulder_week_gives_the_daily_means_of_awk() {
    let files: Vec<_> = boulder_files()
        .iter()
        .map(|p| read_iaga2002(p).unwrap())
        .collect();
    let series = series_from_iaga(&files).unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].times.len(), 7 * 1440);
    let period = Period::parse("2014-11-01", "2014-11-08").unwrap();
    let (field, report) =
        daily_field(&series, &[files[0].station.clone()], 'F', &period, 1440).unwrap();
    assert_eq!((report.samples_used, report.short_days), (7 * 1440, 0));
    // awk 'NR>25{s+=$7;n++} END{printf "%.6f %d\n", s/n, n}' bou20141101vmin.min
    // -> 52394.471306 1440; and 52382.529368 for bou20141104vmin.min.
    assert!(
        (field.day(0)[0] - 52394.471306).abs() < 1e-6,
        "{}",
        field.day(0)[0]
    );
    assert!(
        (field.day(3)[0] - 52382.529368).abs() < 1e-6,
        "{}",
        field.day(3)[0]
    );
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn geomag_read_converts_two_boulder_days() {
    let dir = tempfile::tempdir().unwrap();
    let files = boulder_files();
    let target = dir.path().join("bou.csv");
    let out = quakelab(
        &[
            "geomag",
            "read",
            files[1].to_str().unwrap(),
            files[0].to_str().unwrap(),
            "--out",
            target.to_str().unwrap(),
        ],
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = support::read_csv(&target);
    assert_eq!(header, ["station", "time", "H", "D", "Z", "F"]);
    assert_eq!(rows.len(), 2 * 1440);
    // The first record of bou20141101vmin.min: 20873.75 -9.99 47477.30 52397.33.
    assert_eq!(
        rows[0],
        [
            "BOU",
            "2014-11-01T00:00:00Z",
            "20873.75",
            "-9.99",
            "47477.3",
            "52397.33"
        ]
    );
    assert_eq!(rows[1440][1], "2014-11-02T00:00:00Z");
}

/// The error of reading the first-day fixture after `edit`.
fn altered_error(edit: impl Fn(&str) -> String) -> (u64, String, String) {
    let text = std::fs::read_to_string(fixture("abc20200101vmin.min")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("altered.min");
    std::fs::write(&path, edit(&text)).unwrap();
    parse_error(read_iaga2002(&path))
}

#[test]
fn a_reported_record_that_disagrees_with_the_columns_is_refused() {
    let (line, field, message) = altered_error(|t| t.replacen("XYZF   ", "XYZG   ", 1));
    assert_eq!((line, field.as_str()), (8, "Reported"));
    assert!(
        message.contains("`XYZG`") && message.contains("`XYZF`"),
        "{message}"
    );
}

#[test]
fn a_component_reported_twice_is_refused() {
    let (line, field, message) = altered_error(|t| {
        t.replacen("XYZF   ", "XYZX   ", 1)
            .replacen("ABCF", "ABCX", 1)
    });
    assert_eq!((line, field.as_str()), (8, "Reported"));
    assert!(message.contains("twice"), "{message}");
}

#[test]
fn a_file_in_another_format_is_refused() {
    let (line, field, message) = altered_error(|t| t.replacen("IAGA-2002", "IAGA-2000", 1));
    assert_eq!((line, field.as_str()), (1, "Format"));
    assert!(message.contains("IAGA-2000"), "{message}");
}

#[test]
fn a_latitude_out_of_range_is_refused() {
    let (line, field, _) = altered_error(|t| t.replacen("30.500", "95.000", 1));
    assert_eq!((line, field.as_str()), (5, "Geodetic Latitude"));
}

#[test]
fn a_day_of_year_that_disagrees_with_the_date_is_refused() {
    let (line, field, message) =
        altered_error(|t| t.replacen("00:00:00.000   1", "00:00:00.000   2", 1));
    assert_eq!((line, field.as_str()), (15, "DOY"));
    assert!(message.contains("day 1"), "{message}");
}

#[test]
fn a_minute_record_off_the_minute_is_refused() {
    let (line, field, message) = altered_error(|t| t.replacen("00:04:00.000", "00:04:30.000", 1));
    assert_eq!((line, field.as_str()), (19, "TIME"));
    assert!(message.contains("not on the minute"), "{message}");
}

#[test]
fn a_time_between_whole_seconds_is_refused() {
    let (line, field, message) = altered_error(|t| t.replacen("00:04:00.000", "00:04:00.500", 1));
    assert_eq!((line, field.as_str()), (19, "TIME"));
    assert!(message.contains("whole second"), "{message}");
}

#[test]
fn a_cadence_other_than_minute_or_second_is_refused() {
    let (line, field, message) = altered_error(|t| {
        (1..=4).fold(t.to_string(), |t, m| {
            t.replacen(&format!("00:0{m}:00.000"), &format!("0{m}:00:00.000"), 1)
        })
    });
    assert_eq!((line, field.as_str()), (14, "TIME"));
    assert!(message.contains("3600 s"), "{message}");
}

#[test]
fn a_file_without_a_column_header_is_refused() {
    let (line, field, _) = altered_error(|t| t.replacen("DATE       TIME         DOY", "", 1));
    assert_eq!((line, field.as_str()), (19, "column header"));
}

#[test]
fn a_single_record_without_an_interval_type_is_refused() {
    let (line, field, message) = altered_error(|t| {
        t.lines()
            .filter(|l| !l.contains("Data Interval Type"))
            .take(13 + 1)
            .map(|l| format!("{l}\n"))
            .collect()
    });
    assert_eq!((line, field.as_str()), (13, "Data Interval Type"));
    assert!(message.contains("single record"), "{message}");
}

/// The error of reading a station list with text `text`.
fn stations_error(text: &str) -> (u64, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stations.csv");
    std::fs::write(&path, text).unwrap();
    parse_error(read_stations_csv(&path))
}

#[test]
fn a_station_list_without_a_latitude_column_is_refused() {
    let (line, field, _) = stations_error("station,y,longitude\nABC,1,2\n");
    assert_eq!((line, field.as_str()), (1, "latitude"));
}

#[test]
fn a_station_latitude_out_of_range_is_refused() {
    let (line, field, _) = stations_error("station,latitude,longitude\nABC,90.5,2\n");
    assert_eq!((line, field.as_str()), (2, "latitude"));
}

#[test]
fn a_station_row_with_the_wrong_number_of_fields_is_refused() {
    let (line, field, _) = stations_error("station,latitude,longitude\nABC,1\n");
    assert_eq!((line, field.as_str()), (2, "record"));
}

#[test]
fn an_empty_station_code_in_a_station_list_is_refused() {
    let (line, field, _) = stations_error("station,latitude,longitude\n,1,2\n");
    assert_eq!((line, field.as_str()), (2, "station"));
}

#[test]
fn an_empty_station_code_in_a_series_is_refused() {
    let (line, field, _) = series_csv_error(",2020-01-01T00:00:00Z,1,2\n");
    assert_eq!((line, field.as_str()), (2, "station"));
}

#[test]
fn a_series_file_without_the_station_time_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    std::fs::write(&path, "time,station,H\n").unwrap();
    let (line, field, _) = parse_error(read_series_csv(&path));
    assert_eq!((line, field.as_str()), (1, "header"));
}

#[test]
fn a_minimum_of_zero_samples_per_day_is_refused() {
    let period = Period::parse("2020-01-01", "2020-01-02").unwrap();
    match daily_field(&abc_and_def()[..1], &[abc_station()], 'F', &period, 0) {
        Err(Error::Config { key, .. }) => assert_eq!(key, "min_samples_per_day"),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn a_station_without_a_series_is_refused() {
    let period = Period::parse("2020-01-01", "2020-01-02").unwrap();
    let other = GeomagStation {
        code: "XYZ".into(),
        ..abc_station()
    };
    let err = daily_field(
        &abc_and_def()[..1],
        &[abc_station(), other],
        'F',
        &period,
        1,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("XYZ has no series"), "{err}");
}

#[test]
fn two_series_of_one_station_are_refused() {
    let period = Period::parse("2020-01-01", "2020-01-02").unwrap();
    let abc = abc_and_def()[0].clone();
    let err = daily_field(&[abc.clone(), abc], &[abc_station()], 'F', &period, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("two series"), "{err}");
}

#[test]
fn a_total_intensity_without_the_components_for_it_is_refused() {
    let period = Period::parse("2020-01-01", "2020-01-02").unwrap();
    let series = GeomagSeries {
        station: "ABC".into(),
        components: vec!['D', 'Z'],
        times: vec![time("2020-01-01T06:00:00Z")],
        values: vec![vec![1.0], vec![2.0]],
    };
    let err = daily_field(&[series], &[abc_station()], 'F', &period, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ABC has components D,Z") && err.contains("no F"),
        "{err}"
    );
}
