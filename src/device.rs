//! Where a model's arithmetic runs.
//!
//! Encoders ([`crate::encode::EncodeContext`]) and decoders take a [`Device`] so that the
//! neural models of later issues (the ViT on GNSS images, VGG-12 on geomagnetic maps, TabPFN)
//! can run on an accelerator without another change to their seams. Today every model runs on
//! the CPU; the burn issues add a GPU variant here.

use serde::{Deserialize, Serialize};

/// The device a model runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// The host CPU, with rayon's thread pool.
    #[default]
    Cpu,
}

impl Device {
    /// The name used in configs and logs (`cpu`).
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
