//! Finding where a workspace's resources are before reading them: the subscriptions each
//! tenant's identity sees, owned resources through Resource Graph, and the full contents of
//! groups about to be deleted.

use std::collections::BTreeSet;

use galleon_azure::{ArmClient, GraphQuery, TenantId};
use serde_json::Value;

use super::{TenantScope, sub_and_group, top_level_kind};
use crate::ResourceKind;
use crate::live::LiveResource;

/// Adds to each tenant the subscriptions its identity can see (`GET /subscriptions`, one call
/// per tenant). A tenant that cannot list keeps the subscriptions the workspace names.
pub(super) async fn with_visible_subscriptions(
    arm: &ArmClient,
    tenants: &[TenantScope],
) -> Vec<TenantScope> {
    let lists = futures::future::join_all(tenants.iter().map(|t| async move {
        arm.list(&TenantId::new(&t.tenant_id), "/subscriptions")
            .await
    }))
    .await;
    tenants
        .iter()
        .zip(lists)
        .map(|(t, listed)| {
            let mut scope = t.clone();
            match listed {
                Ok(subs) => scope.subscriptions.extend(subs.iter().filter_map(|s| {
                    let in_tenant = s
                        .get("tenantId")
                        .and_then(Value::as_str)
                        .is_none_or(|id| id.eq_ignore_ascii_case(&t.tenant_id));
                    let id = s.get("subscriptionId").and_then(Value::as_str);
                    id.filter(|_| in_tenant).map(str::to_owned)
                })),
                Err(e) => tracing::warn!(tenant = %t.key, error = %e, "cannot list subscriptions"),
            }
            scope
        })
        .collect()
}

/// Owned resources per tenant, through Resource Graph: (tenant, subscription, group, kind).
pub(super) async fn discover(
    arm: &ArmClient,
    workspace: &str,
    tenants: &[TenantScope],
) -> Result<Vec<(usize, String, String, ResourceKind)>, galleon_azure::AzureError> {
    let query = format!(
        "Resources | where tags['galleon-workspace'] == '{}' | project id, type, resourceGroup, subscriptionId",
        workspace.replace('\'', "")
    );
    let mut out = Vec::new();
    for (t, scope) in tenants.iter().enumerate() {
        if scope.subscriptions.is_empty() {
            continue;
        }
        let q = GraphQuery::new(query.clone(), scope.subscriptions.iter().cloned().collect());
        let result = arm
            .resource_graph(&TenantId::new(&scope.tenant_id), &q)
            .await?;
        for row in result.rows {
            let Some(id) = row.get("id").and_then(Value::as_str) else {
                continue;
            };
            let Some(kind) = crate::live::kind_of_id(id) else {
                continue;
            };
            let (sub, rg) = sub_and_group(&id.to_ascii_lowercase());
            out.push((t, sub, rg, top_level_kind(kind)));
        }
    }
    Ok(out)
}

/// Every resource in the given groups, as Resource Graph rows (`id`, `type`, `managedBy`,
/// `tags`). A disk managed by a VM reports it in `managedBy`.
pub(super) async fn contents(
    arm: &ArmClient,
    tenants: &[TenantScope],
    groups: &BTreeSet<(usize, String, String)>,
) -> Result<Vec<LiveResource>, galleon_azure::AzureError> {
    let mut out = Vec::new();
    for (t, scope) in tenants.iter().enumerate() {
        let names: Vec<String> = groups
            .iter()
            .filter(|(gt, _, _)| *gt == t)
            .map(|(_, _, rg)| format!("'{}'", rg.replace('\'', "")))
            .collect();
        if names.is_empty() {
            continue;
        }
        let query = format!(
            "Resources | where resourceGroup in~ ({}) | project id, type, managedBy, tags",
            names.join(", ")
        );
        let q = GraphQuery::new(query, scope.subscriptions.iter().cloned().collect());
        let result = arm
            .resource_graph(&TenantId::new(&scope.tenant_id), &q)
            .await?;
        for row in result.rows {
            if let Some(id) = row.get("id").and_then(Value::as_str).map(str::to_owned) {
                let (key, tenant_id) = (scope.key.clone(), scope.tenant_id.clone());
                out.push(LiveResource::new(id, key, tenant_id, row));
            }
        }
    }
    Ok(out)
}
