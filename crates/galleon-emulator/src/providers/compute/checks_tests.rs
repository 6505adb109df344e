//! Compute's VM checks against seeded image definitions and versions, without a server.

use serde_json::{Value, json};

use super::*;
use crate::providers::compute::gallery::{self, PRIVATE};
use crate::providers::compute::test_lookup::MapLookup;

const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

fn def_id() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/g/images/ubuntu"
    )
}

fn world(os_state: &str, generation: &str, security: Option<&str>) -> MapLookup {
    let mut l = MapLookup::default();
    let mut def = json!({"id": def_id(), "location": "westeurope", "properties": {
        "osType": "Linux", "osState": os_state, "hyperVGeneration": generation,
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}});
    if let Some(s) = security {
        def["properties"]["features"] = json!([{"name": "SecurityType", "value": s}]);
    }
    l.put(def);
    l.put(json!({"id": format!("{}/versions/1.0.0", def_id()), "location": "westeurope",
        "type": "Microsoft.Compute/galleries/images/versions",
        "properties": {"publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]}},
        PRIVATE: {"replication": {"westeurope": 0, "northeurope": 500}}}));
    l
}

fn vm_body(image: &str, size: &str) -> Value {
    json!({"location": "northeurope", "properties": {
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {"imageReference": {"id": image}},
        "osProfile": {"computerName": "web", "adminUsername": "azureuser"},
        "securityProfile": {"securityType": "TrustedLaunch"},
    }})
}

fn run(body: &Value, lookup: &MapLookup, now: i64) -> Result<Option<ImageFacts>, RpError> {
    let vm_id = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    );
    let w = VmWrite {
        vm_id: &vm_id,
        tenant: "tenant-b",
        location: body["location"].as_str().unwrap(),
        body,
        is_create: true,
        existing_generation: None,
        cores_limit: Some(4),
        cores_used: 2,
        size_restricted: false,
        now_ms: now,
    };
    validate_vm(&w, lookup)
}

#[test]
fn valid_vm_passes_and_reports_the_image() {
    let l = world("Generalized", "V2", Some("TrustedLaunchSupported"));
    let image = run(
        &vm_body(&format!("{}/versions/1.0.0", def_id()), "Standard_D2s_v5"),
        &l,
        1000,
    )
    .unwrap()
    .unwrap();
    assert_eq!(image.generation, 2);
    assert_eq!(
        image.security_type.as_deref(),
        Some("TrustedLaunchSupported")
    );
}

#[test]
fn version_not_yet_replicated_to_the_region_is_gallery_image_not_found() {
    let l = world("Generalized", "V2", None);
    let v = format!("{}/versions/1.0.0", def_id());
    let mut body = vm_body(&v, "Standard_D2s_v5");
    body["properties"]["securityProfile"] = Value::Null;
    let e = run(&body, &l, 100).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (404, "GalleryImageNotFound"));
    assert_eq!(
        e.message,
        format!(
            "\"The gallery image {v} is not available in northeurope region. Please contact image owner to replicate to this region, or change your requested region.\""
        )
    );
    assert_eq!(e.target.as_deref(), Some("imageReference"));
    assert!(run(&body, &l, 600).is_ok());
    body["location"] = json!("eastus");
    assert_eq!(
        run(&body, &l, 600).unwrap_err().code,
        "GalleryImageNotFound"
    );
}

#[test]
fn missing_version_and_latest_resolution() {
    let l = world("Generalized", "V1", None);
    let mut body = vm_body(&format!("{}/versions/9.9.9", def_id()), "Standard_D2s_v5");
    body["properties"]["securityProfile"] = Value::Null;
    assert_eq!(
        run(&body, &l, 1000).unwrap_err().code,
        "GalleryImageNotFound"
    );
    body["properties"]["storageProfile"]["imageReference"]["id"] = json!(def_id());
    assert!(run(&body, &l, 1000).is_ok());
    let mut excluded = world("Generalized", "V1", None);
    let vid = format!("{}/versions/1.0.0", def_id());
    let mut v = excluded.get(&vid).unwrap();
    v["properties"]["publishingProfile"]["excludeFromLatest"] = json!(true);
    excluded.put(v);
    assert_eq!(
        run(&body, &excluded, 1000).unwrap_err().code,
        "GalleryImageNotFound"
    );
}

