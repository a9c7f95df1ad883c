//! Shared by the integration tests: finding the compose reference data (never copied into
//! the repository) and loading a fixture the way `provider-docker convert` would.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use provider_docker_compose::{Errors, LoadInput, Loaded, dotenv, load};

/// The reference directory holding `compose-spec.json` and `fixtures/`: from
/// `PROVIDER_DOCKER_SHARED` (the `shared` directory or its `compose` folder), else a
/// `shared/compose` beside an ancestor of this crate, else `/work/shared/compose`.
/// Panics with instructions when none exists: these tests must never pass vacuously.
pub fn reference_dir() -> PathBuf {
    let mut tried = Vec::new();
    if let Ok(dir) = std::env::var("PROVIDER_DOCKER_SHARED") {
        let dir = PathBuf::from(dir);
        for candidate in [dir.join("compose"), dir.clone()] {
            if candidate.join("compose-spec.json").is_file() {
                return candidate;
            }
            tried.push(candidate);
        }
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for ancestor in manifest.ancestors() {
        let candidate = ancestor.join("shared").join("compose");
        if candidate.join("compose-spec.json").is_file() {
            return candidate;
        }
        tried.push(candidate);
    }
    let fallback = PathBuf::from("/work/shared/compose");
    if fallback.join("compose-spec.json").is_file() {
        return fallback;
    }
    tried.push(fallback);
    panic!(
        "compose reference data not found (looked in {tried:?}); set PROVIDER_DOCKER_SHARED to the \
         directory holding compose-spec.json and fixtures/"
    );
}

/// Every `*.yaml` / `*.yml` under `fixtures/`, recursively, sorted, relative to it.
pub fn fixtures() -> Vec<String> {
    let root = reference_dir().join("fixtures");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                let rel = path.strip_prefix(&root).expect("under root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "no fixtures found under {}",
        root.display()
    );
    out
}

fn read_under(dir: &Path, rel: &str) -> Option<String> {
    let path = if rel.starts_with('/') {
        PathBuf::from(rel)
    } else {
        dir.join(rel)
    };
    std::fs::read_to_string(path).ok()
}

/// Loads a fixture as `convert` would: files it refers to are read relative to its
/// directory, and the `.env` there supplies the variables.
pub fn load_fixture(rel: &str) -> Result<Loaded, Errors> {
    let path = reference_dir().join("fixtures").join(rel);
    let dir = path
        .parent()
        .expect("fixture has a directory")
        .to_path_buf();
    let content =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
    let mut env = BTreeMap::new();
    if let Some(dotenv) = read_under(&dir, ".env") {
        let pairs =
            dotenv::parse(&dotenv, dotenv::DotenvFormat::Compose, &|_| None).expect(".env parses");
        env.extend(pairs);
    }
    let reader = move |p: &str| read_under(&dir, p);
    let name = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let input = LoadInput::new(name, content)
        .with_reader(&reader)
        .with_environment(env);
    load(&input)
}

/// The fixture as JSON, for the schema: YAML parsed, merge keys applied.
pub fn fixture_json(rel: &str) -> serde_json::Value {
    let path = reference_dir().join("fixtures").join(rel);
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    yaml_to_json(&text).expect("fixture is YAML")
}

/// Converts YAML text to JSON as compose does before schema validation: keys become
/// strings, tags are dropped (`!reset` values become null), merge keys are applied.
pub fn yaml_to_json(text: &str) -> Option<serde_json::Value> {
    let mut v: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).ok()?;
    v.apply_merge().ok()?;
    Some(to_json(v))
}

fn to_json(v: serde_yaml_ng::Value) -> serde_json::Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => serde_json::Value::Null,
        Y::Bool(b) => b.into(),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                n.as_f64()
                    .map(serde_json::Value::from)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        Y::String(s) => s.into(),
        Y::Sequence(items) => items.into_iter().map(to_json).collect(),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => format!("{other:?}"),
                };
                out.insert(key, to_json(v));
            }
            serde_json::Value::Object(out)
        }
        Y::Tagged(t) => {
            if t.tag == "reset" {
                serde_json::Value::Null
            } else {
                to_json(t.value)
            }
        }
    }
}

/// Loads one compose file given as text, with no other files and no variables.
pub fn load_str(yaml: &str) -> Result<Loaded, Errors> {
    load(&LoadInput::new("compose.yaml", yaml))
}

/// Loads `yaml`, which must succeed.
pub fn loaded(yaml: &str) -> Loaded {
    load_str(yaml)
        .unwrap_or_else(|e| panic!("expected the file to load, got:\n{e}\n--- file ---\n{yaml}"))
}

/// The one service of a loaded file named `name`.
pub fn service(yaml: &str, name: &str) -> provider_docker_compose::Service {
    loaded(yaml)
        .project
        .services
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("no service {name}"))
}

/// The errors of `yaml`, which must fail, rendered as `path: message`.
pub fn errors(yaml: &str) -> Vec<String> {
    match load_str(yaml) {
        Ok(_) => panic!("expected errors, but the file loaded:\n{yaml}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts that loading `yaml` fails with an error on `path` whose message contains `text`.
pub fn assert_error(yaml: &str, path: &str, text: &str) {
    let errs = match load_str(yaml) {
        Ok(_) => panic!("expected an error on {path}, but the file loaded:\n{yaml}"),
        Err(e) => e,
    };
    assert!(
        errs.iter()
            .any(|e| e.path == path && e.message.contains(text)),
        "expected an error on {path} containing {text:?}, got:\n{errs}"
    );
}

/// A file with one service `web` (image `nginx`) plus the given service fields, indented.
pub fn web(fields: &str) -> String {
    let body: String = fields.lines().map(|l| format!("    {l}\n")).collect();
    format!("services:\n  web:\n    image: nginx\n{body}")
}
