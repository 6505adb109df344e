//! ARM requests: the auxiliary header only where asked, paging, Resource Graph, host checks,
//! error mapping with hints.

use galleon_azure::{ArmRequest, AzureError, GraphQuery, Method, TenantId};
use serde_json::json;

use crate::stub::{Reply, Stub, fake_token};
use crate::{APP, SUB_A, SUB_B, TENANT_A, TENANT_B, a, b, stub_client};

fn vm_path() -> String {
    format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    )
}

#[tokio::test]
async fn aux_header_carries_the_other_tenants_token_on_writes_only() {
    let stub = Stub::start(|s| {
        if s.is_token_request() {
            return None;
        }
        if s.path.ends_with("/virtualMachines/web") {
            return Some(Reply::json(
                if s.method == "PUT" { 201 } else { 200 },
                json!({"id": s.path, "properties": {"provisioningState": "Succeeded"}}),
            ));
        }
        None
    })
    .await;
    let client = stub_client(&stub);
    let body = json!({"location": "northeurope", "properties": {}});
    client.put(&b(), &vm_path(), &body, &[a()]).await.unwrap();
    client
        .patch(&b(), &vm_path(), &json!({"tags": {"x": "y"}}), &[a()])
        .await
        .unwrap();
    client.get(&b(), &vm_path()).await.unwrap();
    client.put(&b(), &vm_path(), &body, &[]).await.unwrap();
    let seen = stub.arm_seen();
    let aux: Vec<Option<&str>> = seen
        .iter()
        .map(|s| s.header("x-ms-authorization-auxiliary"))
        .collect();
    let expected = format!("Bearer {}", fake_token(TENANT_A, APP, 2));
    assert_eq!(
        aux,
        vec![Some(expected.as_str()), Some(expected.as_str()), None, None]
    );
    // The primary token is tenant B's (the subscription's), the auxiliary one tenant A's.
    let primary: serde_json::Value = galleon_azure::decode_claims(
        seen[0]
            .header("authorization")
            .unwrap()
            .trim_start_matches("Bearer "),
    )
    .unwrap();
    assert_eq!(primary["tid"], TENANT_B);
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert!(seen[0].query.contains("api-version=2025-04-01"));
}

#[tokio::test]
async fn more_than_three_aux_tenants_are_refused_before_sending() {
    let stub = Stub::start(|_| None).await;
    let client = stub_client(&stub);
    let four: Vec<TenantId> = (1..=4).map(|i| TenantId::new(format!("t{i}"))).collect();
    let err = client
        .put(&b(), &vm_path(), &json!({}), &four)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 3"), "{err}");
    assert!(stub.seen().is_empty());
}

#[tokio::test]
async fn lists_follow_next_link_to_the_end() {
    let stub = Stub::start(|s| {
        if s.is_token_request() {
            return None;
        }
        let page = url::form_urlencoded::parse(s.query.as_bytes())
            .find(|(k, _)| k == "$skiptoken")
            .map(|(_, v)| v.into_owned());
        let host = s.header("host").unwrap().to_string();
        let next = |t: &str| {
            format!(
                "https://{host}{}?api-version=2025-03-03&$skiptoken={t}",
                s.path
            )
        };
        Some(match page.as_deref() {
            None => Reply::json(
                200,
                json!({"value": [{"name": "g1"}, {"name": "g2"}], "nextLink": next("p2")}),
            ),
            Some("p2") => Reply::json(
                200,
                json!({"value": [{"name": "g3"}], "nextLink": next("p3")}),
            ),
            _ => Reply::json(200, json!({"value": [{"name": "g4"}]})),
        })
    })
    .await;
    let client = stub_client(&stub);
    let items = client
        .list(
            &a(),
            &format!(
                "/subscriptions/{SUB_A}/resourceGroups/rg/providers/Microsoft.Compute/galleries"
            ),
        )
        .await
        .unwrap();
    let names: Vec<&str> = items.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["g1", "g2", "g3", "g4"]);
    let seen = stub.arm_seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen[1].query.contains("$skiptoken=p2")
            && seen[1].query.matches("api-version").count() == 1,
        "{}",
        seen[1].query
    );
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused_without_sending_a_token() {
    let stub = Stub::start(|s| {
        (!s.is_token_request()).then(|| Reply::json(200, json!({"value": [{"name": "g1"}], "nextLink": "https://evil.example/steal?api-version=1"})))
    })
    .await;
    let client = stub_client(&stub);
    let err = client
        .list(&a(), &format!("/subscriptions/{SUB_A}/resourceGroups"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AzureError::ForbiddenHost { ref url } if url.starts_with("https://evil.example/steal")),
        "{err:?}"
    );
}

