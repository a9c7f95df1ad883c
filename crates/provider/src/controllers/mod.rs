//! One file per kind: only what is special about it. The contract lives in `managed`.

pub mod container;
pub mod network;
pub mod provider_config;
pub mod service;
pub mod volume;
