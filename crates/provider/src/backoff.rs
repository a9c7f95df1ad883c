//! How every watch of the provider retries after its stream breaks (an API server restart,
//! say): soon, and never more than a few seconds apart, so the provider is back within
//! moments of the API server. kube's default waits up to 30 s between tries.

use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use kube::runtime::{
    utils::{Backoff, ResetTimerBackoff, StreamBackoff},
    watcher::{self, ExponentialBackoff},
};

/// The first retry's delay; each further one doubles, with jitter, up to [`MAX_DELAY`].
const MIN_DELAY: Duration = Duration::from_millis(250);
/// The longest delay between two tries before jitter (which adds up to as much again): a
/// watch of an API server that is down costs one failed connection every few seconds.
const MAX_DELAY: Duration = Duration::from_millis(1500);
/// A watch that has run this long without breaking starts again from [`MIN_DELAY`].
const RESET_AFTER: Duration = Duration::from_secs(60);

/// A "410 Gone" retried without waiting at most once in this long (see [`retried`]).
const GONE_AT_ONCE_EVERY: Duration = Duration::from_secs(10);

/// `stream` (a watcher's) retried as [`watch_backoff`] says, except a "410 Gone": the
/// watcher has already dropped the resource version the API server no longer has (after
/// its restart, every watch resumes with one), so its next try is a fresh list and is made
/// at once. Without that, a watch waits out a second backoff after the API server is back.
/// At most one 410 in [`GONE_AT_ONCE_EVERY`] skips the wait, so a 410 that keeps coming
/// back cannot make a loop of lists.
pub fn retried<S, T: Send>(stream: S) -> impl Stream<Item = Result<T, watcher::Error>> + Send
where
    S: Stream<Item = Result<T, watcher::Error>> + Send,
{
    let mut last_skipped: Option<Instant> = None;
    let filtered = stream.filter(move |item| {
        let gone = matches!(item, Err(watcher::Error::WatchError(status)) if status.code == 410);
        let skip = gone && last_skipped.is_none_or(|at| at.elapsed() >= GONE_AT_ONCE_EVERY);
        if skip {
            tracing::debug!("watch resource version gone; listing again at once");
            last_skipped = Some(Instant::now());
        }
        futures::future::ready(!skip)
    });
    StreamBackoff::new(filtered, watch_backoff())
}

pub fn watch_backoff() -> impl Backoff + 'static {
    let builder = backon::ExponentialBuilder::default()
        .with_min_delay(MIN_DELAY)
        .with_max_delay(MAX_DELAY)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times();
    ResetTimerBackoff::new(ExponentialBackoff::from(builder), RESET_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone() -> Result<u32, watcher::Error> {
        let mut status = kube::core::Status::failure("too old resource version", "Expired");
        status.code = 410;
        Err(watcher::Error::WatchError(Box::new(status)))
    }

    #[tokio::test]
    async fn a_first_gone_is_listed_again_at_once_and_a_second_waits() {
        let items = |stream: Vec<Result<u32, watcher::Error>>| async move {
            retried(futures::stream::iter(stream))
                .map(|i| i.map_err(|e| e.to_string()))
                .collect::<Vec<_>>()
                .await
        };
        assert_eq!(items(vec![gone(), Ok(1)]).await, vec![Ok(1)]);
        let twice = items(vec![gone(), gone(), Ok(1)]).await;
        assert_eq!(twice.len(), 2, "{twice:?}");
        assert!(
            twice[0].as_ref().is_err_and(|e| e.contains("too old")),
            "{twice:?}"
        );
    }

    #[test]
    fn retries_start_soon_and_stay_a_few_seconds_apart() {
        let delays: Vec<Duration> = watch_backoff().take(20).collect();
        assert_eq!(delays.len(), 20, "the backoff never gives up");
        // Jitter adds up to one more delay on top of each.
        assert!(
            delays[0] >= MIN_DELAY && delays[0] <= 2 * MIN_DELAY,
            "{delays:?}"
        );
        assert!(delays.iter().all(|d| *d <= 2 * MAX_DELAY), "{delays:?}");
        assert!(delays[19] >= MAX_DELAY, "{delays:?}");
    }
}
