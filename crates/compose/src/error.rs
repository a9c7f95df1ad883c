//! What loading reports back: errors that stop it, fields the provider cannot carry, and
//! the field paths (`services.web.ports[1]`) every report is attached to.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One problem with a compose file, attached to the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct Error {
    /// Where the problem is, e.g. `services.web.ports[1]`; empty for the file as a whole.
    pub path: String,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found while loading, not only the first one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, thiserror::Error)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    /// The individual errors, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Error> {
        self.0.iter()
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no error at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("no errors"),
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} errors in the compose file:", many.len())?;
                for error in many {
                    write!(f, "\n  {error}")?;
                }
                Ok(())
            }
        }
    }
}

/// A field the model understands but the provider cannot run; `convert` lists these.
///
/// Loading reports, by path:
/// - `services.<name>.build` (the provider runs images only; the section is kept in the
///   model) and `pull_policy: build`;
/// - service fields with no Docker-engine equivalent the provider carries: `develop`,
///   `provider`, `models`, `post_start`, `pre_stop`, `attach`, `use_api_socket`,
///   `credential_spec`, `links`, `external_links`, `blkio_config`, `cpu_count`,
///   `cpu_percent`, `cpu_rt_period`, `cpu_rt_runtime`, `device_cgroup_rules`,
///   `isolation`, `pull_refresh_after`;
/// - Swarm-only parts of `deploy`: `mode` other than `replicated`, `endpoint_mode`,
///   `labels`, `placement`, `update_config`, `rollback_config`, `restart_policy.delay`
///   and `.window`, `resources.reservations.generic_resources` (`restart_policy`
///   itself becomes the service's `restart` when that is unset);
/// - mounts of `type: cluster` or `type: npipe` (left out of `volumes`);
/// - `external` secrets and configs, and their `driver`, `driver_opts`, `template_driver`;
/// - remote references: `include` entries and `extends.file` that are URLs, `git@…` or
///   any other `scheme:` (the service keeps only what is written locally);
/// - the top-level `models`.
///
/// Fields of services disabled by profiles are not reported. Other things worth saying
/// but harmless (unset variables, `version:`, macOS-only volume consistency modes, a
/// missing optional `env_file`) are warnings in [`crate::Loaded::warnings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsupported {
    /// The field, e.g. `services.web.build`.
    pub path: String,
    /// Why the provider cannot carry it and what to do instead.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// A field path under construction, rendered the way users write them:
/// `services.web.ports[1]`, with odd keys quoted (`labels["com.example.team"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Path(String);

impl Path {
    /// The document root; its children render without a leading dot.
    pub(crate) fn root() -> Self {
        Path(String::new())
    }

    /// The child field `key`.
    pub(crate) fn key(&self, key: &str) -> Path {
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let mut s = self.0.clone();
        if plain {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(key);
        } else {
            s.push_str(&format!("[{key:?}]"));
        }
        Path(s)
    }

    /// The list item at `index`.
    pub(crate) fn index(&self, index: usize) -> Path {
        Path(format!("{}[{index}]", self.0))
    }

    /// The rendered path.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Collects errors, unsupported fields and warnings while a load runs, so that one pass
/// reports everything instead of stopping at the first problem.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub(crate) errors: Vec<Error>,
    pub(crate) unsupported: Vec<Unsupported>,
    pub(crate) warnings: Vec<String>,
}

impl Ctx {
    /// Records an error on `path`.
    pub(crate) fn error(&mut self, path: &Path, message: impl Into<String>) {
        self.errors.push(Error {
            path: path.as_str().to_owned(),
            message: message.into(),
        });
    }

    /// Records a field the provider cannot carry.
    pub(crate) fn unsupported(&mut self, path: &Path, reason: impl Into<String>) {
        self.unsupported.push(Unsupported {
            path: path.as_str().to_owned(),
            reason: reason.into(),
        });
    }

    /// Records a warning on `path`.
    pub(crate) fn warn(&mut self, path: &Path, message: impl AsRef<str>) {
        let line = if path.as_str().is_empty() {
            message.as_ref().to_owned()
        } else {
            format!("{path}: {}", message.as_ref())
        };
        if !self.warnings.contains(&line) {
            self.warnings.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_users_write_them() {
        let p = Path::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(1);
        assert_eq!(p.as_str(), "services.web.ports[1]");
        let l = Path::root().key("labels").key("com.example.team");
        assert_eq!(l.as_str(), "labels[\"com.example.team\"]");
    }

    #[test]
    fn errors_display_lists_every_error() {
        let errors = Errors(vec![
            Error {
                path: "services.a".into(),
                message: "one".into(),
            },
            Error {
                path: String::new(),
                message: "two".into(),
            },
        ]);
        let text = errors.to_string();
        assert!(text.contains("2 errors"));
        assert!(text.contains("services.a: one"));
        assert!(text.contains("\n  two"));
    }
}
