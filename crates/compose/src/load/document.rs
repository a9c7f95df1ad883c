//! One compose file on its way into the project: parsed, interpolated, its paths rebased
//! onto the project directory, its includes merged in and its `extends` resolved.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::{Mapping, Value};

use super::FileReader;
use crate::error::Ctx;
use crate::relpath::rebase_file;
use crate::yaml::{interpolate_file, parse_file};

/// How deep includes and `extends` chains may nest: far beyond real files, and a bound on
/// paths that grow forever (`sub/x.yaml` including `sub/x.yaml` from inside `sub/`).
pub(crate) const MAX_NESTING: usize = 32;

/// How many files one load may read in all: includes branch, so depth alone does not
/// bound the work.
const MAX_FILES: usize = 256;

/// Variables for interpolation.
pub(crate) type Vars = BTreeMap<String, String>;

/// State shared by every file of one load.
pub(crate) struct Loader<'a> {
    pub(super) ctx: Ctx,
    pub(super) reader: &'a dyn FileReader,
    /// The main file, whose errors need no file name.
    main: String,
    /// Files being included, outermost first, to detect include cycles.
    pub(super) include_stack: Vec<String>,
    /// Parsed files referenced by `extends.file`, by path.
    pub(super) cache: BTreeMap<String, Mapping>,
    /// Services whose `extends` chain reaches a remote file (reported as unsupported).
    pub(super) exempt: BTreeSet<String>,
    /// Files parsed so far.
    files: usize,
}

impl<'a> Loader<'a> {
    /// A loader whose main file is `main` (normalized).
    pub(crate) fn new(reader: &'a dyn FileReader, main: String) -> Self {
        Loader {
            ctx: Ctx::default(),
            reader,
            main,
            include_stack: Vec::new(),
            cache: BTreeMap::new(),
            exempt: BTreeSet::new(),
            files: 0,
        }
    }

    /// The collected reports, and the services exempt from needing an image.
    pub(crate) fn finish(self) -> (Ctx, BTreeSet<String>) {
        (self.ctx, self.exempt)
    }

    /// Parses and interpolates `file` and rebases its paths from `base_dir`; with
    /// `resolve`, also merges its includes and resolves its `extends`. `None` after
    /// recording errors when the file cannot be used.
    pub(crate) fn document(
        &mut self,
        file: &str,
        content: &str,
        env: &Vars,
        base_dir: &str,
        resolve: bool,
    ) -> Option<Mapping> {
        self.files += 1;
        if self.files > MAX_FILES {
            if self.files == MAX_FILES + 1 {
                let message = format!(
                    "more than {MAX_FILES} files are included or extended; stopped at {file}"
                );
                self.ctx.error(&crate::error::Path::root(), message);
            }
            return None;
        }
        let mut doc = parse_file(&mut self.ctx, file, content)?;
        let before = self.ctx.errors.len();
        let lookup = |name: &str| env.get(name).cloned();
        interpolate_file(&mut self.ctx, &mut doc, &lookup);
        if self.ctx.errors.len() > before {
            if file != self.main {
                for e in &mut self.ctx.errors[before..] {
                    e.message.push_str(&format!(" (in {file})"));
                }
            }
            return None;
        }
        rebase_file(&mut doc, base_dir);
        if resolve {
            self.include_stack.push(file.to_owned());
            self.resolve_includes(file, &mut doc, env);
            self.include_stack.pop();
            if let Some(Value::Mapping(services)) = doc.get_mut("services") {
                let mut services = std::mem::take(services);
                self.resolve_extends(file, &mut services, env);
                doc.insert("services".into(), Value::Mapping(services));
            }
        }
        Some(doc)
    }
}
