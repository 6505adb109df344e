//! The api-version galleon pins for each ARM resource type.
//!
//! One table, so that an upgrade is one reviewed change. Each version is the newest *stable*
//! folder verified in Azure/azure-rest-api-specs (arm-protocol.md §4); galleon never uses
//! previews. Paths of the spec files are in the comments.

/// `specification/resources/resource-manager/Microsoft.Resources/resources/stable/2025-04-01/resources.json`
pub const RESOURCES: &str = "2025-04-01";
/// `specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/subscriptions.json`
pub const SUBSCRIPTIONS: &str = "2022-12-01";
/// `specification/compute/resource-manager/Microsoft.Compute/GalleryRP/stable/2025-03-03/GalleryRP.json`
pub const GALLERY: &str = "2025-03-03";
/// `specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2025-04-01/ComputeRP.json`
pub const COMPUTE: &str = "2025-04-01";
/// `specification/compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/DiskRP.json`
pub const DISKS: &str = "2025-01-02";
/// `specification/network/resource-manager/Microsoft.Network/Network/stable/2025-05-01/` (last
/// release with per-type files: virtualNetwork.json, networkSecurityGroup.json, ...)
pub const NETWORK: &str = "2025-05-01";
/// `specification/authorization/resource-manager/Microsoft.Authorization/Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json`
pub const AUTHORIZATION: &str = "2022-04-01";
/// `specification/resources/resource-manager/Microsoft.Authorization/locks/stable/2020-05-01/locks.json`
pub const LOCKS: &str = "2020-05-01";
/// `specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/2024-04-01/resourcegraph.json`
pub const RESOURCE_GRAPH: &str = "2024-04-01";

/// The api-version for an ARM resource type (`Microsoft.Compute/galleries/images`), matched
/// case-insensitively on the namespace and first type segment. `None` for types galleon does
/// not manage: a caller must then pass a version explicitly rather than guess.
pub fn for_type(resource_type: &str) -> Option<&'static str> {
    let lower = resource_type.to_ascii_lowercase();
    let mut parts = lower.split('/');
    let namespace = parts.next()?;
    let first = parts.next().unwrap_or("");
    let v = match (namespace, first) {
        ("microsoft.resources", "subscriptions") if lower.contains("/resourcegroups") => RESOURCES,
        ("microsoft.resources", "subscriptions") => SUBSCRIPTIONS,
        ("microsoft.resources", "resourcegroups" | "tags" | "") => RESOURCES,
        ("microsoft.compute", "galleries" | "sharedgalleries" | "communitygalleries") => GALLERY,
        ("microsoft.compute", "locations") if lower.contains("galleries") => GALLERY,
        ("microsoft.compute", "disks" | "snapshots" | "diskencryptionsets" | "diskaccesses") => {
            DISKS
        }
        ("microsoft.compute", _) => COMPUTE,
        ("microsoft.network", _) => NETWORK,
        ("microsoft.authorization", "locks") => LOCKS,
        ("microsoft.authorization", "roleassignments" | "roledefinitions") => AUTHORIZATION,
        ("microsoft.resourcegraph", _) => RESOURCE_GRAPH,
        _ => return None,
    };
    Some(v)
}

/// The api-version for a resource id, through [`crate::ids::resource_type_of`].
pub fn for_id(id: &str) -> Option<&'static str> {
    for_type(&crate::ids::resource_type_of(id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_versions_per_type() {
        assert_eq!(
            for_type("Microsoft.Resources/resourceGroups"),
            Some("2025-04-01")
        );
        assert_eq!(
            for_type("Microsoft.Compute/galleries/images/versions"),
            Some("2025-03-03")
        );
        assert_eq!(
            for_type("microsoft.compute/virtualmachines"),
            Some("2025-04-01")
        );
        assert_eq!(for_type("Microsoft.Compute/disks"), Some("2025-01-02"));
        assert_eq!(
            for_type("Microsoft.Network/networkInterfaces"),
            Some("2025-05-01")
        );
        assert_eq!(
            for_type("Microsoft.Authorization/roleAssignments"),
            Some("2022-04-01")
        );
        assert_eq!(
            for_type("Microsoft.ResourceGraph/resources"),
            Some("2024-04-01")
        );
        assert_eq!(for_type("Microsoft.Storage/storageAccounts"), None);
    }

    #[test]
    fn versions_from_ids() {
        assert_eq!(
            for_id("/subscriptions/s/resourceGroups/rg"),
            Some(RESOURCES)
        );
        assert_eq!(for_id("/subscriptions/s"), Some(SUBSCRIPTIONS));
        assert_eq!(
            for_id(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/share"
            ),
            Some(GALLERY)
        );
        assert_eq!(
            for_id(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/providers/Microsoft.Authorization/roleAssignments/r"
            ),
            Some(AUTHORIZATION)
        );
    }
}
