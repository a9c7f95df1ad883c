//! examples/composition: the definition and Composition pass server-side validation, and
//! what the Composition composes from the example App becomes Ready.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use api::{container::Container, network::Network, volume::Volume};
use k8s_openapi::api::core::v1::Secret;
use provider_docker_e2e::{DEADLINE, TestNs, managed_ready, test_image, unique, wait};
use serde_json::{Value, json};

use super::{crossplane_installed, documents, dry_run_apply, free_port, own_provider, repo};

fn composition_file(name: &str) -> anyhow::Result<Value> {
    let path = repo().join("examples/composition").join(name);
    let docs = documents(&std::fs::read_to_string(&path)?)?;
    anyhow::ensure!(
        docs.len() == 1,
        "{} should hold one document",
        path.display()
    );
    Ok(docs.into_iter().next().unwrap_or_default())
}

#[tokio::test]
async fn the_composition_example_passes_server_side_apply_with_crossplanes_crds()
-> anyhow::Result<()> {
    let client = provider_docker_e2e::kube_client().await?;
    crossplane_installed(&client).await?;
    let definition = composition_file("definition.yaml")?;
    let composition = composition_file("composition.yaml")?;
    assert_eq!(definition["apiVersion"], "apiextensions.crossplane.io/v2");
    assert_eq!(definition["spec"]["scope"], "Namespaced");
    let applied = dry_run_apply(&client, &definition)
        .await
        .context("definition.yaml")?;
    assert_eq!(applied.data["spec"]["names"]["kind"], "App");
    let applied = dry_run_apply(&client, &composition)
        .await
        .context("composition.yaml")?;
    assert_eq!(applied.data["spec"]["mode"], "Pipeline");
    assert_eq!(
        applied.data["spec"]["compositeTypeRef"],
        json!({"apiVersion": "example.docker.m.crossplane.io/v1alpha1", "kind": "App"})
    );

    // CEL runs: v2 definitions have no claims, and the same definition with one is refused.
    let mut claimed = definition.clone();
    claimed["spec"]["claimNames"] = json!({"kind": "AppClaim", "plural": "appclaims"});
    let refused = dry_run_apply(&client, &claimed).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| format!("{e:#}").contains("Claims aren't supported")),
        "a v2 definition with claimNames: {refused:?}"
    );
    Ok(())
}

/// A field path as function-patch-and-transform reads it: `a.b[0].c[some/key]`.
fn field_path(path: &str) -> Vec<Segment> {
    let mut out = vec![];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            // A key in brackets may hold dots and slashes: `[crossplane.io/composite]`.
            let end = after.find(']').unwrap_or(after.len());
            let key = &after[..end];
            out.push(match key.parse::<usize>() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Field(key.to_string()),
            });
            rest = after.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Segment::Field(rest[..end].to_string()));
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    out
}

#[derive(Debug)]
enum Segment {
    Field(String),
    Index(usize),
}

fn get_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    field_path(path).iter().try_fold(value, |v, s| match s {
        Segment::Field(f) => v.get(f),
        Segment::Index(i) => v.get(i),
    })
}

fn set_path(value: &mut Value, path: &str, new: Value) -> anyhow::Result<()> {
    let mut at = value;
    for s in field_path(path) {
        at = match s {
            Segment::Field(f) => {
                if at.is_null() {
                    *at = json!({});
                }
                at.as_object_mut()
                    .with_context(|| format!("{path}: {f} is under a non-object"))?
                    .entry(f)
                    .or_insert(Value::Null)
            }
            Segment::Index(i) => at
                .get_mut(i)
                .with_context(|| format!("{path}: no element {i} in the base"))?,
        };
    }
    *at = new;
    Ok(())
}

