//! Arbitrary bytes interpolated, read as an env file and shell-split: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    provider_docker_compose::fuzzing::interpolate(data);
});
