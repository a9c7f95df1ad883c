//! Arbitrary bytes loaded as a compose file: loading must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    provider_docker_compose::fuzzing::parse(data);
});
