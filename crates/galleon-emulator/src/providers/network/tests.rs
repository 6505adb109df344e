//! Network documents, address assignment and reference validation, without a server.

use serde_json::json;

use super::*;
use crate::providers::compute::test_lookup::MapLookup;

const RG: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network";

fn id(s: &str) -> ArmId {
    ArmId::parse(&format!("{RG}/{s}")).unwrap()
}

fn vnet() -> Value {
    vnet_put(
        &id("virtualNetworks/vnet-app"),
        &json!({"location": "northeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.10.1.0/24"}}]}}),
        None,
    )
    .unwrap()
}

#[test]
fn vnet_carries_inline_subnets_with_ids_and_etags() {
    let v = vnet();
    let s = &v["properties"]["subnets"][0];
    assert_eq!(
        s["id"],
        format!("{RG}/virtualNetworks/vnet-app/subnets/default")
    );
    assert!(s["etag"].as_str().unwrap().starts_with("W/\""));
    assert_eq!(
        s["properties"]["privateEndpointNetworkPolicies"],
        "Disabled"
    );
    assert!(v["properties"]["resourceGuid"].is_string());
}

#[test]
fn subnets_must_fit_and_not_overlap() {
    let e = vnet_put(
        &id("virtualNetworks/v"),
        &json!({"location": "x", "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "a", "properties": {"addressPrefix": "10.20.1.0/24"}}]}}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code, "NetcfgSubnetRangeOutsideVnet");
    let e = vnet_put(
        &id("virtualNetworks/v"),
        &json!({"location": "x", "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "a", "properties": {"addressPrefix": "10.10.0.0/24"}},
                    {"name": "b", "properties": {"addressPrefix": "10.10.0.128/25"}}]}}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code, "NetcfgSubnetRangesOverlap");
}

#[test]
fn subnet_put_rewrites_the_vnet_and_keeps_others() {
    let mut v = vnet();
    let s = subnet_put(
        &mut v,
        "web",
        &json!({"properties": {"addressPrefix": "10.10.2.0/24"}}),
    )
    .unwrap();
    assert_eq!(s["name"], "web");
    assert_eq!(v["properties"]["subnets"].as_array().unwrap().len(), 2);
    // A vnet PUT without subnets keeps them.
    let again = vnet_put(
        &id("virtualNetworks/vnet-app"),
        &json!({"location": "northeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}}}),
        Some(&v),
    )
    .unwrap();
    assert_eq!(again["properties"]["subnets"].as_array().unwrap().len(), 2);
    assert_eq!(
        again["properties"]["resourceGuid"],
        v["properties"]["resourceGuid"]
    );
}

#[test]
fn nsg_has_default_rules_and_validates_priorities() {
    let n = nsg_put(&id("networkSecurityGroups/web"), &json!({"location": "northeurope", "properties": {"securityRules": [
        {"name": "ssh", "properties": {"priority": 1000, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "*", "destinationPortRange": "22"}}]}}), None).unwrap();
    assert_eq!(
        n["properties"]["defaultSecurityRules"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        n["properties"]["securityRules"][0]["id"],
        format!("{RG}/networkSecurityGroups/web/securityRules/ssh")
    );
    let e = nsg_put(&id("networkSecurityGroups/web"), &json!({"location": "x", "properties": {"securityRules": [
        {"name": "a", "properties": {"priority": 50, "direction": "Inbound", "access": "Allow", "protocol": "Tcp"}}]}}), None)
    .unwrap_err();
    assert_eq!(e.code, "SecurityRuleInvalidPriority");
    let rule = |n: &str| json!({"name": n, "properties": {"priority": 200, "direction": "Inbound", "access": "Allow", "protocol": "*"}});
    let e = nsg_put(
        &id("networkSecurityGroups/web"),
        &json!({"location": "x", "properties": {"securityRules": [rule("a"), rule("b")]}}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code, "SecurityRuleConflict");
}

#[test]
fn public_ip_gets_an_address_and_keeps_it() {
    let p = public_ip_put(
        &id("publicIPAddresses/web-pip"),
        &json!({"location": "northeurope"}),
        None,
        nth_public_address(0),
    )
    .unwrap();
    assert_eq!(p["properties"]["ipAddress"], "20.50.0.10");
    assert_eq!(p["properties"]["publicIPAllocationMethod"], "Static");
    assert_eq!(p["sku"]["name"], "Standard");
    let again = public_ip_put(
        &id("publicIPAddresses/web-pip"),
        &json!({"location": "northeurope"}),
        Some(&p),
        nth_public_address(5),
    )
    .unwrap();
    assert_eq!(again["properties"]["ipAddress"], "20.50.0.10");
    let e = public_ip_put(
        &id("publicIPAddresses/x"),
        &json!({"location": "northeurope",
        "properties": {"publicIPAllocationMethod": "Dynamic"}}),
        None,
        nth_public_address(1),
    )
    .unwrap_err();
    assert_eq!(e.code, "StandardSkuPublicIPAddressesMustBeStatic");
}

#[test]
fn nic_gets_next_free_private_ip_and_checks_references() {
    let mut l = MapLookup::default();
    l.put(vnet());
    let subnet = format!("{RG}/virtualNetworks/vnet-app/subnets/default");
    let body = json!({"location": "northeurope", "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}]}});
    let nic = nic_put(
        &id("networkInterfaces/web-nic"),
        &body,
        None,
        &l,
        &["10.10.1.4".into()],
    )
    .unwrap();
    let ipc = &nic["properties"]["ipConfigurations"][0];
    assert_eq!(ipc["properties"]["privateIPAddress"], "10.10.1.5");
    assert_eq!(ipc["properties"]["primary"], true);
    assert_eq!(
        ipc["id"],
        format!("{RG}/networkInterfaces/web-nic/ipConfigurations/ipconfig1")
    );
    // Update keeps the address even if it would now be "taken".
    let again = nic_put(&id("networkInterfaces/web-nic"), &body, Some(&nic), &l, &[]).unwrap();
    assert_eq!(
        again["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.10.1.5"
    );
    let mut bad_body = body.clone();
    bad_body["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"] =
        json!({"id": format!("{RG}/publicIPAddresses/nope")});
    assert_eq!(
        nic_put(&id("networkInterfaces/n2"), &bad_body, None, &l, &[])
            .unwrap_err()
            .code,
        "InvalidResourceReference"
    );
    let mut far = body;
    far["location"] = json!("westeurope");
    assert_eq!(
        nic_put(&id("networkInterfaces/n3"), &far, None, &l, &[])
            .unwrap_err()
            .code,
        "InvalidResourceReference"
    );
}

#[test]
fn private_ips_skip_reserved_addresses() {
    assert_eq!(
        next_private_ip("10.0.0.0/29", &[]).unwrap().to_string(),
        "10.0.0.4"
    );
    let used: Vec<String> = vec!["10.0.0.4".into(), "10.0.0.5".into(), "10.0.0.6".into()];
    assert!(next_private_ip("10.0.0.0/29", &used).is_none());
}

#[test]
fn in_use_lookups() {
    let nic = json!({"properties": {"ipConfigurations": [{"id": "nic/ipConfigurations/ipconfig1",
        "properties": {"subnet": {"id": "S"}, "publicIPAddress": {"id": "P"}}}]}});
    assert_eq!(
        referencing_ip_configs(std::slice::from_ref(&nic), "subnet", "s"),
        ["nic/ipConfigurations/ipconfig1"]
    );
    assert!(referencing_ip_configs(&[nic], "publicIPAddress", "Q").is_empty());
    assert_eq!(nic_in_use("n", "v").code, "NicInUse");
}
