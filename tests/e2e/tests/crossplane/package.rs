//! The package: built by `package/xpkg.sh` (what `make xpkg` runs), pushed to the bench
//! registry, read back with plain registry API calls, and run as the provider.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context as _;
use api::container::Container;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use provider_docker_e2e::{DEADLINE, TestNs, bench_env, http_get, ready, test_image, unique, wait};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::{documents, repo, run};

const RUNTIME_IMAGE: &str = "provider-docker:dev";

// --- the bench registry ------------------------------------------------------------------

struct Registry {
    address: String,
    user: String,
    password_file: String,
    ca: PathBuf,
}

impl Registry {
    fn from_env() -> anyhow::Result<Self> {
        let password_file = bench_env("PROVIDER_DOCKER_REGISTRY_PASSWORD_FILE")?;
        let ca = Path::new(&password_file)
            .parent()
            .context("the registry password file has no directory")?
            .join("ca.pem");
        Ok(Self {
            address: bench_env("PROVIDER_DOCKER_REGISTRY")?,
            user: bench_env("PROVIDER_DOCKER_REGISTRY_USER")?,
            password_file,
            ca,
        })
    }

    /// GET `path` of the registry API with the bench credentials, checked against its CA.
    fn get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let password = std::fs::read_to_string(&self.password_file)?;
        let out = Command::new("curl")
            .args(["-sSf", "-L", "--cacert"])
            .arg(&self.ca)
            .args(["-u", &format!("{}:{}", self.user, password.trim())])
            .args([
                "-H",
                "Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
            ])
            .arg(format!("https://{}/v2/{path}", self.address))
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "GET {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(out.stdout)
    }
}

// --- the package, built and pushed once per test binary ------------------------------------

/// The package as the registry serves it back.
pub(crate) struct Pushed {
    /// `REGISTRY/provider-docker/provider-docker:TAG`
    reference: String,
    manifest: Value,
    config: Value,
    /// The descriptor annotated `io.crossplane.xpkg: base`, and its position.
    base_layer: (usize, Value),
    /// package.yaml, from that layer.
    pub(crate) package_yaml: String,
}

static PUSHED: OnceCell<Result<Pushed, String>> = OnceCell::const_new();

/// Builds the package with `package/xpkg.sh` (what `make xpkg` runs), pushes it with
/// `provider-docker-xpkg push` and reads it back with plain registry API calls.
pub(crate) async fn pushed() -> anyhow::Result<&'static Pushed> {
    let pushed = PUSHED
        .get_or_init(|| async {
            tokio::task::spawn_blocking(build_push_and_read_back)
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| format!("{e:#}")))
        })
        .await;
    pushed.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
}

fn build_push_and_read_back() -> anyhow::Result<Pushed> {
    let out = repo().join("target/xpkg/provider-docker.xpkg");
    run(
        "package/xpkg.sh",
        &[RUNTIME_IMAGE, &out.to_string_lossy()],
        &[],
    )
    .context("building the package (needs `make image` first; make test does it)")?;
    let tools = run("tests/bench/build-tools.sh", &["xpkg"], &[])?;
    let registry = Registry::from_env()?;
    let repository = "provider-docker/provider-docker";
    let tag = unique("xpkg");
    let reference = format!("{}/{repository}:{tag}", registry.address);
    run(
        &format!("{}/provider-docker-xpkg", tools.trim()),
        &[
            "push",
            "-package",
            &out.to_string_lossy(),
            "-ca",
            &registry.ca.to_string_lossy(),
            "-user",
            &registry.user,
            "-password-file",
            &registry.password_file,
            &reference,
        ],
        &[],
    )?;

    let manifest: Value =
        serde_json::from_slice(&registry.get(&format!("{repository}/manifests/{tag}"))?)?;
    let digest = |d: &Value| d["digest"].as_str().unwrap_or_default().to_string();
    let config: Value = serde_json::from_slice(&registry.get(&format!(
        "{repository}/blobs/{}",
        digest(&manifest["config"])
    ))?)?;
    let layers = manifest["layers"].as_array().context("no layers")?;
    let based: Vec<(usize, &Value)> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l["annotations"]["io.crossplane.xpkg"] == "base")
        .collect();
    anyhow::ensure!(
        based.len() == 1,
        "want one layer annotated io.crossplane.xpkg: base, the manifest has {}: {manifest}",
        based.len()
    );
    let (index, layer) = (based[0].0, based[0].1.clone());
    let blob = registry.get(&format!("{repository}/blobs/{}", digest(&layer)))?;
    let dir = repo().join("target/e2e").join(&tag);
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("base-layer.tar.gz");
    std::fs::write(&file, blob)?;
    let listing = run("tar", &["-tzf", &file.to_string_lossy()], &[])?;
    anyhow::ensure!(
        listing.trim() == "package.yaml",
        "the base layer should hold only package.yaml, it holds: {listing}"
    );
    let package_yaml = run(
        "tar",
        &["-xzOf", &file.to_string_lossy(), "package.yaml"],
        &[],
    )?;
    Ok(Pushed {
        reference,
        manifest,
        config,
        base_layer: (index, layer),
        package_yaml,
    })
}

