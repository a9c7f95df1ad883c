//! `make bench`: every benchmark of issue #9 at full size, side by side with its baseline
//! on the bench (`make env-up`). Prints the table, writes the figures to `target/bench/`
//! and, after a run of all of them, puts the table into the README between its
//! `<!-- bench:begin -->` and `<!-- bench:end -->` markers.
//!
//! `cargo bench -p provider-docker-e2e --bench bench -- p1 p3` runs only those;
//! `BENCH_QUICK=1` runs the small round that `make test` runs.

use provider_docker_e2e::{
    bench::{self, Sizes},
    provider,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
    let dir = provider::repo_root().join("target/bench");
    let table = bench::run(sizes, &only, &dir).await?;
    println!("{table}");
    if !quick && only.is_empty() {
        let readme = provider::repo_root().join("README.md");
        let text = std::fs::read_to_string(&readme)?;
        match bench::splice(&text, &table) {
            Some(updated) => {
                std::fs::write(&readme, updated)?;
                eprintln!("[bench] README.md table updated");
            }
            None => eprintln!("[bench] README.md has no bench markers; table not copied"),
        }
    }
    Ok(())
}
