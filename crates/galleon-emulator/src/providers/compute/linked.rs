//! ARM's linked-access check: before a write reaches the resource provider, the front door
//! authorizes every *other* resource the body points at (the VM's image and NICs, a NIC's
//! subnet, public IP and NSG, ...). A linked resource in another tenant's subscription is only
//! reachable with a token of that tenant in `x-ms-authorization-auxiliary`. Failures are the two
//! `LinkedAuthorizationFailed` forms of arm-errors.md §1 (403, `x-ms-failure-cause: gateway`).
//! Sources: MicrosoftDocs azure-resource-manager/management/authenticate-multi-tenant.md;
//! troubleshooting-shared-images.md.

use serde_json::Value;

use crate::providers::rp::{ArmId, RpError};

/// The verified identity of a caller or auxiliary token (tenant, app id, object id).
pub use crate::arm::context::Principal;

/// What the linked check needs from the rest of the emulator.
pub trait Authority {
    /// The tenant owning a subscription, `None` if the subscription does not exist.
    fn subscription_tenant(&self, subscription: &str) -> Option<String>;
    /// Whether `principal` holds `action` at `scope` (RBAC with inheritance).
    fn allowed(&self, principal: &Principal, action: &str, scope: &str) -> bool;
}

/// One resource a body links to, and the action ARM requires on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRef {
    /// Action required on the linked resource.
    pub action: String,
    /// The linked resource id, as written in the body.
    pub scope: String,
}

fn push(out: &mut Vec<LinkedRef>, action: &str, id: Option<&str>) {
    if let Some(id) = id.filter(|s| !s.is_empty()) {
        out.push(LinkedRef {
            action: action.to_owned(),
            scope: id.to_owned(),
        });
    }
}

/// The linked references of a resource body of type `ty` (e.g.
/// `Microsoft.Compute/virtualMachines`), in body order.
pub fn linked_refs(ty: &str, body: &Value) -> Vec<LinkedRef> {
    let mut out = Vec::new();
    let p = &body["properties"];
    match ty.to_ascii_lowercase().as_str() {
        "microsoft.compute/virtualmachines" => {
            if let Some(id) = p["storageProfile"]["imageReference"]["id"].as_str() {
                let action = match ArmId::parse(id) {
                    Some(a) if a.is_type("Microsoft.Compute/galleries/images") => {
                        "Microsoft.Compute/galleries/images/read"
                    }
                    Some(a) if a.is_type("Microsoft.Compute/images") => {
                        "Microsoft.Compute/images/read"
                    }
                    _ => "Microsoft.Compute/galleries/images/versions/read",
                };
                push(&mut out, action, Some(id));
            }
            for nic in p["networkProfile"]["networkInterfaces"]
                .as_array()
                .into_iter()
                .flatten()
            {
                push(
                    &mut out,
                    "Microsoft.Network/networkInterfaces/join/action",
                    nic["id"].as_str(),
                );
            }
        }
        "microsoft.network/networkinterfaces" => {
            for ipc in p["ipConfigurations"].as_array().into_iter().flatten() {
                let ip = &ipc["properties"];
                push(
                    &mut out,
                    "Microsoft.Network/virtualNetworks/subnets/join/action",
                    ip["subnet"]["id"].as_str(),
                );
                push(
                    &mut out,
                    "Microsoft.Network/publicIPAddresses/join/action",
                    ip["publicIPAddress"]["id"].as_str(),
                );
            }
            push(
                &mut out,
                "Microsoft.Network/networkSecurityGroups/join/action",
                p["networkSecurityGroup"]["id"].as_str(),
            );
        }
        "microsoft.network/virtualnetworks" => {
            for s in p["subnets"].as_array().into_iter().flatten() {
                push(
                    &mut out,
                    "Microsoft.Network/networkSecurityGroups/join/action",
                    s["properties"]["networkSecurityGroup"]["id"].as_str(),
                );
            }
        }
        "microsoft.network/virtualnetworks/subnets" => {
            push(
                &mut out,
                "Microsoft.Network/networkSecurityGroups/join/action",
                p["networkSecurityGroup"]["id"].as_str(),
            );
        }
        "microsoft.compute/galleries/images/versions" => {
            let src = p["storageProfile"]["source"]["id"]
                .as_str()
                .or_else(|| p["storageProfile"]["source"]["virtualMachineId"].as_str());
            if let Some(a) = src.and_then(ArmId::parse) {
                push(&mut out, &format!("{}/read", a.full_type()), src);
            }
        }
        _ => {}
    }
    out
}

/// Runs the linked check for a write of `primary_scope` with `primary_action`.
///
/// # Errors
/// 403 `LinkedAuthorizationFailed`: variant B when a linked subscription belongs to another
/// tenant and no auxiliary token of the same app for that tenant was sent (or the subscription
/// does not exist); variant A, listing every denied linked action, when the principal of the
/// linked tenant lacks the action.
pub fn check(
    caller: &Principal,
    primary_action: &str,
    primary_scope: &str,
    refs: &[LinkedRef],
    aux: &[Principal],
    authority: &dyn Authority,
) -> Result<(), RpError> {
    let mut denied: Vec<(&LinkedRef, &Principal)> = Vec::new();
    for r in refs {
        let Some(sub) = ArmId::parse(&r.scope).map(|a| a.subscription) else {
            continue; // malformed ids are the RP's to reject (LinkedInvalidPropertyId)
        };
        let Some(tenant) = authority.subscription_tenant(&sub) else {
            // Trailing space inside the quotes is in the real capture (arm-errors.md §1.2).
            return Err(RpError::gateway(
                403,
                "LinkedAuthorizationFailed",
                format!(
                    "The client has permission to perform action '{}' on scope '{primary_scope}', however the linked subscription '{sub}' was not found. ",
                    r.action
                ),
            ));
        };
        let principal = if tenant.eq_ignore_ascii_case(&caller.tenant) {
            caller
        } else {
            let found = aux.iter().find(|a| {
                a.tenant.eq_ignore_ascii_case(&tenant)
                    && a.app_id.eq_ignore_ascii_case(&caller.app_id)
            });
            let Some(p) = found else {
                return Err(RpError::gateway(
                    403,
                    "LinkedAuthorizationFailed",
                    format!(
                        "The client has permission to perform action '{}' on scope '{primary_scope}', however the current tenant '{}' is not authorized to access linked subscription '{sub}'.",
                        r.action, caller.tenant
                    ),
                ));
            };
            p
        };
        if !authority.allowed(principal, &r.action, &r.scope) {
            denied.push((r, principal));
        }
    }
    let Some((_, who)) = denied.first() else {
        return Ok(());
    };
    // Linked actions and scopes appear lower-cased in the real capture (Community-Policy#451);
    // the client named is the principal that was denied (for cross-tenant links, the app's
    // service principal in the linked tenant) [R].
    let actions = denied
        .iter()
        .map(|(r, _)| format!("'{}'", r.action.to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(",");
    let scopes = denied
        .iter()
        .map(|(r, _)| r.scope.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    Err(RpError::gateway(
        403,
        "LinkedAuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' has permission to perform action '{primary_action}' on scope '{primary_scope}'; however, it does not have permission to perform action(s) {actions} on the linked scope(s) '{scopes}' (respectively) or the linked scope(s) are invalid.",
            who.app_id, who.object_id
        ),
    ))
}

#[cfg(test)]
#[path = "linked_tests.rs"]
mod tests;
