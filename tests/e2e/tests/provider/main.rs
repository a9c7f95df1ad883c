//! The provider, end to end: one test binary, so one provider process serves every suite
//! (two processes reconciling the same resources would race each other).

mod bad_input;
mod container;
mod container_errors;
mod container_policies;
mod gitops;
mod networks_and_volumes;
mod operations;
mod registry;
mod service;
mod tenancy;
mod transports;