#[tokio::test]
async fn the_package_reads_back_from_the_registry_as_the_runtime_image_plus_its_package_layer()
-> anyhow::Result<()> {
    let pushed = pushed().await?;

    // The runtime image's layers, unchanged, then the package layer.
    let runtime: Value =
        serde_json::from_str(&run("docker", &["image", "inspect", RUNTIME_IMAGE], &[])?)?;
    let runtime_layers = runtime[0]["RootFS"]["Layers"]
        .as_array()
        .context("no runtime layers")?;
    let diff_ids = pushed.config["rootfs"]["diff_ids"]
        .as_array()
        .context("no diff_ids")?;
    assert_eq!(diff_ids.len(), runtime_layers.len() + 1);
    assert_eq!(&diff_ids[..runtime_layers.len()], &runtime_layers[..]);
    let layers = pushed.manifest["layers"].as_array().context("no layers")?;
    assert_eq!(
        pushed.base_layer.0,
        layers.len() - 1,
        "the package layer comes last"
    );
    // It still runs as the provider: same entrypoint, command and user.
    assert_eq!(
        pushed.config["config"]["Entrypoint"],
        json!(["/provider-docker"])
    );
    assert_eq!(pushed.config["config"]["Cmd"], json!(["run"]));
    assert_eq!(pushed.config["config"]["User"], "65532:65532");

    // package.yaml: one meta Provider with safe-start, then every CRD the types make.
    let docs = documents(&pushed.package_yaml)?;
    let meta = &docs[0];
    assert_eq!(meta["apiVersion"], "meta.pkg.crossplane.io/v1");
    assert_eq!(meta["kind"], "Provider");
    assert_eq!(meta["metadata"]["name"], "provider-docker");
    assert!(
        meta["spec"]["capabilities"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("safe-start"))),
        "the meta Provider lacks the safe-start capability: {meta}"
    );
    let packaged: BTreeMap<String, Value> = docs[1..]
        .iter()
        .map(|d| {
            let crd: CustomResourceDefinition = serde_json::from_value(d.clone())?;
            Ok((crd.metadata.name.clone().unwrap_or_default(), d.clone()))
        })
        .collect::<anyhow::Result<_>>()?;
    let generated: BTreeMap<String, Value> = api::crd::all()
        .into_iter()
        .map(|crd| {
            Ok((
                crd.metadata.name.clone().unwrap_or_default(),
                serde_json::to_value(&crd)?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    assert_eq!(
        packaged.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>()
    );
    for (name, crd) in &generated {
        assert_eq!(
            &packaged[name], crd,
            "{name} in package.yaml differs from the types"
        );
    }
    Ok(())
}

/// A container removed when dropped, so a failing test leaves nothing running.
struct Running(String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// Cluster-scoped objects a test made, deleted when dropped.
struct ClusterScoped(Vec<String>);

impl Drop for ClusterScoped {
    fn drop(&mut self) {
        for object in &self.0 {
            let _ = Command::new("kubectl")
                .args(["delete", "--ignore-not-found", object])
                .output();
        }
    }
}

#[tokio::test]
async fn the_package_image_pulled_from_the_registry_runs_as_the_provider_until_a_container_is_ready()
-> anyhow::Result<()> {
    let pushed = pushed().await?;
    let ns = TestNs::new_without_provider("xpkg-run").await?;

    // Pulled by the bench daemon from the registry, with the bench credentials.
    let registry = Registry::from_env()?;
    let docker_config = repo().join("target/e2e").join(&ns.name).join("docker");
    std::fs::create_dir_all(&docker_config)?;
    let docker_config = docker_config.to_string_lossy().to_string();
    let login = Command::new("docker")
        .args([
            "login",
            "-u",
            &registry.user,
            "--password-stdin",
            &registry.address,
        ])
        .env("DOCKER_CONFIG", &docker_config)
        .stdin(std::fs::File::open(&registry.password_file)?)
        .output()?;
    anyhow::ensure!(
        login.status.success(),
        "docker login: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    run(
        "docker",
        &["pull", "-q", &pushed.reference],
        &[("DOCKER_CONFIG", &docker_config)],
    )?;
    std::fs::remove_dir_all(&docker_config)?;

    // Crossplane runs the package image in a pod under a ServiceAccount of its own; here
    // the account's token goes where a kubelet would mount it.
    let account = "provider-docker";
    let binding = format!("{}-provider-docker", ns.name);
    run(
        "kubectl",
        &["create", "serviceaccount", account, "--namespace", &ns.name],
        &[],
    )?;
    run(
        "kubectl",
        &[
            "create",
            "clusterrolebinding",
            &binding,
            "--clusterrole",
            "cluster-admin",
            "--serviceaccount",
            &format!("{}:{account}", ns.name),
        ],
        &[],
    )?;
    let _binding = ClusterScoped(vec![format!("clusterrolebinding/{binding}")]);
    let token = run(
        "kubectl",
        &["create", "token", account, "--namespace", &ns.name],
        &[],
    )?;
    let kubeconfig = PathBuf::from(bench_env("KUBECONFIG")?);
    let bench = kubeconfig.parent().context("KUBECONFIG has no directory")?;
    let mounted = repo()
        .join("target/e2e")
        .join(&ns.name)
        .join("serviceaccount");
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
        &[],
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
        "from-package",
        json!({
            "forProvider": {"image": test_image()},
            "providerConfigRef": {"kind": "ProviderConfig", "name": "tls"},
        }),
    )
    .await?;

    // The image's own entrypoint and command, configured by environment as a
    // DeploymentRuntimeConfig would; the pod's restrictions.
    let name = format!("provider-{}", ns.name);
    let metrics = "127.0.0.1:18496";
    let env = [
        "KUBERNETES_SERVICE_HOST=127.0.0.1".to_string(),
        format!("KUBERNETES_SERVICE_PORT={port}"),
        format!("POD_NAMESPACE={}", ns.name),
        format!("WATCH_NAMESPACE={}", ns.name),
        format!("METRICS_ADDRESS={metrics}"),
    ];
    let volume = format!(
        "{}:/var/run/secrets/kubernetes.io/serviceaccount:ro",
        mounted.display()
    );
    let mut args = vec![
        "run",
        "--detach",
        "--name",
        &name,
        "--network",
        "host",
        "--read-only",
        "--user",
        "65532:65532",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--volume",
        &volume,
    ];
    for e in &env {
        args.extend(["--env", e.as_str()]);
    }
    args.push(&pushed.reference);
    run("docker", &args, &[])?;
    let provider = Running(name.clone());

    let containers = ns.api::<Container>();
    if let Err(e) = ready(&containers, "from-package").await {
        let logs = Command::new("docker")
            .args(["logs", "--tail", "30", &name])
            .output()?;
        anyhow::bail!(
            "{e}; the provider said:\n{}{}",
            String::from_utf8_lossy(&logs.stdout),
            String::from_utf8_lossy(&logs.stderr)
        );
    }
    wait::until(DEADLINE, "the package's /readyz to answer 200", || async {
        Ok(matches!(http_get(metrics, "/readyz").await, Ok((200, _))))
    })
    .await?;

    // The provider from the package removes what it made before the namespace goes.
    containers
        .delete("from-package", &Default::default())
        .await?;
    wait::until(DEADLINE, "the container to be removed", || async {
        Ok(containers.get_opt("from-package").await?.is_none())
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
    // Its log beside the others, for the secrets scan after the suite.
    let logs = Command::new("docker").args(["logs", &name]).output()?;
    std::fs::write(
        repo().join("target/e2e").join(format!("{name}.log")),
        [logs.stdout, logs.stderr].concat(),
    )?;
    drop(provider);
    let _ = Command::new("docker")
        .args(["image", "rm", &pushed.reference])
        .output();
    Ok(())
}
