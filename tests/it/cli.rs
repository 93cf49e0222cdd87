//! The command-line contract, end to end through the real binary.

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use crate::support::quakelab;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A ComCat CSV whose events are given as (ISO time, magnitude), all at one place.
fn write_comcat(path: &Path, events: &[(String, f64)]) {
    let mut text = String::from(
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n",
    );
    for (i, (time, mag)) in events.iter().enumerate() {
        text.push_str(&format!(
            "{time},36.0,141.0,10.0,{mag:.1},mb,,,,,us,ev{i},{time},somewhere,earthquake\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// 100 events in the first ten days of 2020: 50 at M 3.0 and 50 at M 3.4, plus 5 below Mc.
fn two_magnitude_catalog() -> Vec<(String, f64)> {
    let mut events = Vec::new();
    for i in 0..100 {
        let day = 1 + i / 10;
        let minute = (i % 10) * 5;
        let mag = if i % 2 == 0 { 3.0 } else { 3.4 };
        events.push((format!("2020-01-{day:02}T12:{minute:02}:00.000Z"), mag));
    }
    for i in 0..5 {
        events.push((format!("2020-01-0{}T01:00:00.000Z", i + 1), 2.9));
    }
    events
}

#[test]
fn features_seismicity_gives_closed_form_b_and_a() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("cat.csv");
    write_comcat(&catalog, &two_magnitude_catalog());
    let out = quakelab(
        &[
            "features",
            "seismicity",
            "--catalog",
            "cat.csv",
            "--start",
            "2020-01-01",
            "--end",
            "2020-01-21",
            "--mc",
            "3.0",
            "--window-days",
            "10",
            "--step-days",
            "1",
            "--out",
            "ba.csv",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("ba.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("date,n_events,b_value,b_std,a_value"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 20, "one row per day of the period");

    // Days 0..=8: the 10-day window would begin before the start.
    let day8: Vec<&str> = lines[9].split(',').collect();
    assert_eq!(day8[0], "2020-01-09");
    assert_eq!(day8[2], "", "an incomplete window has no b value");

    // Day 9 (2020-01-10): all 100 events with M >= 3, mean(M) - Mc = 0.2.
    let day9: Vec<&str> = lines[10].split(',').collect();
    assert_eq!(day9[0], "2020-01-10");
    assert_eq!(day9[1], "100");
    let b_expected = std::f64::consts::LOG10_E / 0.2;
    let b: f64 = day9[2].parse().unwrap();
    assert!(
        (b - b_expected).abs() < 1e-8,
        "b = {b}, expected {b_expected}"
    );
    // Shi & Bolt: sum of squared deviations = 100 * 0.2^2 = 4, n(n-1) = 9900.
    let std_expected = 2.3 * b_expected * b_expected * (4.0f64 / 9900.0).sqrt();
    let b_std: f64 = day9[3].parse().unwrap();
    assert!(
        (b_std - std_expected).abs() < 1e-8,
        "b_std = {b_std}, expected {std_expected}"
    );
    // eq. (20): a = log10(100) + b * 3.0.
    let a: f64 = day9[4].parse().unwrap();
    assert!((a - (2.0 + 3.0 * b_expected)).abs() < 1e-8, "a = {a}");

    // Day 10: the window [1, 11) has lost day 0's 10 events: 90 remain, still >= 50.
    let day10: Vec<&str> = lines[11].split(',').collect();
    assert_eq!(day10[1], "90");
    // Day 15: window [6, 16) holds days 6..=9, 40 events: too few.
    let day15: Vec<&str> = lines[16].split(',').collect();
    assert_eq!(day15[1], "40");
    assert_eq!(day15[2], "");
    assert!(
        !day15.last().unwrap().is_empty(),
        "a missing value carries its reason"
    );
}

#[test]
fn labels_kde_writes_one_label_per_day() {
    let dir = tempfile::tempdir().unwrap();
    write_comcat(&dir.path().join("cat.csv"), &two_magnitude_catalog());
    let out = quakelab(
        &[
            "labels",
            "kde",
            "--catalog",
            "cat.csv",
            "--start",
            "2020-01-01",
            "--end",
            "2020-03-01",
            "--mc",
            "3.0",
            "--bandwidth",
            "2",
            "--scale",
            "none",
            "--out",
            "labels.csv",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("labels.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("date,label"));
    let labels: Vec<f64> = lines
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(labels.len(), 31 + 29, "January and February 2020");
    // Events lie in days 0..10 with a 2-day bandwidth: the density's mass left of day 0
    // is lost, the rest (about 0.9) lies inside the period, and late February is empty.
    let total: f64 = labels.iter().sum();
    assert!(total > 0.8 && total < 1.0, "total mass {total}");
    assert!(labels[59] < 1e-12);
}

#[test]
fn a_bad_row_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut events = two_magnitude_catalog();
    events.truncate(3);
    write_comcat(&dir.path().join("cat.csv"), &events);
    let mut text = std::fs::read_to_string(dir.path().join("cat.csv")).unwrap();
    text = text.replacen(",3.4,mb,", ",3.x,mb,", 1);
    std::fs::write(dir.path().join("cat.csv"), text).unwrap();
    let args = [
        "labels",
        "kde",
        "--catalog",
        "cat.csv",
        "--start",
        "2020-01-01",
        "--end",
        "2020-02-01",
        "--out",
        "labels.csv",
    ];
    let out = quakelab(&args, dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    // The second event is on line 3 (the header is line 1).
    assert!(err.contains("cat.csv:3"), "{err}");
    assert!(err.contains("mag"), "{err}");
    assert!(
        !dir.path().join("labels.csv").exists(),
        "nothing written on error"
    );

    let mut lenient = args.to_vec();
    lenient.push("--lenient");
    let out = quakelab(&lenient, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("skipped 1"), "{}", stderr(&out));
}

#[test]
fn study_windows_on_a_synthetic_scenario_writes_table_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = quakelab(
        &[
            "study",
            "windows",
            "--catalog",
            "synthetic:japan",
            "--start",
            "2009-01-01",
            "--end",
            "2013-01-01",
            "--mc",
            "3.0",
            "--windows",
            "64,128",
            "--out",
            "study",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let study = dir.path().join("study");
    let csv = std::fs::read_to_string(study.join("window_study.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("window_days,cv,adf_p,kpss_p,stationary,naive_mae")
    );
    let windows: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(windows, ["64", "128"]);
    for figure in [
        "fig2_ba_series_w64.png",
        "fig2_ba_series_w128.png",
        "fig3_kde_labels.png",
    ] {
        let bytes = std::fs::read(study.join(figure)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{figure} is a PNG");
    }
    assert!(study.join("window_study.md").exists());
    // The generated catalog is kept for the next command, under a content key.
    let entries: Vec<_> = std::fs::read_dir(dir.path().join("results/cache/catalog"))
        .unwrap()
        .collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn help_teaches_the_conventions() {
    let out = quakelab(&["features", "seismicity", "--help"], Path::new("."));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(help.contains("--window-days"), "{help}");
    assert!(help.contains("inclusive"), "{help}");
}

/// A small experiment: two years, a coarse grid, three decoders, two splits.
const SMALL_EXPERIMENT: &str = r#"
name = "small"
seed = 7
decoders = [{ kind = "persistence" }, { kind = "climatology" }, { kind = "ridge", alpha = 1.0 }]
[period]
start = "2010-01-01"
end = "2012-01-01"
[data]
catalog = "synthetic:japan"
gnss = "synthetic:japan"
[features.seismicity]
window_days = 64
[features.gnss]
grid = "8x8"
[encoder]
pca_dims = 4
[split]
kinds = ["random", "chronological"]
[ablations]
modalities = ["gnss", "seismicity", "fusion"]
controls = ["day_number", "label_shift"]
label_shift_days = 90
[tracking]
results_dir = "results"
"#;

#[test]
fn run_tracks_an_experiment_and_a_sweep_resumes() {
    let dir = tempfile::tempdir().unwrap();
    run_small(dir.path(), &[]);
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("results/small"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let record = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(record.contains("\"status\": \"FINISHED\""), "{record}");
    // 2 splits x (3 modalities + the fusion with shuffled GNSS rows, on by default + 2 controls)
    // x 3 decoders, plus interpolation on the random split.
    let results = std::fs::read_to_string(run.join("results.csv")).unwrap();
    assert_eq!(results.lines().count(), 1 + 2 * 6 * 3 + 1);
    // The shifted labels end 90 days early: those rows drop out of that control only, and its
    // persistence (the shifted series' own value at t) is still scored.
    let mut reader = csv::Reader::from_path(run.join("results.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (split, features, decoder, n_test) = (
        column("split"),
        column("features"),
        column("decoder"),
        column("n_test"),
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let persistence_n_test = |set: &str| -> Vec<(String, usize)> {
        rows.iter()
            .filter(|r| &r[features] == set && &r[decoder] == "persistence")
            .map(|r| (r[split].to_string(), r[n_test].parse().unwrap()))
            .collect()
    };
    let shifted = persistence_n_test("control_label_shift_90d");
    let full = persistence_n_test("fusion");
    assert_eq!(shifted.len(), 2);
    for ((split_s, n_s), (split_f, n_f)) in shifted.iter().zip(&full) {
        assert_eq!(split_s, split_f);
        assert!(n_s < n_f, "{split_s}: {n_s} shifted test rows vs {n_f}");
    }
    for artifact in [
        "tables/results.md",
        "tables/results.tex",
        "figures/predicted_vs_true_random.png",
        "figures/timeline_chronological.png",
    ] {
        assert!(run.join(artifact).is_file(), "{artifact} missing");
    }
    // Where the time went: the five stages in run order, then each decoder with its fits,
    // 2 splits x 6 feature sets, one seed each (none of the three is stochastic).
    let timings = std::fs::read_to_string(run.join("timings.csv")).unwrap();
    let rows: Vec<Vec<&str>> = timings.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["part", "name", "fits", "seconds", "cached"]);
    let names: Vec<(&str, &str, &str, &str)> =
        rows[1..].iter().map(|r| (r[0], r[1], r[2], r[4])).collect();
    assert_eq!(
        names,
        [
            ("stage", "data", "", ""),
            ("stage", "encode", "", ""),
            ("stage", "fits", "", ""),
            ("stage", "scoring", "", ""),
            ("stage", "report", "", ""),
            ("decoder", "persistence", "12", "0"),
            ("decoder", "climatology", "12", "0"),
            ("decoder", "ridge", "12", "0"),
        ]
    );
    for row in &rows[1..] {
        let seconds: f64 = row[3].parse().unwrap();
        assert!((0.0..600.0).contains(&seconds), "{row:?}");
    }

    let sweep = [
        "sweep",
        "small.toml",
        "--axis",
        "features.seismicity.window_days=48,64",
    ];
    let first = quakelab(&sweep, dir.path());
    assert!(first.status.success(), "{}", stderr(&first));
    // The 64-day config is the one `run` already finished: only 48 days is new.
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("2 configs, 1 to run, 1 already finished"),
        "{text}"
    );
    let again = quakelab(&sweep, dir.path());
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("2 configs, 0 to run, 2 already finished"),
        "{text}"
    );
    let summary =
        std::fs::read_to_string(dir.path().join("results/small/sweep_summary.csv")).unwrap();
    assert!(summary.starts_with("features.seismicity.window_days,split,features,decoder"));
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `features seismicity` on `cat.csv` in `dir` over `start..end` with `mc`.
fn features(dir: &Path, start: &str, end: &str, mc: &str) -> Output {
    quakelab(
        &[
            "features",
            "seismicity",
            "--catalog",
            "cat.csv",
            "--start",
            start,
            "--end",
            end,
            "--mc",
            mc,
            "--window-days",
            "10",
            "--out",
            "ba.csv",
        ],
        dir,
    )
}

// Issue 12, section 3: `features seismicity` on a header-only file, with Mc above every
// magnitude, or over a period outside the catalog exited 0 with an all-empty CSV and no word;
// `labels kde` and `study windows` likewise said nothing useful.
#[test]
fn empty_selection_says_how_many_events_were_selected_and_why_none_qualified() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("cat.csv");
    write_comcat(&catalog, &[]);
    let out = features(dir.path(), "2020-01-01", "2020-01-21", "3.0");
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = "no window has b and a values: 0 of 0 catalog events selected \
                    (period [2020-01-01, 2020-01-21), M >= 3): the catalog has no events";
    assert!(stdout(&out).contains(expected), "{}", stdout(&out));
    assert!(stderr(&out).contains(expected), "{}", stderr(&out));

    // 105 events in January 2020, the largest M 3.4.
    write_comcat(&catalog, &two_magnitude_catalog());
    let out = features(dir.path(), "2020-01-01", "2020-01-21", "5.0");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "0 of 105 catalog events selected (period [2020-01-01, 2020-01-21), M >= 5): \
             none of the 105 events in the period reaches M 5 (the largest is M 3.4)"
        ),
        "{}",
        stdout(&out)
    );
    let out = features(dir.path(), "2021-01-01", "2021-01-21", "3.0");
    assert!(
        stdout(&out).contains(
            "0 of 105 catalog events selected (period [2021-01-01, 2021-01-21), M >= 3): the \
             catalog's events (2020-01-01T01:00:00Z to 2020-01-10T12:45:00Z) all lie outside \
             the period"
        ),
        "{}",
        stdout(&out)
    );
    // Events, but a period shorter than the window: every window starts before the period.
    let out = features(dir.path(), "2020-01-01", "2020-01-05", "3.0");
    assert!(
        stdout(&out).contains(
            "40 of 105 catalog events selected (period [2020-01-01, 2020-01-05), M >= 3); every \
             window reaches back before the period start"
        ),
        "{}",
        stdout(&out)
    );
    // Complete windows, none with --min-events (200): the fullest 10-day window holds the 100
    // events at M >= 3.
    let out = quakelab(
        &[
            "features",
            "seismicity",
            "--catalog",
            "cat.csv",
            "--start",
            "2020-01-01",
            "--end",
            "2020-01-21",
            "--window-days",
            "10",
            "--min-events",
            "200",
            "--out",
            "ba.csv",
        ],
        dir.path(),
    );
    assert!(
        stdout(&out)
            .contains("no window held the 200 events needed (--min-events), the fullest held 100"),
        "{}",
        stdout(&out)
    );

    let out = quakelab(
        &[
            "labels",
            "kde",
            "--catalog",
            "cat.csv",
            "--start",
            "2020-01-01",
            "--end",
            "2020-01-21",
            "--mc",
            "5.0",
            "--out",
            "labels.csv",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no labels: 0 of 105 catalog events selected")
            && stderr(&out).contains("none of the 105 events in the period reaches M 5"),
        "{}",
        stderr(&out)
    );
    let out = quakelab(
        &[
            "study",
            "windows",
            "--catalog",
            "cat.csv",
            "--start",
            "2021-01-01",
            "--end",
            "2021-03-01",
            "--out",
            "study",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("window study: 0 of 105 catalog events selected")
            && stderr(&out).contains("all lie outside the period"),
        "{}",
        stderr(&out)
    );
}

// Issue 12, section 3: a period 0001–9999 allocated per-day arrays for 3.65 million days (and
// ran the KDE over them) without a word.
#[test]
fn period_0001_to_9999_is_refused_with_its_size_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    write_comcat(&dir.path().join("cat.csv"), &two_magnitude_catalog());
    let out = features(dir.path(), "0001-01-01", "9999-01-01", "3.0");
    assert!(!out.status.success());
    // 3,651,694 days (Python: date(9999, 1, 1) - date(1, 1, 1)), over the 36,525-day limit;
    // at 128 bytes a day, 467 MB.
    let err = stderr(&out);
    assert!(
        err.contains(
            "setting `period`: [0001-01-01, 9999-01-01) has 3651694 days, more than the limit of \
             36525 days for day-by-day work (its per-day arrays would take about 467 MB"
        ) && err.contains("--max-days"),
        "{err}"
    );
    assert!(!dir.path().join("ba.csv").exists());
    // The limit can be raised.
    let out = quakelab(
        &[
            "features",
            "seismicity",
            "--catalog",
            "cat.csv",
            "--start",
            "1900-01-01",
            "--end",
            "2020-02-01",
            "--max-days",
            "50000",
            "--out",
            "ba.csv",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

// Issue 12, section 3: an ETAS scenario with mu = 1e9 ran (or tried to allocate) without a word.
#[test]
fn etas_mu_1e9_is_refused_with_the_expected_number_of_events() {
    let dir = tempfile::tempdir().unwrap();
    let japan = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/scenarios/japan.toml"),
    )
    .unwrap();
    assert!(japan.contains("\nmu = 2.5\n") && japan.contains("\nburn_in_days = 3650.0\n"));
    std::fs::write(
        dir.path().join("huge.toml"),
        japan.replace("\nmu = 2.5\n", "\nmu = 1e9\n"),
    )
    .unwrap();
    let out = quakelab(
        &[
            "synth",
            "catalog",
            "--scenario",
            "huge.toml",
            "--years",
            "2020:2021",
            "--out",
            "out",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    // At least mu x (366 days + 3,650 days of burn-in) = 4.016e12 events before any aftershock.
    let err = stderr(&out);
    assert!(
        err.contains("setting `etas.mu`: the scenario would simulate about ")
            && err.contains("mu = 1000000000 per day over 366 days with 3650 days of burn-in")
            && err.contains("more than the limit of 20000000")
            && err.contains("--max-events"),
        "{err}"
    );
    let estimate: f64 = err
        .split("simulate about ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(estimate >= 4.016e12, "{estimate}");
    assert!(!dir.path().join("out").exists());
}

// Issue 13, item 9: `synth catalog --incompleteness helmstetter` writes the detected catalog and
// keeps the truth beside it.
#[test]
fn synth_catalog_with_short_term_incompleteness_keeps_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = quakelab(
        &[
            "synth",
            "catalog",
            "--scenario",
            "japan",
            "--years",
            "2011:2012",
            "--incompleteness",
            "helmstetter",
            "--out",
            "out",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = |name: &str| -> Vec<String> {
        std::fs::read_to_string(dir.path().join("out").join(name))
            .unwrap()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let (detected, truth) = (rows("catalog.csv"), rows("catalog_true.csv"));
    let hidden = truth.len() - detected.len();
    assert!(hidden > 0);
    assert!(
        stdout(&out).contains(&format!(
            "({} detected events) and out/catalog_true.csv (all {} events; {hidden} hidden",
            detected.len(),
            truth.len()
        )),
        "{}",
        stdout(&out)
    );
    let truth_set: std::collections::HashSet<&String> = truth.iter().collect();
    assert!(detected.iter().all(|row| truth_set.contains(row)));
    // The imposed M9 alone sets the threshold 9 − 4.5 − 0.75 log10(t in days) (t floored at a
    // minute) for 100 days: the truth has events below it, the detected catalog none.
    let mainshock: jiff::Timestamp = "2011-03-11T05:46:24Z".parse().unwrap();
    let below_m9_threshold = |row: &String| {
        let fields: Vec<&str> = row.split(',').collect();
        let time: jiff::Timestamp = fields[0].parse().unwrap();
        let magnitude: f64 = fields[4].parse().unwrap();
        let days = (time.as_millisecond() - mainshock.as_millisecond()) as f64 / 86_400_000.0;
        days > 0.0 && days < 100.0 && magnitude < 4.5 - 0.75 * days.max(1.0 / 1440.0).log10() - 1e-9
    };
    assert!(truth.iter().any(below_m9_threshold));
    assert!(!detected.iter().any(below_m9_threshold));
}

/// Runs `quakelab run small.toml --set SETTING...` on [`SMALL_EXPERIMENT`] in `dir`, asserting
/// it succeeds; returns its output.
fn run_small(dir: &Path, settings: &[&str]) -> std::process::Output {
    run_small_with(dir, &[], settings)
}

/// [`run_small`] with the global `flags` (`-v`) before `run`.
fn run_small_with(dir: &Path, flags: &[&str], settings: &[&str]) -> std::process::Output {
    std::fs::write(dir.join("small.toml"), SMALL_EXPERIMENT).unwrap();
    let mut args = flags.to_vec();
    args.extend(["run", "small.toml"]);
    for setting in settings {
        args.extend(["--set", setting]);
    }
    let out = quakelab(&args, dir);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// The run directory of the one `small` run under `dir`, and its `evaluation.json`.
fn small_run_and_sheet(dir: &Path) -> (std::path::PathBuf, serde_json::Value) {
    let run = std::fs::read_dir(dir.join("results/small"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let text = std::fs::read_to_string(run.join("evaluation.json")).unwrap();
    (run, serde_json::from_str(&text).unwrap())
}

/// The issue's contract: `results.csv` carries the intervals and the Diebold–Mariano p-value,
/// and every run writes `evaluation.json` with the label and each split's embargo and horizon.
#[test]
fn a_counts_run_writes_the_evaluation_sheet_and_the_contract_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_small(
        dir.path(),
        &[
            "labels.kind=counts_ahead",
            "labels.horizon_days=7",
            r#"split.kinds=["chronological","rolling"]"#,
            "split.rolling_origins=2",
        ],
    );
    let summary = stdout(&out);
    assert!(
        summary.contains("label: counts_ahead (look-ahead: no)"),
        "{summary}"
    );
    assert!(summary.contains("best baseline:"), "{summary}");
    let (run, sheet) = small_run_and_sheet(dir.path());
    let label = &sheet["label"];
    assert_eq!(label["kind"], "counts_ahead");
    assert_eq!(label["look_ahead"], false);
    assert!(label["bandwidth_days"].is_null());
    let rho = label["lag1_autocorrelation"].as_f64().unwrap();
    assert!(rho > 0.0 && rho < 1.0, "{rho}");
    assert!(label["n_eff"].as_f64().unwrap() > 1.0);
    let splits = sheet["splits"].as_array().unwrap();
    // Chronological and two rolling origins.
    assert_eq!(splits.len(), 3);
    for split in splits {
        // Feature window 64 (the b/a windows) + label reach 6 (H − 1 = 7 − 1) + horizon 1.
        assert_eq!(split["embargo_days"], 71, "{split}");
        assert_eq!(split["horizon_days"], 1, "{split}");
    }
    let mut reader = csv::Reader::from_path(run.join("results.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("results.csv has no column {name}"))
    };
    let [split, features, role, r2, low, high, mse_low, mse_high, p] = [
        "split",
        "features",
        "role",
        "test_r2",
        "test_r2_ci_low",
        "test_r2_ci_high",
        "test_mse_ci_low",
        "test_mse_ci_high",
        "dm_p_value",
    ]
    .map(column);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.iter().any(|r| &r[role] == "model"));
    for row in &rows {
        if &row[role] == "baseline" {
            assert_eq!(&row[p], "", "baselines have no DM p-value");
        } else if &row[role] == "model" {
            let p: f64 = row[p].parse().unwrap();
            assert!((0.0..=1.0).contains(&p), "{p}");
        }
        // The fusion rows of the chronological split score about 200 test rows: enough blocks.
        if &row[split] == "chronological" && &row[features] == "fusion" {
            let (r2, low, high): (f64, f64, f64) = (
                row[r2].parse().unwrap(),
                row[low].parse().unwrap(),
                row[high].parse().unwrap(),
            );
            assert!(
                low <= high && low.is_finite() && high.is_finite(),
                "{row:?}"
            );
            assert!(r2.is_finite());
            let (a, b): (f64, f64) = (
                row[mse_low].parse().unwrap(),
                row[mse_high].parse().unwrap(),
            );
            assert!(0.0 <= a && a <= b, "{row:?}");
        }
    }
    assert!(run.join("report.md").is_file());
}

/// A run with the `pfn` decoder shows its rows as `PFN (quakelab-pfn-s)` where people read
/// them (the table, the report) and keys them by the kind `pfn` everywhere else: the `decoder`
/// column of `results.csv` and the metric names, whose characters MLflow accepts (letters,
/// digits, `_ - . /` and spaces; no parentheses).
#[test]
fn a_pfn_row_is_shown_by_its_network_and_keyed_by_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    run_small(
        dir.path(),
        &[
            r#"split.kinds=["chronological"]"#,
            r#"decoders=[{ kind = "persistence" }, { kind = "climatology" }, { kind = "pfn", seed = 1, n_estimators = 1 }]"#,
        ],
    );
    let (run, _) = small_run_and_sheet(dir.path());
    let table = std::fs::read_to_string(run.join("tables/results.csv")).unwrap();
    let shown = table
        .lines()
        .filter(|l| l.split(',').any(|cell| cell == "PFN (quakelab-pfn-s)"))
        .count();
    // Three modalities, the shuffled-GNSS fusion and two controls.
    assert_eq!(shown, 6, "{table}");
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("| PFN (quakelab-pfn-s) |"), "{report}");
    let mut reader = csv::Reader::from_path(run.join("results.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (decoder, name) = (column("decoder"), column("decoder_name"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let pfn: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[decoder] == "pfn").collect();
    assert_eq!(pfn.len(), 6);
    assert!(pfn.iter().all(|r| &r[name] == "PFN (quakelab-pfn-s)"));
    assert!(
        rows.iter()
            .filter(|r| &r[decoder] != "pfn")
            .all(|r| r[name].is_empty()),
        "the other decoders are shown by their kind"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let keys: Vec<&str> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert!(
        keys.contains(&"test_r2/chronological/fusion/pfn"),
        "{keys:?}"
    );
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-./ ".contains(c);
    for key in keys {
        assert!(key.chars().all(allowed), "not a valid MLflow key: {key}");
    }
}

/// The paper's own setting runs, and says in every output that it looks ahead and nowcasts.
#[test]
fn the_papers_nowcast_with_a_centred_label_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_small(
        dir.path(),
        &["labels.kind=kde_centred", "dataset.timing=nowcast"],
    );
    let summary = stdout(&out);
    assert!(summary.contains("timing: NOWCAST"), "{summary}");
    assert!(summary.contains("(look-ahead: YES)"), "{summary}");
    let (run, sheet) = small_run_and_sheet(dir.path());
    assert_eq!(sheet["timing"], "nowcast");
    assert_eq!(sheet["label"]["look_ahead"], true);
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("NOWCAST") && report.contains("look-ahead: YES"));
}

/// `tracking.feature_tables` writes each split's tables as the decoders get them: scored by
/// `quakelab pfn eval` on the table's own train/test rows, ridge reproduces the run's R² and
/// MSE for that split, feature set and decoder.
#[test]
fn a_runs_feature_table_scores_in_pfn_eval_as_in_the_run() {
    let dir = tempfile::tempdir().unwrap();
    run_small(
        dir.path(),
        &[
            r#"split.kinds=["chronological"]"#,
            "tracking.feature_tables=true",
        ],
    );
    let (run, sheet) = small_run_and_sheet(dir.path());
    let splits: Vec<std::path::PathBuf> = std::fs::read_dir(run.join("feature_tables"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(splits.len(), 1);
    let name = splits[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("chronological-train-0.7-embargo-"),
        "{name}"
    );
    let table = splits[0].join("fusion.csv");
    let text = std::fs::read_to_string(&table).unwrap();
    assert!(text.starts_with("test,"));
    assert!(text.lines().next().unwrap().ends_with(",label"));
    let n_test = text.lines().skip(1).filter(|l| l.starts_with("1,")).count();
    assert_eq!(
        n_test as u64,
        sheet["splits"][0]["n_test"].as_u64().unwrap()
    );

    let eval = quakelab(
        &[
            "pfn",
            "eval",
            "--models",
            "ridge",
            "--prior-tasks",
            "0",
            "--friedman-tables",
            "0",
            "--table",
            table.to_str().unwrap(),
            "--target",
            "label",
            "--test-column",
            "test",
            "--out",
            "ev",
        ],
        dir.path(),
    );
    assert!(eval.status.success(), "{}", stderr(&eval));
    let scores = std::fs::read_to_string(dir.path().join("ev/tasks.csv")).unwrap();
    let row: Vec<&str> = scores.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        row[4], "6",
        "the test column is not a feature: 4 PCs, b and a"
    );
    let (rmse, r2): (f64, f64) = (row[6].parse().unwrap(), row[7].parse().unwrap());
    let results = std::fs::read_to_string(run.join("tables/results.csv")).unwrap();
    let mut lines = results.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let ridge = lines
        .map(|l| {
            l.split("\",")
                .nth(1)
                .unwrap_or(l)
                .split(',')
                .collect::<Vec<&str>>()
        })
        .find(|f| f[0] == "fusion" && f[2] == "ridge")
        .unwrap();
    // The split cell is quoted (it holds commas) and was cut off above: shift by one.
    let test_r2: f64 = ridge[column("test_r2") - 1].parse().unwrap();
    let test_mse: f64 = ridge[column("test_mse") - 1].parse().unwrap();
    assert!((r2 - test_r2).abs() <= 1e-12, "{r2} vs {test_r2}");
    assert!(
        (rmse * rmse - test_mse).abs() <= 1e-12 * test_mse,
        "{rmse} vs {test_mse}"
    );
}

/// A year of the Japan scenario, seismicity only: three decoders, the forest over two seeds.
const FIT_CACHE_EXPERIMENT: &str = r#"
name = "cached"
seed = 11
seeds = 2
decoders = [
    { kind = "persistence" }, { kind = "ridge" }, { kind = "random_forest", n_trees = 8 },
]
[period]
start = "2010-01-01"
end = "2011-01-01"
[data]
catalog = "synthetic:japan"
gnss = "synthetic:japan"
[features.seismicity]
window_days = 32
min_events = 20
[encoder]
kind = "none"
[split]
kinds = ["chronological"]
[ablations]
modalities = ["seismicity"]
controls = []
[tracking]
results_dir = "results"
"#;

/// One `quakelab run cached.toml` in `dir`: its `predictions.csv`, each decoder's (fits, cached
/// fits) from `timings.csv`, and its stderr.
fn run_cached(dir: &Path, settings: &[&str]) -> (String, Vec<(String, usize, usize)>, String) {
    let mut args = vec!["run", "cached.toml"];
    for setting in settings {
        args.extend(["--set", setting]);
    }
    let out = quakelab(&args, dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = written_run(dir, &out);
    let predictions = std::fs::read_to_string(run.join("predictions.csv")).unwrap();
    let timings = std::fs::read_to_string(run.join("timings.csv")).unwrap();
    let fits = timings
        .lines()
        .filter(|line| line.starts_with("decoder,"))
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                fields[1].to_string(),
                fields[2].parse().unwrap(),
                fields[4].parse().unwrap(),
            )
        })
        .collect();
    (predictions, fits, stderr(&out))
}

/// Each decoder's (name, fits, fits read from the cache), as [`run_cached`] reads them from
/// `timings.csv`: `fits` gives the names and fit counts, `cached` the counts read back.
fn fit_counts(fits: [(&str, usize); 3], cached: [usize; 3]) -> Vec<(String, usize, usize)> {
    fits.iter()
        .zip(cached)
        .map(|(&(name, n), cached)| (name.to_string(), n, cached))
        .collect()
}

/// The run directory a successful `quakelab run` in `dir` printed it wrote.
fn written_run(dir: &Path, out: &Output) -> std::path::PathBuf {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = stdout
        .lines()
        .find_map(|line| line.strip_prefix("wrote "))
        .and_then(|rest| rest.split(" (").next())
        .unwrap_or_else(|| panic!("no run directory in {stdout}"));
    dir.join(run)
}

/// The files of the fit cache under `dir`'s results.
fn fit_cache_entries(dir: &Path) -> Vec<std::path::PathBuf> {
    cache_entries(&quakelab::experiment::cache::fits::cache_dir(
        &dir.join("results"),
    ))
}

/// The entry files of a cache under `root` (`<root>/<shard>/<entry>`).
fn cache_entries(root: &Path) -> Vec<std::path::PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flat_map(|shard| std::fs::read_dir(shard.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    entries
}

/// The fit cache: a second run reads every fit back and reports exactly what the first did; a
/// run with the cache off fits everything again and agrees with both (so reading back changes
/// nothing); a changed decoder setting fits that decoder alone again; a damaged entry is
/// fitted again, with a warning, and replaced.
#[test]
fn a_repeated_run_reads_its_fits_back_from_the_fit_cache() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cached.toml"), FIT_CACHE_EXPERIMENT).unwrap();
    // One split and one feature set: one fit per decoder and seed, of which `cached` (for
    // persistence, ridge and the forest) were read back.
    let fits = |cached| {
        fit_counts(
            [("persistence", 1), ("ridge", 1), ("random_forest", 2)],
            cached,
        )
    };
    let (first, timings, _) = run_cached(dir.path(), &[]);
    assert_eq!(timings, fits([0, 0, 0]));
    assert_eq!(fit_cache_entries(dir.path()).len(), 4);

    let (second, timings, _) = run_cached(dir.path(), &[]);
    assert_eq!(timings, fits([1, 1, 2]));
    assert_eq!(second, first);

    let (uncached, timings, _) = run_cached(dir.path(), &["tracking.fit_cache=false"]);
    assert_eq!(timings, fits([0, 0, 0]));
    assert_eq!(uncached, first);
    assert_eq!(fit_cache_entries(dir.path()).len(), 4);

    let (other_ridge, timings, _) = run_cached(dir.path(), &["decoders.ridge.alpha=300"]);
    assert_eq!(timings, fits([1, 0, 2]));
    assert_ne!(other_ridge, first);
    let entries = fit_cache_entries(dir.path());
    assert_eq!(entries.len(), 5);

    for entry in &entries {
        let mut bytes = std::fs::read(entry).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(entry, bytes).unwrap();
    }
    let (refitted, timings, log) = run_cached(dir.path(), &[]);
    assert_eq!(timings, fits([0, 0, 0]));
    assert!(log.contains("ignoring a damaged fit cache entry"), "{log}");
    assert_eq!(refitted, first);
    let (_, timings, _) = run_cached(dir.path(), &[]);
    assert_eq!(timings, fits([1, 1, 2]));
}

/// A rolling split's first origin trains on the chronological split's rows, with the label
/// fitted on the same events, so it draws that split's seeds: in a first run its fits are read
/// back from the chronological ones just stored, and with the fit cache off they are made
/// again alike. Either way its predictions of the first test block are the chronological
/// split's, the forest's too, while the second origin's forest, fitted on more rows, differs.
#[test]
fn a_rolling_splits_first_origin_shares_the_chronological_fits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cached.toml"), FIT_CACHE_EXPERIMENT).unwrap();
    let splits = [
        r#"split.kinds=["chronological","rolling"]"#,
        "split.rolling_origins=2",
    ];
    // Per decoder: fits (a seed each for the three splits: chronological, origins 0 and 1).
    let fits = |cached| {
        fit_counts(
            [("persistence", 3), ("ridge", 3), ("random_forest", 6)],
            cached,
        )
    };
    let (predictions, timings, _) = run_cached(dir.path(), &splits);
    assert_eq!(timings, fits([1, 1, 2]));
    assert_first_origin_is_chronological(&predictions);

    let uncached = [splits[0], splits[1], "tracking.fit_cache=false"];
    let (refitted, timings, _) = run_cached(dir.path(), &uncached);
    assert_eq!(timings, fits([0, 0, 0]));
    assert_eq!(refitted, predictions);
}

/// Checks, in a `predictions.csv` of a chronological and a two-origin rolling split, that the
/// rolling test rows are the chronological test days, that each decoder's predictions of the
/// first block (origin 0: the first ⌊m/2⌋ of the m days) are the chronological ones, and that
/// the forest of origin 1 predicts the second block otherwise.
fn assert_first_origin_is_chronological(predictions: &str) {
    let mut chronological: HashMap<(String, u32), String> = HashMap::new();
    let mut rolling: Vec<(String, u32, String)> = Vec::new();
    for line in predictions.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[3] != "test" {
            continue;
        }
        let (decoder, day, predicted) = (f[2].to_string(), f[4].parse().unwrap(), f[6]);
        match f[0] {
            "chronological" => {
                chronological.insert((decoder, day), predicted.to_string());
            }
            "rolling" => rolling.push((decoder, day, predicted.to_string())),
            other => panic!("unexpected split {other}"),
        }
    }
    for decoder in ["persistence", "ridge", "random_forest"] {
        let mut days: Vec<u32> = chronological
            .keys()
            .filter(|(d, _)| d == decoder)
            .map(|&(_, day)| day)
            .collect();
        days.sort_unstable();
        let mut rows: Vec<(u32, &str)> = rolling
            .iter()
            .filter(|(d, _, _)| d == decoder)
            .map(|(_, day, p)| (*day, p.as_str()))
            .collect();
        rows.sort_unstable();
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            days,
            "{decoder}"
        );
        let first_block = days.len() / 2;
        assert!(first_block > 10, "{decoder}: {} test days", days.len());
        for &(day, predicted) in &rows[..first_block] {
            assert_eq!(
                predicted,
                chronological[&(decoder.to_string(), day)],
                "{decoder}, day {day}"
            );
        }
        if decoder == "random_forest" {
            assert!(
                rows[first_block..]
                    .iter()
                    .any(|&(day, p)| p != chronological[&(decoder.to_string(), day)]),
                "origin 1's forest predicts as the chronological one"
            );
        }
    }
}

/// The PCA stage cache: a repeated run reads each split's reduction back, and its fits, made
/// again on what was read (the fit cache off), predict exactly what the first run's did; a
/// damaged entry is fitted again, with a warning; another number of components is a new entry.
#[test]
fn a_repeated_run_reads_its_pca_reductions_back() {
    let dir = tempfile::tempdir().unwrap();
    let pca_entries = || {
        cache_entries(&quakelab::experiment::cache::pca::cache_dir(
            &dir.path().join("results"),
        ))
    };
    let predictions = |out: &Output| {
        std::fs::read_to_string(written_run(dir.path(), out).join("predictions.csv")).unwrap()
    };
    let read_back = |out: &Output| {
        stderr(out)
            .matches("PCA reduction from the stage cache")
            .count()
    };
    // `-v`: the cache's reads are logged at the info level.
    let run_small = |dir: &Path, settings: &[&str]| run_small_with(dir, &["-v"], settings);
    let first = run_small(dir.path(), &[]);
    assert_eq!(read_back(&first), 0);
    // One reduction per split (random, chronological): different training rows.
    let entries = pca_entries();
    assert_eq!(entries.len(), 2, "{entries:?}");

    let second = run_small(dir.path(), &["tracking.fit_cache=false"]);
    assert_eq!(read_back(&second), 2, "{}", stderr(&second));
    assert_eq!(predictions(&second), predictions(&first));

    for entry in &entries {
        let mut bytes = std::fs::read(entry).unwrap();
        bytes[40] ^= 1;
        std::fs::write(entry, bytes).unwrap();
    }
    let refitted = run_small(dir.path(), &["tracking.fit_cache=false"]);
    assert_eq!(read_back(&refitted), 0);
    assert!(
        stderr(&refitted).contains("ignoring a damaged PCA reduction cache entry"),
        "{}",
        stderr(&refitted)
    );
    assert_eq!(predictions(&refitted), predictions(&first));
    assert_eq!(read_back(&run_small(dir.path(), &[])), 2);

    let other = run_small(dir.path(), &["encoder.pca_dims=3"]);
    assert_eq!(read_back(&other), 0);
    assert_eq!(pca_entries().len(), 4);
}
