//! The benchmarks of `make bench` (issue #9), run side by side with their baselines on the
//! same daemon: P1 throughput against a raw bollard loop, P2 a compose stack against
//! docker-compose, P3 drift repair, P4 idle cost, P5 scale over several daemons. Each
//! writes its figures to `target/bench/<id>.json`; [`run`] prints them as one markdown
//! table with the machine's details. Nothing here asserts a speed: the figures are reported.

mod drift;
mod idle;
mod scale;
mod stack;
mod throughput;
mod track;

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use kube::{Api, ResourceExt, api::DeleteParams, api::ListParams};
use serde::Serialize;
use serde_json::json;

use crate::{TestNs, controller::Controller, http_get, percentile, provider, wait};

/// How big each benchmark is: the sizes, or a quick round that proves the harness.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Sizes {
    /// Rounds of P1 and P2 (each round runs the baseline and the provider once).
    pub rounds: usize,
    pub p1_containers: usize,
    pub p2_members: usize,
    /// Out-of-band removals and kills in P3, over `p3_targets` containers.
    pub p3_repairs: usize,
    pub p3_targets: usize,
    pub p4_containers: usize,
    /// The idle window over which P4 measures, after `p4_settle`.
    pub p4_window: Duration,
    pub p4_settle: Duration,
    pub p5_resources: usize,
    pub p5_daemons: usize,
}

impl Sizes {
    /// The sizes issue #9 asks for.
    pub fn full() -> Self {
        Self {
            rounds: 3,
            p1_containers: 100,
            p2_members: 30,
            p3_repairs: 50,
            p3_targets: 10,
            p4_containers: 500,
            p4_window: Duration::from_secs(120),
            p4_settle: Duration::from_secs(30),
            p5_resources: 1000,
            p5_daemons: 4,
        }
    }

    /// One small round of everything, for `make test`.
    pub fn quick() -> Self {
        Self {
            rounds: 1,
            p1_containers: 8,
            p2_members: 4,
            p3_repairs: 4,
            p3_targets: 2,
            p4_containers: 10,
            p4_window: Duration::from_secs(10),
            p4_settle: Duration::from_secs(3),
            p5_resources: 24,
            p5_daemons: 2,
        }
    }

    /// A deadline for waits that scales with the work: generous, never a target.
    fn deadline(&self, resources: usize) -> Duration {
        Duration::from_secs(120 + resources as u64)
    }
}

/// One line of the table: what was measured, against what, and the target.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub id: &'static str,
    pub what: String,
    pub provider: String,
    pub baseline: String,
    pub result: String,
    pub target: String,
    /// Whether the target was met; `None` where there is no target.
    pub met: Option<bool>,
}

/// What one benchmark reports: its table rows and its figures.
pub struct Outcome {
    pub rows: Vec<Row>,
    pub figures: serde_json::Value,
}

/// The benchmarks by id, for selecting some on the command line.
pub const ALL: [&str; 5] = ["p1", "p2", "p3", "p4", "p5"];

/// Runs the selected benchmarks (all when `only` is empty) and writes `<id>.json`,
/// `machine.json` and `table.md` into `dir`. Returns the table.
pub async fn run(sizes: Sizes, only: &[String], dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir)?;
    let selected: Vec<&str> = ALL
        .into_iter()
        .filter(|id| only.is_empty() || only.iter().any(|o| o == id))
        .collect();
    anyhow::ensure!(
        !selected.is_empty(),
        "no benchmark named {only:?}; choose from {ALL:?}"
    );
    let client = provider::install().await?;
    let machine = machine(&client).await?;
    write_json(dir, "machine", &machine)?;
    let mut rows = vec![];
    for id in selected {
        eprintln!("[bench] {id}: starting");
        let outcome = match id {
            "p1" => throughput::run(&sizes).await,
            "p2" => stack::run(&sizes, dir).await,
            "p3" => drift::run(&sizes).await,
            "p4" => idle::run(&sizes).await,
            _ => scale::run(&sizes).await,
        }
        .with_context(|| format!("benchmark {id}"))?;
        write_json(
            dir,
            id,
            &json!({ "id": id, "sizes": sizes, "rows": outcome.rows, "figures": outcome.figures }),
        )?;
        eprintln!("[bench] {id}: {}", outcome.figures);
        rows.extend(outcome.rows);
    }
    let table = table(&machine, &rows);
    std::fs::write(dir.join("table.md"), &table)?;
    Ok(table)
}

