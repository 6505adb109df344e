//! Dependency graph of a workspace's resources (petgraph), with DOT and Mermaid output.
//!
//! The planner and the apply walker need one answer to "what must exist before what", and users
//! need to see it. Both come from here: [`ResourceGraph`] is built once from the resolved
//! resources, refuses cycles (naming them), and yields creation order, deletion order and the
//! closure of a `--target`. [`render`] draws the same graph as DOT or Mermaid.

mod graph;
pub mod render;

pub use graph::{EdgeKind, GraphError, Node, ResourceGraph};
pub use render::Format;
