//! Azure RBAC: the built-in roles galleon's scenarios use, action matching with wildcards and
//! NotActions, and the check "does this principal hold this action on this scope".
//!
//! Assignments are ordinary `Microsoft.Authorization/roleAssignments` documents in the store, so
//! ARM writes, the seed and out-of-band admin injection all feed the same check, and an
//! assignment at a subscription or resource group is inherited by everything below it.
//! GUIDs and action lists: arm-protocol.md §5 (AD articles/role-based-access-control/built-in-roles).

use serde_json::{Value, json};

use crate::state::{State, is_under};

/// A built-in role definition.
#[derive(Debug, Clone, Copy)]
pub struct RoleDefinition {
    /// Role definition GUID.
    pub id: &'static str,
    /// Role name.
    pub name: &'static str,
    /// Description shown by GET roleDefinitions.
    pub description: &'static str,
    /// Control-plane actions.
    pub actions: &'static [&'static str],
    /// Actions removed from `actions`.
    pub not_actions: &'static [&'static str],
    /// Data-plane actions (blob read/write...).
    pub data_actions: &'static [&'static str],
}

/// The built-in roles the emulator knows.
pub const BUILT_IN_ROLES: &[RoleDefinition] = &[
    RoleDefinition {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
        ],
        data_actions: &[],
    },
    RoleDefinition {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
        name: "Virtual Machine Contributor",
        description: "Create and manage virtual machines, manage disks, install and run software, reset password of the root user of the virtual machine using VM extensions, and manage local user accounts using VM extensions.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Compute/availabilitySets/*",
            "Microsoft.Compute/locations/*",
            "Microsoft.Compute/virtualMachines/*",
            "Microsoft.Compute/virtualMachineScaleSets/*",
            "Microsoft.Compute/disks/write",
            "Microsoft.Compute/disks/read",
            "Microsoft.Compute/disks/delete",
            "Microsoft.Network/applicationGateways/backendAddressPools/join/action",
            "Microsoft.Network/loadBalancers/backendAddressPools/join/action",
            "Microsoft.Network/loadBalancers/inboundNatPools/join/action",
            "Microsoft.Network/loadBalancers/inboundNatRules/join/action",
            "Microsoft.Network/loadBalancers/probes/join/action",
            "Microsoft.Network/loadBalancers/read",
            "Microsoft.Network/locations/*",
            "Microsoft.Network/networkInterfaces/*",
            "Microsoft.Network/networkSecurityGroups/join/action",
            "Microsoft.Network/networkSecurityGroups/read",
            "Microsoft.Network/publicIPAddresses/join/action",
            "Microsoft.Network/publicIPAddresses/read",
            "Microsoft.Network/virtualNetworks/read",
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "Microsoft.Storage/storageAccounts/read",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "cf7c76d2-98a3-4358-a134-615aa78bf44d",
        name: "Compute Gallery Image Reader",
        description: "Allows reading Compute Gallery images and image versions.",
        actions: &[
            "Microsoft.Compute/galleries/images/read",
            "Microsoft.Compute/galleries/images/versions/read",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "1ef6a3be-d0ac-425d-8c01-acb62866290b",
        name: "Compute Gallery Sharing Admin",
        description: "This role allows user to share gallery to another subscription/tenant or share it to the public(Community Gallery).",
        actions: &["Microsoft.Compute/galleries/share/action"],
        not_actions: &[],
        data_actions: &[],
    },
    RoleDefinition {
        id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        name: "Storage Blob Data Contributor",
        description: "Allows for read, write and delete access to Azure Storage blob containers and data",
        actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
        ],
    },
];

/// Finds a built-in role by name (case-insensitive), GUID, or full role definition id.
pub fn find_role(name_or_id: &str) -> Option<&'static RoleDefinition> {
    let key = name_or_id.rsplit('/').next().unwrap_or(name_or_id);
    BUILT_IN_ROLES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(name_or_id))
}

/// The role definition document ARM returns (`GET .../roleDefinitions/{id}`), with the id
/// under `scope` (`""` for the tenant-level form).
pub fn role_definition_body(role: &RoleDefinition, scope: &str) -> Value {
    json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{}", role.id),
        "name": role.id,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": role.actions,
                "notActions": role.not_actions,
                "dataActions": role.data_actions,
                "notDataActions": [],
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null,
        }
    })
}

/// Glob match, case-insensitive, where `*` matches any run of characters (including `/`).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    glob(p.as_bytes(), a.as_bytes())
}

