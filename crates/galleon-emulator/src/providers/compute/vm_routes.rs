//! HTTP routes of `Microsoft.Compute/virtualMachines`: the VM PUT runs, in order, ARM's linked
//! authorization (image, NICs; cross-tenant via auxiliary tokens), the network references, and
//! Compute's checks (image availability, osProfile, generation, security type, SKU, quota),
//! then stores the VM with its implicit OS disk and attaches the NICs. `$expand=instanceView`,
//! `.../instanceView` and power actions report power states.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::checks::{self, VmWrite};
use super::gallery::PRIVATE;
use super::routes::COMPUTE_VERSIONS;
use super::{restrictions, sizes, vm};
use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::lro::{self, Begin, Completion};
use crate::arm::registry::{Registry, ResourceType};
use crate::providers::glue::{self, StateLookup, full_doc, now_ms};
use crate::providers::network;
use crate::providers::rp::{ArmId, normalize_location};

const VM: &str = "Microsoft.Compute/virtualMachines";
const DISK: &str = "Microsoft.Compute/disks";

/// Registers VMs and their instance view.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        get: Some(get_vm),
        put: Some(put_vm),
        patch: Some(patch_vm),
        delete: Some(delete_vm),
        list: Some(list_vms),
        actions: &[
            ("start", start),
            ("powerOff", power_off),
            ("deallocate", deallocate),
            ("restart", start),
        ],
        ..ResourceType::new("Microsoft.Compute", "virtualMachines", COMPUTE_VERSIONS)
    });
    r.register(ResourceType {
        list: Some(instance_view),
        ..ResourceType::new(
            "Microsoft.Compute",
            "virtualMachines/instanceView",
            COMPUTE_VERSIONS,
        )
    });
}

fn present(doc: &Value, expand: bool, now: i64) -> Value {
    if expand {
        return vm::with_instance_view(doc, now);
    }
    let mut out = doc.clone();
    vm::strip_private(&mut out);
    out
}

fn get_vm(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let expand = req
        .query("$expand")
        .is_some_and(|e| e.eq_ignore_ascii_case("instanceView"));
    let now = now_ms(ctx.now);
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(present(&full_doc(r), expand, now)))
        .ok_or_else(|| glue::not_found(req))
}

fn instance_view(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let vm_id = req
        .path
        .raw
        .trim_end_matches("/instanceView")
        .trim_end_matches("/instanceview");
    let r = ctx
        .state
        .resource(vm_id)
        .ok_or_else(|| glue::not_found(req))?;
    let shown = vm::with_instance_view(&full_doc(r), now_ms(ctx.now));
    Ok(Reply::ok(shown["properties"]["instanceView"].clone()))
}

fn list_vms(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, VM, |r| {
        present(&full_doc(r), false, 0)
    }))
}

/// Cores limit and usage (other VMs) in the VM's subscription and region.
fn quota(ctx: &Ctx<'_>, id: &ArmId, location: &str) -> (Option<u32>, u32) {
    let region = normalize_location(location);
    let limit = ctx.state.subscription(&id.subscription).and_then(|s| {
        s.quotas
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("cores"))
            .and_then(|(_, by_region)| {
                by_region
                    .iter()
                    .find(|(r, _)| normalize_location(r) == region)
            })
            .map(|(_, n)| u32::try_from(*n).unwrap_or(u32::MAX))
    });
    let me = id.to_id().to_ascii_lowercase();
    let used = ctx
        .state
        .resources_of_type(&format!("/subscriptions/{}", id.subscription), VM)
        .filter(|r| r.id.to_ascii_lowercase() != me)
        .filter(|r| r.location().map(normalize_location).as_deref() == Some(region.as_str()))
        .filter_map(|r| {
            r.body["properties"]["hardwareProfile"]["vmSize"]
                .as_str()
                .and_then(sizes::find)
        })
        .map(|s| s.cores)
        .sum();
    (limit, used)
}

/// NICs named by the VM must exist in its region and not belong to another VM [R: Network's
/// InvalidResourceReference wording; NicInUse for a NIC of another VM].
fn check_nics(ctx: &Ctx<'_>, vm_id: &str, body: &Value, location: &str) -> Result<(), ArmError> {
    let region = normalize_location(location);
    for nic in body["properties"]["networkProfile"]["networkInterfaces"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(nid) = nic["id"].as_str() else {
            continue;
        };
        let found = ctx.state.resource(nid).filter(|r| {
            r.resource_type
                .eq_ignore_ascii_case("Microsoft.Network/networkInterfaces")
                && r.location().map(normalize_location).as_deref() == Some(region.as_str())
        });
        let Some(found) = found else {
            return Err(ArmError::service(
                StatusCode::BAD_REQUEST,
                "InvalidResourceReference",
                format!(
                    "Resource {nid} referenced by resource {vm_id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
                ),
            ));
        };
        if let Some(owner) = found.body["properties"]["virtualMachine"]["id"].as_str()
            && !owner.eq_ignore_ascii_case(vm_id)
        {
            return Err(network::nic_in_use(nid, owner).into());
        }
    }
    Ok(())
}

