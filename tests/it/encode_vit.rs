//! The ViT against Hugging Face transformers: a small random `ViTModel` saved by
//! `save_pretrained` and its reference outputs (tools/parity/make_vit.py), the checkpoint
//! checks, the bilinear resize against torch, and `quakelab encode vit` end to end.

use std::path::{Path, PathBuf};

use quakelab::encode::vit::preprocess::resize_bilinear;
use quakelab::encode::vit::{Vit, VitOutput};
use quakelab::encode::{BatchShape, ImageBatch};
use quakelab::io::npy;
use quakelab::models::Checkpoint;

use crate::support::{fixture, quakelab};

/// The tests' tolerance against transformers, absolute.
const TOLERANCE: f32 = 1e-4;

fn read(name: &str) -> (Vec<usize>, Vec<f32>) {
    let path = fixture("vit", name);
    let array = npy::read(&path).unwrap();
    let shape = array.shape.clone();
    (shape, array.into_f32(&path).unwrap())
}

fn pixels() -> ImageBatch<'static> {
    let (shape, data) = read("pixels.npy");
    let shape = BatchShape {
        n: shape[0],
        channels: shape[1],
        height: shape[2],
        width: shape[3],
    };
    ImageBatch::new(data, shape).unwrap()
}

fn cpu() -> burn::tensor::Device {
    quakelab::device::Device::Cpu.burn().unwrap()
}

fn assert_close(found: &[f32], expected: &[f32], what: &str) {
    assert_eq!(found.len(), expected.len(), "{what}: length");
    let worst = found
        .iter()
        .zip(expected)
        .map(|(f, e)| (f - e).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= TOLERANCE, "{what}: max |error| {worst}");
}

/// `last_hidden_state` reduced by hand: the mean over all tokens and the CLS token.
fn mean_and_cls(hidden: &[f32], n: usize, tokens: usize, d: usize) -> (Vec<f32>, Vec<f32>) {
    let mut mean = vec![0.0f32; n * d];
    let mut cls = vec![0.0f32; n * d];
    for i in 0..n {
        for t in 0..tokens {
            for j in 0..d {
                let v = hidden[(i * tokens + t) * d + j];
                mean[i * d + j] += v / tokens as f32;
                if t == 0 {
                    cls[i * d + j] = v;
                }
            }
        }
    }
    (mean, cls)
}

fn assert_parity(vit: &Vit, with_pooler: bool) {
    let batch = pixels();
    let (shape, hidden) = read("last_hidden_state.npy");
    let (n, tokens, d) = (shape[0], shape[1], shape[2]);
    let out = vit.encode(&batch, VitOutput::LastHiddenState).unwrap();
    assert_eq!(out.shape, shape);
    assert_close(&out.data, &hidden, "last_hidden_state");
    let (mean, cls) = mean_and_cls(&hidden, n, tokens, d);
    let out = vit.encode(&batch, VitOutput::Mean).unwrap();
    assert_eq!(out.shape, [n, d]);
    assert_close(&out.data, &mean, "mean");
    assert_close(
        &vit.encode(&batch, VitOutput::Cls).unwrap().data,
        &cls,
        "cls",
    );
    if with_pooler {
        let (_, pooler) = read("pooler_output.npy");
        assert_close(
            &vit.encode(&batch, VitOutput::Pooler).unwrap().data,
            &pooler,
            "pooler",
        );
    }
}

#[test]
fn safetensors_checkpoint_matches_transformers() {
    let dir = fixture("vit", "tiny");
    let vit = Vit::load(&dir, &cpu()).unwrap();
    // The folder holds both files; safetensors is preferred.
    let sha = quakelab::models::sha256_file(&dir.join("model.safetensors")).unwrap();
    assert_eq!(vit.fingerprint(), format!("sha256:{sha}"));
    assert!(!vit.is_random());
    assert_parity(&vit, true);
}

#[test]
fn pytorch_checkpoint_matches_transformers() {
    let vit = Vit::load(&fixture("vit", "tiny").join("pytorch_model.bin"), &cpu()).unwrap();
    assert_parity(&vit, true);
}

#[test]
fn a_classifier_checkpoint_loads_without_its_head_and_has_no_pooler() {
    let vit = Vit::load(&fixture("vit", "classifier"), &cpu()).unwrap();
    assert!(!vit.has_pooler());
    assert_parity(&vit, false);
}

#[test]
fn the_pooler_of_weights_without_one_is_refused() {
    let vit = Vit::load(&fixture("vit", "classifier"), &cpu()).unwrap();
    let err = vit
        .encode(&pixels(), VitOutput::Pooler)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no pooler"), "{err}");
}

