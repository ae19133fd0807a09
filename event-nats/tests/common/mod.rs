//! Contracts and services shared by the NATS tests: the delivery tests'
//! own, and what only these tests need.
#![allow(dead_code)]

#[path = "../../../event-delivery/tests/common/mod.rs"]
mod delivery;
pub use delivery::*;

use event_runtime::catalog;

catalog! {
    /// What the notification service handles.
    #[derive(Debug, Clone, PartialEq)]
    pub enum NotificationInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

catalog! {
    /// What the activity log handles.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ActivityInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

/// The server the tests use: `NATS_URL`, or the machine's JetStream server.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// A subject prefix no other test (or run) uses, so tests run in parallel.
pub fn unique_prefix(test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{test}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Waits until `done` holds, at most `limit`; returns whether it held.
pub async fn until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if done() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    done()
}

/// Waits until the async check `done` holds, at most `limit`.
pub async fn until_async<F, Fut>(limit: std::time::Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if done().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    done().await
}

/// Deletes the test's streams; called at the end of a test that passed.
pub async fn cleanup(
    js: &event_nats::async_nats::jetstream::Context,
    topology: &event_nats::Topology,
) {
    for s in topology.plan().streams {
        let _ = js.delete_stream(&s.name).await;
    }
}
