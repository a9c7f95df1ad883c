//! Whole-file behaviour: interpolation, extends, include, override files, profiles, `x-`
//! extensions, `!reset`/`!override`, and the errors and reports a user sees.

mod common;

use std::collections::BTreeMap;

use common::{assert_error, errors, loaded, service, web};
use provider_docker_compose::{LoadInput, Project, load};

fn with_env(yaml: &str, vars: &[(&str, &str)]) -> LoadInput<'static> {
    let env: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    LoadInput::new("compose.yaml", yaml).with_environment(env)
}

#[test]
fn interpolation_applies_to_values_before_types_are_parsed() {
    let yaml = "services:\n  x:\n    image: ${IMAGE:-nginx}:${TAG-latest}\n    ports: [\"${PORT}:80\"]\n    privileged: ${PRIV}\n    scale: ${N}\n";
    let l = load(&with_env(
        yaml,
        &[
            ("PORT", "8080"),
            ("PRIV", "true"),
            ("N", "2"),
            ("NAME", "x"),
        ],
    ))
    .unwrap();
    let s = &l.project.services["x"];
    assert_eq!(s.image.as_deref(), Some("nginx:latest"));
    assert_eq!(s.ports[0].published.map(|p| p.start()), Some(8080));
    assert!(s.privileged);
    assert_eq!(s.scale, Some(2));
    let keys = load(&with_env(
        "services:\n  ${NAME}: {image: i}\n",
        &[("NAME", "x")],
    ))
    .unwrap_err();
    assert_eq!(
        keys.to_string(),
        "services[\"${NAME}\"]: is not a valid name; use letters, digits, ., _ and -"
    );
}

#[test]
fn missing_variables_become_empty_with_a_warning() {
    let l = load(&with_env(&web("environment: {A: \"x${MISSING}y\"}"), &[])).unwrap();
    assert_eq!(
        l.project.services["web"].environment["A"].as_deref(),
        Some("xy")
    );
    assert!(l.warnings.iter().any(|w| w == "services.web.environment.A: variable \"MISSING\" is not set; using an empty string"), "{:?}", l.warnings);
}

#[test]
fn required_variables_fail_with_their_message_and_path() {
    assert_error(
        &web("user: ${USER_ID:?set USER_ID to your uid}"),
        "services.web.user",
        "required variable USER_ID is missing a value: set USER_ID to your uid",
    );
    let input = with_env(&web("user: ${U?must exist}"), &[("U", "")]);
    assert_eq!(
        load(&input).unwrap().project.services["web"]
            .user
            .as_deref(),
        Some("")
    );
}

#[test]
fn alternatives_nested_defaults_and_escapes() {
    let yaml = web(
        "environment:\n  ALT: ${SET:+yes}\n  ALT2: ${UNSET+yes}\n  NESTED: ${UNSET:-${OTHER:-deep}}\n  ESC: $$HOME and $${X}",
    );
    let l = load(&with_env(&yaml, &[("SET", "1")])).unwrap();
    let env = &l.project.services["web"].environment;
    assert_eq!(env["ALT"].as_deref(), Some("yes"));
    assert_eq!(env["ALT2"].as_deref(), Some(""));
    assert_eq!(env["NESTED"].as_deref(), Some("deep"));
    assert_eq!(env["ESC"].as_deref(), Some("$HOME and ${X}"));
    assert_error(
        &web("command: echo $1"),
        "services.web.command",
        "write $$ for a literal $",
    );
}

#[test]
fn extensions_are_ignored_at_every_level_and_not_interpolated() {
    let yaml = "x-common: &common\n  image: nginx\n  restart: ${NEVER_CHECKED:?not needed}\nservices:\n  web:\n    <<: *common\n    restart: always\n    x-meta: {owner: me}\n    ports: [{target: 80, x-note: a}]\n    healthcheck: {test: [\"CMD\", \"true\"], x-why: b}\n    deploy: {x-d: 1, resources: {x-r: 1, limits: {x-l: 1}}}\nnetworks:\n  n: {x-n: 1}\nvolumes:\n  v: {x-v: 1}\n";
    let l = loaded(yaml);
    assert_eq!(l.project.services["web"].image.as_deref(), Some("nginx"));
}

#[test]
fn unknown_keys_are_all_reported_with_suggestions() {
    let errs = errors(
        "services:\n  web:\n    imagee: nginx\n    port: [80]\n    restrat: always\nvolume:\n  a: {}\n",
    );
    let paths: Vec<&str> = errs
        .iter()
        .map(|e| e.split(':').next().unwrap_or_default())
        .collect();
    for path in [
        "services.web.imagee",
        "services.web.port",
        "services.web.restrat",
        "volume",
    ] {
        assert!(paths.contains(&path), "{path} missing from {errs:?}");
    }
    assert!(
        errs.iter()
            .any(|e| e == "services.web.imagee: unknown key; did you mean \"image\"?"),
        "{errs:?}"
    );
}

