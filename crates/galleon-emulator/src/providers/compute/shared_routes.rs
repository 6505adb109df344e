//! The consumer's view of direct-shared galleries:
//! `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/sharedGalleries/{uniqueName}
//! [/images[/{i}[/versions[/{v}]]]]` (GalleryRP.json `SharedGalleries_Get`, `SharedGalleryImages_*`,
//! `SharedGalleryImageVersions_*`). A gallery is visible when it is shared (`Groups`) with the
//! subscription in the path or its tenant; versions only where they are replicated.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::gallery::{self, RegionState};
use super::routes::GALLERY_VERSIONS;
use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::registry::{Registry, ResourceType};
use crate::providers::generic;
use crate::providers::glue::{StateLookup, now_ms};
use crate::providers::rp::Lookup;

/// Registers the three read-only shared-gallery types.
pub fn register(r: &mut Registry) {
    let t = |p: &'static str| ResourceType {
        needs_resource_group: false,
        ..ResourceType::new("Microsoft.Compute", p, GALLERY_VERSIONS)
    };
    r.register(ResourceType {
        get: Some(get),
        ..t("locations/sharedGalleries")
    });
    r.register(ResourceType {
        get: Some(get),
        list: Some(list),
        ..t("locations/sharedGalleries/images")
    });
    r.register(ResourceType {
        get: Some(get),
        list: Some(list),
        ..t("locations/sharedGalleries/images/versions")
    });
}

fn not_found(what: &str) -> ArmError {
    // [R] the wording Compute uses for proxy resources it cannot find.
    ArmError::service(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("The shared gallery resource '{what}' was not found."),
    )
}

/// The gallery with `unique` name shared with the subscription or its tenant.
fn shared_gallery(ctx: &Ctx<'_>, sub: &str, unique: &str) -> Option<Value> {
    let tenant = ctx.tenant_of_subscription(sub).unwrap_or_default();
    StateLookup(ctx.state)
        .all_of_type("Microsoft.Compute/galleries")
        .into_iter()
        .find(|g| {
            let p = &g["properties"];
            p["identifier"]["uniqueName"]
                .as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(unique))
                && p["sharingProfile"]["permissions"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case("Groups"))
                && p["sharingProfile"]["groups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|grp| {
                        let want = if grp["type"] == "AADTenants" {
                            tenant.as_str()
                        } else {
                            sub
                        };
                        grp["ids"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|i| i.as_str().is_some_and(|i| i.eq_ignore_ascii_case(want)))
                    })
        })
}

fn unique_id(unique: &str, image: Option<&str>, version: Option<&str>) -> String {
    let mut s = format!("/SharedGalleries/{unique}");
    if let Some(i) = image {
        s.push_str(&format!("/Images/{i}"));
    }
    if let Some(v) = version {
        s.push_str(&format!("/Versions/{v}"));
    }
    s
}

/// A shared proxy document: what the consumer sees of a gallery, image or version.
fn proxy(
    doc: &Value,
    location: &str,
    unique: &str,
    image: Option<&str>,
    version: Option<&str>,
) -> Value {
    let p = &doc["properties"];
    let properties = match (image, version) {
        (Some(_), Some(_)) => json!({
            "publishedDate": p["publishingProfile"]["publishedDate"],
            "endOfLifeDate": p["publishingProfile"]["endOfLifeDate"],
            "excludeFromLatest": p["publishingProfile"]["excludeFromLatest"],
        }),
        (Some(_), None) => json!({
            "osType": p["osType"], "osState": p["osState"], "hyperVGeneration": p["hyperVGeneration"],
            "identifier": p["identifier"], "features": p["features"], "architecture": p["architecture"],
        }),
        _ => json!({}),
    };
    let mut out = json!({
        "name": version.or(image).unwrap_or(unique),
        "location": location,
        "identifier": { "uniqueId": unique_id(unique, image, version) },
        "properties": properties,
    });
    crate::providers::glue::strip_nulls(&mut out);
    out
}

/// `(location, uniqueName, image, version)` from the path.
fn parts(req: &ArmRequest) -> (String, String, Option<String>, Option<String>) {
    let n = &req.path.names;
    (
        n[0].clone(),
        n.get(1).cloned().unwrap_or_default(),
        n.get(2).cloned(),
        n.get(3).cloned(),
    )
}

fn get(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let sub = req.path.subscription.clone().unwrap_or_default();
    let (loc, unique, image, version) = parts(req);
    let g = shared_gallery(ctx, &sub, &unique)
        .ok_or_else(|| not_found(&unique_id(&unique, None, None)))?;
    let gid = g["id"].as_str().unwrap_or_default().to_owned();
    let lookup = StateLookup(ctx.state);
    let doc = match (&image, &version) {
        (None, _) => Some(g),
        (Some(i), None) => lookup.get(&format!("{gid}/images/{i}")),
        (Some(i), Some(v)) => lookup
            .get(&format!("{gid}/images/{i}/versions/{v}"))
            .filter(|d| gallery::region_state(d, &loc, now_ms(ctx.now)) == RegionState::Completed),
    }
    .ok_or_else(|| not_found(&unique_id(&unique, image.as_deref(), version.as_deref())))?;
    Ok(Reply::ok(proxy(
        &doc,
        &loc,
        &unique,
        image.as_deref(),
        version.as_deref(),
    )))
}

fn list(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let sub = req.path.subscription.clone().unwrap_or_default();
    let (loc, unique, image, _) = parts(req);
    let g = shared_gallery(ctx, &sub, &unique)
        .ok_or_else(|| not_found(&unique_id(&unique, None, None)))?;
    let gid = g["id"].as_str().unwrap_or_default().to_owned();
    let now = now_ms(ctx.now);
    let lookup = StateLookup(ctx.state);
    let items: Vec<Value> = match &image {
        None => lookup
            .children(&gid, "images")
            .iter()
            .map(|d| proxy(d, &loc, &unique, d["name"].as_str(), None))
            .collect(),
        Some(i) => lookup
            .children(&format!("{gid}/images/{i}"), "versions")
            .iter()
            .filter(|d| gallery::region_state(d, &loc, now) == RegionState::Completed)
            .map(|d| proxy(d, &loc, &unique, Some(i), d["name"].as_str()))
            .collect(),
    };
    Ok(generic::page(ctx, req, items))
}
