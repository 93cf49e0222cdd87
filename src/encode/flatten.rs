//! The flatten encoder: each image's pixels as one feature row.

use faer::Mat;

use crate::encode::batch::ensure_complete;
use crate::encode::{EncodeContext, FeatureRows, ImageBatch, ImageEncoder};
use crate::gnss::stack::ImageStack;
use crate::{Error, Result};

/// Each image's pixels as one row of `f64` features, cell by cell: for a GNSS image, the N, E
/// and U displacement of cell (0, 0), then of cell (0, 1), and so on (`height · width ·
/// channels` columns, the C order of the stack and of its `.npy` export).
///
/// It has no parameters and fits nothing. A non-finite pixel is an error: the daily table
/// drops days whose image has missing cells, so none should reach the encoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlattenEncoder;

impl ImageEncoder for FlattenEncoder {
    fn name(&self) -> String {
        "flatten".to_string()
    }

    fn encode(&self, batch: &ImageBatch<'_>, _ctx: &EncodeContext) -> Result<Mat<f64>> {
        let s = batch.shape();
        let plane = s.height * s.width;
        let data = batch.data();
        if let Some(at) = data.iter().position(|v| !v.is_finite()) {
            let image_len = s.channels * plane;
            let (i, within) = (at / image_len, at % image_len);
            let (c, cell) = (within / plane, within % plane);
            return Err(Error::Numerical(format!(
                "flatten encoder: image {i} of the batch has the value {} at channel {c}, \
                 row {}, column {} (missing values are dropped, never filled)",
                data[at],
                cell / s.width,
                cell % s.width
            )));
        }
        // Column (cell · C + c) of row i is value (i, c, cell) of the N x C x H x W batch.
        Ok(Mat::from_fn(s.n, plane * s.channels, |i, j| {
            let (cell, c) = (j / s.channels, j % s.channels);
            f64::from(data[(i * s.channels + c) * plane + cell])
        }))
    }
}

/// The flatten encoder's matrix of a stack's days, read from the stack rather than stored: row
/// `i` is the image of `days[i]` widened to `f64`. The stack's C order is the flatten
/// encoder's column order, so each row is one contiguous day of the stack, and a transform
/// fitted on training rows ([`crate::encode::Pca`]) copies only the rows it needs.
///
/// For 5,344 days of 50 × 50 × 3 images the stored matrix would be 320 MB of `f64` beside the
/// 164 MB `f32` stack it repeats.
#[derive(Debug, Clone, Copy)]
pub struct FlatImages<'a> {
    stack: &'a ImageStack,
    days: &'a [usize],
}

impl<'a> FlatImages<'a> {
    /// The view of `days` of `stack`. Refuses a day beyond the stack and an image with a
    /// missing value, as [`ImageBatch::from_stack`] does.
    pub fn new(stack: &'a ImageStack, days: &'a [usize]) -> Result<Self> {
        for &day in days {
            if day >= stack.n_days() {
                return Err(Error::Numerical(format!(
                    "image stack: day {day} is beyond the stack's {} days",
                    stack.n_days()
                )));
            }
            ensure_complete(stack, day, stack.day(day))?;
        }
        Ok(FlatImages { stack, days })
    }

    /// The stack the rows are read from.
    pub fn stack(&self) -> &'a ImageStack {
        self.stack
    }

    /// Row `i`: the stack's image of `days[i]`, borrowed. Panics if `i >= nrows()`.
    pub fn row(&self, i: usize) -> &'a [f32] {
        self.stack.day(self.days[i])
    }

    /// The whole matrix, as [`FlattenEncoder`] encodes these days.
    pub fn to_mat(&self) -> Mat<f64> {
        let rows: Vec<&[f32]> = (0..self.days.len()).map(|i| self.row(i)).collect();
        widen(&rows, self.ncols(), None)
    }
}

impl FeatureRows for FlatImages<'_> {
    fn nrows(&self) -> usize {
        self.days.len()
    }

    fn ncols(&self) -> usize {
        self.stack.grid().n_cells() * 3
    }

    fn ensure_finite(&self, _what: &str) -> Result<()> {
        // Every image was checked complete when the view was made.
        Ok(())
    }

    fn select(&self, rows: &[usize]) -> Result<Mat<f64>> {
        if let Some(&r) = rows.iter().find(|&&r| r >= self.nrows()) {
            return Err(Error::Numerical(format!(
                "row {r} out of range for a matrix of {} rows",
                self.nrows()
            )));
        }
        let rows: Vec<&[f32]> = rows.iter().map(|&r| self.row(r)).collect();
        Ok(widen(&rows, self.ncols(), None))
    }

    fn shifted(&self, first: usize, n: usize, shift: &[f64]) -> Mat<f64> {
        let rows: Vec<&[f32]> = (first..first + n).map(|i| self.row(i)).collect();
        widen(&rows, self.ncols(), Some(shift))
    }
}

/// `rows` (each `ncols` values) widened to `f64`, minus `shift` per column when given, as one
/// column-major matrix. Filled a block of rows at a time, so that the rows read and the column
/// stretches written both stay in cache.
fn widen(rows: &[&[f32]], ncols: usize, shift: Option<&[f64]>) -> Mat<f64> {
    const BLOCK: usize = 64;
    let mut out = Mat::zeros(rows.len(), ncols);
    for (b, block) in rows.chunks(BLOCK).enumerate() {
        let first = b * BLOCK;
        for j in 0..ncols {
            for (i, row) in block.iter().enumerate() {
                let v = f64::from(row[j]);
                out[(first + i, j)] = match shift {
                    Some(shift) => v - shift[j],
                    None => v,
                };
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;
    use crate::encode::BatchShape;

    #[test]
    fn columns_run_cell_by_cell() {
        // Two images of 2 channels x 1 x 2: image i, channel c, column w holds 100i + 10c + w.
        let data = [0.0, 1.0, 10.0, 11.0, 100.0, 101.0, 110.0, 111.0];
        let shape = BatchShape {
            n: 2,
            channels: 2,
            height: 1,
            width: 2,
        };
        let batch = ImageBatch::new(&data[..], shape).unwrap();
        let ctx = EncodeContext::new(1, Device::Cpu, 0).unwrap();
        let x = FlattenEncoder.encode(&batch, &ctx).unwrap();
        // Cell 0 (channels 0, 1), then cell 1 (channels 0, 1).
        let row1: Vec<f64> = (0..4).map(|j| x[(1, j)]).collect();
        assert_eq!(row1, [100.0, 110.0, 101.0, 111.0]);
        assert_eq!(x[(0, 1)], 10.0);
    }

    #[test]
    fn a_missing_pixel_is_located() {
        let mut data = [0.0_f32; 8];
        data[7] = f32::NAN;
        let shape = BatchShape {
            n: 2,
            channels: 2,
            height: 1,
            width: 2,
        };
        let batch = ImageBatch::new(&data[..], shape).unwrap();
        let ctx = EncodeContext::new(4, Device::Cpu, 0).unwrap();
        let err = FlattenEncoder.encode(&batch, &ctx).unwrap_err().to_string();
        assert!(
            err.contains("image 1 of the batch has the value NaN at channel 1, row 0, column 1"),
            "{err}"
        );
    }
}
