//! Service fields in their short and long forms: environment, env files, labels, command
//! and entrypoint, healthcheck, depends_on, deploy, restart, networks, hosts and the rest.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{assert_error, loaded, service, web};
use provider_docker_compose::{
    Condition, Dependency, DeviceCount, HealthTest, LoadInput, PullPolicy, RestartPolicy, load,
};

fn env_map(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
        .collect()
}

#[test]
fn environment_as_a_list_takes_bare_names_from_the_environment() {
    let yaml = web("environment:\n  - A=1\n  - B=x=y\n  - FROM_ENV\n  - NOT_SET\n  - EMPTY=");
    let vars = BTreeMap::from([("FROM_ENV".to_owned(), "here".to_owned())]);
    let l = load(&LoadInput::new("compose.yaml", yaml).with_environment(vars)).unwrap();
    assert_eq!(
        l.project.services["web"].environment,
        env_map(&[
            ("A", Some("1")),
            ("B", Some("x=y")),
            ("FROM_ENV", Some("here")),
            ("NOT_SET", None),
            ("EMPTY", Some(""))
        ])
    );
}

#[test]
fn environment_as_a_map_accepts_null_numbers_and_booleans() {
    let s = service(
        &web("environment:\n  A: 1\n  B: true\n  C: null\n  D: text\n  E: 1.5"),
        "web",
    );
    assert_eq!(
        s.environment,
        env_map(&[
            ("A", Some("1")),
            ("B", Some("true")),
            ("C", None),
            ("D", Some("text")),
            ("E", Some("1.5"))
        ])
    );
    assert_error(
        &web("environment:\n  A: [1]"),
        "services.web.environment.A",
        "must be a string, number, boolean or null",
    );
}

#[test]
fn env_files_are_read_through_the_caller_and_environment_wins() {
    let files = |p: &str| match p {
        "a.env" => Some("A=from-a\nB=from-a\n# comment\nexport C=\"quoted ${A}\"\n".to_owned()),
        "b.env" => Some("B=from-b\nRAW=${NOT}\n".to_owned()),
        _ => None,
    };
    let yaml = web(
        "env_file:\n  - a.env\n  - path: b.env\n    format: raw\n  - path: missing.env\n    required: false\nenvironment:\n  A: explicit",
    );
    let l = load(&LoadInput::new("compose.yaml", yaml).with_reader(&files)).unwrap();
    assert_eq!(
        l.project.services["web"].environment,
        env_map(&[
            ("A", Some("explicit")),
            ("B", Some("from-b")),
            ("C", Some("quoted from-a")),
            ("RAW", Some("${NOT}"))
        ])
    );
    assert!(l.warnings.iter().any(|w| w.contains("missing.env")));
    assert_error(
        &web("env_file: nope.env"),
        "services.web.env_file",
        "file \"nope.env\" not found",
    );
}

#[test]
fn labels_as_list_or_map_over_label_files() {
    let files = |p: &str| (p == "labels.env").then(|| "team=a\nowner=ops\n".to_owned());
    let yaml = web("label_file: labels.env\nlabels:\n  - team=b\n  - flag");
    let l = load(&LoadInput::new("compose.yaml", yaml).with_reader(&files)).unwrap();
    let labels = &l.project.services["web"].labels;
    assert_eq!(labels["team"], "b");
    assert_eq!(labels["owner"], "ops");
    assert_eq!(labels["flag"], "");
    let s = service(&web("labels: {com.example.n: 1}"), "web");
    assert_eq!(s.labels["com.example.n"], "1");
}

#[test]
fn command_and_entrypoint_strings_are_shell_split() {
    let s = service(
        &web("command: sh -c 'echo \"hi there\"'\nentrypoint: [\"/bin/tini\", \"--\"]"),
        "web",
    );
    assert_eq!(
        s.command,
        Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            "echo \"hi there\"".to_owned()
        ])
    );
    assert_eq!(
        s.entrypoint,
        Some(vec!["/bin/tini".to_owned(), "--".to_owned()])
    );
    assert_eq!(service(&web("command: []"), "web").command, Some(vec![]));
    assert_eq!(service(&web("command: null"), "web").command, None);
    assert_error(
        &web("command: echo 'oops"),
        "services.web.command",
        "unterminated single quote",
    );
    assert_error(
        &web("command: [1, 2]"),
        "services.web.command[0]",
        "must be a string",
    );
}

