//! What a daemon says about itself: the health check behind a provider config's `Ready`.

use std::time::{Duration, Instant};

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

/// The daemon's facts as it told them within `max_age`, or else asked again. Configs are
/// reconciled whenever a resource starts or stops using them, hundreds of times while a
/// batch is applied; the daemon is asked at most once per `max_age` of those. The event
/// stream forgets the facts when it breaks, so an outage is seen at once.
pub async fn describe_recent(daemon: &Daemon, max_age: Duration) -> Result<DaemonFacts> {
    let recent = daemon
        .facts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .filter(|(at, _)| at.elapsed() < max_age)
        .map(|(_, facts)| facts.clone());
    if let Some(facts) = recent {
        return Ok(facts);
    }
    let facts = describe(daemon).await?;
    *daemon.facts.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), facts.clone()));
    Ok(facts)
}

impl Daemon {
    /// Drops the remembered facts: the next `describe_recent` asks the daemon.
    pub fn forget_facts(&self) {
        *self.facts.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
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
