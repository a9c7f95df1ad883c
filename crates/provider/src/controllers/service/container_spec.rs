//! One compose service as a Container's `forProvider`: process, environment, ports,
//! mounts, files, restart, health, resources, security and networks. What the Container
//! cannot carry is reported by path, never dropped in silence.

use std::collections::BTreeMap;

use compose::{
    DeviceCount, DeviceRequest, FileSource, HealthTest, Mount, PullPolicy, RestartPolicy,
    Unsupported, VolumeOptions, format_duration,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    files::Origin,
    plan::{Ref, Scope, compose_error},
};
use crate::error::Result;

/// The service fields this module carries (wholly, or field by field below).
const CARRIED: &[&str] = &[
    "image",
    "build",
    "pull_policy",
    "container_name",
    "hostname",
    "profiles",
    "labels",
    "entrypoint",
    "command",
    "environment",
    "working_dir",
    "user",
    "init",
    "stop_signal",
    "stop_grace_period",
    "healthcheck",
    "restart",
    "depends_on",
    "scale",
    "deploy",
    "networks",
    "network_mode",
    "ports",
    "dns",
    "extra_hosts",
    "volumes",
    "tmpfs",
    "secrets",
    "configs",
    "read_only",
    "privileged",
    "cap_add",
    "cap_drop",
    "security_opt",
    "devices",
    "gpus",
    "ipc",
    "pid",
    "cpus",
    "mem_limit",
    "mem_reservation",
    "pids_limit",
    "logging",
];

/// Records that the field at `path` is not carried, and why.
pub(super) fn skip(out: &mut Vec<Unsupported>, path: impl Into<String>, reason: impl Into<String>) {
    out.push(Unsupported {
        path: path.into(),
        reason: reason.into(),
    });
}

/// Reports every field set in `value` (a model struct) that is not in `carried`.
pub(super) fn report_uncarried<T: Serialize>(
    value: &T,
    path: &str,
    carried: &[&str],
    out: &mut Vec<Unsupported>,
) {
    if let Ok(Value::Object(fields)) = serde_json::to_value(value) {
        for key in fields.keys().filter(|k| !carried.contains(&k.as_str())) {
            skip(
                out,
                format!("{path}.{key}"),
                "provider-docker has no equivalent; remove it",
            );
        }
    }
}

/// `value` without its null fields.
pub(super) fn strip_nulls(mut value: Value) -> Value {
    if let Value::Object(m) = &mut value {
        m.retain(|_, x| !x.is_null());
    }
    value
}

/// One service's Container `forProvider` (without the replica number).
pub(super) fn container(
    scope: &Scope,
    svc: &str,
    s: &compose::Service,
    out: &mut Vec<Unsupported>,
) -> Result<Value> {
    let path = format!("services.{svc}");
    report_uncarried(s, &path, CARRIED, out);
    let image = s.image.clone().ok_or_else(|| {
        compose_error(
            &path,
            "has no image; images are not built here (build:), so give image:",
        )
    })?;
    let mut labels = BTreeMap::from([
        ("com.docker.compose.project", scope.project.to_string()),
        ("com.docker.compose.service", svc.to_string()),
        ("com.docker.compose.oneoff", "False".to_string()),
    ]);
    labels.extend(s.labels.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let mut body = json!({"image": image, "restartPolicy": "no", "labels": labels});
    let set = |body: &mut Value, field: &str, value: Option<Value>| {
        if let Some(value) = value {
            body[field] = value;
        }
    };
    set(
        &mut body,
        "command",
        s.entrypoint.as_ref().map(|e| json!(e)),
    );
    set(&mut body, "args", s.command.as_ref().map(|c| json!(c)));
    // A variable with no value that the environment does not give either is left unset.
    let env: Vec<Value> = s
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| json!({"name": k, "value": v})))
        .collect();
    set(&mut body, "env", (!env.is_empty()).then(|| json!(env)));
    set(&mut body, "hostname", s.hostname.as_ref().map(|h| json!(h)));
    set(
        &mut body,
        "workingDir",
        s.working_dir.as_ref().map(|w| json!(w)),
    );
    set(
        &mut body,
        "stopSignal",
        s.stop_signal.as_ref().map(|x| json!(x)),
    );
    set(
        &mut body,
        "stopGracePeriod",
        s.stop_grace_period.map(|d| json!(format_duration(d))),
    );
    if s.init == Some(true) {
        skip(
            out,
            format!("{path}.init"),
            "an init process is not carried",
        );
    }
    set(&mut body, "imagePullPolicy", pull_policy(&path, s, out));
    match s.restart {
        None | Some(RestartPolicy::No) => {}
        Some(RestartPolicy::Always) => body["restartPolicy"] = json!("always"),
        Some(RestartPolicy::UnlessStopped) => body["restartPolicy"] = json!("unless-stopped"),
        Some(RestartPolicy::OnFailure { max_retries }) => {
            body["restartPolicy"] = json!("on-failure");
            set(
                &mut body,
                "restartMaxRetries",
                max_retries.map(|n| json!(n)),
            );
        }
    }
    if scope.suspend {
        body["state"] = json!("Stopped");
    }
    set(&mut body, "healthCheck", health(&path, s, out));
    set(&mut body, "ports", ports(&path, s, out));
    set(&mut body, "mounts", mounts(scope, &path, s, out)?);
    set(&mut body, "files", files(scope, &path, s, out)?);
    set(&mut body, "resources", resources(&path, s, out));
    set(&mut body, "security", security(s));
    set(&mut body, "devices", devices(s));
    set(&mut body, "deviceRequests", device_requests(&path, s, out));
    match &s.network_mode {
        Some(mode) => body["networkMode"] = json!(scope.mode(&mode.to_string())),
        None => body["networks"] = networks(scope, &path, svc, s, out)?,
    }
    set(
        &mut body,
        "pidMode",
        s.pid.as_ref().map(|m| json!(scope.mode(m))),
    );
    set(
        &mut body,
        "ipcMode",
        s.ipc.as_ref().map(|m| json!(scope.mode(m))),
    );
    set(&mut body, "dns", (!s.dns.is_empty()).then(|| json!(s.dns)));
    let hosts: Vec<String> = s
        .extra_hosts
        .iter()
        .flat_map(|(host, ips)| ips.iter().map(move |ip| format!("{host}:{ip}")))
        .collect();
    set(
        &mut body,
        "extraHosts",
        (!hosts.is_empty()).then(|| json!(hosts)),
    );
    if let Some(logging) = &s.logging {
        match &logging.driver {
            Some(driver) => body["logging"] = json!({"driver": driver, "options": logging.options}),
            None if logging.options.is_empty() => {}
            None => skip(
                out,
                format!("{path}.logging.options"),
                "log options without a driver; name the driver",
            ),
        }
    }
    Ok(body)
}

