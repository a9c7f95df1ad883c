//! Service: a compose project expanded into child Containers, Networks and Volumes, each
//! with its own reconcile loop; depends_on gating, per-member recreation, suspend, and
//! deletion of every child.

use api::{
    CONDITION_READY, CONDITION_SYNCED, ConditionStatus, container::Container, network::Network,
    service::Service, volume::Volume,
};
use kube::Api;
use provider_docker_e2e::{
    DEADLINE, TestNs, docker_cli, exec, inspect, managed_ready, test_image, test_image_alt, wait,
};
use serde_json::json;

/// A three-tier stack: web needs api started, api needs a healthy db.
fn stack(api_env: &str, suspend: bool) -> serde_json::Value {
    let compose = format!(
        r#"
services:
  db:
    image: ${{IMAGE}}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost/"]
      interval: 1s
      start_period: 2s
      retries: 30
    volumes: [data:/data]
    restart: always
  api:
    image: ${{IMAGE}}
    depends_on: {{db: {{condition: service_healthy}}}}
    environment: {{DB_HOST: db, MODE: {api_env}}}
    restart: always
  web:
    image: ${{IMAGE}}
    depends_on: [api]
    restart: always
volumes:
  data: {{}}
"#
    );
    json!({"forProvider": {
        "compose": compose,
        "environment": {"IMAGE": test_image()},
        "suspend": suspend,
    }})
}

