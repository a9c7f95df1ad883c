//! Metadata writes of the contract: the finalizer (guarded by resourceVersion, so no other
//! writer's finalizer is lost) and the external-name / create-pending annotations.

use api::{FINALIZER_MANAGED, Managed};
use kube::{Api, ResourceExt, api::Patch};

use crate::error::{Error, Result};

pub fn has_finalizer<K: Managed>(mr: &K) -> bool {
    mr.finalizers().iter().any(|f| f == FINALIZER_MANAGED)
}

async fn set_finalizers<K: Managed>(api: &Api<K>, mr: &K, finalizers: Vec<String>) -> Result<()> {
    // Carrying resourceVersion makes the merge patch fail with a conflict if the list
    // changed since we read it, instead of overwriting someone else's finalizer.
    let patch = serde_json::json!({
        "metadata": {
            "resourceVersion": mr.resource_version(),
            "finalizers": finalizers,
        }
    });
    api.patch(
        &mr.name_any(),
        &crate::context::merge_params(),
        &Patch::Merge(patch),
    )
    .await
    .map_err(|e| {
        Error::kube(
            format!(
                "update the finalizers of {} {}",
                K::kind(&()),
                mr.name_any()
            ),
            e,
        )
    })?;
    Ok(())
}

pub async fn add_finalizer<K: Managed>(api: &Api<K>, mr: &K) -> Result<()> {
    if has_finalizer(mr) {
        return Ok(());
    }
    let mut finalizers = mr.finalizers().to_vec();
    finalizers.push(FINALIZER_MANAGED.into());
    set_finalizers(api, mr, finalizers).await
}

pub async fn remove_finalizer<K: Managed>(api: &Api<K>, mr: &K) -> Result<()> {
    if !has_finalizer(mr) {
        return Ok(());
    }
    let finalizers = mr
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER_MANAGED)
        .cloned()
        .collect();
    match set_finalizers(api, mr, finalizers).await {
        // Already gone: nothing holds it any more.
        Err(Error::Kube {
            source: kube::Error::Api(s),
            ..
        }) if s.code == 404 => Ok(()),
        other => other,
    }
}

/// Sets annotations (a merge patch touches only these keys).
pub async fn annotate<K: Managed>(api: &Api<K>, name: &str, pairs: &[(&str, &str)]) -> Result<()> {
    let annotations: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    let patch = serde_json::json!({ "metadata": { "annotations": annotations } });
    api.patch(name, &crate::context::merge_params(), &Patch::Merge(patch))
        .await
        .map_err(|e| Error::kube(format!("annotate {} {name}", K::kind(&())), e))?;
    Ok(())
}

/// Writes values the daemon chose into `spec.forProvider` (a merge patch: only the keys
/// given, which the kind guarantees the user left empty).
pub async fn late_initialize<K: Managed>(
    api: &Api<K>,
    name: &str,
    for_provider: serde_json::Value,
) -> Result<()> {
    let patch = serde_json::json!({ "spec": { "forProvider": for_provider } });
    api.patch(name, &crate::context::merge_params(), &Patch::Merge(patch))
        .await
        .map_err(|e| Error::kube(format!("late-initialize {} {name}", K::kind(&())), e))?;
    Ok(())
}
