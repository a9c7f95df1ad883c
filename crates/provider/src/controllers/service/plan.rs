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
    compose::{self, DependsOn, File},
    container_spec::{NetworkRef, add_labels, container, report, strip_nulls, truthy},
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

pub(super) fn parse(yaml: &str, field: &str) -> Result<Value> {
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
pub(super) fn dns(name: &str) -> String {
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

pub(super) fn compose_error(path: &str, message: impl std::fmt::Display) -> Error {
    Error::Compose(format!("{path}: {message}"))
}

/// The project expanded into children.
pub(super) fn expand(
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
