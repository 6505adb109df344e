//! The kinds of resource galleon manages, with the ARM facts that belong to each kind.
//!
//! One table, so that lowering, the diff rules, ownership and the emulator tests all agree on
//! the ARM type and api-version of a kind.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A kind of managed resource. Its snake-case name is also the address prefix (`vm.web`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// `Microsoft.Resources/resourceGroups`.
    ResourceGroup,
    /// `Microsoft.Compute/galleries`.
    Gallery,
    /// `Microsoft.Compute/galleries/images` (an image definition).
    GalleryImage,
    /// `Microsoft.Compute/galleries/images/versions`.
    ImageVersion,
    /// `Microsoft.Authorization/roleAssignments` at a gallery scope.
    GalleryGrant,
    /// A gallery's direct-sharing members, written with `POST .../galleries/{g}/share`
    /// (`Galleries_GallerySharingProfile_Update`); its id is that action's path.
    GalleryShare,
    /// `Microsoft.Network/virtualNetworks`, subnets inline.
    Network,
    /// `Microsoft.Network/networkSecurityGroups`.
    Nsg,
    /// `Microsoft.Network/publicIPAddresses`.
    PublicIp,
    /// `Microsoft.Network/networkInterfaces`.
    Nic,
    /// `Microsoft.Compute/virtualMachines`.
    Vm,
}

// api-versions: newest stable folders that also carry the example bodies we follow
// (azure-rest-api-specs: resources/.../Microsoft.Resources/resources/stable/2025-04-01,
// compute/.../GalleryRP/stable/2025-03-03, compute/.../ComputeRP/stable/2025-04-01,
// network/.../Network/stable/2024-07-01, authorization/.../stable/2022-04-01).
const RESOURCES_API: &str = "2025-04-01";
const GALLERY_API: &str = "2025-03-03";
const COMPUTE_API: &str = "2025-04-01";
const NETWORK_API: &str = "2024-07-01";
const AUTHORIZATION_API: &str = "2022-04-01";

impl ResourceKind {
    /// Every kind, in dependency order (what a resource needs comes first).
    pub const ALL: [ResourceKind; 11] = [
        ResourceKind::ResourceGroup,
        ResourceKind::Gallery,
        ResourceKind::GalleryImage,
        ResourceKind::ImageVersion,
        ResourceKind::GalleryGrant,
        ResourceKind::GalleryShare,
        ResourceKind::Nsg,
        ResourceKind::Network,
        ResourceKind::PublicIp,
        ResourceKind::Nic,
        ResourceKind::Vm,
    ];

    /// The address prefix, e.g. `image_version` in `image_version.golden/ubuntu/1.0.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::ResourceGroup => "resource_group",
            ResourceKind::Gallery => "gallery",
            ResourceKind::GalleryImage => "gallery_image",
            ResourceKind::ImageVersion => "image_version",
            ResourceKind::GalleryGrant => "gallery_grant",
            ResourceKind::GalleryShare => "gallery_share",
            ResourceKind::Network => "network",
            ResourceKind::Nsg => "nsg",
            ResourceKind::PublicIp => "public_ip",
            ResourceKind::Nic => "nic",
            ResourceKind::Vm => "vm",
        }
    }

    /// The kind named by an address prefix.
    pub fn from_prefix(prefix: &str) -> Option<ResourceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == prefix)
    }

    /// The kind of a full address such as `vm.web[2]`.
    pub fn of_address(address: &str) -> Option<ResourceKind> {
        Self::from_prefix(address.split_once('.')?.0)
    }

    /// The ARM resource type, as ARM spells it in ids.
    pub fn arm_type(self) -> &'static str {
        match self {
            ResourceKind::ResourceGroup => "Microsoft.Resources/resourceGroups",
            ResourceKind::Gallery => "Microsoft.Compute/galleries",
            ResourceKind::GalleryImage => "Microsoft.Compute/galleries/images",
            ResourceKind::ImageVersion => "Microsoft.Compute/galleries/images/versions",
            ResourceKind::GalleryGrant => "Microsoft.Authorization/roleAssignments",
            // Not a type ARM lists: the `share` action below a gallery, named like a child.
            ResourceKind::GalleryShare => "Microsoft.Compute/galleries/share",
            ResourceKind::Network => "Microsoft.Network/virtualNetworks",
            ResourceKind::Nsg => "Microsoft.Network/networkSecurityGroups",
            ResourceKind::PublicIp => "Microsoft.Network/publicIPAddresses",
            ResourceKind::Nic => "Microsoft.Network/networkInterfaces",
            ResourceKind::Vm => "Microsoft.Compute/virtualMachines",
        }
    }

    /// The api-version galleon sends for reads and writes of this kind.
    pub fn api_version(self) -> &'static str {
        match self {
            ResourceKind::ResourceGroup => RESOURCES_API,
            ResourceKind::Gallery
            | ResourceKind::GalleryImage
            | ResourceKind::ImageVersion
            | ResourceKind::GalleryShare => GALLERY_API,
            ResourceKind::GalleryGrant => AUTHORIZATION_API,
            ResourceKind::Network
            | ResourceKind::Nsg
            | ResourceKind::PublicIp
            | ResourceKind::Nic => NETWORK_API,
            ResourceKind::Vm => COMPUTE_API,
        }
    }

    /// Whether ownership is recorded in tags. Role assignments carry no tags: they are owned
    /// through a deterministic name and a `galleon:<workspace>:<address>` description; sharing
    /// members belong to their gallery.
    pub fn taggable(self) -> bool {
        !matches!(
            self,
            ResourceKind::GalleryGrant | ResourceKind::GalleryShare
        )
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_prefix_round_trips_and_matches_serde() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_prefix(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(
            ResourceKind::of_address("image_version.golden/ubuntu/1.0.0"),
            Some(ResourceKind::ImageVersion)
        );
        assert_eq!(
            ResourceKind::of_address("vm.east[3]"),
            Some(ResourceKind::Vm)
        );
        assert_eq!(ResourceKind::of_address("nonsense"), None);
    }

    #[test]
    fn only_role_assignments_are_untaggable() {
        let untaggable: Vec<_> = ResourceKind::ALL
            .into_iter()
            .filter(|k| !k.taggable())
            .collect();
        assert_eq!(
            untaggable,
            [ResourceKind::GalleryGrant, ResourceKind::GalleryShare]
        );
    }
}
