//! Tests of the catalogue: one generated test per row proving `explain` recognises Azure's text,
//! the doc table kept in sync, every named test existing, and every apply-time row having a hint.

use super::*;

fn row_of(test_name: &str) -> &str {
    test_name
        .strip_prefix("explains_")
        .expect("tests are named explains_<row id>")
}

/// One test per row: Azure's sample text is explained by that row and no other.
macro_rules! explains {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_row(row_of(stringify!($name)));
            }
        )*

        #[test]
        fn every_row_has_its_generated_test() {
            let generated = [$(row_of(stringify!($name))),*];
            for e in entries() {
                assert!(generated.contains(&e.id), "row {} has no explains_ test", e.id);
            }
            assert_eq!(generated.len(), entries().len());
        }
    };
}

fn check_row(id: &str) {
    let e = entries().iter().find(|e| e.id == id).expect("row exists");
    let code = e.codes.first().copied().unwrap_or("SomeUnknownCode");
    let found = explain(code, e.sample).map(|f| f.id);
    assert_eq!(found, Some(id), "sample of {id} explained as {found:?}");
    assert!(!e.fix.is_empty() && !e.cause.is_empty() && !e.caught.is_empty());
}

explains!(
    explains_linked_tenant,
    explains_linked_subscription_missing,
    explains_linked_role,
    explains_authorization_failed,
    explains_authentication_failed,
    explains_authentication_invalid_header,
    explains_token_invalid,
    explains_token_without_object_id,
    explains_token_wrong_tenant,
    explains_token_wrong_audience,
    explains_token_expired,
    explains_gallery_image_not_found,
    explains_no_latest_version,
    explains_platform_image_not_found,
    explains_subscription_not_authorized_for_image,
    explains_os_profile_not_allowed,
    explains_os_profile_missing,
    explains_generation_mismatch,
    explains_security_type_mismatch,
    explains_sku_not_available,
    explains_not_available_for_subscription,
    explains_quota_exceeded,
    explains_linked_invalid_property_id,
    explains_invalid_resource_reference,
    explains_image_reference_invalid,
    explains_image_version_deprecated,
    explains_vmss_os_state_change,
    explains_disk_encryption_set_subscription,
    explains_purchase_plan_mismatch,
    explains_resource_group_not_found,
    explains_resource_not_found,
    explains_parent_resource_not_found,
    explains_subscription_not_found,
    explains_multiple_errors,
    explains_deployment_failed,
    explains_invalid_template_deployment,
    explains_aadsts700016,
    explains_aadsts50020,
);

#[test]
fn older_message_forms_map_to_the_same_rows() {
    // §1.1 older singular form and §1.3's 2015 form.
    let old = "The client 'x' with object id 'y' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '/s'; however, it does not have permission to perform action 'Microsoft.KeyVault/vaults/deploy/action' on the linked scope(s) '/k'.";
    assert_eq!(
        explain("LinkedAuthorizationFailed", old).map(|e| e.id),
        Some("linked_role")
    );
    let old_authz = "The client 'x' with object id 'x' does not have authorization to perform action 'a' over scope 's'.";
    assert_eq!(
        explain("AuthorizationFailed", old_authz).map(|e| e.id),
        Some("authorization_failed")
    );
    let newer_aud = "The 'EvolvedSecurityTokenService' access token has been obtained for wrong audience or resource 'x'.";
    assert_eq!(
        explain("InvalidAuthenticationTokenAudience", newer_aud).map(|e| e.id),
        Some("token_wrong_audience")
    );
    assert_eq!(
        explain("AuthenticationFailed", "Authentication failed.").map(|e| e.id),
        Some("authentication_failed")
    );
    assert_eq!(
        explain(
            "OperationNotAllowed",
            "Operation results in exceeding quota limits of Core. Maximum allowed: 20"
        )
        .map(|e| e.id),
        Some("quota_exceeded")
    );
}

#[test]
fn unknown_messages_are_not_explained() {
    assert_eq!(
        explain("InvalidParameter", "The value of parameter foo is invalid."),
        None
    );
    assert_eq!(explain("BadRequest", "something else entirely"), None);
    assert_eq!(explain("SomethingNew", "never seen"), None);
}

#[test]
fn wrappers_are_explained_by_their_details() {
    let inner = entries().iter().find(|e| e.id == "linked_tenant").unwrap();
    let got = explain_nested(
        "DeploymentFailed",
        "At least one resource deployment operation failed.",
        [("LinkedAuthorizationFailed", inner.sample)],
    );
    assert_eq!(got.map(|e| e.id), Some("linked_tenant"));
    let got = explain_nested(
        "MultipleErrorsOccurred",
        "Multiple error occurred: NotFound,NotFound. Please see details.",
        [(
            "ResourceGroupNotFound",
            "Resource group 'rg' could not be found.",
        )],
    );
    assert_eq!(got.map(|e| e.id), Some("resource_group_not_found"));
    // A wrapper whose details are unknown is explained as the wrapper.
    let got = explain_nested(
        "InvalidTemplateDeployment",
        "The template deployment 'd' is not valid",
        [("X", "y")],
    );
    assert_eq!(got.map(|e| e.id), Some("invalid_template_deployment"));
}

