//! How a daemon is reached: its local socket, plain TCP, mutual TLS or SSH. TLS and SSH
//! keep their keys in memory and give bollard a transport of their own.

mod known_hosts;
mod ssh;
mod tls;

use std::sync::Arc;

use bollard::{ClientVersion, Docker};

pub use known_hosts::KnownHosts;

/// Key material: compared by value (so a rotated Secret rebuilds the client), never
/// printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(Arc<[u8]>);

impl Sensitive {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into().into())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Certificates for mutual TLS, PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsMaterial {
    /// CA that signed the daemon's certificate; `None`: the system's trusted roots.
    pub ca: Option<Sensitive>,
    /// Client certificate chain and its key; `None`: no client certificate is presented.
    pub client: Option<(Sensitive, Sensitive)>,
    /// Name the daemon's certificate must be valid for; `None`: the address's host.
    pub server_name: Option<String>,
    /// Whether the daemon's certificate is verified at all.
    pub verify: bool,
}

/// Where and as whom to log in over SSH, and how to recognise the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshMaterial {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// The private key, OpenSSH or PEM, unencrypted.
    pub private_key: Sensitive,
    /// The host's public keys, in known_hosts format.
    pub known_hosts: KnownHosts,
    /// The daemon's socket on the remote host; `None`: the remote CLI's default.
    pub remote_socket: Option<String>,
}

/// How to reach a daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A local socket path.
    Unix(String),
    /// `host:port`, unencrypted and unauthenticated.
    PlainTcp(String),
    /// `host:port` with mutual TLS.
    Tls(String, TlsMaterial),
    Ssh(SshMaterial),
}

/// Why a transport cannot be set up; says which field or key to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

impl Transport {
    /// The client for this transport. No connection is made until the first call.
    pub(crate) fn connect(
        &self,
        timeout_secs: u64,
        version: &ClientVersion,
    ) -> Result<Docker, TransportError> {
        let failed = |e: bollard::errors::Error| TransportError(e.to_string());
        match self {
            Self::Unix(path) => {
                Docker::connect_with_unix(path, timeout_secs, version).map_err(failed)
            }
            Self::PlainTcp(address) => {
                Docker::connect_with_http(&format!("tcp://{address}"), timeout_secs, version)
                    .map_err(failed)
            }
            Self::Tls(address, material) => tls::docker(address, material, timeout_secs, version),
            Self::Ssh(material) => ssh::docker(material, timeout_secs, version),
        }
    }
}

/// A bollard client whose requests go through `connector` (TLS, SSH), pooled by hyper;
/// `address` is the `scheme://authority` request URIs get.
fn over<C>(
    connector: C,
    address: String,
    timeout_secs: u64,
    version: &ClientVersion,
) -> Result<Docker, TransportError>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector);
    Docker::connect_with_custom_transport(
        move |request: bollard::BollardRequest| {
            let client = client.clone();
            async move {
                client
                    .request(request)
                    .await
                    .map_err(bollard::errors::Error::from)
            }
        },
        Some(address),
        timeout_secs,
        version,
    )
    .map_err(|e| TransportError(e.to_string()))
}

/// Splits `ssh://user@host[:port]` into its parts.
pub fn parse_ssh_host(host: &str) -> Result<(String, String, u16), TransportError> {
    let bad = || {
        TransportError(format!(
            "spec.host {host:?} is not a valid SSH address; use ssh://user@host or ssh://user@host:port"
        ))
    };
    let rest = host.strip_prefix("ssh://").ok_or_else(bad)?;
    let rest = rest.trim_end_matches('/');
    let (user, address) = rest.split_once('@').ok_or_else(bad)?;
    if user.is_empty() || address.is_empty() {
        return Err(bad());
    }
    let (name, port) = split_host_port(address).ok_or_else(bad)?;
    Ok((user.to_string(), name, port.unwrap_or(22)))
}

/// Splits `tcp://host:port` into `host:port`, requiring the port.
pub fn parse_tcp_host(host: &str) -> Result<String, TransportError> {
    let bad = || {
        TransportError(format!(
            "spec.host {host:?} is not a valid TCP address; use tcp://host:port"
        ))
    };
    let address = host
        .strip_prefix("tcp://")
        .ok_or_else(bad)?
        .trim_end_matches('/');
    match split_host_port(address) {
        Some((_, Some(_))) => Ok(address.to_string()),
        _ => Err(bad()),
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(address: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = if let Some(rest) = address.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        match after {
            "" => (name, None),
            p => (name, Some(p.strip_prefix(':')?)),
        }
    } else {
        match address.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (address, None),
        }
    };
    if name.is_empty() || name.contains(['/', '@', ' ']) {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => None,
    };
    Some((name.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_hosts_take_a_user_and_an_optional_port() {
        assert_eq!(
            parse_ssh_host("ssh://root@127.0.0.1:22022").unwrap(),
            ("root".into(), "127.0.0.1".into(), 22022)
        );
        assert_eq!(
            parse_ssh_host("ssh://deploy@nas.local").unwrap(),
            ("deploy".into(), "nas.local".into(), 22)
        );
        assert_eq!(
            parse_ssh_host("ssh://me@[::1]:2222").unwrap(),
            ("me".into(), "::1".into(), 2222)
        );
        for bad in [
            "ssh://nas.local",
            "ssh://@nas",
            "ssh://me@nas:0",
            "ssh://me@nas:x",
        ] {
            let message = parse_ssh_host(bad).unwrap_err().to_string();
            assert!(message.contains("ssh://user@host"), "{bad}: {message}");
        }
    }

    #[test]
    fn tcp_hosts_need_a_port() {
        assert_eq!(
            parse_tcp_host("tcp://127.0.0.1:2376").unwrap(),
            "127.0.0.1:2376"
        );
        assert!(parse_tcp_host("tcp://docker.example.com").is_err());
    }

    #[test]
    fn key_material_is_never_printed() {
        let material = TlsMaterial {
            ca: None,
            client: Some((Sensitive::new("CERT"), Sensitive::new("PRIVATE KEY 42"))),
            server_name: None,
            verify: true,
        };
        let printed = format!("{material:?}");
        assert!(!printed.contains("PRIVATE KEY 42"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }
}
