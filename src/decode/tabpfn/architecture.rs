//! The shape of a TabPFN v2 regressor, read from its checkpoint's `config` dictionary.
//!
//! A checkpoint stores its architecture as a plain dictionary (spec A.1): tabpfn 2.2.1 writes
//! `asdict(ModelConfig)`, the official v2 file holds an older, larger dictionary with training
//! settings besides. [`Architecture::from_config`] reads the keys that size the network
//! (`emsize`, `nhead`, `nlayers`, `nhid_factor`, `features_per_group`, `num_buckets`, `seed`),
//! takes tabpfn 2.2.1's `ModelConfig` defaults for absent ones, ignores keys it does not know
//! (training settings change nothing at inference), and refuses every value that would change
//! the forward pass into one quakelab does not implement, naming the key (`config.nhead`).

use std::path::Path;

use serde_json::Value;

use crate::{Error, Result};

/// The sizes of a TabPFN v2 regressor (spec A.2): what the weights' shapes and the forward pass
/// depend on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Architecture {
    /// The embedding width E of every token (`config.emsize`).
    pub emsize: usize,
    /// Attention heads, for attention between features and between items (`config.nhead`).
    pub nhead: usize,
    /// Encoder layers (`config.nlayers`).
    pub nlayers: usize,
    /// The hidden width of each layer's MLP and of the decoder, `emsize · nhid_factor`.
    pub mlp_hidden: usize,
    /// Features per token (`config.features_per_group`, 1 or 2).
    pub features_per_group: usize,
    /// Output buckets of the bar distribution (`config.num_buckets`).
    pub num_buckets: usize,
    /// The seed of the "subspace" feature-group embeddings (`config.seed`, default 0).
    pub seed: u64,
}

impl Architecture {
    /// The official TabPFN v2 regressor (`tabpfn-v2-regressor.ckpt`): emsize 192, 6 heads,
    /// 12 layers, MLP 768, features_per_group 2, 5000 buckets, seed 0 (spec §0, A.1).
    pub fn official_v2() -> Architecture {
        Architecture {
            emsize: 192,
            nhead: 6,
            nlayers: 12,
            mlp_hidden: 768,
            features_per_group: 2,
            num_buckets: 5000,
            seed: 0,
        }
    }

    /// The width of one attention head, `emsize / nhead`.
    pub fn head_dim(&self) -> usize {
        self.emsize / self.nhead
    }

    /// The width of the random vectors the "subspace" embedding maps to `emsize`, `emsize / 4`.
    pub fn subspace_width(&self) -> usize {
        self.emsize / 4
    }

    /// The `config` dictionary that [`Architecture::from_config`] reads back as this
    /// architecture: the sizing keys (`emsize`, `nhead`, `nlayers`, `nhid_factor`,
    /// `features_per_group`, `num_buckets`, `seed`) and `max_num_classes` 0; every other
    /// setting takes tabpfn 2.2.1's default, which is the forward pass quakelab implements.
    ///
    /// Refused (an [`Error::Numerical`]): an MLP width that is not a multiple of `emsize`,
    /// which the dictionary (`nhid_factor`) cannot express.
    pub fn to_config(&self) -> Result<Value> {
        if self.emsize == 0 || !self.mlp_hidden.is_multiple_of(self.emsize) {
            return Err(Error::Numerical(format!(
                "TabPFN architecture: MLP width {} is not a multiple of emsize {}, so no \
                 `nhid_factor` describes it",
                self.mlp_hidden, self.emsize
            )));
        }
        Ok(serde_json::json!({
            "emsize": self.emsize,
            "nhead": self.nhead,
            "nlayers": self.nlayers,
            "nhid_factor": self.mlp_hidden / self.emsize,
            "features_per_group": self.features_per_group,
            "num_buckets": self.num_buckets,
            "seed": self.seed,
            "max_num_classes": 0,
        }))
    }

