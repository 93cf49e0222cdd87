//! The seismicity commands' outputs: the b/a series table, the KDE label table and the window
//! study (the paper's Table 1 with Figs. 2 and 3).

use std::path::Path;

use crate::Result;
use crate::catalog::Catalog;
use crate::period::Period;
use crate::report::figure::{self, BaPoint};
use crate::report::table::{Cell, Table, number};
use crate::seismicity::bvalue::{ValidBValueParams, WindowRow, a_value_std};
use crate::seismicity::counts::{DailyCounts, daily_counts};
use crate::seismicity::kde::{Bandwidth, KdeLabels, KdeParams, LabelScale, kde_labels};
use crate::seismicity::window_study::{WindowStudy, window_study};

/// Table 1 with the columns `window_days,cv,adf_p,kpss_p,stationary,naive_mae,n_valid`, and
/// beside them the b-value significance test (Mirwald et al. 2024): `b_sig_n_m` (events per
/// subsample), `b_sig_mac` (mean autocorrelation), `b_sig_mu` and `b_sig_std` (its mean and
/// standard deviation under a constant b), `b_sig_p` (the p-value; small: b varies) and
/// `b_sig_missing` (why there is no p-value, else empty).
pub fn window_study_table(study: &WindowStudy) -> Table {
    let mut table = Table::new([
        "window_days",
        "cv",
        "adf_p",
        "kpss_p",
        "stationary",
        "naive_mae",
        "n_valid",
        "b_sig_n_m",
        "b_sig_mac",
        "b_sig_mu",
        "b_sig_std",
        "b_sig_p",
        "b_sig_missing",
    ]);
    for (r, sig) in study.rows.iter().zip(&study.significance) {
        let mut cells = vec![
            r.window_days.to_string().into(),
            number(r.cv, 4),
            number(r.adf_p, 4),
            number(r.kpss_p, 4),
            r.stationary.to_string().into(),
            number(r.naive_mae, 4),
            r.n_valid.to_string().into(),
            sig.n_m.to_string().into(),
        ];
        match &sig.result {
            Ok(s) => cells.extend([
                number(s.mac, 4),
                number(s.mu_mac, 4),
                number(s.std_mac, 4),
                number(s.p_value, 4),
                Cell::Missing,
            ]),
            Err(reason) => cells.extend([
                Cell::Missing,
                Cell::Missing,
                Cell::Missing,
                Cell::Missing,
                reason.to_string().into(),
            ]),
        }
        table.push(cells);
    }
    table
}

/// The b/a series with the columns `date,n_events,b_value,b_std,a_value,mc,missing`: a missing
/// window has empty values and its reason.
pub fn ba_table(period: &Period, rows: &[WindowRow]) -> Table {
    let mut table = Table::new([
        "date", "n_events", "b_value", "b_std", "a_value", "mc", "missing",
    ]);
    for row in rows {
        let date = Cell::from(period.date(row.day).to_string());
        let n = Cell::from(row.n_events.to_string());
        let mc = number(row.mc, 6);
        table.push(match &row.value {
            Ok(v) => vec![
                date,
                n,
                number(v.b, 10),
                number(v.b_std, 10),
                number(v.a, 10),
                mc,
                Cell::Missing,
            ],
            Err(reason) => vec![
                date,
                n,
                Cell::Missing,
                Cell::Missing,
                Cell::Missing,
                mc,
                reason.to_string().into(),
            ],
        });
    }
    table
}

/// The daily labels with the columns `date,label`.
pub fn labels_table(period: &Period, labels: &KdeLabels) -> Table {
    let mut table = Table::new(["date", "label"]);
    for (d, &y) in labels.values.iter().enumerate() {
        table.push(vec![period.date(d).to_string().into(), number(y, 12)]);
    }
    table
}

/// One Fig. 2 point: b with its Shi & Bolt error, a with [`a_value_std`].
pub fn ba_point(row: &WindowRow) -> BaPoint {
    let value = row.value.as_ref().ok();
    BaPoint {
        day: row.day,
        b: value.map(|v| (v.b, v.b_std)),
        a: value.map(|v| (v.a, a_value_std(row.mc, v.b_std, row.n_events))),
    }
}

/// What the window study's Fig. 3 draws: the labels (in events per day) over the daily counts.
#[derive(Debug, Clone, Copy)]
pub struct LabelFigure<'a> {
    /// The labels, scaled to events per day.
    pub labels: &'a KdeLabels,
    /// The events per day they are drawn over.
    pub counts: &'a DailyCounts,
    /// The completeness magnitude of the events counted.
    pub mc: f64,
}

/// Writes the window study to `out`: `window_study.csv` and `window_study.md` (Table 1),
/// `fig2_ba_series_wN.png` per window length (Fig. 2) and `fig3_kde_labels.png` (Fig. 3).
pub fn write_window_study(
    out: &Path,
    period: &Period,
    study: &WindowStudy,
    fig3: &LabelFigure<'_>,
) -> Result<Table> {
    let table = window_study_table(study);
    table.write_csv(&out.join("window_study.csv"))?;
    table.write_markdown(&out.join("window_study.md"))?;
    for (row, series) in study.rows.iter().zip(&study.series) {
        let window = row.window_days;
        let points: Vec<BaPoint> = series.iter().map(ba_point).collect();
        figure::ba_series(
            &out.join(format!("fig2_ba_series_w{window}.png")),
            period,
            &format!("b and a values, {window}-day windows (±1σ)"),
            &points,
        )?;
    }
    figure::kde_over_counts(
        &out.join("fig3_kde_labels.png"),
        period,
        &format!(
            "KDE labels over daily counts (M ≥ {}, bandwidth {:.1} days)",
            fig3.mc, fig3.labels.bandwidth_days
        ),
        &fig3.counts.counts,
        &fig3.labels.values,
    )?;
    Ok(table)
}

/// The paper's Table 1 study from a catalog: the events of `period` at or above `mc`, sliding
/// b values for each window length in `windows` (with `params`), and the KDE labels (bandwidth
/// `bandwidth`, in events per day) over the daily counts; written to `out` by
/// [`write_window_study`]. Returns Table 1.
pub fn window_study_report(
    catalog: &Catalog,
    period: &Period,
    mc: f64,
    params: &ValidBValueParams,
    windows: &[usize],
    bandwidth: Bandwidth,
    out: &Path,
) -> Result<Table> {
    let selection = catalog.select(period, mc)?;
    tracing::info!(events = selection.len(), "running the window study");
    let study = window_study(&selection, period.n_days(), windows, params)?;
    let labels = kde_labels(
        selection.times(),
        period.n_days(),
        &KdeParams::new(bandwidth, LabelScale::EventsPerDay),
    )?;
    let counts = daily_counts(selection.times(), period.n_days());
    write_window_study(
        out,
        period,
        &study,
        &LabelFigure {
            labels: &labels,
            counts: &counts,
            mc,
        },
    )
}
