//! Result tables, written as CSV (for tools) and Markdown and LaTeX (for people).
//!
//! A cell is text, a number or missing ([`Cell`]). A number keeps its value: CSV writes it in
//! full, the shortest text that reads back as the same `f64` ([`full_precision`]), so a file a
//! user keeps loses nothing; Markdown and LaTeX round it to the cell's significant digits for
//! reading. A missing value is an empty cell in CSV, an em dash in Markdown and `--` in LaTeX,
//! so a missing number can never be mistaken for zero.

use std::borrow::Cow;
use std::path::Path;

use rayon::prelude::*;

use crate::{Error, Result};

/// One cell of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Missing,
    /// Text, written as it is.
    Text(String),
    /// A finite number, written in full in CSV and with `digits` significant digits in Markdown
    /// and LaTeX. Build it with [`number`], which turns NaN and infinities into [`Cell::Missing`].
    Number {
        /// The value.
        value: f64,
        /// Significant digits shown to people.
        digits: usize,
    },
}

impl Cell {
    /// The cell as CSV writes it: text as it is, numbers in full (written into `number`, whose
    /// old text is dropped), missing as empty.
    pub fn to_csv<'a>(&'a self, number: &'a mut String) -> &'a str {
        match self {
            Cell::Missing => "",
            Cell::Text(text) => text,
            Cell::Number { value, .. } => {
                number.clear();
                write_full_precision(number, *value);
                number
            }
        }
    }

    /// The cell as people read it: numbers rounded to their digits; `None` when missing.
    pub fn to_display(&self) -> Option<Cow<'_, str>> {
        match self {
            Cell::Missing => None,
            Cell::Text(text) => Some(Cow::Borrowed(text)),
            Cell::Number { value, digits } => Some(Cow::Owned(rounded(*value, *digits))),
        }
    }

    /// Whether the cell is a number or text that reads as one (missing cells count as numeric,
    /// so that a column's alignment does not depend on its gaps).
    fn is_numeric(&self) -> bool {
        match self {
            Cell::Missing | Cell::Number { .. } => true,
            Cell::Text(text) => text.parse::<f64>().is_ok(),
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        text.map_or(Cell::Missing, Cell::Text)
    }
}

