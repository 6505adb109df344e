//! Random acyclic graphs: the executor's guarantees hold for every shape, not just the
//! hand-drawn ones in `executor_tests.rs`.

use proptest::prelude::*;

use super::*;

/// Node i depends on a subset of nodes before it (so the graph is acyclic); each has a
/// duration in seconds and a failure flag.
fn graphs() -> impl Strategy<Value = Vec<(Vec<usize>, u64, bool)>> {
    (1usize..12).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                (
                    proptest::sample::subsequence((0..i).collect::<Vec<_>>(), 0..=i.min(3)),
                    1u64..10,
                    proptest::bool::weighted(0.15),
                )
            })
            .collect::<Vec<_>>()
    })
}

fn name(i: usize) -> String {
    format!("n{i}.x")
}

fn run_graph(
    graph: &[(Vec<usize>, u64, bool)],
    options: ExecOptions,
) -> (Vec<(String, u64, u64)>, Vec<Event>, Summary) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let scripts: Vec<(String, u64, bool)> = graph
            .iter()
            .enumerate()
            .map(|(i, (_, d, f))| (name(i), *d, *f))
            .collect();
        let refs: Vec<(&str, u64, bool)> = scripts
            .iter()
            .map(|(n, d, f)| (n.as_str(), *d, *f))
            .collect();
        let fake = Fake::new(&refs);
        let changes = graph
            .iter()
            .enumerate()
            .map(|(i, (deps, ..))| {
                let deps: Vec<String> = deps.iter().map(|&d| name(d)).collect();
                let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
                create(&name(i), &deps)
            })
            .collect();
        let (summary, sink) = run(changes, &fake, options, &CancellationToken::new()).await;
        (fake.log(), sink.events(), summary)
    })
}

/// Transitive dependents-or-self of failed nodes never run; the rest run.
fn doomed(graph: &[(Vec<usize>, u64, bool)]) -> Vec<bool> {
    let mut doomed = vec![false; graph.len()];
    for (i, (deps, _, _)) in graph.iter().enumerate() {
        doomed[i] = deps.iter().any(|&d| doomed[d] || graph[d].2);
    }
    doomed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_step_starts_as_soon_as_its_dependencies_succeed(graph in graphs()) {
        let unbounded =
            ExecOptions { max_parallel: 100, max_per_subscription: 100, ..ExecOptions::default() };
        let (log, events, summary) = run_graph(&graph, unbounded);
        let doomed = doomed(&graph);
        let end = |i: usize| log.iter().find(|l| l.0 == name(i)).map(|l| l.2);
        // Finish time of each node that runs, by the recurrence of the critical path.
        let mut finish = vec![0u64; graph.len()];
        for (i, (deps, secs, _)) in graph.iter().enumerate() {
            let ready = deps.iter().map(|&d| finish[d]).max().unwrap_or(0);
            finish[i] = ready + secs;
            match end(i) {
                Some(e) => {
                    prop_assert!(!doomed[i], "{} ran although a dependency failed", name(i));
                    prop_assert_eq!(e, finish[i], "{} did not start as soon as it could", name(i));
                }
                None => prop_assert!(doomed[i], "{} never ran", name(i)),
            }
        }
        // Exactly one terminal event per step.
        for i in 0..graph.len() {
            let terminal = events
                .iter()
                .filter(|e| e.step.address == name(i))
                .filter(|e| !matches!(e.kind, EventKind::Started | EventKind::LroProgress { .. }))
                .count();
            prop_assert_eq!(terminal, 1, "{}", name(i));
        }
        let ran_max = log.iter().map(|l| l.2).max().unwrap_or(0);
        prop_assert_eq!(summary.elapsed, Duration::from_secs(ran_max));
        if !graph.iter().any(|g| g.2) {
            prop_assert_eq!(summary.outcome, Outcome::Success);
            prop_assert_eq!(summary.elapsed, Duration::from_secs(*finish.iter().max().unwrap()));
        }
    }

    #[test]
    fn the_concurrency_bound_holds_for_any_graph(graph in graphs(), bound in 1usize..4) {
        let options =
            ExecOptions { max_parallel: bound, max_per_subscription: 100, ..ExecOptions::default() };
        let (log, _, _) = run_graph(&graph, options);
        for (_, start, _) in &log {
            let running = log.iter().filter(|(_, s, e)| s <= start && start < e).count();
            prop_assert!(running <= bound, "{running} running at {start}s, bound {bound}");
        }
    }
}