fn pull_policy(path: &str, s: &compose::Service, out: &mut Vec<Unsupported>) -> Option<Value> {
    match s.pull_policy.as_ref()? {
        PullPolicy::Always => Some(json!("Always")),
        PullPolicy::Never => Some(json!("Never")),
        // `build` is reported by the loader.
        PullPolicy::Missing | PullPolicy::Build => None,
        other => {
            skip(
                out,
                format!("{path}.pull_policy"),
                format!("{other} is not carried; use always, missing or never"),
            );
            None
        }
    }
}

fn health(path: &str, s: &compose::Service, out: &mut Vec<Unsupported>) -> Option<Value> {
    let h = s.healthcheck.as_ref()?;
    let at = format!("{path}.healthcheck");
    report_uncarried(
        h,
        &at,
        &["test", "interval", "timeout", "retries", "start_period"],
        out,
    );
    let test: Vec<String> = match &h.test {
        Some(HealthTest::Disabled) => vec!["NONE".into()],
        Some(HealthTest::Cmd(args)) => ["CMD".to_string()]
            .into_iter()
            .chain(args.clone())
            .collect(),
        Some(HealthTest::Shell(line)) => vec!["CMD-SHELL".into(), line.clone()],
        None => Vec::new(),
    };
    Some(strip_nulls(json!({
        "test": test,
        "interval": h.interval.map(format_duration),
        "timeout": h.timeout.map(format_duration),
        "retries": h.retries,
        "startPeriod": h.start_period.map(format_duration),
    })))
}

fn ports(path: &str, s: &compose::Service, out: &mut Vec<Unsupported>) -> Option<Value> {
    let ports: Vec<Value> = s
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let at = format!("{path}.ports[{i}]");
            report_uncarried(p, &at, &["target", "published", "host_ip", "protocol"], out);
            let host_port = p.published.map(|r| match r.len() {
                1 => json!(r.start()),
                _ => json!(r.to_string()),
            });
            strip_nulls(json!({
                "containerPort": p.target,
                "hostPort": host_port,
                "hostIP": p.host_ip.map(|ip| ip.to_string()),
                "protocol": p.protocol.to_string(),
            }))
        })
        .collect();
    (!ports.is_empty()).then(|| json!(ports))
}

