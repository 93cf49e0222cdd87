//! TabPFN v2's model against the official package (tabpfn 2.2.1): PyTorch's seeded `randn`, a
//! small random regressor built with the package's own classes, saved as `.ckpt` and
//! `.safetensors`, and its outputs (tools/parity/make_tabpfn.py).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use quakelab::decode::tabpfn::model::TabPfnModel;
use quakelab::decode::tabpfn::torch_randn::torch_randn;
use quakelab::decode::tabpfn::weights::TabPfnWeights;
use quakelab::io::npy;
use safetensors::tensor::{Dtype, SafeTensors, TensorView, serialize_to_file};

use crate::support::fixture;

fn read(name: &str) -> (Vec<usize>, Vec<f32>) {
    let path = fixture("tabpfn", name);
    let array = npy::read(&path).unwrap();
    let shape = array.shape.clone();
    (shape, array.into_f32(&path).unwrap())
}

#[test]
fn torch_randn_equals_pytorch_bit_for_bit() {
    for (seed, name) in [(0, "randn_seed0.npy"), (7, "randn_seed7.npy")] {
        let (shape, expected) = read(name);
        let found = torch_randn(seed, shape[0]);
        let differing: Vec<usize> = (0..expected.len())
            .filter(|&i| found[i].to_bits() != expected[i].to_bits())
            .collect();
        assert!(
            differing.is_empty(),
            "seed {seed}: {} of {} values differ, first at {:?}",
            differing.len(),
            expected.len(),
            differing
                .iter()
                .take(5)
                .map(|&i| (i, found[i], expected[i]))
                .collect::<Vec<_>>()
        );
    }
}

/// The tests' tolerance on the logits, relative to their largest magnitude.
const TOLERANCE: f32 = 1e-4;

fn cpu() -> burn::tensor::Device {
    quakelab::device::Device::Cpu.burn().unwrap()
}

/// The rows and standardised targets the package's transformer was given, split into the
/// training rows and the test rows.
fn model_inputs() -> (Vec<f32>, Vec<f32>, Vec<f32>, usize) {
    let (shape, x) = read("model_x.npy");
    let (_, y) = read("model_y.npy");
    let f = shape[1];
    let n = y.len();
    (x[..n * f].to_vec(), y, x[n * f..].to_vec(), f)
}

/// The largest absolute difference and the largest reference magnitude.
fn max_error(found: &[f32], expected: &[f32]) -> (f32, f32) {
    assert_eq!(found.len(), expected.len());
    let error = found
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    let scale = expected.iter().map(|v| v.abs()).fold(0.0, f32::max);
    (error, scale)
}

#[test]
fn logits_equal_the_official_package_from_both_formats() {
    let (x_train, y_train, x_test, f) = model_inputs();
    let (shape, expected) = read("logits.npy");
    for file in ["model.ckpt", "model.safetensors"] {
        let weights = TabPfnWeights::read(&fixture("tabpfn", file)).unwrap();
        assert_eq!(weights.architecture().emsize, 32);
        assert_eq!(weights.borders().len(), shape[1] + 1);
        let model = TabPfnModel::new(&weights, &cpu()).unwrap();
        let state = model.fit(&x_train, f, &y_train).unwrap();
        let logits = model.logits(&state, &x_test).unwrap();
        let (error, scale) = max_error(&logits, &expected);
        eprintln!(
            "{file}: logits max abs error {error:.3e}, relative {:.3e}",
            error / scale
        );
        assert!(
            error <= TOLERANCE * scale,
            "{file}: {error} vs scale {scale}"
        );
        // Test rows are independent of each other: one row at a time gives the same.
        let one = model.logits(&state, &x_test[f..2 * f]).unwrap();
        let (error, _) = max_error(&one, &logits[shape[1]..2 * shape[1]]);
        assert!(error <= 1e-5, "{error}");
    }
}

