//! `Microsoft.Resources/deployments` as `az vm create` drives them: a template of literal
//! resources run through the same handlers, as an LRO, with the auxiliary token of the PUT.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;
use crate::world::*;

fn az_vm_template(image: &str) -> Value {
    json!({"properties": {"mode": "Incremental", "parameters": {"adminPassword": {"value": "Pa55w0rd!Pa55"}}, "template": {
    "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {"adminPassword": {"type": "securestring"}},
    "resources": [
        {"name": "webVNET", "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "location": "northeurope",
         "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [{"name": "webSubnet", "properties": {"addressPrefix": "10.0.0.0/24"}}]}},
        {"name": "webNSG", "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-01-01", "location": "northeurope",
         "properties": {"securityRules": []}},
        {"name": "webPublicIP", "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2022-01-01", "location": "northeurope",
         "properties": {"publicIPAllocationMethod": "Static"}, "sku": {"name": "Standard"}},
        {"name": "webVMNic", "type": "Microsoft.Network/networkInterfaces", "apiVersion": "2022-01-01", "location": "northeurope",
         "dependsOn": ["Microsoft.Network/virtualNetworks/webVNET", "Microsoft.Network/networkSecurityGroups/webNSG", "Microsoft.Network/publicIpAddresses/webPublicIP"],
         "properties": {"ipConfigurations": [{"name": "ipconfigweb", "properties": {"privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'webVNET', 'webSubnet')]"},
            "publicIPAddress": {"id": "[resourceId('Microsoft.Network/publicIPAddresses', 'webPublicIP')]"}}}],
            "networkSecurityGroup": {"id": "[resourceId('Microsoft.Network/networkSecurityGroups', 'webNSG')]"}}},
        {"name": "web", "type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-11-01", "location": "northeurope",
         "dependsOn": ["Microsoft.Network/networkInterfaces/webVMNic"],
         "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'webVMNic')]"}]},
            "storageProfile": {"osDisk": {"createOption": "fromImage", "managedDisk": {"storageAccountType": null}}, "imageReference": {"id": image}},
            "osProfile": {"computerName": "web", "adminUsername": "azureuser", "adminPassword": "[parameters('adminPassword')]"},
            "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}}}}
    ]}}})
}

fn dep(name: &str) -> String {
    format!(
        "{}?api-version=2024-11-01",
        b_path(&format!("Microsoft.Resources/deployments/{name}"))
    )
}

#[tokio::test]
async fn az_vm_create_style_deployment_succeeds_with_the_aux_token() {
    let ctx = TestContext::start(seed()).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let aux = format!("Bearer {a}");
    let r = ctx
        .call(
            Method::PUT,
            &dep("vm_deploy_1"),
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(az_vm_template(&version(RG_GOLDEN, "ubuntu"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Accepted");
    assert_eq!(
        r.body["properties"]["parameters"]["adminPassword"],
        json!({"type": "SecureString"})
    );
    let op = r.header("azure-asyncoperation").to_owned();
    assert!(
        op.contains("/deployments/vm_deploy_1/operationStatuses/"),
        "{op}"
    );
    // Polls carry no aux token; the deployment still runs as the PUT's caller.
    let status = ctx.wait(&op, &b).await;
    assert_eq!(status.body["status"], "Succeeded", "{}", status.body);
    let d = ctx.get(&dep("vm_deploy_1"), &b).await.body;
    assert_eq!(d["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        d["properties"]["outputResources"].as_array().unwrap().len(),
        5
    );
    let vm = ctx
        .get(
            &format!(
                "{}?{COMPUTE_API}&$expand=instanceView",
                b_path("Microsoft.Compute/virtualMachines/web")
            ),
            &b,
        )
        .await;
    assert_eq!(vm.status, StatusCode::OK);
    assert!(
        vm.body["properties"]["osProfile"]
            .get("adminPassword")
            .is_none()
    );
    let nic = ctx
        .get(
            &format!(
                "{}?{NETWORK_API}",
                b_path("Microsoft.Network/networkInterfaces/webVMNic")
            ),
            &b,
        )
        .await;
    assert_eq!(
        nic.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.0.0.4"
    );
}

#[tokio::test]
async fn deployment_without_aux_token_fails_with_deployment_failed() {
    let ctx = TestContext::start(seed()).await;
    let b = ctx.token_b().await;
    let r = ctx
        .put(
            &dep("vm_deploy_2"),
            &b,
            az_vm_template(&version(RG_GOLDEN, "ubuntu")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let status = ctx.wait(r.header("azure-asyncoperation"), &b).await.body;
    assert_eq!(status["status"], "Failed");
    assert_eq!(status["error"]["code"], "DeploymentFailed");
    assert!(
        status["error"]["target"]
            .as_str()
            .unwrap()
            .ends_with("/deployments/vm_deploy_2")
    );
    assert_eq!(
        status["error"]["details"][0]["code"],
        "LinkedAuthorizationFailed"
    );
    let d = ctx.get(&dep("vm_deploy_2"), &b).await.body;
    assert_eq!(d["properties"]["provisioningState"], "Failed");
    assert_eq!(
        ctx.get(
            &format!(
                "{}?{COMPUTE_API}",
                b_path("Microsoft.Compute/virtualMachines/web")
            ),
            &b
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unsupported_template_expressions_are_rejected_up_front() {
    let ctx = TestContext::start(seed()).await;
    let b = ctx.token_b().await;
    let body = json!({"properties": {"mode": "Incremental", "template": {"resources": [
        {"name": "[uniqueString(resourceGroup().id)]", "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-01-01", "location": "northeurope"}]}}});
    let r = ctx.put(&dep("bad"), &b, body).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "InvalidTemplate")
    );
}

#[tokio::test]
async fn validate_evaluates_without_creating() {
    let ctx = TestContext::start(seed()).await;
    let b = ctx.token_b().await;
    let url = b_path("Microsoft.Resources/deployments/v1/validate?api-version=2024-11-01");
    let r = ctx
        .call(
            Method::POST,
            &url,
            Some(&b),
            &[],
            Some(az_vm_template(&version(RG_GOLDEN, "ubuntu"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["properties"]["validatedResources"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(ctx.get(&dep("v1"), &b).await.status, StatusCode::NOT_FOUND);
    let nic = format!(
        "{}?{NETWORK_API}",
        b_path("Microsoft.Network/networkInterfaces/webVMNic")
    );
    assert_eq!(ctx.get(&nic, &b).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn secure_parameters_are_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = TestContext::start_in(seed(), dir).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let aux = format!("Bearer {a}");
    let r = ctx
        .call(
            Method::PUT,
            &dep("vm_deploy_3"),
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(az_vm_template(&version(RG_GOLDEN, "ubuntu"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let state = ctx.admin(Method::GET, "/state", None).await;
    assert_eq!(state.status, StatusCode::OK);
    assert!(
        !state.body.to_string().contains("Pa55w0rd!Pa55"),
        "password visible in admin state"
    );
    ctx.wait(r.header("azure-asyncoperation"), &b).await;
    let on_disk =
        std::fs::read_to_string(ctx.dir.as_ref().unwrap().path().join("state.json")).unwrap();
    assert!(!on_disk.contains("Pa55w0rd!Pa55"), "password persisted");
}
