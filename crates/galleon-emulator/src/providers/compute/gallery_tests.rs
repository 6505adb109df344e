//! Gallery, image definition and version documents, sharing, and replication over time.

use serde_json::json;

use super::*;
use crate::providers::compute::test_lookup::MapLookup;

const SUB: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";

fn id(s: &str) -> ArmId {
    ArmId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/{s}"
    ))
    .unwrap()
}

fn lookup_with_source() -> MapLookup {
    let mut l = MapLookup::default();
    l.put(json!({"id": format!("/subscriptions/{SUB}/resourceGroups/build/providers/Microsoft.Compute/images/base"), "location": "westeurope"}));
    l
}

fn version_body() -> Value {
    json!({"location": "West Europe", "properties": {
        "storageProfile": {"source": {"id": format!("/subscriptions/{SUB}/resourceGroups/build/providers/Microsoft.Compute/images/base")}},
        "publishingProfile": {"targetRegions": [
            {"name": "West Europe", "regionalReplicaCount": 1},
            {"name": "northeurope", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"}
        ]}
    }})
}

#[test]
fn gallery_gets_unique_name_and_private_sharing_by_default() {
    let g = gallery_put(
        &id("galleries/golden_images"),
        &json!({"location": "westeurope"}),
        None,
    )
    .unwrap();
    assert_eq!(
        g["properties"]["identifier"]["uniqueName"],
        format!("{SUB}-GOLDEN_IMAGES")
    );
    assert_eq!(g["properties"]["sharingProfile"]["permissions"], "Private");
    assert_eq!(g["type"], "Microsoft.Compute/galleries");
}

#[test]
fn gallery_without_location_is_rejected() {
    let e = gallery_put(&id("galleries/g"), &json!({}), None).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (400, "LocationRequired"));
}

#[test]
fn share_add_remove_reset() {
    let body = json!({"location": "westeurope", "properties": {"sharingProfile": {"permissions": "Groups"}}});
    let mut g = gallery_put(&id("galleries/g"), &body, None).unwrap();
    share(
        &mut g,
        &json!({"operationType": "Add", "groups": [
        {"type": "Subscriptions", "ids": ["s1", "s2"]}, {"type": "AADTenants", "ids": ["t1"]}]}),
    )
    .unwrap();
    share(
        &mut g,
        &json!({"operationType": "Remove", "groups": [{"type": "Subscriptions", "ids": ["S1"]}]}),
    )
    .unwrap();
    let groups = &g["properties"]["sharingProfile"]["groups"];
    assert_eq!(groups[0], json!({"type": "Subscriptions", "ids": ["s2"]}));
    assert_eq!(groups[1], json!({"type": "AADTenants", "ids": ["t1"]}));
    // A later PUT of the gallery keeps the groups.
    let again = gallery_put(&id("galleries/g"), &body, Some(&g)).unwrap();
    assert_eq!(again["properties"]["sharingProfile"]["groups"], *groups);
    share(&mut g, &json!({"operationType": "Reset"})).unwrap();
    assert_eq!(
        g["properties"]["sharingProfile"],
        json!({"permissions": "Private"})
    );
}

#[test]
fn share_add_needs_a_groups_gallery() {
    let mut g = gallery_put(&id("galleries/g"), &json!({"location": "westeurope"}), None).unwrap();
    let e = share(&mut g, &json!({"operationType": "Add", "groups": []})).unwrap_err();
    assert_eq!(e.code, "InvalidParameter");
    let e = share(&mut g, &json!({"operationType": "Steal"})).unwrap_err();
    assert_eq!(e.status, 400);
}

#[test]
fn image_definition_defaults_and_immutable_fields() {
    let body = json!({"location": "westeurope", "properties": {"osType": "Linux", "osState": "Generalized",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}});
    let img = image_put(&id("galleries/g/images/u"), &body, None).unwrap();
    assert_eq!(img["properties"]["hyperVGeneration"], "V1");
    assert_eq!(img["properties"]["architecture"], "x64");
    let mut changed = body.clone();
    changed["properties"]["osState"] = json!("Specialized");
    let e = image_put(&id("galleries/g/images/u"), &changed, Some(&img)).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "PropertyChangeNotAllowed")
    );
    let mut missing = body;
    missing["properties"]["identifier"]["sku"] = Value::Null;
    let e = image_put(&id("galleries/g/images/u"), &missing, None).unwrap_err();
    assert_eq!(
        e.message,
        "Required parameter 'identifier.sku' is missing (null)."
    );
}

