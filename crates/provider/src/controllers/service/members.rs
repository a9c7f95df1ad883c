//! What a Service's member containers say, read from their child Containers: whether a
//! `depends_on` condition holds, and the worst-of summary that becomes the Service's Ready.

use api::{
    CONDITION_READY, CONDITION_STALLED, ConditionStatus, Managed, container::Container,
    service::MemberStatus,
};

/// A compose `depends_on` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Started,
    Healthy,
    CompletedSuccessfully,
}

/// Whether `child` (absent: not created yet) satisfies `gate`, for its current generation.
pub fn satisfied(gate: Gate, child: Option<&Container>) -> bool {
    let Some(child) = child else { return false };
    let at = child.at_provider();
    let state = at.and_then(|a| a.state.as_deref());
    let ready = is_true(child, CONDITION_READY);
    match gate {
        Gate::Started => matches!(state, Some("running" | "exited")) || ready,
        Gate::Healthy => ready && state == Some("running"),
        Gate::CompletedSuccessfully => {
            state == Some("exited") && at.and_then(|a| a.exit_code) == Some(0)
        }
    }
}

fn condition(child: &Container, type_: &str) -> Option<(ConditionStatus, Option<String>)> {
    let c = child.managed_status()?.condition(type_)?;
    // A condition about an older generation says nothing about the current spec.
    (c.observed_generation == child.metadata.generation).then(|| (c.status, c.message.clone()))
}

fn is_true(child: &Container, type_: &str) -> bool {
    condition(child, type_).is_some_and(|(s, _)| s == ConditionStatus::True)
}

/// One row of the member table.
pub fn row(
    service: &str,
    name: &str,
    child: Option<&Container>,
    waiting: Option<&str>,
) -> MemberStatus {
    let Some(child) = child else {
        return MemberStatus {
            service: service.into(),
            container: name.into(),
            state: Some(
                if waiting.is_some() {
                    "Waiting"
                } else {
                    "Absent"
                }
                .into(),
            ),
            ready: false,
            message: waiting.map(str::to_string),
            ..Default::default()
        };
    };
    let at = child.at_provider();
    let ready = condition(child, CONDITION_READY);
    let stalled = condition(child, CONDITION_STALLED).filter(|(s, _)| *s == ConditionStatus::True);
    MemberStatus {
        service: service.into(),
        container: name.into(),
        state: at.and_then(|a| a.state.clone()),
        health: at.and_then(|a| a.health.clone()),
        ready: ready
            .as_ref()
            .is_some_and(|(s, _)| *s == ConditionStatus::True),
        message: match (&stalled, &ready) {
            (Some((_, m)), _) => m.clone(),
            (None, Some((ConditionStatus::True, _))) => None,
            (None, Some((_, m))) => m.clone(),
            (None, None) => Some("not observed yet".into()),
        },
    }
}

/// Worst of: any failed member fails the Service; otherwise it is Ready only when every
/// member is (a one-shot member that completed successfully is Ready).
pub enum Summary {
    Ready,
    Progressing(String),
    Failed(String),
}

/// `failed`: members whose child says it cannot go on (Stalled, or exited non-zero
/// without restarting).
pub fn summarize(rows: &[MemberStatus], failed: &[String]) -> Summary {
    if !failed.is_empty() {
        return Summary::Failed(failed.join("; "));
    }
    match rows.iter().find(|r| !r.ready) {
        None => Summary::Ready,
        Some(r) => Summary::Progressing(format!(
            "{}/{} members ready; {} ({}): {}",
            rows.iter().filter(|r| r.ready).count(),
            rows.len(),
            r.container,
            r.service,
            r.message.as_deref().unwrap_or("not ready yet")
        )),
    }
}

/// Why a member has failed, if it has: its child is Stalled (the user must change
/// something), or it exited non-zero and will not be started again.
pub fn failure(name: &str, child: &Container) -> Option<String> {
    if let Some((ConditionStatus::True, message)) = condition(child, CONDITION_STALLED) {
        return Some(format!("{name}: {}", message.unwrap_or_default()));
    }
    let at = child.at_provider()?;
    let restarts = child
        .spec
        .for_provider
        .restart_policy
        .is_some_and(|p| p != api::container::RestartPolicy::No);
    match (at.state.as_deref(), at.exit_code) {
        (Some("exited"), Some(code)) if code != 0 && !restarts => {
            Some(format!("{name}: exited with code {code}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use api::container::ContainerObservation;

    use super::*;

    fn child(state: &str, exit_code: Option<i64>, ready: bool) -> Container {
        let mut c: Container = serde_json::from_value(serde_json::json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1", "kind": "Container",
            "metadata": {"name": "c", "generation": 1},
            "spec": {"forProvider": {"image": "x", "restartPolicy": "no"}},
            "status": {"conditions": [{
                "type": "Ready", "status": if ready {"True"} else {"False"},
                "reason": "x", "lastTransitionTime": "2026-01-01T00:00:00Z",
                "observedGeneration": 1
            }]}
        }))
        .unwrap();
        c.status.as_mut().unwrap().at_provider = Some(ContainerObservation {
            state: Some(state.into()),
            exit_code,
            ..Default::default()
        });
        c
    }

    #[test]
    fn depends_on_conditions_follow_compose() {
        let running = child("running", None, true);
        let starting = child("running", None, false);
        let done = child("exited", Some(0), true);
        let crashed = child("exited", Some(3), false);
        assert!(satisfied(Gate::Started, Some(&starting)));
        assert!(!satisfied(Gate::Healthy, Some(&starting)));
        assert!(satisfied(Gate::Healthy, Some(&running)));
        assert!(satisfied(Gate::CompletedSuccessfully, Some(&done)));
        assert!(!satisfied(Gate::CompletedSuccessfully, Some(&crashed)));
        assert!(!satisfied(Gate::Started, None));
    }

    #[test]
    fn any_failed_member_fails_the_service_and_completed_one_shots_do_not_block() {
        let done = child("exited", Some(0), true);
        let crashed = child("exited", Some(3), false);
        assert!(failure("migrate", &done).is_none());
        let why = failure("migrate", &crashed).unwrap();
        assert!(why.contains("exited with code 3"), "{why}");
        let rows = vec![
            row("migrate", "s-migrate-1", Some(&done), None),
            row("web", "s-web-1", Some(&child("running", None, true)), None),
        ];
        assert!(matches!(summarize(&rows, &[]), Summary::Ready));
        let rows = vec![row(
            "web",
            "s-web-1",
            None,
            Some("waiting for db to be healthy"),
        )];
        match summarize(&rows, &[]) {
            Summary::Progressing(m) => {
                assert!(m.contains("0/1") && m.contains("waiting for db"), "{m}")
            }
            _ => panic!("expected progressing"),
        }
        assert!(matches!(summarize(&rows, &[why]), Summary::Failed(_)));
    }
}
