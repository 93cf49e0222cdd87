//! Property tests (proptest) for the readers and the sliding b/a windows.
//!
//! Readers: on any bytes, and on rows that are structured but hostile (huge, NaN, negative or
//! malformed numbers, missing and extra fields, impossible dates), a reader returns `Ok` or `Err`
//! and never panics. Beyond that, what the documentation promises is checked: a parse error names
//! the file and a line that exists; the strict and the lenient reading agree (the strict one fails
//! on the first bad line, the lenient one skips that line first and counts it); every row is
//! accounted for; clean rows are read back exactly as written.
//!
//! Windows: [`sliding_b_values`] (prefix sums, a sliding histogram, two pointers) must give, row by
//! row, what a plain loop over each window's events gives. The loop below is written from the
//! documentation of `seismicity::bvalue` and the README's conventions, not from the fast path.
//!
//! Case counts are kept small (the whole file runs in about a second in release mode); a failure
//! prints the minimal counterexample that proptest shrank it to.

use std::path::Path;

use jiff::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use quakelab::Error;
use quakelab::catalog::Selection;
use quakelab::experiment::config::{self, Layers};
use quakelab::io::catalog::{CatalogFormat, ReadOptions, read_catalog};
use quakelab::io::geonet::{GeonetMapping, read_geonet_dir};
use quakelab::io::stations::read_station_list;
use quakelab::io::tenv3::{Tenv3Options, read_tenv3_with_report};
use quakelab::seismicity::bvalue::{
    BAValue, BEstimator, BValueParams, DifferenceMle, McChoice, Missing, SHI_BOLT_FACTOR,
    WindowKind, WindowRow, WindowSpec, sliding_b_values,
};
use quakelab::seismicity::mc::McMethod;

/// Proptest settings: `cases` cases, and no regression files written beside the sources (the
/// checkout may be read-only; a failure prints its counterexample instead).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

// ---------------------------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------------------------

/// Writes `bytes` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The number of lines of a text as an editor counts them (a last line without `\n` counts).
fn line_count(bytes: &[u8]) -> u64 {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(!bytes.ends_with(b"\n"))
}

/// A parse error must name `path` and a line of it (1-based; a file's first line is line 1 even
/// when the file is empty).
fn assert_names_a_line(result_error: &Error, path: &Path, bytes: &[u8]) {
    if let Error::Parse {
        path: named, line, ..
    } = result_error
    {
        assert_eq!(named, path, "{result_error}");
        assert!(
            (1..=line_count(bytes).max(1)).contains(line),
            "line {line} of a {}-line file: {result_error}",
            line_count(bytes)
        );
    }
}

/// Numbers as a hostile file might spell them.
fn hostile_number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1e308".to_string()),
        Just("-1e308".to_string()),
        Just("1e10".to_string()),
        Just("1e-400".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("-0".to_string()),
        Just(String::new()),
        Just(" ".to_string()),
        Just("3,5".to_string()),
        Just("0x10".to_string()),
        Just("99999999999999999999999999".to_string()),
        Just("\"4.5\"".to_string()),
        any::<f64>().prop_map(|x| x.to_string()),
        (-1000.0..1000.0f64).prop_map(|x| format!("{x:.3}")),
        (-3.0..11.0f64).prop_map(|x| format!("{x:.1}")),
        "[a-z]{1,6}",
    ]
}

/// Times as a hostile catalog might spell them.
fn hostile_time() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("2011-03-11T05:46:24.120Z".to_string()),
        Just("2011-02-30T00:00:00Z".to_string()),
        Just("2011-13-01T00:00:00Z".to_string()),
        Just("0000-01-01T00:00:00Z".to_string()),
        Just("-0001-06-01T00:00:00Z".to_string()),
        Just("9999-12-31T23:59:59Z".to_string()),
        Just("2016-12-31T23:59:60Z".to_string()),
        Just("2011-03-11 24:00:00".to_string()),
        Just("2011-03-11T05:46:24+09:00".to_string()),
        Just("2011-03-11".to_string()),
        Just("1e308".to_string()),
        Just(String::new()),
        (0i64..2_000_000_000).prop_map(|s| {
            Timestamp::from_second(s)
                .map(|t| t.to_string())
                .unwrap_or_default()
        }),
        "[0-9:TZ-]{0,24}",
    ]
}