/// `readme` with `table` between its `<!-- bench:begin -->` and `<!-- bench:end -->`
/// lines; `None` when it lacks them.
pub fn splice(readme: &str, table: &str) -> Option<String> {
    const BEGIN: &str = "<!-- bench:begin -->\n";
    const END: &str = "<!-- bench:end -->";
    let (head, rest) = readme.split_once(BEGIN)?;
    let (_, tail) = rest.split_once(END)?;
    Some(format!("{head}{BEGIN}{table}{END}{tail}"))
}

fn write_json(dir: &Path, name: &str, value: &impl Serialize) -> anyhow::Result<()> {
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(value)?,
    )?;
    Ok(())
}

/// The machine the figures come from.
async fn machine(client: &kube::Client) -> anyhow::Result<serde_json::Value> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let docker = crate::docker()?.version().await?;
    let kube = client.apiserver_version().await?;
    Ok(json!({
        "cpu": cpu,
        "cores": cores,
        "memory_gib": (memory_gib * 10.0).round() / 10.0,
        "kernel": kernel.trim(),
        "docker": format!("{} (API {})", docker.version.unwrap_or_default(), docker.api_version.unwrap_or_default()),
        "kubernetes": kube.git_version,
        "provider": provider::binary().display().to_string(),
        "date": jiff::Timestamp::now().strftime("%Y-%m-%d").to_string(),
    }))
}

/// CPU time the whole machine has spent busy so far (every process and the kernel): the
/// first line of `/proc/stat` less idle and iowait. Read around a piece of work,
/// it is the CPU that work needs, and that CPU over the cores the least wall time any tool
/// driving the same work could take here.
pub(crate) fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal; guest time is already inside user.
    let busy: f64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    Duration::from_secs_f64(busy / crate::controller::ticks_per_second())
}

/// The Kubernetes control plane on this machine, by `/proc/PID/comm` (which the kernel cuts
/// to 15 bytes): on the bench it shares the cores with Docker.
const CONTROL_PLANE: [&str; 3] = ["kube-apiserver", "etcd", "kube-controller"];

/// CPU time the control plane's processes have used so far. Read around a piece of work,
/// it is what serving the provider's (or anyone's) API calls cost on this machine.
pub(crate) fn control_plane_cpu() -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            let (command, cpu) = crate::controller::stat_cpu_time(&stat)?;
            CONTROL_PLANE.contains(&command).then_some(cpu)
        })
        .sum()
}

/// CPU readings taken around the provider's run: the control plane's and the provider's.
struct CpuMark {
    control_plane: Duration,
    provider: Duration,
}

impl CpuMark {
    fn now(stage: &Stage) -> anyhow::Result<Self> {
        Ok(Self {
            control_plane: control_plane_cpu(),
            provider: stage.controller.cpu_time()?,
        })
    }

    /// What was used since `self`.
    fn since(&self, stage: &Stage) -> anyhow::Result<Self> {
        let now = Self::now(stage)?;
        Ok(Self {
            control_plane: now.control_plane.saturating_sub(self.control_plane),
            provider: now.provider.saturating_sub(self.provider),
        })
    }
}

