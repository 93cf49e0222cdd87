//! The flatten encoder: each image's pixels as one feature row.

use faer::Mat;

use crate::encode::{EncodeContext, ImageBatch, ImageEncoder};
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
