//! CRD types of provider-docker (group `docker.m.crossplane.io`) and the Crossplane
//! managed-resource fields they share. Pure data: no I/O.

pub mod common;
pub mod container;
pub mod crd;
pub mod network;
pub mod provider_config;
pub mod quantity;
pub mod service;
pub mod volume;

pub use common::*;

/// The API group of every namespaced kind.
pub const GROUP: &str = "docker.m.crossplane.io";
/// The only version served so far.
pub const VERSION: &str = "v1alpha1";