#[test]
fn version_replicates_region_by_region() {
    let l = lookup_with_source();
    let v = version_put(
        &id("galleries/g/images/u/versions/1.0.0"),
        &version_body(),
        None,
        &l,
        1000,
        100,
    )
    .unwrap();
    assert_eq!(
        region_state(&v, "westeurope", 1050),
        RegionState::Replicating
    );
    assert_eq!(
        region_state(&v, "West Europe", 1100),
        RegionState::Completed
    );
    assert_eq!(
        region_state(&v, "northeurope", 1150),
        RegionState::Replicating
    );
    assert_eq!(region_state(&v, "eastus", 5000), RegionState::NotTargeted);
    assert_eq!(replication_remaining_ms(&v, 1000), 200);
    let shown = present(&v, true, 1150);
    assert_eq!(shown["properties"]["provisioningState"], "Creating");
    assert_eq!(
        shown["properties"]["replicationStatus"]["aggregatedState"],
        "InProgress"
    );
    assert_eq!(
        shown["properties"]["replicationStatus"]["summary"][0]["state"],
        "Completed"
    );
    assert!(shown.get(PRIVATE).is_none());
    let done = present(&v, false, 1200);
    assert_eq!(done["properties"]["provisioningState"], "Succeeded");
    assert!(done["properties"].get("replicationStatus").is_none());
    let regions = &done["properties"]["publishingProfile"]["targetRegions"];
    assert_eq!(regions[0]["storageAccountType"], "Standard_LRS");
    assert_eq!(regions[1]["regionalReplicaCount"], 2);
    assert_eq!(
        done["properties"]["publishingProfile"]["excludeFromLatest"],
        false
    );
}

#[test]
fn failed_region_fails_the_version() {
    let l = lookup_with_source();
    let mut v = version_put(
        &id("galleries/g/images/u/versions/1.0.0"),
        &version_body(),
        None,
        &l,
        0,
        10,
    )
    .unwrap();
    fail_region(&mut v, "North Europe");
    let shown = present(&v, true, 1000);
    assert_eq!(shown["properties"]["provisioningState"], "Failed");
    assert_eq!(
        shown["properties"]["replicationStatus"]["aggregatedState"],
        "Failed"
    );
}

#[test]
fn version_rejects_bad_names_missing_sources_and_duplicate_regions() {
    let l = lookup_with_source();
    let e = version_put(
        &id("galleries/g/images/u/versions/latest"),
        &version_body(),
        None,
        &l,
        0,
        0,
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidParameter");
    let mut body = version_body();
    body["properties"]["storageProfile"]["source"]["id"] = json!(format!(
        "/subscriptions/{SUB}/resourceGroups/build/providers/Microsoft.Compute/images/nope"
    ));
    let e = version_put(
        &id("galleries/g/images/u/versions/1.0.0"),
        &body,
        None,
        &l,
        0,
        0,
    )
    .unwrap_err();
    assert_eq!(e.status, 404);
    let mut body = version_body();
    body["properties"]["publishingProfile"]["targetRegions"][1]["name"] = json!("westeurope");
    let e = version_put(
        &id("galleries/g/images/u/versions/1.0.0"),
        &body,
        None,
        &l,
        0,
        0,
    )
    .unwrap_err();
    assert!(e.message.starts_with("Duplicate regions"));
}

#[test]
fn a_failed_operation_fails_all_but_the_first_region() {
    let l = lookup_with_source();
    let mut v = version_put(
        &id("galleries/g/images/u/versions/1.0.0"),
        &version_body(),
        None,
        &l,
        0,
        10,
    )
    .unwrap();
    v["properties"]["provisioningState"] = json!("Failed");
    assert_eq!(region_state(&v, "westeurope", 1000), RegionState::Completed);
    assert_eq!(region_state(&v, "northeurope", 1000), RegionState::Failed);
    let shown = present(&v, true, 1000);
    assert_eq!(shown["properties"]["provisioningState"], "Failed");
    assert_eq!(
        shown["properties"]["replicationStatus"]["summary"][1]["state"],
        "Failed"
    );
}

#[test]
fn virtual_machine_sources_are_accepted() {
    let mut l = lookup_with_source();
    let vm = format!(
        "/subscriptions/{SUB}/resourceGroups/build/providers/Microsoft.Compute/virtualMachines/builder"
    );
    l.put(json!({"id": vm, "location": "westeurope"}));
    let mut body = version_body();
    body["properties"]["storageProfile"] = json!({"source": {"virtualMachineId": vm}});
    assert!(
        version_put(
            &id("galleries/g/images/u/versions/1.0.0"),
            &body,
            None,
            &l,
            0,
            0
        )
        .is_ok()
    );
}
