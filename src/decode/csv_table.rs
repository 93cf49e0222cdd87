//! `quakelab decode`: any decoder on any numeric CSV table, for quick comparisons and tests.
//!
//! Both files have a header line. In the training file every column but the target is a
//! numeric feature; the test file has the same feature columns in the same order, and may have
//! the target column too (it is then used only for [`DecodeReport::test_mse`]). The predictions
//! are written as `row,prediction`, where `row` is the 0-based index of the test file's data
//! rows. The output file may not be either input: that is refused before anything is read or
//! written.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::time::Instant;

use faer::Mat;

use super::{DecoderConfig, FitContext};
use crate::{Error, Result};

/// What [`decode_csv`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeReport {
    /// The decoder's name ([`super::Regressor::name`]).
    pub decoder: String,
    /// The target column.
    pub target: String,
    /// The feature columns, in file order.
    pub feature_names: Vec<String>,
    /// Training rows.
    pub n_train: usize,
    /// Test rows, one prediction each.
    pub n_test: usize,
    /// The mean squared error of the predictions, when the test file has the target column.
    pub test_mse: Option<f64>,
    /// Wall-clock seconds spent in `fit`.
    pub fit_seconds: f64,
}

/// A numeric CSV file split into its feature columns and, where present, its target column.
struct Table {
    features: Vec<String>,
    x: Mat<f64>,
    target: Option<Vec<f64>>,
}

/// Fits `decoder` on the `train` table to predict column `target`, predicts every row of the
/// `test` table, and writes `row,prediction` to `out` (atomically: a complete file or none).
/// The fit's random draws come from `seed` (through [`crate::rng::derive_seed`] with the
/// decoder's kind), its parallel work from the current rayon pool.
///
/// Errors: `out` naming the training or test file ([`Error::Config`] on `--out`, before
/// anything is read); a missing target column in `train`, a duplicated column name, an empty or
/// non-numeric cell (an [`Error::Parse`] naming the file, its 1-based line and the column), or
/// test feature columns that differ from the training ones (an [`Error::Parse`] on the test
/// file's header naming the first difference); invalid settings ([`Error::Config`]); a fit
/// that fails ([`Error::Numerical`]).
pub fn decode_csv(
    decoder: &DecoderConfig,
    train: &Path,
    test: &Path,
    target: &str,
    out: &Path,
    seed: u64,
) -> Result<DecodeReport> {
    refuse_input_as_output(out, &[("--train", train), ("--test", test)])?;
    decoder.check()?;
    let train_table = read_table(train, target)?;
    let y = train_table.target.as_deref().ok_or_else(|| {
        Error::parse(
            train,
            1,
            target,
            format!(
                "no target column `{target}` in the training file's header; its columns are {}",
                train_table.features.join(", ")
            ),
        )
    })?;
    if y.is_empty() {
        return Err(Error::parse(
            train,
            1,
            target,
            "the training file has no data rows",
        ));
    }
    let test_table = read_table(test, target)?;
    check_same_features(&train_table.features, &test_table.features, train, test)?;

    let mut model = decoder.build(&train_table.features)?;
    let ctx = FitContext::new(crate::rng::derive_seed(
        seed,
        &format!("decode.{}", decoder.kind()),
    ));
    let started = Instant::now();
    model.fit(train_table.x.as_ref(), y, &ctx)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let predictions = model.predict(test_table.x.as_ref())?;

    crate::io::write_atomic(out, |w: &mut dyn Write| {
        writeln!(w, "row,prediction")?;
        for (row, prediction) in predictions.iter().enumerate() {
            writeln!(w, "{row},{prediction}")?;
        }
        Ok(())
    })?;

    let test_mse = test_table
        .target
        .as_deref()
        .filter(|truth| !truth.is_empty())
        .map(|truth| {
            truth
                .iter()
                .zip(&predictions)
                .map(|(t, p)| (t - p).powi(2))
                .sum::<f64>()
                / truth.len() as f64
        });
    Ok(DecodeReport {
        decoder: model.name(),
        target: target.to_string(),
        feature_names: train_table.features,
        n_train: y.len(),
        n_test: predictions.len(),
        test_mse,
        fit_seconds,
    })
}

