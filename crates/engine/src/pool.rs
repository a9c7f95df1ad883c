//! One Docker client per daemon, shared by every resource that uses it. Every Docker call
//! goes through [`Daemon::call`], which applies the daemon's concurrency limit and timeout,
//! maps errors once and reports the call to an optional observer (metrics).

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bollard::Docker;
use tokio::sync::Semaphore;

use crate::{
    error::{Error, Result},
    transport::Transport,
};

/// How to reach one daemon, as resolved from a provider config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonSettings {
    /// The address as the user wrote it, for messages.
    pub host: String,
    /// How to reach it, with its keys.
    pub transport: Transport,
    /// Bound on one API call.
    pub timeout: Duration,
    /// Bound on concurrent API calls to this daemon.
    pub max_concurrent_operations: usize,
    /// `(major, minor)` to pin the API version; `None` speaks the daemon's own.
    pub api_version: Option<(usize, usize)>,
}

/// Receives one report per Docker call, for metrics.
pub trait CallObserver: Send + Sync {
    fn observe(&self, daemon: &str, op: &'static str, elapsed: Duration, error: Option<&Error>);
}

/// A connected daemon: its client, limit and timeout.
pub struct Daemon {
    name: String,
    settings: DaemonSettings,
    docker: Docker,
    limit: Semaphore,
    observer: Option<Arc<dyn CallObserver>>,
    /// What the daemon last said about itself, and when (see `system::describe_recent`).
    pub(crate) facts: std::sync::Mutex<Option<(std::time::Instant, crate::system::DaemonFacts)>>,
    /// Container events our own calls are about to cause.
    pub(crate) own_events: crate::own_events::OwnEvents,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("name", &self.name)
            .field("host", &self.settings.host)
            .finish()
    }
}

impl Daemon {
    /// Connects lazily: no request is made until the first call.
    pub fn connect(
        name: &str,
        settings: DaemonSettings,
        observer: Option<Arc<dyn CallObserver>>,
    ) -> Result<Self> {
        // bollard's own timeout is a backstop for streams; calls get ours.
        let backstop = settings.timeout.as_secs().max(1) * 20;
        let pinned;
        let version = match settings.api_version {
            Some((major_version, minor_version)) => {
                pinned = bollard::ClientVersion {
                    major_version,
                    minor_version,
                };
                &pinned
            }
            None => bollard::API_DEFAULT_VERSION,
        };
        let docker =
            settings
                .transport
                .connect(backstop, version)
                .map_err(|e| Error::Unreachable {
                    daemon: name.into(),
                    detail: e.to_string(),
                })?;
        // bollard drops the version from request paths, so the daemon answers in its own
        // newest API (negotiated, in effect); a pinned version is put back in front.
        let docker = match settings.api_version {
            None => docker,
            Some((major, minor)) => docker.with_request_modifier(move |mut request| {
                let uri = request.uri();
                let path = uri.path_and_query().map_or("/", |p| p.as_str());
                if let Ok(pinned) = http::Uri::builder()
                    .scheme(uri.scheme_str().unwrap_or("http"))
                    .authority(uri.authority().map_or("docker", |a| a.as_str()))
                    .path_and_query(format!("/v{major}.{minor}{path}"))
                    .build()
                {
                    *request.uri_mut() = pinned;
                }
                request
            }),
        };
        Ok(Self {
            name: name.into(),
            limit: Semaphore::new(settings.max_concurrent_operations.max(1)),
            settings,
            docker,
            observer,
            facts: Default::default(),
            own_events: Default::default(),
        })
    }

    /// The daemon's name in messages: the provider config that describes it.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn settings(&self) -> &DaemonSettings {
        &self.settings
    }

    /// The raw client, for streams that must outlive one call (events).
    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Runs one Docker call under the daemon's limit and timeout. `what` and `object` name
    /// the Docker object for error messages.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        op: &'static str,
        what: &'static str,
        object: &str,
        timeout: Duration,
        f: F,
    ) -> Result<T>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: Future<Output = Result<T, bollard::errors::Error>>,
    {
        let start = Instant::now();
        let result = async {
            // The semaphore is never closed, so acquire only fails if it were.
            let _permit = self.limit.acquire().await.map_err(|_| Error::Unreachable {
                daemon: self.name.clone(),
                detail: "client pool closed".into(),
            })?;
            match tokio::time::timeout(timeout, f(self.docker.clone())).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(match Error::from_docker(&self.name, op, what, object, e) {
                    Error::Timeout { daemon, op, .. } => Error::Timeout {
                        daemon,
                        op,
                        timeout,
                    },
                    other => other,
                }),
                Err(_) => Err(Error::Timeout {
                    daemon: self.name.clone(),
                    op,
                    timeout,
                }),
            }
        }
        .await;
        if let Some(observer) = &self.observer {
            observer.observe(&self.name, op, start.elapsed(), result.as_ref().err());
        }
        result
    }

    /// The default bound for one call.
    pub(crate) fn timeout(&self) -> Duration {
        self.settings.timeout
    }
}

/// The clients of every daemon, keyed by provider config. A client is reused while its
/// settings stay the same and rebuilt when they change.
#[derive(Default)]
pub struct Pool {
    daemons: Mutex<HashMap<String, Arc<Daemon>>>,
    observer: Option<Arc<dyn CallObserver>>,
}

impl Pool {
    pub fn new(observer: Option<Arc<dyn CallObserver>>) -> Self {
        Self {
            daemons: Mutex::default(),
            observer,
        }
    }

    /// The daemon for `key` (a provider config's identity), connected with `settings`.
    pub fn get(&self, key: &str, settings: &DaemonSettings) -> Result<Arc<Daemon>> {
        // A poisoned lock only means another thread panicked while inserting; the map
        // itself is still consistent, so keep using it.
        let mut daemons = self.daemons.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = daemons.get(key)
            && &d.settings == settings
        {
            return Ok(d.clone());
        }
        let daemon = Arc::new(Daemon::connect(
            key,
            settings.clone(),
            self.observer.clone(),
        )?);
        daemons.insert(key.to_string(), daemon.clone());
        Ok(daemon)
    }

    /// Every daemon currently connected.
    pub fn all(&self) -> Vec<Arc<Daemon>> {
        let daemons = self.daemons.lock().unwrap_or_else(|p| p.into_inner());
        daemons.values().cloned().collect()
    }

    /// Forgets the daemon for `key` (its config was deleted).
    pub fn remove(&self, key: &str) {
        let mut daemons = self.daemons.lock().unwrap_or_else(|p| p.into_inner());
        daemons.remove(key);
    }
}
