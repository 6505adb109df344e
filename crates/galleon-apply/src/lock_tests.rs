//! Lock behaviour on tokio's paused clock: exclusion, waiting, renewal, expiry, breaking.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::lock_memory::MemoryLock;

fn opts(timeout_secs: u64) -> LockOptions {
    LockOptions {
        timeout: Duration::from_secs(timeout_secs),
        ..LockOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_second_acquirer_fails_at_once_with_the_holders_info() {
    let store = Arc::new(MemoryLock::default());
    let first = LockInfo::new("cross-tenant", "apply").doing("2 to add");
    let guard = acquire(Arc::clone(&store), &first, &opts(0)).await.unwrap();
    let err = acquire(
        Arc::clone(&store),
        &LockInfo::new("cross-tenant", "destroy"),
        &opts(0),
    )
    .await
    .unwrap_err();
    let LockError::Held {
        holder: Some(holder),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(**holder, first);
    let text = err.to_string();
    assert!(
        text.starts_with("the apply lock of workspace cross-tenant is held by "),
        "{text}"
    );
    assert!(
        text.contains(&first.id) && text.contains("apply: 2 to add"),
        "{text}"
    );
    assert!(err.hint().unwrap().contains("force-unlock"));
    guard.release().await.unwrap();
    assert!(!store.is_held());
}

#[tokio::test(start_paused = true)]
async fn a_waiting_acquirer_gets_the_lock_when_the_holder_releases() {
    let store = Arc::new(MemoryLock::default());
    let guard = acquire(Arc::clone(&store), &LockInfo::new("w", "apply"), &opts(0))
        .await
        .unwrap();
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(42)).await;
        guard.release().await.unwrap();
    });
    let start = tokio::time::Instant::now();
    let second = acquire(Arc::clone(&store), &LockInfo::new("w", "apply"), &opts(300)).await;
    releaser.await.unwrap();
    assert!(second.is_ok());
    // Retries every 5 s: the release at 42 s is seen at the 45 s attempt.
    assert_eq!(start.elapsed(), Duration::from_secs(45));
}

#[tokio::test(start_paused = true)]
async fn waiting_gives_up_after_the_lock_timeout() {
    let store = Arc::new(MemoryLock::default());
    let _guard = acquire(Arc::clone(&store), &LockInfo::new("w", "apply"), &opts(0))
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = acquire(Arc::clone(&store), &LockInfo::new("w", "apply"), &opts(12)).await;
    assert!(matches!(err, Err(LockError::Held { .. })));
    assert_eq!(start.elapsed(), Duration::from_secs(12));
}

#[tokio::test(start_paused = true)]
async fn renewal_keeps_a_long_apply_locked_and_a_dropped_guard_expires() {
    let store = Arc::new(MemoryLock::default());
    let guard = acquire(Arc::clone(&store), &LockInfo::new("w", "apply"), &opts(0))
        .await
        .unwrap();
    // Renewals every 20 s; the last one before the drop is at 600 s, valid until 660 s.
    tokio::time::sleep(Duration::from_secs(610)).await;
    assert!(
        store.is_held(),
        "ten minutes in, the 60 s lease is still renewed"
    );
    assert!(!guard.lost().is_cancelled());
    drop(guard); // a process killed mid-apply stops renewing
    tokio::time::sleep(Duration::from_secs(49)).await;
    assert!(store.is_held());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!store.is_held());
    assert!(
        acquire(store, &LockInfo::new("w", "apply"), &opts(0))
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn a_broken_lease_is_reported_lost_to_its_holder() {
    let store = Arc::new(MemoryLock::default());
    let info = LockInfo::new("w", "apply");
    let guard = acquire(Arc::clone(&store), &info, &opts(0)).await.unwrap();
    let lost = guard.lost();
    assert_eq!(store.force_unlock().await.unwrap(), Some(info));
    // Renewals fail from now on; the holder learns before its lease would have run out.
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert!(lost.is_cancelled());
    // Azure lets the holder release a broken lease ("A lease that has been broken can also be
    // released"); what matters is that it was free for others meanwhile.
    assert!(!store.is_held());
    guard.release().await.unwrap();
}

#[test]
fn lock_timeouts_parse_with_units() {
    assert_eq!(parse_timeout("0"), Ok(Duration::ZERO));
    assert_eq!(parse_timeout("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_timeout("5m"), Ok(Duration::from_secs(300)));
    assert_eq!(parse_timeout("1h"), Ok(Duration::from_secs(3600)));
    assert!(parse_timeout("5").is_err());
    assert!(parse_timeout("m").is_err());
    assert!(parse_timeout("5 min").is_err());
}
