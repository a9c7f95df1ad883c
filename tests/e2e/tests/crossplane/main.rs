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
//!
//! One binary (`main.rs` holds what its modules share): `package.rs`, `definitions.rs`,
//! `composition.rs`, `safe_start.rs`.

mod composition;
mod definitions;
mod package;
mod safe_start;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::Context as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api,
    api::{DynamicObject, Patch, PatchParams},
    core::GroupVersionKind,
};
use provider_docker_e2e::{DEADLINE, provider, wait};
use serde::Deserialize as _;
use serde_json::Value;
use tokio::sync::OnceCell;

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

// --- Crossplane's CRDs -----------------------------------------------------------------

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

// --- processes of the tests' own ---------------------------------------------------------

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
