//! Issue 11: the troubleshooting rows only Azure can tell, proven through `galleon apply`.
//!
//! `docs/troubleshooting.md` promises that when Azure refuses the VM PUT, galleon prints Azure's
//! code and message, the address of the step that failed and a hint. Most of these conditions
//! are caught earlier (validate, plan preflight) when galleon can see them, so each test sets
//! up what galleon cannot see: an image referenced by raw ARM id whose gallery changes between
//! `plan --out` and `apply` (galleon fingerprints what it writes, not the images it reads), a
//! size or quota only Compute knows, or tokens Azure no longer accepts. The emulator answers
//! each with Azure's status, code and message (arm-errors.md §1-§4, cited in
//! `crates/galleon-emulator/src/providers/compute/checks.rs` and `src/arm/auth.rs`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::context::{Run, TestContext};

const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
/// Owner's built-in role definition id (the seed gives the app Owner on each subscription).
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

fn gallery() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-ext/providers/Microsoft.Compute/galleries/ext"
    )
}

/// The version the VM references by raw id.
fn version_id() -> String {
    format!("{}/images/ubuntu/versions/1.0.0", gallery())
}

/// The published image as the other tenant's gallery holds it.
struct Image {
    os_state: &'static str,
    generation: &'static str,
    /// The definition's `SecurityType` feature, if any.
    security: Option<&'static str>,
    regions: &'static [&'static str],
}

/// What the seed example's VM needs: Generalized, Gen2, Trusted Launch capable, in its region.
const FITS: Image = Image {
    os_state: "Generalized",
    generation: "V2",
    security: Some("TrustedLaunchSupported"),
    regions: &["westeurope", "northeurope"],
};

/// The seed example with the VM's image given as a raw ARM id in the publisher tenant (a
/// gallery this workspace does not manage; `images.yaml` is gone), published as `image`.
fn raw_id_workspace(image: &Image) -> TestContext {
    let ctx = TestContext::new("cross-tenant");
    std::fs::remove_file(ctx.workspace.join("images.yaml")).expect("remove images.yaml");
    ctx.edit(
        "app.yaml",
        "image: golden/ubuntu/1.0.0",
        &format!("image: {}\n    image_tenant: publisher", version_id()),
    );
    let rg = format!("/subscriptions/{SUB_A}/resourceGroups/rg-ext");
    ctx.admin_post("resources", &json!({"id": rg, "location": "westeurope"}));
    ctx.admin_post(
        "resources",
        &json!({"id": gallery(), "location": "westeurope",
                "properties": {"provisioningState": "Succeeded"}}),
    );
    publish(&ctx, image);
    ctx
}

/// Writes (or rewrites, out of band) the image definition and its version.
fn publish(ctx: &TestContext, image: &Image) {
    let features: Vec<Value> = image
        .security
        .map(|s| json!({"name": "SecurityType", "value": s}))
        .into_iter()
        .collect();
    ctx.admin_post(
        "resources",
        &json!({"id": format!("{}/images/ubuntu", gallery()), "location": "westeurope",
                "properties": {"osType": "Linux", "osState": image.os_state,
                               "hyperVGeneration": image.generation, "features": features,
                               "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": "22_04"},
                               "provisioningState": "Succeeded"}}),
    );
    let regions: Vec<Value> = image.regions.iter().map(|r| json!({"name": r})).collect();
    ctx.admin_post(
        "resources",
        &json!({"id": version_id(), "location": "westeurope",
                "properties": {"publishingProfile": {"targetRegions": regions},
                               "provisioningState": "Succeeded"}}),
    );
}

/// `galleon plan --out`: the plan passes preflight against the image as it is now.
fn plan_out(ctx: &TestContext) -> PathBuf {
    let path = ctx.workspace.join("plan.json");
    let run = ctx
        .run(&["plan", "--out", path.to_str().unwrap()])
        .expect(0);
    assert!(
        run.stdout().contains("0 failed"),
        "preflight did not pass: {}",
        run.stdout()
    );
    path
}

/// Both streams: progress goes to stdout, the failure and its hint may go to either.
fn output(run: &Run) -> String {
    format!("{}\n{}", run.stdout(), run.stderr())
}

