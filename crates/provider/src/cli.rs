//! Command line: `run` (the controller) and `crds` (print every CRD). Every flag of `run`
//! has an environment-variable twin, for the Helm chart and the Crossplane package.

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "provider-docker",
    version,
    about = "Manage Docker daemons from Kubernetes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the controllers against the cluster in KUBECONFIG or the in-cluster config.
    Run(RunArgs),
    /// Print a Service manifest for a compose file; every compose field that cannot be
    /// carried is listed by path on stderr.
    Convert(ConvertArgs),
    /// Print every CRD as YAML, or write one file per CRD into a directory.
    Crds {
        /// Write `<group>_<plural>.yaml` files here instead of printing.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(clap::Args, Debug, Clone)]
pub struct ConvertArgs {
    /// The compose file; a `.env` beside it supplies interpolation variables.
    pub file: std::path::PathBuf,
    /// Name of the Service. Default: the file's `name:`, else its directory's name.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub namespace: Option<String>,
    /// `ClusterProviderConfig/NAME` or `ProviderConfig/NAME`.
    #[arg(long)]
    pub provider_config: Option<String>,
    /// Exit 1 when some field cannot be carried.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// How often each daemon's containers, networks and volumes are listed, as a safety
    /// net for Docker events that never came: resources whose object the lists show
    /// changed are reconciled (three calls per daemon, however many resources). Containers
    /// with `imagePullPolicy: Always` are checked against their registry this often too.
    /// Jittered by 10%.
    #[arg(long, env = "POLL_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// How often every resource is reconciled in full even when nothing says it changed
    /// (references resolved again, every field compared with inspect). Jittered by 10%.
    #[arg(long, env = "RESYNC_INTERVAL", default_value = "1h", value_parser = parse_duration)]
    pub resync_interval: Duration,
    /// Reconciles running at once, per kind. Docker calls are bounded per daemon apart
    /// (`--max-concurrent-operations`); this bound only keeps a flood of new resources from
    /// waiting long for their first status.
    #[arg(long, env = "MAX_RECONCILE_RATE", default_value_t = 256)]
    pub max_reconciles: u16,
    /// Docker API calls at once per daemon, unless its provider config says otherwise.
    #[arg(long, env = "MAX_CONCURRENT_OPERATIONS", default_value_t = 16)]
    pub max_concurrent_operations: usize,
    /// `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    #[arg(long, env = "METRICS_ADDRESS", default_value = "0.0.0.0:8080")]
    pub metrics_address: std::net::SocketAddr,
    /// Compete for a Lease and reconcile only while holding it (for several replicas).
    #[arg(long, env = "LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    /// Namespace of the Lease; default the pod's namespace (`POD_NAMESPACE`) or `default`.
    #[arg(long, env = "LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,
    /// Name of the Lease.
    #[arg(long, env = "LEADER_ELECTION_NAME", default_value = "provider-docker")]
    pub leader_election_name: String,
    /// Watch only this namespace's managed resources and provider configs (cluster-scoped
    /// configs are always watched). Default: every namespace.
    #[arg(long, env = "WATCH_NAMESPACE")]
    pub namespace: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    api::quantity::GoDuration::parse(s)
        .map(|d| d.0)
        .map_err(|e| e.to_string())
}
