//! Where a run's time went: the wall time of each stage, and per decoder its fits and the
//! seconds they took.
//!
//! The stages follow the run: `data` (hashing, reading or simulating the inputs, the b/a
//! windows, the GNSS images), `encode` (the daily table, each split's labels and the GNSS
//! features reduced per split), `fits` (every decoder fitted and predicting), `scoring`
//! (metrics, bootstrap intervals, Diebold–Mariano tests) and `report` (tables, figures,
//! tracking). Fits run side by side (`experiment::fit`), so a decoder's seconds are the sum over
//! its fits, each timed on its own thread, and all decoders together may exceed the wall
//! time of the `fits` stage. A fit read from the fit cache ([`super::cache::fits`]) counts with
//! the time its reading took, and is counted among the decoder's cached fits.
//!
//! A run writes them to [`TIMINGS_FILE`], logs each stage as the metric `time_<stage>_s`, and
//! prints [`Timings::summary`] with its results.

use std::time::Duration;

use crate::track::Metric;

/// The run artifact holding the timings: `part,name,fits,seconds,cached`, one `stage` row per
/// stage in run order, then one `decoder` row per decoder in the experiment's order (`cached`:
/// how many of its fits were read from the fit cache; empty for a stage).
pub const TIMINGS_FILE: &str = "timings.csv";

/// A run's timings (see the module docs).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Timings {
    stages: Vec<(&'static str, f64)>,
    decoders: Vec<DecoderTime>,
}

/// The fits of one decoder, their summed seconds, and how many were read from the fit cache.
#[derive(Debug, Clone, PartialEq)]
struct DecoderTime {
    decoder: String,
    fits: usize,
    cached: usize,
    seconds: f64,
}

