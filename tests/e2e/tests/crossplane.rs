//! provider-docker as Crossplane v2 uses it, with the parts of Crossplane that exist here
//! (its CRDs, in ../shared/crossplane/crds; Crossplane itself cannot be built here):
//!
//! - the package (`make xpkg`): pushed to the bench registry and read back as the runtime
//!   image plus one `io.crossplane.xpkg: base` layer whose package.yaml holds the meta
//!   Provider and exactly the CRDs the types generate; pulled from the registry into the
//!   bench daemon, the package image runs as the provider;
//! - each managed-resource CRD, wrapped as Crossplane v2 wraps it, is a valid
//!   ManagedResourceDefinition;
//! - examples/composition passes server-side validation, and what its Composition
//!   composes from the example App (rendered here as function-patch-and-transform would)
//!   becomes Ready and writes the connection Secret it names;
//! - safe-start: against an API server that serves only some CRDs, the provider serves
//!   those, is ready, and starts each other kind once its CRD appears.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::Context as _;
use api::{container::Container, network::Network, volume::Volume};
use k8s_openapi::{
    api::core::v1::Secret,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api,
    api::{DynamicObject, Patch, PatchParams},
    core::GroupVersionKind,
};
use provider_docker_e2e::{
    DEADLINE, TestNs, bench_env, http_get, managed_ready, provider, ready, test_image, unique, wait,
};
use serde::Deserialize as _;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

const RUNTIME_IMAGE: &str = "provider-docker:dev";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs a command; fails with its output if it fails; returns stdout.
fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<String> {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
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

/// Every document of a YAML stream, as JSON values.
fn documents(yaml: &str) -> anyhow::Result<Vec<Value>> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|d| Value::deserialize(d).map_err(anyhow::Error::from))
        .filter(|d| !matches!(d, Ok(Value::Null)))
        .collect()
}

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
struct Pushed {
    /// `REGISTRY/provider-docker/provider-docker:TAG`
    reference: String,
    manifest: Value,
    config: Value,
    /// The descriptor annotated `io.crossplane.xpkg: base`, and its position.
    base_layer: (usize, Value),
    /// package.yaml, from that layer.
    package_yaml: String,
}

static PUSHED: OnceCell<Result<Pushed, String>> = OnceCell::const_new();

/// Builds the package with `package/xpkg.sh` (what `make xpkg` runs), pushes it with
/// `provider-docker-xpkg push` and reads it back with plain registry API calls.
async fn pushed() -> anyhow::Result<&'static Pushed> {
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

// --- Crossplane's CRDs ---------------------------------------------------------------------

/// Where Crossplane's own CRDs are kept (data for tests; Crossplane cannot be built here).
fn crossplane_crds_dir() -> PathBuf {
    std::env::var_os("PROVIDER_DOCKER_CROSSPLANE_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/crossplane/crds"))
}

static CROSSPLANE: OnceCell<Result<(), String>> = OnceCell::const_new();

/// Installs Crossplane's CRDs on the bench API server (once; they are left there, as
/// installing Crossplane would leave them) and waits until they are established.
async fn crossplane_installed(client: &kube::Client) -> anyhow::Result<()> {
    let done = CROSSPLANE
        .get_or_init(|| async {
            install_crds_from(client, &crossplane_crds_dir())
                .await
                .map_err(|e| format!("{e:#}"))
        })
        .await;
    done.clone().map_err(|e| anyhow::anyhow!("{e}"))
}

async fn install_crds_from(client: &kube::Client, dir: &Path) -> anyhow::Result<()> {
    let mut crds = vec![];
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let crd: CustomResourceDefinition =
                serde_yaml_ng::from_str(&std::fs::read_to_string(&path)?)
                    .with_context(|| format!("parsing {}", path.display()))?;
            crds.push(crd);
        }
    }
    anyhow::ensure!(!crds.is_empty(), "no CRDs in {}", dir.display());
    install_crds(client, &crds).await
}

/// Applies `crds` and waits until each is established.
async fn install_crds(
    client: &kube::Client,
    crds: &[CustomResourceDefinition],
) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(
            &name,
            &PatchParams::apply("provider-docker-e2e").force(),
            &Patch::Apply(crd),
        )
        .await
        .with_context(|| format!("applying CRD {name}"))?;
    }
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        wait::until(DEADLINE, &format!("CRD {name} established"), || async {
            let crd = api.get(&name).await?;
            Ok(crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True"))
        })
        .await?;
    }
    Ok(())
}

