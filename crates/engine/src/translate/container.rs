//! A Container's `forProvider` (plus the values of the Secrets and ConfigMaps it references)
//! turned into the Docker create body, the files to upload, the fields Docker changes in
//! place, and the desired-state hash.

use std::collections::{BTreeMap, HashMap};

use api::container::{ContainerParameters, DesiredState, IntOrString, PullPolicy, RestartPolicy};
use api::quantity::{GoDuration, parse_bytes};
use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, EndpointIpamConfig, EndpointSettings,
    HealthConfig, HostConfig, HostConfigLogConfig, Mount, MountTmpfsOptions, MountType,
    NetworkingConfig, PortBinding, RestartPolicyNameEnum,
};

use super::ports::{PortRange, bindings};
use crate::drift::{InPlace, hash_desired};
use crate::error::Error;
use crate::labels::{Owner, object_labels};

/// Values of referenced Secret and ConfigMap keys, resolved by the caller. They go into the
/// container and into the hash, never into status or logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Environment variable name → value, for `env[].valueFrom`.
    pub env: BTreeMap<String, String>,
    /// File path → content, for `files[]` with a Secret or ConfigMap source.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Mount index → Docker volume name, for `mounts[].volume` by reference.
    pub volumes: BTreeMap<usize, String>,
    /// Attachment index → Docker network name, for `networks[]` by reference.
    pub networks: BTreeMap<usize, String>,
}

/// A file to write into the container before it starts.
#[derive(Clone, PartialEq, Eq)]
pub struct FileContent {
    pub path: String,
    pub mode: u32,
    pub content: Vec<u8>,
}

impl std::fmt::Debug for FileContent {
    // File contents may come from Secrets: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileContent")
            .field("path", &self.path)
            .field("mode", &format_args!("{:o}", self.mode))
            .field("bytes", &self.content.len())
            .finish()
    }
}

/// Everything the engine needs to create and keep one container.
#[derive(Clone)]
pub struct DesiredContainer {
    /// The Docker container name.
    pub name: String,
    pub image: String,
    pub pull_policy: PullPolicy,
    /// The create body, our labels included.
    pub body: ContainerCreateBody,
    pub files: Vec<FileContent>,
    /// Fields Docker updates without recreating.
    pub in_place: InPlace,
    pub state: DesiredState,
    /// Restart policy `no`: once exited, the container is not started again.
    pub run_to_completion: bool,
    /// Seconds between the stop signal and SIGKILL.
    pub stop_timeout: Option<i64>,
    /// Networks to attach, in order, with their endpoint settings; the first is primary.
    pub networks: Vec<(String, EndpointSettings)>,
    /// Versioned hash of everything that needs a recreate to change.
    pub hash: String,
}

impl std::fmt::Debug for DesiredContainer {
    // The body holds env values that may come from Secrets: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesiredContainer")
            .field("name", &self.name)
            .field("image", &self.image)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

fn field_err(field: &str, err: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("spec.forProvider.{field}: {err}"))
}

fn bytes(value: &IntOrString, field: &str) -> Result<i64, Error> {
    match value {
        IntOrString::Int(n) if *n >= 0 => Ok(i64::from(*n)),
        IntOrString::Int(n) => Err(field_err(field, format!("{n} must not be negative"))),
        IntOrString::String(s) => parse_bytes(s).map_err(|e| field_err(field, e)),
    }
}

fn nanos(value: &Option<String>, field: &str) -> Result<Option<i64>, Error> {
    value
        .as_deref()
        .map(|v| {
            GoDuration::parse(v)
                .map(GoDuration::as_nanos_i64)
                .map_err(|e| field_err(field, e))
        })
        .transpose()
}

