//! Turns the plan's resource changes into a graph of steps, each waiting for the steps it must
//! follow.
//!
//! This is where the ordering rules live, apart from the executor that merely obeys them:
//! creates and updates follow what they reference; deletions run in reverse (a resource is
//! deleted only after everything that referenced it is gone); a replacement becomes two steps
//! chained in the order the plan chose. Chaining the two halves is also what guarantees that one
//! resource is never written twice at once (kube-rs `controller/runner.rs` keeps the same
//! promise with a lock; here the graph makes it structural).

use std::collections::HashMap;
use std::sync::Arc;

use crate::step::{Change, ChangeAction, Op, ReplaceOrder, StepId};

/// A plan that cannot be executed as given.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    /// Two changes share one address; the plan is malformed.
    #[error("the plan changes {0} twice")]
    DuplicateAddress(String),
    /// The ordering rules produce a cycle; the listed steps wait on each other.
    #[error("the plan's steps wait on each other in a cycle: {}", .0.join(", "))]
    Cycle(Vec<String>),
}

/// One step with its place in the graph.
#[derive(Debug)]
pub struct Scheduled<P> {
    /// Which write on which address.
    pub id: StepId,
    /// Subscription the write goes to.
    pub subscription: String,
    /// The change's payload, shared by both halves of a replacement.
    pub payload: Arc<P>,
    /// Indexes of the steps that must succeed before this one starts.
    pub waits_on: Vec<usize>,
    /// Indexes of the steps that wait on this one.
    pub dependents: Vec<usize>,
}

/// Every step of a plan, in plan order, with its edges.
#[derive(Debug)]
pub struct Schedule<P> {
    /// The steps; indexes are stable and used by the edges.
    pub steps: Vec<Scheduled<P>>,
}

/// The step indexes one address expanded into.
#[derive(Clone, Copy, Default)]
struct Halves {
    /// Create or update step (the "resource exists as desired" point).
    up: Option<usize>,
    /// Delete step.
    down: Option<usize>,
    /// A create-then-delete replacement: its old copy is still referenced until its
    /// dependents move to the new one.
    cbd: bool,
}

impl<P> Schedule<P> {
    /// Expands `changes` into steps and orders them.
    ///
    /// # Errors
    /// [`ScheduleError::DuplicateAddress`] when an address appears twice and
    /// [`ScheduleError::Cycle`] when the ordering rules cannot all be met.
    pub fn build(changes: Vec<Change<P>>) -> Result<Self, ScheduleError> {
        let mut steps: Vec<Scheduled<P>> = Vec::new();
        let mut halves: HashMap<String, Halves> = HashMap::new();
        let mut meta = Vec::new();
        for change in changes {
            if halves.contains_key(&change.address) {
                return Err(ScheduleError::DuplicateAddress(change.address));
            }
            let payload = Arc::new(change.payload);
            let mut push = |op, replace| {
                steps.push(Scheduled {
                    id: StepId {
                        address: change.address.clone(),
                        op,
                        replace,
                    },
                    subscription: change.subscription.clone(),
                    payload: Arc::clone(&payload),
                    waits_on: Vec::new(),
                    dependents: Vec::new(),
                });
                steps.len() - 1
            };
            let h = match change.action {
                ChangeAction::Create => Halves {
                    up: Some(push(Op::Create, false)),
                    ..Halves::default()
                },
                ChangeAction::Update => Halves {
                    up: Some(push(Op::Update, false)),
                    ..Halves::default()
                },
                ChangeAction::Delete => Halves {
                    down: Some(push(Op::Delete, false)),
                    ..Halves::default()
                },
                ChangeAction::Replace(order) => {
                    // Push in execution order so plan-order listings read naturally.
                    let (up, down) = match order {
                        ReplaceOrder::DeleteThenCreate => {
                            let d = push(Op::Delete, true);
                            (push(Op::Create, true), d)
                        }
                        ReplaceOrder::CreateThenDelete => {
                            let u = push(Op::Create, true);
                            (u, push(Op::Delete, true))
                        }
                    };
                    let cbd = order == ReplaceOrder::CreateThenDelete;
                    Halves {
                        up: Some(up),
                        down: Some(down),
                        cbd,
                    }
                }
            };
            halves.insert(change.address.clone(), h);
            meta.push((
                change.address,
                change.action,
                change.depends_on,
                change.referenced_by,
            ));
        }

        // (before, after). Hard edges must all hold; soft ones order deletions and are dropped
        // where they would close a cycle: live bodies can reference each other both ways (a
        // VM lists its NIC, the NIC names its VM), and refusing the whole apply for that would
        // be worse than one deletion Azure may ask to retry.
        let mut edges: Vec<(usize, usize)> = Vec::new();
        let mut soft: Vec<(usize, usize)> = Vec::new();
        let mut referrers: Vec<(usize, usize)> = Vec::new();
        for (address, action, depends_on, referenced_by) in &meta {
            let me = halves[address];
            if let ChangeAction::Replace(order) = action {
                let (up, down) = (me.up.unwrap_or_default(), me.down.unwrap_or_default());
                match order {
                    ReplaceOrder::DeleteThenCreate => edges.push((down, up)),
                    ReplaceOrder::CreateThenDelete => edges.push((up, down)),
                }
            }
            // A deletion waits for whoever still references it live to let go: by being
            // deleted first, or by being updated away from it.
            if let (ChangeAction::Delete, Some(down)) = (action, me.down) {
                for r in referenced_by.iter().filter_map(|r| halves.get(r)) {
                    if let Some(before) = r.down.or(r.up) {
                        referrers.push((before, down));
                    }
                }
            }
            for dep in depends_on {
                let Some(dep_h) = halves.get(dep).copied() else {
                    continue;
                };
                // My create/update follows the creation of what I reference.
                if let (Some(up), Some(dep_up)) = (me.up, dep_h.up) {
                    edges.push((dep_up, up));
                }
                // What I reference is deleted only after I am deleted, or after I have moved
                // to its replacement (create-then-delete: the old copy goes last).
                if let Some(dep_down) = dep_h.down {
                    if let Some(down) = me.down {
                        soft.push((down, dep_down));
                    }
                    if dep_h.cbd
                        && let Some(up) = me.up
                    {
                        edges.push((up, dep_down));
                    }
                }
            }
        }
        edges.sort_unstable();
        edges.dedup();
        let mut schedule = Self { steps };
        for (before, after) in edges {
            schedule.link(before, after);
        }
        schedule.check_acyclic()?;
        // The planner's own delete ordering first, then the live-referrer rule.
        for (before, after) in soft.into_iter().chain(referrers) {
            if before == after || schedule.steps[after].waits_on.contains(&before) {
                continue;
            }
            if schedule.reaches(after, before) {
                tracing::debug!(
                    first = %schedule.steps[before].id,
                    then = %schedule.steps[after].id,
                    "deletion order dropped: it would close a cycle"
                );
                continue;
            }
            schedule.link(before, after);
        }
        Ok(schedule)
    }

