//! Waiting for behaviour with a deadline, instead of sleeping.

use std::{future::Future, time::Duration};

/// Polls `check` every 100 ms until it returns true; fails after `deadline` naming `what`.
pub async fn until<F, Fut>(deadline: Duration, what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    value(deadline, what, || {
        let checked = check();
        async move { Ok(checked.await?.then_some(())) }
    })
    .await
}

/// Polls `get` until it returns `Some`; fails after `deadline`.
pub async fn value<T, F, Fut>(deadline: Duration, what: &str, mut get: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let start = tokio::time::Instant::now();
    let mut last_error = None;
    loop {
        match get().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
        if start.elapsed() > deadline {
            anyhow::bail!(
                "timed out after {deadline:?} waiting for {what}{}",
                last_error
                    .map(|e| format!(" (last error: {e:#})"))
                    .unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
