//! Compute's refusals that come from state Azure holds rather than from the request: a size
//! the subscription may not deploy in the region (admin `restrictions`), an image version
//! encrypted with another subscription's disk encryption set, and a version whose source
//! carries a purchase plan its image definition lacks (arm-errors.md §4.5, §5.1 rows 9-10).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;
use crate::world::*;

async fn put_vm(ctx: &TestContext, b: &str, a: &str, body: Value) -> Answer {
    let path = format!(
        "{}?{COMPUTE_API}",
        b_path("Microsoft.Compute/virtualMachines/web")
    );
    let aux = format!("Bearer {a}");
    ctx.call(
        Method::PUT,
        &path,
        Some(b),
        &[("x-ms-authorization-auxiliary", aux.as_str())],
        Some(body),
    )
    .await
}

async fn admin_resource(ctx: &TestContext, doc: Value) {
    let a = ctx.admin(Method::POST, "/resources", Some(doc)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

fn des(sub: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des"
    )
}

fn builder_vm() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-image-build/providers/Microsoft.Compute/virtualMachines/builder"
    )
}

fn plan() -> Value {
    json!({"name": "cis-ubuntu2204-l1", "publisher": "center-for-internet-security-inc",
           "product": "cis-ubuntu-linux-2204-l1"})
}

/// The seeded `ubuntu` version rewritten out of band: made from `source`, with `north` as
/// its northeurope target region.
async fn republish(ctx: &TestContext, source: &str, north: Value) {
    admin_resource(
        ctx,
        json!({"id": version(RG_GOLDEN, "ubuntu"), "location": "westeurope", "properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope"}, north]},
            "storageProfile": {"source": {"id": source}}}}),
    )
    .await;
}

#[tokio::test]
async fn restrictions_encryption_sets_and_purchase_plans_refuse_the_vm_until_fixed() {
    let ctx = TestContext::start(seed()).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let nic = consumer_network(&ctx, &b).await;
    let body = vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_D2s_v5", &nic);
    let vm = b_path("Microsoft.Compute/virtualMachines/web");

    let unknown = ctx
        .admin(
            Method::PUT,
            "/subscriptions/cccccccc-0000-4000-8000-cccccccccccc/restrictions",
            Some(json!({})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let r = ctx
        .admin(
            Method::PUT,
            &format!("/subscriptions/{SUB_B}/restrictions"),
            Some(json!({"North Europe": ["standard_d2s_v5"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = put_vm(&ctx, &b, &a, body.clone()).await;
    assert_eq!(
        (r.status, r.code(), r.message()),
        (
            StatusCode::CONFLICT,
            "NotAvailableForSubscription",
            "This size is currently unavailable in this location for this subscription"
        )
    );
    // Lifted; the rest of the test uses another size so no stale restriction could explain it.
    let mut other = body.clone();
    other["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_D4s_v5");
    let r = ctx
        .admin(
            Method::PUT,
            &format!("/subscriptions/{SUB_B}/restrictions"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    republish(
        &ctx,
        &managed_image(),
        json!({"name": "northeurope", "encryption": {"osDiskImage": {"diskEncryptionSetId": des(SUB_A)}}}),
    )
    .await;
    let r = put_vm(&ctx, &b, &a, other.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "BadRequest")
    );
    assert_eq!(
        r.message(),
        format!(
            "Disk encryption set {} in Azure Compute Gallery {} belongs to subscription {SUB_A} and cannot be used with resource '' in subscription {SUB_B}",
            des(SUB_A),
            version(RG_GOLDEN, "ubuntu")
        )
    );

    admin_resource(
        &ctx,
        json!({"id": builder_vm(), "location": "westeurope", "extra": {"plan": plan()},
               "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}}}),
    )
    .await;
    republish(&ctx, &builder_vm(), json!({"name": "northeurope"})).await;
    let r = put_vm(&ctx, &b, &a, other.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "BadRequest")
    );
    assert_eq!(
        r.message(),
        format!(
            "The resource with id {vm} has a different plan ['{{\"name\":\"cis-ubuntu2204-l1\",\"publisher\":\"center-for-internet-security-inc\",\"product\":\"cis-ubuntu-linux-2204-l1\",\"promotionCode\":\"\"}}'] than the parent gallery image plan ['null']"
        )
    );
    assert_eq!(
        ctx.get(&format!("{vm}?{COMPUTE_API}"), &b).await.status,
        StatusCode::NOT_FOUND
    );

    // The owner recreates the definition with the source's plan: the VM is created.
    let mut def = ctx
        .get(
            &format!("{}?{GALLERY_API}", definition(RG_GOLDEN, "ubuntu")),
            &a,
        )
        .await
        .body;
    def["properties"]["purchasePlan"] = plan();
    admin_resource(
        &ctx,
        json!({"id": definition(RG_GOLDEN, "ubuntu"), "location": "westeurope", "properties": def["properties"]}),
    )
    .await;
    let r = put_vm(&ctx, &b, &a, other).await;
    assert!(r.status.is_success(), "{}", r.body);
}
