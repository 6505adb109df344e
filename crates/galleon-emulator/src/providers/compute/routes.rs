//! HTTP routes of Microsoft.Compute: galleries (+ `share`), gallery images, image versions
//! (replication as an LRO, `$expand=ReplicationStatus`), managed images and disks. Virtual
//! machines are in `vm_routes`. Each handler runs the pure rules of `gallery`/`vm` and stores
//! through `glue`; the front door has already authenticated, authorized and found the RG.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::gallery::{self, PRIVATE};
use super::vm;
use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::registry::{Registry, ResourceType};
use crate::providers::generic;
use crate::providers::glue::{self, StateLookup, full_doc, now_ms};
use crate::state::Resource;

/// GalleryRP api-versions (specification/compute/resource-manager/Microsoft.Compute/GalleryRP/
/// stable/*): what the SDKs and az send (official-clients.md: 2021-10-01, 2023-07-03,
/// 2024-03-03, 2026-03-03) and galleon's pin 2025-03-03.
pub const GALLERY_VERSIONS: &[&str] = &[
    "2019-12-01",
    "2020-09-30",
    "2021-07-01",
    "2021-10-01",
    "2022-01-03",
    "2022-03-03",
    "2022-08-03",
    "2023-07-03",
    "2024-03-03",
    "2025-03-03",
    "2025-12-03",
    "2026-03-03",
];

/// ComputeRP api-versions (VMs, managed images).
pub const COMPUTE_VERSIONS: &[&str] = &[
    "2020-06-01",
    "2020-12-01",
    "2021-03-01",
    "2021-04-01",
    "2021-07-01",
    "2021-11-01",
    "2022-03-01",
    "2022-08-01",
    "2022-11-01",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2025-11-01",
    "2026-03-01",
    "2026-04-01",
];

/// DiskRP api-versions.
pub const DISK_VERSIONS: &[&str] = &[
    "2020-12-01",
    "2021-04-01",
    "2021-08-01",
    "2021-12-01",
    "2022-03-02",
    "2022-07-02",
    "2023-01-02",
    "2023-04-02",
    "2023-10-02",
    "2024-03-02",
    "2025-01-02",
];

const GALLERY: &str = "Microsoft.Compute/galleries";
const IMAGE: &str = "Microsoft.Compute/galleries/images";
const VERSION: &str = "Microsoft.Compute/galleries/images/versions";
const MANAGED_IMAGE: &str = "Microsoft.Compute/images";
const DISK: &str = "Microsoft.Compute/disks";

/// Registers the Compute types.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        get: Some(get_gallery),
        put: Some(put_gallery),
        patch: Some(patch_gallery),
        delete: Some(delete_gallery),
        list: Some(list_galleries),
        actions: &[("share", share)],
        ..ResourceType::new("Microsoft.Compute", "galleries", GALLERY_VERSIONS)
    });
    r.register(ResourceType {
        get: Some(get_plain),
        put: Some(put_image),
        patch: Some(patch_image),
        delete: Some(delete_image),
        list: Some(list_images),
        ..ResourceType::new("Microsoft.Compute", "galleries/images", GALLERY_VERSIONS)
    });
    r.register(ResourceType {
        get: Some(get_version),
        put: Some(put_version),
        patch: Some(patch_version),
        delete: Some(delete_version),
        list: Some(list_versions),
        ..ResourceType::new(
            "Microsoft.Compute",
            "galleries/images/versions",
            GALLERY_VERSIONS,
        )
    });
    r.register(ResourceType {
        get: Some(get_plain),
        put: Some(put_managed_image),
        patch: Some(generic::patch),
        delete: Some(delete_plain_lro),
        list: Some(list_managed_images),
        ..ResourceType::new("Microsoft.Compute", "images", COMPUTE_VERSIONS)
    });
    r.register(ResourceType {
        get: Some(get_plain),
        put: Some(put_disk),
        patch: Some(patch_disk),
        delete: Some(delete_disk),
        list: Some(list_disks),
        ..ResourceType::new("Microsoft.Compute", "disks", DISK_VERSIONS)
    });
    super::vm_routes::register(r);
    super::shared_routes::register(r);
    super::usages::register(r);
}

fn present(r: &Resource, expand_replication: bool, now: i64) -> Value {
    gallery::present(&full_doc(r), expand_replication, now)
}

fn get_plain(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let now = now_ms(ctx.now);
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(present(r, false, now)))
        .ok_or_else(|| glue::not_found(req))
}

