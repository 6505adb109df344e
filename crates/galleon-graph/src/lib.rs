//! Dependency graph of a workspace's resources (petgraph), with DOT and Mermaid output.
