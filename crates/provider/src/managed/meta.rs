//! Metadata writes of the contract: the finalizer (guarded by resourceVersion, so no other
//! writer's finalizer is lost) and the external-name / create-pending annotations, written
//! together in one patch right before a create.

use api::{FINALIZER_MANAGED, Managed};
use kube::{Api, ResourceExt, api::Patch};

use crate::error::{Error, Result};

pub fn has_finalizer<K: Managed>(mr: &K) -> bool {
    mr.finalizers().iter().any(|f| f == FINALIZER_MANAGED)
}

async fn set_finalizers<K: Managed>(
    api: &Api<K>,
    mr: &K,
    resource_version: Option<&str>,
    finalizers: Vec<String>,
    annotations: &[(&str, &str)],
) -> Result<()> {
    // Carrying resourceVersion makes the merge patch fail with a conflict if the list
    // changed since we read it, instead of overwriting someone else's finalizer.
    let mut patch = serde_json::json!({
        "metadata": {
            "resourceVersion": resource_version,
            "finalizers": finalizers,
        }
    });
    if !annotations.is_empty() {
        patch["metadata"]["annotations"] = annotation_map(annotations);
    }
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

/// Adds the finalizer unless it is there, and sets `annotations` in the same write. Right
/// before a create these are create-pending and the external-name, as crossplane-runtime adds
/// its finalizer and then marks the create pending. `resource_version` is the object's
/// version as this reconcile last saw it (after its own status writes); it guards the
/// finalizer list.
pub async fn add_finalizer<K: Managed>(
    api: &Api<K>,
    mr: &K,
    resource_version: Option<&str>,
    annotations: &[(&str, &str)],
) -> Result<()> {
    if has_finalizer(mr) {
        return match annotations.is_empty() {
            true => Ok(()),
            false => annotate(api, &mr.name_any(), annotations).await,
        };
    }
    let mut finalizers = mr.finalizers().to_vec();
    finalizers.push(FINALIZER_MANAGED.into());
    set_finalizers(api, mr, resource_version, finalizers, annotations).await
}

/// Removes the finalizer. The object this reconcile started from may be older than the
/// status the reconcile before it wrote (a Docker event of that reconcile's own delete
/// queued this one before the write reached the cache): on a conflict the object is read
/// again and the removal tried once more, rather than the whole release waiting for a
/// requeue and being done twice.
pub async fn remove_finalizer<K: Managed>(api: &Api<K>, mr: &K) -> Result<()> {
    match release(api, mr).await {
        Err(e) if e.is_conflict() => {
            let fresh = api
                .get_opt(&mr.name_any())
                .await
                .map_err(|e| Error::kube(format!("read {} {}", K::kind(&()), mr.name_any()), e))?;
            match fresh {
                Some(fresh) => release(api, &fresh).await,
                None => Ok(()),
            }
        }
        other => other,
    }
}

async fn release<K: Managed>(api: &Api<K>, mr: &K) -> Result<()> {
    if !has_finalizer(mr) {
        return Ok(());
    }
    let finalizers = mr
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER_MANAGED)
        .cloned()
        .collect();
    match set_finalizers(api, mr, mr.resource_version().as_deref(), finalizers, &[]).await {
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
    let patch = serde_json::json!({ "metadata": { "annotations": annotation_map(pairs) } });
    api.patch(name, &crate::context::merge_params(), &Patch::Merge(patch))
        .await
        .map_err(|e| Error::kube(format!("annotate {} {name}", K::kind(&())), e))?;
    Ok(())
}

fn annotation_map(pairs: &[(&str, &str)]) -> serde_json::Value {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect::<serde_json::Map<_, _>>()
        .into()
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
