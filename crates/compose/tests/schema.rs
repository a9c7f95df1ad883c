//! Agreement with the official Compose Specification JSON Schema: what the schema rejects
//! the crate rejects too, what both should accept both accept, and every fixture the crate
//! loads is valid for the schema. Semantic checks the schema cannot express are listed apart.

mod common;

use std::sync::OnceLock;

use common::{fixtures, load_fixture, load_str, reference_dir, yaml_to_json};

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = reference_dir().join("compose-spec.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let schema: serde_json::Value =
            serde_json::from_str(&text).expect("compose-spec.json is JSON");
        jsonschema::draft7::new(&schema).expect("compose-spec.json is a valid draft-07 schema")
    })
}

fn schema_errors(yaml: &str) -> Vec<String> {
    let json = yaml_to_json(yaml).unwrap_or_else(|| panic!("test document is not YAML:\n{yaml}"));
    validator()
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Documents both must accept.
const VALID: &[&str] = &[
    "services:\n  web:\n    image: nginx\n",
    "services:\n  web:\n    image: nginx\n    ports: [80, \"8080:80\", \"127.0.0.1::81\", \"[::1]:82:82\", \"9000-9001:90-91/udp\"]\n",
    "services:\n  web:\n    image: nginx\n    ports:\n      - {target: 80, published: \"8080\", host_ip: 127.0.0.1, protocol: tcp, mode: host, name: http, app_protocol: http}\n",
    "services:\n  web:\n    image: nginx\n    volumes: [\"./a:/a:ro,z\", \"data:/data\", /anon, {type: bind, source: ./b, target: /b, bind: {propagation: rshared, create_host_path: true, selinux: z}}, {type: volume, source: data, target: /v, volume: {nocopy: true, subpath: s}}, {type: tmpfs, target: /t, tmpfs: {size: 1000, mode: 1777}}]\nvolumes:\n  data: {driver: local, driver_opts: {type: none}, labels: [a=b]}\n",
    "services:\n  web:\n    image: nginx\n    environment: [A=1, B, C=]\n",
    "services:\n  web:\n    image: nginx\n    environment: {A: 1, B: true, C: null, D: text}\n",
    "services:\n  web:\n    image: nginx\n    env_file: [{path: missing.env, required: false}]\n",
    "services:\n  web:\n    image: nginx\n    command: nginx -g 'daemon off;'\n    entrypoint: [/docker-entrypoint.sh]\n",
    "services:\n  web:\n    image: nginx\n    depends_on: [db]\n  db:\n    image: postgres\n    depends_on: {cache: {condition: service_healthy, restart: true, required: true}}\n  cache:\n    image: redis\n",
    "services:\n  web:\n    image: nginx\n    healthcheck: {test: [CMD-SHELL, curl -f localhost], interval: 1m30s, timeout: 10s, retries: 3, start_period: 40s, start_interval: 5s}\n",
    "services:\n  web:\n    image: nginx\n    healthcheck: {disable: true}\n",
    "services:\n  web:\n    image: nginx\n    deploy: {replicas: 2, resources: {limits: {cpus: '0.5', memory: 512m, pids: 100}, reservations: {cpus: 0.25, memory: 128m, devices: [{capabilities: [gpu], count: 1}]}}}\n",
    "services:\n  web:\n    image: nginx\n    restart: unless-stopped\n    scale: 2\n",
    "services:\n  web:\n    image: nginx\n    networks:\n      front: {aliases: [site], ipv4_address: 172.16.0.10, priority: 100}\n      back:\nnetworks:\n  front: {ipam: {driver: default, config: [{subnet: 172.16.0.0/24, gateway: 172.16.0.1}]}}\n  back: {internal: true, labels: {a: b}}\n",
    "services:\n  web:\n    image: nginx\n    networks: [front]\nnetworks:\n  front: {external: true, name: shared}\n",
    "services:\n  web:\n    image: nginx\n    labels: [com.example.a=1]\n  db:\n    image: pg\n    labels: {com.example.b: \"2\"}\n",
    "services:\n  web:\n    image: nginx\n  debug:\n    image: busybox\n    profiles: [debug]\n",
    "services:\n  base:\n    image: nginx\n  web:\n    extends: base\n  api:\n    extends: {service: base}\n",
    "x-common: {a: 1}\nservices:\n  web:\n    image: nginx\n    x-meta: 1\n    ports: [{target: 80, x-p: 1}]\n    deploy: {x-d: 1, resources: {x-r: 1}}\nnetworks:\n  n: {x-n: 1}\nvolumes:\n  v: {x-v: 1}\n",
    "services:\n  web:\n    image: nginx\n    secrets: [s, {source: t, target: /run/t, uid: '1', gid: '1', mode: 0400}]\n    configs: [{source: c, target: /etc/c}]\nsecrets:\n  s: {file: ./s.txt}\n  t: {environment: TOKEN}\nconfigs:\n  c: {content: hello}\n",
    "services:\n  web:\n    image: nginx\n    container_name: web-1\n    hostname: web\n    domainname: example.com\n    user: \"1000\"\n    working_dir: /app\n    stop_signal: SIGINT\n    stop_grace_period: 20s\n    privileged: false\n    read_only: true\n    cap_add: [NET_ADMIN]\n    cap_drop: [ALL]\n    devices: [/dev/fuse]\n    dns: [8.8.8.8]\n    dns_search: example.com\n    init: true\n    ipc: shareable\n    pid: host\n    tmpfs: [/run]\n    shm_size: 64m\n    sysctls: {net.core.somaxconn: 1024}\n    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}\n    security_opt: [no-new-privileges:true]\n    logging: {driver: json-file, options: {max-size: 10m}}\n    pull_policy: always\n    tty: true\n    stdin_open: true\n    platform: linux/amd64\n",
    "services:\n  web:\n    image: nginx\n    extra_hosts: [host1:10.0.0.1, host2=10.0.0.2]\n  db:\n    image: pg\n    extra_hosts: {host3: 10.0.0.3, host4: [10.0.0.4, 10.0.0.5]}\n",
    "services:\n  web:\n    image: nginx\n    build: {context: ., dockerfile: Dockerfile, args: [A=1]}\n",
    "name: my-app\nversion: \"3.9\"\nservices:\n  web:\n    image: nginx\n",
    "include: [https://example.com/compose.yaml]\nservices:\n  web:\n    image: nginx\n",
    "services:\n  web:\n    image: nginx\n    gpus: all\n    network_mode: host\n",
    "services:\n  web:\n    image: nginx\n    volumes_from: [db:ro]\n  db:\n    image: pg\n",
    "services:\n  web:\n    image: nginx\n    mem_limit: 1g\n    memswap_limit: -1\n    cpus: 1.5\n    cpu_shares: 512\n    pids_limit: 100\n    oom_score_adj: -500\n    expose: [\"3000\", 4000]\n",
];

/// Documents the schema rejects; the crate must reject each one too.
const INVALID: &[&str] = &[
    "servics:\n  web:\n    image: nginx\n",
    "services:\n  web:\n    imagee: nginx\n",
    "services:\n  web:\n    image: 123\n",
    "services:\n  web:\n    image: nginx\n    ports: \"80:80\"\n",
    "services:\n  web:\n    image: nginx\n    ports: [true]\n",
    "services:\n  web:\n    image: nginx\n    ports: [{target: 80, foo: 1}]\n",
    "services:\n  web:\n    image: nginx\n    environment: 5\n",
    "services:\n  web:\n    image: nginx\n    environment: {A: [1]}\n",
    "services:\n  web:\n    image: nginx\n    command: 5\n",
    "services:\n  web:\n    image: nginx\n    depends_on: {db: {restart: true}}\n  db:\n    image: pg\n",
    "services:\n  web:\n    image: nginx\n    depends_on: {db: {condition: started}}\n  db:\n    image: pg\n",
    "services:\n  web:\n    image: nginx\n    healthcheck: {interval: 10}\n",
    "services:\n  web:\n    image: nginx\n    healthcheck: {tests: [CMD, x]}\n",
    "services:\n  web:\n    image: nginx\n    healthcheck: {test: 5}\n",
    "services:\n  web:\n    image: nginx\n    deploy: {resources: {limits: {memory: 512}}}\n",
    "services:\n  web:\n    image: nginx\n    deploy: {replica: 2}\n",
    "services:\n  web:\n    image: nginx\n    restart: 5\n",
    "services:\n  web:\n    image: nginx\n    networks: {front: {alias: [x]}}\nnetworks:\n  front: {}\n",
    "services:\n  web:\n    image: nginx\n    volumes: [{source: ./a, target: /a}]\n",
    "services:\n  web:\n    image: nginx\n    volumes: [{type: disk, source: a, target: /a}]\n",
    "services:\n  web:\n    image: nginx\n    volumes: [{type: bind, source: ./a, target: /a, bind: {selinux: q}}]\n",
    "services:\n  web:\n    image: nginx\nvolumes:\n  data: {drivr: local}\n",
    "services:\n  web:\n    image: nginx\nsecrets:\n  s: {file: ./s, mode: 1}\n",
    "services:\n  web:\n    image: nginx\nconfigs:\n  c: {file: ./c, driver: x}\n",
    "services:\n  web:\n    image: nginx\n    cap_add: [NET_ADMIN, NET_ADMIN]\n",
    "services:\n  web:\n    image: nginx\n    ports: [\"80:80\", \"80:80\"]\n",
    "services:\n  web:\n    image: nginx\n    labels: [a=1, a=1]\n",
    "services:\n  web:\n    image: nginx\n    container_name: 5\n",
    "services:\n  web:\n    image: nginx\n    user: 1000\n",
    "services:\n  web:\n    image: nginx\n    privileged: []\n",
    "services:\n  \"bad name!\":\n    image: nginx\n",
    "services:\n  web:\n    image: nginx\n    cgroup: shared\n",
    "services:\n  web:\n    image: nginx\n    ulimits: {nofile: {soft: 1}}\n",
    "services:\n  web:\n    extends: {file: base.yaml}\n",
    "services:\n  base: {image: nginx}\n  web:\n    extends: {service: base, files: x}\n",
    "services:\n  web:\n    image: nginx\n    logging: {drivr: json-file}\n",
    "services:\n  web:\n    image: nginx\n    devices: [{target: /dev/x}]\n",
    "services:\n  web:\n    image: nginx\n    gpus: some\n",
    "include: [{paths: [a.yaml]}]\nservices:\n  web:\n    image: nginx\n",
    "services:\n  web:\n    image: nginx\n    env_file: [{path: a.env, requird: false}]\n",
    "services:\n  web:\n    image: nginx\n    scale: [1]\n",
    "services:\n  web:\n    image: nginx\n    dns: 5\n",
    "services:\n  web:\n    image: nginx\n    extra_hosts: 5\n",
    "services:\n  web:\n    image: nginx\n    pull_policy: sometimes\n",
    "services:\n  web:\n    image: nginx\n    stop_grace_period: 10\n",
    "services:\n  web:\n    image: nginx\n    tmpfs: 5\n",
    "services:\n  web:\n    image: nginx\n    expose: [true]\n",
    "services:\n  web:\n    image: nginx\n    blkio_config: {weigth: 300}\n",
    "services:\n  web:\n    image: nginx\n    oom_score_adj: 2000\n",
    "services:\n  web:\n    image: nginx\n    cpu_percent: 150\n",
    "name: 5\nservices:\n  web:\n    image: nginx\n",
    "services:\n  web:\n    image: nginx\nnetworks:\n  n: {drivers: bridge}\n",
    "services:\n  web:\n    image: nginx\nnetworks:\n  n: {ipam: {config: [{subnet: 10.0.0.0/24, range: x}]}}\n",
    "services:\n  web:\n    image: nginx\n    deploy: {resources: {reservations: {devices: [{count: 1}]}}}\n",
    "services:\n  web:\n    image: nginx\n    networks: [front, front]\nnetworks:\n  front: {}\n",
    "services:\n  web:\n    image: nginx\n    secrets: [{source: s, targt: /x}]\nsecrets:\n  s: {file: ./s}\n",
];

/// Documents valid for the schema that the crate rejects for reasons the schema cannot
/// express (semantics of strings, references between sections, cycles).
const SEMANTIC: &[&str] = &[
    "services:\n  web:\n    image: nginx\n    ports: [\"80:80:80\"]\n",
    "services:\n  web:\n    image: nginx\n    ports: [\"70000:80\"]\n",
    "services:\n  web:\n    image: nginx\n    healthcheck: {interval: 10 seconds}\n",
    "services:\n  web:\n    image: nginx\n    stop_grace_period: 1x\n",
    "services:\n  web:\n    image: nginx\n    mem_limit: lots\n",
    "services:\n  web:\n    image: nginx\n    volumes: [\"data:relative\"]\nvolumes:\n  data: {}\n",
    "services:\n  web:\n    image: nginx\n    networks: [nope]\n",
    "services:\n  web:\n    image: nginx\n    volumes: [\"nope:/data\"]\n",
    "services:\n  web:\n    image: nginx\n    secrets: [nope]\n",
    "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n",
    "services:\n  a: {image: x, depends_on: [a]}\n",
    "services:\n  a: {image: x, depends_on: [ghost]}\n",
    "services:\n  web:\n    command: sleep 1\n",
    "services:\n  web:\n    image: nginx\n    restart: sometimes\n",
    "services:\n  web:\n    image: nginx\n    scale: 2\n    deploy: {replicas: 3}\n",
    "services:\n  a: {extends: b}\n  b: {extends: a}\n",
    "services:\n  web:\n    image: \"${TAG:?set TAG}\"\n",
];

#[test]
fn documents_both_accept_are_accepted_by_both() {
    let mut failures = Vec::new();
    for doc in VALID {
        let schema = schema_errors(doc);
        if !schema.is_empty() {
            failures.push(format!(
                "schema rejected a valid document: {schema:?}\n{doc}"
            ));
        }
        if let Err(e) = load_str(doc) {
            failures.push(format!("crate rejected a valid document: {e}\n{doc}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn whatever_the_schema_rejects_the_crate_rejects() {
    let mut failures = Vec::new();
    for doc in INVALID {
        if schema_errors(doc).is_empty() {
            failures.push(format!(
                "the schema accepts this document, so it does not belong in INVALID:\n{doc}"
            ));
        }
        if load_str(doc).is_ok() {
            failures.push(format!(
                "the schema rejects this document but the crate loads it:\n{doc}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn semantic_errors_beyond_the_schema_are_rejected() {
    let mut failures = Vec::new();
    for doc in SEMANTIC {
        let schema = schema_errors(doc);
        if !schema.is_empty() {
            failures.push(format!(
                "the schema rejects this document, so it belongs in INVALID: {schema:?}\n{doc}"
            ));
        }
        if load_str(doc).is_ok() {
            failures.push(format!(
                "the crate loads a semantically invalid document:\n{doc}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn the_suite_is_large_enough_to_mean_something() {
    assert!(VALID.len() + INVALID.len() + SEMANTIC.len() >= 40);
}

#[test]
fn every_fixture_the_crate_loads_is_valid_for_the_schema() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for rel in fixtures() {
        if load_fixture(&rel).is_err() {
            continue;
        }
        checked += 1;
        let json = common::fixture_json(&rel);
        let errors: Vec<String> = validator()
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{rel}: {errors:?}"));
        }
    }
    assert!(checked >= 30, "only {checked} fixtures loaded");
    assert!(
        failures.is_empty(),
        "loadable fixtures the schema rejects:\n{}",
        failures.join("\n")
    );
}