#[test]
fn os_profile_must_match_os_state() {
    let v = format!("{}/versions/1.0.0", def_id());
    let l = world("Specialized", "V1", None);
    let mut body = vm_body(&v, "Standard_D2s_v5");
    body["properties"]["securityProfile"] = Value::Null;
    let e = run(&body, &l, 1000).unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (400, "Parameter 'osProfile' is not allowed.")
    );
    body["properties"]["osProfile"] = Value::Null;
    assert!(run(&body, &l, 1000).is_ok());
    let l = world("Generalized", "V1", None);
    let e = run(&body, &l, 1000).unwrap_err();
    assert_eq!(
        e.message,
        "Required parameter 'osProfile' is missing (null)."
    );
    assert_eq!(e.target.as_deref(), Some("osProfile"));
}

#[test]
fn generation_must_match_the_size() {
    let v = format!("{}/versions/1.0.0", def_id());
    let l = world("Generalized", "V2", Some("TrustedLaunchSupported"));
    let e = run(&vm_body(&v, "Standard_A2_v2"), &l, 1000).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (400, "BadRequest"));
    assert!(e.message.starts_with(
        "The selected VM size 'Standard_A2_v2' cannot boot Hypervisor Generation '2'."
    ));
    let l = world("Generalized", "V1", None);
    let mut body = vm_body(&v, "Standard_D2s_v6");
    body["properties"]["securityProfile"] = Value::Null;
    let e = run(&body, &l, 1000).unwrap_err();
    assert!(e.message.contains("cannot boot Hypervisor Generation '1'"));
}

#[test]
fn security_type_must_match() {
    let v = format!("{}/versions/1.0.0", def_id());
    let l = world("Generalized", "V2", Some("TrustedLaunch"));
    let mut body = vm_body(&v, "Standard_D2s_v5");
    assert!(run(&body, &l, 1000).is_ok());
    body["properties"]["securityProfile"] = Value::Null;
    let e = run(&body, &l, 1000).unwrap_err();
    assert_eq!(
        e.message,
        "The provided gallery image only supports creation of VMs and VM Scale Sets with 'TrustedLaunch' security type."
    );
    let l = world("Generalized", "V2", None);
    let e = run(&vm_body(&v, "Standard_D2s_v5"), &l, 1000).unwrap_err();
    assert_eq!(e.code, "BadRequest");
}

#[test]
fn unknown_size_and_quota() {
    let v = format!("{}/versions/1.0.0", def_id());
    let l = world("Generalized", "V2", Some("TrustedLaunchSupported"));
    let e = run(&vm_body(&v, "Standard_Nope"), &l, 1000).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (409, "SkuNotAvailable"));
    assert!(e.message.contains(&format!("for subscription '{SUB_B}'")));
    let e = run(&vm_body(&v, "Standard_D4s_v5"), &l, 1000).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (409, "OperationNotAllowed"));
    assert!(
        e.message
            .contains("Current Limit: 4, Current Usage: 2, Additional Required: 4")
    );
}

#[test]
fn malformed_image_id_is_linked_invalid_property_id() {
    let l = world("Generalized", "V2", None);
    let e = run(&vm_body("not-an-id", "Standard_D2s_v5"), &l, 0).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (400, "LinkedInvalidPropertyId")
    );
}

#[test]
fn updates_skip_image_checks() {
    let l = MapLookup::default();
    let body = vm_body(&format!("{}/versions/1.0.0", def_id()), "Standard_D2s_v5");
    let vm_id =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web";
    let w = VmWrite {
        vm_id,
        tenant: "t",
        location: "northeurope",
        body: &body,
        is_create: false,
        existing_generation: None,
        cores_limit: None,
        cores_used: 0,
        size_restricted: false,
        now_ms: 0,
    };
    assert!(validate_vm(&w, &l).unwrap().is_none());
    let _ = gallery::RegionState::Completed;
}

#[test]
fn updates_recheck_a_size_change_against_the_vms_generation() {
    let l = MapLookup::default();
    let body = vm_body("unused", "Standard_A2_v2");
    let vm_id =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web";
    let w = VmWrite {
        vm_id,
        tenant: "t",
        location: "northeurope",
        body: &body,
        is_create: false,
        existing_generation: Some(2),
        cores_limit: None,
        cores_used: 0,
        size_restricted: false,
        now_ms: 0,
    };
    let e = validate_vm(&w, &l).unwrap_err();
    assert!(e.message.contains("cannot boot Hypervisor Generation '2'"));
}
