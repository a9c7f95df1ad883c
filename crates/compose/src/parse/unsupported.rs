//! Service fields the model reads (and checks) but the provider cannot run: each one
//! found is reported as [`crate::Unsupported`] with the reason, never dropped silently.

use serde_yaml_ng::Value;

use super::fields::{
    Fields, boolean, integer, list_or_dict, number, strict_boolean, string, string_list,
};
use crate::error::{Ctx, Path};
use crate::model::{Build, PullPolicy, Service};
use crate::yaml::kind;

const BUILD_KEYS: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "provenance",
    "sbom",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
];

/// Why each unsupported service field cannot be carried, by key.
const REASONS: &[(&str, &str)] = &[
    (
        "develop",
        "watch mode is a docker compose CLI feature with no effect on a provider-managed service",
    ),
    (
        "provider",
        "services run by an external provider plugin are not supported",
    ),
    (
        "models",
        "AI models (Docker Model Runner) are not supported",
    ),
    (
        "post_start",
        "lifecycle hooks are not supported; run the command from the entrypoint instead",
    ),
    (
        "pre_stop",
        "lifecycle hooks are not supported; handle the stop signal in the container instead",
    ),
    (
        "attach",
        "log attachment is a docker compose CLI setting with no effect on the provider",
    ),
    (
        "use_api_socket",
        "mounting the Docker API socket with credentials is not supported; bind-mount the socket explicitly if you must",
    ),
    (
        "credential_spec",
        "Windows credential specs are not supported",
    ),
    (
        "links",
        "links are legacy and not carried; services on a shared network reach each other by service name",
    ),
    (
        "external_links",
        "external links are not supported; attach the other container to a shared network instead",
    ),
    (
        "blkio_config",
        "block IO weights and limits are not supported yet",
    ),
    (
        "cpu_count",
        "cpu_count is Windows-only and not supported; use cpus",
    ),
    (
        "cpu_percent",
        "cpu_percent is Windows-only and not supported; use cpus",
    ),
    ("cpu_rt_period", "real-time CPU scheduling is not supported"),
    (
        "cpu_rt_runtime",
        "real-time CPU scheduling is not supported",
    ),
    (
        "device_cgroup_rules",
        "device cgroup rules are not supported yet; use devices",
    ),
    (
        "isolation",
        "container isolation technologies (Windows) are not supported",
    ),
    (
        "pull_refresh_after",
        "pull_refresh_after is not supported; use pull_policy: daily, weekly or every_<duration>",
    ),
];

fn build(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Build> {
    match v {
        Value::String(context) => Some(Build {
            context: Some(context.clone()),
            ..Build::default()
        }),
        Value::Mapping(_) => {
            let f = Fields::new(ctx, p, v, BUILD_KEYS, false)?;
            for key in [
                "entitlements",
                "cache_from",
                "cache_to",
                "tags",
                "platforms",
            ] {
                f.with(ctx, key, |c, p, v| Some(string_list(c, p, v, false)));
            }
            for key in ["ssh", "labels", "additional_contexts"] {
                f.with(ctx, key, |c, p, v| Some(list_or_dict(c, p, v)));
            }
            for key in ["no_cache", "pull", "privileged", "provenance", "sbom"] {
                f.with(ctx, key, |c, p, v| match v {
                    Value::String(_) => None,
                    other => boolean(c, p, other),
                });
            }
            for key in ["network", "isolation"] {
                f.with(ctx, key, string);
            }
            Some(Build {
                context: f.with(ctx, "context", string),
                dockerfile: f.with(ctx, "dockerfile", string),
                dockerfile_inline: f.with(ctx, "dockerfile_inline", string),
                target: f.with(ctx, "target", string),
                args: f
                    .with(ctx, "args", |c, p, v| {
                        Some(list_or_dict(c, p, v).into_iter().collect())
                    })
                    .unwrap_or_default(),
            })
        }
        other => {
            ctx.error(
                p,
                format!("must be a path or a mapping, not {}", kind(other)),
            );
            None
        }
    }
}

/// Checks the shape of an unsupported field as far as the schema does.
fn check_shape(ctx: &mut Ctx, key: &str, p: &Path, v: &Value) {
    match key {
        "links" | "external_links" | "device_cgroup_rules" => {
            string_list(ctx, p, v, true);
        }
        "use_api_socket" => {
            strict_boolean(ctx, p, v);
        }
        "attach" => {
            boolean(ctx, p, v);
        }
        "isolation" | "pull_refresh_after" => {
            string(ctx, p, v);
        }
        "cpu_count" | "cpu_percent" if !v.is_string() => {
            let max = if key == "cpu_percent" { 100 } else { i64::MAX };
            if let Some(n) = integer(ctx, p, v, false)
                && !(0..=max).contains(&n)
            {
                ctx.error(p, format!("{n} is out of range; use 0 to {max}"));
            }
        }
        "cpu_rt_period" | "cpu_rt_runtime" if !v.is_string() => {
            number(ctx, p, v, false);
        }
        "credential_spec" => {
            if let Some(f) = Fields::new(ctx, p, v, &["config", "file", "registry"], false) {
                for k in ["config", "file", "registry"] {
                    f.with(ctx, k, string);
                }
            }
        }
        "blkio_config" => {
            let keys = [
                "device_read_bps",
                "device_read_iops",
                "device_write_bps",
                "device_write_iops",
                "weight",
                "weight_device",
            ];
            Fields::new(ctx, p, v, &keys, false);
        }
        "provider" => {
            if let Some(f) = Fields::new(ctx, p, v, &["type", "options"], false)
                && f.with(ctx, "type", string).is_none()
                && f.get("type").is_none()
            {
                ctx.error(p, "type: is required");
            }
        }
        "develop" => {
            Fields::new(ctx, p, v, &["watch"], true);
        }
        "post_start" | "pre_stop" => match v {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    let keys = [
                        "command",
                        "user",
                        "privileged",
                        "working_dir",
                        "environment",
                    ];
                    if let Some(f) = Fields::new(ctx, &p.index(i), item, &keys, false)
                        && f.get("command").is_none()
                    {
                        ctx.error(&p.index(i), "command: is required");
                    }
                }
            }
            other => ctx.error(p, format!("must be a list, not {}", kind(other))),
        },
        "models" if !matches!(v, Value::Sequence(_) | Value::Mapping(_)) => {
            ctx.error(p, format!("must be a list or a mapping, not {}", kind(v)));
        }
        _ => {}
    }
}

/// Reads `build` into the model and reports it and every other unsupported field.
pub(crate) fn read(ctx: &mut Ctx, f: &Fields<'_>, s: &mut Service) {
    if let Some(v) = f.get("build") {
        s.build = build(ctx, &f.at("build"), v);
        let reason = if s.image.is_some() {
            "the provider cannot build images; the image: is pulled instead, so build and push it first"
        } else {
            "the provider cannot build images; build and push the image, then set image:"
        };
        ctx.unsupported(&f.at("build"), reason);
    }
    if s.pull_policy == Some(PullPolicy::Build) {
        ctx.unsupported(
            &f.at("pull_policy"),
            "pull_policy: build needs a build; the provider pulls images only",
        );
    }
    for (key, reason) in REASONS {
        if let Some(v) = f.get(key) {
            let p = f.at(key);
            check_shape(ctx, key, &p, v);
            ctx.unsupported(&p, *reason);
        }
    }
}