/// `docs/troubleshooting.md` holds the rendered table verbatim; regenerate with
/// `GALLEON_UPDATE_DOCS=1 cargo test -p galleon-doctor troubleshooting_doc`.
#[test]
fn troubleshooting_doc_is_current() {
    const BEGIN: &str = "<!-- BEGIN catalogue (generated by galleon-doctor) -->\n";
    const END: &str = "<!-- END catalogue -->";
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/troubleshooting.md");
    let doc = std::fs::read_to_string(&path).expect("docs/troubleshooting.md exists");
    let start = doc.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = doc.find(END).expect("end marker");
    let table = render_markdown();
    if std::env::var_os("GALLEON_UPDATE_DOCS").is_some() {
        let updated = format!("{}{table}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &doc[start..end],
        table,
        "docs/troubleshooting.md is stale: rerun with GALLEON_UPDATE_DOCS=1"
    );
}

/// Every test a row names exists, so the doc cannot point at nothing.
#[test]
fn named_tests_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doctor_tests = std::fs::read_to_string(root.join("tests/doctor/main.rs"))
        .unwrap_or_default()
        + &std::fs::read_to_string(root.join("tests/doctor/conditions.rs")).unwrap_or_default();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_default();
    let cli_tests = read("../galleon-cli/tests/doctor/main.rs")
        + &read("../galleon-cli/tests/doctor/explain.rs");
    let plan_tests = ["tests.rs", "size_tests.rs", "quota_tests.rs"]
        .iter()
        .map(|f| read(&format!("../galleon-plan/src/preflight/{f}")))
        .collect::<String>();
    let own = include_str!("tests.rs");
    for e in entries() {
        for t in e.tests {
            let (file, path) = t.split_once("::").expect("file::name");
            let name = path.rsplit("::").next().unwrap();
            // End-to-end tests (the binary against the emulator) are named
            // `e2e::<module>[::<submodule>]::<test>`, the module path being a file of tests/e2e/.
            let e2e_tests;
            let source = match file {
                "doctor" => &doctor_tests,
                "cli" => &cli_tests,
                "plan" => &plan_tests,
                "e2e" => {
                    let module = path.rsplit_once("::").expect("module::test").0;
                    e2e_tests = read(&format!("../../tests/e2e/{}.rs", module.replace("::", "/")));
                    &e2e_tests
                }
                _ => own,
            };
            assert!(
                source.contains(&format!("fn {name}(")),
                "row {}: test {t} not found",
                e.id
            );
        }
    }
}

/// Rows that promise an apply-time hint get one from galleon-azure's hints, which is what
/// `galleon apply` prints under a failure (through `AzureError::hint`).
#[test]
fn apply_rows_have_a_galleon_azure_hint() {
    use galleon_azure::{ArmError, AzureError, EntraError, TenantId};
    let mut missing = Vec::new();
    for e in entries()
        .iter()
        .filter(|e| e.caught.contains(&Catch::ApplyHint))
    {
        let code = e.codes.first().copied().unwrap_or("UnknownCode");
        let err: AzureError = if let Some(n) = code.strip_prefix("AADSTS") {
            EntraError {
                status: 400,
                error: "invalid_request".into(),
                codes: vec![n.parse().unwrap()],
                description: e.sample.into(),
                tenant: TenantId::new("11111111-1111-4111-8111-111111111111"),
                client_id: "0a0a".into(),
                trace_id: None,
                correlation_id: None,
                assertion: None,
                authority: "https://login.microsoftonline.com/".into(),
            }
            .into()
        } else {
            let body =
                serde_json::json!({"error": {"code": code, "message": e.sample}}).to_string();
            ArmError::from_response(e.status.unwrap_or(400), "PUT", "/subscriptions/bbbb/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web", None, None, body.as_bytes()).into()
        };
        if err.hint().is_none() {
            missing.push(e.id);
        }
    }
    assert!(
        missing.is_empty(),
        "rows without a galleon-azure hint: {missing:?}"
    );
}

/// Issue 11's bar: every row is proven by a test that runs the `galleon` binary (`cli::` runs it
/// as `galleon doctor`, `e2e::` as `plan`/`apply` against the emulator), not only by the
/// catalogue's own matching test.
#[test]
fn every_row_is_proven_through_the_binary() {
    let unproven: Vec<&str> = entries()
        .iter()
        .filter(|e| {
            !e.tests
                .iter()
                .any(|t| t.starts_with("cli::") || t.starts_with("e2e::"))
        })
        .map(|e| e.id)
        .collect();
    assert!(
        unproven.is_empty(),
        "rows without a binary-level test: {unproven:?}"
    );
}
