//! Compose's merge rules, used by `extends` and by override files: mappings merge by key,
//! lists append without duplicates, some fields replace, `!reset` and `!override` win.

use serde_yaml_ng::{Mapping, Value};

use crate::yaml::is_reset;

/// How the value at a given service field merges.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// The override replaces the base.
    Replace,
    /// `KEY=VALUE` lists and mappings merge by key.
    KeyValues,
    /// `depends_on`: a list of names is a mapping with default conditions.
    DependsOn,
    /// `networks`: a list of names is a mapping of null attachments.
    Networks,
    /// Mounts replace mounts with the same target.
    ByTarget,
    /// Secret and config references replace references to the same source.
    BySource,
    /// Lists append; a lone string counts as a one-item list.
    Append,
    /// Logging options merge only while the driver stays the same.
    Logging,
    /// Mappings merge by key, lists append, scalars replace.
    Default,
}

fn rule(path: &[&str]) -> Rule {
    match path {
        ["command" | "entrypoint"] | ["healthcheck", "test"] | ["ulimits", _] => Rule::Replace,
        ["environment" | "labels" | "annotations" | "sysctls" | "extra_hosts"]
        | ["build" | "deploy", "labels"]
        | ["build", "args"] => Rule::KeyValues,
        ["depends_on"] => Rule::DependsOn,
        ["networks"] => Rule::Networks,
        ["volumes"] => Rule::ByTarget,
        ["secrets" | "configs"] => Rule::BySource,
        [
            "dns" | "dns_search" | "dns_opt" | "tmpfs" | "env_file" | "label_file" | "cap_add"
            | "cap_drop" | "security_opt" | "expose" | "devices" | "volumes_from" | "links"
            | "external_links" | "group_add" | "profiles" | "ports",
        ] => Rule::Append,
        ["logging"] => Rule::Logging,
        _ => Rule::Default,
    }
}

/// Merges an overriding service definition onto a base one (both may be null).
pub(crate) fn merge_service(base: Value, over: Value) -> Value {
    merge_at(&mut Vec::new(), base, over)
}

/// Merges an override file onto a base file, service by service.
pub(crate) fn merge_files(mut base: Mapping, over: Mapping) -> Mapping {
    for (key, over_value) in over {
        let name = key.as_str().unwrap_or_default().to_owned();
        let merged = match (name.as_str(), base.remove(&key)) {
            (_, None) => over_value,
            ("services", Some(Value::Mapping(mut services))) => {
                if let Value::Mapping(over_services) = over_value {
                    for (svc, def) in over_services {
                        let merged = match services.remove(&svc) {
                            Some(b) => merge_service(b, def),
                            None => def,
                        };
                        services.insert(svc, merged);
                    }
                    Value::Mapping(services)
                } else {
                    over_value
                }
            }
            ("include", Some(Value::Sequence(mut items))) => {
                if let Value::Sequence(more) = over_value {
                    items.extend(more);
                    Value::Sequence(items)
                } else {
                    over_value
                }
            }
            (_, Some(b)) => merge_at(&mut vec!["<top>".to_owned()], b, over_value),
        };
        base.insert(key, merged);
    }
    base
}

