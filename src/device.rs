//! Where a model's arithmetic runs.
//!
//! Encoders ([`crate::encode::EncodeContext`]) and decoders take a [`Device`], named by an
//! experiment's `device` key or a command's `--device`. The neural models (the ViT on GNSS
//! images, VGG-12 on geomagnetic maps, TabPFN) run on burn; [`Device::burn`] maps the choice to
//! a burn device:
//!
//! | `device`   | burn backend | cargo feature |
//! |------------|--------------|---------------|
//! | `cpu`      | `flex` (pure Rust, rayon threads) | always built |
//! | `cuda`     | `cuda` (CubeCL, first GPU) | `cuda` |
//! | `vulkan`   | `wgpu` on Vulkan (CubeCL, SPIR-V; the best GPU Vulkan offers) | `vulkan` |
//! | `libtorch` | `tch` (deprecated upstream; PyTorch 2.9.0's libraries) | `tch` |
//!
//! Every variant can be named in every build, so a config written for a GPU machine still
//! parses on a laptop; asking for a backend this binary was built without is an error that says
//! which feature to build with.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The device a model runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// The host CPU: burn's `flex` backend on rayon's thread pool.
    #[default]
    Cpu,
    /// The first NVIDIA GPU, through burn's CUDA backend (cargo feature `cuda`).
    Cuda,
    /// The GPU that Vulkan ranks first, through burn's wgpu backend pinned to Vulkan (cargo
    /// feature `vulkan`): any vendor's GPU with a Vulkan driver, and a build that needs nothing
    /// but crates.io.
    Vulkan,
    /// LibTorch (cargo feature `tch`; burn-tch is deprecated upstream and needs PyTorch 2.9.0's
    /// CUDA wheels, about 3.8 GB): kept for comparison with PyTorch, never in the default build.
    Libtorch,
}

impl Device {
    /// Every device, in declaration order.
    pub const ALL: &'static [Device] =
        &[Device::Cpu, Device::Cuda, Device::Vulkan, Device::Libtorch];

    /// The name used in configs, flags and logs (`cpu`, `cuda`, `vulkan`, `libtorch`).
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
            Device::Vulkan => "vulkan",
            Device::Libtorch => "libtorch",
        }
    }

    /// The device named `name` (as in `--device NAME`); an unknown name lists the known ones.
    pub fn parse(name: &str) -> Result<Device> {
        Device::ALL
            .iter()
            .copied()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                Error::config(
                    "device",
                    format!("unknown device `{name}`; expected one of cpu, cuda, vulkan, libtorch"),
                )
            })
    }

    /// Whether this binary was built with the backend of this device.
    pub fn is_built(self) -> bool {
        match self {
            Device::Cpu => true,
            Device::Cuda => cfg!(feature = "cuda"),
            Device::Vulkan => cfg!(feature = "vulkan"),
            Device::Libtorch => cfg!(feature = "tch"),
        }
    }

    /// The burn device for this choice. A device whose backend this binary was built without
    /// is an [`Error::Config`] that names the cargo feature to build with.
    pub fn burn(self) -> Result<burn::tensor::Device> {
        match self {
            Device::Cpu => Ok(burn::tensor::Device::flex()),
            #[cfg(feature = "cuda")]
            Device::Cuda => Ok(burn::tensor::Device::cuda(0)),
            #[cfg(feature = "vulkan")]
            Device::Vulkan => Ok(burn::tensor::Device::vulkan(
                burn::tensor::DeviceKind::DefaultDevice,
            )),
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            Device::Libtorch => Ok(burn::tensor::Device::libtorch()),
            #[allow(unreachable_patterns)]
            other => Err(Error::config(
                "device",
                format!(
                    "`{other}` needs a quakelab built with the `{feature}` cargo feature \
                     (cargo build --release --features {feature}); this binary has only `cpu`",
                    feature = match other {
                        Device::Cuda => "cuda",
                        Device::Vulkan => "vulkan",
                        _ => "tch",
                    }
                ),
            )),
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Device {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Device::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_device_round_trips_through_its_name() {
        for &device in Device::ALL {
            assert_eq!(Device::parse(device.name()).unwrap(), device);
            let json = serde_json::to_value(device).unwrap();
            assert_eq!(json, serde_json::Value::from(device.name()));
        }
        let err = Device::parse("tpu").unwrap_err().to_string();
        assert!(
            err.contains("`tpu`") && err.contains("cpu, cuda, vulkan, libtorch"),
            "{err}"
        );
    }

    #[test]
    fn a_backend_left_out_of_the_build_names_its_feature() {
        assert!(Device::Cpu.burn().is_ok());
        if !Device::Cuda.is_built() {
            let err = Device::Cuda.burn().unwrap_err().to_string();
            assert!(err.contains("--features cuda"), "{err}");
        }
        if !Device::Vulkan.is_built() {
            let err = Device::Vulkan.burn().unwrap_err().to_string();
            assert!(err.contains("--features vulkan"), "{err}");
        }
        if !Device::Libtorch.is_built() {
            let err = Device::Libtorch.burn().unwrap_err().to_string();
            assert!(err.contains("--features tch"), "{err}");
        }
    }
}
