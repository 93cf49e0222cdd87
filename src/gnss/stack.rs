//! The stack of daily displacement images (paper §1.1, "one image per day, 50x50x3"), its
//! compact binary file for the stage cache, and `.npy` export ([`StackFormat`] chooses by the
//! file extension).
//!
//! Layout everywhere: `(days, rows, cols, 3)` in C order, channels N, E, U in mm, `f32`.
//! Row `i` is at latitude `LAT0 + i·dlat` (eq. 3; row 0 is the southern edge) and column `j`
//! at longitude `LON0 + j·dlon` (eq. 4), shifted by half a cell for [`GridOrigin::Centre`].
//!
//! # The compact format (`.qlimg`, version 1)
//!
//! All numbers little-endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `QLGNSSIM` |
//! | 4 | version `u32` = 1 |
//! | 4 x 8 | region `lon_min, lon_max, lat_min, lat_max` (`f64`) |
//! | 4 + 4 | `rows`, `cols` (`u32`) |
//! | 1 + 1 | origin (0 corner, 1 centre), sigma spacing (0 latitude, 1 longitude) |
//! | 8 | `sigma_cells` (`f64`) |
//! | 4 + 1 + 1 | start date: year (`i32`), month, day |
//! | 8 | `n_days` (`u64`) |
//! | 4 · n | the data, `f32` |
//! | 32 | SHA-256 of all the bytes above |
//!
//! [`ImageStack::content_hash`] is that SHA-256 in hex, so it names both the values and the
//! grid they live on.

use std::io::{Read, Write};
use std::path::Path;

use jiff::civil::Date;
use sha2::{Digest, Sha256};

use crate::catalog::Region;
use crate::gnss::grid::{GridOrigin, GridSpec, SigmaSpacing, ValidGridSpec};
use crate::io::npy;
use crate::period::Period;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"QLGNSSIM";
const VERSION: u32 = 1;
const HASH_LEN: usize = 32;
/// The length of the header, up to and including `n_days`.
const HEADER_LEN: usize = 76;
/// How many data bytes [`ImageStack::read`] reads at a time (a multiple of 4).
const READ_CHUNK: usize = 1 << 20;

/// The file formats a stack is written in, chosen by the output's extension (case ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackFormat {
    /// NumPy `.npy` ([`ImageStack::write_npy`]).
    Npy,
    /// quakelab's compact `.qlimg` with the grid and a content hash ([`ImageStack::write`]).
    Compact,
}

impl StackFormat {
    /// The format `path`'s extension names: `.npy` or `.qlimg`. Any other extension, or
    /// none, is refused with the supported ones named (key `out`), so a mistyped output fails
    /// before any work.
    pub fn from_path(path: &Path) -> Result<Self> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("npy") => Ok(StackFormat::Npy),
            Some("qlimg") => Ok(StackFormat::Compact),
            other => Err(Error::config(
                "out",
                format!(
                    "`{}` {}: an image stack is written as .npy (NumPy) or .qlimg (quakelab's \
                     compact stack with its grid and content hash)",
                    path.display(),
                    match other {
                        Some(e) => format!("has the unsupported extension `.{e}`"),
                        None => "has no extension".to_string(),
                    }
                ),
            )),
        }
    }
}

/// Daily displacement images, `(days, rows, cols, 3)` in C order, `f32` mm (N, E, U), with the
/// grid and the period they belong to. A day on which no station had a displacement is all
/// NaN; so is a cell without any weight (see [`crate::gnss::gridding::GriddingReport`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageStack {
    grid: ValidGridSpec,
    period: Period,
    data: Vec<f32>,
}

impl ImageStack {
    /// A stack from its data, `n_days · rows · cols · 3` values in C order.
    pub fn new(grid: ValidGridSpec, period: Period, data: Vec<f32>) -> Result<Self> {
        let expected = period.n_days() * grid.n_cells() * 3;
        if data.len() != expected {
            return Err(Error::Numerical(format!(
                "image stack: expected {} days x {} x {} x 3 = {expected} values, got {}",
                period.n_days(),
                grid.rows(),
                grid.cols(),
                data.len()
            )));
        }
        Ok(ImageStack { grid, period, data })
    }

    /// The grid.
    pub fn grid(&self) -> &ValidGridSpec {
        &self.grid
    }

    /// The period; image `d` is day `period.date(d)`.
    pub fn period(&self) -> &Period {
        &self.period
    }

    /// The number of days (images).
    pub fn n_days(&self) -> usize {
        self.period.n_days()
    }

    /// The shape `(days, rows, cols, 3)`.
    pub fn shape(&self) -> [usize; 4] {
        [self.n_days(), self.grid.rows(), self.grid.cols(), 3]
    }

