//! Reads one service definition into [`Service`]: the field list compose allows, the
//! simple scalar fields, and dispatch to the modules for the structured ones.

use serde_yaml_ng::Value;

use super::fields::{
    Fields, boolean, byte_size, count, duration, integer, number, string, string_list,
    string_or_list,
};
use super::{Env, environment, lifecycle, mounts, networks, ports, top, unsupported};
use crate::error::{Ctx, Path};
use crate::model::{CgroupNamespace, PullPolicy, Service};

/// Every key the compose specification allows in a service.
pub(crate) const SERVICE_KEYS: &[&str] = &[
    "develop",
    "deploy",
    "annotations",
    "attach",
    "build",
    "blkio_config",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_shares",
    "cpu_quota",
    "cpu_period",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "label_file",
    "environment",
    "expose",
    "extends",
    "provider",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "network_mode",
    "models",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "security_opt",
    "shm_size",
    "secrets",
    "sysctls",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "uts",
    "userns_mode",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// True for names compose accepts as keys of services, volumes, secrets and configs.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn container_name(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<String> {
    let name = string(ctx, path, v)?;
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Some(name)
    } else {
        ctx.error(path, format!("{name:?} is not a valid container name; use letters, digits, _, . and -, starting with a letter or digit"));
        None
    }
}

fn command(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Null => None,
        Value::String(s) => match crate::shell::split(s) {
            Ok(words) => Some(words),
            Err(e) => {
                ctx.error(
                    path,
                    format!("{e}; close the quote or write the command as a list"),
                );
                None
            }
        },
        other => Some(string_list(ctx, path, other, false)),
    }
}

fn parsed<T: std::str::FromStr<Err = String>>(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<T> {
    let s = string(ctx, path, v)?;
    match s.parse() {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.error(path, e);
            None
        }
    }
}

