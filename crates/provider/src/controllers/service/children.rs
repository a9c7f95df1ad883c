//! A Service's children: the Containers, Networks and Volumes it owns, applied with
//! server-side apply, found again by label, and removed when no longer wanted.

use std::collections::BTreeMap;

use api::{
    ANNOTATION_EXTERNAL_NAME, container::Container, network::Network, service::Service,
    volume::Volume,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams},
};
use sha2::{Digest, Sha256};

use super::members::Gate;
use crate::{
    context::FIELD_MANAGER,
    error::{Error, Result},
};

/// On every child: the Service that owns it.
pub const LABEL_SERVICE: &str = "docker.m.crossplane.io/service";
/// On member Containers: the compose service they run.
pub const LABEL_MEMBER: &str = "docker.m.crossplane.io/service-member";
/// On every child: a hash of what the Service last applied, to apply only changes.
const ANNOTATION_APPLIED: &str = "docker.m.crossplane.io/applied-hash";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChildKind {
    Container,
    Network,
    Volume,
}

impl ChildKind {
    fn resource(self) -> ApiResource {
        let kind = match self {
            Self::Container => "Container",
            Self::Network => "Network",
            Self::Volume => "Volume",
        };
        ApiResource {
            group: "docker.m.crossplane.io".into(),
            version: "v1alpha1".into(),
            api_version: "docker.m.crossplane.io/v1alpha1".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
        }
    }
}

/// One child as the Service wants it.
#[derive(Clone, Debug)]
pub struct Child {
    pub kind: ChildKind,
    /// The child resource's name (DNS-safe).
    pub name: String,
    /// The Docker object's name, as docker compose names it.
    pub docker_name: String,
    /// For member Containers: the compose service.
    pub member: Option<String>,
    /// Where in the compose project it comes from: `services.web`, `networks.back`,
    /// `volumes.data`; messages about the child name this.
    pub origin: String,
    /// `spec.forProvider`.
    pub for_provider: serde_json::Value,
    /// Members (child names) and what they must have reached before this one is created.
    pub depends_on: Vec<(String, String, Gate)>,
}

impl Child {
    /// The whole object to apply, owned by `service`.
    pub fn manifest(&self, service: &Service) -> serde_json::Value {
        let managed = &service.spec.managed;
        let mut spec = serde_json::json!({
            "forProvider": self.for_provider,
            "providerConfigRef": managed.provider_config_ref,
            "managementPolicies": managed.management_policies,
        });
        if matches!(self.kind, ChildKind::Volume)
            && !service.spec.for_provider.remove_volumes_on_delete
        {
            // Named volumes outlive the Service, as with `docker compose down`: deleting
            // the child leaves the Docker volume and its data.
            spec["managementPolicies"] =
                serde_json::json!(["Observe", "Create", "Update", "LateInitialize"]);
        }
        let hash = format!("{:x}", Sha256::digest(spec.to_string().as_bytes()));
        let mut labels = BTreeMap::from([(LABEL_SERVICE.to_string(), service.name_any())]);
        if let Some(member) = &self.member {
            labels.insert(LABEL_MEMBER.into(), member.clone());
        }
        let resource = self.kind.resource();
        serde_json::json!({
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "metadata": {
                "name": self.name,
                "labels": labels,
                "annotations": {
                    ANNOTATION_EXTERNAL_NAME: self.docker_name,
                    ANNOTATION_APPLIED: hash[..16],
                },
                "ownerReferences": [{
                    "apiVersion": Service::api_version(&()),
                    "kind": Service::kind(&()),
                    "name": service.name_any(),
                    "uid": service.uid().unwrap_or_default(),
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": spec,
        })
    }

    /// Whether `existing` already has what `manifest` would apply.
    pub fn is_current(manifest: &serde_json::Value, existing: &kube::api::ObjectMeta) -> bool {
        let wanted = manifest["metadata"]["annotations"][ANNOTATION_APPLIED].as_str();
        let applied = existing
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_APPLIED))
            .map(String::as_str);
        wanted.is_some() && wanted == applied
    }
}

/// One child to apply: what it is, where in the project it comes from, and the manifest.
#[derive(Clone, Debug)]
pub struct Applied {
    pub kind: ChildKind,
    pub origin: String,
    pub manifest: serde_json::Value,
}

impl Applied {
    pub fn name(&self) -> &str {
        self.manifest["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
    }
}

/// Server-side applies a child manifest in `namespace`; with `dry_run` the API server
/// only validates it (admission included) and stores nothing. A child the API server
/// refuses is the user's to fix, named by its compose path.
pub async fn apply(
    client: &kube::Client,
    namespace: &str,
    child: &Applied,
    dry_run: bool,
) -> Result<()> {
    let (kind, name) = (child.kind, child.name());
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = dry_run;
    Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &kind.resource())
        .patch(name, &params, &Patch::Apply(&child.manifest))
        .await
        .map_err(|e| {
            let action = match dry_run {
                true => format!("validate {kind:?} {name}"),
                false => format!("apply {kind:?} {name}"),
            };
            super::invalid::refused(&child.origin, kind, name, action, e)
        })?;
    Ok(())
}

/// Deletes a child; gone already is fine.
pub async fn delete(
    client: &kube::Client,
    namespace: &str,
    kind: ChildKind,
    name: &str,
) -> Result<()> {
    match Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &kind.resource())
        .delete(name, &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(Error::kube(format!("delete {kind:?} {name}"), e)),
    }
}

