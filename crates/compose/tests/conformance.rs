//! Conformance with compose-go's own loader fixtures: every fixture either loads or fails
//! for the reason compose itself gives, and a few loaded projects are checked in detail.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{fixtures, load_fixture};
use provider_docker_compose::{Errors, HealthTest, Loaded, Mount};

/// What a fixture must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Load without error.
    Loads,
    /// Load, reporting a remote reference as unsupported.
    ReportsRemote,
    /// Fail with an error message containing this text.
    Fails(&'static str),
}

/// Fixtures that do not simply load, and why.
const SPECIAL: &[(&str, Expect)] = &[
    // The known-invalid cases the reference README lists.
    (
        "loader/testdata/compose-depends-on-cycle.yaml",
        Expect::Fails("cycle"),
    ),
    // Byte-identical to the cycle case (upstream too), so a cycle as well.
    (
        "loader/testdata/compose-depends-on-profile-no-cycle.yaml",
        Expect::Fails("cycle"),
    ),
    (
        "loader/testdata/compose-depends-on-self.yaml",
        Expect::Fails("cycle"),
    ),
    (
        "loader/testdata/compose-include-cycle.yaml",
        Expect::Fails("cycle"),
    ),
    ("loader/testdata/empty.yaml", Expect::Fails("empty")),
    // compose-go loads these through a test loader for the `remote:` scheme; here they
    // are remote references, reported as unsupported.
    (
        "loader/testdata/remote/cycle/compose.yaml",
        Expect::ReportsRemote,
    ),
    (
        "loader/testdata/remote/cycle/compose-cycle.yaml",
        Expect::ReportsRemote,
    ),
    (
        "loader/testdata/remote/nested/compose.yaml",
        Expect::ReportsRemote,
    ),
    // A library of base services, not a project: `with-port` and `nil` have no image,
    // which `docker compose config` rejects the same way when it is loaded on its own.
    (
        "loader/testdata/extends/base.yaml",
        Expect::Fails("has neither image nor build"),
    ),
    // Meant to be included with project_directory: ../subdir (include/project-directory.yaml);
    // on its own its env_file extra.env does not exist, which compose reports too.
    (
        "loader/testdata/include/dir/compose.yaml",
        Expect::Fails("extra.env\" not found"),
    ),
];

fn expectation(rel: &str) -> Expect {
    SPECIAL
        .iter()
        .find(|(f, _)| *f == rel)
        .map(|(_, e)| *e)
        .unwrap_or(Expect::Loads)
}

/// Loads with a deadline, so that a hang is a failure rather than a stuck test run.
fn load_with_deadline(rel: &str) -> Result<Result<Loaded, Errors>, String> {
    let (tx, rx) = mpsc::channel();
    let name = rel.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(load_fixture(&name));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .map_err(|_| "did not finish within 30s (or panicked)".to_owned())
}

fn check(rel: &str, expect: Expect) -> Result<(), String> {
    let outcome = load_with_deadline(rel)?;
    match (expect, outcome) {
        (Expect::Loads, Ok(_)) => Ok(()),
        (Expect::ReportsRemote, Ok(loaded)) => {
            if loaded
                .unsupported
                .iter()
                .any(|u| u.reason.contains("remote"))
            {
                Ok(())
            } else {
                Err(format!(
                    "loaded but reported no remote reference: {:?}",
                    loaded.unsupported
                ))
            }
        }
        (Expect::Fails(text), Err(errors)) => {
            if errors.to_string().contains(text) {
                Ok(())
            } else {
                Err(format!("failed, but not with {text:?}: {errors}"))
            }
        }
        (Expect::Fails(text), Ok(_)) => Err(format!("loaded, expected a failure with {text:?}")),
        (_, Err(errors)) => Err(format!("failed: {errors}")),
    }
}

