//! The generated `sbatch` script of a sweep: one job array, task `i` running configuration `i`.

use std::fmt::Write as _;
use std::path::Path;

use super::SlurmOptions;

/// What the script of one sweep directory says.
#[derive(Debug, Clone, Copy)]
pub struct ScriptSpec<'a> {
    /// The checked options.
    pub options: &'a SlurmOptions,
    /// How many configurations, one array task each (at least 1).
    pub tasks: usize,
    /// The experiment's name (for the job name and the header).
    pub experiment: &'a str,
    /// The sweep directory (absolute).
    pub sweep_dir: &'a Path,
    /// Where the tasks start, the directory the sweep was submitted from (absolute): relative
    /// paths in the configurations (results, data) mean there what they meant here.
    pub workdir: &'a Path,
    /// The quakelab binary the tasks run (absolute).
    pub quakelab: &'a Path,
}

/// The `sbatch` script: `#SBATCH --array=0-(N-1)[%K]`, the logs in the sweep's `logs/`, SIGUSR1
/// `signal_seconds` before the time limit (`B:`, to the batch shell, which `exec` makes
/// quakelab itself), the setup block, then `quakelab sweep task DIR $SLURM_ARRAY_TASK_ID`.
pub fn sbatch_script(spec: &ScriptSpec<'_>) -> String {
    let o = spec.options;
    let mut s = String::new();
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    line("#!/bin/bash".into());
    line(format!(
        "# quakelab sweep of `{}`: {} configurations, array task i runs configs/i.toml.",
        spec.experiment, spec.tasks
    ));
    line(
        "# Written by `quakelab sweep --launcher slurm`; to submit it after editing, run \
         `quakelab sweep submit DIR`."
            .into(),
    );
    let job_name = o
        .job_name
        .clone()
        .unwrap_or_else(|| format!("quakelab-{}", spec.experiment));
    line(format!("#SBATCH --job-name={job_name}"));
    let mut array = format!("0-{}", spec.tasks.saturating_sub(1));
    if let Some(k) = o.max_parallel {
        let _ = write!(array, "%{k}");
    }
    line(format!("#SBATCH --array={array}"));
    line(format!("#SBATCH --chdir={}", spec.workdir.display()));
    line(format!(
        "#SBATCH --output={}",
        spec.sweep_dir.join("logs").join("%A_%a.log").display()
    ));
    if o.signal_seconds > 0 {
        line(format!("#SBATCH --signal=B:USR1@{}", o.signal_seconds));
    }
    let named = [
        ("partition", o.partition.clone()),
        ("account", o.account.clone()),
        ("time", o.time.clone()),
        ("cpus-per-task", o.cpus_per_task.map(|c| c.to_string())),
        ("mem", o.mem.clone()),
        ("gres", o.gres.clone()),
    ];
    for (name, value) in named {
        if let Some(value) = value {
            line(format!("#SBATCH --{name}={value}"));
        }
    }
    for directive in &o.directives {
        line(format!("#SBATCH {directive}"));
    }
    line(String::new());
    line("set -e".into());
    if !o.setup.trim().is_empty() {
        line("# setup (launcher.slurm.setup)".into());
        line(o.setup.trim_end().to_string());
    }
    line(format!(
        "exec {} sweep task {} \"$SLURM_ARRAY_TASK_ID\"",
        shell_quote(&spec.quakelab.display().to_string()),
        shell_quote(&spec.sweep_dir.display().to_string())
    ));
    s
}

/// `text` as one shell word, in single quotes.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::SlurmSection;

    fn script(section: SlurmSection, tasks: usize) -> String {
        let options = SlurmOptions::check(&section).unwrap();
        sbatch_script(&ScriptSpec {
            options: &options,
            tasks,
            experiment: "small",
            sweep_dir: Path::new("/r/sweeps/small/20261129T100000Z"),
            workdir: Path::new("/scratch/study"),
            quakelab: Path::new("/opt/quake lab/quakelab"),
        })
    }

    fn directives(script: &str) -> Vec<&str> {
        script
            .lines()
            .filter_map(|l| l.strip_prefix("#SBATCH "))
            .collect()
    }

    #[test]
    fn a_default_script_declares_the_array_logs_and_warning_signal() {
        let text = script(SlurmSection::default(), 4);
        assert!(text.starts_with("#!/bin/bash\n"));
        assert_eq!(
            directives(&text),
            [
                "--job-name=quakelab-small",
                "--array=0-3",
                "--chdir=/scratch/study",
                "--output=/r/sweeps/small/20261129T100000Z/logs/%A_%a.log",
                "--signal=B:USR1@60",
            ]
        );
        // The binary is quoted (a space in its path) and replaces the shell.
        assert!(text.ends_with(
            "exec '/opt/quake lab/quakelab' sweep task \
             '/r/sweeps/small/20261129T100000Z' \"$SLURM_ARRAY_TASK_ID\"\n"
        ));
    }

    #[test]
    fn every_option_becomes_its_directive_in_order() {
        let section = SlurmSection {
            partition: "short".into(),
            account: "geodesy".into(),
            time: "00:30:00".into(),
            cpus_per_task: Some(4),
            mem: "8G".into(),
            gres: "gpu:1".into(),
            max_parallel: Some(2),
            directives: vec!["--qos=long".into()],
            setup: "module load gcc\nexport A='b c'\n".into(),
            signal_seconds: 0,
            job_name: "ablation".into(),
        };
        let text = script(section, 20);
        assert_eq!(
            directives(&text),
            [
                "--job-name=ablation",
                "--array=0-19%2",
                "--chdir=/scratch/study",
                "--output=/r/sweeps/small/20261129T100000Z/logs/%A_%a.log",
                "--partition=short",
                "--account=geodesy",
                "--time=00:30:00",
                "--cpus-per-task=4",
                "--mem=8G",
                "--gres=gpu:1",
                "--qos=long",
            ]
        );
        // The setup runs after `set -e` and before quakelab.
        let body: Vec<&str> = text.lines().skip_while(|l| *l != "set -e").collect();
        assert_eq!(body[2..4], ["module load gcc", "export A='b c'"]);
        assert!(body[4].starts_with("exec "));
    }

    #[test]
    fn quoting_survives_a_single_quote() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
