//! A ViT's size and settings, as Hugging Face's `config.json` states them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The fields of a `ViTConfig` that shape the model (spec §E.1). Unknown keys of a
/// `config.json` are ignored; missing ones take `ViTConfig`'s defaults, which are ViT-B/16's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VitConfig {
    /// Width of every token, D.
    pub hidden_size: usize,
    /// Transformer blocks.
    pub num_hidden_layers: usize,
    /// Attention heads; `hidden_size` must be a multiple.
    pub num_attention_heads: usize,
    /// Width of each block's MLP.
    pub intermediate_size: usize,
    /// The MLP's activation; only `gelu` (exact, erf) is supported.
    pub hidden_act: String,
    /// Epsilon of every LayerNorm.
    pub layer_norm_eps: f64,
    /// Side of the square input image, in pixels.
    pub image_size: usize,
    /// Side of a square patch; `image_size` must be a multiple.
    pub patch_size: usize,
    /// Input channels (3).
    pub num_channels: usize,
    /// Whether the query, key and value projections have biases.
    pub qkv_bias: bool,
    /// Standard deviation of the random initialisation (HF's `initializer_range`).
    pub initializer_range: f64,
}

impl Default for VitConfig {
    fn default() -> Self {
        VitConfig::base_patch16_224()
    }
}

impl VitConfig {
    /// ViT-B/16 at 224 × 224 (`google/vit-base-patch16-224-in21k`): 768 wide, 12 blocks of 12
    /// heads, MLP 3072, LayerNorm epsilon 1e-12.
    pub fn base_patch16_224() -> Self {
        VitConfig {
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            layer_norm_eps: 1e-12,
            image_size: 224,
            patch_size: 16,
            num_channels: 3,
            qkv_bias: true,
            initializer_range: 0.02,
        }
    }

    /// Reads and checks a `config.json` (Hugging Face's `ViTConfig`).
    ///
    /// Refused, with the file, the line of the field and its name: a file that is not JSON or
    /// holds a field of the wrong type, a `model_type` other than `vit`, a zero size, a
    /// `hidden_size` that `num_attention_heads` does not divide, an `image_size` that
    /// `patch_size` does not divide, a `hidden_act` other than `gelu`, and a `layer_norm_eps`
    /// or `initializer_range` that is not a positive (non-negative) finite number.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::parse(path, e.line() as u64, "config", e.to_string()))?;
        if let Some(kind) = value.get("model_type")
            && kind.as_str() != Some("vit")
        {
            return Err(Error::parse(
                path,
                line_of(&text, "model_type"),
                "model_type",
                format!("is {kind}, not \"vit\": this is not a ViT's config"),
            ));
        }
        let fields = value
            .as_object()
            .ok_or_else(|| Error::parse(path, 1, "config", "is not a JSON object of settings"))?;
        // Each known field alone, so that a value of the wrong type is named by its field.
        for (field, v) in fields.iter().filter(|(k, _)| FIELDS.contains(&k.as_str())) {
            let single =
                serde_json::Value::Object([(field.clone(), v.clone())].into_iter().collect());
            serde_json::from_value::<VitConfig>(single)
                .map_err(|e| Error::parse(path, line_of(&text, field), field, e.to_string()))?;
        }
        let config: VitConfig = serde_json::from_value(value)
            .map_err(|e| Error::parse(path, 1, "config", e.to_string()))?;
        config.check().map_err(|(field, message)| {
            Error::parse(path, line_of(&text, field), field, message)
        })?;
        Ok(config)
    }

    /// The field at fault and what is wrong with it, if the sizes do not make a ViT.
    fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        let positive = [
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("image_size", self.image_size),
            ("patch_size", self.patch_size),
            ("num_channels", self.num_channels),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err((field, "must be at least 1, got 0".into()));
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err((
                "num_attention_heads",
                format!(
                    "{} heads do not divide hidden_size {}",
                    self.num_attention_heads, self.hidden_size
                ),
            ));
        }
        if !self.image_size.is_multiple_of(self.patch_size) {
            return Err((
                "patch_size",
                format!(
                    "patches of {} pixels do not tile image_size {}",
                    self.patch_size, self.image_size
                ),
            ));
        }
        if self.hidden_act != "gelu" {
            return Err((
                "hidden_act",
                format!(
                    "`{}` is not supported; only `gelu` (exact, erf) is",
                    self.hidden_act
                ),
            ));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err((
                "layer_norm_eps",
                format!("must be a positive number, got {}", self.layer_norm_eps),
            ));
        }
        if !(self.initializer_range.is_finite() && self.initializer_range >= 0.0) {
            return Err((
                "initializer_range",
                format!(
                    "must be a non-negative number, got {}",
                    self.initializer_range
                ),
            ));
        }
        Ok(())
    }

    /// Tokens per image: one per patch, plus CLS.
    pub fn n_tokens(&self) -> usize {
        (self.image_size / self.patch_size).pow(2) + 1
    }
}

