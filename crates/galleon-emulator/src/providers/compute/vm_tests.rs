//! VM and disk documents: read-only fields, implicit OS disk, instance view.

use serde_json::json;

use super::*;

fn vm_id() -> ArmId {
    ArmId::parse(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web",
    )
    .unwrap()
}

fn body() -> Value {
    json!({"location": "North Europe", "tags": {"app": "web"}, "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": {"id": "/subscriptions/a/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"}},
        "osProfile": {"adminUsername": "azureuser", "adminPassword": "hunter2"},
        "networkProfile": {"networkInterfaces": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/web-nic"}]},
    }})
}

fn facts() -> ImageFacts {
    ImageFacts {
        reference: "/subscriptions/a/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0".into(),
        os_state: "Generalized".into(),
        generation: 2,
        security_type: None,
    }
}

#[test]
fn create_adds_read_only_fields_and_an_os_disk() {
    let (vm, disk) = vm_put(&vm_id(), &body(), None, Some(&facts()), 0).unwrap();
    let p = &vm["properties"];
    assert_eq!(vm["location"], "northeurope");
    assert!(uuid::Uuid::parse_str(p["vmId"].as_str().unwrap()).is_ok());
    assert!(
        p["osProfile"].get("adminPassword").is_none(),
        "secrets are never returned"
    );
    assert_eq!(p["osProfile"]["computerName"], "web");
    assert_eq!(
        p["osProfile"]["linuxConfiguration"]["provisionVMAgent"],
        true
    );
    let os = &p["storageProfile"]["osDisk"];
    assert!(os["name"].as_str().unwrap().starts_with("web_OsDisk_1_"));
    assert_eq!(os["createOption"], "FromImage");
    let disk = disk.unwrap();
    assert_eq!(disk["id"], os["managedDisk"]["id"]);
    assert_eq!(disk["managedBy"], vm["id"]);
    assert_eq!(disk["properties"]["hyperVGeneration"], "V2");
    assert_eq!(
        disk["properties"]["creationData"]["galleryImageReference"]["id"],
        facts().reference
    );
}

#[test]
fn update_keeps_identity_fields_and_rejects_image_change() {
    let (vm, _) = vm_put(&vm_id(), &body(), None, Some(&facts()), 0).unwrap();
    let mut b = body();
    b["tags"] = json!({"app": "web2"});
    let (again, disk) = vm_put(&vm_id(), &b, Some(&vm), None, 10).unwrap();
    assert!(disk.is_none());
    assert_eq!(again["properties"]["vmId"], vm["properties"]["vmId"]);
    assert_eq!(
        again["properties"]["storageProfile"]["osDisk"]["name"],
        vm["properties"]["storageProfile"]["osDisk"]["name"]
    );
    b["properties"]["storageProfile"]["imageReference"]["id"] = json!("/subscriptions/a/x");
    let e = vm_put(&vm_id(), &b, Some(&vm), None, 10).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "PropertyChangeNotAllowed")
    );
}

#[test]
fn instance_view_reports_power_state() {
    let (mut vm, _) = vm_put(&vm_id(), &body(), None, Some(&facts()), 0).unwrap();
    vm["properties"]["provisioningState"] = json!("Succeeded");
    let shown = with_instance_view(&vm, 0);
    let statuses = shown["properties"]["instanceView"]["statuses"]
        .as_array()
        .unwrap();
    assert!(statuses.iter().any(|s| s["code"] == "PowerState/running"));
    assert_eq!(
        shown["properties"]["instanceView"]["hyperVGeneration"],
        "V2"
    );
    assert!(shown.get(PRIVATE).is_none());
    vm["properties"]["provisioningState"] = json!("Creating");
    let shown = with_instance_view(&vm, 0);
    assert_eq!(
        shown["properties"]["instanceView"]["statuses"][1]["code"],
        "PowerState/starting"
    );
}

#[test]
fn disks_need_creation_data() {
    let id =
        ArmId::parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1")
            .unwrap();
    assert_eq!(
        disk_put(&id, &json!({"location": "westeurope"}), None, 0)
            .unwrap_err()
            .status,
        400
    );
    let d = disk_put(
        &id,
        &json!({"location": "westeurope", "sku": {"name": "Premium_LRS"},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8}}),
        None,
        0,
    )
    .unwrap();
    assert_eq!(d["properties"]["diskState"], "Unattached");
    assert_eq!(d["sku"]["tier"], "Premium");
}
