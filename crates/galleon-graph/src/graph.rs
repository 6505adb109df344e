//! The graph itself: nodes are resources, an edge `a -> b` means "a must exist before b".
//!
//! Orders are deterministic (ties broken by manifest order), so plans and snapshots are stable.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use galleon_manifest::{Address, Kind, Resource, Workspace};
use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

/// One resource in the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its address.
    pub address: Address,
    /// Its ARM id.
    pub arm_id: String,
    /// Tenant key it lives in.
    pub tenant: String,
}

/// Why one resource depends on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// The parent that contains it (resource group, gallery, image definition).
    Parent,
    /// A reference in the manifest (subnet, NIC, NSG, public IP, image, source).
    Reference,
    /// A VM in one tenant needs the RBAC grant on the gallery in another tenant.
    CrossTenantGrant,
}

/// Problems building or querying the graph.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    /// Resources depend on each other in a loop; the cycle in dependency order.
    #[error("dependency cycle: {}", render_cycle(.0))]
    Cycle(Vec<Address>),
    /// A resource depends on an address that is not in the graph.
    #[error("{from} depends on {to}, which is not in the workspace")]
    MissingDependency {
        /// The dependent.
        from: Address,
        /// The missing dependency.
        to: Address,
    },
    /// A queried address is not in the graph.
    #[error("no resource at address {0}")]
    UnknownAddress(Address),
}

fn render_cycle(cycle: &[Address]) -> String {
    let mut parts: Vec<String> = cycle.iter().map(ToString::to_string).collect();
    if let Some(first) = cycle.first() {
        parts.push(first.to_string());
    }
    parts.join(" -> ")
}

/// The dependency graph of a workspace.
#[derive(Clone, Debug)]
pub struct ResourceGraph {
    graph: DiGraph<Node, EdgeKind>,
    index: HashMap<Address, NodeIndex>,
}

fn edge_kind(dependent: &Resource, dependency: &Address) -> EdgeKind {
    let parent = match dependency.kind {
        Kind::ResourceGroup => true,
        Kind::Gallery => matches!(dependent.kind(), Kind::GalleryImage | Kind::GalleryGrant),
        Kind::GalleryImage => dependent.kind() == Kind::ImageVersion,
        _ => false,
    };
    if parent {
        EdgeKind::Parent
    } else if dependency.kind == Kind::GalleryGrant && dependent.image_tenant.is_some() {
        EdgeKind::CrossTenantGrant
    } else {
        EdgeKind::Reference
    }
}

impl ResourceGraph {
    /// Builds the graph of a loaded workspace.
    ///
    /// # Errors
    /// [`GraphError::Cycle`] (a loaded workspace has none, but the check is cheap).
    pub fn from_workspace(ws: &Workspace) -> Result<Self, GraphError> {
        Self::build(ws.resources())
    }

    /// Builds the graph from resources and their `depends_on`.
    ///
    /// # Errors
    /// A dependency outside `resources`, or a cycle.
    pub fn build(resources: &[Resource]) -> Result<Self, GraphError> {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for r in resources {
            let ix = graph.add_node(Node {
                address: r.address.clone(),
                arm_id: r.arm_id.clone(),
                tenant: r.tenant.clone(),
            });
            index.insert(r.address.clone(), ix);
        }
        for r in resources {
            let to = index[&r.address];
            for dep in &r.depends_on {
                let from = *index
                    .get(dep)
                    .ok_or_else(|| GraphError::MissingDependency {
                        from: r.address.clone(),
                        to: dep.clone(),
                    })?;
                graph.update_edge(from, to, edge_kind(r, dep));
            }
        }
        let g = ResourceGraph { graph, index };
        if let Some(cycle) = g.find_cycle() {
            return Err(GraphError::Cycle(cycle));
        }
        Ok(g)
    }

