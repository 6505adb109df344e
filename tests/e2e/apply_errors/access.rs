//! Sign-in, token and authorization refusals at apply time: the linked (cross-tenant) check,
//! tokens ARM does not accept, roles and tenants that do not match the manifest.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

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

/// Replaces the app's Owner on the VM's subscription by Reader (after a plan): it can still
/// read, so a saved plan's freshness check passes, but no longer write. Returns its object id.
fn demote_to_reader(ctx: &TestContext) -> String {
    const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    let scope = format!("/subscriptions/{SUB_B}");
    let owner = assignment(ctx, &scope, OWNER);
    let principal = owner["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    ctx.admin_post(
        "resources",
        &json!({"id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/0b0b0b0b-0000-4000-8000-00000000000b"),
                "properties": {"roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
                               "principalId": principal, "principalType": "ServicePrincipal",
                               "scope": scope}}),
    );
    delete_out_of_band(ctx, owner["id"].as_str().unwrap());
    principal
}

#[test]
fn a_principal_left_with_only_reader_on_the_vm_subscription_fails_with_authorization_failed() {
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    let principal = demote_to_reader(&ctx);
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
    // The read that met it, and the manifest's tenant key galleon signed in with.
    assert!(
        text.contains(&format!(
            "Error: cannot read /subscriptions/{SUB_B}/resourcegroups in tenant publisher"
        )),
        "{text}"
    );
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
        text.contains(
            "Error: cannot read /subscriptions/cccccccc-3333-4333-8333-cccccccccccc/resourcegroups in tenant consumer"
        ),
        "{text}"
    );
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
        text.lines()
            .any(|l| l.starts_with("Error: cannot read /subscriptions/")
                && l.contains(" in tenant ")),
        "{text}"
    );
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

#[test]
fn json_events_report_the_refusal_once_and_skip_what_depends_on_it() {
    let ctx = raw_id_workspace(&FITS);
    let plan = plan_out(&ctx);
    demote_to_reader(&ctx);
    let run = ctx
        .run(&["apply", "--auto-approve", "--json", plan.to_str().unwrap()])
        .expect(1);
    let events: Vec<Value> = run
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let failed: Vec<&Value> = events.iter().filter(|e| e["event"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    let f = failed[0];
    assert_eq!(f["step"]["address"], "resource_group.app");
    assert_eq!(f["error"]["code"], "AuthorizationFailed");
    assert!(
        f["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The client '0a0a0a0a-3333-4333-8333-333333333333' with object id"),
        "{f}"
    );
    assert!(
        f["hint"]
            .as_str()
            .is_some_and(|h| h.contains("needs a role allowing")),
        "{f}"
    );
    // Every other step waited on the group: skipped, naming it, never failed on its own.
    let skipped: Vec<&Value> = events.iter().filter(|e| e["event"] == "skipped").collect();
    assert_eq!(skipped.len(), 5, "{events:?}");
    assert!(
        skipped
            .iter()
            .all(|e| e["because"]["address"] == "resource_group.app"),
        "{skipped:?}"
    );
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(
        (
            &summary["failed"],
            &summary["skipped"],
            &summary["created"],
            &summary["outcome"]
        ),
        (&json!(1), &json!(5), &json!(0), &json!("failed"))
    );
}

#[test]
fn a_raw_id_image_in_a_subscription_this_cloud_does_not_have_is_refused_by_the_plan() {
    // Azure would answer the VM PUT "the linked subscription ... was not found"; galleon reads
    // the image first and refuses the plan, before writing anything.
    let ctx = raw_id_workspace(&FITS);
    let unknown = "cccccccc-3333-4333-8333-cccccccccccc";
    ctx.edit(
        "app.yaml",
        &format!("image: /subscriptions/{SUB_A}"),
        &format!("image: /subscriptions/{unknown}"),
    );
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    let text = output(&run);
    assert!(
        text.lines().any(
            |l| l.contains("FAIL [image-version-exists] vm.web: image version")
                && l.contains(&format!("/subscriptions/{unknown}/"))
                && l.ends_with("does not exist")
        ),
        "{text}"
    );
    assert!(
        text.contains("Error: preflight checks failed; nothing was changed"),
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
