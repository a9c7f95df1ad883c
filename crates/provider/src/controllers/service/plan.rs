//! From a Service's compose project to the children it owns: one Network per network, one
//! Volume per named volume, N Containers per service, named as docker compose names things
//! on the Docker side and DNS-safe on the Kubernetes side. The compose file itself is read
//! by the `compose` crate (crates/compose).

use std::collections::{BTreeMap, BTreeSet};

use api::service::Service;
use compose::{Condition, LoadInput, Loaded, Unsupported};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, ResourceExt};
use serde_json::json;

use super::{
    children::{Child, ChildKind},
    container_spec::{container, mode_service, report_uncarried, skip, strip_nulls},
    files::ProjectFiles,
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
    /// Compose fields not carried, as `path: reason`.
    pub unsupported: Vec<String>,
}

/// Reads the project (inline, from a ConfigMap, or structured) and the files it names,
/// loads it and expands it.
pub async fn load(ctx: &Context, mr: &Service, project: &str, endpoint: &str) -> Result<Plan> {
    let (text, field) = source(ctx, mr).await?;
    let files = ProjectFiles::fetch(ctx, mr).await?;
    let loaded = parse(mr, &text, ("compose.yaml", Some(field)), &files)?;
    expand(mr, &loaded, project, endpoint, &files)
}

/// The compose text and the field it came from.
async fn source(ctx: &Context, mr: &Service) -> Result<(String, &'static str)> {
    let p = &mr.spec.for_provider;
    match (&p.compose, &p.compose_from, &p.project) {
        (Some(yaml), _, _) => Ok((yaml.clone(), "spec.forProvider.compose")),
        (_, Some(sel), _) => {
            let field = "spec.forProvider.composeFrom";
            let namespace = mr.namespace().unwrap_or_default();
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
            Ok((yaml, field))
        }
        (_, _, Some(value)) => {
            let yaml = serde_yaml_ng::to_string(value)
                .map_err(|e| Error::Compose(format!("spec.forProvider.project: {e}")))?;
            Ok((yaml, "spec.forProvider.project"))
        }
        _ => Err(Error::Compose(
            "spec.forProvider: give the project as compose, composeFrom or project".into(),
        )),
    }
}

/// Loads compose text with the Service's environment, profiles and files; errors name
/// `field` (the Service field the text came from), else only the compose paths.
pub(super) fn parse(
    mr: &Service,
    text: &str,
    (name, field): (&str, Option<&str>),
    files: &ProjectFiles,
) -> Result<Loaded> {
    let p = &mr.spec.for_provider;
    let input = LoadInput::new(name, text)
        .with_environment(p.environment.clone())
        .with_profiles(p.profiles.clone())
        .with_reader(files);
    compose::load(&input).map_err(|errors| {
        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
        match field {
            Some(field) => Error::Compose(format!("{field}: {}", all.join("; "))),
            None => Error::Compose(all.join("; ")),
        }
    })
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

/// Where a network or volume comes from: a child of the Service, or an existing object.
pub(super) enum Ref {
    Child(String),
    External(String),
}

/// What a member's translation may look up.
pub(super) struct Scope<'a> {
    /// The compose project name on the daemon.
    pub project: &'a str,
    pub compose: &'a compose::Project,
    pub networks: BTreeMap<String, Ref>,
    pub volumes: BTreeMap<String, Ref>,
    pub files: &'a ProjectFiles,
    pub environment: &'a BTreeMap<String, String>,
    pub suspend: bool,
}

impl Scope<'_> {
    /// The Docker name of container `n` of `service`, as docker compose names it.
    pub fn container_name(&self, service: &str, n: u32) -> String {
        let s = self.compose.services.get(service);
        match s.and_then(|s| s.container_name.as_ref()) {
            Some(name) if s.is_some_and(|s| s.replicas() == 1) => name.clone(),
            _ => format!("{}-{service}-{n}", self.project),
        }
    }

    /// A `network_mode`, `pid` or `ipc` value with `service:NAME` resolved to the
    /// service's first container.
    pub fn mode(&self, mode: &str) -> String {
        match mode_service(mode) {
            Some(service) => format!("container:{}", self.container_name(service, 1)),
            None => mode.to_string(),
        }
    }
}