/// A CSV row of `time,latitude,longitude,depth,magnitude` with hostile fields, cut short or
/// extended at random.
fn hostile_catalog_row() -> impl Strategy<Value = String> {
    (
        hostile_time(),
        prop::collection::vec(hostile_number(), 4),
        0usize..8,
    )
        .prop_map(|(time, numbers, keep)| {
            let mut fields = vec![time];
            fields.extend(numbers);
            fields.push("extra".into());
            fields.push("more".into());
            fields.truncate(keep);
            fields.join(",")
        })
}

/// The first bad line a lenient reading skipped, over every reason.
fn first_skipped_line<'a>(
    skipped: impl Iterator<Item = &'a quakelab::io::catalog::SkippedRows>,
) -> Option<u64> {
    skipped.filter_map(|s| s.first_lines.first().copied()).min()
}

/// Reads `path` with the format it is detected as, strictly and leniently, and checks that the
/// two agree and that every row is accounted for.
fn check_catalog_file(path: &Path, bytes: &[u8]) {
    let format = match CatalogFormat::detect(path) {
        Ok(format) => format,
        Err(e) => return assert_names_a_line(&e, path, bytes),
    };
    let strict = read_catalog(path, &format, &ReadOptions::default());
    let lenient = read_catalog(
        path,
        &format,
        &ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        },
    );
    if let Err(e) = &strict {
        assert_names_a_line(e, path, bytes);
    }
    match (strict, lenient) {
        (Ok((strict, _)), Ok((lenient, report))) => {
            assert_eq!(report.skipped_total(), 0);
            assert_eq!(strict, lenient);
        }
        (Err(e), Ok((_, report))) => {
            if let Error::Parse { line, .. } = e {
                assert_eq!(
                    first_skipped_line(report.skipped.values()),
                    Some(line),
                    "strict: {e}; lenient: {report:?}"
                );
            }
            assert_eq!(
                report.rows,
                report.kept + report.filtered_out + report.skipped_total(),
                "{report:?}"
            );
        }
        (Ok(_), Err(e)) => panic!("the strict reading succeeded, the lenient one failed: {e}"),
        (Err(_), Err(e)) => assert_names_a_line(&e, path, bytes),
    }
}

/// One event as a clean catalog row holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CleanEvent {
    time: Timestamp,
    latitude: f64,
    longitude: f64,
    depth_km: f64,
    magnitude: f64,
}

