//! The flatten encoder: a day's image, `rows · cols · 3` values in C order, as one feature row.

use faer::Mat;

use crate::encode::ImageEncoder;
use crate::gnss::stack::ImageStack;
use crate::{Error, Result};

/// Each image's pixels (N, E, U per cell, C order) as one row of `f64` features.
///
/// It has no parameters and fits nothing. A NaN pixel is an error: the daily table drops days
/// whose image has missing cells, so none should reach the encoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlattenEncoder;

impl ImageEncoder for FlattenEncoder {
    fn name(&self) -> String {
        "flatten".to_string()
    }

    fn encode(&self, stack: &ImageStack, days: &[usize]) -> Result<Mat<f64>> {
        if let Some(&d) = days.iter().find(|&&d| d >= stack.n_days()) {
            return Err(Error::Numerical(format!(
                "flatten encoder: day {d} is beyond the stack's {} days",
                stack.n_days()
            )));
        }
        let [_, rows, cols, channels] = stack.shape();
        let width = rows * cols * channels;
        if let Some(&d) = days
            .iter()
            .find(|&&d| stack.day(d).iter().any(|v| !v.is_finite()))
        {
            return Err(Error::Numerical(format!(
                "flatten encoder: the image of day {d} has missing cells"
            )));
        }
        Ok(Mat::from_fn(days.len(), width, |i, j| {
            f64::from(stack.day(days[i])[j])
        }))
    }
}
