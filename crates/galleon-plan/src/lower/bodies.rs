//! The PUT body of each kind, in the REST shape of the pinned api-versions.
//!
//! Shapes follow the spec examples in Azure/azure-rest-api-specs:
//! ComputeRP 2025-04-01 `VirtualMachine_Create_*`, GalleryRP 2025-03-03
//! `GalleryImage_Create*` / `GalleryImageVersion_Create*` / `Gallery_Create*`, Network
//! `VirtualNetworkCreate*` / `NetworkSecurityGroupCreateWithRule` / `PublicIpAddressCreate*` /
//! `NetworkInterfaceCreate`, Authorization 2022-04-01 `PutRoleAssignment`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use galleon_manifest::Resource;
use galleon_manifest::model::{
    Access, Allocation, Architecture, Caching, Direction, DiskStorage, HyperVGeneration,
    ImageSecurityType, OsState, OsType, Protocol, PublicIpSku, ReplicaStorage, SshKey,
    VmSecurityType,
};
use galleon_manifest::resolve::{
    GalleryGrantSpec, GalleryImageSpec, GallerySpec, ImageVersionSpec, NetworkSpec, NicSpec,
    NsgSpec, Principal, PublicIpSpec, Spec, VmSpec,
};
use serde_json::{Map, Value, json};

use super::{LowerContext, LowerError};

pub(super) fn body(
    r: &Resource,
    tags: &BTreeMap<String, String>,
    ctx: &LowerContext,
) -> Result<Value, LowerError> {
    let tags = json!(tags);
    Ok(match &r.spec {
        Spec::ResourceGroup(_) => located(r, tags, []),
        Spec::Gallery(s) => gallery(r, s, tags),
        Spec::GalleryImage(s) => image(r, s, tags),
        Spec::ImageVersion(s) => version(r, s, tags),
        Spec::GalleryGrant(s) => grant(r, s, ctx),
        Spec::Network(s) => network(r, s, tags),
        Spec::Nsg(s) => nsg(r, s, tags),
        Spec::PublicIp(s) => public_ip(r, s, tags),
        Spec::Nic(s) => nic(r, s, tags),
        Spec::Vm(s) => vm(r, s, tags)?,
    })
}

fn gallery(r: &Resource, s: &GallerySpec, tags: Value) -> Value {
    let mut properties = json!({"description": s.description});
    // Direct sharing must be chosen when the gallery is created (share-gallery-direct.md);
    // the groups themselves are added by the `share` action, not by this PUT.
    if s.direct_share.is_some() {
        properties["sharingProfile"] = json!({"permissions": "Groups"});
    }
    located(r, tags, [("properties", properties)])
}

fn image(r: &Resource, s: &GalleryImageSpec, tags: Value) -> Value {
    let mut properties = json!({
        "osType": os_type(s.os_type),
        "osState": match s.os_state { OsState::Generalized => "Generalized", OsState::Specialized => "Specialized" },
        "hyperVGeneration": hyper_v(s.hyper_v_generation),
        "architecture": match s.architecture { Architecture::X64 => "x64", Architecture::Arm64 => "Arm64" },
        "identifier": {"publisher": s.publisher, "offer": s.offer, "sku": s.sku},
        "description": s.description,
    });
    if let Some(security) = image_security(s.security_type) {
        properties["features"] = json!([{"name": "SecurityType", "value": security}]);
    }
    located(r, tags, [("properties", properties)])
}

fn version(r: &Resource, s: &ImageVersionSpec, tags: Value) -> Value {
    let regions: Vec<Value> = s
        .target_regions
        .iter()
        .map(|t| {
            json!({
                "name": t.region,
                "regionalReplicaCount": t.replicas,
                "storageAccountType": replica_storage(t.storage),
            })
        })
        .collect();
    let end_of_life = s
        .end_of_life
        .as_ref()
        .map(|d| format!("{d}T00:00:00+00:00"));
    json!({
        "location": r.location,
        "tags": tags,
        "properties": {
            "publishingProfile": {
                "targetRegions": regions,
                "excludeFromLatest": s.exclude_from_latest,
                "endOfLifeDate": end_of_life,
            },
            "storageProfile": {"source": {"id": s.source}},
            // Lets galleon remove a region later; Azure refuses otherwise.
            "safetyProfile": {"allowDeletionOfReplicatedLocations": true},
        }
    })
}

