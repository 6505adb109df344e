//! Network resources through HTTPS: read-only fields (etag, resourceGuid, default rules,
//! assigned addresses), subnets as child resources, in-use protection, linked joins.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use crate::world::*;

#[tokio::test]
async fn network_documents_and_references() {
    let ctx = TestContext::start(seed()).await;
    let b = ctx.token_b().await;
    let nic = consumer_network(&ctx, &b).await;
    let vnet = b_path("Microsoft.Network/virtualNetworks/vnet-app");
    let v = ctx.get(&format!("{vnet}?{NETWORK_API}"), &b).await.body;
    assert!(v["etag"].as_str().unwrap().starts_with("W/\""));
    assert!(v["properties"]["resourceGuid"].is_string());
    assert_eq!(
        v["properties"]["subnets"][0]["id"],
        format!("{vnet}/subnets/default")
    );
    let n = ctx.get(&format!("{nic}?{NETWORK_API}"), &b).await.body;
    let ipc = &n["properties"]["ipConfigurations"][0];
    assert_eq!(ipc["properties"]["privateIPAddress"], "10.10.1.4");
    let sub = ctx
        .get(&format!("{vnet}/subnets/default?{NETWORK_API}"), &b)
        .await
        .body;
    assert_eq!(
        sub["properties"]["ipConfigurations"][0]["id"], ipc["id"],
        "{sub}"
    );
    let pip = ctx
        .get(
            &format!(
                "{}?{NETWORK_API}",
                b_path("Microsoft.Network/publicIPAddresses/web-pip")
            ),
            &b,
        )
        .await
        .body;
    assert!(
        pip["properties"]["ipAddress"]
            .as_str()
            .unwrap()
            .starts_with("20.")
    );
    assert_eq!(pip["properties"]["ipConfiguration"]["id"], ipc["id"]);

    // Subnets are child resources too.
    let web = format!("{vnet}/subnets/web?{NETWORK_API}");
    let r = ctx
        .put(
            &web,
            &b,
            json!({"properties": {"addressPrefix": "10.10.2.0/24"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let list = ctx
        .get(&format!("{vnet}/subnets?{NETWORK_API}"), &b)
        .await
        .body;
    assert_eq!(list["value"].as_array().unwrap().len(), 2);
    let r = ctx
        .put(
            &web,
            &b,
            json!({"properties": {"addressPrefix": "10.99.0.0/24"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "NetcfgSubnetRangeOutsideVnet")
    );
    // The subnet the NIC uses cannot be deleted; the other one can.
    let r = ctx
        .delete(&format!("{vnet}/subnets/default?{NETWORK_API}"), &b)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "InUseSubnetCannotBeDeleted")
    );
    assert_eq!(ctx.delete(&web, &b).await.status, StatusCode::OK);
    // A public IP held by a NIC cannot be deleted.
    let r = ctx
        .delete(
            &format!(
                "{}?{NETWORK_API}",
                b_path("Microsoft.Network/publicIPAddresses/web-pip")
            ),
            &b,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A NIC pointing at a missing subnet is refused.
    let r = ctx.put(&format!("{}?{NETWORK_API}", b_path("Microsoft.Network/networkInterfaces/bad")), &b, json!({"location": "northeurope",
        "properties": {"ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": format!("{vnet}/subnets/none")}}}]}})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "InvalidResourceReference")
    );
    // NSG: default rules and rule validation.
    let nsg = b_path("Microsoft.Network/networkSecurityGroups/nsg-web");
    let r = ctx.put(&format!("{nsg}?{NETWORK_API}"), &b, json!({"location": "northeurope", "properties": {"securityRules": [
        {"name": "allow-ssh", "properties": {"priority": 1000, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}}]}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["properties"]["defaultSecurityRules"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    // Attach it to the subnet through the vnet PUT (inline subnets).
    let r = ctx.put(&format!("{vnet}?{NETWORK_API}"), &b, json!({"location": "northeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.10.1.0/24", "networkSecurityGroup": {"id": nsg}}}]}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = ctx.delete(&format!("{nsg}?{NETWORK_API}"), &b).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Tags through PATCH keep the assigned address.
    let r = ctx
        .call(
            Method::PATCH,
            &format!("{nic}?{NETWORK_API}"),
            Some(&b),
            &[],
            Some(json!({"tags": {"k": "v"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.10.1.4"
    );
    assert_eq!(r.body["tags"]["k"], "v");
}

#[tokio::test]
async fn joining_a_subnet_needs_the_join_action() {
    // LONELY_APP may write in a second resource group but has no right on the vnet's.
    let mut seed = seed();
    seed.resources
        .push(res(rg_path(SUB_B, "rg-other"), "northeurope", json!({})));
    seed.role_assignments.push(grant(
        LONELY_APP,
        TENANT_B,
        "Contributor",
        &rg_path(SUB_B, "rg-other"),
    ));
    let ctx = TestContext::start(seed).await;
    let b = ctx.token_b().await;
    consumer_network(&ctx, &b).await;
    let lonely = ctx.token_for(LONELY_APP, TENANT_B, ARM_SCOPE).await;
    let vnet = b_path("Microsoft.Network/virtualNetworks/vnet-app");
    let nic = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-other/providers/Microsoft.Network/networkInterfaces/n?{NETWORK_API}"
    );
    let r = ctx
        .put(
            &nic,
            &lonely,
            json!({"location": "northeurope", "properties": {"ipConfigurations": [
        {"name": "c", "properties": {"subnet": {"id": format!("{vnet}/subnets/default")}}}]}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "LinkedAuthorizationFailed"),
        "{}",
        r.body
    );
    assert!(
        r.message()
            .contains("'microsoft.network/virtualnetworks/subnets/join/action'"),
        "{}",
        r.message()
    );
}
