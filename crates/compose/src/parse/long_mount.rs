//! The long volume syntax (`{type, source, target, read_only, bind, volume, tmpfs, image}`)
//! with the options of each mount type, and Swarm-only types reported as unsupported.

use serde_yaml_ng::Value;

use super::Env;
use super::fields::{Fields, boolean, byte_size, integer, string, string_dict};
use super::mounts::{bind_source, container_path_ok};
use super::service::valid_name;
use crate::error::{Ctx, Path};
use crate::model::{
    BindMount, BindOptions, ImageMount, Mount, Propagation, Recursive, SeLinux, TmpfsMount,
    TmpfsOptions, VolumeMount, VolumeOptions,
};

fn octal_mode(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<u32> {
    match v {
        Value::String(s) => match u32::from_str_radix(s.trim_start_matches("0o"), 8) {
            Ok(m) => Some(m),
            Err(_) => {
                ctx.error(p, format!("{s:?} is not an octal file mode such as 0755"));
                None
            }
        },
        _ => integer(ctx, p, v, false).and_then(|m| u32::try_from(m).ok()),
    }
}

pub(super) fn long_volume(ctx: &mut Ctx, env: &Env<'_>, p: &Path, v: &Value) -> Option<Mount> {
    let keys = [
        "type",
        "source",
        "target",
        "read_only",
        "consistency",
        "bind",
        "volume",
        "tmpfs",
        "image",
    ];
    let f = Fields::new(ctx, p, v, &keys, false)?;
    let Some(ty) = f.with(ctx, "type", string) else {
        if f.get("type").is_none() {
            ctx.error(p, "type: is required (bind, volume, tmpfs or image)");
        }
        return None;
    };
    let source = f.with(ctx, "source", string);
    let target = f.with(ctx, "target", string);
    let read_only = f.with(ctx, "read_only", boolean).unwrap_or_default();
    if f.get("consistency").is_some() {
        ctx.warn(
            &f.at("consistency"),
            "only matters to Docker Desktop on macOS; ignored",
        );
    }
    for option in ["bind", "volume", "tmpfs", "image"] {
        if option != ty && f.get(option).is_some() {
            ctx.error(
                &f.at(option),
                format!("applies only to type: {option}, not type: {ty}"),
            );
        }
    }
    if matches!(ty.as_str(), "cluster" | "npipe") {
        ctx.unsupported(
            p,
            format!(
                "type: {ty} mounts (Swarm cluster volumes, Windows named pipes) are not supported"
            ),
        );
        return None;
    }
    let target = match target {
        Some(t) if container_path_ok(&t) => t,
        Some(t) => {
            ctx.error(
                &f.at("target"),
                format!("{t:?} must be an absolute path inside the container"),
            );
            return None;
        }
        None => {
            if f.get("target").is_none() {
                ctx.error(
                    p,
                    "target: is required: the absolute path inside the container",
                );
            }
            return None;
        }
    };
    let need_source = |ctx: &mut Ctx, source: Option<String>| {
        if source.is_none() && f.get("source").is_none() {
            ctx.error(p, format!("source: is required for type: {ty}"));
        }
        source
    };
    match ty.as_str() {
        "bind" => {
            let source = need_source(ctx, source)?;
            let bind = match f.get("bind") {
                Some(b) => bind_options(ctx, &f.at("bind"), b)?,
                None => BindOptions::default(),
            };
            Some(Mount::Bind(BindMount {
                source: bind_source(env, &source),
                target,
                read_only,
                bind,
            }))
        }
        "volume" => {
            let mut volume = VolumeOptions::default();
            if let Some(o) = f.get("volume") {
                let of = Fields::new(
                    ctx,
                    &f.at("volume"),
                    o,
                    &["labels", "nocopy", "subpath"],
                    false,
                )?;
                volume.nocopy = of.with(ctx, "nocopy", boolean).unwrap_or_default();
                volume.subpath = of.with(ctx, "subpath", string);
                volume.labels = of
                    .with(ctx, "labels", |c, p, v| Some(string_dict(c, p, v)))
                    .unwrap_or_default();
            }
            if let Some(src) = &source
                && !valid_name(src)
            {
                ctx.error(
                    &f.at("source"),
                    format!("{src:?} is not a volume name; use type: bind for host paths"),
                );
                return None;
            }
            Some(Mount::Volume(VolumeMount {
                source,
                target,
                read_only,
                volume,
            }))
        }
        "tmpfs" => {
            if source.is_some() {
                ctx.error(&f.at("source"), "a tmpfs mount has no source");
                return None;
            }
            let mut tmpfs = TmpfsOptions::default();
            if let Some(o) = f.get("tmpfs") {
                let of = Fields::new(ctx, &f.at("tmpfs"), o, &["size", "mode"], false)?;
                tmpfs.size = of.with(ctx, "size", |c, p, v| byte_size(c, p, v, true));
                tmpfs.mode = of.with(ctx, "mode", octal_mode);
            }
            Some(Mount::Tmpfs(TmpfsMount {
                target,
                read_only,
                tmpfs,
            }))
        }
        "image" => {
            let source = need_source(ctx, source)?;
            let subpath = match f.get("image") {
                Some(o) => Fields::new(ctx, &f.at("image"), o, &["subpath"], false)?
                    .with(ctx, "subpath", string),
                None => None,
            };
            Some(Mount::Image(ImageMount {
                source,
                target,
                read_only,
                subpath,
            }))
        }
        other => {
            ctx.error(
                &f.at("type"),
                format!("{other:?} is not a mount type; use bind, volume, tmpfs or image"),
            );
            None
        }
    }
}

fn bind_options(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<BindOptions> {
    let f = Fields::new(
        ctx,
        p,
        v,
        &["propagation", "create_host_path", "recursive", "selinux"],
        false,
    )?;
    let propagation = match f.with(ctx, "propagation", string) {
        Some(s) => match Propagation::parse(&s) {
            Some(prop) => Some(prop),
            None => {
                ctx.error(&f.at("propagation"), format!("{s:?} is not a propagation; use shared, slave, private, rshared, rslave or rprivate"));
                None
            }
        },
        None => None,
    };
    let recursive = match f.with(ctx, "recursive", string).as_deref() {
        None => None,
        Some("enabled") => Some(Recursive::Enabled),
        Some("disabled") => Some(Recursive::Disabled),
        Some("writable") => Some(Recursive::Writable),
        Some("readonly") => Some(Recursive::Readonly),
        Some(other) => {
            ctx.error(
                &f.at("recursive"),
                format!("{other:?} is not valid; use enabled, disabled, writable or readonly"),
            );
            None
        }
    };
    let selinux = match f.with(ctx, "selinux", string).as_deref() {
        None => None,
        Some("z") => Some(SeLinux::Shared),
        Some("Z") => Some(SeLinux::Private),
        Some(other) => {
            ctx.error(
                &f.at("selinux"),
                format!("{other:?} is not valid; use z or Z"),
            );
            None
        }
    };
    let create_host_path = f.with(ctx, "create_host_path", boolean).unwrap_or_default();
    Some(BindOptions {
        propagation,
        create_host_path,
        selinux,
        recursive,
    })
}