#[tokio::test]
async fn resource_graph_pages_through_skip_tokens() {
    let stub = Stub::start(|s| {
        if s.is_token_request() {
            return None;
        }
        assert_eq!(s.method, "POST");
        assert_eq!(s.path, "/providers/Microsoft.ResourceGraph/resources");
        assert!(s.query.contains("api-version=2024-04-01"));
        let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
        assert_eq!(body["options"]["resultFormat"], "objectArray");
        assert_eq!(body["subscriptions"][0], SUB_A);
        Some(match body["options"].get("$skipToken").and_then(|v| v.as_str()) {
            None => Reply::json(200, json!({"totalRecords": 3, "count": 2, "resultTruncated": "false", "$skipToken": "next-1", "data": [{"id": "/x/1"}, {"id": "/x/2"}]})),
            Some("next-1") => Reply::json(200, json!({"totalRecords": 3, "count": 1, "resultTruncated": "false", "data": [{"id": "/x/3"}]})),
            Some(other) => panic!("unexpected skip token {other}"),
        })
    })
    .await;
    let client = stub_client(&stub);
    let r = client
        .resource_graph(
            &a(),
            &GraphQuery::new("resources | project id", vec![SUB_A.into()]),
        )
        .await
        .unwrap();
    assert_eq!(r.rows.len(), 3);
    assert_eq!(r.total_records, 3);
    assert!(!r.truncated);
    assert!(
        stub.arm_seen()
            .iter()
            .all(|s| s.header("x-ms-authorization-auxiliary").is_none())
    );
}

#[tokio::test]
async fn linked_authorization_failure_is_typed_with_principal_and_hint() {
    let stub = Stub::start(move |s| {
        (!s.is_token_request()).then(|| {
            Reply::json(403, json!({"error": {"code": "LinkedAuthorizationFailed", "message": format!("The client has permission to perform action 'Microsoft.Compute/galleries/images/versions/read' on scope '{}', however the current tenant '{TENANT_B}' is not authorized to access linked subscription '{SUB_A}'.", s.path)}}))
                .header("x-ms-request-id", "req-123")
                .header("x-ms-correlation-request-id", "corr-456")
                .header("x-ms-failure-cause", "gateway")
        })
    })
    .await;
    let client = stub_client(&stub);
    let err = client
        .put(
            &b(),
            &vm_path(),
            &json!({"properties": {"storageProfile": {"imageReference": {"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0")}}}}),
            &[],
        )
        .await
        .unwrap_err();
    let AzureError::Arm(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.status, 403);
    assert_eq!(e.code, "LinkedAuthorizationFailed");
    assert_eq!(e.request_id.as_deref(), Some("req-123"));
    assert_eq!(e.correlation_id.as_deref(), Some("corr-456"));
    assert_eq!(e.method, "PUT");
    assert_eq!(e.resource_id, vm_path());
    assert_eq!(
        e.principal.as_ref().unwrap().object_id.as_deref(),
        Some(format!("oid-{APP}-in-{TENANT_B}").as_str())
    );
    let hint = err.hint().unwrap();
    assert!(hint.contains("no auxiliary token was sent"), "{hint}");
    assert!(
        hint.contains("galleries/golden_images'"),
        "the gallery is named from the request body: {hint}"
    );
    assert!(hint.contains(SUB_A), "{hint}");
    assert!(hint.contains(&format!("appid {APP}")), "{hint}");
    assert_eq!(stub.arm_seen().len(), 1, "a 403 is not retried");
}

