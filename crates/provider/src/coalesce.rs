//! Watch changes gathered over a short window, each object once, at its latest.

use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::runtime::watcher;

/// How long a Service's children's changes are gathered before they wake it.
const CHILD_CHANGES_WINDOW: Duration = Duration::from_millis(100);

/// `changes` gathered over [`CHILD_CHANGES_WINDOW`], each object once, at its latest:
/// the thirty members of a starting project write their status a hundred times or more,
/// and each write would otherwise bring their Service one more reconcile (three lists
/// and a status write), on the API server the members themselves are waiting for.
pub fn coalesced<K>(
    changes: impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: kube::Resource + Send + 'static,
{
    struct Gathering<K, S> {
        changes: std::pin::Pin<Box<S>>,
        gathered: std::collections::HashMap<(Option<String>, Option<String>), K>,
        ready: Vec<K>,
        ended: bool,
    }
    let start = Gathering {
        changes: Box::pin(changes),
        gathered: Default::default(),
        ready: Vec::new(),
        ended: false,
    };
    futures::stream::unfold(start, |mut g| async move {
        loop {
            if let Some(object) = g.ready.pop() {
                return Some((Ok(object), g));
            }
            if g.ended {
                return None;
            }
            let key = |o: &K| (o.meta().namespace.clone(), o.meta().name.clone());
            match g.changes.next().await {
                None => return None,
                Some(Err(e)) => return Some((Err(e), g)),
                Some(Ok(object)) => {
                    g.gathered.insert(key(&object), object);
                }
            }
            let window = tokio::time::sleep(CHILD_CHANGES_WINDOW);
            tokio::pin!(window);
            loop {
                tokio::select! {
                    _ = &mut window => break,
                    next = g.changes.next() => match next {
                        None => {
                            g.ended = true;
                            break;
                        }
                        Some(Ok(object)) => {
                            g.gathered.insert(key(&object), object);
                        }
                        // `changes` has none; a Service is reconciled at its resync anyway.
                        Some(Err(_)) => {}
                    },
                }
            }
            g.ready.extend(g.gathered.drain().map(|(_, o)| o));
        }
    })
}
