//! Microsoft.Network: virtual networks with their subnets, network security groups, public IP
//! addresses and network interfaces, as the documents Azure returns (with `etag`,
//! `resourceGuid`, default security rules, assigned addresses) and the references Network
//! validates. Shapes from specification/network/resource-manager/Microsoft.Network/Network/
//! stable/2025-05-01/examples (VirtualNetworkCreateSubnet.json, NetworkSecurityGroupCreateWithRule.json,
//! PublicIpAddressCreateDefaults.json, NetworkInterfaceCreate.json).
//!
//! Subnets live inside their virtual network's document (Azure returns them inline), so a
//! subnet PUT or DELETE rewrites the vnet; this keeps one source of truth for both APIs.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::providers::rp::{ArmId, RpError, normalize_location};

mod nic;
mod nsg;
mod pip;
mod vnet;

pub use nic::{
    next_private_ip, nic_in_use, nic_put, public_ip_in_use, referencing_ip_configs, subnet_in_use,
};
pub use nsg::nsg_put;
pub use pip::{nth_public_address, public_ip_put};
pub use vnet::{find_subnet, lookup_subnet, subnet_put, vnet_put};

/// A weak etag as Network sends it.
pub fn etag() -> String {
    format!("W/\"{}\"", uuid::Uuid::new_v4())
}

pub(crate) fn base(
    id: &ArmId,
    ty: &str,
    body: &Value,
    existing: Option<&Value>,
) -> Result<Value, RpError> {
    let location = body["location"]
        .as_str()
        .or_else(|| existing.and_then(|e| e["location"].as_str()))
        .ok_or_else(|| {
            RpError::gateway(
                400,
                "LocationRequired",
                "The location property is required for this definition.",
            )
        })?;
    let guid = existing
        .and_then(|e| e["properties"]["resourceGuid"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut props = body["properties"].clone();
    if !props.is_object() {
        props = json!({});
    }
    props["resourceGuid"] = json!(guid);
    props["provisioningState"] = json!("Succeeded");
    Ok(json!({
        "id": id.to_id(),
        "name": id.name().unwrap_or_default(),
        "type": ty,
        "location": normalize_location(location),
        "etag": etag(),
        "tags": body.get("tags").cloned().unwrap_or_else(|| json!({})),
        "properties": props,
    }))
}

/// Parses `10.0.0.0/16`.
pub fn parse_cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, len) = s.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((u32::from(ip) & mask, len))
}

pub(crate) fn contains(outer: (u32, u8), inner: (u32, u8)) -> bool {
    let mask = if outer.1 == 0 {
        0
    } else {
        u32::MAX << (32 - outer.1)
    };
    inner.1 >= outer.1 && inner.0 & mask == outer.0
}

pub(crate) fn overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    contains(a, b) || contains(b, a)
}

pub(crate) fn bad(code: &str, message: String) -> RpError {
    RpError::service(400, code, message)
}

#[cfg(test)]
mod tests;
