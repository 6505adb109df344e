//! The hints for each Azure failure galleon knows, by code and message.

use super::*;
use crate::error::Principal;
use crate::ids::TenantId;

fn arm(code: &str, message: &str) -> ArmError {
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let mut e = ArmError::from_response(
        403,
        "PUT",
        "/subscriptions/bbb/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web",
        None,
        None,
        body.as_bytes(),
    );
    e.principal = Some(Principal {
        app_id: Some("app-1".into()),
        object_id: Some("oid-b".into()),
        tenant_id: Some("tenant-b".into()),
    });
    e
}

#[test]
fn linked_authorization_variant_b_names_the_missing_tenant_token() {
    let e = arm(
        "LinkedAuthorizationFailed",
        "The client has permission to perform action 'Microsoft.Compute/galleries/images/versions/read' on scope '/subscriptions/bbb/...', however the current tenant 'tenant-b' is not authorized to access linked subscription 'aaa'.",
    );
    let h = arm_hint(&e).unwrap();
    assert!(h.contains("no auxiliary token was sent"), "{h}");
    assert!(h.contains("subscription aaa"), "{h}");
    assert!(h.contains("appid app-1"), "{h}");
    let mut e2 = e.clone();
    e2.aux_tenants = vec![TenantId::new("tenant-x")];
    e2.linked_image = Some("/subscriptions/aaa/resourceGroups/rg/providers/Microsoft.Compute/galleries/golden/images/u/versions/1.0.0".into());
    assert!(arm_hint(&e2).unwrap().contains("on gallery '/subscriptions/aaa/resourceGroups/rg/providers/Microsoft.Compute/galleries/golden' there"), "{:?}", arm_hint(&e2));
    assert!(
        arm_hint(&e2)
            .unwrap()
            .contains("auxiliary tokens were sent for tenant-x")
    );
}

#[test]
fn linked_authorization_variant_a_names_the_gallery_and_role() {
    let e = arm(
        "LinkedAuthorizationFailed",
        "The client 'app-1' with object id 'oid-b' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '/subscriptions/bbb/x'; however, it does not have permission to perform action(s) 'Microsoft.Compute/galleries/images/versions/read' on the linked scope(s) '/subscriptions/aaa/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0' (respectively) or the linked scope(s) are invalid.",
    );
    let h = arm_hint(&e).unwrap();
    assert!(h.contains("'/subscriptions/aaa/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images'"), "{h}");
    assert!(h.contains("Compute Gallery Image Reader"), "{h}");
    assert!(h.contains("object id oid-b"), "{h}");
}

#[test]
fn authorization_failed_names_action_and_scope() {
    let e = arm(
        "AuthorizationFailed",
        "The client 'app-1' with object id 'oid-b' does not have authorization to perform action 'Microsoft.Compute/virtualMachines/write' over scope '/subscriptions/bbb/resourceGroups/rg-app' or the scope is invalid.",
    );
    let h = arm_hint(&e).unwrap();
    assert!(h.contains("'Microsoft.Compute/virtualMachines/write' on '/subscriptions/bbb/resourceGroups/rg-app'"), "{h}");
}

#[test]
fn compute_codes_have_hints() {
    assert!(
        code_hint("GalleryImageNotFound", "")
            .unwrap()
            .contains("replicat")
    );
    assert!(
        code_hint("InvalidParameter", "Parameter 'osProfile' is not allowed.")
            .unwrap()
            .contains("Specialized")
    );
    assert!(code_hint("InvalidParameter", "something else").is_none());
    assert!(
        code_hint("BadRequest", "cannot boot Hypervisor Generation '2'")
            .unwrap()
            .contains("Gen2")
    );
    assert!(
        code_hint(
            "BadRequest",
            "only supports creation of VMs with 'TrustedLaunch' security type."
        )
        .unwrap()
        .contains("security_type")
    );
    assert!(code_hint("SkuNotAvailable", "").unwrap().contains("size"));
    assert!(
        code_hint(
            "OperationNotAllowed",
            "exceeding approved Total Regional Cores quota"
        )
        .unwrap()
        .contains("quota")
    );
    assert!(
        code_hint("SubscriptionRequestsThrottled", "")
            .unwrap()
            .contains("throttling")
    );
    assert!(
        arm_hint(&arm("InvalidAuthenticationTokenTenant", "wrong issuer"))
            .unwrap()
            .contains("tenant-b")
    );
}

