//! The provider under test: one process per test binary, started on first use with the
//! committed CRDs installed and a `default` ClusterProviderConfig for the bench daemon.
//! Its log goes to `target/e2e/<binary>-provider.log`, which tests may search.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use anyhow::Context as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api,
    api::{Patch, PatchParams},
};

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The provider binary: `PROVIDER_DOCKER_BIN`, or the workspace's debug build.
pub fn binary() -> PathBuf {
    std::env::var_os("PROVIDER_DOCKER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug/provider-docker"))
}

/// Where this test binary's provider writes its log.
pub fn log_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("e2e")
        .split('-')
        .next()
        .unwrap_or("e2e")
        .to_string();
    repo_root().join(format!("target/e2e/{stem}-provider.log"))
}

/// Applies every committed CRD and waits until each is established.
pub async fn install_crds(client: &kube::Client) -> anyhow::Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let dir = repo_root().join("package/crds");
    let mut names = vec![];
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let crd: CustomResourceDefinition =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&path)?)
                .with_context(|| format!("parsing {}", path.display()))?;
        let name = crd.metadata.name.clone().unwrap_or_default();
        crds.patch(
            &name,
            &PatchParams::apply("provider-docker-e2e").force(),
            &Patch::Apply(&crd),
        )
        .await
        .with_context(|| format!("applying {}", path.display()))?;
        names.push(name);
    }
    for name in names {
        crate::wait::until(
            Duration::from_secs(30),
            &format!("CRD {name} established"),
            || {
                let crds = crds.clone();
                let name = name.clone();
                async move {
                    let crd = crds.get(&name).await?;
                    Ok(crd
                        .status
                        .and_then(|s| s.conditions)
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "Established" && c.status == "True"))
                }
            },
        )
        .await?;
    }
    Ok(())
}

static STARTED: OnceLock<Result<(), String>> = OnceLock::new();

/// Where the suite's provider serves `/metrics`, `/healthz` and `/readyz`.
pub const METRICS_ADDRESS: &str = "127.0.0.1:18480";

/// Installs the CRDs and the `default` ClusterProviderConfig for the bench daemon.
pub async fn install() -> anyhow::Result<kube::Client> {
    let client = crate::kube_client().await?;
    install_crds(&client).await?;
    // Applied under a field manager of its own, so that applying an example's config
    // (which names no policy) leaves the policy the suite needs in place.
    let config = serde_json::json!({
        "apiVersion": "docker.m.crossplane.io/v1alpha1",
        "kind": "ClusterProviderConfig",
        "metadata": { "name": "default" },
        "spec": {
            "host": std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into()),
            "policy": {
                "allowedHostPaths": [std::env::temp_dir().to_string_lossy()],
                "allowedCapabilities": ["NET_BIND_SERVICE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"],
            },
        },
    });
    Api::<api::provider_config::ClusterProviderConfig>::all(client.clone())
        .patch(
            "default",
            &PatchParams::apply("provider-docker-e2e-harness").force(),
            &Patch::Apply(config),
        )
        .await
        .context("applying the default ClusterProviderConfig")?;
    Ok(client)
}

/// Makes sure CRDs, the default config and the suite's provider process are there.
pub async fn ensure() -> anyhow::Result<kube::Client> {
    let client = install().await?;
    let started = STARTED.get_or_init(|| {
        let log = log_path();
        let (tx, rx) = std::sync::mpsc::channel();
        // The provider dies with the thread that spawned it (PR_SET_PDEATHSIG), so that
        // thread lives as long as the test binary: no provider outlives its tests.
        std::thread::spawn(move || {
            match spawn(
                &[
                    "--poll-interval",
                    "30s",
                    "--metrics-address",
                    METRICS_ADDRESS,
                ],
                &log,
            ) {
                Ok(mut child) => {
                    let _ = tx.send(Ok(()));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
            }
        });
        rx.recv().unwrap_or_else(|e| Err(e.to_string()))
    });
    if let Err(e) = started {
        anyhow::bail!("the provider did not start: {e}");
    }
    Ok(client)
}

/// Starts `provider-docker run ARGS`, logging to `log`. The process gets SIGTERM when the
/// thread that called this ends (and so, at the latest, with the test binary).
pub fn spawn(args: &[&str], log: &std::path::Path) -> anyhow::Result<std::process::Child> {
    let bin = binary();
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: run `make build` (make test does) first",
        bin.display()
    );
    std::fs::create_dir_all(log.parent().unwrap_or(&repo_root()))?;
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let mut command = Command::new(&bin);
    command
        .arg("run")
        .args(args)
        .env(
            "RUST_LOG",
            // PROVIDER_DOCKER_E2E_LOG: other log filters when looking into a test.
            std::env::var("PROVIDER_DOCKER_E2E_LOG")
                .unwrap_or_else(|_| "info,provider_docker=debug,kube=warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    command
        .spawn()
        .map_err(|e| anyhow::anyhow!("spawning {}: {e}", bin.display()))
}
