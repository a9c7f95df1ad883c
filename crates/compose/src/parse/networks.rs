//! Networks: how a service joins them (`networks` as list or map, `network_mode`,
//! `extra_hosts`), and the top-level network definitions with their IPAM settings.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_yaml_ng::Value;

use super::fields::{Fields, boolean, display, integer, options, string, string_dict, string_list};
use super::service::valid_name;
use crate::error::{Ctx, Path};
use crate::model::{Ipam, IpamPool, Network, NetworkMode, Service, ServiceNetwork};
use crate::yaml::kind;

fn address<T: std::str::FromStr>(ctx: &mut Ctx, p: &Path, v: &Value, family: &str) -> Option<T> {
    let s = string(ctx, p, v)?;
    match s.parse() {
        Ok(ip) => Some(ip),
        Err(_) => {
            ctx.error(p, format!("{s:?} is not an {family} address"));
            None
        }
    }
}

fn attachment(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<ServiceNetwork> {
    let keys = [
        "aliases",
        "interface_name",
        "ipv4_address",
        "ipv6_address",
        "link_local_ips",
        "mac_address",
        "driver_opts",
        "priority",
        "gw_priority",
    ];
    let f = Fields::new(ctx, p, v, &keys, true)?;
    Some(ServiceNetwork {
        aliases: f
            .with(ctx, "aliases", |c, p, v| Some(string_list(c, p, v, true)))
            .unwrap_or_default(),
        ipv4_address: f.with(ctx, "ipv4_address", |c, p, v| address(c, p, v, "IPv4")),
        ipv6_address: f.with(ctx, "ipv6_address", |c, p, v| address(c, p, v, "IPv6")),
        link_local_ips: f
            .with(ctx, "link_local_ips", |c, p, v| {
                Some(string_list(c, p, v, true))
            })
            .unwrap_or_default(),
        mac_address: f.with(ctx, "mac_address", string),
        interface_name: f.with(ctx, "interface_name", string),
        driver_opts: f
            .with(ctx, "driver_opts", |c, p, v| Some(options(c, p, v)))
            .unwrap_or_default(),
        priority: f.with(ctx, "priority", |c, p, v| integer(c, p, v, false)),
        gw_priority: f.with(ctx, "gw_priority", |c, p, v| integer(c, p, v, false)),
    })
}

fn host_address(ctx: &mut Ctx, p: &Path, host: &str, ip: &str) -> Option<String> {
    let bare = ip.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || !(bare == "host-gateway" || bare.parse::<IpAddr>().is_ok()) {
        ctx.error(p, format!("{host:?} -> {ip:?} is not a valid host entry; use HOST:IP, HOST=IP or a mapping of HOST: IP (IP may be host-gateway)"));
        return None;
    }
    Some(bare.to_owned())
}

fn extra_hosts(ctx: &mut Ctx, p: &Path, v: &Value) -> BTreeMap<String, Vec<String>> {
    let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match v {
        Value::Sequence(_) => {
            for (i, entry) in string_list(ctx, p, v, true).into_iter().enumerate() {
                let split = entry.split_once('=').or_else(|| entry.split_once(':'));
                let Some((host, ip)) = split else {
                    ctx.error(
                        &p.index(i),
                        format!("{entry:?} is not a valid host entry; use HOST:IP or HOST=IP"),
                    );
                    continue;
                };
                if let Some(ip) = host_address(ctx, &p.index(i), host, ip) {
                    hosts.entry(host.to_owned()).or_default().push(ip);
                }
            }
        }
        Value::Mapping(m) => {
            for (k, val) in m {
                let host = k.as_str().unwrap_or_default();
                let hp = p.key(host);
                let ips = match val {
                    Value::String(s) => vec![s.clone()],
                    Value::Sequence(_) => string_list(ctx, &hp, val, false),
                    other => {
                        ctx.error(
                            &hp,
                            format!(
                                "must be an IP address or a list of them, not {}",
                                kind(other)
                            ),
                        );
                        continue;
                    }
                };
                for ip in ips {
                    if let Some(ip) = host_address(ctx, &hp, host, &ip) {
                        hosts.entry(host.to_owned()).or_default().push(ip);
                    }
                }
            }
        }
        other => ctx.error(
            p,
            format!("must be a list or a mapping, not {}", kind(other)),
        ),
    }
    hosts
}

/// Reads `networks`, `network_mode` and `extra_hosts` of a service.
pub(crate) fn read_service(ctx: &mut Ctx, f: &Fields<'_>, s: &mut Service) {
    if let Some(v) = f.get("networks") {
        let p = f.at("networks");
        match v {
            Value::Sequence(_) => {
                for name in string_list(ctx, &p, v, true) {
                    s.networks.insert(name, ServiceNetwork::default());
                }
            }
            Value::Mapping(m) => {
                for (k, val) in m {
                    let name = k.as_str().unwrap_or_default();
                    if !valid_name(name) {
                        ctx.error(
                            &p.key(name),
                            "is not a valid network key; use letters, digits, ., _ and -",
                        );
                        continue;
                    }
                    if let Some(a) = attachment(ctx, &p.key(name), val) {
                        s.networks.insert(name.to_owned(), a);
                    }
                }
            }
            other => ctx.error(
                &p,
                format!(
                    "must be a list of network names or a mapping, not {}",
                    display(other)
                ),
            ),
        }
    }
    s.network_mode = f.with(ctx, "network_mode", |c, p, v| {
        let mode = NetworkMode::from(string(c, p, v)?);
        match &mode {
            NetworkMode::Service(n) | NetworkMode::Container(n) if n.is_empty() => {
                c.error(
                    p,
                    format!("{mode} names nothing; use service:NAME or container:NAME"),
                );
                None
            }
            _ => Some(mode),
        }
    });
    if let Some(v) = f.get("extra_hosts") {
        s.extra_hosts = extra_hosts(ctx, &f.at("extra_hosts"), v);
    }
}

fn ipam(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Ipam> {
    let f = Fields::new(ctx, p, v, &["driver", "config", "options"], false)?;
    let mut config = Vec::new();
    if let Some(list) = f.get("config") {
        let cp = f.at("config");
        match list {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = cp.index(i);
                    let Some(pf) = Fields::new(
                        ctx,
                        &ip,
                        item,
                        &["subnet", "ip_range", "gateway", "aux_addresses"],
                        false,
                    ) else {
                        continue;
                    };
                    config.push(IpamPool {
                        subnet: pf.with(ctx, "subnet", cidr),
                        ip_range: pf.with(ctx, "ip_range", cidr),
                        gateway: pf.with(ctx, "gateway", |c, p, v| {
                            address::<IpAddr>(c, p, v, "IP").map(|ip| ip.to_string())
                        }),
                        aux_addresses: pf
                            .with(ctx, "aux_addresses", |c, p, v| Some(options(c, p, v)))
                            .unwrap_or_default(),
                    });
                }
            }
            other => ctx.error(&cp, format!("must be a list, not {}", kind(other))),
        }
    }
    Some(Ipam {
        driver: f.with(ctx, "driver", string),
        config,
        options: f
            .with(ctx, "options", |c, p, v| Some(options(c, p, v)))
            .unwrap_or_default(),
    })
}