async fn started_at(name: &str) -> anyhow::Result<(String, String)> {
    let c = inspect(name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{name} is missing"))?;
    Ok((
        c.id.unwrap_or_default(),
        c.state.and_then(|s| s.started_at).unwrap_or_default(),
    ))
}

#[tokio::test]
async fn a_stack_starts_in_order_recreates_only_what_changed_suspends_and_goes()
-> anyhow::Result<()> {
    let ns = TestNs::new("svc-stack").await?;
    ns.apply_managed("Service", "shop", stack("v1", false))
        .await?;
    let services = ns.api::<Service>();
    let shop = managed_ready(&services, "shop").await?;
    let at = shop.status.and_then(|s| s.at_provider).expect("atProvider");
    assert_eq!(at.summary.as_deref(), Some("3/3"));
    assert_eq!(
        at.project.as_deref(),
        Some(format!("{}-shop", ns.name).as_str())
    );

    // Docker names as docker compose makes them; children named predictably.
    let project = format!("{}-shop", ns.name);
    let db = inspect(&format!("{project}-db-1")).await?.expect("db");
    let api = inspect(&format!("{project}-api-1")).await?.expect("api");
    let web = inspect(&format!("{project}-web-1")).await?.expect("web");
    let labels = db
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    assert_eq!(labels.get("com.docker.compose.project"), Some(&project));
    assert_eq!(
        labels.get("com.docker.compose.service").map(String::as_str),
        Some("db")
    );
    // api was created only once db was healthy: after db's first passing check.
    let healthy_at = db
        .state
        .as_ref()
        .and_then(|s| s.health.as_ref())
        .and_then(|h| h.log.as_ref())
        .and_then(|log| {
            log.iter()
                .find(|e| e.exit_code == Some(0))
                .and_then(|e| e.end.clone())
        })
        .expect("db has passed its health check");
    let api_created = api.created.clone().unwrap_or_default();
    let web_created = web.created.clone().unwrap_or_default();
    assert!(
        api_created > healthy_at,
        "api created {api_created}, db healthy {healthy_at}"
    );
    let api_started = api
        .state
        .as_ref()
        .and_then(|s| s.started_at.clone())
        .unwrap_or_default();
    assert!(
        web_created > api_started,
        "web created {web_created}, api started {api_started}"
    );
    // Reachable by service name on the project's network.
    assert!(ns.api::<Network>().get_opt("shop-default").await?.is_some());
    let reach = docker_cli(&[
        "exec",
        &format!("{project}-web-1"),
        "wget",
        "-q",
        "-O",
        "-",
        "http://db/",
    ])?;
    assert!(reach.contains("test image"), "{reach}");

    // Changing api recreates api only.
    let (db_id, _) = started_at(&format!("{project}-db-1")).await?;
    let (api_id, _) = started_at(&format!("{project}-api-1")).await?;
    let (web_id, _) = started_at(&format!("{project}-web-1")).await?;
    ns.apply_managed("Service", "shop", stack("v2", false))
        .await?;
    wait::until(DEADLINE, "api to be recreated", || async {
        Ok(started_at(&format!("{project}-api-1"))
            .await
            .is_ok_and(|(id, _)| id != api_id))
    })
    .await?;
    managed_ready(&ns.api::<Container>(), "shop-api-1").await?;
    assert_eq!(started_at(&format!("{project}-db-1")).await?.0, db_id);
    assert_eq!(started_at(&format!("{project}-web-1")).await?.0, web_id);

    // Suspend stops every member; resuming starts them again.
    ns.apply_managed("Service", "shop", stack("v2", true))
        .await?;
    for member in ["db", "api", "web"] {
        let name = format!("{project}-{member}-1");
        wait::until(DEADLINE, &format!("{name} to stop"), || async {
            Ok(inspect(&name)
                .await?
                .and_then(|c| c.state)
                .and_then(|s| s.running)
                == Some(false))
        })
        .await?;
    }
    let suspended = wait::value(DEADLINE, "the Service to say it is suspended", || async {
        let s = services.get("shop").await?;
        Ok(s.status
            .as_ref()
            .and_then(|st| st.managed.condition(CONDITION_READY))
            .and_then(|c| c.message.clone())
            .filter(|m| m.contains("suspended")))
    })
    .await?;
    assert!(suspended.contains("3 members"), "{suspended}");
    ns.apply_managed("Service", "shop", stack("v2", false))
        .await?;
    for member in ["db", "api", "web"] {
        let name = format!("{project}-{member}-1");
        wait::until(DEADLINE, &format!("{name} to run again"), || async {
            Ok(inspect(&name)
                .await?
                .and_then(|c| c.state)
                .and_then(|s| s.running)
                == Some(true))
        })
        .await?;
    }

    // Deleting the Service removes every child; the named volume and its data stay, as
    // with `docker compose down`.
    services.delete("shop", &Default::default()).await?;
    wait::until(DEADLINE, "the Service and its children to go", || async {
        let containers = ns.api::<Container>().list(&Default::default()).await?.items;
        let networks = ns.api::<Network>().list(&Default::default()).await?.items;
        let volumes = ns.api::<Volume>().list(&Default::default()).await?.items;
        Ok(services.get_opt("shop").await?.is_none()
            && containers.is_empty()
            && networks.is_empty()
            && volumes.is_empty())
    })
    .await?;
    for member in ["db", "api", "web"] {
        assert!(
            inspect(&format!("{project}-{member}-1")).await?.is_none(),
            "{member}"
        );
    }
    assert!(docker_cli(&["network", "inspect", &format!("{project}_default")]).is_err());
    let volume = format!("{project}_data");
    assert!(
        docker_cli(&["volume", "inspect", &volume]).is_ok(),
        "the named volume went"
    );
    docker_cli(&["volume", "rm", &volume])?;
    ns.finish().await
}

#[tokio::test]
async fn a_bad_project_is_refused_with_the_path_and_nothing_is_made() -> anyhow::Result<()> {
    let ns = TestNs::new("svc-bad").await?;
    let cases = [
        (
            "cycle",
            "services: {a: {image: x, depends_on: [b]}, b: {image: x, depends_on: [a]}}",
            "a -> b -> a",
        ),
        (
            "port",
            "services: {a: {image: x, ports: ['1:2:3:4']}}",
            "services.a.ports[0]",
        ),
        (
            "novar",
            "services: {a: {image: '${MISSING:?set MISSING}'}}",
            "required variable MISSING is missing a value: set MISSING",
        ),
        ("noimage", "services: {a: {build: .}}", "give image"),
    ];
    for (name, compose, _) in &cases {
        ns.apply_managed(
            "Service",
            name,
            json!({"forProvider": {"compose": compose}}),
        )
        .await?;
    }
    let services = ns.api::<Service>();
    for (name, _, says) in &cases {
        let message = wait::value(DEADLINE, &format!("{name} to be refused"), || async {
            let s = services.get(name).await?;
            Ok(s.status
                .as_ref()
                .and_then(|st| st.managed.condition(CONDITION_SYNCED))
                .filter(|c| c.status == ConditionStatus::False)
                .and_then(|c| c.message.clone())
                .filter(|m| m.contains(says)))
        })
        .await?;
        assert!(!message.is_empty());
    }
    assert!(
        ns.api::<Container>()
            .list(&Default::default())
            .await?
            .items
            .is_empty()
    );
    // Admission refuses a Service that gives its project two ways at once.
    let both = ns
        .apply_managed(
            "Service",
            "both",
            json!({"forProvider": {"compose": "services: {}", "project": {"services": {}}}}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(both.contains("exactly one way"), "{both}");
    ns.finish().await
}

#[tokio::test]
async fn the_loki_stack_example_becomes_ready() -> anyhow::Result<()> {
    let ns = TestNs::new("example-loki").await?;
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/service-loki-stack.yaml"
    ))?;
    ns.apply(&example).await?;
    let stack = managed_ready(&ns.api::<Service>(), "loki-stack").await?;
    let members = stack
        .status
        .and_then(|s| s.at_provider)
        .map(|a| a.members)
        .unwrap_or_default();
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|m| m.ready), "{members:?}");
    let (status, _) = provider_docker_e2e::http_get("127.0.0.1:13100", "/").await?;
    assert_eq!(status, 200);
    let project = format!("{}-loki-stack", ns.name);
    ns.finish().await?;
    let _ = docker_cli(&["volume", "rm", &format!("{project}_data")]);
    Ok(())
}

