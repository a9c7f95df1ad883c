//! Reading the Secrets that provider configs and resources name: whole Secrets for
//! transports and registry credentials. Values are returned, never logged or echoed.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::error::{Error, Result};

/// The data of Secret `namespace/name` (`data` and `stringData` merged); `field` names the
/// reference in messages.
pub async fn read(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    field: &str,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let secret = Api::<Secret>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| Error::kube(format!("read Secret {namespace}/{name} for {field}"), e))?
        .ok_or_else(|| {
            Error::Reference(format!(
                "{field}: Secret {name} does not exist in namespace {namespace}; create it or fix the reference"
            ))
        })?;
    let mut data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    for (k, v) in secret.string_data.unwrap_or_default() {
        data.entry(k).or_insert_with(|| v.into_bytes());
    }
    Ok(data)
}

/// The first of `keys` present in `data`.
pub fn first_of(data: &BTreeMap<String, Vec<u8>>, keys: &[&str]) -> Option<Vec<u8>> {
    keys.iter().find_map(|k| data.get(*k).cloned())
}

/// Registry credentials from a `kubernetes.io/dockerconfigjson` Secret.
pub async fn registry_auth(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    field: &str,
) -> Result<engine::registry::RegistryAuth> {
    let data = read(client, namespace, name, field).await?;
    let json = first_of(&data, &[".dockerconfigjson"]).ok_or_else(|| {
        Error::Reference(format!(
            "{field}: Secret {namespace}/{name} has no .dockerconfigjson key; make it a kubernetes.io/dockerconfigjson Secret (kubectl create secret docker-registry)"
        ))
    })?;
    engine::registry::RegistryAuth::parse(&json).map_err(|why| {
        Error::Reference(format!(
            "{field}: .dockerconfigjson of Secret {namespace}/{name} {why}"
        ))
    })
}
