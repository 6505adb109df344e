use std::sync::Mutex as StdMutex;

use super::*;

fn small() -> LimiterConfig {
    LimiterConfig {
        reads: Bucket {
            burst: 5.0,
            per_second: 1.0,
        },
        writes: Bucket {
            burst: 2.0,
            per_second: 0.5,
        },
        deletes: Bucket {
            burst: 2.0,
            per_second: 0.5,
        },
        max_concurrency: 4,
    }
}

#[tokio::test(start_paused = true)]
async fn burst_is_free_then_the_refill_rate_applies() {
    let l = RateLimiter::new(small());
    let start = Instant::now();
    for _ in 0..5 {
        drop(l.acquire("s", OpKind::Read).await);
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    drop(l.acquire("s", OpKind::Read).await);
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    drop(l.acquire("s", OpKind::Read).await);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn kinds_and_subscriptions_have_separate_buckets() {
    let l = RateLimiter::new(small());
    let start = Instant::now();
    for _ in 0..2 {
        drop(l.acquire("a", OpKind::Write).await);
    }
    drop(l.acquire("a", OpKind::Delete).await);
    drop(l.acquire("b", OpKind::Write).await);
    drop(l.acquire("a", OpKind::Read).await);
    assert_eq!(start.elapsed(), Duration::ZERO);
    drop(l.acquire("A", OpKind::Write).await);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "writes refill at 0.5/s, and subscription ids ignore case as in ARM"
    );
}

#[tokio::test(start_paused = true)]
async fn server_remaining_count_slows_us_down() {
    let l = RateLimiter::new(small());
    let mut h = HeaderMap::new();
    h.insert(
        "x-ms-ratelimit-remaining-subscription-reads",
        "0".parse().unwrap(),
    );
    l.observe("s", OpKind::Read, &h);
    assert_eq!(l.tokens("s", OpKind::Read), 0.0);
    let start = Instant::now();
    drop(l.acquire("s", OpKind::Read).await);
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    // A higher server count never raises ours above what we computed.
    h.insert(
        "x-ms-ratelimit-remaining-subscription-reads",
        "249".parse().unwrap(),
    );
    l.observe("s", OpKind::Read, &h);
    assert!(l.tokens("s", OpKind::Read) < 1.0);
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_capped_per_subscription() {
    let l = Arc::new(RateLimiter::new(LimiterConfig {
        max_concurrency: 2,
        ..small()
    }));
    let p1 = l.acquire("s", OpKind::Read).await;
    let _p2 = l.acquire("s", OpKind::Read).await;
    let l2 = l.clone();
    let third = tokio::spawn(async move { l2.acquire("s", OpKind::Read).await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!third.is_finished(), "a third request waits for a slot");
    let _other = l.acquire("t", OpKind::Read).await;
    drop(p1);
    third.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_request_waiting_for_its_token_holds_no_slot() {
    let l = Arc::new(RateLimiter::new(LimiterConfig {
        max_concurrency: 1,
        ..small()
    }));
    for _ in 0..5 {
        drop(l.acquire("s", OpKind::Read).await);
    }
    // The read bucket is empty: this poll waits a second for its token...
    let l2 = l.clone();
    let poll = tokio::spawn(async move { l2.acquire("s", OpKind::Read).await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!poll.is_finished());
    // ...and meanwhile the subscription's only slot stays free for a create.
    let start = Instant::now();
    drop(l.acquire("s", OpKind::Write).await);
    assert_eq!(start.elapsed(), Duration::ZERO);
    poll.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn admission_takes_a_token_now_or_says_when_one_is_free() {
    let l = RateLimiter::new(small());
    assert_eq!(l.try_admit("s", OpKind::Write), Ok(()));
    assert_eq!(l.try_admit("s", OpKind::Write), Ok(()));
    assert_eq!(
        l.try_admit("s", OpKind::Write),
        Err(Duration::from_secs(2)),
        "empty at 0.5/s: the next token in 2 s"
    );
    assert_eq!(l.try_admit("s", OpKind::Delete), Ok(()), "its own bucket");
    // The two admitted writes are sent without paying again...
    let start = Instant::now();
    drop(l.acquire("s", OpKind::Write).await);
    drop(l.acquire("s", OpKind::Write).await);
    assert_eq!(start.elapsed(), Duration::ZERO);
    // ...and a third one waits for the refill like any other.
    drop(l.acquire("s", OpKind::Write).await);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn spare_means_more_than_half_the_burst_left() {
    let l = RateLimiter::new(small());
    assert!(l.has_spare("s", OpKind::Read), "a fresh bucket is full");
    for _ in 0..3 {
        drop(l.acquire("s", OpKind::Read).await);
    }
    assert!(!l.has_spare("s", OpKind::Read), "2 of 5 left");
    assert!(l.has_spare("s", OpKind::Write));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        l.has_spare("s", OpKind::Read),
        "3 of 5 after a second's refill"
    );
}

#[test]
fn paced_polls_honour_retry_after_and_spread_crowds_over_the_refill() {
    let reads = LimiterConfig::default().reads;
    let one = Duration::from_secs(1);
    let secs = Duration::from_secs_f64;
    // Few operations: Retry-After as the server said, whatever the jitter.
    assert_eq!(paced_poll(one, 1, 250.0, reads, 0.8), one);
    assert_eq!(paced_poll(one, 10, 0.0, reads, 1.2), one);
    // 100 operations and a full bucket: 10/s of refill plus 200 spare tokens over 5 s.
    assert_eq!(paced_poll(one, 100, 250.0, reads, 1.0), secs(2.0));
    // 600: a round is longer than the horizon; the spare pays for 200 polls, the refill's
    // share for the other 400.
    assert_eq!(paced_poll(one, 600, 250.0, reads, 1.0), secs(40.0));
    // 100 on an empty bucket (or one in debt) get only the refill's share.
    assert_eq!(paced_poll(one, 100, -3.0, reads, 1.0), secs(10.0));
    // Jitter spreads, but never below what the server asked.
    assert_eq!(
        paced_poll(Duration::from_secs(12), 100, 0.0, reads, 0.8),
        Duration::from_secs(12)
    );
    assert_eq!(paced_poll(one, 100, 0.0, reads, 1.2), secs(12.0));
}

#[tokio::test(start_paused = true)]
async fn tickets_count_operations_until_dropped() {
    let l = Arc::new(RateLimiter::new(LimiterConfig::default()));
    let a = l.operation_started("S");
    let b = l.operation_started("s");
    let _c = l.operation_started("t");
    assert_eq!(l.operations("s"), 2);
    drop(a);
    drop(b);
    assert_eq!(l.operations("s"), 0);
    assert_eq!(l.operations("t"), 1);
}

/// What a crowd of operations polled through [`RateLimiter::poll_wait`] did.
#[derive(Default)]
struct Trace {
    /// When each poll was sent, seconds since the start.
    polls: Vec<f64>,
    /// Final GETs.
    gets: usize,
    /// Longest time a poll waited inside the limiter for its token.
    longest_queue: Duration,
    /// Longest time between an operation's end and the poll that saw it.
    latest_detection: Duration,
    /// Longest wait of the foreground reads (one every 500 ms beside the operations).
    foreground: Duration,
}

/// Operations of `length` started at `starts` (seconds) in one subscription, answered with
/// `Retry-After: 1`, each polled until it has ended and then read once more (the final GET),
/// as `lro::complete` does; beside them one foreground read every 500 ms.
async fn crowd(starts: Vec<f64>, length: Duration) -> Trace {
    let l = Arc::new(RateLimiter::new(LimiterConfig::default()));
    let t0 = Instant::now();
    let last = starts.iter().copied().fold(0.0, f64::max);
    let trace = Arc::new(StdMutex::new(Trace::default()));
    let mut tasks = Vec::new();
    for at in starts {
        let (l, trace) = (l.clone(), trace.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0 + Duration::from_secs_f64(at)).await;
            let _ticket = l.operation_started("s");
            let end = Instant::now() + length;
            let mut wait = l.poll_wait("s", Duration::from_secs(1));
            loop {
                tokio::time::sleep(wait).await;
                let asked = Instant::now();
                drop(l.acquire("s", OpKind::Read).await);
                let mut t = trace.lock().unwrap();
                t.longest_queue = t.longest_queue.max(asked.elapsed());
                t.polls.push(t0.elapsed().as_secs_f64());
                if Instant::now() >= end {
                    t.latest_detection = t.latest_detection.max(Instant::now() - end);
                    break;
                }
                drop(t);
                wait = l.poll_wait("s", Duration::from_secs(1));
            }
            drop(l.acquire("s", OpKind::Read).await);
            trace.lock().unwrap().gets += 1;
        }));
    }
    let until = Duration::from_secs_f64(last) + length + Duration::from_secs(10);
    let fg = {
        let l = l.clone();
        tokio::spawn(async move {
            let mut longest = Duration::ZERO;
            while t0.elapsed() < until {
                let asked = Instant::now();
                drop(l.acquire("s", OpKind::Read).await);
                longest = longest.max(asked.elapsed());
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            longest
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    let foreground = fg.await.unwrap();
    let mut trace = Arc::try_unwrap(trace).ok().unwrap().into_inner().unwrap();
    trace.foreground = foreground;
    trace
}

#[tokio::test(start_paused = true)]
async fn a_hundred_operations_fit_their_polls_in_the_burst_and_are_seen_ending_soon() {
    // The benchmark's VM phase: 100 six-second creates in one subscription.
    let trace = crowd(vec![0.0; 100], Duration::from_secs(6)).await;
    assert_eq!(trace.longest_queue, Duration::ZERO, "no poll queued");
    assert_eq!(trace.foreground, Duration::ZERO, "other reads never waited");
    assert_eq!(trace.gets, 100);
    // Polling every second would cost 6 polls each, 600 in all, more than the burst...
    assert!(trace.polls.len() <= 350, "{} polls", trace.polls.len());
    // ...while each operation is still seen done sooner than it took to run.
    assert!(
        trace.latest_detection <= Duration::from_secs(6),
        "{:?}",
        trace.latest_detection
    );
}

#[tokio::test(start_paused = true)]
async fn past_the_burst_polls_stay_within_the_refill_and_leave_room_for_other_reads() {
    // 600 one-minute operations started as ARM's write bucket admits them (200 at once, then
    // 10 per second): far more polls than the read burst holds.
    let starts = (0..600)
        .map(|i| {
            if i < 200 {
                0.0
            } else {
                f64::from(i - 200) / 10.0
            }
        })
        .collect();
    let trace = crowd(starts, Duration::from_secs(60)).await;
    assert_eq!(trace.longest_queue, Duration::ZERO, "no poll queued");
    assert_eq!(trace.foreground, Duration::ZERO, "other reads never waited");
    assert_eq!(trace.gets, 600);
    // Once the burst is spent, polls take at most the refill (averaged over ten seconds, as
    // jitter may bunch a few into one second); what they take beyond [`POLL_SHARE`] is refill
    // nobody else used, since the reserve keeps other reads from waiting.
    let end = trace.polls.iter().copied().fold(0.0, f64::max) as usize;
    for second in 20..end.saturating_sub(10) {
        let s = second as f64;
        let n = trace
            .polls
            .iter()
            .filter(|&&t| t >= s && t < s + 10.0)
            .count();
        assert!(n <= 250, "from {second} s: {n} polls in 10 s");
    }
}
