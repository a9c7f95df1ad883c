//! The translate fuzz target's entry point (`fuzz/`), run on stable in every test run: the
//! committed seeds, random bytes, and the seeds with random edits must never panic.

use proptest::prelude::*;
use provider_docker_engine::fuzzing;

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/translate");
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|f| std::fs::read(f.path()).unwrap())
        .collect()
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(seeds()),
        proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..6),
    )
        .prop_map(|(mut bytes, edits)| {
            for (pos, byte, op) in edits {
                let at = pos % bytes.len().max(1);
                match op {
                    0 if !bytes.is_empty() => bytes[at] = byte,
                    1 => bytes.insert(at.min(bytes.len()), byte),
                    _ if !bytes.is_empty() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            bytes
        })
}

#[test]
fn the_seed_corpus_runs_through_the_target() {
    let seeds = seeds();
    assert!(seeds.len() >= 4);
    for seed in seeds {
        fuzzing::translate(&seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn translate_never_panics_on_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..128)) {
        fuzzing::translate(&data);
    }

    #[test]
    fn translate_never_panics_on_mutated_specs(data in mutated()) {
        fuzzing::translate(&data);
    }
}
