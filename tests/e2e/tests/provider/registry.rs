//! Private registries: images pull with `kubernetes.io/dockerconfigjson` Secrets named by
//! the Container or its provider config; a missing or wrong credential is a clear
//! condition, and the password appears nowhere.

use api::{CONDITION_SYNCED, ConditionStatus, container::Container};
use k8s_openapi::api::core::v1::Event;
use provider_docker_e2e::{TestNs, bench_env, condition_says, docker_cli, ready};
use serde_json::json;

fn dockerconfigjson(registry: &str, user: &str, password: &str) -> String {
    json!({"auths": {registry: {"username": user, "password": password}}}).to_string()
}

#[tokio::test]
async fn a_private_image_pulls_with_the_right_secret_and_fails_clearly_without_it()
-> anyhow::Result<()> {
    let ns = TestNs::new("registry").await?;
    let image = bench_env("PROVIDER_DOCKER_PRIVATE_IMAGE")?;
    let registry = bench_env("PROVIDER_DOCKER_REGISTRY")?;
    let user = bench_env("PROVIDER_DOCKER_REGISTRY_USER")?;
    let password = std::fs::read_to_string(bench_env("PROVIDER_DOCKER_REGISTRY_PASSWORD_FILE")?)?
        .trim()
        .to_string();
    // Whatever an earlier run pulled must not stand in for a pull.
    let _ = docker_cli(&["rmi", "-f", &image]);
    let config = |p: &str| json!({".dockerconfigjson": dockerconfigjson(&registry, &user, p)});
    let secret_type = "kubernetes.io/dockerconfigjson";
    ns.secret("right", secret_type, config(&password)).await?;
    ns.secret("wrong", secret_type, config("not-the-password"))
        .await?;
    ns.secret("not-docker", "Opaque", json!({"token": "x"}))
        .await?;

    // `Always`, so that no copy pulled by another container can hide a refusal.
    let with = |secrets: serde_json::Value| json!({"forProvider": {"image": image, "imagePullPolicy": "Always", "imagePullSecrets": secrets}});
    ns.apply_managed("Container", "none", with(json!([])))
        .await?;
    ns.apply_managed("Container", "wrong", with(json!([{"name": "wrong"}])))
        .await?;
    ns.apply_managed("Container", "missing", with(json!([{"name": "absent"}])))
        .await?;
    ns.apply_managed(
        "Container",
        "not-docker",
        with(json!([{"name": "not-docker"}])),
    )
    .await?;
    let containers = ns.api::<Container>();
    let f = ConditionStatus::False;
    let none = condition_says(&containers, "none", CONDITION_SYNCED, f, "give credentials").await?;
    assert!(none.contains(&registry), "{none}");
    condition_says(
        &containers,
        "wrong",
        CONDITION_SYNCED,
        f,
        "check the user name and password",
    )
    .await?;
    condition_says(
        &containers,
        "missing",
        CONDITION_SYNCED,
        f,
        "imagePullSecrets[0]: Secret absent does not exist",
    )
    .await?;
    condition_says(
        &containers,
        "not-docker",
        CONDITION_SYNCED,
        f,
        "kubernetes.io/dockerconfigjson",
    )
    .await?;

    // The right Secret pulls, on the Container or on its provider config.
    ns.apply_managed("Container", "right", with(json!([{"name": "right"}])))
        .await?;
    ready(&containers, "right").await?;
    let docker_host = bench_env("DOCKER_HOST")?;
    ns.provider_config(
        "with-credentials",
        json!({"host": docker_host, "imagePullSecrets": [{"name": "right"}]}),
    )
    .await?;
    ns.apply_managed(
        "Container",
        "via-config",
        json!({
            "forProvider": {"image": image, "imagePullPolicy": "Always"},
            "providerConfigRef": {"kind": "ProviderConfig", "name": "with-credentials"},
        }),
    )
    .await?;
    ready(&containers, "via-config").await?;

    // The password is in no status, no Event and no log line.
    let statuses = serde_json::to_string(&containers.list(&Default::default()).await?.items)?;
    let events = serde_json::to_string(&ns.api::<Event>().list(&Default::default()).await?.items)?;
    let log = std::fs::read_to_string(provider_docker_e2e::provider::log_path())?;
    assert!(!statuses.contains(&password) && !events.contains(&password));
    assert!(
        !log.contains(&password),
        "the registry password is in the provider's log"
    );
    ns.finish().await
}
