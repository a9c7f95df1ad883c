//! Arbitrary bytes as a Container, Network or Volume `forProvider`: translation into
//! Docker create bodies and the tenancy check must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    provider_docker_engine::fuzzing::translate(data);
});
