//! What a Container says when something is wrong, end to end: a missing image, a taken
//! port, manifests admission refuses, a bad mount, an unreachable daemon at deletion, and
//! Secret values that must never show.

use std::collections::BTreeMap;

use api::{CONDITION_SYNCED, ConditionStatus, container::Container};
use k8s_openapi::api::core::v1::Event;
use kube::{
    Api,
    api::{DeleteParams, ListParams},
};
use provider_docker_e2e::{
    DEADLINE, TestNs, condition_says, docker_cli, exec, inspect, provider, ready, test_image, wait,
};
use serde_json::{Value, json};

use super::container::{apply, docker_name};

#[tokio::test]
async fn a_missing_image_and_a_taken_port_get_clear_conditions_and_events() -> anyhow::Result<()> {
    let ns = TestNs::new("errors").await?;
    apply(
        &ns,
        "noimage",
        json!({"image": "provider-docker-test/does-not-exist:1", "imagePullPolicy": "Never"}),
        json!({}),
    )
    .await?;
    // Another container holds the port, as on a real host.
    let blocker = format!("{}-blocker", ns.name);
    docker_cli(&["run", "-d", "--name", &blocker, "-p", "0:80", &test_image()])?;
    let taken: u16 = docker_cli(&[
        "inspect",
        "-f",
        "{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}",
        &blocker,
    ])?
    .trim()
    .parse()?;
    apply(
        &ns,
        "noport",
        json!({"image": test_image(), "ports": [{"containerPort": 80, "hostPort": taken}]}),
        json!({}),
    )
    .await?;
    let api = ns.api::<Container>();

    let message = condition_says(
        &api,
        "noimage",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "does-not-exist",
    )
    .await?;
    assert!(message.contains("imagePullPolicy is Never"), "{message}");

    let message = condition_says(
        &api,
        "noport",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "hostPort",
    )
    .await?;
    assert!(message.contains(&taken.to_string()), "{message}");
    // Nothing half-made is left on the daemon.
    assert!(inspect(&docker_name(&ns, "noport")).await?.is_none());

    let events: Api<Event> = ns.api();
    wait::until(
        DEADLINE,
        "a warning event for the missing image",
        || async {
            Ok(events
                .list(&ListParams::default())
                .await?
                .items
                .iter()
                .any(|e| {
                    e.involved_object.name.as_deref() == Some("noimage")
                        && e.type_.as_deref() == Some("Warning")
                        && e.message
                            .as_deref()
                            .unwrap_or_default()
                            .contains("does-not-exist")
                }))
        },
    )
    .await?;
    docker_cli(&["rm", "-f", &blocker])?;
    ns.finish().await
}

