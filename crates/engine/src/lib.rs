//! The Docker side of provider-docker: a client pool per daemon, translation of desired
//! state into Docker create bodies and back, drift comparison and event streams.
//! No Kubernetes here: callers pass plain values in and get plain values out.

pub mod containers;
pub mod drift;
pub mod error;
pub mod events;
pub mod inventory;
pub mod labels;
pub mod networks;
pub mod observe;
mod own_events;
pub mod policy;
pub mod pool;
pub mod registry;
pub mod system;
pub mod translate;
pub mod transport;
pub mod volumes;

pub use error::{Error, ErrorClass, Result};

/// Entry points for fuzzing: arbitrary bytes as a resource's `forProvider`, translated
/// and policy-checked; never panics. Used by the cargo-fuzz targets in `fuzz/` and by
/// `tests/fuzz_entry_points.rs`, which runs the same inputs on stable in CI.
#[doc(hidden)]
pub mod fuzzing {
    use api::{
        container::ContainerParameters, network::NetworkParameters, provider_config::TenancyPolicy,
        volume::VolumeParameters,
    };

    use crate::{labels::Owner, translate};

    /// `data` as JSON for a Container, a Network and a Volume: whatever parses is
    /// translated into Docker create bodies and checked against a strict policy.
    pub fn translate(data: &[u8]) {
        let owner = Owner {
            uid: "00000000-0000-0000-0000-000000000000".into(),
            kind: "Container".into(),
            namespace: "fuzz".into(),
            name: "fuzz".into(),
        };
        let strict = TenancyPolicy::default();
        if let Ok(p) = serde_json::from_slice::<ContainerParameters>(data) {
            let _ = crate::policy::container_violations(&p, &strict, "fuzz");
            let _ = translate::container::desired_container(
                &owner,
                "fuzz",
                &p,
                &translate::container::Resolved::default(),
            );
        }
        if let Ok(p) = serde_json::from_slice::<NetworkParameters>(data) {
            let _ = translate::network::desired_network(&owner, "fuzz", &p);
        }
        if let Ok(p) = serde_json::from_slice::<VolumeParameters>(data) {
            let _ = crate::policy::volume_violations(&p, &strict, "fuzz");
            let _ = translate::volume::desired_volume(&owner, "fuzz", &p);
        }
    }
}
