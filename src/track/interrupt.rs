//! Interrupted runs: SIGINT, SIGTERM or SIGUSR1 ends every open run as FAILED before the process
//! exits.
//!
//! Without this, Ctrl-C during `quakelab run` killed the process with its run still saying
//! RUNNING in `run.json`. [`fail_runs_on_interrupt`] starts a watcher thread that the signal
//! wakes (the signal handler itself only records the signal). The watcher takes the lock every
//! write into an open run holds, records each open run as FAILED with its end time and the error
//! `interrupted (SIGINT)` (or `SIGTERM`, `SIGUSR1`), and exits with the shell's code for the
//! signal, 128 + its number (130 for SIGINT, 143 for SIGTERM, 138 for SIGUSR1), without
//! releasing the lock: nothing is written into those runs after their record.
//!
//! SIGTERM is what a batch system sends when it cancels a job or its time limit is reached;
//! SIGUSR1 is the warning Slurm sends ahead of the limit when asked to (`sbatch
//! --signal=USR1@60`), so a run ends itself cleanly before the kill.

use std::sync::{Mutex, PoisonError};

use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

use super::store::fail_open_runs;

/// The exit code of a process ended by signal `signal`, as shells report it: 128 + its number.
pub fn exit_code(signal: i32) -> i32 {
    128 + signal
}

/// The name of the signals handled here.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGUSR1 => "SIGUSR1",
        _ => "a signal",
    }
}

/// From now on, SIGINT, SIGTERM and SIGUSR1 end every run open in this process as FAILED (error
/// `interrupted (SIGINT)`, `interrupted (SIGTERM)` or `interrupted (SIGUSR1)`, with its end
/// time) and then exit the process with [`exit_code`]. Calling it again does nothing more. Fails only when the handler
/// cannot be installed.
pub fn fail_runs_on_interrupt() -> std::io::Result<()> {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return Ok(());
    }
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGUSR1])?;
    std::thread::Builder::new()
        .name("quakelab-interrupt".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let reason = format!("interrupted ({})", signal_name(signal));
                let (_held_until_exit, failed) = fail_open_runs(&reason);
                for dir in &failed {
                    tracing::warn!("{reason}: run {} marked FAILED", dir.display());
                }
                // The last line, as for any error: a Slurm task's log ends with why it stopped.
                eprintln!("error: {reason}");
                std::process::exit(exit_code(signal));
            }
        })?;
    *installed = true;
    Ok(())
}
