//! The checked `[launcher.slurm]` settings ([`SlurmOptions`]), each refused with its key when
//! Slurm would refuse it later, so a typo fails before anything is written or submitted.

use std::num::NonZeroU32;

use crate::experiment::config::SlurmSection;
use crate::{Error, Result};

/// The `sbatch` options of a sweep's job array, checked (see `[launcher.slurm]` in
/// [`crate::experiment::config`]). `None` leaves the cluster's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--time`, in one of Slurm's forms.
    pub time: Option<String>,
    /// `--cpus-per-task`.
    pub cpus_per_task: Option<NonZeroU32>,
    /// `--mem`.
    pub mem: Option<String>,
    /// `--gres`.
    pub gres: Option<String>,
    /// The array's parallelism limit, `%K`.
    pub max_parallel: Option<NonZeroU32>,
    /// Further `#SBATCH` options, in order.
    pub directives: Vec<String>,
    /// Shell lines run before quakelab.
    pub setup: String,
    /// SIGUSR1 this many seconds before the time limit; 0 for none.
    pub signal_seconds: u32,
    /// `--job-name`; `None` for `quakelab-<experiment>`.
    pub job_name: Option<String>,
}

/// Options quakelab writes itself, with the setting to use instead (if any).
const OWN_OPTIONS: [(&str, Option<char>, &str); 10] = [
    (
        "array",
        Some('a'),
        "launcher.slurm.max_parallel sets its %K",
    ),
    ("signal", None, "launcher.slurm.signal_seconds"),
    (
        "output",
        Some('o'),
        "the logs go to the sweep directory's logs/",
    ),
    (
        "chdir",
        Some('D'),
        "tasks start where the sweep was submitted",
    ),
    ("job-name", Some('J'), "launcher.slurm.job_name"),
    ("partition", Some('p'), "launcher.slurm.partition"),
    ("account", Some('A'), "launcher.slurm.account"),
    ("time", Some('t'), "launcher.slurm.time"),
    ("cpus-per-task", Some('c'), "launcher.slurm.cpus_per_task"),
    ("gres", None, "launcher.slurm.gres"),
];

impl SlurmOptions {
    /// Checks `[launcher.slurm]`; each error names its key (`launcher.slurm.time`).
    pub fn check(section: &SlurmSection) -> Result<SlurmOptions> {
        let word = |key: &str, value: &str| -> Result<Option<String>> {
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            if value.chars().any(|c| c.is_whitespace() || c == '#') {
                return Err(Error::config(
                    format!("launcher.slurm.{key}"),
                    format!("`{value}` must be one word (no spaces or `#`)"),
                ));
            }
            Ok(Some(value.to_string()))
        };
        let time = word("time", &section.time)?;
        if let Some(time) = &time {
            check_time(time)?;
        }
        let mem = word("mem", &section.mem)?;
        if let Some(mem) = &mem {
            check_memory(mem)?;
        }
        let positive = |key: &str, value: Option<u32>| -> Result<Option<NonZeroU32>> {
            value
                .map(|v| {
                    NonZeroU32::new(v).ok_or_else(|| {
                        Error::config(format!("launcher.slurm.{key}"), "must be at least 1")
                    })
                })
                .transpose()
        };
        for directive in &section.directives {
            check_directive(directive)?;
        }
        Ok(SlurmOptions {
            partition: word("partition", &section.partition)?,
            account: word("account", &section.account)?,
            time,
            cpus_per_task: positive("cpus_per_task", section.cpus_per_task)?,
            mem,
            gres: word("gres", &section.gres)?,
            max_parallel: positive("max_parallel", section.max_parallel)?,
            directives: section
                .directives
                .iter()
                .map(|d| d.trim().to_string())
                .collect(),
            setup: section.setup.clone(),
            signal_seconds: section.signal_seconds,
            job_name: word("job_name", &section.job_name)?,
        })
    }
}

/// Slurm's time forms: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`.
fn check_time(time: &str) -> Result<()> {
    let numbers = |text: &str| {
        !text.is_empty()
            && text
                .split(':')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    };
    let valid = match time.split_once('-') {
        _ if matches!(time, "UNLIMITED" | "INFINITE") => true,
        Some((days, rest)) => {
            numbers(days) && !days.contains(':') && numbers(rest) && rest.split(':').count() <= 3
        }
        None => numbers(time) && time.split(':').count() <= 3,
    };
    if valid {
        Ok(())
    } else {
        Err(Error::config(
            "launcher.slurm.time",
            format!(
                "`{time}` is not a Slurm time limit; use MINUTES, HH:MM:SS or DAYS-HH:MM:SS \
                 (e.g. 30, 01:30:00, 2-00:00:00)"
            ),
        ))
    }
}

