//! `extends:`: a service inherits another's definition, from the same file or from
//! `file:` (read through the caller), merged by compose's rules; cycles are errors.

use serde_yaml_ng::{Mapping, Value};

use super::document::{Loader, MAX_NESTING, Vars};
use crate::error::Path;
use crate::merge::merge_service;
use crate::parse::fields::{Fields, string};
use crate::relpath::{is_remote, normalize, parent};
use crate::yaml::kind;

/// A service being resolved: its file and name.
type Frame = (String, String);

impl Loader<'_> {
    /// Resolves `extends` of every service in `services`, which belong to `file`.
    pub(super) fn resolve_extends(&mut self, file: &str, services: &mut Mapping, env: &Vars) {
        let names: Vec<String> = services
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect();
        for name in names {
            if let Some((_, incomplete)) =
                self.resolve_service(file, services, &name, env, &mut Vec::new())
                && incomplete
            {
                self.exempt.insert(name);
            }
        }
    }

    fn extends_target(&mut self, p: &Path, ext: &Value) -> Option<(String, Option<String>)> {
        match ext {
            Value::String(s) => Some((s.clone(), None)),
            Value::Mapping(_) => {
                let f = Fields::new(&mut self.ctx, p, ext, &["service", "file"], false)?;
                let service = f.with(&mut self.ctx, "service", string);
                if f.get("service").is_none() {
                    self.ctx
                        .error(p, "service: is required: the name of the service to extend");
                }
                let file = f.with(&mut self.ctx, "file", string);
                Some((service?, file))
            }
            other => {
                self.ctx.error(
                    p,
                    format!(
                        "must be a service name or a mapping with service: and file:, not {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn frame_name(&self, (file, name): &Frame, main_file: &str) -> String {
        if file == main_file {
            name.clone()
        } else {
            format!("{file}:{name}")
        }
    }

    /// The resolved definition of `name` and whether its chain hit a remote file.
    fn resolve_service(
        &mut self,
        file: &str,
        services: &mut Mapping,
        name: &str,
        env: &Vars,
        stack: &mut Vec<Frame>,
    ) -> Option<(Value, bool)> {
        let own = services.get(name)?.clone();
        let Some(ext) = own.get("extends").cloned() else {
            return Some((own, false));
        };
        let p = Path::root().key("services").key(name).key("extends");
        let frame: Frame = (file.to_owned(), name.to_owned());
        if stack.contains(&frame) {
            let main_file = stack.first().map(|f| f.0.clone()).unwrap_or_default();
            let mut chain: Vec<String> = stack
                .iter()
                .map(|f| self.frame_name(f, &main_file))
                .collect();
            chain.push(self.frame_name(&frame, &main_file));
            let first = stack.first().map(|f| f.1.clone()).unwrap_or_default();
            self.ctx.error(
                &Path::root().key("services").key(&first).key("extends"),
                format!("extends cycle: {}", chain.join(" -> ")),
            );
            return None;
        }
        if stack.len() >= MAX_NESTING {
            self.ctx.error(
                &p,
                format!("extends chains more than {MAX_NESTING} services deep"),
            );
            return None;
        }
        let (base_name, base_file) = self.extends_target(&p, &ext)?;
        stack.push(frame);
        let base = match base_file.map(|f| (normalize(&f), f)) {
            Some((_, written)) if is_remote(&written) => {
                self.ctx.unsupported(&p.key("file"), format!("{written:?} is a remote file; the provider does not fetch remote extends, so service {name:?} has only what is written here"));
                Some((Value::Null, true))
            }
            Some((path, _)) if path != file => {
                self.resolve_in_file(&p, &path, &base_name, env, stack)
            }
            _ => {
                if services.contains_key(base_name.as_str()) {
                    self.resolve_service(file, services, &base_name, env, stack)
                } else {
                    self.ctx.error(
                        &p,
                        format!("service {base_name:?} to extend is not defined in {file}"),
                    );
                    None
                }
            }
        };
        stack.pop();
        let (base, incomplete) = base?;
        let mut own = own;
        if let Value::Mapping(m) = &mut own {
            m.remove("extends");
        }
        let merged = merge_service(base, own);
        services.insert(name.into(), merged.clone());
        Some((merged, incomplete))
    }

    fn resolve_in_file(
        &mut self,
        p: &Path,
        path: &str,
        base_name: &str,
        env: &Vars,
        stack: &mut Vec<Frame>,
    ) -> Option<(Value, bool)> {
        if !self.cache.contains_key(path) {
            let Some(content) = self.reader.read(path) else {
                self.ctx
                    .error(&p.key("file"), format!("file {path:?} not found"));
                return None;
            };
            let doc = self.document(path, &content, env, &parent(path), false)?;
            self.cache.insert(path.to_owned(), doc);
        }
        let mut services = match self.cache.get(path).and_then(|d| d.get("services")) {
            Some(Value::Mapping(m)) => m.clone(),
            _ => Mapping::new(),
        };
        if !services.contains_key(base_name) {
            self.ctx.error(
                p,
                format!("service {base_name:?} to extend is not defined in {path}"),
            );
            return None;
        }
        self.resolve_service(path, &mut services, base_name, env, stack)
    }
}