    /// All values in C order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Day `day`'s image, `rows · cols · 3` values in C order. Panics if `day >= n_days()`.
    pub fn day(&self, day: usize) -> &[f32] {
        let n = self.grid.n_cells() * 3;
        &self.data[day * n..(day + 1) * n]
    }

    /// Appends the images of `days` to `out` channel-major, `days.len() x 3 x rows x cols` in C
    /// order (the N x C x H x W layout image models take), without copying the rest of the
    /// stack. Encoders stream a stack through this in batches of their batch size.
    ///
    /// A day beyond the stack is an [`Error::Numerical`] naming it; nothing is appended then.
    pub fn extend_nchw(&self, days: &[usize], out: &mut Vec<f32>) -> Result<()> {
        if let Some(&d) = days.iter().find(|&&d| d >= self.n_days()) {
            return Err(Error::Numerical(format!(
                "image stack: day {d} is beyond the stack's {} days",
                self.n_days()
            )));
        }
        let [_, rows, cols, channels] = self.shape();
        out.reserve(days.len() * channels * rows * cols);
        for &d in days {
            let image = self.day(d);
            for c in 0..channels {
                out.extend((0..rows * cols).map(|cell| image[cell * channels + c]));
            }
        }
        Ok(())
    }

    /// The value at `(day, row, col, channel)` (channel 0 N, 1 E, 2 U), if in range.
    pub fn get(&self, day: usize, row: usize, col: usize, channel: usize) -> Option<f32> {
        let [d, r, c, k] = self.shape();
        (day < d && row < r && col < c && channel < k)
            .then(|| self.data[((day * r + row) * c + col) * k + channel])
    }

