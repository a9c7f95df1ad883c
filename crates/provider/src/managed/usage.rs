//! `ProviderConfigUsage`: one per managed resource, written before its daemon is touched,
//! owned by the resource (so garbage collection removes it too) and labelled with the config
//! so the config's users can be counted with one list call.

use api::{
    FINALIZER_IN_USE, Managed, ProviderConfigKind, ProviderConfigReference,
    provider_config::{
        LABEL_USAGE_CONFIG, ProviderConfigUsage, ProviderConfigUsageSpec, ResourceReference,
    },
};
use kube::{
    Api, ResourceExt,
    api::{ApiResource, DeleteParams, DynamicObject, ObjectMeta, Patch, PatchParams},
    core::GroupVersionKind,
};

use crate::{
    context::{Context, FIELD_MANAGER},
    error::{Error, Result},
};

/// Label value naming a config: `<kind>.<name>` (label values cannot hold `/`).
pub fn config_label(kind: ProviderConfigKind, name: &str) -> String {
    format!("{}.{name}", kind.as_str())
}

pub async fn ensure<K: Managed>(
    ctx: &Context,
    mr: &K,
    reference: &ProviderConfigReference,
) -> Result<()> {
    let uid = mr.uid().unwrap_or_default();
    let label = config_label(reference.kind, &reference.name);
    if ctx
        .usages
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&uid)
        == Some(&label)
    {
        return Ok(());
    }
    let namespace = mr.namespace().unwrap_or_default();
    let mut usage = ProviderConfigUsage::new(
        &uid,
        ProviderConfigUsageSpec {
            provider_config_ref: reference.clone(),
            resource_ref: ResourceReference {
                api_version: K::api_version(&()).into_owned(),
                kind: K::kind(&()).into_owned(),
                name: mr.name_any(),
                uid: Some(uid.clone()),
            },
        },
    );
    usage.metadata.namespace = Some(namespace.clone());
    usage.metadata.labels = Some([(LABEL_USAGE_CONFIG.to_string(), label.clone())].into());
    usage.metadata.owner_references = mr.owner_ref(&()).map(|o| vec![o]);
    // Held until the resource is released, so a namespace deletion (which deletes usages
    // and configs at once) leaves the config in place until its users are gone.
    usage.metadata.finalizers = Some(vec![FINALIZER_IN_USE.to_string()]);
    let api: Api<ProviderConfigUsage> = Api::namespaced(ctx.client.clone(), &namespace);
    let body = serde_json::to_value(&usage).unwrap_or_default();
    api.patch(
        &uid,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await
    .map_err(|e| {
        Error::kube(
            format!(
                "record the use of {} {}",
                reference.kind.as_str(),
                reference.name
            ),
            e,
        )
    })?;
    ctx.usages
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(uid, label);
    Ok(())
}

pub async fn remove<K: Managed>(ctx: &Context, mr: &K) -> Result<()> {
    let uid = mr.uid().unwrap_or_default();
    let api: Api<ProviderConfigUsage> =
        Api::namespaced(ctx.client.clone(), &mr.namespace().unwrap_or_default());
    let release = serde_json::json!({ "metadata": { "finalizers": null } });
    match api
        .patch(
            &uid,
            &crate::context::merge_params(),
            &Patch::Merge(release),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => return Err(Error::kube("release the provider config usage", e)),
    }
    match api.delete(&uid, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => return Err(Error::kube("remove the provider config usage", e)),
    }
    ctx.usages
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&uid);
    Ok(())
}

/// Whether a usage still stands for a resource. A usage being deleted whose resource is
/// gone (its finalizer was removed by hand, so it was never released) is released here,
/// else it would keep its config from ever being deleted.
pub async fn stands(client: &kube::Client, usage: &ObjectMeta) -> Result<bool> {
    let (Some(_), Some(owner)) = (
        &usage.deletion_timestamp,
        usage.owner_references.as_ref().and_then(|o| o.first()),
    ) else {
        return Ok(true);
    };
    let (group, version) = owner
        .api_version
        .split_once('/')
        .unwrap_or(("", owner.api_version.as_str()));
    let gvk = GroupVersionKind::gvk(group, version, &owner.kind);
    let plural = format!("{}s", owner.kind.to_ascii_lowercase());
    let resource = ApiResource::from_gvk_with_plural(&gvk, &plural);
    let namespace = usage.namespace.clone().unwrap_or_default();
    let owners: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    let alive = owners
        .get_opt(&owner.name)
        .await
        .map_err(|e| Error::kube(format!("look up {} {}", owner.kind, owner.name), e))?
        .is_some_and(|o| o.metadata.uid.as_deref() == Some(owner.uid.as_str()));
    if alive {
        return Ok(true);
    }
    let usages: Api<ProviderConfigUsage> = Api::namespaced(client.clone(), &namespace);
    let release = serde_json::json!({ "metadata": { "finalizers": null } });
    match usages
        .patch(
            &usage.name.clone().unwrap_or_default(),
            &crate::context::merge_params(),
            &Patch::Merge(release),
        )
        .await
    {
        Ok(_) => Ok(false),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(Error::kube("release an orphaned provider config usage", e)),
    }
}
