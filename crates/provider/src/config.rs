//! Resolving a managed resource's `providerConfigRef` into a connected daemon.

use std::{sync::Arc, time::Duration};

use api::{
    ProviderConfigKind, ProviderConfigReference,
    provider_config::{ClusterProviderConfig, DaemonConfig, ProviderConfig, SecretReference},
    quantity::GoDuration,
};
use engine::{
    pool::{Daemon, DaemonSettings},
    transport::{KnownHosts, Sensitive, SshMaterial, TlsMaterial, Transport},
};
use kube::{Api, runtime::reflector::ObjectRef};

use crate::{
    context::Context,
    error::{Error, Result},
    secrets,
};

/// A provider config, resolved.
pub struct Resolved {
    /// `ClusterProviderConfig/<name>` or `ProviderConfig/<namespace>/<name>`: the daemon's
    /// name in messages, metrics and the pool.
    pub key: String,
    pub daemon: Arc<Daemon>,
    /// The daemon host's address as seen from outside, for connection details.
    pub endpoint: String,
    /// What resources using this config may do on the daemon host.
    pub policy: api::provider_config::TenancyPolicy,
    /// The config's registry credentials, as (namespace, Secret name).
    pub image_pull_secrets: Vec<(String, String)>,
}

/// The pool key of a config.
pub fn key_of(kind: ProviderConfigKind, namespace: Option<&str>, name: &str) -> String {
    match (kind, namespace) {
        (ProviderConfigKind::ProviderConfig, Some(ns)) => format!("ProviderConfig/{ns}/{name}"),
        _ => format!("{}/{name}", kind.as_str()),
    }
}

/// Daemon settings from a config's spec, with the keys its Secrets hold; `namespace` is
/// the config's own (none for a ClusterProviderConfig); `default_ops` is the controller's
/// flag.
pub async fn settings_of(
    client: &kube::Client,
    config: &DaemonConfig,
    namespace: Option<&str>,
    default_ops: usize,
) -> Result<DaemonSettings> {
    let timeout = match &config.timeout {
        Some(t) => {
            GoDuration::parse(t)
                .map_err(|e| Error::ProviderConfig(format!("spec.timeout: {e}")))?
                .0
        }
        None => Duration::from_secs(30),
    };
    let api_version = match &config.api_version {
        None => None,
        Some(v) => Some(
            v.split_once('.')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| {
                    Error::ProviderConfig(format!("spec.apiVersion {v:?} must look like 1.41"))
                })?,
        ),
    };
    Ok(DaemonSettings {
        api_version,
        host: config.host.clone(),
        transport: transport_of(client, config, namespace).await?,
        timeout,
        max_concurrent_operations: config
            .max_concurrent_operations
            .map_or(default_ops, |n| n as usize),
    })
}

