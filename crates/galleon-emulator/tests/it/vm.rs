//! VM writes across tenants: ARM's linked authorization with auxiliary tokens, Compute's
//! checks, the implicit OS disk, instance view and NIC attachment.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use crate::world::*;

fn vm_path(name: &str) -> String {
    format!(
        "{}?{COMPUTE_API}",
        b_path(&format!("Microsoft.Compute/virtualMachines/{name}"))
    )
}

async fn put_vm(
    ctx: &TestContext,
    token: &str,
    aux: Option<&str>,
    name: &str,
    body: serde_json::Value,
) -> Answer {
    let aux_header = aux.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = aux_header
        .iter()
        .map(|h| ("x-ms-authorization-auxiliary", h.as_str()))
        .collect();
    ctx.call(
        Method::PUT,
        &vm_path(name),
        Some(token),
        &headers,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn cross_tenant_vm_needs_the_auxiliary_token() {
    let ctx = TestContext::start(restricted()).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let nic = consumer_network(&ctx, &b).await;
    let image = version(RG_GOLDEN, "ubuntu");
    let vm_id = b_path("Microsoft.Compute/virtualMachines/web");

    // No header: variant B, synchronous, nothing created.
    let r = put_vm(
        &ctx,
        &b,
        None,
        "web",
        vm_body(&image, "Standard_D2s_v5", &nic),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "LinkedAuthorizationFailed");
    assert_eq!(
        r.message(),
        format!(
            "The client has permission to perform action 'Microsoft.Compute/galleries/images/versions/read' on scope '{vm_id}', however the current tenant '{TENANT_B}' is not authorized to access linked subscription '{SUB_A}'."
        )
    );
    assert_eq!(r.header("x-ms-failure-cause"), "gateway");
    assert!(r.header("azure-asyncoperation").is_empty());
    assert_eq!(
        ctx.get(&vm_path("web"), &b).await.status,
        StatusCode::NOT_FOUND
    );

    // A token of the wrong tenant in the header does not help.
    let r = put_vm(
        &ctx,
        &b,
        Some(&b),
        "web",
        vm_body(&image, "Standard_D2s_v5", &nic),
    )
    .await;
    assert!(
        r.message()
            .contains("is not authorized to access linked subscription"),
        "{}",
        r.body
    );

    // The aux principal lacks read on the private gallery: variant A.
    let private = version(RG_PRIVATE, "ubuntu");
    let r = put_vm(
        &ctx,
        &b,
        Some(&a),
        "web",
        vm_body(&private, "Standard_D2s_v5", &nic),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "LinkedAuthorizationFailed")
    );
    assert!(
        r.message()
            .starts_with(&format!("The client '{APP}' with object id '")),
        "{}",
        r.message()
    );
    assert!(r.message().contains(&format!(
        "on the linked scope(s) '{}' (respectively) or the linked scope(s) are invalid.",
        private.to_ascii_lowercase()
    )));

    // Valid: 201 Creating + Azure-AsyncOperation, then Succeeded.
    let r = put_vm(
        &ctx,
        &b,
        Some(&a),
        "web",
        vm_body(&image, "Standard_D2s_v5", &nic),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    let op = r.header("azure-asyncoperation").to_owned();
    assert!(op.starts_with(ctx.emu.endpoint()));
    assert_eq!(ctx.wait(&op, &b).await.body["status"], "Succeeded");
    let vm = ctx.get(&vm_path("web"), &b).await;
    assert_eq!(vm.body["properties"]["provisioningState"], "Succeeded");

    // Later writes are checked again: tags without the aux token fail, with it they pass.
    let tags = json!({"tags": {"app": "web", "owner": "me"}});
    let r = ctx
        .call(
            Method::PATCH,
            &vm_path("web"),
            Some(&b),
            &[],
            Some(tags.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "LinkedAuthorizationFailed")
    );
    let aux = format!("Bearer {a}");
    let r = ctx
        .call(
            Method::PATCH,
            &vm_path("web"),
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(tags),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tags"]["owner"], "me");

    // The Tags API on the VM's scope is checked the same way.
    let tags_api =
        format!("{vm_id}/providers/Microsoft.Resources/tags/default?api-version=2025-04-01");
    let merge = json!({"operation": "Merge", "properties": {"tags": {"cost": "1"}}});
    let r = ctx
        .call(Method::PATCH, &tags_api, Some(&b), &[], Some(merge.clone()))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "LinkedAuthorizationFailed"),
        "{}",
        r.body
    );
    let r = ctx
        .call(
            Method::PATCH,
            &tags_api,
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(merge),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["tags"]["cost"], "1");
}

#[tokio::test]
async fn vm_documents_carry_read_only_fields_disk_and_instance_view() {
    let ctx = TestContext::start(seed()).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let nic = consumer_network(&ctx, &b).await;
    let r = put_vm(
        &ctx,
        &b,
        Some(&a),
        "web",
        vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_D2s_v5", &nic),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    ctx.wait(r.header("azure-asyncoperation"), &b).await;
    let vm = ctx
        .get(&format!("{}&$expand=instanceView", vm_path("web")), &b)
        .await
        .body;
    let p = &vm["properties"];
    assert!(p["vmId"].as_str().is_some_and(|s| s.len() == 36));
    assert!(p.get("_emulator").is_none() && vm.get("_emulator").is_none());
    let statuses = p["instanceView"]["statuses"].as_array().unwrap();
    assert!(
        statuses.iter().any(|s| s["code"] == "PowerState/running"),
        "{statuses:?}"
    );
    let disk_id = p["storageProfile"]["osDisk"]["managedDisk"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Re-applying the same body is an update: 200, same vmId, same OS disk.
    let body = vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_D2s_v5", &nic);
    let again = put_vm(&ctx, &b, Some(&a), "web", body.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["properties"]["vmId"], p["vmId"]);
    assert_eq!(
        again.body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"],
        disk_id.as_str()
    );
    ctx.wait(again.header("azure-asyncoperation"), &b).await;
    // Resizing to a Gen1-only size is refused for this Gen2 VM.
    let mut resized = body;
    resized["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_A2_v2");
    let r = put_vm(&ctx, &b, Some(&a), "web", resized).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "BadRequest"),
        "{}",
        r.body
    );
    let disk = ctx
        .get(&format!("{disk_id}?api-version=2025-01-02"), &b)
        .await;
    assert_eq!(disk.status, StatusCode::OK);
    assert_eq!(
        disk.body["managedBy"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase(),
        vm["id"].as_str().unwrap().to_ascii_lowercase()
    );
    let nic_doc = ctx.get(&format!("{nic}?{NETWORK_API}"), &b).await.body;
    assert_eq!(nic_doc["properties"]["virtualMachine"]["id"], vm["id"]);
    // The NIC cannot go while the VM uses it.
    let r = ctx.delete(&format!("{nic}?{NETWORK_API}"), &b).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "NicInUse"));
    // Power off, then deallocate, through actions.
    let r = ctx
        .call(
            Method::POST,
            &b_path("Microsoft.Compute/virtualMachines/web/powerOff?api-version=2024-11-01"),
            Some(&b),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let iv = ctx
        .get(
            &b_path("Microsoft.Compute/virtualMachines/web/instanceView?api-version=2024-11-01"),
            &b,
        )
        .await;
    assert!(
        iv.body["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "PowerState/stopped"),
        "{}",
        iv.body
    );
    // Delete: 202 + Location, the disk stays (detached), the NIC is free again.
    let r = ctx.delete(&vm_path("web"), &b).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let loc = r.header("location").to_owned();
    assert!(ctx.wait(&loc, &b).await.status.is_success());
    assert_eq!(
        ctx.get(&vm_path("web"), &b).await.status,
        StatusCode::NOT_FOUND
    );
    let disk = ctx
        .get(&format!("{disk_id}?api-version=2025-01-02"), &b)
        .await;
    assert_eq!(disk.body["properties"]["diskState"], "Unattached");
    assert_eq!(
        ctx.delete(&format!("{nic}?{NETWORK_API}"), &b).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn compute_checks_reject_bad_vms_synchronously() {
    let ctx = TestContext::start(seed()).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let nic = consumer_network(&ctx, &b).await;
    let cases: Vec<(&str, serde_json::Value, u16, &str)> = vec![
        (
            "missing version",
            vm_body(
                &version(RG_GOLDEN, "ubuntu").replace("1.0.0", "9.9.9"),
                "Standard_D2s_v5",
                &nic,
            ),
            404,
            "GalleryImageNotFound",
        ),
        (
            "gen2 image on gen1 size",
            vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_A2_v2", &nic),
            400,
            "BadRequest",
        ),
        (
            "unknown size",
            vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_Nope_v9", &nic),
            409,
            "SkuNotAvailable",
        ),
        (
            "over quota",
            vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_D8s_v5", &nic),
            409,
            "OperationNotAllowed",
        ),
        (
            "osProfile on specialized",
            vm_body(&version(RG_GOLDEN, "snapshot"), "Standard_D2s_v5", &nic),
            400,
            "InvalidParameter",
        ),
    ];
    let aux = format!("Bearer {a}");
    for (what, body, status, code) in cases {
        let r = ctx
            .call(
                Method::PUT,
                &vm_path("bad"),
                Some(&b),
                &[("x-ms-authorization-auxiliary", &aux)],
                Some(body),
            )
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{what}: {}",
            r.body
        );
        assert_eq!(r.header("x-ms-failure-cause"), "service", "{what}");
    }
    // The not-found message keeps Compute's literal quotes and lower-case region.
    let r = ctx
        .call(
            Method::PUT,
            &vm_path("bad"),
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(vm_body(
                &version(RG_GOLDEN, "ubuntu").replace("1.0.0", "9.9.9"),
                "Standard_D2s_v5",
                &nic,
            )),
        )
        .await;
    assert!(r.message().starts_with("\"The gallery image ") && r.message().ends_with("\""));
    assert!(
        r.message()
            .contains("is not available in northeurope region")
    );
    assert_eq!(r.body["error"]["target"], "imageReference");
    // TrustedLaunch-only image on a Standard VM.
    let mut body = vm_body(&version(RG_GOLDEN, "tl"), "Standard_D2s_v5", &nic);
    body["properties"]["securityProfile"] = serde_json::Value::Null;
    let r = ctx
        .call(
            Method::PUT,
            &vm_path("bad"),
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(body),
        )
        .await;
    assert_eq!(
        r.message(),
        "The provided gallery image only supports creation of VMs and VM Scale Sets with 'TrustedLaunch' security type."
    );
    // Generalized image without osProfile.
    let mut body = vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_D2s_v5", &nic);
    body["properties"]["osProfile"] = serde_json::Value::Null;
    let r = ctx
        .call(
            Method::PUT,
            &vm_path("bad"),
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(body),
        )
        .await;
    assert_eq!(
        r.message(),
        "Required parameter 'osProfile' is missing (null)."
    );
    // Nothing was created by any of these.
    assert_eq!(
        ctx.get(&vm_path("bad"), &b).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn rbac_on_the_vm_itself_comes_before_linked_checks() {
    let ctx = TestContext::start(seed()).await;
    let b = ctx.token_b().await;
    consumer_network(&ctx, &b).await;
    let lonely = ctx.token_for(LONELY_APP, TENANT_B, ARM_SCOPE).await;
    let r = ctx
        .put(
            &vm_path("web"),
            &lonely,
            vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_D2s_v5", "x"),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "AuthorizationFailed")
    );
}

#[tokio::test]
async fn direct_shared_gallery_images_need_no_auxiliary_token() {
    let mut seed = seed();
    let g = format!(
        "/subscriptions/{SUB_A}/resourceGroups/{RG_GOLDEN}/providers/Microsoft.Compute/galleries/direct"
    );
    seed.resources.push(res(g.clone(), "westeurope", json!({
        "identifier": {"uniqueName": format!("{SUB_A}-DIRECT")},
        "sharingProfile": {"permissions": "Groups", "groups": [{"type": "Subscriptions", "ids": [SUB_B]}]}})));
    seed.resources.push(res(
        format!("{g}/images/ubuntu"),
        "westeurope",
        json!({
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
        "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}),
    ));
    seed.resources.push(res(
        format!("{g}/images/ubuntu/versions/1.0.0"),
        "westeurope",
        json!({
        "publishingProfile": {"targetRegions": [{"name": "northeurope"}]},
        "storageProfile": {"source": {"id": managed_image()}}}),
    ));
    let ctx = TestContext::start(seed).await;
    let b = ctx.token_b().await;
    let nic = consumer_network(&ctx, &b).await;
    let mut body = vm_body("unused", "Standard_D2s_v5", &nic);
    body["properties"]["storageProfile"]["imageReference"] = json!({"sharedGalleryImageId": format!("/SharedGalleries/{SUB_A}-DIRECT/Images/ubuntu/Versions/1.0.0")});
    let r = ctx.put(&vm_path("direct"), &b, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // The consumer sees the shared proxies under its own subscription.
    let shared = format!(
        "/subscriptions/{SUB_B}/providers/Microsoft.Compute/locations/northeurope/sharedGalleries/{SUB_A}-DIRECT"
    );
    let v = ctx
        .get(
            &format!("{shared}/images/ubuntu/versions/1.0.0?{GALLERY_API}"),
            &b,
        )
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert_eq!(
        v.body["identifier"]["uniqueId"],
        format!("/SharedGalleries/{SUB_A}-DIRECT/Images/ubuntu/Versions/1.0.0")
    );
    let images = ctx.get(&format!("{shared}/images?{GALLERY_API}"), &b).await;
    assert_eq!(
        images.body["value"][0]["properties"]["hyperVGeneration"], "V2",
        "{}",
        images.body
    );
    let hidden = shared.replace("-DIRECT", "-GOLDEN");
    assert_eq!(
        ctx.get(&format!("{hidden}?{GALLERY_API}"), &b).await.status,
        StatusCode::NOT_FOUND
    );
    // A unique name that is not shared with this subscription is simply not found.
    let nic2 = b_path("Microsoft.Network/networkInterfaces/nic2");
    let r = ctx.put(&format!("{nic2}?{NETWORK_API}"), &b, json!({"location": "northeurope", "properties": {"ipConfigurations": [{"name": "c",
        "properties": {"subnet": {"id": b_path("Microsoft.Network/virtualNetworks/vnet-app/subnets/default")}}}]}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    body["properties"]["networkProfile"]["networkInterfaces"][0]["id"] = json!(nic2);
    body["properties"]["storageProfile"]["imageReference"] = json!({"sharedGalleryImageId": format!("/SharedGalleries/{SUB_A}-GOLDEN/Images/ubuntu/Versions/1.0.0")});
    let r = ctx.put(&vm_path("direct2"), &b, body).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "GalleryImageNotFound")
    );
    assert!(r.message().contains(&format!(
        "/SharedGalleries/{SUB_A}-GOLDEN/Images/ubuntu/Versions/1.0.0"
    )));
}
