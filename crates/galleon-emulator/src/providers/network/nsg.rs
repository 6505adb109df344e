//! Network security groups: user rules validated as Network does, plus the six default rules.

use serde_json::{Value, json};

use super::{bad, base, etag};
use crate::providers::rp::{ArmId, RpError};

/// The six rules every NSG carries (NetworkSecurityGroupGet.json `defaultSecurityRules`).
fn default_rules(nsg_id: &str) -> Value {
    let rule =
        |name: &str, desc: &str, dir: &str, access: &str, prio: u32, src: &str, dst: &str| {
            json!({
                "name": name,
                "id": format!("{nsg_id}/defaultSecurityRules/{name}"),
                "etag": etag(),
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                "properties": {
                    "description": desc, "protocol": "*", "sourcePortRange": "*",
                    "destinationPortRange": "*", "sourceAddressPrefix": src,
                    "destinationAddressPrefix": dst, "access": access, "priority": prio,
                    "direction": dir, "provisioningState": "Succeeded",
                    "sourcePortRanges": [], "destinationPortRanges": [],
                    "sourceAddressPrefixes": [], "destinationAddressPrefixes": [],
                },
            })
        };
    json!([
        rule(
            "AllowVnetInBound",
            "Allow inbound traffic from all VMs in VNET",
            "Inbound",
            "Allow",
            65000,
            "VirtualNetwork",
            "VirtualNetwork"
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            "Allow inbound traffic from azure load balancer",
            "Inbound",
            "Allow",
            65001,
            "AzureLoadBalancer",
            "*"
        ),
        rule(
            "DenyAllInBound",
            "Deny all inbound traffic",
            "Inbound",
            "Deny",
            65500,
            "*",
            "*"
        ),
        rule(
            "AllowVnetOutBound",
            "Allow outbound traffic from all VMs to all VMs in VNET",
            "Outbound",
            "Allow",
            65000,
            "VirtualNetwork",
            "VirtualNetwork"
        ),
        rule(
            "AllowInternetOutBound",
            "Allow outbound traffic from all VMs to Internet",
            "Outbound",
            "Allow",
            65001,
            "*",
            "Internet"
        ),
        rule(
            "DenyAllOutBound",
            "Deny all outbound traffic",
            "Outbound",
            "Deny",
            65500,
            "*",
            "*"
        ),
    ])
}

/// The stored document for `PUT .../networkSecurityGroups/{n}`.
///
/// # Errors
/// 400 for a rule with a missing field, a priority outside 100..=4096 or a duplicate priority
/// in one direction.
pub fn nsg_put(id: &ArmId, body: &Value, existing: Option<&Value>) -> Result<Value, RpError> {
    let mut doc = base(
        id,
        "Microsoft.Network/networkSecurityGroups",
        body,
        existing,
    )?;
    let nsg_id = id.to_id();
    let mut rules = Vec::new();
    let mut seen: Vec<(String, u64, String)> = Vec::new();
    for r in body["properties"]["securityRules"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = r["name"].as_str().unwrap_or_default().to_owned();
        let mut p = r["properties"].clone();
        for field in ["protocol", "access", "direction", "priority"] {
            if p[field].is_null() {
                return Err(bad(
                    "SecurityRuleParameterContainsUnsupportedValue",
                    format!(
                        "Security rule parameter {field} for rule with Id {nsg_id}/securityRules/{name} cannot be null."
                    ),
                ));
            }
        }
        let prio = p["priority"].as_u64().unwrap_or(0);
        if !(100..=4096).contains(&prio) {
            return Err(bad(
                "SecurityRuleInvalidPriority",
                format!(
                    "Security rule has invalid Priority. Value provided: {prio} Allowed range 100-4096."
                ),
            ));
        }
        let dir = p["direction"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some((other, _, _)) = seen.iter().find(|(_, pr, d)| *pr == prio && *d == dir) {
            return Err(bad(
                "SecurityRuleConflict",
                format!(
                    "Security rule {name} conflicts with rule {other}. Rules cannot have the same Priority and Direction."
                ),
            ));
        }
        seen.push((name.clone(), prio, dir));
        p["provisioningState"] = json!("Succeeded");
        for k in [
            "sourcePortRanges",
            "destinationPortRanges",
            "sourceAddressPrefixes",
            "destinationAddressPrefixes",
        ] {
            if p[k].is_null() {
                p[k] = json!([]);
            }
        }
        rules.push(json!({
            "name": name,
            "id": format!("{nsg_id}/securityRules/{name}"),
            "etag": etag(),
            "type": "Microsoft.Network/networkSecurityGroups/securityRules",
            "properties": p,
        }));
    }
    doc["properties"]["securityRules"] = json!(rules);
    doc["properties"]["defaultSecurityRules"] = default_rules(&nsg_id);
    Ok(doc)
}
