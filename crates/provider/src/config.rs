//! Resolving a managed resource's `providerConfigRef` into a connected daemon.

use std::{sync::Arc, time::Duration};

use api::{
    ProviderConfigKind, ProviderConfigReference,
    provider_config::{ClusterProviderConfig, DaemonConfig, ProviderConfig},
    quantity::GoDuration,
};
use engine::pool::{Daemon, DaemonSettings};
use kube::{Api, runtime::reflector::ObjectRef};

use crate::{
    context::Context,
    error::{Error, Result},
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
}

/// The pool key of a config.
pub fn key_of(kind: ProviderConfigKind, namespace: Option<&str>, name: &str) -> String {
    match (kind, namespace) {
        (ProviderConfigKind::ProviderConfig, Some(ns)) => format!("ProviderConfig/{ns}/{name}"),
        _ => format!("{}/{name}", kind.as_str()),
    }
}

/// Daemon settings from a config's spec; `default_ops` is the controller's flag.
pub fn settings_of(config: &DaemonConfig, default_ops: usize) -> Result<DaemonSettings> {
    let timeout = match &config.timeout {
        Some(t) => {
            GoDuration::parse(t)
                .map_err(|e| Error::ProviderConfig(format!("spec.timeout: {e}")))?
                .0
        }
        None => Duration::from_secs(30),
    };
    if config.host.starts_with("tcp://") && !config.insecure {
        return Err(Error::ProviderConfig(format!(
            "spec.host {} is plain TCP: unencrypted and unauthenticated; set spec.insecure: true to accept that, or use a TLS or SSH transport",
            config.host
        )));
    }
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
        timeout,
        max_concurrent_operations: config
            .max_concurrent_operations
            .map_or(default_ops, |n| n as usize),
    })
}

/// Finds the config a managed resource in `namespace` refers to and connects its daemon.
pub async fn resolve(
    ctx: &Context,
    namespace: &str,
    reference: &ProviderConfigReference,
    deleting: bool,
) -> Result<Resolved> {
    let name = reference.name.as_str();
    let missing = || {
        Error::ProviderConfig(format!(
            "spec.providerConfigRef: {} {name} does not exist{}; create it or point providerConfigRef at an existing config",
            reference.kind.as_str(),
            match reference.kind {
                ProviderConfigKind::ProviderConfig => format!(" in namespace {namespace}"),
                ProviderConfigKind::ClusterProviderConfig => String::new(),
            }
        ))
    };
    let spec = match reference.kind {
        ProviderConfigKind::ClusterProviderConfig => {
            let cached = ctx
                .stores
                .cluster_configs
                .get(&ObjectRef::<ClusterProviderConfig>::new(name));
            let spec = match cached {
                Some(c) => c.spec.clone(),
                None => {
                    Api::<ClusterProviderConfig>::all(ctx.client.clone())
                        .get_opt(name)
                        .await
                        .map_err(|e| Error::kube(format!("read ClusterProviderConfig {name}"), e))?
                        .ok_or_else(missing)?
                        .spec
                }
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
            spec.daemon
        }
        ProviderConfigKind::ProviderConfig => {
            let cached = ctx
                .stores
                .configs
                .get(&ObjectRef::<ProviderConfig>::new(name).within(namespace));
            match cached {
                Some(c) => c.spec.daemon.clone(),
                None => {
                    Api::<ProviderConfig>::namespaced(ctx.client.clone(), namespace)
                        .get_opt(name)
                        .await
                        .map_err(|e| Error::kube(format!("read ProviderConfig {name}"), e))?
                        .ok_or_else(missing)?
                        .spec
                        .daemon
                }
            }
        }
    };
    let key = key_of(reference.kind, Some(namespace), name);
    let settings = settings_of(&spec, ctx.args.max_concurrent_operations)?;
    let endpoint = engine::observe::endpoint_of(&settings.host);
    let daemon = ctx.daemons.get(&key, &settings)?;
    Ok(Resolved {
        key,
        daemon,
        endpoint,
        policy: spec.policy,
    })
}