#[test]
fn wrong_types_name_the_expected_type() {
    assert_error(
        "services:\n  web: {image: 123}\n",
        "services.web.image",
        "must be a string, not a number",
    );
    assert_error("services: [web]\n", "services", "must be a mapping");
    assert_error(
        &web("environment: 5"),
        "services.web.environment",
        "must be a mapping or a list",
    );
    assert_error(
        &web("scale: many"),
        "services.web.scale",
        "is not a whole number",
    );
}

#[test]
fn a_service_needs_an_image() {
    assert_error(
        "services:\n  web:\n    command: sleep 1\n",
        "services.web",
        "has neither image nor build",
    );
}

#[test]
fn empty_and_serviceless_files_are_clear_errors() {
    assert!(errors("# nothing here\n")[0].contains("is empty"));
    assert_error(
        "networks:\n  a: {}\n",
        "services",
        "no services are defined",
    );
    assert!(errors("services: {web: {image: [unclosed\n")[0].contains("is not valid YAML"));
}

#[test]
fn dependency_cycles_show_the_chain() {
    assert_error(
        "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n",
        "services.a.depends_on",
        "dependency cycle: a -> b -> a",
    );
    assert_error(
        "services:\n  a: {image: x, depends_on: [a]}\n",
        "services.a.depends_on",
        "cycle: a -> a",
    );
    assert_error(
        "services:\n  a: {image: x, depends_on: [ghost]}\n",
        "services.a.depends_on.ghost",
        "not defined",
    );
}

#[test]
fn build_is_reported_not_fatal() {
    let l = loaded(
        "services:\n  app:\n    build: {context: ., dockerfile: Dockerfile.dev, args: [A=1]}\n",
    );
    assert_eq!(l.unsupported[0].path, "services.app.build");
    let b = l.project.services["app"].build.clone().unwrap();
    assert_eq!(b.dockerfile.as_deref(), Some("Dockerfile.dev"));
    assert_error(
        "services:\n  app:\n    build: {contxt: .}\n",
        "services.app.build.contxt",
        "did you mean \"context\"",
    );
}

#[test]
fn unsupported_fields_are_listed_by_path() {
    let l = loaded(&web(
        "links: [db]\ndevelop: {watch: []}\npost_start: [{command: x}]\nblkio_config: {weight: 300}\nuse_api_socket: true",
    ));
    let paths: Vec<&str> = l.unsupported.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "services.web.develop",
            "services.web.post_start",
            "services.web.use_api_socket",
            "services.web.links",
            "services.web.blkio_config"
        ]
    );
}

#[test]
fn top_level_name_is_returned_and_checked() {
    assert_eq!(
        loaded(&format!("name: my-app\n{}", web("")))
            .name
            .as_deref(),
        Some("my-app")
    );
    assert_error(
        &format!("name: My App\n{}", web("")),
        "name",
        "not a valid project name",
    );
}

#[test]
fn the_project_serializes_with_compose_names_and_round_trips() {
    let l = loaded(&web("ports: ['127.0.0.1:8080:80/udp']\nhealthcheck: {test: [CMD, 'true'], interval: 1m30s}\nrestart: on-failure:2\nvolumes: [./a:/a:ro]\ndepends_on: {db: {condition: service_healthy}}\nstop_grace_period: 5s")
        .replace("services:\n", "services:\n  db: {image: pg}\n"));
    let json = serde_json::to_value(&l.project).unwrap();
    let web = &json["services"]["web"];
    assert_eq!(web["ports"][0]["host_ip"], "127.0.0.1");
    assert_eq!(web["ports"][0]["published"], 8080);
    assert_eq!(web["ports"][0]["protocol"], "udp");
    assert_eq!(web["healthcheck"]["interval"], "1m30s");
    assert_eq!(web["healthcheck"]["test"][0], "CMD");
    assert_eq!(web["restart"], "on-failure:2");
    assert_eq!(web["volumes"][0]["type"], "bind");
    assert_eq!(web["depends_on"]["db"]["condition"], "service_healthy");
    let back: Project = serde_json::from_value(json).unwrap();
    assert_eq!(back, l.project);
    let yaml = serde_yaml_ng::to_string(&l.project).unwrap();
    let back: Project = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(back, l.project);
    assert!(back.validate().is_ok());
}

#[test]
fn service_lookups_by_name_work_for_odd_names() {
    let s = service("services:\n  my.web_1: {image: nginx}\n", "my.web_1");
    assert_eq!(s.image.as_deref(), Some("nginx"));
    assert_error(
        "services:\n  my.web: {image: nginx, ports: [bad]}\n",
        "services[\"my.web\"].ports[0]",
        "not a valid port mapping",
    );
}
