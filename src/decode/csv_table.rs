//! `quakelab decode`: any decoder on any numeric CSV table, for quick comparisons and tests.
//!
//! Every file has a header line. In the training file every column but the target is a
//! numeric feature; the test file has the same feature columns in the same order, and may have
//! the target column too (it is then used only for [`DecodeReport::test_mse`]). An optional
//! validation file (`--valid`), laid out like the training file, gives the fit context's
//! validation rows (early stopping). The predictions are written as `row,prediction`, where
//! `row` is the 0-based index of the test file's data rows. The output file may not be an
//! input: that is refused before anything is read or written.
//!
//! Every feature cell is a finite number, except for a decoder that takes missing values
//! ([`super::DecoderSettings::accepts_missing`]: the boosters), for which an empty cell or
//! `NaN` (any case) is a missing value, counted in [`DecodeReport::missing_cells`]. A target cell
//! is always a finite number.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::time::Instant;

use faer::Mat;

use super::{DecoderConfig, Device, FitContext, Prediction, QuantileLevels};
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
    /// Feature cells read as missing (NaN) in all files; 0 unless the decoder takes missing
    /// values.
    pub missing_cells: usize,
    /// Validation rows given to the fit (the `--valid` file), 0 without one.
    pub n_valid: usize,
    /// Whether the file holds the predictive distribution (quantiles were asked for and the
    /// decoder gives them).
    pub distribution: bool,
}

/// The files of one [`decode_csv`] call.
#[derive(Debug, Clone, Copy)]
pub struct DecodeFiles<'a> {
    /// The training table (features and the target).
    pub train: &'a Path,
    /// The table to predict (the same features; the target optional).
    pub test: &'a Path,
    /// Validation rows for early stopping, laid out like the training table.
    pub valid: Option<&'a Path>,
    /// Where the predictions go.
    pub out: &'a Path,
}

/// How [`decode_csv`] fits and what it writes besides the point predictions.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// The seed of the decoder's random draws (through [`crate::rng::derive_seed`] with the
    /// decoder's kind).
    pub seed: u64,
    /// Where the decoder computes (TabPFN; the others run on the CPU).
    pub device: Device,
    /// Quantile levels to write besides the point prediction, for a decoder that gives a
    /// predictive distribution: the file is then `row,prediction,mean,median,q<level>…`.
    pub quantiles: Option<QuantileLevels>,
}

/// A numeric CSV file split into its feature columns and, where present, its target column.
pub(crate) struct Table {
    pub(crate) features: Vec<String>,
    pub(crate) x: Mat<f64>,
    pub(crate) target: Option<Vec<f64>>,
    /// Feature cells read as missing (NaN).
    missing: usize,
}

