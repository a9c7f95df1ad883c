//! The tenancy policy of a provider config, checked before anything reaches the daemon:
//! what a managed resource may do on the daemon host, and whose Docker objects it may
//! share. The checks are pure; [`look_up`] asks the daemon who holds what a spec shares.

use std::collections::{BTreeMap, HashMap};

use api::{
    container::ContainerParameters, provider_config::TenancyPolicy, volume::VolumeParameters,
};
use bollard::query_parameters::ListContainersOptionsBuilder;

use crate::{error::Result, labels, pool::Daemon};

/// Docker's own capability names come with or without the `CAP_` prefix.
fn capability(name: &str) -> String {
    name.trim_start_matches("CAP_").to_ascii_uppercase()
}

/// Whether `policy` admits the host path `path` (by whole components).
pub fn path_allowed(policy: &TenancyPolicy, path: &str) -> bool {
    // Compare whole path components: `/srv/app` must not admit `/srv/application`.
    let normalized = |p: &str| format!("{}/", p.trim_end_matches('/'));
    let path = normalized(path);
    !path.contains("/../")
        && policy
            .allowed_host_paths
            .iter()
            .any(|prefix| path.starts_with(&normalized(prefix)))
}

/// Every way the container spec goes beyond the policy, each naming the field and the
/// policy setting that would allow it. `config` names the provider config in messages.
pub fn container_violations(
    p: &ContainerParameters,
    policy: &TenancyPolicy,
    config: &str,
) -> Vec<String> {
    let mut out = vec![];
    let mut refuse = |field: &str, what: &str, setting: &str| {
        out.push(format!(
            "spec.forProvider.{field}: {what} is not allowed by {config} (spec.policy.{setting})"
        ));
    };
    let security = p.security.clone().unwrap_or_default();
    if security.privileged == Some(true) && !policy.allow_privileged {
        refuse(
            "security.privileged",
            "a privileged container",
            "allowPrivileged",
        );
    }
    if p.network_mode.as_deref() == Some("host") && !policy.allow_host_network {
        refuse("networkMode", "the host network", "allowHostNetwork");
    }
    if p.pid_mode.as_deref() == Some("host") && !policy.allow_host_pid {
        refuse("pidMode", "the host PID namespace", "allowHostPID");
    }
    if p.ipc_mode.as_deref() == Some("host") && !policy.allow_host_ipc {
        refuse("ipcMode", "the host IPC namespace", "allowHostIPC");
    }
    for (i, m) in p.mounts.iter().enumerate() {
        if let Some(h) = &m.host_path
            && !path_allowed(policy, &h.path)
        {
            refuse(
                &format!("mounts[{i}].hostPath"),
                &format!("host path {}", h.path),
                "allowedHostPaths",
            );
        }
    }
    let allowed: Vec<String> = policy
        .allowed_capabilities
        .iter()
        .map(|c| capability(c))
        .collect();
    if !allowed.iter().any(|c| c == "ALL") {
        for cap in security.capabilities.iter().flat_map(|c| c.add.iter()) {
            if !allowed.contains(&capability(cap)) {
                refuse(
                    "security.capabilities.add",
                    &format!("capability {cap}"),
                    "allowedCapabilities",
                );
            }
        }
    }
    if !policy.allow_devices {
        if !p.devices.is_empty() {
            refuse("devices", "host devices", "allowDevices");
        }
        if !p.device_requests.is_empty() {
            refuse("deviceRequests", "device requests", "allowDevices");
        }
    }
    out
}

/// A volume whose driver options bind a host path is a host path like any bind mount.
pub fn volume_violations(
    p: &VolumeParameters,
    policy: &TenancyPolicy,
    config: &str,
) -> Vec<String> {
    let binds = p
        .driver_opts
        .get("o")
        .is_some_and(|o| o.split(',').any(|o| o == "bind"))
        || p.driver_opts.get("type").is_some_and(|t| t == "none");
    match p.driver_opts.get("device") {
        Some(device) if binds && !path_allowed(policy, device) => vec![format!(
            "spec.forProvider.driverOpts.device: host path {device} is not allowed by {config} (spec.policy.allowedHostPaths)"
        )],
        _ => vec![],
    }
}