    fn header(&self) -> Vec<u8> {
        let spec = self.grid.spec();
        let r = spec.region;
        let start = self.period.start();
        let mut h = Vec::with_capacity(80);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&VERSION.to_le_bytes());
        for v in [r.lon_min, r.lon_max, r.lat_min, r.lat_max] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        // `check` allows any positive size; a grid beyond u32 would not fit in memory anyway.
        h.extend_from_slice(&(spec.rows as u32).to_le_bytes());
        h.extend_from_slice(&(spec.cols as u32).to_le_bytes());
        h.push(match spec.origin {
            GridOrigin::Corner => 0,
            GridOrigin::Centre => 1,
        });
        h.push(match spec.sigma_spacing {
            SigmaSpacing::Latitude => 0,
            SigmaSpacing::Longitude => 1,
        });
        h.extend_from_slice(&spec.sigma_cells.to_le_bytes());
        h.extend_from_slice(&i32::from(start.year()).to_le_bytes());
        h.push(start.month() as u8);
        h.push(start.day() as u8);
        h.extend_from_slice(&(self.n_days() as u64).to_le_bytes());
        h
    }

    fn digest(&self, header: &[u8]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(header);
        let mut buf = Vec::with_capacity(4 * 4096);
        for chunk in self.data.chunks(4096) {
            buf.clear();
            chunk
                .iter()
                .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            hasher.update(&buf);
        }
        hasher.finalize().to_vec()
    }

    /// The SHA-256 (hex) of the compact encoding: grid, period and every value bit for bit.
    /// Two stacks have the same hash exactly when [`ImageStack::write`] writes the same bytes.
    pub fn content_hash(&self) -> String {
        self.digest(&self.header())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Writes the compact format (see the module docs) atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let header = self.header();
        let digest = self.digest(&header);
        crate::io::write_atomic(path, |w| {
            w.write_all(&header)?;
            write_f32s(w, &self.data)?;
            w.write_all(&digest)
        })
    }

    /// Reads a file written by [`ImageStack::write`], checking its magic, version, sizes and
    /// SHA-256.
    ///
    /// The values are decoded and hashed as they are read, so the file's bytes are never held
    /// whole beside the stack.
    pub fn read(path: &Path) -> Result<Self> {
        let io = |e| Error::io(path, e);
        let mut file = std::fs::File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut head = Vec::with_capacity(HEADER_LEN);
        (&mut file)
            .take(HEADER_LEN as u64)
            .read_to_end(&mut head)
            .map_err(io)?;
        let bad = |field: &str, message: String| Error::parse(path, 0, field, message);
        let mut r = Reader {
            bytes: &head,
            at: 0,
        };
        let short = || bad("header", "file is truncated".into());
        if r.take(8).ok_or_else(short)? != MAGIC {
            return Err(bad("magic", "not a quakelab image stack".into()));
        }
        let version = u32::from_le_bytes(r.array().ok_or_else(short)?);
        if version != VERSION {
            return Err(bad("version", format!("unsupported version {version}")));
        }
        let mut f = || r.array().map(f64::from_le_bytes).ok_or_else(short);
        let (lon_min, lon_max, lat_min, lat_max) = (f()?, f()?, f()?, f()?);
        let region = Region::new(lon_min, lon_max, lat_min, lat_max)
            .map_err(|e| bad("region", e.to_string()))?;
        let rows = u32::from_le_bytes(r.array().ok_or_else(short)?) as usize;
        let cols = u32::from_le_bytes(r.array().ok_or_else(short)?) as usize;
        let [origin, spacing] = r.array().ok_or_else(short)?;
        let origin = match origin {
            0 => GridOrigin::Corner,
            1 => GridOrigin::Centre,
            o => return Err(bad("origin", format!("unknown code {o}"))),
        };
        let sigma_spacing = match spacing {
            0 => SigmaSpacing::Latitude,
            1 => SigmaSpacing::Longitude,
            o => return Err(bad("sigma_spacing", format!("unknown code {o}"))),
        };
        let sigma_cells = f64::from_le_bytes(r.array().ok_or_else(short)?);
        let grid = GridSpec {
            region,
            rows,
            cols,
            origin,
            sigma_cells,
            sigma_spacing,
        }
        .check()
        .map_err(|e| bad("grid", e.to_string()))?;
        let year = i32::from_le_bytes(r.array().ok_or_else(short)?);
        let [month, day] = r.array().ok_or_else(short)?;
        let n_days = u64::from_le_bytes(r.array().ok_or_else(short)?);
        let start = i16::try_from(year)
            .ok()
            .and_then(|y| Date::new(y, month as i8, day as i8).ok())
            .ok_or_else(|| bad("start", format!("invalid date {year}-{month}-{day}")))?;
        let period = usize::try_from(n_days)
            .ok()
            .and_then(|n| {
                start
                    .checked_add(jiff::Span::new().try_days(n as i64).ok()?)
                    .ok()
            })
            .ok_or_else(|| bad("n_days", format!("{n_days} days do not fit a period")))
            .and_then(|end| Period::new(start, end).map_err(|e| bad("n_days", e.to_string())))?;
        let n_values = period.n_days() * grid.n_cells() * 3;
        let header_len = r.at;
        let expected = header_len + 4 * n_values + HASH_LEN;
        if file_len != expected as u64 {
            return Err(bad(
                "data",
                format!("expected {expected} bytes for {n_values} values, the file has {file_len}"),
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(&head[..header_len]);
        let mut data: Vec<f32> = Vec::with_capacity(n_values);
        let mut chunk = vec![0_u8; READ_CHUNK];
        let mut left = 4 * n_values;
        while left > 0 {
            let n = left.min(READ_CHUNK);
            file.read_exact(&mut chunk[..n]).map_err(io)?;
            hasher.update(&chunk[..n]);
            data.extend(
                chunk[..n]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
            left -= n;
        }
        let mut stored = [0_u8; HASH_LEN];
        file.read_exact(&mut stored).map_err(io)?;
        let stack = ImageStack::new(grid, period, data)?;
        if hasher.finalize()[..] != stored[..] {
            return Err(bad("sha256", "content does not match its hash".into()));
        }
        Ok(stack)
    }

    /// Writes the stack in `format`, atomically.
    pub fn write_as(&self, path: &Path, format: StackFormat) -> Result<()> {
        match format {
            StackFormat::Npy => self.write_npy(path),
            StackFormat::Compact => self.write(path),
        }
    }

    /// Writes the stack as a NumPy `.npy` file (format version 1.0, dtype `<f4`, C order,
    /// shape `(days, rows, cols, 3)`), atomically. `numpy.load(path)` reads it back.
    pub fn write_npy(&self, path: &Path) -> Result<()> {
        let [d, r, c, k] = self.shape();
        let header = npy::header("<f4", &[d, r, c, k]);
        crate::io::write_atomic(path, |w| {
            w.write_all(&header)?;
            write_f32s(w, &self.data)
        })
    }
}

fn write_f32s(w: &mut dyn Write, data: &[f32]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4 * 16_384);
    for chunk in data.chunks(16_384) {
        buf.clear();
        chunk
            .iter()
            .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
        w.write_all(&buf)?;
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> ImageStack {
        let grid = GridSpec {
            rows: 2,
            cols: 3,
            origin: GridOrigin::Centre,
            ..GridSpec::paper(Region::new(130.0, 133.0, 30.0, 32.0).unwrap())
        }
        .check()
        .unwrap();
        let period = Period::parse("2020-02-28", "2020-03-02").unwrap();
        let data = (0..3 * 6 * 3).map(|k| k as f32 * 0.5 - 3.0).collect();
        ImageStack::new(grid, period, data).unwrap()
    }

    #[test]
    fn compact_file_round_trips_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.qlimg");
        let s = stack();
        s.write(&path).unwrap();
        let back = ImageStack::read(&path).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.content_hash(), s.content_hash());
        // The trailer is the SHA-256 of the rest, which is the content hash.
        let bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        let trailer: String = bytes[n - 32..].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(trailer, s.content_hash());
        let mut bad = bytes.clone();
        bad[n - 40] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let err = ImageStack::read(&path).unwrap_err().to_string();
        assert!(err.contains("sha256"), "{err}");
        std::fs::write(&path, &bytes[..n - 1]).unwrap();
        assert!(ImageStack::read(&path).is_err());
        std::fs::write(&path, &bytes[..HEADER_LEN - 1]).unwrap();
        let err = ImageStack::read(&path).unwrap_err().to_string();
        assert!(err.contains("file is truncated"), "{err}");
    }

    #[test]
    fn a_stack_longer_than_one_read_chunk_round_trips() {
        // 40 days of 50 x 50 x 3 values: 1.2 MB of data, read in two chunks.
        let grid = GridSpec::paper(Region::new(130.0, 133.0, 30.0, 32.0).unwrap())
            .check()
            .unwrap();
        let period = Period::parse("2020-01-01", "2020-02-10").unwrap();
        let n = period.n_days() * grid.n_cells() * 3;
        assert!(4 * n > READ_CHUNK);
        let data = (0..n).map(|k| (k % 977) as f32 * 0.25 - 7.0).collect();
        let s = ImageStack::new(grid, period, data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.qlimg");
        s.write(&path).unwrap();
        assert_eq!(ImageStack::read(&path).unwrap(), s);
    }

    #[test]
    fn the_output_format_follows_the_extension_and_unknown_ones_are_named() {
        let format = |p: &str| StackFormat::from_path(Path::new(p));
        assert_eq!(format("a/images.npy").unwrap(), StackFormat::Npy);
        assert_eq!(format("images.NPY").unwrap(), StackFormat::Npy);
        assert_eq!(format("images.qlimg").unwrap(), StackFormat::Compact);
        for (path, says) in [
            ("x", "has no extension"),
            ("x.png", "unsupported extension `.png`"),
        ] {
            let err = format(path).unwrap_err().to_string();
            assert!(err.contains("setting `out`") && err.contains(says), "{err}");
            assert!(err.contains(".npy") && err.contains(".qlimg"), "{err}");
        }
    }

    #[test]
    fn hash_changes_with_values_and_grid() {
        let s = stack();
        let mut data = s.data().to_vec();
        data[5] += 1.0;
        let other = ImageStack::new(*s.grid(), *s.period(), data).unwrap();
        assert_ne!(other.content_hash(), s.content_hash());
        let mut spec = *s.grid().spec();
        spec.sigma_cells = 4.0;
        let regridded = ImageStack::new(spec.check().unwrap(), *s.period(), s.data().to_vec());
        assert_ne!(regridded.unwrap().content_hash(), s.content_hash());
        assert_eq!(s.content_hash().len(), 64);
    }

    #[test]
    fn indexing_is_c_order() {
        let s = stack();
        assert_eq!(s.shape(), [3, 2, 3, 3]);
        // Flat index of (1, 1, 2, 0) is ((1·2 + 1)·3 + 2)·3 = 33.
        assert_eq!(s.get(1, 1, 2, 0), Some(33.0 * 0.5 - 3.0));
        assert_eq!(s.get(3, 0, 0, 0), None);
        assert_eq!(s.day(1)[0], 18.0 * 0.5 - 3.0);
    }

    #[test]
    fn nchw_batches_are_channel_major() {
        let s = stack();
        let mut out = vec![-1.0];
        s.extend_nchw(&[2, 0], &mut out).unwrap();
        assert_eq!(out.len(), 1 + 2 * 3 * 2 * 3);
        // Image 0 is day 2, whose flat HWC index of (row 1, col 2, channel E) is
        // 2·18 + (1·3 + 2)·3 + 1 = 52; in NCHW it sits at (channel 1)·6 + (row 1)·3 + 2 = 11.
        assert_eq!(out[1 + 11], 52.0 * 0.5 - 3.0);
        // Image 1 is day 0: (row 0, col 1, channel U) is HWC index 5, NCHW 18 + 2·6 + 1.
        assert_eq!(out[1 + 18 + 13], 5.0 * 0.5 - 3.0);
        assert!(s.extend_nchw(&[1, 3], &mut out).is_err());
        assert_eq!(out.len(), 1 + 36);
    }

    #[test]
    fn npy_file_follows_the_v1_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.npy");
        let s = stack();
        s.write_npy(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let dict = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert_eq!(
            dict.trim_end(),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2, 3, 3), }"
        );
        assert!(dict.ends_with('\n'));
        let data = &bytes[10 + header_len..];
        assert_eq!(data.len(), 4 * 54);
        assert_eq!(f32::from_le_bytes(data[..4].try_into().unwrap()), -3.0);
    }
}
