//! What is special about a Container: resolving the Secrets and ConfigMaps it reads, and
//! the engine calls that observe, create, update and remove it.

use std::sync::Arc;

use api::{
    KeySelector,
    container::{Container, ContainerObservation, LocalReference, Selector},
    network::Network,
    volume::Volume,
};
use engine::{
    containers,
    drift::{self, Action},
    labels::{Owner, Ownership, ownership},
    observe,
    pool::Daemon,
    registry::DockerCredentials,
    translate::container::{DesiredContainer, Resolved, desired_container},
};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, ResourceExt};

use super::Adoption;
use crate::{
    config,
    context::Context,
    error::{Error, Result},
    managed::{Connector, External, Observation, Target},
    secrets,
};

pub struct ContainerConnector;

pub struct ContainerExternal {
    daemon: Arc<Daemon>,
    /// The Docker name.
    name: String,
    /// Absent while deleting: removal needs only the name.
    desired: Option<DesiredContainer>,
    stop_timeout: Option<i64>,
    owner: Owner,
    endpoint: String,
    /// For pulls: the first imagePullSecret (the resource's, then the config's) naming the
    /// image's registry.
    credentials: Option<DockerCredentials>,
    adoption: Adoption,
}

impl ContainerExternal {
    fn desired(&self) -> Result<&DesiredContainer> {
        self.desired.as_ref().ok_or_else(|| {
            Error::Contract(format!(
                "{} is being deleted; it is not created or changed",
                self.name
            ))
        })
    }
}

