//! Role assignments at any scope (here a gallery): directory checks, duplicates, invalid
//! names, atScope() lists with inheritance, role definition lookup by name, deletes.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn role_assignments_at_gallery_scope_and_duplicates() {
    let t = TestContext::start(scenario()).await;
    let tok = t.token_a().await;
    let consumer_oid = t
        .emu
        .shared()
        .world()
        .service_principal(APP, TENANT_B)
        .unwrap()
        .object_id
        .clone();
    let scope = format!(
        "{}/providers/Microsoft.Compute/galleries/golden",
        rg_path(SUB_A, "rg-image-build")
    );
    let url = |name: &str| {
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"
        )
    };
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"), "principalId": consumer_oid, "principalType": "ServicePrincipal", "description": "galleon:ws:gallery_grant.golden/consumer/Reader"}});
    // The consumer's principal lives in tenant B, not A: ARM refuses it by directory.
    let wrong_dir = t
        .put(
            &url("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            &tok,
            body.clone(),
        )
        .await;
    assert_eq!(wrong_dir.code(), "PrincipalNotFound");
    let a_oid = t
        .emu
        .shared()
        .world()
        .service_principal(APP, TENANT_A)
        .unwrap()
        .object_id
        .clone();
    let mut body = body;
    body["properties"]["principalId"] = json!(a_oid);
    let a = t
        .put(
            &url("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            &tok,
            body.clone(),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["properties"]["scope"], scope);
    assert_eq!(a.body["type"], "Microsoft.Authorization/roleAssignments");
    assert_eq!(
        a.body["properties"]["description"],
        "galleon:ws:gallery_grant.golden/consumer/Reader"
    );
    let dup = t
        .put(
            &url("3fa85f64-5717-4562-b3fc-2c963f66afa7"),
            &tok,
            body.clone(),
        )
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "RoleAssignmentExists")
    );
    let bad = t.put(&url("not-a-guid"), &tok, body).await;
    assert_eq!(bad.code(), "InvalidRoleAssignmentId");
    let list = t.get(&format!("{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()"), &tok).await;
    // At the gallery: the new one plus the two inherited from the subscription.
    assert_eq!(
        list.body["value"].as_array().unwrap().len(),
        3,
        "{}",
        list.body
    );
    let def = t.get(&format!("/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName eq 'Compute Gallery Image Reader'"), &tok).await;
    assert_eq!(
        def.body["value"][0]["name"],
        "cf7c76d2-98a3-4358-a134-615aa78bf44d"
    );
    let del = t
        .delete(&url("3fa85f64-5717-4562-b3fc-2c963f66afa6"), &tok)
        .await;
    assert_eq!(del.status, StatusCode::OK);
    assert_eq!(
        t.delete(&url("3fa85f64-5717-4562-b3fc-2c963f66afa6"), &tok)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}
