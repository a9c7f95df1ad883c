//! The bench works from Rust: the API server answers a kube client and the Docker daemon
//! runs the local test image for a bollard client.

use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, RemoveContainerOptionsBuilder,
    StartContainerOptions,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use provider_docker_e2e::{docker, kube_client, test_image, unique};

#[tokio::test]
async fn kube_client_lists_namespaces_and_round_trips_a_configmap() -> anyhow::Result<()> {
    let client = kube_client().await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(
        names.iter().any(|n| n == "default"),
        "namespaces: {names:?}"
    );
    assert!(
        names.iter().any(|n| n == "kube-system"),
        "namespaces: {names:?}"
    );

    let configmaps: Api<ConfigMap> = Api::namespaced(client, "default");
    let name = unique("smoke");
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "data": { "greeting": "hello" },
    }))?;
    configmaps.create(&PostParams::default(), &cm).await?;
    let read = configmaps.get(&name).await?;
    assert_eq!(
        read.data
            .unwrap_or_default()
            .get("greeting")
            .map(String::as_str),
        Some("hello")
    );
    configmaps.delete(&name, &DeleteParams::default()).await?;
    assert!(configmaps.get_opt(&name).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn bollard_runs_the_local_test_image() -> anyhow::Result<()> {
    let docker = docker()?;
    let name = unique("smoke");
    let body = bollard::models::ContainerCreateBody {
        image: Some(test_image()),
        ..Default::default()
    };
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(&name).build()),
            body,
        )
        .await?;
    let result = async {
        docker
            .start_container(&created.id, None::<StartContainerOptions>)
            .await?;
        let inspect = docker
            .inspect_container(&name, None::<InspectContainerOptions>)
            .await?;
        let state = inspect.state.unwrap_or_default();
        assert_eq!(state.running, Some(true), "state: {state:?}");
        assert_eq!(inspect.id.as_deref(), Some(created.id.as_str()));
        anyhow::Ok(())
    }
    .await;
    docker
        .remove_container(
            &created.id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await?;
    result?;
    let gone = docker
        .inspect_container(&name, None::<InspectContainerOptions>)
        .await;
    assert!(gone.is_err(), "container {name} still exists after removal");
    Ok(())
}
