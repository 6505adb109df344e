//! The pure heart of `galleon plan`: desired resources plus live state in, a [`Plan`] out.
//! No I/O here, so every decision (action, ownership, deletion, targeting, order) is unit
//! tested without Azure; [`crate::plan`] only gathers the inputs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use time::OffsetDateTime;

use crate::diff::diff_owned;
use crate::live::{LiveResource, LiveState, Owner, owner};
use crate::lower::DesiredResource;
use crate::{
    Action, AttributeChange, CheckResult, CheckStatus, Fingerprint, FingerprintState, Method, Plan,
    PlanError, Request, ResourceChange, ResourceKind,
};

/// The inputs of [`build_plan`].
#[derive(Debug)]
pub struct PlanInput<'a> {
    /// Workspace name.
    pub workspace: &'a str,
    /// Every declared resource, lowered. Consumed: each body becomes its change's `after`
    /// (and its request), so a plan of 10,000 resources holds each body once.
    pub desired: Vec<DesiredResource>,
    /// Everything read from Azure. Consumed likewise: a declared resource's live body becomes
    /// its change's `before`.
    pub live: LiveState,
    /// Checks computed elsewhere (preflight); ownership checks are added here.
    pub preflight: Vec<CheckResult>,
    /// `--target` addresses; empty for everything.
    pub targets: &'a [String],
    /// The plan's timestamp.
    pub created_at: OffsetDateTime,
}

/// Builds the plan.
///
/// # Guarantees
/// Only resources carrying this workspace's ownership marks are planned for deletion. A
/// declared resource that exists without them is adopted (updated, tags added) with a
/// warning; one owned by another workspace fails a check instead of being touched silently.
///
/// # Errors
/// [`PlanError::UnknownTarget`] when a `--target` names nothing declared or owned.
pub fn build_plan(input: PlanInput<'_>) -> Result<Plan, PlanError> {
    let PlanInput {
        workspace,
        mut desired,
        mut live,
        mut preflight,
        targets,
        created_at,
    } = input;
    let mut changes: Vec<ResourceChange> = Vec::new();
    let declared: BTreeSet<String> = desired
        .iter()
        .map(|d| d.arm_id.to_ascii_lowercase())
        .collect();
    // Deletions read live bodies of what is not declared, and ownership of what is: decided
    // before the loop below takes the declared bodies. Their checks still come last.
    let mut deletion_checks = Vec::new();
    let deletes = deletions(workspace, &live, &declared, &desired, &mut deletion_checks);

    for i in topological(&desired) {
        let d = &mut desired[i];
        let found = live.get(&d.arm_id);
        // Sharing members belong to their gallery, whose own change carries the ownership.
        let who = found.map(|l| match d.kind {
            ResourceKind::GalleryShare => Owner::Us {
                address: d.address.clone(),
            },
            kind => owner(kind, &l.body, workspace),
        });
        match &who {
            Some(Owner::Unowned) => preflight.push(adoption_warning(d)),
            Some(Owner::OtherWorkspace(other)) => preflight.push(foreign_owner(d, other)),
            _ => {}
        }
        // Sharing members keep their bodies: the share's requests and a cascade read them.
        let share = d.kind == ResourceKind::GalleryShare;
        let (share_add, share_remove) = match share {
            true => (
                crate::share::add_request(&d.body, found.map(|l| &l.body)),
                share_removal(d, found.map(|l| &l.body)),
            ),
            false => (None, None),
        };
        let body = match share {
            true => d.body.clone(),
            false => std::mem::take(&mut d.body),
        };
        let mut result = diff_owned(d.kind, Some(body), live.take_body(&d.arm_id));
        let request = match result.action {
            Action::NoOp | Action::Delete => None,
            // Sharing members are added by the gallery's `share` action, not written whole.
            _ if share => share_add,
            // A lowered body carries no field ARM computes, so `after` is what is sent
            // (lower::tests::lowered_bodies_carry_no_read_only_field).
            _ => Some(Request {
                method: Method::Put,
                api_version: d.kind.api_version().to_owned(),
                body: result.after.clone(),
                aux_tenant_ids: d.aux_tenant_ids.clone(),
            }),
        };
        if share && request.is_none() {
            result.action = Action::NoOp;
        }
        // Moved, not copied: past this point the cascade reads only address, kind, body
        // and aux tenants of a desired resource.
        changes.push(ResourceChange {
            address: d.address.clone(),
            kind: d.kind,
            arm_id: std::mem::take(&mut d.arm_id),
            tenant: std::mem::take(&mut d.tenant),
            tenant_id: std::mem::take(&mut d.tenant_id),
            subscription: std::mem::take(&mut d.subscription),
            resource_group: std::mem::take(&mut d.resource_group),
            action: result.action,
            replace_reasons: result.replace_reasons,
            attribute_changes: result.attribute_changes,
            before: result.before,
            after: result.after,
            depends_on: std::mem::take(&mut d.depends_on),
            request,
            owned_by_us: matches!(who, Some(Owner::Us { .. })),
        });
        changes.extend(share_remove);
    }

    cascade_replacements(&mut changes, &desired);
    changes.extend(deletes);
    preflight.extend(deletion_checks);

    if !targets.is_empty() {
        changes = targeted(changes, targets)?;
        let kept: BTreeSet<&str> = changes.iter().map(|c| c.address.as_str()).collect();
        preflight.retain(|c| c.address.as_deref().is_none_or(|a| kept.contains(a)));
    }
    // A share's id is an action's path, not something a GET can re-read; the gallery's own
    // fingerprint stands for it.
    let reads = changes
        .iter()
        .filter(|c| c.kind != ResourceKind::GalleryShare)
        .map(|c| Fingerprint {
            arm_id: c.arm_id.clone(),
            state: live
                .get(&c.arm_id)
                .map_or(FingerprintState::Absent, LiveResource::seen),
        })
        .collect();
    let mut plan = Plan::new(workspace, created_at, changes, preflight, reads);
    plan.targets = targets.to_vec();
    Ok(plan)
}

