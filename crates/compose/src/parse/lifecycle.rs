//! How a service runs over time: `healthcheck`, `depends_on`, `deploy` (replicas,
//! resources, restart policy), `ulimits`, `logging` and `gpus`.

use serde_yaml_ng::Value;

use super::fields::{
    Fields, boolean, count, display, duration, integer, strict_boolean, string, string_list,
};
use crate::error::{Ctx, Path};
use crate::model::{
    AllDevices, Condition, Dependency, DeviceCount, DeviceRequest, HealthTest, Healthcheck,
    Logging, Service, Ulimit,
};
use crate::yaml::kind;

fn health_test(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<HealthTest> {
    match v {
        Value::String(s) if s.trim().is_empty() => {
            ctx.error(
                p,
                "is empty; write the shell command to run, or NONE via disable: true",
            );
            None
        }
        Value::String(s) => Some(HealthTest::Shell(s.clone())),
        Value::Sequence(_) => {
            let list = string_list(ctx, p, v, false);
            if list.is_empty() {
                return None;
            }
            match HealthTest::try_from(list) {
                Ok(t) => Some(t),
                Err(e) => {
                    ctx.error(&p.index(0), e);
                    None
                }
            }
        }
        other => {
            ctx.error(
                p,
                format!("must be a string or a list, not {}", kind(other)),
            );
            None
        }
    }
}

fn healthcheck(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Healthcheck> {
    let keys = [
        "disable",
        "interval",
        "retries",
        "test",
        "timeout",
        "start_period",
        "start_interval",
    ];
    let f = Fields::new(ctx, p, v, &keys, false)?;
    let disable = f.with(ctx, "disable", boolean).unwrap_or_default();
    let mut test = f.with(ctx, "test", health_test);
    if disable {
        if test.as_ref().is_some_and(|t| *t != HealthTest::Disabled) {
            ctx.error(
                &f.at("disable"),
                "disable: true conflicts with test:; remove one of them",
            );
        }
        test = Some(HealthTest::Disabled);
    }
    Some(Healthcheck {
        test,
        interval: f.with(ctx, "interval", duration),
        timeout: f.with(ctx, "timeout", duration),
        retries: f.with(ctx, "retries", |c, p, v| count(c, p, v, true)),
        start_period: f.with(ctx, "start_period", duration),
        start_interval: f.with(ctx, "start_interval", duration),
    })
}

fn dependency(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Dependency> {
    let f = Fields::new(ctx, p, v, &["restart", "required", "condition"], false)?;
    let condition = match f.with(ctx, "condition", string).as_deref() {
        Some("service_started") => Condition::ServiceStarted,
        Some("service_healthy") => Condition::ServiceHealthy,
        Some("service_completed_successfully") => Condition::ServiceCompletedSuccessfully,
        Some(other) => {
            ctx.error(&f.at("condition"), format!("{other:?} is not a condition; use service_started, service_healthy or service_completed_successfully"));
            return None;
        }
        None => {
            if f.get("condition").is_none() {
                ctx.error(p, "condition: is required in the mapping form (service_started, service_healthy or service_completed_successfully)");
            }
            return None;
        }
    };
    Some(Dependency {
        condition,
        restart: f.with(ctx, "restart", boolean).unwrap_or_default(),
        required: f.with(ctx, "required", strict_boolean).unwrap_or(true),
    })
}

fn ulimit(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Ulimit> {
    match v {
        Value::Mapping(_) => {
            let f = Fields::new(ctx, p, v, &["soft", "hard"], false)?;
            let soft = f.with(ctx, "soft", |c, p, v| integer(c, p, v, true));
            let hard = f.with(ctx, "hard", |c, p, v| integer(c, p, v, true));
            match (soft, hard) {
                (Some(soft), Some(hard)) if soft <= hard => Some(Ulimit { soft, hard }),
                (Some(_), Some(_)) => {
                    ctx.error(p, "soft must not exceed hard");
                    None
                }
                _ => {
                    if f.get("soft").is_none() || f.get("hard").is_none() {
                        ctx.error(p, "needs both soft: and hard:, or a single number for both");
                    }
                    None
                }
            }
        }
        other => integer(ctx, p, other, true).map(|n| Ulimit { soft: n, hard: n }),
    }
}

fn logging(ctx: &mut Ctx, p: &Path, v: &Value) -> Option<Logging> {
    let f = Fields::new(ctx, p, v, &["driver", "options"], false)?;
    let options = f
        .with(ctx, "options", |c, p, v| {
            let Value::Mapping(m) = v else {
                c.error(p, format!("must be a mapping, not {}", kind(v)));
                return None;
            };
            Some(
                m.iter()
                    .filter_map(|(k, val)| {
                        let key = k.as_str().unwrap_or_default().to_owned();
                        match val {
                            Value::Null => None,
                            Value::String(s) => Some((key, s.clone())),
                            Value::Number(n) => Some((key, n.to_string())),
                            other => {
                                c.error(
                                    &p.key(&key),
                                    format!("must be a string or a number, not {}", display(other)),
                                );
                                None
                            }
                        }
                    })
                    .collect(),
            )
        })
        .unwrap_or_default();
    Some(Logging {
        driver: f.with(ctx, "driver", string),
        options,
    })
}

/// Reads `healthcheck`, `depends_on`, `deploy`, `ulimits`, `logging` and `gpus`.
pub(crate) fn read(ctx: &mut Ctx, f: &Fields<'_>, s: &mut Service) {
    s.healthcheck = f.with(ctx, "healthcheck", healthcheck);
    if let Some(v) = f.get("depends_on") {
        let p = f.at("depends_on");
        match v {
            Value::Sequence(_) => {
                for name in string_list(ctx, &p, v, true) {
                    s.depends_on.insert(name, Dependency::default());
                }
            }
            Value::Mapping(m) => {
                for (k, val) in m {
                    let name = k.as_str().unwrap_or_default();
                    if let Some(d) = dependency(ctx, &p.key(name), val) {
                        s.depends_on.insert(name.to_owned(), d);
                    }
                }
            }
            other => ctx.error(
                &p,
                format!(
                    "must be a list of service names or a mapping, not {}",
                    kind(other)
                ),
            ),
        }
    }
    if let Some(v) = f.get("deploy") {
        s.deploy = super::deploy::deploy(ctx, &f.at("deploy"), v, s);
    }
    if let (Some(scale), Some(replicas)) = (s.scale, s.deploy.as_ref().and_then(|d| d.replicas))
        && scale != replicas
    {
        ctx.error(
            &f.at("scale"),
            format!("scale: {scale} and deploy.replicas: {replicas} disagree; set only one"),
        );
    }
    if let Some(v) = f.get("ulimits") {
        let p = f.at("ulimits");
        match v {
            Value::Mapping(m) => {
                for (k, val) in m {
                    let name = k.as_str().unwrap_or_default();
                    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase()) {
                        ctx.error(&p.key(name), "is not a ulimit name such as nofile or nproc");
                        continue;
                    }
                    if let Some(u) = ulimit(ctx, &p.key(name), val) {
                        s.ulimits.insert(name.to_owned(), u);
                    }
                }
            }
            other => ctx.error(&p, format!("must be a mapping, not {}", kind(other))),
        }
    }
    s.logging = f.with(ctx, "logging", logging);
    if let Some(v) = f.get("gpus") {
        let p = f.at("gpus");
        s.gpus = match v {
            Value::String(all) if all == "all" => vec![DeviceRequest {
                capabilities: vec!["gpu".to_owned()],
                count: Some(DeviceCount::All(AllDevices::All)),
                ..DeviceRequest::default()
            }],
            Value::String(other) => {
                ctx.error(
                    &p,
                    format!("{other:?} is not valid; use all or a list of device requests"),
                );
                Vec::new()
            }
            other => super::deploy::device_requests(ctx, &p, other, false),
        };
    }
}