/// Whose a Docker object is, as its labels tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Not on the daemon.
    Missing,
    /// Not made by provider-docker: by hand, by another tool, or by Docker itself (a
    /// volume a mount named before it existed).
    Unmanaged,
    /// Made by provider-docker for a resource in this namespace.
    Namespace(String),
}

impl Holder {
    pub fn of(tags: Option<&HashMap<String, String>>) -> Self {
        let ours = tags.filter(|l| {
            l.get(labels::MANAGED_BY).map(String::as_str) == Some(labels::MANAGED_BY_VALUE)
        });
        match ours.and_then(|l| l.get(labels::NAMESPACE)) {
            Some(ns) => Self::Namespace(ns.clone()),
            None => Self::Unmanaged,
        }
    }
}

/// What the daemon holds of a named volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeFacts {
    pub holder: Holder,
    /// Its directory on the daemon host.
    pub mountpoint: Option<String>,
    /// Who holds each container that mounts it.
    pub users: Vec<Holder>,
}

/// One network the container joins, and who holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkFacts {
    /// The spec field that names it, under `spec.forProvider`.
    pub field: String,
    /// Its Docker name (a reference resolved).
    pub name: String,
    pub holder: Holder,
}

/// What the daemon holds of the Docker objects a spec would share.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// By the name or ID a `container:` mode gives.
    pub containers: BTreeMap<String, Holder>,
    /// By volume name.
    pub volumes: BTreeMap<String, VolumeFacts>,
    /// In the order the spec joins them.
    pub networks: Vec<NetworkFacts>,
}

/// The networks the spec joins, by Docker name: (field, name). `resolved` holds the Docker
/// names of the attachments that reference a Network, by index.
pub fn attached_networks(
    p: &ContainerParameters,
    resolved: &BTreeMap<usize, String>,
) -> Vec<(String, String)> {
    p.networks
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let name = a.name.as_ref().or_else(|| resolved.get(&i))?;
            Some((format!("networks[{i}]"), name.clone()))
        })
        .collect()
}

/// The containers whose namespaces the spec joins: (field, `container:` target, the
/// policy setting that allows joining the host's namespace of that kind).
fn joined(p: &ContainerParameters) -> Vec<(&'static str, &str, &'static str)> {
    [
        ("networkMode", p.network_mode.as_deref(), "allowHostNetwork"),
        ("pidMode", p.pid_mode.as_deref(), "allowHostPID"),
        ("ipcMode", p.ipc_mode.as_deref(), "allowHostIPC"),
    ]
    .into_iter()
    .filter_map(|(field, mode, setting)| {
        let target = mode?.strip_prefix("container:")?;
        Some((field, target, setting))
    })
    .collect()
}

/// The volumes the spec mounts by Docker name: (field, name).
fn named_volumes(p: &ContainerParameters) -> Vec<(String, &str)> {
    p.mounts
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let name = m.volume.as_ref()?.name.as_deref()?;
            Some((format!("mounts[{i}].volume.name"), name))
        })
        .collect()
}

/// Whether joining the host's namespace of a kind is allowed, by the setting's name.
fn host_allowed(policy: &TenancyPolicy, setting: &str) -> bool {
    match setting {
        "allowHostNetwork" => policy.allow_host_network,
        "allowHostPID" => policy.allow_host_pid,
        "allowHostIPC" => policy.allow_host_ipc,
        _ => false,
    }
}

/// What sharing other Docker objects comes to: refusals, and objects not there yet.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sharing {
    pub refusals: Vec<String>,
    /// Containers a `container:` mode names that do not exist yet: wait for them.
    pub missing: Vec<String>,
}

