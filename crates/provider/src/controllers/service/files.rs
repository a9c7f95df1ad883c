//! The files a compose project reads besides itself (`env_file`, `label_file`,
//! `extends.file`, `include`, and the `file:` of secrets and configs), which a remote
//! controller cannot read from a disk: `spec.forProvider.envFiles` names a ConfigMap or
//! Secret key for each, by the path the compose file writes.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use api::{common::KeySelector, service::Service};
use compose::{FileReader, normalize_path};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, ResourceExt};

use crate::{
    context::Context,
    error::{Error, Result},
};

/// Where a file's content lives in the cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    ConfigMap(KeySelector),
    Secret(KeySelector),
}

/// One supplied file.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectFile {
    pub content: String,
    pub origin: Option<Origin>,
}

/// The supplied files by normalized path; reading them is all the compose loader may do.
#[derive(Debug, Default)]
pub struct ProjectFiles {
    files: BTreeMap<String, ProjectFile>,
    /// For `convert`, on the user's machine: read files missing from `files` under here.
    dir: Option<PathBuf>,
    /// Paths asked for, found or not (`convert` lists them).
    asked: RefCell<BTreeSet<String>>,
}

impl FileReader for ProjectFiles {
    fn read(&self, path: &str) -> Option<String> {
        self.get(path).map(|f| f.content)
    }
}

impl ProjectFiles {
    pub fn insert(&mut self, path: &str, file: ProjectFile) {
        self.files.insert(normalize_path(path), file);
    }

    /// Files read from `dir` (relative paths are relative to it), as `convert` needs.
    pub fn local(dir: &Path) -> Self {
        ProjectFiles {
            dir: Some(dir.to_path_buf()),
            ..Default::default()
        }
    }

    /// The file at `path` as the compose file writes it.
    pub fn get(&self, path: &str) -> Option<ProjectFile> {
        let path = normalize_path(path);
        self.asked.borrow_mut().insert(path.clone());
        if let Some(file) = self.files.get(&path) {
            return Some(file.clone());
        }
        let content = std::fs::read_to_string(self.dir.as_ref()?.join(&path)).ok()?;
        Some(ProjectFile {
            content,
            origin: None,
        })
    }

    /// Every path asked for.
    pub fn asked(&self) -> BTreeSet<String> {
        self.asked.borrow().clone()
    }

    /// Reads every `spec.forProvider.envFiles` entry from its ConfigMap or Secret.
    pub async fn fetch(ctx: &Context, mr: &Service) -> Result<Self> {
        let namespace = mr.namespace().unwrap_or_default();
        let mut files = ProjectFiles::default();
        for (i, source) in mr.spec.for_provider.env_files.iter().enumerate() {
            let field = format!("spec.forProvider.envFiles[{i}]");
            let (content, origin) = match (&source.config_map_key_ref, &source.secret_key_ref) {
                (Some(sel), _) => {
                    let map = Api::<ConfigMap>::namespaced(ctx.client.clone(), &namespace)
                        .get_opt(&sel.name)
                        .await
                        .map_err(|e| Error::kube(format!("read ConfigMap {}", sel.name), e))?;
                    let content = map.and_then(|c| c.data.unwrap_or_default().remove(&sel.key));
                    (content, Origin::ConfigMap(sel.clone()))
                }
                (None, Some(sel)) => {
                    let secret = Api::<Secret>::namespaced(ctx.client.clone(), &namespace)
                        .get_opt(&sel.name)
                        .await
                        .map_err(|e| Error::kube(format!("read Secret {}", sel.name), e))?;
                    let content = secret
                        .and_then(|s| s.data.unwrap_or_default().remove(&sel.key))
                        .map(|b| String::from_utf8_lossy(&b.0).into_owned());
                    (content, Origin::Secret(sel.clone()))
                }
                (None, None) => {
                    return Err(Error::Compose(format!(
                        "{field}: give configMapKeyRef or secretKeyRef for {}",
                        source.path
                    )));
                }
            };
            let (kind, sel) = match &origin {
                Origin::ConfigMap(sel) => ("ConfigMap", sel),
                Origin::Secret(sel) => ("Secret", sel),
            };
            let content = content.ok_or_else(|| {
                Error::Reference(format!(
                    "{field}: {kind} {} has no key {:?} in namespace {namespace}; create it or fix the reference for {}",
                    sel.name, sel.key, source.path
                ))
            })?;
            files.insert(
                &source.path,
                ProjectFile {
                    content,
                    origin: Some(origin),
                },
            );
        }
        Ok(files)
    }
}
