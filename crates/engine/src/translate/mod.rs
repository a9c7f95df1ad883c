//! Desired state, per kind, turned into Docker request bodies.

pub mod container;
pub mod network;
pub mod ports;
pub mod volume;
