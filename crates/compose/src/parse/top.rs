//! Top-level volumes, secrets and configs, and the references services make to secrets
//! and configs (short `name` or long `{source, target, uid, gid, mode}`).

use serde_yaml_ng::Value;

use super::fields::{Fields, string, string_dict};
use super::networks::external;
use crate::error::{Ctx, Path};
use crate::model::{FileReference, FileSource, Secret, Service, Volume};
use crate::yaml::kind;

fn mode(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<u32> {
    let parsed = match v {
        Value::Number(n) => n.as_u64().and_then(|m| u32::try_from(m).ok()),
        // Written as a string, a mode is octal, as in chmod.
        Value::String(s) => u32::from_str_radix(s.trim_start_matches("0o"), 8).ok(),
        other => {
            ctx.error(
                p,
                format!("must be a file mode such as 0440, not {}", kind(other)),
            );
            return None;
        }
    };
    if parsed.is_none() {
        ctx.error(p, "is not a file mode; write it in octal such as \"0440\"");
    }
    parsed
}

fn references(ctx: &mut Ctx, p: &Path, v: &Value) -> Vec<FileReference> {
    let Value::Sequence(items) = v else {
        ctx.error(p, format!("must be a list, not {}", kind(v)));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        match item {
            Value::String(s) => out.push(FileReference {
                source: s.clone(),
                target: None,
                uid: None,
                gid: None,
                mode: None,
            }),
            Value::Mapping(_) => {
                let Some(f) = Fields::new(
                    ctx,
                    &ip,
                    item,
                    &["source", "target", "uid", "gid", "mode"],
                    false,
                ) else {
                    continue;
                };
                let Some(source) = f.with(ctx, "source", string) else {
                    if f.get("source").is_none() {
                        ctx.error(&ip, "source: is required: the key of the top-level entry");
                    }
                    continue;
                };
                out.push(FileReference {
                    source,
                    target: f.with(ctx, "target", string),
                    uid: f.with(ctx, "uid", string),
                    gid: f.with(ctx, "gid", string),
                    mode: f.with(ctx, "mode", mode),
                });
            }
            other => ctx.error(
                &ip,
                format!("must be a name or a mapping, not {}", kind(other)),
            ),
        }
    }
    out
}

/// Reads a service's `secrets` and `configs`.
pub(crate) fn read_references(ctx: &mut Ctx, f: &Fields<'_>, s: &mut Service) {
    if let Some(v) = f.get("secrets") {
        s.secrets = references(ctx, &f.at("secrets"), v);
    }
    if let Some(v) = f.get("configs") {
        s.configs = references(ctx, &f.at("configs"), v);
    }
}

/// Reads a top-level volume.
pub(crate) fn volume(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Volume> {
    let f = Fields::new(
        ctx,
        p,
        v,
        &["name", "driver", "driver_opts", "external", "labels"],
        true,
    )?;
    let mut name = f.with(ctx, "name", string);
    let external = f
        .with(ctx, "external", |c, p, v| {
            Some(external(c, p, v, &mut name))
        })
        .unwrap_or_default();
    if external {
        for key in ["driver", "driver_opts"] {
            if f.get(key).is_some() {
                ctx.error(
                    &f.at(key),
                    "an external volume is not created, so it takes no driver or driver_opts",
                );
            }
        }
    }
    Some(Volume {
        name,
        driver: f.with(ctx, "driver", string),
        driver_opts: f
            .with(ctx, "driver_opts", |c, p, v| {
                Some(super::fields::options(c, p, v))
            })
            .unwrap_or_default(),
        external,
        labels: f
            .with(ctx, "labels", |c, p, v| Some(string_dict(c, p, v)))
            .unwrap_or_default(),
    })
}

/// Reads a top-level secret (`config` false) or config (`config` true).
pub(crate) fn secret(ctx: &mut Ctx, p: &Path, v: &Value, config: bool) -> Option<Secret> {
    let keys: &[&str] = if config {
        &[
            "name",
            "content",
            "environment",
            "file",
            "external",
            "labels",
            "template_driver",
        ]
    } else {
        &[
            "name",
            "environment",
            "file",
            "external",
            "labels",
            "driver",
            "driver_opts",
            "template_driver",
        ]
    };
    let what = if config { "config" } else { "secret" };
    let f = Fields::new(ctx, p, v, keys, false)?;
    let mut name = f.with(ctx, "name", string);
    let mut sources = Vec::new();
    if let Some(file) = f.with(ctx, "file", string) {
        sources.push(FileSource::File(file));
    }
    if let Some(var) = f.with(ctx, "environment", string) {
        sources.push(FileSource::Environment(var));
    }
    if let Some(content) = f.with(ctx, "content", string) {
        sources.push(FileSource::Content(content));
    }
    let ext = f
        .with(ctx, "external", |c, p, v| {
            Some(external(c, p, v, &mut name))
        })
        .unwrap_or_default();
    if ext {
        ctx.unsupported(
            &f.at("external"),
            format!(
                "external {what}s are Swarm objects; use file:, environment:{} instead",
                if config { " or content:" } else { "" }
            ),
        );
        sources.push(FileSource::External(true));
    }
    for key in ["driver", "driver_opts", "template_driver"] {
        if f.get(key).is_some() {
            ctx.unsupported(
                &f.at(key),
                format!("{what} drivers and templates are Swarm features and are not carried"),
            );
        }
    }
    let source = match sources.len() {
        1 => sources.remove(0),
        0 => {
            let options = if config {
                "file:, environment:, content: or external:"
            } else {
                "file:, environment: or external:"
            };
            ctx.error(p, format!("a {what} needs one of {options}"));
            return None;
        }
        _ => {
            ctx.error(
                p,
                format!("a {what} takes only one of file:, environment:, content: and external:"),
            );
            return None;
        }
    };
    Some(Secret {
        name,
        source,
        labels: f
            .with(ctx, "labels", |c, p, v| Some(string_dict(c, p, v)))
            .unwrap_or_default(),
    })
}
