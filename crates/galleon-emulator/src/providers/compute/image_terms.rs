//! Two refusals of a VM created from a gallery image that depend on how the version was
//! published, not on the VM (arm-errors.md §5.1 rows 9 and 10, the troubleshooting article for
//! creating VMs from image versions):
//! - the version's replica in the VM's region is encrypted with a disk encryption set of another
//!   subscription than the VM's, which Compute will not use for a disk in the VM's subscription;
//! - the version's source carries a Marketplace purchase plan the image definition lacks, and a
//!   VM inherits its OS disk's plan, so it "has a different plan than the parent gallery image".
//!
//! The article gives only the messages (§5: "no HTTP status, no error.code"); both are answered
//! as 400 `BadRequest`, Compute's usual refusal of a request that cannot be honoured [R].

use serde_json::Value;

use super::checks::{Lookup, VmWrite};
use super::gallery::parse_version;
use crate::providers::rp::{ArmId, RpError, normalize_location};

/// Runs both checks against the version the VM's `imageReference.id` resolves to (for a
/// definition, the highest version not excluded from latest). Direct-shared references are
/// resolved elsewhere and not checked here.
///
/// # Errors
/// The first refusal.
pub fn check(w: &VmWrite<'_>, lookup: &dyn Lookup) -> Result<(), RpError> {
    let reference = w.body["properties"]["storageProfile"]["imageReference"]["id"].as_str();
    let Some(id) = reference.and_then(ArmId::parse) else {
        return Ok(());
    };
    let (definition, version) = if id.is_type("Microsoft.Compute/galleries/images/versions") {
        let def = id.parent().expect("versions have a parent").to_id();
        (lookup.get(&def), lookup.get(&id.to_id()))
    } else if id.is_type("Microsoft.Compute/galleries/images") {
        (lookup.get(&id.to_id()), latest(lookup, &id.to_id()))
    } else {
        return Ok(());
    };
    let (Some(definition), Some(version)) = (definition, version) else {
        return Ok(());
    };
    check_encryption(w, &version)?;
    check_plan(w, &definition, &version, lookup)
}

fn latest(lookup: &dyn Lookup, definition: &str) -> Option<Value> {
    lookup
        .children(definition, "versions")
        .into_iter()
        .filter(|v| {
            !v["properties"]["publishingProfile"]["excludeFromLatest"]
                .as_bool()
                .unwrap_or(false)
        })
        .max_by_key(|v| v["name"].as_str().and_then(parse_version))
}

fn subscription_of(id: &str) -> String {
    ArmId::parse(id).map(|i| i.subscription).unwrap_or_default()
}

/// Row 9: "Disk encryption set <diskEncryptionSetID> in Azure Compute Gallery <versionID>
/// belongs to subscription <subscriptionID_1> and cannot be used with resource '' in
/// subscription <subscriptionID_2>" [V]. The set is the one of the replica in the VM's region
/// (each target region names its own, GalleryRP `EncryptionImages`).
fn check_encryption(w: &VmWrite<'_>, version: &Value) -> Result<(), RpError> {
    let region = normalize_location(w.location);
    let Some(target) = version["properties"]["publishingProfile"]["targetRegions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"].as_str().map(normalize_location).as_deref() == Some(&region))
    else {
        return Ok(());
    };
    let encryption = &target["encryption"];
    let sets = std::iter::once(&encryption["osDiskImage"]["diskEncryptionSetId"]).chain(
        encryption["dataDiskImages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| &d["diskEncryptionSetId"]),
    );
    let vm_sub = subscription_of(w.vm_id);
    for des in sets.filter_map(Value::as_str) {
        let des_sub = subscription_of(des);
        if !des_sub.eq_ignore_ascii_case(&vm_sub) {
            return Err(RpError::service(
                400,
                "BadRequest",
                format!(
                    "Disk encryption set {des} in Azure Compute Gallery {} belongs to subscription {des_sub} and cannot be used with resource '' in subscription {vm_sub}",
                    version["id"].as_str().unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// A purchase plan as the message prints it: `{"name":..,"publisher":..,"product":..,
/// "promotionCode":..}` in that order [V], or `null`.
fn plan_text(plan: Option<&Value>) -> String {
    let Some(p) = plan else {
        return "null".to_owned();
    };
    let field = |k: &str| serde_json::to_string(p[k].as_str().unwrap_or("")).unwrap_or_default();
    format!(
        "{{\"name\":{},\"publisher\":{},\"product\":{},\"promotionCode\":{}}}",
        field("name"),
        field("publisher"),
        field("product"),
        field("promotionCode")
    )
}

fn same_plan(a: &Value, b: &Value) -> bool {
    ["name", "publisher", "product"].iter().all(|k| {
        a[k].as_str()
            .unwrap_or("")
            .eq_ignore_ascii_case(b[k].as_str().unwrap_or(""))
    })
}

/// Row 10: "The resource with id <vmID> has a different plan ['{...}'] than the parent gallery
/// image plan ['null']" [V]. The VM's plan is the one it sends, else the one its OS disk
/// inherits from the version's source (a VM, disk or image made from a Marketplace image).
fn check_plan(
    w: &VmWrite<'_>,
    definition: &Value,
    version: &Value,
    lookup: &dyn Lookup,
) -> Result<(), RpError> {
    let sp = &version["properties"]["storageProfile"];
    let source = sp["source"]["id"]
        .as_str()
        .or_else(|| sp["source"]["virtualMachineId"].as_str())
        .or_else(|| sp["osDiskImage"]["source"]["id"].as_str())
        .and_then(|s| lookup.get(s));
    let inherited = source.and_then(|s| s.get("plan").filter(|p| p.is_object()).cloned());
    let vm_plan = w
        .body
        .get("plan")
        .filter(|p| p.is_object())
        .cloned()
        .or(inherited);
    let Some(vm_plan) = vm_plan else {
        return Ok(());
    };
    let parent = definition["properties"]
        .get("purchasePlan")
        .filter(|p| p.is_object());
    if parent.is_some_and(|p| same_plan(p, &vm_plan)) {
        return Ok(());
    }
    Err(RpError::service(
        400,
        "BadRequest",
        format!(
            "The resource with id {} has a different plan ['{}'] than the parent gallery image plan ['{}']",
            w.vm_id,
            plan_text(Some(&vm_plan)),
            plan_text(parent)
        ),
    ))
}

#[cfg(test)]
#[path = "image_terms_tests.rs"]
mod tests;