fn mounts(
    scope: &Scope,
    path: &str,
    s: &compose::Service,
    out: &mut Vec<Unsupported>,
) -> Result<Option<Value>> {
    let mut mounts = Vec::new();
    for (i, m) in s.volumes.iter().enumerate() {
        let at = format!("{path}.volumes[{i}]");
        match m {
            Mount::Bind(b) => {
                let options = &b.bind;
                if options.propagation.is_some()
                    || options.selinux.is_some()
                    || options.recursive.is_some()
                {
                    skip(
                        out,
                        format!("{at}.bind"),
                        "propagation, SELinux relabeling and recursive options are not carried",
                    );
                }
                if !b.source.starts_with('/') {
                    skip(
                        out,
                        at,
                        "a relative bind source names a path next to the compose file, which a remote daemon does not have; give an absolute path on the daemon's host",
                    );
                    continue;
                }
                mounts.push(json!({"mountPath": b.target, "readOnly": b.read_only, "hostPath": {"path": b.source}}));
            }
            Mount::Volume(v) => {
                if v.volume != VolumeOptions::default() {
                    skip(
                        out,
                        format!("{at}.volume"),
                        "nocopy, subpath and labels of a volume mount are not carried",
                    );
                }
                let Some(source) = &v.source else {
                    skip(
                        out,
                        at,
                        "anonymous volumes are not carried; name the volume and declare it under volumes:",
                    );
                    continue;
                };
                let volume = match scope.volumes.get(source) {
                    Some(Ref::Child(name)) => json!({"volumeRef": {"name": name}}),
                    Some(Ref::External(name)) => json!({"name": name}),
                    None => {
                        return Err(compose_error(
                            &at,
                            format!("volume {source} is not declared under volumes:"),
                        ));
                    }
                };
                mounts.push(
                    json!({"mountPath": v.target, "readOnly": v.read_only, "volume": volume}),
                );
            }
            Mount::Tmpfs(t) => {
                if t.read_only {
                    skip(
                        out,
                        format!("{at}.read_only"),
                        "a read-only tmpfs is not carried",
                    );
                }
                let tmpfs = strip_nulls(json!({"size": t.tmpfs.size, "mode": t.tmpfs.mode}));
                mounts.push(json!({"mountPath": t.target, "tmpfs": tmpfs}));
            }
            Mount::Image(_) => skip(out, at, "image mounts are not carried"),
        }
    }
    for (i, t) in s.tmpfs.iter().enumerate() {
        let (target, options) = t.split_once(':').unwrap_or((t, ""));
        if !options.is_empty() {
            skip(
                out,
                format!("{path}.tmpfs[{i}]"),
                "tmpfs options are not carried; use a volumes entry with type: tmpfs and tmpfs.size",
            );
        }
        mounts.push(json!({"mountPath": target, "tmpfs": {}}));
    }
    Ok((!mounts.is_empty()).then(|| json!(mounts)))
}

/// Secrets and configs as files written into the container.
fn files(
    scope: &Scope,
    path: &str,
    s: &compose::Service,
    out: &mut Vec<Unsupported>,
) -> Result<Option<Value>> {
    let mut files = Vec::new();
    let kinds = [
        (
            "secrets",
            &s.secrets,
            &scope.compose.secrets,
            "/run/secrets/",
        ),
        ("configs", &s.configs, &scope.compose.configs, "/"),
    ];
    for (kind, refs, declared, dir) in kinds {
        for (i, r) in refs.iter().enumerate() {
            let at = format!("{path}.{kind}[{i}]");
            if r.uid.is_some() || r.gid.is_some() {
                skip(out, &at, "file ownership (uid, gid) is not carried");
            }
            let top = declared.get(&r.source).ok_or_else(|| {
                compose_error(&at, format!("{} is not declared under {kind}:", r.source))
            })?;
            let target = match &r.target {
                Some(t) if t.starts_with('/') => t.clone(),
                Some(t) => format!("{dir}{t}"),
                None => format!("{dir}{}", r.source),
            };
            let mut file = strip_nulls(json!({"path": target, "mode": r.mode}));
            let source = format!("{kind}.{}", r.source);
            match &top.source {
                FileSource::Content(content) => file["content"] = json!(content),
                FileSource::Environment(var) => {
                    let value = scope.environment.get(var).ok_or_else(|| {
                        compose_error(
                            &format!("{source}.environment"),
                            format!("{var} is not set; add it to spec.forProvider.environment"),
                        )
                    })?;
                    file["content"] = json!(value);
                }
                FileSource::File(name) => match scope.files.get(name) {
                    Some(f) => match f.origin {
                        Some(Origin::Secret(sel)) => file["secretKeyRef"] = json!(sel),
                        Some(Origin::ConfigMap(sel)) => file["configMapKeyRef"] = json!(sel),
                        None => file["content"] = json!(f.content),
                    },
                    None => {
                        return Err(compose_error(
                            &format!("{source}.file"),
                            format!(
                                "give the contents of {name} in spec.forProvider.envFiles (path: {name}; a Secret key for secrets)"
                            ),
                        ));
                    }
                },
                // Reported by the loader.
                FileSource::External(_) => continue,
            }
            files.push(file);
        }
    }
    Ok((!files.is_empty()).then(|| json!(files)))
}

