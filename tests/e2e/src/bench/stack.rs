//! P2: a Service of N members against `docker-compose up -d` on the equivalent compose
//! file (Debian's docker-compose 1.29; also docker compose v2 when `BENCH_COMPOSE_V2`
//! names its binary), on the same daemon, until every member runs.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use api::{container::Container, service::Service};
use serde_json::json;

use super::{
    CpuMark, Outcome, Row, Sizes, Stage, control_plane_cpu, cores, machine_busy, median, secs,
    shared_cores,
    throughput::{CONCURRENCY, RawRun, raw_loop},
    track::Tracker,
};
use crate::test_image;

pub async fn run(sizes: &Sizes, out: &std::path::Path) -> anyhow::Result<Outcome> {
    let n = sizes.p2_members;
    let compose = compose_file(n);
    let dir = out.join("p2");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("compose.yaml");
    std::fs::write(&file, &compose)?;

    let mut baselines = vec![Baseline {
        name: "docker-compose 1.29".into(),
        command: vec!["docker-compose".into()],
        seconds: vec![],
    }];
    if let Some(v2) = std::env::var("BENCH_COMPOSE_V2")
        .ok()
        .filter(|v| !v.is_empty())
    {
        baselines.push(Baseline {
            name: "docker compose v2".into(),
            command: vec![v2],
            seconds: vec![],
        });
    }

    let stage = Stage::new("p2", 18492).await?;
    let tracker = Tracker::start(stage.ns.api::<Service>()).await?;
    let members = Tracker::start(stage.ns.api::<Container>()).await?;
    let (mut ours, mut first_member, mut last_member) = (vec![], vec![], vec![]);
    let (mut raw, mut raw_cpu, mut raw_cp, mut ours_cpu) = (vec![], vec![], vec![], vec![]);
    for round in 0..sizes.rounds {
        for b in &mut baselines {
            let project = format!("{}-{round}-{}", stage.ns.name, b.seconds.len());
            b.seconds.push(b.up(&file, &project)?);
            b.down(&file, &project)?;
        }
        let (busy, cp) = (machine_busy(), control_plane_cpu());
        let run = raw_on_a_new_network(n, &format!("{}-{round}", stage.ns.name)).await?;
        raw.push(run.took);
        raw_cpu.push(run.busy_at_end.saturating_sub(busy));
        raw_cp.push(run.control_plane_at_end.saturating_sub(cp));
        tracker.clear();
        members.clear();
        let name = "stack".to_string();
        let cpu = CpuMark::now(&stage)?;
        let start = Instant::now();
        stage
            .ns
            .apply_managed(
                "Service",
                &name,
                json!({ "forProvider": { "compose": compose } }),
            )
            .await?;
        let last = tracker.all_ready(&[name], sizes.deadline(n)).await?;
        ours.push(last.duration_since(start));
        ours_cpu.push(cpu.since(&stage)?);
        if let Some((first, last)) = members.span() {
            first_member.push(first.duration_since(start));
            last_member.push(last.duration_since(start));
        }
        stage.delete_all::<Service>(sizes.deadline(n)).await?;
    }
    stage.finish().await?;

    let ours_median = median(&ours);
    let list = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).collect::<Vec<_>>();
    let mut rows = vec![];
    let mut figures = json!({
        "members": n,
        "provider_seconds": list(&ours),
        "seconds_to_first_member_status": list(&first_member),
        "seconds_to_last_member_ready": list(&last_member),
    });
    // What Docker itself needs for the same containers: the floor under every tool.
    let raw_median = median(&raw);
    rows.push(Row {
        id: "p2",
        what: format!("Service of {n} members → Ready"),
        provider: secs(ours_median),
        baseline: format!(
            "{} (bollard: network, then create+start, {CONCURRENCY} at once)",
            secs(raw_median)
        ),
        result: format!(
            "{:.2}×",
            ours_median.as_secs_f64() / raw_median.as_secs_f64().max(1e-9)
        ),
        target: "—".into(),
        met: None,
    });
    figures["raw_seconds"] = json!(list(&raw));
    // Whatever drives Docker, it must do this work: on a machine this small it is the floor
    // under every row, and a target below it cannot be met here by any tool.
    let docker_cpu = median(&raw_cpu).as_secs_f64();
    let floor = Duration::from_secs_f64(docker_cpu / cores());
    rows.push(Row {
        id: "p2",
        what: "Docker's floor: the machine's CPU for the raw loop, over its cores".into(),
        provider: "—".into(),
        baseline: format!(
            "{docker_cpu:.1} CPU-s / {} cores = {}",
            cores(),
            secs(floor)
        ),
        result: "—".into(),
        target: "—".into(),
        met: None,
    });
    figures["raw_cpu_seconds"] = json!(list(&raw_cpu));
    figures["floor_seconds"] = json!(floor.as_secs_f64());
    let (cpu_row, cpu_figures) = shared_cores("p2", raw_median, &raw_cp, &ours_cpu);
    rows.push(cpu_row);
    figures["cpu"] = cpu_figures;
    for b in &baselines {
        let theirs = median(&b.seconds);
        let ratio = ours_median.as_secs_f64() / theirs.as_secs_f64().max(1e-9);
        rows.push(Row {
            id: "p2",
            what: format!("Service of {n} members → Ready"),
            provider: secs(ours_median),
            baseline: format!("{} (`{} up -d`)", secs(theirs), b.name),
            result: format!("{ratio:.2}×"),
            target: format!("≤ 0.8× ({})", secs(theirs.mul_f64(0.8))),
            met: Some(ratio <= 0.8),
        });
        figures[&b.name] = json!({ "seconds": list(&b.seconds), "ratio": ratio });
    }
    Ok(Outcome { rows, figures })
}