/// Server-side applies `object` as a dry run: the API server validates it in full
/// (schema, defaults, CEL) and stores nothing.
async fn dry_run_apply(client: &kube::Client, object: &Value) -> anyhow::Result<DynamicObject> {
    let obj: DynamicObject = serde_json::from_value(object.clone())?;
    let types = obj.types.clone().context("no apiVersion/kind")?;
    let gvk = GroupVersionKind::try_from(&types)?;
    // Discovery serves a CRD's kind a moment after the CRD is Established.
    let (resource, _) = wait::value(
        DEADLINE,
        &format!("{} to be served", types.kind),
        || async { Ok(Some(kube::discovery::pinned_kind(client, &gvk).await?)) },
    )
    .await?;
    let name = obj.metadata.name.clone().context("no name")?;
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    Ok(api
        .patch(
            &name,
            &PatchParams::apply("provider-docker-e2e").dry_run().force(),
            &Patch::Apply(&obj),
        )
        .await?)
}

/// The first path at which `a` and `b` differ, with both values there.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        // JSON knows one kind of number: 4095 is 4095.0.
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64() != y.as_f64()).then(|| format!("{path}: {a} instead of {b}"))
        }
        _ => (a != b).then(|| format!("{path}: {a} instead of {b}")),
    }
}

/// A CRD of the package as Crossplane v2 wraps it: a ManagedResourceDefinition of the same
/// name whose spec is the CRD's spec plus the connection details it documents and its
/// activation state.
fn managed_resource_definition(crd: &Value, state: &str) -> Value {
    let mut spec = crd["spec"].clone();
    let details = match crd["spec"]["names"]["kind"].as_str() {
        Some("Container") => json!([
            {"name": "endpoint", "description": "Address to reach the container from outside its daemon host."},
            {"name": "port", "description": "The first published host port."},
            {"name": "ip", "description": "The container's address on its first network."},
        ]),
        _ => json!([]),
    };
    spec["connectionDetails"] = details;
    spec["state"] = json!(state);
    json!({
        "apiVersion": "apiextensions.crossplane.io/v1alpha1",
        "kind": "ManagedResourceDefinition",
        "metadata": {"name": crd["metadata"]["name"]},
        "spec": spec,
    })
}

#[tokio::test]
async fn each_managed_resource_crd_wrapped_as_crossplane_v2_wraps_it_is_a_valid_managed_resource_definition()
-> anyhow::Result<()> {
    let pushed = pushed().await?;
    let client = provider_docker_e2e::kube_client().await?;
    crossplane_installed(&client).await?;

    // Crossplane wraps the CRDs of the `managed` category; the config kinds stay CRDs.
    let docs = documents(&pushed.package_yaml)?;
    let is_managed = |d: &&Value| {
        d["spec"]["names"]["categories"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("managed")))
    };
    let kinds = |docs: Vec<&Value>| -> BTreeSet<String> {
        docs.iter()
            .map(|d| {
                d["spec"]["names"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let managed: Vec<&Value> = docs[1..].iter().filter(is_managed).collect();
    let plain: Vec<&Value> = docs[1..].iter().filter(|d| !is_managed(d)).collect();
    assert_eq!(
        kinds(managed.clone()),
        BTreeSet::from(["Container", "Network", "Service", "Volume"].map(String::from))
    );
    assert_eq!(
        kinds(plain),
        BTreeSet::from(
            [
                "ClusterProviderConfig",
                "ProviderConfig",
                "ProviderConfigUsage"
            ]
            .map(String::from)
        )
    );

    for crd in managed {
        let mrd = managed_resource_definition(crd, "Inactive");
        let name = crd["metadata"]["name"].as_str().unwrap_or_default();
        let accepted = dry_run_apply(&client, &mrd)
            .await
            .with_context(|| format!("the ManagedResourceDefinition {name}"))?;
        // Nothing of the CRD was pruned on the way: the schema kept every version.
        let difference = first_difference(
            &accepted.data["spec"]["versions"],
            &crd["spec"]["versions"],
            "versions",
        );
        assert!(
            difference.is_none(),
            "{name}: the API server changed {difference:?}"
        );
        assert_eq!(accepted.data["spec"]["state"], "Inactive");
    }
    // The server does validate: a state Crossplane does not know is refused.
    let bad = managed_resource_definition(&docs[1], "Sleeping");
    let refused = dry_run_apply(&client, &bad).await;
    assert!(
        refused.is_err(),
        "an MRD with state Sleeping was accepted: validation is not running"
    );
    Ok(())
}

// --- examples/composition --------------------------------------------------------------------

fn composition_file(name: &str) -> anyhow::Result<Value> {
    let path = repo().join("examples/composition").join(name);
    let docs = documents(&std::fs::read_to_string(&path)?)?;
    anyhow::ensure!(
        docs.len() == 1,
        "{} should hold one document",
        path.display()
    );
    Ok(docs.into_iter().next().unwrap_or_default())
}

#[tokio::test]
async fn the_composition_example_passes_server_side_apply_with_crossplanes_crds()
-> anyhow::Result<()> {
    let client = provider_docker_e2e::kube_client().await?;
    crossplane_installed(&client).await?;
    let definition = composition_file("definition.yaml")?;
    let composition = composition_file("composition.yaml")?;
    assert_eq!(definition["apiVersion"], "apiextensions.crossplane.io/v2");
    assert_eq!(definition["spec"]["scope"], "Namespaced");
    let applied = dry_run_apply(&client, &definition)
        .await
        .context("definition.yaml")?;
    assert_eq!(applied.data["spec"]["names"]["kind"], "App");
    let applied = dry_run_apply(&client, &composition)
        .await
        .context("composition.yaml")?;
    assert_eq!(applied.data["spec"]["mode"], "Pipeline");
    assert_eq!(
        applied.data["spec"]["compositeTypeRef"],
        json!({"apiVersion": "example.docker.m.crossplane.io/v1alpha1", "kind": "App"})
    );

    // CEL runs: v2 definitions have no claims, and the same definition with one is refused.
    let mut claimed = definition.clone();
    claimed["spec"]["claimNames"] = json!({"kind": "AppClaim", "plural": "appclaims"});
    let refused = dry_run_apply(&client, &claimed).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| format!("{e:#}").contains("Claims aren't supported")),
        "a v2 definition with claimNames: {refused:?}"
    );
    Ok(())
}

/// A field path as function-patch-and-transform reads it: `a.b[0].c[some/key]`.
fn field_path(path: &str) -> Vec<Segment> {
    let mut out = vec![];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            // A key in brackets may hold dots and slashes: `[crossplane.io/composite]`.
            let end = after.find(']').unwrap_or(after.len());
            let key = &after[..end];
            out.push(match key.parse::<usize>() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Field(key.to_string()),
            });
            rest = after.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Segment::Field(rest[..end].to_string()));
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    out
}