fn wants(req: &ArmRequest, what: &str) -> bool {
    req.query("$expand")
        .is_some_and(|e| e.split(',').any(|x| x.trim().eq_ignore_ascii_case(what)))
}

// ---- galleries ----

fn put_gallery(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let id = glue::arm_id(req)?;
    let prev = glue::existing(ctx, &req.path.raw);
    let doc = gallery::gallery_put(&id, &req.body, prev.as_ref())?;
    let (body, creating) = glue::store(ctx, GALLERY, doc, true);
    Ok(glue::put_reply(ctx, GALLERY, body, creating, true, None))
}

fn patch_gallery(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let prev = glue::existing(ctx, &req.path.raw).ok_or_else(|| glue::not_found(req))?;
    let body = glue::patched(&prev, &req.body);
    let doc = gallery::gallery_put(&glue::arm_id(req)?, &body, Some(&prev))?;
    let (body, _) = glue::store(ctx, GALLERY, doc, false);
    Ok(Reply::ok(body))
}

fn get_gallery(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let r = ctx
        .state
        .resource(&req.path.raw)
        .ok_or_else(|| glue::not_found(req))?;
    let mut body = present(r, false, 0);
    // Groups are only returned with $expand=SharingProfile/Groups
    // (Gallery_Get_WithExpandSharingProfileGroups.json).
    if !wants(req, "SharingProfile/Groups") {
        without_groups(&mut body);
    }
    Ok(Reply::ok(body))
}

fn without_groups(body: &mut Value) {
    if let Some(p) = body["properties"]["sharingProfile"].as_object_mut() {
        p.remove("groups");
    }
}

/// Lists show what a plain GET shows: no sharing groups (those need the GET's `$expand`),
/// so a client that lists then re-reads one gallery sees the same body.
fn list_galleries(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, GALLERY, |r| {
        let mut body = present(r, false, 0);
        without_groups(&mut body);
        body
    }))
}

/// Galleries with images cannot be deleted [R: code and wording as ARM reports nested
/// resources on a parent delete].
fn delete_gallery(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    refuse_if_children(ctx, req, "images")?;
    delete_plain_lro(ctx, req)
}

fn refuse_if_children(ctx: &Ctx<'_>, req: &ArmRequest, child: &str) -> Result<(), ArmError> {
    if !StateLookup(ctx.state)
        .children(&req.path.raw, child)
        .is_empty()
    {
        return Err(ArmError::conflict(
            "CannotDeleteResource",
            "Can not delete resource before nested resources are deleted.",
        ));
    }
    Ok(())
}

fn delete_plain_lro(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let Some(r) = ctx.state.resource(&req.path.raw) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let (id, ty) = (r.id.clone(), r.resource_type.clone());
    Ok(glue::delete_lro(ctx, &ty, &id))
}

/// `POST .../galleries/{g}/share`: answers 200 with the SharingUpdate echoed
/// (Gallery_AddToSharingProfile.json).
fn share(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let r = ctx
        .state
        .resource_mut(&req.path.raw)
        .ok_or_else(|| glue::not_found(req))?;
    let mut body = r.body.clone();
    gallery::share(&mut body, &req.body)?;
    r.body = body;
    r.updated = ctx.now;
    Ok(Reply::ok(req.body.clone()))
}

// ---- image definitions ----

use crate::providers::rp::Lookup as _;

fn put_image(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    glue::check_parent(ctx, req)?;
    let id = glue::arm_id(req)?;
    let prev = glue::existing(ctx, &req.path.raw);
    let doc = gallery::image_put(&id, &req.body, prev.as_ref())?;
    let (body, creating) = glue::store(ctx, IMAGE, doc, true);
    Ok(glue::put_reply(ctx, IMAGE, body, creating, true, None))
}

fn patch_image(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let prev = glue::existing(ctx, &req.path.raw).ok_or_else(|| glue::not_found(req))?;
    let body = glue::patched(&prev, &req.body);
    let doc = gallery::image_put(&glue::arm_id(req)?, &body, Some(&prev))?;
    let (body, _) = glue::store(ctx, IMAGE, doc, false);
    Ok(Reply::ok(body))
}

fn delete_image(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    refuse_if_children(ctx, req, "versions")?;
    delete_plain_lro(ctx, req)
}

fn list_images(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, IMAGE, |r| present(r, false, 0)))
}

// ---- image versions ----