/// Events within every documented range: 1990–2030, latitude in [−90, 90], longitude in
/// [−180, 180), depth 0–700 km, magnitude −2 to 9.5, with the decimals catalogs print.
fn clean_event() -> impl Strategy<Value = CleanEvent> {
    (
        631_152_000i64..1_893_456_000,
        -90_000i64..=90_000,
        -180_000i64..180_000,
        0i64..70_000,
        -20i64..=95,
    )
        .prop_map(|(s, lat, lon, depth, m)| CleanEvent {
            time: Timestamp::from_second(s).unwrap(),
            latitude: lat as f64 / 1000.0,
            longitude: lon as f64 / 1000.0,
            depth_km: depth as f64 / 100.0,
            magnitude: m as f64 / 10.0,
        })
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn catalog_reader_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        header in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = if header {
            b"time,latitude,longitude,depth,magnitude\n".to_vec()
        } else {
            Vec::new()
        };
        text.extend(&bytes);
        let path = write(dir.path(), "events.csv", &text);
        check_catalog_file(&path, &text);
    }

    #[test]
    fn catalog_reader_never_panics_on_hostile_rows(
        rows in prop::collection::vec(hostile_catalog_row(), 0..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("time,latitude,longitude,depth,magnitude\n");
        for row in &rows {
            text.push_str(row);
            text.push('\n');
        }
        let path = write(dir.path(), "events.csv", text.as_bytes());
        check_catalog_file(&path, text.as_bytes());
    }

    #[test]
    fn catalog_reader_reads_clean_rows_exactly(
        events in prop::collection::vec(clean_event(), 0..20),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("time,latitude,longitude,depth,magnitude\n");
        for e in &events {
            text.push_str(&format!(
                "{},{},{},{},{}\n",
                e.time, e.latitude, e.longitude, e.depth_km, e.magnitude
            ));
        }
        let path = write(dir.path(), "events.csv", text.as_bytes());
        let format = CatalogFormat::detect(&path).unwrap();
        let (catalog, report) = read_catalog(&path, &format, &ReadOptions::default()).unwrap();
        prop_assert_eq!((report.rows, report.kept), (events.len(), events.len()));
        let key = |e: &CleanEvent| {
            (e.time, e.latitude.to_bits(), e.longitude.to_bits(), e.magnitude.to_bits())
        };
        let mut read: Vec<CleanEvent> = catalog
            .events()
            .iter()
            .map(|e| CleanEvent {
                time: e.time,
                latitude: e.latitude,
                longitude: e.longitude,
                depth_km: e.depth_km.unwrap_or(f64::NAN),
                magnitude: e.magnitude,
            })
            .collect();
        let mut written = events.clone();
        read.sort_by_key(key);
        written.sort_by_key(key);
        prop_assert_eq!(read, written);
    }
}

