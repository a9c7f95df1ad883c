//! The entry point: [`load`] turns compose files (and the files they include, extend or
//! read env from, supplied by the caller) into a validated [`Project`].

mod document;
mod extends;
mod include;

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::{Mapping, Value};

use crate::error::{Ctx, Errors, Path, Unsupported};
use crate::merge::merge_files;
use crate::model::{Project, ServiceNetwork};
use crate::parse::{self, Env};
use crate::relpath::{normalize, parent};
use crate::validate::{self, Disabled};
use crate::yaml::strip_tags;
use document::Loader;

/// Reads the files a compose file refers to (`include`, `extends.file`, `env_file`,
/// `label_file`, an included project's `.env`). The crate does no I/O of its own.
///
/// `path` is normalized and `/`-separated. Relative paths share their root with the names
/// in [`LoadInput::files`]: give the main file by its bare name (`compose.yaml`) and that
/// root is the project directory. Absolute paths are passed as written. Paths written in
/// an included or extended file are already resolved against that file's directory (or
/// its include's `project_directory`). Return `None` when the file does not exist or
/// cannot be read.
pub trait FileReader {
    /// The content of `path`, or `None`.
    fn read(&self, path: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> FileReader for F {
    fn read(&self, path: &str) -> Option<String> {
        self(path)
    }
}

/// A reader with no files: every `include`, `extends.file` or `env_file` is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileReader for NoFiles {
    fn read(&self, _path: &str) -> Option<String> {
        None
    }
}

static NO_FILES: NoFiles = NoFiles;

/// One compose file given by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Its name relative to the project directory, normally just `compose.yaml`.
    pub name: String,
    /// Its text.
    pub content: String,
}

/// Everything [`load`] needs.
pub struct LoadInput<'a> {
    /// The main file first, then override files merged onto it in order (`-f a -f b`).
    pub files: Vec<SourceFile>,
    /// Where included, extended and env files come from.
    pub reader: &'a dyn FileReader,
    /// Variables for interpolation and for `environment` entries without a value
    /// (the caller merges the process environment and `.env` as it sees fit).
    pub environment: BTreeMap<String, String>,
    /// Active profiles; `*` activates all.
    pub profiles: Vec<String>,
    /// Absolute project directory: relative bind sources become absolute under it.
    /// Unset, they stay relative (`./data`).
    pub project_dir: Option<String>,
}

impl LoadInput<'static> {
    /// Input for one file with no other files, no variables and no profiles.
    pub fn new(name: impl Into<String>, content: impl Into<String>) -> Self {
        LoadInput {
            files: vec![SourceFile {
                name: name.into(),
                content: content.into(),
            }],
            reader: &NO_FILES,
            environment: BTreeMap::new(),
            profiles: Vec::new(),
            project_dir: None,
        }
    }
}

impl<'a> LoadInput<'a> {
    /// Reads referenced files with `reader`.
    pub fn with_reader<'b>(self, reader: &'b dyn FileReader) -> LoadInput<'b> {
        LoadInput {
            reader,
            files: self.files,
            environment: self.environment,
            profiles: self.profiles,
            project_dir: self.project_dir,
        }
    }

    /// Uses these variables for interpolation.
    pub fn with_environment(mut self, environment: BTreeMap<String, String>) -> Self {
        self.environment = environment;
        self
    }

    /// Activates these profiles.
    pub fn with_profiles(mut self, profiles: Vec<String>) -> Self {
        self.profiles = profiles;
        self
    }

    /// Adds an override file merged onto the files before it.
    pub fn with_override(mut self, name: impl Into<String>, content: impl Into<String>) -> Self {
        self.files.push(SourceFile {
            name: name.into(),
            content: content.into(),
        });
        self
    }

    /// Makes relative bind sources absolute under `dir`.
    pub fn with_project_dir(mut self, dir: impl Into<String>) -> Self {
        self.project_dir = Some(dir.into());
        self
    }
}

/// A loaded project and what the caller should tell the user about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The enabled services and the networks, volumes, secrets and configs.
    pub project: Project,
    /// The file's top-level `name:`, if any.
    pub name: Option<String>,
    /// Every field the provider cannot carry, by path.
    pub unsupported: Vec<Unsupported>,
    /// Things worth telling (unset variables, obsolete `version:`, ignored options).
    pub warnings: Vec<String>,
    /// Services left out because none of their profiles is active.
    pub disabled_services: Vec<String>,
}

