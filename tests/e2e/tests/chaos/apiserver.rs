//! Scenario 5: the API server restarted (etcd kept), which drops every watch, and the
//! controller away while the spec changes. It resumes by itself and reconciles what
//! changed meanwhile.

use std::{process::Command, time::Instant};

use api::container::Container;
use provider_docker_e2e::{TestNs, docker, docker_cli, test_image, wait};
use serde_json::json;

use super::{Controller, WORLD, all_ready, deadline, pick, ready, report};

fn bench(script: &str) -> anyhow::Result<()> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(super::repo())
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

async fn apply(ns: &TestNs, name: &str, mark: &str) -> anyhow::Result<()> {
    let env = json!([{"name": "MARK", "value": mark}]);
    ns.apply_managed(
        "Container",
        name,
        json!({"forProvider": {"image": test_image(), "env": env}}),
    )
    .await
}

async fn has_mark(docker: &bollard::Docker, name: &str, mark: &str) -> bool {
    let wanted = format!("MARK={mark}");
    let running = |c: &bollard::models::ContainerInspectResponse| {
        c.state.as_ref().and_then(|s| s.running) == Some(true)
    };
    match docker.inspect_container(name, None).await {
        Ok(c) => {
            running(&c)
                && c.config
                    .and_then(|c| c.env)
                    .unwrap_or_default()
                    .contains(&wanted)
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn the_controller_resumes_after_an_api_server_restart_and_its_own_absence()
-> anyhow::Result<()> {
    let _world = WORLD.write().await;
    let ns = TestNs::new_without_provider("chaos-apiserver").await?;
    let mut controller = Controller::start(&ns.name, 18465)?;
    let containers = ns.api::<Container>();
    let docker = docker()?;
    for name in ["a", "b"] {
        apply(&ns, name, "v1").await?;
    }
    all_ready(&containers, 2).await?;
    let docker_a = format!("{}-a", ns.name);
    let docker_b = format!("{}-b", ns.name);

    // The API server goes away; meanwhile the container is removed on the daemon.
    bench("source tests/bench/lib.sh && stop kube-apiserver")?;
    docker_cli(&["rm", "-f", &docker_a])?;
    tokio::time::sleep(std::time::Duration::from_secs(pick(5, 15))).await;
    bench("tests/bench/k8s.sh >/dev/null")?;
    let back = Instant::now();
    wait::until(deadline(), "the removed container to run again", || async {
        Ok(has_mark(&docker, &docker_a, "v1").await)
    })
    .await?;
    let repaired = back.elapsed();
    // The watches were re-established: a new change is seen.
    apply(&ns, "a", "v2").await?;
    wait::until(deadline(), "a change after the restart", || async {
        Ok(has_mark(&docker, &docker_a, "v2").await && ready(&containers.get("a").await?))
    })
    .await?;
    let followed = back.elapsed();

    // The controller goes away; meanwhile the spec changes.
    controller.kill();
    apply(&ns, "b", "v2").await?;
    controller.restart()?;
    let restarted = Instant::now();
    wait::until(
        deadline(),
        "the change made while the controller was away",
        || async {
            Ok(has_mark(&docker, &docker_b, "v2").await && ready(&containers.get("b").await?))
        },
    )
    .await?;
    let caught_up = restarted.elapsed();
    controller.assert_no_panic();
    report(
        "apiserver-restart",
        json!({
            "seconds_to_repair_after_apiserver_back": repaired.as_secs_f64(),
            "seconds_to_follow_a_change_after_apiserver_back": followed.as_secs_f64(),
            "seconds_to_apply_change_made_while_controller_away": caught_up.as_secs_f64(),
            "controller_restarts_for_apiserver": 0,
        }),
    )?;
    ns.finish().await
}
