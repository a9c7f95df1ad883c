//! Building a managed resource's status during a reconcile and writing it once, with
//! server-side apply, only when it changed.

use api::{Condition, Managed, ManagedStatus, remove_condition, set_condition};
use kube::{
    Api,
    api::{Patch, PatchParams},
};

use crate::{
    context::FIELD_MANAGER,
    error::{Error, Result},
};

pub struct StatusWriter<K: Managed> {
    status: ManagedStatus,
    at_provider: Option<K::Observation>,
    generation: Option<i64>,
    /// What the API server holds, to skip writes that change nothing.
    written: serde_json::Value,
    /// The object's resourceVersion after the last write seen here, for metadata patches
    /// guarded by it later in the same reconcile.
    resource_version: Option<String>,
    now: String,
}

impl<K: Managed> StatusWriter<K> {
    pub fn new(mr: &K) -> Self {
        let status = mr.managed_status().cloned().unwrap_or_default();
        let at_provider = mr.at_provider().cloned();
        let written = match mr.managed_status() {
            Some(s) => K::status_value(s, at_provider.as_ref()),
            None => serde_json::Value::Null,
        };
        Self {
            status,
            at_provider,
            generation: mr.meta().generation,
            written,
            resource_version: mr.meta().resource_version.clone(),
            now: jiff::Timestamp::now().to_string(),
        }
    }

    /// True before the first status write.
    pub fn is_new(&self) -> bool {
        self.status.conditions.is_empty()
    }

    pub fn set(&mut self, condition: Condition) {
        set_condition(
            &mut self.status.conditions,
            condition.for_generation(self.generation),
            &self.now,
        );
    }

    pub fn remove(&mut self, type_: &str) {
        remove_condition(&mut self.status.conditions, type_);
    }

    /// The resourceVersion the API server gave the object at its last status write in this
    /// reconcile, or the one it was read with.
    pub fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref()
    }

    pub fn set_at_provider(&mut self, at_provider: Option<K::Observation>) {
        self.at_provider = at_provider;
    }

    /// Writes the status if it differs from what the API server holds.
    pub async fn write(&mut self, api: &Api<K>, name: &str) -> Result<()> {
        self.status.observed_generation = self.generation;
        let value = K::status_value(&self.status, self.at_provider.as_ref());
        if value == self.written {
            return Ok(());
        }
        let body = serde_json::json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "status": value,
        });
        let written = api
            .patch_status(
                name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(body),
            )
            .await
            .map_err(|e| Error::kube(format!("write the status of {} {name}", K::kind(&())), e))?;
        self.resource_version = written.meta().resource_version.clone();
        self.written = value;
        Ok(())
    }
}