/// The transport `spec.host` names, with the TLS or SSH keys of its Secret.
async fn transport_of(
    client: &kube::Client,
    config: &DaemonConfig,
    namespace: Option<&str>,
) -> Result<Transport> {
    let host = config.host.as_str();
    let invalid = |e: engine::transport::TransportError| Error::ProviderConfig(e.0);
    let misplaced = |field: &str, scheme: &str| {
        Error::ProviderConfig(format!(
            "spec.{field} is set but spec.host {host} is not a {scheme}:// address; remove spec.{field} or change spec.host"
        ))
    };
    if let Some(path) = host.strip_prefix("unix://") {
        if config.tls.is_some() {
            return Err(misplaced("tls", "tcp"));
        }
        if config.ssh.is_some() {
            return Err(misplaced("ssh", "ssh"));
        }
        return Ok(Transport::Unix(path.to_string()));
    }
    if host.starts_with("tcp://") {
        if config.ssh.is_some() {
            return Err(misplaced("ssh", "ssh"));
        }
        let address = engine::transport::parse_tcp_host(host).map_err(invalid)?;
        let Some(tls) = &config.tls else {
            if !config.insecure {
                return Err(Error::ProviderConfig(format!(
                    "spec.host {host} is plain TCP: unencrypted and unauthenticated; add spec.tls with the daemon's certificates, or set spec.insecure: true to accept that"
                )));
            }
            return Ok(Transport::PlainTcp(address));
        };
        if config.insecure {
            return Err(Error::ProviderConfig(
                "spec.insecure and spec.tls are both set; remove spec.insecure to use TLS".into(),
            ));
        }
        let (ns, name) = secret_location(&tls.secret_ref, namespace, "spec.tls.secretRef")?;
        let data = secrets::read(client, ns, name, "spec.tls.secretRef").await?;
        let ca = secrets::first_of(&data, &["ca.crt", "ca.pem"]).map(Sensitive::new);
        let cert = secrets::first_of(&data, &["tls.crt", "cert.pem"]);
        let key = secrets::first_of(&data, &["tls.key", "key.pem"]);
        let client_pair = match (cert, key) {
            (Some(c), Some(k)) => Some((Sensitive::new(c), Sensitive::new(k))),
            (None, None) => None,
            _ => {
                return Err(Error::ProviderConfig(format!(
                    "spec.tls.secretRef: Secret {ns}/{name} holds a client certificate or a key but not both; give tls.crt with tls.key (or cert.pem with key.pem)"
                )));
            }
        };
        if ca.is_none() && !tls.insecure_skip_verify && client_pair.is_none() {
            return Err(Error::ProviderConfig(format!(
                "spec.tls.secretRef: Secret {ns}/{name} holds none of ca.crt, tls.crt, tls.key (or ca.pem, cert.pem, key.pem)"
            )));
        }
        return Ok(Transport::Tls(
            address,
            TlsMaterial {
                ca,
                client: client_pair,
                server_name: tls.server_name.clone(),
                verify: !tls.insecure_skip_verify,
            },
        ));
    }
    if host.starts_with("ssh://") {
        if config.tls.is_some() {
            return Err(misplaced("tls", "tcp"));
        }
        let (user, name_of_host, port) =
            engine::transport::parse_ssh_host(host).map_err(invalid)?;
        let ssh = config.ssh.as_ref().ok_or_else(|| {
            Error::ProviderConfig(format!(
                "spec.host {host} is an SSH address but spec.ssh is missing; add spec.ssh.secretRef naming a Secret with ssh-privatekey and known_hosts"
            ))
        })?;
        let (ns, name) = secret_location(&ssh.secret_ref, namespace, "spec.ssh.secretRef")?;
        let data = secrets::read(client, ns, name, "spec.ssh.secretRef").await?;
        let missing = |key: &str| {
            Error::ProviderConfig(format!(
                "spec.ssh.secretRef: Secret {ns}/{name} has no {key} key; add it"
            ))
        };
        let private_key = secrets::first_of(&data, &["ssh-privatekey"])
            .ok_or_else(|| missing("ssh-privatekey"))?;
        let known_hosts =
            secrets::first_of(&data, &["known_hosts"]).ok_or_else(|| missing("known_hosts"))?;
        let known_hosts =
            KnownHosts::parse(&String::from_utf8_lossy(&known_hosts)).map_err(invalid)?;
        return Ok(Transport::Ssh(SshMaterial {
            user,
            host: name_of_host,
            port,
            private_key: Sensitive::new(private_key),
            known_hosts,
            remote_socket: ssh.remote_socket.clone(),
        }));
    }
    Err(Error::ProviderConfig(format!(
        "spec.host {host} is not supported; use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host[:port]"
    )))
}

/// Where a config's Secret lives: a ProviderConfig reads only its own namespace; a
/// ClusterProviderConfig must say which.
pub fn secret_location<'a>(
    reference: &'a SecretReference,
    namespace: Option<&'a str>,
    field: &str,
) -> Result<(&'a str, &'a str)> {
    match (namespace, reference.namespace.as_deref()) {
        (Some(own), None) => Ok((own, &reference.name)),
        (Some(own), Some(ns)) if ns == own => Ok((own, &reference.name)),
        (Some(own), Some(ns)) => Err(Error::Policy(format!(
            "{field}.namespace {ns}: a ProviderConfig may only use Secrets of its own namespace {own}; move the Secret or use a ClusterProviderConfig"
        ))),
        (None, Some(ns)) => Ok((ns, &reference.name)),
        (None, None) => Err(Error::ProviderConfig(format!(
            "{field}.namespace is required on a ClusterProviderConfig"
        ))),
    }
}

