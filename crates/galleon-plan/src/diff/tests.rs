//! One test per rule of the diff engine, on bodies shaped like the Azure REST examples.

use serde_json::{Value, json};

use super::diff;
use crate::{Action, ResourceKind};

const SUB: &str = "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

fn paths(d: &super::Diff) -> Vec<&str> {
    d.attribute_changes
        .iter()
        .map(|c| c.path.as_str())
        .collect()
}

fn desired_vm() -> Value {
    json!({
        "location": "northeurope",
        "tags": {"galleon-workspace": "cross-tenant", "galleon-address": "vm.web"},
        "zones": ["1"],
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {"id": "/subscriptions/aaaa/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0"},
                "osDisk": {"createOption": "FromImage", "diskSizeGB": 64,
                           "managedDisk": {"storageAccountType": "Premium_LRS"}, "caching": "ReadWrite"}
            },
            "osProfile": {"computerName": "web", "adminUsername": "azureuser",
                "linuxConfiguration": {"disablePasswordAuthentication": true,
                    "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA galleon@example"}]}}},
            "networkProfile": {"networkInterfaces": [{"id": format!("{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/networkInterfaces/web-nic")}]},
            "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}}
        }
    })
}

/// What ARM returns for the VM above: ids in other case, read-only fields, defaults.
fn live_vm() -> Value {
    json!({
        "id": format!("{SUB}/resourceGroups/RG-APP/providers/Microsoft.Compute/virtualMachines/web"),
        "name": "web",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "North Europe",
        "tags": {"galleon-address": "vm.web", "galleon-workspace": "cross-tenant"},
        "zones": ["1"],
        "etag": "\"3\"",
        "properties": {
            "vmId": "0f0f0f0f-0000-4000-8000-000000000000",
            "provisioningState": "Succeeded",
            "timeCreated": "2026-11-24T02:00:00+00:00",
            "hardwareProfile": {"vmSize": "standard_d2s_v5"},
            "storageProfile": {
                "imageReference": {"id": "/subscriptions/aaaa/resourceGroups/RG-GOLDEN-IMAGES/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0", "exactVersion": "1.0.0"},
                "osDisk": {"osType": "Linux", "name": "web_OsDisk_1", "createOption": "FromImage", "caching": "ReadWrite",
                           "managedDisk": {"storageAccountType": "Premium_LRS", "id": "/x/disks/web_OsDisk_1"},
                           "deleteOption": "Detach", "diskSizeGB": 64},
                "dataDisks": []
            },
            "osProfile": {"computerName": "web", "adminUsername": "azureuser", "secrets": [],
                "allowExtensionOperations": true,
                "linuxConfiguration": {"disablePasswordAuthentication": true, "provisionVMAgent": true,
                    "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA galleon@example"}]}}},
            "networkProfile": {"networkInterfaces": [{"id": format!("{SUB}/resourceGroups/RG-APP/providers/Microsoft.Network/networkInterfaces/web-nic"), "properties": {"primary": true}}]},
            "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}}
        }
    })
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    *value.pointer_mut(pointer).expect("pointer exists") = new;
}

#[test]
fn live_with_read_only_fields_defaults_and_other_case_is_no_op() {
    let d = diff(ResourceKind::Vm, Some(&desired_vm()), Some(&live_vm()));
    assert_eq!(paths(&d), Vec::<&str>::new());
    assert_eq!(d.action, Action::NoOp);
    let before = d.before.unwrap();
    assert!(
        before.get("id").is_none(),
        "read-only fields are not managed"
    );
    assert!(before.pointer("/properties/vmId").is_none());
    assert_eq!(
        before.pointer("/properties/hardwareProfile/vmSize"),
        Some(&json!("standard_d2s_v5"))
    );
}

#[test]
fn vm_size_change_is_an_update_in_place() {
    let mut desired = desired_vm();
    set(
        &mut desired,
        "/properties/hardwareProfile/vmSize",
        json!("Standard_D4s_v5"),
    );
    let d = diff(ResourceKind::Vm, Some(&desired), Some(&live_vm()));
    assert_eq!(d.action, Action::Update);
    assert_eq!(paths(&d), ["properties.hardwareProfile.vmSize"]);
    assert_eq!(d.attribute_changes[0].before, json!("standard_d2s_v5"));
    assert!(!d.attribute_changes[0].forces_replacement);
}

