//! Compute galleries, image definitions and image versions (GalleryRP): the documents Azure
//! stores and returns for them, sharing, and replication of a version to its target regions over
//! time. Shapes follow specification/compute/resource-manager/Microsoft.Compute/GalleryRP/stable/
//! 2025-03-03/GalleryRP.json and its examples (galleryExamples/, galleryImageExamples/,
//! galleryImageVersionExamples/).
//!
//! Replication is a state machine in the style of omicron's simulated sled agent: each target
//! region gets a completion time when the version is written, and every read derives the current
//! state from the emulator clock. The schedule lives under the private `_emulator` key, which
//! [`present`] strips from every response.

use serde_json::{Value, json};

use super::checks::Lookup;
use crate::providers::rp::{ArmId, RpError, normalize_location};

/// Private bookkeeping key inside stored documents; never sent to clients.
pub const PRIVATE: &str = "_emulator";

/// How far a version is in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionState {
    /// The region is not among the version's target regions.
    NotTargeted,
    /// Copying to the region has not finished.
    Replicating,
    /// A replica is usable in the region.
    Completed,
    /// Replication to the region failed (injected fault).
    Failed,
}

fn base(id: &ArmId, ty: &str, body: &Value, existing: Option<&Value>) -> Result<Value, RpError> {
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
    Ok(json!({
        "id": id.to_id(),
        "name": id.name().unwrap_or_default(),
        "type": ty,
        "location": normalize_location(location),
        "tags": body.get("tags").cloned().unwrap_or_else(|| json!({})),
        "properties": {},
    }))
}

fn required<'a>(props: &'a Value, path: &[&str], shown: &str) -> Result<&'a Value, RpError> {
    let mut v = props;
    for p in path {
        v = &v[*p];
    }
    if v.is_null() {
        return Err(RpError::service(
            400,
            "InvalidParameter",
            format!("Required parameter '{shown}' is missing (null)."),
        )
        .with_target(shown));
    }
    Ok(v)
}

/// The stored document for `PUT .../galleries/{g}`. `identifier.uniqueName` is
/// `{subscriptionId}-{GALLERYNAME}` as in Gallery_Create_WithSharingProfile.json.
///
/// # Errors
/// 400 when location is missing.
pub fn gallery_put(id: &ArmId, body: &Value, existing: Option<&Value>) -> Result<Value, RpError> {
    let mut doc = base(id, "Microsoft.Compute/galleries", body, existing)?;
    let props = &body["properties"];
    let name = id.name().unwrap_or_default();
    let old_sharing = existing.map(|e| e["properties"]["sharingProfile"].clone());
    let mut sharing = props["sharingProfile"].clone();
    if sharing.is_null() {
        sharing = old_sharing
            .clone()
            .unwrap_or_else(|| json!({"permissions": "Private"}));
    } else if let Some(old) = &old_sharing {
        // Groups are only changed through the share action; a PUT keeps them.
        if let Some(groups) = old.get("groups") {
            sharing["groups"] = groups.clone();
        }
    }
    doc["properties"] = json!({
        "identifier": { "uniqueName": format!("{}-{}", id.subscription, name.to_uppercase()) },
        "sharingProfile": sharing,
        "provisioningState": "Succeeded",
    });
    if let Some(d) = props.get("description") {
        doc["properties"]["description"] = d.clone();
    }
    Ok(doc)
}

