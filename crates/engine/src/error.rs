//! Errors of the Docker side, classified once: Docker's status codes are mapped to named
//! variants here so that no controller matches raw codes.

use std::time::Duration;

/// How the reconcile core should treat an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Likely to pass on its own (daemon restarting, network blip): retry with backoff.
    Transient,
    /// The user must change something (spec, image, port): condition and Event, retry slowly.
    User,
}

/// An error from a Docker operation or from translating a spec for Docker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The daemon could not be reached (connection refused, TLS failure, DNS).
    #[error("cannot reach Docker daemon {daemon}: {detail}")]
    Unreachable { daemon: String, detail: String },
    /// The daemon did not answer within the configured time.
    #[error("Docker daemon {daemon} did not answer {op} within {timeout:?}")]
    Timeout {
        daemon: String,
        op: &'static str,
        timeout: Duration,
    },
    /// The image is not on the daemon and could not be pulled.
    #[error(
        "image {image} is not on daemon {daemon} and could not be pulled: {detail}; check spec.forProvider.image, load the image onto the daemon, or give registry credentials"
    )]
    ImageUnavailable {
        daemon: String,
        image: String,
        detail: String,
    },
    /// The registry refused the pull for want of (valid) credentials.
    #[error(
        "registry {registry} refused to give image {image} to daemon {daemon} ({detail}); {}",
        if *had_credentials {
            "check the user name and password for that registry in spec.forProvider.imagePullSecrets or the provider config's spec.imagePullSecrets"
        } else {
            "give credentials for it in a kubernetes.io/dockerconfigjson Secret named in spec.forProvider.imagePullSecrets or in the provider config's spec.imagePullSecrets"
        }
    )]
    RegistryAuth {
        daemon: String,
        image: String,
        registry: String,
        detail: String,
        had_credentials: bool,
    },
    /// The image is not on the daemon and the pull policy forbids pulling it.
    #[error(
        "image {image} is not on daemon {daemon} and spec.forProvider.imagePullPolicy is Never; load the image onto the daemon or allow pulls"
    )]
    ImageMissingNoPull { daemon: String, image: String },
    /// A published host port is taken on the daemon host.
    #[error(
        "spec.forProvider.ports: a host port is already allocated on daemon {daemon} ({detail}); choose another hostPort or leave hostPort empty"
    )]
    PortAllocated { daemon: String, detail: String },
    /// A Docker object with the wanted name exists and belongs to something else.
    #[error(
        "a Docker {what} named {name} already exists on daemon {daemon} and is managed by another resource (uid {owner}); choose another name or delete the other resource"
    )]
    NameTaken {
        daemon: String,
        what: &'static str,
        name: String,
        owner: String,
    },
    /// A Docker object appeared under our name while we were creating it.
    #[error("a Docker {what} named {name} already exists on daemon {daemon}")]
    Conflict {
        daemon: String,
        what: &'static str,
        name: String,
    },
    /// The object cannot be removed while containers use it.
    #[error(
        "{what} {name} on daemon {daemon} is in use ({detail}); it is removed once nothing uses it"
    )]
    InUse {
        daemon: String,
        what: &'static str,
        name: String,
        detail: String,
    },
    /// The object does not exist on the daemon.
    #[error("no Docker {what} {name} on daemon {daemon}")]
    NotFound {
        daemon: String,
        what: &'static str,
        name: String,
    },
    /// Docker refused the request as invalid (bad mount, bad option, ...).
    #[error(
        "{}Docker daemon {daemon} refused {op}: {message}",
        field_hint(message)
    )]
    Rejected {
        daemon: String,
        op: &'static str,
        message: String,
    },
    /// Docker failed while carrying out the request.
    #[error("Docker daemon {daemon} failed {op}: {message}")]
    Server {
        daemon: String,
        op: &'static str,
        message: String,
    },
    /// The spec cannot be turned into a Docker request.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Unreachable { .. }
            | Self::Timeout { .. }
            | Self::Conflict { .. }
            | Self::InUse { .. }
            | Self::NotFound { .. }
            | Self::Server { .. } => ErrorClass::Transient,
            Self::ImageUnavailable { .. }
            | Self::RegistryAuth { .. }
            | Self::ImageMissingNoPull { .. }
            | Self::PortAllocated { .. }
            | Self::NameTaken { .. }
            | Self::Rejected { .. }
            | Self::Invalid(_) => ErrorClass::User,
        }
    }

    /// A short, bounded name of the variant, for metric labels and event reasons.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unreachable { .. } => "DaemonUnreachable",
            Self::Timeout { .. } => "DaemonTimeout",
            Self::ImageUnavailable { .. } => "ImageUnavailable",
            Self::ImageMissingNoPull { .. } => "ImageMissing",
            Self::RegistryAuth { .. } => "RegistryAuthFailed",
            Self::PortAllocated { .. } => "PortAllocated",
            Self::NameTaken { .. } => "NameTaken",
            Self::Conflict { .. } => "Conflict",
            Self::InUse { .. } => "InUse",
            Self::NotFound { .. } => "NotFound",
            Self::Rejected { .. } => "DockerRejected",
            Self::Server { .. } => "DockerError",
            Self::Invalid(_) => "InvalidSpec",
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Maps a bollard error from operation `op` on `daemon` about the object `name`.
    pub fn from_docker(
        daemon: &str,
        op: &'static str,
        what: &'static str,
        name: &str,
        err: bollard::errors::Error,
    ) -> Self {
        use bollard::errors::Error as B;
        let daemon = daemon.to_string();
        match err {
            B::DockerResponseServerError {
                status_code,
                message,
            } => match status_code {
                _ if message.contains("active endpoints") || message.contains("is in use") => {
                    Self::InUse {
                        daemon,
                        what,
                        name: name.into(),
                        detail: message,
                    }
                }
                404 => Self::NotFound {
                    daemon,
                    what,
                    name: name.into(),
                },
                409 => Self::Conflict {
                    daemon,
                    what,
                    name: name.into(),
                },
                _ if message.contains("port is already allocated")
                    || message.contains("address already in use") =>
                {
                    Self::PortAllocated {
                        daemon,
                        detail: message,
                    }
                }
                400..=499 => Self::Rejected {
                    daemon,
                    op,
                    message,
                },
                // Docker reports many invalid requests (bad mount source, unknown network)
                // as 500 with a message saying so.
                _ if is_user_error_message(&message) => Self::Rejected {
                    daemon,
                    op,
                    message,
                },
                _ => Self::Server {
                    daemon,
                    op,
                    message,
                },
            },
            B::RequestTimeoutError => Self::Timeout {
                daemon,
                op,
                timeout: Duration::ZERO,
            },
            other => Self::Unreachable {
                daemon,
                detail: explain_transport(root_cause(&other)),
            },
        }
    }
}

