//! Reading live state for a plan: in bulk and in parallel, never one GET per resource.
//!
//! Per tenant, one Resource Graph query finds everything the workspace owns (where the cloud
//! has Resource Graph); then one list call per subscription (resource groups) and per
//! resource group and type reads the bodies themselves. Bodies come from ARM, not from
//! Resource Graph rows, because Resource Graph lags behind writes (95% of changes within
//! 30 s, arm-protocol.md §3.4) and a plan right after an apply must see that apply.
//! Without Resource Graph, every managed type of every declared or owned group is listed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::{StreamExt, stream};
use galleon_azure::{ArmClient, TenantId};
use serde_json::Value;

use crate::live::{LiveResource, LiveState, Owner, owner};
use crate::lower::DesiredResource;
use crate::{PlanError, ResourceKind};

mod discover;
mod external;
mod usages;

use discover::{contents, discover, with_visible_subscriptions};
pub use external::{ExternalImage, read_external};
pub use usages::{Usage, UsageScope, Usages, read_usages};

/// The types that live directly in a resource group, with their collection path segment.
const TOP_LEVEL: [(ResourceKind, &str); 6] = [
    (ResourceKind::Gallery, "Microsoft.Compute/galleries"),
    (ResourceKind::Nsg, "Microsoft.Network/networkSecurityGroups"),
    (ResourceKind::Network, "Microsoft.Network/virtualNetworks"),
    (
        ResourceKind::PublicIp,
        "Microsoft.Network/publicIPAddresses",
    ),
    (ResourceKind::Nic, "Microsoft.Network/networkInterfaces"),
    (ResourceKind::Vm, "Microsoft.Compute/virtualMachines"),
];

/// A tenant galleon reads in.
#[derive(Debug, Clone)]
pub struct TenantScope {
    /// Manifest key.
    pub key: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Subscriptions of that tenant the workspace uses.
    pub subscriptions: BTreeSet<String>,
}

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Discover owned resources through Resource Graph.
    pub resource_graph: bool,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// One collection to list: where, and in which tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Collection {
    tenant: usize,
    path: String,
    at_scope: bool,
}