#[tokio::test]
async fn invalid_manifests_are_rejected_at_admission_with_the_field_named() -> anyhow::Result<()> {
    let ns = TestNs::new("invalid").await?;
    let cases: BTreeMap<&str, (Value, &str)> = BTreeMap::from([
        (
            "port-out-of-range",
            (
                json!({"image": "x", "ports": [{"containerPort": 70000}]}),
                "containerPort",
            ),
        ),
        (
            "range-width",
            (
                json!({"image": "x", "ports": [{"containerPort": "10-12", "hostPort": "20-21"}]}),
                "as wide",
            ),
        ),
        (
            "bad-range",
            (
                json!({"image": "x", "ports": [{"containerPort": "20-10"}]}),
                "containerPort",
            ),
        ),
        (
            "policy",
            (
                json!({"image": "x", "restartPolicy": "sometimes"}),
                "restartPolicy",
            ),
        ),
        (
            "retries",
            (json!({"image": "x", "restartMaxRetries": 3}), "on-failure"),
        ),
        (
            "mount",
            (
                json!({"image": "x", "mounts": [{"mountPath": "/a"}]}),
                "exactly one",
            ),
        ),
        (
            "relative",
            (
                json!({"image": "x", "mounts": [{"mountPath": "a", "tmpfs": {}}]}),
                "absolute",
            ),
        ),
        (
            "size",
            (
                json!({"image": "x", "resources": {"memory": "lots"}}),
                "size",
            ),
        ),
        (
            "duration",
            (
                json!({"image": "x", "healthCheck": {"test": ["CMD", "true"], "interval": "soon"}}),
                "duration",
            ),
        ),
        (
            "health",
            (
                json!({"image": "x", "healthCheck": {"test": ["RUN", "true"]}}),
                "CMD",
            ),
        ),
        (
            "env",
            (
                json!({"image": "x", "env": [{"name": "A", "value": "1", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}),
                "not both",
            ),
        ),
        (
            "label",
            (
                json!({"image": "x", "labels": {"docker.m.crossplane.io/uid": "x"}}),
                "reserved",
            ),
        ),
        ("empty-image", (json!({"image": ""}), "image")),
        (
            "hostip",
            (
                json!({"image": "x", "ports": [{"containerPort": 80, "hostIP": "localhost"}]}),
                "hostIP",
            ),
        ),
    ]);
    for (name, (for_provider, expected)) in cases {
        let err = apply(&ns, name, for_provider, json!({}))
            .await
            .expect_err(name)
            .to_string();
        assert!(err.contains(expected), "{name}: {err}");
    }
    let err = apply(
        &ns,
        "policies",
        json!({"image": "x"}),
        json!({"managementPolicies": ["Sometimes"]}),
    )
    .await
    .expect_err("unknown management policy")
    .to_string();
    assert!(err.contains("managementPolicies"), "{err}");
    ns.finish().await
}

#[tokio::test]
async fn secret_values_never_appear_in_status_events_or_logs() -> anyhow::Result<()> {
    let ns = TestNs::new("secrets").await?;
    let planted = "planted-2f9c1e-value";
    ns.apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData: {{v: {planted}, f: {planted}-file}}\n"
    ))
    .await?;
    apply(
        &ns,
        "c",
        json!({
            "image": test_image(),
            "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "v"}}}],
            "files": [{"path": "/run/token", "secretKeyRef": {"name": "s", "key": "f"}}],
        }),
        json!({}),
    )
    .await?;
    let api = ns.api::<Container>();
    ready(&api, "c").await?;
    // A failure that mentions the secret's neighbourhood: a key that does not exist.
    apply(
        &ns,
        "broken",
        json!({"image": test_image(), "env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s", "key": "nope"}}}]}),
        json!({}),
    )
    .await?;
    let message = condition_says(
        &api,
        "broken",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "has no key",
    )
    .await?;
    assert!(message.contains("has no key \"nope\""), "{message}");
    assert!(exec(&format!("{}-c", ns.name), &["env"])?.contains(planted));

    let status = serde_json::to_string(&api.list(&ListParams::default()).await?.items)?;
    let events =
        serde_json::to_string(&ns.api::<Event>().list(&ListParams::default()).await?.items)?;
    let log = std::fs::read_to_string(provider::log_path())?;
    for (place, text) in [
        ("status", &status),
        ("events", &events),
        ("provider log", &log),
    ] {
        assert!(
            !text.contains(planted),
            "the secret value appears in {place}"
        );
    }
    ns.finish().await
}

#[tokio::test]
async fn a_bad_mount_is_refused_with_the_field_named_and_leaves_nothing_behind()
-> anyhow::Result<()> {
    let ns = TestNs::new("badmount").await?;
    apply(
        &ns,
        "c",
        json!({"image": test_image(), "mounts": [{"mountPath": "/x", "hostPath": {"path": "/nonexistent/provider-docker"}}]}),
        json!({}),
    )
    .await?;
    let api = ns.api::<Container>();
    let message = condition_says(
        &api,
        "c",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "spec.forProvider.mounts",
    )
    .await?;
    assert!(
        message.contains("/nonexistent/provider-docker"),
        "{message}"
    );
    assert!(inspect(&docker_name(&ns, "c")).await?.is_none());
    ns.finish().await
}

#[tokio::test]
async fn deleting_while_the_daemon_is_unreachable_keeps_the_finalizer_and_says_why()
-> anyhow::Result<()> {
    let ns = TestNs::new("unreachable").await?;
    let config = |host: &str| {
        format!(
            "apiVersion: docker.m.crossplane.io/v1alpha1\nkind: ProviderConfig\nmetadata: {{name: far}}\nspec: {{host: \"{host}\", timeout: 5s, insecure: true}}\n"
        )
    };
    let docker_host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    ns.apply(&config(&docker_host)).await?;
    apply(
        &ns,
        "c",
        json!({"image": test_image()}),
        json!({"providerConfigRef": {"kind": "ProviderConfig", "name": "far"}}),
    )
    .await?;
    let api = ns.api::<Container>();
    ready(&api, "c").await?;

    // The daemon "goes away": port 1 on loopback refuses connections.
    ns.apply(&config("tcp://127.0.0.1:1")).await?;
    api.delete("c", &DeleteParams::default()).await?;
    let message = condition_says(
        &api,
        "c",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "cannot reach",
    )
    .await?;
    assert!(message.contains("ProviderConfig/"), "{message}");
    let held = api.get("c").await?;
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(
        held.metadata.finalizers.unwrap_or_default(),
        ["finalizer.managedresource.crossplane.io"]
    );
    assert!(
        inspect(&docker_name(&ns, "c")).await?.is_some(),
        "the container went while its daemon was away"
    );

    // The daemon comes back: the deletion finishes without a restart, container and all.
    ns.apply(&config(&docker_host)).await?;
    wait::until(DEADLINE, "the resource to go", || async {
        Ok(api.get_opt("c").await?.is_none())
    })
    .await?;
    assert!(inspect(&docker_name(&ns, "c")).await?.is_none());
    ns.finish().await
}
