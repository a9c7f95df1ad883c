//! Container under the managed-resource contract's policies, end to end: adopting an
//! existing container by external-name, pausing, Observe-only, and deletion.

use api::{CONDITION_SYNCED, ConditionStatus, container::Container};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams},
};
use provider_docker_e2e::{
    DEADLINE, TestNs, condition_becomes, condition_says, docker_cli, inspect, ready, test_image,
    test_image_alt, wait,
};
use serde_json::json;

use super::container::{apply, docker_name};

/// A namespaced config that allows adopting containers made outside provider-docker.
async fn adopting_config(ns: &TestNs) -> anyhow::Result<serde_json::Value> {
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    ns.provider_config(
        "adopting",
        json!({"host": host, "policy": {"allowAdoption": true}}),
    )
    .await?;
    Ok(json!({"kind": "ProviderConfig", "name": "adopting"}))
}

#[tokio::test]
async fn setting_external_name_adopts_an_existing_container_without_recreating_it()
-> anyhow::Result<()> {
    let ns = TestNs::new("adopt").await?;
    let existing = format!("{}-legacy", ns.name);
    let id = docker_cli(&[
        "run",
        "-d",
        "--name",
        &existing,
        "--restart",
        "always",
        &test_image(),
    ])?
    .trim()
    .to_string();
    let body = |name: &str, config: serde_json::Value| {
        json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1",
            "kind": "Container",
            "metadata": {"name": name, "annotations": {"crossplane.io/external-name": existing}},
            "spec": {"forProvider": {"image": test_image()}, "providerConfigRef": config},
        })
    };
    let api = ns.api::<Container>();
    let apply = |name: &'static str, config: serde_json::Value| {
        let api = api.clone();
        let body = body(name, config);
        async move {
            api.patch(
                name,
                &PatchParams::apply("e2e-test").force(),
                &Patch::Apply(body),
            )
            .await
        }
    };

    // The suite's default config does not allow adoption: refused, and released untouched.
    apply(
        "grab",
        json!({"kind": "ClusterProviderConfig", "name": "default"}),
    )
    .await?;
    condition_says(
        &api,
        "grab",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "spec.policy.allowAdoption",
    )
    .await?;
    api.delete("grab", &DeleteParams::default()).await?;
    wait::until(DEADLINE, "the refused resource to be released", || async {
        Ok(api.get_opt("grab").await?.is_none())
    })
    .await?;
    let kept = inspect(&existing).await?.expect("the container stays");
    assert_eq!(kept.id.as_deref(), Some(id.as_str()));
    assert_eq!(kept.state.and_then(|s| s.running), Some(true));

    apply("adopted", adopting_config(&ns).await?).await?;
    let c = ready(&api, "adopted").await?;
    assert_eq!(
        c.status.unwrap().at_provider.unwrap().id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        inspect(&existing).await?.unwrap().id.as_deref(),
        Some(id.as_str())
    );
    ns.finish().await?;
    assert!(
        inspect(&existing).await?.is_none(),
        "deleting the resource removes the adopted container"
    );
    Ok(())
}

#[tokio::test]
async fn a_paused_resource_is_left_alone_until_unpaused() -> anyhow::Result<()> {
    let ns = TestNs::new("paused").await?;
    apply(&ns, "c", json!({"image": test_image()}), json!({})).await?;
    let api = ns.api::<Container>();
    ready(&api, "c").await?;
    let pause =
        |value: Option<&str>| json!({"metadata": {"annotations": {"crossplane.io/paused": value}}});
    api.patch(
        "c",
        &PatchParams::default(),
        &Patch::Merge(pause(Some("true"))),
    )
    .await?;
    let (reason, _) =
        condition_becomes(&api, "c", CONDITION_SYNCED, ConditionStatus::False).await?;
    assert_eq!(reason, "ReconcilePaused");

    let name = docker_name(&ns, "c");
    docker_cli(&["rm", "-f", &name])?;
    // Give the event stream and a reconcile ample time to (wrongly) act.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        inspect(&name).await?.is_none(),
        "a paused resource was repaired"
    );

    api.patch("c", &PatchParams::default(), &Patch::Merge(pause(None)))
        .await?;
    wait::until(
        DEADLINE,
        "the container to come back after unpausing",
        || async { Ok(inspect(&name).await?.is_some()) },
    )
    .await?;
    ready(&api, "c").await?;
    ns.finish().await
}

