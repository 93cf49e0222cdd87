//! Synthetic scenarios with known truth, written in the same formats as real data.
//!
//! - [`etas`]: the ETAS catalog simulator (background bands, Omori-Utsu cascades, GR magnitudes).
//! - [`incompleteness`]: which events a network detects; short-term incompleteness after large
//!   events (Helmstetter et al. 2006), applied to a simulated catalog with its truth kept.
//! - [`geomag`]: the synthetic 25-station geomagnetic network (daily total intensity, storms,
//!   planted anomalies before events), as a [`crate::geomag::DailyField`].
//! - [`gnss`]: the synthetic GNSS network (velocity field, seasonal terms, flicker-like noise,
//!   gaps, co- and postseismic offsets, planted precursors), written as NGL `.tenv3` files.
//! - [`scenario`]: named scenarios (`japan`, `sichuan`, and `null`, which is `japan` without the
//!   planted precursor) whose parameters live in TOML under `experiments/scenarios/`.
//!
//! ```no_run
//! use quakelab::period::Period;
//! use quakelab::synth::{Scenario, simulate_catalog};
//!
//! let scenario = Scenario::load("japan")?;
//! let period = Period::parse("2009-01-01", "2024-01-01")?;
//! let (catalog, report) = simulate_catalog(&scenario, &period)?;
//! println!("{report}");
//! quakelab::io::catalog::write_comcat(std::path::Path::new("catalog.csv"), &catalog)?;
//! # Ok::<(), quakelab::Error>(())
//! ```

pub mod etas;
pub mod geomag;
pub mod gnss;
pub mod incompleteness;
pub mod scenario;

pub use etas::Simulation;
pub use gnss::{GnssReport, simulate_network, write_network};
pub use incompleteness::Incompleteness;
pub use scenario::{Scenario, simulate_catalog, simulate_catalog_limited, simulate_scenario};
