//! The fits of one split, side by side.
//!
//! Every feature set × decoder × seed of a split is one [`FitJob`], and the jobs do not depend
//! on each other. [`fit_all`] runs as many at once as the current rayon pool has threads, one
//! thread per fit: a booster, a forest or a PFN on capped contexts, on a few thousand rows,
//! keeps one core busy far better than it keeps several, so each core fits a model of its own.
//! A decoder that fills the machine by itself
//! ([`crate::decode::DecoderSettings::fits_side_by_side`] false: TabPFN) is fitted afterwards,
//! alone, with the pool's whole thread budget.
//!
//! A side-by-side fit always gets exactly one thread, whatever the machine, so its result does
//! not depend on the number of cores: its fit and its prediction run inside a rayon pool of one
//! thread, so that a decoder's own parallel loops (the PFN's products) stay on it too. The
//! results come back in the order of the jobs, and the first failed job (in that order) is the
//! error.
//!
//! With a [`FitCache`] in the settings, a job whose fit was made before with the same inputs
//! is read back instead ([`super::cache::fits`]), and a new fit is stored.

use std::num::NonZeroUsize;
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use faer::{Mat, MatRef};

use crate::dataset::Split;
use crate::decode::{DecoderConfig, Device, FitContext, Prediction, QuantileLevels};
use crate::experiment::cache::fits::{FitCache, FitInputs, FitKey};
use crate::{Error, Result, progress};

/// One fit: a decoder on a feature set's matrix, with the seed of its stream.
pub(crate) struct FitJob<'a> {
    /// The decoder.
    pub decoder: &'a DecoderConfig,
    /// The names of the columns of `x`.
    pub names: &'a [String],
    /// The decoder's input, one row per table row.
    pub x: MatRef<'a, f64>,
    /// The target of each row; NaN rows are neither fitted nor scored.
    pub labels: &'a [f64],
    /// The fit's seed ([`crate::rng::derive_seed`] of the experiment seed and the fit's stream).
    pub seed: u64,
}

/// What every fit of a split shares: the split, the device, the quantile levels asked for, the
/// share of training rows held out for decoders that want validation rows, and the fit cache
/// (none when `tracking.fit_cache` is off).
#[derive(Clone, Copy)]
pub(crate) struct FitSettings<'a> {
    pub split: &'a Split,
    pub device: Device,
    pub levels: &'a QuantileLevels,
    pub validation_fraction: f64,
    pub cache: Option<&'a FitCache>,
}

/// Fits every job (see the module docs), one [`Fitted`] per job in the jobs' order.
pub(crate) fn fit_all(jobs: &[FitJob<'_>], settings: FitSettings<'_>) -> Result<Vec<Fitted>> {
    let bar = progress::bar(jobs.len() as u64, "fits");
    let (side_by_side, alone): (Vec<usize>, Vec<usize>) =
        (0..jobs.len()).partition(|&i| jobs[i].decoder.settings().fits_side_by_side());
    let mut fitted: Vec<Option<Result<Fitted>>> = (0..jobs.len()).map(|_| None).collect();
    // Plain threads, not rayon's: a rayon worker waiting on a fit's own pool would pick up
    // further fits meanwhile, nesting them on its stack, and their memory with them.
    let workers = rayon::current_num_threads().min(side_by_side.len());
    let next = AtomicUsize::new(0);
    let done = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
                    let mut done = Vec::new();
                    while let Some(&i) = side_by_side.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let ctx = FitContext::new(jobs[i].seed)
                            .with_device(settings.device)
                            .with_threads(NonZeroUsize::MIN)
                            .without_progress();
                        let fitted = match &pool {
                            Ok(pool) => pool.install(|| fit_or_read(&jobs[i], &ctx, settings)),
                            Err(e) => Err(Error::Numerical(format!(
                                "cannot start a fit's one-thread pool: {e}"
                            ))),
                        };
                        done.push((i, fitted));
                        release_freed_memory();
                        bar.inc(1);
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap_or_else(|panic| resume_unwind(panic)))
            .collect::<Vec<_>>()
    });
    for (i, result) in done {
        fitted[i] = Some(result);
    }
    for i in alone {
        let ctx = FitContext::new(jobs[i].seed).with_device(settings.device);
        fitted[i] = Some(fit_or_read(&jobs[i], &ctx, settings));
        bar.inc(1);
    }
    bar.finish_and_clear();
    fitted.into_iter().flatten().collect()
}

