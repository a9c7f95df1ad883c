//! Each managed-resource CRD of the package, wrapped as Crossplane v2 wraps it, is a valid
//! ManagedResourceDefinition; the config kinds stay plain CRDs.

use std::collections::BTreeSet;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::{crossplane_installed, documents, dry_run_apply, first_difference, package::pushed};

/// A CRD of the package as Crossplane v2 wraps it: a ManagedResourceDefinition of the same
/// name whose spec is the CRD's spec plus the connection details it documents and its
/// activation state.
fn managed_resource_definition(crd: &Value, state: &str) -> Value {
    let mut spec = crd["spec"].clone();
    let details = match crd["spec"]["names"]["kind"].as_str() {
        Some("Container") => json!([
            {"name": "endpoint", "description": "Address to reach the container from outside its daemon host."},
            {"name": "port", "description": "The first published host port."},
            {"name": "ip", "description": "The container's address on its first network."},
        ]),
        _ => json!([]),
    };
    spec["connectionDetails"] = details;
    spec["state"] = json!(state);
    json!({
        "apiVersion": "apiextensions.crossplane.io/v1alpha1",
        "kind": "ManagedResourceDefinition",
        "metadata": {"name": crd["metadata"]["name"]},
        "spec": spec,
    })
}

#[tokio::test]
async fn each_managed_resource_crd_wrapped_as_crossplane_v2_wraps_it_is_a_valid_managed_resource_definition()
-> anyhow::Result<()> {
    let pushed = pushed().await?;
    let client = provider_docker_e2e::kube_client().await?;
    crossplane_installed(&client).await?;

    // Crossplane wraps the CRDs of the `managed` category; the config kinds stay CRDs.
    let docs = documents(&pushed.package_yaml)?;
    let is_managed = |d: &&Value| {
        d["spec"]["names"]["categories"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("managed")))
    };
    let kinds = |docs: Vec<&Value>| -> BTreeSet<String> {
        docs.iter()
            .map(|d| {
                d["spec"]["names"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let managed: Vec<&Value> = docs[1..].iter().filter(is_managed).collect();
    let plain: Vec<&Value> = docs[1..].iter().filter(|d| !is_managed(d)).collect();
    assert_eq!(
        kinds(managed.clone()),
        BTreeSet::from(["Container", "Network", "Service", "Volume"].map(String::from))
    );
    assert_eq!(
        kinds(plain),
        BTreeSet::from(
            [
                "ClusterProviderConfig",
                "ProviderConfig",
                "ProviderConfigUsage"
            ]
            .map(String::from)
        )
    );

    for crd in managed {
        let mrd = managed_resource_definition(crd, "Inactive");
        let name = crd["metadata"]["name"].as_str().unwrap_or_default();
        let accepted = dry_run_apply(&client, &mrd)
            .await
            .with_context(|| format!("the ManagedResourceDefinition {name}"))?;
        // Nothing of the CRD was pruned on the way: the schema kept every version.
        let difference = first_difference(
            &accepted.data["spec"]["versions"],
            &crd["spec"]["versions"],
            "versions",
        );
        assert!(
            difference.is_none(),
            "{name}: the API server changed {difference:?}"
        );
        assert_eq!(accepted.data["spec"]["state"], "Inactive");
    }
    // The server does validate: a state Crossplane does not know is refused.
    let bad = managed_resource_definition(&docs[1], "Sleeping");
    let refused = dry_run_apply(&client, &bad).await;
    assert!(
        refused.is_err(),
        "an MRD with state Sleeping was accepted: validation is not running"
    );
    Ok(())
}
