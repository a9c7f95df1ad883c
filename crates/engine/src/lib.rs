//! The Docker side of provider-docker: a client pool per daemon, translation of desired
//! state into Docker create bodies and back, drift comparison and event streams.