#[test]
fn pixels_of_another_size_are_refused_naming_both_sizes() {
    let vit = Vit::load(&fixture("vit", "tiny"), &cpu()).unwrap();
    let batch = ImageBatch::new(
        vec![0.0; 2 * 3 * 16 * 16],
        BatchShape {
            n: 2,
            channels: 3,
            height: 16,
            width: 16,
        },
    )
    .unwrap();
    let err = vit.encode(&batch, VitOutput::Mean).unwrap_err().to_string();
    assert!(
        err.contains("3 x 16 x 16") && err.contains("3 x 32 x 32"),
        "{err}"
    );
}

/// A copy of the tiny model in a temporary folder whose safetensors file holds the tensors
/// `edit` leaves (name, shape, values).
fn edited_copy(edit: impl Fn(&mut Vec<(String, Vec<usize>, Vec<f32>)>)) -> tempfile::TempDir {
    let source = fixture("vit", "tiny");
    let checkpoint = Checkpoint::open(&source.join("model.safetensors")).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = checkpoint
        .tensors()
        .map(|t| {
            (
                t.name.clone(),
                t.shape.clone(),
                checkpoint.read_f32(&t.name).unwrap(),
            )
        })
        .collect();
    edit(&mut tensors);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(source.join("config.json"), dir.path().join("config.json")).unwrap();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, shape, data)| {
            let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape, bytes)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(name, shape, data)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                    .unwrap();
            (name.clone(), view)
        })
        .collect();
    safetensors::tensor::serialize_to_file(views, None, &dir.path().join("model.safetensors"))
        .unwrap();
    dir
}

#[test]
fn a_tensor_of_the_wrong_shape_is_refused_naming_it_and_both_shapes() {
    let name = "encoder.layer.1.intermediate.dense.weight";
    let dir = edited_copy(|tensors| {
        let t = tensors.iter_mut().find(|t| t.0 == name).unwrap();
        t.1 = vec![96, 47];
        t.2.truncate(96 * 47);
    });
    let err = Vit::load(dir.path(), &cpu()).unwrap_err().to_string();
    assert!(
        err.contains(&format!("tensor `{name}`"))
            && err.contains("expected shape [96, 48], found [96, 47]"),
        "{err}"
    );
}

#[test]
fn a_checkpoint_missing_a_tensor_is_refused_naming_it() {
    let name = "encoder.layer.0.layernorm_after.bias";
    let dir = edited_copy(|tensors| tensors.retain(|t| t.0 != name));
    let err = Vit::load(dir.path(), &cpu()).unwrap_err().to_string();
    assert!(
        err.contains(&format!("tensor `{name}`")) && err.contains("missing"),
        "{err}"
    );
}

#[test]
fn a_folder_without_weights_is_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("vit", "tiny").join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let err = Vit::load(dir.path(), &cpu()).unwrap_err().to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("pytorch_model.bin"),
        "{err}"
    );
}

#[test]
fn weights_without_a_config_beside_them_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.safetensors");
    std::fs::copy(fixture("vit", "tiny").join("model.safetensors"), &file).unwrap();
    let err = Vit::load(&file, &cpu()).unwrap_err().to_string();
    assert!(err.contains("no config.json"), "{err}");
}

