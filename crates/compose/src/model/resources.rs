//! Top-level volumes, secrets and configs, and the references services make to secrets
//! and configs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// A top-level named volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// The Docker name, when it is not derived from the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The volume driver, `local` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    /// The volume exists already and is not created or removed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub external: bool,
    /// Labels on the volume.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Where the content of a secret or config comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileSource {
    /// A file, relative paths resolved like the compose file's other paths.
    File(String),
    /// An environment variable of whoever converts the project.
    Environment(String),
    /// Inline content (configs only).
    Content(String),
    /// An object that exists outside the project (always `true`; a Swarm notion).
    External(bool),
}

/// A top-level secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// The name of the secret, when it differs from its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the content comes from.
    #[serde(flatten)]
    pub source: FileSource,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A top-level config: like a secret, but mounted world-readable at `/<name>` by default.
pub type Config = Secret;

/// A service's use of a secret or config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReference {
    /// The key of the top-level secret or config.
    pub source: String,
    /// Where it is mounted; `/run/secrets/<source>` or `/<source>` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Owner user id of the mounted file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Owner group id of the mounted file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// Permission bits of the mounted file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}
