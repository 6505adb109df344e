//! Virtual networks, NSGs, public IPs and NICs as written in YAML.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{KeyedMap, Tags};
use crate::span::Sp;

/// A virtual network with its subnets inline.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Key of the resource group.
    pub resource_group: Sp<String>,
    /// Azure name (default: the key).
    pub name: Option<Sp<String>>,
    /// Address prefixes in CIDR notation.
    pub address_space: Vec<Sp<String>>,
    /// Subnets, keyed by manifest name.
    #[serde(default)]
    pub subnets: KeyedMap<Subnet>,
    /// Azure tags.
    pub tags: Option<Tags>,
}

/// A subnet of a network.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// Azure name (default: the key).
    pub name: Option<Sp<String>>,
    /// CIDR inside the network's address space.
    pub address_prefix: Sp<String>,
    /// Key of an NSG attached to the subnet.
    pub nsg: Option<Sp<String>>,
}

/// A network security group.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSecurityGroup {
    /// Key of the resource group.
    pub resource_group: Sp<String>,
    /// Azure name (default: the key).
    pub name: Option<Sp<String>>,
    /// Security rules.
    #[serde(default)]
    pub rules: Vec<Sp<SecurityRule>>,
    /// Azure tags.
    pub tags: Option<Tags>,
}

/// One NSG rule.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityRule {
    /// Rule name.
    pub name: Sp<String>,
    /// 100-4096; lower numbers win.
    #[schemars(range(min = 100, max = 4096))]
    pub priority: Sp<u32>,
    /// Traffic direction.
    pub direction: Sp<Direction>,
    /// Allow or deny.
    pub access: Sp<Access>,
    /// Protocol.
    pub protocol: Sp<Protocol>,
    /// Source address prefix, CIDR, service tag or `*`.
    pub source: Sp<String>,
    /// Source port or range (default `*`).
    pub source_port: Option<Sp<String>>,
    /// Destination address prefix (default `*`).
    pub destination: Option<Sp<String>>,
    /// Destination port or range.
    pub destination_port: Sp<String>,
}

/// Traffic direction of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Direction {
    /// Incoming.
    Inbound,
    /// Outgoing.
    Outbound,
}

/// Rule verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Access {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// Rule protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// Any protocol.
    #[serde(rename = "*")]
    Any,
}

/// A public IP address.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicIp {
    /// Key of the resource group.
    pub resource_group: Sp<String>,
    /// Azure name (default: the key).
    pub name: Option<Sp<String>>,
    /// SKU (default Standard).
    pub sku: Option<Sp<PublicIpSku>>,
    /// Allocation method (default Static).
    pub allocation: Option<Sp<Allocation>>,
    /// Availability zones.
    #[serde(default)]
    pub zones: Vec<Sp<String>>,
    /// Azure tags.
    pub tags: Option<Tags>,
}

/// Public IP SKU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum PublicIpSku {
    /// Standard.
    Standard,
    /// Basic (retired by Azure, still accepted here).
    Basic,
}

/// Public IP allocation method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Allocation {
    /// Static.
    Static,
    /// Dynamic.
    Dynamic,
}

/// A network interface.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkInterface {
    /// Key of the resource group.
    pub resource_group: Sp<String>,
    /// Azure name (default: the key).
    pub name: Option<Sp<String>>,
    /// `<network key>/<subnet key>`.
    pub subnet: Sp<String>,
    /// Key of a public IP.
    pub public_ip: Option<Sp<String>>,
    /// Key of an NSG.
    pub nsg: Option<Sp<String>>,
    /// Azure tags.
    pub tags: Option<Tags>,
}