#[test]
fn healthcheck_test_forms_and_durations() {
    let s = service(
        &web(
            "healthcheck:\n  test: curl -f http://localhost\n  interval: 1m30s\n  timeout: 10s\n  start_period: 1h\n  start_interval: 500ms\n  retries: 3",
        ),
        "web",
    );
    let h = s.healthcheck.unwrap();
    assert_eq!(
        h.test,
        Some(HealthTest::Shell("curl -f http://localhost".into()))
    );
    assert_eq!(h.interval, Some(Duration::from_secs(90)));
    assert_eq!(h.timeout, Some(Duration::from_secs(10)));
    assert_eq!(h.start_period, Some(Duration::from_secs(3600)));
    assert_eq!(h.start_interval, Some(Duration::from_millis(500)));
    assert_eq!(h.retries, Some(3));
    let test = |t: &str| {
        service(&web(&format!("healthcheck:\n  test: {t}")), "web")
            .healthcheck
            .unwrap()
            .test
    };
    assert_eq!(
        test("[\"CMD\", \"pg_isready\", \"-U\", \"app\"]"),
        Some(HealthTest::Cmd(vec![
            "pg_isready".into(),
            "-U".into(),
            "app".into()
        ]))
    );
    assert_eq!(
        test("[\"CMD-SHELL\", \"exit 0\"]"),
        Some(HealthTest::Shell("exit 0".into()))
    );
    assert_eq!(test("[\"NONE\"]"), Some(HealthTest::Disabled));
    let disabled = service(&web("healthcheck:\n  disable: true"), "web")
        .healthcheck
        .unwrap();
    assert_eq!(disabled.test, Some(HealthTest::Disabled));
    assert_error(
        &web("healthcheck:\n  test: [curl, x]"),
        "services.web.healthcheck.test[0]",
        "start with NONE, CMD or CMD-SHELL",
    );
    assert_error(
        &web("healthcheck:\n  interval: 10"),
        "services.web.healthcheck.interval",
        "must be a string",
    );
    assert_error(
        &web("healthcheck:\n  interval: 10 seconds"),
        "services.web.healthcheck.interval",
        "is not a valid duration",
    );
}

#[test]
fn depends_on_as_list_or_map_with_conditions() {
    let yaml = "services:
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy, restart: true}
      migrate: {condition: service_completed_successfully}
      cache: {condition: service_started, required: false}
  db: {image: postgres}
  migrate: {image: app, depends_on: [db]}
";
    let l = loaded(yaml);
    let w = &l.project.services["web"];
    assert_eq!(
        w.depends_on["db"],
        Dependency {
            condition: Condition::ServiceHealthy,
            restart: true,
            required: true
        }
    );
    assert_eq!(
        w.depends_on["migrate"].condition,
        Condition::ServiceCompletedSuccessfully
    );
    assert!(
        !w.depends_on.contains_key("cache"),
        "an optional missing dependency is dropped"
    );
    assert_eq!(
        l.project.services["migrate"].depends_on["db"],
        Dependency::default()
    );
    assert_eq!(l.project.start_order().unwrap(), ["db", "migrate", "web"]);
    assert_error(
        &web("depends_on: {db: {restart: true}}"),
        "services.web.depends_on.db",
        "condition: is required",
    );
    assert_error(
        &web("depends_on: {db: {condition: ready}}"),
        "services.web.depends_on.db.condition",
        "is not a condition",
    );
}

#[test]
fn deploy_resources_replicas_and_restart_policy() {
    let s = service(
        &web(
            "deploy:\n  replicas: 3\n  resources:\n    limits: {cpus: '0.5', memory: 512m, pids: 100}\n    reservations:\n      memory: 1g\n      devices: [{capabilities: [gpu], count: all, driver: nvidia}]\n  restart_policy: {condition: on-failure, max_attempts: 5}",
        ),
        "web",
    );
    assert_eq!(s.replicas(), 3);
    let d = s.deploy.unwrap();
    let limits = d.resources.limits.unwrap();
    assert_eq!(
        (limits.cpus, limits.memory, limits.pids),
        (Some(0.5), Some(512 << 20), Some(100))
    );
    let reservations = d.resources.reservations.unwrap();
    assert_eq!(reservations.memory, Some(1 << 30));
    assert!(matches!(
        reservations.devices[0].count,
        Some(DeviceCount::All(_))
    ));
    assert_eq!(
        s.restart,
        Some(RestartPolicy::OnFailure {
            max_retries: Some(5)
        })
    );
    assert_eq!(service(&web("scale: 2"), "web").replicas(), 2);
    assert_eq!(service(&web(""), "web").replicas(), 1);
    assert_error(
        &web("scale: 2\ndeploy: {replicas: 3}"),
        "services.web.scale",
        "disagree",
    );
    assert_error(
        &web("deploy:\n  resources:\n    limits: {memory: 512}"),
        "services.web.deploy.resources.limits.memory",
        "must be a size string",
    );
}

#[test]
fn swarm_only_deploy_fields_are_reported() {
    let l = loaded(&web(
        "deploy:\n  mode: global\n  placement: {constraints: [node.role==manager]}\n  update_config: {parallelism: 2}",
    ));
    let paths: Vec<&str> = l.unsupported.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "services.web.deploy.mode",
            "services.web.deploy.update_config",
            "services.web.deploy.placement"
        ]
    );
}

#[test]
fn restart_and_pull_policies() {
    let r = |p: &str| service(&web(&format!("restart: {p}")), "web").restart;
    assert_eq!(r("\"no\""), Some(RestartPolicy::No));
    assert_eq!(r("always"), Some(RestartPolicy::Always));
    assert_eq!(
        r("on-failure:3"),
        Some(RestartPolicy::OnFailure {
            max_retries: Some(3)
        })
    );
    assert_eq!(r("unless-stopped"), Some(RestartPolicy::UnlessStopped));
    assert_error(
        &web("restart: sometimes"),
        "services.web.restart",
        "is not a restart policy",
    );
    let p = |p: &str| service(&web(&format!("pull_policy: {p}")), "web").pull_policy;
    assert_eq!(p("if_not_present"), Some(PullPolicy::Missing));
    assert_eq!(
        p("daily"),
        Some(PullPolicy::Every(Duration::from_secs(86_400)))
    );
    assert_eq!(
        p("every_12h"),
        Some(PullPolicy::Every(Duration::from_secs(12 * 3600)))
    );
}