fn grant(r: &Resource, s: &GalleryGrantSpec, ctx: &LowerContext) -> Value {
    let address = r.address.to_string();
    let (principal_id, principal_type) = match &s.principal {
        Principal::App { .. } => (
            ctx.principal_ids.get(&address).cloned().unwrap_or_default(),
            Some("ServicePrincipal"),
        ),
        // ARM infers the type of a raw object id; sending a wrong one fails the PUT.
        Principal::ObjectId(id) => (id.clone(), None),
    };
    let mut properties = json!({
        "roleDefinitionId": format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}",
            r.subscription, s.role_definition_id
        ),
        "principalId": principal_id,
        "description": s.description,
    });
    if let Some(t) = principal_type {
        properties["principalType"] = json!(t);
    }
    json!({"properties": properties})
}

fn network(r: &Resource, s: &NetworkSpec, tags: Value) -> Value {
    let subnets: Vec<Value> = s
        .subnets
        .iter()
        .map(|sn| {
            json!({
                "name": sn.name,
                "properties": {
                    "addressPrefix": sn.address_prefix,
                    "networkSecurityGroup": sn.nsg.as_ref().map(|n| json!({"id": n.arm_id})),
                }
            })
        })
        .collect();
    let mut properties =
        json!({"addressSpace": {"addressPrefixes": s.address_space}, "subnets": null});
    properties["subnets"] = Value::Array(subnets);
    located(r, tags, [("properties", properties)])
}

fn nsg(r: &Resource, s: &NsgSpec, tags: Value) -> Value {
    let rules: Vec<Value> = s
        .rules
        .iter()
        .map(|rule| {
            json!({
                "name": rule.name,
                "properties": {
                    "priority": rule.priority,
                    "direction": match rule.direction { Direction::Inbound => "Inbound", Direction::Outbound => "Outbound" },
                    "access": match rule.access { Access::Allow => "Allow", Access::Deny => "Deny" },
                    "protocol": match rule.protocol {
                        Protocol::Tcp => "Tcp", Protocol::Udp => "Udp", Protocol::Icmp => "Icmp", Protocol::Any => "*",
                    },
                    "sourceAddressPrefix": rule.source,
                    "sourcePortRange": rule.source_port,
                    "destinationAddressPrefix": rule.destination,
                    "destinationPortRange": rule.destination_port,
                }
            })
        })
        .collect();
    let mut properties = json!({"securityRules": null});
    properties["securityRules"] = Value::Array(rules);
    located(r, tags, [("properties", properties)])
}

fn public_ip(r: &Resource, s: &PublicIpSpec, tags: Value) -> Value {
    let mut body = json!({
        "location": r.location,
        "tags": tags,
        "sku": {"name": match s.sku { PublicIpSku::Standard => "Standard", PublicIpSku::Basic => "Basic" }},
        "properties": {
            "publicIPAllocationMethod": match s.allocation { Allocation::Static => "Static", Allocation::Dynamic => "Dynamic" },
            "publicIPAddressVersion": "IPv4",
        }
    });
    // Omitted when empty, not `null`: Azure may make a Standard public IP zone-redundant by
    // default in regions with zones, and that default must not read as drift.
    if !s.zones.is_empty() {
        body["zones"] = json!(s.zones);
    }
    body
}

fn nic(r: &Resource, s: &NicSpec, tags: Value) -> Value {
    let properties = json!({
        "ipConfigurations": [{
            "name": "ipconfig1",
            "properties": {
                "subnet": {"id": s.subnet_id},
                "privateIPAllocationMethod": "Dynamic",
                "publicIPAddress": s.public_ip.as_ref().map(|p| json!({"id": p.arm_id})),
            }
        }],
        "networkSecurityGroup": s.nsg.as_ref().map(|n| json!({"id": n.arm_id})),
    });
    located(r, tags, [("properties", properties)])
}

/// `{"location", "tags", ...rest}` with the values moved in. `json!` serialises every
/// `Value` it interpolates into a copy, which made lowering a seventh of the CPU of a
/// 10,000-resource plan.
fn located<const N: usize>(r: &Resource, tags: Value, rest: [(&str, Value); N]) -> Value {
    let mut body = Map::with_capacity(N + 2);
    body.insert("location".to_owned(), Value::from(r.location.as_str()));
    body.insert("tags".to_owned(), tags);
    for (key, value) in rest {
        body.insert(key.to_owned(), value);
    }
    Value::Object(body)
}

