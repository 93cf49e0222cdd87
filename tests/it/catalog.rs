//! Catalog reading end to end: hand-made fixtures, then the real public catalogs in place.
//!
//! The real-data tests read `../shared/data` (or `QUAKELAB_REAL_DATA`); `build.rs` has them listed
//! as ignored, with the reason, when it is absent. Their expected numbers come from the data README and were recounted with an
//! independent script (Python's csv module), not from this reader's output.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use quakelab::Error;
use quakelab::catalog::{
    CatalogFilter, CatalogSource, EventTypes, LoadOptions, Region, TimeReading, load,
};
use quakelab::io::catalog::{
    CatalogFormat, ColumnMapping, ReadOptions, RowProblem, SkipReason, Time24h, UtcOffset,
    read_catalog, write_comcat,
};
use quakelab::period::Period;
use quakelab::synth::Scenario;

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
        time_24h: Time24h::Refuse,
        event_type: None,
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

/// Writes `text` as `name` in a fresh temporary directory.
fn temp_csv(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

// Issue 12, section 3: a magnitude of 1e308 or 1e10 panicked with --mc-per-window and, without
// it, corrupted every later window. The reader refuses it with file, line and field; --lenient
// skips and counts it.
#[test]
fn magnitude_1e308_is_refused_with_file_line_field() {
    // Line 1 header; line 2 good; line 3 M 1e308; line 4 M 1e10; line 5 M -3.5; line 6 good.
    let text = "time,lat,lon,mag\n\
                2020-01-01 00:00:00,35,140,3.2\n\
                2020-01-02 00:00:00,35,140,1e308\n\
                2020-01-03 00:00:00,35,140,1e10\n\
                2020-01-04 00:00:00,35,140,-3.5\n\
                2020-01-05 00:00:00,35,140,10.5\n";
    let (_dir, path) = temp_csv("huge.csv", text);
    let format = CatalogFormat::detect(&path).unwrap();
    let err = read_catalog(&path, &format, &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: field `mag`: magnitude 1e308 is outside the physical range [-3, 10.5]",
            path.display()
        )
    );
    let (cat, report) = read_catalog(&path, &format, &lenient()).unwrap();
    // 3.2 and 10.5 (the upper bound itself) stay; three rows are skipped.
    assert_eq!(cat.len(), 2);
    let out_of_range = &report.skipped[&SkipReason {
        field: "mag".into(),
        problem: RowProblem::OutOfRange,
    }];
    assert_eq!(
        (out_of_range.count, out_of_range.first_lines.clone()),
        (3, vec![3, 4, 5])
    );
}

// Issue 12, section 3: ComCat's `type` column was ignored, so a raw export's nuclear explosions
// counted as earthquakes.
#[test]
fn comcat_explosions_are_left_out_by_default_and_counted_per_type() {
    let header =
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n";
    let row = |day: u32, kind: &str| {
        format!(
            "2017-09-{day:02}T03:30:01.000Z,41.3,129.0,0,5.0,mb,,,,,us,ev{day},,\"somewhere\",{kind}\n"
        )
    };
    let mut text = header.to_string();
    for (day, kind) in [
        (1, "earthquake"),
        (2, "nuclear explosion"),
        (3, "Earthquake"),
        (4, ""),
        (5, "nuclear explosion"),
        (6, "quarry blast"),
    ] {
        text.push_str(&row(day, kind));
    }
    let (_dir, path) = temp_csv("comcat.csv", &text);
    let (cat, report) =
        read_catalog(&path, &CatalogFormat::Comcat, &ReadOptions::default()).unwrap();
    // Earthquakes: days 1, 3 and 4 (a blank type is an earthquake).
    assert_eq!(cat.len(), 3);
    assert_eq!(report.other_types_total(), 3);
    assert_eq!(report.other_types["nuclear explosion"], 2);
    assert_eq!(report.other_types["quarry blast"], 1);
    assert!(
        report.to_string().contains(
            "left out 3 rows of other event types (nuclear explosion: 2, quarry blast: 1)"
        ),
        "{report}"
    );
    assert!(report.has_warnings());
    assert_eq!(
        report.rows,
        report.kept + report.filtered_out + report.other_types_total() + report.skipped_total()
    );
    let options = ReadOptions {
        event_types: EventTypes::parse("earthquake,nuclear explosion").unwrap(),
        ..ReadOptions::default()
    };
    let (cat, report) = read_catalog(&path, &CatalogFormat::Comcat, &options).unwrap();
    assert_eq!((cat.len(), report.other_types_total()), (5, 1));
}

