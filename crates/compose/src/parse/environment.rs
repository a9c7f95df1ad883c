//! Key-value settings of a service: `environment` over `env_file` contents, `labels` over
//! `label_file` contents, `annotations` and `sysctls`. Files are read through the caller.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

use super::Env;
use super::fields::{Fields, boolean, list_or_dict, string, string_dict, string_list};
use crate::dotenv::{self, DotenvFormat};
use crate::error::{Ctx, Path};
use crate::model::Service;
use crate::relpath::normalize;

struct EnvFileRef {
    path: String,
    required: bool,
    format: DotenvFormat,
}

fn env_file_refs(ctx: &mut Ctx, path: &Path, v: &Value) -> Vec<(Path, EnvFileRef)> {
    let items: Vec<(Path, &Value)> = match v {
        Value::String(_) => vec![(path.clone(), v)],
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (path.index(i), item))
            .collect(),
        other => {
            ctx.error(
                path,
                format!(
                    "must be a path or a list of paths, not {}",
                    crate::yaml::kind(other)
                ),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (p, item) in items {
        let entry = match item {
            Value::String(s) => Some(EnvFileRef {
                path: s.clone(),
                required: true,
                format: DotenvFormat::Compose,
            }),
            Value::Mapping(_) => long_env_file(ctx, &p, item),
            other => {
                ctx.error(
                    &p,
                    format!(
                        "must be a path or a mapping with path:, not {}",
                        crate::yaml::kind(other)
                    ),
                );
                None
            }
        };
        if let Some(e) = entry {
            out.push((p, e));
        }
    }
    out
}

fn long_env_file(ctx: &mut Ctx, p: &Path, item: &Value) -> Option<EnvFileRef> {
    let f = Fields::new(ctx, p, item, &["path", "required", "format"], false)?;
    let Some(path) = f.with(ctx, "path", string) else {
        if f.get("path").is_none() {
            ctx.error(p, "path: is required");
        }
        return None;
    };
    let required = f.with(ctx, "required", boolean).unwrap_or(true);
    let format = match f.with(ctx, "format", string).as_deref() {
        None => DotenvFormat::Compose,
        Some("raw") => DotenvFormat::Raw,
        Some(other) => {
            ctx.error(
                &f.at("format"),
                format!("{other:?} is not an env file format; leave it out or use raw"),
            );
            return None;
        }
    };
    Some(EnvFileRef {
        path,
        required,
        format,
    })
}

/// Reads one env or label file through the caller; `None` when it is missing.
fn read_file(
    ctx: &mut Ctx,
    env: &Env<'_>,
    path: &Path,
    file: &EnvFileRef,
) -> Option<Vec<(String, String)>> {
    let name = normalize(&file.path);
    let Some(content) = env.reader.read(&name) else {
        if file.required {
            ctx.error(
                path,
                format!("file {name:?} not found; create it or mark it required: false"),
            );
        } else {
            ctx.warn(path, format!("optional file {name:?} not found; skipped"));
        }
        return None;
    };
    let lookup = |k: &str| env.vars.get(k).cloned();
    match dotenv::parse(&content, file.format, &lookup) {
        Ok(pairs) => Some(pairs),
        Err(e) => {
            ctx.error(path, format!("{:?} {e}", file.path));
            None
        }
    }
}

/// Reads `environment`, `env_file`, `labels`, `label_file`, `annotations` and `sysctls`.
pub(crate) fn read(ctx: &mut Ctx, env: &Env<'_>, f: &Fields<'_>, s: &mut Service) {
    let mut environment: BTreeMap<String, Option<String>> = BTreeMap::new();
    if let Some(v) = f.get("env_file") {
        for (p, file) in env_file_refs(ctx, &f.at("env_file"), v) {
            for (k, val) in read_file(ctx, env, &p, &file).unwrap_or_default() {
                environment.insert(k, Some(val));
            }
        }
    }
    if let Some(v) = f.get("environment") {
        for (k, val) in list_or_dict(ctx, &f.at("environment"), v) {
            if k.is_empty() {
                ctx.error(&f.at("environment"), "an entry has an empty variable name");
                continue;
            }
            // A name without a value takes it from the environment compose runs in.
            let val = val.or_else(|| env.vars.get(&k).cloned());
            environment.insert(k, val);
        }
    }
    s.environment = environment;

    let mut labels = BTreeMap::new();
    if let Some(v) = f.get("label_file") {
        let p = f.at("label_file");
        let files = match v {
            Value::String(one) => vec![(p.clone(), one.clone())],
            other => string_list(ctx, &p, other, false)
                .into_iter()
                .enumerate()
                .map(|(i, file)| (p.index(i), file))
                .collect(),
        };
        for (p, file) in files {
            let file = EnvFileRef {
                path: file,
                required: true,
                format: DotenvFormat::Compose,
            };
            labels.extend(read_file(ctx, env, &p, &file).unwrap_or_default());
        }
    }
    if let Some(v) = f.get("labels") {
        labels.extend(string_dict(ctx, &f.at("labels"), v));
    }
    s.labels = labels;
    if let Some(v) = f.get("sysctls") {
        s.sysctls = string_dict(ctx, &f.at("sysctls"), v);
    }
    if let Some(v) = f.get("annotations") {
        s.annotations = string_dict(ctx, &f.at("annotations"), v);
    }
}