/// The spec field a refusal is about, when Docker's message tells, as a prefix.
fn field_hint(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    const HINTS: &[(&str, &str)] = &[
        ("mount", "spec.forProvider.mounts: "),
        ("bind source", "spec.forProvider.mounts: "),
        ("capabilit", "spec.forProvider.security.capabilities: "),
        (
            "security-opt",
            "spec.forProvider.security.securityOptions: ",
        ),
        ("seccomp", "spec.forProvider.security.securityOptions: "),
        ("executable file not found", "spec.forProvider.command: "),
        ("network", "spec.forProvider.networkMode: "),
        ("device", "spec.forProvider.devices: "),
        ("log driver", "spec.forProvider.logging: "),
        ("logging driver", "spec.forProvider.logging: "),
        ("restart policy", "spec.forProvider.restartPolicy: "),
        ("memory", "spec.forProvider.resources: "),
        ("cpu", "spec.forProvider.resources: "),
    ];
    HINTS
        .iter()
        .find(|(needle, _)| lower.contains(needle))
        .map_or("", |(_, hint)| hint)
}

/// Messages Docker sends with status 500 that are the user's to fix.
fn is_user_error_message(message: &str) -> bool {
    const USER: &[&str] = &[
        "invalid mount config",
        "bind source path does not exist",
        "no such file or directory",
        "not a directory",
        "invalid argument",
        "permission denied",
        "executable file not found",
        "network not found",
        "invalid reference format",
        "unknown capability",
        "error gathering device information",
        "invalid --security-opt",
        "operation not permitted",
    ];
    let lower = message.to_ascii_lowercase();
    USER.iter().any(|m| lower.contains(m))
}