fn write_vm(
    ctx: &mut Ctx<'_>,
    req: &ArmRequest,
    body: &Value,
    prev: Option<&Value>,
) -> Result<Reply, ArmError> {
    let id = glue::arm_id(req)?;
    glue::check_linked(ctx, req, VM, body)?;
    let location = body["location"]
        .as_str()
        .or_else(|| prev.and_then(|p| p["location"].as_str()))
        .unwrap_or_default()
        .to_owned();
    check_nics(ctx, &req.path.raw, body, &location)?;
    let (cores_limit, cores_used) = quota(ctx, &id, &location);
    // A restriction stops new deployments of the size; a VM that already has it keeps running.
    let size = body["properties"]["hardwareProfile"]["vmSize"].as_str();
    let resized =
        prev.is_none_or(|p| p["properties"]["hardwareProfile"]["vmSize"].as_str() != size);
    let size_restricted = resized
        && size.is_some_and(|s| {
            restrictions::is_restricted(ctx.state, &id.subscription, &location, s)
        });
    let tenant = ctx
        .tenant_of_subscription(&id.subscription)
        .unwrap_or_default();
    let now = now_ms(ctx.now);
    let facts = checks::validate_vm(
        &VmWrite {
            vm_id: &req.path.raw,
            tenant: &tenant,
            location: &location,
            body,
            is_create: prev.is_none(),
            existing_generation: prev.and_then(|p| {
                p[PRIVATE]["hyperVGeneration"]
                    .as_str()
                    .map(|g| if g.eq_ignore_ascii_case("V2") { 2 } else { 1 })
            }),
            cores_limit,
            cores_used,
            size_restricted,
            now_ms: now,
        },
        &StateLookup(ctx.state),
    )?;
    let (mut doc, disk) = vm::vm_put(&id, body, prev, facts.as_ref(), now)?;
    if let Some(p) = prev {
        // Power state survives updates.
        doc[PRIVATE]["powerState"] = p[PRIVATE]["powerState"].clone();
    }
    if let Some(d) = disk {
        glue::store(ctx, DISK, d, false);
    }
    let vm_id = doc["id"].as_str().unwrap_or_default().to_owned();
    for nic in doc["properties"]["networkProfile"]["networkInterfaces"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        if let Some(r) = nic["id"].as_str().and_then(|n| ctx.state.resource_mut(n)) {
            r.body["properties"]["virtualMachine"] = json!({ "id": vm_id });
            if r.body["properties"]["macAddress"].is_null() {
                let b = uuid::Uuid::new_v4().into_bytes();
                r.body["properties"]["macAddress"] =
                    json!(format!("00-0D-3A-{:02X}-{:02X}-{:02X}", b[0], b[1], b[2]));
            }
        }
    }
    let (_, creating) = glue::store(
        ctx,
        VM,
        doc,
        prev.is_none() || req.method != axum::http::Method::PATCH,
    );
    let r = ctx.state.resource(&req.path.raw).expect("just stored");
    let shown = present(&full_doc(r), false, now);
    if req.method == axum::http::Method::PATCH {
        return Ok(Reply::ok(shown));
    }
    Ok(glue::put_reply(ctx, VM, shown, creating, true, None))
}

fn put_vm(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let prev = glue::existing(ctx, &req.path.raw);
    write_vm(ctx, req, &req.body, prev.as_ref())
}

/// PATCH merges into the stored VM and re-runs the linked check on the result, so that tagging
/// a VM built from another tenant's image still needs the auxiliary token (pain-points.md,
/// azure-cli #15536).
fn patch_vm(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let prev = glue::existing(ctx, &req.path.raw).ok_or_else(|| glue::not_found(req))?;
    let mut body = glue::patched(&prev, &req.body);
    if let Some(o) = body.as_object_mut() {
        o.remove(PRIVATE);
    }
    write_vm(ctx, req, &body, Some(&prev))
}

/// DELETE: NICs and the OS disk are detached, or deleted with `deleteOption: Delete`.
fn delete_vm(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let Some(r) = ctx.state.resource(&req.path.raw) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let (id, p) = (r.id.clone(), r.body["properties"].clone());
    for nic in p["networkProfile"]["networkInterfaces"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(nid) = nic["id"].as_str() else {
            continue;
        };
        if nic["properties"]["deleteOption"] == "Delete" {
            ctx.state.remove_tree(nid);
        } else if let Some(n) = ctx.state.resource_mut(nid)
            && let Some(props) = n.body["properties"].as_object_mut()
        {
            props.remove("virtualMachine");
            props.remove("macAddress");
        }
    }
    let os = &p["storageProfile"]["osDisk"];
    if let Some(did) = os["managedDisk"]["id"].as_str() {
        if os["deleteOption"] == "Delete" {
            ctx.state.remove_tree(did);
        } else if let Some(d) = ctx.state.resource_mut(did) {
            if let Some(o) = d.body.as_object_mut() {
                o.remove("managedBy");
            }
            d.body["properties"]["diskState"] = json!("Unattached");
        }
    }
    Ok(glue::delete_lro(ctx, VM, &id))
}

fn power(ctx: &mut Ctx<'_>, req: &ArmRequest, state: &str) -> Result<Reply, ArmError> {
    let r = ctx
        .state
        .resource_mut(&req.path.raw)
        .ok_or_else(|| glue::not_found(req))?;
    if !r.internal.is_object() {
        r.internal = json!({});
    }
    r.internal["powerState"] = json!(state);
    let (id, location) = (r.id.clone(), r.location().unwrap_or("global").to_owned());
    let op = lro::start(
        ctx,
        Begin {
            resource_id: id,
            resource_type: VM.to_owned(),
            location,
            completion: Completion::Nothing,
            running_status: "InProgress",
            status_path: None,
        },
    );
    Ok(lro::accepted(ctx, &op))
}

fn start(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    power(ctx, req, "running")
}

fn power_off(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    power(ctx, req, "stopped")
}

fn deallocate(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    power(ctx, req, "deallocated")
}
