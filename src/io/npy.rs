//! NumPy `.npy` arrays of `f32` or `f64`, C order, little-endian: the format `numpy.save` writes
//! and the one quakelab's array inputs and outputs use (GNSS image stacks, ViT pixels and
//! embeddings).
//!
//! The reader accepts format versions 1.0, 2.0 and 3.0 and the dtypes `<f4` and `<f8` (and
//! `|f4`-style spellings of them); anything else (big-endian, Fortran order, other dtypes, a
//! data section of the wrong length) is refused with an [`Error::Format`] that says what was
//! found. Values are never converted silently: [`NpyArray::into_f32`] refuses an `f64` array
//! whose values do not survive the narrowing.

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// The element type of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpyDtype {
    /// `<f4`.
    F32,
    /// `<f8`.
    F64,
}

impl NpyDtype {
    /// NumPy's `descr` string for this type.
    pub fn descr(self) -> &'static str {
        match self {
            NpyDtype::F32 => "<f4",
            NpyDtype::F64 => "<f8",
        }
    }

    fn size(self) -> usize {
        match self {
            NpyDtype::F32 => 4,
            NpyDtype::F64 => 8,
        }
    }
}

/// The values of an `.npy` file, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// An `<f4` array.
    F32(Vec<f32>),
    /// An `<f8` array.
    F64(Vec<f64>),
}

/// An array read from an `.npy` file: its shape and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// The values, `shape.iter().product()` of them.
    pub data: NpyData,
}

impl NpyArray {
    /// The values as `f32`. An `f64` array is rounded to the nearest `f32`; a finite value
    /// beyond `f32`'s range is refused, naming the first one (`path` names the file).
    pub fn into_f32(self, path: &Path) -> Result<Vec<f32>> {
        match self.data {
            NpyData::F32(v) => Ok(v),
            NpyData::F64(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, x)| {
                    let y = x as f32;
                    if x.is_finite() && !y.is_finite() {
                        Err(Error::format(
                            path,
                            format!("value {i}"),
                            format!("{x} is beyond the range of f32"),
                        ))
                    } else {
                        Ok(y)
                    }
                })
                .collect(),
        }
    }
}

/// Reads an `.npy` file of `f32` or `f64` values.
pub fn read(path: &Path) -> Result<NpyArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(&bytes, path)
}

/// Parses the bytes of an `.npy` file; `path` names it in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    let bad = |message: String| Error::format(path, "header", message);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad(
            "not a NumPy .npy file (it does not start with \\x93NUMPY)".into(),
        ));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => {
            return Err(bad(format!(
                "format version {v}.{} is not supported",
                bytes[7]
            )));
        }
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| bad("the file ends inside its header".into()))?;
    let header = std::str::from_utf8(header)
        .map_err(|_| bad("the header is not text".into()))?
        .trim();
    let descr =
        dict_value(header, "descr").ok_or_else(|| bad(format!("no 'descr' in {header}")))?;
    let dtype = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" | "f4" | "=f4" => NpyDtype::F32,
        "<f8" | "f8" | "=f8" => NpyDtype::F64,
        other => {
            return Err(bad(format!(
                "dtype '{other}' is not supported (quakelab reads little-endian float32 '<f4' \
                 and float64 '<f8'; convert with arr.astype('<f4'))"
            )));
        }
    };
    let fortran = dict_value(header, "fortran_order")
        .ok_or_else(|| bad(format!("no 'fortran_order' in {header}")))?;
    if fortran.trim() != "False" {
        return Err(bad(
            "the array is in Fortran order; save it in C order (np.ascontiguousarray)".into(),
        ));
    }
    let shape_text =
        dict_value(header, "shape").ok_or_else(|| bad(format!("no 'shape' in {header}")))?;
    let shape = shape_text
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<usize>().map_err(|_| {
                bad(format!(
                    "shape {shape_text} has a non-integer dimension `{d}`"
                ))
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("shape {shape_text} is too large")))?;
    let data = &bytes[start + header_len..];
    if Some(data.len()) != n.checked_mul(dtype.size()) {
        return Err(Error::format(
            path,
            "data",
            format!(
                "shape {shape_text} of {} needs {n} values ({} bytes), the file holds {} bytes",
                dtype.descr(),
                n.saturating_mul(dtype.size()),
                data.len()
            ),
        ));
    }
    let data = match dtype {
        NpyDtype::F32 => NpyData::F32(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        NpyDtype::F64 => NpyData::F64(
            data.chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8")))
                .collect(),
        ),
    };
    Ok(NpyArray { shape, data })
}

