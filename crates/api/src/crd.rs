//! Every CRD of the provider, generated from the types, and their YAML form as committed
//! under `package/crds` and the chart.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::{
    container::Container,
    network::Network,
    provider_config::{ClusterProviderConfig, ProviderConfig, ProviderConfigUsage},
    service::Service,
    volume::Volume,
};

/// Every CRD, in a stable order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![
        ProviderConfig::crd(),
        ClusterProviderConfig::crd(),
        ProviderConfigUsage::crd(),
        Container::crd(),
        Network::crd(),
        Volume::crd(),
        Service::crd(),
    ]
}

/// The file name a CRD is committed under: `<group>_<plural>.yaml`, as Crossplane names them.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// One CRD as YAML.
pub fn to_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_yaml_ng::Error> {
    serde_yaml_ng::to_string(crd)
}

/// Every CRD as one multi-document YAML stream.
pub fn all_yaml() -> Result<String, serde_yaml_ng::Error> {
    let mut out = String::new();
    for crd in all() {
        out.push_str("---\n");
        out.push_str(&to_yaml(&crd)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed CRDs (package/crds, and the chart's copy) must be what the types
    /// generate; run `make crds` after changing a type.
    #[test]
    fn committed_crds_match_the_types() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for dir in ["package/crds", "charts/provider-docker/files/crds"] {
            let dir = root.join(dir);
            for crd in all() {
                let path = dir.join(file_name(&crd));
                let committed = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}; run `make crds`", path.display()));
                assert_eq!(
                    committed,
                    to_yaml(&crd).unwrap(),
                    "{} is stale; run `make crds`",
                    path.display()
                );
            }
            let committed = std::fs::read_dir(&dir).unwrap().count();
            assert_eq!(
                committed,
                all().len(),
                "{} holds CRDs the types no longer make",
                dir.display()
            );
        }
    }
}