/// Slurm's memory sizes: a whole number, megabytes unless it ends in K, M, G or T.
fn check_memory(mem: &str) -> Result<()> {
    let digits = mem.strip_suffix(['K', 'M', 'G', 'T']).unwrap_or(mem);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::config(
            "launcher.slurm.mem",
            format!("`{mem}` is not a Slurm memory size; use e.g. 4000 (MB), 512M or 8G"),
        ))
    }
}

/// An extra `sbatch` option: one line starting with `-`, not one quakelab writes itself.
fn check_directive(directive: &str) -> Result<()> {
    let directive = directive.trim();
    let bad = |why: String| Err(Error::config("launcher.slurm.directives", why));
    if !directive.starts_with('-') || directive.contains(['\n', '\r']) {
        return bad(format!(
            "`{directive}` is not an sbatch option on one line (e.g. --qos=long)"
        ));
    }
    let long = directive
        .strip_prefix("--")
        .map(|rest| rest.split(['=', ' ']).next().unwrap_or(rest));
    let short = directive
        .strip_prefix('-')
        .filter(|_| long.is_none())
        .and_then(|rest| rest.chars().next());
    for (name, letter, instead) in OWN_OPTIONS {
        if long == Some(name) || (short.is_some() && short == letter) {
            return bad(format!(
                "`{directive}`: quakelab writes --{name} itself ({instead})"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(edit: impl FnOnce(&mut SlurmSection)) -> Result<SlurmOptions> {
        let mut section = SlurmSection::default();
        edit(&mut section);
        SlurmOptions::check(&section)
    }

    fn refused_key(edit: impl FnOnce(&mut SlurmSection)) -> String {
        match check(edit) {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn the_defaults_leave_everything_to_the_cluster() {
        let options = check(|_| {}).unwrap();
        assert_eq!(options.partition, None);
        assert_eq!(options.time, None);
        assert_eq!(options.max_parallel, None);
        assert_eq!(options.signal_seconds, 60);
    }

    #[test]
    fn slurm_time_forms_pass_and_others_are_refused() {
        // The forms of sbatch(1), --time.
        for good in [
            "30",
            "30:00",
            "01:30:00",
            "2-12",
            "2-12:30",
            "2-12:30:00",
            "UNLIMITED",
        ] {
            let options = check(|s| s.time = good.into()).unwrap();
            assert_eq!(options.time.as_deref(), Some(good));
        }
        for bad in ["1h", "1:2:3:4", "-5", "2-", "1-2:3:4:5", "12:", "ten"] {
            assert_eq!(
                refused_key(|s| s.time = bad.into()),
                "launcher.slurm.time",
                "{bad}"
            );
        }
    }

    #[test]
    fn memory_sizes_and_counts_are_checked() {
        for good in ["4000", "512M", "8G", "1T"] {
            assert!(check(|s| s.mem = good.into()).is_ok(), "{good}");
        }
        for bad in ["8GB", "G", "1.5G", "-1"] {
            assert_eq!(refused_key(|s| s.mem = bad.into()), "launcher.slurm.mem");
        }
        assert_eq!(
            refused_key(|s| s.max_parallel = Some(0)),
            "launcher.slurm.max_parallel"
        );
        assert_eq!(
            refused_key(|s| s.cpus_per_task = Some(0)),
            "launcher.slurm.cpus_per_task"
        );
        assert_eq!(
            refused_key(|s| s.partition = "short long".into()),
            "launcher.slurm.partition"
        );
    }

    #[test]
    fn directives_quakelab_writes_itself_are_refused() {
        let options = check(|s| s.directives = vec!["--qos=long".into(), "-C avx2".into()]);
        assert_eq!(options.unwrap().directives, ["--qos=long", "-C avx2"]);
        for bad in [
            "--array=0-3",
            "-a 0-3",
            "--signal=USR2@30",
            "--output=x.log",
            "-t 10",
            "--time=10",
            "qos=long",
            "--qos=long\n#SBATCH --array=1",
        ] {
            assert_eq!(
                refused_key(|s| s.directives = vec![bad.into()]),
                "launcher.slurm.directives",
                "{bad}"
            );
        }
    }
}