/// Refuses an output path that is one of the inputs (by canonical path, so `./train.csv`,
/// `dir/../train.csv` and a symbolic link to it all count), naming the input's option.
fn refuse_input_as_output(out: &Path, inputs: &[(&str, &Path)]) -> Result<()> {
    // An output that does not exist yet cannot be an existing input.
    let Ok(out_canonical) = out.canonicalize() else {
        return Ok(());
    };
    for (option, input) in inputs {
        if input
            .canonicalize()
            .is_ok_and(|input| input == out_canonical)
        {
            return Err(Error::config(
                "--out",
                format!(
                    "`{}` is the {option} file; refusing to overwrite an input with the \
                     predictions (choose another --out)",
                    out.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses test feature columns that are not the training ones in the same order, naming the
/// first difference.
fn check_same_features(
    train: &[String],
    test: &[String],
    train_path: &Path,
    test_path: &Path,
) -> Result<()> {
    if train == test {
        return Ok(());
    }
    let train_name = train_path.display();
    let (field, message) = match train.iter().zip(test).position(|(a, b)| a != b) {
        Some(k) => (
            test[k].clone(),
            format!(
                "feature column {} is `{}` here but `{}` in the training file {train_name}",
                k + 1,
                test[k],
                train[k]
            ),
        ),
        None if test.len() > train.len() => (
            test[train.len()].clone(),
            format!(
                "extra feature column `{}`: the training file {train_name} has {} \
                 feature columns, this file {}",
                test[train.len()],
                train.len(),
                test.len()
            ),
        ),
        None => (
            train[test.len()].clone(),
            format!(
                "missing feature column `{}`: the training file {train_name} has {} \
                 feature columns, this file {}",
                train[test.len()],
                train.len(),
                test.len()
            ),
        ),
    };
    Err(Error::parse(test_path, 1, field, message))
}

/// A `csv` error as the crate's error: I/O failures as [`Error::Io`], malformed rows as an
/// [`Error::Parse`] at their line.
fn csv_error(path: &Path, error: csv::Error) -> Error {
    let line = error.position().map_or(0, csv::Position::line);
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(source) => Error::io(path, source),
        _ => Error::parse(path, line, "", message),
    }
}

/// Reads a CSV table with a header line whose cells are all finite numbers; the column named
/// `target`, if there is one, is kept apart from the features.
fn read_table(path: &Path, target: &str) -> Result<Table> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(BufReader::new(file));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.is_empty() {
        return Err(Error::parse(path, 1, "", "no header line"));
    }
    for (k, name) in header.iter().enumerate() {
        if header[..k].contains(name) {
            return Err(Error::parse(
                path,
                1,
                name,
                "column name appears twice in the header",
            ));
        }
    }
    let target_column = header.iter().position(|name| name == target);
    let features: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|&(j, _)| Some(j) != target_column)
        .map(|(_, name)| name.clone())
        .collect();

    let mut feature_values = Vec::new();
    let mut target_values = Vec::new();
    let mut n_rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, csv::Position::line);
        n_rows += 1;
        for (j, (cell, name)) in record.iter().zip(&header).enumerate() {
            let value =
                parse_cell(cell).map_err(|message| Error::parse(path, line, name, message))?;
            if Some(j) == target_column {
                target_values.push(value);
            } else {
                feature_values.push(value);
            }
        }
    }
    let p = features.len();
    let x = Mat::from_fn(n_rows, p, |i, j| feature_values[i * p + j]);
    Ok(Table {
        features,
        x,
        target: target_column.map(|_| target_values),
    })
}

/// One cell as a finite number, or why it is not one.
fn parse_cell(cell: &str) -> std::result::Result<f64, String> {
    if cell.is_empty() {
        return Err("empty cell; every cell must be a number".to_string());
    }
    match cell.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(format!("`{cell}` is not a finite number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_must_be_finite_numbers() {
        assert_eq!(parse_cell("2.5"), Ok(2.5));
        assert_eq!(parse_cell("-1e-3"), Ok(-0.001));
        for bad in ["", "abc", "nan", "inf", "1,5"] {
            assert!(parse_cell(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn feature_differences_are_named() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (train, test) = (Path::new("train.csv"), Path::new("test.csv"));
        let field =
            |a: &[&str], b: &[&str]| match check_same_features(&names(a), &names(b), train, test) {
                Err(Error::Parse { field, line, .. }) => (field, line),
                other => panic!("expected a parse error, got {other:?}"),
            };
        assert!(check_same_features(&names(&["a", "b"]), &names(&["a", "b"]), train, test).is_ok());
        assert_eq!(field(&["a", "b"], &["a", "c"]), ("c".to_string(), 1));
        assert_eq!(field(&["a", "b"], &["b", "a"]), ("b".to_string(), 1));
        assert_eq!(field(&["a"], &["a", "z"]), ("z".to_string(), 1));
        assert_eq!(field(&["a", "b"], &["a"]), ("b".to_string(), 1));
    }
}
