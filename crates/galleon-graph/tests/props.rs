//! Order properties on random DAGs: extra edges are added only from later to earlier resources
//! of the fleet example (so the graph stays acyclic), then every order must respect every edge
//! and every closure must be closed under its relation.

use std::path::Path;

use galleon_graph::{GraphError, ResourceGraph};
use galleon_manifest::{Address, Resource, Workspace};
use proptest::prelude::*;

fn fleet() -> Vec<Resource> {
    Workspace::load(Path::new("../../examples/fleet"))
        .unwrap_or_else(|d| panic!("{d}"))
        .resources()
        .to_vec()
}

fn with_edges(edges: &[(usize, usize)]) -> Vec<Resource> {
    let mut rs = fleet();
    let n = rs.len();
    for &(a, b) in edges {
        let (from, to) = (a % n, b % n);
        if from > to {
            let dep = rs[to].address.clone();
            if !rs[from].depends_on.contains(&dep) {
                rs[from].depends_on.push(dep);
            }
        }
    }
    rs
}

fn position(order: &[&Address], a: &Address) -> usize {
    order.iter().position(|x| *x == a).expect("in order")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn apply_order_respects_every_edge(edges in proptest::collection::vec((0usize..500, 0usize..500), 0..60)) {
        let rs = with_edges(&edges);
        let g = ResourceGraph::build(&rs).unwrap();
        let order = g.apply_order();
        prop_assert_eq!(order.len(), rs.len());
        for r in &rs {
            for d in &r.depends_on {
                prop_assert!(position(&order, d) < position(&order, &r.address));
            }
        }
    }

    #[test]
    fn target_closure_is_closed(edges in proptest::collection::vec((0usize..500, 0usize..500), 0..60), pick in 0usize..500) {
        let rs = with_edges(&edges);
        let g = ResourceGraph::build(&rs).unwrap();
        let target = rs[pick % rs.len()].address.clone();
        let closure = g.with_dependencies(std::slice::from_ref(&target)).unwrap();
        prop_assert_eq!(closure.last().copied(), Some(&target));
        for a in &closure {
            let r = rs.iter().find(|r| &r.address == *a).unwrap();
            for d in &r.depends_on {
                prop_assert!(position(&closure, d) < position(&closure, a));
            }
        }
        let down = g.with_dependents(std::slice::from_ref(&target)).unwrap();
        prop_assert_eq!(down.last().copied(), Some(&target));
        for r in &rs {
            if r.depends_on.iter().any(|d| down.contains(&d)) {
                prop_assert!(down.contains(&&r.address), "{} depends on a doomed resource", r.address);
            }
        }
    }

    #[test]
    fn a_back_edge_is_always_caught(a in 0usize..500, b in 0usize..500) {
        let mut rs = fleet();
        let n = rs.len();
        let (a, b) = (a % n, b % n);
        // Close a loop through an existing path: from an earlier node back to a later one
        // that (transitively) depends on it.
        let g = ResourceGraph::build(&rs).unwrap();
        let later = rs[a.max(b)].address.clone();
        let deps = g.with_dependencies(std::slice::from_ref(&later)).unwrap();
        let Some(earlier) = deps.first().map(|x| (*x).clone()) else { return Ok(()) };
        prop_assume!(earlier != later);
        let ix = rs.iter().position(|r| r.address == earlier).unwrap();
        rs[ix].depends_on.push(later);
        let Err(GraphError::Cycle(cycle)) = ResourceGraph::build(&rs) else {
            return Err(TestCaseError::fail("cycle not detected"));
        };
        // The named cycle is real: each element depends on the next, and it closes.
        for (i, addr) in cycle.iter().enumerate() {
            let next = &cycle[(i + 1) % cycle.len()];
            let r = rs.iter().find(|r| &r.address == addr).unwrap();
            prop_assert!(r.depends_on.contains(next), "{} does not depend on {}", addr, next);
        }
    }
}