/// The files a project reads come from ConfigMap and Secret keys: an env_file, a base
/// service to extend, and a secret that reaches the container by reference only.
#[tokio::test]
async fn files_the_project_reads_come_from_config_maps_and_secrets() -> anyhow::Result<()> {
    let ns = TestNs::new("svc-files").await?;
    let password = "pw-planted-7d1f";
    ns.secret("db", "Opaque", json!({"password": password}))
        .await?;
    ns.apply(
        &json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "project"},
            "data": {
                "web.env": "GREETING=hello\n# a comment\nTARGET=${WHO:-world}\n",
                "base.yaml": "services:\n  base:\n    restart: always\n    labels: {tier: front}\n",
            },
        })
        .to_string(),
    )
    .await?;
    let compose = "services:\n  web:\n    image: ${IMAGE}\n    extends: {file: ./base.yaml, service: base}\n    env_file: ./web.env\n    secrets: [db_password]\nsecrets:\n  db_password: {file: ./secrets/db.txt}\n";
    let key = |name: &str, key: &str| json!({"name": name, "key": key});
    ns.apply_managed(
        "Service",
        "files",
        json!({"forProvider": {
            "compose": compose,
            "environment": {"IMAGE": test_image()},
            "envFiles": [
                {"path": "./web.env", "configMapKeyRef": key("project", "web.env")},
                {"path": "base.yaml", "configMapKeyRef": key("project", "base.yaml")},
                {"path": "./secrets/../secrets/db.txt", "secretKeyRef": key("db", "password")},
            ],
        }}),
    )
    .await?;
    managed_ready(&ns.api::<Service>(), "files").await?;
    let child = ns.api::<Container>().get("files-web-1").await?;
    let p = &child.spec.for_provider;
    let env: Vec<(String, String)> = p
        .env
        .iter()
        .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
        .collect();
    assert!(
        env.contains(&("GREETING".into(), "hello".into())),
        "{env:?}"
    );
    assert!(env.contains(&("TARGET".into(), "world".into())), "{env:?}");
    assert_eq!(p.labels.get("tier").map(String::as_str), Some("front"));
    let file = &p.files[0];
    assert_eq!(file.path, "/run/secrets/db_password");
    assert!(file.content.is_none() && file.secret_key_ref.is_some());
    assert!(!serde_json::to_string(&child)?.contains(password));
    let name = format!("{}-files-web-1", ns.name);
    assert_eq!(exec(&name, &["cat", "/run/secrets/db_password"])?, password);
    ns.finish().await
}