/// Members shared with that are no longer declared: their own POST, since one `share` call
/// carries one operation. It runs after the additions (it depends on them).
fn share_removal(d: &DesiredResource, live: Option<&Value>) -> Option<ResourceChange> {
    let request = crate::share::remove_request(&d.body, live)?;
    // What goes, per member type, so printers show the removal rather than an empty change.
    let attribute_changes = request
        .body
        .as_ref()
        .and_then(|b| b["groups"].as_array())
        .into_iter()
        .flatten()
        .map(|g| AttributeChange {
            path: format!("groups[{}].ids", g["type"].as_str().unwrap_or_default()),
            before: g["ids"].clone(),
            after: Value::Null,
            forces_replacement: false,
            sensitive: false,
        })
        .collect();
    Some(ResourceChange {
        address: format!("{}/remove", d.address),
        kind: d.kind,
        arm_id: d.arm_id.clone(),
        tenant: d.tenant.clone(),
        tenant_id: d.tenant_id.clone(),
        subscription: d.subscription.clone(),
        resource_group: d.resource_group.clone(),
        action: Action::Update,
        replace_reasons: Vec::new(),
        attribute_changes,
        before: live.cloned(),
        after: request.body.clone(),
        depends_on: vec![d.address.clone()],
        request: Some(request),
        owned_by_us: true,
    })
}

/// A replaced resource takes its existing children with it: Azure refuses to delete a gallery
/// image that still has versions (or a gallery with images), so they are replaced too.
fn cascade_replacements(changes: &mut [ResourceChange], desired: &[DesiredResource]) {
    let replaced: Vec<(String, String)> = changes
        .iter()
        .filter(|c| c.action == Action::Replace)
        .map(|c| {
            (
                format!("{}/", c.arm_id.to_ascii_lowercase()),
                c.address.clone(),
            )
        })
        .collect();
    for change in changes.iter_mut() {
        let id = change.arm_id.to_ascii_lowercase();
        let Some((_, parent)) = replaced.iter().find(|(prefix, _)| id.starts_with(prefix)) else {
            continue;
        };
        if !matches!(change.action, Action::NoOp | Action::Update) {
            continue;
        }
        let Some(d) = desired.iter().find(|d| d.address == change.address) else {
            if change.kind == ResourceKind::GalleryShare {
                // A removal from the old gallery: the new one has nothing to remove.
                change.action = Action::NoOp;
                change.request = None;
                change.attribute_changes.clear();
            }
            continue;
        };
        if d.kind == ResourceKind::GalleryShare {
            // The new gallery starts with no members: every declared one is added again.
            change.action = Action::Create;
            change.request = crate::share::add_request(&d.body, None);
            continue;
        }
        change.action = Action::Replace;
        change
            .replace_reasons
            .push(format!("replacement of {parent}"));
        change.request = Some(Request {
            method: Method::Put,
            api_version: d.kind.api_version().to_owned(),
            body: change.after.clone(),
            aux_tenant_ids: d.aux_tenant_ids.clone(),
        });
    }
}

