//! Per-decoder overrides: `decoders.<kind>.<key>=<value>` and `decoders.<index>.<key>=<value>`.
//!
//! `decoders` is a list in an experiment file (group names or tables), so a layer cannot merge
//! into one of its entries by kind. An assignment whose key is `decoders.SEGMENT.KEY` (from
//! `--set`, a `QUAKELAB_DECODERS__...` variable or a sweep point) is therefore kept out of the
//! layering and applied once the groups are read, through [`DecoderConfig::apply_override`]:
//!
//! - `decoders.random_forest.max_depth=6` sets `max_depth` of the one decoder of kind
//!   `random_forest`. A kind that is not in the list is an error naming the kinds present; a
//!   kind listed twice is refused as ambiguous, and the message says to address the entry by
//!   its index instead.
//! - `decoders.3.max_depth=6` sets `max_depth` of the fourth entry, whatever its kind.
//!
//! Overrides apply in layer order (sweep point, then `--set`, then the environment), after
//! which every decoder is checked. The effective file inlines the decoders with the overrides
//! applied, so the config hash reflects them.

use crate::decode::DecoderConfig;
use crate::{Error, Result};

/// Which entry of `decoders` an override addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The one entry of this kind.
    Kind(String),
    /// The entry at this position.
    Index(usize),
}

/// One `decoders.<kind or index>.<key>=<value>` assignment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecoderOverride {
    /// The key as given, e.g. `decoders.random_forest.max_depth`.
    key: String,
    target: Target,
    /// The setting, e.g. `max_depth`.
    field: String,
    /// The value as text, read by [`DecoderConfig::apply_override`].
    value: String,
    /// Where it was given, e.g. `--set decoders.random_forest.max_depth=6`.
    source: String,
}

/// A setting applied by an override: the entry's index, the setting, and the override's
/// source (what `config show` prints beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    pub(crate) index: usize,
    pub(crate) field: String,
    pub(crate) source: String,
}

impl DecoderOverride {
    /// The override for `key`, or `None` when `key` is not `decoders.SEGMENT...`. The bare
    /// `decoders.SEGMENT` (an entry without a setting) is refused: it would replace an entry
    /// that a layer cannot address.
    pub(crate) fn parse(
        key: &str,
        value: &toml::Value,
        source: &str,
    ) -> Result<Option<DecoderOverride>> {
        let mut parts = key.splitn(3, '.').map(str::trim);
        let (Some("decoders"), Some(segment)) = (parts.next(), parts.next()) else {
            return Ok(None);
        };
        let Some(field) = parts.next().filter(|f| !f.is_empty()) else {
            return Err(Error::config(
                key,
                format!(
                    "set one decoder setting, `decoders.KIND.KEY=VALUE` or \
                     `decoders.INDEX.KEY=VALUE`, or the whole list, `decoders=[...]` (from {source})"
                ),
            ));
        };
        let target = if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            Target::Index(segment.parse().map_err(|_| {
                Error::config(key, format!("`{segment}` is not an index (from {source})"))
            })?)
        } else {
            Target::Kind(segment.to_string())
        };
        let value = match value {
            toml::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        Ok(Some(DecoderOverride {
            key: key.to_string(),
            target,
            field: field.to_string(),
            value,
            source: source.to_string(),
        }))
    }
}

/// Applies `overrides` in order to `decoders` and returns what each set. Errors name the
/// override's key and source.
pub(crate) fn apply(
    decoders: &mut [DecoderConfig],
    overrides: &[DecoderOverride],
) -> Result<Vec<Applied>> {
    let mut applied = Vec::with_capacity(overrides.len());
    for o in overrides {
        let index = find(decoders, o)?;
        decoders[index]
            .apply_override(&format!("decoder.{}={}", o.field, o.value))
            .map_err(|e| match e {
                Error::Config { message, .. } => {
                    Error::config(&o.key, format!("{message} (from {})", o.source))
                }
                other => other,
            })?;
        applied.push(Applied {
            index,
            field: o.field.clone(),
            source: o.source.clone(),
        });
    }
    Ok(applied)
}

/// The entry an override addresses.
fn find(decoders: &[DecoderConfig], o: &DecoderOverride) -> Result<usize> {
    match &o.target {
        Target::Index(index) => {
            if *index < decoders.len() {
                Ok(*index)
            } else {
                Err(Error::config(
                    &o.key,
                    format!(
                        "there is no decoders.{index}: the experiment lists {} decoder(s), \
                         decoders.0 to decoders.{} (from {})",
                        decoders.len(),
                        decoders.len().saturating_sub(1),
                        o.source
                    ),
                ))
            }
        }
        Target::Kind(kind) => {
            let matching: Vec<usize> = (0..decoders.len())
                .filter(|&i| decoders[i].kind() == kind.as_str())
                .collect();
            match matching.as_slice() {
                [index] => Ok(*index),
                [] => {
                    let present: Vec<&str> = decoders.iter().map(DecoderConfig::kind).collect();
                    let unknown = if DecoderConfig::KINDS.contains(&kind.as_str()) {
                        String::new()
                    } else {
                        format!(
                            "; `{kind}` is not a decoder kind (known: {})",
                            DecoderConfig::KINDS.join(", ")
                        )
                    };
                    Err(Error::config(
                        &o.key,
                        format!(
                            "no decoder of kind `{kind}` in this experiment's decoders \
                             (present: {}){unknown} (from {})",
                            present.join(", "),
                            o.source
                        ),
                    ))
                }
                several => {
                    let at: Vec<String> = several.iter().map(|i| format!("decoders.{i}")).collect();
                    Err(Error::config(
                        &o.key,
                        format!(
                            "ambiguous: {} decoders are of kind `{kind}` ({}); address one by \
                             its index, e.g. `decoders.{}.{}` (from {})",
                            several.len(),
                            at.join(", "),
                            several[0],
                            o.field,
                            o.source
                        ),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(key: &str, value: toml::Value) -> Result<Option<DecoderOverride>> {
        DecoderOverride::parse(key, &value, "test")
    }

    #[test]
    fn only_keys_below_a_decoder_entry_are_overrides() {
        let int = toml::Value::Integer(6);
        assert_eq!(parse("labels.mc", int.clone()).unwrap(), None);
        assert_eq!(parse("decoders", int.clone()).unwrap(), None);
        let by_kind = parse("decoders.random_forest.max_depth", int.clone())
            .unwrap()
            .unwrap();
        assert_eq!(by_kind.target, Target::Kind("random_forest".into()));
        assert_eq!(
            (by_kind.field.as_str(), by_kind.value.as_str()),
            ("max_depth", "6")
        );
        let by_index = parse("decoders.12.alpha", toml::Value::Float(0.5))
            .unwrap()
            .unwrap();
        assert_eq!(by_index.target, Target::Index(12));
        assert_eq!(by_index.value, "0.5");
        let text = parse(
            "decoders.persistence.column",
            toml::Value::String("b".into()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(text.value, "b", "text is passed without TOML quotes");
        assert!(parse("decoders.ridge", int).is_err());
    }
}
