//! Scenario 7: a user edits a Container again and again while the controller reconciles
//! it. No update is lost, the controller writes no spec field (Container late-initializes
//! nothing), and the status never calls a newer generation current before it is.

use std::time::Duration;

use api::container::Container;
use provider_docker_e2e::{TestNs, docker, test_image, wait};
use serde_json::json;

use super::{Controller, WORLD, deadline, pick, random_below, ready, report};

/// The field manager the test writes as.
const USER: &str = "e2e-test";

#[tokio::test]
async fn edits_racing_the_controller_are_never_lost_or_overwritten() -> anyhow::Result<()> {
    let _world = WORLD.read().await;
    let ns = TestNs::new_without_provider("chaos-writers").await?;
    let controller = Controller::start(&ns.name, 18466)?;
    let containers = ns.api::<Container>();
    let docker = docker()?;
    let edits = pick(40, 300);
    let mut ahead = 0;
    for i in 0..edits {
        let env = json!([{"name": "MARK", "value": format!("m{i}")}]);
        ns.apply_managed(
            "Container",
            "w",
            json!({"forProvider": {"image": test_image(), "env": env}}),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(random_below(60))).await;
        // The status may lag behind the spec, never run ahead of it.
        let c = containers.get("w").await?;
        let observed = c
            .status
            .as_ref()
            .and_then(|s| s.managed.observed_generation);
        if observed > c.metadata.generation {
            ahead += 1;
        }
    }
    let last = format!("m{}", edits - 1);
    let name = format!("{}-w", ns.name);
    let settled = wait::value(deadline(), "the last edit to be live", || async {
        let c = containers.get("w").await?;
        let current = c
            .status
            .as_ref()
            .and_then(|s| s.managed.observed_generation)
            == c.metadata.generation;
        let env = docker
            .inspect_container(&name, None)
            .await
            .ok()
            .and_then(|i| i.config)
            .and_then(|c| c.env)
            .unwrap_or_default();
        Ok((current && ready(&c) && env.contains(&format!("MARK={last}"))).then_some(c))
    })
    .await?;
    let spec_mark = settled.spec.for_provider.env[0].value.clone();
    let lost = usize::from(spec_mark.as_deref() != Some(last.as_str()));
    // Who owns which part of the object: only the user owns spec.
    let foreign_spec: Vec<String> = settled
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m.manager.as_deref() != Some(USER) && m.subresource.as_deref() != Some("status")
        })
        .filter(|m| {
            m.fields_v1
                .as_ref()
                .is_some_and(|f| f.0.get("f:spec").is_some())
        })
        .filter_map(|m| m.manager)
        .collect();
    controller.assert_no_panic();
    report(
        "conflicting-writers",
        json!({
            "edits": edits, "lost_updates": lost, "status_ahead_of_spec": ahead,
            "controller_spec_writers": foreign_spec,
        }),
    )?;
    assert_eq!(lost, 0, "the last edit was lost: spec says {spec_mark:?}");
    assert_eq!(
        ahead, 0,
        "status claimed a generation the spec did not have"
    );
    assert!(foreign_spec.is_empty(), "spec written by {foreign_spec:?}");
    ns.finish().await
}
