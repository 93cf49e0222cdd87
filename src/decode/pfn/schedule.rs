//! The learning-rate schedule of pretraining: a linear warmup, then a cosine decay.
//!
//! The rate is a pure function of the step, so a run resumed from a checkpoint at step `s`
//! continues with exactly the rates the uninterrupted run would have used.

use serde::{Deserialize, Serialize};

use crate::Result;

/// A linear warmup from 0 to `peak` over `warmup_steps`, then a cosine decay from `peak` down to
/// `peak · final_ratio` at `total_steps` (and held there after it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningRateSchedule {
    /// The largest rate, reached at the end of the warmup.
    pub peak: f64,
    /// Steps of the linear warmup (0: start at the peak).
    pub warmup_steps: u64,
    /// The step at which the decay ends.
    pub total_steps: u64,
    /// The final rate as a share of the peak, in [0, 1].
    pub final_ratio: f64,
}

impl Default for LearningRateSchedule {
    /// A peak of 1e-3 after 1,000 warmup steps, decaying to 1e-5 (1%) at 100,000 steps.
    fn default() -> Self {
        LearningRateSchedule {
            peak: 1e-3,
            warmup_steps: 1_000,
            total_steps: 100_000,
            final_ratio: 0.01,
        }
    }
}

impl LearningRateSchedule {
    /// Refuses a peak that is not positive and finite, a warmup longer than the schedule, and
    /// a final ratio outside [0, 1], naming the key under `key` (`pfn.optim.schedule`).
    pub fn check(&self, key: &str) -> Result<()> {
        crate::ensure_config!(
            self.peak.is_finite() && self.peak > 0.0,
            format!("{key}.peak"),
            "must be a positive number, got {}",
            self.peak
        );
        crate::ensure_config!(
            self.total_steps >= 1 && self.warmup_steps <= self.total_steps,
            format!("{key}.warmup_steps"),
            "must lie in 0..={} (total_steps, at least 1), got {}",
            self.total_steps,
            self.warmup_steps
        );
        crate::ensure_config!(
            (0.0..=1.0).contains(&self.final_ratio),
            format!("{key}.final_ratio"),
            "must lie in [0, 1], got {}",
            self.final_ratio
        );
        Ok(())
    }

    /// The rate of step `step` (0-based): `peak · (step + 1) / warmup_steps` during the warmup,
    /// then `peak · (r + (1 − r) · (1 + cos(π t)) / 2)` with `t` the share of the decay done
    /// and `r` the final ratio.
    pub fn at(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.peak * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let decay = (self.total_steps - self.warmup_steps).max(1) as f64;
        let t = ((step - self.warmup_steps) as f64 / decay).min(1.0);
        let r = self.final_ratio;
        self.peak * (r + (1.0 - r) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> LearningRateSchedule {
        LearningRateSchedule {
            peak: 2e-3,
            warmup_steps: 4,
            total_steps: 12,
            final_ratio: 0.1,
        }
    }

    #[test]
    fn the_warmup_climbs_linearly_to_the_peak() {
        let s = schedule();
        // (step + 1) / 4 of 2e-3.
        for (step, rate) in [(0, 5e-4), (1, 1e-3), (2, 1.5e-3), (3, 2e-3)] {
            assert!((s.at(step) - rate).abs() < 1e-15, "step {step}");
        }
    }

    #[test]
    fn the_decay_follows_the_half_cosine_to_the_final_rate() {
        let s = schedule();
        // The decay runs over steps 4..12 (8 steps): t = 0 at the peak; t = 1/2 halfway,
        // cos(π/2) = 0, so 2e-3 · (0.1 + 0.9 · 0.5) = 1.1e-3; t = 1 at 2e-4, held after.
        assert!((s.at(4) - 2e-3).abs() < 1e-15);
        assert!((s.at(8) - 1.1e-3).abs() < 1e-15);
        assert!((s.at(12) - 2e-4).abs() < 1e-15);
        assert!((s.at(1_000) - 2e-4).abs() < 1e-15);
        // t = 1/4: cos(π/4) = √2/2.
        let quarter = 2e-3 * (0.1 + 0.9 * 0.5 * (1.0 + std::f64::consts::FRAC_1_SQRT_2));
        assert!((s.at(6) - quarter).abs() < 1e-15);
    }

    #[test]
    fn a_schedule_without_warmup_starts_at_the_peak() {
        let s = LearningRateSchedule {
            warmup_steps: 0,
            ..schedule()
        };
        assert_eq!(s.at(0), 2e-3);
    }

    #[test]
    fn a_warmup_longer_than_the_schedule_is_refused() {
        let s = LearningRateSchedule {
            warmup_steps: 13,
            ..schedule()
        };
        match s.check("pfn.optim.schedule") {
            Err(crate::Error::Config { key, .. }) => {
                assert_eq!(key, "pfn.optim.schedule.warmup_steps")
            }
            other => panic!("{other:?}"),
        }
    }
}
