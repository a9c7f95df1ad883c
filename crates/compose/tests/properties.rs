//! Properties that hold for every input: short port syntax round-trips, `$$` is a literal
//! dollar, durations and sizes read back what was written, start orders respect
//! dependencies, and loading random YAML trees never panics.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use proptest::prelude::*;
use provider_docker_compose::interpolate::interpolate;
use provider_docker_compose::{
    Dependency, LoadInput, PortMapping, PortRange, Project, Protocol, Service, format_duration,
    load, parse_bytes, parse_duration, parse_port_mappings, shell,
};
use serde_yaml_ng::{Mapping, Value};

fn port_range() -> impl Strategy<Value = PortRange> {
    (1u16..=65535, 0u16..50).prop_map(|(start, width)| {
        PortRange::new(start, start.saturating_add(width))
            .unwrap_or_else(|| PortRange::single(start).unwrap())
    })
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>().prop_map(IpAddr::from)
    ]
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Sctp)
    ]
}

fn mapping() -> impl Strategy<Value = PortMapping> {
    (
        1u16..=65535,
        proptest::option::of(port_range()),
        proptest::option::of(ip()),
        protocol(),
    )
        .prop_map(|(target, published, host_ip, protocol)| PortMapping {
            published,
            host_ip,
            protocol,
            ..PortMapping::container(target)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn short_port_syntax_round_trips(m in mapping()) {
        let text = m.to_string();
        prop_assert_eq!(parse_port_mappings(&text), Ok(vec![m]), "text: {}", text);
    }

    #[test]
    fn equal_width_ranges_expand_to_one_mapping_per_port(host in 1u16..60000, container in 1u16..60000, width in 0u16..20) {
        let spec = format!("{}-{}:{}-{}", host, host + width, container, container + width);
        let got = parse_port_mappings(&spec).unwrap();
        prop_assert_eq!(got.len(), usize::from(width) + 1);
        for (i, m) in got.iter().enumerate() {
            let i = u16::try_from(i).unwrap();
            prop_assert_eq!(m.target, container + i);
            prop_assert_eq!(m.published, PortRange::single(host + i));
        }
    }

    #[test]
    fn port_parsing_never_panics(s in "\\PC{0,40}") {
        let _ = parse_port_mappings(&s);
    }

    #[test]
    fn double_dollar_is_always_a_literal_dollar(s in "\\PC{0,60}") {
        let escaped = s.replace('$', "$$");
        let out = interpolate(&escaped, &|_| Some("VALUE".to_owned())).unwrap();
        prop_assert_eq!(out.value, s);
        prop_assert!(out.missing.is_empty());
    }

    #[test]
    fn interpolation_never_panics(s in "[-$a-zA-Z_{}:?+ 0-9\\\\]{0,60}", set in any::<bool>()) {
        let _ = interpolate(&s, &|name| set.then(|| name.to_lowercase()));
    }

    #[test]
    fn interpolation_never_panics_on_any_text(s in "\\PC{0,80}") {
        let _ = interpolate(&s, &|_| None);
    }

    #[test]
    fn durations_round_trip(secs in 0u64..10_000_000, nanos in 0u32..1_000_000_000) {
        let d = Duration::new(secs, nanos);
        prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
    }

    #[test]
    fn sizes_scale_by_their_unit(n in 0u64..1_000_000, unit in 0usize..6) {
        let (suffix, shift) = [("", 0), ("b", 0), ("k", 10), ("m", 20), ("g", 30), ("kb", 10)][unit];
        prop_assert_eq!(parse_bytes(&format!("{n}{suffix}")), Ok(n << shift));
    }

    #[test]
    fn plain_words_split_back(words in proptest::collection::vec("[a-zA-Z0-9_./=-]{1,8}", 0..8)) {
        prop_assert_eq!(shell::split(&words.join(" ")).unwrap(), words);
    }

    #[test]
    fn start_order_puts_every_dependency_first(edges in proptest::collection::vec((0usize..8, 0usize..8), 0..20)) {
        // Only edges from a higher to a lower index: a DAG by construction.
        let mut project = Project::default();
        for i in 0..8 {
            project.services.insert(format!("s{i}"), Service::default());
        }
        for (a, b) in edges {
            if a > b
                && let Some(s) = project.services.get_mut(&format!("s{a}"))
            {
                s.depends_on.insert(format!("s{b}"), Dependency::default());
            }
        }
        let order = project.start_order().unwrap();
        prop_assert_eq!(order.len(), 8);
        for (name, s) in &project.services {
            let me = order.iter().position(|n| n == name).unwrap();
            for dep in s.depends_on.keys() {
                prop_assert!(order.iter().position(|n| n == dep).unwrap() < me);
            }
        }
    }
}

const KEYS: &[&str] = &[
    "services",
    "image",
    "ports",
    "volumes",
    "environment",
    "extends",
    "depends_on",
    "networks",
    "include",
    "service",
    "file",
    "condition",
    "build",
    "x-a",
    "healthcheck",
    "test",
    "deploy",
    "resources",
    "limits",
    "memory",
    "secrets",
    "configs",
    "profiles",
    "command",
    "name",
    "target",
    "published",
    "type",
    "source",
    "web",
    "db",
    "a",
    "labels",
    "env_file",
    "path",
    "restart",
    "scale",
    "replicas",
    "external",
    "ipam",
    "config",
    "subnet",
    "aliases",
];

const WORDS: &[&str] = &[
    "web",
    "db",
    "a",
    "nginx",
    "80:80",
    "127.0.0.1::80",
    "[::1]:80:80",
    "8080-8081:80-81/udp",
    "./data:/data:ro",
    "data:/data",
    "/anon",
    "${A}",
    "${B:-x}",
    "$$",
    "$",
    "${A:?no}",
    "1m30s",
    "512m",
    "service_healthy",
    "bind",
    "volume",
    "tmpfs",
    "always",
    "on-failure:3",
    "CMD",
    "NONE",
    "CMD-SHELL",
    "A=1",
    "B",
    "compose.yaml",
    "https://x/y.yaml",
    "",
    "true",
    "default",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..70000).prop_map(Value::from),
        (0.0f64..10.0).prop_map(Value::from),
        proptest::sample::select(WORDS).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
            proptest::collection::vec((proptest::sample::select(KEYS), inner.clone()), 0..6)
                .prop_map(|entries| {
                    Value::Mapping(
                        entries
                            .into_iter()
                            .map(|(k, v)| (Value::from(k), v))
                            .collect::<Mapping>(),
                    )
                }),
            (
                proptest::sample::select(&["reset", "override", "custom"][..]),
                inner
            )
                .prop_map(|(tag, value)| {
                    // YAML cannot write a tag directly on a tagged value.
                    let value = match value {
                        Value::Tagged(t) => t.value,
                        other => other,
                    };
                    Value::Tagged(Box::new(serde_yaml_ng::value::TaggedValue {
                        tag: serde_yaml_ng::value::Tag::new(tag),
                        value,
                    }))
                }),
        ]
    })
}

