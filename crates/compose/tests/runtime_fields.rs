//! Service fields about where and how the container runs: networks, extra hosts,
//! security and resource settings, secrets and configs.

mod common;

use std::time::Duration;

use common::{assert_error, loaded, service, web};
use provider_docker_compose::{NetworkMode, Ulimit};

#[test]
fn networks_as_list_or_map_with_addresses() {
    let yaml = "services:
  web:
    image: nginx
    networks:
      front:
        aliases: [site]
        ipv4_address: 172.16.238.10
        ipv6_address: 2001:3984:3989::10
        priority: 1000
      back:
  db: {image: postgres, networks: [back]}
  solo: {image: x, network_mode: host}
networks:
  front:
    ipam:
      config: [{subnet: 172.16.238.0/24}]
  back: {internal: true}
";
    let l = loaded(yaml);
    let nets = &l.project.services["web"].networks;
    assert_eq!(nets["front"].aliases, ["site"]);
    assert_eq!(
        nets["front"].ipv4_address.map(|a| a.to_string()).as_deref(),
        Some("172.16.238.10")
    );
    assert_eq!(
        nets["front"].ipv6_address.map(|a| a.to_string()).as_deref(),
        Some("2001:3984:3989::10")
    );
    assert_eq!(nets["front"].priority, Some(1000));
    assert!(nets.contains_key("back"));
    assert!(l.project.services["db"].networks.contains_key("back"));
    assert_eq!(
        l.project.services["solo"].network_mode,
        Some(NetworkMode::Host)
    );
    assert!(l.project.services["solo"].networks.is_empty());
    assert!(
        !l.project.networks.contains_key("default"),
        "nobody uses the default network"
    );
    assert_error(
        &web("networks: [nope]"),
        "services.web.networks.nope",
        "network \"nope\" is not defined",
    );
    assert_error(
        "services:\n  a: {image: x, networks: {n: {ipv4_address: 1.2.3}}}\nnetworks: {n: {}}\n",
        "services.a.networks.n.ipv4_address",
        "not an IPv4 address",
    );
    assert_error(
        &web("network_mode: \"service:ghost\""),
        "services.web.network_mode",
        "not defined",
    );
}

#[test]
fn services_without_networks_join_default() {
    let l = loaded(&web(""));
    assert!(l.project.services["web"].networks.contains_key("default"));
    assert!(l.project.networks.contains_key("default"));
}

#[test]
fn extra_hosts_as_list_or_map() {
    let s = service(
        &web(
            "extra_hosts:\n  - somehost:162.242.195.82\n  - other=50.31.209.229\n  - gw:host-gateway\n  - v6host:::1",
        ),
        "web",
    );
    assert_eq!(s.extra_hosts["somehost"], ["162.242.195.82"]);
    assert_eq!(s.extra_hosts["other"], ["50.31.209.229"]);
    assert_eq!(s.extra_hosts["gw"], ["host-gateway"]);
    assert_eq!(s.extra_hosts["v6host"], ["::1"]);
    let s = service(
        &web("extra_hosts:\n  multi: [\"10.0.0.1\", \"10.0.0.2\"]\n  one: 10.0.0.3"),
        "web",
    );
    assert_eq!(s.extra_hosts["multi"].len(), 2);
    assert_error(
        &web("extra_hosts: [\"nohost\"]"),
        "services.web.extra_hosts[0]",
        "not a valid host entry",
    );
}

#[test]
fn common_runtime_fields() {
    let s = service(
        &web(
            "container_name: my-web\nhostname: web\ndomainname: example.com\nuser: \"1000:1000\"\nworking_dir: /app\nstop_signal: SIGINT\nstop_grace_period: 1m30s\nprivileged: true\nread_only: \"true\"\ncap_add: [NET_ADMIN]\ncap_drop: [ALL]\ndevices: [\"/dev/fuse:/dev/fuse:rwm\", {source: /dev/sda, permissions: r}]\ndns: 8.8.8.8\ninit: true\nipc: host\npid: host\ntmpfs: /run\nshm_size: 256m\nsysctls: [net.core.somaxconn=1024]\nulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}\nsecurity_opt: [\"no-new-privileges:true\"]\nlogging: {driver: json-file, options: {max-size: 10m, max-file: 3}}\ntty: true\nstdin_open: true\nplatform: linux/amd64\nmem_limit: 1g\ncpus: 1.5\ngpus: all",
        ),
        "web",
    );
    assert_eq!(s.container_name.as_deref(), Some("my-web"));
    assert_eq!(s.user.as_deref(), Some("1000:1000"));
    assert_eq!(s.stop_grace_period, Some(Duration::from_secs(90)));
    assert!(s.privileged && s.read_only && s.tty && s.stdin_open);
    assert_eq!(s.init, Some(true));
    assert_eq!(s.devices.len(), 2);
    assert_eq!(s.devices[0].permissions.as_deref(), Some("rwm"));
    assert_eq!(s.dns, ["8.8.8.8"]);
    assert_eq!(s.tmpfs, ["/run"]);
    assert_eq!(s.shm_size, Some(256 << 20));
    assert_eq!(s.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(
        s.ulimits["nproc"],
        Ulimit {
            soft: 65535,
            hard: 65535
        }
    );
    assert_eq!(
        s.ulimits["nofile"],
        Ulimit {
            soft: 20000,
            hard: 40000
        }
    );
    let logging = s.logging.unwrap();
    assert_eq!(logging.options["max-file"], "3");
    assert_eq!(s.mem_limit, Some(1 << 30));
    assert_eq!(s.cpus, Some(1.5));
    assert_eq!(s.gpus.len(), 1);
    assert_error(
        &web("user: 1000"),
        "services.web.user",
        "must be a string, not a number",
    );
    assert_error(
        &web("privileged: maybe"),
        "services.web.privileged",
        "not a boolean",
    );
    assert_error(
        &web("shm_size: lots"),
        "services.web.shm_size",
        "not a valid size",
    );
    assert_error(
        &web("stop_grace_period: 1x"),
        "services.web.stop_grace_period",
        "not a valid duration",
    );
    assert_error(
        &web("cap_add: [NET_ADMIN, NET_ADMIN]"),
        "services.web.cap_add[1]",
        "must be unique",
    );
    assert_error(
        &web("container_name: \"-bad\""),
        "services.web.container_name",
        "not a valid container name",
    );
}

#[test]
fn secrets_and_configs_short_and_long() {
    let yaml = "services:
  web:
    image: nginx
    secrets: [db_pass, {source: tls, target: /certs/tls.key, uid: '100', gid: '101', mode: 0440}]
    configs: [{source: site, target: /etc/nginx/conf.d/site.conf, mode: \"0444\"}]
secrets:
  db_pass: {file: ./secrets/db.txt}
  tls: {environment: TLS_KEY}
configs:
  site: {content: 'server {}'}
";
    let l = loaded(yaml);
    let s = &l.project.services["web"];
    assert_eq!(s.secrets[0].source, "db_pass");
    assert_eq!(s.secrets[1].mode, Some(0o440));
    assert_eq!(s.configs[0].mode, Some(0o444));
    assert!(l.unsupported.is_empty());
    assert_error(
        &web("secrets: [nope]"),
        "services.web.secrets[0]",
        "secret \"nope\" is not defined",
    );
    let l = loaded(&format!(
        "{}secrets:\n  ext: {{external: true}}\n",
        web("secrets: [ext]")
    ));
    assert_eq!(l.unsupported[0].path, "secrets.ext.external");
}