/// Whose objects the spec shares, judged against `namespace` (the resource's).
///
/// The rule: sharing never grants more than the policy grants directly, and one tenant
/// never reaches another's objects.
/// - A `container:<name>` mode may join a container provider-docker manages in the same
///   namespace. Any other container (another namespace's, or one not made here) only when
///   the config allows the host's namespace of that kind (`allowHostPID` for `pidMode`, ...),
///   since joining that is no more than such a config already allows.
/// - A volume named in `mounts[].volume.name` may be one provider-docker manages (or made
///   for a mount) in the same namespace, or a missing one (it is made for this namespace).
///   Any other: another namespace's, one in use by another namespace's container, or one
///   made outside provider-docker (its data may be anyone's), only when `allowedHostPaths`
///   admits its directory on the host, since a bind of that directory would be allowed
///   anyway. A volume made outside that only this namespace's containers mount stays
///   usable (Docker made such volumes for mounts before provider-docker labelled them).
/// - A network may be one of the same namespace or one made outside provider-docker (the
///   daemon's shared networks, like the default bridge), never another namespace's. The
///   `host` network only when the config allows `allowHostNetwork`, however it is named
///   (by name, or a Network resource adopting it).
pub fn sharing_violations(
    p: &ContainerParameters,
    facts: &Facts,
    policy: &TenancyPolicy,
    config: &str,
    namespace: &str,
) -> Sharing {
    let mut out = Sharing::default();
    let ours = |h: &Holder| matches!(h, Holder::Namespace(ns) if ns == namespace);
    for (field, target, setting) in joined(p) {
        if host_allowed(policy, setting) {
            continue;
        }
        match facts.containers.get(target).unwrap_or(&Holder::Missing) {
            h if ours(h) => {}
            Holder::Missing => out.missing.push(format!(
                "spec.forProvider.{field}: waiting for container {target} to exist"
            )),
            other => out.refusals.push(format!(
                "spec.forProvider.{field}: container:{target} is {}, which is not allowed by {config} (spec.policy.{setting}); join only containers of namespace {namespace}",
                match other {
                    Holder::Unmanaged => "not a container provider-docker manages",
                    _ => "a container of another namespace",
                }
            )),
        }
    }
    for (field, name) in named_volumes(p) {
        let Some(v) = facts.volumes.get(name) else {
            continue;
        };
        let foreign = |h: &Holder| matches!(h, Holder::Namespace(ns) if ns != namespace);
        let why = if foreign(&v.holder) {
            "a volume of another namespace"
        } else if v.users.iter().any(foreign) {
            "in use by a container of another namespace"
        } else if v.holder == Holder::Unmanaged && (v.users.is_empty() || !v.users.iter().all(ours))
        {
            "not a volume provider-docker manages"
        } else {
            continue;
        };
        if v.mountpoint
            .as_deref()
            .is_some_and(|m| path_allowed(policy, m))
        {
            continue;
        }
        out.refusals.push(format!(
            "spec.forProvider.{field}: volume {name} is {why}, which is not allowed by {config} (spec.policy.allowedHostPaths does not admit its directory); mount a Volume of namespace {namespace} instead"
        ));
    }
    for n in &facts.networks {
        let (field, name) = (&n.field, &n.name);
        if name.contains(':') {
            out.refusals.push(format!(
                "spec.forProvider.{field}: {name} is not a Docker network name; to join another container's network, use networkMode: container:<name>"
            ));
        } else if name == "host" && !policy.allow_host_network {
            out.refusals.push(format!(
                "spec.forProvider.{field}: the host network is not allowed by {config} (spec.policy.allowHostNetwork)"
            ));
        } else if matches!(&n.holder, Holder::Namespace(ns) if ns != namespace) {
            out.refusals.push(format!(
                "spec.forProvider.{field}: network {name} is a network of another namespace, which is not allowed by {config}; join a Network of namespace {namespace} instead"
            ));
        }
    }
    out
}

