//! Hand-built plans for tests of the crates that consume a [`Plan`] (renderers, applier), so
//! that their tests need neither a manifest nor Azure. Built through the same [`diff`] as real
//! plans, so the attribute changes are the ones a real plan would carry.

use serde_json::{Value, json};
use time::macros::datetime;

use crate::diff::diff;
use crate::{
    CheckResult, CheckStatus, Fingerprint, Method, Plan, Request, ResourceChange, ResourceKind,
};

const PUBLISHER_SUB: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const CONSUMER_SUB: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
const PUBLISHER_TENANT: &str = "11111111-1111-4111-8111-111111111111";
const CONSUMER_TENANT: &str = "22222222-2222-4222-8222-222222222222";

/// A change computed with the real diff engine.
pub fn change(
    address: &str,
    arm_id: &str,
    desired: Option<Value>,
    live: Option<Value>,
    depends_on: &[&str],
) -> ResourceChange {
    let kind = ResourceKind::of_address(address).expect("fixture addresses are valid");
    let d = diff(kind, desired.as_ref(), live.as_ref());
    let publisher = arm_id.contains(PUBLISHER_SUB);
    let rg = arm_id.split('/').nth(4).unwrap_or_default().to_owned();
    let cross_tenant = kind == ResourceKind::Vm && d.after.is_some();
    let request = match d.action {
        crate::Action::NoOp => None,
        crate::Action::Delete => Some(Request {
            method: Method::Delete,
            api_version: kind.api_version().to_owned(),
            body: None,
            aux_tenant_ids: Vec::new(),
        }),
        _ => Some(Request {
            method: Method::Put,
            api_version: kind.api_version().to_owned(),
            body: desired,
            aux_tenant_ids: if cross_tenant {
                vec![PUBLISHER_TENANT.to_owned()]
            } else {
                Vec::new()
            },
        }),
    };
    ResourceChange {
        address: address.to_owned(),
        kind,
        arm_id: arm_id.to_owned(),
        tenant: if publisher { "publisher" } else { "consumer" }.to_owned(),
        tenant_id: if publisher {
            PUBLISHER_TENANT
        } else {
            CONSUMER_TENANT
        }
        .to_owned(),
        subscription: if publisher {
            PUBLISHER_SUB
        } else {
            CONSUMER_SUB
        }
        .to_owned(),
        resource_group: rg,
        action: d.action,
        replace_reasons: d.replace_reasons,
        attribute_changes: d.attribute_changes,
        before: d.before,
        after: d.after,
        depends_on: depends_on.iter().map(|s| (*s).to_owned()).collect(),
        request,
        owned_by_us: live.is_some(),
    }
}

fn plan(changes: Vec<ResourceChange>, preflight: Vec<CheckResult>) -> Plan {
    let reads = changes
        .iter()
        .map(|c| Fingerprint::of(c.arm_id.clone(), c.before.as_ref()))
        .collect();
    Plan::new(
        "cross-tenant",
        datetime!(2026-11-24 03:00:00 UTC),
        changes,
        preflight,
        reads,
    )
}

fn rg_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

fn tags(address: &str) -> Value {
    json!({"galleon-workspace": "cross-tenant", "galleon-address": address})
}

fn images_rg() -> Value {
    json!({"location": "westeurope", "tags": {"galleon-workspace": "cross-tenant", "galleon-address": "resource_group.images", "team": "platform"}})
}

fn gallery_id() -> String {
    format!(
        "{}/providers/Microsoft.Compute/galleries/golden_images",
        rg_id(PUBLISHER_SUB, "rg-golden-images")
    )
}

fn gallery() -> Value {
    json!({"location": "westeurope", "tags": tags("gallery.golden"),
           "properties": {"description": "Golden images for every team"}})
}

