//! How every watch of the provider retries after its stream breaks (an API server restart,
//! say): soon, and never more than a few seconds apart, so the provider is back within
//! moments of the API server. kube's default waits up to 30 s between tries.

use std::time::Duration;

use kube::runtime::{
    utils::{Backoff, ResetTimerBackoff},
    watcher::ExponentialBackoff,
};

/// The first retry's delay; each further one doubles, with jitter, up to [`MAX_DELAY`].
const MIN_DELAY: Duration = Duration::from_millis(250);
/// The longest wait between two tries: a watch of an API server that is down costs one
/// failed connection every few seconds.
const MAX_DELAY: Duration = Duration::from_secs(3);
/// A watch that has run this long without breaking starts again from [`MIN_DELAY`].
const RESET_AFTER: Duration = Duration::from_secs(60);

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
