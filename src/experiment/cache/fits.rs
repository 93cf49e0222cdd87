//! The fit cache: what each fit of a run produced (its predictions, its feature importances),
//! stored under `<results_dir>/cache/fits/`, so that a fit repeated with the same inputs is read
//! back instead of being fitted again.
//!
//! An experiment run again then fits nothing; a sweep over one decoder's setting fits only that
//! decoder again; an experiment given one more decoder fits only the new one.
//! `tracking.fit_cache = false` turns the cache off (nothing read, nothing written); deleting
//! the folder empties it.
//!
//! # The key
//!
//! An entry's name is the SHA-256 of everything its fit's result depends on:
//!
//! - the running executable (its path, size and modification time), so a rebuilt or upgraded
//!   quakelab fits again;
//! - the decoder's settings (their canonical JSON) and, per file a decoder names in
//!   [`crate::decode::DecoderSettings::external_files`] (a booster's library, a checkpoint),
//!   its path, size and modification time;
//! - the fit's input: the column names, every value of the matrix and of the labels (as bits),
//!   the split's training rows, the share held out for validation and the quantile levels;
//! - the seed, the device and the fit's thread count.
//!
//! A fit is a function of these: side-by-side fits run on exactly one thread whatever the
//! machine (`experiment::fit`), a fit alone on the pool's threads, which the key holds. A fit
//! read back is therefore the fit it replaces, bit for bit, and a run with the cache reports
//! what a run without it does (a test compares the two). A fit whose key cannot be made (a
//! decoder's file is missing) is fitted and not stored; it then fails or succeeds as it would
//! without the cache.
//!
//! # The entry
//!
//! `fits/<first two hex digits>/<key>.qlfit`, sealed and written atomically as `Entries` are,
//! little-endian: the magic `QLFIT001`; the decoder's name (u32 byte count, UTF-8); the number
//! of rows (u64); the prediction, `0` and the point values, or `1`, the point estimate (`0`
//! mean, `1` median), the levels (u32 count, f64 each), the means, the medians and the
//! quantiles level by level; the importances, `0`, or `1`, a u32 count and the values; then the
//! SHA-256 of everything before it. An entry that is damaged (short, or failing its checksum)
//! is ignored with a warning and its fit is made again, which replaces it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use faer::MatRef;
use tracing::debug;

use super::{Entries, KeyHasher, Reader, Writer, file_identity};
use crate::decode::{
    DecoderConfig, Device, PointEstimate, Prediction, PredictiveDistribution, QuantileLevels,
};
use crate::experiment::fit::Fitted;

/// The first bytes of every entry: the format and its version.
const MAGIC: &[u8; 8] = b"QLFIT001";

/// The folder of fit-cache entries under a results directory.
pub fn cache_dir(results_dir: &Path) -> PathBuf {
    results_dir.join("cache").join("fits")
}

/// The fit cache of one results directory.
#[derive(Debug)]
pub(crate) struct FitCache {
    entries: Entries,
}

/// Everything a fit's result depends on besides the executable (see the module docs).
pub(crate) struct FitInputs<'a> {
    pub decoder: &'a DecoderConfig,
    pub names: &'a [String],
    pub x: MatRef<'a, f64>,
    pub labels: &'a [f64],
    pub train: &'a [usize],
    pub validation_fraction: f64,
    pub levels: &'a QuantileLevels,
    pub seed: u64,
    pub device: Device,
    pub threads: usize,
}

/// A fit's key: 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FitKey(String);

impl FitKey {
    /// The key of a fit, or `None` when one cannot be made (the executable or a decoder's file
    /// cannot be found): the fit is then neither read nor stored.
    pub fn of(inputs: &FitInputs<'_>) -> Option<FitKey> {
        match fit_key(inputs) {
            Ok(key) => Some(key),
            Err(why) => {
                debug!(decoder = inputs.decoder.kind(), "fit not cached: {why}");
                None
            }
        }
    }
}

impl FitCache {
    /// The cache under `results_dir` ([`cache_dir`]); nothing is created until a fit is stored.
    pub fn new(results_dir: &Path) -> Self {
        FitCache {
            entries: Entries::new(cache_dir(results_dir), "qlfit", MAGIC, "fit"),
        }
    }

