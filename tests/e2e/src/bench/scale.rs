//! P5: N managed resources (containers, networks and volumes in the ratio 8:1:1) spread
//! over several Docker daemons that the benchmark starts beside the bench: the time until
//! all are Ready, and the controller's memory.

use std::time::Instant;

use api::{container::Container, network::Network, volume::Volume};
use serde_json::json;

use super::{Outcome, Row, Sizes, Stage, secs, throughput::apply_all, track::Tracker};
use crate::test_image;

use crate::bench_daemons as daemons;

pub async fn run(sizes: &Sizes) -> anyhow::Result<Outcome> {
    let names: Vec<String> = (1..=sizes.p5_daemons)
        .map(|i| format!("scale{i}"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    daemons(&[&["start"][..], &refs].concat())?;
    let outcome = measure(sizes, &names).await;
    // Stopped, not removed: their data roots are empty again once the provider has
    // released everything, and a next run starts faster.
    daemons(&[&["stop"][..], &refs].concat())?;
    outcome
}

async fn measure(sizes: &Sizes, daemon_names: &[String]) -> anyhow::Result<Outcome> {
    let stage = Stage::new("p5", 18495).await?;
    for name in daemon_names {
        let socket = daemons(&["socket", name])?;
        stage
            .ns
            .provider_config(name, json!({ "host": socket }))
            .await?;
    }
    let (containers, networks, volumes) = (
        Tracker::start(stage.ns.api::<Container>()).await?,
        Tracker::start(stage.ns.api::<Network>()).await?,
        Tracker::start(stage.ns.api::<Volume>()).await?,
    );
    let n = sizes.p5_resources;
    let mut plan: Vec<(&'static str, String, serde_json::Value)> = Vec::with_capacity(n);
    for i in 0..n {
        let config =
            json!({ "kind": "ProviderConfig", "name": daemon_names[i % daemon_names.len()] });
        let (kind, spec) = match i % 10 {
            0 => ("Network", json!({})),
            1 => ("Volume", json!({})),
            _ => (
                "Container",
                json!({ "image": test_image(), "stopGracePeriod": "1s" }),
            ),
        };
        plan.push((
            kind,
            format!("{}-{i}", kind.to_lowercase()),
            json!({ "forProvider": spec, "providerConfigRef": config }),
        ));
    }
    let of = |kind: &str| -> Vec<String> {
        plan.iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, name, _)| name.clone())
            .collect()
    };
    let (c, nw, v) = (of("Container"), of("Network"), of("Volume"));
    let start = Instant::now();
    apply_all(&stage.ns, plan.clone().into_iter()).await?;
    let deadline = sizes.deadline(n);
    let last = [
        containers.all_ready(&c, deadline).await?,
        networks.all_ready(&nw, deadline).await?,
        volumes.all_ready(&v, deadline).await?,
    ]
    .into_iter()
    .max()
    .unwrap_or(start);
    let ready = last.duration_since(start);
    let memory = stage.controller.memory()?;
    drop((containers, networks, volumes));
    let deleted = stage.delete_all::<Container>(deadline).await?
        + stage.delete_all::<Network>(deadline).await?
        + stage.delete_all::<Volume>(deadline).await?;
    stage.finish().await?;

    let mb = |b: u64| b as f64 / 1e6;
    Ok(Outcome {
        rows: vec![Row {
            id: "p5",
            what: format!(
                "{n} resources ({} containers, {} networks, {} volumes) on {} daemons → all Ready",
                c.len(),
                nw.len(),
                v.len(),
                daemon_names.len()
            ),
            provider: format!("{}, RSS {:.1} MB", secs(ready), mb(memory.rss)),
            baseline: "—".into(),
            result: format!(
                "{:.0} resources/s; peak RSS {:.1} MB; all deleted in {}",
                n as f64 / ready.as_secs_f64().max(1e-9),
                mb(memory.peak_rss),
                secs(deleted)
            ),
            target: "—".into(),
            met: None,
        }],
        figures: json!({
            "resources": n,
            "containers": c.len(),
            "networks": nw.len(),
            "volumes": v.len(),
            "daemons": daemon_names.len(),
            "seconds_to_ready": ready.as_secs_f64(),
            "rss_bytes": memory.rss,
            "peak_rss_bytes": memory.peak_rss,
            "seconds_to_delete": deleted.as_secs_f64(),
        }),
    })
}
