//! Leader election on a Lease: only the holder reconciles. A replica that loses the lease
//! exits at once (a restart makes it a standby); a graceful shutdown releases the lease so
//! a standby takes over without waiting for it to expire.

use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::{sync::watch, task::JoinHandle};

/// How long a lease stays valid without renewal, and how early the holder renews.
const DURATION_SECONDS: u64 = 10;
const GRACE_SECONDS: u64 = 3;

pub struct Leadership {
    state: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

impl Leadership {
    /// Starts competing for the lease `name` in `namespace` as `identity`.
    pub async fn join(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
    ) -> anyhow::Result<Self> {
        let manager = LeaseManagerBuilder::new(client, name)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(DURATION_SECONDS)
            .with_grace(GRACE_SECONDS)
            // The lock is a server-side apply without force: it only excludes other holders
            // if each replica writes under a field manager of its own.
            .with_field_manager(format!("{}-{identity}", crate::context::FIELD_MANAGER))
            .build()
            .await?;
        let (state, task) = manager.watch().await;
        Ok(Self { state, task })
    }

    /// Waits until this replica holds the lease.
    pub async fn acquired(&mut self) -> anyhow::Result<()> {
        self.state.wait_for(|leader| *leader).await?;
        Ok(())
    }

    /// Resolves when the lease is lost.
    pub async fn lost(&mut self) {
        // An error means the manager stopped: leadership is gone either way.
        let _ = self.state.wait_for(|leader| !*leader).await;
    }

    /// Gives the lease up so another replica can take over at once.
    pub async fn release(self) -> anyhow::Result<()> {
        drop(self.state);
        let manager = self.task.await??;
        manager.release().await?;
        Ok(())
    }
}