/// The VM's step failed with Azure's `code` and `message` and galleon's `hint`; everything
/// before it was created and the VM was not.
#[track_caller]
fn assert_vm_failed(ctx: &TestContext, run: &Run, code: &str, message: &str, hint: &str) {
    let text = output(run);
    let line = text
        .lines()
        .find(|l| l.starts_with("vm.web: failed"))
        .unwrap_or_else(|| panic!("no failure line for vm.web:\n{text}"));
    assert!(line.contains(&format!("{code}: ")), "{line}");
    assert!(line.contains(message), "{line}\n--- wanted\n{message}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("hint: ") && l.contains(hint)),
        "no hint containing {hint:?}:\n{text}"
    );
    assert!(
        text.contains("5 created, 1 failed"),
        "other steps broke:\n{text}"
    );
    assert!(ctx.resource("/virtualmachines/web").is_none());
    let nic = ctx
        .resource("/networkinterfaces/web-nic")
        .expect("the NIC was created");
    assert_eq!(nic["tags"]["galleon-address"], "nic.web");
}

/// `DELETE {admin}/resources?id=...` (the context has no helper for it).
fn delete_out_of_band(ctx: &TestContext, id: &str) {
    let ca = std::fs::read_to_string(&ctx.ca_file).expect("CA file");
    let http = galleon_azure::build_client(Some(&ca)).expect("http client");
    let url = format!("{}/_emulator/resources", ctx.endpoint);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let removed: Value = runtime.block_on(async {
        let resp = http
            .delete(url)
            .query(&[("id", id)])
            .send()
            .await
            .expect("admin DELETE");
        resp.json().await.expect("admin JSON")
    });
    assert_ne!(
        removed["removed"],
        json!(0),
        "{id} was not removed: {removed}"
    );
}

/// The last answer Azure gave a VM write.
fn last_vm_write(ctx: &TestContext) -> Value {
    ctx.requests()
        .into_iter()
        .filter(|r| r["method"] == "PUT")
        .rfind(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.to_lowercase().ends_with("/virtualmachines/web"))
        })
        .expect("a VM PUT reached the emulator")
}

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
}

#[test]
fn a_raw_id_image_whose_gallery_grants_nothing_fails_with_linked_authorization() {
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    // The publisher revokes the app's only role in its subscription (Owner, which let the
    // plan read the image); the gallery grants nothing else.
    let owner = ctx
        .resources()
        .into_iter()
        .find(|r| {
            r["type"] == "Microsoft.Authorization/roleAssignments"
                && r["properties"]["scope"] == format!("/subscriptions/{SUB_A}")
                && r["properties"]["roleDefinitionId"]
                    .as_str()
                    .is_some_and(|d| d.ends_with(OWNER))
        })
        .expect("the seed's Owner assignment in the publisher subscription");
    delete_out_of_band(&ctx, owner["id"].as_str().unwrap());
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    // Azure lower-cases the linked action and scope, not the primary scope (arm-errors.md §1.1).
    let vm = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    );
    assert_vm_failed(
        &ctx,
        &run,
        "LinkedAuthorizationFailed",
        &format!(
            "has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '{vm}'; however, it does not have permission to perform action(s) 'microsoft.compute/galleries/images/versions/read' on the linked scope(s) '{}' (respectively) or the linked scope(s) are invalid.",
            version_id().to_lowercase()
        ),
        "Compute Gallery Image Reader",
    );
    // The token reached the image's tenant: this is the role form, not the tenant form.
    let put = last_vm_write(&ctx);
    assert_eq!(put["status"], 403);
    assert_eq!(
        put["auxiliary_tenants"],
        json!(["11111111-1111-4111-8111-111111111111"])
    );
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
}

