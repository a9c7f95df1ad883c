//! Drift: what must happen to bring a container from what `inspect` shows to what is
//! desired. Fields that need a new container are compared through a versioned hash label;
//! fields Docker updates in place are compared with inspect directly.

use std::collections::BTreeMap;

use api::container::{ContainerParameters, DesiredState, RestartPolicy};
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, ContainerUpdateBody, RestartPolicyNameEnum,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::labels::{Owner, Ownership, SPEC_HASH, ownership};
use crate::translate::container::{DesiredContainer, Resolved};

/// The hash scheme. Bump it only with a fallback that keeps old labels valid, so that
/// upgrading the provider never recreates containers by itself.
const HASH_VERSION: &str = "v1";

/// Fields of `forProvider` that never need a new container: in-place updates, the desired
/// run state, and the pull policy (which only says when to pull).
const NOT_HASHED: &[&str] = &[
    "restartPolicy",
    "restartMaxRetries",
    "resources",
    "state",
    "imagePullPolicy",
];

/// The versioned hash of everything that needs a new container to change: the spec
/// without in-place fields, with defaults filled in, plus digests of resolved values.
pub fn hash_desired(p: &ContainerParameters, resolved: &Resolved) -> String {
    let mut spec = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut spec {
        for key in NOT_HASHED {
            map.remove(*key);
        }
        // `protocol: tcp` and no protocol are the same port.
        if let Some(Value::Array(ports)) = map.get_mut("ports") {
            for port in ports {
                if let Value::Object(port) = port {
                    port.entry("protocol").or_insert_with(|| "tcp".into());
                }
            }
        }
    }
    let digest = |bytes: &[u8]| hex(&Sha256::digest(bytes));
    let env: BTreeMap<_, _> = resolved
        .env
        .iter()
        .map(|(k, v)| (k.clone(), digest(v.as_bytes())))
        .collect();
    let files: BTreeMap<_, _> = resolved
        .files
        .iter()
        .map(|(k, v)| (k.clone(), digest(v)))
        .collect();
    let input = serde_json::json!({
        "spec": spec,
        "env": env,
        "files": files,
        "volumes": resolved.volumes.values().collect::<Vec<_>>(),
        "networks": resolved.networks.values().collect::<Vec<_>>(),
    });
    let mut canonical = String::new();
    write_canonical(&input, &mut canonical);
    format!("{HASH_VERSION}.{}", &digest(canonical.as_bytes())[..40])
}

