//! Network interfaces: IP configurations with assigned private addresses, reference checks, and
//! the in-use errors Network returns when something still points at a resource.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::{bad, base, etag, lookup_subnet, parse_cidr};
use crate::providers::rp::{ArmId, Lookup, RpError, normalize_location};

/// The first free address of a subnet; Azure reserves the first four and the last one.
pub fn next_private_ip(prefix: &str, used: &[String]) -> Option<Ipv4Addr> {
    let (net, len) = parse_cidr(prefix)?;
    let size = 1u64 << (32 - u32::from(len));
    // Parsed once into a set: a subnet of 500 NICs otherwise costs 500 × 500 formatted
    // comparisons per new NIC, which made the emulator the bound of large benchmarks.
    let used: std::collections::HashSet<Ipv4Addr> =
        used.iter().filter_map(|u| u.parse().ok()).collect();
    (4..size.saturating_sub(1))
        .map(|k| Ipv4Addr::from(net + k as u32))
        .find(|ip| !used.contains(ip))
}

fn invalid_reference(target: &str, by: &str) -> RpError {
    // Network's wording for a dangling or cross-region reference.
    bad(
        "InvalidResourceReference",
        format!(
            "Resource {target} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
        ),
    )
}

/// The stored document for `PUT .../networkInterfaces/{n}`: every IP configuration gets an id,
/// etag and (when Dynamic or absent) the next free private address of its subnet.
/// `used_ips` are the addresses other NICs hold.
///
/// # Errors
/// 400 `InvalidResourceReference` for a missing subnet, public IP or NSG, or one in another
/// region; 400 when no IP configuration is given or the subnet is full.
pub fn nic_put(
    id: &ArmId,
    body: &Value,
    existing: Option<&Value>,
    lookup: &dyn Lookup,
    used_ips: &[String],
) -> Result<Value, RpError> {
    let mut doc = base(id, "Microsoft.Network/networkInterfaces", body, existing)?;
    let nic_id = id.to_id();
    let location = doc["location"].as_str().unwrap_or_default().to_owned();
    let configs = body["properties"]["ipConfigurations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if configs.is_empty() {
        return Err(bad(
            "NetworkInterfaceMustHaveAtLeastOneIpConfiguration",
            format!("Network interface {nic_id} must have one or more IP configurations."),
        ));
    }
    let old_configs = existing
        .map(|e| e["properties"]["ipConfigurations"].clone())
        .unwrap_or(Value::Null);
    let mut taken: Vec<String> = used_ips.to_vec();
    let mut out = Vec::new();
    for (k, c) in configs.iter().enumerate() {
        let name = c["name"].as_str().unwrap_or("ipconfig1").to_owned();
        let mut p = c["properties"].clone();
        if !p.is_object() {
            p = json!({});
        }
        let subnet_id = p["subnet"]["id"].as_str().unwrap_or_default().to_owned();
        let (vnet, subnet) = lookup_subnet(lookup, &subnet_id)
            .ok_or_else(|| invalid_reference(&subnet_id, &nic_id))?;
        if vnet["location"].as_str().map(normalize_location).as_deref() != Some(location.as_str()) {
            return Err(invalid_reference(&subnet_id, &nic_id));
        }
        for (field, ty) in [("publicIPAddress", "publicIPAddresses")] {
            if let Some(rid) = p[field]["id"].as_str() {
                let found = lookup.get(rid).filter(|r| {
                    ArmId::parse(rid).is_some_and(|a| a.is_type(&format!("Microsoft.Network/{ty}")))
                        && r["location"].as_str().map(normalize_location).as_deref()
                            == Some(location.as_str())
                });
                if found.is_none() {
                    return Err(invalid_reference(rid, &nic_id));
                }
            }
        }
        let old = old_configs
            .as_array()
            .and_then(|a| a.iter().find(|o| o["name"].as_str() == Some(name.as_str())))
            .map(|o| o["properties"]["privateIPAddress"].clone());
        let method = p["privateIPAllocationMethod"]
            .as_str()
            .unwrap_or("Dynamic")
            .to_owned();
        if method.eq_ignore_ascii_case("Dynamic") || p["privateIPAddress"].is_null() {
            let ip = match old.and_then(|o| o.as_str().map(str::to_owned)) {
                Some(ip) => ip,
                None => {
                    let prefix = subnet["properties"]["addressPrefix"]
                        .as_str()
                        .or_else(|| subnet["properties"]["addressPrefixes"][0].as_str())
                        .unwrap_or_default();
                    next_private_ip(prefix, &taken)
                        .ok_or_else(|| {
                            bad(
                                "SubnetIsFull",
                                format!("Subnet {} with address prefix {prefix} does not have enough capacity for 1 IP addresses.", subnet["name"].as_str().unwrap_or_default()),
                            )
                        })?
                        .to_string()
                }
            };
            p["privateIPAddress"] = json!(ip);
        }
        taken.push(
            p["privateIPAddress"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        p["privateIPAllocationMethod"] = json!(method);
        p["privateIPAddressVersion"] = json!("IPv4");
        p["primary"] = json!(k == 0);
        p["provisioningState"] = json!("Succeeded");
        out.push(json!({
            "name": name,
            "id": format!("{nic_id}/ipConfigurations/{name}"),
            "etag": etag(),
            "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
            "properties": p,
        }));
    }
    if let Some(nsg) = body["properties"]["networkSecurityGroup"]["id"].as_str() {
        let ok = lookup.get(nsg).is_some_and(|r| {
            r["location"].as_str().map(normalize_location).as_deref() == Some(location.as_str())
        });
        if !ok {
            return Err(invalid_reference(nsg, &nic_id));
        }
    }
    let p = &mut doc["properties"];
    p["ipConfigurations"] = json!(out);
    for (k, v) in [
        ("enableAcceleratedNetworking", json!(false)),
        ("enableIPForwarding", json!(false)),
        ("nicType", json!("Standard")),
        (
            "dnsSettings",
            json!({"dnsServers": [], "appliedDnsServers": []}),
        ),
    ] {
        if p[k].is_null() {
            p[k] = v;
        }
    }
    if let Some(vm) = existing.and_then(|e| e["properties"].get("virtualMachine")) {
        p["virtualMachine"] = vm.clone();
        if let Some(mac) = existing.and_then(|e| e["properties"].get("macAddress")) {
            p["macAddress"] = mac.clone();
        }
    }
    Ok(doc)
}

/// The 400 Network returns when deleting a NIC still attached to a VM.
pub fn nic_in_use(nic_id: &str, vm_id: &str) -> RpError {
    bad(
        "NicInUse",
        format!(
            "Network Interface {nic_id} is used by existing resource {vm_id}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic."
        ),
    )
}

/// The 400 Network returns when deleting a subnet that NICs still use.
pub fn subnet_in_use(subnet_id: &str, ip_config_id: &str) -> RpError {
    bad(
        "InUseSubnetCannotBeDeleted",
        format!(
            "Subnet {} is in use by {ip_config_id} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.",
            subnet_id.rsplit('/').next().unwrap_or(subnet_id)
        ),
    )
}

/// The 400 Network returns when deleting a public IP a NIC still uses.
pub fn public_ip_in_use(pip_id: &str, ip_config_id: &str) -> RpError {
    bad(
        "PublicIPAddressCannotBeDeleted",
        format!(
            "Public IP address {pip_id} can not be deleted since it is still allocated to resource {ip_config_id}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To learn how to do this, see aka.ms/deletepublicip."
        ),
    )
}

/// The ip configuration ids among `nics` that reference `target_id` through `field`
/// (`subnet`, `publicIPAddress`).
pub fn referencing_ip_configs(nics: &[Value], field: &str, target_id: &str) -> Vec<String> {
    nics.iter()
        .flat_map(|n| {
            n["properties"]["ipConfigurations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|c| {
            c["properties"][field]["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(target_id))
        })
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect()
}