#[test]
fn a_token_azure_calls_expired_even_after_a_refresh_fails_with_the_clock_hint() {
    // The machine's clock is an hour behind Azure's: every token galleon holds, and every new
    // one Entra issues, is already expired by the time ARM sees it.
    let ctx = raw_id_workspace(&FITS);
    let mut settings = ctx.admin_get("settings");
    settings["lro_default_ms"] = json!(1500);
    ctx.admin_put("settings", &settings);
    let child = ctx
        .galleon()
        .args(["apply", "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // The first ARM write, once the apply holds its lock (the blob lease is a PUT too).
    let arm_write = |r: &Value| {
        r["method"] == "PUT"
            && r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/subscriptions/"))
    };
    while !ctx.requests().iter().any(arm_write) {
        assert!(Instant::now() < deadline, "no write started");
        std::thread::sleep(Duration::from_millis(20));
    }
    settings["token_lifetime_secs"] = json!(0);
    ctx.admin_put("settings", &settings);
    ctx.admin_post("clock/advance", &json!({"seconds": 3660}));
    let run = Run(child.wait_with_output().unwrap()).expect(1);
    let text = output(&run);
    let failed = text
        .lines()
        .find(|l| l.contains(": failed after") && l.contains("ExpiredAuthenticationToken: "))
        .unwrap_or_else(|| panic!("no step failed on an expired token:\n{text}"));
    // Azure's message and the address of the step that met it.
    assert!(
        failed.contains("The access token expiry UTC time '")
            && failed.contains("' is earlier than current UTC time '"),
        "{failed}"
    );
    let address = failed.split(": failed").next().unwrap();
    assert!(
        [
            "resource_group.app",
            "nsg.web",
            "network.app",
            "public_ip.web",
            "nic.web",
            "vm.web"
        ]
        .contains(&address),
        "{failed}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("hint: ")
                && l.contains("check this machine's clock")),
        "{text}"
    );
    // galleon did try a fresh token before giving up.
    let advanced_at = ctx
        .requests()
        .into_iter()
        .find(|r| r["status"] == 401)
        .expect("ARM refused a token")["time"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ctx.requests().iter().any(|r| {
        r["path"]
            .as_str()
            .unwrap_or("")
            .ends_with("/oauth2/v2.0/token")
            && r["status"] == 200
            && r["time"].as_str().unwrap_or("") > advanced_at.as_str()
    }));
    assert!(ctx.resource("/virtualmachines/web").is_none());
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
fn a_cloud_whose_metadata_names_another_audience_fails_with_invalid_audience() {
    // galleon asks for tokens for the audience the cloud's metadata advertises; here it names
    // another resource, so ARM refuses every token, before anything is written.
    let ctx = raw_id_workspace(&FITS);
    let mut settings = ctx.admin_get("settings");
    settings["metadata_audiences"] = json!(["https://storage.azure.com"]);
    ctx.admin_put("settings", &settings);
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let text = output(&run);
    assert!(
        text.contains("401 InvalidAuthenticationTokenAudience: The access token has been obtained for wrong audience or resource 'https://storage.azure.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("hint: ")
            && l.contains("the token was issued for another resource or cloud: check --endpoint")),
        "{text}"
    );
    // Nothing was written: not even the lock, which galleon takes only once it has a plan.
    assert!(
        !ctx.requests()
            .iter()
            .any(|r| matches!(r["method"].as_str(), Some("PUT" | "PATCH" | "DELETE"))),
        "a write was attempted"
    );
    assert!(ctx.resource("/resourceGroups/rg-app").is_none());
}

/// The seed's role assignment of `role` at exactly `scope`.
fn assignment(ctx: &TestContext, scope: &str, role: &str) -> Value {
    ctx.resources()
        .into_iter()
        .find(|r| {
            r["type"] == "Microsoft.Authorization/roleAssignments"
                && r["properties"]["scope"] == scope
                && r["properties"]["roleDefinitionId"]
                    .as_str()
                    .is_some_and(|d| d.ends_with(role))
        })
        .unwrap_or_else(|| panic!("no {role} assignment at {scope}"))
}

#[test]
fn a_principal_left_with_only_reader_on_the_vm_subscription_fails_with_authorization_failed() {
    const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    // After the plan, the app's Owner on the VM's subscription is replaced by Reader: it can
    // still read (the saved plan's freshness check passes) but no longer write.
    let scope = format!("/subscriptions/{SUB_B}");
    let owner = assignment(&ctx, &scope, OWNER);
    let principal = owner["properties"]["principalId"].as_str().unwrap();
    ctx.admin_post(
        "resources",
        &json!({"id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/0b0b0b0b-0000-4000-8000-00000000000b"),
                "properties": {"roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
                               "principalId": principal, "principalType": "ServicePrincipal",
                               "scope": scope}}),
    );
    delete_out_of_band(&ctx, owner["id"].as_str().unwrap());
    let run = ctx
        .run(&["apply", "--auto-approve", plan.to_str().unwrap()])
        .expect(1);
    let text = output(&run);
    let line = text
        .lines()
        .find(|l| l.starts_with("resource_group.app: failed"))
        .unwrap_or_else(|| panic!("the first write did not fail:\n{text}"));
    assert!(
        line.contains(&format!(
            "AuthorizationFailed: The client '0a0a0a0a-3333-4333-8333-333333333333' with object id '{principal}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '/subscriptions/{SUB_B}/resourceGroups/rg-app' or the scope is invalid. If access was recently granted, please refresh your credentials."
        )),
        "{line}"
    );
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("hint: ")
            && l.contains(
                "needs a role allowing 'Microsoft.Resources/subscriptions/resourceGroups/write'"
            )),
        "{text}"
    );
    // Everything depends on the group: nothing else was attempted.
    assert!(
        !ctx.resources()
            .iter()
            .any(|r| r["tags"]["galleon-workspace"] == "cross-tenant"),
        "something was created"
    );
    let writes: Vec<Value> = ctx
        .requests()
        .into_iter()
        .filter(|r| {
            r["method"] == "PUT"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/subscriptions/"))
        })
        .collect();
    assert!(writes.iter().all(|r| r["status"] == 403), "{writes:?}");
}