#[test]
fn os_disk_grows_in_place_but_shrinking_forces_replacement() {
    let mut bigger = desired_vm();
    set(
        &mut bigger,
        "/properties/storageProfile/osDisk/diskSizeGB",
        json!(128),
    );
    assert_eq!(
        diff(ResourceKind::Vm, Some(&bigger), Some(&live_vm())).action,
        Action::Update
    );

    let mut smaller = desired_vm();
    set(
        &mut smaller,
        "/properties/storageProfile/osDisk/diskSizeGB",
        json!(32),
    );
    let d = diff(ResourceKind::Vm, Some(&smaller), Some(&live_vm()));
    assert_eq!(d.action, Action::Replace);
    assert_eq!(
        d.replace_reasons,
        ["properties.storageProfile.osDisk.diskSizeGB"]
    );
}

#[test]
fn vm_image_zone_and_ssh_key_changes_force_replacement() {
    let cases = [
        (
            "/properties/storageProfile/imageReference/id",
            json!("/subscriptions/aaaa/x/versions/2.0.0"),
            "properties.storageProfile.imageReference.id",
        ),
        ("/zones", json!(["2"]), "zones"),
        (
            "/properties/osProfile/linuxConfiguration/ssh/publicKeys/0/keyData",
            json!("ssh-ed25519 BBBB"),
            "properties.osProfile.linuxConfiguration.ssh.publicKeys[0].keyData",
        ),
        ("/location", json!("westeurope"), "location"),
    ];
    for (pointer, value, reason) in cases {
        let mut desired = desired_vm();
        set(&mut desired, pointer, value);
        let d = diff(ResourceKind::Vm, Some(&desired), Some(&live_vm()));
        assert_eq!(d.action, Action::Replace, "{pointer}");
        assert_eq!(d.replace_reasons, [reason]);
    }
}

#[test]
fn tags_are_compared_whole_with_case_insensitive_names() {
    let mut live = live_vm();
    set(
        &mut live,
        "/tags",
        json!({"Galleon-Workspace": "cross-tenant", "galleon-address": "vm.web", "owner": "someone"}),
    );
    let d = diff(ResourceKind::Vm, Some(&desired_vm()), Some(&live));
    assert_eq!(d.action, Action::Update);
    assert_eq!(paths(&d), ["tags.owner"]);
    assert_eq!(d.attribute_changes[0].after, Value::Null);

    set(&mut live, "/tags/galleon-address", json!("VM.WEB"));
    let d = diff(ResourceKind::Vm, Some(&desired_vm()), Some(&live));
    assert_eq!(
        paths(&d),
        ["tags.galleon-address", "tags.owner"],
        "tag values are case-sensitive"
    );
}

fn desired_vnet() -> Value {
    json!({
        "location": "northeurope",
        "tags": {},
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.10.0.0/16", "10.20.0.0/16"]},
            "subnets": [
                {"name": "default", "properties": {"addressPrefix": "10.10.1.0/24",
                    "networkSecurityGroup": {"id": format!("{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/networkSecurityGroups/nsg-web")}}},
                {"name": "data", "properties": {"addressPrefix": "10.10.2.0/24", "networkSecurityGroup": null}}
            ]
        }
    })
}

fn live_vnet() -> Value {
    json!({
        "id": "/x/virtualNetworks/vnet-app", "name": "vnet-app", "etag": "W/\"7\"", "location": "northeurope", "tags": {},
        "properties": {
            "provisioningState": "Succeeded", "resourceGuid": "abc",
            "addressSpace": {"addressPrefixes": ["10.20.0.0/16", "10.10.0.0/16"]},
            "subnets": [
                {"name": "data", "id": "/x/subnets/data", "etag": "W/\"7\"", "properties": {"addressPrefix": "10.10.2.0/24", "provisioningState": "Succeeded"}},
                {"name": "default", "id": "/x/subnets/default", "properties": {"addressPrefix": "10.10.1.0/24",
                    "networkSecurityGroup": {"id": format!("{SUB}/resourceGroups/RG-APP/providers/Microsoft.Network/networkSecurityGroups/nsg-web")}}}
            ],
            "enableDdosProtection": false
        }
    })
}

