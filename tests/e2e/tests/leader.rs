//! Leader election with two provider processes: only the leader reconciles; killing it
//! with SIGKILL lets the standby take over and finish work created meanwhile; SIGTERM
//! releases the lease at once.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use provider_docker_e2e::{
    DEADLINE, TestNs, http_get, metric, provider, ready, test_image, unique, wait,
};
use serde_json::json;

async fn apply(ns: &TestNs, name: &str) -> anyhow::Result<()> {
    ns.apply_managed(
        "Container",
        name,
        json!({ "forProvider": { "image": test_image() } }),
    )
    .await
}

async fn reconciles(address: &str) -> f64 {
    match http_get(address, "/metrics").await {
        Ok((200, body)) => metric(
            &body,
            "provider_docker_reconciles_total",
            &[("kind", "Container")],
        ),
        _ => 0.0,
    }
}

#[tokio::test]
async fn the_standby_takes_over_when_the_leader_dies_and_sigterm_releases_the_lease()
-> anyhow::Result<()> {
    let client = provider::install().await?;
    let ns = TestNs::new_without_provider("leader").await?;
    let lease_name = unique("lease");
    let addresses = ["127.0.0.1:18491", "127.0.0.1:18492"];
    let log_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    let mut children = Vec::new();
    for (i, address) in addresses.iter().enumerate() {
        let child = provider::spawn(
            &[
                "--leader-election",
                "--leader-election-namespace",
                &ns.name,
                "--leader-election-name",
                &lease_name,
                "--namespace",
                &ns.name,
                "--metrics-address",
                address,
                "--poll-interval",
                "30s",
            ],
            &log_dir.join(format!("leader-{i}.log")),
        )?;
        children.push(child);
    }
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns.name);
    let holder = || async {
        Ok::<_, anyhow::Error>(
            leases
                .get_opt(&lease_name)
                .await?
                .and_then(|l| l.spec)
                .and_then(|s| s.holder_identity)
                .filter(|h| !h.is_empty()),
        )
    };
    let first = wait::value(DEADLINE, "a leader", || async { holder().await }).await?;
    let leader = children
        .iter()
        .position(|c| first.ends_with(&format!("-{}", c.id())))
        .expect("the holder is one of the two processes");
    let standby = 1 - leader;

    apply(&ns, "before").await?;
    ready(&ns.api(), "before").await?;
    assert!(
        reconciles(addresses[leader]).await > 0.0,
        "the leader did not reconcile"
    );
    assert_eq!(
        reconciles(addresses[standby]).await,
        0.0,
        "the standby reconciled"
    );
    assert_eq!(
        http_get(addresses[standby], "/readyz").await?.0,
        200,
        "a standby is ready"
    );

    // SIGKILL: no chance to release; the standby waits out the lease (10 s).
    children[leader].kill()?;
    children[leader].wait()?;
    apply(&ns, "during").await?;
    ready(&ns.api(), "during").await?;
    let second = holder().await?.unwrap_or_default();
    assert!(
        second.ends_with(&format!("-{}", children[standby].id())),
        "holder is {second}"
    );

    // SIGTERM: the new leader stops and gives the lease up at once.
    // SAFETY: kill(2) on a child we spawned and still own.
    unsafe { libc::kill(children[standby].id() as i32, libc::SIGTERM) };
    wait::until(
        Duration::from_secs(15),
        "the lease to be released",
        || async { Ok(holder().await?.is_none()) },
    )
    .await?;
    let status = children[standby].wait()?;
    assert!(status.success(), "the provider exited with {status}");

    // No provider runs now; the suite's provider finalizes nothing here, so release the
    // resources' finalizers by running one more provider for the cleanup.
    let mut cleanup = provider::spawn(
        &[
            "--namespace",
            &ns.name,
            "--metrics-address",
            "127.0.0.1:18493",
        ],
        &log_dir.join("leader-cleanup.log"),
    )?;
    let result = ns.finish().await;
    cleanup.kill()?;
    result
}
