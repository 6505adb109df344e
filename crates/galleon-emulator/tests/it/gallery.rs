//! Galleries, image definitions and versions through HTTPS: LROs, read-only fields, direct
//! sharing, replication over time, paging, and the checks on parents and sources.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use crate::world::*;

fn a_path(rest: &str) -> String {
    format!("/subscriptions/{SUB_A}/resourceGroups/{RG_GOLDEN}/providers/Microsoft.Compute/{rest}")
}

#[tokio::test]
async fn publish_gallery_image_and_version_with_replication() {
    let mut seed = seed();
    seed.settings
        .lro_ms
        .insert("Microsoft.Compute/galleries/images/versions".into(), 60_000);
    let ctx = TestContext::start(seed).await;
    let a = ctx.token_a().await;
    let g = a_path("galleries/team_images");
    let r = ctx
        .put(
            &format!("{g}?{GALLERY_API}"),
            &a,
            json!({"location": "West Europe", "properties": {"description": "d"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    assert_eq!(
        ctx.wait(r.header("azure-asyncoperation"), &a).await.body["status"],
        "Succeeded"
    );
    let got = ctx.get(&format!("{g}?{GALLERY_API}"), &a).await.body;
    assert_eq!(
        got["properties"]["identifier"]["uniqueName"],
        format!("{SUB_A}-TEAM_IMAGES")
    );
    assert_eq!(got["location"], "westeurope");
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");

    let i = format!("{g}/images/ubuntu");
    let r = ctx
        .put(
            &format!("{i}?{GALLERY_API}"),
            &a,
            json!({"location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": "22_04"}, "description": null,
        "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    ctx.wait(r.header("azure-asyncoperation"), &a).await;

    let def = ctx.get(&format!("{i}?{GALLERY_API}"), &a).await.body;
    assert!(
        def["properties"].get("description").is_none(),
        "nulls are not echoed: {def}"
    );
    assert_eq!(def["properties"]["architecture"], "x64");
    let v = format!("{i}/versions/1.0.0");
    let r = ctx.put(&format!("{v}?{GALLERY_API}"), &a, json!({"location": "westeurope", "properties": {
        "publishingProfile": {"targetRegions": [
            {"name": "westeurope", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"},
            {"name": "northeurope", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"}],
            "endOfLifeDate": "2027-12-31T00:00:00Z"},
        "storageProfile": {"source": {"id": managed_image()}}}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let op = r.header("azure-asyncoperation").to_owned();
    let mid = ctx
        .get(&format!("{v}?{GALLERY_API}&$expand=ReplicationStatus"), &a)
        .await
        .body;
    assert_eq!(mid["properties"]["provisioningState"], "Creating");
    assert_eq!(
        mid["properties"]["replicationStatus"]["aggregatedState"],
        "InProgress"
    );
    assert_eq!(ctx.get(&op, &a).await.body["status"], "InProgress");
    // One region done after the first step, both after the second.
    ctx.emu.advance_clock(61);
    let mid = ctx
        .get(&format!("{v}?{GALLERY_API}&$expand=ReplicationStatus"), &a)
        .await
        .body;
    let summary = mid["properties"]["replicationStatus"]["summary"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(summary[0]["state"], "Completed");
    assert_eq!(summary[1]["state"], "Replicating");
    ctx.emu.advance_clock(60);
    assert_eq!(ctx.get(&op, &a).await.body["status"], "Succeeded");
    let done = ctx
        .get(&format!("{v}?{GALLERY_API}&$expand=ReplicationStatus"), &a)
        .await
        .body;
    assert_eq!(
        done["properties"]["replicationStatus"]["aggregatedState"],
        "Completed"
    );
    assert_eq!(done["properties"]["provisioningState"], "Succeeded");
    let plain = ctx.get(&format!("{v}?{GALLERY_API}"), &a).await.body;
    assert!(plain["properties"].get("replicationStatus").is_none());
    assert!(plain["properties"]["publishingProfile"]["publishedDate"].is_string());
    assert_eq!(
        plain["properties"]["safetyProfile"]["reportedForPolicyViolation"],
        false
    );
    assert!(plain.get("_emulator").is_none());
}

#[tokio::test]
async fn a_vm_waits_for_replication_to_its_region() {
    let mut seed = seed();
    seed.settings
        .lro_ms
        .insert("Microsoft.Compute/galleries/images/versions".into(), 60_000);
    let ctx = TestContext::start(seed).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let v = format!("{}/versions/2.0.0", definition(RG_GOLDEN, "ubuntu"));
    let r = ctx
        .put(
            &format!("{v}?{GALLERY_API}"),
            &a,
            json!({"location": "westeurope", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
        "storageProfile": {"source": {"id": managed_image()}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let nic = consumer_network(&ctx, &b).await;
    let aux = format!("Bearer {a}");
    let vm = format!(
        "{}?{COMPUTE_API}",
        b_path("Microsoft.Compute/virtualMachines/web")
    );
    let r = ctx
        .call(
            Method::PUT,
            &vm,
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(vm_body(&v, "Standard_D2s_v5", &nic)),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "GalleryImageNotFound")
    );
    ctx.emu.advance_clock(125);
    let r = ctx
        .call(
            Method::PUT,
            &vm,
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(vm_body(&v, "Standard_D2s_v5", &nic)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn direct_sharing_add_remove_reset() {
    let g = a_path("galleries/shared");
    let mut seed = seed();
    // Contributor has Microsoft.Compute/galleries/share/action in its NotActions; sharing needs
    // Owner or Compute Gallery Sharing Admin (share-gallery-direct.md).
    seed.role_assignments
        .push(grant(APP, TENANT_A, "Compute Gallery Sharing Admin", &g));
    let ctx = TestContext::start(seed).await;
    let a = ctx.token_a().await;
    let r = ctx.put(&format!("{g}?{GALLERY_API}"), &a, json!({"location": "westeurope", "properties": {"sharingProfile": {"permissions": "Groups"}}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let share = format!("{g}/share?{GALLERY_API}");
    let update = json!({"operationType": "Add", "groups": [{"type": "Subscriptions", "ids": [SUB_B]}, {"type": "AADTenants", "ids": [TENANT_B]}]});
    let other = a_path("galleries/golden_other");
    ctx.put(&format!("{other}?{GALLERY_API}"), &a, json!({"location": "westeurope", "properties": {"sharingProfile": {"permissions": "Groups"}}})).await;
    let r = ctx
        .call(
            Method::POST,
            &format!("{other}/share?{GALLERY_API}"),
            Some(&a),
            &[],
            Some(update.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "AuthorizationFailed"),
        "Contributor alone cannot share"
    );
    let r = ctx
        .call(Method::POST, &share, Some(&a), &[], Some(update.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, update);
    let got = ctx.get(&format!("{g}?{GALLERY_API}"), &a).await.body;
    assert!(
        got["properties"]["sharingProfile"].get("groups").is_none(),
        "groups only with $expand"
    );
    let got = ctx
        .get(
            &format!("{g}?{GALLERY_API}&$expand=SharingProfile/Groups"),
            &a,
        )
        .await
        .body;
    assert_eq!(
        got["properties"]["sharingProfile"]["groups"][1],
        json!({"type": "AADTenants", "ids": [TENANT_B]})
    );
    let r = ctx
        .call(
            Method::POST,
            &share,
            Some(&a),
            &[],
            Some(json!({"operationType": "Reset"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let got = ctx
        .get(
            &format!("{g}?{GALLERY_API}&$expand=SharingProfile/Groups"),
            &a,
        )
        .await
        .body;
    assert_eq!(
        got["properties"]["sharingProfile"],
        json!({"permissions": "Private"})
    );
}

#[tokio::test]
async fn lists_page_and_parents_and_sources_are_checked() {
    let ctx = TestContext::start(seed()).await;
    let a = ctx.token_a().await;
    // Four seeded definitions, pages of two.
    let first = ctx
        .get(&format!("{}/images?{GALLERY_API}", gallery(RG_GOLDEN)), &a)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["value"].as_array().unwrap().len(), 2);
    let next = first.body["nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    let second = ctx.get(&next, &a).await.body;
    assert_eq!(second["value"].as_array().unwrap().len(), 2);
    assert!(second.get("nextLink").is_none());
    // Subscription-wide gallery list sees both resource groups.
    let all = ctx
        .get(
            &format!("/subscriptions/{SUB_A}/providers/Microsoft.Compute/galleries?{GALLERY_API}"),
            &a,
        )
        .await
        .body;
    assert_eq!(all["value"].as_array().unwrap().len(), 2);

    let orphan = a_path("galleries/nope/images/x");
    let r = ctx.put(&format!("{orphan}?{GALLERY_API}"), &a, json!({"location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Generalized", "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "ParentResourceNotFound")
    );
    assert_eq!(
        r.message(),
        "Can not perform requested operation on nested resource. Parent resource 'nope' not found."
    );

    let v = format!("{}/versions/3.0.0", definition(RG_GOLDEN, "ubuntu"));
    let r = ctx.put(&format!("{v}?{GALLERY_API}"), &a, json!({"location": "westeurope", "properties": {
        "storageProfile": {"source": {"id": managed_image().replace("ubuntu-2204-base", "missing")}}}})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = ctx
        .delete(&format!("{}?{GALLERY_API}", gallery(RG_GOLDEN)), &a)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "CannotDeleteResource")
    );

    // Immutable definition fields.
    let r = ctx
        .put(
            &format!("{}?{GALLERY_API}", definition(RG_GOLDEN, "ubuntu")),
            &a,
            json!({"location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Specialized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": "1"},
        "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "PropertyChangeNotAllowed")
    );
}

#[tokio::test]
async fn unknown_api_version_is_rejected() {
    let ctx = TestContext::start(seed()).await;
    let a = ctx.token_a().await;
    let r = ctx
        .get(
            &format!("{}?api-version=1999-01-01", gallery(RG_GOLDEN)),
            &a,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "NoRegisteredProviderFound")
    );
}

#[tokio::test]
async fn an_injected_lro_failure_fails_the_version_and_its_replication() {
    let ctx = TestContext::start(seed()).await;
    let a = ctx.token_a().await;
    let r = ctx
        .admin(
            Method::PUT,
            "/faults",
            Some(json!({"seed": 7, "lro_failure_rate": 1.0, "path_contains": "/versions/"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = format!("{}/versions/4.0.0", definition(RG_GOLDEN, "ubuntu"));
    let r = ctx
        .put(
            &format!("{v}?{GALLERY_API}"),
            &a,
            json!({"location": "westeurope", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
        "storageProfile": {"source": {"id": managed_image()}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let status = ctx.wait(r.header("azure-asyncoperation"), &a).await.body;
    assert_eq!(status["status"], "Failed", "{status}");
    let got = ctx
        .get(&format!("{v}?{GALLERY_API}&$expand=ReplicationStatus"), &a)
        .await
        .body;
    assert_eq!(got["properties"]["provisioningState"], "Failed");
    assert_eq!(
        got["properties"]["replicationStatus"]["aggregatedState"],
        "Failed"
    );
}

#[tokio::test]
async fn replication_progress_survives_a_restart() {
    let mut seed = seed();
    seed.settings
        .lro_ms
        .insert("Microsoft.Compute/galleries/images/versions".into(), 60_000);
    let ctx = TestContext::start_in(seed.clone(), tempfile::tempdir().unwrap()).await;
    let a = ctx.token_a().await;
    let v = format!(
        "{}/versions/5.0.0?{GALLERY_API}&$expand=ReplicationStatus",
        definition(RG_GOLDEN, "ubuntu")
    );
    let r = ctx
        .put(
            &v,
            &a,
            json!({"location": "westeurope", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
        "storageProfile": {"source": {"id": managed_image()}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    ctx.emu.advance_clock(61);
    let TestContext { emu, dir, .. } = ctx;
    emu.shutdown().await;
    let ctx = TestContext::start_in(seed, dir.unwrap()).await;
    let a = ctx.token_a().await;
    let got = ctx.get(&v, &a).await.body;
    let summary = &got["properties"]["replicationStatus"]["summary"];
    assert_eq!(
        (summary[0]["state"].as_str(), summary[1]["state"].as_str()),
        (Some("Completed"), Some("Replicating")),
        "{got}"
    );
    ctx.emu.advance_clock(60);
    assert_eq!(
        ctx.get(&v, &a).await.body["properties"]["replicationStatus"]["aggregatedState"],
        "Completed"
    );
}
