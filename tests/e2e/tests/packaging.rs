//! The Helm chart and the runtime image, with the real tools: the chart lints, renders and
//! installs into the bench API server; and since the bench has no kubelet, the pod spec it
//! renders is run by hand: the image (a static binary on an empty filesystem) with the
//! chart's args, env, user and read-only root filesystem, authenticated as the chart's
//! ServiceAccount with a token from the TokenRequest API, on the host network. It must
//! bring a Container on the TLS daemon to Ready: any RBAC verb the chart lacks fails it.

use std::{path::PathBuf, process::Command};

use anyhow::Context;
use api::container::Container;
use provider_docker_e2e::{DEADLINE, TestNs, bench_env, http_get, ready, test_image, wait};
use serde::Deserialize as _;
use serde_json::json;

const IMAGE: &str = "provider-docker:dev";
const METRICS_PORT: u16 = 18495;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs a command; fails with its stderr if it fails; returns stdout.
fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(repo())
        .output()
        .with_context(|| format!("running {program}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// A container removed when dropped, so a failing test leaves nothing running.
struct Running(String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// The provider container of the rendered Deployment, as `docker run` flags and args.
struct PodSpec {
    flags: Vec<String>,
    args: Vec<String>,
}

fn pod_spec(rendered: &str, namespace: &str) -> anyhow::Result<PodSpec> {
    let deployment = serde_yaml_ng::Deserializer::from_str(rendered)
        .map(serde_json::Value::deserialize)
        .filter_map(Result::ok)
        .find(|d| d["kind"] == "Deployment")
        .context("the chart renders no Deployment")?;
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let security = &container["securityContext"];
    anyhow::ensure!(
        security["readOnlyRootFilesystem"] == true,
        "root filesystem is writable"
    );
    anyhow::ensure!(
        security["allowPrivilegeEscalation"] == false,
        "privilege escalation allowed"
    );
    anyhow::ensure!(
        security["capabilities"]["drop"] == json!(["ALL"]),
        "capabilities kept"
    );
    anyhow::ensure!(
        pod["securityContext"]["runAsNonRoot"] == true,
        "may run as root"
    );
    let user = format!(
        "{}:{}",
        pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]
    );
    let mut flags: Vec<String> = [
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--user",
        &user,
    ]
    .map(String::from)
    .to_vec();
    for var in container["env"].as_array().into_iter().flatten() {
        let value = match var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
            Some("metadata.namespace") => namespace.to_string(),
            Some("metadata.name") => "provider-docker-chart-test".to_string(),
            Some(other) => anyhow::bail!("unexpected fieldRef {other}"),
            None => var["value"].as_str().unwrap_or_default().to_string(),
        };
        flags.extend([
            "--env".into(),
            format!("{}={value}", var["name"].as_str().unwrap_or_default()),
        ]);
    }
    let args = container["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    Ok(PodSpec { flags, args })
}

#[tokio::test]
async fn the_chart_installs_and_its_pod_spec_runs_the_image_until_a_container_is_ready()
-> anyhow::Result<()> {
    let chart = "charts/provider-docker";
    run("helm", &["lint", "--strict", chart])?;
    let ns = TestNs::new_without_provider("chart").await?;
    let release = format!("pd-{}", ns.name);
    let values = [
        "--set",
        "crds.enabled=false", // the bench has them already, from the harness
        "--set",
        "image.tag=dev",
        "--set",
        &format!("watchNamespace={}", ns.name),
        "--set",
        &format!("metrics.port={METRICS_PORT}"),
    ];
    let mut install = vec!["install", &release, chart, "--namespace", &ns.name];
    install.extend(values);
    run("helm", &install)?;
    let mut template = vec!["template", &release, chart, "--namespace", &ns.name];
    template.extend(values);
    let spec = pod_spec(&run("helm", &template)?, &ns.name)?;

    // The ServiceAccount's credentials, where a kubelet would mount them.
    let account = format!("{release}-provider-docker");
    let token = run(
        "kubectl",
        &["create", "token", &account, "--namespace", &ns.name],
    )?;
    let kubeconfig = PathBuf::from(bench_env("KUBECONFIG")?);
    let bench = kubeconfig.parent().context("KUBECONFIG has no directory")?;
    let mounted = repo().join("target/e2e").join(&release);
    std::fs::create_dir_all(&mounted)?;
    std::fs::write(mounted.join("token"), token.trim())?;
    std::fs::copy(bench.join("pki/ca.crt"), mounted.join("ca.crt"))?;
    std::fs::write(mounted.join("namespace"), &ns.name)?;
    let server = run(
        "kubectl",
        &[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ],
    )?;
    let port = server
        .rsplit(':')
        .next()
        .context("no API server port")?
        .to_string();

    // The TLS daemon: reachable without root.
    let tls_dir = PathBuf::from(bench_env("PROVIDER_DOCKER_TLS_DIR")?);
    let read = |f: &str| std::fs::read_to_string(tls_dir.join(f));
    ns.secret("tls", "kubernetes.io/tls", json!({"ca.crt": read("ca.pem")?, "tls.crt": read("cert.pem")?, "tls.key": read("key.pem")?}))
        .await?;
    ns.provider_config("tls", json!({"host": bench_env("PROVIDER_DOCKER_TLS_HOST")?, "tls": {"secretRef": {"name": "tls"}}}))
        .await?;
    ns.apply_managed(
        "Container",
        "from-chart",
        json!({
            "forProvider": {"image": test_image()},
            "providerConfigRef": {"kind": "ProviderConfig", "name": "tls"},
        }),
    )
    .await?;

    let name = format!("provider-{release}");
    let mut docker_run: Vec<String> = ["run", "--detach", "--name", &name, "--network", "host"]
        .map(String::from)
        .to_vec();
    docker_run.extend(spec.flags);
    docker_run.extend([
        "--volume".into(),
        format!(
            "{}:/var/run/secrets/kubernetes.io/serviceaccount:ro",
            mounted.display()
        ),
        "--env".into(),
        "KUBERNETES_SERVICE_HOST=127.0.0.1".into(),
        "--env".into(),
        format!("KUBERNETES_SERVICE_PORT={port}"),
        IMAGE.into(),
    ]);
    docker_run.extend(spec.args);
    run(
        "docker",
        &docker_run.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let provider = Running(name.clone());

    let containers = ns.api::<Container>();
    if let Err(e) = ready(&containers, "from-chart").await {
        let logs = Command::new("docker")
            .args(["logs", "--tail", "30", &name])
            .output()?;
        anyhow::bail!(
            "{e}; the provider said:\n{}{}",
            String::from_utf8_lossy(&logs.stdout),
            String::from_utf8_lossy(&logs.stderr)
        );
    }
    let address = format!("127.0.0.1:{METRICS_PORT}");
    wait::until(DEADLINE, "the image's /readyz to answer 200", || async {
        Ok(matches!(http_get(&address, "/readyz").await, Ok((200, _))))
    })
    .await?;
    // The key it was given is in no log line.
    let logs = Command::new("docker").args(["logs", &name]).output()?;
    let key = read("key.pem")?;
    let middle = key.lines().nth(2).unwrap_or("-----");
    assert!(!String::from_utf8_lossy(&logs.stderr).contains(middle));
    assert!(!String::from_utf8_lossy(&logs.stdout).contains(middle));

    // The provider from the image removes the container. (Before the namespace goes:
    // deleting the namespace deletes the ServiceAccount, and with it the token.)
    containers.delete("from-chart", &Default::default()).await?;
    wait::until(DEADLINE, "the container to be removed", || async {
        Ok(containers.get_opt("from-chart").await?.is_none())
    })
    .await?;
    let configs = ns.api::<api::provider_config::ProviderConfig>();
    wait::until(DEADLINE, "the config to be released", || async {
        Ok(configs
            .get("tls")
            .await?
            .metadata
            .finalizers
            .unwrap_or_default()
            .is_empty())
    })
    .await?;
    ns.finish().await?;
    drop(provider);
    // The release went with its namespace; what it made cluster-wide goes by name.
    let role = format!("{release}-provider-docker");
    run(
        "kubectl",
        &["delete", "clusterrole,clusterrolebinding", &role],
    )?;
    Ok(())
}