#[derive(Debug)]
enum Segment {
    Field(String),
    Index(usize),
}

fn get_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    field_path(path).iter().try_fold(value, |v, s| match s {
        Segment::Field(f) => v.get(f),
        Segment::Index(i) => v.get(i),
    })
}

fn set_path(value: &mut Value, path: &str, new: Value) -> anyhow::Result<()> {
    let mut at = value;
    for s in field_path(path) {
        at = match s {
            Segment::Field(f) => {
                if at.is_null() {
                    *at = json!({});
                }
                at.as_object_mut()
                    .with_context(|| format!("{path}: {f} is under a non-object"))?
                    .entry(f)
                    .or_insert(Value::Null)
            }
            Segment::Index(i) => at
                .get_mut(i)
                .with_context(|| format!("{path}: no element {i} in the base"))?,
        };
    }
    *at = new;
    Ok(())
}

/// The resources the Composition's patch-and-transform step composes for `xr`, as
/// Crossplane creates them: in the XR's namespace, generated names, the composite label
/// and the composition-resource-name annotation. Only the patch and transform types the
/// example uses are known; any other fails the test rather than being skipped.
fn compose(composition: &Value, xr: &Value) -> anyhow::Result<Vec<(String, Value)>> {
    let step = &composition["spec"]["pipeline"][0];
    anyhow::ensure!(
        step["functionRef"]["name"] == "function-patch-and-transform"
            && step["input"]["apiVersion"] == "pt.fn.crossplane.io/v1beta1"
            && step["input"]["kind"] == "Resources",
        "the pipeline's first step is not patch-and-transform Resources"
    );
    let xr_name = xr["metadata"]["name"]
        .as_str()
        .context("the XR has no name")?;
    let mut composed = vec![];
    for resource in step["input"]["resources"]
        .as_array()
        .context("no resources")?
    {
        let name = resource["name"]
            .as_str()
            .context("a resource without a name")?;
        let mut object = resource["base"].clone();
        for patch in resource["patches"].as_array().into_iter().flatten() {
            anyhow::ensure!(
                patch["type"] == "FromCompositeFieldPath",
                "{name}: patch type {} is not rendered here",
                patch["type"]
            );
            let from = patch["fromFieldPath"]
                .as_str()
                .context("no fromFieldPath")?;
            let to = patch["toFieldPath"].as_str().context("no toFieldPath")?;
            // A missing source leaves the base as it is (the default, Optional policy).
            let Some(mut value) = get_path(xr, from).cloned() else {
                continue;
            };
            for transform in patch["transforms"].as_array().into_iter().flatten() {
                anyhow::ensure!(
                    transform["type"] == "string" && transform["string"]["type"] == "Format",
                    "{name}: transform {transform} is not rendered here"
                );
                let fmt = transform["string"]["fmt"].as_str().context("no fmt")?;
                let input = match &value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                anyhow::ensure!(fmt.matches("%s").count() == 1, "{name}: fmt {fmt}");
                value = json!(fmt.replace("%s", &input));
            }
            set_path(&mut object, to, value)?;
        }
        // Crossplane names composed resources `<xr>-<random suffix>`.
        let generated = format!("{xr_name}-{}", &unique("g")[2..]);
        object["metadata"]["name"] = json!(generated);
        object["metadata"]["namespace"] = xr["metadata"]["namespace"].clone();
        object["metadata"]["labels"]["crossplane.io/composite"] = json!(xr_name);
        object["metadata"]["annotations"]["crossplane.io/composition-resource-name"] = json!(name);
        composed.push((name.to_string(), object));
    }
    Ok(composed)
}

