//! What a service mounts: bind mounts, named and anonymous volumes, tmpfs and image
//! mounts, normalized from compose's short (`src:dst:ro,z`) and long syntaxes.

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// One mount of a service, tagged by `type` as in compose's long syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Mount {
    /// A host path.
    Bind(BindMount),
    /// A named volume, or an anonymous one when `source` is `None`.
    Volume(VolumeMount),
    /// A memory-backed filesystem.
    Tmpfs(TmpfsMount),
    /// The filesystem of an image.
    Image(ImageMount),
}

impl Mount {
    /// Where the mount appears inside the container.
    pub fn target(&self) -> &str {
        match self {
            Mount::Bind(m) => &m.target,
            Mount::Volume(m) => &m.target,
            Mount::Tmpfs(m) => &m.target,
            Mount::Image(m) => &m.target,
        }
    }
}

/// A host path mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindMount {
    /// The host path, relative paths resolved against the project directory when known.
    pub source: String,
    /// The absolute path inside the container.
    pub target: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Bind-specific options.
    #[serde(default, skip_serializing_if = "BindOptions::is_default")]
    pub bind: BindOptions,
}

/// Options of a bind mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindOptions {
    /// Mount propagation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Propagation>,
    /// Create the host path when missing (implied by the short syntax).
    #[serde(default, skip_serializing_if = "is_false")]
    pub create_host_path: bool,
    /// SELinux relabeling: `z` shared, `Z` private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux: Option<SeLinux>,
    /// Recursive read-only behaviour of sub-mounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursive: Option<Recursive>,
}

impl BindOptions {
    fn is_default(&self) -> bool {
        *self == BindOptions::default()
    }
}

/// Bind mount propagation modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// `shared`
    Shared,
    /// `slave`
    Slave,
    /// `private`
    Private,
    /// `rshared`
    Rshared,
    /// `rslave`
    Rslave,
    /// `rprivate`
    Rprivate,
}

impl Propagation {
    /// Parses a propagation mode as written in compose.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "shared" => Propagation::Shared,
            "slave" => Propagation::Slave,
            "private" => Propagation::Private,
            "rshared" => Propagation::Rshared,
            "rslave" => Propagation::Rslave,
            "rprivate" => Propagation::Rprivate,
            _ => return None,
        })
    }
}

/// SELinux relabeling of a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeLinux {
    /// `z`: content shared between containers.
    #[serde(rename = "z")]
    Shared,
    /// `Z`: content private to this container.
    #[serde(rename = "Z")]
    Private,
}

/// How read-only applies to sub-mounts of a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recursive {
    /// `enabled`
    Enabled,
    /// `disabled`
    Disabled,
    /// `writable`
    Writable,
    /// `readonly`
    Readonly,
}

/// A named or anonymous volume mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeMount {
    /// The key of a top-level volume, or `None` for an anonymous volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The absolute path inside the container.
    pub target: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Volume-specific options.
    #[serde(default, skip_serializing_if = "VolumeOptions::is_default")]
    pub volume: VolumeOptions,
}

/// Options of a volume mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeOptions {
    /// Do not copy the image's content into a new volume.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nocopy: bool,
    /// Mount this path inside the volume instead of its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    /// Labels for an anonymous volume created for this mount.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

impl VolumeOptions {
    fn is_default(&self) -> bool {
        *self == VolumeOptions::default()
    }
}

/// A tmpfs mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsMount {
    /// The absolute path inside the container.
    pub target: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Tmpfs-specific options.
    #[serde(default, skip_serializing_if = "TmpfsOptions::is_default")]
    pub tmpfs: TmpfsOptions,
}

/// Options of a tmpfs mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsOptions {
    /// Size limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// File mode of the mount's root, e.g. `0o1777`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

impl TmpfsOptions {
    fn is_default(&self) -> bool {
        *self == TmpfsOptions::default()
    }
}

/// An image's filesystem mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMount {
    /// The image reference.
    pub source: String,
    /// The absolute path inside the container.
    pub target: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Mount this path inside the image instead of its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
}

/// Where `volumes_from` takes mounts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VolumesFrom {
    /// The service or container.
    pub source: VolumesFromSource,
    /// Mount them read-only (`:ro`).
    pub read_only: bool,
}

/// The origin of `volumes_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumesFromSource {
    /// Another service of the project.
    Service(String),
    /// A container outside the project (`container:NAME`).
    Container(String),
}

impl std::str::FromStr for VolumesFrom {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a valid volumes_from entry; use SERVICE[:ro|:rw] or container:NAME[:ro|:rw]"
            )
        };
        let (container, rest) = match s.strip_prefix("container:") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (name, read_only) = match rest.rsplit_once(':') {
            Some((name, "ro")) => (name, true),
            Some((name, "rw")) => (name, false),
            Some(_) => return Err(bad()),
            None => (rest, false),
        };
        if name.is_empty() {
            return Err(bad());
        }
        let source = if container {
            VolumesFromSource::Container(name.to_owned())
        } else {
            VolumesFromSource::Service(name.to_owned())
        };
        Ok(VolumesFrom { source, read_only })
    }
}

impl TryFrom<String> for VolumesFrom {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<VolumesFrom> for String {
    fn from(v: VolumesFrom) -> String {
        let mut s = match v.source {
            VolumesFromSource::Service(name) => name,
            VolumesFromSource::Container(name) => format!("container:{name}"),
        };
        if v.read_only {
            s.push_str(":ro");
        }
        s
    }
}
