//! What Slurm says of a job array's tasks: `squeue` while the controller remembers the job
//! (pending, running, and recently ended tasks with `--states=all`), `sacct` after that where
//! accounting is on.

use std::collections::BTreeMap;

use super::slurm_command;
use crate::Result;

/// Each task's Slurm state (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`,
/// `CANCELLED`, ...) as far as Slurm still knows it, by task id.
pub fn task_states(job_id: &str) -> Result<BTreeMap<usize, String>> {
    let mut states = match slurm_command(
        "squeue",
        &[
            "--noheader",
            "--array",
            "--states=all",
            "--jobs",
            job_id,
            "--format=%i|%T",
        ],
    ) {
        Ok(out) => parse_task_states(&out, job_id),
        // A job the controller has forgotten: "Invalid job id specified".
        Err(e) if e.to_string().contains("Invalid job id") => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    // Accounting, where the cluster keeps it, remembers tasks the controller has forgotten.
    if let Ok(out) = slurm_command(
        "sacct",
        &[
            "--noheader",
            "--parsable2",
            "--allocations",
            "--jobs",
            job_id,
            "--format=JobID,State",
        ],
    ) {
        for (task, state) in parse_task_states(&out, job_id) {
            states.entry(task).or_insert(state);
        }
    }
    Ok(states)
}

/// Reads `JOB_TASK|STATE` lines (`squeue --array --format=%i|%T`, `sacct --parsable2
/// --format=JobID,State`) of job `job_id`. A task range (`12_[0-3,5%2]`, how both print tasks
/// not yet started) gives each task in it; a state's trailing words (`CANCELLED by 0`) are
/// dropped; lines of other jobs and job steps (`12_0.batch`) are passed over.
pub fn parse_task_states(text: &str, job_id: &str) -> BTreeMap<usize, String> {
    let mut states = BTreeMap::new();
    for line in text.lines() {
        let Some((id, state)) = line.trim().split_once('|') else {
            continue;
        };
        let Some(tasks) = id
            .strip_prefix(job_id)
            .and_then(|rest| rest.strip_prefix('_'))
        else {
            continue;
        };
        let state = state.split_whitespace().next().unwrap_or_default();
        if state.is_empty() || tasks.contains('.') {
            continue;
        }
        for task in task_ids(tasks) {
            states.insert(task, state.to_string());
        }
    }
    states
}

/// The task ids of `3` or `[0-3,5%2]`; nothing for text that is neither.
fn task_ids(text: &str) -> Vec<usize> {
    if let Ok(task) = text.parse() {
        return vec![task];
    }
    let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
        return Vec::new();
    };
    let inner = inner.split('%').next().unwrap_or_default();
    let mut ids = Vec::new();
    for part in inner.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    ids.extend(a..=b);
                }
            }
            None => ids.extend(part.parse::<usize>().ok()),
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines_give_one_state_per_task() {
        // `squeue --noheader --array --states=all --jobs 5 --format=%i|%T` on Slurm 22.05,
        // an array of four with task 2 exiting 3.
        let out = "5_1|COMPLETED\n5_0|COMPLETED\n5_2|FAILED\n5_3|RUNNING\n";
        let states = parse_task_states(out, "5");
        let expected: Vec<(usize, &str)> = vec![
            (0, "COMPLETED"),
            (1, "COMPLETED"),
            (2, "FAILED"),
            (3, "RUNNING"),
        ];
        assert_eq!(
            states
                .iter()
                .map(|(t, s)| (*t, s.as_str()))
                .collect::<Vec<_>>(),
            expected
        );
    }

    #[test]
    fn ranges_steps_other_jobs_and_trailing_words() {
        let out = "12_[2-4,7%2]|PENDING\n12_0|CANCELLED by 0\n12_1.batch|COMPLETED\n\
                   120_1|RUNNING\n12_1|TIMEOUT\n";
        let states = parse_task_states(out, "12");
        assert_eq!(states.len(), 6);
        assert_eq!(states[&0], "CANCELLED");
        assert_eq!(states[&1], "TIMEOUT");
        for task in [2, 3, 4, 7] {
            assert_eq!(states[&task], "PENDING");
        }
    }
}
