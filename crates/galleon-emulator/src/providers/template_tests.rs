//! Template evaluation: expressions, dependency order, and what is refused.

use serde_json::json;

use super::*;

fn scope() -> Scope {
    Scope {
        subscription: "s".into(),
        resource_group: "rg".into(),
        location: "northeurope".into(),
    }
}

/// The shape `az vm create` submits (azure-cli vm/_template_builder.py): literal names and
/// `type/name` dependsOn, a secure password parameter.
fn az_like() -> Value {
    json!({"mode": "Incremental", "parameters": {"adminPassword": {"value": "S3cret!"}}, "template": {
    "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {"adminPassword": {"type": "securestring"}},
    "variables": {},
    "resources": [
        {"name": "webVM", "type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-11-01",
         "location": "northeurope", "dependsOn": ["Microsoft.Network/networkInterfaces/webVMNic"],
         "properties": {"osProfile": {"adminPassword": "[parameters('adminPassword')]"},
            "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'webVMNic')]"}]}}},
        {"name": "webVMNic", "type": "Microsoft.Network/networkInterfaces", "apiVersion": "2022-01-01",
         "location": "northeurope", "dependsOn": ["Microsoft.Network/virtualNetworks/webVNET"], "properties": {}},
        {"name": "webVNET", "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01",
         "location": "[resourceGroup().location]", "properties": {}}
    ]}})
}

#[test]
fn resources_come_out_in_dependency_order_with_expressions_evaluated() {
    let p = plan(&az_like(), &scope()).unwrap();
    let types: Vec<_> = p.iter().map(|x| x.resource_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "Microsoft.Network/virtualNetworks",
            "Microsoft.Network/networkInterfaces",
            "Microsoft.Compute/virtualMachines"
        ]
    );
    assert_eq!(p[0].body["location"], "northeurope");
    assert_eq!(
        p[2].id,
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/webVM"
    );
    assert_eq!(
        p[2].body["properties"]["osProfile"]["adminPassword"],
        "S3cret!"
    );
    assert_eq!(
        p[2].body["properties"]["networkProfile"]["networkInterfaces"][0]["id"],
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/webVMNic"
    );
    assert!(p[2].body.get("dependsOn").is_none());
    assert_eq!(p[2].api_version, "2024-11-01");
}

#[test]
fn concat_variables_and_escapes() {
    let props = json!({"template": {"variables": {"prefix": "[concat('web', '-', 'x')]"}, "resources": [
        {"name": "[concat(variables('prefix'), '-pip')]", "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2022-01-01",
         "properties": {"note": "[[literal]"}}]}});
    let p = plan(&props, &scope()).unwrap();
    assert!(p[0].id.ends_with("/publicIPAddresses/web-x-pip"));
    assert_eq!(p[0].body["properties"]["note"], "[literal]");
}

#[test]
fn child_resources_and_nested_resource_ids() {
    let props = json!({"template": {"resources": [
        {"name": "v/default", "type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "2022-01-01",
         "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', 'v')]"], "properties": {}},
        {"name": "v", "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "properties": {}}]}});
    let p = plan(&props, &scope()).unwrap();
    assert!(p[1].id.ends_with("/virtualNetworks/v/subnets/default"));
}

#[test]
fn unsupported_and_broken_templates_are_invalid_template() {
    let bad = |t: Value| plan(&json!({"template": t}), &scope()).unwrap_err();
    let e = bad(
        json!({"resources": [{"name": "[uniqueString('x')]", "type": "A/b", "apiVersion": "1"}]}),
    );
    assert_eq!((e.status, e.code.as_str()), (400, "InvalidTemplate"));
    assert!(e.message.contains("uniquestring"));
    let e = bad(
        json!({"resources": [{"name": "a", "type": "A/b", "apiVersion": "1", "dependsOn": ["A/b/zzz"]}]}),
    );
    assert!(e.message.contains("is not defined in the template"));
    let e = bad(json!({"resources": [
        {"name": "a", "type": "A/b", "apiVersion": "1", "dependsOn": ["A/b/c"]},
        {"name": "c", "type": "A/b", "apiVersion": "1", "dependsOn": ["A/b/a"]}]}));
    assert!(e.message.contains("Circular dependency"));
    let e = plan(
        &json!({"template": {"parameters": {"p": {"type": "string"}}, "resources": []}}),
        &scope(),
    )
    .unwrap_err();
    assert!(e.message.contains("'p' is not provided"));
}