/// The spec of the config `reference` names from `namespace`; `None` if it does not exist.
async fn find(
    ctx: &Context,
    namespace: &str,
    reference: &ProviderConfigReference,
    deleting: bool,
) -> Result<Option<DaemonConfig>> {
    let name = reference.name.as_str();
    match reference.kind {
        ProviderConfigKind::ClusterProviderConfig => {
            let cached = ctx
                .stores
                .cluster_configs
                .get(&ObjectRef::<ClusterProviderConfig>::new(name))
                .map(|c| c.spec.clone());
            let spec = match cached {
                Some(spec) => spec,
                None => match Api::<ClusterProviderConfig>::all(ctx.client.clone())
                    .get_opt(name)
                    .await
                    .map_err(|e| Error::kube(format!("read ClusterProviderConfig {name}"), e))?
                {
                    Some(c) => c.spec,
                    None => return Ok(None),
                },
            };
            // A restriction added later must not strand what is being deleted.
            if !deleting
                && !spec.allowed_namespaces.is_empty()
                && !spec.allowed_namespaces.iter().any(|n| n == namespace)
            {
                return Err(Error::Policy(format!(
                    "spec.providerConfigRef: ClusterProviderConfig {name} may not be used from namespace {namespace} (its spec.allowedNamespaces); use a config this namespace may use"
                )));
            }
            Ok(Some(spec.daemon))
        }
        ProviderConfigKind::ProviderConfig => {
            let cached = ctx
                .stores
                .configs
                .get(&ObjectRef::<ProviderConfig>::new(name).within(namespace));
            match cached {
                Some(c) => Ok(Some(c.spec.daemon.clone())),
                None => Ok(
                    Api::<ProviderConfig>::namespaced(ctx.client.clone(), namespace)
                        .get_opt(name)
                        .await
                        .map_err(|e| Error::kube(format!("read ProviderConfig {name}"), e))?
                        .map(|c| c.spec.daemon),
                ),
            }
        }
    }
}

/// Finds the config a managed resource in `namespace` refers to and connects its daemon.
pub async fn resolve(
    ctx: &Context,
    namespace: &str,
    reference: &ProviderConfigReference,
    deleting: bool,
) -> Result<Resolved> {
    let key = key_of(reference.kind, Some(namespace), &reference.name);
    let Some(spec) = find(ctx, namespace, reference, deleting).await? else {
        // Deleting a namespace deletes its configs too, maybe first: removal goes on with
        // the client as last connected.
        if let Some(daemon) = ctx.daemons.existing(&key).filter(|_| deleting) {
            return Ok(Resolved {
                endpoint: engine::observe::endpoint_of(&daemon.settings().host),
                key,
                daemon,
                policy: Default::default(),
                image_pull_secrets: Vec::new(),
            });
        }
        return Err(Error::ProviderConfig(format!(
            "spec.providerConfigRef: {} {} does not exist{}; create it or point providerConfigRef at an existing config",
            reference.kind.as_str(),
            reference.name,
            match reference.kind {
                ProviderConfigKind::ProviderConfig => format!(" in namespace {namespace}"),
                ProviderConfigKind::ClusterProviderConfig => String::new(),
            }
        )));
    };
    let config_namespace = match reference.kind {
        ProviderConfigKind::ProviderConfig => Some(namespace),
        ProviderConfigKind::ClusterProviderConfig => None,
    };
    let settings = settings_of(
        &ctx.client,
        &spec,
        config_namespace,
        ctx.args.max_concurrent_operations,
    )
    .await;
    let daemon = match settings {
        Ok(settings) => ctx.daemons.get(&key, &settings)?,
        // Deleting a namespace deletes the config's Secrets too, often first: removal
        // goes on with the client as last connected.
        Err(e) if deleting => ctx.daemons.existing(&key).ok_or(e)?,
        Err(e) => return Err(e),
    };
    let image_pull_secrets = spec
        .image_pull_secrets
        .iter()
        .map(|r| {
            secret_location(
                r,
                config_namespace,
                "the provider config's spec.imagePullSecrets",
            )
            .map(|(ns, n)| (ns.to_string(), n.to_string()))
        })
        .collect::<Result<_>>()?;
    let endpoint = engine::observe::endpoint_of(&daemon.settings().host);
    Ok(Resolved {
        key,
        daemon,
        endpoint,
        policy: spec.policy,
        image_pull_secrets,
    })
}
