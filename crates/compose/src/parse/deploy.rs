//! `deploy:` as the provider runs it: replicas, resource limits and reservations (device
//! requests such as GPUs), the restart policy; Swarm-only settings are reported.

use serde_yaml_ng::Value;

use super::fields::{
    Fields, byte_size, count, duration, integer, number, string, string_dict, string_list,
};
use crate::error::{Ctx, Path};
use crate::model::{
    AllDevices, Deploy, DeviceCount, DeviceRequest, ResourceLimits, ResourceReservations,
    RestartPolicy, Service,
};
use crate::yaml::kind;

fn device_request(
    ctx: &mut Ctx,
    p: &Path,
    v: &Value,
    need_capabilities: bool,
) -> Option<DeviceRequest> {
    let f = Fields::new(
        ctx,
        p,
        v,
        &["capabilities", "count", "device_ids", "driver", "options"],
        false,
    )?;
    if need_capabilities && f.get("capabilities").is_none() {
        ctx.error(p, "capabilities: is required, e.g. [gpu]");
    }
    let count = f.with(ctx, "count", |c, p, v| match v {
        Value::String(s) if s == "all" => Some(DeviceCount::All(AllDevices::All)),
        other => count(c, p, other, true).map(DeviceCount::Count),
    });
    Some(DeviceRequest {
        capabilities: f
            .with(ctx, "capabilities", |c, p, v| {
                Some(string_list(c, p, v, true))
            })
            .unwrap_or_default(),
        count,
        device_ids: f
            .with(ctx, "device_ids", |c, p, v| {
                Some(string_list(c, p, v, true))
            })
            .unwrap_or_default(),
        driver: f.with(ctx, "driver", string),
        options: f
            .with(ctx, "options", |c, p, v| Some(string_dict(c, p, v)))
            .unwrap_or_default(),
    })
}

pub(super) fn device_requests(
    ctx: &mut Ctx,
    p: &Path,
    v: &Value,
    need_capabilities: bool,
) -> Vec<DeviceRequest> {
    match v {
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| device_request(ctx, &p.index(i), item, need_capabilities))
            .collect(),
        other => {
            ctx.error(p, format!("must be a list, not {}", kind(other)));
            Vec::new()
        }
    }
}

pub(super) fn deploy(ctx: &mut Ctx, p: &Path, v: &Value, s: &mut Service) -> Option<Deploy> {
    let keys = [
        "mode",
        "endpoint_mode",
        "replicas",
        "labels",
        "rollback_config",
        "update_config",
        "resources",
        "restart_policy",
        "placement",
    ];
    let f = Fields::new(ctx, p, v, &keys, true)?;
    match f.with(ctx, "mode", string).as_deref() {
        None | Some("replicated") => {}
        Some(mode @ ("global" | "replicated-job" | "global-job")) => {
            ctx.unsupported(&f.at("mode"), format!("deploy mode {mode:?} is a Swarm mode; the provider runs replicated services on one daemon"));
        }
        Some(other) => ctx.error(
            &f.at("mode"),
            format!("{other:?} is not a deploy mode; use replicated"),
        ),
    }
    for key in [
        "endpoint_mode",
        "labels",
        "rollback_config",
        "update_config",
        "placement",
    ] {
        if f.get(key).is_some() {
            ctx.unsupported(
                &f.at(key),
                format!("deploy.{key} only applies to Swarm and is not carried"),
            );
        }
    }
    let mut out = Deploy {
        replicas: f.with(ctx, "replicas", |c, p, v| count(c, p, v, true)),
        ..Deploy::default()
    };
    if let Some(r) = f.get("resources") {
        let rp = f.at("resources");
        if let Some(rf) = Fields::new(ctx, &rp, r, &["limits", "reservations"], false) {
            out.resources.limits = rf.with(ctx, "limits", |c, p, v| {
                let lf = Fields::new(c, p, v, &["cpus", "memory", "pids"], false)?;
                Some(ResourceLimits {
                    cpus: lf.with(c, "cpus", |c, p, v| number(c, p, v, true)),
                    memory: lf.with(c, "memory", |c, p, v| byte_size(c, p, v, false)),
                    pids: lf.with(c, "pids", |c, p, v| integer(c, p, v, true)),
                })
            });
            out.resources.reservations = rf.with(ctx, "reservations", |c, p, v| {
                let rf = Fields::new(
                    c,
                    p,
                    v,
                    &["cpus", "memory", "generic_resources", "devices"],
                    false,
                )?;
                if rf.get("generic_resources").is_some() {
                    c.unsupported(
                        &rf.at("generic_resources"),
                        "generic resources are a Swarm notion and are not carried",
                    );
                }
                Some(ResourceReservations {
                    cpus: rf.with(c, "cpus", |c, p, v| number(c, p, v, true)),
                    memory: rf.with(c, "memory", |c, p, v| byte_size(c, p, v, false)),
                    devices: rf
                        .with(c, "devices", |c, p, v| Some(device_requests(c, p, v, true)))
                        .unwrap_or_default(),
                })
            });
        }
    }
    if let Some(rp) = f.get("restart_policy") {
        restart_policy(ctx, &f.at("restart_policy"), rp, s);
    }
    Some(out)
}

/// `deploy.restart_policy` sets the container restart policy when `restart` does not.
fn restart_policy(ctx: &mut Ctx, p: &Path, v: &Value, s: &mut Service) {
    let Some(f) = Fields::new(
        ctx,
        p,
        v,
        &["condition", "delay", "max_attempts", "window"],
        false,
    ) else {
        return;
    };
    let max = f.with(ctx, "max_attempts", |c, p, v| count(c, p, v, true));
    for key in ["delay", "window"] {
        if f.with(ctx, key, duration).is_some() {
            ctx.unsupported(
                &f.at(key),
                format!(
                    "restart_policy.{key} is a Swarm setting; Docker restarts with its own back-off"
                ),
            );
        }
    }
    let policy = match f.with(ctx, "condition", string).as_deref() {
        None | Some("any") => RestartPolicy::Always,
        Some("on-failure") => RestartPolicy::OnFailure { max_retries: max },
        Some("none") => RestartPolicy::No,
        Some(other) => {
            ctx.error(
                &f.at("condition"),
                format!("{other:?} is not a restart condition; use none, on-failure or any"),
            );
            return;
        }
    };
    if s.restart.is_none() {
        s.restart = Some(policy);
    } else if s.restart != Some(policy) {
        ctx.warn(p, "restart: is set too and takes precedence");
    }
}
