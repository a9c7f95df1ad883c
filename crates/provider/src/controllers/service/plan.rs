//! From a Service's compose project to the children it owns: one Network per network, one
//! Volume per named volume, N Containers per service, named as docker compose names things
//! on the Docker side and DNS-safe on the Kubernetes side.

use std::collections::{BTreeMap, BTreeSet};

use api::service::Service;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

use super::{
    children::{Child, ChildKind},
    compose::{self, DependsOn, File, Mount, Port, ServiceNetworks},
    members::Gate,
};
use crate::{
    context::Context,
    error::{Error, Result},
};

/// Everything the Service should own.
pub struct Plan {
    /// The compose project name on the daemon.
    pub project: String,
    /// The daemon host as seen from outside, for connection details.
    pub endpoint: String,
    pub children: Vec<Child>,
    /// Compose fields not carried, by path.
    pub unsupported: Vec<String>,
}

/// Reads the project (inline, from a ConfigMap, or structured), interpolates it and
/// expands it.
pub async fn load(ctx: &Context, mr: &Service, project: &str, endpoint: &str) -> Result<Plan> {
    let p = &mr.spec.for_provider;
    let namespace = mr.namespace().unwrap_or_default();
    let (mut doc, field) = match (&p.compose, &p.compose_from, &p.project) {
        (Some(yaml), _, _) => (
            parse(yaml, "spec.forProvider.compose")?,
            "spec.forProvider.compose",
        ),
        (_, Some(sel), _) => {
            let field = "spec.forProvider.composeFrom";
            let map = Api::<ConfigMap>::namespaced(ctx.client.clone(), &namespace)
                .get_opt(&sel.name)
                .await
                .map_err(|e| Error::kube(format!("read ConfigMap {} for {field}", sel.name), e))?
                .ok_or_else(|| {
                    Error::Reference(format!(
                        "{field}: ConfigMap {} does not exist in namespace {namespace}",
                        sel.name
                    ))
                })?;
            let yaml = map
                .data
                .unwrap_or_default()
                .remove(&sel.key)
                .ok_or_else(|| {
                    Error::Reference(format!(
                        "{field}: ConfigMap {} has no key {:?}",
                        sel.name, sel.key
                    ))
                })?;
            (parse(&yaml, field)?, field)
        }
        (_, _, Some(value)) => (value.clone(), "spec.forProvider.project"),
        _ => {
            return Err(Error::Compose(
                "spec.forProvider: give the project as compose, composeFrom or project".into(),
            ));
        }
    };
    compose::interpolate(&mut doc, &p.environment, "")
        .map_err(|e| Error::Compose(format!("{field}: {e}")))?;
    let file: File = serde_path_to_error::deserialize(doc)
        .map_err(|e| Error::Compose(format!("{field}: {}: {}", e.path(), e.inner())))?;
    let mut env_files = BTreeMap::new();
    for source in &p.env_files {
        let content = match (&source.config_map_key_ref, &source.secret_key_ref) {
            (Some(sel), _) => Api::<ConfigMap>::namespaced(ctx.client.clone(), &namespace)
                .get_opt(&sel.name)
                .await
                .map_err(|e| Error::kube(format!("read ConfigMap {}", sel.name), e))?
                .and_then(|c| c.data.unwrap_or_default().remove(&sel.key)),
            (None, Some(sel)) => Api::<Secret>::namespaced(ctx.client.clone(), &namespace)
                .get_opt(&sel.name)
                .await
                .map_err(|e| Error::kube(format!("read Secret {}", sel.name), e))?
                .and_then(|s| s.data.unwrap_or_default().remove(&sel.key))
                .map(|b| String::from_utf8_lossy(&b.0).into_owned()),
            (None, None) => None,
        };
        let content = content.ok_or_else(|| {
            Error::Reference(format!(
                "spec.forProvider.envFiles: the source of {} is missing; name an existing ConfigMap or Secret key",
                source.path
            ))
        })?;
        env_files.insert(source.path.clone(), content);
    }
    expand(mr, &file, project, endpoint, &env_files)
}

