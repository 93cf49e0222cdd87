//! Named synthetic scenarios: a region, a seed and the generators' parameters, in TOML.
//!
//! The built-in scenarios are `experiments/scenarios/{japan,sichuan,null}.toml`, embedded in the
//! binary so `quakelab synth catalog --scenario japan` works from any directory. Any other TOML
//! file with the same sections can be loaded by path. `null` is `japan` (same seed, catalog and
//! network) without the planted GNSS precursor: the pair is a planted-signal check, one with a
//! real precursor and one with none.
//!
//! A scenario file has one section per concern, and unknown keys are errors that name the key:
//!
//! ```toml
//! [scenario]
//! name = "japan"
//! description = "..."
//! region = "123,148,22,46"   # LON0,LON1,LAT0,LAT1
//! seed = 2009
//!
//! [etas]
//! m_min = 3.0
//! # ... see synth::etas::EtasParams
//! incompleteness = "helmstetter"   # optional; default "none" (see synth::incompleteness)
//!
//! [[etas.bands]]
//! name = "japan-kuril-izu"
//! vertices = [[147.5, 43.4], [144.0, 42.0]]
//! width_km = 50.0
//! depth_km = 30.0
//! depth_sd_km = 15.0
//!
//! [gnss.layout]
//! n_stations = 300
//! # ... see synth::gnss::GnssParams; every scenario has a [gnss] section, and
//! # [gnss.precursor] is the only optional part of it.
//!
//! [geomag]            # optional: the synthetic geomagnetic network
//! strength = 1.0      # see synth::geomag::GeomagScenario; unset keys take its defaults
//! ```
//!
//! Loading is two-phase: [`ScenarioFile`] is exactly what the file says; [`ScenarioFile::check`]
//! turns it into a [`Scenario`] whose parameters are validated.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, Region};
use crate::period::Period;
use crate::synth::etas::{self, EtasParams, SimReport, Simulation, ValidEtasParams};
use crate::synth::geomag::GeomagScenario;
use crate::synth::gnss::{GnssParams, ValidGnssParams};
use crate::{Error, Result};

/// The built-in scenarios: name and TOML text.
const BUILT_IN: [(&str, &str); 3] = [
    (
        "japan",
        include_str!("../../experiments/scenarios/japan.toml"),
    ),
    (
        "sichuan",
        include_str!("../../experiments/scenarios/sichuan.toml"),
    ),
    (
        "null",
        include_str!("../../experiments/scenarios/null.toml"),
    ),
];

/// A scenario file as written (unchecked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name, region and seed.
    pub scenario: ScenarioSection,
    /// The ETAS catalog generator.
    pub etas: EtasParams,
    /// The synthetic GNSS network.
    pub gnss: GnssParams,
    /// The synthetic geomagnetic network; absent means the scenario has none.
    #[serde(default)]
    pub geomag: Option<GeomagScenario>,
}

/// The `[scenario]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSection {
    /// Short name (used in result paths).
    pub name: String,
    /// One or two sentences on what the scenario imitates.
    #[serde(default)]
    pub description: String,
    /// The region box, `LON0,LON1,LAT0,LAT1`.
    pub region: String,
    /// The default seed of every generator in the scenario.
    pub seed: u64,
}

impl ScenarioFile {
    /// Parses scenario TOML; `origin` names the file in errors (a path, or the built-in's path).
    pub fn from_toml(text: &str, origin: &Path) -> Result<ScenarioFile> {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |span| {
                text[..span.start.min(text.len())].matches('\n').count() + 1
            });
            let field = unknown_field(e.message()).unwrap_or_else(|| "toml".to_string());
            Error::parse(origin, line as u64, field, e.message().trim().to_string())
        })
    }

    /// Validates every section and returns the checked scenario; errors name the key
    /// (`scenario.region`, `etas.k`, ...).
    pub fn check(self) -> Result<Scenario> {
        let region =
            Region::parse(&self.scenario.region).map_err(|e| rekey(e, "scenario.region"))?;
        crate::ensure_config!(
            !self.scenario.name.trim().is_empty(),
            "scenario.name",
            "must not be empty"
        );
        Ok(Scenario {
            name: self.scenario.name,
            description: self.scenario.description,
            region,
            seed: self.scenario.seed,
            etas: self.etas.check()?,
            gnss: self.gnss.check()?,
            geomag: match self.geomag {
                Some(geomag) => {
                    geomag.check()?;
                    Some(geomag)
                }
                None => None,
            },
        })
    }
}

/// The key named in serde's "unknown field `x`" message, so a typo's error names it.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    rest.split('`').next().map(str::to_string)
}

/// Gives a config error from a shared parser (which knows its value, not where it sits) the
/// scenario's key.
fn rekey(error: Error, key: &str) -> Error {
    match error {
        Error::Config { message, .. } => Error::config(key, message),
        other => other,
    }
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What it imitates.
    pub description: String,
    /// Events outside this box are discarded.
    pub region: Region,
    /// The seed every generator uses (the CLI's `--seed` overrides it).
    pub seed: u64,
    /// The ETAS generator's checked parameters.
    pub etas: ValidEtasParams,
    /// The GNSS network's checked parameters.
    pub gnss: ValidGnssParams,
    /// The geomagnetic network's checked parameters, where the scenario has a `[geomag]`
    /// section.
    pub geomag: Option<GeomagScenario>,
}

