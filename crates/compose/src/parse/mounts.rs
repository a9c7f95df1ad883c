//! Mounts of a service: `volumes` in short (`src:dst:ro,z`) and long syntax, with bind
//! paths told apart from named and anonymous volumes; `volumes_from` and `devices`.

use serde_yaml_ng::Value;

use super::Env;
use super::fields::{Fields, check_unique, string, string_list};
use super::service::valid_name;
use crate::error::{Ctx, Path};
use crate::model::{
    BindMount, BindOptions, Device, Mount, Propagation, SeLinux, Service, VolumeMount,
    VolumeOptions, VolumesFrom,
};
use crate::relpath::{is_absolute, join};
use crate::yaml::kind;

const VOLUME_SYNTAX: &str =
    "use [SOURCE:]TARGET[:MODE] with an absolute TARGET, e.g. ./data:/data:ro or cache:/var/cache";

pub(super) fn is_path(src: &str) -> bool {
    src.starts_with('.') || is_absolute(src)
}

pub(super) fn container_path_ok(target: &str) -> bool {
    target.starts_with('/') || (is_absolute(target) && !target.starts_with('~'))
}

/// A bind source as the engine needs it: absolute when the project directory is known.
pub(super) fn bind_source(env: &Env<'_>, src: &str) -> String {
    match env.project_dir {
        Some(dir) if !is_absolute(src) => join(dir, src),
        _ => src.to_owned(),
    }
}

/// Splits `SRC:DST:MODE`, keeping a Windows drive letter (`C:\x`) inside the source.
fn split_volume(spec: &str) -> Vec<&str> {
    let b = spec.as_bytes();
    let drive = b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'\\' || b[2] == b'/');
    if !drive {
        return spec.split(':').collect();
    }
    let mut parts: Vec<&str> = spec[2..].split(':').collect();
    let first_len = 2 + parts[0].len();
    parts[0] = &spec[..first_len];
    parts
}

fn short_volume(ctx: &mut Ctx, env: &Env<'_>, p: &Path, spec: &str) -> Option<Mount> {
    let bad = |ctx: &mut Ctx, why: &str| {
        ctx.error(
            p,
            format!("{spec:?} is not a valid volume{why}; {VOLUME_SYNTAX}"),
        )
    };
    let parts = split_volume(spec);
    let (src, target, mode) = match parts.as_slice() {
        [t] => (None, *t, ""),
        [s, t] => (Some(*s), *t, ""),
        [s, t, m] => (Some(*s), *t, *m),
        _ => {
            bad(ctx, "");
            return None;
        }
    };
    if target.is_empty() || src == Some("") {
        bad(ctx, "");
        return None;
    }
    if !container_path_ok(target) {
        bad(
            ctx,
            &format!(": the target {target:?} must be an absolute path"),
        );
        return None;
    }
    let (mut read_only, mut nocopy, mut selinux, mut propagation) = (false, false, None, None);
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "z" => selinux = Some(SeLinux::Shared),
            "Z" => selinux = Some(SeLinux::Private),
            "nocopy" | "volume-nocopy" => nocopy = true,
            "cached" | "delegated" | "consistent" => {
                ctx.warn(
                    p,
                    format!("mode {m:?} only matters to Docker Desktop on macOS; ignored"),
                );
            }
            other => match Propagation::parse(other) {
                Some(prop) => propagation = Some(prop),
                None => {
                    bad(
                        ctx,
                        &format!(
                            ": unknown mode {other:?} (use ro, rw, z, Z, nocopy or a propagation such as rshared)"
                        ),
                    );
                    return None;
                }
            },
        }
    }
    let Some(src) = src else {
        return Some(Mount::Volume(VolumeMount {
            source: None,
            target: target.to_owned(),
            read_only,
            volume: VolumeOptions {
                nocopy,
                ..VolumeOptions::default()
            },
        }));
    };
    if is_path(src) {
        if nocopy {
            bad(ctx, ": nocopy applies only to named volumes");
            return None;
        }
        return Some(Mount::Bind(BindMount {
            source: bind_source(env, src),
            target: target.to_owned(),
            read_only,
            bind: BindOptions {
                propagation,
                create_host_path: true,
                selinux,
                recursive: None,
            },
        }));
    }
    if !valid_name(src) {
        bad(
            ctx,
            &format!(": {src:?} is neither a path (start it with ./ or /) nor a volume name"),
        );
        return None;
    }
    if propagation.is_some() || selinux.is_some() {
        bad(ctx, ": propagation and z/Z apply only to bind mounts");
        return None;
    }
    Some(Mount::Volume(VolumeMount {
        source: Some(src.to_owned()),
        target: target.to_owned(),
        read_only,
        volume: VolumeOptions {
            nocopy,
            ..VolumeOptions::default()
        },
    }))
}

fn device(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Device> {
    let d = match v {
        Value::String(spec) => {
            let mut parts = spec.splitn(3, ':');
            let source = parts.next().unwrap_or_default().to_owned();
            Device {
                source,
                target: parts.next().map(str::to_owned),
                permissions: parts.next().map(str::to_owned),
            }
        }
        Value::Mapping(_) => {
            let f = Fields::new(ctx, p, v, &["source", "target", "permissions"], false)?;
            let source = f.with(ctx, "source", string);
            if f.get("source").is_none() {
                ctx.error(p, "source: is required");
            }
            Device {
                source: source?,
                target: f.with(ctx, "target", string),
                permissions: f.with(ctx, "permissions", string),
            }
        }
        other => {
            ctx.error(
                p,
                format!(
                    "must be SOURCE[:TARGET[:PERMISSIONS]] or a mapping, not {}",
                    kind(other)
                ),
            );
            return None;
        }
    };
    let perms_ok = d
        .permissions
        .as_deref()
        .is_none_or(|s| !s.is_empty() && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm')));
    if d.source.is_empty() || !perms_ok {
        ctx.error(p, "is not a valid device; use SOURCE[:TARGET[:PERMISSIONS]] with permissions made of r, w and m");
        return None;
    }
    Some(d)
}

/// Reads `volumes`, `volumes_from` and `devices`.
pub(crate) fn read(ctx: &mut Ctx, env: &Env<'_>, f: &Fields<'_>, s: &mut Service) {
    if let Some(v) = f.get("volumes") {
        let path = f.at("volumes");
        match v {
            Value::Sequence(items) => {
                check_unique(ctx, &path, items);
                for (i, item) in items.iter().enumerate() {
                    let p = path.index(i);
                    let mount = match item {
                        Value::String(spec) => short_volume(ctx, env, &p, spec),
                        Value::Mapping(_) => super::long_mount::long_volume(ctx, env, &p, item),
                        other => {
                            ctx.error(
                                &p,
                                format!("must be a string or a mapping, not {}", kind(other)),
                            );
                            None
                        }
                    };
                    s.volumes.extend(mount);
                }
            }
            other => ctx.error(&path, format!("must be a list, not {}", kind(other))),
        }
    }
    if let Some(v) = f.get("volumes_from") {
        let path = f.at("volumes_from");
        for (i, entry) in string_list(ctx, &path, v, true).into_iter().enumerate() {
            match entry.parse::<VolumesFrom>() {
                Ok(vf) => s.volumes_from.push(vf),
                Err(e) => ctx.error(&path.index(i), e),
            }
        }
    }
    if let Some(v) = f.get("devices") {
        let path = f.at("devices");
        match v {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    s.devices.extend(device(ctx, &path.index(i), item));
                }
            }
            other => ctx.error(&path, format!("must be a list, not {}", kind(other))),
        }
    }
}
