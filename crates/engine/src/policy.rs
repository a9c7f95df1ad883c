//! The tenancy policy of a provider config, checked before anything reaches the daemon:
//! what a managed resource may do on the daemon host, and whose Docker objects it may
//! share. The checks are pure; [`look_up`] asks the daemon who holds what a spec shares.

use std::collections::{BTreeMap, HashMap};

use api::{
    container::ContainerParameters, provider_config::TenancyPolicy, volume::VolumeParameters,
};

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

/// Why adopting an existing object through the external-name is refused, or `None` when
/// `policy` allows it. Only for an object no resource owns (no UID label). `object` names
/// it for the message ("container web on main"); `host_dir` is a volume's directory, which
/// `allowedHostPaths` may admit, since its data is that directory's.
pub fn adoption_refused(
    policy: &TenancyPolicy,
    config: &str,
    tags: Option<&HashMap<String, String>>,
    namespace: &str,
    object: &str,
    host_dir: Option<&str>,
) -> Option<String> {
    const RENAME: &str = "give the resource another external name";
    let settings = match Holder::of(tags) {
        Holder::Namespace(ns) if ns == namespace => return None,
        Holder::Namespace(_) => {
            return Some(format!(
                "adopting {object} is not allowed: it was made for another namespace; {RENAME}"
            ));
        }
        _ if policy.allow_adoption => return None,
        _ if host_dir.is_some_and(|d| path_allowed(policy, d)) => return None,
        _ if host_dir.is_some() => {
            "spec.policy.allowAdoption, or spec.policy.allowedHostPaths for its directory"
        }
        _ => "spec.policy.allowAdoption",
    };
    Some(format!(
        "adopting {object}, made outside provider-docker, is not allowed by {config} ({settings}); {RENAME}, or ask the config's owner to allow it"
    ))
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
/// without asking. `asked` keeps every answer: a caller judging many specs at once (a
/// Service's members all join the same networks) asks about each object once. Read-only:
/// nothing is created, and a spec that shares nothing costs no call.
pub async fn look_up(
    daemon: &Daemon,
    p: &ContainerParameters,
    networks: &[(String, String)],
    namespace: &str,
    own: &[String],
    asked: &mut Asked,
) -> Result<Facts> {
    let mut facts = Facts::default();
    for (_, target, _) in joined(p) {
        if !asked.containers.contains_key(target) {
            let holder = match own.iter().any(|o| o == target) {
                true => Holder::Namespace(namespace.to_string()),
                false => match crate::containers::inspect(daemon, target).await? {
                    None => Holder::Missing,
                    Some(c) => Holder::of(c.config.as_ref().and_then(|c| c.labels.as_ref())),
                },
            };
            asked.containers.insert(target.to_string(), holder);
        }
        facts
            .containers
            .insert(target.to_string(), asked.containers[target].clone());
    }
    for (_, name) in named_volumes(p) {
        if !asked.volumes.contains_key(name) {
            let volume = crate::volumes::inspect(daemon, name).await?;
            let users = crate::volumes::mounting(daemon, name)
                .await?
                .iter()
                .map(|c| Holder::of(c.labels.as_ref()))
                .collect();
            let found = VolumeFacts {
                holder: match &volume {
                    None => Holder::Missing,
                    Some(v) => Holder::of(Some(&v.labels)),
                },
                mountpoint: volume.map(|v| v.mountpoint),
                users,
            };
            asked.volumes.insert(name.to_string(), found);
        }
        facts
            .volumes
            .insert(name.to_string(), asked.volumes[name].clone());
    }
    for (field, name) in networks {
        if !asked.networks.contains_key(name) {
            // Neither is a network whose holder matters: `host` is judged by the policy
            // alone, and a name with `:` is not a network.
            let holder = match name.as_str() == "host" || name.contains(':') {
                true => Holder::Unmanaged,
                false => match crate::networks::inspect(daemon, name).await? {
                    None => Holder::Missing,
                    Some(n) => Holder::of(n.labels.as_ref()),
                },
            };
            asked.networks.insert(name.clone(), holder);
        }
        facts.networks.push(NetworkFacts {
            field: field.clone(),
            name: name.clone(),
            holder: asked.networks[name].clone(),
        });
    }
    Ok(facts)
}

/// What [`look_up`] learned from the daemon, by object name.
#[derive(Debug, Default)]
pub struct Asked {
    containers: BTreeMap<String, Holder>,
    volumes: BTreeMap<String, VolumeFacts>,
    networks: BTreeMap<String, Holder>,
}

#[cfg(test)]
mod tests;
