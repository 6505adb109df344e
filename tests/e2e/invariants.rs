//! What "converged" and "touched nothing else" mean, checked from the emulator's side only, so
//! the fault, crash and restart tests share one definition of the promises in
//! `docs/reliability.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::context::TestContext;

/// What the workspace declares: address -> lower-case ARM id, read from `galleon plan --json`
/// before anything exists (every resource is then a `create`).
pub struct Desired {
    pub workspace: String,
    pub ids: BTreeMap<String, String>,
}

impl Desired {
    pub fn read(ctx: &TestContext, workspace: &str) -> Self {
        let run = ctx.run(&["plan", "--json"]);
        let plan: Value = serde_json::from_str(&run.stdout())
            .unwrap_or_else(|e| panic!("plan --json: {e}\n{}\n{}", run.stdout(), run.stderr()));
        let ids: BTreeMap<String, String> = plan["resource_changes"]
            .as_array()
            .expect("resource_changes")
            .iter()
            .map(|c| {
                (
                    c["address"].as_str().unwrap().to_owned(),
                    c["arm_id"].as_str().unwrap().to_lowercase(),
                )
            })
            .collect();
        assert!(!ids.is_empty());
        Desired {
            workspace: workspace.to_owned(),
            ids,
        }
    }
}

/// Every resource the emulator holds, by lower-case id.
pub fn by_id(ctx: &TestContext) -> BTreeMap<String, Value> {
    ctx.resources()
        .into_iter()
        .filter_map(|r| Some((r["id"].as_str()?.to_lowercase(), r)))
        .collect()
}

/// The resources nobody asked galleon to manage, as they are now (compare after the test).
pub fn unowned(ctx: &TestContext, desired: &Desired) -> BTreeMap<String, Value> {
    let ours: BTreeSet<&String> = desired.ids.values().collect();
    by_id(ctx)
        .into_iter()
        .filter(|(id, r)| {
            !ours.contains(id) && r["tags"]["galleon-workspace"] != *desired.workspace
        })
        .collect()
}

/// Asserts that every resource in `before` is still there, unchanged, and that no write request
/// in the emulator's log ever addressed one of them.
pub fn assert_untouched(ctx: &TestContext, before: &BTreeMap<String, Value>) {
    let now = by_id(ctx);
    for (id, body) in before {
        assert_eq!(now.get(id), Some(body), "unowned resource {id} changed");
    }
    for r in ctx.requests() {
        let method = r["method"].as_str().unwrap_or("");
        let path = r["path"].as_str().unwrap_or("").to_lowercase();
        if matches!(method, "PUT" | "PATCH" | "DELETE") && !path.starts_with("/blob/") {
            assert!(
                !before.contains_key(&path),
                "{method} {path} wrote to a resource galleon does not own"
            );
        }
    }
}

/// Asserts the emulator holds exactly the desired resources, once each, all provisioned, and
/// that a fresh plan has nothing to do.
pub fn assert_converged(ctx: &TestContext, desired: &Desired) {
    let resources = by_id(ctx);
    for (address, id) in &desired.ids {
        let r = resources
            .get(id)
            .unwrap_or_else(|| panic!("{address} ({id}) is missing"));
        let state = &r["properties"]["provisioningState"];
        assert!(
            state.is_null() || state == "Succeeded",
            "{address} is {state}"
        );
    }
    let ws = desired.workspace.as_str();
    let mut seen = BTreeMap::<String, usize>::new();
    for (id, r) in &resources {
        if r["tags"]["galleon-workspace"] != ws {
            continue;
        }
        let address = r["tags"]["galleon-address"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        assert!(
            desired.ids.get(&address) == Some(id),
            "{id} carries {ws}'s tag as {address} but is not what the workspace declares"
        );
        *seen.entry(address).or_default() += 1;
    }
    let duplicated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "duplicates: {duplicated:?}");
    assert_no_duplicate_grants(&resources);
    assert_one_disk_per_vm(&resources);
    ctx.run(&["plan", "--detailed-exitcode"]).expect(0);
}

/// Role assignments carry no tags: a duplicate would be a second assignment of the same role to
/// the same principal at the same scope under another name.
fn assert_no_duplicate_grants(resources: &BTreeMap<String, Value>) {
    let mut grants = BTreeMap::<(String, String, String), usize>::new();
    for r in resources.values() {
        if r["type"] != "Microsoft.Authorization/roleAssignments" {
            continue;
        }
        let p = &r["properties"];
        let key = |v: &Value| v.as_str().unwrap_or("").to_lowercase();
        *grants
            .entry((
                key(&p["scope"]),
                key(&p["roleDefinitionId"]),
                key(&p["principalId"]),
            ))
            .or_default() += 1;
    }
    let dup: Vec<_> = grants.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "duplicate role assignments: {dup:?}");
}

/// A VM created twice (or a create retried after a lost answer) would leave a second OS disk.
fn assert_one_disk_per_vm(resources: &BTreeMap<String, Value>) {
    let count = |suffix: &str| {
        resources
            .keys()
            .filter(|id| id.contains(suffix))
            .filter(|id| id.matches('/').count() == 8)
            .count()
    };
    assert_eq!(
        count("/providers/microsoft.compute/disks/"),
        count("/providers/microsoft.compute/virtualmachines/"),
        "OS disks and VMs differ in number"
    );
}

/// Asserts that nothing tagged for the workspace is left (after destroy).
pub fn assert_nothing_owned(ctx: &TestContext, workspace: &str) {
    let left: Vec<String> = by_id(ctx)
        .into_iter()
        .filter(|(_, r)| r["tags"]["galleon-workspace"] == workspace)
        .map(|(id, _)| id)
        .collect();
    assert!(left.is_empty(), "still owned after destroy: {left:?}");
}

/// After one apply run (`--json` events on stdout): every declared resource that exists but is
/// not provisioned was reported as failed or cancelled by that run (nothing half-made in
/// silence), and every step that started reached exactly one terminal event.
pub fn assert_half_made_reported(ctx: &TestContext, desired: &Desired, events: &str) {
    let mut terminal = BTreeMap::<String, Vec<String>>::new();
    let mut started = BTreeSet::<String>::new();
    for line in events.lines().filter(|l| l.starts_with('{')) {
        let e: Value = serde_json::from_str(line).expect("an event line is JSON");
        let Some(address) = e["step"]["address"].as_str() else {
            continue;
        };
        let kind = e["event"].as_str().unwrap_or("").to_owned();
        match kind.as_str() {
            "started" => {
                started.insert(address.to_owned());
            }
            "succeeded" | "failed" | "skipped" | "cancelled" => {
                terminal.entry(address.to_owned()).or_default().push(kind);
            }
            _ => {}
        }
    }
    for address in &started {
        assert!(
            terminal.contains_key(address),
            "{address} started but never finished in the events"
        );
    }
    let resources = by_id(ctx);
    for (address, id) in &desired.ids {
        let Some(r) = resources.get(id) else { continue };
        let state = r["properties"]["provisioningState"]
            .as_str()
            .unwrap_or("Succeeded");
        if state != "Succeeded" {
            let reported = terminal
                .get(address)
                .is_some_and(|k| k.iter().any(|k| k == "failed" || k == "cancelled"));
            assert!(
                reported,
                "{address} is {state} but the run did not report it"
            );
        }
    }
}