/// Owned live resources that are no longer declared, each as a delete.
fn deletions(
    workspace: &str,
    live: &LiveState,
    declared: &BTreeSet<String>,
    desired: &[DesiredResource],
    preflight: &mut Vec<CheckResult>,
) -> Vec<ResourceChange> {
    // Addresses by id, to turn a live body's references into dependencies.
    let mut address_of: BTreeMap<String, String> = desired
        .iter()
        .map(|d| (d.arm_id.to_ascii_lowercase(), d.address.clone()))
        .collect();
    let mut doomed = Vec::new();
    for l in live.iter() {
        let Some(kind) = l.kind() else { continue };
        let id = l.arm_id.to_ascii_lowercase();
        if declared.contains(&id) {
            continue;
        }
        if let Owner::Us { address } = owner(kind, &l.body, workspace) {
            let address = if address.is_empty() {
                fallback_address(kind, &l.arm_id)
            } else {
                address
            };
            address_of.insert(id, address.clone());
            doomed.push((kind, l, address));
        }
    }
    let mut out = Vec::new();
    for (kind, l, address) in doomed {
        let id = l.arm_id.to_ascii_lowercase();
        let mut depends_on: BTreeSet<String> = BTreeSet::new();
        references(&l.body, &mut |r| {
            if let Some(a) = address_of.get(&r.to_ascii_lowercase()) {
                depends_on.insert(a.clone());
            }
        });
        // A child needs its parent (an image its gallery, anything its resource group), so
        // the applier deletes children first.
        for (other, a) in &address_of {
            if id.starts_with(&format!("{other}/")) {
                depends_on.insert(a.clone());
            }
        }
        depends_on.remove(&address);
        if kind == ResourceKind::ResourceGroup {
            let prefix = format!("{id}/");
            let strangers: Vec<&str> = live
                .iter()
                .filter(|o| o.arm_id.to_ascii_lowercase().starts_with(&prefix))
                .filter(|o| {
                    let who = o.kind().map(|k| owner(k, &o.body, workspace));
                    !matches!(who, Some(Owner::Us { .. })) && !managed_by_doomed(o, &address_of)
                })
                .map(|o| o.arm_id.as_str())
                .collect();
            if !strangers.is_empty() {
                preflight.push(CheckResult {
                    id: "resource-group-not-empty".into(),
                    address: Some(address.clone()),
                    status: CheckStatus::Fail,
                    title: "resource group holds resources galleon does not own".into(),
                    message: format!(
                        "deleting {} would also delete: {}",
                        l.arm_id,
                        strangers.join(", ")
                    ),
                    fix: Some(format!(
                        "move or delete those resources, or remove the galleon-workspace tag from the resource group to keep it (it stays as {address})"
                    )),
                });
            }
        }
        let result = diff_owned(kind, None, Some(l.body.clone()));
        let (subscription, resource_group) = placement(&l.arm_id);
        out.push(ResourceChange {
            address,
            kind,
            arm_id: l.arm_id.clone(),
            tenant: l.tenant.clone(),
            tenant_id: l.tenant_id.clone(),
            subscription,
            resource_group,
            action: Action::Delete,
            replace_reasons: Vec::new(),
            attribute_changes: result.attribute_changes,
            before: result.before,
            after: None,
            depends_on: depends_on.into_iter().collect(),
            request: Some(Request {
                method: Method::Delete,
                api_version: kind.api_version().to_owned(),
                body: None,
                aux_tenant_ids: Vec::new(),
            }),
            owned_by_us: true,
        });
    }
    out
}

/// A resource another one manages (a VM's OS disk, `managedBy` the VM) goes with its manager:
/// it is no stranger when the manager is declared or deleted by this plan.
fn managed_by_doomed(o: &crate::live::LiveResource, address_of: &BTreeMap<String, String>) -> bool {
    o.body
        .get("managedBy")
        .and_then(Value::as_str)
        .is_some_and(|m| !m.is_empty() && address_of.contains_key(&m.to_ascii_lowercase()))
}

