//! The Resource Graph subset: rows, filters, projection, paging and refusals.

use serde_json::json;

use super::*;

fn rows() -> Vec<Value> {
    let mut out = Vec::new();
    for (i, (sub, ws)) in [
        ("s1", "prod"),
        ("s1", "prod"),
        ("s2", "prod"),
        ("s1", "dev"),
        ("s3", "prod"),
    ]
    .iter()
    .enumerate()
    {
        let doc = json!({
            "id": format!("/subscriptions/{sub}/resourceGroups/RG-App/providers/Microsoft.Compute/virtualMachines/vm{i}"),
            "name": format!("vm{i}"), "type": "Microsoft.Compute/virtualMachines", "location": "westeurope",
            "tags": {"galleon-workspace": ws, "galleon-address": format!("vm.v{i}")},
            "properties": {"provisioningState": "Succeeded"},
        });
        out.push(row(&doc, "t1"));
    }
    out.push(row(&json!({"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
        "name": "v", "type": "Microsoft.Network/virtualNetworks", "location": "westeurope", "tags": {"galleon-workspace": "prod"}}), "t1"));
    out
}

#[test]
fn rows_lower_case_type_and_resource_group() {
    let r = &rows()[0];
    assert_eq!(r["type"], "microsoft.compute/virtualmachines");
    assert_eq!(r["resourceGroup"], "rg-app");
    assert_eq!(r["subscriptionId"], "s1");
    assert_eq!(r["tenantId"], "t1");
    assert!(r["id"].as_str().unwrap().contains("RG-App"));
}

#[test]
fn workspace_query_filters_by_subscription_tag_and_type() {
    let req = json!({"subscriptions": ["s1", "s2"], "query":
        "Resources | where subscriptionId in ('s1','s2') | where tags['galleon-workspace'] == 'prod' | where type =~ 'Microsoft.Compute/virtualMachines'"});
    let page = run(&req, rows()).unwrap().body;
    assert_eq!(page["totalRecords"], 3);
    assert_eq!(page["resultTruncated"], "false");
    assert!(page.get("$skipToken").is_none());
    let names: Vec<_> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["vm0", "vm1", "vm2"]);
}

#[test]
fn paging_with_skip_token() {
    let req = json!({"query": "Resources | where tags.`galleon-workspace` == 'prod'", "options": {"$top": 2}});
    assert!(
        run(&req, rows()).is_err(),
        "backticks are not in the subset"
    );
    let mut req = json!({"query": "resources | where tags['galleon-workspace'] =~ 'PROD' | project id, name", "options": {"$top": 2}});
    let mut seen = Vec::new();
    loop {
        let page = run(&req, rows()).unwrap().body;
        assert_eq!(page["totalRecords"], 5);
        for r in page["data"].as_array().unwrap() {
            assert_eq!(r.as_object().unwrap().len(), 2);
            seen.push(r["name"].as_str().unwrap().to_owned());
        }
        match page["$skipToken"].as_str() {
            Some(t) => req["options"]["$skipToken"] = json!(t),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn without_id_paging_is_truncated() {
    let req = json!({"query": "Resources | project name", "options": {"$top": 2}});
    let page = run(&req, rows()).unwrap().body;
    assert_eq!(page["resultTruncated"], "true");
    assert!(page.get("$skipToken").is_none());
}

#[test]
fn table_format_and_order_limit() {
    let req = json!({"query": "Resources | where name startswith 'vm' | order by name desc | limit 2 | project id, name",
        "options": {"resultFormat": "table"}});
    let page = run(&req, rows()).unwrap().body;
    assert_eq!(
        page["data"]["columns"][1],
        json!({"name": "name", "type": "string"})
    );
    assert_eq!(page["data"]["rows"][0][1], "vm4");
    assert_eq!(page["count"], 2);
}

#[test]
fn unsupported_queries_are_bad_requests() {
    for q in [
        "Resources | summarize count()",
        "ResourceContainers",
        "Resources | where name == 'a' or name == 'b'",
        "Resources | where name matches regex 'x'",
    ] {
        let e = run(&json!({"query": q}), rows()).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "BadRequest"), "{q}");
        assert_eq!(e.details[0]["code"], "InvalidQuery");
    }
    assert!(
        run(
            &json!({"query": "Resources", "options": {"$top": 5000}}),
            rows()
        )
        .is_err()
    );
}

#[test]
fn not_in_and_tolower() {
    let req = json!({"query": "Resources | where tolower(name) !in ('vm0', 'vm1') | where tags['galleon-address'] contains 'v'"});
    let page = run(&req, rows()).unwrap().body;
    assert_eq!(page["totalRecords"], 3);
}