fn image() -> Value {
    json!({"location": "westeurope", "tags": tags("gallery_image.golden/ubuntu"), "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2", "architecture": "x64",
        "identifier": {"publisher": "contoso", "offer": "ubuntu-server", "sku": "22_04-lts"},
        "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}})
}

fn vm(size: &str) -> Value {
    json!({"location": "northeurope", "tags": {"galleon-workspace": "cross-tenant", "galleon-address": "vm.web", "app": "web"},
        "zones": ["1"], "properties": {
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {"imageReference": {"id": format!("{}/images/ubuntu/versions/1.0.0", gallery_id())},
            "osDisk": {"createOption": "FromImage", "diskSizeGB": 64, "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "osProfile": {"computerName": "web", "adminUsername": "azureuser",
            "linuxConfiguration": {"disablePasswordAuthentication": true, "ssh": {"publicKeys": [{
                "path": "/home/azureuser/.ssh/authorized_keys",
                "keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalleonExampleKeyOnlyForDocsAndTestsXXXXXXX galleon@example"}]}}},
        "securityProfile": {"securityType": "TrustedLaunch"}}})
}

fn vm_id() -> String {
    format!(
        "{}/providers/Microsoft.Compute/virtualMachines/web",
        rg_id(CONSUMER_SUB, "rg-app")
    )
}

/// Nothing exists yet: every resource is created.
pub fn create_only() -> Plan {
    plan(
        vec![
            change(
                "resource_group.images",
                &rg_id(PUBLISHER_SUB, "rg-golden-images"),
                Some(images_rg()),
                None,
                &[],
            ),
            change(
                "gallery.golden",
                &gallery_id(),
                Some(gallery()),
                None,
                &["resource_group.images"],
            ),
            change(
                "gallery_image.golden/ubuntu",
                &format!("{}/images/ubuntu", gallery_id()),
                Some(image()),
                None,
                &["gallery.golden"],
            ),
        ],
        vec![pass(
            "image-tenant-sign-in",
            None,
            "consumer app can sign in to tenant publisher",
        )],
    )
}

/// One of each: create, update, replace, delete, no-op, across both tenants.
pub fn mixed() -> Plan {
    let mut live_gallery = gallery();
    live_gallery["properties"]["description"] = json!("Golden images");
    let mut live_image = image();
    live_image["properties"]["hyperVGeneration"] = json!("V1");
    let mut changes = vec![
        change(
            "resource_group.images",
            &rg_id(PUBLISHER_SUB, "rg-golden-images"),
            Some(images_rg()),
            Some(images_rg()),
            &[],
        ),
        change(
            "gallery.golden",
            &gallery_id(),
            Some(gallery()),
            Some(live_gallery),
            &["resource_group.images"],
        ),
        change(
            "gallery_image.golden/ubuntu",
            &format!("{}/images/ubuntu", gallery_id()),
            Some(image()),
            Some(live_image),
            &["gallery.golden"],
        ),
        change(
            "resource_group.app",
            &rg_id(CONSUMER_SUB, "rg-app"),
            Some(json!({"location": "northeurope", "tags": tags("resource_group.app")})),
            None,
            &[],
        ),
        change(
            "public_ip.old",
            &format!(
                "{}/providers/Microsoft.Network/publicIPAddresses/old-pip",
                rg_id(CONSUMER_SUB, "rg-app")
            ),
            None,
            Some(
                json!({"location": "northeurope", "tags": tags("public_ip.old"), "sku": {"name": "Standard"}}),
            ),
            &[],
        ),
    ];
    changes[4].owned_by_us = true;
    plan(
        changes,
        vec![pass(
            "image-exists",
            Some("image_version.golden/ubuntu/1.0.0"),
            "image version exists",
        )],
    )
}

/// A VM moved to another zone (replace), and a gallery whose multi-line description changed.
pub fn replace() -> Plan {
    let mut desired_vm = vm("Standard_D4s_v5");
    desired_vm["zones"] = json!(["2"]);
    let mut desired_gallery = gallery();
    desired_gallery["properties"]["description"] = json!(
        "Golden images for every team.\nBuilt nightly by Packer.\nOwner: platform team.\nSupport: #platform-help"
    );
    let mut live_gallery = gallery();
    live_gallery["properties"]["description"] = json!(
        "Golden images for every team.\nBuilt weekly by Packer.\nOwner: platform team.\nSupport: #platform-help"
    );
    plan(
        vec![
            change(
                "gallery.golden",
                &gallery_id(),
                Some(desired_gallery),
                Some(live_gallery),
                &[],
            ),
            change(
                "vm.web",
                &vm_id(),
                Some(desired_vm),
                Some(vm("Standard_D2s_v5")),
                &["nic.web"],
            ),
        ],
        Vec::new(),
    )
}

/// Only deletions of owned resources no longer declared.
pub fn delete() -> Plan {
    let mut c = change("vm.web", &vm_id(), None, Some(vm("Standard_D2s_v5")), &[]);
    c.owned_by_us = true;
    plan(vec![c], Vec::new())
}

/// Preflight failures that must stop apply, plus a warning and a skipped check.
pub fn preflight_failures() -> Plan {
    let vm = change("vm.web", &vm_id(), Some(vm("Standard_D2s_v5")), None, &[]);
    plan(vec![vm], vec![
        CheckResult {
            id: "image-tenant-sign-in".into(),
            address: Some("vm.web".into()),
            status: CheckStatus::Fail,
            title: "app cannot sign in to the image tenant".into(),
            message: "AADSTS700016: application 0a0a0a0a-3333-4333-8333-333333333333 was not found in tenant 11111111-1111-4111-8111-111111111111".into(),
            fix: Some("an admin of tenant publisher consents once: az ad sp create --id 0a0a0a0a-3333-4333-8333-333333333333".into()),
        },
        CheckResult {
            id: "image-replicated-to-vm-region".into(),
            address: Some("vm.web".into()),
            status: CheckStatus::Fail,
            title: "image version not replicated to northeurope".into(),
            message: "image_version.golden/ubuntu/1.0.0 is replicated to westeurope only".into(),
            fix: Some("add northeurope to target_regions of image_version.golden/ubuntu/1.0.0".into()),
        },
        CheckResult {
            id: "name-taken".into(),
            address: Some("nsg.web".into()),
            status: CheckStatus::Warn,
            title: "name already used by a resource galleon does not own".into(),
            message: "nsg-web exists without galleon tags; galleon will update it but never delete it".into(),
            fix: Some("tag it galleon-workspace=cross-tenant to adopt it, or rename nsg.web".into()),
        },
        CheckResult {
            id: "image-readable".into(),
            address: Some("vm.web".into()),
            status: CheckStatus::Skipped,
            title: "image read access".into(),
            message: "the grant that gives access is created by this plan".into(),
            fix: None,
        },
    ])
}

/// Everything matches.
pub fn no_changes() -> Plan {
    plan(
        vec![change(
            "resource_group.images",
            &rg_id(PUBLISHER_SUB, "rg-golden-images"),
            Some(images_rg()),
            Some(images_rg()),
            &[],
        )],
        vec![pass(
            "image-tenant-sign-in",
            None,
            "consumer app can sign in to tenant publisher",
        )],
    )
}

fn pass(id: &str, address: Option<&str>, title: &str) -> CheckResult {
    CheckResult {
        id: id.into(),
        address: address.map(Into::into),
        status: CheckStatus::Pass,
        title: title.into(),
        message: String::new(),
        fix: None,
    }
}