/// A `.tenv3` data line (23 columns) with some fields replaced by hostile text and the line cut
/// short at random.
fn hostile_tenv3_line() -> impl Strategy<Value = String> {
    let date = prop_oneof![
        Just("11MAR10".to_string()),
        Just("11FEB30".to_string()),
        Just("00XXX01".to_string()),
        Just("99DEC31".to_string()),
        "[0-9]{2}[A-Z]{3}[0-9]{2}",
    ];
    (
        date,
        prop::collection::vec(prop::option::of(hostile_number()), 21),
        0usize..=24,
    )
        .prop_map(|(date, replacements, keep)| {
            let base = [
                "2011.1869",
                "55630",
                "1626",
                "4",
                "139.0",
                "100",
                "0.500000",
                "4206000",
                "0.250000",
                "100",
                "0.010000",
                "0.0000",
                "0.001000",
                "0.001000",
                "0.004000",
                "0.000000",
                "0.000000",
                "0.000000",
                "38.0000000000",
                "139.0000000000",
                "100.01000",
            ];
            let mut fields = vec!["AAAA".to_string(), date];
            for (value, replacement) in base.iter().zip(replacements) {
                fields.push(replacement.unwrap_or_else(|| value.to_string()));
            }
            fields.truncate(keep);
            fields.join(" ")
        })
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn tenv3_reader_never_panics_and_accounts_for_every_line(
        lines in prop::collection::vec(hostile_tenv3_line(), 0..10),
        header in any::<bool>(),
        noise in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        if header {
            text.push_str(
                "site YYMMMDD yyyy.yyyy __MJD week d reflon _e0(m) __east(m) ____n0(m) _north(m) \
                 u0(m) ____up(m) _ant(m) sig_e(m) sig_n(m) sig_u(m) __corr_en __corr_eu \
                 __corr_nu _latitude(deg) _longitude(deg) __height(m)\n",
            );
        }
        for line in &lines {
            text.push_str(line);
            text.push('\n');
        }
        let mut bytes = text.into_bytes();
        bytes.extend(&noise);
        let path = write(dir.path(), "AAAA.tenv3", &bytes);
        let strict = read_tenv3_with_report(&path, &Tenv3Options::default());
        let lenient = read_tenv3_with_report(
            &path,
            &Tenv3Options {
                lenient: true,
                ..Tenv3Options::default()
            },
        );
        if let Err(e) = &strict {
            assert_names_a_line(e, &path, &bytes);
        }
        if let Err(e) = &lenient {
            assert_names_a_line(e, &path, &bytes);
        }
        match (strict, lenient) {
            (Ok((strict, _)), Ok((lenient, report))) => {
                prop_assert_eq!(report.skipped_total(), 0);
                prop_assert_eq!(strict, lenient);
            }
            (Err(e), Ok((_, report))) => {
                if let Error::Parse { line, .. } = e {
                    prop_assert_eq!(first_skipped_line(report.skipped.values()), Some(line));
                }
                prop_assert_eq!(report.lines, report.days + report.skipped_total());
            }
            (Ok(_), Err(e)) => {
                panic!("the strict reading succeeded, the lenient one failed: {e}")
            }
            (Err(_), Err(_)) => {}
        }
    }

    #[test]
    fn station_list_reader_never_panics(
        lines in prop::collection::vec(
            prop::collection::vec(prop_oneof![hostile_number(), "[A-Z0-9]{4}".prop_map(String::from)], 0..14),
            0..8,
        ),
        noise in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from(
            "Sta  Lat(deg)   Long(deg) Hgt(m)  X(m)           Y(m)         Z(m)          Dtbeg      \
             Dtend      Dtmod      NumSol StaOrigName\n",
        );
        for fields in &lines {
            text.push_str(&fields.join(" "));
            text.push('\n');
        }
        let mut bytes = text.into_bytes();
        bytes.extend(&noise);
        let path = write(dir.path(), "DataHoldings.txt", &bytes);
        if let Err(e) = read_station_list(&path) {
            assert_names_a_line(&e, &path, &bytes);
        }
    }

    #[test]
    fn geonet_reader_never_panics(
        rows in prop::collection::vec(
            (hostile_time(), prop::collection::vec(hostile_number(), 3), 0usize..6),
            0..8,
        ),
        stations in prop::collection::vec(any::<u8>(), 0..128),
        station_bytes in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let stations_text = if station_bytes {
            stations
        } else {
            b"site,lat_deg,lon_deg,height_m\nJ188,39.6583,140.2342,74.700\n".to_vec()
        };
        write(dir.path(), "stations.csv", &stations_text);
        let mut text = String::from("time,lon,lat,ver,group\n");
        for (time, numbers, keep) in &rows {
            let mut fields = vec![time.clone()];
            fields.extend(numbers.iter().cloned());
            fields.push("J188".into());
            fields.truncate(*keep);
            text.push_str(&fields.join(","));
            text.push('\n');
        }
        let path = write(dir.path(), "J188.csv", text.as_bytes());
        if let Err(Error::Parse { path: named, line, .. }) =
            read_geonet_dir(dir.path(), &GeonetMapping::default())
        {
            prop_assert!(named == path || named.ends_with("stations.csv"), "{}:{}", named.display(), line);
        }
    }
}

/// TOML text from the experiment keys with hostile values.
fn hostile_experiment() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("name"),
        Just("seed"),
        Just("region"),
        Just("decoders"),
        Just("period.start"),
        Just("period.end"),
        Just("data.catalog"),
        Just("data.gnss"),
        Just("features.seismicity.mc"),
        Just("features.seismicity.window_days"),
        Just("features.seismicity.step_days"),
        Just("features.seismicity.min_events"),
        Just("features.seismicity.estimator"),
        Just("features.gnss.grid"),
        Just("features.gnss.sigma_cells"),
        Just("labels.bandwidth"),
        Just("dataset.horizon_days"),
        Just("encoder.pca_dims"),
        Just("split.train_fraction"),
        Just("split.kinds"),
        Just("sweep.axes"),
    ];
    let value = prop_oneof![
        hostile_number(),
        hostile_time().prop_map(|t| format!("\"{t}\"")),
        Just("\"synthetic:../../x\"".to_string()),
        Just("\"100000x100000\"".to_string()),
        Just("[\"ridge\", \"nope\"]".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        "\"[a-z0-9,:x._/-]{0,12}\"",
    ];
    prop::collection::vec((key, value), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect()
    })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn experiment_file_resolution_never_panics(
        text in hostile_experiment(),
        noise in prop::collection::vec(any::<u8>(), 0..48),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = text.into_bytes();
        bytes.extend(&noise);
        let path = write(dir.path(), "experiment.toml", &bytes);
        let mut layers = Layers::new(&path);
        layers.real_data_dir = None;
        let _resolved_or_refused = config::resolve(&layers);
    }
}