fn glob(p: &[u8], a: &[u8]) -> bool {
    match p.split_first() {
        None => a.is_empty(),
        Some((b'*', rest)) => (0..=a.len()).any(|i| glob(rest, &a[i..])),
        Some((c, rest)) => a.first() == Some(c) && glob(rest, &a[1..]),
    }
}

fn role_allows(role: &RoleDefinition, action: &str, data: bool) -> bool {
    if data {
        return role.data_actions.iter().any(|p| action_matches(p, action));
    }
    role.actions.iter().any(|p| action_matches(p, action))
        && !role.not_actions.iter().any(|p| action_matches(p, action))
}

/// Whether the principal (object id) holds `action` on `scope` through any assignment at or
/// above it. `data` selects data actions (blob access) instead of control-plane actions.
pub fn is_allowed(state: &State, object_id: &str, action: &str, scope: &str, data: bool) -> bool {
    let scope = scope.to_ascii_lowercase();
    assignments_at_or_above(state, &scope)
        .filter(|r| {
            r.properties()
                .get("principalId")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case(object_id))
        })
        .filter(|r| {
            let assignment_scope = r
                .properties()
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("");
            is_under(&scope, &assignment_scope.to_ascii_lowercase())
        })
        .filter_map(|r| {
            r.properties()
                .get("roleDefinitionId")
                .and_then(Value::as_str)
        })
        .filter_map(find_role)
        .any(|role| role_allows(role, action, data))
}

/// The role assignments stored at lower-cased `scope` or at one of its ancestors (an
/// assignment's id is `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`): one
/// key range per ancestor instead of a scan of the world, since a list checks every item it
/// returns and a 10,000-resource world made that quadratic.
fn assignments_at_or_above<'a>(
    state: &'a State,
    scope: &str,
) -> impl Iterator<Item = &'a crate::state::Resource> {
    const ASSIGNMENTS: &str = "/providers/microsoft.authorization/roleassignments/";
    let scope = scope.trim_end_matches('/');
    let mut ancestors: Vec<&str> = vec![""];
    ancestors.extend(
        scope
            .match_indices('/')
            .filter(|(i, _)| *i > 0)
            .map(|(i, _)| &scope[..i]),
    );
    ancestors.push(scope);
    ancestors.dedup();
    ancestors.into_iter().flat_map(move |a| {
        let prefix = format!("{a}{ASSIGNMENTS}");
        state.with_prefix(&prefix).map(|(_, r)| r).filter(|r| {
            r.resource_type
                .eq_ignore_ascii_case("Microsoft.Authorization/roleAssignments")
        })
    })
}

/// Whether the principal holds any role assignment at or below `scope` (used to let it list a
/// collection whose items are then filtered one by one).
pub fn has_any_assignment_under(state: &State, object_id: &str, scope: &str) -> bool {
    let scope = scope.to_ascii_lowercase();
    state
        .resources_of_type(&scope, "Microsoft.Authorization/roleAssignments")
        .any(|r| {
            r.properties()
                .get("principalId")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case(object_id))
        })
}

/// The read action for an item of `resource_type` (`Microsoft.Resources/resourceGroups` reads
/// are `Microsoft.Resources/subscriptions/resourceGroups/read`).
pub fn read_action(resource_type: &str) -> String {
    if resource_type.eq_ignore_ascii_case("Microsoft.Resources/resourceGroups") {
        return "Microsoft.Resources/subscriptions/resourceGroups/read".into();
    }
    format!("{resource_type}/read")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_not_actions() {
        assert!(action_matches(
            "*/read",
            "Microsoft.Compute/galleries/images/read"
        ));
        assert!(!action_matches(
            "*/read",
            "Microsoft.Compute/galleries/write"
        ));
        assert!(action_matches(
            "Microsoft.Authorization/*/Write",
            "microsoft.authorization/roleAssignments/write"
        ));
        let contributor = find_role("Contributor").unwrap();
        assert!(role_allows(
            contributor,
            "Microsoft.Compute/virtualMachines/write",
            false
        ));
        assert!(!role_allows(
            contributor,
            "Microsoft.Authorization/roleAssignments/write",
            false
        ));
        assert!(!role_allows(
            contributor,
            "Microsoft.Compute/galleries/share/action",
            false
        ));
        let owner = find_role("owner").unwrap();
        assert!(!role_allows(
            owner,
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
            true
        ));
        let blob = find_role("ba92f5b4-2d11-453d-a403-e96b0029c9fe").unwrap();
        assert!(role_allows(
            blob,
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
            true
        ));
        assert!(find_role("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7").is_some());
    }
}