impl Scenario {
    /// The names of the built-in scenarios.
    pub fn names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(name, _)| *name).collect()
    }

    /// A built-in scenario by name, or a scenario TOML file by path.
    ///
    /// An argument ending in `.toml` or containing a path separator is a path; anything else is a
    /// built-in name, and an unknown name is an error listing the built-in ones.
    pub fn load(name_or_path: &str) -> Result<Scenario> {
        let is_path = name_or_path.ends_with(".toml")
            || name_or_path.contains('/')
            || name_or_path.contains(std::path::MAIN_SEPARATOR);
        if is_path {
            let path = Path::new(name_or_path);
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            ScenarioFile::from_toml(&text, path)?.check()
        } else {
            Scenario::builtin(name_or_path)
        }
    }

    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Result<Scenario> {
        let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            Error::config(
                "scenario",
                format!(
                    "no built-in scenario `{name}`; built-in: {} (or give a path to a .toml file)",
                    Scenario::names().join(", ")
                ),
            )
        })?;
        let origin = Path::new("experiments")
            .join("scenarios")
            .join(format!("{name}.toml"));
        ScenarioFile::from_toml(text, &origin)?.check()
    }
}

/// Simulates the scenario's ETAS catalog over `period`, inside its region, with its seed: the
/// events its network detects (all of them unless `etas.incompleteness` is set).
pub fn simulate_catalog(scenario: &Scenario, period: &Period) -> Result<(Catalog, SimReport)> {
    etas::simulate(&scenario.etas, &scenario.region, period, scenario.seed)
}

/// The scenario's simulation with its truth kept (see [`etas::simulate_with_truth`]): the true
/// catalog, which events its network detected, and the report, refusing a scenario expected to
/// draw more than `max_events` events.
pub fn simulate_scenario(
    scenario: &Scenario,
    period: &Period,
    max_events: usize,
) -> Result<Simulation> {
    etas::simulate_with_truth(
        &scenario.etas,
        &scenario.region,
        period,
        scenario.seed,
        max_events,
    )
}

/// [`simulate_catalog`] refusing a scenario expected to draw more than `max_events` events (see
/// [`etas::simulate_limited`]).
pub fn simulate_catalog_limited(
    scenario: &Scenario,
    period: &Period,
    max_events: usize,
) -> Result<(Catalog, SimReport)> {
    etas::simulate_limited(
        &scenario.etas,
        &scenario.region,
        period,
        scenario.seed,
        max_events,
    )
}

impl Scenario {
    /// A SHA-256 (hex) of everything the scenario's catalog over `period` depends on: the ETAS
    /// parameters as resolved (the incompleteness model among them, when set), the region, the seed and the period. Neither the scenario's name
    /// nor its file path enters, so an edited file gets a new key and two scenarios with the
    /// same catalog settings (`japan` and `null`) share one.
    pub fn catalog_key(&self, period: &Period) -> Result<String> {
        let etas = serde_json::to_string(self.etas.params())
            .map_err(|e| Error::Numerical(format!("cannot serialise the ETAS parameters: {e}")))?;
        let r = &self.region;
        let text = format!(
            "quakelab synthetic catalog v1\netas {etas}\nregion {},{},{},{}\nseed {}\nperiod {} {}\n",
            r.lon_min,
            r.lon_max,
            r.lat_min,
            r.lat_max,
            self.seed,
            period.start(),
            period.end()
        );
        let digest = Sha256::digest(text.as_bytes());
        Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Incompleteness;

    #[test]
    fn built_in_scenarios_load_with_their_regions() {
        assert_eq!(Scenario::names(), vec!["japan", "sichuan", "null"]);
        let japan = Scenario::load("japan").unwrap();
        assert_eq!(japan.region, Region::JAPAN);
        let sichuan = Scenario::load("sichuan").unwrap();
        assert_eq!(sichuan.region, Region::SICHUAN);
        for s in [&japan, &sichuan] {
            assert!(s.etas.branching_ratio() > 0.0 && s.etas.branching_ratio() < 1.0);
        }
    }

    #[test]
    fn the_files_on_disk_are_the_embedded_ones() {
        // Loading by path goes through the same parser; the repository's copies must agree.
        let japan = Scenario::load("experiments/scenarios/japan.toml").unwrap();
        let builtin = Scenario::builtin("japan").unwrap();
        assert_eq!(japan.etas.params(), builtin.etas.params());
        assert_eq!(japan.gnss, builtin.gnss);
    }

    #[test]
    fn null_is_japan_without_the_precursor() {
        let japan = Scenario::builtin("japan").unwrap();
        let null = Scenario::builtin("null").unwrap();
        assert_eq!(null.name, "null");
        assert_eq!(
            (null.region, null.seed, null.etas.params()),
            (japan.region, japan.seed, japan.etas.params())
        );
        assert!(japan.gnss.precursor().is_some());
        assert!(null.gnss.precursor().is_none());
        let mut planted = japan.gnss.params().clone();
        planted.precursor = None;
        assert_eq!(&planted, null.gnss.params());
    }

    #[test]
    fn bad_gnss_values_name_their_key() {
        let mut file = ScenarioFile::from_toml(japan_text(), Path::new("x.toml")).unwrap();
        file.gnss.noise.white_mm[2] = -1.0;
        match file.check() {
            Err(Error::Config { key, .. }) => assert_eq!(key, "gnss.noise.white_mm"),
            other => panic!("expected a config error, got {other:?}"),
        }
        let text = japan_text().replacen("direction = \"toward\"", "direction = \"up\"", 1);
        assert!(ScenarioFile::from_toml(&text, Path::new("x.toml")).is_err());
    }

    #[test]
    fn unknown_name_lists_the_built_ins() {
        let err = Scenario::load("atlantis").unwrap_err().to_string();
        assert!(err.contains("japan, sichuan"), "{err}");
    }

    fn japan_text() -> &'static str {
        BUILT_IN[0].1
    }