/// deploy.replicas gives one child per replica; scaling down removes the extra ones.
#[tokio::test]
async fn replicas_give_one_child_per_replica() -> anyhow::Result<()> {
    let ns = TestNs::new("svc-replicas").await?;
    let compose = "services:\n  worker:\n    image: ${IMAGE}\n    deploy: {replicas: 3}\n    restart: always\n";
    ns.apply_managed(
        "Service",
        "pool",
        json!({"forProvider": {"compose": compose, "environment": {"IMAGE": test_image_alt()}}}),
    )
    .await?;
    managed_ready(&ns.api::<Service>(), "pool").await?;
    let containers: Api<Container> = ns.api();
    for n in 1..=3 {
        assert!(
            containers
                .get_opt(&format!("pool-worker-{n}"))
                .await?
                .is_some()
        );
        assert!(
            inspect(&format!("{}-pool-worker-{n}", ns.name))
                .await?
                .is_some()
        );
    }
    // Scaling down removes the extra children.
    let compose = compose.replace("replicas: 3", "replicas: 1");
    ns.apply_managed(
        "Service",
        "pool",
        json!({"forProvider": {"compose": compose, "environment": {"IMAGE": test_image_alt()}}}),
    )
    .await?;
    wait::until(DEADLINE, "the extra workers to go", || async {
        Ok(inspect(&format!("{}-pool-worker-3", ns.name))
            .await?
            .is_none()
            && inspect(&format!("{}-pool-worker-2", ns.name))
                .await?
                .is_none())
    })
    .await?;
    ns.finish().await
}

#[tokio::test]
async fn convert_turns_a_compose_file_into_a_service_that_runs_and_reports_what_it_drops()
-> anyhow::Result<()> {
    let ns = TestNs::new("svc-convert").await?;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/e2e")
        .join(&ns.name);
    std::fs::create_dir_all(&dir)?;
    let compose = dir.join("compose.yaml");
    std::fs::write(
        &compose,
        "name: my_app\nservices:\n  web:\n    image: ${IMAGE}\n    restart: always\n    sysctls: {net.core.somaxconn: 1024}\n    x-note: for humans\n",
    )?;
    std::fs::write(dir.join(".env"), format!("IMAGE={}\n", test_image()))?;
    let convert = |extra: &[&str]| {
        std::process::Command::new(provider_docker_e2e::provider::binary())
            .arg("convert")
            .arg(&compose)
            .args(extra)
            .output()
    };
    let out = convert(&["--namespace", &ns.name])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr)?;
    let reported: Vec<&str> = stderr.lines().collect();
    assert_eq!(reported.len(), 1, "{stderr}");
    assert!(
        reported[0].starts_with("unsupported: services.web.sysctls: "),
        "{stderr}"
    );
    assert!(!convert(&["--strict"])?.status.success());
    ns.apply(&String::from_utf8(out.stdout)?).await?;
    let app = managed_ready(&ns.api::<Service>(), "my-app").await?;
    let at = app.status.and_then(|s| s.at_provider).expect("atProvider");
    assert_eq!(at.unsupported.len(), 1, "{:?}", at.unsupported);
    assert!(at.unsupported[0].starts_with("services.web.sysctls: "));
    assert!(
        inspect(&format!("{}-my-app-web-1", ns.name))
            .await?
            .is_some()
    );

    std::fs::write(&compose, "")?;
    let empty = convert(&[])?;
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&empty.stderr)
            .contains("empty; a compose file needs at least a services: section")
    );
    ns.finish().await
}