/// Where a referenced value comes from, for error messages.
enum Source<'a> {
    Secret(&'a KeySelector),
    ConfigMap(&'a KeySelector),
}

/// Reads one key of a Secret or ConfigMap in `namespace`. `Ok(None)` when it is missing
/// and the reference is optional.
async fn read_key(
    client: &kube::Client,
    namespace: &str,
    source: Source<'_>,
    field: &str,
) -> Result<Option<Vec<u8>>> {
    let (kind, sel) = match source {
        Source::Secret(s) => ("Secret", s),
        Source::ConfigMap(s) => ("ConfigMap", s),
    };
    let value = match source {
        Source::Secret(_) => Api::<Secret>::namespaced(client.clone(), namespace)
            .get_opt(&sel.name)
            .await
            .map_err(|e| Error::kube(format!("read Secret {} for {field}", sel.name), e))?
            .map(|s| {
                let data = s.data.unwrap_or_default();
                let string_data = s.string_data.unwrap_or_default();
                data.get(&sel.key)
                    .map(|b| b.0.clone())
                    .or_else(|| string_data.get(&sel.key).map(|s| s.as_bytes().to_vec()))
            }),
        Source::ConfigMap(_) => Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .get_opt(&sel.name)
            .await
            .map_err(|e| Error::kube(format!("read ConfigMap {} for {field}", sel.name), e))?
            .map(|c| {
                c.data
                    .unwrap_or_default()
                    .get(&sel.key)
                    .map(|s| s.as_bytes().to_vec())
                    .or_else(|| {
                        c.binary_data
                            .unwrap_or_default()
                            .get(&sel.key)
                            .map(|b| b.0.clone())
                    })
            }),
    };
    match value {
        Some(Some(v)) => Ok(Some(v)),
        _ if sel.optional == Some(true) => Ok(None),
        None => Err(Error::Reference(format!(
            "{field}: {kind} {} does not exist in namespace {namespace}; create it or mark the reference optional",
            sel.name
        ))),
        Some(None) => Err(Error::Reference(format!(
            "{field}: {kind} {} in namespace {namespace} has no key {:?}; add the key or mark the reference optional",
            sel.name, sel.key
        ))),
    }
}

/// The registry credentials for the image: the resource's own imagePullSecrets first,
/// then its provider config's. Read only when some are named.
async fn pull_credentials(
    ctx: &Context,
    mr: &Container,
    config: &config::Resolved,
) -> Result<Option<DockerCredentials>> {
    let own = &mr.spec.for_provider.image_pull_secrets;
    if own.is_empty() && config.image_pull_secrets.is_empty() {
        return Ok(None);
    }
    let namespace = mr.namespace().unwrap_or_default();
    let mut auths = Vec::new();
    for (i, reference) in own.iter().enumerate() {
        let field = format!("spec.forProvider.imagePullSecrets[{i}]");
        auths.push(secrets::registry_auth(&ctx.client, &namespace, &reference.name, &field).await?);
    }
    for (ns, name) in &config.image_pull_secrets {
        let field = "the provider config's spec.imagePullSecrets";
        auths.push(secrets::registry_auth(&ctx.client, ns, name, field).await?);
    }
    Ok(engine::registry::credentials_for(
        &mr.spec.for_provider.image,
        &auths,
    ))
}

/// Finds the one resource a reference or selector names, and its Docker name once it is
/// Ready on the same daemon as the container.
async fn referenced<K>(
    ctx: &Context,
    mr: &Container,
    reference: Option<&LocalReference>,
    selector: Option<&Selector>,
    field: &str,
) -> Result<String>
where
    K: api::Managed,
{
    let namespace = mr.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let kind = K::kind(&());
    let target = match (reference, selector) {
        (Some(r), _) => api
            .get_opt(&r.name)
            .await
            .map_err(|e| Error::kube(format!("read {kind} {} for {field}", r.name), e))?
            .ok_or_else(|| {
                Error::Waiting(format!(
                    "waiting for {kind} {} ({field}): it does not exist yet",
                    r.name
                ))
            })?,
        (None, Some(sel)) => {
            let labels: Vec<String> = sel
                .match_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let mut found = api
                .list(&kube::api::ListParams::default().labels(&labels.join(",")))
                .await
                .map_err(|e| Error::kube(format!("list {kind} for {field}"), e))?
                .items;
            match found.len() {
                0 => {
                    return Err(Error::Waiting(format!(
                        "waiting for a {kind} matching {} ({field})",
                        labels.join(",")
                    )));
                }
                1 => found.remove(0),
                n => {
                    return Err(Error::Reference(format!(
                        "{field}: {n} {kind}s match {}; make the selector match exactly one",
                        labels.join(",")
                    )));
                }
            }
        }
        (None, None) => {
            return Err(Error::Reference(format!(
                "{field}: give a name, a reference or a selector"
            )));
        }
    };
    let name = target.name_any();
    if target.managed_spec().provider_config_ref != mr.spec.managed.provider_config_ref {
        return Err(Error::Reference(format!(
            "{field}: {kind} {name} is on {} {} but this Container is on {} {}; both must use the same provider config",
            target.managed_spec().provider_config_ref.kind.as_str(),
            target.managed_spec().provider_config_ref.name,
            mr.spec.managed.provider_config_ref.kind.as_str(),
            mr.spec.managed.provider_config_ref.name,
        )));
    }
    let ready = target
        .managed_status()
        .and_then(|s| s.condition(api::CONDITION_READY))
        .is_some_and(|c| c.status == api::ConditionStatus::True);
    if !ready {
        return Err(Error::Waiting(format!(
            "waiting for {kind} {name} ({field}) to be Ready"
        )));
    }
    Ok(crate::managed::external_name(&target))
}

/// Resolves every Secret and ConfigMap value the container reads, and the Docker names of
/// the Volumes and Networks it references.
async fn resolve(ctx: &Context, mr: &Container) -> Result<Resolved> {
    let namespace = mr.namespace().unwrap_or_default();
    let p = &mr.spec.for_provider;
    let mut resolved = Resolved::default();
    for (i, var) in p.env.iter().enumerate() {
        let Some(from) = &var.value_from else {
            continue;
        };
        let (source, field) = match (&from.secret_key_ref, &from.config_map_key_ref) {
            (Some(s), _) => (
                Source::Secret(s),
                format!("spec.forProvider.env[{i}].valueFrom.secretKeyRef"),
            ),
            (None, Some(c)) => (
                Source::ConfigMap(c),
                format!("spec.forProvider.env[{i}].valueFrom.configMapKeyRef"),
            ),
            (None, None) => {
                return Err(Error::Reference(format!(
                    "spec.forProvider.env[{i}].valueFrom needs secretKeyRef or configMapKeyRef"
                )));
            }
        };
        if let Some(bytes) = read_key(&ctx.client, &namespace, source, &field).await? {
            let value = String::from_utf8(bytes).map_err(|_| {
                Error::Reference(format!(
                    "{field}: the value is not UTF-8 text, which environment variables need"
                ))
            })?;
            resolved.env.insert(var.name.clone(), value);
        }
    }
    for (i, m) in p.mounts.iter().enumerate() {
        if let Some(v) = &m.volume
            && v.name.is_none()
        {
            let field = format!("spec.forProvider.mounts[{i}].volume");
            let name = referenced::<Volume>(
                ctx,
                mr,
                v.volume_ref.as_ref(),
                v.volume_selector.as_ref(),
                &field,
            )
            .await?;
            resolved.volumes.insert(i, name);
        }
    }
    for (i, a) in p.networks.iter().enumerate() {
        if a.name.is_none() {
            let field = format!("spec.forProvider.networks[{i}]");
            let name = referenced::<Network>(
                ctx,
                mr,
                a.network_ref.as_ref(),
                a.network_selector.as_ref(),
                &field,
            )
            .await?;
            resolved.networks.insert(i, name);
        }
    }
    for (i, file) in p.files.iter().enumerate() {
        let (source, field) = match (&file.secret_key_ref, &file.config_map_key_ref) {
            (Some(s), _) => (
                Source::Secret(s),
                format!("spec.forProvider.files[{i}].secretKeyRef"),
            ),
            (None, Some(c)) => (
                Source::ConfigMap(c),
                format!("spec.forProvider.files[{i}].configMapKeyRef"),
            ),
            (None, None) => continue,
        };
        if let Some(bytes) = read_key(&ctx.client, &namespace, source, &field).await? {
            resolved.files.insert(file.path.clone(), bytes);
        }
    }
    Ok(resolved)
}

impl Connector<Container> for ContainerConnector {
    type External = ContainerExternal;

    async fn connect(
        &self,
        ctx: &Context,
        mr: &Container,
        target: Target,
    ) -> Result<ContainerExternal> {
        let credentials = match target.deleting {
            true => None,
            false => pull_credentials(ctx, mr, &target.config).await?,
        };
        let desired = if target.deleting {
            None
        } else {
            let p = &mr.spec.for_provider;
            let (policy, config) = (&target.config.policy, &target.config.key);
            let mut refusals = engine::policy::container_violations(p, policy, config);
            // References are resolved first: a Network resource may name the host network.
            let resolved = resolve(ctx, mr).await?;
            let networks = engine::policy::attached_networks(p, &resolved.networks);
            let ns = &target.owner.namespace;
            let daemon = &target.config.daemon;
            let mut asked = engine::policy::Asked::default();
            let facts = engine::policy::look_up(daemon, p, &networks, ns, &[], &mut asked).await?;
            let sharing = engine::policy::sharing_violations(p, &facts, policy, config, ns);
            refusals.extend(sharing.refusals);
            if !refusals.is_empty() {
                return Err(Error::Policy(format!(
                    "{}; ask the config's owner to allow it, or remove it from the spec",
                    refusals.join("; ")
                )));
            }
            if !sharing.missing.is_empty() {
                return Err(Error::Waiting(sharing.missing.join("; ")));
            }
            Some(desired_container(
                &target.owner,
                &target.external_name,
                &mr.spec.for_provider,
                &resolved,
            )?)
        };
        let stop_timeout = mr
            .spec
            .for_provider
            .stop_grace_period
            .as_deref()
            .and_then(|g| api::quantity::GoDuration::parse(g).ok())
            .map(|d| d.0.as_secs_f64().ceil() as i64);
        let adoption = Adoption::new(&target);
        Ok(ContainerExternal {
            daemon: target.config.daemon,
            name: target.external_name,
            desired,
            stop_timeout,
            owner: target.owner,
            endpoint: target.config.endpoint,
            credentials,
            adoption,
        })
    }
}

impl External<Container> for ContainerExternal {
    type Diff = Vec<Action>;

    async fn observe(&self) -> Result<Observation<ContainerObservation, Vec<Action>>> {
        let name = &self.name;
        let Some(inspect) = containers::inspect(&self.daemon, name).await? else {
            return Ok(Observation::absent());
        };
        let labels = inspect.config.as_ref().and_then(|c| c.labels.as_ref());
        match ownership(labels, &self.owner) {
            // Deleting: another resource's container is not ours to remove.
            Ownership::Other(_) if self.desired.is_none() => return Ok(Observation::absent()),
            Ownership::Other(uid) => {
                return Err(engine::Error::NameTaken {
                    daemon: self.daemon.name().into(),
                    what: "container",
                    name: name.clone(),
                    owner: uid.into(),
                }
                .into());
            }
            Ownership::Unlabelled => {
                let object = format!("container {name} on {}", self.daemon.name());
                if !self.adoption.allows(labels, &object, None)? {
                    return Ok(Observation::absent());
                }
            }
            Ownership::Ours => {}
        }
        let Some(desired) = &self.desired else {
            // Deleting: only existence matters.
            let mut observed = Observation::absent();
            observed.exists = true;
            return Ok(observed);
        };
        let tag_image_id = match desired.pull_policy {
            api::container::PullPolicy::Always => Some(
                containers::ensure_image(
                    &self.daemon,
                    &desired.image,
                    desired.pull_policy,
                    self.credentials.clone(),
                )
                .await?,
            ),
            _ => None,
        };
        let mut network_ids = std::collections::BTreeMap::new();
        for (network, _) in &desired.networks {
            if let Some(id) = engine::networks::id_of(&self.daemon, network).await? {
                network_ids.insert(network.clone(), id);
            }
        }
        let plan = drift::plan(
            desired,
            &inspect,
            &self.owner,
            tag_image_id.as_deref(),
            &network_ids,
        );
        let at_provider = observe::observation(&inspect);
        let readiness = observe::readiness(desired.state, desired.run_to_completion, &inspect);
        let connection = observe::connection_details(&at_provider, &self.endpoint);
        Ok(Observation {
            exists: true,
            diff: (!plan.is_empty()).then_some(plan),
            at_provider: Some(at_provider),
            readiness,
            connection,
            late_init: None,
        })
    }

    async fn create(&self) -> Result<()> {
        match containers::create(&self.daemon, self.desired()?, self.credentials.clone()).await {
            Ok(_) => Ok(()),
            // The name exists after all (a create racing a removal, or a restart): look
            // again. Ours is fine (the next observe brings it to the desired state);
            // another resource's is refused there.
            Err(engine::Error::Conflict { .. }) => {
                self.observe().await?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn update(&self, plan: &Vec<Action>) -> Result<String> {
        let desired = self.desired()?;
        let name = &self.name;
        let mut done = Vec::new();
        for action in plan {
            match action {
                Action::Recreate(reasons) => {
                    containers::replace(&self.daemon, name, desired, self.credentials.clone())
                        .await?;
                    done.push(format!("recreated {name}: {}", reasons.join("; ")));
                }
                Action::Update(body, changes) => {
                    containers::update(&self.daemon, name, (**body).clone()).await?;
                    done.push(format!("updated {name} in place: {}", changes.join(", ")));
                }
                Action::Connect(network) => {
                    let endpoint = desired
                        .networks
                        .iter()
                        .find(|(n, _)| n == network)
                        .map(|(_, e)| e.clone())
                        .unwrap_or_default();
                    engine::networks::disconnect(&self.daemon, network, name).await?;
                    engine::networks::connect(&self.daemon, network, name, endpoint).await?;
                    done.push(format!("connected {name} to network {network}"));
                }
                Action::Start => {
                    containers::start(&self.daemon, name).await?;
                    done.push(format!("started {name}"));
                }
                Action::Stop => {
                    containers::stop(&self.daemon, name, self.stop_timeout).await?;
                    done.push(format!("stopped {name}"));
                }
                Action::Pause => {
                    containers::pause(&self.daemon, name).await?;
                    done.push(format!("paused {name}"));
                }
                Action::Unpause => {
                    containers::unpause(&self.daemon, name).await?;
                    done.push(format!("unpaused {name}"));
                }
            }
        }
        Ok(done.join("; "))
    }

    async fn delete(&self) -> Result<()> {
        containers::remove(&self.daemon, &self.name, self.stop_timeout).await?;
        Ok(())
    }

    fn polled(&self) -> bool {
        self.desired
            .as_ref()
            .is_some_and(|d| d.pull_policy == api::container::PullPolicy::Always)
    }
}
