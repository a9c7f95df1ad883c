//! Scalars and simple collections read from the generic YAML tree, each accepting exactly
//! the YAML types the compose schema allows for the field (plus strings where it does).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_yaml_ng::Value;

use crate::bytes::parse_bytes;
use crate::duration::parse_duration;
use crate::error::{Ctx, Path};
use crate::yaml::kind;

fn wrong(ctx: &mut Ctx, path: &Path, expected: &str, got: &Value) {
    ctx.error(path, format!("must be {expected}, not {}", kind(got)));
}

/// A string (numbers and booleans are not strings, as in the compose schema).
pub(crate) fn string(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        other => {
            wrong(ctx, path, "a string", other);
            None
        }
    }
}

/// A boolean, or a string spelling one (`true`, `false`, `yes`, `no`, `on`, `off`, `1`, `0`),
/// which is what interpolated values look like.
pub(crate) fn boolean(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "no" | "n" | "off" | "0" => Some(false),
            _ => {
                ctx.error(path, format!("{s:?} is not a boolean; use true or false"));
                None
            }
        },
        other => {
            wrong(ctx, path, "a boolean", other);
            None
        }
    }
}

/// A boolean only (fields the schema types as plain booleans).
pub(crate) fn strict_boolean(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        other => {
            wrong(ctx, path, "a boolean (true or false)", other);
            None
        }
    }
}

/// An integer, or a string holding one when `strings` (fields typed integer|string).
pub(crate) fn integer(ctx: &mut Ctx, path: &Path, v: &Value, strings: bool) -> Option<i64> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(i),
            None => {
                ctx.error(path, format!("{n} is not a whole number"));
                None
            }
        },
        Value::String(s) if strings => match s.trim().parse() {
            Ok(i) => Some(i),
            Err(_) => {
                ctx.error(path, format!("{s:?} is not a whole number"));
                None
            }
        },
        other => {
            wrong(
                ctx,
                path,
                if strings {
                    "a whole number"
                } else {
                    "a number, not quoted"
                },
                other,
            );
            None
        }
    }
}

/// A non-negative integer that fits in `u32` (counts, replicas, retries).
pub(crate) fn count(ctx: &mut Ctx, path: &Path, v: &Value, strings: bool) -> Option<u32> {
    let i = integer(ctx, path, v, strings)?;
    match u32::try_from(i) {
        Ok(c) => Some(c),
        Err(_) => {
            ctx.error(
                path,
                format!("{i} is out of range; use a number from 0 to {}", u32::MAX),
            );
            None
        }
    }
}

/// A number, or a string holding one when `strings`.
pub(crate) fn number(ctx: &mut Ctx, path: &Path, v: &Value, strings: bool) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if strings => s.trim().parse::<f64>().ok(),
        other => {
            wrong(
                ctx,
                path,
                if strings {
                    "a number"
                } else {
                    "a number, not quoted"
                },
                other,
            );
            return None;
        }
    };
    match n.filter(|n| n.is_finite()) {
        Some(n) => Some(n),
        None => {
            ctx.error(path, format!("{} is not a number", display(v)));
            None
        }
    }
}

/// A byte size: a number of bytes (when `numbers`) or a string such as `512m`.
pub(crate) fn byte_size(ctx: &mut Ctx, path: &Path, v: &Value, numbers: bool) -> Option<u64> {
    match v {
        Value::Number(n) if numbers => match n.as_u64() {
            Some(b) => Some(b),
            None => {
                ctx.error(path, format!("{n} is not a size in bytes"));
                None
            }
        },
        Value::String(s) => match parse_bytes(s) {
            Ok(b) => Some(b),
            Err(e) => {
                ctx.error(path, e.to_string());
                None
            }
        },
        other => {
            wrong(
                ctx,
                path,
                if numbers {
                    "a size such as 512m or a number of bytes"
                } else {
                    "a size string such as 512m"
                },
                other,
            );
            None
        }
    }
}

