//! The Compute RP's synchronous validation of a VM PUT, in the order of the decision table in
//! arm-errors.md §8 (rows 13-18): the image must exist and be replicated to the VM's region, the
//! osProfile must fit the image's OS state, the size must boot the image's Hyper-V generation, the
//! security types must agree, the size must exist, and the cores must fit the regional quota.
//! Each failure is the exact code and message Compute returns (arm-errors.md §4), and nothing is
//! created when one fails.

use serde_json::Value;

use super::gallery::{self, RegionState};
use super::{image_terms, restrictions, sizes};
pub use crate::providers::rp::Lookup;
use crate::providers::rp::{ArmId, RpError, normalize_location};

/// What the caller knows about the VM being written.
#[derive(Debug, Clone)]
pub struct VmWrite<'a> {
    /// The VM's id as addressed.
    pub vm_id: &'a str,
    /// Tenant owning the VM's subscription (direct shared galleries may be shared by tenant).
    pub tenant: &'a str,
    /// The VM's location, as the caller spelled it (quota messages keep that casing).
    pub location: &'a str,
    /// The merged VM document (for a PATCH: the stored VM with the patch applied).
    pub body: &'a Value,
    /// `true` for a create; image and osProfile are only checked when the VM is created.
    pub is_create: bool,
    /// Hyper-V generation of an existing VM (updates re-check a size change against it).
    pub existing_generation: Option<u8>,
    /// Regional cores limit for the subscription (`None` = unlimited).
    pub cores_limit: Option<u32>,
    /// Cores used in the subscription and region by other VMs (not this one).
    pub cores_used: u32,
    /// The subscription may not deploy this size in this region (`restrictions`).
    pub size_restricted: bool,
    /// Emulator clock, for replication progress.
    pub now_ms: i64,
}

/// The image a VM will boot, as far as Compute's checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    /// The id the VM referenced, normalised as Compute echoes it.
    pub reference: String,
    /// `Generalized` or `Specialized`.
    pub os_state: String,
    /// Hyper-V generation 1 or 2.
    pub generation: u8,
    /// The image definition's `SecurityType` feature, if any.
    pub security_type: Option<String>,
}

