//! Virtual networks and their subnets; subnets are stored inline in the vnet document.

use serde_json::{Value, json};

use super::{bad, base, contains, etag, overlaps, parse_cidr};
use crate::providers::rp::{ArmId, Lookup, RpError};

/// Builds a subnet document below `vnet_id`, validated against the vnet's address space.
fn subnet_doc(vnet_id: &ArmId, vnet_space: &[(u32, u8)], s: &Value) -> Result<Value, RpError> {
    let name = s["name"].as_str().unwrap_or_default();
    let vnet_name = vnet_id.name().unwrap_or_default();
    let mut props = s["properties"].clone();
    if !props.is_object() {
        props = json!({});
    }
    let prefix = props["addressPrefix"]
        .as_str()
        .or_else(|| props["addressPrefixes"][0].as_str())
        .ok_or_else(|| {
            bad(
                "InvalidRequestFormat",
                format!("Subnet '{name}' must have 'addressPrefix' or 'addressPrefixes'."),
            )
        })?;
    let cidr = parse_cidr(prefix).ok_or_else(|| {
        bad(
            "InvalidAddressPrefixFormat",
            format!(
                "Address prefix {prefix} of resource {}/subnets/{name} is not formatted correctly.",
                vnet_id.to_id()
            ),
        )
    })?;
    if !vnet_space.iter().any(|sp| contains(*sp, cidr)) {
        // Real Network wording (NetcfgSubnetRangeOutsideVnet).
        return Err(bad(
            "NetcfgSubnetRangeOutsideVnet",
            format!(
                "Subnet '{name}' is not valid because its IP address range is outside the IP address range of virtual network '{vnet_name}'."
            ),
        ));
    }
    props["provisioningState"] = json!("Succeeded");
    for (k, v) in [
        ("privateEndpointNetworkPolicies", json!("Disabled")),
        ("privateLinkServiceNetworkPolicies", json!("Enabled")),
        ("delegations", json!([])),
    ] {
        if props[k].is_null() {
            props[k] = v;
        }
    }
    Ok(json!({
        "name": name,
        "id": vnet_id.child("subnets", name).to_id(),
        "etag": etag(),
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "properties": props,
    }))
}

/// The stored document for `PUT .../virtualNetworks/{v}` with inline subnets. Without a
/// `subnets` property the existing subnets are kept (az and the SDKs send them back anyway).
///
/// # Errors
/// 400 for a missing or malformed address space, subnets outside it or overlapping.
pub fn vnet_put(id: &ArmId, body: &Value, existing: Option<&Value>) -> Result<Value, RpError> {
    let mut doc = base(id, "Microsoft.Network/virtualNetworks", body, existing)?;
    let prefixes: Vec<String> = body["properties"]["addressSpace"]["addressPrefixes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    if prefixes.is_empty() {
        return Err(bad(
            "InvalidRequestFormat",
            format!(
                "Virtual network {} must have addressSpace.addressPrefixes.",
                id.to_id()
            ),
        ));
    }
    let mut space = Vec::new();
    for p in &prefixes {
        space.push(parse_cidr(p).ok_or_else(|| {
            bad(
                "InvalidAddressPrefixFormat",
                format!(
                    "Address prefix {p} of resource {} is not formatted correctly.",
                    id.to_id()
                ),
            )
        })?);
    }
    let requested = match body["properties"].get("subnets") {
        Some(Value::Array(a)) => a.clone(),
        _ => existing
            .and_then(|e| e["properties"]["subnets"].as_array().cloned())
            .unwrap_or_default(),
    };
    let mut subnets = Vec::new();
    let mut ranges: Vec<(String, (u32, u8))> = Vec::new();
    for s in &requested {
        let sd = subnet_doc(id, &space, s)?;
        let prefix = sd["properties"]["addressPrefix"]
            .as_str()
            .or_else(|| sd["properties"]["addressPrefixes"][0].as_str())
            .unwrap_or_default();
        let cidr = parse_cidr(prefix).expect("validated by subnet_doc");
        let name = sd["name"].as_str().unwrap_or_default().to_owned();
        if let Some((other, _)) = ranges.iter().find(|(_, r)| overlaps(*r, cidr)) {
            return Err(bad(
                "NetcfgSubnetRangesOverlap",
                format!(
                    "Subnet '{name}' is not valid in virtual network '{}' because its IP address range overlaps with that of an existing subnet '{other}' in the virtual network.",
                    id.name().unwrap_or_default()
                ),
            ));
        }
        ranges.push((name, cidr));
        subnets.push(sd);
    }
    let props = &mut doc["properties"];
    props["subnets"] = json!(subnets);
    props["virtualNetworkPeerings"] = json!([]);
    if props["enableDdosProtection"].is_null() {
        props["enableDdosProtection"] = json!(false);
    }
    Ok(doc)
}

/// Applies `PUT .../virtualNetworks/{v}/subnets/{s}` to the stored vnet; returns the subnet.
///
/// # Errors
/// As [`vnet_put`].
pub fn subnet_put(vnet: &mut Value, subnet_name: &str, body: &Value) -> Result<Value, RpError> {
    let vid = ArmId::parse(vnet["id"].as_str().unwrap_or_default())
        .ok_or_else(|| RpError::bad_request("stored vnet has no id"))?;
    let mut subnets = vnet["properties"]["subnets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut sub = body.clone();
    sub["name"] = json!(subnet_name);
    match subnets.iter().position(|s| {
        s["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(subnet_name))
    }) {
        Some(i) => subnets[i] = sub,
        None => subnets.push(sub),
    }
    let mut req = vnet.clone();
    req["properties"]["subnets"] = json!(subnets);
    let updated = vnet_put(&vid, &req, Some(vnet))?;
    *vnet = updated;
    Ok(find_subnet(vnet, subnet_name).expect("just written"))
}

/// The subnet document named `name` inside a stored vnet.
pub fn find_subnet(vnet: &Value, name: &str) -> Option<Value> {
    vnet["properties"]["subnets"]
        .as_array()?
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .cloned()
}

/// Resolves a subnet id to its document through the vnet that holds it.
pub fn lookup_subnet(lookup: &dyn Lookup, subnet_id: &str) -> Option<(Value, Value)> {
    let a = ArmId::parse(subnet_id)?;
    if !a.is_type("Microsoft.Network/virtualNetworks/subnets") {
        return None;
    }
    let vnet = lookup.get(&a.parent()?.to_id())?;
    let subnet = find_subnet(&vnet, a.name()?)?;
    Some((vnet, subnet))
}