/// Milliseconds each target region takes to replicate: the configured LRO duration of the
/// version type (seed `settings.lro_ms`), else the default.
fn per_region_ms(ctx: &Ctx<'_>) -> i64 {
    let s = &ctx.state.settings;
    let ms = s
        .lro_ms
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(VERSION))
        .map_or(s.lro_default_ms, |(_, v)| *v);
    i64::try_from(ms).unwrap_or(0)
}

fn put_version(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    glue::check_parent(ctx, req)?;
    glue::check_linked(ctx, req, VERSION, &req.body)?;
    let id = glue::arm_id(req)?;
    let prev = glue::existing(ctx, &req.path.raw);
    let now = now_ms(ctx.now);
    let per_region = per_region_ms(ctx);
    let doc = gallery::version_put(
        &id,
        &req.body,
        prev.as_ref(),
        &StateLookup(ctx.state),
        now,
        per_region,
    )?;
    let remaining = gallery::replication_remaining_ms(&doc, now);
    let (_, creating) = glue::store(ctx, VERSION, doc, true);
    let r = ctx.state.resource(&req.path.raw).expect("just stored");
    let body = present(r, false, now);
    let mut reply = glue::put_reply(ctx, VERSION, body, creating, true, Some(remaining));
    // The reply shows the state at the start, as Compute does (Creating/Updating).
    if let Some(b) = reply.body.as_mut() {
        b["properties"]["provisioningState"] =
            json!(if creating { "Creating" } else { "Updating" });
    }
    Ok(reply)
}

fn patch_version(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let prev = glue::existing(ctx, &req.path.raw).ok_or_else(|| glue::not_found(req))?;
    let mut body = glue::patched(&prev, &req.body);
    if let Some(o) = body.as_object_mut() {
        o.remove(PRIVATE);
    }
    let now = now_ms(ctx.now);
    let per_region = per_region_ms(ctx);
    let doc = gallery::version_put(
        &glue::arm_id(req)?,
        &body,
        Some(&prev),
        &StateLookup(ctx.state),
        now,
        per_region,
    )?;
    glue::store(ctx, VERSION, doc, false);
    let r = ctx.state.resource(&req.path.raw).expect("just stored");
    Ok(Reply::ok(present(r, false, now)))
}

fn get_version(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let now = now_ms(ctx.now);
    let expand = wants(req, "ReplicationStatus");
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(present(r, expand, now)))
        .ok_or_else(|| glue::not_found(req))
}

fn list_versions(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let now = now_ms(ctx.now);
    Ok(glue::list(ctx, req, VERSION, |r| present(r, false, now)))
}

fn delete_version(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    delete_plain_lro(ctx, req)
}

// ---- managed images ----

/// `PUT .../images/{i}` (Image_CreateFromABlob.json etc.): stored as given with Compute's
/// defaults; galleon only reads these as version sources.
fn put_managed_image(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    generic::put(
        ctx,
        req,
        MANAGED_IMAGE,
        generic::PutOptions::default(),
        |body, _| {
            let p = &mut body["properties"];
            if p["hyperVGeneration"].is_null() {
                p["hyperVGeneration"] = json!("V1");
            }
            Ok(())
        },
    )
}

fn list_managed_images(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, MANAGED_IMAGE, |r| r.body.clone()))
}

// ---- disks ----

fn put_disk(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let id = glue::arm_id(req)?;
    let prev = glue::existing(ctx, &req.path.raw);
    let doc = vm::disk_put(&id, &req.body, prev.as_ref(), now_ms(ctx.now))?;
    let (body, creating) = glue::store(ctx, DISK, doc, true);
    Ok(glue::put_reply(ctx, DISK, body, creating, true, None))
}

fn patch_disk(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let prev = glue::existing(ctx, &req.path.raw).ok_or_else(|| glue::not_found(req))?;
    let body = glue::patched(&prev, &req.body);
    let doc = vm::disk_put(&glue::arm_id(req)?, &body, Some(&prev), now_ms(ctx.now))?;
    let (body, _) = glue::store(ctx, DISK, doc, false);
    Ok(Reply::ok(body))
}

/// An attached disk cannot be deleted (DiskRP `OperationNotAllowed`).
fn delete_disk(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    if let Some(r) = ctx.state.resource(&req.path.raw)
        && let Some(vm_id) = r.body["managedBy"].as_str()
    {
        return Err(ArmError::service(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            format!(
                "Disk {} is attached to VM {vm_id}.",
                r.body["name"].as_str().unwrap_or_default()
            ),
        ));
    }
    delete_plain_lro(ctx, req)
}

fn list_disks(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, DISK, |r| r.body.clone()))
}