/// Fits `decoder` on the `train` table to predict column `target` (watching the `valid` rows
/// when given), predicts every row of the `test` table, and writes `row,prediction` to `out`
/// (atomically: a complete file or none), followed by `mean,median` and one column per
/// quantile level when `options` asks for quantiles and the decoder gives a distribution. The
/// fit's random draws come from `options.seed` (through [`crate::rng::derive_seed`] with the
/// decoder's kind), its parallel work from the current rayon pool.
///
/// Errors: `out` naming an input ([`Error::Config`] on `--out`, before anything is read); a
/// missing target column in `train` or `valid`, a duplicated column name, an empty or
/// non-numeric cell (an [`Error::Parse`] naming the file, its 1-based line and the column), or
/// test or validation feature columns that differ from the training ones (an [`Error::Parse`]
/// on that file's header naming the first difference); invalid settings ([`Error::Config`]); a
/// fit that fails ([`Error::Numerical`], or [`Error::External`] from a library).
pub fn decode_csv(
    decoder: &DecoderConfig,
    files: &DecodeFiles<'_>,
    target: &str,
    options: &DecodeOptions,
) -> Result<DecodeReport> {
    let mut inputs = vec![("--train", files.train), ("--test", files.test)];
    inputs.extend(files.valid.map(|valid| ("--valid", valid)));
    refuse_input_as_output(files.out, &inputs)?;
    decoder.check()?;
    let missing = decoder.settings().accepts_missing();
    let train_table = read_table(files.train, target, missing)?;
    let y = labelled(&train_table, files.train, target, "training")?;
    let test_table = read_table(files.test, target, missing)?;
    check_same_features(
        &train_table.features,
        &test_table.features,
        files.train,
        files.test,
    )?;
    let valid_table = files
        .valid
        .map(|path| -> Result<Table> {
            let table = read_table(path, target, missing)?;
            check_same_features(&train_table.features, &table.features, files.train, path)?;
            labelled(&table, path, target, "validation")?;
            Ok(table)
        })
        .transpose()?;

    let mut model = decoder.build(&train_table.features)?;
    let mut ctx = FitContext::new(crate::rng::derive_seed(
        options.seed,
        &format!("decode.{}", decoder.kind()),
    ))
    .with_device(options.device);
    if let Some(valid) = &valid_table {
        let y_valid = valid.target.as_deref().unwrap_or_default();
        ctx = ctx.with_validation(valid.x.as_ref(), y_valid)?;
    }
    let started = Instant::now();
    model.fit(train_table.x.as_ref(), y, &ctx)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let prediction = match &options.quantiles {
        Some(levels) => model.predict_distribution(test_table.x.as_ref(), levels)?,
        None => Prediction::Point(model.predict(test_table.x.as_ref())?),
    };
    let predictions = prediction.point();
    let distribution = prediction.distribution();

    crate::io::write_atomic(files.out, |w: &mut dyn Write| {
        write!(w, "row,prediction")?;
        if let Some(d) = distribution {
            write!(w, ",mean,median")?;
            for &level in d.levels().levels() {
                write!(w, ",{}", QuantileLevels::column_name(level))?;
            }
        }
        writeln!(w)?;
        for (row, prediction) in predictions.iter().enumerate() {
            write!(w, "{row},{prediction}")?;
            if let Some(d) = distribution {
                write!(w, ",{},{}", d.mean()[row], d.median()[row])?;
                for q in d.row_quantiles(row) {
                    write!(w, ",{q}")?;
                }
            }
            writeln!(w)?;
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
                .zip(predictions)
                .map(|(t, p)| (t - p).powi(2))
                .sum::<f64>()
                / truth.len() as f64
        });
    let valid_missing = valid_table.as_ref().map_or(0, |t| t.missing);
    let n_train = y.len();
    Ok(DecodeReport {
        decoder: model.name(),
        target: target.to_string(),
        feature_names: train_table.features,
        n_train,
        n_test: predictions.len(),
        test_mse,
        fit_seconds,
        missing_cells: train_table.missing + test_table.missing + valid_missing,
        n_valid: valid_table.as_ref().map_or(0, |t| t.x.nrows()),
        distribution: distribution.is_some(),
    })
}

/// The target values of a table that must have them (the training or validation file): an
/// [`Error::Parse`] on the header when the column is missing, or on line 2 when there are no
/// data rows.
fn labelled<'t>(table: &'t Table, path: &Path, target: &str, what: &str) -> Result<&'t [f64]> {
    let y = table.target.as_deref().ok_or_else(|| {
        Error::parse(
            path,
            1,
            target,
            format!(
                "no target column `{target}` in the {what} file's header; its columns are {}",
                table.features.join(", ")
            ),
        )
    })?;
    if y.is_empty() {
        return Err(Error::parse(
            path,
            1,
            target,
            format!("the {what} file has no data rows"),
        ));
    }
    Ok(y)
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

/// Reads a CSV table with a header line whose cells are all finite numbers (or, for feature
/// cells when `missing` is set, empty or `NaN`: read as NaN); the column named `target`, if
/// there is one, is kept apart from the features.
pub(crate) fn read_table(path: &Path, target: &str, missing: bool) -> Result<Table> {
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
    let mut n_missing = 0;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, csv::Position::line);
        n_rows += 1;
        for (j, (cell, name)) in record.iter().zip(&header).enumerate() {
            let is_target = Some(j) == target_column;
            if missing && !is_target && is_missing_cell(cell) {
                n_missing += 1;
                feature_values.push(f64::NAN);
                continue;
            }
            let value =
                parse_cell(cell).map_err(|message| Error::parse(path, line, name, message))?;
            if is_target {
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
        missing: n_missing,
    })
}

/// Whether a feature cell is a missing value: empty, or `NaN` in any case.
fn is_missing_cell(cell: &str) -> bool {
    cell.is_empty() || cell.eq_ignore_ascii_case("nan")
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
        for cell in ["", "nan", "NaN", "NAN"] {
            assert!(is_missing_cell(cell), "{cell:?}");
        }
        for cell in ["0", "inf", "na", "-"] {
            assert!(!is_missing_cell(cell), "{cell:?}");
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
