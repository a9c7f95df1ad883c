//! Port syntaxes: short (ranges, protocols, IPv4 and IPv6 host addresses), long, and their
//! errors with paths.

mod common;

use std::net::IpAddr;

use common::{assert_error, service, web};
use provider_docker_compose::{PortMapping, PortMode, PortRange, Protocol};

fn ports(list: &str) -> Vec<PortMapping> {
    service(&web(&format!("ports:\n{list}")), "web").ports
}

fn mapping(
    target: u16,
    published: Option<(u16, u16)>,
    ip: Option<&str>,
    protocol: Protocol,
) -> PortMapping {
    PortMapping {
        published: published.and_then(|(a, b)| PortRange::new(a, b)),
        host_ip: ip.map(|i| i.parse::<IpAddr>().unwrap()),
        protocol,
        ..PortMapping::container(target)
    }
}

#[test]
fn a_bare_container_port_is_not_published() {
    assert_eq!(
        ports("  - 80\n  - \"443\""),
        [
            mapping(80, None, None, Protocol::Tcp),
            mapping(443, None, None, Protocol::Tcp)
        ]
    );
}

#[test]
fn host_and_container_ports_map() {
    assert_eq!(
        ports("  - \"8080:80\""),
        [mapping(80, Some((8080, 8080)), None, Protocol::Tcp)]
    );
}

#[test]
fn equal_ranges_map_one_to_one_with_a_protocol() {
    assert_eq!(
        ports("  - \"8080-8081:80-81/udp\""),
        [
            mapping(80, Some((8080, 8080)), None, Protocol::Udp),
            mapping(81, Some((8081, 8081)), None, Protocol::Udp)
        ]
    );
}

#[test]
fn a_host_range_for_one_container_port_is_kept_for_docker_to_pick() {
    assert_eq!(
        ports("  - \"9000-9010:80\""),
        [mapping(80, Some((9000, 9010)), None, Protocol::Tcp)]
    );
}

#[test]
fn a_container_range_alone_expands() {
    assert_eq!(ports("  - \"3000-3002\"").len(), 3);
}

#[test]
fn ipv4_host_addresses_with_and_without_host_port() {
    assert_eq!(
        ports("  - \"127.0.0.1:8080:80\"\n  - \"127.0.0.1::81\""),
        [
            mapping(80, Some((8080, 8080)), Some("127.0.0.1"), Protocol::Tcp),
            mapping(81, None, Some("127.0.0.1"), Protocol::Tcp)
        ]
    );
}

#[test]
fn ipv6_host_addresses_in_brackets() {
    assert_eq!(
        ports("  - \"[::1]:80:80\"\n  - \"[fe80::1]::53/udp\""),
        [
            mapping(80, Some((80, 80)), Some("::1"), Protocol::Tcp),
            mapping(53, None, Some("fe80::1"), Protocol::Udp)
        ]
    );
}

#[test]
fn long_syntax_carries_every_field() {
    let got = ports(
        "  - target: 80\n    published: \"8080\"\n    host_ip: 127.0.0.1\n    protocol: udp\n    mode: host\n    name: web\n    app_protocol: http\n    x-note: ignored",
    );
    assert_eq!(
        got,
        [PortMapping {
            mode: Some(PortMode::Host),
            name: Some("web".into()),
            app_protocol: Some("http".into()),
            ..mapping(80, Some((8080, 8080)), Some("127.0.0.1"), Protocol::Udp)
        }]
    );
    assert_eq!(
        ports("  - target: 80\n    published: 8000-8005")[0].published,
        PortRange::new(8000, 8005)
    );
}

#[test]
fn three_ports_are_not_a_mapping() {
    assert_error(
        &web("ports:\n  - \"80\"\n  - \"80:80:80\""),
        "services.web.ports[1]",
        "\"80:80:80\" is not a valid port mapping; use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]",
    );
}

#[test]
fn bad_ports_name_the_problem() {
    assert_error(
        &web("ports: [\"70000:80\"]"),
        "services.web.ports[0]",
        "ports are 1-65535",
    );
    assert_error(
        &web("ports: [\"80/icmp\"]"),
        "services.web.ports[0]",
        "use tcp, udp or sctp",
    );
    assert_error(
        &web("ports: [\"8000-8002:80-81\"]"),
        "services.web.ports[0]",
        "maps 3 host ports to 2 container ports",
    );
    assert_error(
        &web("ports: [\"abc\"]"),
        "services.web.ports[0]",
        "not a valid port mapping",
    );
    assert_error(
        &web("ports: [{published: 80}]"),
        "services.web.ports[0]",
        "target: is required",
    );
    assert_error(
        &web("ports: [{target: 80, mode: swarm}]"),
        "services.web.ports[0].mode",
        "use host or ingress",
    );
    assert_error(
        &web("ports: [{target: 80, host_ip: nowhere}]"),
        "services.web.ports[0].host_ip",
        "not an IP address",
    );
    assert_error(
        &web("ports: [\"80:80\", \"80:80\"]"),
        "services.web.ports[1]",
        "must be unique",
    );
    assert_error(
        &web("ports: \"80:80\""),
        "services.web.ports",
        "must be a list",
    );
}

#[test]
fn exposed_ports_take_ranges_and_protocols() {
    let s = service(&web("expose: [\"3000\", 8000, \"4000-4001/udp\"]"), "web");
    let text: Vec<String> = s.expose.iter().map(ToString::to_string).collect();
    assert_eq!(text, ["3000/tcp", "8000/tcp", "4000-4001/udp"]);
}