    /// The stored fit of `key`, if there is one and it is intact (marked cached, its elapsed
    /// time zero); a damaged entry is reported as a warning and treated as absent.
    pub fn read(&self, key: &FitKey) -> Option<Fitted> {
        self.entries.read(&key.0, decode_entry)
    }

    /// Stores `fit` under `key`. A failure is a warning, never the run's error: the fit itself
    /// succeeded.
    pub fn write(&self, key: &FitKey, fit: &Fitted) {
        self.entries.write(&key.0, |out| encode_entry(fit, out));
    }
}

/// The key of a fit (see the module docs); an error names what could not be read.
fn fit_key(inputs: &FitInputs<'_>) -> std::result::Result<FitKey, String> {
    let mut h = KeyHasher::new(MAGIC)?;
    let settings = serde_json::to_string(inputs.decoder)
        .map_err(|e| format!("cannot serialise the decoder's settings: {e}"))?;
    h.field(settings.as_bytes());
    let files = inputs
        .decoder
        .settings()
        .external_files()
        .map_err(|e| e.to_string())?;
    h.count(files.len());
    for file in &files {
        h.field(file_identity(file)?.as_bytes());
    }
    h.count(inputs.names.len());
    for name in inputs.names {
        h.field(name.as_bytes());
    }
    let x = inputs.x;
    h.count(x.nrows());
    h.count(x.ncols());
    for j in 0..x.ncols() {
        h.numbers((0..x.nrows()).map(|i| x[(i, j)]));
    }
    h.numbers(inputs.labels.iter().copied());
    h.indices(inputs.train);
    h.field(&inputs.validation_fraction.to_bits().to_le_bytes());
    h.numbers(inputs.levels.levels().iter().copied());
    h.field(&inputs.seed.to_le_bytes());
    h.field(inputs.device.name().as_bytes());
    h.count(inputs.threads);
    Ok(FitKey(h.finish()))
}

/// Writes an entry's body, after its magic (see the module docs).
fn encode_entry(fit: &Fitted, out: &mut Vec<u8>) {
    let rows = fit.prediction.len();
    out.reserve(64 + 8 * rows * 8);
    out.put_u32(fit.name.len() as u32);
    out.extend_from_slice(fit.name.as_bytes());
    out.put_u64(rows as u64);
    match &fit.prediction {
        Prediction::Point(values) => {
            out.push(0);
            out.put_numbers(values);
        }
        Prediction::Distribution(d) => {
            out.push(1);
            out.push(match d.point_estimate() {
                PointEstimate::Mean => 0,
                PointEstimate::Median => 1,
            });
            out.put_u32(d.levels().len() as u32);
            out.put_numbers(d.levels().levels());
            out.put_numbers(d.mean());
            out.put_numbers(d.median());
            for k in 0..d.levels().len() {
                out.put_numbers(d.quantile(k));
            }
        }
    }
    match &fit.importance {
        None => out.push(0),
        Some(values) => {
            out.push(1);
            out.put_u32(values.len() as u32);
            out.put_numbers(values);
        }
    }
}

/// Reads an entry's body back; an error says what is wrong with it.
fn decode_entry(r: &mut Reader<'_>) -> std::result::Result<Fitted, String> {
    let name_len = r.u32()? as usize;
    let name = String::from_utf8(r.take(name_len)?.to_vec())
        .map_err(|_| "the decoder's name is not UTF-8".to_string())?;
    let rows = r.usize()?;
    let prediction = match r.u8()? {
        0 => Prediction::Point(r.numbers(rows)?),
        1 => {
            let point = match r.u8()? {
                0 => PointEstimate::Mean,
                1 => PointEstimate::Median,
                other => return Err(format!("unknown point estimate {other}")),
            };
            let k = r.u32()? as usize;
            let levels = QuantileLevels::new(r.numbers(k)?)?;
            let mean = r.numbers(rows)?;
            let median = r.numbers(rows)?;
            let quantiles = (0..k)
                .map(|_| r.numbers(rows))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let distribution = PredictiveDistribution::new(mean, median, levels, quantiles)
                .map_err(|e| e.to_string())?;
            Prediction::Distribution(distribution.with_point(point))
        }
        other => return Err(format!("unknown prediction kind {other}")),
    };
    let importance = match r.u8()? {
        0 => None,
        1 => {
            let n = r.u32()? as usize;
            Some(r.numbers(n)?)
        }
        other => return Err(format!("unknown importance flag {other}")),
    };
    Ok(Fitted {
        name,
        prediction,
        importance,
        elapsed: Duration::ZERO,
        cached: true,
    })
}

