//! Mappings with a fixed set of keys read from the generic YAML tree: every unknown key is
//! reported, with the closest known key as a suggestion.

use serde_yaml_ng::Value;

pub(crate) use super::scalar::*;
use crate::error::{Ctx, Path};
use crate::yaml::kind;

/// A mapping whose keys were checked against the keys compose allows there.
pub(crate) struct Fields<'v> {
    path: Path,
    entries: Vec<(&'v str, &'v Value)>,
    /// Keys looked at so far, so tests can prove that no allowed key is ignored.
    read: std::cell::RefCell<Vec<&'v str>>,
}

impl<'v> Fields<'v> {
    /// Reads `value` as a mapping with the `known` keys plus `x-` extensions; every other
    /// key is reported. `None` (after an error) when it is not a mapping; null reads as
    /// an empty mapping when `null_ok`.
    pub(crate) fn new(
        ctx: &mut Ctx,
        path: &Path,
        value: &'v Value,
        known: &[&str],
        null_ok: bool,
    ) -> Option<Self> {
        let map = match value {
            Value::Mapping(m) => m,
            Value::Null if null_ok => {
                return Some(Fields {
                    path: path.clone(),
                    entries: Vec::new(),
                    read: Default::default(),
                });
            }
            other => {
                ctx.error(path, format!("must be a mapping, not {}", kind(other)));
                return None;
            }
        };
        let mut entries = Vec::with_capacity(map.len());
        for (k, v) in map {
            let key = k.as_str().unwrap_or_default();
            if key.starts_with("x-") {
                continue;
            }
            if known.contains(&key) {
                entries.push((key, v));
            } else {
                ctx.error(&path.key(key), unknown_key_message(key, known));
            }
        }
        Some(Fields {
            path: path.clone(),
            entries,
            read: Default::default(),
        })
    }

    /// Present keys that nothing has looked at.
    #[cfg(test)]
    pub(crate) fn unread(&self) -> Vec<&'v str> {
        let read = self.read.borrow();
        self.entries
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !read.contains(k))
            .collect()
    }

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'v Value> {
        let (k, v) = self.entries.iter().find(|(k, _)| *k == key)?;
        self.read.borrow_mut().push(k);
        Some(*v)
    }

    /// The path of `key`.
    pub(crate) fn at(&self, key: &str) -> Path {
        self.path.key(key)
    }

    /// Reads `key` with `read` when present.
    pub(crate) fn with<T>(
        &self,
        ctx: &mut Ctx,
        key: &str,
        read: impl FnOnce(&mut Ctx, &Path, &'v Value) -> Option<T>,
    ) -> Option<T> {
        let v = self.get(key)?;
        read(ctx, &self.at(key), v)
    }
}

/// "unknown key", with the closest known key when one is close enough to be a typo.
pub(crate) fn unknown_key_message(key: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len());
    match best {
        Some((_, k)) => format!("unknown key; did you mean {k:?}?"),
        None => {
            "unknown key; compose does not define it here (prefix custom keys with x-)".to_owned()
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_key() {
        let known = ["image", "ports", "environment"];
        assert_eq!(
            unknown_key_message("imagee", &known),
            "unknown key; did you mean \"image\"?"
        );
        assert_eq!(
            unknown_key_message("enviroment", &known),
            "unknown key; did you mean \"environment\"?"
        );
        assert!(unknown_key_message("zzzzzz", &known).starts_with("unknown key; compose"));
    }

    #[test]
    fn reports_every_unknown_key() {
        let mut ctx = Ctx::default();
        let v: Value = serde_yaml_ng::from_str("{a: 1, b: 2, c: 3, x-ok: 4}").unwrap();
        let f = Fields::new(&mut ctx, &Path::root().key("s"), &v, &["a"], false).unwrap();
        assert!(f.get("a").is_some());
        let paths: Vec<&str> = ctx.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["s.b", "s.c"]);
    }
}
