//! The linear layer the pretrained models share (the ViT, TabPFN), on burn tensors.

use burn::tensor::Tensor;

/// A linear layer stored for `x · W + b`: `W` is `[in, out]` (PyTorch's weight transposed),
/// `b` a `[1, out]` row, or none.
#[derive(Debug, Clone)]
pub(crate) struct Linear {
    /// The weight, `[in, out]`.
    pub weight: Tensor<2>,
    /// The bias, `[1, out]`, when the layer has one.
    pub bias: Option<Tensor<2>>,
}

impl Linear {
    /// `x · W + b` on `[rows, in]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let y = x.matmul(self.weight.clone());
        match &self.bias {
            Some(b) => y + b.clone(),
            None => y,
        }
    }
}
