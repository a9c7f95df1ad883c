//! safe-start, against an API server that serves only some of the CRDs.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::Context as _;
use api::{container::Container, network::Network};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use provider_docker_e2e::{
    DEADLINE, bench_env, http_get, managed_ready, ready, test_image, unique, wait,
};
use serde_json::{Value, json};

use super::{Child, free_port, install_crds, own_provider, repo};

/// A second kube-apiserver with the bench's flags, certificates and etcd, but its own key
/// prefix in etcd: an empty cluster, so CRDs can be missing without touching the bench's.
/// Returns the process and a kubeconfig for it.
fn private_api_server(dir: &Path) -> anyhow::Result<(Child, PathBuf)> {
    let kubeconfig = PathBuf::from(bench_env("KUBECONFIG")?);
    let bench = kubeconfig.parent().context("KUBECONFIG has no directory")?;
    let pid = std::fs::read_to_string(bench.join("kube-apiserver.pid"))?;
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.trim()))?;
    let mut args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let program = args.remove(0);
    let port = free_port()?;
    let at = args
        .iter()
        .position(|a| a == "--secure-port")
        .context("the bench API server has no --secure-port")?;
    let old_port = args[at + 1].clone();
    args[at + 1] = port.to_string();
    args.extend(["--etcd-prefix".into(), format!("/{}", unique("safe-start"))]);
    let log = std::fs::File::create(dir.join("kube-apiserver.log"))?;
    let child = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let config = std::fs::read_to_string(&kubeconfig)?.replace(
        &format!("127.0.0.1:{old_port}"),
        &format!("127.0.0.1:{port}"),
    );
    let private = dir.join("kubeconfig");
    std::fs::write(&private, config)?;
    Ok((Child(child), private))
}

/// Applies `object`, retrying while discovery does not list its kind yet: a CRD is
/// Established a moment before the API server's discovery serves it.
async fn apply_once_served(client: &kube::Client, object: &Value) -> anyhow::Result<()> {
    let what = format!("{} {} to apply", object["kind"], object["metadata"]["name"]);
    wait::until(DEADLINE, &what, || async {
        provider_docker_e2e::apply_yaml(client, None, &object.to_string()).await?;
        Ok(true)
    })
    .await
}

async fn client_for(kubeconfig: &Path) -> anyhow::Result<kube::Client> {
    let config = kube::config::Kubeconfig::read_from(kubeconfig)?;
    let config =
        kube::Config::from_custom_kubeconfig(config, &kube::config::KubeConfigOptions::default())
            .await?;
    Ok(kube::Client::try_from(config)?)
}

#[tokio::test]
async fn a_provider_serves_the_kinds_whose_crds_exist_and_starts_the_others_once_theirs_appear()
-> anyhow::Result<()> {
    let dir = repo().join("target/e2e").join(unique("safe-start"));
    std::fs::create_dir_all(&dir)?;
    let (_api_server, kubeconfig) = private_api_server(&dir)?;
    let client = client_for(&kubeconfig).await?;
    wait::until(DEADLINE, "the private API server to answer", || async {
        Ok(client.apiserver_version().await.is_ok())
    })
    .await?;

    // Only the config kinds and Network, as Crossplane leaves things with one MRD active.
    let all = api::crd::all();
    let kind = |c: &CustomResourceDefinition| c.spec.names.kind.clone();
    let first: Vec<CustomResourceDefinition> = all
        .iter()
        .filter(|c| !["Container", "Volume", "Service"].contains(&kind(c).as_str()))
        .cloned()
        .collect();
    install_crds(&client, &first).await?;
    let config = json!({
        "apiVersion": "docker.m.crossplane.io/v1alpha1",
        "kind": "ClusterProviderConfig",
        "metadata": {"name": "default"},
        "spec": {"host": std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())},
    });
    apply_once_served(&client, &config).await?;

    let metrics = format!("127.0.0.1:{}", free_port()?);
    let log = dir.join("provider.log");
    let _provider = own_provider(&["--metrics-address", &metrics], Some(&kubeconfig), &log)?;

    // Ready, though three managed kinds are missing, and serving the one that is there.
    wait::until(
        DEADLINE,
        "/readyz to answer 200 with CRDs missing",
        || async { Ok(matches!(http_get(&metrics, "/readyz").await, Ok((200, _)))) },
    )
    .await?;
    let network = format!("{}-net", unique("ss"));
    let manifest = json!({
        "apiVersion": "docker.m.crossplane.io/v1alpha1", "kind": "Network",
        "metadata": {"name": network, "namespace": "default"},
        "spec": {"forProvider": {"driver": "bridge"}},
    });
    apply_once_served(&client, &manifest).await?;
    let networks: Api<Network> = Api::namespaced(client.clone(), "default");
    managed_ready(&networks, &network).await?;
    let said = std::fs::read_to_string(&log)?;
    assert!(
        said.contains("not served yet (safe-start)") && said.contains("containers"),
        "the provider does not say it waits for Containers:\n{said}"
    );

    // The Container CRD appears (its MRD is activated): the Container loop starts.
    let containers_crd: Vec<CustomResourceDefinition> = all
        .iter()
        .filter(|c| kind(c) == "Container")
        .cloned()
        .collect();
    install_crds(&client, &containers_crd).await?;
    let container = format!("{}-web", unique("ss"));
    let manifest = json!({
        "apiVersion": "docker.m.crossplane.io/v1alpha1", "kind": "Container",
        "metadata": {"name": container, "namespace": "default"},
        "spec": {"forProvider": {"image": test_image(), "networks": [{"networkRef": {"name": network}}]}},
    });
    apply_once_served(&client, &manifest).await?;
    let containers: Api<Container> = Api::namespaced(client.clone(), "default");
    ready(&containers, &container).await?;
    let said = std::fs::read_to_string(&log)?;
    assert!(!said.contains("panicked"), "the provider panicked:\n{said}");

    // What it made goes before the private API server does.
    containers.delete(&container, &Default::default()).await?;
    wait::until(DEADLINE, "the container to go", || async {
        Ok(containers.get_opt(&container).await?.is_none())
    })
    .await?;
    networks.delete(&network, &Default::default()).await?;
    wait::until(DEADLINE, "the network to go", || async {
        Ok(networks.get_opt(&network).await?.is_none())
    })
    .await?;
    // And the CRDs with what is left of theirs, so little of the private cluster stays in
    // the bench's etcd.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in first.iter().chain(&containers_crd) {
        let name = crd.metadata.name.clone().unwrap_or_default();
        crds.delete(&name, &Default::default()).await?;
    }
    Ok(())
}