/// Adds what to do to the transport failures users can fix in their provider config.
pub(crate) fn explain_transport(detail: String) -> String {
    const HINTS: &[(&str, &str)] = &[
        (
            "UnknownIssuer",
            "the daemon's certificate is not signed by the CA in spec.tls.secretRef; check ca.crt (or ca.pem)",
        ),
        (
            "NotValidForName",
            "the daemon's certificate is not valid for this host name; set spec.tls.serverName or fix the certificate",
        ),
        ("Expired", "the daemon's certificate has expired"),
        (
            "CertificateRequired",
            "the daemon requires a client certificate; put tls.crt and tls.key (or cert.pem and key.pem) in spec.tls.secretRef",
        ),
        (
            "BadCertificate",
            "the daemon refused the client certificate; check that tls.crt is signed by a CA the daemon trusts",
        ),
        (
            "UnknownCA",
            "the daemon does not trust the client certificate's CA; check tls.crt in spec.tls.secretRef",
        ),
        (
            "InvalidContentType",
            "the daemon did not answer with TLS; is it a plain TCP daemon (then use spec.insecure) or the wrong port?",
        ),
        (
            "Connection refused",
            "nothing listens at that address; check spec.host and that the daemon runs",
        ),
    ];
    match HINTS.iter().find(|(needle, _)| detail.contains(needle)) {
        Some((_, hint)) => format!("{hint} ({detail})"),
        None => detail,
    }
}

/// The innermost cause of an error, where transport errors say what really went wrong
/// ("connection refused", "invalid peer certificate: UnknownIssuer").
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !messages.iter().any(|m| m.contains(&text)) {
            messages.push(text);
        }
        source = s.source();
    }
    match messages.len() {
        1 => messages.remove(0),
        _ => format!(
            "{} ({})",
            messages.last().map(String::as_str).unwrap_or_default(),
            messages[0]
        ),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(message: &str) -> Error {
        Error::from_docker(
            "d",
            "create_container",
            "container",
            "c",
            bollard::errors::Error::DockerResponseServerError {
                status_code: 400,
                message: message.into(),
            },
        )
    }

    #[test]
    fn refusals_name_the_spec_field_when_docker_says_which() {
        let e = refused(
            "invalid mount config for type \"bind\": bind source path does not exist: /nope",
        );
        assert!(
            e.to_string().starts_with("spec.forProvider.mounts: "),
            "{e}"
        );
        assert_eq!(e.class(), ErrorClass::User);
    }

    #[test]
    fn taken_ports_and_missing_objects_get_their_own_variants() {
        let e = Error::from_docker(
            "d",
            "start_container",
            "container",
            "c",
            bollard::errors::Error::DockerResponseServerError {
                status_code: 500,
                message: "driver failed programming external connectivity: Bind for 0.0.0.0:80 failed: port is already allocated".into(),
            },
        );
        assert!(matches!(e, Error::PortAllocated { .. }), "{e:?}");
        let e = Error::from_docker(
            "d",
            "inspect_container",
            "container",
            "c",
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                message: "No such container: c".into(),
            },
        );
        assert!(e.is_not_found());
    }
}
