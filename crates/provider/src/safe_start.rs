//! Crossplane's `safe-start`: a kind's controller loop starts only once the API server
//! serves that kind, and the controller runs meanwhile for every kind it does serve.
//!
//! Crossplane v2 installs a package's managed-resource CRDs only when their
//! ManagedResourceDefinition is activated, so any of them may be missing at start and
//! appear later. A [`Gate`] holds one loop back until its kinds are served, polling
//! discovery (which every authenticated identity may read; a CRD `get` would need a
//! permission Crossplane does not grant providers).

use std::{future::Future, time::Duration};

use kube::Resource;
use tokio::sync::watch;

/// How often discovery is asked again for a kind that is not served yet.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// A kind as discovery lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kind {
    pub api_version: String,
    pub plural: String,
}

impl Kind {
    pub fn of<K: Resource<DynamicType = ()>>() -> Self {
        Self {
            api_version: K::api_version(&()).into_owned(),
            plural: K::plural(&()).into_owned(),
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.api_version, self.plural)
    }
}

/// Whether the API server serves `kind`: its group version is known and lists it.
pub async fn served(client: &kube::Client, kind: &Kind) -> Result<bool, kube::Error> {
    match client.list_api_group_resources(&kind.api_version).await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == kind.plural)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Where a gated loop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Discovery has not answered yet.
    Checking,
    /// At least one of its kinds is not served; the loop waits.
    Waiting,
    /// Every kind is served; the loop runs.
    Started,
}

/// Holds one controller loop back until every kind it watches is served.
#[derive(Clone)]
pub struct Gate {
    name: &'static str,
    kinds: Vec<Kind>,
    phase: watch::Sender<Phase>,
}

impl Gate {
    /// A gate for the loop `name`, which watches `kinds`.
    pub fn new(name: &'static str, kinds: Vec<Kind>) -> Self {
        Self {
            name,
            kinds,
            phase: watch::Sender::new(Phase::Checking),
        }
    }

    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    pub fn started(&self) -> bool {
        self.phase() == Phase::Started
    }

    /// Resolves once the first check is done: true if the loop started then, false if it
    /// waits for a kind. A loop waiting at start does not hold the provider's readiness.
    pub async fn started_at_once(&self) -> bool {
        let mut rx = self.phase.subscribe();
        match rx.wait_for(|p| *p != Phase::Checking).await {
            Ok(phase) => *phase == Phase::Started,
            Err(_) => false, // the gate is gone: its loop never runs
        }
    }

    /// Runs `work` once `missing` (which lists the kinds not served, or fails) returns
    /// none, asking again every `interval`; returns early, without running it, when
    /// `shutdown` resolves first. A failed check decides nothing and is retried.
    pub async fn run<M, MF, E, W, S>(
        &self,
        mut missing: M,
        interval: Duration,
        work: W,
        shutdown: S,
    ) where
        M: FnMut(Vec<Kind>) -> MF,
        MF: Future<Output = Result<Vec<Kind>, E>>,
        E: std::fmt::Display,
        W: Future<Output = ()>,
        S: Future<Output = ()>,
    {
        let wait = async {
            let mut logged = None;
            loop {
                match missing(self.kinds.clone()).await {
                    Ok(absent) if absent.is_empty() => break,
                    Ok(absent) => {
                        let what = absent.iter().map(ToString::to_string).collect::<Vec<_>>();
                        if logged.as_ref() != Some(&what) {
                            tracing::info!(controller = self.name, waiting_for = ?what,
                                "not served yet (safe-start); this controller starts once it is, the others run");
                            logged = Some(what);
                        }
                        self.phase.send_replace(Phase::Waiting);
                    }
                    // Still undecided: readiness keeps waiting rather than skip this kind.
                    Err(error) => {
                        tracing::warn!(controller = self.name, %error, "cannot ask discovery; retrying");
                    }
                }
                tokio::time::sleep(interval).await;
            }
        };
        tokio::select! {
            _ = wait => {}
            _ = shutdown => return,
        }
        if self.phase() == Phase::Waiting {
            tracing::info!(controller = self.name, "now served; starting");
        }
        self.phase.send_replace(Phase::Started);
        work.await
    }
}

