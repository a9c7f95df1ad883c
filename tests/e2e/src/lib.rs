//! Helpers for end-to-end tests on the bench started by `make env-up`: clients for the
//! bench's API server and Docker daemon, the provider under test, a namespace per test,
//! and waits with deadlines.

pub mod bench;
pub mod controller;
pub mod observed;
pub mod provider;
pub mod wait;

use std::time::Duration;

use anyhow::Context;
use api::{CONDITION_READY, CONDITION_SYNCED, ConditionStatus, container::Container};
use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams},
    core::GroupVersionKind,
    discovery::{Scope, pinned_kind},
};

/// The generous deadline tests wait for behaviour with (timing targets live in benchmarks).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// How long a test namespace may take to go. Deletion goes through the controller
/// manager's namespace controller, whose retries back off for a minute and more after an
/// API server restart (chaos scenario 2), while the provider releases every resource.
const NAMESPACE_DEADLINE: Duration = Duration::from_secs(240);

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

/// A client for a Docker daemon at `host` (`unix:///path`), for checks on the bench's
/// other daemons.
pub fn docker_at(host: &str) -> anyhow::Result<bollard::Docker> {
    let path = host
        .strip_prefix("unix://")
        .with_context(|| format!("{host} is not a unix socket"))?;
    bollard::Docker::connect_with_unix(path, 60, bollard::API_DEFAULT_VERSION)
        .with_context(|| format!("connecting to the bench Docker daemon at {host}"))
}

/// A variable of `.bench/env`, which `make env-up` writes.
pub fn bench_env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| {
        format!("{name} is not set: run `make env-up` and `source .bench/env` first")
    })
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
        (std::process::id() ^ nanos) & 0xffffff,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Server-side applies every document of `yaml`; namespaced objects go into `namespace`
/// when given. Returns the applied objects.
pub async fn apply_yaml(
    client: &kube::Client,
    namespace: Option<&str>,
    yaml: &str,
) -> anyhow::Result<Vec<DynamicObject>> {
    let mut applied = vec![];
    for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
        let value = serde_yaml_ng::Value::deserialize(doc)?;
        if value.is_null() {
            continue;
        }
        let mut obj: DynamicObject = serde_yaml_ng::from_value(value)?;
        let types = obj
            .types
            .clone()
            .context("an object without apiVersion/kind")?;
        let gvk = GroupVersionKind::try_from(&types)?;
        let (resource, caps) = pinned_kind(client, &gvk).await?;
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Namespaced => {
                if let Some(ns) = namespace {
                    obj.metadata.namespace = Some(ns.to_string());
                }
                let ns = obj.namespace().unwrap_or_else(|| "default".into());
                Api::namespaced_with(client.clone(), &ns, &resource)
            }
            Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        let name = obj.name_any();
        let out = api
            .patch(
                &name,
                &PatchParams::apply("provider-docker-e2e").force(),
                &Patch::Apply(&obj),
            )
            .await
            .with_context(|| format!("applying {} {name}", types.kind))?;
        applied.push(out);
    }
    Ok(applied)
}

use serde::Deserialize as _;

/// A namespace of its own for one test; `finish` deletes it and waits until the provider
/// has released everything in it.
pub struct TestNs {
    pub name: String,
    pub client: kube::Client,
}

impl TestNs {
    /// Starts the provider if needed and makes a fresh namespace.
    pub async fn new(prefix: &str) -> anyhow::Result<Self> {
        let client = provider::ensure().await?;
        Self::create(client, prefix).await
    }

    /// A fresh namespace, for tests that run providers of their own.
    pub async fn new_without_provider(prefix: &str) -> anyhow::Result<Self> {
        let client = provider::install().await?;
        Self::create(client, prefix).await
    }

