//! The cross-tenant VM flow: the auxiliary header exactly where it belongs, Compute's rejections of
//! the VM PUT with their hints, and the canary across the whole run.

use serde_json::{Value, json};

use super::*;
use crate::{SUB_A, TENANT_A, a, b};

#[tokio::test]
async fn cross_tenant_vm_carries_the_aux_header_exactly_on_create_and_update() {
    let c = Ctx::start(seed()).await;
    build_world(&c).await;

    // Without the publisher's token ARM refuses the linked image: typed, with the hint.
    let err = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[])
        .await
        .unwrap_err();
    assert_eq!(err.arm_code(), Some("LinkedAuthorizationFailed"), "{err}");
    let hint = err.hint().unwrap();
    assert!(
        hint.contains(SUB_A) && hint.contains("no auxiliary token was sent"),
        "{hint}"
    );

    let created = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[a()])
        .await
        .unwrap();
    assert_eq!(
        created.body["properties"]["provisioningState"], "Succeeded",
        "{}",
        created.body
    );
    c.client
        .patch(
            &b(),
            &vm(),
            &json!({"tags": {"app": "web", "owner": "galleon"}}),
            &[a()],
        )
        .await
        .unwrap();
    let read = c.client.get(&b(), &vm()).await.unwrap();
    assert_eq!(read.body["tags"]["owner"], "galleon");
    assert!(c.client.delete(&b(), &vm(), &[]).await.unwrap());

    let log = c.log();
    let with_aux: Vec<String> = log
        .iter()
        .filter(|e| e.auxiliary)
        .map(|e| format!("{} {} {}", e.method, e.path, e.status))
        .collect();
    let vm_path = vm();
    assert_eq!(
        with_aux.len(),
        2,
        "aux header only on the VM create and update: {with_aux:?}"
    );
    assert!(
        with_aux[0].starts_with(&format!("PUT {vm_path} "))
            && with_aux[1].starts_with(&format!("PATCH {vm_path} ")),
        "{with_aux:?}"
    );
    for e in log.iter().filter(|e| e.auxiliary) {
        assert_eq!(e.auxiliary_tenants, vec![TENANT_A.to_string()]);
    }
    assert!(
        log.iter().any(|e| e.path.contains("/operations/")
            || e.path.contains("operationStatuses")
            || e.path.contains("operationResults")),
        "operations were polled"
    );
}

#[tokio::test]
async fn image_not_in_the_vm_region_is_gallery_image_not_found() {
    let c = Ctx::start(seed()).await;
    build_world(&c).await;
    // Replicated to westeurope and northeurope only; a VM in eastus cannot use it. The NIC must
    // be in the VM's region too, so build one there.
    let b = b();
    c.client
        .put(
            &b,
            &rg(SUB_B, "rg-east"),
            &json!({"location": "eastus"}),
            &[],
        )
        .await
        .unwrap();
    let east = |p: &str| format!("{}/providers/Microsoft.Network/{p}", rg(SUB_B, "rg-east"));
    c.client.put(&b, &east("virtualNetworks/v"), &json!({"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}, "subnets": [{"name": "s", "properties": {"addressPrefix": "10.20.1.0/24"}}]}}), &[]).await.unwrap();
    c.client.put(&b, &east("networkInterfaces/n"), &json!({"location": "eastus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": east("virtualNetworks/v/subnets/s")}}}]}}), &[]).await.unwrap();
    let mut body = vm_body("eastus");
    body["properties"]["networkProfile"]["networkInterfaces"][0]["id"] =
        json!(east("networkInterfaces/n"));
    let err = c
        .client
        .put(
            &b,
            &format!(
                "{}/providers/Microsoft.Compute/virtualMachines/e",
                rg(SUB_B, "rg-east")
            ),
            &body,
            &[a()],
        )
        .await
        .unwrap_err();
    assert_eq!(err.arm_code(), Some("GalleryImageNotFound"), "{err}");
    assert!(err.hint().unwrap().contains("replicate"));
}

/// What Compute rejects synchronously on the VM PUT, each with the hint that names the fix.
#[tokio::test]
async fn compute_rejections_on_the_vm_put_get_their_hints() {
    let c = Ctx::start(seed()).await;
    build_world(&c).await;
    let put = |body: Value| {
        let client = c.client.clone();
        async move { client.put(&b(), &vm(), &body, &[a()]).await.unwrap_err() }
    };
    let mut no_os_profile = vm_body("northeurope");
    no_os_profile["properties"]
        .as_object_mut()
        .unwrap()
        .remove("osProfile");
    let mut gen1_size = vm_body("northeurope");
    gen1_size["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_A1_v2");
    let mut trusted = vm_body("northeurope");
    trusted["properties"]["securityProfile"] = json!({"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}});
    let mut unknown_size = vm_body("northeurope");
    unknown_size["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_Z99_v9");
    let cases = [
        (no_os_profile, 400, "InvalidParameter", "osProfile"),
        (gen1_size, 400, "BadRequest", "Gen2"),
        (trusted, 400, "BadRequest", "security_type"),
        (unknown_size, 409, "SkuNotAvailable", "size"),
    ];
    for (body, status, code, hint_words) in cases {
        let err = put(body).await;
        assert_eq!(
            (err.status(), err.arm_code()),
            (Some(status), Some(code)),
            "{err}"
        );
        let hint = err.hint().unwrap_or_else(|| panic!("no hint for {err}"));
        assert!(hint.contains(hint_words), "{code}: {hint}");
    }

    let mut s = seed();
    s.subscriptions[1].quotas.insert(
        "cores".into(),
        [("northeurope".to_string(), 1u64)].into_iter().collect(),
    );
    let c = Ctx::start(s).await;
    build_world(&c).await;
    let err = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[a()])
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.arm_code()),
        (Some(409), Some("OperationNotAllowed")),
        "{err}"
    );
    assert!(err.hint().unwrap().contains("quota"));
}

/// The canary secret is the app's real secret in the emulator: the whole cross-tenant flow,
/// failures included, logs at TRACE without it or any token.
#[tokio::test]
async fn the_canary_never_shows_against_the_emulator() {
    let capture = crate::secrets::global_capture();
    let c = Ctx::start(seed()).await;
    build_world(&c).await;
    let missing_aux = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[])
        .await
        .unwrap_err();
    c.client
        .put(&b(), &vm(), &vm_body("northeurope"), &[a()])
        .await
        .unwrap();
    let wrong_tenant = c.client.get(&a(), &vm()).await.unwrap_err();
    let logs = capture.text();
    assert!(logs.contains("azure request"), "the capture works");
    for text in [
        logs,
        format!("{missing_aux} {missing_aux:?}"),
        format!("{wrong_tenant} {wrong_tenant:?}"),
        format!("{:?}", c.client),
    ] {
        crate::secrets::assert_clean(&text, "emulator run");
        assert!(
            !text.contains("eyJ0eXAiOiJKV1Qi") && !text.contains("eyJhbGciOiJSUzI1NiI"),
            "a JWT leaked"
        );
    }
}