#[test]
fn every_fixture_loads_or_fails_for_the_expected_reason() {
    let all = fixtures();
    let mut failures = Vec::new();
    for rel in &all {
        if let Err(why) = check(rel, expectation(rel)) {
            failures.push(format!("{rel}: {why}"));
        }
    }
    for (special, _) in SPECIAL {
        if !all.iter().any(|f| f == special) {
            failures.push(format!(
                "{special}: listed as a special case but not among the fixtures"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures had an unexpected outcome:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

fn loaded(rel: &str) -> Loaded {
    load_fixture(rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn build_sections_are_reported_not_fatal() {
    let l = loaded("loader/testdata/compose-test-with-version.yaml");
    assert_eq!(l.name.as_deref(), Some("compose-test-with-version"));
    assert!(
        l.unsupported.iter().any(|u| u.path == "services.web.build"),
        "{:?}",
        l.unsupported
    );
    assert!(
        l.warnings
            .iter()
            .any(|w| w.contains("version: is obsolete"))
    );
    let web = &l.project.services["web"];
    assert!(web.networks.contains_key("front") && web.networks.contains_key("default"));
    assert_eq!(
        l.project.services["other"].command,
        Some(vec!["top".to_owned()])
    );
}

#[test]
fn extends_from_another_file_reads_its_env_file_relative_to_that_file() {
    let l = loaded("loader/testdata/compose-test-extends.yaml");
    let s = &l.project.services["importer"];
    assert_eq!(s.image.as_deref(), Some("nginx"));
    assert_eq!(
        s.environment.get("SOURCE"),
        Some(&Some("extends".to_owned()))
    );
    assert_eq!(s.container_name.as_deref(), Some("imported"));
}

#[test]
fn include_merges_the_included_services() {
    let l = loaded("loader/testdata/compose-include.yaml");
    assert!(l.project.services.contains_key("bar") && l.project.services.contains_key("imported"));
    assert_eq!(
        l.project.services["bar"].environment.get("FOO"),
        Some(&Some("BAR".to_owned()))
    );
    let l = loaded("loader/testdata/include/project-directory.yaml");
    let s = &l.project.services["service"];
    assert_eq!(
        s.environment.get("SOURCE"),
        Some(&Some("extends".to_owned()))
    );
    match &s.volumes[0] {
        Mount::Bind(b) => assert_eq!(b.source, "../subdir/compose-test-extends-imported.yaml"),
        other => panic!("expected a bind mount, got {other:?}"),
    }
}

#[test]
fn reset_removes_an_inherited_command() {
    let l = loaded("loader/testdata/extends/reset.yaml");
    assert_eq!(
        l.project.services["init"].command,
        Some(vec!["sleep".to_owned(), "infinity".to_owned()])
    );
    assert_eq!(l.project.services["base"].command, None);
}

#[test]
fn dot_env_supplies_interpolation_variables() {
    let l = loaded("cli/testdata/simple/compose-with-variables.yaml");
    assert_eq!(
        l.project.services["simple"].ports[0]
            .published
            .map(|p| p.start()),
        Some(8000)
    );
    let l = loaded("cli/testdata/env-file/compose-with-env-files.yaml");
    let s = &l.project.services["simple"];
    assert_eq!(
        s.environment.get("DEFAULT_PORT"),
        Some(&Some("9090".to_owned()))
    );
    let l = loaded("cli/testdata/simple/compose-name.yaml");
    assert_eq!(l.name.as_deref(), Some("test--test"));
    assert!(l.warnings.iter().any(|w| w.contains("\"TEST\" is not set")));
}

#[test]
fn nested_extends_across_directories_resolve() {
    let l = loaded("loader/testdata/extends/withdir/compose.yaml");
    assert_eq!(
        l.project.services["test"].image.as_deref(),
        Some("hello-world")
    );
    let l = loaded("loader/testdata/combined/compose.yaml");
    assert!(
        l.unsupported
            .iter()
            .any(|u| u.path == "services.service.build")
    );
}

#[test]
fn cycles_name_the_chain() {
    let e = load_fixture("loader/testdata/compose-depends-on-cycle.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("service1 -> service2 -> service3 -> service1"),
        "{e}"
    );
    let e = load_fixture("loader/testdata/compose-depends-on-self.yaml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("service1 -> service1"), "{e}");
    let e = load_fixture("loader/testdata/compose-include-cycle.yaml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("include cycle"), "{e}");
}

#[test]
fn healthcheck_free_fixtures_keep_the_image_default() {
    let l = loaded("cli/testdata/simple/compose.yaml");
    assert_eq!(
        l.project.services["simple"]
            .healthcheck
            .as_ref()
            .and_then(|h| h.test.clone()),
        None::<HealthTest>
    );
}
