//! What is special about a Service: its "external object" is the set of child Containers,
//! Networks and Volumes it owns, each with a reconcile loop of its own. Observing compares
//! the children with the plan the compose project expands to; creating and updating apply
//! the missing or changed ones (a member only once its `depends_on` conditions hold) and
//! remove the ones no longer planned; Ready is the worst of the members.

mod children;
mod container_spec;
mod convert;
mod files;
mod invalid;
mod members;
mod plan;

use std::{collections::BTreeMap, sync::Arc};

use futures::{StreamExt, TryStreamExt};

use api::service::{MemberStatus, Service, ServiceObservation};
use engine::observe::Readiness;
use kube::ResourceExt;

use children::{Applied, Child, ChildKind, Existing};
use members::Summary;
pub use plan::Plan;

use crate::{
    context::Context,
    error::Result,
    managed::{Connector, External, Observation, Target},
};

pub use convert::convert;

pub struct ServiceConnector;

pub struct ServiceExternal {
    client: kube::Client,
    namespace: String,
    service: Arc<Service>,
    /// Absent while deleting: removal needs only the children's labels.
    plan: Option<Plan>,
}

impl Connector<Service> for ServiceConnector {
    type External = ServiceExternal;

    async fn connect(
        &self,
        ctx: &Context,
        mr: &Service,
        target: Target,
    ) -> Result<ServiceExternal> {
        let namespace = mr.namespace().unwrap_or_default();
        let plan = match target.deleting {
            true => None,
            false => {
                let plan =
                    plan::load(ctx, mr, &target.external_name, &target.config.endpoint).await?;
                refuse_what_the_policy_forbids(&plan, &target).await?;
                Some(plan)
            }
        };
        Ok(ServiceExternal {
            client: ctx.client.clone(),
            namespace,
            service: Arc::new(mr.clone()),
            plan,
        })
    }
}

/// The config's tenancy policy, checked on every child before any is made: a Service whose
/// one member the policy refuses makes nothing at all, not its networks either. Members
/// may share each other's namespaces (they are this namespace's); any other container or
/// named volume they share is judged by who holds it on the daemon.
async fn refuse_what_the_policy_forbids(plan: &Plan, target: &Target) -> Result<()> {
    let (policy, config) = (&target.config.policy, &target.config.key);
    let namespace = &target.owner.namespace;
    let members: Vec<String> = plan
        .children
        .iter()
        .filter(|c| c.kind == ChildKind::Container)
        .map(|c| c.docker_name.clone())
        .collect();
    let mut refusals = Vec::new();
    let mut missing = Vec::new();
    // Members mostly share the same networks and volumes: each is asked about once.
    let mut asked = engine::policy::Asked::default();
    for child in &plan.children {
        let unreadable =
            |e: serde_json::Error| crate::error::Error::Compose(format!("{}: {e}", child.origin));
        let found = match child.kind {
            ChildKind::Container => {
                let p = serde_json::from_value(child.for_provider.clone()).map_err(unreadable)?;
                let networks = engine::policy::attached_networks(&p, &Default::default());
                let daemon = &target.config.daemon;
                let facts =
                    engine::policy::look_up(daemon, &p, &networks, namespace, &members, &mut asked)
                        .await?;
                let sharing =
                    engine::policy::sharing_violations(&p, &facts, policy, config, namespace);
                missing.extend(sharing.missing);
                let mut found = engine::policy::container_violations(&p, policy, config);
                found.extend(sharing.refusals);
                found
            }
            ChildKind::Volume => {
                let p = serde_json::from_value(child.for_provider.clone()).map_err(unreadable)?;
                engine::policy::volume_violations(&p, policy, config)
            }
            ChildKind::Network => Vec::new(),
        };
        refusals.extend(
            found
                .iter()
                .map(|r| invalid::in_compose_terms(&child.origin, child.kind, r)),
        );
    }
    if !refusals.is_empty() {
        refusals.dedup();
        return Err(crate::error::Error::Policy(format!(
            "{}; nothing of the project was made; ask the config's owner to allow it, or remove it from the compose file",
            refusals.join("; ")
        )));
    }
    missing.dedup();
    match missing.is_empty() {
        true => Ok(()),
        false => Err(crate::error::Error::Waiting(missing.join("; "))),
    }
}

/// What to change among the children.
pub struct Changes {
    /// Missing or changed children whose dependencies allow them now.
    apply: Vec<Applied>,
    /// Every missing or changed child, waiting ones too: validated before any is applied.
    validate: Vec<Applied>,
    remove: Vec<(ChildKind, String)>,
}

impl ServiceExternal {
    /// Compares the plan with the children: what to apply (missing or changed, members
    /// only once their dependencies allow), what to remove, and the member table.
    fn compare(
        &self,
        plan: &Plan,
        existing: &Existing,
    ) -> (Changes, Vec<MemberStatus>, Vec<String>) {
        let mut apply = Vec::new();
        let mut validate = Vec::new();
        let mut rows = Vec::new();
        let mut failed = Vec::new();
        for child in &plan.children {
            let manifest = child.manifest(&self.service);
            let current = existing.meta(child.kind, &child.name);
            let waiting = match current {
                Some(_) => None,
                None => waiting_for(child, existing),
            };
            let stale = current.is_none_or(|meta| !Child::is_current(&manifest, meta));
            let applied = Applied {
                kind: child.kind,
                origin: child.origin.clone(),
                manifest,
            };
            if stale && waiting.is_none() {
                apply.push(applied.clone());
            }
            if stale {
                validate.push(applied);
            }
            if let Some(member) = &child.member {
                let container = existing.containers.get(&child.name);
                rows.push(members::row(
                    member,
                    &child.name,
                    container,
                    waiting.as_deref(),
                ));
                if let Some(why) = container.and_then(|c| members::failure(&child.name, c)) {
                    failed.push(why);
                }
            }
        }
        let planned: Vec<(ChildKind, &str)> = plan
            .children
            .iter()
            .map(|c| (c.kind, c.name.as_str()))
            .collect();
        let remove = existing
            .not_deleting()
            .into_iter()
            .filter(|(kind, name)| !planned.contains(&(*kind, name.as_str())))
            .collect();
        (
            Changes {
                apply,
                validate,
                remove,
            },
            rows,
            failed,
        )
    }

