//! The tenancy policy of a provider config, checked before anything reaches the daemon:
//! what a managed resource may do on the daemon host. Pure: spec in, refusals out.

use api::{
    container::ContainerParameters, provider_config::TenancyPolicy, volume::VolumeParameters,
};

/// Docker's own capability names come with or without the `CAP_` prefix.
fn capability(name: &str) -> String {
    name.trim_start_matches("CAP_").to_ascii_uppercase()
}

fn path_allowed(policy: &TenancyPolicy, path: &str) -> bool {
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
}
