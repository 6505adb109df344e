//! Per-kind diff rules: what forces a replacement, what compares case-insensitively, which
//! lists are sets or keyed by name, which Azure defaults never count as a change.
//!
//! Paths follow the REST bodies of azure-rest-api-specs (GalleryRP 2025-03-03, ComputeRP
//! 2025-04-01, Network 2024-07-01, Authorization 2022-04-01). Immutability follows what ARM
//! refuses to change in place (the `PropertyChangeNotAllowed` family) and what Terraform's
//! azurerm provider marks ForceNew for the same property; what-if showing such changes as
//! Modify is a known source of surprise (Azure/bicep#13499).

use serde_json::{Value, json};

use crate::ResourceKind;

/// When a change to an immutable path forces replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Immutability {
    /// Any change.
    Always,
    /// Only a smaller number (disks grow in place but never shrink).
    Decrease,
}

/// Builds the value Azure assumes when a field is absent (a `fn` because `Value` is not const).
pub type DefaultValue = fn() -> Value;

/// The comparison rules of one kind. Patterns: see `diff::path`.
#[derive(Debug)]
pub struct Rules {
    /// Paths (and everything below them) that cannot change in place.
    pub immutable: &'static [(&'static str, Immutability)],
    /// Enum-like strings that Azure may return in another case.
    pub case_insensitive: &'static [&'static str],
    /// Region names, which Azure returns lower-case or as display names ("West Europe").
    pub locations: &'static [&'static str],
    /// Lists of scalars whose order means nothing.
    pub sets: &'static [&'static str],
    /// Lists of objects matched by a key field, not by position.
    pub keyed: &'static [(&'static str, &'static str)],
    /// Timestamps compared as instants, not as text.
    pub timestamps: &'static [&'static str],
    /// Values Azure fills in when we omit them or echoes back when we send them: equal to an
    /// absent live value.
    pub defaults: &'static [(&'static str, DefaultValue)],
}

/// Fields that ARM computes; never compared even when a body carries them.
pub const READ_ONLY: &[&str] = &[
    "id",
    "name",
    "type",
    "etag",
    "systemData",
    "managedBy",
    "properties.provisioningState",
    "properties.resourceGuid",
    "properties.uniqueId",
];

/// Object maps compared as a whole: a live key missing from the desired map is a change.
/// Tag names are case-insensitive, tag values are not (tag-resources.md).
pub const EXACT_MAPS: &[&str] = &["tags"];

const LOCATION: &[&str] = &["location"];

const RESOURCE_GROUP: Rules = Rules {
    immutable: &[("location", Immutability::Always)],
    case_insensitive: &[],
    locations: LOCATION,
    sets: &[],
    keyed: &[],
    timestamps: &[],
    defaults: &[],
};

const GALLERY: Rules = Rules {
    // A gallery's sharing permission cannot be changed after creation
    // (share-gallery-direct.md: "the property can't currently be updated").
    immutable: &[
        ("location", Immutability::Always),
        (
            "properties.sharingProfile.permissions",
            Immutability::Always,
        ),
    ],
    case_insensitive: &["properties.sharingProfile.permissions"],
    locations: LOCATION,
    sets: &[],
    keyed: &[],
    timestamps: &[],
    defaults: &[("properties.sharingProfile.permissions", || json!("Private"))],
};

const GALLERY_IMAGE: Rules = Rules {
    immutable: &[
        ("location", Immutability::Always),
        ("properties.osType", Immutability::Always),
        ("properties.osState", Immutability::Always),
        ("properties.hyperVGeneration", Immutability::Always),
        ("properties.architecture", Immutability::Always),
        ("properties.identifier", Immutability::Always),
        ("properties.features", Immutability::Always),
    ],
    case_insensitive: &[
        "properties.osType",
        "properties.osState",
        "properties.hyperVGeneration",
        "properties.architecture",
        "properties.features[].value",
    ],
    locations: LOCATION,
    sets: &[],
    keyed: &[("properties.features", "name")],
    timestamps: &["properties.endOfLifeDate"],
    defaults: &[
        ("properties.hyperVGeneration", || json!("V1")),
        ("properties.architecture", || json!("x64")),
    ],
};

const IMAGE_VERSION: Rules = Rules {
    // The source of a version is fixed at creation: a new source means a new version.
    immutable: &[
        ("location", Immutability::Always),
        ("properties.storageProfile", Immutability::Always),
    ],
    case_insensitive: &["properties.publishingProfile.targetRegions[].storageAccountType"],
    // GET returns target regions by display name ("West Europe").
    locations: &[
        "location",
        "properties.publishingProfile.targetRegions[].name",
    ],
    sets: &[],
    keyed: &[("properties.publishingProfile.targetRegions", "name")],
    timestamps: &["properties.publishingProfile.endOfLifeDate"],
    defaults: &[
        (
            "properties.publishingProfile.targetRegions[].regionalReplicaCount",
            || json!(1),
        ),
        (
            "properties.publishingProfile.targetRegions[].storageAccountType",
            || json!("Standard_LRS"),
        ),
        ("properties.publishingProfile.excludeFromLatest", || {
            json!(false)
        }),
        (
            "properties.safetyProfile.allowDeletionOfReplicatedLocations",
            || json!(true),
        ),
    ],
};

