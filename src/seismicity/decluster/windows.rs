//! The space-time windows of window-based declustering: for a mainshock of magnitude `M`, how
//! far (km) and how long (days) its aftershocks reach.
//!
//! Three tables, with the formulas and units of SeismoStats' `GardnerKnopoffWindow`,
//! `GruenthalWindow` and `UhrhammerWindow`, which take them from the GEM Hazard Modeller's
//! Toolkit (see also van Stiphout, Zhuang & Marsan 2012, "Seismicity declustering", CORSSA):
//!
//! | table | distance (km) | duration (days) |
//! |---|---|---|
//! | Gardner & Knopoff (1974) | `10^(0.1238 M + 0.983)` | `10^(0.5409 M − 0.547)` for `M < 6.5`, else `10^(0.032 M + 2.7389)` |
//! | Gruenthal (1985) | `e^(1.77 + √(0.037 + 1.02 M))` | `|e^(−3.95 + √(0.62 + 17.32 M))|` for `M < 6.5`, else `10^(2.8 + 0.024 M)` |
//! | Uhrhammer (1986) | `e^(−1.024 + 0.804 M)` | `e^(−2.87 + 1.235 M)` |
//!
//! Gruenthal's square roots are undefined below about M −0.036; such a magnitude is refused
//! rather than given a window of NaN (which would make the event a mainshock that no window
//! reaches, silently).

use crate::{Error, Result};

/// Which table of space-time windows a window-based declustering uses.
///
/// In an experiment file: `gardner_knopoff`, `gruenthal`, `uhrhammer`; on the command line:
/// `gardner-knopoff`, `gruenthal`, `uhrhammer` (either spelling is accepted in both).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum WindowTable {
    /// Gardner & Knopoff (1974), fitted to southern California aftershock sequences.
    #[serde(alias = "gardner-knopoff")]
    #[value(alias = "gardner_knopoff")]
    GardnerKnopoff,
    /// Gruenthal (1985), for central Europe; longer in time than Gardner-Knopoff.
    Gruenthal,
    /// Uhrhammer (1986), for northern and central California; smaller windows.
    Uhrhammer,
}

/// A mainshock's window: every event within `distance_km` of its epicentre and within
/// `duration_days` after it (and, scaled by the foreshock proportion, before it) belongs to
/// its cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The great-circle distance reached, in km.
    pub distance_km: f64,
    /// The time reached after the mainshock, in days.
    pub duration_days: f64,
}

impl WindowTable {
    /// The table's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            WindowTable::GardnerKnopoff => "gardner-knopoff",
            WindowTable::Gruenthal => "gruenthal",
            WindowTable::Uhrhammer => "uhrhammer",
        }
    }

    /// The window of a mainshock of magnitude `magnitude`, before any time cutoff.
    ///
    /// Fails for a magnitude the table gives no finite, non-negative window for (Gruenthal's
    /// below about M −0.036, or a magnitude that is not finite).
    pub fn window(self, magnitude: f64) -> Result<Window> {
        let m = magnitude;
        let (distance_km, duration_days) = match self {
            WindowTable::GardnerKnopoff => {
                let duration = if m < 6.5 {
                    10f64.powf(0.5409 * m - 0.547)
                } else {
                    10f64.powf(0.032 * m + 2.7389)
                };
                (10f64.powf(0.1238 * m + 0.983), duration)
            }
            WindowTable::Gruenthal => {
                let duration = if m >= 6.5 {
                    10f64.powf(2.8 + 0.024 * m)
                } else {
                    (-3.95 + (0.62 + 17.32 * m).sqrt()).exp().abs()
                };
                ((1.77 + (0.037 + 1.02 * m).sqrt()).exp(), duration)
            }
            WindowTable::Uhrhammer => ((-1.024 + 0.804 * m).exp(), (-2.87 + 1.235 * m).exp()),
        };
        let usable = |v: f64| v.is_finite() && v >= 0.0;
        if !usable(distance_km) || !usable(duration_days) {
            return Err(Error::Numerical(format!(
                "the {} window is undefined for magnitude {m} (distance {distance_km} km, \
                 duration {duration_days} days)",
                self.name()
            )));
        }
        Ok(Window {
            distance_km,
            duration_days,
        })
    }
}

impl std::fmt::Display for WindowTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(found: f64, expected: f64) {
        assert!(
            (found - expected).abs() <= 1e-9 * expected.abs(),
            "{found} vs {expected}"
        );
    }

    #[test]
    fn the_tables_give_their_published_windows() {
        // Gardner-Knopoff at M 5.0: 10^(0.619 + 0.983) = 10^1.602 km and 10^(2.7045 − 0.547)
        // = 10^2.1575 days; at M 7.0 the long-duration branch, 10^(0.224 + 2.7389) days.
        let w = WindowTable::GardnerKnopoff.window(5.0).unwrap();
        close(w.distance_km, 10f64.powf(1.602));
        close(w.duration_days, 10f64.powf(2.1575));
        let w = WindowTable::GardnerKnopoff.window(7.0).unwrap();
        close(w.duration_days, 10f64.powf(2.9629));
        // Gruenthal at M 4.0: e^(1.77 + √4.117) km, e^(−3.95 + √69.9) days.
        let w = WindowTable::Gruenthal.window(4.0).unwrap();
        close(w.distance_km, (1.77 + 4.117f64.sqrt()).exp());
        close(w.duration_days, (-3.95 + 69.9f64.sqrt()).exp());
        // Its M >= 6.5 branch: 10^(2.8 + 0.156) days at M 6.5.
        close(
            WindowTable::Gruenthal.window(6.5).unwrap().duration_days,
            10f64.powf(2.956),
        );
        // Uhrhammer at M 3.0: e^1.388 km and e^0.835 days.
        let w = WindowTable::Uhrhammer.window(3.0).unwrap();
        close(w.distance_km, 1.388f64.exp());
        close(w.duration_days, 0.835f64.exp());
    }

    #[test]
    fn a_magnitude_without_a_gruenthal_window_is_refused() {
        // √(0.037 + 1.02 M) is undefined below M = −0.0363.
        let err = WindowTable::Gruenthal.window(-0.5).unwrap_err().to_string();
        assert!(
            err.contains("the gruenthal window is undefined for magnitude -0.5"),
            "{err}"
        );
        assert!(WindowTable::GardnerKnopoff.window(-0.5).is_ok());
    }
}