// ---------------------------------------------------------------------------------------------
// Sliding windows: the fast path against a plain loop
// ---------------------------------------------------------------------------------------------

/// The README's comparison: M counts at threshold T when `M ≥ T − 1e-9`.
fn at_or_above(m: f64, threshold: f64) -> bool {
    m >= threshold - 1e-9
}

/// One window's expected row, computed from its events alone.
#[derive(Debug)]
struct Expected {
    day: usize,
    n_events: usize,
    mc: f64,
    value: Result<Fit, Missing>,
}

/// What the estimator sees: the sample's mean offset from its reference (Mc, or dmc for
/// differences), the variance term `Σ(x − x̄)²/(m(m−1))` of Shi & Bolt's σ_b, and the sample size m.
#[derive(Debug)]
struct Fit {
    mean: f64,
    variance_of_mean: f64,
    n_b: usize,
}

/// The rule that turns a mean offset into b, as `seismicity::bvalue` documents it.
fn rule(p: &BValueParams) -> BEstimator {
    match (p.estimator, p.difference_mle) {
        (BEstimator::BPositive | BEstimator::BMorePositive, DifferenceMle::AkiUtsu) => {
            BEstimator::AkiUtsu
        }
        (BEstimator::BPositive | BEstimator::BMorePositive, DifferenceMle::TintiMulargia) => {
            BEstimator::TintiMulargia
        }
        (other, _) => other,
    }
}

/// b from a mean offset: eq. (19), Aki-Utsu, or Tinti & Mulargia.
fn b_of_mean(mean: f64, p: &BValueParams) -> f64 {
    let w = p.bin_width;
    match rule(p) {
        BEstimator::Aki => std::f64::consts::LOG10_E / mean,
        BEstimator::AkiUtsu => std::f64::consts::LOG10_E / (mean + w / 2.0),
        _ => (1.0 + w / mean).ln() / w / std::f64::consts::LN_10,
    }
}

/// The mean offset a b came from (the inverse of [`b_of_mean`]).
fn mean_of_b(b: f64, p: &BValueParams) -> f64 {
    let w = p.bin_width;
    match rule(p) {
        BEstimator::Aki => std::f64::consts::LOG10_E / b,
        BEstimator::AkiUtsu => std::f64::consts::LOG10_E / b - w / 2.0,
        _ => w / (b * std::f64::consts::LN_10 * w).exp_m1(),
    }
}

/// The windows of `kind` as index ranges into `times` (ascending), with each row's day and
/// whether it is incomplete, laid out as `seismicity::bvalue` documents them.
fn window_ranges(times: &[f64], n_days: usize, kind: WindowKind) -> Vec<(Vec<usize>, usize, bool)> {
    match kind {
        WindowKind::Days {
            window_days,
            step_days,
        } => (0..n_days)
            .step_by(step_days)
            .map(|d| {
                let start = d as f64 + 1.0 - window_days as f64;
                let end = d as f64 + 1.0;
                let members = (0..times.len())
                    .filter(|&i| times[i] >= start && times[i] < end)
                    .collect();
                (members, d, d + 1 < window_days)
            })
            .collect(),
        WindowKind::Events {
            n_events,
            step_events,
        } => (0..times.len())
            .step_by(step_events)
            .take_while(|&lo| lo + n_events <= times.len())
            .map(|lo| {
                let members: Vec<usize> = (lo..lo + n_events).collect();
                (members, times[lo + n_events - 1].floor() as usize, false)
            })
            .collect(),
    }
}