fn resources(path: &str, s: &compose::Service, out: &mut Vec<Unsupported>) -> Option<Value> {
    let deploy = s.deploy.as_ref().map(|d| &d.resources);
    let limits = deploy.and_then(|r| r.limits.as_ref());
    let reservations = deploy.and_then(|r| r.reservations.as_ref());
    if reservations.is_some_and(|r| r.cpus.is_some()) {
        skip(
            out,
            format!("{path}.deploy.resources.reservations.cpus"),
            "CPU reservations are not carried; use limits.cpus",
        );
    }
    let resources = strip_nulls(json!({
        "cpus": s.cpus.or(limits.and_then(|l| l.cpus)),
        "memory": s.mem_limit.or(limits.and_then(|l| l.memory)),
        "pidsLimit": s.pids_limit.or(limits.and_then(|l| l.pids)),
        "memoryReservation": s.mem_reservation.or(reservations.and_then(|r| r.memory)),
    }));
    resources
        .as_object()
        .is_some_and(|m| !m.is_empty())
        .then_some(resources)
}

fn security(s: &compose::Service) -> Option<Value> {
    let capabilities = (!s.cap_add.is_empty() || !s.cap_drop.is_empty())
        .then(|| json!({"add": s.cap_add, "drop": s.cap_drop}));
    let security = strip_nulls(json!({
        "user": s.user,
        "privileged": s.privileged.then_some(true),
        "readOnlyRootFilesystem": s.read_only.then_some(true),
        "capabilities": capabilities,
        "securityOptions": (!s.security_opt.is_empty()).then_some(&s.security_opt),
    }));
    security
        .as_object()
        .is_some_and(|m| !m.is_empty())
        .then_some(security)
}

fn devices(s: &compose::Service) -> Option<Value> {
    let devices: Vec<Value> = s
        .devices
        .iter()
        .map(|d| strip_nulls(json!({"hostPath": d.source, "containerPath": d.target, "permissions": d.permissions})))
        .collect();
    (!devices.is_empty()).then(|| json!(devices))
}

/// `gpus` and `deploy.resources.reservations.devices`.
fn device_requests(path: &str, s: &compose::Service, out: &mut Vec<Unsupported>) -> Option<Value> {
    let reserved = s
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref())
        .map(|r| r.devices.as_slice())
        .unwrap_or_default();
    let requests: Vec<Value> = s
        .gpus
        .iter()
        .map(|r| (format!("{path}.gpus"), r))
        .chain(
            reserved
                .iter()
                .map(|r| (format!("{path}.deploy.resources.reservations.devices"), r)),
        )
        .map(|(at, r): (String, &DeviceRequest)| {
            if !r.options.is_empty() {
                skip(
                    out,
                    format!("{at}.options"),
                    "device request options are not carried",
                );
            }
            let count = r.count.as_ref().map(|c| match c {
                DeviceCount::Count(n) => i64::from(*n),
                DeviceCount::All(_) => -1,
            });
            strip_nulls(json!({
                "driver": r.driver,
                "count": count,
                "deviceIDs": (!r.device_ids.is_empty()).then_some(&r.device_ids),
                "capabilities": [r.capabilities],
            }))
        })
        .collect();
    (!requests.is_empty()).then(|| json!(requests))
}

fn networks(
    scope: &Scope,
    path: &str,
    svc: &str,
    s: &compose::Service,
    out: &mut Vec<Unsupported>,
) -> Result<Value> {
    let mut list = Vec::new();
    for (key, n) in &s.networks {
        let at = format!("{path}.networks.{key}");
        report_uncarried(n, &at, &["aliases", "ipv4_address", "ipv6_address"], out);
        let aliases: Vec<&str> = std::iter::once(svc)
            .chain(n.aliases.iter().map(String::as_str))
            .collect();
        let mut attachment = strip_nulls(json!({
            "aliases": aliases,
            "ipv4Address": n.ipv4_address.map(|ip| ip.to_string()),
            "ipv6Address": n.ipv6_address.map(|ip| ip.to_string()),
        }));
        match scope.networks.get(key) {
            Some(Ref::Child(name)) => attachment["networkRef"] = json!({"name": name}),
            Some(Ref::External(name)) => attachment["name"] = json!(name),
            None => {
                return Err(compose_error(
                    &at,
                    format!("{key} is not declared under networks:"),
                ));
            }
        }
        list.push(attachment);
    }
    Ok(json!(list))
}

/// The services a mode (`network_mode`, `pid`, `ipc`) shares a namespace with.
pub(super) fn mode_service(mode: &str) -> Option<&str> {
    mode.strip_prefix("service:")
}