    async fn create(client: kube::Client, prefix: &str) -> anyhow::Result<Self> {
        let name = unique(prefix);
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": { "name": name, "labels": { "provider-docker.test/e2e": "true" } }
        }))?;
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await?;
        Ok(Self { name, client })
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    pub async fn apply(&self, yaml: &str) -> anyhow::Result<Vec<DynamicObject>> {
        apply_yaml(&self.client, Some(&self.name), yaml).await
    }

    /// Deletes the namespace and waits until it is gone: every managed resource in it has
    /// been finalized by the provider.
    pub async fn finish(self) -> anyhow::Result<()> {
        observed::keep(&self.client, &self.name).await?;
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        namespaces
            .delete(&self.name, &DeleteParams::default())
            .await?;
        wait::until(
            NAMESPACE_DEADLINE,
            &format!("namespace {} to go", self.name),
            || {
                let namespaces = namespaces.clone();
                let name = self.name.clone();
                async move { Ok(namespaces.get_opt(&name).await?.is_none()) }
            },
        )
        .await
    }
}

impl TestNs {
    /// Server-side applies a managed resource of `kind` (Container, Network, Volume) with
    /// `spec` into this namespace, as the test's own field manager.
    pub async fn apply_managed(
        &self,
        kind: &str,
        name: &str,
        spec: serde_json::Value,
    ) -> anyhow::Result<()> {
        let body = serde_json::json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1",
            "kind": kind,
            "metadata": { "name": name },
            "spec": spec,
        });
        let resource = kube::api::ApiResource {
            group: "docker.m.crossplane.io".into(),
            version: "v1alpha1".into(),
            api_version: "docker.m.crossplane.io/v1alpha1".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
        };
        Api::<DynamicObject>::namespaced_with(self.client.clone(), &self.name, &resource)
            .patch(
                name,
                &PatchParams::apply("e2e-test").force(),
                &Patch::Apply(body),
            )
            .await?;
        Ok(())
    }
}

impl TestNs {
    /// Applies a Secret of `type_` holding `data` (as stringData) in this namespace.
    pub async fn secret(
        &self,
        name: &str,
        type_: &str,
        data: serde_json::Value,
    ) -> anyhow::Result<()> {
        let body = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name}, "type": type_, "stringData": data,
        });
        self.apply(&body.to_string()).await?;
        Ok(())
    }

    /// Applies a namespaced ProviderConfig with `spec` in this namespace.
    pub async fn provider_config(&self, name: &str, spec: serde_json::Value) -> anyhow::Result<()> {
        let body = serde_json::json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": name}, "spec": spec,
        });
        self.apply(&body.to_string()).await?;
        Ok(())
    }
}

/// True when a managed resource of any kind is Synced and Ready (any generation).
pub fn is_ready<K: api::Managed>(r: &K) -> bool {
    let status = r.managed_status();
    [CONDITION_SYNCED, CONDITION_READY].iter().all(|t| {
        status
            .and_then(|s| s.condition(t))
            .is_some_and(|c| c.status == ConditionStatus::True)
    })
}

/// The status of a condition of a Container, if present and describing its generation.
pub fn condition(c: &Container, type_: &str) -> Option<(ConditionStatus, String, Option<String>)> {
    let status = c.status.as_ref()?;
    let cond = status.managed.condition(type_)?;
    (cond.observed_generation == c.metadata.generation)
        .then(|| (cond.status, cond.reason.clone(), cond.message.clone()))
}

/// Waits until the Container is Synced and Ready for its current generation.
pub async fn ready(api: &Api<Container>, name: &str) -> anyhow::Result<Container> {
    wait::value(
        DEADLINE,
        &format!("Container {name} to be Ready"),
        || async {
            let c = api.get(name).await?;
            let synced = condition(&c, CONDITION_SYNCED).map(|c| c.0);
            let ready = condition(&c, CONDITION_READY).map(|c| c.0);
            Ok(
                (synced == Some(ConditionStatus::True) && ready == Some(ConditionStatus::True))
                    .then_some(c),
            )
        },
    )
    .await
}

/// Waits until a managed resource of any kind is Synced and Ready (any generation).
pub async fn managed_ready<K: api::Managed>(api: &Api<K>, name: &str) -> anyhow::Result<K> {
    wait::value(
        DEADLINE,
        &format!("{} {name} to be Ready", K::kind(&())),
        || async {
            let r = api.get(name).await?;
            Ok(is_ready(&r).then_some(r))
        },
    )
    .await
}