impl Timings {
    /// Adds `elapsed` to the stage `name`, appended in first-seen order.
    pub fn add_stage(&mut self, name: &'static str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        match self.stages.iter_mut().find(|(stage, _)| *stage == name) {
            Some((_, total)) => *total += seconds,
            None => self.stages.push((name, seconds)),
        }
    }

    /// Adds one fit of `decoder` that took `elapsed`, read from the fit cache if `cached`.
    pub fn add_fit(&mut self, decoder: &str, elapsed: Duration, cached: bool) {
        self.add_decoder(DecoderTime {
            decoder: decoder.to_string(),
            fits: 1,
            cached: usize::from(cached),
            seconds: elapsed.as_secs_f64(),
        });
    }

    /// Adds `time`'s fits to those of its decoder, appended in first-seen order.
    fn add_decoder(&mut self, time: DecoderTime) {
        match self.decoders.iter_mut().find(|d| d.decoder == time.decoder) {
            Some(d) => {
                d.fits += time.fits;
                d.cached += time.cached;
                d.seconds += time.seconds;
            }
            None => self.decoders.push(time),
        }
    }

    /// Appends `other`'s stages and decoders, adding to those already here.
    pub fn merge(&mut self, other: Timings) {
        for (stage, seconds) in other.stages {
            self.add_stage(stage, Duration::from_secs_f64(seconds));
        }
        for d in other.decoders {
            self.add_decoder(d);
        }
    }

    /// The [`TIMINGS_FILE`] text: a header, the stages, then the decoders; seconds with three
    /// decimals, the `fits` and `cached` of a stage row empty.
    pub fn csv(&self) -> String {
        let mut out = String::from("part,name,fits,seconds,cached\n");
        for (stage, seconds) in &self.stages {
            out.push_str(&format!("stage,{stage},,{seconds:.3},\n"));
        }
        for d in &self.decoders {
            let name = if d.decoder.contains([',', '"']) {
                format!("\"{}\"", d.decoder.replace('"', "\"\""))
            } else {
                d.decoder.clone()
            };
            out.push_str(&format!(
                "decoder,{name},{},{:.3},{}\n",
                d.fits, d.seconds, d.cached
            ));
        }
        out
    }

    /// One line for the terminal: the stages, then the decoders from the slowest, e.g.
    /// `time: data 1.2 s, fits 40.0 s; fits by decoder: random_forest 30.1 s (84 fits)`, with
    /// the fits read from the fit cache counted (`ridge 0.0 s (28 fits, all from the fit
    /// cache)`, `… (28 fits, 4 from the fit cache)`).
    pub fn summary(&self) -> String {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|(stage, seconds)| format!("{stage} {seconds:.1} s"))
            .collect();
        let mut line = format!("time: {}", stages.join(", "));
        let mut decoders: Vec<&DecoderTime> = self.decoders.iter().collect();
        decoders.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        if !decoders.is_empty() {
            let parts: Vec<String> = decoders
                .iter()
                .map(|d| {
                    let plural = if d.fits == 1 { "" } else { "s" };
                    let cached = match d.cached {
                        0 => String::new(),
                        n if n == d.fits => ", all from the fit cache".to_string(),
                        n => format!(", {n} from the fit cache"),
                    };
                    format!(
                        "{} {:.1} s ({} fit{plural}{cached})",
                        d.decoder, d.seconds, d.fits
                    )
                })
                .collect();
            line.push_str(&format!(
                "; fits by decoder, summed over fits run side by side: {}",
                parts.join(", ")
            ));
        }
        line
    }

    /// Each stage as the metric `time_<stage>_s`.
    pub fn metrics(&self) -> Vec<Metric> {
        self.stages
            .iter()
            .map(|(stage, seconds)| Metric::new(format!("time_{stage}_s"), *seconds, 0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn stages_and_fits_add_up_in_first_seen_order() {
        let mut t = Timings::default();
        t.add_stage("data", ms(1500));
        t.add_stage("fits", ms(250));
        t.add_stage("fits", ms(750));
        t.add_fit("ridge", ms(10), false);
        t.add_fit("PFN (quakelab-pfn-s)", ms(2000), false);
        t.add_fit("ridge", ms(30), true);
        assert_eq!(
            t.csv(),
            "part,name,fits,seconds,cached\nstage,data,,1.500,\nstage,fits,,1.000,\n\
             decoder,ridge,2,0.040,1\ndecoder,PFN (quakelab-pfn-s),1,2.000,0\n"
        );
        assert_eq!(
            t.summary(),
            "time: data 1.5 s, fits 1.0 s; fits by decoder, summed over fits run side by side: \
             PFN (quakelab-pfn-s) 2.0 s (1 fit), ridge 0.0 s (2 fits, 1 from the fit cache)"
        );
        let metrics = t.metrics();
        assert_eq!(metrics.len(), 2);
        assert_eq!(metrics[1].key, "time_fits_s");
        assert_eq!(metrics[1].value, 1.0);
    }

    #[test]
    fn merging_appends_new_parts_and_adds_to_known_ones() {
        let mut run = Timings::default();
        run.add_stage("data", ms(100));
        run.add_fit("ridge", ms(20), false);
        let mut evaluation = Timings::default();
        evaluation.add_stage("fits", ms(300));
        evaluation.add_fit("ridge", ms(30), false);
        evaluation.add_fit("lightgbm", ms(500), true);
        run.merge(evaluation);
        assert_eq!(
            run.csv(),
            "part,name,fits,seconds,cached\nstage,data,,0.100,\nstage,fits,,0.300,\n\
             decoder,ridge,2,0.050,0\ndecoder,lightgbm,1,0.500,1\n"
        );
    }

    #[test]
    fn a_decoder_name_with_a_comma_is_quoted() {
        let mut t = Timings::default();
        t.add_fit("catboost (depth 6, 300 iterations)", ms(1000), false);
        assert!(
            t.csv()
                .ends_with("decoder,\"catboost (depth 6, 300 iterations)\",1,1.000,0\n"),
            "{}",
            t.csv()
        );
    }
}