    fn link(&mut self, before: usize, after: usize) {
        if before != after {
            self.steps[after].waits_on.push(before);
            self.steps[before].dependents.push(after);
        }
    }

    /// Whether `to` is reachable from `from` along existing edges.
    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = vec![false; self.steps.len()];
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            if i == to {
                return true;
            }
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(self.steps[i].dependents.iter().copied());
            }
        }
        false
    }

    /// Kahn's algorithm; whatever cannot be ordered is in (or behind) a cycle.
    fn check_acyclic(&self) -> Result<(), ScheduleError> {
        let mut indegree: Vec<usize> = self.steps.iter().map(|s| s.waits_on.len()).collect();
        let mut ready: Vec<usize> = (0..self.steps.len())
            .filter(|&i| indegree[i] == 0)
            .collect();
        let mut seen = 0;
        while let Some(i) = ready.pop() {
            seen += 1;
            for &d in &self.steps[i].dependents {
                indegree[d] -= 1;
                if indegree[d] == 0 {
                    ready.push(d);
                }
            }
        }
        if seen == self.steps.len() {
            return Ok(());
        }
        let stuck = (0..self.steps.len())
            .filter(|&i| indegree[i] > 0)
            .map(|i| self.steps[i].id.to_string())
            .collect();
        Err(ScheduleError::Cycle(stuck))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(address: &str, action: ChangeAction, deps: &[&str]) -> Change<()> {
        Change {
            address: address.into(),
            subscription: "sub".into(),
            action,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            referenced_by: Vec::new(),
            payload: (),
        }
    }

    /// Names of the steps `step` waits on, for readable assertions.
    fn waits(s: &Schedule<()>, step: &str) -> Vec<String> {
        let i = s
            .steps
            .iter()
            .position(|x| x.id.to_string() == step)
            .expect(step);
        let mut w: Vec<String> = s.steps[i]
            .waits_on
            .iter()
            .map(|&j| s.steps[j].id.to_string())
            .collect();
        w.sort();
        w
    }

    #[test]
    fn creates_follow_references_and_deletes_reverse_them() {
        let s = Schedule::build(vec![
            change("resource_group.app", ChangeAction::Create, &[]),
            change("network.app", ChangeAction::Create, &["resource_group.app"]),
            change("nic.old", ChangeAction::Delete, &["network.old"]),
            change("network.old", ChangeAction::Delete, &[]),
        ])
        .unwrap();
        assert_eq!(waits(&s, "network.app"), ["resource_group.app"]);
        assert_eq!(waits(&s, "network.old"), ["nic.old"]);
        assert!(waits(&s, "nic.old").is_empty());
    }

    #[test]
    fn delete_then_create_replacement_is_chained_after_dependents_go() {
        let dtc = ChangeAction::Replace(ReplaceOrder::DeleteThenCreate);
        let s = Schedule::build(vec![
            change("nic.web", dtc, &[]),
            change("vm.web", dtc, &["nic.web"]),
        ])
        .unwrap();
        assert_eq!(
            waits(&s, "nic.web (replace: delete)"),
            ["vm.web (replace: delete)"]
        );
        assert_eq!(
            waits(&s, "nic.web (replace: create)"),
            ["nic.web (replace: delete)"]
        );
        assert_eq!(
            waits(&s, "vm.web (replace: create)"),
            ["nic.web (replace: create)", "vm.web (replace: delete)"]
        );
    }

    #[test]
    fn create_then_delete_replacement_removes_the_old_copy_last() {
        let cbd = ChangeAction::Replace(ReplaceOrder::CreateThenDelete);
        let s = Schedule::build(vec![
            change("public_ip.web", cbd, &[]),
            change("nic.web", ChangeAction::Update, &["public_ip.web"]),
        ])
        .unwrap();
        assert_eq!(
            waits(&s, "public_ip.web (replace: create)"),
            Vec::<String>::new()
        );
        assert_eq!(
            waits(&s, "public_ip.web (replace: delete)"),
            ["nic.web", "public_ip.web (replace: create)"]
        );
        assert_eq!(waits(&s, "nic.web"), ["public_ip.web (replace: create)"]);
    }

    #[test]
    fn a_deletion_waits_for_live_referrers_to_let_go() {
        let mut old_nsg = change("nsg.old", ChangeAction::Delete, &[]);
        old_nsg.referenced_by = vec!["network.app".into(), "nic.gone".into(), "vm.other".into()];
        let s = Schedule::build(vec![
            change("nsg.new", ChangeAction::Create, &[]),
            change("network.app", ChangeAction::Update, &["nsg.new"]),
            change("nic.gone", ChangeAction::Delete, &[]),
            old_nsg,
        ])
        .unwrap();
        // vm.other is not in the plan: nothing to wait for.
        assert_eq!(waits(&s, "nsg.old"), ["network.app", "nic.gone"]);
    }

    #[test]
    fn mutual_live_references_between_deletions_do_not_block_the_apply() {
        // The VM lists its NIC and the NIC names its VM (read-only `virtualMachine`): the
        // first rule in plan order wins, and the other direction is dropped.
        let mut nic = change("nic.web", ChangeAction::Delete, &["vm.web"]);
        nic.referenced_by = vec!["vm.web".into()];
        let mut vm = change("vm.web", ChangeAction::Delete, &["nic.web"]);
        vm.referenced_by = vec!["nic.web".into()];
        let s = Schedule::build(vec![vm, nic]).unwrap();
        assert_eq!(waits(&s, "nic.web"), ["vm.web"]);
        assert!(waits(&s, "vm.web").is_empty());
        // Creates have no such leeway: a cycle there is the plan's error.
        let hard = Schedule::build(vec![
            change("a.x", ChangeAction::Create, &["b.x"]),
            change("b.x", ChangeAction::Create, &["a.x"]),
        ]);
        assert!(matches!(hard, Err(ScheduleError::Cycle(_))));
    }

    #[test]
    fn unknown_dependencies_are_resources_the_plan_leaves_alone() {
        let s = Schedule::build(vec![change("vm.web", ChangeAction::Create, &["nic.web"])]);
        assert!(s.unwrap().steps[0].waits_on.is_empty());
    }

    #[test]
    fn duplicates_and_cycles_are_refused() {
        let dup = Schedule::build(vec![
            change("nsg.web", ChangeAction::Create, &[]),
            change("nsg.web", ChangeAction::Delete, &[]),
        ]);
        assert_eq!(
            dup.unwrap_err(),
            ScheduleError::DuplicateAddress("nsg.web".into())
        );
        let cycle = Schedule::build(vec![
            change("a.x", ChangeAction::Create, &["b.x"]),
            change("b.x", ChangeAction::Create, &["a.x"]),
            change("c.x", ChangeAction::Create, &[]),
        ]);
        assert_eq!(
            cycle.unwrap_err(),
            ScheduleError::Cycle(vec!["a.x".into(), "b.x".into()])
        );
    }
}
