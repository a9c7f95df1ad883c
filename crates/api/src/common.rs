//! The Crossplane managed-resource contract shared by every managed kind: the common spec
//! fields, conditions, annotations and finalizer names.

use std::borrow::Cow;

use kube::Resource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Names the Docker object; set on create, set by hand to adopt an existing object.
pub const ANNOTATION_EXTERNAL_NAME: &str = "crossplane.io/external-name";
/// When present with value `true`, the resource is not reconciled at all.
pub const ANNOTATION_PAUSED: &str = "crossplane.io/paused";
/// Written (RFC 3339 time) just before the Docker object is created.
pub const ANNOTATION_CREATE_PENDING: &str = "crossplane.io/external-create-pending";
/// Written once the create call returned successfully.
pub const ANNOTATION_CREATE_SUCCEEDED: &str = "crossplane.io/external-create-succeeded";
/// Written when the create call failed.
pub const ANNOTATION_CREATE_FAILED: &str = "crossplane.io/external-create-failed";
/// Held by every managed resource until its Docker object is gone (or orphaned).
pub const FINALIZER_MANAGED: &str = "finalizer.managedresource.crossplane.io";
/// Held by a provider config while managed resources use it.
pub const FINALIZER_IN_USE: &str = "in-use.crossplane.io";

/// Which kind of provider config a managed resource uses.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum ProviderConfigKind {
    /// A namespaced `ProviderConfig` in the resource's own namespace.
    ProviderConfig,
    /// A cluster-scoped `ClusterProviderConfig`.
    #[default]
    ClusterProviderConfig,
}

impl ProviderConfigKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProviderConfig => "ProviderConfig",
            Self::ClusterProviderConfig => "ClusterProviderConfig",
        }
    }
}

/// The provider config (the Docker daemon) a managed resource uses.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigReference {
    /// `ProviderConfig` (same namespace) or `ClusterProviderConfig`. Default `ClusterProviderConfig`.
    #[serde(default)]
    pub kind: ProviderConfigKind,
    /// Name of the config.
    pub name: String,
}

impl Default for ProviderConfigReference {
    fn default() -> Self {
        Self {
            kind: ProviderConfigKind::ClusterProviderConfig,
            name: "default".into(),
        }
    }
}

/// What the provider may do to the Docker object. `*` means everything.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum ManagementPolicy {
    #[serde(rename = "*")]
    All,
    Observe,
    Create,
    Update,
    Delete,
    LateInitialize,
}

/// The management policies in effect: a small set, `*` expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policies {
    pub observe: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub late_initialize: bool,
}

impl Policies {
    pub fn from_list(list: &[ManagementPolicy]) -> Self {
        let all = list.contains(&ManagementPolicy::All);
        let has = |p| all || list.contains(&p);
        Self {
            // Every combination Crossplane accepts includes observing.
            observe: true,
            create: has(ManagementPolicy::Create),
            update: has(ManagementPolicy::Update),
            delete: has(ManagementPolicy::Delete),
            late_initialize: has(ManagementPolicy::LateInitialize),
        }
    }
}

/// A Secret in the managed resource's own namespace.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LocalSecretReference {
    /// Name of the Secret.
    pub name: String,
}

/// A key of a Secret or ConfigMap in the resource's own namespace.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct KeySelector {
    /// Name of the Secret or ConfigMap.
    pub name: String,
    /// Key within it.
    pub key: String,
    /// When true, a missing object or key is not an error: the value is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

fn default_policies() -> Vec<ManagementPolicy> {
    vec![ManagementPolicy::All]
}

/// The fields of the managed-resource contract every managed kind's spec carries.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedSpec {
    /// The config that says how to reach the Docker daemon. Default `ClusterProviderConfig/default`.
    #[serde(default)]
    pub provider_config_ref: ProviderConfigReference,
    /// What the provider may do: `*` (default), or a subset of `Observe`, `Create`, `Update`,
    /// `Delete`, `LateInitialize`. `[Observe]` only reports on an existing object.
    #[serde(default = "default_policies")]
    #[schemars(extend("default" = ["*"]))]
    pub management_policies: Vec<ManagementPolicy>,
    /// Secret (in this namespace) to write connection details to: endpoint, ports, IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_connection_secret_to_ref: Option<LocalSecretReference>,
}