fn namespace_mode(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<String> {
    let mode = string(ctx, path, v)?;
    if mode == "service:" || mode == "container:" {
        ctx.error(
            path,
            format!("{mode:?} names no {}", mode.trim_end_matches(':')),
        );
        return None;
    }
    Some(mode)
}

/// Reads the service `name` at `path`; `None` when it is not a mapping at all. Problems
/// in single fields are recorded and the field left unset, so that one pass finds them all.
pub(crate) fn service(ctx: &mut Ctx, env: &Env<'_>, path: &Path, value: &Value) -> Option<Service> {
    let f = Fields::new(ctx, path, value, SERVICE_KEYS, true)?;
    Some(read(ctx, env, &f))
}

fn read(ctx: &mut Ctx, env: &Env<'_>, f: &Fields<'_>) -> Service {
    let mut s = Service {
        image: f.with(ctx, "image", string),
        pull_policy: f.with(ctx, "pull_policy", parsed::<PullPolicy>),
        platform: f.with(ctx, "platform", string),
        container_name: f.with(ctx, "container_name", container_name),
        hostname: f.with(ctx, "hostname", string),
        domainname: f.with(ctx, "domainname", string),
        profiles: f
            .with(ctx, "profiles", |c, p, v| Some(string_list(c, p, v, true)))
            .unwrap_or_default(),
        entrypoint: f.with(ctx, "entrypoint", command),
        command: f.with(ctx, "command", command),
        working_dir: f.with(ctx, "working_dir", string),
        user: f.with(ctx, "user", string),
        init: f.with(ctx, "init", boolean),
        tty: f.with(ctx, "tty", boolean).unwrap_or_default(),
        stdin_open: f.with(ctx, "stdin_open", boolean).unwrap_or_default(),
        stop_signal: f.with(ctx, "stop_signal", string),
        stop_grace_period: f.with(ctx, "stop_grace_period", duration),
        restart: f.with(ctx, "restart", parsed),
        scale: f.with(ctx, "scale", |c, p, v| count(c, p, v, true)),
        mac_address: f.with(ctx, "mac_address", string),
        tmpfs: f
            .with(ctx, "tmpfs", |c, p, v| Some(string_or_list(c, p, v)))
            .unwrap_or_default(),
        shm_size: f.with(ctx, "shm_size", |c, p, v| byte_size(c, p, v, true)),
        read_only: f.with(ctx, "read_only", boolean).unwrap_or_default(),
        privileged: f.with(ctx, "privileged", boolean).unwrap_or_default(),
        cap_add: f
            .with(ctx, "cap_add", |c, p, v| Some(string_list(c, p, v, true)))
            .unwrap_or_default(),
        cap_drop: f
            .with(ctx, "cap_drop", |c, p, v| Some(string_list(c, p, v, true)))
            .unwrap_or_default(),
        security_opt: f
            .with(ctx, "security_opt", |c, p, v| {
                Some(string_list(c, p, v, true))
            })
            .unwrap_or_default(),
        dns: f
            .with(ctx, "dns", |c, p, v| Some(string_or_list(c, p, v)))
            .unwrap_or_default(),
        dns_search: f
            .with(ctx, "dns_search", |c, p, v| Some(string_or_list(c, p, v)))
            .unwrap_or_default(),
        dns_opt: f
            .with(ctx, "dns_opt", |c, p, v| Some(string_list(c, p, v, true)))
            .unwrap_or_default(),
        ipc: f.with(ctx, "ipc", namespace_mode),
        pid: f.with(ctx, "pid", |c, p, v| {
            if v.is_null() {
                None
            } else {
                namespace_mode(c, p, v)
            }
        }),
        uts: f.with(ctx, "uts", string),
        userns_mode: f.with(ctx, "userns_mode", string),
        cgroup: f.with(ctx, "cgroup", |c, p, v| match string(c, p, v)?.as_str() {
            "host" => Some(CgroupNamespace::Host),
            "private" => Some(CgroupNamespace::Private),
            other => {
                c.error(
                    p,
                    format!("{other:?} is not a cgroup namespace; use host or private"),
                );
                None
            }
        }),
        cgroup_parent: f.with(ctx, "cgroup_parent", string),
        runtime: f.with(ctx, "runtime", string),
        oom_kill_disable: f.with(ctx, "oom_kill_disable", boolean).unwrap_or_default(),
        oom_score_adj: f.with(ctx, "oom_score_adj", |c, p, v| {
            let n = integer(c, p, v, true)?;
            if (-1000..=1000).contains(&n) {
                Some(n)
            } else {
                c.error(p, format!("{n} is out of range; use -1000 to 1000"));
                None
            }
        }),
        cpus: f.with(ctx, "cpus", |c, p, v| number(c, p, v, true)),
        cpu_shares: f.with(ctx, "cpu_shares", |c, p, v| integer(c, p, v, true)),
        cpu_quota: f.with(ctx, "cpu_quota", |c, p, v| integer(c, p, v, true)),
        cpu_period: f.with(ctx, "cpu_period", |c, p, v| integer(c, p, v, true)),
        cpuset: f.with(ctx, "cpuset", string),
        mem_limit: f.with(ctx, "mem_limit", |c, p, v| byte_size(c, p, v, true)),
        mem_reservation: f.with(ctx, "mem_reservation", |c, p, v| byte_size(c, p, v, true)),
        memswap_limit: f.with(ctx, "memswap_limit", |c, p, v| match v {
            Value::Number(n) if n.as_i64() == Some(-1) => Some(-1),
            _ => byte_size(c, p, v, true).and_then(|b| i64::try_from(b).ok()),
        }),
        mem_swappiness: f.with(ctx, "mem_swappiness", |c, p, v| integer(c, p, v, true)),
        pids_limit: f.with(ctx, "pids_limit", |c, p, v| integer(c, p, v, true)),
        ..Service::default()
    };
    s.group_add = f
        .with(ctx, "group_add", |c, p, v| {
            Some(ports::strings_or_numbers(c, p, v))
        })
        .unwrap_or_default();
    s.storage_opt = f
        .with(ctx, "storage_opt", |c, p, v| {
            Some(super::fields::options(c, p, v))
        })
        .unwrap_or_default();
    environment::read(ctx, env, f, &mut s);
    ports::read(ctx, f, &mut s);
    mounts::read(ctx, env, f, &mut s);
    networks::read_service(ctx, f, &mut s);
    lifecycle::read(ctx, f, &mut s);
    top::read_references(ctx, f, &mut s);
    unsupported::read(ctx, f, &mut s);
    // `extends` was resolved while loading; what is left of it is the loader's to report.
    f.get("extends");
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_yaml_ng::{Mapping, Value};

    use super::*;
    use crate::load::NoFiles;

    #[test]
    fn every_allowed_key_is_read() {
        let mut m = Mapping::new();
        for key in SERVICE_KEYS {
            m.insert((*key).into(), Value::Null);
        }
        let value = Value::Mapping(m);
        let mut ctx = Ctx::default();
        let vars = BTreeMap::new();
        let env = Env {
            reader: &NoFiles,
            vars: &vars,
            project_dir: None,
        };
        let f = Fields::new(&mut ctx, &Path::root(), &value, SERVICE_KEYS, false).unwrap();
        read(&mut ctx, &env, &f);
        assert_eq!(f.unread(), Vec::<&str>::new());
    }
}