/// The children of Service `name` that exist, by kind.
pub struct Existing {
    pub containers: BTreeMap<String, Container>,
    pub networks: BTreeMap<String, Network>,
    pub volumes: BTreeMap<String, Volume>,
}

impl Existing {
    pub async fn list(client: &kube::Client, namespace: &str, service: &str) -> Result<Self> {
        let params = ListParams::default().labels(&format!("{LABEL_SERVICE}={service}"));
        async fn by_name<K>(api: Api<K>, params: &ListParams) -> Result<BTreeMap<String, K>>
        where
            K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
        {
            Ok(api
                .list(params)
                .await
                .map_err(|e| Error::kube("list the Service's children", e))?
                .items
                .into_iter()
                .map(|c| (c.name_any(), c))
                .collect())
        }
        Ok(Self {
            containers: by_name(Api::namespaced(client.clone(), namespace), &params).await?,
            networks: by_name(Api::namespaced(client.clone(), namespace), &params).await?,
            volumes: by_name(Api::namespaced(client.clone(), namespace), &params).await?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }

    /// The metadata of a child, if it exists.
    pub fn meta(&self, kind: ChildKind, name: &str) -> Option<&kube::api::ObjectMeta> {
        match kind {
            ChildKind::Container => self.containers.get(name).map(|c| &c.metadata),
            ChildKind::Network => self.networks.get(name).map(|c| &c.metadata),
            ChildKind::Volume => self.volumes.get(name).map(|c| &c.metadata),
        }
    }

    /// Every existing child that is not being deleted already, as (kind, name): asking
    /// again for a deletion under way is only load on the API server.
    pub fn not_deleting(&self) -> Vec<(ChildKind, String)> {
        self.all()
            .into_iter()
            .filter(|(kind, name)| {
                self.meta(*kind, name)
                    .is_some_and(|m| m.deletion_timestamp.is_none())
            })
            .collect()
    }

    /// Every existing child, as (kind, name).
    pub fn all(&self) -> Vec<(ChildKind, String)> {
        let containers = self
            .containers
            .keys()
            .map(|n| (ChildKind::Container, n.clone()));
        let networks = self
            .networks
            .keys()
            .map(|n| (ChildKind::Network, n.clone()));
        let volumes = self.volumes.keys().map(|n| (ChildKind::Volume, n.clone()));
        containers.chain(networks).chain(volumes).collect()
    }
}