#[tokio::test]
async fn observe_only_reports_an_existing_container_and_never_changes_it() -> anyhow::Result<()> {
    let ns = TestNs::new("observe").await?;
    let existing = format!("{}-watched", ns.name);
    let id = docker_cli(&["run", "-d", "--name", &existing, &test_image()])?
        .trim()
        .to_string();
    let config = adopting_config(&ns).await?;
    let observe_only = |external: &str| {
        json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1",
            "kind": "Container",
            "metadata": {"name": "watched", "annotations": {"crossplane.io/external-name": external}},
            "spec": {"managementPolicies": ["Observe"], "forProvider": {"image": test_image_alt()}, "providerConfigRef": config},
        })
    };
    let api = ns.api::<Container>();
    api.patch(
        "watched",
        &PatchParams::apply("e2e-test").force(),
        &Patch::Apply(observe_only(&existing)),
    )
    .await?;
    // It differs (another image), but Observe may not change it: reported, not touched.
    let c = wait::value(DEADLINE, "atProvider to report the container", || async {
        let c = api.get("watched").await?;
        Ok(c.status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .and_then(|a| a.id.clone())
            .map(|id| (c, id)))
    })
    .await?;
    assert_eq!(c.1, id);
    assert_eq!(
        inspect(&existing).await?.unwrap().id.as_deref(),
        Some(id.as_str())
    );

    // Deleting an Observe-only resource leaves the container where it is.
    api.delete("watched", &DeleteParams::default()).await?;
    wait::until(DEADLINE, "the resource to go", || async {
        Ok(api.get_opt("watched").await?.is_none())
    })
    .await?;
    assert!(
        inspect(&existing).await?.is_some(),
        "Observe-only deletion removed the container"
    );
    docker_cli(&["rm", "-f", &existing])?;

    // A missing object under Observe is a clear error, and nothing is created.
    let missing = format!("{}-missing", ns.name);
    api.patch(
        "watched",
        &PatchParams::apply("e2e-test").force(),
        &Patch::Apply(observe_only(&missing)),
    )
    .await?;
    let message = condition_says(
        &api,
        "watched",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "does not exist",
    )
    .await?;
    assert!(message.contains("Create"), "{message}");
    assert!(inspect(&missing).await?.is_none());
    ns.finish().await
}

#[tokio::test]
async fn a_resource_that_never_reached_a_create_holds_no_finalizer_and_deletes_at_once()
-> anyhow::Result<()> {
    let ns = TestNs::new("never-made").await?;
    // Observe-only, and nothing on the daemon by that name: it fails before any create.
    apply(
        &ns,
        "ghost",
        json!({"image": test_image()}),
        json!({"managementPolicies": ["Observe"]}),
    )
    .await?;
    let api = ns.api::<Container>();
    condition_says(
        &api,
        "ghost",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "does not exist",
    )
    .await?;
    let ghost = api.get("ghost").await?;
    assert!(
        ghost.metadata.finalizers.unwrap_or_default().is_empty(),
        "a resource that never reached a create holds a finalizer"
    );
    // Nothing holds it: the API server removes it in the delete call itself.
    api.delete("ghost", &DeleteParams::default()).await?;
    assert!(api.get_opt("ghost").await?.is_none());
    assert!(inspect(&docker_name(&ns, "ghost")).await?.is_none());
    ns.finish().await
}

#[tokio::test]
async fn deleting_a_container_resource_removes_the_container_and_its_usage() -> anyhow::Result<()> {
    let ns = TestNs::new("delete").await?;
    apply(&ns, "c", json!({"image": test_image()}), json!({})).await?;
    let api = ns.api::<Container>();
    let c = ready(&api, "c").await?;
    let usages: Api<api::provider_config::ProviderConfigUsage> = ns.api();
    assert_eq!(usages.list(&ListParams::default()).await?.items.len(), 1);
    assert_eq!(
        c.metadata.finalizers.unwrap_or_default(),
        ["finalizer.managedresource.crossplane.io"]
    );

    api.delete("c", &DeleteParams::default()).await?;
    wait::until(DEADLINE, "the resource to go", || async {
        Ok(api.get_opt("c").await?.is_none())
    })
    .await?;
    assert!(inspect(&docker_name(&ns, "c")).await?.is_none());
    assert!(usages.list(&ListParams::default()).await?.items.is_empty());
    ns.finish().await
}