    /// Reads the architecture from a checkpoint's `config` dictionary (as JSON); `path` names
    /// the checkpoint in errors.
    ///
    /// Missing keys take tabpfn 2.2.1's `ModelConfig` defaults, except `num_buckets`, which has
    /// none. Refused, with an [`Error::Format`] naming `config.KEY`: a wrong type or an
    /// out-of-range size (`emsize` not a multiple of `nhead` or of 4, `features_per_group`
    /// other than 1 or 2), and every setting that selects a forward pass quakelab does not
    /// implement: a classifier (`max_num_classes` ≠ 0), another feature embedding than
    /// `subspace`, `multiquery_item_attention_for_test_set` false, `multiquery_item_attention`,
    /// `encoder_use_bias`, `two_sets_of_queries`, `use_separate_decoder`, a DAG embedding, the
    /// NaN handling or the x normalisation switched off or changed, outlier removal, and
    /// attention types other than `full`.
    pub fn from_config(config: &Value, path: &Path) -> Result<Architecture> {
        let keys = Keys { config, path };
        if !config.is_object() {
            return Err(Error::format(
                path,
                "config",
                format!("expected a dictionary of settings, found {config}"),
            ));
        }
        keys.expect_int(
            "max_num_classes",
            0,
            "a regressor has none (0); this is a classifier",
        )?;
        keys.expect_str(
            "feature_positional_embedding",
            "subspace",
            "quakelab implements the seeded subspace embedding only",
        )?;
        let unsupported = "quakelab does not implement it";
        for (key, wanted) in [
            ("multiquery_item_attention_for_test_set", true),
            ("multiquery_item_attention", false),
            ("encoder_use_bias", false),
            ("two_sets_of_queries", false),
            ("use_separate_decoder", false),
            ("nan_handling_enabled", true),
            ("nan_handling_y_encoder", true),
            ("normalize_x", true),
            ("normalize_on_train_only", true),
            ("normalize_by_used_features", true),
            ("normalize_to_ranking", false),
            ("remove_outliers", false),
            ("remove_empty_features", true),
            ("canonical_y_encoder", false),
            ("bias", false),
        ] {
            keys.expect_bool(key, wanted, unsupported)?;
        }
        for key in [
            "item_attention_type",
            "feature_attention_type",
            "attention_type",
        ] {
            keys.expect_str(key, "full", unsupported)?;
        }
        if let Some(v) = keys.get("dag_pos_enc_dim")
            && !(v.is_null() || v.as_u64() == Some(0))
        {
            return Err(keys.error("dag_pos_enc_dim", format!("{v}: {unsupported}")));
        }

        let emsize = keys.size("emsize", Some(192))?;
        let nhead = keys.size("nhead", Some(6))?;
        let nlayers = keys.size("nlayers", Some(12))?;
        let nhid_factor = keys.size("nhid_factor", Some(4))?;
        let features_per_group = keys.size("features_per_group", Some(2))?;
        let num_buckets = keys.size("num_buckets", None)?;
        let seed = match keys.get("seed") {
            None => 0,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| keys.error("seed", format!("{v} is not a seed (an integer ≥ 0)")))?,
        };
        if !emsize.is_multiple_of(nhead) {
            return Err(keys.error(
                "nhead",
                format!("emsize {emsize} is not a multiple of {nhead} heads"),
            ));
        }
        if !emsize.is_multiple_of(4) {
            return Err(keys.error(
                "emsize",
                format!(
                    "{emsize} is not a multiple of 4 (the subspace embedding is emsize/4 wide)"
                ),
            ));
        }
        if !(1..=2).contains(&features_per_group) {
            return Err(keys.error(
                "features_per_group",
                format!("{features_per_group}: TabPFN v2 groups 1 or 2 features per token"),
            ));
        }
        if num_buckets < 2 {
            return Err(keys.error(
                "num_buckets",
                format!("{num_buckets}: a bar distribution needs at least 2 buckets"),
            ));
        }
        Ok(Architecture {
            emsize,
            nhead,
            nlayers,
            mlp_hidden: emsize * nhid_factor,
            features_per_group,
            num_buckets,
            seed,
        })
    }
}

/// Typed access to the config dictionary, with errors naming `config.KEY`.
struct Keys<'a> {
    config: &'a Value,
    path: &'a Path,
}

