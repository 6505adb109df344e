//! The encryption-set and purchase-plan refusals, against image versions held in memory.

use serde_json::{Value, json};

use super::*;
use crate::providers::compute::checks::validate_vm;
use crate::providers::compute::gallery::PRIVATE;
use crate::providers::compute::test_lookup::MapLookup;

const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

fn def_id() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/g/images/ubuntu"
    )
}

fn version_id() -> String {
    format!("{}/versions/1.0.0", def_id())
}

fn des(sub: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des"
    )
}

fn source_vm() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/builder"
    )
}

fn plan() -> Value {
    json!({"name": "cis-ubuntu2204-l1", "publisher": "center-for-internet-security-inc", "product": "cis-ubuntu-linux-2204-l1"})
}

/// A Generalized Gen2 definition (`purchase_plan` optional) with one version made from a
/// Marketplace-built VM, encrypted in `northeurope` with `encryption`.
fn world(purchase_plan: Option<Value>, encryption: Option<Value>) -> MapLookup {
    let mut l = MapLookup::default();
    let mut def = json!({"id": def_id(), "name": "ubuntu", "location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}});
    if let Some(p) = purchase_plan {
        def["properties"]["purchasePlan"] = p;
    }
    l.put(def);
    let mut north = json!({"name": "northeurope"});
    if let Some(e) = encryption {
        north["encryption"] = e;
    }
    l.put(
        json!({"id": version_id(), "name": "1.0.0", "location": "westeurope",
        "type": "Microsoft.Compute/galleries/images/versions",
        "properties": {"publishingProfile": {"targetRegions": [{"name": "westeurope"}, north]},
                       "storageProfile": {"source": {"virtualMachineId": source_vm()}}},
        PRIVATE: {"replication": {"westeurope": 0, "northeurope": 0}}}),
    );
    l.put(json!({"id": source_vm(), "location": "westeurope", "plan": plan(), "properties": {}}));
    l
}

fn vm_id() -> String {
    format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    )
}

fn run(lookup: &MapLookup, image: &str, extra: Option<(&str, Value)>) -> Result<(), RpError> {
    let mut body = json!({"location": "northeurope", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": {"id": image}},
        "osProfile": {"computerName": "web", "adminUsername": "azureuser"},
    }});
    if let Some((k, v)) = extra {
        body[k] = v;
    }
    let vm = vm_id();
    let w = VmWrite {
        vm_id: &vm,
        tenant: "tenant-b",
        location: "northeurope",
        body: &body,
        is_create: true,
        existing_generation: None,
        cores_limit: None,
        cores_used: 0,
        size_restricted: false,
        now_ms: 1000,
    };
    validate_vm(&w, lookup).map(|_| ())
}

#[test]
fn a_version_encrypted_with_another_subscriptions_set_is_refused_in_the_vm_region_only() {
    let enc = json!({"osDiskImage": {"diskEncryptionSetId": des(SUB_A)}});
    let l = world(Some(plan()), Some(enc));
    let e = run(&l, &version_id(), None).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        format!(
            "Disk encryption set {} in Azure Compute Gallery {} belongs to subscription {SUB_A} and cannot be used with resource '' in subscription {SUB_B}",
            des(SUB_A),
            version_id()
        )
    );
    // "latest" of the definition resolves to the same version.
    assert_eq!(run(&l, &def_id(), None).unwrap_err().message, e.message);
    // A data disk's set counts too; a set in the VM's own subscription is fine.
    let data = json!({"dataDiskImages": [{"lun": 0, "diskEncryptionSetId": des(SUB_A)}]});
    assert!(run(&world(Some(plan()), Some(data)), &version_id(), None).is_err());
    let own = json!({"osDiskImage": {"diskEncryptionSetId": des(SUB_B)}});
    run(&world(Some(plan()), Some(own)), &version_id(), None).unwrap();
}

#[test]
fn a_source_plan_the_definition_lacks_is_refused_with_both_plans() {
    let l = world(None, None);
    let e = run(&l, &version_id(), None).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        format!(
            "The resource with id {} has a different plan ['{{\"name\":\"cis-ubuntu2204-l1\",\"publisher\":\"center-for-internet-security-inc\",\"product\":\"cis-ubuntu-linux-2204-l1\",\"promotionCode\":\"\"}}'] than the parent gallery image plan ['null']",
            vm_id()
        )
    );
    // The definition carrying the same plan (any casing) fits.
    let mut upper = plan();
    upper["name"] = json!("CIS-Ubuntu2204-L1");
    run(&world(Some(upper), None), &version_id(), None).unwrap();
    // A plan the VM sends itself is compared too.
    let other = json!({"name": "x", "publisher": "y", "product": "z"});
    let e = run(
        &world(Some(plan()), None),
        &version_id(),
        Some(("plan", other)),
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("than the parent gallery image plan ['{\"name\":\"cis-ubuntu2204-l1\""),
        "{}",
        e.message
    );
}

#[test]
fn a_restricted_size_is_refused_after_the_image_checks_and_before_the_quota() {
    let l = world(Some(plan()), None);
    let body = json!({"location": "northeurope", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": {"id": version_id()}},
        "osProfile": {"computerName": "web", "adminUsername": "azureuser"},
    }});
    let vm = vm_id();
    let w = VmWrite {
        vm_id: &vm,
        tenant: "tenant-b",
        location: "northeurope",
        body: &body,
        is_create: true,
        existing_generation: None,
        cores_limit: Some(0),
        cores_used: 0,
        size_restricted: true,
        now_ms: 1000,
    };
    let e = validate_vm(&w, &l).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "NotAvailableForSubscription")
    );
    assert_eq!(
        e.message,
        "This size is currently unavailable in this location for this subscription"
    );
}
