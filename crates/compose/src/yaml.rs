//! The generic YAML layer: parsing a file into a tree with string keys and merge keys
//! applied, interpolating its values, and resolving `!reset` / `!override` tags at the end.

use serde_yaml_ng::{Mapping, Value};

use crate::error::{Ctx, Path};
use crate::interpolate::interpolate;

/// Describes a value's YAML type for messages: "a string", "a list", …
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Parses one compose file into a mapping with string keys. `None` after recording an
/// error when the text is not YAML, is empty, or is not a mapping at the top.
pub(crate) fn parse_file(ctx: &mut Ctx, file: &str, content: &str) -> Option<Mapping> {
    let root = Path::root();
    let mut value: Value = match serde_yaml_ng::from_str(content) {
        Ok(v) => v,
        Err(e) => {
            ctx.error(&root, format!("{file} is not valid YAML: {e}"));
            return None;
        }
    };
    if let Err(e) = value.apply_merge() {
        ctx.error(&root, format!("{file}: invalid YAML merge key (<<): {e}"));
        return None;
    }
    match string_keys(ctx, &root, value) {
        Some(Value::Mapping(m)) if !m.is_empty() => Some(m),
        Some(Value::Null) | Some(Value::Mapping(_)) => {
            ctx.error(
                &root,
                format!("{file} is empty; a compose file needs at least a services: section"),
            );
            None
        }
        Some(other) => {
            ctx.error(
                &root,
                format!(
                    "{file}: the top level must be a mapping of keys such as services:, not {}",
                    kind(&other)
                ),
            );
            None
        }
        None => None,
    }
}

/// Turns every mapping key into a string, as compose does (`80:` is the key "80").
fn string_keys(ctx: &mut Ctx, path: &Path, value: Value) -> Option<Value> {
    Some(match value {
        Value::Mapping(m) => {
            let mut out = Mapping::with_capacity(m.len());
            let mut ok = true;
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        ctx.error(path, format!("keys must be strings, not {}", kind(&other)));
                        ok = false;
                        continue;
                    }
                };
                let child = path.key(&key);
                if out.contains_key(key.as_str()) {
                    ctx.error(&child, "duplicate key");
                    ok = false;
                    continue;
                }
                match string_keys(ctx, &child, v) {
                    Some(v) => {
                        out.insert(Value::String(key), v);
                    }
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Value::Mapping(out)
        }
        Value::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(string_keys(ctx, &path.index(i), item)?);
            }
            Value::Sequence(out)
        }
        Value::Tagged(mut t) => {
            t.value = string_keys(ctx, path, t.value)?;
            Value::Tagged(t)
        }
        other => other,
    })
}

/// Interpolates every value of a parsed file (never keys). `x-` extensions at the top
/// level and in services are left alone: compose ignores them, so their variables need
/// not be set.
pub(crate) fn interpolate_file(
    ctx: &mut Ctx,
    doc: &mut Mapping,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    let root = Path::root();
    for (k, v) in doc.iter_mut() {
        let key = k.as_str().unwrap_or_default();
        if key.starts_with("x-") {
            continue;
        }
        let path = root.key(key);
        match (key, v) {
            ("services", Value::Mapping(services)) => {
                for (name, service) in services.iter_mut() {
                    let spath = path.key(name.as_str().unwrap_or_default());
                    if let Value::Mapping(fields) = service {
                        for (fk, fv) in fields.iter_mut() {
                            let fkey = fk.as_str().unwrap_or_default();
                            if !fkey.starts_with("x-") {
                                interpolate_value(ctx, &spath.key(fkey), fv, lookup);
                            }
                        }
                    } else {
                        interpolate_value(ctx, &spath, service, lookup);
                    }
                }
            }
            (_, v) => interpolate_value(ctx, &path, v, lookup),
        }
    }
}

fn interpolate_value(
    ctx: &mut Ctx,
    path: &Path,
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    match value {
        Value::String(s) if s.contains('$') => match interpolate(s, lookup) {
            Ok(out) => {
                for name in &out.missing {
                    ctx.warn(
                        path,
                        format!("variable {name:?} is not set; using an empty string"),
                    );
                }
                *s = out.value;
            }
            Err(e) => ctx.error(path, e.to_string()),
        },
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(ctx, &path.index(i), item, lookup);
            }
        }
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                interpolate_value(ctx, &path.key(k.as_str().unwrap_or_default()), v, lookup);
            }
        }
        Value::Tagged(t) => interpolate_value(ctx, path, &mut t.value, lookup),
        _ => {}
    }
}

/// True for a value tagged `!reset`.
pub(crate) fn is_reset(v: &Value) -> bool {
    matches!(v, Value::Tagged(t) if t.tag == "reset")
}

/// Resolves the tags that survive merging: `!reset` entries disappear, `!override`
/// values stand as written, any other tag is an error. `None` means "remove this".
pub(crate) fn strip_tags(ctx: &mut Ctx, path: &Path, value: Value) -> Option<Value> {
    match value {
        Value::Tagged(t) if t.tag == "reset" => None,
        Value::Tagged(t) if t.tag == "override" => strip_tags(ctx, path, t.value),
        Value::Tagged(t) => {
            ctx.error(
                path,
                format!(
                    "unsupported YAML tag {}; only !reset and !override are supported",
                    t.tag
                ),
            );
            None
        }
        Value::Mapping(m) => Some(Value::Mapping(
            m.into_iter()
                .filter_map(|(k, v)| {
                    let child = path.key(k.as_str().unwrap_or_default());
                    strip_tags(ctx, &child, v).map(|v| (k, v))
                })
                .collect(),
        )),
        Value::Sequence(items) => Some(Value::Sequence(
            items
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| strip_tags(ctx, &path.index(i), v))
                .collect(),
        )),
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_strings() {
        let mut ctx = Ctx::default();
        let doc = parse_file(&mut ctx, "f", "services:\n  80: {}\n  true: {}\n").unwrap();
        let services = doc.get("services").and_then(Value::as_mapping).unwrap();
        assert!(services.contains_key("80") && services.contains_key("true"));
    }

    #[test]
    fn merge_keys_are_applied() {
        let mut ctx = Ctx::default();
        let doc = parse_file(
            &mut ctx,
            "f",
            "x-a: &a {image: i}\nservices:\n  s:\n    <<: *a\n",
        )
        .unwrap();
        let s = &doc["services"]["s"];
        assert_eq!(s["image"], Value::String("i".into()));
    }

    #[test]
    fn empty_and_non_mapping_files_are_errors() {
        for text in ["", "# nothing", "{}", "- a", "just text"] {
            let mut ctx = Ctx::default();
            assert!(parse_file(&mut ctx, "f.yaml", text).is_none(), "{text:?}");
            assert_eq!(ctx.errors.len(), 1);
        }
    }

    #[test]
    fn unknown_tags_are_errors_and_reset_removes() {
        let mut ctx = Ctx::default();
        let v: Value = serde_yaml_ng::from_str("a: !reset x\nb: !override [1]\nc: !foo 1").unwrap();
        let out = strip_tags(&mut ctx, &Path::root(), v).unwrap();
        assert!(out.get("a").is_none());
        assert_eq!(out["b"], Value::Sequence(vec![Value::from(1)]));
        assert_eq!(ctx.errors.len(), 1);
        assert_eq!(ctx.errors[0].path, "c");
    }
}