/// The mode of the magnitudes' bins (`round(M / width)`, ties to the lowest bin), as its centre.
fn maxc(magnitudes: &[f64], width: f64) -> f64 {
    let mut counts = std::collections::BTreeMap::<i64, usize>::new();
    for &m in magnitudes {
        *counts.entry((m / width).round() as i64).or_default() += 1;
    }
    let mut best = (0i64, 0usize);
    for (&k, &c) in &counts {
        if c > best.1 {
            best = (k, c);
        }
    }
    best.0 as f64 * width
}

/// Every row of [`sliding_b_values`], recomputed one window at a time from its events.
fn naive_rows(
    sel: &Selection,
    n_days: usize,
    window: WindowKind,
    p: &BValueParams,
) -> Vec<Expected> {
    let analysed: Vec<(f64, f64)> = sel
        .times()
        .iter()
        .zip(sel.magnitudes())
        .map(|(&t, &m)| (t, m))
        .filter(|&(t, m)| {
            t >= 0.0
                && t < n_days as f64
                && m.is_finite()
                && match p.mc {
                    McChoice::Fixed(mc) => at_or_above(m, mc),
                    McChoice::PerWindow { .. } => true,
                }
        })
        .collect();
    let times: Vec<f64> = analysed.iter().map(|e| e.0).collect();
    let delta = p.dmc.unwrap_or(p.bin_width);
    window_ranges(&times, n_days, window)
        .into_iter()
        .map(|(members, day, incomplete)| {
            let magnitudes: Vec<f64> = members.iter().map(|&i| analysed[i].1).collect();
            let mc = match p.mc {
                McChoice::Fixed(mc) => mc,
                McChoice::PerWindow { method } => {
                    let McMethod::Maxc { correction } = method else {
                        panic!("the windows property draws MAXC only");
                    };
                    if magnitudes.is_empty() {
                        let value = if incomplete {
                            Missing::Incomplete
                        } else {
                            Missing::TooFewEvents { n: 0 }
                        };
                        return Expected {
                            day,
                            n_events: 0,
                            mc: f64::NAN,
                            value: Err(value),
                        };
                    }
                    maxc(&magnitudes, p.bin_width) + correction
                }
            };
            let above: Vec<f64> = magnitudes
                .iter()
                .copied()
                .filter(|&m| at_or_above(m, mc))
                .collect();
            let n = above.len();
            let value = if incomplete {
                Err(Missing::Incomplete)
            } else if n < p.min_events {
                Err(Missing::TooFewEvents { n })
            } else {
                let sample: Vec<f64> = match p.estimator {
                    BEstimator::BPositive => magnitudes
                        .windows(2)
                        .map(|w| w[1] - w[0])
                        .filter(|&d| at_or_above(d, delta))
                        .map(|d| d - delta)
                        .collect(),
                    // Each event of the window with the first later one in the window at least
                    // delta larger, by a plain scan.
                    BEstimator::BMorePositive => (0..magnitudes.len())
                        .filter_map(|i| {
                            magnitudes[i + 1..]
                                .iter()
                                .map(|&later| later - magnitudes[i])
                                .find(|&d| at_or_above(d, delta))
                        })
                        .map(|d| d - delta)
                        .collect(),
                    _ => above.iter().map(|m| m - mc).collect(),
                };
                fit(&sample, p)
            };
            Expected {
                day,
                n_events: n,
                mc,
                value,
            }
        })
        .collect()
}