fn enabled(profiles: &[String], active: &[String]) -> bool {
    profiles.is_empty() || active.iter().any(|a| a == "*" || profiles.contains(a))
}

/// Loads, merges, interpolates, parses and validates compose files. Every problem is
/// reported at once in [`Errors`]; nothing here panics or does I/O.
pub fn load(input: &LoadInput<'_>) -> Result<Loaded, Errors> {
    let Some(main) = input.files.first() else {
        return Err(Errors(vec![crate::Error {
            path: String::new(),
            message: "no compose file given".into(),
        }]));
    };
    let mut loader = Loader::new(input.reader, normalize(&main.name));
    let mut merged: Option<Mapping> = None;
    for file in &input.files {
        let name = normalize(&file.name);
        if let Some(doc) = loader.document(
            &name,
            &file.content,
            &input.environment,
            &parent(&name),
            true,
        ) {
            merged = Some(match merged {
                None => doc,
                Some(base) => merge_files(base, doc),
            });
        }
    }
    let (mut ctx, exempt) = loader.finish();
    let tree = match merged {
        Some(doc) if ctx.errors.is_empty() => {
            strip_tags(&mut ctx, &Path::root(), Value::Mapping(doc))
        }
        _ => None,
    };
    let Some(tree) = tree.filter(|_| ctx.errors.is_empty()) else {
        return Err(Errors(ctx.errors));
    };
    let env = Env {
        reader: input.reader,
        vars: &input.environment,
        project_dir: input.project_dir.as_deref(),
    };
    let (name, mut project) = parse::project(&mut ctx, &env, &tree);

    let mut disabled = Disabled::new();
    project.services.retain(|name, s| {
        let on = enabled(&s.profiles, &input.profiles);
        if !on {
            disabled.insert(name.clone(), s.profiles.clone());
        }
        on
    });
    let prefixes: Vec<String> = disabled
        .keys()
        .map(|n| Path::root().key("services").key(n).as_str().to_owned())
        .collect();
    ctx.unsupported.retain(|u| {
        !prefixes.iter().any(|p| {
            u.path == *p
                || u.path.starts_with(&format!("{p}."))
                || u.path.starts_with(&format!("{p}["))
        })
    });
    drop_optional_dependencies(&mut ctx, &mut project, &disabled);
    if project.services.is_empty() && disabled.is_empty() && ctx.errors.is_empty() {
        ctx.error(
            &Path::root().key("services"),
            "no services are defined; a compose file needs at least one service to run",
        );
    }
    validate::check(&mut ctx, &project, &disabled, &exempt);
    if !ctx.errors.is_empty() {
        return Err(Errors(ctx.errors));
    }
    attach_default_network(&mut project);
    Ok(Loaded {
        project,
        name,
        unsupported: ctx.unsupported,
        warnings: ctx.warnings,
        disabled_services: disabled.into_keys().collect(),
    })
}

/// `required: false` dependencies on services that are missing or disabled are dropped.
fn drop_optional_dependencies(ctx: &mut Ctx, project: &mut Project, disabled: &Disabled) {
    let names: BTreeSet<String> = project.services.keys().cloned().collect();
    for (name, s) in &mut project.services {
        s.depends_on.retain(|dep, d| {
            let keep = d.required || names.contains(dep);
            if !keep {
                let why = if disabled.contains_key(dep) {
                    "disabled"
                } else {
                    "not defined"
                };
                ctx.warn(
                    &Path::root()
                        .key("services")
                        .key(name)
                        .key("depends_on")
                        .key(dep),
                    format!("optional dependency is {why}; ignored"),
                );
            }
            keep
        });
    }
}

/// Services without `networks` or `network_mode` join `default`, which is then defined.
fn attach_default_network(project: &mut Project) {
    let mut uses_default = false;
    for s in project.services.values_mut() {
        if s.networks.is_empty() && s.network_mode.is_none() {
            s.networks
                .insert("default".to_owned(), ServiceNetwork::default());
        }
        uses_default |= s.networks.contains_key("default");
    }
    if uses_default {
        project.networks.entry("default".to_owned()).or_default();
    }
}
