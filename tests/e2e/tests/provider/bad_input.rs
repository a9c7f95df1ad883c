//! Scenario 8 of the fault campaign: a committed corpus of invalid and hostile manifests
//! (`tests/chaos/bad-input/`, each saying in its first line what must answer it). Each is
//! refused at admission with a message naming the field, or answered with `Synced=False`
//! (`stalled:` cases also `Stalled=True`; a config, or a resource waiting for a reference:
//! `Ready=False`) and a Warning Event saying what is wrong; nothing half-made is left on
//! the daemon, the provider never panics, and a good Container applied beside them
//! becomes Ready.

use std::path::PathBuf;

use api::container::Container;
use k8s_openapi::api::core::v1::Event;
use kube::{
    Api, ResourceExt,
    api::{ApiResource, DynamicObject, ListParams},
};
use provider_docker_e2e::{DEADLINE, TestNs, docker, managed_ready, provider, test_image, wait};
use serde_json::json;

/// How a case must be answered.
enum Answer {
    Admission(String),
    Synced(String),
    /// `Synced=False` saying this, and `Stalled=True`: only the user can fix it.
    Stalled(String),
    /// Waiting, not wrong (a reference not there yet): `Ready=False` saying for what.
    Ready(String),
    Config(String),
}

struct Case {
    file: String,
    kind: String,
    name: String,
    yaml: String,
    answer: Answer,
}

fn corpus() -> anyhow::Result<Vec<Case>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/chaos/bad-input");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let yaml = std::fs::read_to_string(&path)?;
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let expect = yaml
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .ok_or_else(|| anyhow::anyhow!("{file}: the first line must be '# expect: ...'"))?;
        let (how, says) = expect
            .split_once(": ")
            .ok_or_else(|| anyhow::anyhow!("{file}: '# expect: HOW: TEXT'"))?;
        let answer = match how {
            "admission" => Answer::Admission(says.into()),
            "synced" => Answer::Synced(says.into()),
            "stalled" => Answer::Stalled(says.into()),
            "ready" => Answer::Ready(says.into()),
            "config" => Answer::Config(says.into()),
            other => anyhow::bail!("{file}: unknown answer {other}"),
        };
        let object: DynamicObject = serde_yaml_ng::from_str(&yaml)?;
        let kind = object
            .types
            .as_ref()
            .map(|t| t.kind.clone())
            .unwrap_or_default();
        cases.push(Case {
            file,
            kind,
            name: object.name_any(),
            yaml,
            answer,
        });
    }
    cases.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(cases)
}

fn resource(kind: &str) -> ApiResource {
    ApiResource {
        group: api::GROUP.into(),
        version: api::VERSION.into(),
        api_version: format!("{}/{}", api::GROUP, api::VERSION),
        kind: kind.into(),
        plural: format!("{}s", kind.to_lowercase()),
    }
}

/// The message of condition `type_` when it is False.
fn false_condition(o: &DynamicObject, type_: &str) -> Option<String> {
    o.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_ && c["status"] == "False")
        .and_then(|c| c["message"].as_str().map(str::to_string))
}

#[tokio::test]
async fn every_bad_manifest_gets_a_clear_answer_and_leaves_nothing_behind() -> anyhow::Result<()> {
    let cases = corpus()?;
    assert!(
        cases.len() >= 50,
        "the corpus has only {} cases",
        cases.len()
    );
    let ns = TestNs::new("bad-input").await?;
    let mut failures = Vec::new();
    for case in &cases {
        let applied = ns.apply(&case.yaml).await;
        match (&case.answer, applied) {
            (Answer::Admission(says), Err(e)) if format!("{e:#}").contains(says.as_str()) => {}
            (Answer::Admission(says), other) => failures.push(format!(
                "{}: wanted an admission error saying {says:?}, got {:?}",
                case.file,
                other.map(|_| "accepted").map_err(|e| format!("{e:#}"))
            )),
            (_, Err(e)) => failures.push(format!("{}: refused at admission: {e:#}", case.file)),
            (_, Ok(_)) => {}
        }
    }
    ns.apply_managed(
        "Container",
        "good",
        json!({"forProvider": {"image": test_image()}}),
    )
    .await?;
    let events: Api<Event> = ns.api();
    for case in &cases {
        let (type_, says) = match &case.answer {
            Answer::Admission(_) => continue,
            Answer::Synced(says) | Answer::Stalled(says) => ("Synced", says),
            Answer::Ready(says) | Answer::Config(says) => ("Ready", says),
        };
        let objects: Api<DynamicObject> =
            Api::namespaced_with(ns.client.clone(), &ns.name, &resource(&case.kind));
        let answered = wait::value(
            DEADLINE,
            &format!("{} to be answered", case.file),
            || async {
                let o = objects.get(&case.name).await?;
                let stalled = !matches!(case.answer, Answer::Stalled(_))
                    || o.data["status"]["conditions"].as_array().is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Stalled" && c["status"] == "True")
                    });
                Ok(false_condition(&o, type_).filter(|m| stalled && m.contains(says.as_str())))
            },
        )
        .await;
        if let Err(e) = answered {
            let now = objects
                .get(&case.name)
                .await
                .ok()
                .map(|o| o.data["status"].clone());
            failures.push(format!("{}: {e:#}; status: {now:?}", case.file));
            continue;
        }
        if type_ == "Synced" {
            let warned = events
                .list(&ListParams::default().fields(&format!("involvedObject.name={}", case.name)))
                .await?
                .items
                .iter()
                .any(|e| {
                    e.type_.as_deref() == Some("Warning")
                        && e.message.as_ref().is_some_and(|m| !m.is_empty())
                });
            if !warned {
                failures.push(format!("{}: no Warning Event", case.file));
            }
        }
    }
    managed_ready(&ns.api::<Container>(), "good").await?;
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Nothing half-made: the good Container is the only Docker object of the namespace.
    let docker = docker()?;
    let label = format!("docker.m.crossplane.io/namespace={}", ns.name);
    let filters = std::collections::HashMap::from([("label".to_string(), vec![label])]);
    let containers = docker
        .list_containers(Some(
            bollard::query_parameters::ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await?;
    let names: Vec<String> = containers
        .iter()
        .flat_map(|c| c.names.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [format!("/{}-good", ns.name)],
        "half-made containers"
    );
    let volumes = docker
        .list_volumes(Some(
            bollard::query_parameters::ListVolumesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await?;
    assert!(
        volumes.volumes.unwrap_or_default().is_empty(),
        "half-made volumes"
    );
    let networks = docker
        .list_networks(Some(
            bollard::query_parameters::ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await?;
    assert!(networks.is_empty(), "half-made networks");
    let log = std::fs::read_to_string(provider::log_path()).unwrap_or_default();
    assert!(!log.contains("panicked"), "the provider panicked");
    ns.finish().await
}
