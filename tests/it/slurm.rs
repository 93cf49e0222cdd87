//! `quakelab sweep --launcher slurm` against a live Slurm: real job arrays on the one-node
//! cluster of `tools/slurm-single-node.sh` (which `.ci/run` starts). A 4-point sweep gives the
//! local launcher's numbers; a failing task fails alone; a task past its time limit is TIMEOUT;
//! a resubmission runs only what is missing; `cancel` stops the array.
//!
//! build.rs enables these tests (cfg `quakelab_slurm`) under CI or where `sbatch` is installed;
//! elsewhere they are listed as ignored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::read_csv;

const SKIP: &str = "needs Slurm: run tools/slurm-single-node.sh start (as root)";

/// One year of synthetic Japan on a 6 x 6 grid: about two seconds a point.
const SMALL: &str = r#"
name = "small"
seed = 7
decoders = [{ kind = "climatology" }, { kind = "ridge", alpha = 1.0 }]
[period]
start = "2010-01-01"
end = "2011-01-01"
[features.seismicity]
window_days = 32
min_events = 20
[features.gnss]
grid = "6x6"
[encoder]
pca_dims = 2
[split]
kinds = ["chronological"]
[ablations]
modalities = ["gnss"]
"#;

/// VGG-12 trained for a million epochs: a task that runs until Slurm stops it.
const ENDLESS: &str = r#"
method = "vgg12_geomag"
name = "endless"
seed = 11
region = "100,104,26,31"
[period]
start = "2021-06-01"
end = "2022-06-01"
[data]
catalog = "synthetic:sichuan"
geomag = "synthetic:sichuan"
[geomag.map]
size = 16
levels = 4
[classify.vgg12]
filters = [4, 4, 8, 8]
convs_per_block = [1, 1, 1, 1]
hidden = 16
[classify.train]
epochs = 1000000
patience = 1000000
[split]
kinds = ["chronological"]
"#;

/// Checks the cluster, then submits the endless VGG-12 sweep with `args` from a new temporary
/// directory; the directory and what the submission printed.
fn submit_endless(args: &[&str]) -> (tempfile::TempDir, String) {
    cluster();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("endless.toml"), ENDLESS).unwrap();
    let mut all = vec!["sweep", "endless.toml", "--launcher", "slurm"];
    all.extend(args);
    let text = ok(quakelab(&all, tmp.path()));
    (tmp, text)
}

/// Fails unless the cluster answers: under CI these tests must run, not pass vacuously.
fn cluster() {
    let ping = Command::new("scontrol").arg("ping").output();
    let up = ping.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("is UP"));
    assert!(up, "no Slurm controller answers `scontrol ping`: {SKIP}");
}

/// Runs quakelab in `cwd`, killing it after `limit`.
fn quakelab_within(args: &[&str], cwd: &Path, limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the quakelab binary runs");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "quakelab {args:?} still running after {limit:?}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}