/// Waits until a condition of the Container has the given status, returning its message.
pub async fn condition_becomes(
    api: &Api<Container>,
    name: &str,
    type_: &str,
    status: ConditionStatus,
) -> anyhow::Result<(String, String)> {
    wait::value(
        DEADLINE,
        &format!("Container {name} {type_}={status:?}"),
        || async {
            let c = api.get(name).await?;
            Ok(condition(&c, type_)
                .filter(|(s, _, _)| *s == status)
                .map(|(_, reason, message)| (reason, message.unwrap_or_default())))
        },
    )
    .await
}

/// Waits until a condition of the Container has the given status and a message holding
/// `needle`; returns the message. Transient failures on the way do not count.
pub async fn condition_says(
    api: &Api<Container>,
    name: &str,
    type_: &str,
    status: ConditionStatus,
    needle: &str,
) -> anyhow::Result<String> {
    wait::value(
        DEADLINE,
        &format!("Container {name} {type_}={status:?} saying {needle:?}"),
        || async {
            let c = api.get(name).await?;
            Ok(condition(&c, type_)
                .filter(|(s, _, m)| {
                    *s == status && m.as_deref().unwrap_or_default().contains(needle)
                })
                .and_then(|(_, _, m)| m))
        },
    )
    .await
}

/// `docker inspect` of a container by name or ID, `None` if it does not exist.
pub async fn inspect(
    name: &str,
) -> anyhow::Result<Option<bollard::models::ContainerInspectResponse>> {
    inspect_on(&docker()?, name).await
}

/// `docker inspect` on the daemon `docker` talks to.
pub async fn inspect_on(
    docker: &bollard::Docker,
    name: &str,
) -> anyhow::Result<Option<bollard::models::ContainerInspectResponse>> {
    match docker
        .inspect_container(
            name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
    {
        Ok(c) => Ok(Some(c)),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// How long one CLI call of a test may take before it is killed and fails: a hung call
/// (say `docker stop` waiting on a container the controller already restarted) must fail
/// the test, never stall the suite.
const CLI_TIMEOUT: &str = "180";

/// Runs `program args` under coreutils `timeout`; returns its stdout, trimmed when `trim`;
/// fails with its stderr, or says it timed out.
fn run_bounded(program: &std::path::Path, args: &[&str], trim: bool) -> anyhow::Result<String> {
    let out = std::process::Command::new("timeout")
        .args(["--kill-after=10", CLI_TIMEOUT])
        .arg(program)
        .args(args)
        .output()?;
    let shown = format!("{} {args:?}", program.display());
    anyhow::ensure!(
        out.status.code() != Some(124),
        "{shown} did not finish within {CLI_TIMEOUT} s"
    );
    anyhow::ensure!(
        out.status.success(),
        "{shown}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout)?;
    Ok(if trim {
        stdout.trim().to_string()
    } else {
        stdout
    })
}

/// Runs a command in a container with the docker CLI; returns its stdout.
pub fn exec(container: &str, cmd: &[&str]) -> anyhow::Result<String> {
    run_bounded(
        "docker".as_ref(),
        &[&["exec", container][..], cmd].concat(),
        false,
    )
}

/// Percentile `p` (0-100) of `values`, nearest rank; zero for none.
pub fn percentile(values: &[Duration], p: usize) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n => sorted[((n * p).div_ceil(100)).clamp(1, n) - 1],
    }
}

/// Runs `tests/bench/daemons.sh ARGS` (the bench's extra Docker daemons); returns its
/// stdout, trimmed; fails with its stderr.
pub fn bench_daemons(args: &[&str]) -> anyhow::Result<String> {
    run_bounded(
        &provider::repo_root().join("tests/bench/daemons.sh"),
        args,
        true,
    )
}

/// Runs the docker CLI with `args`; fails with its stderr.
pub fn docker_cli(args: &[&str]) -> anyhow::Result<String> {
    run_bounded("docker".as_ref(), args, false)
}

/// `GET path` on `address` (HTTP/1.0); returns the status code and body.
pub async fn http_get(address: &str, path: &str) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes())
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status")?;
    Ok((status, body.to_string()))
}

/// The sum of every sample of metric `name` whose labels include all of `labels`
/// (`key="value"` pairs) in a Prometheus text exposition.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}
