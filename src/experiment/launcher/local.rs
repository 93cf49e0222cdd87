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

use super::{Launch, Launched, Launcher};
use crate::experiment::runner;
use crate::experiment::sweep::{SweepPlan, SweepRun};
use crate::{Error, Result};

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
    fn launch(&self, plan: &SweepPlan) -> Result<Launch> {
        let pending: Vec<&SweepRun> = plan.pending().collect();
        let n = pending.len();
        let launched = in_pools(
            n,
            self.at_once(n),
            self.threads_per_run(n),
            |i| match runner::run(&pending[i].experiment) {
                Ok(outcome) => Launched::Finished(outcome.run_dir),
                Err(e) => Launched::Failed(e),
            },
        );
        Ok(Launch::Ran(
            pending
                .iter()
                .zip(launched)
                .map(|(point, slot)| {
                    let launched = slot.unwrap_or_else(|e| {
                        Launched::Failed(Error::External {
                            service: "launcher".into(),
                            message: e,
                        })
                    });
                    (point.index, launched)
                })
                .collect(),
        ))
    }
}

/// Calls `task(0)` to `task(count - 1)`, `at_once` at a time, each inside its own rayon pool of
/// `threads` threads; the results in index order, or why a task could not run.
fn in_pools<T: Send>(
    count: usize,
    at_once: usize,
    threads: usize,
    task: impl Fn(usize) -> T + Sync,
) -> Vec<std::result::Result<T, String>> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<std::result::Result<T, String>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    // Plain threads, not a rayon pool, take the tasks: a rayon worker waiting on another pool
    // would steal and start a further task, exceeding `at_once`.
    std::thread::scope(|scope| {
        for _ in 0..at_once {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let result = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .map_err(|e| format!("cannot start a pool of {threads} threads: {e}"))
                        .map(|pool| pool.install(|| task(i)));
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| Err("the job running it stopped".into())))
        .collect()
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

    #[test]
    fn at_most_at_once_tasks_run_together_each_in_its_own_pool() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let results = in_pools(6, 2, 3, |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            running.fetch_sub(1, Ordering::SeqCst);
            (i, rayon::current_num_threads())
        });
        let results: Vec<(usize, usize)> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(results, (0..6).map(|i| (i, 3)).collect::<Vec<_>>());
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "never more than 2 at once"
        );
    }
}