/// Builds the desired container for `owner` under the Docker name `name`.
pub fn desired_container(
    owner: &Owner,
    name: &str,
    p: &ContainerParameters,
    resolved: &Resolved,
) -> Result<DesiredContainer, Error> {
    let mut exposed = Vec::new();
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for (i, port) in p.ports.iter().enumerate() {
        let field = format!("spec.forProvider.ports[{i}]");
        let container = PortRange::parse(&port.container_port, &format!("{field}.containerPort"))?;
        let host = port
            .host_port
            .as_ref()
            .map(|h| PortRange::parse(h, &format!("{field}.hostPort")))
            .transpose()?;
        let proto = port.protocol.unwrap_or_default().as_str();
        for b in bindings(container, host, &field)? {
            let key = format!("{}/{proto}", b.container_port);
            if !exposed.contains(&key) {
                exposed.push(key.clone());
            }
            port_bindings
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: Some(port.host_ip.clone().unwrap_or_default()),
                    host_port: Some(b.host_port),
                });
        }
    }

    let mut env = Vec::with_capacity(p.env.len());
    for var in &p.env {
        match (&var.value, &var.value_from) {
            (_, Some(_)) => {
                // A missing optional reference leaves the variable out.
                if let Some(v) = resolved.env.get(&var.name) {
                    env.push(format!("{}={v}", var.name));
                }
            }
            (value, None) => env.push(format!(
                "{}={}",
                var.name,
                value.as_deref().unwrap_or_default()
            )),
        }
    }

    let mut mounts = Vec::with_capacity(p.mounts.len());
    for (i, m) in p.mounts.iter().enumerate() {
        let field = format!("mounts[{i}]");
        let mut mount = Mount {
            target: Some(m.mount_path.clone()),
            read_only: m.read_only,
            ..Default::default()
        };
        if let Some(v) = &m.volume {
            mount.typ = Some(MountType::VOLUME);
            mount.source = Some(
                v.name
                    .clone()
                    .or_else(|| resolved.volumes.get(&i).cloned())
                    .ok_or_else(|| {
                        field_err(
                            &format!("{field}.volume"),
                            "the referenced Volume is not resolved",
                        )
                    })?,
            );
        } else if let Some(h) = &m.host_path {
            mount.typ = Some(MountType::BIND);
            mount.source = Some(h.path.clone());
        } else if let Some(t) = &m.tmpfs {
            mount.typ = Some(MountType::TMPFS);
            mount.tmpfs_options = Some(MountTmpfsOptions {
                size_bytes: t
                    .size
                    .as_ref()
                    .map(|s| bytes(s, &format!("{field}.tmpfs.size")))
                    .transpose()?,
                mode: t.mode,
                ..Default::default()
            });
        } else {
            return Err(field_err(&field, "needs one of volume, hostPath or tmpfs"));
        }
        mounts.push(mount);
    }

    let mut files = Vec::with_capacity(p.files.len());
    for (i, f) in p.files.iter().enumerate() {
        let content = match &f.content {
            Some(c) => c.as_bytes().to_vec(),
            None => match resolved.files.get(&f.path) {
                Some(c) => c.clone(),
                // A missing optional reference leaves the file out.
                None => continue,
            },
        };
        let mode = match f.mode {
            None => 0o644,
            Some(m @ 0..=0o7777) => m as u32,
            Some(m) => {
                return Err(field_err(
                    &format!("files[{i}].mode"),
                    format!("{m} is not a permission mode"),
                ));
            }
        };
        files.push(FileContent {
            path: f.path.clone(),
            mode,
            content,
        });
    }

    let mut networks = Vec::with_capacity(p.networks.len());
    for (i, a) in p.networks.iter().enumerate() {
        let name = a
            .name
            .clone()
            .or_else(|| resolved.networks.get(&i).cloned())
            .ok_or_else(|| {
                field_err(
                    &format!("networks[{i}]"),
                    "the referenced Network is not resolved",
                )
            })?;
        let endpoint = EndpointSettings {
            aliases: (!a.aliases.is_empty()).then(|| a.aliases.clone()),
            ipam_config: (a.ipv4_address.is_some() || a.ipv6_address.is_some()).then(|| {
                EndpointIpamConfig {
                    ipv4_address: a.ipv4_address.clone(),
                    ipv6_address: a.ipv6_address.clone(),
                    ..Default::default()
                }
            }),
            ..Default::default()
        };
        networks.push((name, endpoint));
    }

    let restart = p.restart_policy.unwrap_or_default();
    let resources = p.resources.as_ref();
    let in_place = InPlace {
        restart_policy: restart,
        restart_max_retries: match restart {
            RestartPolicy::OnFailure => p.restart_max_retries.unwrap_or(0),
            _ => 0,
        },
        nano_cpus: resources
            .and_then(|r| r.cpus)
            .map(|c| (c * 1e9).round() as i64)
            .unwrap_or(0),
        memory: resources
            .and_then(|r| r.memory.as_ref())
            .map(|m| bytes(m, "resources.memory"))
            .transpose()?
            .unwrap_or(0),
        memory_reservation: resources
            .and_then(|r| r.memory_reservation.as_ref())
            .map(|m| bytes(m, "resources.memoryReservation"))
            .transpose()?
            .unwrap_or(0),
        pids_limit: resources.and_then(|r| r.pids_limit),
    };

    let healthcheck = p
        .health_check
        .as_ref()
        .map(|h| {
            Ok::<_, Error>(HealthConfig {
                test: Some(h.test.clone()),
                interval: nanos(&h.interval, "healthCheck.interval")?,
                timeout: nanos(&h.timeout, "healthCheck.timeout")?,
                start_period: nanos(&h.start_period, "healthCheck.startPeriod")?,
                retries: h.retries,
                ..Default::default()
            })
        })
        .transpose()?;

    let stop_timeout =
        nanos(&p.stop_grace_period, "stopGracePeriod")?.map(|n| (n + 999_999_999) / 1_000_000_000);

    let security = p.security.clone().unwrap_or_default();
    let caps = security.capabilities.clone().unwrap_or_default();

    let hash = hash_desired(p, resolved);
    let labels = object_labels(&p.labels, owner, &hash);

    let host_config = HostConfig {
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        mounts: (!mounts.is_empty()).then_some(mounts),
        restart_policy: Some(in_place.restart_policy_body()),
        nano_cpus: (in_place.nano_cpus > 0).then_some(in_place.nano_cpus),
        memory: (in_place.memory > 0).then_some(in_place.memory),
        memory_reservation: (in_place.memory_reservation > 0)
            .then_some(in_place.memory_reservation),
        pids_limit: in_place.pids_limit,
        privileged: security.privileged,
        readonly_rootfs: security.read_only_root_filesystem,
        cap_add: (!caps.add.is_empty()).then_some(caps.add),
        cap_drop: (!caps.drop.is_empty()).then_some(caps.drop),
        security_opt: (!security.security_options.is_empty())
            .then(|| security.security_options.clone()),
        network_mode: networks
            .first()
            .map(|(name, _)| name.clone())
            .or_else(|| p.network_mode.clone()),
        pid_mode: p.pid_mode.clone(),
        ipc_mode: p.ipc_mode.clone(),
        devices: (!p.devices.is_empty()).then(|| {
            p.devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: Some(d.host_path.clone()),
                    path_in_container: Some(
                        d.container_path
                            .clone()
                            .unwrap_or_else(|| d.host_path.clone()),
                    ),
                    cgroup_permissions: Some(d.permissions.clone().unwrap_or_else(|| "rwm".into())),
                })
                .collect()
        }),
        device_requests: (!p.device_requests.is_empty()).then(|| {
            p.device_requests
                .iter()
                .map(|r| DeviceRequest {
                    driver: r.driver.clone(),
                    count: r.count,
                    device_ids: (!r.device_ids.is_empty()).then(|| r.device_ids.clone()),
                    capabilities: (!r.capabilities.is_empty()).then(|| r.capabilities.clone()),
                    options: None,
                })
                .collect()
        }),
        log_config: p.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: Some(l.driver.clone()),
            config: Some(l.options.clone().into_iter().collect()),
        }),
        extra_hosts: (!p.extra_hosts.is_empty()).then(|| p.extra_hosts.clone()),
        dns: (!p.dns.is_empty()).then(|| p.dns.clone()),
        ..Default::default()
    };

    let body = ContainerCreateBody {
        image: Some(p.image.clone()),
        entrypoint: p.command.clone(),
        cmd: p.args.clone(),
        env: (!env.is_empty()).then_some(env),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        healthcheck,
        user: security.user.clone(),
        hostname: p.hostname.clone(),
        working_dir: p.working_dir.clone(),
        labels: Some(labels),
        stop_signal: p.stop_signal.clone(),
        stop_timeout,
        host_config: Some(host_config),
        // Docker API 1.41 attaches one network at create; the rest are connected before
        // the container starts.
        networking_config: networks.first().map(|(name, endpoint)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(name.clone(), endpoint.clone())])),
        }),
        ..Default::default()
    };

    Ok(DesiredContainer {
        name: name.to_string(),
        image: p.image.clone(),
        pull_policy: p.image_pull_policy.unwrap_or_default(),
        body,
        files,
        in_place,
        state: p.state.unwrap_or_default(),
        run_to_completion: restart == RestartPolicy::No,
        stop_timeout,
        networks,
        hash,
    })
}