/// Asks the daemon who holds what the spec would share (`container:` targets, named
/// volumes, the `networks` it joins, see [`attached_networks`]). `own` are container names
/// the caller makes itself in `namespace` (a Service's members), taken as that namespace's
/// without asking. Read-only: nothing is created, and a spec that shares nothing costs no
/// call.
pub async fn look_up(
    daemon: &Daemon,
    p: &ContainerParameters,
    networks: &[(String, String)],
    namespace: &str,
    own: &[String],
) -> Result<Facts> {
    let mut facts = Facts::default();
    for (_, target, _) in joined(p) {
        if facts.containers.contains_key(target) {
            continue;
        }
        let holder = match own.iter().any(|o| o == target) {
            true => Holder::Namespace(namespace.to_string()),
            false => match crate::containers::inspect(daemon, target).await? {
                None => Holder::Missing,
                Some(c) => Holder::of(c.config.as_ref().and_then(|c| c.labels.as_ref())),
            },
        };
        facts.containers.insert(target.to_string(), holder);
    }
    for (_, name) in named_volumes(p) {
        if facts.volumes.contains_key(name) {
            continue;
        }
        let volume = crate::volumes::inspect(daemon, name).await?;
        let filters = HashMap::from([("volume", vec![name])]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let users = daemon
            .call(
                "list_containers",
                "volume",
                name,
                daemon.timeout(),
                |d| async move { d.list_containers(Some(options)).await },
            )
            .await?
            .iter()
            .map(|c| Holder::of(c.labels.as_ref()))
            .collect();
        facts.volumes.insert(
            name.to_string(),
            VolumeFacts {
                holder: match &volume {
                    None => Holder::Missing,
                    Some(v) => Holder::of(Some(&v.labels)),
                },
                mountpoint: volume.map(|v| v.mountpoint),
                users,
            },
        );
    }
    for (field, name) in networks {
        // Neither is a network whose holder matters: `host` is judged by the policy alone,
        // and a name with `:` is not a network.
        let holder = match name.as_str() == "host" || name.contains(':') {
            true => Holder::Unmanaged,
            false => match crate::networks::inspect(daemon, name).await? {
                None => Holder::Missing,
                Some(n) => Holder::of(n.labels.as_ref()),
            },
        };
        facts.networks.push(NetworkFacts {
            field: field.clone(),
            name: name.clone(),
            holder,
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(yaml: &str) -> ContainerParameters {
        serde_yaml_ng::from_str(yaml).expect("fixture parses")
    }

    #[test]
    fn the_default_policy_refuses_every_way_onto_the_host() {
        let p = container(
            "image: x\nnetworkMode: host\npidMode: host\nipcMode: host\nsecurity: {privileged: true, capabilities: {add: [SYS_ADMIN]}}\nmounts: [{mountPath: /h, hostPath: {path: /etc}}]\ndevices: [{hostPath: /dev/fuse}]",
        );
        let refusals = container_violations(&p, &TenancyPolicy::default(), "C");
        for field in [
            "privileged",
            "networkMode",
            "pidMode",
            "ipcMode",
            "hostPath",
            "capabilities",
            "devices",
        ] {
            assert!(
                refusals.iter().any(|r| r.contains(field)),
                "{field} not refused: {refusals:?}"
            );
        }
    }

    #[test]
    fn host_paths_are_allowed_by_whole_components_only() {
        let policy = TenancyPolicy {
            allowed_host_paths: vec!["/srv/app".into()],
            ..Default::default()
        };
        let with = |path: &str| {
            container(&format!(
                "image: x\nmounts: [{{mountPath: /h, hostPath: {{path: {path}}}}}]"
            ))
        };
        assert!(container_violations(&with("/srv/app/data"), &policy, "C").is_empty());
        assert!(container_violations(&with("/srv/app"), &policy, "C").is_empty());
        assert_eq!(
            container_violations(&with("/srv/application"), &policy, "C").len(),
            1
        );
        assert_eq!(
            container_violations(&with("/srv/app/../../etc"), &policy, "C").len(),
            1
        );
    }

    #[test]
    fn capabilities_may_be_dropped_freely_and_added_only_when_allowed() {
        let policy = TenancyPolicy {
            allowed_capabilities: vec!["NET_BIND_SERVICE".into()],
            ..Default::default()
        };
        let p = container(
            "image: x\nsecurity: {capabilities: {drop: [ALL], add: [CAP_NET_BIND_SERVICE]}}",
        );
        assert!(container_violations(&p, &policy, "C").is_empty());
        let p = container("image: x\nsecurity: {capabilities: {add: [NET_ADMIN]}}");
        assert_eq!(container_violations(&p, &policy, "C").len(), 1);
    }

    #[test]
    fn a_bind_device_volume_is_a_host_path() {
        let v: VolumeParameters =
            serde_yaml_ng::from_str("driverOpts: {type: none, o: bind, device: /etc}").unwrap();
        assert_eq!(
            volume_violations(&v, &TenancyPolicy::default(), "C").len(),
            1
        );
        let policy = TenancyPolicy {
            allowed_host_paths: vec!["/etc".into()],
            ..Default::default()
        };
        assert!(volume_violations(&v, &policy, "C").is_empty());
    }

    fn facts(containers: &[(&str, Holder)], volumes: &[(&str, Holder, Vec<Holder>)]) -> Facts {
        Facts {
            containers: containers
                .iter()
                .map(|(n, h)| (n.to_string(), h.clone()))
                .collect(),
            volumes: volumes
                .iter()
                .map(|(n, h, users)| {
                    let facts = VolumeFacts {
                        holder: h.clone(),
                        mountpoint: Some(format!("/var/lib/docker/volumes/{n}/_data")),
                        users: users.clone(),
                    };
                    (n.to_string(), facts)
                })
                .collect(),
            networks: vec![],
        }
    }

    fn ns(n: &str) -> Holder {
        Holder::Namespace(n.into())
    }

    #[test]
    fn a_container_mode_may_join_only_a_container_of_the_same_namespace() {
        let p = container(
            "image: x\nnetworkMode: container:mine\npidMode: container:theirs\nipcMode: container:loose",
        );
        let known = facts(
            &[
                ("mine", ns("team-a")),
                ("theirs", ns("team-b")),
                ("loose", Holder::Unmanaged),
            ],
            &[],
        );
        let sharing = sharing_violations(&p, &known, &TenancyPolicy::default(), "C", "team-a");
        assert_eq!(sharing.refusals.len(), 2, "{sharing:?}");
        assert!(sharing.refusals[0].starts_with(
            "spec.forProvider.pidMode: container:theirs is a container of another namespace"
        ));
        assert!(sharing.refusals[0].contains("spec.policy.allowHostPID"));
        assert!(sharing.refusals[1].starts_with(
            "spec.forProvider.ipcMode: container:loose is not a container provider-docker manages"
        ));
        assert!(sharing.missing.is_empty());
        // A config trusted with the host's namespaces may join any container's.
        let trusted = TenancyPolicy {
            allow_host_pid: true,
            allow_host_ipc: true,
            ..Default::default()
        };
        assert_eq!(
            sharing_violations(&p, &known, &trusted, "C", "team-a"),
            Sharing::default()
        );
    }

    #[test]
    fn a_container_mode_naming_no_container_yet_waits() {
        let p = container("image: x\npidMode: container:later");
        let sharing =
            sharing_violations(&p, &Facts::default(), &TenancyPolicy::default(), "C", "a");
        assert!(sharing.refusals.is_empty());
        assert_eq!(sharing.missing.len(), 1);
        assert!(
            sharing.missing[0].contains("container later"),
            "{sharing:?}"
        );
    }

    #[test]
    fn a_named_volume_may_not_be_another_namespaces() {
        let p = container(
            "image: x\nmounts: [{mountPath: /a, volume: {name: mine}}, {mountPath: /b, volume: {name: theirs}}, {mountPath: /c, volume: {name: borrowed}}, {mountPath: /d, volume: {name: fresh}}, {mountPath: /e, volume: {name: loose}}, {mountPath: /f, volume: {name: unused}}, {mountPath: /g, volume: {name: kept}}]",
        );
        let known = facts(
            &[],
            &[
                ("mine", ns("team-a"), vec![ns("team-a")]),
                ("theirs", ns("team-b"), vec![]),
                ("borrowed", Holder::Unmanaged, vec![ns("team-b")]),
                ("fresh", Holder::Missing, vec![]),
                ("loose", Holder::Unmanaged, vec![Holder::Unmanaged]),
                ("unused", Holder::Unmanaged, vec![]),
                ("kept", Holder::Unmanaged, vec![ns("team-a")]),
            ],
        );
        let sharing = sharing_violations(&p, &known, &TenancyPolicy::default(), "C", "team-a");
        assert_eq!(sharing.refusals.len(), 4, "{sharing:?}");
        assert!(sharing.refusals[0].starts_with(
            "spec.forProvider.mounts[1].volume.name: volume theirs is a volume of another namespace"
        ));
        assert!(sharing.refusals[1].starts_with("spec.forProvider.mounts[2].volume.name: volume borrowed is in use by a container of another namespace"));
        // Made outside provider-docker: anyone's data, whether or not something mounts it.
        assert!(sharing.refusals[2].starts_with("spec.forProvider.mounts[4].volume.name: volume loose is not a volume provider-docker manages"));
        assert!(sharing.refusals[3].starts_with("spec.forProvider.mounts[5].volume.name: volume unused is not a volume provider-docker manages"));
        // A config that lets the tenant bind the volumes' directory lets it name them.
        let binds = TenancyPolicy {
            allowed_host_paths: vec!["/var/lib/docker/volumes".into()],
            ..Default::default()
        };
        assert!(
            sharing_violations(&p, &known, &binds, "C", "team-a")
                .refusals
                .is_empty()
        );
    }

    #[test]
    fn a_network_may_be_shared_or_the_namespaces_but_not_another_namespaces_nor_the_host() {
        let p = container(
            "image: x\nnetworks: [{name: bridge}, {name: mine}, {name: theirs}, {name: host}, {name: 'container:victim'}, {networkRef: {name: adopted}}, {name: later}]",
        );
        let resolved = BTreeMap::from([(5, "host".to_string())]);
        let names = attached_networks(&p, &resolved);
        assert_eq!(names.len(), 7);
        assert_eq!(names[5], ("networks[5]".to_string(), "host".to_string()));
        let holders = [
            Holder::Unmanaged,
            ns("team-a"),
            ns("team-b"),
            Holder::Unmanaged,
            Holder::Unmanaged,
            Holder::Unmanaged,
            Holder::Missing,
        ];
        let known = Facts {
            networks: names
                .iter()
                .zip(holders)
                .map(|((field, name), holder)| NetworkFacts {
                    field: field.clone(),
                    name: name.clone(),
                    holder,
                })
                .collect(),
            ..Default::default()
        };
        let sharing = sharing_violations(&p, &known, &TenancyPolicy::default(), "C", "team-a");
        let fields: Vec<&str> = sharing
            .refusals
            .iter()
            .map(|r| r.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            fields,
            [
                "spec.forProvider.networks[2]",
                "spec.forProvider.networks[3]",
                "spec.forProvider.networks[4]",
                "spec.forProvider.networks[5]"
            ],
            "{sharing:?}"
        );
        assert!(sharing.refusals[0].contains("network theirs is a network of another namespace"));
        assert!(sharing.refusals[1].contains("spec.policy.allowHostNetwork"));
        assert!(sharing.refusals[2].contains("not a Docker network name"));
        // A config that allows the host network allows it by any name, and nothing else.
        let trusted = TenancyPolicy {
            allow_host_network: true,
            ..Default::default()
        };
        assert_eq!(
            sharing_violations(&p, &known, &trusted, "C", "team-a")
                .refusals
                .len(),
            2
        );
    }

    #[test]
    fn only_provider_docker_labels_name_a_namespace() {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let managed = map(&[
            (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
            (labels::NAMESPACE, "team-a"),
        ]);
        assert_eq!(Holder::of(Some(&managed)), ns("team-a"));
        let forged = map(&[(labels::NAMESPACE, "team-a")]);
        assert_eq!(Holder::of(Some(&forged)), Holder::Unmanaged);
        assert_eq!(Holder::of(None), Holder::Unmanaged);
    }
}
