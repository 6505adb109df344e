//! Authorization refusals at apply time: the linked (cross-tenant) check on the image, roles
//! that no longer allow the write, and subscriptions that do not exist.

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
