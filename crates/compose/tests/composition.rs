//! Files made of other files: `extends` (same file, other file, cycles), `include`
//! (local through the reader, remote reported), override files, `!reset`/`!override`, profiles.

mod common;

use common::{assert_error, errors, loaded, web};
use provider_docker_compose::{LoadInput, load};

#[test]
fn extends_within_the_file_merges_by_compose_rules() {
    let yaml = "services:
  base:
    image: nginx
    environment: [A=1, B=2]
    ports: ['80:80']
    command: [a]
    labels: {team: x}
  web:
    extends: base
    environment: {B: '3'}
    ports: ['443:443']
    command: [b]
  reset:
    extends: {service: base}
    ports: !reset []
    labels: !override {only: me}
";
    let l = loaded(yaml);
    let w = &l.project.services["web"];
    assert_eq!(w.environment["A"].as_deref(), Some("1"));
    assert_eq!(w.environment["B"].as_deref(), Some("3"));
    assert_eq!(w.ports.len(), 2);
    assert_eq!(w.command, Some(vec!["b".to_owned()]));
    let r = &l.project.services["reset"];
    assert!(r.ports.is_empty());
    assert_eq!(r.labels.keys().collect::<Vec<_>>(), ["only"]);
}

#[test]
fn extends_from_another_file_resolves_its_paths_there() {
    let files = |p: &str| {
        match p {
        "common/base.yaml" => Some("services:\n  app:\n    image: app\n    env_file: app.env\n    volumes: [./data:/data]\n".to_owned()),
        "common/app.env" => Some("FROM_FILE=1\n".to_owned()),
        _ => None,
    }
    };
    let yaml = "services:\n  web:\n    extends: {file: ./common/base.yaml, service: app}\n";
    let l = load(&LoadInput::new("compose.yaml", yaml).with_reader(&files)).unwrap();
    let s = &l.project.services["web"];
    assert_eq!(s.environment["FROM_FILE"].as_deref(), Some("1"));
    assert_eq!(s.volumes[0].target(), "/data");
    assert!(
        matches!(&s.volumes[0], provider_docker_compose::Mount::Bind(b) if b.source == "./common/data")
    );
}

#[test]
fn extends_problems_are_errors_with_paths() {
    assert_error(
        "services:\n  a: {extends: b}\n  b: {extends: a}\n",
        "services.a.extends",
        "extends cycle: a -> b -> a",
    );
    assert_error(
        "services:\n  a: {extends: nope}\n",
        "services.a.extends",
        "\"nope\" to extend is not defined",
    );
    assert_error(
        "services:\n  a: {extends: {file: other.yaml, service: x}}\n",
        "services.a.extends.file",
        "not found",
    );
    assert_error(
        "services:\n  a: {extends: {service: x, bogus: 1}}\n  x: {image: i}\n",
        "services.a.extends.bogus",
        "unknown key",
    );
}

#[test]
fn remote_extends_and_includes_are_reported_not_fetched() {
    let yaml = "include:\n  - https://example.com/compose.yaml\n  - path: git@github.com:org/repo.git\nservices:\n  a:\n    extends: {file: 'oci://registry/app', service: x}\n  b: {image: i}\n";
    let l = loaded(yaml);
    let paths: Vec<&str> = l.unsupported.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        ["include[0]", "include[1]", "services.a.extends.file"]
    );
}

#[test]
fn local_includes_come_from_the_reader_with_their_own_env() {
    let files = |p: &str| {
        match p {
        "db/compose.yaml" => Some("services:\n  db:\n    image: postgres:${PG:-15}\n    volumes: [./init:/docker-entrypoint-initdb.d]\nvolumes:\n  pg: {}\n".to_owned()),
        "db/.env" => Some("PG=16\n".to_owned()),
        _ => None,
    }
    };
    let yaml = "include: [db/compose.yaml]\nservices:\n  web: {image: nginx, depends_on: [db]}\n";
    let l = load(&LoadInput::new("compose.yaml", yaml).with_reader(&files)).unwrap();
    assert_eq!(
        l.project.services["db"].image.as_deref(),
        Some("postgres:16")
    );
    assert!(l.project.volumes.contains_key("pg"));
    assert!(
        matches!(&l.project.services["db"].volumes[0], provider_docker_compose::Mount::Bind(b) if b.source == "./db/init")
    );
    let conflict = "include: [db/compose.yaml]\nservices:\n  db: {image: mysql}\n";
    let err = load(&LoadInput::new("compose.yaml", conflict).with_reader(&files)).unwrap_err();
    assert!(
        err.to_string()
            .contains("services.db: is defined both here and in the included"),
        "{err}"
    );
    assert!(
        errors("include: [missing.yaml]\nservices: {a: {image: i}}\n")[0].contains("not found")
    );
}

