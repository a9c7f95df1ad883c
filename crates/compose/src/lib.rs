//! The Compose Specification as provider-docker understands it: parsing, validation and
//! the expansion of a Service into member containers, networks and volumes. Pure logic.
