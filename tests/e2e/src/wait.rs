//! Waiting for behaviour with a deadline, instead of sleeping.

use std::{future::Future, time::Duration};

/// The least time one check may take, even once the deadline has passed.
const ATTEMPT_FLOOR: Duration = Duration::from_secs(5);

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
        // A check that hangs (a wedged daemon, say) fails at the deadline too.
        let left = deadline.saturating_sub(start.elapsed()).max(ATTEMPT_FLOOR);
        match tokio::time::timeout(left, get()).await {
            Ok(Ok(Some(v))) => return Ok(v),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => last_error = Some(e),
            Err(_) => last_error = Some(anyhow::anyhow!("a check did not answer within {left:?}")),
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
