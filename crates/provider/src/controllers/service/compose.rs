//! The part of a compose file a Service runs, read with compose's own short and long
//! syntaxes after `${VAR}` interpolation. Keys it does not carry are kept, so they can be
//! reported by path rather than dropped.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A compose file.
#[derive(Debug, Default, Deserialize)]
pub struct File {
    #[serde(default)]
    pub services: BTreeMap<String, Service>,
    #[serde(default)]
    pub networks: BTreeMap<String, Option<TopNetwork>>,
    #[serde(default)]
    pub volumes: BTreeMap<String, Option<TopVolume>>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TopNetwork {
    pub name: Option<String>,
    pub driver: Option<String>,
    #[serde(default)]
    pub driver_opts: BTreeMap<String, Value>,
    #[serde(default)]
    pub external: Option<Value>,
    pub internal: Option<bool>,
    pub attachable: Option<bool>,
    pub enable_ipv6: Option<bool>,
    pub ipam: Option<Ipam>,
    pub labels: Option<ListOrMap>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Ipam {
    pub driver: Option<String>,
    #[serde(default)]
    pub config: Vec<IpamPool>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct IpamPool {
    pub subnet: Option<String>,
    pub ip_range: Option<String>,
    pub gateway: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TopVolume {
    pub name: Option<String>,
    pub driver: Option<String>,
    #[serde(default)]
    pub driver_opts: BTreeMap<String, Value>,
    #[serde(default)]
    pub external: Option<Value>,
    pub labels: Option<ListOrMap>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `["a", "b"]` or `"a b"` (split like a shell would).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Words {
    List(Vec<String>),
    Line(String),
}

impl Words {
    pub fn split(&self) -> Result<Vec<String>, String> {
        match self {
            Self::List(l) => Ok(l.clone()),
            Self::Line(s) => shlex::split(s).ok_or_else(|| format!("{s:?} has an unclosed quote")),
        }
    }
}

/// `["K=V", "K"]` or `{K: V}` (values may be numbers, booleans or null).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ListOrMap {
    List(Vec<String>),
    Map(BTreeMap<String, Value>),
}

impl ListOrMap {
    /// Pairs in order; `None` values mean "from the environment".
    pub fn pairs(&self) -> Vec<(String, Option<String>)> {
        match self {
            Self::List(l) => l
                .iter()
                .map(|e| match e.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (e.clone(), None),
                })
                .collect(),
            Self::Map(m) => m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
        }
    }
}

/// A scalar as compose writes it into a string; `None` for null.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn list(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(l) => l.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Port {
    Number(u32),
    Short(String),
    Long(LongPort),
}

#[derive(Debug, Deserialize)]
pub struct LongPort {
    pub target: Value,
    pub published: Option<Value>,
    pub host_ip: Option<String>,
    pub protocol: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Mount {
    Short(String),
    Long(LongMount),
}

#[derive(Debug, Deserialize)]
pub struct LongMount {
    #[serde(rename = "type")]
    pub kind: String,
    pub source: Option<String>,
    pub target: String,
    pub read_only: Option<bool>,
    pub tmpfs: Option<TmpfsOptions>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct TmpfsOptions {
    pub size: Option<Value>,
    pub mode: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DependsOn {
    List(Vec<String>),
    Map(BTreeMap<String, Dependency>),
}

#[derive(Debug, Deserialize)]
pub struct Dependency {
    #[serde(default = "started")]
    pub condition: String,
    #[serde(default = "yes")]
    pub required: bool,
    pub restart: Option<bool>,
}

fn started() -> String {
    "service_started".into()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct Healthcheck {
    pub test: Option<Words>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retries: Option<i64>,
    pub start_period: Option<String>,
    #[serde(default)]
    pub disable: bool,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ServiceNetworks {
    List(Vec<String>),
    Map(BTreeMap<String, Option<ServiceNetwork>>),
}

#[derive(Debug, Default, Deserialize)]
pub struct ServiceNetwork {
    #[serde(default)]
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Deploy {
    pub replicas: Option<u32>,
    pub resources: Option<DeployResources>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DeployResources {
    pub limits: Option<Limits>,
    pub reservations: Option<Limits>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Limits {
    pub cpus: Option<Value>,
    pub memory: Option<Value>,
    pub pids: Option<i64>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One compose service.
#[derive(Debug, Default, Deserialize)]
pub struct Service {
    pub image: Option<String>,
    pub container_name: Option<String>,
    pub command: Option<Words>,
    pub entrypoint: Option<Words>,
    pub environment: Option<ListOrMap>,
    pub env_file: Option<OneOrMany>,
    #[serde(default)]
    pub ports: Vec<Port>,
    #[serde(default)]
    pub volumes: Vec<Mount>,
    pub depends_on: Option<DependsOn>,
    pub healthcheck: Option<Healthcheck>,
    pub restart: Option<String>,
    pub networks: Option<ServiceNetworks>,
    pub network_mode: Option<String>,
    pub labels: Option<ListOrMap>,
    pub deploy: Option<Deploy>,
    pub scale: Option<u32>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    pub privileged: Option<bool>,
    pub read_only: Option<bool>,
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    pub dns: Option<OneOrMany>,
    pub extra_hosts: Option<ListOrMap>,
    pub stop_signal: Option<String>,
    pub stop_grace_period: Option<String>,
    pub pid: Option<String>,
    pub ipc: Option<String>,
    pub tmpfs: Option<OneOrMany>,
    #[serde(default)]
    pub profiles: Vec<String>,
    pub pull_policy: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Replaces `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
/// `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` in every string of `value`.
pub fn interpolate(
    value: &mut Value,
    env: &BTreeMap<String, String>,
    path: &str,
) -> Result<(), String> {
    match value {
        Value::String(s) => *s = interpolate_str(s, env).map_err(|e| format!("{path}: {e}"))?,
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate(item, env, &format!("{path}[{i}]"))?;
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                interpolate(v, env, &sub)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn interpolate_str(s: &str, env: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let end = closing_brace(inner).ok_or_else(|| format!("{s:?}: unclosed ${{"))?;
            out.push_str(&expand(&inner[..end], env)?);
            rest = &inner[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(env.get(&after[..len]).map_or("", String::as_str));
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}` closing a `${`, allowing nested `${...}` in defaults.
fn closing_brace(s: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand(expr: &str, env: &BTreeMap<String, String>) -> Result<String, String> {
    let name_len = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let (name, op) = expr.split_at(name_len);
    if name.is_empty() {
        return Err(format!("${{{expr}}} names no variable"));
    }
    let value = env.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let nested = |word: &str| interpolate_str(word, env);
    Ok(match op {
        "" => value.cloned().unwrap_or_default(),
        _ if op.starts_with(":-") => match set_nonempty {
            true => value.cloned().unwrap_or_default(),
            false => nested(&op[2..])?,
        },
        _ if op.starts_with('-') => match value {
            Some(v) => v.clone(),
            None => nested(&op[1..])?,
        },
        _ if op.starts_with(":?") => match set_nonempty {
            true => value.cloned().unwrap_or_default(),
            false => return Err(format!("{name} is required: {}", &op[2..])),
        },
        _ if op.starts_with('?') => match value {
            Some(v) => v.clone(),
            None => return Err(format!("{name} is required: {}", &op[1..])),
        },
        _ if op.starts_with(":+") => match set_nonempty {
            true => nested(&op[2..])?,
            false => String::new(),
        },
        _ if op.starts_with('+') => match value {
            Some(_) => nested(&op[1..])?,
            None => String::new(),
        },
        _ => return Err(format!("${{{expr}}} is not a valid substitution")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_follows_compose() {
        let env = BTreeMap::from([
            ("SET".to_string(), "v".to_string()),
            ("EMPTY".to_string(), String::new()),
        ]);
        let cases = [
            ("${SET}", "v"),
            ("$SET/x", "v/x"),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${UNSET-${SET}}", "v"),
            ("${SET:+alt}", "alt"),
            ("${UNSET+alt}", ""),
            ("$$SET", "$SET"),
            ("cost: 5$", "cost: 5$"),
        ];
        for (input, want) in cases {
            assert_eq!(interpolate_str(input, &env).unwrap(), want, "{input}");
        }
        let err = interpolate_str("${UNSET:?give a password}", &env).unwrap_err();
        assert!(err.contains("UNSET is required: give a password"), "{err}");
        assert!(interpolate_str("${SET", &env).is_err());
    }

    #[test]
    fn short_and_long_syntaxes_read_the_same() {
        let file: File = serde_yaml_ng::from_str(
            r#"
services:
  web:
    image: nginx
    command: nginx -g 'daemon off;'
    environment: [A=1, B]
    depends_on: {db: {condition: service_healthy}}
    ports: ["8080:80", {target: 443, published: 8443}]
    x-custom: ignored
  db:
    image: postgres
    environment: {POSTGRES_PASSWORD: secret, N: 5}
    depends_on: [cache]
"#,
        )
        .unwrap();
        let web = &file.services["web"];
        assert_eq!(
            web.command.as_ref().unwrap().split().unwrap(),
            ["nginx", "-g", "daemon off;"]
        );
        assert_eq!(
            web.environment.as_ref().unwrap().pairs(),
            [("A".into(), Some("1".into())), ("B".into(), None)]
        );
        assert!(matches!(web.depends_on, Some(DependsOn::Map(_))));
        assert_eq!(web.ports.len(), 2);
        assert!(web.other.contains_key("x-custom"));
        let db = &file.services["db"];
        assert_eq!(
            db.environment.as_ref().unwrap().pairs()[0],
            ("N".into(), Some("5".into()))
        );
    }
}