/// Hands the memory a finished fit freed back to the system. glibc's allocator gives every
/// thread that allocates while others do an arena of its own and keeps freed blocks there for
/// reuse; with fits side by side, the workers' arenas held on to their fits' freed buffers,
/// and the paper run's peak memory grew from 0.7 to 0.9 GB. `malloc_trim` returns the free
/// pages of every arena. Other platforms' allocators are left to themselves.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A fitted decoder's name, its predictions over a feature set's rows and, where it reports
/// them, its feature importances.
pub(crate) struct Fitted {
    /// [`crate::decode::Regressor::name`].
    pub name: String,
    /// One prediction per table row; NaN (and no quantiles) for rows without a target.
    pub prediction: Prediction,
    /// [`crate::decode::Regressor::feature_importance`], one per input column.
    pub importance: Option<Vec<f64>>,
    /// The wall time of the fit and its prediction, on the thread that ran them, or of
    /// reading them from the fit cache.
    pub elapsed: Duration,
    /// Whether the fit was read from the fit cache.
    pub cached: bool,
}

/// A job's fit, read from the fit cache when it holds one, else fitted (and stored there).
fn fit_or_read(
    job: &FitJob<'_>,
    ctx: &FitContext<'_>,
    settings: FitSettings<'_>,
) -> Result<Fitted> {
    let Some(cache) = settings.cache else {
        return fit_predict(job, ctx, settings);
    };
    let started = Instant::now();
    let key = FitKey::of(&FitInputs {
        decoder: job.decoder,
        names: job.names,
        x: job.x,
        labels: job.labels,
        train: settings.split.train(),
        validation_fraction: settings.validation_fraction,
        levels: settings.levels,
        seed: job.seed,
        device: settings.device,
        threads: ctx.threads(),
    });
    let Some(key) = key else {
        return fit_predict(job, ctx, settings);
    };
    if let Some(stored) = cache.read(&key) {
        return Ok(Fitted {
            elapsed: started.elapsed(),
            ..stored
        });
    }
    let fitted = fit_predict(job, ctx, settings)?;
    cache.write(&key, &fitted);
    Ok(fitted)
}

/// A decoder's predictions for every row with a target (NaN for the others), after fitting on
/// the split's training rows that have one. The quantiles at `levels` are asked for; decoders
/// that give only a point return one. A decoder that wants validation rows is fitted on the
/// first training days and watches the last `validation_fraction` of them.
fn fit_predict(
    job: &FitJob<'_>,
    ctx: &FitContext<'_>,
    settings: FitSettings<'_>,
) -> Result<Fitted> {
    let started = Instant::now();
    let FitJob {
        decoder,
        names,
        x,
        labels,
        ..
    } = *job;
    let FitSettings {
        split,
        levels,
        validation_fraction,
        ..
    } = settings;
    let rows_of = |rows: &[usize]| -> Vec<usize> {
        rows.iter()
            .copied()
            .filter(|&r| labels[r].is_finite())
            .collect()
    };
    let mut train = rows_of(split.train());
    let labelled = rows_of(&(0..labels.len()).collect::<Vec<_>>());
    let select = |rows: &[usize]| Mat::from_fn(rows.len(), x.ncols(), |i, j| x[(rows[i], j)]);
    let targets = |rows: &[usize]| -> Vec<f64> { rows.iter().map(|&r| labels[r]).collect() };
    let mut model = decoder.build(names)?;
    let validation = if decoder.settings().wants_validation() {
        train.sort_unstable();
        let held_out = validation_rows(train.len(), validation_fraction);
        Some(train.split_off(train.len() - held_out))
    } else {
        None
    };
    let (xv, yv) = validation
        .as_deref()
        .map_or((Mat::zeros(0, 0), Vec::new()), |rows| {
            (select(rows), targets(rows))
        });
    let ctx = match validation {
        Some(_) => ctx.with_validation(xv.as_ref(), &yv)?,
        None => *ctx,
    };
    model.fit(select(&train).as_ref(), &targets(&train), &ctx)?;
    let predicted = model.predict_distribution(select(&labelled).as_ref(), levels)?;
    Ok(Fitted {
        name: model.name(),
        prediction: predicted.spread(&labelled, labels.len())?,
        importance: model.feature_importance(),
        elapsed: started.elapsed(),
        cached: false,
    })
}

/// How many of `n` training rows are held out for validation: `fraction` of them rounded up,
/// at least one, and never more than leaves two to fit on.
fn validation_rows(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).ceil() as usize)
        .max(1)
        .min(n.saturating_sub(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_takes_the_rounded_up_share_and_leaves_two_rows_to_fit() {
        // 100 rows × 0.2 = 20; 101 × 0.2 = 20.2 → 21; 3 × 0.2 = 0.6 → 1; 2 rows leave none.
        assert_eq!(validation_rows(100, 0.2), 20);
        assert_eq!(validation_rows(101, 0.2), 21);
        assert_eq!(validation_rows(3, 0.2), 1);
        assert_eq!(validation_rows(5, 0.49), 3);
        assert_eq!(validation_rows(2, 0.2), 0);
    }
}
