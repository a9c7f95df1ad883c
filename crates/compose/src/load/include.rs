//! `include:`: local files are loaded as sub-projects (relative paths against their own
//! project directory, their own `.env`) and merged in; remote ones are reported.

use serde_yaml_ng::{Mapping, Value};

use super::document::{Loader, MAX_NESTING, Vars};
use crate::dotenv::{self, DotenvFormat};
use crate::error::Path;
use crate::merge::merge_files;
use crate::parse::fields::{Fields, string, string_or_list};
use crate::relpath::{is_remote, join, parent};
use crate::yaml::kind;

struct Include {
    paths: Vec<String>,
    env_files: Vec<String>,
    project_directory: Option<String>,
}

impl Loader<'_> {
    fn include_entry(&mut self, p: &Path, item: &Value) -> Option<Include> {
        match item {
            Value::String(s) => Some(Include {
                paths: vec![s.clone()],
                env_files: Vec::new(),
                project_directory: None,
            }),
            Value::Mapping(_) => {
                let f = Fields::new(
                    &mut self.ctx,
                    p,
                    item,
                    &["path", "env_file", "project_directory"],
                    false,
                )?;
                let paths = f
                    .with(&mut self.ctx, "path", |c, p, v| {
                        Some(string_or_list(c, p, v))
                    })
                    .unwrap_or_default();
                if paths.is_empty() {
                    self.ctx
                        .error(p, "path: is required: the compose file(s) to include");
                    return None;
                }
                Some(Include {
                    paths,
                    env_files: f
                        .with(&mut self.ctx, "env_file", |c, p, v| {
                            Some(string_or_list(c, p, v))
                        })
                        .unwrap_or_default(),
                    project_directory: f.with(&mut self.ctx, "project_directory", string),
                })
            }
            other => {
                self.ctx.error(
                    p,
                    format!(
                        "must be a path or a mapping with path:, not {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    /// Variables of an included project: the includer's, plus its env files (or its
    /// `.env`) for names the includer does not set.
    fn include_vars(&mut self, p: &Path, env: &Vars, files: Vec<(String, bool)>) -> Vars {
        let mut vars = env.clone();
        for (path, required) in files {
            let Some(content) = self.reader.read(&path) else {
                if required {
                    self.ctx
                        .error(&p.key("env_file"), format!("file {path:?} not found"));
                }
                continue;
            };
            let lookup = |name: &str| vars.get(name).cloned();
            match dotenv::parse(&content, DotenvFormat::Compose, &lookup) {
                Ok(pairs) => {
                    for (k, v) in pairs {
                        vars.entry(k).or_insert(v);
                    }
                }
                Err(e) => self.ctx.error(&p.key("env_file"), format!("{path:?} {e}")),
            }
        }
        vars
    }

    /// Merges the includes of `file` into `doc`; an included resource may only repeat
    /// one of the includer's if it is identical.
    pub(super) fn resolve_includes(&mut self, file: &str, doc: &mut Mapping, env: &Vars) {
        let Some(include) = doc.remove("include") else {
            return;
        };
        let root = Path::root().key("include");
        let Value::Sequence(items) = include else {
            self.ctx
                .error(&root, format!("must be a list, not {}", kind(&include)));
            return;
        };
        let file_dir = parent(file);
        for (i, item) in items.iter().enumerate() {
            let p = root.index(i);
            let Some(inc) = self.include_entry(&p, item) else {
                continue;
            };
            if let Some(remote) = inc.paths.iter().find(|path| is_remote(path)) {
                self.ctx.unsupported(&p, format!("{remote:?} is a remote include; the provider does not fetch remote files: download it and include the local copy"));
                continue;
            }
            let paths: Vec<String> = inc.paths.iter().map(|path| join(&file_dir, path)).collect();
            if let Some(first) = paths.iter().find(|path| self.include_stack.contains(path)) {
                let chain = self.include_stack.join(" -> ");
                self.ctx
                    .error(&p, format!("include cycle: {chain} -> {first}"));
                continue;
            }
            if self.include_stack.len() >= MAX_NESTING {
                self.ctx.error(&p, format!("includes are nested more than {MAX_NESTING} deep; is a relative path including itself from a subdirectory?"));
                continue;
            }
            // `include_entry` never returns an empty path list, so `paths[0]` exists.
            let project_dir = match &inc.project_directory {
                Some(dir) => join(&file_dir, dir),
                None => parent(&paths[0]),
            };
            let env_files = if inc.env_files.is_empty() {
                vec![(join(&project_dir, ".env"), false)]
            } else {
                inc.env_files
                    .iter()
                    .map(|e| (join(&file_dir, e), true))
                    .collect()
            };
            let vars = self.include_vars(&p, env, env_files);
            let mut merged: Option<Mapping> = None;
            for path in &paths {
                let Some(content) = self.reader.read(path) else {
                    self.ctx
                        .error(&p, format!("included file {path:?} not found"));
                    merged = None;
                    break;
                };
                let Some(d) = self.document(path, &content, &vars, &project_dir, true) else {
                    merged = None;
                    break;
                };
                merged = Some(match merged {
                    None => d,
                    Some(base) => merge_files(base, d),
                });
            }
            if let Some(mut merged) = merged {
                self.import(doc, &mut merged, &paths[0]);
            }
        }
    }

    fn import(&mut self, doc: &mut Mapping, included: &mut Mapping, from: &str) {
        for key in ["services", "networks", "volumes", "secrets", "configs"] {
            let Some(Value::Mapping(incoming)) = included.remove(key) else {
                continue;
            };
            let target = doc
                .entry(key.into())
                .or_insert_with(|| Value::Mapping(Mapping::new()));
            if target.is_null() {
                *target = Value::Mapping(Mapping::new());
            }
            let Value::Mapping(target) = target else {
                continue;
            };
            for (name, def) in incoming {
                match target.get(&name) {
                    Some(existing) if *existing != def => {
                        let p = Path::root().key(key).key(name.as_str().unwrap_or_default());
                        self.ctx.error(&p, format!("is defined both here and in the included {from:?}; rename one of them"));
                    }
                    Some(_) => {}
                    None => {
                        target.insert(name, def);
                    }
                }
            }
        }
    }
}
