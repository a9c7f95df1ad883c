//! Connection details: written to the Secret named by `writeConnectionSecretToRef`, owned by
//! the managed resource, only when they changed.

use std::collections::BTreeMap;

use api::Managed;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kube::{
    Api, ResourceExt,
    api::{ObjectMeta, Patch, PatchParams},
};

use crate::{
    context::{Context, FIELD_MANAGER},
    error::{Error, Result},
};

pub const SECRET_TYPE: &str = "connection.crossplane.io/v1alpha1";

pub async fn publish<K: Managed>(
    ctx: &Context,
    mr: &K,
    secret_name: &str,
    details: &BTreeMap<String, String>,
) -> Result<()> {
    let uid = mr.uid().unwrap_or_default();
    let fingerprint = format!("{secret_name}:{details:?}");
    if ctx
        .connections
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&uid)
        == Some(&fingerprint)
    {
        return Ok(());
    }
    let namespace = mr.namespace().unwrap_or_default();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(secret_name.into()),
            namespace: Some(namespace.clone()),
            owner_references: mr.controller_owner_ref(&()).map(|o| vec![o]),
            ..Default::default()
        },
        type_: Some(SECRET_TYPE.into()),
        data: Some(
            details
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        ),
        ..Default::default()
    };
    let mut body = serde_json::to_value(&secret).unwrap_or_default();
    body["apiVersion"] = "v1".into();
    body["kind"] = "Secret".into();
    Api::<Secret>::namespaced(ctx.client.clone(), &namespace)
        .patch(secret_name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(body))
        .await
        .map_err(|e| {
            Error::kube(
                format!("write connection details to Secret {secret_name} (spec.writeConnectionSecretToRef)"),
                e,
            )
        })?;
    ctx.connections
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(uid, fingerprint);
    Ok(())
}
