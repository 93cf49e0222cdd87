//! The fuzz targets of quakelab's readers: each takes arbitrary bytes as the contents of one
//! input file, reads it with every mode the reader has, and must return (`Ok` or `Err`) without
//! panicking, aborting or hanging. The readers take paths, so the bytes are written to a fresh
//! temporary directory first.
//!
//! [`TARGETS`] lists them by name for the `replay` example; `fuzz_targets/*.rs` wrap each one for
//! libFuzzer.

use std::path::{Path, PathBuf};

use quakelab::experiment::config::{self, Layers};
use quakelab::io::catalog::{CatalogFormat, ReadOptions, read_catalog};
use quakelab::io::geonet::{GeonetMapping, STATIONS_FILE, read_geonet_dir};
use quakelab::io::stations::read_station_list;
use quakelab::io::tenv3::{Tenv3Options, read_tenv3_with_report};

/// A fuzz target: reads its input and returns, whatever the input.
pub type Target = fn(&[u8]);

/// Every target by name, as `cargo fuzz` and `replay` call them.
pub const TARGETS: [(&str, Target); 5] = [
    ("catalog_csv", catalog_csv),
    ("tenv3", tenv3),
    ("geonet", geonet),
    ("stations", stations),
    ("experiment_toml", experiment_toml),
];

/// Separates the station file from the series in a [`geonet`] input.
pub const GEONET_SEPARATOR: &[u8] = b"\n%%\n";

/// A station file for [`geonet`] inputs that bring none: one made-up station in north-east Japan.
const GEONET_STATIONS: &[u8] = b"site,lat_deg,lon_deg,height_m\nX001,39.5000,140.2000,75.000\n";

/// A temporary directory holding `files`, each written with its bytes.
fn files(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("a temporary directory for the fuzz input");
    let paths = files
        .iter()
        .map(|(name, bytes)| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("the fuzz input written to a temporary file");
            path
        })
        .collect();
    (dir, paths)
}

/// A catalog CSV: format detection, then the detected format (or ComCat's, when detection
/// refuses), strictly and leniently, with duplicates dropped.
pub fn catalog_csv(data: &[u8]) {
    let (_dir, paths) = files(&[("events.csv", data)]);
    let path = &paths[0];
    let format = CatalogFormat::detect(path).unwrap_or(CatalogFormat::Comcat);
    for lenient in [false, true] {
        let options = ReadOptions {
            lenient,
            drop_duplicates: lenient,
            ..ReadOptions::default()
        };
        let _ = read_catalog(path, &format, &options);
    }
}

/// An NGL `.tenv3` file, strictly and leniently.
pub fn tenv3(data: &[u8]) {
    let (_dir, paths) = files(&[("FUZZ.tenv3", data)]);
    for lenient in [false, true] {
        let options = Tenv3Options {
            lenient,
            ..Tenv3Options::default()
        };
        let _ = read_tenv3_with_report(&paths[0], &options);
    }
}

/// A GEONET displacement directory. The input is the station file, [`GEONET_SEPARATOR`], and one
/// station's series; without a separator it is the series alone, beside a valid station file.
pub fn geonet(data: &[u8]) {
    let (stations, series) = match find(data, GEONET_SEPARATOR) {
        Some(at) => (&data[..at], &data[at + GEONET_SEPARATOR.len()..]),
        None => (GEONET_STATIONS, data),
    };
    let (dir, _) = files(&[(STATIONS_FILE, stations), ("X001.csv", series)]);
    let _ = read_geonet_dir(dir.path(), &GeonetMapping::default());
}

/// An NGL station list (`DataHoldings.txt`).
pub fn stations(data: &[u8]) {
    let (_dir, paths) = files(&[("DataHoldings.txt", data)]);
    let _ = read_station_list(&paths[0]);
}

/// An experiment file, layered and resolved with no environment and no real-data directory.
pub fn experiment_toml(data: &[u8]) {
    let (_dir, paths) = files(&[("experiment.toml", data)]);
    let mut layers = Layers::new(paths[0].as_path());
    layers.real_data_dir = None;
    let _ = config::resolve(&layers);
}

/// The position of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Runs `target` on every file under `path` (a file, or a directory read recursively) and returns
/// how many inputs it ran; a panic in the target propagates.
pub fn replay(target: Target, path: &Path) -> std::io::Result<usize> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        entries.sort();
        let mut count = 0;
        for entry in entries {
            count += replay(target, &entry)?;
        }
        Ok(count)
    } else {
        target(&std::fs::read(path)?);
        Ok(1)
    }
}
