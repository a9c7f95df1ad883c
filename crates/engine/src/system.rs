//! What a daemon says about itself: the health check behind a provider config's `Ready`.

use crate::{error::Result, pool::Daemon};

/// A daemon's version and resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DaemonFacts {
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub os: Option<String>,
    pub arch: Option<String>,
    pub cpus: Option<i64>,
    pub memory_bytes: Option<i64>,
}

/// Asks the daemon for its version and resources; fails if it does not answer in time.
pub async fn describe(daemon: &Daemon) -> Result<DaemonFacts> {
    let version = daemon
        .call(
            "version",
            "daemon",
            daemon.name(),
            daemon.timeout(),
            |d| async move { d.version().await },
        )
        .await?;
    let info = daemon
        .call(
            "info",
            "daemon",
            daemon.name(),
            daemon.timeout(),
            |d| async move { d.info().await },
        )
        .await?;
    Ok(DaemonFacts {
        version: version.version,
        api_version: version.api_version,
        os: version.os,
        arch: version.arch,
        cpus: info.ncpu,
        memory_bytes: info.mem_total,
    })
}
