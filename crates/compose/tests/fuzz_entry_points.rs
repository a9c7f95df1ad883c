//! The cargo-fuzz targets' entry points (`fuzz/`), run on a few thousand random inputs so
//! that "never panics" is checked on stable in every test run, without a nightly fuzzer.

use proptest::prelude::*;
use provider_docker_compose::fuzzing;

const SEEDS: &[&str] = &[
    "services:\n  web:\n    image: nginx\n    ports: ['8080-8081:80-81/udp', '[::1]:80:80']\n    volumes: ['./a:/a:ro,z', {type: tmpfs, target: /t, tmpfs: {size: 1g}}]\n",
    "services:\n  a: {image: x, depends_on: {b: {condition: service_healthy}}, healthcheck: {test: [CMD, 'true'], interval: 1m30s}}\n  b: {image: y, deploy: {replicas: 2, resources: {limits: {memory: 512m}}}}\n",
    "include: [other.yaml]\nx-base: &b {image: i, environment: [A=${A:-1}]}\nservices:\n  s:\n    <<: *b\n    command: !reset null\n    extends: {file: f.yaml, service: s}\n",
    "name: p\nnetworks: {n: {ipam: {config: [{subnet: 10.0.0.0/24}]}}}\nsecrets: {s: {file: ./s}}\nservices: {a: {image: i, networks: {n: {ipv4_address: 10.0.0.2}}, secrets: [s]}}\n",
];

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(SEEDS),
        proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..8),
    )
        .prop_map(|(seed, edits)| {
            let mut bytes = seed.as_bytes().to_vec();
            for (pos, byte, op) in edits {
                let at = if bytes.is_empty() {
                    0
                } else {
                    pos % bytes.len()
                };
                match op {
                    0 if !bytes.is_empty() => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ if !bytes.is_empty() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parse_target_never_panics_on_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        fuzzing::parse(&data);
    }

    #[test]
    fn parse_target_never_panics_on_mutated_compose_files(data in mutated()) {
        fuzzing::parse(&data);
    }

    #[test]
    fn short_syntax_target_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        fuzzing::short_syntax(&data);
    }

    #[test]
    fn short_syntax_target_never_panics_on_near_valid_entries(
        data in "[0-9a-z:/.\\[\\]\\-,=~\"]{0,40}"
    ) {
        fuzzing::short_syntax(data.as_bytes());
    }

    #[test]
    fn interpolate_target_never_panics(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        fuzzing::interpolate(&data);
    }
}

/// A fuzz target's entry point.
type Target = fn(&[u8]);

/// The committed seed corpora of the fuzz targets.
#[test]
fn the_seed_corpora_run_through_their_targets() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let targets: [(&str, Target); 2] = [
        ("parse", fuzzing::parse),
        ("short_syntax", fuzzing::short_syntax),
    ];
    for (target, run) in targets {
        let files: Vec<_> = std::fs::read_dir(seeds.join(target))
            .unwrap()
            .flatten()
            .collect();
        assert!(!files.is_empty(), "no seeds for {target}");
        for file in files {
            run(&std::fs::read(file.path()).unwrap());
        }
    }
}

#[test]
fn parse_target_survives_pathological_inputs() {
    let deep_list = "[".repeat(10_000);
    let deep_default = format!(
        "services: {{a: {{image: \"{}{}\"}}}}",
        "${A:-".repeat(5000),
        "}".repeat(5000)
    );
    let aliases = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    // Found by cargo-fuzz: includes that branch below themselves ran out of memory.
    let branching = "include: [otjer~/.y,ml]\nservices: {a: {image: i}}\n";
    for input in [
        branching,
        deep_list.as_str(),
        deep_default.as_str(),
        aliases,
        "\u{feff}services: {}",
        "services:\n  a:\n    extends: a\n",
    ] {
        fuzzing::parse(input.as_bytes());
        fuzzing::interpolate(input.as_bytes());
    }
}
