//! What a decoder's `fit` is given besides its training rows: the seed, the thread budget,
//! the device and, optionally, validation rows for early stopping.
//!
//! The runner derives the seed from the experiment seed, the split and the decoder through
//! [`crate::rng::derive_seed`], so a decoder never picks its own randomness, and a change of
//! `experiment.seed` changes every decoder's draws. The thread budget is the number of threads
//! of the rayon pool the fit runs in (a sweep runs each configuration in a pool of its own);
//! [`FitContext::install`] runs parallel work inside exactly that many threads.

use std::num::NonZeroUsize;

use faer::MatRef;

pub use crate::device::Device;
use crate::{Error, Result};

/// Held-out rows a decoder may watch while it fits (early stopping), never fitted on.
///
/// At least one row, one finite label per row, no infinite feature (NaN is a missing value,
/// which only decoders that take missing values accept in their training rows); the column
/// count is checked against the training matrix by [`super::check_fit_input`].
#[derive(Debug, Clone, Copy)]
pub struct ValidationRows<'a> {
    x: MatRef<'a, f64>,
    y: &'a [f64],
}

impl<'a> ValidationRows<'a> {
    /// The validation features (rows are samples, the training columns).
    pub fn x(&self) -> MatRef<'a, f64> {
        self.x
    }

    /// The validation labels, one per row of [`ValidationRows::x`].
    pub fn y(&self) -> &'a [f64] {
        self.y
    }
}

/// The fit context: everything a decoder's `fit` needs besides its training rows.
#[derive(Debug, Clone, Copy)]
pub struct FitContext<'a> {
    seed: u64,
    threads: NonZeroUsize,
    device: Device,
    validation: Option<ValidationRows<'a>>,
    progress: bool,
}

impl<'a> FitContext<'a> {
    /// A context with `seed`, the current rayon pool's thread count as the budget, the CPU,
    /// no validation rows, and progress bars shown.
    pub fn new(seed: u64) -> Self {
        FitContext {
            seed,
            threads: NonZeroUsize::new(rayon::current_num_threads()).unwrap_or(NonZeroUsize::MIN),
            device: Device::Cpu,
            validation: None,
            progress: true,
        }
    }

    /// The same context with a thread budget of `threads`.
    pub fn with_threads(self, threads: NonZeroUsize) -> Self {
        FitContext { threads, ..self }
    }

    /// The same context without the fit's own progress bar (fits run side by side, under
    /// one bar of their own).
    pub fn without_progress(self) -> Self {
        FitContext {
            progress: false,
            ..self
        }
    }

    /// The same context on `device`.
    pub fn with_device(self, device: Device) -> Self {
        FitContext { device, ..self }
    }

    /// The same context with validation rows `x` (m × p) and labels `y` (m).
    ///
    /// An [`Error::Numerical`] unless there is at least one row, one finite label per row, and
    /// no infinite feature.
    pub fn with_validation(self, x: MatRef<'a, f64>, y: &'a [f64]) -> Result<Self> {
        if x.nrows() == 0 || x.nrows() != y.len() {
            return Err(Error::Numerical(format!(
                "validation rows: {} rows and {} labels; need at least one row and one label \
                 per row",
                x.nrows(),
                y.len()
            )));
        }
        if let Some(row) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "validation label {row} is {}, not a finite number",
                y[row]
            )));
        }
        for col in 0..x.ncols() {
            if let Some(row) = (0..x.nrows()).find(|&row| x[(row, col)].is_infinite()) {
                return Err(Error::Numerical(format!(
                    "validation feature at row {row}, column {col} is {}, not a finite number",
                    x[(row, col)]
                )));
            }
        }
        Ok(FitContext {
            validation: Some(ValidationRows { x, y }),
            ..self
        })
    }

    /// The seed of this fit's random draws.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The most threads this fit may keep busy.
    pub fn threads(&self) -> usize {
        self.threads.get()
    }

    /// Whether a long fit may draw its own progress bar.
    pub fn shows_progress(&self) -> bool {
        self.progress
    }

    /// The device to compute on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The validation rows, if the caller set some aside.
    pub fn validation(&self) -> Option<ValidationRows<'a>> {
        self.validation
    }

    /// Runs `work` with rayon's parallel iterators limited to the thread budget: in the
    /// current pool when it already has that many threads, else in a pool built for it.
    pub fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> Result<R> {
        if rayon::current_num_threads() == self.threads() {
            return Ok(work());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads())
            .build()
            .map_err(|e| {
                Error::Numerical(format!(
                    "cannot start a pool of {} threads: {e}",
                    self.threads()
                ))
            })?;
        Ok(pool.install(work))
    }
}

#[cfg(test)]
mod tests {
    use faer::Mat;

    use super::*;

    #[test]
    fn install_runs_inside_the_thread_budget() {
        for threads in [1, 3] {
            let ctx = FitContext::new(0).with_threads(NonZeroUsize::new(threads).unwrap());
            assert_eq!(ctx.install(rayon::current_num_threads).unwrap(), threads);
        }
    }

    #[test]
    fn validation_rows_must_match_and_be_finite() {
        let x = Mat::from_fn(2, 2, |i, j| (i + j) as f64);
        let ctx = FitContext::new(5);
        assert!(ctx.validation().is_none());
        let with = ctx.with_validation(x.as_ref(), &[1.0, 2.0]).unwrap();
        assert_eq!(with.validation().map(|v| v.y().len()), Some(2));
        assert_eq!((with.seed(), with.device()), (5, Device::Cpu));
        assert!(ctx.with_validation(x.as_ref(), &[1.0]).is_err());
        assert!(ctx.with_validation(x.as_ref(), &[1.0, f64::NAN]).is_err());
        let mut bad = x.clone();
        bad[(1, 0)] = f64::INFINITY;
        assert!(ctx.with_validation(bad.as_ref(), &[1.0, 2.0]).is_err());
    }
}