/// Calls `f` with every string under a key named `id` (ARM references: `{"id": "/subscriptions/..."}`).
fn references(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k == "id" && s.starts_with('/') => f(s),
                    other => references(other, f),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, f)),
        _ => {}
    }
}

fn fallback_address(kind: ResourceKind, arm_id: &str) -> String {
    let name = arm_id.rsplit('/').next().unwrap_or(arm_id);
    format!("{kind}.{name}")
}

fn placement(arm_id: &str) -> (String, String) {
    let segments: Vec<&str> = arm_id.trim_matches('/').split('/').collect();
    let find = |key: &str| {
        segments
            .iter()
            .position(|s| s.eq_ignore_ascii_case(key))
            .and_then(|i| segments.get(i + 1))
            .map(|s| (*s).to_owned())
            .unwrap_or_default()
    };
    (find("subscriptions"), find("resourceGroups"))
}

fn adoption_warning(d: &DesiredResource) -> CheckResult {
    CheckResult {
        id: "name-taken-unowned".into(),
        address: Some(d.address.clone()),
        status: CheckStatus::Warn,
        title: "a resource with this name exists and galleon does not own it".into(),
        message: format!(
            "{} exists without the galleon-workspace tag; this plan adopts it (updates it and adds the ownership tags). galleon never deletes what it does not own",
            d.arm_id
        ),
        fix: Some(format!(
            "to keep it out of galleon, rename {} in the manifest (`name:`)",
            d.address
        )),
    }
}

fn foreign_owner(d: &DesiredResource, other: &str) -> CheckResult {
    CheckResult {
        id: "owned-by-other-workspace".into(),
        address: Some(d.address.clone()),
        status: CheckStatus::Fail,
        title: "the resource belongs to another galleon workspace".into(),
        message: format!("{} carries galleon-workspace: {other}", d.arm_id),
        fix: Some(format!(
            "rename {} (`name:`), or remove it from workspace {other} first",
            d.address
        )),
    }
}

/// Declared resources in dependency order (dependencies first), stable otherwise.
fn topological(desired: &[DesiredResource]) -> Vec<usize> {
    let index: BTreeMap<&str, usize> = desired
        .iter()
        .enumerate()
        .map(|(i, d)| (d.address.as_str(), i))
        .collect();
    let mut placed = vec![false; desired.len()];
    let mut out = Vec::with_capacity(desired.len());
    fn visit(
        i: usize,
        desired: &[DesiredResource],
        index: &BTreeMap<&str, usize>,
        placed: &mut [bool],
        out: &mut Vec<usize>,
    ) {
        if placed[i] {
            return;
        }
        // Marked before recursing: the manifest guarantees no cycle, and a cycle must not hang.
        placed[i] = true;
        for dep in &desired[i].depends_on {
            if let Some(&j) = index.get(dep.as_str()) {
                visit(j, desired, index, placed, out);
            }
        }
        out.push(i);
    }
    for i in 0..desired.len() {
        visit(i, desired, &index, &mut placed, &mut out);
    }
    out
}

/// The targeted changes and everything they depend on (terraform's `-target`).
fn targeted(
    changes: Vec<ResourceChange>,
    targets: &[String],
) -> Result<Vec<ResourceChange>, PlanError> {
    let by_address: BTreeMap<&str, &ResourceChange> =
        changes.iter().map(|c| (c.address.as_str(), c)).collect();
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = Vec::new();
    for t in targets {
        if !by_address.contains_key(t.as_str()) {
            return Err(PlanError::UnknownTarget {
                address: t.clone(),
                known: by_address.keys().map(|s| (*s).to_owned()).collect(),
            });
        }
        stack.push(t.clone());
    }
    while let Some(a) = stack.pop() {
        if !keep.insert(a.clone()) {
            continue;
        }
        let change = by_address[a.as_str()];
        // A delete's references point the other way; a targeted delete takes nothing along.
        if change.action != Action::Delete {
            stack.extend(
                change
                    .depends_on
                    .iter()
                    .filter(|d| by_address.contains_key(d.as_str()))
                    .cloned(),
            );
        }
    }
    Ok(changes
        .into_iter()
        .filter(|c| keep.contains(&c.address))
        .collect())
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
