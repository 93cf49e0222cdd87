//! The local launcher: N configurations at once on this machine.
//!
//! # Concurrency policy
//!
//! The total number of threads stays about the number of cores. With `--jobs N`, N
//! configurations run at once (fewer when fewer are pending), and each runs inside its own
//! rayon pool of `max(1, cores / N)` threads, so that a run's own parallel work (gridding, the
//! forest's trees, PCA) gets its share of the machine and no more: 8 cores and `--jobs 2` give
//! two runs of 4 threads each; `--jobs 1` gives one run all 8. A configuration is handed to the
//! next free job as soon as one finishes.
//!
//! Runs that share a stage cache entry (two points differing only in a decoder setting grid
//! the same images) may compute it at the same time; both then write it, each through its own
//! temporary file ([`crate::io::write_atomic`]), and the last rename wins with a whole file.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Launched, Launcher};
use crate::Error;
use crate::experiment::config::ResolvedExperiment;
use crate::experiment::runner;

/// Runs configurations on this machine, `jobs` at a time (see the module docs for the threads
/// each gets).
#[derive(Debug, Clone, Copy)]
pub struct LocalLauncher {
    jobs: NonZeroUsize,
    cores: NonZeroUsize,
}

impl LocalLauncher {
    /// `jobs` configurations at once, sharing the cores this process may use.
    pub fn new(jobs: NonZeroUsize) -> LocalLauncher {
        let cores = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
        LocalLauncher { jobs, cores }
    }

    /// The same, sharing `cores` cores instead of those this process may use.
    pub fn with_cores(self, cores: NonZeroUsize) -> LocalLauncher {
        LocalLauncher { cores, ..self }
    }

    /// How many configurations run at once when `pending` are to run: `jobs`, or fewer.
    pub fn at_once(&self, pending: usize) -> usize {
        self.jobs.get().min(pending).max(1)
    }

    /// The threads of each run's own pool when `pending` are to run:
    /// `max(1, cores / at_once(pending))`.
    pub fn threads_per_run(&self, pending: usize) -> usize {
        (self.cores.get() / self.at_once(pending)).max(1)
    }
}

impl Launcher for LocalLauncher {
    fn launch(&self, experiments: &[&ResolvedExperiment]) -> Vec<Launched> {
        let threads = self.threads_per_run(experiments.len());
        let next = AtomicUsize::new(0);
        let outcomes: Mutex<Vec<Option<Launched>>> =
            Mutex::new((0..experiments.len()).map(|_| None).collect());
        // Plain threads, not a rayon pool, pull the configurations: a rayon worker waiting on
        // another pool would steal and start a further configuration, exceeding `jobs`.
        std::thread::scope(|scope| {
            for _ in 0..self.at_once(experiments.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(experiment) = experiments.get(i) else {
                            break;
                        };
                        let launched = run_in_pool(experiment, threads);
                        if let Ok(mut slots) = outcomes.lock() {
                            slots[i] = Some(launched);
                        }
                    }
                });
            }
        });
        outcomes
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .into_iter()
            .map(|slot| {
                slot.unwrap_or_else(|| {
                    Launched::Failed(Error::External {
                        service: "launcher".into(),
                        message: "the job running this configuration stopped".into(),
                    })
                })
            })
            .collect()
    }
}

/// Runs one configuration inside its own rayon pool of `threads` threads.
fn run_in_pool(experiment: &ResolvedExperiment, threads: usize) -> Launched {
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => {
            return Launched::Failed(Error::External {
                service: "rayon".into(),
                message: format!("cannot start a pool of {threads} threads: {e}"),
            });
        }
    };
    match pool.install(|| runner::run(experiment)) {
        Ok(outcome) => Launched::Finished(outcome.run_dir),
        Err(e) => Launched::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launcher(jobs: usize, cores: usize) -> LocalLauncher {
        LocalLauncher::new(NonZeroUsize::new(jobs).unwrap())
            .with_cores(NonZeroUsize::new(cores).unwrap())
    }

    #[test]
    fn total_threads_stay_about_the_cores() {
        // 8 cores: --jobs 2 gives 2 runs x 4 threads; --jobs 3 gives 3 x 2 (8 / 3 rounded down).
        assert_eq!(launcher(2, 8).threads_per_run(10), 4);
        assert_eq!(launcher(3, 8).threads_per_run(10), 2);
        // More jobs than cores: each run still gets one thread.
        assert_eq!(launcher(16, 8).threads_per_run(20), 1);
        // Fewer pending than jobs: the pending ones share all cores.
        assert_eq!(launcher(4, 8).at_once(2), 2);
        assert_eq!(launcher(4, 8).threads_per_run(2), 4);
        assert_eq!(launcher(1, 8).threads_per_run(5), 8);
    }
}
