//! Compute's refusals of a VM PUT that only Azure can tell at apply time: the image (raw id,
//! changed after the plan) no longer fits the VM, or the size or quota is not there.

use serde_json::json;

use super::*;

#[test]
fn a_raw_id_image_not_replicated_to_the_vm_region_fails_with_gallery_image_not_found() {
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    // The owner drops the VM's region from the version after the plan read it.
    publish(
        &ctx,
        &Image {
            regions: &["westeurope"],
            ..FITS
        },
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "GalleryImageNotFound",
        &format!(
            "\"The gallery image {} is not available in northeurope region. Please contact image owner to replicate to this region, or change your requested region.\"",
            version_id()
        ),
        "add the region to the version's target_regions",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 404);
    // Once the owner replicates again, the next apply creates only the VM.
    publish(&ctx, &FITS);
    assert_converges(&ctx);
}

#[test]
fn a_specialized_raw_id_image_with_an_admin_user_fails_with_invalid_parameter() {
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    // The definition is recreated Specialized; the VM still sets an admin user and SSH key.
    publish(
        &ctx,
        &Image {
            os_state: "Specialized",
            ..FITS
        },
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "InvalidParameter",
        "Parameter 'osProfile' is not allowed.",
        "Specialized images must not set them",
    );
    assert!(output(&run).contains("(target: osProfile)"));
    assert_eq!(last_vm_write(&ctx)["status"], 400);
}

#[test]
fn a_gen2_raw_id_image_on_a_gen1_size_fails_with_bad_request() {
    // A Gen1-only size (Av2: no premium storage, no Trusted Launch) on a Gen1 image: fits.
    let gen1 = Image {
        generation: "V1",
        security: None,
        ..FITS
    };
    let ctx = raw_id_workspace(&gen1);
    ctx.edit("app.yaml", "size: Standard_D2s_v5", "size: Standard_A1_v2");
    ctx.edit("app.yaml", "    security_type: TrustedLaunch\n", "");
    ctx.edit("app.yaml", "storage: Premium_LRS", "storage: Standard_LRS");
    let plan = plan_out(&ctx);
    // The definition is recreated as Gen2.
    publish(
        &ctx,
        &Image {
            generation: "V2",
            ..gen1
        },
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "BadRequest",
        "The selected VM size 'Standard_A1_v2' cannot boot Hypervisor Generation '2'. If this was a Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor Generation of the selected VM Size.",
        "pick a size that supports the image definition's hyper_v_generation",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 400);
}

#[test]
fn a_raw_id_image_requiring_trusted_launch_fails_a_standard_vm_with_bad_request() {
    let ctx = raw_id_workspace(&FITS);
    ctx.edit("app.yaml", "    security_type: TrustedLaunch\n", "");
    let plan = plan_out(&ctx);
    // The definition now only supports Trusted Launch; the VM is Standard.
    publish(
        &ctx,
        &Image {
            security: Some("TrustedLaunch"),
            ..FITS
        },
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "BadRequest",
        "The provided gallery image only supports creation of VMs and VM Scale Sets with 'TrustedLaunch' security type.",
        "set the VM's security_type to match the image",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 400);
}

#[test]
fn a_size_the_region_does_not_offer_fails_with_sku_not_available() {
    // Only Compute knows which sizes a region offers: galleon lets unknown sizes through.
    let ctx = raw_id_workspace(&FITS);
    ctx.edit(
        "app.yaml",
        "size: Standard_D2s_v5",
        "size: Standard_NC6s_v3",
    );
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let vm = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    );
    assert_vm_failed(
        &ctx,
        &run,
        "SkuNotAvailable",
        &format!(
            "The requested size for resource '{vm}' is currently not available in location 'northeurope' zones '1' for subscription '{SUB_B}'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details."
        ),
        "pick another size, region or zone",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 409);
}

#[test]
fn a_vm_over_the_regional_core_quota_fails_with_operation_not_allowed() {
    // The plan's `vm-quota` check saw room; another deployment (or a lowered limit) took it
    // before the apply, so Compute refuses the PUT.
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    ctx.admin_put(
        &format!("subscriptions/{SUB_B}/quotas"),
        &json!({"cores": {"northeurope": 1}}),
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "OperationNotAllowed",
        "Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, Location: northeurope, Current Limit: 1, Current Usage: 0, Additional Required: 2, (Minimum) New Limit Required: 2.",
        "the subscription's vCPU quota is too small for this VM",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 409);
    // With the quota raised, the next apply creates only the VM.
    ctx.admin_put(
        &format!("subscriptions/{SUB_B}/quotas"),
        &json!({"cores": {"northeurope": 2}}),
    );
    assert_converges(&ctx);
}

#[test]
fn a_generalized_raw_id_image_without_an_admin_user_fails_with_invalid_parameter() {
    // A Specialized image and a VM without admin user or key: fits, until the definition is
    // recreated Generalized.
    let specialized = Image {
        os_state: "Specialized",
        ..FITS
    };
    let ctx = raw_id_workspace(&specialized);
    ctx.edit("app.yaml", "    admin_username: azureuser\n", "");
    let app = std::fs::read_to_string(ctx.workspace.join("app.yaml")).unwrap();
    let key = app
        .lines()
        .find(|l| l.trim_start().starts_with("ssh_public_key:"))
        .expect("the example sets a key")
        .to_owned();
    ctx.edit("app.yaml", &format!("{key}\n"), "");
    let plan = plan_out(&ctx);
    publish(
        &ctx,
        &Image {
            os_state: "Generalized",
            ..specialized
        },
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "InvalidParameter",
        "Required parameter 'osProfile' is missing (null).",
        "Generalized images need admin_username/ssh key",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 400);
}

#[test]
fn a_raw_id_definition_whose_only_version_left_latest_fails_with_gallery_image_not_found() {
    // The VM takes "latest" of the definition; after the plan, the owner excludes the only
    // version from latest, so no version is eligible in any region (arm-errors.md §4.8).
    let ctx = raw_id_workspace(&FITS);
    let definition = format!("{}/images/ubuntu", gallery());
    ctx.edit("app.yaml", &version_id(), &definition);
    let plan = plan_out(&ctx);
    publish(
        &ctx,
        &Image {
            exclude_from_latest: true,
            ..FITS
        },
    );
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    assert_vm_failed(
        &ctx,
        &run,
        "GalleryImageNotFound",
        &format!(
            "\"The gallery image {definition} is not available in northeurope region. Please contact image owner to replicate to this region, or change your requested region.\""
        ),
        "add the region to the version's target_regions",
    );
    assert_eq!(last_vm_write(&ctx)["status"], 404);
}
