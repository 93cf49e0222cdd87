//! The data hashes of an experiment: what its inputs were, next to the config hash.
//!
//! Two runs with the same config hash computed the same thing only if they read the same data,
//! so a run records its data hashes (`run.json`, `data_hashes`) and a sweep that resumes counts
//! a finished run as done only when both hashes agree. The hashes are computed before any work,
//! cheaply, from the inputs as they are on disk:
//!
//! | name | source | hash |
//! |---|---|---|
//! | `catalog` | a file | SHA-256 of the file's bytes |
//! | `catalog`, `gnss` | `synthetic:NAME` | SHA-256 of the scenario's content (below) |
//! | `gnss` | a `.tenv3` or GEONET directory | SHA-256 over its files (below) |
//! | `geomag` | `synthetic:NAME`, an IAGA-2002 directory, the station CSV and its metadata | as above; the two files' hashes hashed together |
//!
//! `gnss` is present only when the encoder reads the GNSS images, `geomag` only for the
//! `vgg12_geomag` method (which reads no GNSS). A scenario with a `[geomag]` network adds it to
//! its content as `"geomag"`. A scenario's content is the
//! canonical JSON (keys sorted) of what generates the data, `{"etas", "gnss", "region", "seed"}`,
//! so an edited scenario file changes it and a renamed one does not. A directory's hash runs over
//! its regular files, recursively, sorted by their path relative to the directory (`/`
//! separated), each as `path NUL length NUL bytes`; hidden files (a name starting with `.`, such
//! as the temporaries of an interrupted write) are left out.
//!
//! All hashes are lower-case hex, 64 digits.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::experiment::config::{
    CatalogSource, GeomagSource, GnssSource, Method, ResolvedExperiment,
};
use crate::synth::Scenario;
use crate::{Error, Result};

/// Data hashes by input name (`catalog`, `gnss`), as stored in a run record.
pub type DataHashes = BTreeMap<String, String>;

/// The data hashes of `experiment`'s inputs (see the module docs).
pub fn data_hashes(experiment: &ResolvedExperiment) -> Result<DataHashes> {
    DataHasher::default().hashes(experiment)
}

/// Computes data hashes, hashing each file or directory once however many experiments (sweep
/// points) read it.
#[derive(Debug, Default)]
pub struct DataHasher {
    files: HashMap<PathBuf, String>,
}

impl DataHasher {
    /// The data hashes of `experiment`'s inputs (see the module docs).
    pub fn hashes(&mut self, experiment: &ResolvedExperiment) -> Result<DataHashes> {
        let mut hashes = DataHashes::new();
        let catalog = match experiment.catalog() {
            CatalogSource::Synthetic(scenario) => scenario_hash(scenario)?,
            CatalogSource::File { path, .. } => self.memo(path, file_hash)?,
        };
        hashes.insert("catalog".into(), catalog);
        if let Method::Vgg12Geomag(settings) = experiment.method() {
            let geomag = match &settings.geomag {
                GeomagSource::Synthetic(scenario) => scenario_hash(scenario)?,
                GeomagSource::Iaga2002(dir) => self.memo(dir, directory_hash)?,
                GeomagSource::Csv { series, stations } => {
                    let series = self.memo(series, file_hash)?;
                    let stations = self.memo(stations, file_hash)?;
                    hex(&Sha256::digest(format!("{series}\0{stations}").as_bytes()))
                }
            };
            hashes.insert("geomag".into(), geomag);
            return Ok(hashes);
        }
        if experiment.encoder().uses_images() {
            let gnss = match experiment.gnss() {
                GnssSource::Synthetic(scenario) => scenario_hash(scenario)?,
                GnssSource::Tenv3(dir) | GnssSource::Geonet(dir) => {
                    self.memo(dir, directory_hash)?
                }
            };
            hashes.insert("gnss".into(), gnss);
        }
        Ok(hashes)
    }