/// A plain bollard loop making what the compose file asks for: a new network, then the
/// `n` containers on it; the time taken counts both. Everything is removed again.
async fn raw_on_a_new_network(n: usize, prefix: &str) -> anyhow::Result<RawRun> {
    let docker = crate::docker()?;
    let network = format!("{prefix}-raw");
    let start = Instant::now();
    docker
        .create_network(bollard::models::NetworkCreateRequest {
            name: network.clone(),
            ..Default::default()
        })
        .await?;
    // The loop's own figure leaves out removing its containers.
    let made = start.elapsed();
    let run = raw_loop(n, prefix, Some(&network)).await?;
    docker.remove_network(&network).await?;
    Ok(RawRun {
        took: made + run.took,
        ..run
    })
}

/// `n` services of the test image on the project's default network.
fn compose_file(n: usize) -> String {
    let mut out = String::from("services:\n");
    for i in 0..n {
        out.push_str(&format!(
            "  s{i}:\n    image: {}\n    stop_grace_period: 1s\n",
            test_image()
        ));
    }
    out
}

struct Baseline {
    name: String,
    command: Vec<String>,
    seconds: Vec<Duration>,
}

impl Baseline {
    fn compose(&self, file: &std::path::Path, project: &str, args: &[&str]) -> anyhow::Result<()> {
        let out = Command::new(&self.command[0])
            .args(&self.command[1..])
            .arg("-f")
            .arg(file)
            .args(["-p", project])
            .args(args)
            .output()
            .map_err(|e| anyhow::anyhow!("running {}: {e}", self.command[0]))?;
        anyhow::ensure!(
            out.status.success(),
            "{} {args:?}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// `up -d`, timed: the project runs when it returns.
    fn up(&self, file: &std::path::Path, project: &str) -> anyhow::Result<Duration> {
        let start = Instant::now();
        self.compose(file, project, &["up", "-d"])?;
        Ok(start.elapsed())
    }

    fn down(&self, file: &std::path::Path, project: &str) -> anyhow::Result<()> {
        self.compose(file, project, &["down", "--timeout", "1"])
    }
}
