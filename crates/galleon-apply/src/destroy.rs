//! `galleon destroy`: a plan that deletes everything the workspace owns, and nothing else.
//!
//! Destroy is not a separate engine: it turns a full plan (which read every resource the
//! workspace declares or owns) into one whose only writes are DELETEs of owned, existing
//! resources, then goes through the same confirmation, lock, freshness check and executor as
//! apply. The executor reverses the dependencies for deletions, so a VM goes before its NIC,
//! the NIC before its network, the group last.

use galleon_plan::{Action, Method, Plan, Request, ResourceChange, Summary};
use serde_json::Value;

/// The ownership tag (docs/architecture.md, "Ownership without a state file").
const WORKSPACE_TAG: &str = "galleon-workspace";

/// Whether `change` names a live resource this workspace may delete. `owned_by_us` is the
/// planner's verdict; when the live tags are at hand they must agree, so a planner bug cannot
/// make destroy delete someone else's resource.
fn deletable(change: &ResourceChange, workspace: &str) -> bool {
    let exists = change.action != Action::Create && change.before.is_some()
        || matches!(change.action, Action::Delete);
    if !exists || !change.owned_by_us {
        return false;
    }
    match change.before.as_ref().and_then(|b| b.get("tags")) {
        Some(tags) if change.kind.taggable() => {
            tags.get(WORKSPACE_TAG).and_then(Value::as_str) == Some(workspace)
        }
        _ => true,
    }
}

/// The destroy plan of `plan`: owned, existing resources become DELETEs (with their kind's
/// api-version); everything else becomes a no-op. Preflight checks are dropped (they test
/// preconditions of creating, not of deleting); fingerprints are kept for the freshness check.
pub fn destroy_plan(plan: &Plan) -> Plan {
    let changes: Vec<ResourceChange> = plan
        .changes
        .iter()
        .map(|c| {
            let delete = deletable(c, &plan.workspace);
            ResourceChange {
                action: if delete { Action::Delete } else { Action::NoOp },
                replace_reasons: Vec::new(),
                attribute_changes: Vec::new(),
                after: if delete { None } else { c.before.clone() },
                request: delete.then(|| Request {
                    method: Method::Delete,
                    api_version: c.request.as_ref().map_or_else(
                        || c.kind.api_version().to_owned(),
                        |r| r.api_version.clone(),
                    ),
                    body: None,
                    aux_tenant_ids: Vec::new(),
                }),
                ..c.clone()
            }
        })
        .collect();
    Plan {
        summary: Summary::of(&changes, &[]),
        changes,
        preflight: Vec::new(),
        ..plan.clone()
    }
}

#[cfg(test)]
mod tests {
    use galleon_plan::fixtures;
    use serde_json::json;

    use super::*;

    #[test]
    fn deletes_owned_live_resources_only() {
        let mut plan = fixtures::mixed();
        // An adopted-but-unowned resource group must survive destroy.
        let rg = plan
            .changes
            .iter_mut()
            .find(|c| c.address == "resource_group.images")
            .unwrap();
        rg.owned_by_us = false;
        let d = destroy_plan(&plan);
        let action = |a: &str| d.change(a).unwrap().action;
        assert_eq!(action("resource_group.images"), Action::NoOp, "unowned");
        assert_eq!(
            action("resource_group.app"),
            Action::NoOp,
            "does not exist yet"
        );
        assert_eq!(action("gallery.golden"), Action::Delete);
        assert_eq!(action("gallery_image.golden/ubuntu"), Action::Delete);
        assert_eq!(action("public_ip.old"), Action::Delete);
        assert_eq!((d.summary.destroy, d.summary.unchanged), (3, 2));
        assert!(d.preflight.is_empty());
        assert_eq!(d.reads, plan.reads);
        let req = d.change("gallery.golden").unwrap().request.clone().unwrap();
        assert_eq!(
            (req.method, req.body, req.aux_tenant_ids.len()),
            (Method::Delete, None, 0)
        );
        crate::apply::changes_of(&d).expect("a destroy plan is well formed");
    }

    #[test]
    fn live_tags_of_another_workspace_veto_the_planners_verdict() {
        let mut plan = fixtures::mixed();
        let g = plan
            .changes
            .iter_mut()
            .find(|c| c.address == "gallery.golden")
            .unwrap();
        g.owned_by_us = true;
        g.before.as_mut().unwrap()["tags"] = json!({"galleon-workspace": "someone-else"});
        assert_eq!(
            destroy_plan(&plan).change("gallery.golden").unwrap().action,
            Action::NoOp
        );
    }
}