#[cfg(test)]
mod tests {
    use faer::Mat;

    use super::*;

    /// A fit sealed as an entry of the cache under `dir`.
    fn sealed(cache: &FitCache, fit: &Fitted) -> Vec<u8> {
        cache.entries.seal(|out| encode_entry(fit, out))
    }

    /// An entry's bytes read back.
    fn opened(cache: &FitCache, bytes: &[u8]) -> std::result::Result<Fitted, String> {
        cache.entries.open(bytes, decode_entry)
    }

    fn fitted(prediction: Prediction, importance: Option<Vec<f64>>) -> Fitted {
        Fitted {
            name: "random_forest".into(),
            prediction,
            importance,
            elapsed: Duration::ZERO,
            cached: false,
        }
    }

    /// The bits of every number of a fit, NaN included, and its name.
    fn bits(fit: &Fitted) -> (String, Vec<u64>, Option<Vec<u64>>) {
        let of = |values: &[f64]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let mut numbers = of(fit.prediction.point());
        if let Some(d) = fit.prediction.distribution() {
            numbers.extend(of(d.levels().levels()));
            numbers.extend(of(d.mean()));
            numbers.extend(of(d.median()));
            for k in 0..d.levels().len() {
                numbers.extend(of(d.quantile(k)));
            }
        }
        (fit.name.clone(), numbers, fit.importance.as_deref().map(of))
    }

    fn distribution() -> Prediction {
        let levels = QuantileLevels::new(vec![0.1, 0.9]).unwrap();
        let d = PredictiveDistribution::new(
            vec![1.5, f64::NAN, -2.0],
            vec![1.25, f64::NAN, -3.0],
            levels,
            vec![vec![0.5, f64::NAN, -4.0], vec![2.5, f64::NAN, -1.0]],
        )
        .unwrap();
        Prediction::Distribution(d.with_point(PointEstimate::Median))
    }

    #[test]
    fn entries_read_back_bit_for_bit() {
        let cache = FitCache::new(Path::new("results"));
        for fit in [
            fitted(
                Prediction::Point(vec![0.25, f64::NAN, -1e-300, 7.0]),
                Some(vec![0.75, 0.0, 0.25]),
            ),
            fitted(distribution(), None),
            fitted(Prediction::Point(Vec::new()), Some(Vec::new())),
        ] {
            let back = opened(&cache, &sealed(&cache, &fit)).unwrap();
            assert_eq!(bits(&back), bits(&fit));
            assert!(back.cached);
            assert_eq!(
                back.prediction.distribution().map(|d| d.point_estimate()),
                fit.prediction.distribution().map(|d| d.point_estimate())
            );
        }
        // The median is the point of the distribution above.
        let back = opened(&cache, &sealed(&cache, &fitted(distribution(), None))).unwrap();
        assert_eq!(back.prediction.point()[0], 1.25);
    }

    #[test]
    fn a_damaged_or_short_entry_is_refused() {
        let cache = FitCache::new(Path::new("results"));
        let entry = sealed(&cache, &fitted(distribution(), Some(vec![1.0, 2.0])));
        for i in 0..entry.len() {
            let mut damaged = entry.clone();
            damaged[i] ^= 0x10;
            assert!(opened(&cache, &damaged).is_err(), "byte {i} flipped");
        }
        for n in 0..entry.len() {
            assert!(
                opened(&cache, &entry[..n]).is_err(),
                "{n} of {} bytes",
                entry.len()
            );
        }
        let mut longer = entry.clone();
        longer.push(0);
        assert!(opened(&cache, &longer).is_err());
    }

