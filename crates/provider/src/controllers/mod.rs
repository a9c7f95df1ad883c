//! One file per kind: only what is special about it. The contract lives in `managed`.

pub mod container;
pub mod provider_config;
