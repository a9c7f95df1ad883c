//! Resource limits, replicas, restart and pull policies: how many containers a service
//! runs and within what bounds.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{format_duration, parse_duration};

/// The part of `deploy:` the provider runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Deploy {
    /// Number of containers; `scale:` takes the same value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Limits and reservations.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
}

/// Resource limits and reservations of each container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Hard limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceLimits>,
    /// Soft reservations and device requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceReservations>,
}

impl Resources {
    /// True when neither limits nor reservations are set.
    pub fn is_empty(&self) -> bool {
        self.limits.is_none() && self.reservations.is_none()
    }
}

/// Hard limits of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceLimits {
    /// CPUs, fractional (0.5 is half a core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Maximum number of processes; -1 for unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
}

/// Reservations of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceReservations {
    /// CPUs, fractional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Memory in bytes (a soft limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Devices such as GPUs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRequest>,
}

/// A request for devices such as GPUs (`gpus:` and `deploy.resources.reservations.devices`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRequest {
    /// Capabilities the devices must have, e.g. `gpu`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// How many devices; `None` with no `device_ids` means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<DeviceCount>,
    /// Specific device ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_ids: Vec<String>,
    /// The device driver, e.g. `nvidia`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub options: std::collections::BTreeMap<String, String>,
}

/// How many devices a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DeviceCount {
    /// A number of devices.
    Count(u32),
    /// `all`.
    All(AllDevices),
}

/// The word `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllDevices {
    /// `all`
    All,
}

/// When Docker restarts a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RestartPolicy {
    /// Never (compose's default).
    No,
    /// Always, also after the daemon restarts.
    Always,
    /// After a non-zero exit, at most `max_retries` times when set.
    OnFailure {
        /// Retry limit.
        max_retries: Option<u32>,
    },
    /// Always, unless it was stopped by hand.
    UnlessStopped,
}

impl FromStr for RestartPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a restart policy; use no, always, on-failure[:MAX_RETRIES] or unless-stopped"
            )
        };
        Ok(match s {
            "no" | "" => RestartPolicy::No,
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => RestartPolicy::OnFailure { max_retries: None },
            _ => match s.strip_prefix("on-failure:") {
                Some(n) => RestartPolicy::OnFailure {
                    max_retries: Some(n.parse().map_err(|_| bad())?),
                },
                None => return Err(bad()),
            },
        })
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
            RestartPolicy::OnFailure { max_retries: None } => f.write_str("on-failure"),
            RestartPolicy::OnFailure {
                max_retries: Some(n),
            } => write!(f, "on-failure:{n}"),
        }
    }
}

impl TryFrom<String> for RestartPolicy {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<RestartPolicy> for String {
    fn from(p: RestartPolicy) -> String {
        p.to_string()
    }
}

/// When the image is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PullPolicy {
    /// Pull every time.
    Always,
    /// Never pull; the image must be on the daemon.
    Never,
    /// Pull when missing (`missing`, `if_not_present`); the default.
    Missing,
    /// Build instead of pulling (not supported by the provider).
    Build,
    /// Pull when the local image is older than `pull_refresh_after`.
    Refresh,
    /// Pull when the last pull is older than this (`daily`, `weekly`, `every_12h`).
    Every(Duration),
}

impl FromStr for PullPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a pull policy; use always, never, missing, build, refresh, daily, weekly or every_<duration>"
            )
        };
        Ok(match s {
            "always" => PullPolicy::Always,
            "never" => PullPolicy::Never,
            "missing" | "if_not_present" => PullPolicy::Missing,
            "build" => PullPolicy::Build,
            "refresh" => PullPolicy::Refresh,
            "daily" => PullPolicy::Every(Duration::from_secs(86_400)),
            "weekly" => PullPolicy::Every(Duration::from_secs(7 * 86_400)),
            _ => {
                let every = s.strip_prefix("every_").ok_or_else(bad)?;
                let weeks = every.strip_suffix('w').and_then(|w| w.parse::<u64>().ok());
                match weeks {
                    Some(w) => PullPolicy::Every(Duration::from_secs(w * 7 * 86_400)),
                    None => PullPolicy::Every(parse_duration(every).map_err(|_| bad())?),
                }
            }
        })
    }
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullPolicy::Always => f.write_str("always"),
            PullPolicy::Never => f.write_str("never"),
            PullPolicy::Missing => f.write_str("missing"),
            PullPolicy::Build => f.write_str("build"),
            PullPolicy::Refresh => f.write_str("refresh"),
            PullPolicy::Every(d) => write!(f, "every_{}", format_duration(*d)),
        }
    }
}

impl TryFrom<String> for PullPolicy {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<PullPolicy> for String {
    fn from(p: PullPolicy) -> String {
        p.to_string()
    }
}