/// `provider-docker convert`: prints a Service for a compose file on stdout and what it
/// cannot carry on stderr; returns the exit code.
pub fn convert(args: &crate::cli::ConvertArgs) -> anyhow::Result<i32> {
    use anyhow::Context as _;
    let yaml = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let dir = args.file.parent().unwrap_or(std::path::Path::new("."));
    let mut environment = BTreeMap::new();
    if let Ok(dotenv) = std::fs::read_to_string(dir.join(".env")) {
        for line in dotenv
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if let Some((k, v)) = line.split_once('=') {
                environment.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
    }
    let doc = parse(&yaml, &args.file.display().to_string())?;
    let name = args
        .name
        .clone()
        .or_else(|| doc.get("name").and_then(Value::as_str).map(str::to_string))
        .or_else(|| {
            std::fs::canonicalize(dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .map(|n| dns(&n))
        .filter(|n| !n.is_empty())
        .context("give the Service a name with --name")?;
    let mut manifest = json!({
        "apiVersion": "docker.m.crossplane.io/v1alpha1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"forProvider": {"compose": yaml}},
    });
    if let Some(ns) = &args.namespace {
        manifest["metadata"]["namespace"] = json!(ns);
    }
    if !environment.is_empty() {
        manifest["spec"]["forProvider"]["environment"] = json!(environment);
    }
    if let Some(reference) = &args.provider_config {
        let (kind, config) = reference
            .split_once('/')
            .filter(|(k, _)| *k == "ClusterProviderConfig" || *k == "ProviderConfig")
            .context(
                "--provider-config must be ClusterProviderConfig/NAME or ProviderConfig/NAME",
            )?;
        manifest["spec"]["providerConfigRef"] = json!({"kind": kind, "name": config});
    }
    // Check it as the controller will, to report what cannot be carried.
    let service: Service = serde_json::from_value(manifest.clone())?;
    let mut interpolated = doc;
    compose::interpolate(&mut interpolated, &environment, "")
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let file: File = serde_path_to_error::deserialize(interpolated)
        .map_err(|e| anyhow::anyhow!("{}: {}: {}", args.file.display(), e.path(), e.inner()))?;
    let env_files: BTreeMap<String, String> = file
        .services
        .values()
        .flat_map(|s| s.env_file.as_ref().map(|f| f.list()).unwrap_or_default())
        .map(|path| (path, String::new()))
        .collect();
    let plan = expand(&service, &file, &format!("default-{name}"), "", &env_files)?;
    let mut unsupported = plan.unsupported;
    for path in env_files.keys() {
        unsupported.push(format!(
            "env_file {path}: give its contents in spec.forProvider.envFiles (a ConfigMap or Secret key)"
        ));
    }
    print!("{}", serde_yaml_ng::to_string(&manifest)?);
    for path in &unsupported {
        eprintln!("unsupported: {path}");
    }
    Ok(if args.strict && !unsupported.is_empty() {
        1
    } else {
        0
    })
}

fn parse(yaml: &str, field: &str) -> Result<Value> {
    let value: Value = serde_yaml_ng::from_str(yaml)
        .map_err(|e| Error::Compose(format!("{field}: not valid YAML: {e}")))?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Err(Error::Compose(format!(
            "{field} is empty; give at least one service"
        ))),
        _ => Err(Error::Compose(format!(
            "{field} must be a mapping with services:"
        ))),
    }
}

/// Kubernetes names are lowercase DNS labels: `_` and other characters become `-`.
fn dns(name: &str) -> String {
    name.to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

fn compose_error(path: &str, message: impl std::fmt::Display) -> Error {
    Error::Compose(format!("{path}: {message}"))
}

/// The project expanded into children.
pub fn expand(
    mr: &Service,
    file: &File,
    project: &str,
    endpoint: &str,
    env_files: &BTreeMap<String, String>,
) -> Result<Plan> {
    let p = &mr.spec.for_provider;
    let owner = mr.name_any();
    let mut unsupported = Vec::new();
    // The file's own `name:` names the Service in `convert` only.
    for key in file.other.keys() {
        if !key.starts_with("x-") && key != "version" && key != "name" {
            unsupported.push(key.clone());
        }
    }
    let active: BTreeMap<&String, &compose::Service> = file
        .services
        .iter()
        .filter(|(_, s)| s.profiles.is_empty() || s.profiles.iter().any(|x| p.profiles.contains(x)))
        .collect();
    if active.is_empty() {
        return Err(Error::Compose(
            "the project has no service to run (check profiles)".into(),
        ));
    }
    check_cycles(&active)?;

    let mut children = Vec::new();
    let mut networks: BTreeMap<String, NetworkRef> = BTreeMap::new();
    let mut needs_default = false;
    for s in active.values() {
        if s.networks.is_none() && s.network_mode.is_none() {
            needs_default = true;
        }
    }
    let mut network_keys: Vec<String> = file.networks.keys().cloned().collect();
    if needs_default && !file.networks.contains_key("default") {
        network_keys.push("default".into());
    }
    for key in network_keys {
        let spec = file.networks.get(&key).and_then(Option::as_ref);
        let docker_name = spec
            .and_then(|n| n.name.clone())
            .unwrap_or_else(|| format!("{project}_{key}"));
        if spec.and_then(|n| n.external.as_ref()).is_some_and(truthy) {
            networks.insert(key, NetworkRef::External(docker_name));
            continue;
        }
        let name = dns(&format!("{owner}-{key}"));
        let mut body = json!({
            "labels": {"com.docker.compose.project": project, "com.docker.compose.network": key},
        });
        if let Some(n) = spec {
            report(&format!("networks.{key}"), &n.other, &mut unsupported);
            if let Some(d) = &n.driver {
                body["driver"] = json!(d);
            }
            for (field, v) in [
                ("internal", n.internal),
                ("attachable", n.attachable),
                ("enableIPv6", n.enable_ipv6),
            ] {
                if let Some(v) = v {
                    body[field] = json!(v);
                }
            }
            if !n.driver_opts.is_empty() {
                let opts: BTreeMap<_, _> = n
                    .driver_opts
                    .iter()
                    .map(|(k, v)| (k, compose::scalar(v)))
                    .collect();
                body["options"] = json!(opts);
            }
            if let Some(ipam) = &n.ipam {
                report(
                    &format!("networks.{key}.ipam"),
                    &ipam.other,
                    &mut unsupported,
                );
                for (i, c) in ipam.config.iter().enumerate() {
                    report(
                        &format!("networks.{key}.ipam.config[{i}]"),
                        &c.other,
                        &mut unsupported,
                    );
                }
                let pools: Vec<Value> = ipam
                    .config
                    .iter()
                    .map(|c| json!({"subnet": c.subnet, "gateway": c.gateway, "ipRange": c.ip_range}))
                    .map(strip_nulls)
                    .collect();
                body["ipam"] = strip_nulls(json!({"driver": ipam.driver, "config": pools}));
            }
            add_labels(&mut body, n.labels.as_ref());
        }
        children.push(Child {
            kind: ChildKind::Network,
            name: name.clone(),
            docker_name,
            member: None,
            for_provider: body,
            depends_on: Vec::new(),
        });
        networks.insert(key, NetworkRef::Child(name));
    }

    let mut volumes: BTreeMap<String, NetworkRef> = BTreeMap::new();
    for (key, spec) in &file.volumes {
        let spec = spec.as_ref();
        let docker_name = spec
            .and_then(|v| v.name.clone())
            .unwrap_or_else(|| format!("{project}_{key}"));
        if spec.and_then(|v| v.external.as_ref()).is_some_and(truthy) {
            volumes.insert(key.clone(), NetworkRef::External(docker_name));
            continue;
        }
        let name = dns(&format!("{owner}-{key}"));
        let mut body = json!({
            "labels": {"com.docker.compose.project": project, "com.docker.compose.volume": key},
        });
        if let Some(v) = spec {
            report(&format!("volumes.{key}"), &v.other, &mut unsupported);
            if let Some(d) = &v.driver {
                body["driver"] = json!(d);
            }
            if !v.driver_opts.is_empty() {
                let opts: BTreeMap<_, _> = v
                    .driver_opts
                    .iter()
                    .map(|(k, v)| (k, compose::scalar(v)))
                    .collect();
                body["driverOpts"] = json!(opts);
            }
            add_labels(&mut body, v.labels.as_ref());
        }
        children.push(Child {
            kind: ChildKind::Volume,
            name: name.clone(),
            docker_name,
            member: None,
            for_provider: body,
            depends_on: Vec::new(),
        });
        volumes.insert(key.clone(), NetworkRef::Child(name));
    }

    for (svc, s) in &active {
        let path = format!("services.{svc}");
        let replicas = s
            .deploy
            .as_ref()
            .and_then(|d| d.replicas)
            .or(s.scale)
            .unwrap_or(1);
        let body = container(
            mr,
            svc,
            s,
            project,
            &networks,
            &volumes,
            env_files,
            &mut unsupported,
        )?;
        let mut depends_on = Vec::new();
        let deps: Vec<(String, Gate, bool)> = match &s.depends_on {
            None => Vec::new(),
            Some(DependsOn::List(l)) => l.iter().map(|d| (d.clone(), Gate::Started, true)).collect(),
            Some(DependsOn::Map(m)) => m
                .iter()
                .map(|(d, dep)| {
                    let gate = match dep.condition.as_str() {
                        "service_started" => Gate::Started,
                        "service_healthy" => Gate::Healthy,
                        "service_completed_successfully" => Gate::CompletedSuccessfully,
                        other => {
                            return Err(compose_error(&format!("{path}.depends_on.{d}.condition"), format!("{other:?} is not service_started, service_healthy or service_completed_successfully")));
                        }
                    };
                    if dep.restart.is_some() {
                        unsupported.push(format!("{path}.depends_on.{d}.restart"));
                    }
                    Ok((d.clone(), gate, dep.required))
                })
                .collect::<Result<_>>()?,
        };
        for (dep, gate, required) in deps {
            if !active.contains_key(&dep) {
                if required && !file.services.contains_key(&dep) {
                    return Err(compose_error(
                        &format!("{path}.depends_on"),
                        format!("{dep} is not a service of this project"),
                    ));
                }
                continue;
            }
            depends_on.push((dns(&format!("{owner}-{dep}-1")), dep, gate));
        }
        for n in 1..=replicas {
            let mut body = body.clone();
            body["labels"]["com.docker.compose.container-number"] = json!(n.to_string());
            let docker_name = match (&s.container_name, replicas) {
                (Some(name), 1) => name.clone(),
                _ => format!("{project}-{svc}-{n}"),
            };
            children.push(Child {
                kind: ChildKind::Container,
                name: dns(&format!("{owner}-{svc}-{n}")),
                docker_name,
                member: Some(svc.to_string()),
                for_provider: body,
                depends_on: depends_on.clone(),
            });
        }
    }
    let mut seen = BTreeSet::new();
    for c in &children {
        if !seen.insert((c.kind, c.name.clone())) {
            return Err(Error::Compose(format!(
                "two {:?}s would both be named {}; rename one of them (names are lowercased and _ becomes -)",
                c.kind, c.name
            )));
        }
    }
    Ok(Plan {
        project: project.into(),
        endpoint: endpoint.into(),
        children,
        unsupported,
    })
}

/// Where a network or volume comes from: a child of the Service, or an existing object.
enum NetworkRef {
    Child(String),
    External(String),
}

/// Keys read but not carried (compose's `x-` extensions are for tools, so not reported).
fn report(path: &str, other: &BTreeMap<String, Value>, unsupported: &mut Vec<String>) {
    for k in other.keys().filter(|k| !k.starts_with("x-")) {
        unsupported.push(format!("{path}.{k}"));
    }
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Bool(false) | Value::Null)
}

fn strip_nulls(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
    }
    v
}

fn add_labels(body: &mut Value, labels: Option<&compose::ListOrMap>) {
    for (k, v) in labels.map(|l| l.pairs()).unwrap_or_default() {
        body["labels"][k] = json!(v.unwrap_or_default());
    }
}

/// One service's Container `forProvider`.
#[allow(clippy::too_many_arguments)]
fn container(
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

/// depends_on must not loop.
fn check_cycles(services: &BTreeMap<&String, &compose::Service>) -> Result<()> {
    fn deps(s: &compose::Service) -> Vec<String> {
        match &s.depends_on {
            None => Vec::new(),
            Some(DependsOn::List(l)) => l.clone(),
            Some(DependsOn::Map(m)) => m.keys().cloned().collect(),
        }
    }
    fn visit(
        name: &str,
        services: &BTreeMap<&String, &compose::Service>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Result<()> {
        if let Some(i) = stack.iter().position(|s| s == name) {
            let mut chain = stack[i..].to_vec();
            chain.push(name.into());
            return Err(Error::Compose(format!(
                "services.{name}.depends_on: dependency cycle {}",
                chain.join(" -> ")
            )));
        }
        if done.contains(name) {
            return Ok(());
        }
        let Some(s) = services.get(&name.to_string()) else {
            return Ok(());
        };
        stack.push(name.into());
        for d in deps(s) {
            visit(&d, services, stack, done)?;
        }
        stack.pop();
        done.insert(name.into());
        Ok(())
    }
    let mut done = BTreeSet::new();
    for name in services.keys() {
        visit(name, services, &mut Vec::new(), &mut done)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(compose: &str) -> Service {
        serde_json::from_value(json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1", "kind": "Service",
            "metadata": {"name": "shop", "namespace": "team"},
            "spec": {"forProvider": {"compose": compose, "environment": {"TAG": "v1a"}}},
        }))
        .unwrap()
    }

    fn plan(compose: &str) -> Result<Plan> {
        let mr = service(compose);
        let mut doc = parse(compose, "c")?;
        compose::interpolate(&mut doc, &mr.spec.for_provider.environment, "").unwrap();
        let file: File = serde_json::from_value(doc).unwrap();
        expand(&mr, &file, "team-shop", "127.0.0.1", &BTreeMap::new())
    }

    #[test]
    fn a_stack_expands_into_named_children_with_gates() {
        let plan = plan(
            r#"
services:
  db:
    image: "busybox:${TAG}"
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    volumes: [data:/data]
  web:
    image: busybox
    deploy: {replicas: 2}
    ports: ["127.0.0.1:8080-8081:80-81/tcp", "[::1]::90"]
    depends_on: {db: {condition: service_healthy}}
    build: .
volumes:
  data: {}
"#,
        )
        .unwrap();
        let names: Vec<(ChildKind, &str, &str)> = plan
            .children
            .iter()
            .map(|c| (c.kind, c.name.as_str(), c.docker_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (ChildKind::Network, "shop-default", "team-shop_default"),
                (ChildKind::Volume, "shop-data", "team-shop_data"),
                (ChildKind::Container, "shop-db-1", "team-shop-db-1"),
                (ChildKind::Container, "shop-web-1", "team-shop-web-1"),
                (ChildKind::Container, "shop-web-2", "team-shop-web-2"),
            ]
        );
        let db = &plan.children[2].for_provider;
        assert_eq!(db["image"], "busybox:v1a");
        assert_eq!(db["mounts"][0]["volume"]["volumeRef"]["name"], "shop-data");
        assert_eq!(db["networks"][0]["aliases"][0], "db");
        let web = &plan.children[3];
        assert_eq!(
            web.depends_on,
            [("shop-db-1".to_string(), "db".to_string(), Gate::Healthy)]
        );
        assert_eq!(web.for_provider["ports"][0]["hostPort"], "8080-8081");
        assert_eq!(web.for_provider["ports"][1]["hostIp"], "::1");
        assert_eq!(plan.unsupported, ["services.web.build"]);
    }

    #[test]
    fn bad_projects_get_the_path_and_the_fix() {
        let cycle =
            plan("services: {a: {image: x, depends_on: [b]}, b: {image: x, depends_on: [a]}}")
                .err()
                .unwrap()
                .to_string();
        assert!(
            cycle.contains("cycle") && cycle.contains("a -> b -> a"),
            "{cycle}"
        );
        let port = plan("services: {a: {image: x, ports: ['1:2:3:4']}}")
            .err()
            .unwrap()
            .to_string();
        assert!(port.contains("services.a.ports[0]"), "{port}");
        let volume = plan("services: {a: {image: x, volumes: ['nope:/d']}}")
            .err()
            .unwrap()
            .to_string();
        assert!(volume.contains("nope is not declared"), "{volume}");
        let image = plan("services: {a: {build: .}}").err().unwrap().to_string();
        assert!(
            image.contains("services.a") && image.contains("give image"),
            "{image}"
        );
        let dep = plan("services: {a: {image: x, depends_on: [ghost]}}")
            .err()
            .unwrap()
            .to_string();
        assert!(dep.contains("ghost is not a service"), "{dep}");
    }
}