/// The kinds of `kinds` that `client`'s API server does not serve.
pub async fn missing(client: kube::Client, kinds: Vec<Kind>) -> Result<Vec<Kind>, kube::Error> {
    let mut absent = vec![];
    for kind in kinds {
        if !served(&client, &kind).await? {
            absent.push(kind);
        }
    }
    Ok(absent)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    };

    use super::*;

    fn kind(plural: &str) -> Kind {
        Kind {
            api_version: "docker.m.crossplane.io/v1alpha1".into(),
            plural: plural.into(),
        }
    }

    /// A discovery stand-in: the plurals in `served` are served.
    fn discovery(
        served: &Arc<Mutex<Vec<&'static str>>>,
    ) -> impl FnMut(Vec<Kind>) -> std::future::Ready<Result<Vec<Kind>, kube::Error>> + use<> {
        let served = served.clone();
        move |kinds: Vec<Kind>| {
            let served = served.lock().unwrap().clone();
            std::future::ready(Ok(kinds
                .into_iter()
                .filter(|k| !served.contains(&k.plural.as_str()))
                .collect()))
        }
    }

    async fn eventually(what: &str, check: impl Fn() -> bool) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while !check() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
    }

    #[tokio::test]
    async fn a_loop_starts_only_once_its_kind_is_served_and_the_others_run_meanwhile() {
        let served = Arc::new(Mutex::new(vec!["networks"]));
        let networks = Gate::new("networks", vec![kind("networks")]);
        let containers = Gate::new("containers", vec![kind("containers")]);
        let (ran_networks, ran_containers) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        for (gate, ran) in [
            (networks.clone(), ran_networks.clone()),
            (containers.clone(), ran_containers.clone()),
        ] {
            let probe = discovery(&served);
            tokio::spawn(async move {
                let work = async { ran.store(true, Ordering::SeqCst) };
                gate.run(
                    probe,
                    Duration::from_millis(10),
                    work,
                    std::future::pending(),
                )
                .await
            });
        }

        assert!(networks.started_at_once().await);
        assert!(!containers.started_at_once().await);
        eventually("the networks loop", || ran_networks.load(Ordering::SeqCst)).await;
        // Many polls later, still held back.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!ran_containers.load(Ordering::SeqCst));
        assert_eq!(containers.phase(), Phase::Waiting);

        served.lock().unwrap().push("containers");
        eventually("the containers loop", || {
            ran_containers.load(Ordering::SeqCst)
        })
        .await;
        assert!(containers.started());
    }

    #[tokio::test]
    async fn a_loop_watching_several_kinds_waits_for_all_of_them() {
        let served = Arc::new(Mutex::new(vec!["services", "containers"]));
        let gate = Gate::new(
            "services",
            vec![kind("services"), kind("containers"), kind("volumes")],
        );
        let ran = Arc::new(AtomicBool::new(false));
        let task = {
            let (gate, ran, probe) = (gate.clone(), ran.clone(), discovery(&served));
            tokio::spawn(async move {
                let work = async { ran.store(true, Ordering::SeqCst) };
                gate.run(
                    probe,
                    Duration::from_millis(10),
                    work,
                    std::future::pending(),
                )
                .await
            })
        };
        assert!(!gate.started_at_once().await);
        served.lock().unwrap().push("volumes");
        eventually("the services loop", || ran.load(Ordering::SeqCst)).await;
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_check_decides_nothing_and_readiness_waits_for_the_answer() {
        let gate = Gate::new("networks", vec![kind("networks")]);
        let mut answers = vec![Ok(vec![]), Err("connection refused")];
        let probe = move |_| std::future::ready(answers.pop().unwrap_or(Ok(vec![])));
        let ran = AtomicBool::new(false);
        let work = async { ran.store(true, Ordering::SeqCst) };
        let run = gate.run(
            probe,
            Duration::from_millis(10),
            work,
            std::future::pending(),
        );
        let (_, started) = futures::future::join(run, gate.started_at_once()).await;
        assert!(started, "an error must not count as a kind found missing");
        assert!(ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn shutdown_while_waiting_ends_the_loop_without_running_it() {
        let served = Arc::new(Mutex::new(vec![]));
        let gate = Gate::new("volumes", vec![kind("volumes")]);
        let ran = AtomicBool::new(false);
        let work = async { ran.store(true, Ordering::SeqCst) };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let run = gate.run(discovery(&served), Duration::from_millis(10), work, async {
            let _ = stopped.await;
        });
        let stopper = async {
            assert!(!gate.started_at_once().await);
            let _ = stop.send(());
        };
        tokio::time::timeout(Duration::from_secs(5), futures::future::join(run, stopper))
            .await
            .expect("the gate ended at shutdown");
        assert!(!ran.load(Ordering::SeqCst));
    }
}