#[tokio::test]
async fn what_the_composition_composes_from_the_example_app_becomes_ready_and_writes_its_connection_secret()
-> anyhow::Result<()> {
    // A provider of its own, watching only this namespace: the package test's provider
    // (from the image) must be the only one serving its namespace.
    let ns = TestNs::new_without_provider("composition").await?;
    let log = repo()
        .join("target/e2e")
        .join(format!("{}-provider.log", ns.name));
    let metrics = format!("127.0.0.1:{}", free_port()?);
    let _provider = own_provider(
        &["--namespace", &ns.name, "--metrics-address", &metrics],
        None,
        &log,
    )?;
    let composition = composition_file("composition.yaml")?;
    let mut app = composition_file("app.yaml")?;
    app["metadata"]["namespace"] = json!(ns.name);
    app["spec"]["image"] = json!(test_image());
    let xr = app["metadata"]["name"]
        .as_str()
        .context("no name")?
        .to_string();

    let composed = compose(&composition, &app)?;
    let names: BTreeMap<String, String> = composed
        .iter()
        .map(|(resource, o)| {
            (
                resource.clone(),
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        names.keys().collect::<Vec<_>>(),
        ["container", "network", "volume"],
        "the composition should compose a Container, a Network and a Volume"
    );
    for (_, object) in &composed {
        ns.apply(&object.to_string()).await?;
    }

    managed_ready(&ns.api::<Network>(), &names["network"]).await?;
    managed_ready(&ns.api::<Volume>(), &names["volume"]).await?;
    let container = managed_ready(&ns.api::<Container>(), &names["container"]).await?;
    // Its readiness checks (MatchCondition Ready=True) hold for each composed resource.
    for (resource, _) in &composed {
        let checks = composition["spec"]["pipeline"][0]["input"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == resource.as_str())
            .map(|r| r["readinessChecks"].clone())
            .unwrap_or_default();
        assert_eq!(
            checks,
            json!([{"type": "MatchCondition", "matchCondition": {"type": "Ready", "status": "True"}}]),
            "{resource}"
        );
    }
    // Joined to its own network and volume, found by the composite's label.
    let docker_name = container
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("crossplane.io/external-name"))
        .context("no external name")?
        .clone();
    let inspect = provider_docker_e2e::inspect(&docker_name)
        .await?
        .context("the composed container is not on the daemon")?;
    let networks = inspect
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default();
    let network = ns.api::<Network>().get(&names["network"]).await?;
    let network_name = network
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("crossplane.io/external-name"))
        .context("the network has no external name")?;
    assert!(networks.contains_key(network_name), "{networks:?}");

    // The connection Secret the Composition names after the App, with the keys
    // compositions read.
    let secrets = ns.api::<Secret>();
    let secret_name = format!("{xr}-connection");
    let secret = wait::value(DEADLINE, &format!("Secret {secret_name}"), || async {
        Ok(secrets.get_opt(&secret_name).await?)
    })
    .await?;
    let keys: BTreeSet<String> = secret.data.unwrap_or_default().into_keys().collect();
    for key in ["endpoint", "port", "port-8080-tcp", "ip"] {
        assert!(keys.contains(key), "{secret_name} lacks {key}: {keys:?}");
    }
    ns.finish().await
}

// --- safe-start ------------------------------------------------------------------------------

/// A process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `provider-docker run ARGS` (the workspace build), against the API server of
/// `kubeconfig` (default: the bench's), logging to `log`; killed when dropped.
fn own_provider(args: &[&str], kubeconfig: Option<&Path>, log: &Path) -> anyhow::Result<Child> {
    let out = std::fs::File::create(log)?;
    let mut command = Command::new(provider::binary());
    command
        .arg("run")
        .args(["--poll-interval", "30s"])
        .args(args)
        .env("RUST_LOG", "info,kube=warn")
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    if let Some(kubeconfig) = kubeconfig {
        command.env("KUBECONFIG", kubeconfig);
    }
    Ok(Child(command.spawn().with_context(|| {
        format!("starting {}", provider::binary().display())
    })?))
}

/// A free port on loopback, for a server of the test's own.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

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
    Ok(())
}
