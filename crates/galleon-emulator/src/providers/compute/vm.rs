//! Virtual machines and managed disks (ComputeRP / DiskRP): the documents Compute stores and
//! returns, including the read-only fields a client diff must learn to ignore (`vmId`, OS disk
//! name and id, osProfile defaults, `timeCreated`), the OS disk Compute creates implicitly, and
//! `$expand=instanceView` power states. Shapes from specification/compute/resource-manager/
//! Microsoft.Compute/ComputeRP/stable/2025-04-01/examples/virtualMachineExamples/
//! VirtualMachine_Create_FromASharedGalleryImage.json and VirtualMachine_Get_InstanceView.json,
//! and DiskRP/stable/2025-01-02/examples/diskExamples/Disk_Get.json.

use serde_json::{Value, json};

use super::checks::ImageFacts;
use super::gallery::{PRIVATE, rfc3339};
use crate::providers::rp::{ArmId, RpError, normalize_location};

/// Properties Compute refuses to change on an existing VM (a client must replace the VM).
const IMMUTABLE: &[(&str, &str)] = &[
    ("storageProfile", "imageReference"),
    ("osProfile", "adminUsername"),
    ("osProfile", "computerName"),
];

/// The stored document for `PUT .../virtualMachines/{vm}` plus, on create, the implicit OS disk.
///
/// # Errors
/// 400 when location is missing; 409 `PropertyChangeNotAllowed` for an immutable change.
pub fn vm_put(
    id: &ArmId,
    body: &Value,
    existing: Option<&Value>,
    image: Option<&ImageFacts>,
    now_ms: i64,
) -> Result<(Value, Option<Value>), RpError> {
    let location = body["location"]
        .as_str()
        .or_else(|| existing.and_then(|e| e["location"].as_str()))
        .ok_or_else(|| {
            RpError::gateway(
                400,
                "LocationRequired",
                "The location property is required for this definition.",
            )
        })?;
    let name = id.name().unwrap_or_default();
    let mut props = body["properties"].clone();
    if let Some(old) = existing {
        for (a, b) in IMMUTABLE {
            let new = &props[*a][*b];
            if !new.is_null() && *new != old["properties"][*a][*b] {
                return Err(RpError::service(
                    409,
                    "PropertyChangeNotAllowed",
                    format!("Changing property '{b}' is not allowed."),
                )
                .with_target(b));
            }
        }
    }
    let old_props = existing
        .map(|e| e["properties"].clone())
        .unwrap_or(Value::Null);
    props["vmId"] = old_props
        .get("vmId")
        .cloned()
        .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()));
    props["timeCreated"] = old_props
        .get("timeCreated")
        .cloned()
        .unwrap_or_else(|| json!(rfc3339(now_ms)));
    if let Some(os) = props.get_mut("osProfile").filter(|o| o.is_object()) {
        // Azure never returns secrets it was given.
        if let Some(o) = os.as_object_mut() {
            o.remove("adminPassword");
            o.remove("customData");
        }
        if os["computerName"].is_null() {
            os["computerName"] = json!(name);
        }
        os["secrets"] = os.get("secrets").cloned().unwrap_or_else(|| json!([]));
        if os["allowExtensionOperations"].is_null() {
            os["allowExtensionOperations"] = json!(true);
        }
        if os["requireGuestProvisionSignal"].is_null() {
            os["requireGuestProvisionSignal"] = json!(true);
        }
        if os["windowsConfiguration"].is_null() {
            let lc = &mut os["linuxConfiguration"];
            if lc.is_null() {
                *lc = json!({});
            }
            if lc["disablePasswordAuthentication"].is_null() {
                lc["disablePasswordAuthentication"] = json!(false);
            }
            if lc["provisionVMAgent"].is_null() {
                lc["provisionVMAgent"] = json!(true);
            }
            if lc["patchSettings"].is_null() {
                lc["patchSettings"] =
                    json!({"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"});
            }
        }
    }
    let storage = &mut props["storageProfile"];
    if storage.is_null() {
        *storage = json!({});
    }
    if storage["dataDisks"].is_null() {
        storage["dataDisks"] = json!([]);
    }
    let old_os = &old_props["storageProfile"]["osDisk"];
    let os = &mut storage["osDisk"];
    if os.is_null() {
        *os = json!({});
    }
    let disk_name = os["name"]
        .as_str()
        .or_else(|| old_os["name"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{name}_OsDisk_1_{}", uuid::Uuid::new_v4().simple()));
    os["name"] = json!(disk_name);
    for (k, v) in [
        ("createOption", json!("FromImage")),
        ("caching", json!("ReadWrite")),
        ("deleteOption", json!("Detach")),
        ("osType", json!("Linux")),
        ("diskSizeGB", json!(30)),
    ] {
        if os[k].is_null() {
            os[k] = old_os.get(k).cloned().unwrap_or(v);
        }
    }
    let disk_id = id
        .parent_scope()
        .child_of("Microsoft.Compute", "disks", &disk_name)
        .to_id();
    let md = &mut os["managedDisk"];
    if md.is_null() {
        *md = json!({});
    }
    md["id"] = json!(disk_id);
    if md["storageAccountType"].is_null() {
        md["storageAccountType"] = json!("Premium_LRS");
    }
    let os_snapshot = os.clone();
    let loc = normalize_location(location);
    let mut doc = json!({
        "id": id.to_id(),
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": loc,
        "tags": body.get("tags").cloned().unwrap_or_else(|| json!({})),
        "properties": props,
    });
    if let Some(z) = body.get("zones") {
        doc["zones"] = z.clone();
    }
    if let Some(i) = body.get("identity") {
        doc["identity"] = i.clone();
    }
    let generation = image
        .map(|i| format!("V{}", i.generation))
        .or_else(|| {
            existing.and_then(|e| e[PRIVATE]["hyperVGeneration"].as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "V1".to_owned());
    doc[PRIVATE] = json!({ "hyperVGeneration": generation });
    let disk = existing.is_none().then(|| {
        let sku = os_snapshot["managedDisk"]["storageAccountType"].clone();
        let mut creation = json!({"createOption": "FromImage"});
        if let Some(img) = image {
            let key = if ArmId::parse(&img.reference)
                .is_some_and(|a| a.is_type("Microsoft.Compute/images"))
            {
                "imageReference"
            } else {
                "galleryImageReference"
            };
            creation[key] = json!({"id": img.reference});
        }
        let mut d = json!({
            "id": disk_id,
            "name": disk_name,
            "type": "Microsoft.Compute/disks",
            "location": loc,
            "managedBy": id.to_id(),
            "sku": {"name": sku, "tier": if sku.as_str().is_some_and(|s| s.starts_with("Premium")) { "Premium" } else { "Standard" }},
            "tags": {},
            "properties": {
                "osType": os_snapshot["osType"],
                "hyperVGeneration": format!("V{}", image.map_or(1, |i| i.generation)),
                "creationData": creation,
                "diskSizeGB": os_snapshot["diskSizeGB"],
                "diskState": "Attached",
                "provisioningState": "Succeeded",
                "timeCreated": rfc3339(now_ms),
                "uniqueId": uuid::Uuid::new_v4().to_string(),
            },
        });
        if let Some(z) = body.get("zones") {
            d["zones"] = z.clone();
        }
        d
    });
    Ok((doc, disk))
}

/// The stored document for `PUT .../disks/{d}` (an empty or copied data disk).
///
/// # Errors
/// 400 when location or `creationData` is missing.
pub fn disk_put(
    id: &ArmId,
    body: &Value,
    existing: Option<&Value>,
    now_ms: i64,
) -> Result<Value, RpError> {
    let location = body["location"]
        .as_str()
        .or_else(|| existing.and_then(|e| e["location"].as_str()))
        .ok_or_else(|| {
            RpError::gateway(
                400,
                "LocationRequired",
                "The location property is required for this definition.",
            )
        })?;
    let mut props = body["properties"].clone();
    if props["creationData"].is_null() {
        return Err(RpError::service(
            400,
            "InvalidParameter",
            "Required parameter 'creationData' is missing (null).",
        )
        .with_target("creationData"));
    }
    let old = existing
        .map(|e| e["properties"].clone())
        .unwrap_or(Value::Null);
    props["diskState"] = old
        .get("diskState")
        .cloned()
        .unwrap_or_else(|| json!("Unattached"));
    props["timeCreated"] = old
        .get("timeCreated")
        .cloned()
        .unwrap_or_else(|| json!(rfc3339(now_ms)));
    props["uniqueId"] = old
        .get("uniqueId")
        .cloned()
        .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()));
    props["provisioningState"] = json!("Succeeded");
    let sku = body["sku"]["name"].as_str().unwrap_or("Standard_LRS");
    let mut doc = json!({
        "id": id.to_id(),
        "name": id.name().unwrap_or_default(),
        "type": "Microsoft.Compute/disks",
        "location": normalize_location(location),
        "sku": {"name": sku, "tier": if sku.starts_with("Premium") { "Premium" } else { "Standard" }},
        "tags": body.get("tags").cloned().unwrap_or_else(|| json!({})),
        "properties": props,
    });
    if let Some(m) = existing.and_then(|e| e.get("managedBy")) {
        doc["managedBy"] = m.clone();
    }
    Ok(doc)
}

/// Adds `properties.instanceView` as `$expand=instanceView` does: `az vm create` reads the
/// `PowerState/*` status from it.
pub fn with_instance_view(vm: &Value, now_ms: i64) -> Value {
    let mut out = vm.clone();
    let p = &vm["properties"];
    let state = p["provisioningState"].as_str().unwrap_or("Succeeded");
    let succeeded = state.eq_ignore_ascii_case("Succeeded");
    let power = vm[PRIVATE]["powerState"].as_str().unwrap_or(if succeeded {
        "running"
    } else {
        "starting"
    });
    let ts = rfc3339(now_ms);
    let statuses = json!([
        {
            "code": format!("ProvisioningState/{}", state.to_ascii_lowercase()),
            "level": "Info",
            "displayStatus": format!("Provisioning {}", state.to_ascii_lowercase()),
            "time": ts,
        },
        {
            "code": format!("PowerState/{power}"),
            "level": "Info",
            "displayStatus": format!("VM {power}"),
        }
    ]);
    let os_disk = &p["storageProfile"]["osDisk"];
    out["properties"]["instanceView"] = json!({
        "computerName": p["osProfile"]["computerName"].clone(),
        "osName": if os_disk["osType"] == "Windows" { "Windows" } else { "ubuntu" },
        "hyperVGeneration": vm[PRIVATE]["hyperVGeneration"].as_str().unwrap_or("V1"),
        "vmAgent": {"vmAgentVersion": "2.7.41491.1102", "statuses": [{
            "code": "ProvisioningState/succeeded", "level": "Info",
            "displayStatus": "Ready", "message": "Guest Agent is running", "time": ts,
        }]},
        "disks": [{"name": os_disk["name"], "statuses": [{
            "code": "ProvisioningState/succeeded", "level": "Info",
            "displayStatus": "Provisioning succeeded", "time": ts,
        }]}],
        "statuses": statuses,
    });
    strip_private(&mut out);
    out
}

/// Removes the private bookkeeping of a stored document.
pub fn strip_private(doc: &mut Value) {
    if let Some(o) = doc.as_object_mut() {
        o.remove(PRIVATE);
    }
}

impl ArmId {
    /// The scope this resource lives in (subscription and resource group, no provider part).
    pub fn parent_scope(&self) -> ArmId {
        ArmId {
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
            namespace: None,
            segments: Vec::new(),
        }
    }

    /// A top-level resource of `namespace/ty` named `name` in this scope.
    pub fn child_of(&self, namespace: &str, ty: &str, name: &str) -> ArmId {
        ArmId {
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
            namespace: Some(namespace.to_owned()),
            segments: vec![(ty.to_owned(), name.to_owned())],
        }
    }
}

#[cfg(test)]
#[path = "vm_tests.rs"]
mod tests;
