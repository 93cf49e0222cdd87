//! The window study on the real USGS ComCat Japan catalog (read in place, never copied).
//!
//! ComCat is complete for Japan only from about M 4.5, so the study uses Mc = 4.5 over
//! 2009–2019 instead of the paper's JMA catalog at Mc = 3.

use quakelab::catalog::{CatalogFilter, at_or_above};
use quakelab::io::catalog::{CatalogFormat, ReadOptions, read_catalog};
use quakelab::period::Period;
use quakelab::report::study::window_study_table;
use quakelab::seismicity::bvalue::{BValueParams, McChoice};
use quakelab::seismicity::window_study::window_study;

use crate::support;

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn window_study_on_the_japan_comcat_catalog() {
    let path = support::real_data("catalogs/japan_comcat_1990-2019.csv");
    let format = CatalogFormat::detect(&path).unwrap();
    let (catalog, _) = read_catalog(&path, &format, &ReadOptions::default()).unwrap();
    let period = Period::parse("2009-01-01", "2019-01-01").unwrap();
    let mc = 4.5;
    let selection = catalog.select(&period, mc).unwrap();
    let params = BValueParams {
        mc: McChoice::Fixed(mc),
        ..BValueParams::default()
    }
    .check()
    .unwrap();
    let windows = [32, 64, 128, 192, 256];
    let study = window_study(&selection, period.n_days(), &windows, &params).unwrap();

    // The b series of the 128-day windows, recounted plainly per day from the events
    // themselves (no prefix sums), must be the series the study summarised.
    let events: Vec<(f64, f64)> = catalog
        .filtered(&CatalogFilter {
            period: Some(period),
            ..CatalogFilter::default()
        })
        .events()
        .iter()
        .filter(|e| at_or_above(e.magnitude, mc))
        .map(|e| (period.days_since_start(e.time), e.magnitude))
        .collect();
    let w = 128;
    let mut recount = Vec::new();
    for d in (w - 1)..period.n_days() {
        let lo = (d + 1 - w) as f64;
        let hi = (d + 1) as f64;
        let m: Vec<f64> = events
            .iter()
            .filter(|(t, _)| lo <= *t && *t < hi)
            .map(|(_, m)| *m)
            .collect();
        if m.len() >= 50 {
            let mean = m.iter().sum::<f64>() / m.len() as f64;
            recount.push(std::f64::consts::LOG10_E / (mean - mc));
        }
    }
    let row = &study.rows[2];
    assert_eq!(row.window_days, 128);
    assert_eq!(row.n_valid, recount.len());
    let study_b: Vec<f64> = study.series[2]
        .iter()
        .filter_map(|r| r.value.as_ref().ok().map(|v| v.b))
        .collect();
    for (a, b) in study_b.iter().zip(&recount) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    let mean = recount.iter().sum::<f64>() / recount.len() as f64;
    let sd =
        (recount.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / recount.len() as f64).sqrt();
    assert!((row.cv - sd / mean).abs() < 1e-12);
    for r in &study.rows {
        assert!((0.0..=1.0).contains(&r.adf_p), "{r:?}");
        assert!((0.01..=0.1).contains(&r.kpss_p), "{r:?}");
        assert_eq!(r.stationary, r.adf_p < 0.05 && r.kpss_p > 0.05);
    }
    eprintln!("{}", window_study_table(&study).to_markdown());
}
