//! The Docker side of provider-docker: a client pool per daemon, translation of desired
//! state into Docker create bodies and back, drift comparison and event streams.
//! No Kubernetes here: callers pass plain values in and get plain values out.

pub mod containers;
pub mod drift;
pub mod error;
pub mod events;
pub mod labels;
pub mod networks;
pub mod observe;
pub mod policy;
pub mod pool;
pub mod registry;
pub mod system;
pub mod translate;
pub mod transport;
pub mod volumes;

pub use error::{Error, ErrorClass, Result};
