//! DOT and Mermaid drawings of a [`ResourceGraph`].
//!
//! Resources are grouped by tenant so the cross-tenant edge (a VM in one tenant depending on the
//! grant in the other) stands out; it is drawn dashed and labelled. Arrows point from a resource
//! to what it depends on, as `terraform graph` does.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::graph::{EdgeKind, Node, ResourceGraph};

/// Output format of `galleon graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// Renders the graph in `format`.
pub fn render(graph: &ResourceGraph, format: Format) -> String {
    match format {
        Format::Dot => to_dot(graph),
        Format::Mermaid => to_mermaid(graph),
    }
}

fn by_tenant(graph: &ResourceGraph) -> BTreeMap<&str, Vec<(usize, &Node)>> {
    let mut groups: BTreeMap<&str, Vec<(usize, &Node)>> = BTreeMap::new();
    for (i, n) in graph.nodes().enumerate() {
        groups.entry(n.tenant.as_str()).or_default().push((i, n));
    }
    groups
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT.
pub fn to_dot(graph: &ResourceGraph) -> String {
    let mut out = String::from(
        "digraph galleon {\n  rankdir=RL;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n",
    );
    for (ci, (tenant, nodes)) in by_tenant(graph).into_iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{ci} {{");
        let _ = writeln!(out, "    label=\"tenant {}\";", dot_escape(tenant));
        for (_, n) in nodes {
            let _ = writeln!(
                out,
                "    \"{a}\" [label=\"{a}\\n{id}\"];",
                a = dot_escape(&n.address.to_string()),
                id = dot_escape(&n.arm_id)
            );
        }
        out.push_str("  }\n");
    }
    for (dependency, dependent, kind) in graph.edges() {
        let style = match kind {
            EdgeKind::Parent => " [color=gray]",
            EdgeKind::Reference => "",
            EdgeKind::CrossTenantGrant => {
                " [style=dashed, color=red, label=\"cross-tenant grant\"]"
            }
        };
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\"{style};",
            dot_escape(&dependent.address.to_string()),
            dot_escape(&dependency.address.to_string())
        );
    }
    out.push_str("}\n");
    out
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// Mermaid flowchart.
pub fn to_mermaid(graph: &ResourceGraph) -> String {
    let mut out = String::from("flowchart RL\n");
    let ids: BTreeMap<String, usize> = graph
        .nodes()
        .enumerate()
        .map(|(i, n)| (n.address.to_string(), i))
        .collect();
    for (ci, (tenant, nodes)) in by_tenant(graph).into_iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph t{ci}[\"tenant {}\"]",
            mermaid_escape(tenant)
        );
        for (i, n) in nodes {
            let _ = writeln!(
                out,
                "    n{i}[\"{}<br/><small>{}</small>\"]",
                mermaid_escape(&n.address.to_string()),
                mermaid_escape(&n.arm_id)
            );
        }
        out.push_str("  end\n");
    }
    for (dependency, dependent, kind) in graph.edges() {
        let from = ids[&dependent.address.to_string()];
        let to = ids[&dependency.address.to_string()];
        let arrow = match kind {
            EdgeKind::CrossTenantGrant => "-. cross-tenant grant .->",
            _ => "-->",
        };
        let _ = writeln!(out, "  n{from} {arrow} n{to}");
    }
    out
}
