//! Ports of a service: `ports` in short (`"127.0.0.1:8080-8081:80-81/udp"`, `80`) and long
//! syntax, expanded into one mapping per container port, and `expose`.

use std::net::IpAddr;

use serde_yaml_ng::Value;

use super::fields::{Fields, check_unique, display, string};
use crate::error::{Ctx, Path};
use crate::model::{
    ExposedPort, PortMapping, PortMode, PortRange, Protocol, Service, parse_port_mappings,
};
use crate::yaml::kind;

/// Items that may be strings or numbers (`expose`, `group_add`), as text, unique.
pub(crate) fn strings_or_numbers(ctx: &mut Ctx, path: &Path, v: &Value) -> Vec<String> {
    let Value::Sequence(items) = v else {
        ctx.error(path, format!("must be a list, not {}", kind(v)));
        return Vec::new();
    };
    check_unique(ctx, path, items);
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                ctx.error(
                    &path.index(i),
                    format!("must be a string or a number, not {}", kind(other)),
                );
                None
            }
        })
        .collect()
}

fn port_number(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<PortRange> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => {
            ctx.error(path, format!("must be a port number, not {}", kind(other)));
            return None;
        }
    };
    match text.parse::<PortRange>() {
        Ok(r) => Some(r),
        Err(e) => {
            ctx.error(path, e.to_string());
            None
        }
    }
}

fn long_port(ctx: &mut Ctx, path: &Path, v: &Value) -> Option<PortMapping> {
    let keys = [
        "name",
        "mode",
        "host_ip",
        "target",
        "published",
        "protocol",
        "app_protocol",
    ];
    let f = Fields::new(ctx, path, v, &keys, false)?;
    let target = f.with(ctx, "target", port_number);
    if f.get("target").is_none() {
        ctx.error(path, "target: is required: the port inside the container");
    }
    let target = match target {
        Some(r) if r.len() == 1 => r.start(),
        Some(r) => {
            ctx.error(
                &f.at("target"),
                format!("{r} is a range; the long syntax takes one target port per entry"),
            );
            return None;
        }
        None => return None,
    };
    let published = match f.get("published") {
        Some(Value::String(s)) if s.is_empty() => None,
        Some(_) => Some(f.with(ctx, "published", port_number)?),
        None => None,
    };
    let host_ip = match f.with(ctx, "host_ip", string) {
        Some(ip) => match ip
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => Some(ip),
            Err(_) => {
                ctx.error(&f.at("host_ip"), format!("{ip:?} is not an IP address"));
                None
            }
        },
        None => None,
    };
    let protocol = match f.with(ctx, "protocol", string) {
        Some(p) => match p.parse::<Protocol>() {
            Ok(p) => p,
            Err(e) => {
                ctx.error(&f.at("protocol"), e.to_string());
                Protocol::Tcp
            }
        },
        None => Protocol::Tcp,
    };
    let mode = match f.with(ctx, "mode", string).as_deref() {
        None => None,
        Some("host") => Some(PortMode::Host),
        Some("ingress") => Some(PortMode::Ingress),
        Some(other) => {
            ctx.error(
                &f.at("mode"),
                format!("{other:?} is not a port mode; use host or ingress"),
            );
            None
        }
    };
    Some(PortMapping {
        target,
        published,
        host_ip,
        protocol,
        mode,
        name: f.with(ctx, "name", string),
        app_protocol: f.with(ctx, "app_protocol", string),
    })
}

/// Reads `ports` and `expose`.
pub(crate) fn read(ctx: &mut Ctx, f: &Fields<'_>, s: &mut Service) {
    if let Some(v) = f.get("ports") {
        let path = f.at("ports");
        match v {
            Value::Sequence(items) => {
                check_unique(ctx, &path, items);
                for (i, item) in items.iter().enumerate() {
                    let p = path.index(i);
                    match item {
                        Value::Number(_) => {
                            if let Some(r) = port_number(ctx, &p, item) {
                                s.ports.push(PortMapping::container(r.start()));
                            }
                        }
                        Value::String(spec) => match parse_port_mappings(spec) {
                            Ok(mappings) => s.ports.extend(mappings),
                            Err(e) => ctx.error(&p, e.to_string()),
                        },
                        Value::Mapping(_) => s.ports.extend(long_port(ctx, &p, item)),
                        other => ctx.error(
                            &p,
                            format!(
                                "must be a port mapping string, a number or a mapping, not {}",
                                display(other)
                            ),
                        ),
                    }
                }
            }
            other => ctx.error(&path, format!("must be a list, not {}", kind(other))),
        }
    }
    if let Some(v) = f.get("expose") {
        let path = f.at("expose");
        for (i, text) in strings_or_numbers(ctx, &path, v).into_iter().enumerate() {
            match text.parse::<ExposedPort>() {
                Ok(p) => s.expose.push(p),
                Err(e) => ctx.error(&path.index(i), e.to_string()),
            }
        }
    }
}
