//! Checks across the whole project: every service has something to run, references to
//! networks, volumes, secrets, configs and services resolve, and `depends_on` has no cycle.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Ctx, Errors, Path};
use crate::model::{Mount, NetworkMode, Project, VolumesFromSource};

/// Services named in a check that exist but are disabled by profiles, by name, with the
/// profiles that would enable them.
pub(crate) type Disabled = BTreeMap<String, Vec<String>>;

fn service_ref(
    ctx: &mut Ctx,
    project: &Project,
    disabled: &Disabled,
    p: &Path,
    what: &str,
    target: &str,
) {
    if project.services.contains_key(target) {
        return;
    }
    match disabled.get(target) {
        Some(profiles) => ctx.error(
            p,
            format!(
                "{what} service {target:?}, which is disabled; activate one of its profiles ({})",
                profiles.join(", ")
            ),
        ),
        None => ctx.error(
            p,
            format!("{what} service {target:?}, which is not defined"),
        ),
    }
}

fn namespace_ref(
    ctx: &mut Ctx,
    project: &Project,
    disabled: &Disabled,
    p: &Path,
    mode: Option<&str>,
) {
    if let Some(target) = mode.and_then(|m| m.strip_prefix("service:")) {
        service_ref(ctx, project, disabled, p, "refers to", target);
    }
}

/// Records every cross-reference problem of `project`. `exempt` services may lack an image
/// (their base came from a remote file that was reported as unsupported).
pub(crate) fn check(
    ctx: &mut Ctx,
    project: &Project,
    disabled: &Disabled,
    exempt: &BTreeSet<String>,
) {
    let services = Path::root().key("services");
    let mut container_names: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, s) in &project.services {
        let sp = services.key(name);
        if s.image.is_none() && s.build.is_none() && !exempt.contains(name) {
            ctx.error(
                &sp,
                "has neither image nor build; set image: to the image to run",
            );
        }
        if let Some(cn) = &s.container_name {
            if s.replicas() > 1 {
                ctx.error(
                    &sp.key("container_name"),
                    format!(
                        "{cn:?} cannot name {} replicas; remove container_name or run one replica",
                        s.replicas()
                    ),
                );
            }
            if let Some(other) = container_names.insert(cn, name) {
                ctx.error(
                    &sp.key("container_name"),
                    format!("{cn:?} is already the container name of service {other:?}"),
                );
            }
        }
        for net in s.networks.keys() {
            if net != "default" && !project.networks.contains_key(net) {
                ctx.error(
                    &sp.key("networks").key(net),
                    format!("network {net:?} is not defined; add it under the top-level networks:"),
                );
            }
        }
        if let Some(mode) = &s.network_mode {
            if !s.networks.is_empty() {
                ctx.error(
                    &sp.key("network_mode"),
                    "cannot be combined with networks:; use one of them",
                );
            }
            if let NetworkMode::Service(target) = mode {
                service_ref(
                    ctx,
                    project,
                    disabled,
                    &sp.key("network_mode"),
                    "refers to",
                    target,
                );
            }
        }
        namespace_ref(ctx, project, disabled, &sp.key("ipc"), s.ipc.as_deref());
        namespace_ref(ctx, project, disabled, &sp.key("pid"), s.pid.as_deref());
        for (i, m) in s.volumes.iter().enumerate() {
            if let Mount::Volume(v) = m
                && let Some(src) = &v.source
                && !project.volumes.contains_key(src)
            {
                ctx.error(&sp.key("volumes").index(i), format!("volume {src:?} is not defined; add it under the top-level volumes:, or write ./{src} for a directory"));
            }
        }
        for (i, vf) in s.volumes_from.iter().enumerate() {
            if let VolumesFromSource::Service(target) = &vf.source {
                service_ref(
                    ctx,
                    project,
                    disabled,
                    &sp.key("volumes_from").index(i),
                    "takes volumes from",
                    target,
                );
            }
        }
        for (key, defined) in [("secrets", &project.secrets), ("configs", &project.configs)] {
            let refs = if key == "secrets" {
                &s.secrets
            } else {
                &s.configs
            };
            for (i, r) in refs.iter().enumerate() {
                if !defined.contains_key(&r.source) {
                    let one = key.trim_end_matches('s');
                    ctx.error(
                        &sp.key(key).index(i),
                        format!(
                            "{one} {:?} is not defined; add it under the top-level {key}:",
                            r.source
                        ),
                    );
                }
            }
        }
        for (dep, d) in &s.depends_on {
            if project.services.contains_key(dep) || !d.required {
                continue;
            }
            service_ref(
                ctx,
                project,
                disabled,
                &sp.key("depends_on").key(dep),
                "depends on",
                dep,
            );
        }
    }
    if let Some(chain) = crate::graph::find_cycle(project) {
        let first = chain.first().cloned().unwrap_or_default();
        ctx.error(
            &services.key(&first).key("depends_on"),
            format!(
                "dependency cycle: {}; remove one of these depends_on entries",
                chain.join(" -> ")
            ),
        );
    }
}

impl Project {
    /// Checks the references between the parts of a project (for example one embedded in
    /// a resource and deserialized): services have an image or build, referenced networks,
    /// volumes, secrets, configs and services exist, and `depends_on` has no cycle.
    pub fn validate(&self) -> Result<(), Errors> {
        let mut ctx = Ctx::default();
        check(&mut ctx, self, &Disabled::new(), &BTreeSet::new());
        if ctx.errors.is_empty() {
            Ok(())
        } else {
            Err(Errors(ctx.errors))
        }
    }
}