    #[test]
    fn a_typo_is_an_error_naming_the_key_and_line() {
        let text = japan_text().replacen("burn_in_days", "burnin_days", 1);
        let line = text
            .lines()
            .position(|l| l.starts_with("burnin_days"))
            .unwrap() as u64
            + 1;
        match ScenarioFile::from_toml(&text, Path::new("typo.toml")) {
            Err(Error::Parse {
                line: l,
                field,
                message,
                ..
            }) => {
                assert_eq!(field, "burnin_days");
                assert_eq!(l, line);
                assert!(message.contains("burnin_days"), "{message}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let key_of = |text: &str| match ScenarioFile::from_toml(text, Path::new("x.toml"))
            .and_then(ScenarioFile::check)
        {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        };
        let text = japan_text().replacen(
            "region = \"123,148,22,46\"",
            "region = \"148,123,22,46\"",
            1,
        );
        assert_eq!(key_of(&text), "scenario.region");
        let mut file = ScenarioFile::from_toml(japan_text(), Path::new("x.toml")).unwrap();
        file.etas.k *= 100.0;
        match file.check() {
            Err(Error::Config { key, message }) => {
                assert_eq!(key, "etas.k");
                assert!(message.contains("supercritical"), "{message}");
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn catalog_key_follows_the_content_not_the_name() {
        let period = Period::parse("2020-01-01", "2021-01-01").unwrap();
        let japan = Scenario::builtin("japan").unwrap();
        let null = Scenario::builtin("null").unwrap();
        let key = japan.catalog_key(&period).unwrap();
        assert_eq!(key.len(), 64);
        assert_eq!(key, null.catalog_key(&period).unwrap());
        let mut reseeded = japan.clone();
        reseeded.seed += 1;
        assert_ne!(key, reseeded.catalog_key(&period).unwrap());
        let longer = Period::parse("2020-01-01", "2021-01-02").unwrap();
        assert_ne!(key, japan.catalog_key(&longer).unwrap());
    }

    #[test]
    fn catalog_key_includes_the_incompleteness_model() {
        let period = Period::parse("2020-01-01", "2021-01-01").unwrap();
        let japan = Scenario::builtin("japan").unwrap();
        assert_eq!(japan.etas.params().incompleteness, Incompleteness::None);
        // Unset, the model is left out of the hashed parameters, so existing cache keys stand.
        let etas = serde_json::to_string(japan.etas.params()).unwrap();
        assert!(!etas.contains("incompleteness"), "{etas}");
        let text = japan_text().replacen(
            "burn_in_days = 3650.0\n",
            "burn_in_days = 3650.0\nincompleteness = \"helmstetter\"\n",
            1,
        );
        let thinned = ScenarioFile::from_toml(&text, Path::new("x.toml"))
            .and_then(ScenarioFile::check)
            .unwrap();
        assert_eq!(
            thinned.etas.params().incompleteness,
            Incompleteness::Helmstetter
        );
        assert_ne!(
            japan.catalog_key(&period).unwrap(),
            thinned.catalog_key(&period).unwrap()
        );
        let text = japan_text().replacen(
            "burn_in_days = 3650.0\n",
            "burn_in_days = 3650.0\nincompleteness = \"none\"\n",
            1,
        );
        let explicit = ScenarioFile::from_toml(&text, Path::new("x.toml"))
            .and_then(ScenarioFile::check)
            .unwrap();
        assert_eq!(
            japan.catalog_key(&period).unwrap(),
            explicit.catalog_key(&period).unwrap()
        );
    }

    #[test]
    fn a_scenario_file_loads_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, japan_text().replacen("seed = ", "seed = 1", 1)).unwrap();
        let s = Scenario::load(path.to_str().unwrap()).unwrap();
        let builtin = Scenario::builtin("japan").unwrap();
        assert_eq!(s.seed.to_string(), format!("1{}", builtin.seed));
    }
}