fn words(list: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::sample::select(list).prop_map(Value::from)
}

fn word_list(list: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::vec(proptest::sample::select(list), 0..3)
        .prop_map(|items| Value::Sequence(items.into_iter().map(Value::from).collect()))
}

fn yaml(text: &'static str) -> Value {
    serde_yaml_ng::from_str(text).unwrap_or(Value::Null)
}

/// One plausible service field, mostly valid, sometimes not.
fn field() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        word_list(&[
            "80",
            "8080:80",
            "127.0.0.1::81",
            "[::1]:82:82",
            "9000-9001:90-91/udp",
            "1:2:3"
        ])
        .prop_map(|v| ("ports".into(), v)),
        word_list(&["A=1", "B", "C=${A}", "D=$$x"]).prop_map(|v| ("environment".into(), v)),
        words(&["sleep 1", "echo 'a b'", "x \"y", ""]).prop_map(|v| ("command".into(), v)),
        word_list(&["web", "db", "a", "ghost"]).prop_map(|v| ("depends_on".into(), v)),
        word_list(&["./a:/a:ro", "/anon", "data:/d", "bad"]).prop_map(|v| ("volumes".into(), v)),
        words(&["always", "no", "on-failure:2", "later"]).prop_map(|v| ("restart".into(), v)),
        word_list(&["p", "q"]).prop_map(|v| ("profiles".into(), v)),
        word_list(&["front", "back"]).prop_map(|v| ("networks".into(), v)),
        Just((
            "healthcheck".to_owned(),
            yaml("{test: [CMD, 'true'], interval: 10s, retries: 3}")
        )),
        Just((
            "deploy".to_owned(),
            yaml("{replicas: 2, resources: {limits: {memory: 64m}}}")
        )),
        Just(("extends".to_owned(), yaml("{service: a}"))),
        Just(("build".to_owned(), yaml("."))),
        Just(("labels".to_owned(), yaml("{a: b, c: 1}"))),
        (proptest::sample::select(KEYS), tree()).prop_map(|(k, v)| (k.to_owned(), v)),
    ]
}

/// A file shaped like compose: services with an image and plausible fields, top-level
/// sections that are sometimes right, sometimes random.
fn compose_file() -> impl Strategy<Value = Value> {
    let service = proptest::collection::vec(field(), 0..5).prop_map(|fields| {
        let mut m = Mapping::new();
        m.insert("image".into(), "nginx".into());
        for (k, v) in fields {
            m.insert(Value::from(k), v);
        }
        Value::Mapping(m)
    });
    let services = proptest::collection::vec(
        (proptest::sample::select(&["web", "db", "a"][..]), service),
        1..4,
    );
    let extra = proptest::collection::vec(
        prop_oneof![
            Just((
                "networks".to_owned(),
                yaml("{front: {}, back: {internal: true}}")
            )),
            Just(("volumes".to_owned(), yaml("{data: {}}"))),
            Just(("name".to_owned(), yaml("app"))),
            (proptest::sample::select(KEYS), tree()).prop_map(|(k, v)| (k.to_owned(), v)),
        ],
        0..3,
    );
    (services, extra).prop_map(|(services, extra)| {
        let mut top = Mapping::new();
        for (k, v) in extra {
            top.insert(Value::from(k), v);
        }
        let mut svcs = Mapping::new();
        for (name, def) in services {
            svcs.insert(Value::from(name), def);
        }
        top.insert(Value::from("services"), Value::Mapping(svcs));
        Value::Mapping(top)
    })
}

fn load_text(text: &str) {
    let files = |_: &str| Some("services:\n  a: {image: i, extends: a}\n".to_owned());
    let env: BTreeMap<String, String> = [("A".to_owned(), "1".to_owned())].into();
    let input = LoadInput::new("compose.yaml", text)
        .with_reader(&files)
        .with_environment(env);
    if let Ok(l) = load(&input) {
        let _ = l.project.start_order();
        let json = serde_json::to_string(&l.project).unwrap();
        let back: Project = serde_json::from_str(&json).unwrap();
        assert_eq!(back, l.project);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn loading_random_compose_shaped_files_never_panics(doc in compose_file()) {
        let text = serde_yaml_ng::to_string(&doc).unwrap();
        load_text(&text);
    }

    #[test]
    fn loading_random_yaml_trees_never_panics(doc in tree()) {
        let text = serde_yaml_ng::to_string(&doc).unwrap();
        load_text(&text);
    }
}