#[test]
fn a_resource_group_whose_tenant_does_not_own_its_subscription_fails_with_the_wrong_issuer() {
    // The consumer subscription named under the publisher tenant: galleon signs in to the
    // publisher for it, and ARM names the tenant it trusts.
    let ctx = raw_id_workspace(&FITS);
    ctx.edit("app.yaml", "tenant: consumer", "tenant: publisher");
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let text = output(&run);
    assert!(
        text.contains("401 InvalidAuthenticationTokenTenant: The access token is from the wrong issuer 'https://sts.windows.net/11111111-1111-4111-8111-111111111111/'. It must match the tenant 'https://sts.windows.net/22222222-2222-4222-8222-222222222222/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/22222222-2222-4222-8222-222222222222' to get the token."),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("hint: ") && l.contains("does not own the subscription")),
        "{text}"
    );
    assert!(
        !ctx.requests().iter().any(|r| r["method"] == "PUT"
            && r["path"]
                .as_str()
                .unwrap_or("")
                .starts_with("/subscriptions/")),
        "an ARM write was attempted"
    );
}

#[test]
fn a_resource_group_in_a_subscription_this_cloud_does_not_have_fails_with_subscription_not_found() {
    let ctx = raw_id_workspace(&FITS);
    let unknown = "cccccccc-3333-4333-8333-cccccccccccc";
    ctx.edit("app.yaml", SUB_B, unknown);
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let text = output(&run);
    assert!(
        text.contains(&format!(
            "SubscriptionNotFound: The subscription '{unknown}' could not be found."
        )),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("hint: ")
            && l.contains("the subscription does not exist in this cloud")),
        "{text}"
    );
    assert!(ctx.resource("/resourceGroups/rg-app").is_none());
}

#[test]
fn a_raw_id_image_in_another_tenant_without_image_tenant_fails_with_linked_authorization() {
    // Without `image_tenant` galleon treats the image as the VM's tenant's: it sends no
    // auxiliary token, and ARM refuses the link before Compute sees the VM.
    let ctx = raw_id_workspace(&FITS);
    ctx.edit("app.yaml", "    image_tenant: publisher\n", "");
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let vm = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    );
    assert_vm_failed(
        &ctx,
        &run,
        "LinkedAuthorizationFailed",
        &format!(
            "The client has permission to perform action 'Microsoft.Compute/galleries/images/versions/read' on scope '{vm}', however the current tenant '22222222-2222-4222-8222-222222222222' is not authorized to access linked subscription '{SUB_A}'."
        ),
        "no auxiliary token was sent",
    );
    let put = last_vm_write(&ctx);
    assert_eq!(put["status"], 403);
    assert_eq!(put["auxiliary"], false);
}

#[test]
fn an_app_without_a_service_principal_in_the_vm_tenant_fails_with_aadsts700016() {
    // The consumer tenant signs in with an app that was never consented there: Entra refuses
    // the token, and galleon prints the consent link before reading or writing anything.
    const APP: &str = "0c0c0c0c-4444-4444-8444-444444444444";
    let ctx = raw_id_workspace(&FITS);
    let path = ctx.workspace.join("tenants.yaml");
    let tenants = std::fs::read_to_string(&path).unwrap();
    let at = tenants.find("  consumer:").expect("the consumer tenant");
    let consumer = tenants[at..].replacen("0a0a0a0a-3333-4333-8333-333333333333", APP, 1);
    std::fs::write(&path, format!("{}{consumer}", &tenants[..at])).unwrap();
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let text = output(&run);
    let error = text
        .lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or_else(|| panic!("{text}"));
    // The tenant concerned (`tenants.consumer`), then Entra's code and message.
    assert!(error.ends_with("in tenant consumer"), "{error}");
    assert!(
        text.contains(&format!(
            "AADSTS700016: Application with identifier '{APP}' was not found in the directory 'consumer'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        )),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("hint: ")
            && l.contains(&format!(
                "/22222222-2222-4222-8222-222222222222/adminconsent?client_id={APP}"
            ))
            && l.contains(&format!("az ad sp create --id {APP}"))),
        "{text}"
    );
    assert!(
        !ctx.requests().iter().any(|r| r["method"] == "PUT"),
        "something was written"
    );
}
