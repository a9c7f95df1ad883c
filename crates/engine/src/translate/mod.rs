//! Desired state, per kind, turned into Docker request bodies.

pub mod container;
pub mod ports;