impl Keys<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.config.get(key)
    }

    fn error(&self, key: &str, message: String) -> Error {
        Error::format(self.path, format!("config.{key}"), message)
    }

    /// A positive integer; `default` when absent (a required key has none).
    fn size(&self, key: &str, default: Option<usize>) -> Result<usize> {
        let value = match (self.get(key), default) {
            (None, Some(d)) => return Ok(d),
            (None, None) => {
                return Err(self.error(key, "missing, and it has no default".into()));
            }
            (Some(v), _) => v,
        };
        match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n > 0 => Ok(n),
            _ => Err(self.error(key, format!("{value} is not a positive integer"))),
        }
    }

    /// Absent, null or `wanted`.
    fn expect_bool(&self, key: &str, wanted: bool, why: &str) -> Result<()> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Bool(b)) if *b == wanted => Ok(()),
            Some(v) => Err(self.error(key, format!("{v} (expected {wanted}): {why}"))),
        }
    }

    /// Absent or the string `wanted`.
    fn expect_str(&self, key: &str, wanted: &str, why: &str) -> Result<()> {
        match self.get(key) {
            None => Ok(()),
            Some(Value::String(s)) if s == wanted => Ok(()),
            Some(v) => Err(self.error(key, format!("{v} (expected \"{wanted}\"): {why}"))),
        }
    }

    /// Absent or the integer `wanted`.
    fn expect_int(&self, key: &str, wanted: u64, why: &str) -> Result<()> {
        match self.get(key) {
            None => Ok(()),
            Some(v) if v.as_u64() == Some(wanted) => Ok(()),
            Some(v) => Err(self.error(key, format!("{v}: {why}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(config: Value) -> Result<Architecture> {
        Architecture::from_config(&config, Path::new("m.ckpt"))
    }

    fn refused_key(config: Value) -> String {
        match read(config) {
            Err(Error::Format { item, .. }) => item,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_official_regressor() {
        // The 2.2.1 defaults with the official file's bucket count are the official v2 sizes.
        assert_eq!(
            read(json!({"num_buckets": 5000, "max_num_classes": 0})).unwrap(),
            Architecture::official_v2()
        );
        assert_eq!(Architecture::official_v2().head_dim(), 32);
        assert_eq!(Architecture::official_v2().subspace_width(), 48);
    }

    #[test]
    fn sizes_and_unknown_keys_are_read() {
        let arch = read(json!({
            "emsize": 32, "nhead": 4, "nlayers": 2, "nhid_factor": 4, "features_per_group": 1,
            "num_buckets": 100, "seed": 3, "dropout": 0.1, "bptt": 1024,
            "remove_duplicate_features": true, "dag_pos_enc_dim": null,
        }))
        .unwrap();
        assert_eq!(
            arch,
            Architecture {
                emsize: 32,
                nhead: 4,
                nlayers: 2,
                mlp_hidden: 128,
                features_per_group: 1,
                num_buckets: 100,
                seed: 3,
            }
        );
    }

    #[test]
    fn the_config_written_reads_back_as_the_same_architecture() {
        let arch = Architecture {
            emsize: 24,
            nhead: 3,
            nlayers: 2,
            mlp_hidden: 72,
            features_per_group: 1,
            num_buckets: 7,
            seed: 11,
        };
        let config = arch.to_config().unwrap();
        assert_eq!(config["nhid_factor"], json!(3));
        assert_eq!(read(config).unwrap(), arch);
    }

    #[test]
    fn an_mlp_width_that_is_not_a_multiple_of_emsize_has_no_config() {
        let arch = Architecture {
            mlp_hidden: 100,
            ..Architecture::official_v2()
        };
        let err = arch.to_config().unwrap_err().to_string();
        assert!(
            err.contains("MLP width 100 is not a multiple of emsize 192"),
            "{err}"
        );
    }

    #[test]
    fn refusals_name_the_key() {
        let base = || json!({"num_buckets": 100});
        let cases = [
            ("max_num_classes", json!(10)),
            ("feature_positional_embedding", json!("learned")),
            ("feature_positional_embedding", json!(null)),
            ("multiquery_item_attention_for_test_set", json!(false)),
            ("encoder_use_bias", json!(true)),
            ("two_sets_of_queries", json!(true)),
            ("use_separate_decoder", json!(true)),
            ("item_attention_type", json!("linear")),
            ("emsize", json!(186)),
            ("emsize", json!("big")),
            ("features_per_group", json!(3)),
            ("nlayers", json!(0)),
            ("seed", json!(-1)),
            ("dag_pos_enc_dim", json!(4)),
        ];
        for (key, value) in cases {
            let mut config = base();
            config[key] = value;
            assert_eq!(refused_key(config), format!("config.{key}"), "{key}");
        }
        assert_eq!(refused_key(json!({})), "config.num_buckets");
        assert_eq!(refused_key(json!([1, 2])), "config");
        assert_eq!(
            refused_key(json!({"num_buckets": 100, "emsize": 64, "nhead": 6})),
            "config.nhead"
        );
    }
}
