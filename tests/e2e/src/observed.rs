//! What the provider showed the world in a test namespace (every managed object's status
//! and every Event), kept in `target/e2e/observed/<namespace>.json` before the namespace
//! goes, so that the secrets scan can search the whole suite's output afterwards.

use k8s_openapi::api::core::v1::Event;
use kube::{
    Api,
    api::{ApiResource, DynamicObject, ListParams},
};
use serde_json::{Value, json};

/// The directory the dumps go to.
pub fn dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e/observed")
}

/// Our namespaced kinds that have a status.
const KINDS: [(&str, &str); 5] = [
    ("Container", "containers"),
    ("Network", "networks"),
    ("Volume", "volumes"),
    ("Service", "services"),
    ("ProviderConfig", "providerconfigs"),
];

/// Writes the statuses and Events of `namespace`.
pub async fn keep(client: &kube::Client, namespace: &str) -> anyhow::Result<()> {
    let mut statuses = Vec::new();
    for (kind, plural) in KINDS {
        let resource = ApiResource {
            group: api::GROUP.into(),
            version: api::VERSION.into(),
            api_version: format!("{}/{}", api::GROUP, api::VERSION),
            kind: kind.into(),
            plural: plural.into(),
        };
        let objects = Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &resource)
            .list(&ListParams::default())
            .await?;
        for o in objects.items {
            let status = o.data.get("status").cloned().unwrap_or(Value::Null);
            statuses.push(json!({"kind": kind, "name": o.metadata.name, "status": status}));
        }
    }
    let events: Vec<Value> = Api::<Event>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(
            |e| json!({"object": e.involved_object.name, "reason": e.reason, "message": e.message}),
        )
        .collect();
    std::fs::create_dir_all(dir())?;
    let body = json!({"namespace": namespace, "statuses": statuses, "events": events});
    std::fs::write(
        dir().join(format!("{namespace}.json")),
        serde_json::to_string_pretty(&body)?,
    )?;
    Ok(())
}
