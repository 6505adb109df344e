//! Graph behaviour on the two examples: orders, `--target` closures, cycles, and the DOT and
//! Mermaid drawings (snapshotted).

use std::path::Path;

use galleon_graph::{EdgeKind, Format, GraphError, ResourceGraph, render::render};
use galleon_manifest::{Address, Workspace};

fn ws(name: &str) -> Workspace {
    Workspace::load(Path::new(&format!("../../examples/{name}"))).unwrap_or_else(|d| panic!("{d}"))
}

fn a(s: &str) -> Address {
    s.parse().unwrap()
}

fn strs(v: Vec<&Address>) -> Vec<String> {
    v.into_iter().map(ToString::to_string).collect()
}

#[test]
fn apply_order_puts_dependencies_first_and_destroy_reverses_it() {
    let w = ws("cross-tenant");
    let g = ResourceGraph::from_workspace(&w).unwrap();
    let order = strs(g.apply_order());
    assert_eq!(order.len(), w.resources().len());
    let pos = |s: &str| order.iter().position(|x| x == s).unwrap();
    for r in w.resources() {
        for d in &r.depends_on {
            assert!(
                pos(&d.to_string()) < pos(&r.address.to_string()),
                "{d} after {}",
                r.address
            );
        }
    }
    assert_eq!(order.last().unwrap(), "vm.web");
    let mut destroy = strs(g.destroy_order());
    destroy.reverse();
    assert_eq!(destroy, order);
}

#[test]
fn target_closure_includes_the_cross_tenant_grant() {
    let w = ws("cross-tenant");
    let g = ResourceGraph::from_workspace(&w).unwrap();
    let closure = strs(g.with_dependencies(&[a("vm.web")]).unwrap());
    assert_eq!(
        closure,
        [
            "resource_group.app",
            "resource_group.images",
            "gallery.golden",
            "gallery_image.golden/ubuntu",
            "image_version.golden/ubuntu/1.0.0",
            "gallery_grant.golden/consumer/Reader",
            "nsg.web",
            "network.app",
            "public_ip.web",
            "nic.web",
            "vm.web",
        ]
    );
    let nic_only = strs(g.with_dependencies(&[a("nic.web")]).unwrap());
    assert!(!nic_only.contains(&"vm.web".to_string()));
    assert!(!nic_only.contains(&"gallery.golden".to_string()));
    let dependents = strs(g.with_dependents(&[a("network.app")]).unwrap());
    assert_eq!(dependents, ["vm.web", "nic.web", "network.app"]);
    assert_eq!(
        g.with_dependencies(&[a("vm.nope")]),
        Err(GraphError::UnknownAddress(a("vm.nope")))
    );
    let grant_edges: Vec<_> = g
        .edges()
        .filter(|(_, _, k)| *k == EdgeKind::CrossTenantGrant)
        .map(|(from, to, _)| (from.address.to_string(), to.address.to_string()))
        .collect();
    assert_eq!(
        grant_edges,
        [(
            "gallery_grant.golden/consumer/Reader".to_string(),
            "vm.web".to_string()
        )]
    );
}

#[test]
fn fleet_latest_depends_on_every_version() {
    let w = ws("fleet");
    let g = ResourceGraph::from_workspace(&w).unwrap();
    let deps = strs(g.dependencies(&a("vm.central[2]")).unwrap());
    assert!(deps.contains(&"image_version.fleet/worker/1.0.0".to_string()));
    assert!(deps.contains(&"image_version.fleet/worker/1.1.0".to_string()));
    assert_eq!(g.len(), w.resources().len());
}

#[test]
fn cycles_are_named() {
    let w = ws("cross-tenant");
    let mut resources = w.resources().to_vec();
    let rg = resources
        .iter_mut()
        .find(|r| r.address == a("resource_group.app"))
        .unwrap();
    rg.depends_on.push(a("vm.web"));
    let err = ResourceGraph::build(&resources).unwrap_err();
    let GraphError::Cycle(cycle) = &err else {
        panic!("{err}")
    };
    assert!(
        cycle.contains(&a("vm.web")) && cycle.contains(&a("resource_group.app")),
        "{err}"
    );
    assert!(err.to_string().starts_with("dependency cycle: "), "{err}");
    // The cycle is closed: each element depends on the next one.
    for (i, addr) in cycle.iter().enumerate() {
        let next = &cycle[(i + 1) % cycle.len()];
        let r = resources.iter().find(|r| &r.address == addr).unwrap();
        assert!(
            r.depends_on.contains(next),
            "{addr} does not depend on {next}"
        );
    }
}

#[test]
fn drawings() {
    for name in ["cross-tenant", "fleet"] {
        let g = ResourceGraph::from_workspace(&ws(name)).unwrap();
        insta::assert_snapshot!(format!("{name}.dot"), render(&g, Format::Dot));
        insta::assert_snapshot!(format!("{name}.mermaid"), render(&g, Format::Mermaid));
    }
}

#[test]
fn restrict_keeps_a_target_and_its_dependencies() {
    let g = ResourceGraph::from_workspace(&ws("cross-tenant")).unwrap();
    let sub = g.restrict(&[a("nic.web")]).unwrap();
    let nodes: Vec<String> = sub.nodes().map(|n| n.address.to_string()).collect();
    assert_eq!(
        nodes,
        [
            "resource_group.app",
            "nsg.web",
            "network.app",
            "public_ip.web",
            "nic.web"
        ]
    );
    assert_eq!(sub.edges().count(), 7);
    assert_eq!(strs(sub.apply_order()).last().unwrap(), "nic.web");
    assert!(matches!(
        g.restrict(&[a("vm.nope")]),
        Err(GraphError::UnknownAddress(_))
    ));
}
