//! CRD types of provider-docker (group `docker.m.crossplane.io`) and the Crossplane
//! managed-resource fields they share. Pure data: no I/O.