/// A rectangular table with named columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these column names.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    ///
    /// # Panics
    /// If the row's length differs from the number of columns: that is a bug in the caller,
    /// not bad input.
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.headers.len(),
            "row length must match the table's columns"
        );
        self.rows.push(row);
    }

    /// The column names.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The rows.
    pub fn rows(&self) -> &[Vec<Cell>] {
        &self.rows
    }

    /// The table as CSV text with a header line: numbers in full, missing values as empty fields.
    ///
    /// Long tables are written in pieces of 1,024 rows on all cores.
    pub fn to_csv(&self) -> Result<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.headers).map_err(csv_error)?;
        let mut bytes = writer.into_inner().map_err(|e| csv_error(e.into_error()))?;
        let pieces = self
            .rows
            .par_chunks(ROWS_PER_PIECE)
            .map(csv_rows)
            .collect::<Result<Vec<_>>>()?;
        for piece in pieces {
            bytes.extend_from_slice(&piece);
        }
        String::from_utf8(bytes).map_err(|e| Error::Numerical(e.to_string()))
    }

    /// The table as a GitHub-flavoured Markdown table: numbers rounded to their digits, missing
    /// values shown as `—`.
    pub fn to_markdown(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| {
                        c.to_display()
                            .map_or_else(|| "—".to_string(), Cow::into_owned)
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|j| {
                cells
                    .iter()
                    .map(|r| r[j].chars().count())
                    .chain([self.headers[j].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let line = |values: &[String]| {
            let padded: Vec<String> = values
                .iter()
                .zip(&widths)
                .map(|(v, &w)| format!("{v:<w$}"))
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut out = line(&self.headers);
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        out.push_str(&line(&rule));
        for row in &cells {
            out.push_str(&line(row));
        }
        out
    }

    /// The table as a LaTeX `tabular` with booktabs rules (`\toprule`, `\midrule`,
    /// `\bottomrule`); text columns left-aligned, columns whose cells are all numbers
    /// right-aligned; numbers rounded to their digits; missing values as `--`; LaTeX special
    /// characters escaped.
    pub fn to_latex(&self) -> String {
        let numeric: Vec<bool> = (0..self.headers.len())
            .map(|j| self.rows.iter().all(|r| r[j].is_numeric()))
            .collect();
        let align: String = numeric.iter().map(|&n| if n { 'r' } else { 'l' }).collect();
        let line = |cells: Vec<String>| format!("{} \\\\\n", cells.join(" & "));
        let mut out = format!("\\begin{{tabular}}{{{align}}}\n\\toprule\n");
        out.push_str(&line(
            self.headers.iter().map(|h| latex_escape(h)).collect(),
        ));
        out.push_str("\\midrule\n");
        for row in &self.rows {
            out.push_str(&line(
                row.iter()
                    .map(|c| {
                        c.to_display()
                            .map_or("--".to_string(), |t| latex_escape(&t))
                    })
                    .collect(),
            ));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }

    /// Writes [`Table::to_csv`] to `path` atomically.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let text = self.to_csv()?;
        crate::io::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }

    /// Writes [`Table::to_markdown`] to `path` atomically.
    pub fn write_markdown(&self, path: &Path) -> Result<()> {
        let text = self.to_markdown();
        crate::io::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }
}

/// The rows of a table that [`Table::to_csv`] writes as one piece.
const ROWS_PER_PIECE: usize = 1024;

/// `rows` as CSV records.
fn csv_rows(rows: &[Vec<Cell>]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut number = String::new();
    for row in rows {
        for cell in row {
            writer
                .write_field(cell.to_csv(&mut number))
                .map_err(csv_error)?;
        }
        // An empty record ends the one written field by field.
        writer.write_record(None::<&[u8]>).map_err(csv_error)?;
    }
    writer.into_inner().map_err(|e| csv_error(e.into_error()))
}

fn csv_error(error: impl std::fmt::Display) -> Error {
    Error::Numerical(format!("CSV encoding failed: {error}"))
}

/// Escapes the characters LaTeX treats specially.
fn latex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '\\' => out.push_str("\\textbackslash{}"),
            _ => out.push(c),
        }
    }
    out
}

/// A numeric cell shown with `digits` significant digits (and written in full in CSV); NaN and
/// infinities are [`Cell::Missing`].
pub fn number(value: f64, digits: usize) -> Cell {
    if value.is_finite() {
        Cell::Number { value, digits }
    } else {
        Cell::Missing
    }
}

/// [`number`] of a value that may be absent.
pub fn optional_number(value: Option<f64>, digits: usize) -> Cell {
    value.map_or(Cell::Missing, |v| number(v, digits))
}

/// The shortest text that reads back as exactly `value`: plain decimals from 1e-5 to 1e16,
/// scientific notation (`1.5e-7`) outside, so no number is written as hundreds of zeros.
pub fn full_precision(value: f64) -> String {
    let mut text = String::new();
    write_full_precision(&mut text, value);
    text
}

/// Appends [`full_precision`] of `value` to `out`.
fn write_full_precision(out: &mut String, value: f64) {
    use std::fmt::Write;
    let magnitude = value.abs();
    // Writing to a String cannot fail.
    let _ = if value == 0.0 || (1e-5..1e16).contains(&magnitude) || !value.is_finite() {
        write!(out, "{value}")
    } else {
        write!(out, "{value:e}")
    };
}

/// `digits` significant digits, in scientific notation for very small or large magnitudes.
fn rounded(value: f64, digits: usize) -> String {
    let magnitude = value.abs();
    if value != 0.0 && !(1e-3..1e6).contains(&magnitude) {
        return format!("{value:.prec$e}", prec = digits.saturating_sub(1));
    }
    let exponent = if value == 0.0 {
        0
    } else {
        magnitude.log10().floor() as i64
    };
    let decimals = (digits as i64 - 1 - exponent).max(0) as usize;
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(["window_days", "cv"]);
        t.push(vec!["32".into(), "0.5".into()]);
        t.push(vec!["64".into(), Cell::Missing]);
        t
    }

    #[test]
    fn csv_leaves_missing_fields_empty() {
        assert_eq!(sample().to_csv().unwrap(), "window_days,cv\n32,0.5\n64,\n");
    }

    #[test]
    fn csv_of_a_long_table_keeps_every_row_in_order() {
        // Three pieces and a part, with a quoted text field, a number in full and a gap.
        let mut table = Table::new(["i", "note", "quarter"]);
        let mut expected = String::from("i,note,quarter\n");
        for i in 0..3_500 {
            let quarter = (i % 7 != 0).then_some(i as f64 / 4.0);
            table.push(vec![
                i.to_string().into(),
                "a, b".into(),
                quarter.map_or(Cell::Missing, |q| number(q, 3)),
            ]);
            let quarter = quarter.map_or(String::new(), |q| q.to_string());
            expected.push_str(&format!("{i},\"a, b\",{quarter}\n"));
        }
        assert_eq!(table.to_csv().unwrap(), expected);
    }

    #[test]
    fn markdown_pads_columns_and_marks_missing() {
        let md = sample().to_markdown();
        assert_eq!(
            md,
            "| window_days | cv  |\n| ----------- | --- |\n| 32          | 0.5 |\n| 64          | —   |\n"
        );
    }

    #[test]
    fn latex_uses_booktabs_and_escapes() {
        let mut t = Table::new(["decoder", "test_r2"]);
        t.push(vec!["random_forest".into(), number(0.5, 3)]);
        t.push(vec!["a&b".into(), Cell::Missing]);
        assert_eq!(
            t.to_latex(),
            "\\begin{tabular}{lr}\n\\toprule\ndecoder & test\\_r2 \\\\\n\\midrule\n\
             random\\_forest & 0.500 \\\\\na\\&b & -- \\\\\n\\bottomrule\n\\end{tabular}\n"
        );
    }

    #[test]
    fn numbers_keep_significant_digits() {
        let shown = |v: f64, digits: usize| number(v, digits).to_display().map(Cow::into_owned);
        assert_eq!(shown(0.29, 3).as_deref(), Some("0.290"));
        assert_eq!(shown(2.32e-4, 3).as_deref(), Some("2.32e-4"));
        assert_eq!(shown(0.051, 2).as_deref(), Some("0.051"));
        assert_eq!(shown(128.0, 3).as_deref(), Some("128"));
        assert_eq!(shown(1.23456, 3).as_deref(), Some("1.23"));
        assert_eq!(number(f64::NAN, 3), Cell::Missing);
        assert_eq!(optional_number(None, 3), Cell::Missing);
    }

    #[test]
    fn csv_numbers_round_trip_and_markdown_rounds_them() {
        // 0.1 + 0.2 is 0.30000000000000004 in binary64: one ulp above 0.3.
        let sum = 0.1 + 0.2;
        assert_ne!(sum, 0.3);
        let tiny = 1.0 / 3.0 * 1e-9;
        let huge = 2f64.powi(80) / 3.0;
        let mut t = Table::new(["sum", "tiny", "huge"]);
        t.push(vec![number(sum, 4), number(tiny, 4), number(huge, 4)]);
        let csv = t.to_csv().unwrap();
        let fields: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(fields[0], "0.30000000000000004");
        assert_eq!(fields[0].parse::<f64>().unwrap(), sum);
        assert_eq!(fields[1].parse::<f64>().unwrap(), tiny);
        assert_eq!(fields[2].parse::<f64>().unwrap(), huge);
        assert!(fields[1].contains('e') && fields[2].contains('e'), "{csv}");
        let md = t.to_markdown();
        let row = md.lines().nth(2).unwrap();
        assert_eq!(row.split('|').nth(1).unwrap().trim(), "0.3000");
        assert_eq!(row.split('|').nth(2).unwrap().trim(), "3.333e-10");
        assert!(t.to_latex().contains("0.3000 & 3.333e-10 & "));
    }
}
