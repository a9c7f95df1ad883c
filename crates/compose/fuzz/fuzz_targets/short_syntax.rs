//! Arbitrary bytes as one port, volume, tmpfs, device or host short-syntax entry.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    provider_docker_compose::fuzzing::short_syntax(data);
});