const GALLERY_GRANT: Rules = Rules {
    // ARM refuses to change a role assignment's role or principal (RoleAssignmentUpdateNotPermitted).
    immutable: &[
        ("properties.roleDefinitionId", Immutability::Always),
        ("properties.principalId", Immutability::Always),
        ("properties.principalType", Immutability::Always),
    ],
    case_insensitive: &["properties.principalType"],
    locations: &[],
    sets: &[],
    keyed: &[],
    timestamps: &[],
    defaults: &[],
};

/// Direct-sharing members: groups by type, their ids a set (GUIDs, compared without case).
const GALLERY_SHARE: Rules = Rules {
    immutable: &[],
    case_insensitive: &[],
    locations: &[],
    sets: &["groups[].ids"],
    keyed: &[("groups", "type")],
    timestamps: &[],
    defaults: &[],
};

const NETWORK: Rules = Rules {
    immutable: &[("location", Immutability::Always)],
    case_insensitive: &[],
    locations: LOCATION,
    sets: &["properties.addressSpace.addressPrefixes"],
    keyed: &[("properties.subnets", "name")],
    timestamps: &[],
    defaults: &[],
};

const NSG: Rules = Rules {
    immutable: &[("location", Immutability::Always)],
    case_insensitive: &[
        "properties.securityRules[].properties.direction",
        "properties.securityRules[].properties.access",
        "properties.securityRules[].properties.protocol",
    ],
    locations: LOCATION,
    sets: &[],
    keyed: &[("properties.securityRules", "name")],
    timestamps: &[],
    defaults: &[
        (
            "properties.securityRules[].properties.sourcePortRange",
            || json!("*"),
        ),
        (
            "properties.securityRules[].properties.sourceAddressPrefix",
            || json!("*"),
        ),
        (
            "properties.securityRules[].properties.destinationAddressPrefix",
            || json!("*"),
        ),
    ],
};

const PUBLIC_IP: Rules = Rules {
    immutable: &[
        ("location", Immutability::Always),
        ("sku", Immutability::Always),
        ("zones", Immutability::Always),
        ("properties.publicIPAddressVersion", Immutability::Always),
    ],
    case_insensitive: &[
        "sku.name",
        "sku.tier",
        "properties.publicIPAllocationMethod",
        "properties.publicIPAddressVersion",
    ],
    locations: LOCATION,
    sets: &["zones"],
    keyed: &[],
    timestamps: &[],
    defaults: &[
        ("properties.publicIPAddressVersion", || json!("IPv4")),
        ("sku.tier", || json!("Regional")),
    ],
};

const NIC: Rules = Rules {
    immutable: &[("location", Immutability::Always)],
    case_insensitive: &["properties.ipConfigurations[].properties.privateIPAllocationMethod"],
    locations: LOCATION,
    sets: &[],
    keyed: &[("properties.ipConfigurations", "name")],
    timestamps: &[],
    defaults: &[(
        "properties.ipConfigurations[].properties.privateIPAllocationMethod",
        || json!("Dynamic"),
    )],
};

const VM: Rules = Rules {
    // Azure refuses in-place changes of these (PropertyChangeNotAllowed, e.g. "Changing
    // property 'linuxConfiguration.ssh.publicKeys' is not allowed"); azurerm marks them ForceNew.
    immutable: &[
        ("location", Immutability::Always),
        ("zones", Immutability::Always),
        (
            "properties.storageProfile.imageReference",
            Immutability::Always,
        ),
        (
            "properties.storageProfile.osDisk.createOption",
            Immutability::Always,
        ),
        (
            "properties.storageProfile.osDisk.diskSizeGB",
            Immutability::Decrease,
        ),
        ("properties.osProfile", Immutability::Always),
        ("properties.securityProfile", Immutability::Always),
    ],
    case_insensitive: &[
        "properties.hardwareProfile.vmSize",
        "properties.storageProfile.osDisk.createOption",
        "properties.storageProfile.osDisk.caching",
        "properties.storageProfile.osDisk.deleteOption",
        "properties.storageProfile.osDisk.managedDisk.storageAccountType",
        "properties.securityProfile.securityType",
        "properties.networkProfile.networkInterfaces[].properties.deleteOption",
    ],
    locations: LOCATION,
    sets: &["zones"],
    keyed: &[],
    timestamps: &[],
    defaults: &[
        ("properties.storageProfile.osDisk.caching", || {
            json!("ReadWrite")
        }),
        ("properties.storageProfile.osDisk.deleteOption", || {
            json!("Detach")
        }),
        (
            "properties.osProfile.linuxConfiguration.provisionVMAgent",
            || json!(true),
        ),
        (
            "properties.networkProfile.networkInterfaces[].properties.deleteOption",
            || json!("Detach"),
        ),
    ],
};

/// The rules of a kind.
pub fn rules_for(kind: ResourceKind) -> &'static Rules {
    match kind {
        ResourceKind::ResourceGroup => &RESOURCE_GROUP,
        ResourceKind::Gallery => &GALLERY,
        ResourceKind::GalleryImage => &GALLERY_IMAGE,
        ResourceKind::ImageVersion => &IMAGE_VERSION,
        ResourceKind::GalleryGrant => &GALLERY_GRANT,
        ResourceKind::GalleryShare => &GALLERY_SHARE,
        ResourceKind::Network => &NETWORK,
        ResourceKind::Nsg => &NSG,
        ResourceKind::PublicIp => &PUBLIC_IP,
        ResourceKind::Nic => &NIC,
        ResourceKind::Vm => &VM,
    }
}