/// Reads everything a plan of `desired` needs to see.
///
/// # Errors
/// [`PlanError::Read`] when a list fails for another reason than a missing resource group.
pub async fn read_live(
    arm: &ArmClient,
    workspace: &str,
    tenants: &[TenantScope],
    desired: &[DesiredResource],
    options: &ReadOptions,
) -> Result<LiveState, PlanError> {
    // Owned leftovers can sit in a subscription the workspace no longer declares anything in:
    // every subscription the tenant's identity sees is searched.
    let tenants = &with_visible_subscriptions(arm, tenants).await;
    let mut live = LiveState::default();
    let by_id: HashMap<String, &DesiredResource> = desired
        .iter()
        .map(|d| (d.arm_id.to_ascii_lowercase(), d))
        .collect();
    let read = |t: usize, body: Value| resource(tenants, &by_id, t, body);
    let tenant_index: BTreeMap<&str, usize> = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| (t.key.as_str(), i))
        .collect();

    // Groups to look into, per tenant: (subscription, group) -> types to list (None: all).
    let mut groups: BTreeMap<(usize, String, String), BTreeSet<ResourceKind>> = BTreeMap::new();
    for d in desired
        .iter()
        .filter(|d| d.kind != ResourceKind::ResourceGroup)
    {
        if let Some(&t) = tenant_index.get(d.tenant.as_str()) {
            let key = (
                t,
                d.subscription.to_ascii_lowercase(),
                d.resource_group.to_ascii_lowercase(),
            );
            groups
                .entry(key)
                .or_default()
                .insert(top_level_kind(d.kind));
        }
    }
    let mut graph_ok = options.resource_graph;
    if options.resource_graph {
        match discover(arm, workspace, tenants).await {
            Ok(rows) => {
                for (t, sub, rg, kind) in rows {
                    groups.entry((t, sub, rg)).or_default().insert(kind);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "Resource Graph unavailable; listing every managed type instead");
                graph_ok = false;
            }
        }
    }

    // Stage 1: resource groups, one list per subscription.
    let subs: Vec<Collection> = tenants
        .iter()
        .enumerate()
        .flat_map(|(t, scope)| {
            scope.subscriptions.iter().map(move |s| Collection {
                tenant: t,
                path: format!("/subscriptions/{s}/resourcegroups"),
                at_scope: false,
            })
        })
        .collect();
    let declared_groups: BTreeSet<String> = desired
        .iter()
        .filter(|d| d.kind == ResourceKind::ResourceGroup)
        .map(|d| d.arm_id.to_ascii_lowercase())
        .collect();
    let mut existing_groups = BTreeSet::new();
    // Owned groups no longer declared: planned for deletion, so everything in them is read.
    let mut doomed_groups: BTreeSet<(usize, String, String)> = BTreeSet::new();
    for (c, items) in list_all(arm, tenants, subs, options.concurrency, &read).await? {
        for group in items {
            let lower = group.arm_id.to_ascii_lowercase();
            let ours = matches!(
                owner(ResourceKind::ResourceGroup, &group.body, workspace),
                Owner::Us { .. }
            );
            let (sub, rg) = sub_and_group(&lower);
            existing_groups.insert((c.tenant, sub.clone(), rg.clone()));
            if ours || declared_groups.contains(&lower) {
                if ours {
                    groups
                        .entry((c.tenant, sub.clone(), rg.clone()))
                        .or_default();
                }
                if ours && !declared_groups.contains(&lower) {
                    doomed_groups.insert((c.tenant, sub, rg));
                }
                live.insert(group);
            }
        }
    }

    // Whatever else lives in a group about to be deleted (a storage account, a disk), so the
    // planner can refuse to delete what galleon does not own. Rows only name a resource; a
    // listed body, if any, wins.
    if graph_ok && !doomed_groups.is_empty() {
        match contents(arm, tenants, &doomed_groups).await {
            Ok(rows) => rows.into_iter().for_each(|r| live.insert_if_absent(r)),
            Err(e) => tracing::warn!(error = %e, "cannot list the contents of groups to delete"),
        }
    }

    // Stage 2: every managed type of every group of interest that exists.
    let mut lists = Vec::new();
    for ((t, sub, rg), kinds) in &groups {
        if !existing_groups.contains(&(*t, sub.clone(), rg.clone())) {
            continue;
        }
        for (kind, path) in TOP_LEVEL {
            let doomed = doomed_groups.contains(&(*t, sub.clone(), rg.clone()));
            if graph_ok && !doomed && !kinds.contains(&kind) && !kinds.is_empty() {
                continue;
            }
            lists.push(Collection {
                tenant: *t,
                path: format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{path}"),
                at_scope: false,
            });
        }
    }
    let galleries = insert_all(
        &mut live,
        list_all(arm, tenants, lists, options.concurrency, &read).await?,
    )
    .into_iter()
    .filter(|(kind, _, _)| *kind == Some(ResourceKind::Gallery));

    // Stage 3: inside each gallery we declare or own, its images and role assignments.
    let declared: BTreeSet<String> = desired
        .iter()
        .map(|d| d.arm_id.to_ascii_lowercase())
        .collect();
    let relevant = |id: &str, body: &Value, kind| {
        declared.contains(&id.to_ascii_lowercase())
            || matches!(owner(kind, body, workspace), Owner::Us { .. })
    };
    let mut children = Vec::new();
    for (_, t, id) in galleries {
        let body = &live.get(&id).expect("just inserted").body;
        if relevant(&id, body, ResourceKind::Gallery) {
            children.push(Collection {
                tenant: t,
                path: format!("{id}/images"),
                at_scope: false,
            });
            children.push(Collection {
                tenant: t,
                path: format!("{id}/providers/Microsoft.Authorization/roleAssignments"),
                at_scope: true,
            });
        }
    }
    let images: Vec<_> = insert_all(
        &mut live,
        list_all(arm, tenants, children, options.concurrency, &read).await?,
    )
    .into_iter()
    .filter(|(kind, _, _)| *kind == Some(ResourceKind::GalleryImage))
    .collect();

    // Stage 4: the versions of each image we declare or own.
    let versions: Vec<Collection> = images
        .into_iter()
        .filter(|(_, _, id)| {
            relevant(
                id,
                &live.get(id).expect("inserted").body,
                ResourceKind::GalleryImage,
            )
        })
        .map(|(_, t, id)| Collection {
            tenant: t,
            path: format!("{id}/versions"),
            at_scope: false,
        })
        .collect();
    insert_all(
        &mut live,
        list_all(arm, tenants, versions, options.concurrency, &read).await?,
    );
    Ok(live)
}