/// The project expanded into children.
pub(super) fn expand(
    mr: &Service,
    loaded: &Loaded,
    project: &str,
    endpoint: &str,
    files: &ProjectFiles,
) -> Result<Plan> {
    let owner = mr.name_any();
    let compose = &loaded.project;
    let mut unsupported = loaded.unsupported.clone();
    if compose.services.is_empty() {
        return Err(Error::Compose(format!(
            "the project has no service to run: every service is disabled by its profiles ({}); enable one in spec.forProvider.profiles",
            loaded.disabled_services.join(", ")
        )));
    }
    let order = compose
        .start_order()
        .map_err(|e| Error::Compose(format!("services: {e}; break the cycle in depends_on")))?;
    let mut children = Vec::new();
    let mut scope = Scope {
        project,
        compose,
        networks: BTreeMap::new(),
        volumes: BTreeMap::new(),
        files,
        environment: &mr.spec.for_provider.environment,
        suspend: mr.spec.for_provider.suspend,
    };
    networks(&owner, &mut scope, &mut children, &mut unsupported);
    volumes(&owner, &mut scope, &mut children);

    for svc in order {
        let s = &compose.services[svc];
        let path = format!("services.{svc}");
        let body = container(&scope, svc, s, &mut unsupported)?;
        let mut depends_on = Vec::new();
        for (dep, d) in &s.depends_on {
            let gate = match d.condition {
                Condition::ServiceStarted => Gate::Started,
                Condition::ServiceHealthy => Gate::Healthy,
                Condition::ServiceCompletedSuccessfully => Gate::CompletedSuccessfully,
            };
            if d.restart {
                skip(
                    &mut unsupported,
                    format!("{path}.depends_on.{dep}.restart"),
                    "restarting this service when the dependency is updated is not carried",
                );
            }
            depends_on.push((dep.as_str(), gate));
        }
        // Sharing another member's namespaces needs that member to exist first.
        let modes = [
            s.network_mode.as_ref().map(|m| m.to_string()),
            s.pid.clone(),
            s.ipc.clone(),
        ];
        for mode in modes.iter().flatten() {
            if let Some(dep) = mode_service(mode) {
                depends_on.push((dep, Gate::Started));
            }
        }
        let depends_on: Vec<(String, String, Gate)> = depends_on
            .into_iter()
            .filter(|(dep, _)| compose.services.contains_key(*dep))
            .map(|(dep, gate)| (dns(&format!("{owner}-{dep}-1")), dep.to_string(), gate))
            .collect();
        for n in 1..=s.replicas() {
            let mut body = body.clone();
            body["labels"]["com.docker.compose.container-number"] = json!(n.to_string());
            children.push(Child {
                kind: ChildKind::Container,
                name: dns(&format!("{owner}-{svc}-{n}")),
                docker_name: scope.container_name(svc, n),
                member: Some(svc.to_string()),
                origin: path.clone(),
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
    let mut reported = BTreeSet::new();
    unsupported.retain(|u| reported.insert(u.path.clone()));
    unsupported.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Plan {
        project: project.into(),
        endpoint: endpoint.into(),
        children,
        unsupported: unsupported.iter().map(ToString::to_string).collect(),
    })
}

/// One Network child per project network; external ones are only referred to.
fn networks(
    owner: &str,
    scope: &mut Scope,
    children: &mut Vec<Child>,
    unsupported: &mut Vec<Unsupported>,
) {
    for (key, n) in &scope.compose.networks {
        let docker_name = n
            .name
            .clone()
            .unwrap_or_else(|| format!("{}_{key}", scope.project));
        if n.external {
            scope
                .networks
                .insert(key.clone(), Ref::External(docker_name));
            continue;
        }
        let path = format!("networks.{key}");
        report_uncarried(
            n,
            &path,
            &[
                "name",
                "driver",
                "driver_opts",
                "ipam",
                "internal",
                "enable_ipv6",
                "attachable",
                "labels",
            ],
            unsupported,
        );
        let mut labels = BTreeMap::from([
            ("com.docker.compose.project", scope.project.to_string()),
            ("com.docker.compose.network", key.clone()),
        ]);
        labels.extend(n.labels.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let ipam = n.ipam.as_ref().map(|ipam| {
            let pools: Vec<_> = ipam
                .config
                .iter()
                .map(|c| {
                    strip_nulls(json!({
                        "subnet": c.subnet, "ipRange": c.ip_range, "gateway": c.gateway,
                        "auxiliaryAddresses": (!c.aux_addresses.is_empty()).then_some(&c.aux_addresses),
                    }))
                })
                .collect();
            strip_nulls(json!({
                "driver": ipam.driver,
                "config": pools,
                "options": (!ipam.options.is_empty()).then_some(&ipam.options),
            }))
        });
        let body = strip_nulls(json!({
            "labels": labels,
            "driver": n.driver,
            "internal": n.internal.then_some(true),
            "attachable": n.attachable.then_some(true),
            "enableIPv6": n.enable_ipv6,
            "options": (!n.driver_opts.is_empty()).then_some(&n.driver_opts),
            "ipam": ipam,
        }));
        let name = dns(&format!("{owner}-{key}"));
        children.push(Child {
            kind: ChildKind::Network,
            name: name.clone(),
            docker_name,
            member: None,
            origin: path,
            for_provider: body,
            depends_on: Vec::new(),
        });
        scope.networks.insert(key.clone(), Ref::Child(name));
    }
}

/// One Volume child per named volume; external ones are only referred to.
fn volumes(owner: &str, scope: &mut Scope, children: &mut Vec<Child>) {
    for (key, v) in &scope.compose.volumes {
        let docker_name = v
            .name
            .clone()
            .unwrap_or_else(|| format!("{}_{key}", scope.project));
        if v.external {
            scope
                .volumes
                .insert(key.clone(), Ref::External(docker_name));
            continue;
        }
        let mut labels = BTreeMap::from([
            ("com.docker.compose.project", scope.project.to_string()),
            ("com.docker.compose.volume", key.clone()),
        ]);
        labels.extend(v.labels.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let body = strip_nulls(json!({
            "labels": labels,
            "driver": v.driver,
            "driverOpts": (!v.driver_opts.is_empty()).then_some(&v.driver_opts),
        }));
        let name = dns(&format!("{owner}-{key}"));
        children.push(Child {
            kind: ChildKind::Volume,
            name: name.clone(),
            docker_name,
            member: None,
            origin: format!("volumes.{key}"),
            for_provider: body,
            depends_on: Vec::new(),
        });
        scope.volumes.insert(key.clone(), Ref::Child(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(compose: &str) -> Service {
        serde_json::from_value(json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1", "kind": "Service",
            "metadata": {"name": "shop", "namespace": "team"},
            "spec": {"forProvider": {"compose": compose, "environment": {"TAG": "v1a", "PW": "s3"}}},
        }))
        .unwrap()
    }

    fn plan(compose: &str) -> Result<Plan> {
        let mr = service(compose);
        let files = ProjectFiles::default();
        let loaded = parse(&mr, compose, ("compose.yaml", None), &files)?;
        expand(&mr, &loaded, "team-shop", "127.0.0.1", &files)
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
    secrets: [pw]
  web:
    image: busybox
    deploy: {replicas: 2}
    ports: ["127.0.0.1:8080-8081:80-81/tcp", "[::1]::90"]
    depends_on: {db: {condition: service_healthy}}
    build: .
    expose: ["80"]
volumes:
  data: {}
secrets:
  pw: {environment: PW}
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
        assert_eq!(db["healthCheck"]["interval"], "1s");
        assert_eq!(
            db["files"][0],
            json!({"path": "/run/secrets/pw", "content": "s3"})
        );
        let web = &plan.children[3];
        assert_eq!(
            web.depends_on,
            [("shop-db-1".to_string(), "db".to_string(), Gate::Healthy)]
        );
        let ports = &web.for_provider["ports"];
        assert_eq!(ports[0]["hostPort"], 8080);
        assert_eq!(ports[1]["containerPort"], 81);
        assert_eq!(ports[2]["hostIP"], "::1");
        let paths: Vec<&str> = plan
            .unsupported
            .iter()
            .map(|u| u.split(':').next().unwrap())
            .collect();
        assert_eq!(paths, ["services.web.build", "services.web.expose"]);
    }

    /// Every key a member's forProvider uses is a Container field: what serde would drop
    /// on the way into the type (a misspelt key such as hostIp) fails here.
    #[test]
    fn every_translated_field_is_a_container_field() {
        let plan = plan(
            r#"
services:
  all:
    image: busybox
    entrypoint: [sh, -c]
    command: ["echo hi"]
    environment: {A: "1"}
    working_dir: /w
    user: "1000:1000"
    hostname: h
    stop_signal: SIGINT
    stop_grace_period: 5s
    restart: on-failure:3
    pull_policy: always
    healthcheck: {test: "true", interval: 1s, timeout: 2s, retries: 3, start_period: 1s}
    ports: ["127.0.0.1:8080:80/udp"]
    volumes: ["data:/data:ro", "/srv:/srv", {type: tmpfs, target: /t, tmpfs: {size: 1m, mode: 0o1777}}]
    tmpfs: [/run]
    secrets: [pw]
    read_only: false
    privileged: true
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    devices: ["/dev/fuse:/dev/fuse:rwm"]
    gpus: all
    deploy: {resources: {limits: {cpus: "0.5", memory: 64m, pids: 10}, reservations: {memory: 32m, devices: [{driver: nvidia, device_ids: ["0"], capabilities: [gpu]}]}}}
    pid: host
    ipc: host
    dns: [1.1.1.1]
    extra_hosts: ["a:10.0.0.1"]
    logging: {driver: json-file, options: {max-size: 1m}}
    networks: {n: {aliases: [x], ipv4_address: 10.5.0.9}}
networks:
  n: {ipam: {config: [{subnet: 10.5.0.0/24}]}}
volumes:
  data: {}
secrets:
  pw: {environment: PW}
"#,
        )
        .unwrap();
        let member = plan
            .children
            .iter()
            .find(|c| c.name == "shop-all-1")
            .unwrap();
        let typed: api::container::ContainerParameters =
            serde_json::from_value(member.for_provider.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), member.for_provider);
    }

    #[test]
    fn shared_namespaces_wait_for_the_member_they_share() {
        let plan = plan(
            "services: {app: {image: x}, side: {image: x, network_mode: 'service:app', pid: 'service:app'}}",
        )
        .unwrap();
        let side = plan
            .children
            .iter()
            .find(|c| c.name == "shop-side-1")
            .unwrap();
        assert_eq!(
            side.for_provider["networkMode"],
            "container:team-shop-app-1"
        );
        assert_eq!(side.for_provider["pidMode"], "container:team-shop-app-1");
        assert!(side.for_provider.get("networks").is_none());
        assert_eq!(side.depends_on[0].0, "shop-app-1");
    }

    #[test]
    fn bad_projects_get_the_path_and_the_fix() {
        let error = |compose: &str| plan(compose).err().unwrap().to_string();
        let cycle =
            error("services: {a: {image: x, depends_on: [b]}, b: {image: x, depends_on: [a]}}");
        assert!(
            cycle.contains("cycle") && cycle.contains("a -> b -> a"),
            "{cycle}"
        );
        let port = error("services: {a: {image: x, ports: ['1:2:3:4']}}");
        assert!(port.contains("services.a.ports[0]"), "{port}");
        let volume = error("services: {a: {image: x, volumes: ['nope:/d']}}");
        assert!(
            volume.contains("services.a.volumes[0]") && volume.contains("nope"),
            "{volume}"
        );
        let image = error("services: {a: {build: .}}");
        assert!(
            image.contains("services.a") && image.contains("give image"),
            "{image}"
        );
        let dep = error("services: {a: {image: x, depends_on: [ghost]}}");
        assert!(
            dep.contains("services.a.depends_on") && dep.contains("ghost"),
            "{dep}"
        );
        let secret =
            error("services: {a: {image: x, secrets: [s]}}\nsecrets: {s: {file: ./s.txt}}");
        assert!(
            secret.contains("envFiles") && secret.contains("s.txt"),
            "{secret}"
        );
    }
}
