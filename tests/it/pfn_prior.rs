//! `quakelab pfn prior show`, end to end through the real binary.

use crate::support::{quakelab, read_csv};

#[test]
fn prior_show_writes_the_declared_columns_rows_and_figure() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pfn.toml");
    // Only the seismic prior, so every task is its kind; another section is left alone.
    std::fs::write(
        &config,
        "[pfn.train]\nsteps = 10\n\n[pfn.prior]\nweights = { mlp = 0.0, gp = 0.0, seismic = 1.0 }\n",
    )
    .unwrap();
    let out = dir.path().join("show");
    let output = quakelab(
        &[
            "pfn",
            "prior",
            "show",
            "--config",
            "pfn.toml",
            "--seed",
            "5",
            "--tasks",
            "4",
            "--rows",
            "40",
            "--features",
            "3",
            "--out",
            "show",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (header, rows) = read_csv(&out.join("tasks.csv"));
    assert_eq!(
        header,
        ["task", "kind", "row", "split", "x0", "x1", "x2", "y"]
    );
    // 4 tasks × 40 rows, each row numbered 0..40 within its task.
    assert_eq!(rows.len(), 4 * 40);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[0], (i / 40).to_string());
        assert_eq!(row[1], "seismic");
        assert_eq!(row[2], (i % 40).to_string());
        for value in &row[4..] {
            assert!(value.parse::<f32>().unwrap().is_finite(), "{value}");
        }
    }
    // Training rows first, then test rows: at least 20 (⌈40/2⌉) and at most 39 per task.
    for task in rows.chunks(40) {
        let n_train = task.iter().take_while(|r| r[3] == "train").count();
        assert!((20..=39).contains(&n_train), "{n_train}");
        assert!(task[n_train..].iter().all(|r| r[3] == "test"));
    }
    let png = std::fs::read(out.join("prior_tasks.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("4 tasks of 40 rows × 3 features"),
        "{stdout}"
    );
}

#[test]
fn prior_show_without_a_prior_section_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.toml"), "[pfn.train]\nsteps = 10\n").unwrap();
    let output = quakelab(
        &[
            "pfn",
            "prior",
            "show",
            "--config",
            "empty.toml",
            "--out",
            "show",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("setting `pfn.prior`: empty.toml has no [pfn.prior] section"),
        "{stderr}"
    );
    assert!(!dir.path().join("show").exists());
}