/// The text of `key`'s value in a header dict such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

/// The `.npy` v1.0 preamble for a C-order array of `descr` with `shape`: magic, version,
/// header length and the header dict, padded with spaces and a newline so that the data
/// starts at a multiple of 64 bytes (NumPy's own alignment).
pub fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + length (2) + dict + '\n' must be a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    // A dict of a few dimensions is far below the 65,535 bytes a v1.0 header allows.
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Writes `data` (C order, `shape`) as an `<f4` `.npy` file, atomically.
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    check_len(path, shape, data.len())?;
    crate::io::write_atomic(path, |w| {
        w.write_all(&header("<f4", shape))?;
        write_le(w, data.iter().map(|v| v.to_le_bytes()))
    })
}

/// Writes `data` (C order, `shape`) as an `<f8` `.npy` file, atomically.
pub fn write_f64(path: &Path, shape: &[usize], data: &[f64]) -> Result<()> {
    check_len(path, shape, data.len())?;
    crate::io::write_atomic(path, |w| {
        w.write_all(&header("<f8", shape))?;
        write_le(w, data.iter().map(|v| v.to_le_bytes()))
    })
}

fn check_len(path: &Path, shape: &[usize], len: usize) -> Result<()> {
    let n: usize = shape.iter().product();
    if n == len {
        Ok(())
    } else {
        Err(Error::format(
            path,
            "data",
            format!("shape {shape:?} needs {n} values, {len} were given"),
        ))
    }
}

/// Writes little-endian values through a buffer of a few tens of kilobytes.
pub(crate) fn write_le<const N: usize>(
    w: &mut dyn Write,
    values: impl Iterator<Item = [u8; N]>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(65_536);
    for v in values {
        buf.extend_from_slice(&v);
        if buf.len() >= 65_536 - N {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `numpy.save` writes for `np.arange(6, dtype='<f4').reshape(2, 3)`: its v1.0
    /// header, written out by hand from the format's specification.
    fn numpy_bytes() -> Vec<u8> {
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{dict:<width$}\n", width = 128 - 10 - 1);
        out.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        out.extend_from_slice(padded.as_bytes());
        for v in 0..6 {
            out.extend_from_slice(&(v as f32).to_le_bytes());
        }
        out
    }

    fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        [&bytes[..at], to, &bytes[at + from.len()..]].concat()
    }

    #[test]
    fn reads_what_numpy_writes() {
        let array = parse(&numpy_bytes(), Path::new("x.npy")).unwrap();
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.data, NpyData::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
    }

    #[test]
    fn writes_what_it_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.npy");
        write_f64(&path, &[3], &[1.5, -2.0, 1e300]).unwrap();
        let array = read(&path).unwrap();
        assert_eq!(array.shape, vec![3]);
        assert_eq!(array.data, NpyData::F64(vec![1.5, -2.0, 1e300]));
        let err = array.into_f32(&path).unwrap_err().to_string();
        assert!(
            err.contains("value 2") && err.contains("range of f32"),
            "{err}"
        );
        write_f32(&path, &[], &[7.0]).unwrap();
        assert_eq!(read(&path).unwrap().shape, Vec::<usize>::new());
        assert!(write_f32(&path, &[2, 2], &[1.0]).is_err());
    }

    #[test]
    fn refuses_what_it_cannot_read_naming_it() {
        let path = Path::new("z.npy");
        let mut bytes = numpy_bytes();
        bytes.pop();
        let err = parse(&bytes, path).unwrap_err().to_string();
        assert!(
            err.contains("needs 6 values (24 bytes)") && err.contains("23 bytes"),
            "{err}"
        );
        let big_endian = replace(&numpy_bytes(), b"<f4", b">f4");
        let err = parse(&big_endian, path).unwrap_err().to_string();
        assert!(err.contains("'>f4' is not supported"), "{err}");
        let fortran = replace(&numpy_bytes(), b"False", b"True ");
        let err = parse(&fortran, path).unwrap_err().to_string();
        assert!(err.contains("Fortran order"), "{err}");
        assert!(parse(b"PK\x03\x04not npy", path).is_err());
    }
}
