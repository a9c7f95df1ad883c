//! `provider-docker convert`: a Service manifest for a compose file, with what it cannot
//! carry listed by path.

use std::collections::BTreeMap;

use api::service::Service;
use serde_json::{Value, json};

use super::{
    compose::{self, File},
    plan::{dns, expand, parse},
};

/// `provider-docker convert`: prints a Service for a compose file on stdout and what it
/// cannot carry on stderr; returns the exit code.
pub fn convert(args: &crate::cli::ConvertArgs) -> anyhow::Result<i32> {
    use anyhow::Context as _;
    let yaml = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let dir = args.file.parent().unwrap_or(std::path::Path::new("."));
    let mut environment = BTreeMap::new();
    if let Ok(dotenv) = std::fs::read_to_string(dir.join(".env")) {
        for line in dotenv
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if let Some((k, v)) = line.split_once('=') {
                environment.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
    }
    let doc = parse(&yaml, &args.file.display().to_string())?;
    let name = args
        .name
        .clone()
        .or_else(|| doc.get("name").and_then(Value::as_str).map(str::to_string))
        .or_else(|| {
            std::fs::canonicalize(dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .map(|n| dns(&n))
        .filter(|n| !n.is_empty())
        .context("give the Service a name with --name")?;
    let mut manifest = json!({
        "apiVersion": "docker.m.crossplane.io/v1alpha1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"forProvider": {"compose": yaml}},
    });
    if let Some(ns) = &args.namespace {
        manifest["metadata"]["namespace"] = json!(ns);
    }
    if !environment.is_empty() {
        manifest["spec"]["forProvider"]["environment"] = json!(environment);
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
    // Check it as the controller will, to report what cannot be carried.
    let service: Service = serde_json::from_value(manifest.clone())?;
    let mut interpolated = doc;
    compose::interpolate(&mut interpolated, &environment, "")
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let file: File = serde_path_to_error::deserialize(interpolated)
        .map_err(|e| anyhow::anyhow!("{}: {}: {}", args.file.display(), e.path(), e.inner()))?;
    let env_files: BTreeMap<String, String> = file
        .services
        .values()
        .flat_map(|s| s.env_file.as_ref().map(|f| f.list()).unwrap_or_default())
        .map(|path| (path, String::new()))
        .collect();
    let plan = expand(&service, &file, &format!("default-{name}"), "", &env_files)?;
    let mut unsupported = plan.unsupported;
    for path in env_files.keys() {
        unsupported.push(format!(
            "env_file {path}: give its contents in spec.forProvider.envFiles (a ConfigMap or Secret key)"
        ));
    }
    print!("{}", serde_yaml_ng::to_string(&manifest)?);
    for path in &unsupported {
        eprintln!("unsupported: {path}");
    }
    Ok(if args.strict && !unsupported.is_empty() {
        1
    } else {
        0
    })
}
