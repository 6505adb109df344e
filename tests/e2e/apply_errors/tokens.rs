//! Sign-in and token refusals: Entra without a service principal, and ARM refusing tokens
//! that are expired, for another audience, or from a tenant that does not own the subscription.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

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
