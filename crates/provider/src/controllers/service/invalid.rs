//! A child the API server refuses (HTTP 422 Invalid), told in the compose project's words:
//! each refused field of the child becomes the compose path it was translated from.

use super::children::ChildKind;
use crate::error::Error;

/// The compose key (under `services.<name>`) a Container `forProvider` field comes from,
/// and whether list indexes carry over one to one.
fn service_key(field: &str) -> Option<(&'static str, bool)> {
    Some(match field {
        "image" => ("image", false),
        "imagePullPolicy" => ("pull_policy", false),
        "command" => ("entrypoint", false),
        "args" => ("command", false),
        "env" => ("environment", false),
        "ports" => ("ports", true),
        "mounts" => ("volumes", false),
        "files" => ("secrets", false),
        "restartPolicy" | "restartMaxRetries" => ("restart", false),
        "healthCheck" => ("healthcheck", false),
        "resources" => ("deploy.resources", false),
        "security.user" => ("user", false),
        "security.privileged" => ("privileged", false),
        "security.readOnlyRootFilesystem" => ("read_only", false),
        "security.capabilities.add" => ("cap_add", true),
        "security.capabilities.drop" => ("cap_drop", true),
        "security.securityOptions" => ("security_opt", true),
        "networkMode" => ("network_mode", false),
        "networks" => ("networks", false),
        "pidMode" => ("pid", false),
        "ipcMode" => ("ipc", false),
        "devices" => ("devices", true),
        "deviceRequests" => ("gpus", false),
        "hostname" => ("hostname", false),
        "workingDir" => ("working_dir", false),
        "labels" => ("labels", false),
        "logging" => ("logging", false),
        "stopSignal" => ("stop_signal", false),
        "stopGracePeriod" => ("stop_grace_period", false),
        "extraHosts" => ("extra_hosts", false),
        "dns" => ("dns", true),
        _ => return None,
    })
}

/// The compose key (under `networks.<key>` or `volumes.<key>`) a Network or Volume
/// `forProvider` field comes from.
fn top_level_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "driver" => "driver",
        "options" | "driverOpts" => "driver_opts",
        "ipam" => "ipam",
        "internal" => "internal",
        "attachable" => "attachable",
        "enableIPv6" => "enable_ipv6",
        "labels" => "labels",
        _ => return None,
    })
}

/// The compose path of a child's field `field` (as the API server names it, e.g.
/// `spec.forProvider.devices[0].hostPath`), below `origin` (`services.app`,
/// `networks.default`, `volumes.data`).
pub fn compose_path(origin: &str, kind: ChildKind, field: &str) -> String {
    let Some(rest) = field.strip_prefix("spec.forProvider.") else {
        return origin.to_string();
    };
    // The longest known field name that `rest` starts with, then an optional `[i]`.
    let segments: Vec<&str> = rest.split('.').collect();
    for n in (1..=segments.len().min(3)).rev() {
        let head = segments[..n].join(".");
        let (name, index) = match head.split_once('[') {
            Some((name, tail)) => (name.to_string(), tail.split(']').next()),
            None => (head.clone(), None),
        };
        let found = match kind {
            ChildKind::Container => service_key(&name),
            ChildKind::Network | ChildKind::Volume => top_level_key(&name).map(|k| (k, false)),
        };
        if let Some((key, indexed)) = found {
            return match index {
                Some(i) if indexed => format!("{origin}.{key}[{i}]"),
                _ => format!("{origin}.{key}"),
            };
        }
    }
    origin.to_string()
}

/// A message about a child's field (`spec.forProvider.<field>: why`, as the policy
/// writes them) in compose terms: `<compose path>: why`.
pub fn in_compose_terms(origin: &str, kind: ChildKind, message: &str) -> String {
    match message.split_once(": ") {
        Some((field, why)) if field.starts_with("spec.forProvider.") => {
            format!("{}: {why}", compose_path(origin, kind, field))
        }
        _ => format!("{origin}: {message}"),
    }
}

/// What the API server says about one refused field, without its `Invalid value: "x": `
/// preamble (the value is the translated one, not the compose text).
fn reason(message: &str) -> &str {
    match message.strip_prefix("Invalid value: ") {
        Some(rest) => rest
            .strip_prefix('"')
            .and_then(|r| r.split_once("\": "))
            .map_or(rest, |(_, why)| why),
        None => message,
    }
}