    fn memo(&mut self, path: &Path, hash: fn(&Path) -> Result<String>) -> Result<String> {
        if let Some(known) = self.files.get(path) {
            return Ok(known.clone());
        }
        let computed = hash(path)?;
        self.files.insert(path.to_path_buf(), computed.clone());
        Ok(computed)
    }
}

/// SHA-256 of a file's bytes.
fn file_hash(path: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    feed(&mut hasher, path)?;
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 over a directory's regular files (see the module docs).
fn directory_hash(dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    list_files(dir, dir, &mut files)?;
    files.sort();
    let mut hasher = Sha256::new();
    for (relative, path) in files {
        let length = std::fs::metadata(&path)
            .map_err(|e| Error::io(&path, e))?
            .len();
        hasher.update(relative.as_bytes());
        hasher.update([0]);
        hasher.update(length.to_string().as_bytes());
        hasher.update([0]);
        feed(&mut hasher, &path)?;
    }
    Ok(hex(&hasher.finalize()))
}

/// The regular files under `dir` as `(path relative to root, path)`, hidden names left out.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        // Links are followed, so a directory of links hashes like the files it points to.
        let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
        if is_dir {
            list_files(root, &path, out)?;
        } else if kind.is_file() || path.is_file() {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((relative, path));
        }
    }
    Ok(())
}

/// Streams a file into `hasher`.
fn feed(hasher: &mut Sha256, path: &Path) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buffer[..n]);
    }
}

/// SHA-256 of a scenario's content (see the module docs).
fn scenario_hash(scenario: &Scenario) -> Result<String> {
    let r = &scenario.region;
    let mut content = serde_json::json!({
        "etas": scenario.etas.params(),
        "gnss": scenario.gnss.params(),
        "region": [r.lon_min, r.lon_max, r.lat_min, r.lat_max],
        "seed": scenario.seed,
    });
    // Only where a scenario has a magnetometer network, so the hashes of the others stay.
    if let Some(geomag) = &scenario.geomag {
        content["geomag"] = serde_json::to_value(geomag).map_err(|e| {
            Error::config(
                "scenario",
                format!("cannot serialise scenario `{}`: {e}", scenario.name),
            )
        })?;
    }
    // serde_json's maps are sorted by key (no `preserve_order`), so this text is canonical.
    let text = serde_json::to_string(&content).map_err(|e| {
        Error::config(
            "scenario",
            format!("cannot serialise scenario `{}`: {e}", scenario.name),
        )
    })?;
    Ok(hex(&Sha256::digest(text.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hashes_to_the_sha256_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.csv");
        std::fs::write(&path, "abc").unwrap();
        // The FIPS 180-2 test vector for "abc".
        assert_eq!(
            file_hash(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_directory_hashes_its_files_in_path_order_without_hidden_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.tenv3"), "B").unwrap();
        std::fs::write(dir.path().join("sub").join("a.tenv3"), "AA").unwrap();
        std::fs::write(dir.path().join(".b.tenv3.1.0.tmp"), "partial").unwrap();
        // By hand: "b.tenv3\0" "1\0" "B" then "sub/a.tenv3\0" "2\0" "AA".
        let expected = hex(&Sha256::digest(b"b.tenv3\x001\x00Bsub/a.tenv3\x002\x00AA"));
        assert_eq!(directory_hash(dir.path()).unwrap(), expected);
    }

    #[test]
    fn a_scenario_hash_follows_its_content_not_its_name() {
        let japan = Scenario::builtin("japan").unwrap();
        let mut renamed = japan.clone();
        renamed.name = "elsewhere".into();
        assert_eq!(
            scenario_hash(&japan).unwrap(),
            scenario_hash(&renamed).unwrap()
        );
        let mut reseeded = japan.clone();
        reseeded.seed += 1;
        assert_ne!(
            scenario_hash(&japan).unwrap(),
            scenario_hash(&reseeded).unwrap()
        );
        let null = Scenario::builtin("null").unwrap();
        assert_ne!(
            scenario_hash(&japan).unwrap(),
            scenario_hash(&null).unwrap()
        );
    }
}