impl ManagedSpec {
    pub fn policies(&self) -> Policies {
        Policies::from_list(&self.management_policies)
    }
}

/// `True`, `False` or `Unknown`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// One condition, as Crossplane and kstatus read it.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Synced`, `Ready` or `Stalled`.
    #[serde(rename = "type")]
    pub type_: String,
    pub status: ConditionStatus,
    /// A CamelCase word: `ReconcileSuccess`, `ReconcileError`, `ReconcilePaused`,
    /// `Available`, `Creating`, `Deleting`, `Unavailable`.
    pub reason: String,
    /// What happened, in words, and how to fix it when something is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the status last changed (RFC 3339).
    pub last_transition_time: String,
    /// The `metadata.generation` this condition describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

pub const CONDITION_SYNCED: &str = "Synced";
pub const CONDITION_READY: &str = "Ready";
pub const CONDITION_STALLED: &str = "Stalled";

impl Condition {
    fn new(type_: &str, status: ConditionStatus, reason: &str, message: Option<String>) -> Self {
        Self {
            type_: type_.into(),
            status,
            reason: reason.into(),
            message,
            last_transition_time: String::new(),
            observed_generation: None,
        }
    }
    pub fn reconcile_success() -> Self {
        Self::new(
            CONDITION_SYNCED,
            ConditionStatus::True,
            "ReconcileSuccess",
            None,
        )
    }
    pub fn reconcile_error(message: impl Into<String>) -> Self {
        Self::new(
            CONDITION_SYNCED,
            ConditionStatus::False,
            "ReconcileError",
            Some(message.into()),
        )
    }
    pub fn reconcile_paused() -> Self {
        Self::new(
            CONDITION_SYNCED,
            ConditionStatus::False,
            "ReconcilePaused",
            Some(format!(
                "reconciliation is paused by the {ANNOTATION_PAUSED} annotation"
            )),
        )
    }
    pub fn available(message: Option<String>) -> Self {
        Self::new(CONDITION_READY, ConditionStatus::True, "Available", message)
    }
    pub fn creating(message: Option<String>) -> Self {
        Self::new(CONDITION_READY, ConditionStatus::False, "Creating", message)
    }
    /// Ready=False while a referenced resource is not Ready yet.
    pub fn waiting(message: impl Into<String>) -> Self {
        Self::new(
            CONDITION_READY,
            ConditionStatus::False,
            "Waiting",
            Some(message.into()),
        )
    }
    pub fn deleting() -> Self {
        Self::new(CONDITION_READY, ConditionStatus::False, "Deleting", None)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            CONDITION_READY,
            ConditionStatus::False,
            "Unavailable",
            Some(message.into()),
        )
    }
    pub fn stalled(reason: &str, message: impl Into<String>) -> Self {
        Self::new(
            CONDITION_STALLED,
            ConditionStatus::True,
            reason,
            Some(message.into()),
        )
    }
    /// Stamps the condition with the generation it describes.
    pub fn for_generation(mut self, generation: Option<i64>) -> Self {
        self.observed_generation = generation;
        self
    }
}

/// Conditions in the order users read them: Synced first, then Ready, then the rest.
fn condition_rank(type_: &str) -> u8 {
    match type_ {
        CONDITION_SYNCED => 0,
        CONDITION_READY => 1,
        _ => 2,
    }
}

/// Sets `new` in `conditions`, keeping the old transition time when the status did not
/// change, and keeping Synced before Ready.
pub fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition, now: &str) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(old) => {
            new.last_transition_time = if old.status == new.status {
                old.last_transition_time.clone()
            } else {
                now.to_string()
            };
            *old = new;
        }
        None => {
            new.last_transition_time = now.to_string();
            conditions.push(new);
        }
    }
    conditions.sort_by_key(|c| condition_rank(&c.type_));
}