/// Applies `POST .../galleries/{g}/share` (GallerySharingProfile_Update, SharingUpdate body with
/// operationType Add | Remove | Reset | EnableCommunity) to a stored gallery.
///
/// # Errors
/// 400 `InvalidParameter` for an unknown operation or a gallery not created for group sharing.
pub fn share(gallery: &mut Value, update: &Value) -> Result<(), RpError> {
    let op = update["operationType"].as_str().unwrap_or("");
    let profile = &mut gallery["properties"]["sharingProfile"];
    let permissions = profile["permissions"]
        .as_str()
        .unwrap_or("Private")
        .to_owned();
    match op {
        "Reset" => {
            *profile = json!({ "permissions": "Private" });
        }
        "EnableCommunity" => {
            profile["permissions"] = json!("Community");
        }
        "Add" | "Remove" => {
            if !permissions.eq_ignore_ascii_case("Groups") {
                return Err(RpError::service(
                    400,
                    "InvalidParameter",
                    "The gallery is not enabled for direct sharing: create it with sharingProfile.permissions 'Groups'.",
                )
                .with_target("sharingProfile"));
            }
            let mut groups = profile["groups"].as_array().cloned().unwrap_or_default();
            for g in update["groups"].as_array().into_iter().flatten() {
                let ty = g["type"].as_str().unwrap_or("");
                let ids: Vec<String> = g["ids"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect();
                let pos = groups.iter().position(|x| x["type"].as_str() == Some(ty));
                let slot = match pos {
                    Some(p) => p,
                    None => {
                        groups.push(json!({"type": ty, "ids": []}));
                        groups.len() - 1
                    }
                };
                let mut current: Vec<String> = groups[slot]["ids"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect();
                if op == "Add" {
                    for i in ids {
                        if !current.iter().any(|c| c.eq_ignore_ascii_case(&i)) {
                            current.push(i);
                        }
                    }
                } else {
                    current.retain(|c| !ids.iter().any(|i| i.eq_ignore_ascii_case(c)));
                }
                groups[slot]["ids"] = json!(current);
            }
            groups.retain(|g| g["ids"].as_array().is_some_and(|a| !a.is_empty()));
            profile["groups"] = json!(groups);
        }
        other => {
            return Err(RpError::service(
                400,
                "InvalidParameter",
                format!("The value '{other}' of parameter 'operationType' is invalid."),
            )
            .with_target("operationType"));
        }
    }
    Ok(())
}

/// Immutable properties of an image definition: Compute refuses to change them in place, so a
/// client must replace the definition.
const IMMUTABLE_IMAGE_PROPS: &[&str] = &["osType", "osState", "hyperVGeneration", "identifier"];

/// The stored document for `PUT .../galleries/{g}/images/{i}`.
///
/// # Errors
/// 400 for missing required properties, 409 `PropertyChangeNotAllowed` for an immutable change.
pub fn image_put(id: &ArmId, body: &Value, existing: Option<&Value>) -> Result<Value, RpError> {
    let mut doc = base(id, "Microsoft.Compute/galleries/images", body, existing)?;
    let props = &body["properties"];
    required(props, &["osType"], "osType")?;
    required(props, &["osState"], "osState")?;
    for f in ["publisher", "offer", "sku"] {
        required(props, &["identifier", f], &format!("identifier.{f}"))?;
    }
    let mut out = props.clone();
    if out["hyperVGeneration"].is_null() {
        out["hyperVGeneration"] = json!("V1");
    }
    if out["architecture"].is_null() {
        out["architecture"] = json!("x64");
    }
    if let Some(old) = existing {
        for p in IMMUTABLE_IMAGE_PROPS {
            if old["properties"][*p] != out[*p] {
                // [R] code and wording as Compute reports other immutable fields.
                return Err(RpError::service(
                    409,
                    "PropertyChangeNotAllowed",
                    format!("Changing property '{p}' is not allowed."),
                )
                .with_target(p));
            }
        }
    }
    out["provisioningState"] = json!("Succeeded");
    doc["properties"] = out;
    Ok(doc)
}

/// The image definition's `SecurityType` feature value.
pub fn security_type(definition: &Value) -> Option<String> {
    definition["properties"]["features"]
        .as_array()?
        .iter()
        .find(|f| {
            f["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("SecurityType"))
        })
        .and_then(|f| f["value"].as_str().map(str::to_owned))
}

/// Version names are `Major.Minor.Patch` with 32-bit integers (GalleryRP.json path parameter).
pub fn parse_version(name: &str) -> Option<(u32, u32, u32)> {
    let mut it = name.split('.').map(str::parse::<u32>);
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b)), Some(Ok(c)), None) => Some((a, b, c)),
        _ => None,
    }
}