/// A duration string such as `1m30s`.
pub(crate) fn duration(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<Duration> {
    let s = string(ctx, path, v)?;
    match parse_duration(&s) {
        Ok(d) => Some(d),
        Err(e) => {
            ctx.error(path, e.to_string());
            None
        }
    }
}

/// Reports list items that repeat an earlier one (the schema's `uniqueItems`).
pub(crate) fn check_unique(ctx: &mut Ctx, path: &Path, items: &[Value]) {
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = items[..i].iter().position(|earlier| earlier == item) {
            ctx.error(
                &path.index(i),
                format!(
                    "{} repeats item [{first}]; list items must be unique",
                    display(item)
                ),
            );
        }
    }
}

/// A list of strings; with `unique`, repeated items are errors.
pub(crate) fn string_list(ctx: &mut Ctx, path: &Path, v: &Value, unique: bool) -> Vec<String> {
    let Value::Sequence(items) = v else {
        wrong(ctx, path, "a list of strings", v);
        return Vec::new();
    };
    if unique {
        check_unique(ctx, path, items);
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| string(ctx, &path.index(i), item))
        .collect()
}

/// A string or a list of unique strings.
pub(crate) fn string_or_list(ctx: &mut Ctx, path: &Path, v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        other => string_list(ctx, path, other, true),
    }
}

/// A scalar as text: strings as they are, numbers and booleans as written; null is `None`.
pub(crate) fn scalar_text(v: &Value) -> Option<Option<String>> {
    match v {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        Value::Number(n) => Some(Some(n.to_string())),
        Value::Bool(b) => Some(Some(b.to_string())),
        _ => None,
    }
}

/// Renders a value for a message: strings quoted, others as YAML.
pub(crate) fn display(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => serde_yaml_ng::to_string(other)
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_else(|_| kind(other).to_owned()),
    }
}

/// A `list_or_dict`: `["KEY=VALUE", "KEY"]` or `{KEY: VALUE}` with string, number,
/// boolean or null values. A key without value is `None`.
pub(crate) fn list_or_dict(ctx: &mut Ctx, path: &Path, v: &Value) -> Vec<(String, Option<String>)> {
    match v {
        Value::Mapping(m) => m
            .iter()
            .filter_map(|(k, val)| {
                let key = k.as_str().unwrap_or_default().to_owned();
                match scalar_text(val) {
                    Some(text) => Some((key, text)),
                    None => {
                        wrong(
                            ctx,
                            &path.key(&key),
                            "a string, number, boolean or null",
                            val,
                        );
                        None
                    }
                }
            })
            .collect(),
        Value::Sequence(_) => string_list(ctx, path, v, true)
            .into_iter()
            .map(|item| match item.split_once('=') {
                Some((k, val)) => (k.to_owned(), Some(val.to_owned())),
                None => (item, None),
            })
            .collect(),
        other => {
            wrong(ctx, path, "a mapping or a list of KEY=VALUE strings", other);
            Vec::new()
        }
    }
}

/// A `list_or_dict` where every key needs a value (labels, sysctls, options).
pub(crate) fn string_dict(ctx: &mut Ctx, path: &Path, v: &Value) -> BTreeMap<String, String> {
    list_or_dict(ctx, path, v)
        .into_iter()
        .map(|(k, val)| (k, val.unwrap_or_default()))
        .collect()
}

/// A mapping of strings or numbers (driver options).
pub(crate) fn options(ctx: &mut Ctx, path: &Path, v: &Value) -> BTreeMap<String, String> {
    let Value::Mapping(m) = v else {
        wrong(ctx, path, "a mapping", v);
        return BTreeMap::new();
    };
    m.iter()
        .filter_map(|(k, val)| {
            let key = k.as_str().unwrap_or_default().to_owned();
            match val {
                Value::String(s) => Some((key, s.clone())),
                Value::Number(n) => Some((key, n.to_string())),
                other => {
                    wrong(ctx, &path.key(&key), "a string or a number", other);
                    None
                }
            }
        })
        .collect()
}
