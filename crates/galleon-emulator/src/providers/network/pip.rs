//! Public IP addresses: SKU/allocation defaults and a stable assigned address.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::{bad, base};
use crate::providers::rp::{ArmId, RpError};

/// The stored document for `PUT .../publicIPAddresses/{p}`: Standard SKU and Static allocation
/// by default (Basic SKU public IPs were retired in 2025), an address assigned on create and
/// kept on update.
///
/// # Errors
/// 400 when a Standard SKU asks for Dynamic allocation.
pub fn public_ip_put(
    id: &ArmId,
    body: &Value,
    existing: Option<&Value>,
    address: Ipv4Addr,
) -> Result<Value, RpError> {
    let mut doc = base(id, "Microsoft.Network/publicIPAddresses", body, existing)?;
    let sku = body["sku"]["name"]
        .as_str()
        .unwrap_or("Standard")
        .to_owned();
    let p = &mut doc["properties"];
    if p["publicIPAllocationMethod"].is_null() {
        p["publicIPAllocationMethod"] = json!(if sku.eq_ignore_ascii_case("Standard") {
            "Static"
        } else {
            "Dynamic"
        });
    }
    if sku.eq_ignore_ascii_case("Standard") && p["publicIPAllocationMethod"] == "Dynamic" {
        return Err(bad(
            "StandardSkuPublicIPAddressesMustBeStatic",
            format!(
                "Standard sku publicIp {} must have AllocationMethod set to Static.",
                id.to_id()
            ),
        ));
    }
    for (k, v) in [
        ("publicIPAddressVersion", json!("IPv4")),
        ("idleTimeoutInMinutes", json!(4)),
        ("ipTags", json!([])),
    ] {
        if p[k].is_null() {
            p[k] = v;
        }
    }
    p["ipAddress"] = existing
        .and_then(|e| e["properties"].get("ipAddress").cloned())
        .unwrap_or_else(|| json!(address.to_string()));
    if let Some(cfg) = existing.and_then(|e| e["properties"].get("ipConfiguration")) {
        p["ipConfiguration"] = cfg.clone();
    }
    doc["sku"] = json!({"name": sku, "tier": body["sku"]["tier"].as_str().unwrap_or("Regional")});
    if let Some(z) = body.get("zones") {
        doc["zones"] = z.clone();
    }
    Ok(doc)
}

/// A deterministic public address for the `n`th public IP (20.x.y.z, Azure's public range).
pub fn nth_public_address(n: u32) -> Ipv4Addr {
    let n = n + 10;
    Ipv4Addr::new(20, 50, ((n >> 8) & 0xff) as u8, (n & 0xff) as u8)
}