/// The stored document for `PUT .../images/{i}/versions/{v}`, with a replication schedule:
/// region `k` (in target order) completes `per_region_ms * (k+1)` after `now_ms`.
///
/// # Errors
/// 400 for a bad version name or missing source, 404 when the source does not exist.
pub fn version_put(
    id: &ArmId,
    body: &Value,
    existing: Option<&Value>,
    lookup: &dyn Lookup,
    now_ms: i64,
    per_region_ms: i64,
) -> Result<Value, RpError> {
    let mut doc = base(
        id,
        "Microsoft.Compute/galleries/images/versions",
        body,
        existing,
    )?;
    let name = id.name().unwrap_or_default();
    if parse_version(name).is_none() {
        return Err(RpError::service(
            400,
            "InvalidParameter",
            format!(
                "The gallery image version name '{name}' is invalid. The version name must follow the pattern Major(int32).Minor(int32).Patch(int32)."
            ),
        )
        .with_target("galleryImageVersionName"));
    }
    let props = &body["properties"];
    let source = props["storageProfile"]["source"]["id"]
        .as_str()
        .or_else(|| props["storageProfile"]["source"]["virtualMachineId"].as_str())
        .or_else(|| props["storageProfile"]["osDiskImage"]["source"]["id"].as_str())
        .or_else(|| props["publishingProfile"]["source"]["managedImage"]["id"].as_str());
    let Some(source) = source else {
        return Err(RpError::service(
            400,
            "InvalidParameter",
            "Required parameter 'storageProfile.source.id' is missing (null).",
        )
        .with_target("galleryImageVersion.properties.storageProfile.source.id"));
    };
    if lookup.get(source).is_none() {
        // [R] Compute's wording for a missing source; status and target as in §4.4 captures.
        return Err(RpError::service(
            404,
            "NotFound",
            format!("The source resource '{source}' was not found."),
        )
        .with_target("galleryImageVersion.properties.storageProfile.source.id"));
    }
    let location = doc["location"].as_str().unwrap_or_default().to_owned();
    let mut out = props.clone();
    let profile = &mut out["publishingProfile"];
    if profile.is_null() {
        *profile = json!({});
    }
    let default_replicas = profile["replicaCount"].as_u64().unwrap_or(1);
    let default_storage = profile["storageAccountType"]
        .as_str()
        .unwrap_or("Standard_LRS")
        .to_owned();
    let mut regions: Vec<Value> = profile["targetRegions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if regions.is_empty() {
        regions.push(json!({ "name": location }));
    }
    let mut seen = Vec::new();
    for r in &mut regions {
        let n = normalize_location(r["name"].as_str().unwrap_or_default());
        if seen.contains(&n) {
            return Err(RpError::service(
                400,
                "InvalidParameter",
                "Duplicate regions are not allowed in target publishing regions.",
            )
            .with_target("galleryImageVersion.properties.publishingProfile.targetRegions"));
        }
        seen.push(n);
        if r["regionalReplicaCount"].is_null() {
            r["regionalReplicaCount"] = json!(default_replicas);
        }
        if r["storageAccountType"].is_null() {
            r["storageAccountType"] = json!(default_storage);
        }
    }
    profile["targetRegions"] = json!(regions);
    profile["replicaCount"] = json!(default_replicas);
    profile["storageAccountType"] = json!(default_storage);
    if profile["excludeFromLatest"].is_null() {
        profile["excludeFromLatest"] = json!(false);
    }
    let published = existing
        .and_then(|e| e["properties"]["publishingProfile"]["publishedDate"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| rfc3339(now_ms));
    profile["publishedDate"] = json!(published);
    // Read-only safety fields Compute adds (GalleryImageVersion_Get.json, api 2022-08-03+).
    let safety = &mut out["safetyProfile"];
    if safety["allowDeletionOfReplicatedLocations"].is_null() {
        safety["allowDeletionOfReplicatedLocations"] = json!(false);
    }
    safety["reportedForPolicyViolation"] = json!(false);
    out["provisioningState"] = json!("Succeeded");
    doc["properties"] = out;
    // Regions already complete in the previous document stay complete.
    let mut schedule = serde_json::Map::new();
    for (k, r) in seen.iter().enumerate() {
        let prior = existing.and_then(|e| e[PRIVATE]["replication"][r.as_str()].as_i64());
        let done = prior.unwrap_or(now_ms + per_region_ms * (k as i64 + 1));
        schedule.insert(r.clone(), json!(done));
    }
    doc[PRIVATE] = json!({ "replication": schedule });
    Ok(doc)
}

/// Marks replication to `region` as failed (fault injection).
pub fn fail_region(version: &mut Value, region: &str) {
    let r = normalize_location(region);
    version[PRIVATE]["failed"][r.as_str()] = json!(true);
}

/// The replication state of a stored version in a region at `now_ms`. A version without a
/// schedule (seeded) is complete in every target region.
pub fn region_state(version: &Value, region: &str, now_ms: i64) -> RegionState {
    let region = normalize_location(region);
    let targets = version["properties"]["publishingProfile"]["targetRegions"].as_array();
    let targeted = match targets {
        Some(t) if !t.is_empty() => t.iter().any(|r| {
            r["name"].as_str().map(normalize_location).as_deref() == Some(region.as_str())
        }),
        _ => {
            version["location"]
                .as_str()
                .map(normalize_location)
                .as_deref()
                == Some(&region)
        }
    };
    if !targeted {
        return RegionState::NotTargeted;
    }
    if version[PRIVATE]["failed"][region.as_str()].as_bool() == Some(true) {
        return RegionState::Failed;
    }
    // A version whose operation failed (injected LRO fault) failed to replicate beyond its
    // first target region.
    let first = targets
        .and_then(|t| t.first())
        .and_then(|r| r["name"].as_str())
        .map(normalize_location);
    if version["properties"]["provisioningState"] == "Failed"
        && first.as_deref() != Some(region.as_str())
    {
        return RegionState::Failed;
    }
    match version[PRIVATE]["replication"][region.as_str()].as_i64() {
        Some(done) if now_ms < done => RegionState::Replicating,
        _ => RegionState::Completed,
    }
}

/// Milliseconds from `now_ms` until every region of the version is complete (0 when done).
pub fn replication_remaining_ms(version: &Value, now_ms: i64) -> i64 {
    version[PRIVATE]["replication"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_i64).max().unwrap_or(0))
        .map(|latest| (latest - now_ms).max(0))
        .unwrap_or(0)
}

