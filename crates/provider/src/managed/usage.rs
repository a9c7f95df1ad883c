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
    api::{DeleteParams, Patch, PatchParams},
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
