//! Compute's refusals of a VM PUT that come from state Azure holds, not from the manifest: a
//! size the subscription may not deploy in the region, and an image version (raw id, changed
//! after the plan) encrypted with another subscription's disk encryption set or made from a
//! source whose purchase plan its definition lacks (arm-errors.md §4.5, §5.1 rows 9-10).

use serde_json::{Value, json};

use super::*;

fn vm_id() -> String {
    format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    )
}

#[test]
fn a_size_restricted_for_the_subscription_fails_with_not_available_for_subscription() {
    // Only Compute's SKU restrictions know it; galleon's plan does not read them.
    let ctx = raw_id_workspace(&FITS);
    let restrictions = format!("subscriptions/{SUB_B}/restrictions");
    ctx.admin_put(&restrictions, &json!({"northeurope": ["Standard_D2s_v5"]}));
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "NotAvailableForSubscription",
        "This size is currently unavailable in this location for this subscription",
        "the subscription may not deploy this VM size in this region: pick another size or region",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 409);
    ctx.admin_put(&restrictions, &json!({}));
    assert_converges(&ctx);
}

/// Rewrites the version out of band with `properties` merged over what `publish` writes.
fn republish_version(ctx: &TestContext, properties: Value) {
    let mut props = json!({"publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
                           "provisioningState": "Succeeded"});
    if let (Some(base), Some(more)) = (props.as_object_mut(), properties.as_object()) {
        base.extend(more.clone());
    }
    ctx.admin_post(
        "resources",
        &json!({"id": version_id(), "location": "westeurope", "properties": props}),
    );
}

#[test]
fn a_raw_id_version_encrypted_in_another_subscription_fails_with_the_encryption_set_message() {
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    // The owner republishes the version with its northeurope replica encrypted by a disk
    // encryption set of the publisher's subscription.
    let des = format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-ext/providers/Microsoft.Compute/diskEncryptionSets/cmk"
    );
    republish_version(
        &ctx,
        json!({"publishingProfile": {"targetRegions": [
            {"name": "westeurope"},
            {"name": "northeurope", "encryption": {"osDiskImage": {"diskEncryptionSetId": des}}}]}}),
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "BadRequest",
        &format!(
            "Disk encryption set {des} in Azure Compute Gallery {} belongs to subscription {SUB_A} and cannot be used with resource '' in subscription {SUB_B}",
            version_id()
        ),
        "encrypted with a disk encryption set from another subscription",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 400);
    publish(&ctx, &FITS);
    assert_converges(&ctx);
}

#[test]
fn a_raw_id_version_whose_source_has_a_purchase_plan_the_definition_lacks_fails_with_the_plan_message()
 {
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    // The owner republishes the version from a VM built from a Marketplace image with a plan;
    // the definition carries no purchase plan.
    let builder = format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-ext/providers/Microsoft.Compute/virtualMachines/builder"
    );
    let marketplace = json!({"name": "cis-ubuntu2204-l1", "publisher": "center-for-internet-security-inc",
                             "product": "cis-ubuntu-linux-2204-l1"});
    ctx.admin_post(
        "resources",
        &json!({"id": builder, "location": "westeurope", "extra": {"plan": marketplace},
                "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}}}),
    );
    republish_version(
        &ctx,
        json!({"storageProfile": {"source": {"virtualMachineId": builder}}}),
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "BadRequest",
        &format!(
            "The resource with id {} has a different plan ['{{\"name\":\"cis-ubuntu2204-l1\",\"publisher\":\"center-for-internet-security-inc\",\"product\":\"cis-ubuntu-linux-2204-l1\",\"promotionCode\":\"\"}}'] than the parent gallery image plan ['null']",
            vm_id()
        ),
        "the image definition lacks its source's purchase plan",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 400);
    // The owner recreates the definition with the source's plan.
    let mut definition = ctx
        .resource("/galleries/ext/images/ubuntu")
        .expect("the definition");
    definition["properties"]["purchasePlan"] = marketplace;
    ctx.admin_post(
        "resources",
        &json!({"id": definition["id"], "location": "westeurope",
                "properties": definition["properties"]}),
    );
    assert_converges(&ctx);
}