// Issue 12, section 3: JMA-style separate date and time columns could not be combined.
#[test]
fn jma_date_and_time_columns_combine_with_time_eq_date_plus_time() {
    // 2011/03/11 14:46:18.1 JST is 05:46:18.1 UTC.
    let text = "date,time,lat,lon,mag\n2011/03/11,14:46:18.1,38.10,142.86,9.0\n";
    let (_dir, path) = temp_csv("jma.csv", text);
    let mut mapping = ColumnMapping::parse_pairs("time=date+time,lat=lat,lon=lon,mag=mag").unwrap();
    mapping.time_format = Some("%Y/%m/%d %H:%M:%S%.f".into());
    mapping.utc_offset = Some("+09:00".parse().unwrap());
    let (cat, _) = read_catalog(
        &path,
        &CatalogFormat::Generic(mapping.clone()),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(cat.events()[0].time, ts("2011-03-11T05:46:18.1Z"));
    // The same in an experiment's column mapping.
    let toml_mapping: ColumnMapping = toml::from_str(
        "time = \"date+time\"\nlatitude = \"lat\"\nlongitude = \"lon\"\nmagnitude = \"mag\"\n\
         time_format = \"%Y/%m/%d %H:%M:%S%.f\"\nutc_offset = \"+09:00\"\n",
    )
    .unwrap();
    assert_eq!(toml_mapping, mapping);
    // A row whose time does not parse names the joined field and its line.
    let (_dir, path) = temp_csv(
        "jma.csv",
        "date,time,lat,lon,mag\n2011/03/11,noon,38,142,9.0\n",
    );
    let err = read_catalog(
        &path,
        &CatalogFormat::Generic(mapping),
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("jma.csv:2: field `date+time`"), "{err}");
}

// Issue 12, section 3: HORUS writes 24:00:00 and needed a documented normalisation option.
#[test]
fn horus_24_00_00_is_refused_naming_the_option_or_read_as_the_next_day() {
    let text = "time,lat,lon,mag\n2011-03-11 24:00:00,38.1,142.9,4.0\n2011-03-11 23:59:59,38.1,142.9,4.0\n";
    let (_dir, path) = temp_csv("horus.csv", text);
    let format = CatalogFormat::detect(&path).unwrap();
    let err = read_catalog(&path, &format, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("horus.csv:2: field `time`")
            && err.contains("has the hour 24")
            && err.contains("--time-24h next-day"),
        "{err}"
    );
    let CatalogFormat::Generic(mut mapping) = format else {
        panic!("a generic header");
    };
    mapping.time_24h = Time24h::NextDay;
    let (cat, _) = read_catalog(
        &path,
        &CatalogFormat::Generic(mapping),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(cat.events()[0].time, ts("2011-03-11T23:59:59Z"));
    assert_eq!(cat.events()[1].time, ts("2011-03-12T00:00:00Z"));
}

// Issue 12, section 3: errors of --columns and --time-format keep file:line:field.
#[test]
fn columns_and_time_format_errors_keep_file_line_field() {
    let text = "when,y,x,m\n2020-01-01 00:00:00,35,140,3\n01/02/2020 00:00:00,35,140,3\n";
    let (_dir, path) = temp_csv("mapped.csv", text);
    let source = CatalogSource::File {
        path: path.clone(),
        mapping: Some(ColumnMapping::parse_pairs("time=when,lat=y,lon=x,mag=m").unwrap()),
    };
    let period = Period::parse("2020-01-01", "2020-02-01").unwrap();
    let options = LoadOptions {
        time: TimeReading {
            time_format: Some("%Y-%m-%d %H:%M:%S".into()),
            ..TimeReading::default()
        },
        ..LoadOptions::default()
    };
    let err = load(&source, &period, &options).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{}:3: field `when`: `01/02/2020 00:00:00` does not match the time format",
            path.display()
        )),
        "{err}"
    );
    // A mapping to a column the file lacks names the header line.
    let source = CatalogSource::File {
        path: path.clone(),
        mapping: Some(ColumnMapping::parse_pairs("time=when,lat=lat,lon=x,mag=m").unwrap()),
    };
    let err = load(&source, &period, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mapped.csv:1: field `header`: no column `lat`"),
        "{err}"
    );
    let err = ColumnMapping::parse_pairs("time=when,latt=y")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("setting `columns`: unknown key `latt`"),
        "{err}"
    );
}

