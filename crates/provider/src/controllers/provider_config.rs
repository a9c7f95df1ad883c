//! `ProviderConfig` and `ClusterProviderConfig`: report whether the daemon answers (and
//! what it is), count the managed resources using the config, and hold the in-use
//! finalizer while there are any, so a config in use cannot be deleted.

use std::{sync::Arc, time::Duration};

use api::{
    Condition, FINALIZER_IN_USE, ProviderConfigKind,
    provider_config::{
        ClusterProviderConfig, DaemonConfig, DaemonInfo, LABEL_USAGE_CONFIG, ProviderConfig,
        ProviderConfigStatus, ProviderConfigUsage,
    },
    set_condition,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{ListParams, Patch, PatchParams},
    runtime::controller::Action,
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    config::{key_of, settings_of},
    context::{Context, FIELD_MANAGER},
    error::{Error, Result},
    managed::{self, usage::config_label},
};

/// The two config kinds, seen the same way.
pub trait ConfigKind:
    Resource<DynamicType = ()>
    + Clone
    + std::fmt::Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    const KIND: ProviderConfigKind;
    fn daemon_config(&self) -> &DaemonConfig;
    fn config_status(&self) -> Option<&ProviderConfigStatus>;
    fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self>;
}

impl ConfigKind for ClusterProviderConfig {
    const KIND: ProviderConfigKind = ProviderConfigKind::ClusterProviderConfig;
    fn daemon_config(&self) -> &DaemonConfig {
        &self.spec.daemon
    }
    fn config_status(&self) -> Option<&ProviderConfigStatus> {
        self.status.as_ref()
    }
    fn api(client: kube::Client, _: Option<&str>) -> Api<Self> {
        Api::all(client)
    }
}

impl ConfigKind for ProviderConfig {
    const KIND: ProviderConfigKind = ProviderConfigKind::ProviderConfig;
    fn daemon_config(&self) -> &DaemonConfig {
        &self.spec.daemon
    }
    fn config_status(&self) -> Option<&ProviderConfigStatus> {
        self.status.as_ref()
    }
    fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self> {
        Api::namespaced(client, namespace.unwrap_or_default())
    }
}

/// How often a config's daemon is checked.
const CHECK_EVERY: Duration = Duration::from_secs(30);
/// How old the daemon's answer may be when a config is reconciled for a change of its
/// users rather than for its check.
const FACTS_MAX_AGE: Duration = Duration::from_secs(10);

pub async fn reconcile<C: ConfigKind>(config: Arc<C>, ctx: Arc<Context>) -> Result<Action> {
    let name = config.name_any();
    let namespace = config.namespace();
    let api = C::api(ctx.client.clone(), namespace.as_deref());
    let key = key_of(C::KIND, namespace.as_deref(), &name);

    let usages: Api<ProviderConfigUsage> = match &namespace {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    };
    let selector = format!("{LABEL_USAGE_CONFIG}={}", config_label(C::KIND, &name));
    let listed = usages
        .list_metadata(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| Error::kube(format!("count the users of {key}"), e))?
        .items;
    let mut users = 0;
    for usage in &listed {
        users += i64::from(managed::usage::stands(&ctx.client, &usage.metadata).await?);
    }

    let deleting = config.meta().deletion_timestamp.is_some();
    let holds = config.finalizers().iter().any(|f| f == FINALIZER_IN_USE);
    if deleting && users == 0 {
        if holds {
            set_finalizer(&api, &*config, false).await?;
        }
        // The client stays in the pool: when a namespace goes, its resources may still be
        // releasing their Docker objects after the config and its Secrets are gone, and
        // they do so with the client as last connected.
        return Ok(Action::await_change());
    }
    if (users > 0) != holds {
        set_finalizer(&api, &*config, users > 0).await?;
    }

    let old = config.config_status().cloned().unwrap_or_default();
    let mut status = old.clone();
    status.users = Some(users);
    status.observed_generation = config.meta().generation;
    let now = jiff::Timestamp::now().to_string();
    let generation = config.meta().generation;
    let settings = settings_of(
        &ctx.client,
        config.daemon_config(),
        namespace.as_deref(),
        ctx.args.max_concurrent_operations,
    )
    .await;
    let ready = match settings.and_then(|s| ctx.daemons.get(&key, &s).map_err(Error::from)) {
        Err(e) => Err(e),
        Ok(daemon) => {
            // A change of the config itself always asks the daemon afresh.
            if status.observed_generation != old.observed_generation {
                daemon.forget_facts();
            }
            engine::system::describe_recent(&daemon, FACTS_MAX_AGE)
                .await
                .map_err(Error::from)
        }
    };
    match ready {
        Ok(facts) => {
            status.daemon = Some(DaemonInfo {
                version: facts.version,
                api_version: facts.api_version,
                os: facts.os,
                arch: facts.arch,
                cpus: facts.cpus,
                memory_bytes: facts.memory_bytes,
                // Refreshed at most once a minute, so a healthy config is not rewritten
                // on every check.
                last_contact: match old.daemon.as_ref().and_then(|d| d.last_contact.clone()) {
                    Some(t) if is_recent(&t) => Some(t),
                    _ => Some(now.clone()),
                },
            });
            let message = if deleting {
                format!("in use by {users} managed resources; delete them before this config")
            } else {
                let spec = config.daemon_config();
                let how = match (&spec.tls, &spec.ssh) {
                    (Some(tls), _) if tls.insecure_skip_verify => {
                        " over TLS without verifying its certificate (insecureSkipVerify: anyone on the path can impersonate it)"
                    }
                    (Some(_), _) => " over mutual TLS",
                    (_, Some(_)) => " over SSH, host key checked",
                    _ if spec.insecure => {
                        " over plain TCP (insecure: no encryption, no authentication)"
                    }
                    _ => "",
                };
                format!("daemon {} answers{how}", spec.host)
            };
            set_condition(
                &mut status.conditions,
                Condition::available(Some(message)).for_generation(generation),
                &now,
            );
        }
        Err(e) => {
            set_condition(
                &mut status.conditions,
                Condition::unavailable(e.to_string()).for_generation(generation),
                &now,
            );
        }
    }
    if status != old {
        let body = serde_json::json!({
            "apiVersion": C::api_version(&()),
            "kind": C::kind(&()),
            "status": status,
        });
        api.patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await
        .map_err(|e| Error::kube(format!("write the status of {key}"), e))?;
    }
    Ok(Action::requeue(CHECK_EVERY))
}

fn is_recent(timestamp: &str) -> bool {
    timestamp.parse::<jiff::Timestamp>().is_ok_and(|t| {
        jiff::Timestamp::now().duration_since(t) < jiff::SignedDuration::from_secs(60)
    })
}

async fn set_finalizer<C: ConfigKind>(api: &Api<C>, config: &C, hold: bool) -> Result<()> {
    let mut finalizers: Vec<String> = config
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER_IN_USE)
        .cloned()
        .collect();
    if hold {
        finalizers.push(FINALIZER_IN_USE.into());
    }
    let patch = serde_json::json!({
        "metadata": { "resourceVersion": config.resource_version(), "finalizers": finalizers }
    });
    api.patch(
        &config.name_any(),
        &crate::context::merge_params(),
        &Patch::Merge(patch),
    )
    .await
    .map_err(|e| Error::kube(format!("update the finalizers of {}", config.name_any()), e))?;
    Ok(())
}