    /// A fit's inputs, owned, so a test can change one at a time.
    #[derive(Clone)]
    struct Owned {
        decoder: DecoderConfig,
        names: Vec<String>,
        x: Mat<f64>,
        labels: Vec<f64>,
        train: Vec<usize>,
        validation_fraction: f64,
        levels: QuantileLevels,
        seed: u64,
        device: Device,
        threads: usize,
    }

    impl Owned {
        fn new() -> Self {
            Owned {
                decoder: DecoderConfig::from_kind("ridge").unwrap(),
                names: vec!["b_value".into(), "a_value".into()],
                x: Mat::from_fn(4, 2, |i, j| (i * 2 + j) as f64 * 0.5),
                labels: vec![0.1, 0.2, f64::NAN, 0.4],
                train: vec![0, 1],
                validation_fraction: 0.2,
                levels: QuantileLevels::default(),
                seed: 7,
                device: Device::Cpu,
                threads: 1,
            }
        }

        fn inputs(&self) -> FitInputs<'_> {
            FitInputs {
                decoder: &self.decoder,
                names: &self.names,
                x: self.x.as_ref(),
                labels: &self.labels,
                train: &self.train,
                validation_fraction: self.validation_fraction,
                levels: &self.levels,
                seed: self.seed,
                device: self.device,
                threads: self.threads,
            }
        }

        fn key(&self) -> FitKey {
            fit_key(&self.inputs()).unwrap()
        }
    }

    #[test]
    fn the_key_changes_with_every_input_and_only_then() {
        let base = Owned::new();
        let key = base.key();
        assert_eq!(key.0.len(), 64);
        assert!(key.0.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(Owned::new().key(), key);
        type Change = fn(&mut Owned);
        let changes: Vec<(&str, Change)> = vec![
            ("decoder", |o| {
                o.decoder.apply_override("decoder.alpha=2").unwrap()
            }),
            ("decoder kind", |o| {
                o.decoder = DecoderConfig::from_kind("climatology").unwrap()
            }),
            ("a name", |o| o.names[1] = "a".into()),
            ("a value", |o| o.x[(3, 1)] = 3.5000000000000004),
            ("the shape", |o| {
                o.x = Mat::from_fn(2, 4, |i, j| (i * 4 + j) as f64 * 0.5)
            }),
            ("a label", |o| o.labels[2] = 0.3),
            ("the training rows", |o| o.train = vec![0, 1, 3]),
            ("validation", |o| o.validation_fraction = 0.25),
            ("levels", |o| {
                o.levels = QuantileLevels::new(vec![0.5]).unwrap()
            }),
            ("seed", |o| o.seed = 8),
            ("device", |o| o.device = Device::Cuda),
            ("threads", |o| o.threads = 2),
        ];
        for (what, change) in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(changed.key(), key, "{what}");
        }
    }

    #[test]
    fn a_replaced_checkpoint_changes_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("net.safetensors");
        std::fs::write(&weights, b"first").unwrap();
        let mut inputs = Owned::new();
        inputs.decoder = DecoderConfig::from_kind("pfn").unwrap();
        inputs
            .decoder
            .apply_override(&format!("decoder.weights={}", weights.display()))
            .unwrap();
        let first = inputs.key();
        assert_eq!(inputs.key(), first);
        std::fs::write(&weights, b"the second").unwrap();
        assert_ne!(inputs.key(), first);
        std::fs::remove_file(&weights).unwrap();
        assert!(FitKey::of(&inputs.inputs()).is_none());
    }

    #[test]
    fn a_stored_fit_is_found_under_its_key_and_nowhere_else() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FitCache::new(dir.path());
        let inputs = Owned::new();
        let key = inputs.key();
        assert!(cache.read(&key).is_none());
        let fit = fitted(distribution(), Some(vec![0.5, 0.5]));
        cache.write(&key, &fit);
        let path = cache_dir(dir.path())
            .join(&key.0[..2])
            .join(format!("{}.qlfit", key.0));
        assert!(path.is_file(), "{}", path.display());
        assert_eq!(bits(&cache.read(&key).unwrap()), bits(&fit));
        let mut other = inputs.clone();
        other.seed += 1;
        assert!(cache.read(&other.key()).is_none());
        // A damaged entry reads as absent.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(cache.read(&key).is_none());
    }
}