#[test]
fn override_files_merge_onto_the_main_file() {
    let input = LoadInput::new("compose.yaml", web("ports: ['80:80']\nenvironment: {A: '1'}"))
        .with_override("compose.override.yaml", "services:\n  web:\n    image: nginx:1.27\n    environment: {B: '2'}\n    ports: !override ['8080:80']\n");
    let l = load(&input).unwrap();
    let s = &l.project.services["web"];
    assert_eq!(s.image.as_deref(), Some("nginx:1.27"));
    assert_eq!(s.environment.len(), 2);
    assert_eq!(s.ports.len(), 1);
    assert_eq!(s.ports[0].published.map(|p| p.start()), Some(8080));
}

#[test]
fn profiles_select_services() {
    let yaml = "services:\n  web: {image: nginx}\n  debug: {image: busybox, profiles: [debug], build: .}\n  needs_debug: {image: x, profiles: [tools], depends_on: [debug]}\n";
    let l = loaded(
        "services:\n  web: {image: nginx}\n  debug: {image: busybox, profiles: [debug], build: .}\n",
    );
    assert_eq!(l.project.services.keys().collect::<Vec<_>>(), ["web"]);
    assert_eq!(l.disabled_services, ["debug"]);
    assert!(l.unsupported.is_empty(), "disabled services report nothing");
    let input =
        LoadInput::new("compose.yaml", yaml).with_profiles(vec!["debug".into(), "tools".into()]);
    assert_eq!(load(&input).unwrap().project.services.len(), 3);
    let input = LoadInput::new("compose.yaml", yaml).with_profiles(vec!["tools".into()]);
    let err = load(&input).unwrap_err().to_string();
    assert!(
        err.contains(
            "depends on service \"debug\", which is disabled; activate one of its profiles (debug)"
        ),
        "{err}"
    );
    let input = LoadInput::new("compose.yaml", yaml).with_profiles(vec!["*".into()]);
    assert_eq!(load(&input).unwrap().project.services.len(), 3);
}

#[test]
fn self_including_relative_paths_stop_at_a_nesting_limit() {
    let echo = |_: &str| {
        Some(
            "include: [sub/c.yaml]\nservices:\n  s:\n    extends: {file: sub/c.yaml, service: s}\n"
                .to_owned(),
        )
    };
    let input = LoadInput::new("c.yaml", echo("").unwrap_or_default()).with_reader(&echo);
    let err = load(&input).unwrap_err().to_string();
    assert!(err.contains("nested more than 32 deep"), "{err}");
}

#[test]
fn self_extending_relative_paths_stop_at_a_nesting_limit() {
    let echo =
        |_: &str| Some("services:\n  s:\n    extends: {file: sub/c.yaml, service: s}\n".to_owned());
    let input = LoadInput::new("c.yaml", echo("").unwrap_or_default()).with_reader(&echo);
    let err = load(&input).unwrap_err().to_string();
    assert!(
        err.contains("extends chains more than 32 services deep"),
        "{err}"
    );
}

#[test]
fn branching_includes_stop_at_a_file_limit() {
    // Each file includes two others below it: exponential without a limit on files.
    let echo =
        |_: &str| Some("include: [a/c.yaml, b/c.yaml]\nservices:\n  s: {image: i}\n".to_owned());
    let input = LoadInput::new("c.yaml", echo("").unwrap_or_default()).with_reader(&echo);
    let err = load(&input).unwrap_err().to_string();
    assert!(err.contains("more than 256 files"), "{err}");
}