/// Runs every Compute check on a VM write.
///
/// # Errors
/// The first failing check, as Compute reports it.
pub fn validate_vm(w: &VmWrite<'_>, lookup: &dyn Lookup) -> Result<Option<ImageFacts>, RpError> {
    let props = &w.body["properties"];
    let image = if w.is_create {
        let image = resolve_image(w, lookup)?;
        if let Some(image) = &image {
            check_os_profile(image, props)?;
            image_terms::check(w, lookup)?;
        }
        image
    } else {
        None
    };
    let size_name = props["hardwareProfile"]["vmSize"].as_str().unwrap_or("");
    let size = sizes::find(size_name);
    let generation = image
        .as_ref()
        .map(|i| i.generation)
        .or(w.existing_generation);
    if let (Some(generation), Some(size)) = (generation, size)
        && !size.boots(generation)
    {
        return Err(RpError::service(
            400,
            "BadRequest",
            gen_message(size.name, generation),
        ));
    }
    if let Some(image) = &image {
        check_security(image, props, size)?;
    }
    let Some(size) = size else {
        let zones = w.body["zones"]
            .as_array()
            .map(|z| {
                z.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let sub = ArmId::parse(w.vm_id)
            .map(|i| i.subscription)
            .unwrap_or_default();
        return Err(RpError::service(
            409,
            "SkuNotAvailable",
            format!(
                "The requested size for resource '{}' is currently not available in location '{}' zones '{}' for subscription '{}'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details.",
                w.vm_id,
                normalize_location(w.location),
                zones,
                sub
            ),
        ));
    };
    if w.size_restricted {
        return Err(restrictions::not_available_for_subscription());
    }
    if let Some(limit) = w.cores_limit
        && w.cores_used + size.cores > limit
    {
        return Err(quota_error(w, limit, size.cores));
    }
    Ok(image)
}

/// arm-errors.md §4.3, verbatim.
fn gen_message(size: &str, generation: u8) -> String {
    format!(
        "The selected VM size '{size}' cannot boot Hypervisor Generation '{generation}'. If this was a Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor Generation of the selected VM Size. If this was an Update operation please select a Hypervisor Generation '{generation}' VM Size. For more information, see https://aka.ms/azuregen2vm"
    )
}

/// arm-errors.md §4.6: 409 OperationNotAllowed with the portal link; the JSON in the link is
/// simplified (not URL-encoded exactly as Azure does) since no client parses it.
fn quota_error(w: &VmWrite<'_>, limit: u32, extra: u32) -> RpError {
    let sub = ArmId::parse(w.vm_id)
        .map(|i| i.subscription)
        .unwrap_or_default();
    let needed = w.cores_used + extra;
    RpError::service(
        409,
        "OperationNotAllowed",
        format!(
            "Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, Location: {loc}, Current Limit: {limit}, Current Usage: {used}, Additional Required: {extra}, (Minimum) New Limit Required: {needed}. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/%7B%22subscriptionId%22:%22{sub}%22,%22command%22:%22openQuotaApprovalBlade%22%7D by specifying parameters listed in the ‘Details’ section for deployment to succeed. Please read more about quota limits at https://docs.microsoft.com/en-us/azure/azure-supportability/regional-quota-requests",
            loc = w.location,
            used = w.cores_used,
        ),
    )
}

/// The GalleryImageNotFound error; the message value really is wrapped in literal quotes
/// (arm-errors.md §4.1, three independent captures).
pub fn gallery_image_not_found(reference: &str, location: &str) -> RpError {
    RpError::service(
        404,
        "GalleryImageNotFound",
        format!(
            "\"The gallery image {reference} is not available in {} region. Please contact image owner to replicate to this region, or change your requested region.\"",
            normalize_location(location)
        ),
    )
    .with_target("imageReference")
}

/// Finds the image the VM references and checks it can be used in the VM's region.
fn resolve_image(w: &VmWrite<'_>, lookup: &dyn Lookup) -> Result<Option<ImageFacts>, RpError> {
    let image_ref = &w.body["properties"]["storageProfile"]["imageReference"];
    if let Some(shared) = image_ref["sharedGalleryImageId"].as_str() {
        return resolve_shared(w, shared, lookup).map(Some);
    }
    let Some(raw) = image_ref["id"].as_str() else {
        // Platform and community references are not modelled: Compute accepts them here and
        // the VM is created from them as-is.
        return Ok(None);
    };
    let Some(id) = ArmId::parse(raw) else {
        return Err(RpError::gateway(
            400,
            "LinkedInvalidPropertyId",
            format!(
                "Property id '{raw}' at path 'properties.storageProfile.imageReference.id' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or '/providers/{{resourceProviderNamespace}}/'."
            ),
        ));
    };
    let region = normalize_location(w.location);
    if id.is_type("Microsoft.Compute/images") {
        // A managed image: must exist and live in the VM's region (Compute cannot copy it).
        let image = lookup.get(raw).filter(|img| {
            img["location"].as_str().map(normalize_location).as_deref() == Some(region.as_str())
        });
        let Some(image) = image else {
            return Err(RpError::service(
                404,
                "NotFound",
                format!("The Image '{raw}' cannot be found in '{region}' region."),
            )
            .with_target("imageReference"));
        };
        let p = &image["properties"];
        return Ok(Some(ImageFacts {
            reference: raw.to_owned(),
            os_state: p["storageProfile"]["osDisk"]["osState"]
                .as_str()
                .unwrap_or("Generalized")
                .to_owned(),
            generation: generation_of(p["hyperVGeneration"].as_str()),
            security_type: None,
        }));
    }
    let (definition_id, version) = if id.is_type("Microsoft.Compute/galleries/images/versions") {
        let def = id.parent().expect("versions have a parent");
        (def, Some(id.clone()))
    } else if id.is_type("Microsoft.Compute/galleries/images") {
        (id.clone(), None)
    } else {
        return Err(RpError::service(
            400,
            "InvalidParameter",
            "The value of parameter imageReference is invalid.",
        )
        .with_target("imageReference"));
    };
    let not_found = || gallery_image_not_found(raw, w.location);
    let definition = lookup.get(&definition_id.to_id()).ok_or_else(not_found)?;
    let ready = |v: &Value| gallery::region_state(v, &region, w.now_ms) == RegionState::Completed;
    match version {
        Some(vid) => {
            let v = lookup.get(&vid.to_id()).ok_or_else(not_found)?;
            if !ready(&v) {
                return Err(not_found());
            }
        }
        None => {
            // "latest": the highest version not excluded from latest that is in the region
            // (arm-errors.md §4.8).
            let candidates = lookup.children(&definition_id.to_id(), "versions");
            let eligible = candidates.iter().any(|v| {
                !v["properties"]["publishingProfile"]["excludeFromLatest"]
                    .as_bool()
                    .unwrap_or(false)
                    && ready(v)
            });
            if !eligible {
                return Err(not_found());
            }
        }
    }
    let p = &definition["properties"];
    Ok(Some(ImageFacts {
        reference: raw.to_owned(),
        os_state: p["osState"].as_str().unwrap_or("Generalized").to_owned(),
        generation: generation_of(p["hyperVGeneration"].as_str()),
        security_type: gallery::security_type(&definition),
    }))
}

/// A direct-shared reference `/SharedGalleries/{uniqueName}/Images/{i}/Versions/{v|latest}`:
/// usable when a gallery with that unique name is shared (permissions `Groups`) with the VM's
/// subscription or tenant; no auxiliary token is involved (share-gallery-direct.md: "No
/// additional access is required to consume images").
fn resolve_shared(
    w: &VmWrite<'_>,
    reference: &str,
    lookup: &dyn Lookup,
) -> Result<ImageFacts, RpError> {
    let not_found = || gallery_image_not_found(reference, w.location);
    let parts: Vec<&str> = reference.trim_start_matches('/').split('/').collect();
    let [kind, unique, images, image, versions, version] = parts[..] else {
        return Err(not_found());
    };
    if !kind.eq_ignore_ascii_case("SharedGalleries")
        || !images.eq_ignore_ascii_case("Images")
        || !versions.eq_ignore_ascii_case("Versions")
    {
        return Err(not_found());
    }
    let sub = ArmId::parse(w.vm_id)
        .map(|i| i.subscription)
        .unwrap_or_default();
    let shared_with_me = |g: &Value| {
        let p = &g["properties"]["sharingProfile"];
        p["permissions"]
            .as_str()
            .is_some_and(|x| x.eq_ignore_ascii_case("Groups"))
            && p["groups"].as_array().into_iter().flatten().any(|grp| {
                let want = match grp["type"].as_str() {
                    Some(t) if t.eq_ignore_ascii_case("Subscriptions") => sub.as_str(),
                    Some(t) if t.eq_ignore_ascii_case("AADTenants") => w.tenant,
                    _ => return false,
                };
                grp["ids"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|i| i.as_str().is_some_and(|i| i.eq_ignore_ascii_case(want)))
            })
    };
    let gallery = lookup
        .all_of_type("Microsoft.Compute/galleries")
        .into_iter()
        .find(|g| {
            g["properties"]["identifier"]["uniqueName"]
                .as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(unique))
                && shared_with_me(g)
        })
        .ok_or_else(not_found)?;
    let gid = gallery["id"].as_str().unwrap_or_default();
    let def_id = format!("{gid}/images/{image}");
    let target = if version.eq_ignore_ascii_case("latest") {
        def_id.clone()
    } else {
        format!("{def_id}/versions/{version}")
    };
    let mut body = w.body.clone();
    body["properties"]["storageProfile"]["imageReference"] = serde_json::json!({ "id": target });
    let inner = VmWrite {
        body: &body,
        ..w.clone()
    };
    let mut facts = resolve_image(&inner, lookup)
        .map_err(|_| not_found())?
        .ok_or_else(not_found)?;
    facts.reference = reference.to_owned();
    Ok(facts)
}

fn generation_of(hv: Option<&str>) -> u8 {
    match hv {
        Some(g) if g.eq_ignore_ascii_case("V2") => 2,
        _ => 1,
    }
}

/// arm-errors.md §4.2.
fn check_os_profile(image: &ImageFacts, props: &Value) -> Result<(), RpError> {
    let has_profile = props.get("osProfile").is_some_and(|p| !p.is_null());
    let specialized = image.os_state.eq_ignore_ascii_case("Specialized");
    if specialized && has_profile {
        return Err(RpError::service(
            400,
            "InvalidParameter",
            "Parameter 'osProfile' is not allowed.",
        )
        .with_target("osProfile"));
    }
    if !specialized && !has_profile {
        return Err(RpError::service(
            400,
            "InvalidParameter",
            "Required parameter 'osProfile' is missing (null).",
        )
        .with_target("osProfile"));
    }
    Ok(())
}

/// arm-errors.md §4.4. Only the TrustedLaunch message is confirmed verbatim; the ConfidentialVM
/// and "does not support" variants follow the same template [R].
fn check_security(
    image: &ImageFacts,
    props: &Value,
    size: Option<&sizes::VmSize>,
) -> Result<(), RpError> {
    let vm_type = props["securityProfile"]["securityType"]
        .as_str()
        .unwrap_or("Standard");
    let image_type = image.security_type.as_deref().unwrap_or("Standard");
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let only = |t: &str| {
        RpError::service(
            400,
            "BadRequest",
            format!(
                "The provided gallery image only supports creation of VMs and VM Scale Sets with '{t}' security type."
            ),
        )
    };
    let unsupported = || {
        RpError::service(
            400,
            "BadRequest",
            format!(
                "The provided gallery image does not support creation of VMs and VM Scale Sets with '{vm_type}' security type."
            ),
        )
    };
    let allowed: &[&str] = match image_type {
        t if eq(t, "TrustedLaunch") => {
            if !eq(vm_type, "TrustedLaunch") {
                return Err(only("TrustedLaunch"));
            }
            &[]
        }
        t if eq(t, "ConfidentialVM") => {
            if !eq(vm_type, "ConfidentialVM") {
                return Err(only("ConfidentialVM"));
            }
            &[]
        }
        t if eq(t, "TrustedLaunchSupported") => &["Standard", "TrustedLaunch"],
        t if eq(t, "ConfidentialVmSupported") => &["Standard", "ConfidentialVM"],
        t if eq(t, "TrustedLaunchAndConfidentialVmSupported") => {
            &["Standard", "TrustedLaunch", "ConfidentialVM"]
        }
        // A plain Gen2 image boots TrustedLaunch too only when the definition says so.
        _ => &["Standard"],
    };
    if !allowed.is_empty() && !allowed.iter().any(|a| eq(a, vm_type)) {
        return Err(unsupported());
    }
    if eq(vm_type, "ConfidentialVM") && size.is_some_and(|s| !s.confidential) {
        return Err(RpError::service(
            400,
            "BadRequest",
            format!(
                "The VM size '{}' is not supported for creation of VMs and Virtual Machine Scale Set with 'ConfidentialVM' security type.",
                size.map(|s| s.name).unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
