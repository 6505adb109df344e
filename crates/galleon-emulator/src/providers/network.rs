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

use crate::providers::rp::{ArmId, Lookup, RpError, normalize_location};

/// A weak etag as Network sends it.
pub fn etag() -> String {
    format!("W/\"{}\"", uuid::Uuid::new_v4())
}

fn base(id: &ArmId, ty: &str, body: &Value, existing: Option<&Value>) -> Result<Value, RpError> {
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

fn contains(outer: (u32, u8), inner: (u32, u8)) -> bool {
    let mask = if outer.1 == 0 {
        0
    } else {
        u32::MAX << (32 - outer.1)
    };
    inner.1 >= outer.1 && inner.0 & mask == outer.0
}

fn overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    contains(a, b) || contains(b, a)
}

fn bad(code: &str, message: String) -> RpError {
    RpError::service(400, code, message)
}

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

/// The first free address of a subnet; Azure reserves the first four and the last one.
pub fn next_private_ip(prefix: &str, used: &[String]) -> Option<Ipv4Addr> {
    let (net, len) = parse_cidr(prefix)?;
    let size = 1u64 << (32 - u32::from(len));
    (4..size.saturating_sub(1))
        .map(|k| Ipv4Addr::from(net + k as u32))
        .find(|ip| !used.iter().any(|u| u == &ip.to_string()))
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

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
