//! provider-docker: the controller binary.

mod backoff;
mod cli;
mod coalesce;
mod config;
mod context;
mod controllers;
mod daemons;
mod error;
mod health;
mod inventory;
mod leader;
mod managed;
mod memory;
mod metrics;
mod recorder;
mod references;
mod routing;
mod run;
mod safe_start;
mod secrets;

use clap::Parser;
use cli::{Cli, Command, LogFormat};

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,kube=warn,hyper=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> anyhow::Result<()> {
    memory::limit_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run_command())
}

async fn run_command() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds { dir: None } => {
            print!("{}", api::crd::all_yaml()?);
            Ok(())
        }
        Command::Crds { dir: Some(dir) } => {
            std::fs::create_dir_all(&dir)?;
            for crd in api::crd::all() {
                std::fs::write(
                    dir.join(api::crd::file_name(&crd)),
                    api::crd::to_yaml(&crd)?,
                )?;
            }
            Ok(())
        }
        Command::Convert(args) => match controllers::service::convert(&args) {
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(2);
            }
        },
        Command::Run(args) => {
            init_logging(args.log_format);
            tokio::spawn(memory::trim_every(std::time::Duration::from_secs(30)));
            run::run(args).await
        }
    }
}
