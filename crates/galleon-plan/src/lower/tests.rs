//! Lowering of the seed scenario (`examples/cross-tenant`) and the fleet.

use std::path::Path;

use galleon_manifest::Workspace;
use serde_json::{Value, json};

use super::*;

const PUBLISHER: &str = "11111111-1111-4111-8111-111111111111";

fn example(name: &str) -> Workspace {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    Workspace::load(&dir).unwrap_or_else(|d| panic!("{name} loads: {d:?}"))
}

fn lowered(name: &str, ctx: &LowerContext) -> Vec<DesiredResource> {
    lower_workspace(&example(name), ctx).expect("lowers")
}

fn find<'a>(all: &'a [DesiredResource], address: &str) -> &'a DesiredResource {
    all.iter()
        .find(|d| d.address == address)
        .unwrap_or_else(|| {
            let known: Vec<_> = all.iter().map(|d| d.address.as_str()).collect();
            panic!("{address} not in {known:?}")
        })
}

#[test]
fn every_taggable_resource_carries_ownership_tags() {
    for d in lowered("cross-tenant", &LowerContext::default()) {
        if d.kind.taggable() {
            assert_eq!(
                d.body["tags"]["galleon-workspace"], "cross-tenant",
                "{}",
                d.address
            );
            assert_eq!(d.body["tags"]["galleon-address"], d.address.as_str());
        } else {
            assert!(d.body.get("tags").is_none(), "{}", d.address);
        }
    }
}

#[test]
fn cross_tenant_vm_body_and_aux_tenant() {
    let all = lowered("cross-tenant", &LowerContext::default());
    let vm = find(&all, "vm.web");
    assert_eq!(vm.aux_tenant_ids, [PUBLISHER]);
    let p = &vm.body["properties"];
    assert_eq!(p["hardwareProfile"]["vmSize"], "Standard_D2s_v5");
    assert!(
        p["storageProfile"]["imageReference"]["id"]
            .as_str()
            .unwrap()
            .ends_with(
                "/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0"
            )
    );
    assert_eq!(p["storageProfile"]["osDisk"]["diskSizeGB"], 64);
    assert_eq!(
        p["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"],
        "Premium_LRS"
    );
    assert_eq!(p["osProfile"]["adminUsername"], "azureuser");
    let key = &p["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0];
    assert_eq!(key["path"], "/home/azureuser/.ssh/authorized_keys");
    assert!(key["keyData"].as_str().unwrap().starts_with("ssh-ed25519 "));
    assert!(
        p["networkProfile"]["networkInterfaces"][0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/networkInterfaces/web-nic")
    );
    assert_eq!(p["securityProfile"]["securityType"], "TrustedLaunch");
    assert_eq!(vm.body["zones"], json!(["1"]));
    assert_eq!(vm.body["tags"]["app"], "web");
    // Same-tenant resources need no auxiliary token.
    assert!(find(&all, "nic.web").aux_tenant_ids.is_empty());
}

#[test]
fn gallery_children_follow_the_gallery_rp_shapes() {
    let all = lowered("cross-tenant", &LowerContext::default());
    let image = &find(&all, "gallery_image.golden/ubuntu").body["properties"];
    assert_eq!(image["osType"], "Linux");
    assert_eq!(image["osState"], "Generalized");
    assert_eq!(image["hyperVGeneration"], "V2");
    assert_eq!(image["architecture"], "x64");
    assert_eq!(
        image["identifier"],
        json!({"publisher": "contoso", "offer": "ubuntu-server", "sku": "22_04-lts"})
    );
    assert_eq!(
        image["features"],
        json!([{"name": "SecurityType", "value": "TrustedLaunchSupported"}])
    );

    let version = &find(&all, "image_version.golden/ubuntu/1.0.0").body["properties"];
    assert_eq!(
        version["publishingProfile"]["targetRegions"],
        json!([
            {"name": "westeurope", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"},
            {"name": "northeurope", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"}
        ])
    );
    assert_eq!(
        version["publishingProfile"]["endOfLifeDate"],
        "2027-12-31T00:00:00+00:00"
    );
    assert!(
        version["storageProfile"]["source"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/images/ubuntu-2204-base")
    );
}

#[test]
fn grant_uses_the_resolved_principal_and_full_role_definition_id() {
    let all = lowered("cross-tenant", &LowerContext::default());
    let address = all
        .iter()
        .find(|d| d.kind == ResourceKind::GalleryGrant)
        .unwrap()
        .address
        .clone();
    let mut ctx = LowerContext::default();
    ctx.principal_ids.insert(
        address.clone(),
        "5e5e5e5e-0000-4000-8000-000000000001".into(),
    );
    let all = lowered("cross-tenant", &ctx);
    let grant = find(&all, &address);
    assert!(
        grant.arm_id.contains(
            "/galleries/golden_images/providers/Microsoft.Authorization/roleAssignments/"
        )
    );
    let p = &grant.body["properties"];
    assert_eq!(p["principalId"], "5e5e5e5e-0000-4000-8000-000000000001");
    assert_eq!(p["principalType"], "ServicePrincipal");
    assert_eq!(
        p["roleDefinitionId"],
        "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    );
    assert_eq!(p["description"], format!("galleon:cross-tenant:{address}"));
}

#[test]
fn network_pieces_reference_each_other_and_say_null_when_absent() {
    let all = lowered("cross-tenant", &LowerContext::default());
    let vnet = &find(&all, "network.app").body["properties"];
    assert_eq!(
        vnet["addressSpace"]["addressPrefixes"],
        json!(["10.10.0.0/16"])
    );
    assert_eq!(vnet["subnets"][0]["name"], "default");
    assert!(
        vnet["subnets"][0]["properties"]["networkSecurityGroup"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/networkSecurityGroups/nsg-web")
    );
    let rule = &find(&all, "nsg.web").body["properties"]["securityRules"][0];
    assert_eq!(rule["properties"]["destinationPortRange"], "22");
    assert_eq!(rule["properties"]["protocol"], "Tcp");
    let nic = &find(&all, "nic.web").body["properties"];
    assert!(
        nic["ipConfigurations"][0]["properties"]["publicIPAddress"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/publicIPAddresses/web-pip")
    );
    assert!(nic.get("networkSecurityGroup").is_some_and(Value::is_null));
}

#[test]
fn fleet_vms_without_cross_tenant_grant_still_carry_the_image_tenant() {
    let all = lowered("fleet", &LowerContext::default());
    let vms: Vec<_> = all.iter().filter(|d| d.kind == ResourceKind::Vm).collect();
    assert_eq!(vms.len(), 20);
    assert!(vms.iter().all(|v| v.aux_tenant_ids == [PUBLISHER]));
    assert!(
        find(&all, "vm.east[3]")
            .arm_id
            .ends_with("/virtualMachines/east-3")
    );
}

/// The planner sends a change's `after` (the desired body without the fields ARM computes):
/// that is only the body lowering made if lowering never writes such a field.
#[test]
fn lowered_bodies_carry_no_read_only_field() {
    for name in ["cross-tenant", "fleet"] {
        for d in lowered(name, &LowerContext::default()) {
            let created = crate::diff::diff(d.kind, Some(&d.body), None);
            assert_eq!(
                created.after.as_ref(),
                Some(&d.body),
                "{name}: {}",
                d.address
            );
        }
    }
}