/// The 1-based line of the first `"field"` key in a JSON text, or 1 when it is not there.
fn line_of(text: &str, field: &str) -> u64 {
    let key = format!("\"{field}\"");
    text.lines()
        .position(|l| l.contains(&key))
        .map_or(1, |i| i as u64 + 1)
}

/// The fields [`VitConfig`] reads.
const FIELDS: &[&str] = &[
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "layer_norm_eps",
    "image_size",
    "patch_size",
    "num_channels",
    "qkv_bias",
    "initializer_range",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid `config.json`, one field a line (line 2 onwards), with `changes` (each
    /// `"key": value`) replacing a field of the same key or appended, read back.
    fn read_with(changes: &[&str]) -> Result<VitConfig> {
        let mut fields = vec![
            "\"model_type\": \"vit\"".to_string(),
            "\"hidden_size\": 48".into(),
            "\"num_attention_heads\": 4".into(),
            "\"image_size\": 32".into(),
            "\"patch_size\": 8".into(),
        ];
        for change in changes {
            let key = change.split(':').next().unwrap();
            match fields.iter_mut().find(|f| f.starts_with(key)) {
                Some(field) => *field = change.to_string(),
                None => fields.push(change.to_string()),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, format!("{{\n{}\n}}\n", fields.join(",\n"))).unwrap();
        VitConfig::from_file(&path)
    }

    fn refusal(change: &str) -> String {
        read_with(&[change]).unwrap_err().to_string()
    }

    #[test]
    fn a_config_reads_its_fields_and_defaults_the_rest() {
        let config = read_with(&["\"layer_norm_eps\": 1e-6", "\"id2label\": {}"]).unwrap();
        assert_eq!(config.hidden_size, 48);
        assert_eq!(config.layer_norm_eps, 1e-6);
        assert_eq!(config.num_hidden_layers, 12);
        // (32 / 8)² patches and CLS.
        assert_eq!(config.n_tokens(), 17);
    }

    #[test]
    fn heads_that_do_not_divide_the_width_are_refused() {
        let err = refusal("\"num_attention_heads\": 5");
        assert!(
            err.contains("config.json:4: field `num_attention_heads`") && err.contains("5 heads"),
            "{err}"
        );
    }

    #[test]
    fn patches_that_do_not_tile_the_image_are_refused() {
        let err = refusal("\"image_size\": 30");
        assert!(err.contains("field `patch_size`"), "{err}");
    }

    #[test]
    fn an_activation_other_than_gelu_is_refused() {
        let err = refusal("\"hidden_act\": \"gelu_new\"");
        assert!(
            err.contains("config.json:7: field `hidden_act`") && err.contains("gelu_new"),
            "{err}"
        );
    }

    #[test]
    fn a_zero_size_is_refused() {
        let err = refusal("\"num_hidden_layers\": 0");
        assert!(
            err.contains("field `num_hidden_layers`: must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn a_non_positive_layer_norm_epsilon_is_refused() {
        let err = refusal("\"layer_norm_eps\": 0.0");
        assert!(err.contains("field `layer_norm_eps`"), "{err}");
    }

    #[test]
    fn a_negative_initializer_range_is_refused() {
        let err = refusal("\"initializer_range\": -0.02");
        assert!(err.contains("field `initializer_range`"), "{err}");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_refused_naming_it() {
        let err = refusal("\"intermediate_size\": \"96\"");
        assert!(
            err.contains("config.json:7: field `intermediate_size`"),
            "{err}"
        );
    }

    #[test]
    fn another_model_type_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\"model_type\": \"bert\", \"hidden_size\": 48}").unwrap();
        let err = VitConfig::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("field `model_type`") && err.contains("bert"),
            "{err}"
        );
    }

    #[test]
    fn a_config_that_is_not_json_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\n\"hidden_size\": 48,\n oops\n}").unwrap();
        let err = VitConfig::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("config.json:3"), "{err}");
    }
}
