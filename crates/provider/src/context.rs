//! What every reconcile shares: the Kubernetes client, the daemons, caches of provider
//! configs, the Event recorder and the controller's flags.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use api::provider_config::{ClusterProviderConfig, ProviderConfig};
use kube::runtime::reflector::Store;

use crate::{cli::RunArgs, daemons::Daemons, recorder::Recorder};

/// Reflector caches of the provider configs, filled by their controllers.
#[derive(Clone)]
pub struct Stores {
    pub cluster_configs: Store<ClusterProviderConfig>,
    pub configs: Store<ProviderConfig>,
}

pub struct Context {
    pub client: kube::Client,
    pub args: RunArgs,
    pub daemons: Arc<Daemons>,
    pub stores: Stores,
    pub recorder: Recorder,
    /// Resource UID → config label of usages already written by this process.
    pub usages: Mutex<HashMap<String, String>>,
    /// Resource UID → fingerprint of connection details already written.
    pub connections: Mutex<HashMap<String, String>>,
    /// Resource UID → when a failed resource may be tried again.
    pub backoff: crate::managed::Backoff,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Every Kubernetes write names this field manager.
pub const FIELD_MANAGER: &str = "provider-docker";

/// Parameters of a merge patch, naming our field manager.
pub fn merge_params() -> kube::api::PatchParams {
    kube::api::PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    }
}