    fn find_cycle(&self) -> Option<Vec<Address>> {
        for scc in tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let start = *members.iter().next()?;
            // Walk "depends on" edges (incoming) inside the component back to the start.
            let mut path = vec![start];
            let mut seen = BTreeSet::from([start]);
            let mut current = start;
            loop {
                let next = self
                    .graph
                    .neighbors_directed(current, Direction::Incoming)
                    .filter(|n| members.contains(n))
                    .min_by_key(|n| (seen.contains(n) && *n != start, n.index()))?;
                if next == start {
                    break;
                }
                if !seen.insert(next) {
                    // Entered a smaller loop that avoids the start: report that loop.
                    let from = path.iter().position(|n| *n == next).unwrap_or(0);
                    path.drain(..from);
                    break;
                }
                path.push(next);
                current = next;
            }
            return Some(
                path.iter()
                    .map(|n| self.graph[*n].address.clone())
                    .collect(),
            );
        }
        None
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// True when the workspace manages nothing.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Nodes in manifest order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights()
    }

    /// The node at `address`.
    pub fn node(&self, address: &Address) -> Option<&Node> {
        self.index.get(address).map(|ix| &self.graph[*ix])
    }

    /// Edges as (dependency, dependent, kind), in insertion order.
    pub fn edges(&self) -> impl Iterator<Item = (&Node, &Node, EdgeKind)> {
        self.graph.edge_references().map(|e| {
            (
                &self.graph[e.source()],
                &self.graph[e.target()],
                *e.weight(),
            )
        })
    }

    fn ix(&self, address: &Address) -> Result<NodeIndex, GraphError> {
        self.index
            .get(address)
            .copied()
            .ok_or_else(|| GraphError::UnknownAddress(address.clone()))
    }

    /// What `address` directly depends on.
    ///
    /// # Errors
    /// [`GraphError::UnknownAddress`].
    pub fn dependencies(&self, address: &Address) -> Result<Vec<&Address>, GraphError> {
        let ix = self.ix(address)?;
        Ok(self.sorted(self.graph.neighbors_directed(ix, Direction::Incoming)))
    }

    /// What directly depends on `address`.
    ///
    /// # Errors
    /// [`GraphError::UnknownAddress`].
    pub fn dependents(&self, address: &Address) -> Result<Vec<&Address>, GraphError> {
        let ix = self.ix(address)?;
        Ok(self.sorted(self.graph.neighbors_directed(ix, Direction::Outgoing)))
    }

    fn sorted(&self, it: impl Iterator<Item = NodeIndex>) -> Vec<&Address> {
        let mut v: Vec<NodeIndex> = it.collect();
        v.sort();
        v.dedup();
        v.into_iter().map(|n| &self.graph[n].address).collect()
    }

    /// Creation order: every resource after everything it depends on; ties in manifest order.
    pub fn apply_order(&self) -> Vec<&Address> {
        self.order_of(|_| true)
    }

    /// Deletion order: the reverse of [`Self::apply_order`], dependents first.
    pub fn destroy_order(&self) -> Vec<&Address> {
        let mut v = self.apply_order();
        v.reverse();
        v
    }

    /// `targets` and everything they (transitively) depend on, in creation order: what
    /// `--target` must apply.
    ///
    /// # Errors
    /// [`GraphError::UnknownAddress`] for a target not in the workspace.
    pub fn with_dependencies(&self, targets: &[Address]) -> Result<Vec<&Address>, GraphError> {
        let set = self.closure(targets, Direction::Incoming)?;
        Ok(self.order_of(|n| set.contains(&n)))
    }

    /// `targets` and everything that (transitively) depends on them, in deletion order: what
    /// destroying the targets takes down with them.
    ///
    /// # Errors
    /// [`GraphError::UnknownAddress`] for a target not in the workspace.
    pub fn with_dependents(&self, targets: &[Address]) -> Result<Vec<&Address>, GraphError> {
        let set = self.closure(targets, Direction::Outgoing)?;
        let mut v = self.order_of(|n| set.contains(&n));
        v.reverse();
        Ok(v)
    }

    /// The graph restricted to `targets` and everything they depend on (what `galleon graph
    /// --target` draws).
    ///
    /// # Errors
    /// [`GraphError::UnknownAddress`] for a target not in the workspace.
    pub fn restrict(&self, targets: &[Address]) -> Result<ResourceGraph, GraphError> {
        let keep = self.closure(targets, Direction::Incoming)?;
        let graph = self.graph.filter_map(
            |ix, node| keep.contains(&ix).then(|| node.clone()),
            |_, edge| Some(*edge),
        );
        let index = graph
            .node_indices()
            .map(|ix| (graph[ix].address.clone(), ix))
            .collect();
        Ok(ResourceGraph { graph, index })
    }

    fn closure(
        &self,
        targets: &[Address],
        dir: Direction,
    ) -> Result<BTreeSet<NodeIndex>, GraphError> {
        let mut stack = targets
            .iter()
            .map(|t| self.ix(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if seen.insert(n) {
                stack.extend(self.graph.neighbors_directed(n, dir));
            }
        }
        Ok(seen)
    }

    /// Kahn's algorithm over the selected nodes with a min-heap on manifest order.
    fn order_of(&self, keep: impl Fn(NodeIndex) -> bool) -> Vec<&Address> {
        let mut indegree: HashMap<NodeIndex, usize> = HashMap::new();
        for n in self.graph.node_indices().filter(|n| keep(*n)) {
            let d = self
                .graph
                .neighbors_directed(n, Direction::Incoming)
                .filter(|m| keep(*m))
                .collect::<BTreeSet<_>>()
                .len();
            indegree.insert(n, d);
        }
        let mut ready: BinaryHeap<Reverse<NodeIndex>> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(n, _)| Reverse(*n))
            .collect();
        let mut out = Vec::with_capacity(indegree.len());
        while let Some(Reverse(n)) = ready.pop() {
            out.push(&self.graph[n].address);
            let next: BTreeSet<NodeIndex> = self
                .graph
                .neighbors_directed(n, Direction::Outgoing)
                .collect();
            for m in next {
                if let Some(d) = indegree.get_mut(&m) {
                    *d -= 1;
                    if *d == 0 {
                        ready.push(Reverse(m));
                    }
                }
            }
        }
        out
    }
}