impl InPlace {
    pub(crate) fn restart_policy_body(&self) -> bollard::models::RestartPolicy {
        bollard::models::RestartPolicy {
            name: Some(match self.restart_policy {
                RestartPolicy::No => RestartPolicyNameEnum::NO,
                RestartPolicy::Always => RestartPolicyNameEnum::ALWAYS,
                RestartPolicy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
                RestartPolicy::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
            }),
            maximum_retry_count: (self.restart_policy == RestartPolicy::OnFailure)
                .then_some(self.restart_max_retries),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::SPEC_HASH;

    fn owner() -> Owner {
        Owner {
            uid: "uid-1".into(),
            kind: "Container".into(),
            namespace: "ns".into(),
            name: "web".into(),
        }
    }

    fn params(yaml: &str) -> ContainerParameters {
        serde_yaml_ng::from_str(yaml).expect("test fixture parses")
    }

    #[test]
    fn command_replaces_entrypoint_and_args_replace_cmd() {
        let p = params("image: img\ncommand: [sh, -c]\nargs: [echo hi]");
        let d = desired_container(&owner(), "ns-web", &p, &Resolved::default()).unwrap();
        assert_eq!(d.body.entrypoint, Some(vec!["sh".into(), "-c".into()]));
        assert_eq!(d.body.cmd, Some(vec!["echo hi".into()]));
    }

    #[test]
    fn env_from_references_uses_resolved_values_and_skips_missing_optional_ones() {
        let p = params(
            "image: img\nenv:\n- {name: A, value: a}\n- {name: S, valueFrom: {secretKeyRef: {name: s, key: k}}}\n- {name: O, valueFrom: {secretKeyRef: {name: s, key: o, optional: true}}}",
        );
        let resolved = Resolved {
            env: BTreeMap::from([("S".into(), "secret".into())]),
            ..Default::default()
        };
        let d = desired_container(&owner(), "n", &p, &resolved).unwrap();
        assert_eq!(d.body.env, Some(vec!["A=a".into(), "S=secret".into()]));
    }

    #[test]
    fn ports_publish_ranges_and_random_host_ports() {
        let p = params(
            "image: img\nports:\n- {containerPort: 80}\n- {containerPort: '10000-10001', hostPort: '20000-20001', protocol: udp, hostIP: 127.0.0.1}",
        );
        let d = desired_container(&owner(), "n", &p, &Resolved::default()).unwrap();
        let hc = d.body.host_config.unwrap();
        let pb = hc.port_bindings.unwrap();
        assert_eq!(
            pb["80/tcp"].as_ref().unwrap()[0].host_port.as_deref(),
            Some("")
        );
        let b = pb["10001/udp"].as_ref().unwrap();
        assert_eq!(b[0].host_port.as_deref(), Some("20001"));
        assert_eq!(b[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(d.body.exposed_ports.unwrap().len(), 3);
    }

    #[test]
    fn labels_name_the_owner_and_carry_the_hash() {
        let p = params("image: img\nlabels: {team: a}");
        let d = desired_container(&owner(), "n", &p, &Resolved::default()).unwrap();
        let labels = d.body.labels.unwrap();
        assert_eq!(labels["team"], "a");
        assert_eq!(labels[crate::labels::UID], "uid-1");
        assert_eq!(labels[SPEC_HASH], d.hash);
    }

    #[test]
    fn restart_policy_no_runs_to_completion_and_always_is_the_default() {
        let d =
            desired_container(&owner(), "n", &params("image: img"), &Resolved::default()).unwrap();
        assert!(!d.run_to_completion);
        assert_eq!(d.in_place.restart_policy, RestartPolicy::Always);
        let d = desired_container(
            &owner(),
            "n",
            &params("image: img\nrestartPolicy: 'no'"),
            &Resolved::default(),
        )
        .unwrap();
        assert!(d.run_to_completion);
    }

    #[test]
    fn file_contents_are_never_printed() {
        let p = params("image: img\nfiles:\n- {path: /etc/s, content: hunter2}");
        let d = desired_container(&owner(), "n", &p, &Resolved::default()).unwrap();
        let printed = format!("{:?} {:?}", d, d.files);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(d.files[0].content, b"hunter2");
        assert_eq!(d.files[0].mode, 0o644);
    }

    #[test]
    fn bad_sizes_name_the_field() {
        let p = params("image: img\nresources: {memory: lots}");
        let err = desired_container(&owner(), "n", &p, &Resolved::default()).unwrap_err();
        assert!(err.to_string().contains("resources.memory"), "{err}");
    }
}
