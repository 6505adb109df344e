//! `galleon plan` end to end: sign in where the plan needs an identity, lower the workspace,
//! read live state, run preflight, build the plan. Every Azure call happens here or in
//! [`crate::read`]; the decisions are in [`crate::planner`] and [`crate::preflight`].

use std::collections::BTreeMap;

use futures::future::join_all;
use galleon_azure::{ArmClient, TenantId};
use galleon_manifest::Workspace;
use galleon_manifest::resolve::{ImageRef, Principal, Spec};
use time::OffsetDateTime;

use crate::lower::{LowerContext, lower_workspace};
use crate::preflight::{PreflightInput, SignIn, checks, quota_checks, usage_scopes};
use crate::read::{ExternalImage, ReadOptions, TenantScope, read_external, read_live, read_usages};
use crate::share::{desired_shares, read_shares};
use crate::{Plan, PlanError, PlanInput, ResourceKind, build_plan};

/// The Azure side of a plan: a client with every tenant's credential configured.
#[derive(Debug, Clone)]
pub struct AzureContext {
    /// The ARM client.
    pub arm: ArmClient,
    /// Whether the cloud has Resource Graph (Azure public clouds and the emulator do).
    pub resource_graph: bool,
}

/// Knobs of `galleon plan`.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// `--target` addresses: plan only these and what they depend on.
    pub targets: Vec<String>,
    /// Read requests in flight at once.
    pub concurrency: usize,
    /// The plan's timestamp; now when `None` (tests pin it).
    pub created_at: Option<OffsetDateTime>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            targets: Vec::new(),
            concurrency: 16,
            created_at: None,
        }
    }
}

/// Makes a plan for a workspace.
///
/// # Errors
/// [`PlanError::UnknownTarget`], [`PlanError::Lower`] (an unreadable SSH key file) and
/// [`PlanError::Read`] (a list call failed after retries). Preflight failures are not errors:
/// they are in the plan, which apply then refuses.
pub async fn plan(
    workspace: &Workspace,
    azure: &AzureContext,
    options: PlanOptions,
) -> Result<Plan, PlanError> {
    tracing::info!(
        workspace = workspace.name(),
        resources = workspace.resources().len(),
        "planning"
    );
    let sign_ins = sign_in(workspace, &azure.arm).await;
    let ctx = LowerContext {
        principal_ids: principal_ids(workspace, &sign_ins),
    };
    let mut desired = lower_workspace(workspace, &ctx)?;
    desired.extend(desired_shares(workspace));
    let scopes = tenant_scopes(workspace);
    let read = ReadOptions {
        resource_graph: azure.resource_graph,
        concurrency: options.concurrency,
    };
    let mut live = read_live(&azure.arm, workspace.name(), &scopes, &desired, &read).await?;
    let (images, external) =
        read_external(&azure.arm, &external_images(workspace), options.concurrency).await;
    images.into_iter().for_each(|i| live.insert(i));
    let shares: Vec<_> = desired
        .iter()
        .filter(|d| d.kind == ResourceKind::GalleryShare)
        .cloned()
        .collect();
    read_shares(&azure.arm, &shares, &mut live, options.concurrency).await;
    tracing::debug!(
        read = live.len(),
        declared = desired.len(),
        "live state read"
    );
    // Quotas only where the plan creates VMs: a plan with nothing to create reads nothing more.
    let usages = read_usages(
        &azure.arm,
        usage_scopes(&desired, &live),
        options.concurrency,
    )
    .await;
    let by_address: BTreeMap<String, _> = desired.iter().map(|d| (d.address.clone(), d)).collect();
    let mut preflight = checks(&PreflightInput {
        workspace,
        desired: &by_address,
        live: &live,
        sign_ins: &sign_ins,
        external: &external,
    });
    preflight.extend(quota_checks(&desired, &live, &usages));
    build_plan(PlanInput {
        workspace: workspace.name(),
        desired,
        live,
        preflight,
        targets: &options.targets,
        created_at: options.created_at.unwrap_or_else(OffsetDateTime::now_utc),
    })
}

/// Signs in to every tenant whose identity the plan needs: gallery tenants with app grants
/// (the grant names the app's service principal there) and image tenants of cross-tenant
/// VMs (the VM write carries a token from there).
async fn sign_in(workspace: &Workspace, arm: &ArmClient) -> BTreeMap<String, SignIn> {
    let mut needed: Vec<(String, String)> = Vec::new();
    for r in workspace.resources() {
        let tenant = match &r.spec {
            Spec::GalleryGrant(g) if matches!(g.principal, Principal::App { .. }) => {
                Some((r.tenant.clone(), r.tenant_id.clone()))
            }
            Spec::Vm(_) => r
                .image_tenant
                .as_ref()
                .filter(|t| t.tenant_id != r.tenant_id)
                .map(|t| (t.key.clone(), t.tenant_id.clone())),
            _ => None,
        };
        if let Some(t) = tenant.filter(|t| !needed.contains(t)) {
            needed.push(t);
        }
    }
    let results = join_all(needed.into_iter().map(|(key, id)| async move {
        let outcome = arm
            .object_id(&TenantId::new(&id))
            .await
            .map_err(|e| match e.hint() {
                Some(hint) => format!("{e}\nhint: {hint}"),
                None => e.to_string(),
            });
        (key, outcome)
    }))
    .await;
    results.into_iter().collect()
}

/// Object ids of grant principals: known when the granted app is the app galleon signs in to
/// the gallery's tenant with (one multi-tenant app, the seed scenario).
fn principal_ids(
    workspace: &Workspace,
    sign_ins: &BTreeMap<String, SignIn>,
) -> std::collections::HashMap<String, String> {
    let app = |t: &str| workspace.tenant(t).and_then(|t| t.auth.client_id());
    workspace
        .resources()
        .iter()
        .filter_map(|r| match &r.spec {
            Spec::GalleryGrant(g) => match &g.principal {
                Principal::App { tenant, .. }
                    if app(tenant).is_some() && app(tenant) == app(&r.tenant) =>
                {
                    let oid = sign_ins.get(&r.tenant)?.as_ref().ok()?;
                    Some((r.address.to_string(), oid.clone()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Gallery images VMs reference without managing them, with the tenant to read each in.
fn external_images(workspace: &Workspace) -> Vec<ExternalImage> {
    workspace
        .resources()
        .iter()
        .filter_map(|r| match &r.spec {
            Spec::Vm(vm) => match &vm.image {
                ImageRef::External { arm_id }
                    if arm_id.to_ascii_lowercase().contains("/galleries/") =>
                {
                    let (tenant, tenant_id) = match &r.image_tenant {
                        Some(t) => (t.key.clone(), t.tenant_id.clone()),
                        None => (r.tenant.clone(), r.tenant_id.clone()),
                    };
                    Some(ExternalImage {
                        tenant,
                        tenant_id,
                        arm_id: arm_id.clone(),
                    })
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn tenant_scopes(workspace: &Workspace) -> Vec<TenantScope> {
    workspace
        .tenants()
        .iter()
        .map(|t| TenantScope {
            key: t.key.clone(),
            tenant_id: t.tenant_id.clone(),
            subscriptions: workspace
                .resources()
                .iter()
                .filter(|r| r.tenant == t.key)
                .map(|r| r.subscription.clone())
                .collect(),
        })
        .collect()
}