/// The resources the Composition's patch-and-transform step composes for `xr`, as
/// Crossplane creates them: in the XR's namespace, generated names, the composite label
/// and the composition-resource-name annotation. Only the patch and transform types the
/// example uses are known; any other fails the test rather than being skipped.
fn compose(composition: &Value, xr: &Value) -> anyhow::Result<Vec<(String, Value)>> {
    let step = &composition["spec"]["pipeline"][0];
    anyhow::ensure!(
        step["functionRef"]["name"] == "function-patch-and-transform"
            && step["input"]["apiVersion"] == "pt.fn.crossplane.io/v1beta1"
            && step["input"]["kind"] == "Resources",
        "the pipeline's first step is not patch-and-transform Resources"
    );
    let xr_name = xr["metadata"]["name"]
        .as_str()
        .context("the XR has no name")?;
    let mut composed = vec![];
    for resource in step["input"]["resources"]
        .as_array()
        .context("no resources")?
    {
        let name = resource["name"]
            .as_str()
            .context("a resource without a name")?;
        let mut object = resource["base"].clone();
        for patch in resource["patches"].as_array().into_iter().flatten() {
            anyhow::ensure!(
                patch["type"] == "FromCompositeFieldPath",
                "{name}: patch type {} is not rendered here",
                patch["type"]
            );
            let from = patch["fromFieldPath"]
                .as_str()
                .context("no fromFieldPath")?;
            let to = patch["toFieldPath"].as_str().context("no toFieldPath")?;
            // A missing source leaves the base as it is (the default, Optional policy).
            let Some(mut value) = get_path(xr, from).cloned() else {
                continue;
            };
            for transform in patch["transforms"].as_array().into_iter().flatten() {
                anyhow::ensure!(
                    transform["type"] == "string" && transform["string"]["type"] == "Format",
                    "{name}: transform {transform} is not rendered here"
                );
                let fmt = transform["string"]["fmt"].as_str().context("no fmt")?;
                let input = match &value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                anyhow::ensure!(fmt.matches("%s").count() == 1, "{name}: fmt {fmt}");
                value = json!(fmt.replace("%s", &input));
            }
            set_path(&mut object, to, value)?;
        }
        // Crossplane names composed resources `<xr>-<random suffix>`.
        let generated = format!("{xr_name}-{}", &unique("g")[2..]);
        object["metadata"]["name"] = json!(generated);
        object["metadata"]["namespace"] = xr["metadata"]["namespace"].clone();
        object["metadata"]["labels"]["crossplane.io/composite"] = json!(xr_name);
        object["metadata"]["annotations"]["crossplane.io/composition-resource-name"] = json!(name);
        composed.push((name.to_string(), object));
    }
    Ok(composed)
}

#[tokio::test]
async fn what_the_composition_composes_from_the_example_app_becomes_ready_and_writes_its_connection_secret()
-> anyhow::Result<()> {
    // A provider of its own, watching only this namespace: the package test's provider
    // (from the image) must be the only one serving its namespace.
    let ns = TestNs::new_without_provider("composition").await?;
    let log = repo()
        .join("target/e2e")
        .join(format!("{}-provider.log", ns.name));
    let metrics = format!("127.0.0.1:{}", free_port()?);
    let _provider = own_provider(
        &["--namespace", &ns.name, "--metrics-address", &metrics],
        None,
        &log,
    )?;
    let composition = composition_file("composition.yaml")?;
    let mut app = composition_file("app.yaml")?;
    app["metadata"]["namespace"] = json!(ns.name);
    app["spec"]["image"] = json!(test_image());
    let xr = app["metadata"]["name"]
        .as_str()
        .context("no name")?
        .to_string();

    let composed = compose(&composition, &app)?;
    let names: BTreeMap<String, String> = composed
        .iter()
        .map(|(resource, o)| {
            (
                resource.clone(),
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        names.keys().collect::<Vec<_>>(),
        ["container", "network", "volume"],
        "the composition should compose a Container, a Network and a Volume"
    );
    for (_, object) in &composed {
        ns.apply(&object.to_string()).await?;
    }

    managed_ready(&ns.api::<Network>(), &names["network"]).await?;
    managed_ready(&ns.api::<Volume>(), &names["volume"]).await?;
    let container = managed_ready(&ns.api::<Container>(), &names["container"]).await?;
    // Its readiness checks (MatchCondition Ready=True) hold for each composed resource.
    for (resource, _) in &composed {
        let checks = composition["spec"]["pipeline"][0]["input"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == resource.as_str())
            .map(|r| r["readinessChecks"].clone())
            .unwrap_or_default();
        assert_eq!(
            checks,
            json!([{"type": "MatchCondition", "matchCondition": {"type": "Ready", "status": "True"}}]),
            "{resource}"
        );
    }
    // Joined to its own network and volume, found by the composite's label.
    let docker_name = container
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("crossplane.io/external-name"))
        .context("no external name")?
        .clone();
    let inspect = provider_docker_e2e::inspect(&docker_name)
        .await?
        .context("the composed container is not on the daemon")?;
    let networks = inspect
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default();
    let network = ns.api::<Network>().get(&names["network"]).await?;
    let network_name = network
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("crossplane.io/external-name"))
        .context("the network has no external name")?;
    assert!(networks.contains_key(network_name), "{networks:?}");

    // The connection Secret the Composition names after the App, with the keys
    // compositions read.
    let secrets = ns.api::<Secret>();
    let secret_name = format!("{xr}-connection");
    let secret = wait::value(DEADLINE, &format!("Secret {secret_name}"), || async {
        Ok(secrets.get_opt(&secret_name).await?)
    })
    .await?;
    let keys: BTreeSet<String> = secret.data.unwrap_or_default().into_keys().collect();
    for key in ["endpoint", "port", "port-8080-tcp", "ip"] {
        assert!(keys.contains(key), "{secret_name} lacks {key}: {keys:?}");
    }
    ns.finish().await
}
