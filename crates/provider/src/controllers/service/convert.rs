//! `provider-docker convert`: a Service manifest for a compose file, with what it cannot
//! carry listed by path.

use std::collections::BTreeMap;

use anyhow::Context as _;
use api::service::Service;
use compose::dotenv::{self, DotenvFormat};
use serde_json::json;

use super::{
    files::ProjectFiles,
    plan::{dns, expand, parse},
};

/// `provider-docker convert`: prints a Service for a compose file on stdout and what it
/// cannot carry on stderr; returns the exit code.
pub fn convert(args: &crate::cli::ConvertArgs) -> anyhow::Result<i32> {
    let yaml = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let dir = args.file.parent().unwrap_or(std::path::Path::new("."));
    let mut environment = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(dir.join(".env")) {
        let pairs = dotenv::parse(&text, DotenvFormat::Compose, &|_| None)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join(".env").display()))?;
        environment.extend(pairs);
    }
    let mut manifest = json!({
        "apiVersion": "docker.m.crossplane.io/v1alpha1",
        "kind": "Service",
        "metadata": {"name": "convert"},
        "spec": {"forProvider": {"compose": yaml}},
    });
    if !environment.is_empty() {
        manifest["spec"]["forProvider"]["environment"] = json!(environment);
    }
    // Check it as the controller will, to report what cannot be carried.
    let files = ProjectFiles::local(dir);
    let service: Service = serde_json::from_value(manifest.clone())?;
    let file = args.file.file_name().unwrap_or_default().to_string_lossy();
    let loaded = parse(&service, &yaml, (file.as_ref(), None), &files)?;
    let name = args
        .name
        .clone()
        .or_else(|| loaded.name.clone())
        .or_else(|| {
            std::fs::canonicalize(dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .map(|n| dns(&n))
        .filter(|n| !n.is_empty())
        .context("give the Service a name with --name")?;
    manifest["metadata"]["name"] = json!(name);
    if let Some(ns) = &args.namespace {
        manifest["metadata"]["namespace"] = json!(ns);
    }
    if let Some(reference) = &args.provider_config {
        let (kind, config) = reference
            .split_once('/')
            .filter(|(k, _)| *k == "ClusterProviderConfig" || *k == "ProviderConfig")
            .context(
                "--provider-config must be ClusterProviderConfig/NAME or ProviderConfig/NAME",
            )?;
        manifest["spec"]["providerConfigRef"] = json!({"kind": kind, "name": config});
    }
    let plan = expand(&service, &loaded, &format!("default-{name}"), "", &files)?;
    let mut unsupported = plan.unsupported;
    for path in files.asked() {
        unsupported.push(format!(
            "{path}: a file the project reads; give its contents in spec.forProvider.envFiles (a ConfigMap or Secret key)"
        ));
    }
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    print!("{}", serde_yaml_ng::to_string(&manifest)?);
    for line in &unsupported {
        eprintln!("unsupported: {line}");
    }
    Ok(if args.strict && !unsupported.is_empty() {
        1
    } else {
        0
    })
}