/// Strips private bookkeeping and derives time-dependent fields. For versions,
/// `provisioningState` is `Creating` until every region completes (`Failed` if one failed) and
/// `expand_replication` adds `replicationStatus` as with `$expand=ReplicationStatus`
/// (GalleryImageVersion_Get_WithReplicationStatus.json).
pub fn present(doc: &Value, expand_replication: bool, now_ms: i64) -> Value {
    let mut out = doc.clone();
    let is_version = doc["type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Compute/galleries/images/versions"));
    if is_version {
        let mut summary = Vec::new();
        let (mut all_done, mut any_failed) = (true, false);
        for r in doc["properties"]["publishingProfile"]["targetRegions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = r["name"].as_str().unwrap_or_default();
            let state = region_state(doc, name, now_ms);
            let (s, progress) = match state {
                RegionState::Completed => ("Completed", 100),
                RegionState::Failed => ("Failed", 0),
                _ => ("Replicating", 50),
            };
            all_done &= state == RegionState::Completed;
            any_failed |= state == RegionState::Failed;
            let mut entry = json!({ "region": name, "state": s, "progress": progress });
            if state == RegionState::Failed {
                entry["details"] = json!("Replication failed in this region.");
            }
            summary.push(entry);
        }
        let provisioning = if any_failed {
            "Failed"
        } else if all_done {
            "Succeeded"
        } else {
            "Creating"
        };
        out["properties"]["provisioningState"] = json!(provisioning);
        if expand_replication {
            let aggregated = if any_failed {
                "Failed"
            } else if all_done {
                "Completed"
            } else {
                "InProgress"
            };
            out["properties"]["replicationStatus"] =
                json!({ "aggregatedState": aggregated, "summary": summary });
        }
    }
    if let Some(obj) = out.as_object_mut() {
        obj.remove(PRIVATE);
    }
    out
}

/// `2026-11-24T02:50:00.0000000+00:00`, the timestamp shape Compute uses.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]+00:00"
    );
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
#[path = "gallery_tests.rs"]
mod tests;