#[test]
fn bilinear_resize_matches_torch_interpolate() {
    let (shape, data) = read("resize_input.npy");
    let batch = ImageBatch::new(
        data,
        BatchShape {
            n: shape[0],
            channels: shape[1],
            height: shape[2],
            width: shape[3],
        },
    )
    .unwrap();
    for size in [7, 12] {
        let (expected_shape, expected) = read(&format!("resize_{size}.npy"));
        let out = resize_bilinear(&batch, size, size).unwrap();
        assert_eq!(
            [
                out.n(),
                out.shape().channels,
                out.shape().height,
                out.shape().width
            ],
            expected_shape[..]
        );
        let worst = out
            .data()
            .iter()
            .zip(&expected)
            .map(|(f, e)| (f - e).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 1e-6, "resize to {size}: max |error| {worst}");
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn encode_vit_writes_the_pooler_of_every_image() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pooler.npy");
    let model: PathBuf = fixture("vit", "tiny");
    let pixels = fixture("vit", "pixels.npy");
    let run = quakelab(
        &[
            "encode",
            "vit",
            "--model",
            path_str(&model),
            "--pixels",
            path_str(&pixels),
            "--output",
            "pooler",
            "--batch-size",
            "2",
            "--out",
            path_str(&out),
        ],
        dir.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = npy::read(&out).unwrap();
    assert_eq!(written.shape, [3, 48]);
    let (_, pooler) = read("pooler_output.npy");
    assert_close(&written.into_f32(&out).unwrap(), &pooler, "pooler via CLI");
}

#[test]
fn encode_vit_refuses_pixels_of_another_size_naming_the_expected_one() {
    let dir = tempfile::tempdir().unwrap();
    let pixels = dir.path().join("small.npy");
    npy::write_f32(&pixels, &[1, 3, 16, 16], &vec![0.0; 3 * 16 * 16]).unwrap();
    let model = fixture("vit", "tiny");
    let run = quakelab(
        &[
            "encode",
            "vit",
            "--model",
            path_str(&model),
            "--pixels",
            "small.npy",
            "--out",
            "y.npy",
        ],
        dir.path(),
    );
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("N x 3 x 32 x 32"), "{err}");
    assert!(!dir.path().join("y.npy").exists());
}

#[test]
fn encode_vit_prepares_a_gnss_stack_like_the_experiment() {
    // Two days of a 4 x 5 grid, days x rows x cols x 3 (N, E, U) in mm.
    let (days, rows, cols) = (2, 4, 5);
    let stack: Vec<f32> = (0..days * rows * cols * 3)
        .map(|i| ((i * 7 % 23) as f32 - 11.0) * 0.5)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    npy::write_f32(
        &dir.path().join("stack.npy"),
        &[days, rows, cols, 3],
        &stack,
    )
    .unwrap();
    let model = fixture("vit", "tiny");
    let run = quakelab(
        &[
            "encode",
            "vit",
            "--model",
            path_str(&model),
            "--images",
            "stack.npy",
            "--scale",
            "4",
            "--output",
            "last_hidden_state",
            "--out",
            "hidden.npy",
        ],
        dir.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The same images prepared by hand: channels first, / 4 mm clipped to [-1, 1], resized.
    let mut nchw = Vec::new();
    for day in 0..days {
        for channel in 0..3 {
            for cell in 0..rows * cols {
                let v = stack[(day * rows * cols + cell) * 3 + channel] / 4.0;
                nchw.push(v.clamp(-1.0, 1.0));
            }
        }
    }
    let batch = ImageBatch::new(
        nchw,
        BatchShape {
            n: days,
            channels: 3,
            height: rows,
            width: cols,
        },
    )
    .unwrap();
    let resized = resize_bilinear(&batch, 32, 32).unwrap();
    let vit = Vit::load(&model, &cpu()).unwrap();
    let expected = vit.encode(&resized, VitOutput::LastHiddenState).unwrap();
    let path = dir.path().join("hidden.npy");
    let written = npy::read(&path).unwrap();
    assert_eq!(written.shape, [2, 17, 48]);
    assert_eq!(written.into_f32(&path).unwrap(), expected.data);
}

/// Runs `quakelab encode vit` on the tiny model with `--images stack.npy` (written from `shape`
/// and `values`) and `extra` flags, and returns its stderr; the run must fail.
fn refused_stack(shape: &[usize], values: &[f32], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    npy::write_f32(&dir.path().join("stack.npy"), shape, values).unwrap();
    let model = fixture("vit", "tiny");
    let mut args = vec![
        "encode",
        "vit",
        "--model",
        model.to_str().unwrap(),
        "--images",
        "stack.npy",
        "--out",
        "y.npy",
    ];
    args.extend_from_slice(extra);
    let run = quakelab(&args, dir.path());
    assert!(!run.status.success());
    assert!(!dir.path().join("y.npy").exists());
    String::from_utf8_lossy(&run.stderr).into_owned()
}

#[test]
fn a_stack_that_is_not_days_rows_cols_3_is_refused_naming_its_shape() {
    let err = refused_stack(&[2, 4, 5], &[0.0; 40], &[]);
    assert!(
        err.contains("an image stack is days x rows x cols x 3 (N, E, U), found shape [2, 4, 5]"),
        "{err}"
    );
}

#[test]
fn a_stack_with_missing_cells_is_refused_not_filled() {
    let mut values = vec![1.0f32; 3 * 2 * 2 * 3];
    values[2 * 2 * 3 + 1] = f32::NAN;
    let err = refused_stack(&[3, 2, 2, 3], &values, &[]);
    assert!(
        err.contains("1 of 3 days have missing (NaN) cells, the first is day 1"),
        "{err}"
    );
}

#[test]
fn a_scale_that_is_not_a_positive_number_is_refused() {
    let values = vec![1.0f32; 2 * 2 * 3];
    let err = refused_stack(&[1, 2, 2, 3], &values, &["--scale", "0"]);
    assert!(
        err.contains("--scale must be a positive number of mm, got 0"),
        "{err}"
    );
    let err = refused_stack(&[1, 2, 2, 3], &values, &["--scale-percentile", "101"]);
    assert!(
        err.contains("--scale-percentile must lie in (0, 100], got 101"),
        "{err}"
    );
    let blank = vec![0.0f32; 2 * 2 * 3];
    let err = refused_stack(&[1, 2, 2, 3], &blank, &[]);
    assert!(
        err.contains("percentile of |displacement| is 0 mm"),
        "{err}"
    );
}
