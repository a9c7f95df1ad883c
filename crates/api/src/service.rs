//! `Service`: a compose-style project, expanded into child Containers, Networks and Volumes
//! that each run their own reconcile loop.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{KeySelector, ManagedSpec, ManagedStatus};

/// A compose project on one daemon, kept as declared by provider-docker.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "docker.m.crossplane.io",
    version = "v1alpha1",
    kind = "Service",
    namespaced,
    status = "ServiceStatus",
    shortname = "dsvc",
    category = "crossplane",
    category = "managed",
    category = "docker",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"SYNCED","type":"string","jsonPath":".status.conditions[?(@.type=='Synced')].status"}"#,
    printcolumn = r#"{"name":"MEMBERS","type":"string","jsonPath":".status.atProvider.summary"}"#,
    printcolumn = r#"{"name":"PROJECT","type":"string","priority":1,"jsonPath":".status.atProvider.project"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// The project as it should be.
    pub for_provider: ServiceParameters,
    #[serde(flatten)]
    pub managed: ManagedSpec,
}

/// A compose project and how to run it.
#[derive(KubeSchema, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("[has(self.compose), has(self.composeFrom), has(self.project)].filter(x, x).size() == 1").message("give the project exactly one way: compose (inline YAML), composeFrom (a ConfigMap key) or project (structured)"))]
pub struct ServiceParameters {
    /// The compose file, inline, as YAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 262144))]
    pub compose: Option<String>,
    /// The compose file, from a key of a ConfigMap in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compose_from: Option<KeySelector>,
    /// The project, structured: `services`, `networks`, `volumes`, with compose's own field
    /// names. Checked by the controller, which says which field is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form")]
    pub project: Option<serde_json::Value>,
    /// Variables for `${VAR}` interpolation in the project, as an `.env` file would give.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Contents of the files the project reads (`env_file`, `label_file`, `extends.file`,
    /// `include`, and the `file:` of secrets and configs), by the path the compose file
    /// writes, from ConfigMap or Secret keys in this namespace. A secret's file from a
    /// Secret key reaches the container by reference, never copied into a spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub env_files: Vec<EnvFileSource>,
    /// Compose profiles to enable; services with other profiles are not run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub profiles: Vec<String>,
    /// Stop every member (containers are kept); false starts them again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
    /// Also remove the named volumes (and their data) when the Service is deleted. Default
    /// false: they are kept, as `docker compose down` does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove_volumes_on_delete: bool,
}

fn free_form(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// Where the contents of one file the project reads come from.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EnvFileSource {
    /// The path as the compose file writes it, e.g. `./web.env`.
    #[schemars(length(max = 512))]
    pub path: String,
    /// A ConfigMap key holding the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
    /// A Secret key holding the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
}

/// One member container of the project, as its child Container reports it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    /// The compose service.
    pub service: String,
    /// The child Container resource.
    pub container: String,
    /// `Running`, `Exited`, `Created`, `Waiting` (for depends_on), `Absent`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The health check's verdict, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Whether the child is Ready (a one-shot member: completed successfully).
    pub ready: bool,
    /// Why it is not, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What the Service's children report.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceObservation {
    /// The compose project name on the daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// `ready/total` members, for `kubectl get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberStatus>,
    /// Compose fields that provider-docker does not carry, by path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported: Vec<String>,
}

/// Observed state of a Service.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    #[serde(flatten)]
    pub managed: ManagedStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<ServiceObservation>,
}

crate::impl_managed!(Service, ServiceStatus, ServiceObservation);
