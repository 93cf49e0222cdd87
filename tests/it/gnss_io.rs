//! The GNSS readers on hand-made fixtures and on the real NGL and GEONET files (read in place,
//! never copied). Every expected number below was counted or read off the files' text by hand
//! (`wc -l`, `awk`, `grep`), not taken from the readers' output.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use quakelab::gnss::StationSeries;
use quakelab::io::geonet::{GeonetMapping, read_geonet_dir};
use quakelab::io::stations::read_station_list;
use quakelab::io::tenv3::{Tenv3Options, read_tenv3, read_tenv3_dir, write_tenv3};

use crate::support;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gnss/io")
}

fn day(text: &str) -> Date {
    text.parse().unwrap()
}

fn assert_close(a: f64, b: f64, tolerance: f64) {
    assert!((a - b).abs() <= tolerance, "{a} vs {b}");
}

/// The change of `[east, north, up]` from `from` to `to`, in metres.
fn change(series: &StationSeries, from: &str, to: &str) -> [f64; 3] {
    let a = series.position_on(day(from)).unwrap();
    let b = series.position_on(day(to)).unwrap();
    [b[0] - a[0], b[1] - a[1], b[2] - a[2]]
}

#[test]
fn fixture_directory_with_both_layouts_and_a_station_list() {
    let (list, _) = read_station_list(&fixtures().join("DataHoldings.txt")).unwrap();
    let options = Tenv3Options {
        station_list: Some(&list),
        ..Tenv3Options::default()
    };
    let (set, report) = read_tenv3_dir(&fixtures().join("tenv3"), &options).unwrap();
    assert_eq!(
        (set.len(), report.days(), report.skipped_total()),
        (2, 5, 0)
    );
    let [a, b] = set.series() else {
        panic!("two stations expected");
    };
    // AAAA's own columns win over the list's 10N 10E; -221.0 is 139.0E.
    assert_eq!(a.station().name, "AAAA");
    assert_eq!((a.station().latitude, a.station().longitude), (38.0, 139.0));
    assert_close(a.station().height_m, 100.01, 1e-12);
    // East 100 + 0.5 = 100.5, then 101 - 0.4 = 100.6; north 0.25 then 0.23; up 0.01 then 0.
    let [e, n, u] = change(a, "2011-03-10", "2011-03-12");
    assert_close(e, 0.1, 1e-9);
    assert_close(n, -0.02, 1e-8);
    assert_close(u, -0.01, 1e-9);
    // BBBB is a 20-column file: its position comes from the list.
    assert_eq!(b.station().name, "BBBB");
    assert_eq!(
        (
            b.station().latitude,
            b.station().longitude,
            b.station().height_m
        ),
        (36.1, 141.0, 50.5)
    );
    assert_close(b.positions()[0][0], -1999.9, 1e-9);
    assert_close(change(b, "2011-03-10", "2011-03-11")[0], 0.05, 1e-9);
    assert_eq!(list[1].original_name.as_deref(), Some("B site two"));

    // Written back and read again, AAAA is the same series.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("AAAA.tenv3");
    write_tenv3(&path, a).unwrap();
    let back = read_tenv3(&path, &Tenv3Options::default()).unwrap();
    assert_eq!(back.dates(), a.dates());
    for (x, y) in back.positions().iter().zip(a.positions()) {
        for k in 0..3 {
            assert_close(x[k], y[k], 1e-5);
        }
    }
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn real_ngl_tenv3_files() {
    let dir = support::real_data("gnss/ngl");
    let lhas = read_tenv3(&dir.join("LHAS.tenv3"), &Tenv3Options::default()).unwrap();
    // `wc -l` gives 3,632 lines: the header and 3,631 days, 95MAY19 to 07JAN29.
    assert_eq!(lhas.len(), 3631);
    assert_eq!(lhas.dates()[0], day("1995-05-19"));
    assert_eq!(lhas.dates()[3630], day("2007-01-29"));
    let station = lhas.station();
    assert_eq!(station.name, "LHAS");
    // The first line's longitude -268.8960142076 is 91.1039857924E; latitude 29.6573392384.
    assert_close(station.longitude, 91.1039857924, 1e-9);
    assert_close(station.latitude, 29.6573392384, 1e-12);
    assert_close(station.height_m, 3624.70788, 1e-9);
    // First line: east 385 + 0.888603, north 3282129 + 0.602585, up 3624 + 0.707878.
    let [e, n, u] = lhas.positions()[0];
    assert_close(e, 385.888603, 1e-9);
    assert_close(n, 3282129.602585, 1e-8);
    assert_close(u, 3624.707878, 1e-9);

    let (set, report) = read_tenv3_dir(&dir, &Tenv3Options::default()).unwrap();
    // CHAN has 6,588 lines and IRKJ 7,754, each with one header.
    assert_eq!(report.files.len(), 3);
    assert_eq!(report.days(), 3631 + 6587 + 7753);
    assert_eq!(report.skipped_total(), 0);
    let chan = set
        .series()
        .iter()
        .find(|s| s.station().name == "CHAN")
        .unwrap();
    // -234.5558020471 is 125.4441979529E, at 43.7906870848N: inside the Japan box.
    assert_close(chan.station().longitude, 125.4441979529, 1e-9);
    assert_close(chan.station().latitude, 43.7906870848, 1e-12);
    assert!((123.0..148.0).contains(&chan.station().longitude));
    assert!((22.0..46.0).contains(&chan.station().latitude));
    assert_eq!(chan.dates()[0], day("2000-10-10"));
    let irkj = &set.series()[1];
    assert_eq!(irkj.station().name, "IRKJ");
    assert_close(irkj.station().longitude, 104.3161810505, 1e-9);
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn real_ngl_station_list() {
    let dir = support::real_data("gnss/ngl");
    let (entries, report) = read_station_list(&dir.join("DataHoldings_japan_box.txt")).unwrap();
    // 1,669 lines: a header and 1,668 stations; 327 lines have 11 fields (no original name).
    assert_eq!(entries.len(), 1668);
    assert_eq!((report.stations, report.unnamed), (1668, 327));
    // awk finds no longitude outside [-180, 180) in this extract.
    assert_eq!(report.wrapped_longitudes, 0);
    assert!(entries.iter().all(|e| {
        (123.0..=148.0).contains(&e.station.longitude)
            && (22.0..=46.0).contains(&e.station.latitude)
    }));
    // The data README says 986 stations cover 2009–2024; awk counts 986 with Dtbeg on or before
    // 2009-01-01 and Dtend on or after 2024-01-01.
    let spanning = entries
        .iter()
        .filter(|e| e.spans(day("2009-01-01"), day("2024-01-01")))
        .count();
    assert_eq!(spanning, 986);
    let aira = entries.iter().find(|e| e.station.name == "AIRA").unwrap();
    assert_eq!(
        (
            aira.station.latitude,
            aira.station.longitude,
            aira.solutions
        ),
        (31.8241, 130.5996, 9395)
    );
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn real_geonet_tohoku_offsets_confirm_the_default_mapping() {
    let dir = support::real_data("gnss/geonet18");
    let set = read_geonet_dir(&dir, &GeonetMapping::default()).unwrap();
    assert_eq!(set.len(), 18);
    // 63,125 lines in all the CSVs: 19 in stations.csv and 18 headers leave 63,088 days.
    let days: usize = set.series().iter().map(StationSeries::len).sum();
    assert_eq!(days, 63088);

    let j188 = set
        .series()
        .iter()
        .find(|s| s.station().name == "J188")
        .unwrap();
    assert_eq!(
        (j188.station().latitude, j188.station().longitude),
        (39.6583, 140.2342)
    );
    // J188 (Akita) rows: 2011-03-10 lon -19.89, lat 17.48, ver 8.81;
    // 2011-03-12 lon -510.11, lat 858.34, ver 45.42 (mm). With `lat` as east:
    // east +840.86 mm, north -490.22 mm, up +36.61 mm.
    let [e, n, u] = change(j188, "2011-03-10", "2011-03-12");
    assert!(
        e > 0.5,
        "J188 must move east by more than 500 mm, moved {e} m"
    );
    assert_close(e, 0.84086, 1e-9);
    assert_close(n, -0.49022, 1e-9);
    assert_close(u, 0.03661, 1e-9);

    // Tohoku pulled all of north-east Japan east. North of 37N lie J188 (39.66N) and J861
    // (43.91N, Hokkaido, +8.52 mm).
    let north: Vec<&StationSeries> = set
        .series()
        .iter()
        .filter(|s| s.station().latitude > 37.0)
        .collect();
    assert_eq!(north.len(), 2);
    for series in north {
        let [e, _, _] = change(series, "2011-03-10", "2011-03-12");
        assert!(e > 0.0, "{} moved {e} m east", series.station().name);
    }

    // The file's names taken at their word (lon as east) would move Akita 490 mm west.
    let literal = GeonetMapping {
        east: "lon".into(),
        north: "lat".into(),
        up: "ver".into(),
    };
    let set = read_geonet_dir(&dir, &literal).unwrap();
    let j188 = set
        .series()
        .iter()
        .find(|s| s.station().name == "J188")
        .unwrap();
    assert!(change(j188, "2011-03-10", "2011-03-12")[0] < -0.4);
}