/// The resource group level kind a desired resource is listed through.
pub(super) fn top_level_kind(kind: ResourceKind) -> ResourceKind {
    match kind {
        ResourceKind::GalleryImage
        | ResourceKind::ImageVersion
        | ResourceKind::GalleryGrant
        | ResourceKind::GalleryShare => ResourceKind::Gallery,
        other => other,
    }
}

/// Lists every collection, `concurrency` at a time, keeping each item as `read` makes it
/// from the page it came in.
async fn list_all(
    arm: &ArmClient,
    tenants: &[TenantScope],
    collections: Vec<Collection>,
    concurrency: usize,
    read: &(impl Fn(usize, Value) -> Option<LiveResource> + Sync),
) -> Result<Vec<(Collection, Vec<LiveResource>)>, PlanError> {
    let results: Vec<_> = stream::iter(collections)
        .map(|c| async move {
            let tenant = TenantId::new(&tenants[c.tenant].tenant_id);
            let keep = |body| read(c.tenant, body);
            // Role assignments at and above the gallery: `atScope()` (Authorization
            // 2022-04-01, `RoleAssignments_ListForScope`), paged with `nextLink` like any
            // list: a gallery in a busy subscription has more than one page.
            let query: &[(&str, &str)] = match c.at_scope {
                true => &[("$filter", "atScope()")],
                false => &[],
            };
            let result = arm.list_keeping(&tenant, &c.path, None, query, keep).await;
            (c, result)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut out = Vec::with_capacity(results.len());
    for (c, result) in results {
        match result {
            Ok(items) => out.push((c, items)),
            // The group (or gallery, or image) does not exist yet: nothing to see there. A
            // subscription that is not found is an error: its resources would look absent.
            Err(e) if e.is_not_found() && !c.path.ends_with("/resourcegroups") => {
                out.push((c, Vec::new()));
            }
            Err(source) => {
                return Err(PlanError::Read {
                    what: c.path,
                    tenant: tenants[c.tenant].key.clone(),
                    source: Box::new(source),
                });
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Inserts listed resources; returns (kind, tenant, id) of each.
fn insert_all(
    live: &mut LiveState,
    listed: Vec<(Collection, Vec<LiveResource>)>,
) -> Vec<(Option<ResourceKind>, usize, String)> {
    let mut out = Vec::new();
    for (c, items) in listed {
        for resource in items {
            out.push((resource.kind(), c.tenant, resource.arm_id.clone()));
            live.insert(resource);
        }
    }
    out
}

/// A listed body as the plan keeps it: fingerprinted whole, then narrowed to what the plan
/// reads when the workspace declares it (a body nobody declares may be deleted, and is shown
/// whole).
fn resource(
    tenants: &[TenantScope],
    desired: &HashMap<String, &DesiredResource>,
    t: usize,
    body: Value,
) -> Option<LiveResource> {
    let arm_id = body.get("id").and_then(Value::as_str)?.to_owned();
    let declared = desired
        .get(&arm_id.to_ascii_lowercase())
        .filter(|d| crate::live::kind_of_id(&arm_id) == Some(d.kind))
        .copied();
    let mut resource = LiveResource::new(
        arm_id,
        tenants[t].key.clone(),
        tenants[t].tenant_id.clone(),
        body,
    );
    if let Some(d) = declared {
        resource.narrow(d.kind, &d.body);
    }
    Some(resource)
}

/// Lower-cased subscription and resource group of a lower-cased id.
pub(super) fn sub_and_group(lower_id: &str) -> (String, String) {
    let parts: Vec<&str> = lower_id.trim_matches('/').split('/').collect();
    let after = |key: &str| {
        parts
            .iter()
            .position(|p| *p == key)
            .and_then(|i| parts.get(i + 1))
            .map(|s| (*s).to_owned())
    };
    (
        after("subscriptions").unwrap_or_default(),
        after("resourcegroups").unwrap_or_default(),
    )
}