/// A scenario file: the built-in japan scenario with a chosen background rate and a short
/// burn-in, so a year simulates in well under a second.
fn scenario_text(mu: f64) -> String {
    let japan = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/scenarios/japan.toml"),
    )
    .unwrap();
    let mut out = String::new();
    for line in japan.lines() {
        if line.starts_with("mu = ") {
            out.push_str(&format!("mu = {mu:?}\n"));
        } else if line.starts_with("burn_in_days = ") {
            out.push_str("burn_in_days = 10.0\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

// Issue 12, section 3: the synthetic-catalog cache was keyed by scenario name, seed and period,
// so an edited scenario file reused the old catalog.
#[test]
fn edited_scenario_file_gets_a_fresh_synthetic_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_path = dir.path().join("mine.toml");
    let period = Period::parse("2020-01-01", "2020-04-01").unwrap();
    let options = LoadOptions {
        cache_dir: dir.path().join("cache"),
        ..LoadOptions::default()
    };
    let source_text = format!("synthetic:{}", scenario_path.display());
    let mut counts = Vec::new();
    for mu in [0.5, 5.0] {
        std::fs::write(&scenario_path, scenario_text(mu)).unwrap();
        let source = CatalogSource::parse(&source_text, None, None).unwrap();
        let (cat, _) = load(&source, &period, &options).unwrap();
        counts.push(cat.len());
    }
    // Ten times the background rate: the second catalog is not the cached first one, and there
    // are two cache entries.
    assert!(counts[1] > 3 * counts[0], "{counts:?}");
    assert_eq!(files_under(&dir.path().join("cache")).len(), 2);
    // Loading the edited file again reads its entry: same events, no new entry.
    let source = CatalogSource::parse(&source_text, None, None).unwrap();
    let (again, _) = load(&source, &period, &options).unwrap();
    assert_eq!(again.len(), counts[1]);
    assert_eq!(files_under(&dir.path().join("cache")).len(), 2);
}

// Issue 12, section 3: `synthetic:../../x.toml` wrote outside results/.
#[test]
fn synthetic_dotdot_path_stays_inside_the_cache_directory() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("a").join("b");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(root.path().join("x.toml"), scenario_text(0.5)).unwrap();
    let cache = work.join("results").join("cache");
    let period = Period::parse("2020-01-01", "2020-02-01").unwrap();
    let scenario = Scenario::load(&format!("{}/../../x.toml", work.display())).unwrap();
    let source = CatalogSource::Synthetic(Box::new(scenario));
    let options = LoadOptions {
        cache_dir: cache.clone(),
        ..LoadOptions::default()
    };
    load(&source, &period, &options).unwrap();
    let all = files_under(root.path());
    let written: Vec<&PathBuf> = all.iter().filter(|p| !p.ends_with("x.toml")).collect();
    assert_eq!(written.len(), 1, "{all:?}");
    let entry = written[0].strip_prefix(&cache).unwrap();
    // catalog/<64 hex digits>/catalog.csv
    let parts: Vec<String> = entry
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    assert_eq!(parts.len(), 3, "{parts:?}");
    assert_eq!(
        (parts[0].as_str(), parts[2].as_str()),
        ("catalog", "catalog.csv")
    );
    assert!(parts[1].len() == 64 && parts[1].bytes().all(|b| b.is_ascii_hexdigit()));
}

/// A ComCat file of `rows` earthquakes, one a minute from 2010-01-01, whose every third `place`
/// spans two lines, with row `bad` (0-based) given the magnitude `9.x`; returns the text and the
/// line on which the bad row starts.
fn long_comcat(rows: usize, bad: usize) -> (String, u64) {
    let mut text = String::from(
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type,\
         horizontalError,depthError,magError,magNst,status,locationSource,magSource\n",
    );
    let start: Timestamp = "2010-01-01T00:00:00Z".parse().unwrap();
    let mut line = 2;
    let mut bad_line = 0;
    for i in 0..rows {
        let time = start
            .checked_add(jiff::SignedDuration::from_mins(i as i64))
            .unwrap()
            .strftime("%Y-%m-%dT%H:%M:%S.000Z");
        let place = if i % 3 == 0 {
            "\"5 km N of Town,\nJapan\""
        } else {
            "\"5 km N of Town, Japan\""
        };
        let mag = if i == bad { "9.x" } else { "3.5" };
        text.push_str(&format!(
            "{time},35.5,140.25,10,{mag},mw,,,,,us,id{i},,{place},earthquake,,,,,reviewed,us,us\n"
        ));
        if i == bad {
            bad_line = line;
        }
        line += if i % 3 == 0 { 2 } else { 1 };
    }
    (text, bad_line)
}

#[test]
fn a_large_file_read_in_pieces_keeps_every_row_in_order_and_the_bad_rows_line() {
    // Over 6 MB, so the reader cuts it into pieces; the bad row lies deep in a later piece.
    let rows = 70_000;
    let bad = 61_234;
    let (text, bad_line) = long_comcat(rows, bad);
    assert!(text.len() > 6_000_000, "{} bytes", text.len());
    // Row i starts on line 2 + i + ceil(i / 3): every third row from row 0 takes two lines.
    assert_eq!(bad_line, 2 + 61_234 + 20_412);
    let (_dir, path) = temp_csv("long.csv", &text);
    let err = read_catalog(&path, &CatalogFormat::Comcat, &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:{bad_line}: field `mag`: `9.x` is not a finite number",
            path.display()
        )
    );
    let (catalog, report) = read_catalog(&path, &CatalogFormat::Comcat, &lenient()).unwrap();
    assert_eq!(
        (report.rows, report.kept, report.skipped_total()),
        (rows, rows - 1, 1)
    );
    let malformed = &report.skipped[&SkipReason {
        field: "mag".into(),
        problem: RowProblem::Malformed,
    }];
    assert_eq!(malformed.first_lines, vec![bad_line]);
    // One event a minute, none lost or reordered: the k-th kept event is minute k, or k + 1
    // past the bad row.
    let start = ts("2010-01-01T00:00:00Z");
    for (k, event) in catalog.events().iter().enumerate() {
        let minute = if k < bad { k } else { k + 1 };
        assert_eq!(
            event.time,
            start
                .checked_add(jiff::SignedDuration::from_mins(minute as i64))
                .unwrap(),
            "event {k}"
        );
    }
}
