//! One compose service as a Container's `forProvider`: environment, ports, mounts,
//! restart, health, resources, security and networks.

use std::collections::BTreeMap;

use api::service::Service;
use serde_json::{Value, json};

use super::{
    compose::{self, Mount, Port, ServiceNetworks},
    plan::compose_error,
};
use crate::error::Result;

/// Where a network or volume comes from: a child of the Service, or an existing object.
pub(super) enum NetworkRef {
    Child(String),
    External(String),
}

/// Keys read but not carried (compose's `x-` extensions are for tools, so not reported).
pub(super) fn report(path: &str, other: &BTreeMap<String, Value>, unsupported: &mut Vec<String>) {
    for k in other.keys().filter(|k| !k.starts_with("x-")) {
        unsupported.push(format!("{path}.{k}"));
    }
}

pub(super) fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Bool(false) | Value::Null)
}

pub(super) fn strip_nulls(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
    }
    v
}

pub(super) fn add_labels(body: &mut Value, labels: Option<&compose::ListOrMap>) {
    for (k, v) in labels.map(|l| l.pairs()).unwrap_or_default() {
        body["labels"][k] = json!(v.unwrap_or_default());
    }
}

/// One service's Container `forProvider`.
#[allow(clippy::too_many_arguments)]
pub(super) fn container(
    mr: &Service,
    svc: &str,
    s: &compose::Service,
    project: &str,
    networks: &BTreeMap<String, NetworkRef>,
    volumes: &BTreeMap<String, NetworkRef>,
    env_files: &BTreeMap<String, String>,
    unsupported: &mut Vec<String>,
) -> Result<Value> {
    let p = &mr.spec.for_provider;
    let path = format!("services.{svc}");
    report(&path, &s.other, unsupported);
    if let Some(d) = &s.deploy {
        report(&format!("{path}.deploy"), &d.other, unsupported);
        for (which, l) in d
            .resources
            .iter()
            .flat_map(|r| [("limits", &r.limits), ("reservations", &r.reservations)])
        {
            if let Some(l) = l {
                report(
                    &format!("{path}.deploy.resources.{which}"),
                    &l.other,
                    unsupported,
                );
            }
        }
    }
    if let Some(h) = &s.healthcheck {
        report(&format!("{path}.healthcheck"), &h.other, unsupported);
    }
    for (i, port) in s.ports.iter().enumerate() {
        if let Port::Long(l) = port {
            report(&format!("{path}.ports[{i}]"), &l.other, unsupported);
        }
    }
    for (i, m) in s.volumes.iter().enumerate() {
        if let Mount::Long(l) = m {
            report(&format!("{path}.volumes[{i}]"), &l.other, unsupported);
        }
    }
    if let Some(ServiceNetworks::Map(m)) = &s.networks {
        for (k, n) in m {
            if let Some(n) = n {
                report(&format!("{path}.networks.{k}"), &n.other, unsupported);
            }
        }
    }
    let image = s.image.clone().ok_or_else(|| {
        compose_error(
            &path,
            "has no image; images are not built here (build:), so give image:",
        )
    })?;
    let mut body = json!({
        "image": image,
        "restartPolicy": "no",
        "labels": {
            "com.docker.compose.project": project,
            "com.docker.compose.service": svc,
            "com.docker.compose.oneoff": "False",
        },
    });
    add_labels(&mut body, s.labels.as_ref());
    if let Some(words) = &s.entrypoint {
        body["command"] = json!(
            words
                .split()
                .map_err(|e| compose_error(&format!("{path}.entrypoint"), e))?
        );
    }
    if let Some(words) = &s.command {
        body["args"] = json!(
            words
                .split()
                .map_err(|e| compose_error(&format!("{path}.command"), e))?
        );
    }
    // env_file first, environment over it, as compose does.
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: String, v: String| {
        env.retain(|(x, _)| *x != k);
        env.push((k, v));
    };
    for file in s.env_file.as_ref().map(|f| f.list()).unwrap_or_default() {
        let content = env_files.get(&file).ok_or_else(|| {
            compose_error(
                &format!("{path}.env_file"),
                format!("give the contents of {file} in spec.forProvider.envFiles (path: {file})"),
            )
        })?;
        for line in content
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if let Some((k, v)) = line.split_once('=') {
                set(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
    }
    for (k, v) in s
        .environment
        .as_ref()
        .map(|e| e.pairs())
        .unwrap_or_default()
    {
        match v.or_else(|| p.environment.get(&k).cloned()) {
            Some(v) => set(k, v),
            None => continue,
        }
    }
    if !env.is_empty() {
        body["env"] = json!(
            env.iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect::<Vec<_>>()
        );
    }
    let mut ports = Vec::new();
    for (i, port) in s.ports.iter().enumerate() {
        ports.push(port_spec(port).map_err(|e| compose_error(&format!("{path}.ports[{i}]"), e))?);
    }
    if !ports.is_empty() {
        body["ports"] = json!(ports);
    }
    let mut mounts = Vec::new();
    for (i, m) in s.volumes.iter().enumerate() {
        let at = format!("{path}.volumes[{i}]");
        match mount(m, volumes).map_err(|e| compose_error(&at, e))? {
            Some(m) => mounts.push(m),
            None => unsupported.push(format!("{at} (anonymous or relative volumes)")),
        }
    }
    for t in s.tmpfs.as_ref().map(|t| t.list()).unwrap_or_default() {
        let target = t.split(':').next().unwrap_or_default();
        mounts.push(json!({"mountPath": target, "tmpfs": {}}));
    }
    if !mounts.is_empty() {
        body["mounts"] = json!(mounts);
    }
    match s.restart.as_deref() {
        None | Some("no") => {}
        Some(r @ ("always" | "unless-stopped")) => body["restartPolicy"] = json!(r),
        Some(r) if r.starts_with("on-failure") => {
            body["restartPolicy"] = json!("on-failure");
            if let Some(n) = r
                .strip_prefix("on-failure:")
                .and_then(|n| n.parse::<i64>().ok())
            {
                body["restartMaxRetries"] = json!(n);
            }
        }
        Some(other) => {
            return Err(compose_error(
                &format!("{path}.restart"),
                format!("{other:?} is not no, always, on-failure[:N] or unless-stopped"),
            ));
        }
    }
    if p.suspend {
        body["state"] = json!("Stopped");
    }
    if let Some(h) = &s.healthcheck {
        let test = match (&h.test, h.disable) {
            (_, true) => vec!["NONE".to_string()],
            (Some(compose::Words::Line(l)), _) => vec!["CMD-SHELL".to_string(), l.clone()],
            (Some(compose::Words::List(l)), _) => l.clone(),
            (None, _) => Vec::new(),
        };
        body["healthCheck"] = strip_nulls(json!({
            "test": test, "interval": h.interval, "timeout": h.timeout,
            "retries": h.retries, "startPeriod": h.start_period,
        }));
    }
    if let Some(r) = s.deploy.as_ref().and_then(|d| d.resources.as_ref()) {
        let limits = r.limits.as_ref();
        let cpus = limits
            .and_then(|l| l.cpus.as_ref())
            .and_then(|c| compose::scalar(c)?.parse::<f64>().ok());
        body["resources"] = strip_nulls(json!({
            "cpus": cpus,
            "memory": limits.and_then(|l| l.memory.as_ref()).and_then(compose::scalar),
            "pidsLimit": limits.and_then(|l| l.pids),
            "memoryReservation": r.reservations.as_ref().and_then(|l| l.memory.as_ref()).and_then(compose::scalar),
        }));
    }
    let security = strip_nulls(json!({
        "user": s.user, "privileged": s.privileged, "readOnlyRootFilesystem": s.read_only,
        "capabilities": (!s.cap_add.is_empty() || !s.cap_drop.is_empty()).then(|| json!({"add": s.cap_add, "drop": s.cap_drop})),
    }));
    if security.as_object().is_some_and(|m| !m.is_empty()) {
        body["security"] = security;
    }
    if let Some(mode) = &s.network_mode {
        body["networkMode"] = json!(mode);
    } else {
        let attached: Vec<(String, compose::ServiceNetwork)> = match &s.networks {
            None => vec![("default".into(), Default::default())],
            Some(ServiceNetworks::List(l)) => {
                l.iter().map(|n| (n.clone(), Default::default())).collect()
            }
            Some(ServiceNetworks::Map(m)) => m
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_ref()
                            .map(|v| compose::ServiceNetwork {
                                aliases: v.aliases.clone(),
                                ipv4_address: v.ipv4_address.clone(),
                                ipv6_address: v.ipv6_address.clone(),
                                other: v.other.clone(),
                            })
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        };
        let mut list = Vec::new();
        for (key, n) in attached {
            let mut aliases = vec![svc.to_string()];
            aliases.extend(n.aliases);
            let mut a = strip_nulls(
                json!({"aliases": aliases, "ipv4Address": n.ipv4_address, "ipv6Address": n.ipv6_address}),
            );
            match networks.get(&key) {
                Some(NetworkRef::Child(name)) => a["networkRef"] = json!({"name": name}),
                Some(NetworkRef::External(name)) => a["name"] = json!(name),
                None => {
                    return Err(compose_error(
                        &format!("{path}.networks"),
                        format!("{key} is not declared under networks:"),
                    ));
                }
            }
            list.push(a);
        }
        body["networks"] = json!(list);
    }
    let simple = [
        ("pidMode", &s.pid),
        ("ipcMode", &s.ipc),
        ("hostname", &s.hostname),
        ("workingDir", &s.working_dir),
        ("stopSignal", &s.stop_signal),
        ("stopGracePeriod", &s.stop_grace_period),
    ];
    for (field, value) in simple {
        if let Some(v) = value {
            body[field] = json!(v);
        }
    }
    if let Some(dns_servers) = &s.dns {
        body["dns"] = json!(dns_servers.list());
    }
    if let Some(hosts) = &s.extra_hosts {
        let hosts: Vec<String> = hosts
            .pairs()
            .into_iter()
            .map(|(k, v)| match v {
                Some(ip) => format!("{k}:{ip}"),
                None => k,
            })
            .collect();
        body["extraHosts"] = json!(hosts);
    }
    match s.pull_policy.as_deref() {
        None | Some("missing") | Some("if_not_present") => {}
        Some("always") => body["imagePullPolicy"] = json!("Always"),
        Some("never") => body["imagePullPolicy"] = json!("Never"),
        Some(other) => unsupported.push(format!("{path}.pull_policy ({other})")),
    }
    Ok(body)
}

/// A compose port (`[IP:][HOST:]CONTAINER[/PROTO]`, or the long form) as a PortSpec.
fn port_spec(port: &Port) -> Result<Value, String> {
    let number_or_range = |s: &str| -> Result<Value, String> {
        match s.parse::<u32>() {
            Ok(n) => Ok(json!(n)),
            Err(_)
                if s.split('-').count() == 2 && s.split('-').all(|p| p.parse::<u32>().is_ok()) =>
            {
                Ok(json!(s))
            }
            Err(_) => Err(format!("{s:?} is not a port or a port range")),
        }
    };
    match port {
        Port::Number(n) => Ok(json!({"containerPort": n})),
        Port::Long(l) => {
            let target = compose::scalar(&l.target).unwrap_or_default();
            Ok(strip_nulls(json!({
                "containerPort": number_or_range(&target)?,
                "hostPort": l.published.as_ref().and_then(compose::scalar).map(|p| number_or_range(&p)).transpose()?,
                "hostIp": l.host_ip,
                "protocol": l.protocol,
            })))
        }
        Port::Short(s) => {
            let (rest, protocol) = match s.rsplit_once('/') {
                Some((r, p)) => (r, Some(p)),
                None => (s.as_str(), None),
            };
            let (ip, rest) = match rest.strip_prefix('[') {
                Some(v6) => {
                    let (ip, after) = v6.split_once("]:").ok_or_else(|| {
                        format!("{s:?}: an IPv6 address is written [addr]:host:container")
                    })?;
                    (Some(ip.to_string()), after)
                }
                None => (None, rest),
            };
            let parts: Vec<&str> = rest.split(':').collect();
            let (ip, host, container) = match (ip, parts.as_slice()) {
                (None, [c]) => (None, None, *c),
                (None, [h, c]) => (None, Some(*h), *c),
                (None, [i, h, c]) => (Some(i.to_string()), Some(*h), *c),
                (Some(ip), [h, c]) => (Some(ip), Some(*h), *c),
                _ => {
                    return Err(format!(
                        "{s:?} is not a valid port mapping; use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]"
                    ));
                }
            };
            Ok(strip_nulls(json!({
                "containerPort": number_or_range(container)?,
                "hostPort": host.filter(|h| !h.is_empty()).map(number_or_range).transpose()?,
                "hostIp": ip,
                "protocol": protocol,
            })))
        }
    }
}

/// A compose volume entry as a Mount; `None` for what cannot be carried to a remote daemon
/// (anonymous volumes, paths relative to the compose file).
fn mount(m: &Mount, volumes: &BTreeMap<String, NetworkRef>) -> Result<Option<Value>, String> {
    let (kind, source, target, read_only) = match m {
        Mount::Short(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                [_] => return Ok(None),
                [src, dst] => (None, src.to_string(), dst.to_string(), false),
                [src, dst, mode] => (
                    None,
                    src.to_string(),
                    dst.to_string(),
                    mode.split(',').any(|m| m == "ro"),
                ),
                _ => return Err(format!("{s:?} is not SOURCE:TARGET[:MODE]")),
            }
        }
        Mount::Long(l) => {
            if l.kind == "tmpfs" {
                let size = l
                    .tmpfs
                    .as_ref()
                    .and_then(|t| t.size.as_ref())
                    .and_then(compose::scalar);
                return Ok(Some(
                    json!({"mountPath": l.target, "tmpfs": strip_nulls(json!({"size": size, "mode": l.tmpfs.as_ref().and_then(|t| t.mode)}))}),
                ));
            }
            let Some(src) = &l.source else {
                return Ok(None);
            };
            (
                Some(l.kind.clone()),
                src.clone(),
                l.target.clone(),
                l.read_only.unwrap_or(false),
            )
        }
    };
    let bind = kind.as_deref() == Some("bind") || source.starts_with('/');
    if bind {
        if !source.starts_with('/') {
            return Ok(None);
        }
        return Ok(Some(
            json!({"mountPath": target, "readOnly": read_only, "hostPath": {"path": source}}),
        ));
    }
    if source.starts_with('.') || source.starts_with('~') {
        return Ok(None);
    }
    let volume = match volumes.get(&source) {
        Some(NetworkRef::Child(name)) => json!({"volumeRef": {"name": name}}),
        Some(NetworkRef::External(name)) => json!({"name": name}),
        None => return Err(format!("volume {source} is not declared under volumes:")),
    };
    Ok(Some(
        json!({"mountPath": target, "readOnly": read_only, "volume": volume}),
    ))
}