/// The estimator's statistics of one window's sample, or why it has none.
fn fit(sample: &[f64], p: &BValueParams) -> Result<Fit, Missing> {
    let m = sample.len();
    if m < 2 {
        return Err(Missing::InvalidFit);
    }
    let mf = m as f64;
    let mean = sample.iter().sum::<f64>() / mf;
    let b = b_of_mean(mean, p);
    if !(b.is_finite() && b > 0.0) {
        return Err(Missing::InvalidFit);
    }
    let squares: f64 = sample.iter().map(|x| (x - mean) * (x - mean)).sum();
    Ok(Fit {
        mean,
        variance_of_mean: squares / (mf * (mf - 1.0)),
        n_b: m,
    })
}

/// Compares one fast row with its recomputation. `bound` is the largest absolute value a summed
/// term can take, `n` the number of analysed events; the fast path sums prefixes over up to `n`
/// terms, so its first moments may be off by `4·n²·ε·bound` and its second by `4·n²·ε·bound²`
/// (recursive summation: at most `(n − 1)·ε·Σ|x|` per prefix, two prefixes per window).
fn assert_row_matches(
    fast: &WindowRow,
    want: &Expected,
    params: &BValueParams,
    bound: f64,
    n: usize,
) {
    let context = || format!("fast {fast:?}\nnaive {want:?}");
    assert_eq!(fast.day, want.day, "{}", context());
    assert_eq!(fast.n_events, want.n_events, "{}", context());
    if want.mc.is_nan() {
        assert!(fast.mc.is_nan(), "{}", context());
    } else {
        assert!((fast.mc - want.mc).abs() <= 1e-12, "{}", context());
    }
    let nf = n as f64;
    let e1 = 4.0 * nf * nf * f64::EPSILON * bound;
    let e2 = 4.0 * nf * nf * f64::EPSILON * bound * bound;
    match (&fast.value, &want.value) {
        (Err(a), Err(b)) => assert_eq!(a, b, "{}", context()),
        (Ok(v), Ok(w)) => {
            let BAValue { b, b_std, a, n_b } = *v;
            assert_eq!(n_b, w.n_b, "{}", context());
            let m = w.n_b as f64;
            let mean = mean_of_b(b, params);
            let tol_mean = 2.0 * e1 / m + 1e-12 * (w.mean.abs() + params.bin_width);
            assert!(
                (mean - w.mean).abs() <= tol_mean,
                "mean offset {mean} vs {} (tolerance {tol_mean})\n{}",
                w.mean,
                context()
            );
            let variance = (b_std / (SHI_BOLT_FACTOR * b * b)).powi(2);
            let mean_bound = w.mean.abs() + 1.0;
            let tol_variance =
                (e2 + 3.0 * mean_bound * e1) / (m * (m - 1.0)) + 1e-12 * w.variance_of_mean;
            assert!(
                (variance - w.variance_of_mean).abs() <= tol_variance,
                "variance {variance} vs {} (tolerance {tol_variance})\n{}",
                w.variance_of_mean,
                context()
            );
            // eq. (20): a − b·Mc = log10 N, with N the window's count at or above Mc.
            let log_n = a - b * fast.mc;
            assert!(
                (log_n - (want.n_events as f64).log10()).abs() <= 1e-9 * (1.0 + a.abs()),
                "a − b·Mc = {log_n}, log10 N = {}\n{}",
                (want.n_events as f64).log10(),
                context()
            );
        }
        _ => panic!("one has a value, the other not\n{}", context()),
    }
}

/// A random window case: the selection, the period length and the settings.
#[derive(Debug, Clone)]
struct WindowCase {
    sel: Selection,
    n_days: usize,
    window: WindowKind,
    params: BValueParams,
}