#[test]
fn scenario_codes_and_codeless_messages_have_hints() {
    for (code, message, word) in [
        (
            "LinkedInvalidPropertyId",
            "Property id 'x' at path 'p' is invalid.",
            "full ARM id",
        ),
        (
            "InvalidAuthenticationToken",
            "at least one of the claims 'puid' or 'altsecid' or 'oid' should be present",
            "az ad sp create",
        ),
        (
            "InvalidAuthenticationTokenAudience",
            "wrong audience",
            "--endpoint",
        ),
        (
            "SubscriptionNotFound",
            "The subscription 's' could not be found.",
            "subscription",
        ),
        (
            "InvalidParameter",
            "The value of parameter imageReference is invalid.",
            "full ARM id",
        ),
        (
            "Unknown",
            "There is no latest image version exists for \"/x\"",
            "exclude_from_latest",
        ),
    ] {
        let h = arm_hint(&arm(code, message)).unwrap_or_default();
        assert!(h.contains(word), "{code}: {h}");
    }
    assert!(code_hint("InvalidParameter", "The value of parameter foo is invalid.").is_none());
}

#[test]
fn compute_refusals_known_by_message_get_their_hint_whatever_the_code() {
    let des = "Disk encryption set /subscriptions/aaa/resourceGroups/k/providers/Microsoft.Compute/diskEncryptionSets/d in Azure Compute Gallery /x/versions/1.0.0 belongs to subscription aaa and cannot be used with resource '' in subscription bbb";
    let plan = "The resource with id /x/virtualMachines/web has a different plan ['{}'] than the parent gallery image plan ['null']";
    for code in ["BadRequest", "InvalidParameter", "Unknown"] {
        assert!(
            code_hint(code, des).unwrap().contains("encryption set"),
            "{code}"
        );
        assert!(
            code_hint(code, plan).unwrap().contains("purchase plan"),
            "{code}"
        );
    }
    assert!(code_hint("BadRequest", "something else").is_none());
}

#[test]
fn token_refusals_name_the_app_and_tenant_and_transport_refusals_the_proxy() {
    let mut e = arm(
        "InvalidAuthenticationToken",
        "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present.",
    );
    e.principal.as_mut().unwrap().object_id = None;
    let h = arm_hint(&e).unwrap();
    assert!(
        h.contains("app app-1 has no service principal in tenant tenant-b"),
        "{h}"
    );
    assert!(h.contains("az ad sp create --id app-1"), "{h}");
    e.message = "The access token is invalid.".into();
    let h = arm_hint(&e).unwrap();
    assert!(
        h.contains("from tenant tenant-b") && h.contains("another cloud"),
        "{h}"
    );
    e.principal = None;
    assert!(arm_hint(&e).unwrap().contains("another cloud"));
    let stripped = code_hint("AuthenticationFailed", "").unwrap();
    assert!(stripped.contains("stripped"), "{stripped}");
    let rewritten = code_hint("AuthenticationFailedInvalidHeader", "").unwrap();
    assert!(rewritten.contains("rewrote"), "{rewritten}");
}

#[test]
fn entra_hints_per_aadsts_code() {
    let mut e = EntraError {
        status: 400,
        error: "unauthorized_client".into(),
        codes: vec![700016],
        description: "AADSTS700016: ...".into(),
        tenant: TenantId::new("tenant-a"),
        client_id: "app-1".into(),
        trace_id: None,
        correlation_id: None,
        assertion: None,
        authority: "https://login.microsoftonline.com/".into(),
    };
    let h = entra_hint(&e).unwrap();
    assert!(h.contains("az ad sp create --id app-1"), "{h}");
    assert!(
        h.contains("https://login.microsoftonline.com/tenant-a/adminconsent?client_id=app-1"),
        "{h}"
    );
    e.codes = vec![7000215];
    assert!(entra_hint(&e).unwrap().contains("wrong"));
    e.codes = vec![7000222];
    assert!(entra_hint(&e).unwrap().contains("expired"));
    e.codes = vec![700213];
    e.assertion = Some(crate::error::AssertionClaims {
        issuer: "https://iss".into(),
        subject: "repo:o/r:ref:refs/heads/main".into(),
        audience: "api://AzureADTokenExchange".into(),
    });
    let h = entra_hint(&e).unwrap();
    assert!(h.contains("subject 'repo:o/r:ref:refs/heads/main'"), "{h}");
    e.codes = vec![90002];
    assert!(
        entra_hint(&e)
            .unwrap()
            .contains("tenant tenant-a does not exist")
    );
    e.codes = vec![1];
    assert!(entra_hint(&e).is_none());
}