/// The versioned hash of any serializable spec, for kinds whose whole spec needs a new
/// object to change.
pub fn versioned_hash<T: serde::Serialize>(spec: &T) -> String {
    let value = serde_json::to_value(spec).unwrap_or(Value::Null);
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    format!(
        "{HASH_VERSION}.{}",
        &hex(&Sha256::digest(canonical.as_bytes()))[..40]
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON with object keys sorted, whatever the map type serde_json was built with.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The fields Docker changes on a running container (`docker update`).
#[derive(Clone, Debug, PartialEq)]
pub struct InPlace {
    pub restart_policy: RestartPolicy,
    pub restart_max_retries: i64,
    /// 0: no limit.
    pub nano_cpus: i64,
    /// Bytes; 0: no limit.
    pub memory: i64,
    /// Bytes; 0: no reservation.
    pub memory_reservation: i64,
    /// None: Docker's default.
    pub pids_limit: Option<i64>,
}

/// One step towards the desired state.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Remove the container and create it anew; the reasons say why.
    Recreate(Vec<String>),
    /// `docker update` with this body; the strings say what changed.
    Update(Box<ContainerUpdateBody>, Vec<String>),
    /// Attach the container to this network (detaching a stale attachment first).
    Connect(String),
    Start,
    Stop,
    Pause,
    Unpause,
}

/// What an existing container needs, in order. Empty when it is as desired.
/// `tag_image_id` is the ID the desired tag points to now, when the pull policy asks for
/// fresh images; a container running another image is recreated.
pub fn plan(
    desired: &DesiredContainer,
    inspect: &ContainerInspectResponse,
    owner: &Owner,
    tag_image_id: Option<&str>,
    network_ids: &BTreeMap<String, String>,
) -> Vec<Action> {
    let config = inspect.config.as_ref();
    let labels = config.and_then(|c| c.labels.as_ref());
    let mut reasons = match ownership(labels, owner) {
        Ownership::Ours | Ownership::Other(_) => {
            match labels.and_then(|l| l.get(SPEC_HASH)) {
                Some(h) if h == &desired.hash => vec![],
                Some(h) if h.starts_with(&format!("{HASH_VERSION}.")) => {
                    vec!["the configuration that needs a new container changed".to_string()]
                }
                // A hash of an older scheme (or none): decide from inspect, as for an
                // adopted container, so that an upgrade alone never recreates.
                _ => adopted_differences(desired, inspect),
            }
        }
        Ownership::Unlabelled => adopted_differences(desired, inspect),
    };
    if let (Some(want), Some(have)) = (tag_image_id, inspect.image.as_deref())
        && want != have
    {
        reasons.push(format!("image {} now points to {want}", desired.image));
    }
    if !reasons.is_empty() {
        return vec![Action::Recreate(reasons)];
    }

    let mut actions = vec![];
    match in_place_update(&desired.in_place, inspect) {
        InPlaceOutcome::UpToDate => {}
        InPlaceOutcome::Update(body, changes) => actions.push(Action::Update(body, changes)),
        InPlaceOutcome::NeedsRecreate(why) => return vec![Action::Recreate(vec![why])],
    }
    let attached = inspect
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default();
    for (name, _) in &desired.networks {
        let current = attached.get(name).and_then(|e| e.network_id.as_deref());
        // Missing, or attached to a network of that name that has since been replaced.
        if current.is_none()
            || network_ids
                .get(name)
                .is_some_and(|id| Some(id.as_str()) != current)
        {
            actions.push(Action::Connect(name.clone()));
        }
    }
    actions.extend(state_actions(desired, inspect));
    actions
}

fn state_actions(desired: &DesiredContainer, inspect: &ContainerInspectResponse) -> Vec<Action> {
    use ContainerStateStatusEnum as S;
    let state = inspect.state.as_ref();
    let status = state.and_then(|s| s.status).unwrap_or(S::EMPTY);
    let has_run = state
        .and_then(|s| s.started_at.as_deref())
        .is_some_and(|t| !t.starts_with("0001-"));
    match desired.state {
        DesiredState::Running => match status {
            S::RUNNING | S::RESTARTING | S::REMOVING | S::STOPPING => vec![],
            S::PAUSED => vec![Action::Unpause],
            // Run to completion: once it has exited, it stays exited for this spec.
            S::EXITED | S::DEAD if desired.run_to_completion && has_run => vec![],
            S::CREATED | S::EXITED | S::DEAD | S::EMPTY => vec![Action::Start],
        },
        DesiredState::Stopped => match status {
            S::RUNNING | S::RESTARTING => vec![Action::Stop],
            S::PAUSED => vec![Action::Unpause, Action::Stop],
            _ => vec![],
        },
        DesiredState::Paused => match status {
            S::RUNNING => vec![Action::Pause],
            S::PAUSED | S::RESTARTING | S::REMOVING | S::STOPPING => vec![],
            _ => vec![Action::Start, Action::Pause],
        },
    }
}

enum InPlaceOutcome {
    UpToDate,
    Update(Box<ContainerUpdateBody>, Vec<String>),
    NeedsRecreate(String),
}

fn in_place_update(want: &InPlace, inspect: &ContainerInspectResponse) -> InPlaceOutcome {
    let hc = inspect.host_config.clone().unwrap_or_default();
    let mut body = ContainerUpdateBody::default();
    let mut changes = vec![];

    let have_policy = hc.restart_policy.clone().unwrap_or_default();
    let have_name = match have_policy.name {
        None | Some(RestartPolicyNameEnum::EMPTY) => RestartPolicyNameEnum::NO,
        Some(n) => n,
    };
    let want_body = want.restart_policy_body();
    let want_name = want_body.name.unwrap_or(RestartPolicyNameEnum::NO);
    let retries_differ = want.restart_policy == RestartPolicy::OnFailure
        && have_policy.maximum_retry_count.unwrap_or(0) != want.restart_max_retries;
    if have_name != want_name || retries_differ {
        body.restart_policy = Some(want_body);
        changes.push(format!("restartPolicy {have_name} -> {want_name}"));
    }

    // Docker cannot lift a limit in place (0 means "leave as is"), so removing one from
    // the spec needs a new container.
    let limits = [
        ("resources.cpus", want.nano_cpus, hc.nano_cpus.unwrap_or(0)),
        ("resources.memory", want.memory, hc.memory.unwrap_or(0)),
        (
            "resources.memoryReservation",
            want.memory_reservation,
            hc.memory_reservation.unwrap_or(0),
        ),
    ];
    for (field, want_v, have_v) in limits {
        if want_v == have_v {
            continue;
        }
        if want_v == 0 {
            return InPlaceOutcome::NeedsRecreate(format!(
                "{field} was removed, and Docker cannot lift a limit in place"
            ));
        }
        changes.push(format!("{field} {have_v} -> {want_v}"));
        match field {
            "resources.cpus" => body.nano_cpus = Some(want_v),
            "resources.memory" => {
                body.memory = Some(want_v);
                // Keep Docker's default of as much swap as memory; a raise above the old
                // swap limit is refused otherwise.
                body.memory_swap = Some(want_v.saturating_mul(2));
            }
            _ => body.memory_reservation = Some(want_v),
        }
    }
    let have_pids = hc.pids_limit.filter(|p| *p > 0);
    let want_pids = want.pids_limit.filter(|p| *p > 0);
    if have_pids != want_pids {
        body.pids_limit = Some(want.pids_limit.unwrap_or(-1));
        changes.push(format!(
            "resources.pidsLimit {} -> {}",
            have_pids.map_or("unlimited".into(), |p| p.to_string()),
            want_pids.map_or("unlimited".into(), |p| p.to_string())
        ));
    }
    if changes.is_empty() {
        InPlaceOutcome::UpToDate
    } else {
        InPlaceOutcome::Update(Box::new(body), changes)
    }
}

/// For a container without our hash (adopted, or labelled by an older scheme): the fields
/// the spec sets that inspect shows otherwise. What the image supplies and the spec leaves
/// out (env, cmd, entrypoint, user, workdir, health check) is never a difference.
pub fn adopted_differences(
    desired: &DesiredContainer,
    inspect: &ContainerInspectResponse,
) -> Vec<String> {
    let want = &desired.body;
    let have = inspect.config.clone().unwrap_or_default();
    let want_hc = want.host_config.clone().unwrap_or_default();
    let have_hc = inspect.host_config.clone().unwrap_or_default();
    let mut diffs = vec![];
    let mut check = |field: &str, differs: bool| {
        if differs {
            diffs.push(format!("{field} differs from the existing container"));
        }
    };
    check(
        "image",
        have.image.as_deref() != Some(desired.image.as_str()),
    );
    check(
        "command",
        want.entrypoint.is_some() && want.entrypoint != have.entrypoint,
    );
    check("args", want.cmd.is_some() && want.cmd != have.cmd);
    let have_env = have.env.unwrap_or_default();
    check(
        "env",
        want.env.iter().flatten().any(|e| !have_env.contains(e)),
    );
    check("user", want.user.is_some() && want.user != have.user);
    check(
        "workingDir",
        want.working_dir.is_some() && want.working_dir != have.working_dir,
    );
    check(
        "hostname",
        want.hostname.is_some() && want.hostname != have.hostname,
    );
    let have_labels = have.labels.unwrap_or_default();
    check(
        "labels",
        want.labels.iter().flatten().any(|(k, v)| {
            !k.starts_with("docker.m.crossplane.io/") && have_labels.get(k) != Some(v)
        }),
    );
    let mut want_ports: Vec<String> = want.exposed_ports.clone().unwrap_or_default();
    want_ports.sort();
    let mut have_bound: Vec<String> = have_hc
        .port_bindings
        .clone()
        .unwrap_or_default()
        .into_keys()
        .collect();
    have_bound.sort();
    check("ports", want_ports != have_bound);
    let mount_key = |m: &bollard::models::Mount| {
        (
            m.target.clone().unwrap_or_default(),
            m.source.clone().unwrap_or_default(),
            m.read_only.unwrap_or(false),
        )
    };
    let mut want_mounts: Vec<_> = want_hc.mounts.iter().flatten().map(mount_key).collect();
    let mut have_mounts: Vec<_> = have_hc.mounts.iter().flatten().map(mount_key).collect();
    want_mounts.sort();
    have_mounts.sort();
    check("mounts", want_mounts != have_mounts);
    check(
        "security.privileged",
        want_hc.privileged.unwrap_or(false) != have_hc.privileged.unwrap_or(false),
    );
    check(
        "security.readOnlyRootFilesystem",
        want_hc.readonly_rootfs.unwrap_or(false) != have_hc.readonly_rootfs.unwrap_or(false),
    );
    check(
        "security.capabilities",
        want_hc.cap_add.unwrap_or_default() != have_hc.cap_add.unwrap_or_default()
            || want_hc.cap_drop.unwrap_or_default() != have_hc.cap_drop.unwrap_or_default(),
    );
    check(
        "networkMode",
        want_hc.network_mode.is_some() && want_hc.network_mode != have_hc.network_mode,
    );
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(yaml: &str) -> ContainerParameters {
        serde_yaml_ng::from_str(yaml).expect("test fixture parses")
    }

    #[test]
    fn in_place_fields_do_not_change_the_hash() {
        let base = hash_desired(&params("image: img"), &Resolved::default());
        let tuned = hash_desired(
            &params(
                "image: img\nrestartPolicy: on-failure\nresources: {cpus: 0.5, memory: 64Mi}\nstate: Stopped\nimagePullPolicy: Never",
            ),
            &Resolved::default(),
        );
        assert_eq!(base, tuned);
        assert!(base.starts_with("v1."));
    }

    #[test]
    fn image_env_and_default_protocol_decide_the_hash() {
        let h = |y: &str| hash_desired(&params(y), &Resolved::default());
        assert_ne!(h("image: a"), h("image: b"));
        assert_ne!(h("image: a"), h("image: a\nenv: [{name: X, value: '1'}]"));
        assert_eq!(
            h("image: a\nports: [{containerPort: 80}]"),
            h("image: a\nports: [{containerPort: 80, protocol: tcp}]")
        );
    }

    #[test]
    fn a_changed_secret_value_changes_the_hash_without_showing_it() {
        let p = params("image: a\nenv: [{name: S, valueFrom: {secretKeyRef: {name: s, key: k}}}]");
        let with = |v: &str| Resolved {
            env: BTreeMap::from([("S".into(), v.into())]),
            ..Default::default()
        };
        let one = hash_desired(&p, &with("hunter2"));
        assert_ne!(one, hash_desired(&p, &with("hunter3")));
        assert!(!one.contains("hunter2"));
    }
}