/// A copy of the fixture's safetensors in `dir`, with `edit` applied to its tensors and
/// `config` to its config.
fn edited_copy(
    dir: &Path,
    edit: impl Fn(&mut BTreeMap<String, (Vec<usize>, Vec<f32>)>),
    config: impl Fn(&mut serde_json::Value),
) -> PathBuf {
    let bytes = std::fs::read(fixture("tabpfn", "model.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, (view.shape().to_vec(), data))
        })
        .collect();
    edit(&mut tensors);
    let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut json: serde_json::Value =
        serde_json::from_str(&metadata.metadata().as_ref().unwrap()["config"]).unwrap();
    config(&mut json);
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, (shape, data))| {
            let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape, bytes)
        })
        .collect();
    let views = raw.iter().map(|(name, shape, bytes)| {
        (
            name.clone(),
            TensorView::new(Dtype::F32, shape.clone(), bytes).unwrap(),
        )
    });
    let path = dir.join("edited.safetensors");
    let info = HashMap::from([("config".to_string(), json.to_string())]);
    serialize_to_file(views, Some(info), &path).unwrap();
    path
}

fn refusal(path: &Path) -> String {
    TabPfnWeights::read(path).unwrap_err().to_string()
}

#[test]
fn an_unchanged_copy_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_copy(dir.path(), |_| {}, |_| {});
    TabPfnWeights::read(&path).unwrap();
}

#[test]
fn a_tensor_of_the_wrong_shape_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let name = "transformer_encoder.layers.1.mlp.linear1.weight";
    let path = edited_copy(
        dir.path(),
        |t| {
            let (shape, data) = t.get_mut(name).unwrap();
            *shape = vec![127, 32];
            data.truncate(127 * 32);
        },
        |_| {},
    );
    let message = refusal(&path);
    assert!(
        message.contains(&format!(
            "tensor `{name}`: expected shape [128, 32], found [127, 32]"
        )),
        "{message}"
    );
}

#[test]
fn a_missing_tensor_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let name = "decoder_dict.standard.2.bias";
    let path = edited_copy(dir.path(), |t| drop(t.remove(name)), |_| {});
    let message = refusal(&path);
    assert!(
        message.contains(&format!("tensor `{name}`: missing; expected shape [100]")),
        "{message}"
    );
}

#[test]
fn a_tensor_of_another_architecture_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let name = "transformer_encoder.layers.0.second_mlp.linear1.weight";
    let path = edited_copy(
        dir.path(),
        |t| {
            t.insert(name.into(), (vec![2], vec![0.0, 1.0]));
        },
        |_| {},
    );
    let message = refusal(&path);
    assert!(
        message.contains(&format!(
            "tensor `{name}`: not part of a TabPFN v2 regressor"
        )),
        "{message}"
    );
}

#[test]
fn a_second_x_encoder_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_copy(
        dir.path(),
        |t| {
            let encoder = t["encoder.5.layer.weight"].clone();
            t.insert("encoder.6.layer.weight".into(), encoder);
        },
        |_| {},
    );
    let message = refusal(&path);
    assert!(
        message.contains("tensor `encoder.6.layer.weight`: a second x-encoder"),
        "{message}"
    );
}

#[test]
fn borders_that_do_not_increase_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_copy(
        dir.path(),
        |t| {
            let (_, borders) = t.get_mut("criterion.borders").unwrap();
            borders[50] = borders[49];
        },
        |_| {},
    );
    let message = refusal(&path);
    assert!(
        message
            .contains("tensor `criterion.borders`: borders must increase strictly, but border 50"),
        "{message}"
    );
}

#[test]
fn a_classifier_config_is_refused_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_copy(dir.path(), |_| {}, |c| c["max_num_classes"] = 10.into());
    let message = refusal(&path);
    assert!(
        message.contains("config.max_num_classes: 10: a regressor has none"),
        "{message}"
    );
}

#[test]
fn a_safetensors_file_without_its_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.safetensors");
    let data = [0u8; 4];
    let view = TensorView::new(Dtype::F32, vec![1], &data).unwrap();
    serialize_to_file([("criterion.borders", view)], None, &path).unwrap();
    let message = refusal(&path);
    assert!(message.contains("metadata `config`: missing"), "{message}");
}

#[test]
fn a_border_that_is_not_finite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_copy(
        dir.path(),
        |t| t.get_mut("criterion.borders").unwrap().1[3] = f32::NAN,
        |_| {},
    );
    let message = refusal(&path);
    assert!(
        message.contains("tensor `criterion.borders`: border 3 is NaN, not a finite number"),
        "{message}"
    );
}

#[test]
fn a_checkpoint_without_an_x_encoder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_copy(
        dir.path(),
        |t| drop(t.remove("encoder.5.layer.weight")),
        |_| {},
    );
    let message = refusal(&path);
    assert!(
        message.contains("tensor `encoder.<digits>.layer.weight`: missing"),
        "{message}"
    );
}
