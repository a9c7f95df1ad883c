//! What the daemon says about a container, turned into `status.atProvider`, a readiness
//! verdict and connection details.

use std::collections::BTreeMap;

use api::container::{ContainerObservation, DesiredState, NetworkAddress, PublishedPort};
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};

/// Whether the container is usable, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Available(Option<String>),
    /// On its way: starting, health check not passed yet.
    Creating(String),
    Unavailable(String),
}

fn time(t: Option<&str>) -> Option<String> {
    t.filter(|t| !t.is_empty() && !t.starts_with("0001-"))
        .map(str::to_string)
}

/// `status.atProvider` from inspect.
pub fn observation(inspect: &ContainerInspectResponse) -> ContainerObservation {
    let state = inspect.state.clone().unwrap_or_default();
    let settings = inspect.network_settings.clone().unwrap_or_default();
    let mut networks: Vec<NetworkAddress> = settings
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, ep)| NetworkAddress {
            network: name,
            ipv4_address: ep.ip_address.filter(|a| !a.is_empty()),
            ipv6_address: ep.global_ipv6_address.filter(|a| !a.is_empty()),
        })
        .collect();
    networks.sort_by(|a, b| a.network.cmp(&b.network));
    let mut ports: Vec<PublishedPort> = settings
        .ports
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(key, bindings)| {
            let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
            let container_port: i64 = port.parse().unwrap_or_default();
            let proto = proto.to_string();
            bindings
                .unwrap_or_default()
                .into_iter()
                .filter_map(move |b| {
                    Some(PublishedPort {
                        container_port,
                        protocol: proto.clone(),
                        host_ip: b.host_ip.filter(|ip| !ip.is_empty()),
                        host_port: b.host_port?.parse().ok()?,
                    })
                })
        })
        .collect();
    ports.sort_by(|a, b| {
        (a.container_port, &a.protocol, &a.host_ip).cmp(&(
            b.container_port,
            &b.protocol,
            &b.host_ip,
        ))
    });
    ContainerObservation {
        id: inspect.id.clone(),
        state: state
            .status
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty()),
        health: state
            .health
            .and_then(|h| h.status)
            .filter(|s| !matches!(s, HealthStatusEnum::EMPTY | HealthStatusEnum::NONE))
            .map(|s| s.to_string()),
        exit_code: state.exit_code,
        started_at: time(state.started_at.as_deref()),
        finished_at: time(state.finished_at.as_deref()),
        restart_count: inspect.restart_count,
        image_id: inspect.image.clone(),
        networks,
        ports,
    }
}

/// Is the container what the user asked for, and usable?
pub fn readiness(
    desired: DesiredState,
    run_to_completion: bool,
    inspect: &ContainerInspectResponse,
) -> Readiness {
    use ContainerStateStatusEnum as S;
    let state = inspect.state.clone().unwrap_or_default();
    let status = state.status.unwrap_or(S::EMPTY);
    let exit = state.exit_code.unwrap_or(0);
    let health = state.health.and_then(|h| h.status);
    match (desired, status) {
        (DesiredState::Stopped, S::EXITED | S::CREATED | S::DEAD) => {
            Readiness::Available(Some("stopped, as declared".into()))
        }
        (DesiredState::Paused, S::PAUSED) => {
            Readiness::Available(Some("paused, as declared".into()))
        }
        (_, S::RUNNING) => match health {
            Some(HealthStatusEnum::STARTING) => {
                Readiness::Creating("running; waiting for the health check to pass".into())
            }
            Some(HealthStatusEnum::UNHEALTHY) => Readiness::Unavailable(
                "running but unhealthy: the health check fails; see `docker inspect` for its output"
                    .into(),
            ),
            _ => Readiness::Available(None),
        },
        (DesiredState::Running, S::EXITED | S::DEAD) if run_to_completion => {
            if exit == 0 {
                Readiness::Available(Some("completed".into()))
            } else {
                Readiness::Unavailable(format!(
                    "exited with code {exit}; restartPolicy is no, so it is not started again until the spec changes"
                ))
            }
        }
        (_, S::RESTARTING) => Readiness::Unavailable(format!(
            "restarting after exiting with code {exit}"
        )),
        (_, S::CREATED) => Readiness::Creating("created, not started yet".into()),
        (_, S::EXITED | S::DEAD) => {
            Readiness::Unavailable(format!("exited with code {exit}"))
        }
        (_, other) => Readiness::Creating(format!("{other}")),
    }
}

/// Connection details: `endpoint`, `port`, `port-<containerPort>-<proto>` and `ip`.
/// `endpoint` is the daemon host's address as seen from outside it.
pub fn connection_details(
    observation: &ContainerObservation,
    endpoint: &str,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("endpoint".to_string(), endpoint.to_string());
    if let Some(first) = observation.ports.first() {
        out.insert("port".into(), first.host_port.to_string());
    }
    for p in &observation.ports {
        out.entry(format!("port-{}-{}", p.container_port, p.protocol))
            .or_insert_with(|| p.host_port.to_string());
    }
    if let Some(ip) = observation
        .networks
        .iter()
        .find_map(|n| n.ipv4_address.clone().or_else(|| n.ipv6_address.clone()))
    {
        out.insert("ip".into(), ip);
    }
    out
}

/// The address of a daemon host from its `host` setting: the TCP host, or loopback for a
/// local socket.
pub fn endpoint_of(host: &str) -> String {
    host.strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("ssh://"))
        .map(|rest| {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            let rest = rest.split('/').next().unwrap_or(rest);
            match rest.rsplit_once(':') {
                Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
                _ => rest.to_string(),
            }
        })
        .unwrap_or_else(|| "127.0.0.1".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_daemon_address() {
        assert_eq!(endpoint_of("unix:///var/run/docker.sock"), "127.0.0.1");
        assert_eq!(endpoint_of("tcp://nas-1.lan:2376"), "nas-1.lan");
        assert_eq!(endpoint_of("ssh://root@10.0.0.5:2222"), "10.0.0.5");
    }

    #[test]
    fn connection_details_name_every_published_port() {
        let obs = ContainerObservation {
            ports: vec![
                PublishedPort {
                    container_port: 80,
                    protocol: "tcp".into(),
                    host_ip: None,
                    host_port: 32768,
                },
                PublishedPort {
                    container_port: 53,
                    protocol: "udp".into(),
                    host_ip: None,
                    host_port: 5353,
                },
            ],
            ..Default::default()
        };
        let d = connection_details(&obs, "h");
        assert_eq!(d["endpoint"], "h");
        assert_eq!(d["port"], "32768");
        assert_eq!(d["port-80-tcp"], "32768");
        assert_eq!(d["port-53-udp"], "5353");
    }
}
