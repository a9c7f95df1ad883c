//! One small round of every benchmark of `make bench`, so that the harness cannot rot:
//! each runs end to end against its baseline and reports figures that describe the work
//! it did. No speed is asserted here (the figures are `make bench`'s to report).

use provider_docker_e2e::{
    bench::{self, ALL, Sizes},
    provider,
};

fn figures(dir: &std::path::Path, id: &str) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(format!("{id}.json")))?;
    Ok(serde_json::from_str::<serde_json::Value>(&text)?["figures"].clone())
}

fn positive(v: &serde_json::Value, key: &str) -> bool {
    v[key].as_f64().is_some_and(|x| x > 0.0)
}

#[tokio::test]
async fn every_benchmark_runs_a_quick_round_and_reports_what_it_measured() -> anyhow::Result<()> {
    let sizes = Sizes::quick();
    let dir = provider::repo_root().join("target/bench-quick");
    let _ = std::fs::remove_dir_all(&dir);
    let table = bench::run(sizes, &[], &dir).await?;
    for id in ALL {
        assert!(
            table.contains(&format!("| {} |", id.to_uppercase())),
            "the table has no row for {id}:\n{table}"
        );
    }

    let p1 = figures(&dir, "p1")?;
    assert_eq!(
        p1["provider_seconds"].as_array().map(Vec::len),
        Some(sizes.rounds)
    );
    assert_eq!(
        p1["raw_seconds"].as_array().map(Vec::len),
        Some(sizes.rounds)
    );
    assert!(positive(&p1, "ratio"), "p1: {p1}");
    assert!(positive(&p1, "first_status_gap_p99"), "p1: {p1}");
    // The CPU the run added: the control plane served its writes, the provider made them.
    assert!(
        positive(&p1["cpu"], "control_plane_cpu_seconds"),
        "p1: {p1}"
    );
    assert!(positive(&p1["cpu"], "provider_cpu_seconds"), "p1: {p1}");

    let p2 = figures(&dir, "p2")?;
    assert_eq!(p2["members"], sizes.p2_members);
    assert!(positive(&p2["docker-compose 1.29"], "ratio"), "p2: {p2}");
    // Docker's floor: the CPU the raw loop made the machine spend, over its cores.
    assert!(positive(&p2, "floor_seconds"), "p2: {p2}");
    assert!(
        positive(&p2["cpu"], "control_plane_cpu_seconds"),
        "p2: {p2}"
    );

    let p3 = figures(&dir, "p3")?;
    assert_eq!(p3["repairs"], sizes.p3_repairs);
    assert!(positive(&p3, "p50"), "p3: {p3}");

    let p4 = figures(&dir, "p4")?;
    assert_eq!(p4["containers"], sizes.p4_containers);
    assert!(positive(&p4, "rss_bytes"), "p4: {p4}");
    assert!(p4["docker_calls_per_second"].as_f64().is_some(), "p4: {p4}");

    let p5 = figures(&dir, "p5")?;
    assert_eq!(p5["resources"], sizes.p5_resources);
    assert_eq!(p5["daemons"], sizes.p5_daemons);
    assert!(positive(&p5, "seconds_to_ready"), "p5: {p5}");
    Ok(())
}

#[test]
fn the_table_replaces_only_what_stands_between_the_readme_markers() {
    let readme = "intro\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\noutro\n";
    let out = bench::splice(readme, "| new |\n").expect("markers are there");
    assert_eq!(
        out,
        "intro\n<!-- bench:begin -->\n| new |\n<!-- bench:end -->\noutro\n"
    );
    assert_eq!(bench::splice("no markers", "| new |\n"), None);
}
