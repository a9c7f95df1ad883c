//! GitOps health with the tools' own code: Flux's kstatus (sigs.k8s.io/cli-utils) and Argo
//! CD's built-in crossplane health script (run with gopher-lua as Argo CD runs it), both in
//! tests/gitops, judge live Containers through create, Ready, a spec change, a failure and
//! deletion.

use std::io::Write;

use api::container::Container;
use kube::api::{DeleteParams, Patch, PatchParams};
use provider_docker_e2e::{DEADLINE, TestNs, bench_env, test_image, wait};
use serde_json::{Value, json};

/// (kstatus, Argo CD health) of an object.
fn judge(object: &Value) -> anyhow::Result<(String, String)> {
    let mut child = std::process::Command::new("gitops-health")
        .arg(bench_env("PROVIDER_DOCKER_ARGO_HEALTH_LUA")?)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    writeln!(child.stdin.take().expect("stdin"), "{object}")?;
    let out = child.wait_with_output()?;
    anyhow::ensure!(out.status.success(), "gitops-health failed");
    let verdict: Value = serde_json::from_slice(&out.stdout)?;
    Ok((
        verdict["kstatus"].as_str().unwrap_or_default().into(),
        verdict["argo"].as_str().unwrap_or_default().into(),
    ))
}

/// Waits until the live object is judged `(kstatus, argo)`.
async fn becomes(ns: &TestNs, name: &str, kstatus: &str, argo: &str) -> anyhow::Result<()> {
    let api = ns.api::<Container>();
    let last = std::sync::Mutex::new((String::new(), String::new()));
    let result = wait::until(
        DEADLINE,
        &format!("{name} to be {kstatus}/{argo}"),
        || async {
            let object = serde_json::to_value(api.get(name).await?)?;
            // Only after the first status write: before it, both tools see nothing to wait for.
            if object["status"]["conditions"].is_null() {
                return Ok(false);
            }
            let verdict = judge(&object)?;
            let done = verdict.0 == kstatus && verdict.1 == argo;
            *last.lock().expect("not poisoned") = verdict;
            Ok(done)
        },
    )
    .await;
    result.map_err(|e| anyhow::anyhow!("{e}; last judged {:?}", last.lock().expect("not poisoned")))
}

#[tokio::test]
async fn flux_and_argo_cd_read_progress_health_failure_and_deletion_right() -> anyhow::Result<()> {
    let ns = TestNs::new("gitops").await?;
    // Healthy only after a few seconds, so the progressing phase can be seen.
    let spec = |label: &str| {
        json!({"forProvider": {
            "image": test_image(),
            "command": ["sh", "-c", "sleep 3 && touch /tmp/ok && exec httpd -f -p 80 -h /www"],
            "healthCheck": {"test": ["CMD-SHELL", "test -f /tmp/ok"], "interval": "1s", "retries": 30},
            "labels": {"revision": label},
        }})
    };
    ns.apply_managed("Container", "app", spec("1")).await?;
    becomes(&ns, "app", "InProgress", "Progressing").await?;
    becomes(&ns, "app", "Current", "Healthy").await?;

    // A spec change: what the API server answers, before the controller has seen it, is
    // already InProgress for kstatus (observedGeneration lags).
    let changed = ns
        .api::<Container>()
        .patch(
            "app",
            &PatchParams::apply("e2e-test").force(),
            &Patch::Apply(json!({
                "apiVersion": "docker.m.crossplane.io/v1alpha1", "kind": "Container",
                "metadata": {"name": "app"}, "spec": spec("2"),
            })),
        )
        .await?;
    assert_eq!(judge(&serde_json::to_value(&changed)?)?.0, "InProgress");
    becomes(&ns, "app", "InProgress", "Progressing").await?;
    becomes(&ns, "app", "Current", "Healthy").await?;

    // A resource that cannot progress without a change: Failed and Degraded.
    ns.apply_managed(
        "Container",
        "broken",
        json!({"forProvider": {
            "image": "provider-docker-test/absent:v0", "imagePullPolicy": "Never",
        }}),
    )
    .await?;
    becomes(&ns, "broken", "Failed", "Degraded").await?;

    // Deletion: held by the finalizer while the container goes, kstatus says Terminating.
    let deleting = ns
        .api::<Container>()
        .delete("app", &DeleteParams::default())
        .await?;
    let object = deleting
        .left()
        .expect("the finalizer keeps the object for a while");
    assert_eq!(judge(&serde_json::to_value(&object)?)?.0, "Terminating");
    ns.finish().await
}
