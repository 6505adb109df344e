//! Refusals of what reaches ARM rather than of what galleon asked: a proxy between galleon and
//! Azure that strips or rewrites the `Authorization` header, a tenant whose tokens come from
//! another cloud's Entra ID, and the service-principal-less tokens Entra issued before March
//! 2026. The emulator only damages the request or issues the token (fault `authorization`,
//! settings `other_cloud_tenants` and `service_principal_less_tokens`); its ARM token
//! validation answers with Azure's 401s (arm-errors.md §3).

use serde_json::json;

use super::*;

const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
const CONSUMER: &str = "22222222-2222-4222-8222-222222222222";

/// A proxy rule that damages the `Authorization` header of the VM's PUT only, so everything
/// before it is created and the failure names the VM's address.
fn proxy_damages_the_vm_put(damage: &str, code: &str, message: &str, hint: &str) {
    let ctx = raw_id_workspace(&FITS);
    ctx.admin_put(
        "faults",
        &json!({"authorization": damage, "method": "PUT", "path_contains": "/virtualMachines/"}),
    );
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    assert_vm_failed(&ctx, &run, code, message, hint);
    // galleon sent its bearer token; the proxy's damage is what ARM refused.
    let put = last_vm_write(&ctx);
    assert_eq!(put["status"], 401);
    assert_eq!(put["fault"], format!("authorization_{damage}"));
    assert!(
        put["headers"]
            .as_array()
            .is_some_and(|h| h.contains(&json!("authorization"))),
        "{put}"
    );
    // Once the proxy lets the header through, the next apply creates only the VM.
    ctx.admin_put("faults", &json!({}));
    assert_converges(&ctx);
}

#[test]
fn a_proxy_that_strips_the_authorization_header_fails_with_authentication_failed() {
    proxy_damages_the_vm_put(
        "strip",
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
        "a proxy between galleon and Azure (HTTPS_PROXY) stripped it",
    );
}

#[test]
fn a_proxy_that_rewrites_the_bearer_scheme_fails_with_authentication_failed_invalid_header() {
    proxy_damages_the_vm_put(
        "not_bearer",
        "AuthenticationFailedInvalidHeader",
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        "a proxy between galleon and Azure (HTTPS_PROXY) rewrote it",
    );
}

/// The consumer tenant's first read is refused with `message`; galleon names the read and the
/// tenant, prints `hint`, and writes nothing.
#[track_caller]
fn assert_consumer_read_refused(ctx: &TestContext, run: &Run, message: &str, hint: &str) {
    let text = output(run);
    assert!(
        text.lines()
            .any(|l| l.starts_with("Error: cannot read /subscriptions/")
                && l.ends_with(" in tenant consumer")),
        "{text}"
    );
    assert!(
        text.contains(&format!("401 InvalidAuthenticationToken: {message}")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("hint: ") && l.contains(hint)),
        "no hint containing {hint:?}:\n{text}"
    );
    assert!(
        !ctx.requests()
            .iter()
            .any(|r| matches!(r["method"].as_str(), Some("PUT" | "PATCH" | "DELETE"))),
        "a write was attempted"
    );
}

#[test]
fn a_tenant_signed_in_at_another_clouds_entra_fails_with_invalid_authentication_token() {
    let ctx = raw_id_workspace(&FITS);
    let mut settings = ctx.admin_get("settings");
    settings["other_cloud_tenants"] = json!([CONSUMER]);
    ctx.admin_put("settings", &settings);
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    assert_consumer_read_refused(
        &ctx,
        &run,
        "The access token is invalid.",
        &format!("ARM could not verify the token galleon got from tenant {CONSUMER}"),
    );
    settings["other_cloud_tenants"] = json!([]);
    ctx.admin_put("settings", &settings);
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    assert!(ctx.resource("/virtualmachines/web").is_some());
}

#[test]
fn a_service_principal_less_token_fails_with_invalid_authentication_token_naming_oid() {
    // The app was never consented in the VM's tenant; Entra, before March 2026, still signed
    // it in there, with a token that names no object id.
    let ctx = raw_id_workspace(&FITS);
    let object_id = ctx.admin_get("state")["servicePrincipals"]
        .as_array()
        .and_then(|sps| {
            sps.iter()
                .find(|sp| sp["app_id"] == APP && sp["tenant"] == CONSUMER)
        })
        .expect("the seed consents the app in the consumer tenant")["object_id"]
        .clone();
    let removed = admin_delete(
        &ctx,
        "service-principals",
        &[("app_id", APP), ("tenant", CONSUMER)],
    );
    assert_eq!(removed["removed"], 1, "{removed}");
    let mut settings = ctx.admin_get("settings");
    settings["service_principal_less_tokens"] = json!(true);
    ctx.admin_put("settings", &settings);
    let run = ctx.run(&["apply", "--auto-approve"]).expect(1);
    assert_consumer_read_refused(
        &ctx,
        &run,
        "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present. If you are accessing as application please make sure service principal is properly created in the tenant.",
        &format!("the app {APP} has no service principal in tenant {CONSUMER}"),
    );
    assert!(output(&run).contains(&format!("az ad sp create --id {APP}")));
    // An admin consents; the principal keeps its object id here so that the seed's role
    // assignments (granted to that id) apply again, and the apply converges.
    ctx.admin_post(
        "service-principals",
        &json!({"app_id": APP, "tenant": CONSUMER, "object_id": object_id}),
    );
    ctx.run(&["apply", "--auto-approve"]).expect(0);
    assert!(ctx.resource("/virtualmachines/web").is_some());
}