fn quakelab(args: &[&str], cwd: &Path) -> Output {
    quakelab_within(args, cwd, Duration::from_secs(120))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// The sweep directory and job id of a submission's output.
fn submitted(text: &str) -> (PathBuf, String) {
    let line = text
        .lines()
        .find(|l| l.starts_with("submitted Slurm job "))
        .unwrap_or_else(|| panic!("nothing submitted:\n{text}"));
    let job = line["submitted Slurm job ".len()..]
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let dir = line.rsplit_once("sweep directory ").unwrap().1;
    (PathBuf::from(dir), job)
}

/// `sweep status DIR --wait`, within `limit`.
fn wait(dir: &Path, cwd: &Path, limit: Duration) -> Output {
    let dir = dir.display().to_string();
    quakelab_within(
        &["sweep", "status", &dir, "--wait", "--interval", "1"],
        cwd,
        limit,
    )
}

/// The state column of each config row of a status table, by config index.
fn states(table: &str) -> Vec<String> {
    rows(table)
        .iter()
        .map(|row| row.split_whitespace().nth(2).unwrap().to_string())
        .collect()
}

/// The config rows of a status table.
fn rows(table: &str) -> Vec<&str> {
    table
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("config"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn config_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("configs")).unwrap().count()
}

/// The summary's rows without the run id (the last column).
fn summary_without_run_ids(path: &Path) -> Vec<Vec<String>> {
    let (header, rows) = read_csv(path);
    assert_eq!(header.last().map(String::as_str), Some("run_id"));
    rows.into_iter()
        .map(|mut r| {
            r.pop();
            r
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(quakelab_slurm),
    ignore = "needs Slurm: run tools/slurm-single-node.sh start"
)]
fn a_four_point_array_matches_the_local_sweep_and_a_resubmission_runs_only_what_is_missing() {
    cluster();
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    std::fs::write(cwd.join("small.toml"), SMALL).unwrap();
    let axes = [
        "--axis",
        "features.seismicity.window_days=32,64",
        "--axis",
        "decoders.ridge.alpha=1,2",
    ];
    let sweep = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["sweep", "small.toml"];
        args.extend(axes);
        args.extend(extra);
        args.into_iter().map(String::from).collect()
    };

    // The local launcher, into its own results directory.
    let local = sweep(&["--set", "tracking.results_dir=\"local\""]);
    ok(quakelab(&args(&local), cwd));

    // The same sweep as a Slurm array, at most two tasks at once.
    let slurm = sweep(&["--launcher", "slurm", "--max-parallel", "2", "--time", "10"]);
    let text = ok(quakelab(&args(&slurm), cwd));
    assert!(text.starts_with("sweep: 4 configs, 4 to run, 0 already finished\n"));
    let (dir, job) = submitted(&text);
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    assert!(script.contains("\n#SBATCH --array=0-3%2\n"), "{script}");
    assert!(script.contains("\n#SBATCH --time=10\n"), "{script}");
    assert_eq!(config_files(&dir), 4);

    let status = ok(wait(&dir, cwd, Duration::from_secs(300)));
    assert!(
        status.contains(&format!("(Slurm job {job}): 4 configs, 4 FINISHED")),
        "{status}"
    );
    assert_eq!(states(&status), ["FINISHED"; 4]);
    // Same numbers as the local sweep, point by point, in the same order.
    let from_slurm = summary_without_run_ids(&cwd.join("results/small/sweep_summary.csv"));
    let from_local = summary_without_run_ids(&cwd.join("local/small/sweep_summary.csv"));
    assert_eq!(
        from_slurm.len(),
        4 * 3 * 2,
        "4 points x (gnss, shuffled fusion, day-number control) x 2 decoders"
    );
    assert_eq!(from_slurm, from_local);

    // Nothing is missing: nothing is submitted.
    let again = ok(quakelab(&args(&slurm), cwd));
    assert!(again.starts_with("sweep: 4 configs, 0 to run, 4 already finished\n"));
    assert!(!again.contains("submitted"), "{again}");

    // A third window: only its two points are submitted, as tasks 0 and 1.
    let mut wider = slurm.clone();
    wider[3] = "features.seismicity.window_days=32,64,48".into();
    let text = ok(quakelab(&args(&wider), cwd));
    assert!(text.starts_with("sweep: 6 configs, 2 to run, 4 already finished\n"));
    let (dir, _) = submitted(&text);
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    assert!(script.contains("\n#SBATCH --array=0-1%2\n"), "{script}");
    assert_eq!(config_files(&dir), 2);
    let status = ok(wait(&dir, cwd, Duration::from_secs(300)));
    assert_eq!(states(&status), ["FINISHED"; 6]);
    let runs = std::fs::read_dir(cwd.join("results/small"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("run.json").is_file())
        .count();
    assert_eq!(runs, 6, "each point ran once");
}

#[test]
#[cfg_attr(
    not(quakelab_slurm),
    ignore = "needs Slurm: run tools/slurm-single-node.sh start"
)]
fn a_failing_task_fails_alone_and_is_run_again_once_its_input_is_fixed() {
    cluster();
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    std::fs::write(cwd.join("small.toml"), SMALL).unwrap();
    ok(quakelab(
        &["synth", "catalog", "--years", "2010:2011", "--out", "sim"],
        cwd,
    ));
    let good = std::fs::read_to_string(cwd.join("sim/catalog.csv")).unwrap();
    std::fs::write(cwd.join("good.csv"), &good).unwrap();
    // Line 3 of bad.csv has a magnitude that is not a number.
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[4] = "x";
    lines[2] = fields.join(",");
    std::fs::write(cwd.join("bad.csv"), lines.join("\n") + "\n").unwrap();

    let sweep = [
        "sweep",
        "small.toml",
        "--axis",
        "data.catalog=good.csv,bad.csv",
        "--axis",
        "decoders.ridge.alpha=1,2",
        "--launcher",
        "slurm",
    ];
    let (dir, _) = submitted(&ok(quakelab(&sweep, cwd)));
    let out = wait(&dir, cwd, Duration::from_secs(300));
    let status = stdout(&out);
    assert!(!out.status.success(), "--wait fails when a config failed");
    assert_eq!(
        states(&status),
        ["FINISHED", "FINISHED", "FAILED", "FAILED"]
    );
    for line in status.lines().filter(|l| l.contains("FAILED  ")) {
        // The task's own error, from its log: the file, the line and the field.
        assert!(line.contains("bad.csv:3"), "{line}");
        assert!(line.contains("mag"), "{line}");
    }
    // Done with a failure: the summary has the two finished points.
    let summary = summary_without_run_ids(&cwd.join("results/small/sweep_summary.csv"));
    assert_eq!(summary.len(), 2 * 3 * 2, "{summary:?}");
    assert!(
        summary.iter().all(|r| r[0].contains("good.csv")),
        "{summary:?}"
    );

    // Fixed: the resubmission runs the two failed points only.
    std::fs::write(cwd.join("bad.csv"), &good).unwrap();
    let text = ok(quakelab(&sweep, cwd));
    assert!(
        text.starts_with("sweep: 4 configs, 2 to run, 2 already finished\n"),
        "{text}"
    );
    let (dir, _) = submitted(&text);
    assert_eq!(config_files(&dir), 2);
    let status = ok(wait(&dir, cwd, Duration::from_secs(300)));
    assert_eq!(states(&status), ["FINISHED"; 4]);
}

