//! Planner: lowers the manifest to desired ARM resources, reads live state, diffs, runs preflight checks, writes plan files.
