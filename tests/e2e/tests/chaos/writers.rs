//! Scenario 7: a user edits a Container again and again while the controller reconciles
//! it. No update is lost, the controller writes no spec field (Container late-initializes
//! nothing), and the status never calls a generation current before Docker runs it: while
//! the edits go on, each time the status says generation G is observed and Ready, the
//! container in Docker already runs G's edit or a later one.

use std::{collections::BTreeMap, time::Duration};

use api::container::Container;
use provider_docker_e2e::{TestNs, docker, test_image, wait};
use serde_json::json;

use super::{Controller, WORLD, deadline, pick, random_below, ready, report};

/// The field manager the test writes as.
const USER: &str = "e2e-test";

/// The MARK env of the Docker container `name`; None while it is being replaced.
async fn running_mark(docker: &bollard::Docker, name: &str) -> Option<String> {
    docker
        .inspect_container(name, None)
        .await
        .ok()?
        .config?
        .env?
        .into_iter()
        .find_map(|e| e.strip_prefix("MARK=").map(str::to_string))
}

#[tokio::test]
async fn edits_racing_the_controller_are_never_lost_or_overwritten() -> anyhow::Result<()> {
    let _world = WORLD.read().await;
    let ns = TestNs::new_without_provider("chaos-writers").await?;
    let controller = Controller::start(&ns.name, 18466)?;
    let containers = ns.api::<Container>();
    let docker = docker()?;
    let edits = pick(40, 300);
    let name = format!("{}-w", ns.name);
    // The generation each edit made (only the test writes spec), by its MARK.
    let mut generation_of: BTreeMap<String, i64> = BTreeMap::new();
    let (mut ahead, mut called_current_early, mut checks) = (0, 0, 0);
    for i in 0..edits {
        let mark = format!("m{i}");
        let env = json!([{"name": "MARK", "value": mark}]);
        ns.apply_managed(
            "Container",
            "w",
            json!({"forProvider": {"image": test_image(), "env": env}}),
        )
        .await?;
        let made = containers.get("w").await?.metadata.generation.unwrap_or(0);
        generation_of.insert(mark, made);
        tokio::time::sleep(Duration::from_millis(random_below(60))).await;
        let c = containers.get("w").await?;
        let observed = c
            .status
            .as_ref()
            .and_then(|s| s.managed.observed_generation);
        // The status may lag behind the spec, never run ahead of it.
        if observed > c.metadata.generation {
            ahead += 1;
        }
        // What the status calls current and Ready, Docker already runs (or a later edit):
        // Docker only moves forward, so reading it after the status is a fair check.
        if let (Some(observed), true) = (observed, ready(&c))
            && let Some(running) = running_mark(&docker, &name).await
        {
            checks += 1;
            let running = generation_of.get(&running).copied().unwrap_or(0);
            if running < observed {
                called_current_early += 1;
                eprintln!("status calls generation {observed} current; Docker runs {running}");
            }
        }
    }
    let last = format!("m{}", edits - 1);
    let settled = wait::value(deadline(), "the last edit to be live", || async {
        let c = containers.get("w").await?;
        let current = c
            .status
            .as_ref()
            .and_then(|s| s.managed.observed_generation)
            == c.metadata.generation;
        let running = running_mark(&docker, &name).await;
        Ok((current && ready(&c) && running.as_deref() == Some(last.as_str())).then_some(c))
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
            "status_checks_while_editing": checks,
            "generation_called_current_before_docker_ran_it": called_current_early,
            "controller_spec_writers": foreign_spec,
        }),
    )?;
    assert_eq!(lost, 0, "the last edit was lost: spec says {spec_mark:?}");
    assert_eq!(
        ahead, 0,
        "status claimed a generation the spec did not have"
    );
    assert_eq!(
        called_current_early, 0,
        "status called a generation current before Docker ran its edit"
    );
    assert!(foreign_spec.is_empty(), "spec written by {foreign_spec:?}");
    ns.finish().await
}
