//! Health checks and service dependencies: what "healthy" means for a container and
//! what a service waits for before it starts.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A container health check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// The check; `None` keeps the image's own; [`HealthTest::Disabled`] turns it off
    /// (`disable: true` and `test: [NONE]` both normalize to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<HealthTest>,
    /// Time between checks (Docker's default 30s when unset).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::opt_serde"
    )]
    pub interval: Option<Duration>,
    /// Time one check may take (default 30s).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::opt_serde"
    )]
    pub timeout: Option<Duration>,
    /// Failures in a row before the container is unhealthy (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Grace period after start during which failures do not count (default 0s).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::opt_serde"
    )]
    pub start_period: Option<Duration>,
    /// Time between checks during the start period.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::opt_serde"
    )]
    pub start_interval: Option<Duration>,
}

/// What a health check runs, serialized as compose's list form (`["CMD", …]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub enum HealthTest {
    /// `NONE`: no health check, not even the image's.
    Disabled,
    /// `CMD`: run the program with these arguments.
    Cmd(Vec<String>),
    /// `CMD-SHELL`: run the text with the container's shell.
    Shell(String),
}

impl TryFrom<Vec<String>> for HealthTest {
    type Error = String;

    fn try_from(list: Vec<String>) -> Result<Self, String> {
        match list.split_first() {
            Some((kind, _)) if kind == "NONE" => Ok(HealthTest::Disabled),
            Some((kind, args)) if kind == "CMD" && !args.is_empty() => {
                Ok(HealthTest::Cmd(args.to_vec()))
            }
            Some((kind, args)) if kind == "CMD-SHELL" && !args.is_empty() => {
                Ok(HealthTest::Shell(args.join(" ")))
            }
            _ => Err(format!(
                "{list:?} is not a health check; start with NONE, CMD or CMD-SHELL followed by the command"
            )),
        }
    }
}

impl From<HealthTest> for Vec<String> {
    fn from(t: HealthTest) -> Vec<String> {
        match t {
            HealthTest::Disabled => vec!["NONE".to_owned()],
            HealthTest::Cmd(args) => std::iter::once("CMD".to_owned()).chain(args).collect(),
            HealthTest::Shell(cmd) => vec!["CMD-SHELL".to_owned(), cmd],
        }
    }
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

/// What a service waits for from one of its dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The dependency's container has started.
    #[default]
    ServiceStarted,
    /// The dependency's health check reports healthy.
    ServiceHealthy,
    /// The dependency ran to completion with exit code 0.
    ServiceCompletedSuccessfully,
}

/// One entry of `depends_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// What to wait for.
    #[serde(default)]
    pub condition: Condition,
    /// Restart this service when the dependency is updated.
    #[serde(default, skip_serializing_if = "is_false")]
    pub restart: bool,
    /// When false, a missing or disabled dependency is skipped instead of an error.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
}

impl Default for Dependency {
    fn default() -> Self {
        Dependency {
            condition: Condition::ServiceStarted,
            restart: false,
            required: true,
        }
    }
}