/// The refusal of child `name` (from `origin`) as an error only the user can fix, naming
/// each compose path and the rule it breaks. Any other API error is returned unchanged.
pub fn refused(origin: &str, kind: ChildKind, name: &str, action: String, e: kube::Error) -> Error {
    let kube::Error::Api(status) = &e else {
        return Error::kube(action, e);
    };
    if !status.is_invalid() {
        return Error::kube(action, e);
    }
    let causes: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| d.causes.iter())
        .map(|c| {
            format!(
                "{}: {} (the {kind:?} {name} made from it is refused at {})",
                compose_path(origin, kind, &c.field),
                reason(&c.message),
                c.field
            )
        })
        .collect();
    Error::Compose(match causes.is_empty() {
        true => format!("{origin}: {}", status.message),
        false => causes.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_member_field_is_named_by_its_compose_path() {
        let path = |field| compose_path("services.app", ChildKind::Container, field);
        assert_eq!(
            path("spec.forProvider.devices[1].hostPath"),
            "services.app.devices[1]"
        );
        assert_eq!(path("spec.forProvider.ipcMode"), "services.app.ipc");
        assert_eq!(path("spec.forProvider.pidMode"), "services.app.pid");
        assert_eq!(
            path("spec.forProvider.security.capabilities.add[0]"),
            "services.app.cap_add[0]"
        );
        // Mounts come from volumes and tmpfs alike, so the index would mislead.
        assert_eq!(
            path("spec.forProvider.mounts[2].mountPath"),
            "services.app.volumes"
        );
        assert_eq!(path("spec.forProvider.somethingNew"), "services.app");
        assert_eq!(path("metadata.name"), "services.app");
        assert_eq!(
            compose_path(
                "networks.back",
                ChildKind::Network,
                "spec.forProvider.ipam.config[0].subnet"
            ),
            "networks.back.ipam"
        );
    }

    /// The API server's answer to a child its CRD validation refuses, as it sends it.
    fn refusal(code: u16) -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure",
            "code": code,
            "reason": if code == 422 { "Invalid" } else { "InternalError" },
            "message": "Container.docker.m.crossplane.io \"shop-app-1\" is invalid: spec.forProvider.ipcMode: Invalid value: \"string\": ipcMode must be private, shareable, none, host, container:<name or ID> or empty",
            "details": {"name": "shop-app-1", "kind": "Container", "causes": [{
                "reason": "FieldValueInvalid",
                "field": "spec.forProvider.ipcMode",
                "message": "Invalid value: \"string\": ipcMode must be private, shareable, none, host, container:<name or ID> or empty",
            }]},
        }))
        .unwrap();
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn a_child_the_api_server_refuses_is_the_users_to_fix_named_by_compose_path() {
        let e = refused(
            "services.app",
            ChildKind::Container,
            "shop-app-1",
            "apply".into(),
            refusal(422),
        );
        assert_eq!(e.class(), crate::error::ErrorClass::User);
        let message = e.to_string();
        assert!(
            message.starts_with("services.app.ipc: ipcMode must be private"),
            "{message}"
        );
        assert!(message.contains("spec.forProvider.ipcMode"), "{message}");
    }

    #[test]
    fn other_api_errors_stay_transient() {
        let e = refused(
            "services.app",
            ChildKind::Container,
            "shop-app-1",
            "apply".into(),
            refusal(500),
        );
        assert_eq!(e.class(), crate::error::ErrorClass::Transient);
    }

    #[test]
    fn a_policy_refusal_of_a_member_names_the_compose_field() {
        assert_eq!(
            in_compose_terms(
                "services.side",
                ChildKind::Container,
                "spec.forProvider.networkMode: container:x is not allowed"
            ),
            "services.side.network_mode: container:x is not allowed"
        );
        assert_eq!(
            in_compose_terms(
                "volumes.data",
                ChildKind::Volume,
                "spec.forProvider.driverOpts.device: host path /etc is not allowed"
            ),
            "volumes.data.driver_opts: host path /etc is not allowed"
        );
        assert_eq!(
            in_compose_terms("services.a", ChildKind::Container, "odd"),
            "services.a: odd"
        );
    }

    #[test]
    fn the_api_servers_preamble_is_dropped() {
        assert_eq!(
            reason("Invalid value: \"string\": ipcMode must be private"),
            "ipcMode must be private"
        );
        assert_eq!(reason("Required value"), "Required value");
    }
}