/// The row on what the provider's runs (`ours`) added to the cores Docker has to itself in
/// the raw loop (`raw_control_plane`: what the control plane used meanwhile). Docker keeps
/// every core busy in both, so each CPU-second the API server, etcd, the controller manager
/// and the provider add is taken from Docker: the raw loop plus that CPU over the cores is
/// what the provider's run can be expected to take here.
fn shared_cores(
    id: &'static str,
    raw: Duration,
    raw_control_plane: &[Duration],
    ours: &[CpuMark],
) -> (Row, serde_json::Value) {
    let raw_cp = median(raw_control_plane);
    let cp = median(&ours.iter().map(|m| m.control_plane).collect::<Vec<_>>());
    let provider = median(&ours.iter().map(|m| m.provider).collect::<Vec<_>>());
    let added = (cp + provider).saturating_sub(raw_cp);
    let expected = raw + added.div_f64(cores());
    let row = Row {
        id,
        what: "the CPU the run adds on this machine's shared cores".into(),
        provider: format!(
            "API server, etcd, controller manager {:.1} CPU-s; provider {:.1} CPU-s",
            cp.as_secs_f64(),
            provider.as_secs_f64()
        ),
        baseline: format!(
            "control plane {:.1} CPU-s in the raw loop",
            raw_cp.as_secs_f64()
        ),
        result: format!(
            "raw + {:.1} CPU-s / {} cores = {} ({:.2}× raw)",
            added.as_secs_f64(),
            cores(),
            secs(expected),
            expected.as_secs_f64() / raw.as_secs_f64().max(1e-9)
        ),
        target: "—".into(),
        met: None,
    };
    let figures = json!({
        "control_plane_cpu_seconds_raw": raw_cp.as_secs_f64(),
        "control_plane_cpu_seconds": cp.as_secs_f64(),
        "provider_cpu_seconds": provider.as_secs_f64(),
        "expected_seconds": expected.as_secs_f64(),
    });
    (row, figures)
}

/// The machine's cores, as the floor of a CPU-bound piece of work divides by them.
pub(crate) fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// The markdown table: the machine, then one line per row.
fn table(machine: &serde_json::Value, rows: &[Row]) -> String {
    let m = |k: &str| {
        machine[k]
            .as_str()
            .map_or(machine[k].to_string(), String::from)
    };
    let mut out = format!(
        "Measured {} on {} cores ({}), {} GiB, Linux {}, Docker {}, Kubernetes {}.\n\n",
        m("date"),
        m("cores"),
        m("cpu"),
        m("memory_gib"),
        m("kernel"),
        m("docker"),
        m("kubernetes"),
    );
    out.push_str("| | Benchmark | provider-docker | Baseline | Result | Target | Met |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.id.to_uppercase(),
            r.what,
            r.provider,
            r.baseline,
            r.result,
            r.target,
            met
        ));
    }
    out
}

/// Seconds with two decimals, for the table.
fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The median of `values`.
fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// A namespace and a provider of the benchmark's own, as a user runs it (default flags,
/// release build under `make bench`), ready to reconcile.
struct Stage {
    ns: TestNs,
    controller: Controller,
    metrics: String,
}

impl Stage {
    async fn new(id: &str, port: u16) -> anyhow::Result<Self> {
        let ns = TestNs::new_without_provider(&format!("bench-{id}")).await?;
        let controller = Controller::start_with(&ns.name, port, &[])?;
        let metrics = format!("127.0.0.1:{port}");
        wait::until(
            Duration::from_secs(60),
            "the provider to be ready",
            || async {
                Ok(http_get(&metrics, "/readyz")
                    .await
                    .is_ok_and(|(s, _)| s == 200))
            },
        )
        .await?;
        Ok(Self {
            ns,
            controller,
            metrics,
        })
    }

    /// The provider's metrics, as text.
    async fn scrape(&self) -> anyhow::Result<String> {
        Ok(http_get(&self.metrics, "/metrics").await?.1)
    }

    /// Deletes every resource of kind `K` in the namespace and waits until the provider
    /// has released them all; returns how long that took.
    async fn delete_all<K: api::Managed>(&self, deadline: Duration) -> anyhow::Result<Duration> {
        let api: Api<K> = self.ns.api();
        let start = std::time::Instant::now();
        let names: Vec<String> = api
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .map(|r| r.name_any())
            .collect();
        for name in &names {
            api.delete(name, &DeleteParams::background()).await?;
        }
        wait::until(
            deadline,
            &format!("every {} to go", K::kind(&())),
            || async { Ok(api.list(&ListParams::default()).await?.items.is_empty()) },
        )
        .await?;
        Ok(start.elapsed())
    }

    /// Stops the provider after deleting the namespace (which it finalizes).
    async fn finish(self) -> anyhow::Result<()> {
        self.controller.assert_no_panic();
        self.ns.finish().await
    }
}
