//! Helpers for end-to-end tests on the bench started by `make env-up`: clients for the
//! bench's API server and Docker daemon, and the names of the local test images.

use anyhow::Context;

/// The image every test container runs: busybox serving HTTP on port 80 from /www.
pub fn test_image() -> String {
    std::env::var("PROVIDER_DOCKER_TEST_IMAGE")
        .unwrap_or_else(|_| "provider-docker-test/busybox:v1a".into())
}

/// A second image with the same contents and a different ID, for image changes.
pub fn test_image_alt() -> String {
    std::env::var("PROVIDER_DOCKER_TEST_IMAGE_ALT")
        .unwrap_or_else(|_| "provider-docker-test/busybox:v1b".into())
}

/// A client for the bench's API server, from `KUBECONFIG`.
pub async fn kube_client() -> anyhow::Result<kube::Client> {
    anyhow::ensure!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: run `make env-up` and `source .bench/env` first"
    );
    kube::Client::try_default()
        .await
        .context("connecting to the bench API server")
}

/// A client for the bench's Docker daemon, from `DOCKER_HOST`.
pub fn docker() -> anyhow::Result<bollard::Docker> {
    bollard::Docker::connect_with_defaults().context("connecting to the bench Docker daemon")
}

/// A name unique to this test run, for objects a test creates.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{:x}{:x}",
        std::process::id() ^ nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}
