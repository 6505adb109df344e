//! Step 5: the VM's resource group exists, and the principal may create the VM (and the
//! deployment `az vm create` submits) and its network interface there. A read refused with 403
//! says as much as a missing role: ARM authorizes before it looks.

use super::Facts;
use super::rbac::{self, Rights};
use crate::azure_text as text;
use crate::probe::{Failure, Probe};
use crate::report::Check;
use crate::setup::Setup;

/// Step 5: the resource group exists and the principal may write VMs and NICs and join subnets.
pub(super) async fn target_rights<P: Probe>(setup: &Setup, probe: &P, facts: &Facts) -> Vec<Check> {
    let rg_title = format!("resource group {} exists", setup.resource_group);
    let vm_title = "the app may create the VM in the resource group";
    let net_title = "the app may create network interfaces and join subnets in the resource group";
    let Some(who) = facts.target_principal.clone() else {
        let why = "no token for the VM's tenant (see step 1)";
        return vec![
            Check::skip("target.resource_group", 5, rg_title, why),
            Check::skip("target.vm_write", 5, vm_title, why),
            Check::skip("target.network_join", 5, net_title, why),
        ];
    };
    let tenant = setup.target_tenant_id();
    let rg_id = setup.resource_group_id();
    let rg = match probe.get(&tenant, &rg_id, None, &[]).await {
        Ok(_) => Check::pass("target.resource_group", 5, rg_title, rg_id.clone()),
        // When ARM's challenge named no tenant (step 2 skipped), the authenticated read is where
        // an unknown subscription shows.
        Err(f) if f.code() == "SubscriptionNotFound" => Check::fail(
            "target.resource_group",
            5,
            rg_title,
            format!("{}: {}", f.code(), f.answer.message),
            format!(
                "check the subscription id {}: it does not exist in this cloud",
                setup.target_subscription
            ),
        )
        .with_azure(Some(f.answer))
        .predicting(
            404,
            "SubscriptionNotFound",
            text::subscription_not_found(&setup.target_subscription),
        ),
        Err(f) if f.status() == Some(404) => Check::fail(
            "target.resource_group",
            5,
            rg_title,
            format!("{}: {}", f.code(), f.answer.message),
            format!(
                "create it: `az group create --subscription {} --name {} --location {}`",
                setup.target_subscription, setup.resource_group, setup.region
            ),
        )
        .with_azure(Some(f.answer))
        .predicting(
            404,
            "ResourceGroupNotFound",
            text::resource_group_not_found(&setup.resource_group),
        ),
        // ARM authorizes before it looks: without a role on the group (or above it) the read is
        // refused whether or not the group exists.
        Err(f) if f.status() == Some(403) => Check::fail(
            "target.resource_group",
            5,
            rg_title,
            format!("{}: the app may not read it, so whether it exists is hidden", f.code()),
            format!(
                "grant the app a role on the resource group (or its subscription) in tenant {}, creating the group if it does not exist: `az group create --subscription {} --name {} --location {}`",
                setup.target_tenant, setup.target_subscription, setup.resource_group, setup.region
            ),
        )
        .with_azure(Some(f.answer)),
        Err(f) => Check::skip(
            "target.resource_group",
            5,
            rg_title,
            format!("the read failed: {}", f.answer.message),
        ),
    };
    let rights = rbac::rights_at(probe, &tenant, &rg_id, who.object_id.as_deref()).await;
    let client = who.app_id.clone().unwrap_or_else(|| "<app id>".into());
    let oid = who
        .object_id
        .clone()
        .unwrap_or_else(|| "<object id>".into());
    let vm = rights_check(
        "target.vm_write",
        vm_title,
        &rights,
        &[
            "Microsoft.Compute/virtualMachines/write",
            "Microsoft.Resources/deployments/write",
        ],
        &client,
        &setup.target_tenant,
        &rg_id,
        &setup.vm_id(),
        &oid,
    );
    let nic_id = format!(
        "{rg_id}/providers/Microsoft.Network/networkInterfaces/{}VMNic",
        setup.vm_name
    );
    let net = rights_check(
        "target.network_join",
        net_title,
        &rights,
        &[
            "Microsoft.Network/networkInterfaces/write",
            "Microsoft.Network/networkInterfaces/join/action",
            "Microsoft.Network/virtualNetworks/subnets/join/action",
        ],
        &client,
        &setup.target_tenant,
        &rg_id,
        &nic_id,
        &oid,
    );
    vec![rg, vm, net]
}

#[allow(clippy::too_many_arguments)]
fn rights_check(
    id: &'static str,
    title: &str,
    rights: &Result<Rights, Failure>,
    actions: &[&str],
    client: &str,
    tenant: &str,
    rg_id: &str,
    scope_of_first: &str,
    oid: &str,
) -> Check {
    let rights = match rights {
        Ok(r) => r,
        Err(f) => {
            return Check::skip(
                id,
                5,
                title,
                format!("the app's rights could not be read: {}", f.answer.message),
            );
        }
    };
    let missing: Vec<&str> = actions
        .iter()
        .copied()
        .filter(|a| !rights.allows(a))
        .collect();
    let Some(first) = missing.first() else {
        return Check::pass(id, 5, title, format!("allowed by {}", rights.source));
    };
    let fix = format!(
        "in tenant {tenant}, grant the app a role allowing {} on the resource group (Contributor, or Virtual Machine Contributor plus Network Contributor): `az role assignment create --assignee {client} --role Contributor --scope {rg_id}`",
        missing.join(", ")
    );
    let scope = if *first == "Microsoft.Compute/virtualMachines/write"
        || first.starts_with("Microsoft.Network/networkInterfaces/write")
    {
        scope_of_first.to_string()
    } else {
        rg_id.to_string()
    };
    Check::fail(
        id,
        5,
        title,
        format!("not allowed: {} ({})", missing.join(", "), rights.source),
        fix,
    )
    .predicting(
        403,
        "AuthorizationFailed",
        text::authorization_failed(client, oid, first, &scope),
    )
}