fn merge_at(path: &mut Vec<String>, base: Value, over: Value) -> Value {
    // What the override says explicitly wins without merging.
    if let Value::Tagged(t) = &over
        && (t.tag == "override" || t.tag == "reset")
    {
        return over;
    }
    let base = match base {
        Value::Tagged(t) if t.tag == "override" => t.value,
        b if is_reset(&b) => return over,
        b => b,
    };
    let keys: Vec<&str> = path.iter().map(String::as_str).collect();
    match rule(&keys) {
        Rule::Replace => over,
        Rule::KeyValues => match (to_key_values(&base, &keys), to_key_values(&over, &keys)) {
            (Some(b), Some(o)) => Value::Mapping(merge_mappings(path, b, o, false)),
            _ => over,
        },
        Rule::DependsOn | Rule::Networks => {
            let depends = rule(&keys) == Rule::DependsOn;
            match (names_to_map(base, depends), names_to_map(over, depends)) {
                (Value::Mapping(b), Value::Mapping(o)) => {
                    Value::Mapping(merge_mappings(path, b, o, true))
                }
                (_, o) => o,
            }
        }
        Rule::ByTarget => append_by(base, over, mount_target),
        Rule::BySource => append_by(base, over, reference_source),
        Rule::Append => append_by(as_list(base), as_list(over), |_| None),
        Rule::Logging => {
            let driver = |v: &Value| v.get("driver").and_then(Value::as_str).map(str::to_owned);
            match (driver(&base), driver(&over)) {
                (Some(b), Some(o)) if b != o => over,
                _ => default_merge(path, base, over),
            }
        }
        Rule::Default => default_merge(path, base, over),
    }
}

fn default_merge(path: &mut Vec<String>, base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => Value::Mapping(merge_mappings(path, b, o, false)),
        (Value::Mapping(b), Value::Null) if path.len() == 1 && path[0] == "build" => {
            Value::Mapping(b)
        }
        (b @ Value::Sequence(_), o @ Value::Sequence(_)) => append_by(b, o, |_| None),
        (b, o) => build_context(path, b, o),
    }
}

/// `build: dir` merges with `build: {…}` as `{context: dir}`.
fn build_context(path: &[String], base: Value, over: Value) -> Value {
    let is_build = path.len() == 1 && path[0] == "build";
    let as_map = |v: Value| match v {
        Value::String(s) => {
            let mut m = Mapping::new();
            m.insert("context".into(), Value::String(s));
            Value::Mapping(m)
        }
        other => other,
    };
    if is_build && let (Value::Mapping(b), Value::Mapping(o)) = (as_map(base), as_map(over.clone()))
    {
        let mut p = path.to_vec();
        return Value::Mapping(merge_mappings(&mut p, b, o, false));
    }
    over
}

fn merge_mappings(
    path: &mut Vec<String>,
    mut base: Mapping,
    over: Mapping,
    keep_on_null: bool,
) -> Mapping {
    for (k, o) in over {
        if is_reset(&o) {
            base.remove(&k);
            continue;
        }
        let merged = match base.remove(&k) {
            Some(b) if keep_on_null && o.is_null() => b,
            Some(b) => {
                path.push(k.as_str().unwrap_or_default().to_owned());
                let m = merge_at(path, b, o);
                path.pop();
                m
            }
            None => o,
        };
        base.insert(k, merged);
    }
    base
}

/// Reads a `list_or_dict` (`["A=1", "B"]` or `{A: 1, B: null}`) as a mapping.
fn to_key_values(v: &Value, path: &[&str]) -> Option<Mapping> {
    match v {
        Value::Mapping(m) => Some(m.clone()),
        Value::Null => Some(Mapping::new()),
        Value::Sequence(items) => {
            let hosts = path == ["extra_hosts"];
            let mut m = Mapping::new();
            for item in items {
                let s = item.as_str()?;
                let split = s
                    .split_once('=')
                    .or_else(|| if hosts { s.split_once(':') } else { None });
                match split {
                    Some((k, val)) => m.insert(k.into(), val.into()),
                    None => m.insert(s.into(), Value::Null),
                };
            }
            Some(m)
        }
        _ => None,
    }
}

fn names_to_map(v: Value, depends: bool) -> Value {
    match v {
        Value::Sequence(items) => {
            let mut m = Mapping::new();
            for item in items {
                let entry = if depends {
                    let mut e = Mapping::new();
                    e.insert("condition".into(), "service_started".into());
                    Value::Mapping(e)
                } else {
                    Value::Null
                };
                m.insert(item, entry);
            }
            Value::Mapping(m)
        }
        other => other,
    }
}