    async fn sync(&self, changes: &Changes) -> Result<String> {
        // The API server's own admission, asked first of every child (a dry run stores
        // nothing), so that a child it refuses leaves the project as it was, networks too,
        // and the message names the compose field rather than the child's.
        let mut refusals = Vec::new();
        let validations: Vec<_> = changes
            .validate
            .iter()
            .map(|child| children::apply(&self.client, &self.namespace, child, true))
            .collect();
        let validated: Vec<Result<()>> = futures::stream::iter(validations)
            .buffered(APPLY_CONCURRENCY)
            .collect()
            .await;
        for result in validated {
            match result {
                Err(crate::error::Error::Compose(why)) => refusals.push(why),
                other => other?,
            }
        }
        if !refusals.is_empty() {
            return Err(crate::error::Error::Compose(format!(
                "{}; nothing of the project was changed; fix the compose file",
                refusals.join("; ")
            )));
        }
        let mut done = Vec::new();
        // Children are independent objects (a member waits for its network itself), so
        // they are applied together: a project of thirty is one round trip, not thirty.
        let applies: Vec<_> = changes
            .apply
            .iter()
            .map(|child| children::apply(&self.client, &self.namespace, child, false))
            .collect();
        futures::stream::iter(applies)
            .buffered(APPLY_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        for child in &changes.apply {
            done.push(format!("applied {:?} {}", child.kind, child.name()));
        }
        for (kind, name) in &changes.remove {
            children::delete(&self.client, &self.namespace, *kind, name).await?;
            done.push(format!("removed {kind:?} {name}"));
        }
        Ok(done.join("; "))
    }

    async fn existing(&self) -> Result<Existing> {
        Existing::list(&self.client, &self.namespace, &self.service.name_any()).await
    }
}

/// Children applied (or validated) at once.
const APPLY_CONCURRENCY: usize = 16;

/// What a member not created yet still waits for, if anything.
fn waiting_for(child: &Child, existing: &Existing) -> Option<String> {
    let pending: Vec<String> = child
        .depends_on
        .iter()
        .filter(|(name, _, gate)| !members::satisfied(*gate, existing.containers.get(name)))
        .map(|(_, service, gate)| {
            let what = match gate {
                members::Gate::Started => "to start",
                members::Gate::Healthy => "to be healthy",
                members::Gate::CompletedSuccessfully => "to complete successfully",
            };
            format!("{service} {what}")
        })
        .collect();
    (!pending.is_empty()).then(|| format!("waiting for {}", pending.join(", ")))
}

impl External<Service> for ServiceExternal {
    type Diff = Changes;

    async fn observe(&self) -> Result<Observation<ServiceObservation, Changes>> {
        let existing = self.existing().await?;
        let Some(plan) = &self.plan else {
            // Deleting: only whether children remain matters.
            let mut observed = Observation::absent();
            observed.exists = !existing.is_empty();
            return Ok(observed);
        };
        if existing.is_empty() {
            return Ok(Observation::absent());
        }
        let (changes, rows, failed) = self.compare(plan, &existing);
        let ready = rows.iter().filter(|r| r.ready).count();
        let readiness = match members::summarize(&rows, &failed) {
            Summary::Ready if self.service.spec.for_provider.suspend => {
                Readiness::Available(Some(format!("suspended: {} members stopped", rows.len())))
            }
            Summary::Ready => {
                Readiness::Available(Some(format!("{ready}/{} members ready", rows.len())))
            }
            Summary::Progressing(m) => Readiness::Creating(m),
            Summary::Failed(m) => Readiness::Unavailable(m),
        };
        let mut connection = BTreeMap::new();
        for child in plan.children.iter().filter(|c| c.member.is_some()) {
            let Some(at) = existing
                .containers
                .get(&child.name)
                .and_then(|c| api::Managed::at_provider(c).cloned())
            else {
                continue;
            };
            let prefix = child.name.clone();
            for (key, value) in engine::observe::connection_details(&at, &plan.endpoint) {
                connection.insert(format!("{prefix}-{key}"), value);
            }
        }
        let unchanged = changes.apply.is_empty() && changes.remove.is_empty();
        Ok(Observation {
            exists: true,
            diff: (!unchanged).then_some(changes),
            at_provider: Some(ServiceObservation {
                project: Some(plan.project.clone()),
                summary: Some(format!("{ready}/{}", rows.len())),
                members: rows,
                unsupported: plan.unsupported.clone(),
            }),
            readiness,
            connection,
            late_init: None,
        })
    }

    async fn create(&self) -> Result<()> {
        let Some(plan) = &self.plan else {
            return Ok(());
        };
        let (changes, _, _) = self.compare(plan, &self.existing().await?);
        self.sync(&changes).await?;
        Ok(())
    }

    async fn update(&self, changes: &Changes) -> Result<String> {
        self.sync(changes).await
    }

    async fn delete(&self) -> Result<()> {
        let existing = self.existing().await?;
        for (kind, name) in existing.not_deleting() {
            children::delete(&self.client, &self.namespace, kind, &name).await?;
        }
        Ok(())
    }
}