/// Removes the condition of the given type, if any.
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

/// The status fields every managed kind carries.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedStatus {
    /// `Synced` (did the last reconcile succeed) and `Ready` (is the Docker object usable),
    /// plus `Stalled` while the resource cannot progress without a change from the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl ManagedStatus {
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }
}

/// A managed resource kind: a namespaced custom resource with the contract's spec and
/// status fields. Implemented by each kind; the reconcile core is generic over it.
pub trait Managed:
    Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
    + Clone
    + std::fmt::Debug
    + Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// What the daemon reports, kept in `status.atProvider`.
    type Observation: Clone + std::fmt::Debug + PartialEq + Serialize + Send + Sync;

    fn managed_spec(&self) -> &ManagedSpec;
    fn managed_status(&self) -> Option<&ManagedStatus>;
    fn at_provider(&self) -> Option<&Self::Observation>;

    /// The status object to write, from its parts.
    fn status_value(
        status: &ManagedStatus,
        at_provider: Option<&Self::Observation>,
    ) -> serde_json::Value;

    /// The kind's name as a bounded label for metrics and logs.
    fn kind_label() -> Cow<'static, str> {
        Self::kind(&())
    }
}

/// Implements [`Managed`] for a kind whose status is the flattened [`ManagedStatus`] plus
/// `atProvider`: `impl_managed!(Kind, KindStatus, KindObservation)`.
#[macro_export]
macro_rules! impl_managed {
    ($kind:ty, $status:ident, $observation:ty) => {
        impl $crate::common::Managed for $kind {
            type Observation = $observation;

            fn managed_spec(&self) -> &$crate::common::ManagedSpec {
                &self.spec.managed
            }
            fn managed_status(&self) -> Option<&$crate::common::ManagedStatus> {
                self.status.as_ref().map(|s| &s.managed)
            }
            fn at_provider(&self) -> Option<&$observation> {
                self.status.as_ref().and_then(|s| s.at_provider.as_ref())
            }
            fn status_value(
                status: &$crate::common::ManagedStatus,
                at_provider: Option<&$observation>,
            ) -> serde_json::Value {
                serde_json::json!($status {
                    managed: status.clone(),
                    at_provider: at_provider.cloned(),
                })
            }
        }
    };
}

/// The value of an annotation, if set.
pub fn annotation<'a, K: Resource>(obj: &'a K, key: &str) -> Option<&'a str> {
    obj.meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// True when the resource is paused with `crossplane.io/paused: "true"`.
pub fn is_paused<K: Resource>(obj: &K) -> bool {
    annotation(obj, ANNOTATION_PAUSED) == Some("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_is_listed_before_ready_whatever_the_order_of_writes() {
        let mut conditions = vec![];
        set_condition(&mut conditions, Condition::creating(None), "t1");
        set_condition(&mut conditions, Condition::reconcile_success(), "t1");
        let types: Vec<_> = conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Synced", "Ready"]);
    }

    #[test]
    fn transition_time_moves_only_when_the_status_changes() {
        let mut conditions = vec![];
        set_condition(&mut conditions, Condition::creating(None), "t1");
        set_condition(&mut conditions, Condition::unavailable("stopped"), "t2");
        assert_eq!(conditions[0].last_transition_time, "t1");
        set_condition(&mut conditions, Condition::available(None), "t3");
        assert_eq!(conditions[0].last_transition_time, "t3");
    }

    #[test]
    fn observe_only_policies_allow_no_writes() {
        let p = Policies::from_list(&[ManagementPolicy::Observe]);
        assert!(!p.create && !p.update && !p.delete && !p.late_initialize);
        let all = Policies::from_list(&[ManagementPolicy::All]);
        assert!(all.create && all.update && all.delete && all.late_initialize);
    }
}
