//! Applier: executes a plan in dependency order, concurrently, with an apply lock held in Azure.