#[tokio::test]
async fn not_found_reads_and_deletes_are_not_errors_where_expected() {
    let stub = Stub::start(|s| {
        if s.is_token_request() {
            return None;
        }
        Some(match s.method.as_str() {
            "DELETE" => Reply::empty(204),
            _ => Reply::json(404, json!({"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg-app' could not be found."}})),
        })
    })
    .await;
    let client = stub_client(&stub);
    assert!(
        client
            .get_optional(&b(), &vm_path())
            .await
            .unwrap()
            .is_none()
    );
    let err = client.get(&b(), &vm_path()).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.arm_code(), Some("ResourceGroupNotFound"));
    assert!(
        !client.delete(&b(), &vm_path(), &[]).await.unwrap(),
        "204 = it did not exist"
    );
}

#[tokio::test]
async fn etags_are_returned_and_if_match_is_sent() {
    let stub = Stub::start(|s| {
        (!s.is_token_request()).then(|| {
            Reply::json(200, json!({"id": s.path, "etag": "W/\"body-etag\""}))
                .header("etag", "\"hdr-etag\"")
        })
    })
    .await;
    let client = stub_client(&stub);
    let r = client.get(&b(), &vm_path()).await.unwrap();
    assert_eq!(r.etag.as_deref(), Some("\"hdr-etag\""));
    let path = vm_path();
    let tenant = b();
    let body = json!({});
    let req = ArmRequest {
        body: Some(&body),
        if_match: Some("\"hdr-etag\""),
        ..ArmRequest::new(Method::PUT, &tenant, &path)
    };
    client.send(req).await.unwrap();
    assert_eq!(stub.arm_seen()[1].header("if-match"), Some("\"hdr-etag\""));
}

#[tokio::test]
async fn paths_without_a_pinned_api_version_need_one() {
    let stub = Stub::start(|s| (!s.is_token_request()).then(|| Reply::json(200, json!({})))).await;
    let client = stub_client(&stub);
    let path = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x"
    );
    assert!(matches!(
        client.get(&b(), &path).await,
        Err(AzureError::Config(_))
    ));
    let tenant = b();
    let req = ArmRequest {
        api_version: Some("2023-05-01"),
        ..ArmRequest::new(Method::GET, &tenant, &path)
    };
    client.send(req).await.unwrap();
    assert!(stub.arm_seen()[0].query.contains("api-version=2023-05-01"));
}

#[tokio::test]
async fn filtered_lists_send_their_query_and_page() {
    let stub = Stub::start(|s| {
        if s.is_token_request() {
            return None;
        }
        let host = s.header("host").unwrap().to_string();
        Some(if s.query.contains("page=2") {
            Reply::json(200, json!({"value": [{"name": "ra2"}]}))
        } else {
            assert!(s.query.contains("%24filter=atScope%28%29") || s.query.contains("$filter=atScope()"), "{}", s.query);
            assert!(s.query.contains("api-version=2022-04-01"), "{}", s.query);
            Reply::json(200, json!({"value": [{"name": "ra1"}], "nextLink": format!("https://{host}{}?api-version=2022-04-01&page=2", s.path)}))
        })
    })
    .await;
    let client = stub_client(&stub);
    let path = format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/providers/Microsoft.Authorization/roleAssignments"
    );
    let items = client
        .list_with(&a(), &path, None, &[("$filter", "atScope()")])
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
}

#[tokio::test]
async fn reads_refuse_auxiliary_tenants() {
    let stub = Stub::start(|_| None).await;
    let client = stub_client(&stub);
    let tenant = b();
    let path = vm_path();
    let aux = [a()];
    let req = ArmRequest {
        aux_tenants: &aux,
        ..ArmRequest::new(Method::GET, &tenant, &path)
    };
    let err = client.send(req).await.unwrap_err();
    assert!(err.to_string().contains("only sent on writes"), "{err}");
    assert!(stub.seen().is_empty());
}