fn as_list(v: Value) -> Value {
    match v {
        Value::Sequence(_) => v,
        Value::Null => Value::Sequence(Vec::new()),
        other => Value::Sequence(vec![other]),
    }
}

fn mount_target(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.len() {
                1 => Some(parts[0].to_owned()),
                _ => parts.get(1).map(|t| (*t).to_owned()),
            }
        }
        Value::Mapping(m) => m.get("target").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn reference_source(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Mapping(m) => m.get("source").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Appends `over` to `base`: items equal to one already there are dropped, and items
/// whose `key` matches a base item's replace it.
fn append_by(base: Value, over: Value, key: fn(&Value) -> Option<String>) -> Value {
    let (base, over) = match (base, over) {
        (Value::Sequence(b), Value::Sequence(o)) => (b, o),
        (_, over) => return over,
    };
    let over_keys: Vec<String> = over.iter().filter_map(key).collect();
    let mut out: Vec<Value> = base
        .into_iter()
        .filter(|b| key(b).is_none_or(|k| !over_keys.contains(&k)))
        .collect();
    for item in over {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Value::Sequence(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml_ng::from_str(s).unwrap()
    }

    fn merged(base: &str, over: &str) -> Value {
        merge_service(yaml(base), yaml(over))
    }

    #[test]
    fn scalars_replace_and_mappings_merge() {
        let m = merged(
            "{image: a, healthcheck: {interval: 1s, test: [CMD, a]}}",
            "{image: b, healthcheck: {test: [CMD, b]}}",
        );
        assert_eq!(
            m,
            yaml("{image: b, healthcheck: {interval: 1s, test: [CMD, b]}}")
        );
    }

    #[test]
    fn command_replaces_instead_of_appending() {
        assert_eq!(
            merged("{command: [a, b]}", "{command: [c]}"),
            yaml("{command: [c]}")
        );
    }

    #[test]
    fn environment_merges_by_key_across_syntaxes() {
        let m = merged(
            "{environment: [A=1, B=2]}",
            "{environment: {B: 3, C: null}}",
        );
        assert_eq!(m, yaml("{environment: {A: '1', B: 3, C: null}}"));
    }

    #[test]
    fn lists_append_without_duplicates() {
        let m = merged(
            "{ports: ['80:80'], dns: 1.1.1.1}",
            "{ports: ['80:80', '443:443'], dns: [8.8.8.8]}",
        );
        assert_eq!(
            m,
            yaml("{ports: ['80:80', '443:443'], dns: [1.1.1.1, 8.8.8.8]}")
        );
    }

    #[test]
    fn volumes_replace_by_target() {
        let m = merged(
            "{volumes: ['a:/data', '/x:/x']}",
            "{volumes: [{type: volume, source: b, target: /data}]}",
        );
        assert_eq!(
            m,
            yaml("{volumes: ['/x:/x', {type: volume, source: b, target: /data}]}")
        );
    }

    #[test]
    fn depends_on_and_networks_merge_as_mappings() {
        let m = merged(
            "{depends_on: [db], networks: [front]}",
            "{depends_on: {cache: {condition: service_healthy}}, networks: {front: {aliases: [x]}, back: null}}",
        );
        assert_eq!(
            m,
            yaml(
                "{depends_on: {db: {condition: service_started}, cache: {condition: service_healthy}}, networks: {front: {aliases: [x]}, back: null}}"
            )
        );
    }

    #[test]
    fn reset_removes_and_override_replaces() {
        let m = merged(
            "{command: sleep, ports: ['80:80'], environment: {A: '1'}}",
            "{command: !reset null, ports: !override ['81:81'], environment: {A: !reset null}}",
        );
        assert_eq!(m.get("command"), None);
        assert_eq!(m["environment"], yaml("{}"));
        assert!(matches!(&m["ports"], Value::Tagged(t) if t.tag == "override"));
    }
}