/// Random catalogs (some events outside the period), windows, steps, estimators and Mc choices.
/// With a per-window Mc the magnitudes lie on the bin grid, as binned catalogs' do (the sliding
/// histogram then counts exactly the events at or above Mc); with a fixed Mc they are arbitrary.
fn window_case() -> impl Strategy<Value = WindowCase> {
    let estimator = prop_oneof![
        Just(BEstimator::Aki),
        Just(BEstimator::AkiUtsu),
        Just(BEstimator::TintiMulargia),
        Just(BEstimator::BPositive),
        Just(BEstimator::BMorePositive),
    ];
    let difference_mle = prop_oneof![
        Just(DifferenceMle::TintiMulargia),
        Just(DifferenceMle::AkiUtsu)
    ];
    let window = prop_oneof![
        (1usize..120, 1usize..15).prop_map(|(window_days, step_days)| WindowKind::Days {
            window_days,
            step_days
        }),
        (2usize..60, 1usize..15).prop_map(|(n_events, step_events)| WindowKind::Events {
            n_events,
            step_events
        }),
    ];
    (
        1usize..300,
        prop::collection::vec((0.0..1.0f64, 0.0..1.0f64), 0..250),
        estimator,
        window,
        any::<bool>(),
        prop_oneof![Just(0.1), Just(0.2)],
        2usize..30,
        prop_oneof![Just(None), Just(Some(0.2)), Just(Some(0.3))],
        (10i64..40, prop_oneof![Just(0.0), Just(0.2), Just(-0.1)]),
        difference_mle,
    )
        .prop_map(
            |(
                n_days,
                raw,
                estimator,
                window,
                per_window,
                bin_width,
                min_events,
                delta,
                (mc_bin, correction),
                difference_mle,
            )| {
                let inverse = (1.0f64 / bin_width).round();
                let mut events: Vec<(f64, f64)> = raw
                    .iter()
                    .map(|&(u, v)| {
                        let t = -20.0 + u * (n_days as f64 + 40.0);
                        let m = if per_window {
                            (v * 6.0 * inverse).round() / inverse
                        } else {
                            v * 6.0
                        };
                        (t, m)
                    })
                    .collect();
                events.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mc = if per_window {
                    McChoice::PerWindow {
                        method: McMethod::Maxc { correction },
                    }
                } else {
                    McChoice::Fixed(mc_bin as f64 / 10.0)
                };
                WindowCase {
                    sel: Selection::new(
                        events.iter().map(|e| e.0).collect(),
                        events.iter().map(|e| e.1).collect(),
                    )
                    .expect("sorted finite times and magnitudes in 0..6 form a valid selection"),
                    n_days,
                    window,
                    params: BValueParams {
                        estimator,
                        mc,
                        bin_width,
                        min_events,
                        dmc: delta,
                        difference_mle,
                    },
                }
            },
        )
}

/// The fast path's rows (the one call site of [`sliding_b_values`] here).
fn fast_rows(case: &WindowCase) -> Vec<WindowRow> {
    let spec = match case.window {
        WindowKind::Days {
            window_days,
            step_days,
        } => WindowSpec::time(window_days, step_days),
        WindowKind::Events {
            n_events,
            step_events,
        } => WindowSpec::events(n_events, step_events),
    }
    .unwrap();
    let params = case.params.check().unwrap();
    sliding_b_values(&case.sel, case.n_days, &spec, &params)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn sliding_windows_equal_a_plain_loop_over_each_window(case in window_case()) {
        let rows = fast_rows(&case);
        let want = naive_rows(&case.sel, case.n_days, case.window, &case.params);
        prop_assert_eq!(rows.len(), want.len());
        let n = case.sel.len().max(1);
        let mc = match case.params.mc {
            McChoice::Fixed(mc) => mc,
            McChoice::PerWindow { method } => match method {
                McMethod::Maxc { correction } => 6.0 + correction.abs(),
                _ => 6.0,
            },
        };
        let largest = case.sel.magnitudes().iter().fold(0.0f64, |a, m| a.max(m.abs()));
        let bound = 2.0 * largest + mc.abs() + 1.0;
        for (fast, want) in rows.iter().zip(&want) {
            assert_row_matches(fast, want, &case.params, bound, n);
        }
    }
}
