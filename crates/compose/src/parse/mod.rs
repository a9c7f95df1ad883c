//! From the merged YAML tree to the typed [`Project`]: the top-level sections here, one
//! module per family of service fields beside it.

mod deploy;
mod environment;
pub(crate) mod fields;
mod lifecycle;
mod long_mount;
mod mounts;
mod networks;
mod ports;
mod scalar;
pub(crate) mod service;
mod top;
mod unsupported;

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

use crate::error::{Ctx, Path};
use crate::load::FileReader;
use crate::model::Project;
use fields::{Fields, string};
use service::valid_name;

/// What typed parsing needs from the caller besides the tree.
pub(crate) struct Env<'a> {
    /// Reads `env_file` and `label_file` contents.
    pub(crate) reader: &'a dyn FileReader,
    /// Variables for `KEY` entries without a value.
    pub(crate) vars: &'a BTreeMap<String, String>,
    /// The absolute project directory, to make bind sources absolute.
    pub(crate) project_dir: Option<&'a str>,
}

/// Keys compose allows at the top of a file (`include` is resolved before parsing).
pub(crate) const TOP_KEYS: &[&str] = &[
    "version", "name", "include", "services", "models", "networks", "volumes", "secrets", "configs",
];

/// True for a valid compose project name: lowercase letters, digits, `-` and `_`,
/// starting with a letter or digit.
pub(crate) fn valid_project_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn section<'v, T>(
    ctx: &mut Ctx,
    f: &Fields<'v>,
    key: &str,
    mut read: impl FnMut(&mut Ctx, &Path, &'v Value) -> Option<T>,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    let Some(v) = f.get(key) else { return out };
    let p = f.at(key);
    let Value::Mapping(m) = v else {
        ctx.error(
            &p,
            format!(
                "must be a mapping of names to definitions, not {}",
                crate::yaml::kind(v)
            ),
        );
        return out;
    };
    for (k, def) in m {
        let name = k.as_str().unwrap_or_default();
        let np = p.key(name);
        if !valid_name(name) {
            ctx.error(&np, "is not a valid name; use letters, digits, ., _ and -");
            continue;
        }
        if let Some(t) = read(ctx, &np, def) {
            out.insert(name.to_owned(), t);
        }
    }
    out
}

/// Parses the merged, tag-free tree. Returns the file's `name:` and every service,
/// whatever its profiles.
pub(crate) fn project(ctx: &mut Ctx, env: &Env<'_>, doc: &Value) -> (Option<String>, Project) {
    let root = Path::root();
    let Some(f) = Fields::new(ctx, &root, doc, TOP_KEYS, false) else {
        return (None, Project::default());
    };
    if f.with(ctx, "version", string).is_some() {
        ctx.warn(&f.at("version"), "is obsolete and ignored; remove it");
    }
    let name = f.with(ctx, "name", |c, p, v| {
        let name = string(c, p, v)?;
        if valid_project_name(&name) {
            Some(name)
        } else {
            c.error(p, format!("{name:?} is not a valid project name; use lowercase letters, digits, - and _, starting with a letter or digit"));
            None
        }
    });
    if f.get("models").is_some() {
        ctx.unsupported(
            &f.at("models"),
            "AI models (Docker Model Runner) are not supported",
        );
    }
    let project = Project {
        services: section(ctx, &f, "services", |c, p, v| {
            service::service(c, env, p, v)
        }),
        networks: section(ctx, &f, "networks", networks::network),
        volumes: section(ctx, &f, "volumes", top::volume),
        secrets: section(ctx, &f, "secrets", |c, p, v| top::secret(c, p, v, false)),
        configs: section(ctx, &f, "configs", |c, p, v| top::secret(c, p, v, true)),
    };
    (name, project)
}