#[test]
#[cfg_attr(
    not(quakelab_slurm),
    ignore = "needs Slurm: run tools/slurm-single-node.sh start"
)]
fn a_task_past_its_time_limit_is_timeout_and_its_run_failed() {
    // One minute, with the warning 60 s before it: SIGUSR1 at Slurm's first look.
    let (tmp, text) = submit_endless(&["--time", "1"]);
    let cwd = tmp.path();
    let (dir, _) = submitted(&text);
    let out = wait(&dir, cwd, Duration::from_secs(240));
    let status = stdout(&out);
    assert!(!out.status.success());
    assert_eq!(states(&status), ["TIMEOUT"], "{status}");
    assert!(status.contains("(SIGUSR1)"), "{status}");
    // A run that had started says so itself.
    for entry in std::fs::read_dir(cwd.join("results/endless"))
        .into_iter()
        .flatten()
    {
        let record = entry.unwrap().path().join("run.json");
        if record.is_file() {
            let text = std::fs::read_to_string(record).unwrap();
            assert!(text.contains("\"status\": \"FAILED\""), "{text}");
            assert!(text.contains("interrupted (SIGUSR1)"), "{text}");
        }
    }
}

#[test]
#[cfg_attr(
    not(quakelab_slurm),
    ignore = "needs Slurm: run tools/slurm-single-node.sh start"
)]
fn cancel_stops_the_array_and_its_running_task_fails_its_run() {
    let (tmp, text) =
        submit_endless(&["--axis", "seed=1,2", "--max-parallel", "1", "--time", "10"]);
    let cwd = tmp.path();
    let (dir, job) = submitted(&text);
    let dir_arg = dir.display().to_string();
    // Wait until the first task's run has started.
    let start = Instant::now();
    loop {
        let status = ok(quakelab(&["sweep", "status", &dir_arg], cwd));
        let rows = rows(&status);
        // config, task, state, point and the run id once the run has started.
        if rows[0].split_whitespace().count() == 5 && rows[0].contains("RUNNING") {
            assert_eq!(
                states(&status)[1],
                "PENDING",
                "at most one at once: {status}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{status}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let text = ok(quakelab(&["sweep", "cancel", &dir_arg], cwd));
    assert_eq!(text, format!("cancelled Slurm job {job}\n"));
    let out = wait(&dir, cwd, Duration::from_secs(120));
    let status = stdout(&out);
    assert!(!out.status.success());
    assert_eq!(states(&status), ["FAILED", "FAILED"], "{status}");
    let rows = rows(&status);
    assert!(rows[0].contains("interrupted (SIGTERM)"), "{status}");
    assert!(rows[1].contains("Slurm: CANCELLED"), "{status}");
}

#[test]
fn a_dry_run_writes_the_array_and_stops_before_sbatch() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    std::fs::write(cwd.join("small.toml"), SMALL).unwrap();
    let text = ok(quakelab(
        &[
            "sweep",
            "small.toml",
            "--axis",
            "seed=1,2,3",
            "--launcher",
            "slurm",
            "--dry-run",
            "--sweep-dir",
            "array",
            "--partition",
            "short",
            "--sbatch=--qos=long",
            "--setup",
            "module load gcc",
        ],
        cwd,
    ));
    assert!(text.contains("sweep: 3 configs, 3 to run"), "{text}");
    assert!(
        text.contains("submit it with: quakelab sweep submit"),
        "{text}"
    );
    let dir = cwd.join("array");
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-2",
        "#SBATCH --partition=short",
        "#SBATCH --qos=long",
        "module load gcc",
    ] {
        assert!(script.lines().any(|l| l == line), "{line} in\n{script}");
    }
    // Each config is the point's effective file: it resolves to the seed of its point.
    for (task, seed) in [(0, 1), (1, 2), (2, 3)] {
        let config = std::fs::read_to_string(dir.join(format!("configs/{task}.toml"))).unwrap();
        assert!(
            config.lines().any(|l| l == format!("seed = {seed}")),
            "{config}"
        );
    }
    // Not submitted: status says so, and a run of nothing left nothing behind.
    let status = ok(quakelab(&["sweep", "status", "array"], cwd));
    assert!(
        status.contains("(not submitted): 3 configs, 3 PENDING"),
        "{status}"
    );
    assert!(!cwd.join("results/small").exists());

    // Slurm options without the Slurm launcher are refused.
    let out = quakelab(&["sweep", "small.toml", "--partition", "short"], cwd);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("need --launcher slurm"));
    // A bad time limit is refused by key before anything is written.
    let out = quakelab(
        &[
            "sweep",
            "small.toml",
            "--launcher",
            "slurm",
            "--time",
            "1h",
            "--dry-run",
        ],
        cwd,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("launcher.slurm.time"));
    assert!(!cwd.join("results/sweeps").exists());
}