fn cidr(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<String> {
    let s = string(ctx, p, v)?;
    let ok = s.split_once('/').is_some_and(|(ip, len)| {
        let max = match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => 32,
            Ok(IpAddr::V6(_)) => 128,
            Err(_) => return false,
        };
        len.parse::<u8>().is_ok_and(|l| l <= max)
    });
    if ok {
        Some(s)
    } else {
        ctx.error(
            p,
            format!("{s:?} is not a subnet in CIDR notation such as 172.28.0.0/16"),
        );
        None
    }
}

/// Reads `external:` of a network or volume: a boolean, or `{name: …}` (deprecated).
pub(crate) fn external(ctx: &mut Ctx, p: &Path, v: &Value, name: &mut Option<String>) -> bool {
    match v {
        Value::Mapping(_) => {
            let Some(f) = Fields::new(ctx, p, v, &["name"], false) else {
                return false;
            };
            if let Some(n) = f.with(ctx, "name", string) {
                ctx.warn(
                    p,
                    "external.name is deprecated; set name: next to external: true",
                );
                *name = Some(n);
            }
            true
        }
        other => boolean(ctx, p, other).unwrap_or_default(),
    }
}

/// Reads a top-level network.
pub(crate) fn network(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Network> {
    let keys = [
        "name",
        "driver",
        "driver_opts",
        "ipam",
        "external",
        "internal",
        "enable_ipv4",
        "enable_ipv6",
        "attachable",
        "labels",
    ];
    let f = Fields::new(ctx, p, v, &keys, true)?;
    let mut name = f.with(ctx, "name", string);
    let external = f
        .with(ctx, "external", |c, p, v| {
            Some(external(c, p, v, &mut name))
        })
        .unwrap_or_default();
    if external {
        for key in ["driver", "driver_opts", "ipam"] {
            if f.get(key).is_some() {
                ctx.error(&f.at(key), "an external network is not created, so it takes no driver, driver_opts or ipam");
            }
        }
    }
    Some(Network {
        name,
        driver: f.with(ctx, "driver", string),
        driver_opts: f
            .with(ctx, "driver_opts", |c, p, v| Some(options(c, p, v)))
            .unwrap_or_default(),
        ipam: f.with(ctx, "ipam", ipam),
        external,
        internal: f.with(ctx, "internal", boolean).unwrap_or_default(),
        enable_ipv4: f.with(ctx, "enable_ipv4", boolean),
        enable_ipv6: f.with(ctx, "enable_ipv6", boolean),
        attachable: f.with(ctx, "attachable", boolean).unwrap_or_default(),
        labels: f
            .with(ctx, "labels", |c, p, v| Some(string_dict(c, p, v)))
            .unwrap_or_default(),
    })
}