#[test]
fn address_space_is_a_set_and_subnets_are_keyed_by_name() {
    let d = diff(
        ResourceKind::Network,
        Some(&desired_vnet()),
        Some(&live_vnet()),
    );
    assert_eq!(paths(&d), Vec::<&str>::new());
    assert_eq!(d.action, Action::NoOp);
}

#[test]
fn added_prefix_and_removed_subnet_are_updates() {
    let mut desired = desired_vnet();
    set(
        &mut desired,
        "/properties/addressSpace/addressPrefixes",
        json!(["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"]),
    );
    desired["properties"]["subnets"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    let d = diff(ResourceKind::Network, Some(&desired), Some(&live_vnet()));
    assert_eq!(d.action, Action::Update);
    assert_eq!(
        paths(&d),
        [
            "properties.addressSpace.addressPrefixes",
            "properties.subnets[data]"
        ]
    );
    let removed = &d.attribute_changes[1];
    assert_eq!(removed.after, Value::Null);
    assert_eq!(
        removed.before,
        json!({"name": "data", "properties": {"addressPrefix": "10.10.2.0/24"}})
    );
}

#[test]
fn explicit_null_detaches_what_galleon_manages() {
    let mut live = live_vnet();
    live["properties"]["subnets"][0]["properties"]["networkSecurityGroup"] =
        json!({"id": "/x/nsg-other"});
    let d = diff(ResourceKind::Network, Some(&desired_vnet()), Some(&live));
    assert_eq!(
        paths(&d),
        ["properties.subnets[data].properties.networkSecurityGroup"]
    );
    assert_eq!(d.attribute_changes[0].before, json!({"id": "/x/nsg-other"}));
}

fn desired_image() -> Value {
    json!({
        "location": "westeurope",
        "properties": {
            "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2", "architecture": "x64",
            "identifier": {"publisher": "contoso", "offer": "ubuntu-server", "sku": "22_04-lts"},
            "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
        }
    })
}

#[test]
fn image_definition_immutables_force_replacement_and_enums_ignore_case() {
    let mut live = desired_image();
    live["properties"]["osType"] = json!("linux");
    live["properties"]["features"] = json!([{"name": "IsAcceleratedNetworkSupported", "value": "true"}, {"name": "SecurityType", "value": "trustedlaunchsupported"}]);
    live["properties"]["provisioningState"] = json!("Succeeded");
    let d = diff(
        ResourceKind::GalleryImage,
        Some(&desired_image()),
        Some(&live),
    );
    assert_eq!(
        paths(&d),
        ["properties.features[IsAcceleratedNetworkSupported]"]
    );
    assert_eq!(
        d.action,
        Action::Replace,
        "a feature Azure has and we do not is a feature change"
    );

    for (field, value) in [
        ("osState", "Specialized"),
        ("hyperVGeneration", "V1"),
        ("architecture", "Arm64"),
    ] {
        let mut desired = desired_image();
        desired["properties"][field] = json!(value);
        let d = diff(
            ResourceKind::GalleryImage,
            Some(&desired),
            Some(&desired_image()),
        );
        assert_eq!(d.action, Action::Replace);
        assert_eq!(d.replace_reasons, [format!("properties.{field}")]);
    }
    let mut desired = desired_image();
    desired["properties"]["identifier"]["sku"] = json!("24_04-lts");
    let d = diff(
        ResourceKind::GalleryImage,
        Some(&desired),
        Some(&desired_image()),
    );
    assert_eq!(d.replace_reasons, ["properties.identifier.sku"]);
}

#[test]
fn image_version_regions_by_display_name_defaults_and_dates_are_no_op() {
    let desired = json!({
        "location": "westeurope",
        "properties": {
            "publishingProfile": {
                "targetRegions": [
                    {"name": "westeurope", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"},
                    {"name": "northeurope", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"}
                ],
                "endOfLifeDate": "2027-12-31T00:00:00Z"
            },
            "storageProfile": {"source": {"id": "/subscriptions/aaaa/resourceGroups/rg-image-build/providers/Microsoft.Compute/images/ubuntu-2204-base"}}
        }
    });
    let live = json!({
        "location": "West Europe",
        "properties": {
            "publishingProfile": {
                "targetRegions": [
                    {"name": "North Europe", "regionalReplicaCount": 2, "storageAccountType": "standard_zrs"},
                    {"name": "West Europe"}
                ],
                "endOfLifeDate": "2027-12-31T00:00:00+00:00",
                "publishedDate": "2026-11-24T00:00:00+00:00",
                "replicaCount": 1
            },
            "storageProfile": {"source": {"id": "/subscriptions/aaaa/resourceGroups/RG-IMAGE-BUILD/providers/Microsoft.Compute/images/ubuntu-2204-base"}},
            "provisioningState": "Succeeded"
        }
    });
    let d = diff(ResourceKind::ImageVersion, Some(&desired), Some(&live));
    assert_eq!(paths(&d), Vec::<&str>::new());

    let mut more = desired.clone();
    more["properties"]["publishingProfile"]["targetRegions"][1]["regionalReplicaCount"] = json!(3);
    let d = diff(ResourceKind::ImageVersion, Some(&more), Some(&live));
    assert_eq!(d.action, Action::Update);
    assert_eq!(
        paths(&d),
        ["properties.publishingProfile.targetRegions[northeurope].regionalReplicaCount"]
    );

    let mut other_source = desired;
    other_source["properties"]["storageProfile"]["source"]["id"] =
        json!("/subscriptions/aaaa/x/images/other");
    assert_eq!(
        diff(ResourceKind::ImageVersion, Some(&other_source), Some(&live)).action,
        Action::Replace
    );
}

#[test]
fn role_assignment_principal_change_forces_replacement() {
    let desired = json!({"properties": {
        "roleDefinitionId": "/subscriptions/aaaa/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "principalId": "5e5e5e5e-0000-4000-8000-000000000001", "principalType": "ServicePrincipal",
        "description": "galleon:cross-tenant:gallery_grant.golden/consumer/Reader"}});
    let mut live = desired.clone();
    live["properties"]["roleDefinitionId"] = json!(
        "/subscriptions/AAAA/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7"
    );
    live["properties"]["scope"] = json!("/subscriptions/aaaa/x");
    assert_eq!(
        diff(ResourceKind::GalleryGrant, Some(&desired), Some(&live)).action,
        Action::NoOp
    );
    live["properties"]["principalId"] = json!("5e5e5e5e-0000-4000-8000-000000000002");
    let d = diff(ResourceKind::GalleryGrant, Some(&desired), Some(&live));
    assert_eq!(d.replace_reasons, ["properties.principalId"]);
}

#[test]
fn nsg_rule_defaults_and_enum_case_are_no_op_and_a_removed_rule_is_an_update() {
    let desired = json!({"location": "northeurope", "properties": {"securityRules": [
        {"name": "allow-ssh", "properties": {"priority": 1000, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
          "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}}]}});
    let live = json!({"location": "northeurope", "properties": {"securityRules": [
        {"name": "allow-ssh", "etag": "x", "properties": {"priority": 1000, "direction": "inbound", "access": "allow", "protocol": "TCP",
          "destinationPortRange": "22", "sourcePortRanges": [], "provisioningState": "Succeeded"}},
        {"name": "allow-rdp", "properties": {"priority": 1010, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "destinationPortRange": "3389"}}],
        "defaultSecurityRules": [{"name": "AllowVnetInBound"}]}});
    let d = diff(ResourceKind::Nsg, Some(&desired), Some(&live));
    assert_eq!(paths(&d), ["properties.securityRules[allow-rdp]"]);
    assert_eq!(d.action, Action::Update);
}

#[test]
fn create_lists_every_leaf_and_delete_every_live_leaf() {
    let body =
        json!({"location": "westeurope", "tags": {"team": "platform"}, "properties": {"x": null}});
    let d = diff(ResourceKind::ResourceGroup, Some(&body), None);
    assert_eq!(d.action, Action::Create);
    assert_eq!(paths(&d), ["location", "tags.team"]);
    assert!(
        d.attribute_changes
            .iter()
            .all(|c| c.before.is_null() && !c.forces_replacement)
    );

    let live = json!({"id": "/subscriptions/s/resourceGroups/rg", "name": "rg", "location": "westeurope",
                      "properties": {"provisioningState": "Succeeded"}});
    let d = diff(ResourceKind::ResourceGroup, None, Some(&live));
    assert_eq!(d.action, Action::Delete);
    assert_eq!(paths(&d), ["location", "properties"]);
    assert_eq!(
        d.before,
        Some(json!({"location": "westeurope", "properties": {}}))
    );
}

#[test]
fn a_zone_added_by_hand_to_a_zoneless_vm_forces_replacement() {
    let mut desired = desired_vm();
    desired["zones"] = Value::Null;
    let mut zoneless = live_vm();
    zoneless.as_object_mut().unwrap().remove("zones");
    assert_eq!(
        diff(ResourceKind::Vm, Some(&desired), Some(&zoneless)).action,
        Action::NoOp
    );
    let d = diff(ResourceKind::Vm, Some(&desired), Some(&live_vm()));
    assert_eq!(d.action, Action::Replace);
    assert_eq!(d.replace_reasons, ["zones"]);
}

#[test]
fn a_resource_whose_provisioning_failed_is_written_again() {
    for state in ["Failed", "Canceled"] {
        let mut live = live_vm();
        live["properties"]["provisioningState"] = json!(state);
        let d = diff(ResourceKind::Vm, Some(&desired_vm()), Some(&live));
        assert_eq!(d.action, Action::Update, "{state}");
        assert_eq!(paths(&d), ["properties.provisioningState"]);
        assert_eq!(d.attribute_changes[0].before, json!(state));
    }
    // Still in progress (another writer's operation) is not a reason to write.
    let mut live = live_vm();
    live["properties"]["provisioningState"] = json!("Creating");
    assert_eq!(
        diff(ResourceKind::Vm, Some(&desired_vm()), Some(&live)).action,
        Action::NoOp
    );
}

/// The plan narrows each listed body as soon as it is read; the diff must not be able to
/// tell. Every realistic pair above, with and without changes, diffs the same either way.
#[test]
fn a_narrowed_live_body_diffs_like_the_whole_one() {
    let mut vm_changed = desired_vm();
    set(
        &mut vm_changed,
        "/properties/hardwareProfile/vmSize",
        json!("Standard_D4s_v5"),
    );
    let mut vnet_fewer = desired_vnet();
    vnet_fewer["properties"]["subnets"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    let mut vm_failed = live_vm();
    vm_failed["properties"]["provisioningState"] = json!("Failed");
    let cases = [
        (ResourceKind::Vm, desired_vm(), live_vm()),
        (ResourceKind::Vm, vm_changed, live_vm()),
        (ResourceKind::Vm, desired_vm(), vm_failed),
        (ResourceKind::Network, desired_vnet(), live_vnet()),
        (ResourceKind::Network, vnet_fewer, live_vnet()),
        (ResourceKind::GalleryImage, desired_image(), live_vm()),
    ];
    for (kind, desired, live) in cases {
        let mut narrowed = live.clone();
        super::narrow_live(kind, &desired, &mut narrowed);
        assert!(
            narrowed.to_string().len() <= live.to_string().len(),
            "{kind:?}"
        );
        let whole = diff(kind, Some(&desired), Some(&live));
        let narrow = diff(kind, Some(&desired), Some(&narrowed));
        assert_eq!(narrow, whole, "{kind:?}");
        // What ownership, deletion ordering and preflight read stays.
        for key in ["id", "etag", "tags", "name"] {
            assert_eq!(narrowed.get(key), live.get(key), "{kind:?} {key}");
        }
        assert_eq!(
            narrowed.pointer("/properties/provisioningState"),
            live.pointer("/properties/provisioningState")
        );
    }
}