fn vm(r: &Resource, s: &VmSpec, tags: Value) -> Result<Value, LowerError> {
    let mut os_disk = json!({"createOption": "FromImage", "deleteOption": "Delete"});
    if let Some(size) = s.os_disk_size_gb {
        os_disk["diskSizeGB"] = json!(size);
    }
    if let Some(storage) = s.os_disk_storage {
        os_disk["managedDisk"] = json!({"storageAccountType": disk_storage(storage)});
    }
    if let Some(caching) = s.os_disk_caching {
        os_disk["caching"] = json!(match caching {
            Caching::None => "None",
            Caching::ReadOnly => "ReadOnly",
            Caching::ReadWrite => "ReadWrite",
        });
    }
    let mut properties = json!({
        "hardwareProfile": {"vmSize": s.size},
        "storageProfile": {"imageReference": {"id": s.image.arm_id()}, "osDisk": null},
        "networkProfile": {"networkInterfaces": [{"id": s.nic.arm_id, "properties": {"primary": true}}]},
    });
    properties["storageProfile"]["osDisk"] = os_disk;
    // A specialized image carries its own OS configuration: Azure refuses an osProfile then,
    // so the manifest leaves admin_username unset and no osProfile is sent.
    if let Some(user) = &s.admin_username {
        let mut os_profile = json!({"computerName": r.name, "adminUsername": user});
        if s.os_type != Some(OsType::Windows) {
            let mut linux = json!({"disablePasswordAuthentication": true});
            if let Some(key) = &s.ssh_public_key {
                linux["ssh"] = json!({"publicKeys": [{
                    "path": format!("/home/{user}/.ssh/authorized_keys"),
                    "keyData": key_data(r, key)?,
                }]});
            }
            os_profile["linuxConfiguration"] = linux;
        }
        properties["osProfile"] = os_profile;
    }
    match s.security_type {
        VmSecurityType::Standard => {}
        VmSecurityType::TrustedLaunch => {
            properties["securityProfile"] = json!({"securityType": "TrustedLaunch",
                "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}});
        }
        VmSecurityType::ConfidentialVm => {
            properties["securityProfile"] = json!({"securityType": "ConfidentialVM",
                "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}});
        }
    }
    // `null` when zoneless, so a zone added by hand shows (and forces replacement).
    let zones = s.zone.as_ref().map(|z| json!([z]));
    Ok(located(
        r,
        tags,
        [
            ("zones", zones.unwrap_or(Value::Null)),
            ("properties", properties),
        ],
    ))
}

/// The public key text. A file is read at plan time so the plan holds the exact bytes apply
/// sends; only public keys are ever read (a private key was refused when loading).
fn key_data(r: &Resource, key: &SshKey) -> Result<String, LowerError> {
    let address = r.address.to_string();
    match key {
        SshKey::Inline(text) => Ok(text.trim().to_owned()),
        SshKey::File(file) => {
            let path = match r.origin.path.parent() {
                Some(dir) => dir.join(file),
                None => PathBuf::from(file),
            };
            let text = std::fs::read_to_string(&path).map_err(|source| LowerError::SshKeyFile {
                address: address.clone(),
                path: path.clone(),
                source,
            })?;
            let text = text.trim();
            if !text.starts_with("ssh-") && !text.starts_with("ecdsa-") || text.contains("PRIVATE")
            {
                return Err(LowerError::NotAPublicKey { address, path });
            }
            Ok(text.to_owned())
        }
        SshKey::PrivateKey => Err(LowerError::NotAPublicKey {
            address,
            path: PathBuf::from("ssh_public_key"),
        }),
    }
}

fn os_type(t: OsType) -> &'static str {
    match t {
        OsType::Linux => "Linux",
        OsType::Windows => "Windows",
    }
}

fn hyper_v(g: HyperVGeneration) -> &'static str {
    match g {
        HyperVGeneration::V1 => "V1",
        HyperVGeneration::V2 => "V2",
    }
}

/// The `SecurityType` feature of an image definition; `None` for Standard (no feature).
pub(crate) fn image_security(t: ImageSecurityType) -> Option<&'static str> {
    Some(match t {
        ImageSecurityType::Standard => return None,
        ImageSecurityType::TrustedLaunch => "TrustedLaunch",
        ImageSecurityType::TrustedLaunchSupported => "TrustedLaunchSupported",
        ImageSecurityType::TrustedLaunchAndConfidentialVmSupported => {
            "TrustedLaunchAndConfidentialVmSupported"
        }
        ImageSecurityType::ConfidentialVm => "ConfidentialVM",
        ImageSecurityType::ConfidentialVmSupported => "ConfidentialVMSupported",
    })
}

fn replica_storage(s: ReplicaStorage) -> &'static str {
    match s {
        ReplicaStorage::Standard_LRS => "Standard_LRS",
        ReplicaStorage::Standard_ZRS => "Standard_ZRS",
        ReplicaStorage::Premium_LRS => "Premium_LRS",
    }
}

fn disk_storage(s: DiskStorage) -> &'static str {
    match s {
        DiskStorage::Standard_LRS => "Standard_LRS",
        DiskStorage::StandardSSD_LRS => "StandardSSD_LRS",
        DiskStorage::Premium_LRS => "Premium_LRS",
    }
}
