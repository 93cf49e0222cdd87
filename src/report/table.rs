//! Result tables, written as CSV (for tools) and Markdown (for people).
//!
//! Cells are text already formatted by the caller; a missing value is an empty cell in CSV and
//! an em dash in Markdown, so a missing number can never be mistaken for zero.

use std::path::Path;

use crate::{Error, Result};

/// A rectangular table with named columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl Table {
    /// An empty table with these column names.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; `None` marks a missing value.
    ///
    /// # Panics
    /// If the row's length differs from the number of columns: that is a bug in the caller,
    /// not bad input.
    pub fn push(&mut self, row: Vec<Option<String>>) {
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

    /// The rows, `None` for missing cells.
    pub fn rows(&self) -> &[Vec<Option<String>>] {
        &self.rows
    }

    /// The table as CSV text with a header line; missing values are empty fields.
    pub fn to_csv(&self) -> Result<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let csv_error = |e: csv::Error| Error::Numerical(format!("CSV encoding failed: {e}"));
        writer.write_record(&self.headers).map_err(csv_error)?;
        for row in &self.rows {
            writer
                .write_record(row.iter().map(|c| c.as_deref().unwrap_or("")))
                .map_err(csv_error)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| Error::Numerical(format!("CSV encoding failed: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Numerical(e.to_string()))
    }

    /// The table as a GitHub-flavoured Markdown table; missing values are shown as `—`.
    pub fn to_markdown(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| c.clone().unwrap_or_else(|| "—".to_string()))
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
    /// right-aligned; missing values as `--`; LaTeX special characters escaped.
    pub fn to_latex(&self) -> String {
        let numeric: Vec<bool> = (0..self.headers.len())
            .map(|j| {
                self.rows
                    .iter()
                    .all(|r| r[j].as_deref().is_none_or(|c| c.parse::<f64>().is_ok()))
            })
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
                    .map(|c| c.as_deref().map_or("--".to_string(), latex_escape))
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

/// Formats a number for a table: `digits` significant digits, scientific notation for very
/// small or large magnitudes, and `None` for NaN or infinity.
pub fn number(value: f64, digits: usize) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let magnitude = value.abs();
    if value != 0.0 && !(1e-3..1e6).contains(&magnitude) {
        return Some(format!("{value:.prec$e}", prec = digits.saturating_sub(1)));
    }
    let exponent = if value == 0.0 {
        0
    } else {
        magnitude.log10().floor() as i64
    };
    let decimals = (digits as i64 - 1 - exponent).max(0) as usize;
    Some(format!("{value:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(["window_days", "cv"]);
        t.push(vec![Some("32".into()), Some("0.5".into())]);
        t.push(vec![Some("64".into()), None]);
        t
    }

    #[test]
    fn csv_leaves_missing_fields_empty() {
        assert_eq!(sample().to_csv().unwrap(), "window_days,cv\n32,0.5\n64,\n");
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
        t.push(vec![Some("random_forest".into()), Some("0.5".into())]);
        t.push(vec![Some("a&b".into()), None]);
        assert_eq!(
            t.to_latex(),
            "\\begin{tabular}{lr}\n\\toprule\ndecoder & test\\_r2 \\\\\n\\midrule\n\
             random\\_forest & 0.5 \\\\\na\\&b & -- \\\\\n\\bottomrule\n\\end{tabular}\n"
        );
    }

    #[test]
    fn numbers_keep_significant_digits() {
        assert_eq!(number(0.29, 3).as_deref(), Some("0.290"));
        assert_eq!(number(2.32e-4, 3).as_deref(), Some("2.32e-4"));
        assert_eq!(number(0.051, 2).as_deref(), Some("0.051"));
        assert_eq!(number(128.0, 3).as_deref(), Some("128"));
        assert_eq!(number(1.23456, 3).as_deref(), Some("1.23"));
        assert_eq!(number(f64::NAN, 3), None);
    }
}
