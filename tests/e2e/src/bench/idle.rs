//! P4: the idle cost of N managed containers: once all are Ready and settled, the
//! controller's memory, its CPU over a window, and its Docker API calls per second (from
//! its own metrics).

use std::time::Instant;

use api::container::Container;
use serde_json::json;

use super::{Outcome, Row, Sizes, Stage, secs, throughput::apply_containers, track::Tracker};
use crate::metric;

pub async fn run(sizes: &Sizes) -> anyhow::Result<Outcome> {
    let n = sizes.p4_containers;
    let stage = Stage::new("p4", 18494).await?;
    let tracker = Tracker::start(stage.ns.api::<Container>()).await?;
    let names: Vec<String> = (0..n).map(|i| format!("i-{i}")).collect();
    let start = Instant::now();
    apply_containers(&stage.ns, &names, json!({})).await?;
    let ready = tracker
        .all_ready(&names, sizes.deadline(n))
        .await?
        .duration_since(start);
    drop(tracker);
    tokio::time::sleep(sizes.p4_settle).await;

    let calls = |text: &str| metric(text, "provider_docker_docker_api_calls_total", &[]);
    let reconciles = |text: &str| metric(text, "provider_docker_reconciles_total", &[]);
    let before = stage.scrape().await?;
    let cpu_before = stage.controller.cpu_time()?;
    let window_start = Instant::now();
    tokio::time::sleep(sizes.p4_window).await;
    let window = window_start.elapsed().as_secs_f64();
    let cpu = (stage.controller.cpu_time()? - cpu_before).as_secs_f64() / window;
    let after = stage.scrape().await?;
    let memory = stage.controller.memory()?;
    let calls_per_second = (calls(&after) - calls(&before)) / window;
    let reconciles_per_second = (reconciles(&after) - reconciles(&before)) / window;
    // Said before the cleanup, which may be slow, so that the figures are never lost.
    eprintln!(
        "[bench] p4: RSS {} bytes (peak {}), CPU {cpu:.5} of a core, {calls_per_second:.3} Docker calls/s",
        memory.rss, memory.peak_rss
    );
    stage.delete_all::<Container>(sizes.deadline(n)).await?;
    stage.finish().await?;

    let mb = |b: u64| b as f64 / 1e6;
    let met = mb(memory.rss) <= 40.0 && cpu <= 0.005 && calls_per_second <= 1.0;
    Ok(Outcome {
        rows: vec![Row {
            id: "p4",
            what: format!("idle with {n} managed containers, {window:.0} s window"),
            provider: format!(
                "RSS {:.1} MB, CPU {:.2} % of a core, {calls_per_second:.2} Docker calls/s",
                mb(memory.rss),
                cpu * 100.0
            ),
            baseline: "—".into(),
            result: format!(
                "peak RSS {:.1} MB; all Ready in {}",
                mb(memory.peak_rss),
                secs(ready)
            ),
            target: "≤ 40 MB, ≤ 0.5 %, ≤ 1 call/s".into(),
            met: Some(met),
        }],
        figures: json!({
            "containers": n,
            "seconds_to_ready": ready.as_secs_f64(),
            "window_seconds": window,
            "rss_bytes": memory.rss,
            "peak_rss_bytes": memory.peak_rss,
            "cpu_fraction_of_one_core": cpu,
            "docker_calls_per_second": calls_per_second,
            "reconciles_per_second": reconciles_per_second,
        }),
    })
}
