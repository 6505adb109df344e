//! Network rules: CIDR syntax, subnets inside their address space and apart from each other,
//! NSG priorities.
//!
//! Azure refuses a prefix with host bits set ("InvalidCIDRNotation ... the address prefix should
//! be 10.0.0.0/24"), a subnet outside the address space ("NetcfgSubnetRangeOutsideVnet"),
//! overlapping subnets ("NetcfgOverlappingSubnets"), and rule priorities outside 100-4096 or
//! repeated within one direction ("SecurityRuleInvalidPriority", "SecurityRuleConflict");
//! see <https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview>.

use std::net::IpAddr;

use crate::diag::{Code, Diagnostic};
use crate::load::Manifest;
use crate::span::Sp;

/// A parsed prefix: address as an integer, width in bits (32 or 128), prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: u128,
    bits: u8,
    prefix: u8,
}

impl Cidr {
    fn mask(&self) -> u128 {
        if self.prefix == 0 {
            0
        } else {
            (!0u128 << (self.bits - self.prefix)) & width_mask(self.bits)
        }
    }
    /// True when `inner` lies entirely within `self`.
    pub fn contains(&self, inner: &Cidr) -> bool {
        self.bits == inner.bits
            && inner.prefix >= self.prefix
            && inner.addr & self.mask() == self.addr
    }
    /// True when the two ranges share an address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }
}

fn width_mask(bits: u8) -> u128 {
    if bits == 128 { !0 } else { (1u128 << bits) - 1 }
}

/// Parses `a.b.c.d/n` or an IPv6 prefix; host bits must be zero, as Azure requires.
pub fn parse_cidr(s: &str) -> Result<Cidr, String> {
    let (ip, prefix) = s
        .split_once('/')
        .ok_or_else(|| "missing /prefix length".to_owned())?;
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("`{ip}` is not an IP address"))?;
    let (addr, bits) = match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u8),
        IpAddr::V6(v6) => (u128::from(v6), 128u8),
    };
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= bits)
        .ok_or_else(|| format!("prefix length must be 0-{bits}"))?;
    let cidr = Cidr { addr, bits, prefix };
    if addr & !cidr.mask() & width_mask(bits) != 0 {
        let base = match ip {
            IpAddr::V4(_) => IpAddr::from(std::net::Ipv4Addr::from(
                u32::try_from(addr & cidr.mask()).expect("masked v4 fits in u32"),
            )),
            IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(addr & cidr.mask())),
        };
        return Err(format!(
            "host bits are set; for /{prefix} the prefix should be {base}/{prefix}"
        ));
    }
    Ok(cidr)
}

fn bad_cidr(file: usize, v: &Sp<String>, why: &str) -> Diagnostic {
    Diagnostic::at(
        Code::InvalidCidr,
        file,
        v.loc,
        format!("`{}` is not a valid CIDR: {why}", v.value),
    )
    .label("invalid prefix")
}

/// Runs the network rules.
pub fn check(m: &Manifest, out: &mut Vec<Diagnostic>) {
    for (key, item) in &m.networks {
        let file = item.file;
        let space: Vec<Cidr> = item
            .value
            .address_space
            .iter()
            .filter_map(|a| match parse_cidr(&a.value) {
                Ok(c) => Some(c),
                Err(why) => {
                    out.push(bad_cidr(file, a, &why));
                    None
                }
            })
            .collect();
        if item.value.address_space.is_empty() {
            out.push(
                Diagnostic::at(
                    Code::InvalidCidr,
                    file,
                    item.key.loc,
                    format!("network `{key}` has an empty address_space"),
                )
                .help("add at least one prefix, e.g. address_space: [10.0.0.0/16]"),
            );
        }
        let mut seen: Vec<(Cidr, &str)> = Vec::new();
        for (skey, s) in item.value.subnets.iter() {
            let prefix = &s.address_prefix;
            let cidr = match parse_cidr(&prefix.value) {
                Ok(c) => c,
                Err(why) => {
                    out.push(bad_cidr(file, prefix, &why));
                    continue;
                }
            };
            if !space.is_empty() && !space.iter().any(|outer| outer.contains(&cidr)) {
                let spaces: Vec<&str> = item
                    .value
                    .address_space
                    .iter()
                    .map(|a| a.value.as_str())
                    .collect();
                out.push(
                    Diagnostic::at(
                        Code::SubnetOutsideAddressSpace,
                        file,
                        prefix.loc,
                        format!(
                            "subnet `{}` ({}) is outside the address space of network `{key}` ({})",
                            skey.value,
                            prefix.value,
                            spaces.join(", ")
                        ),
                    )
                    .label("not inside the address space"),
                );
            }
            if let Some((_, other)) = seen.iter().find(|(c, _)| c.overlaps(&cidr)) {
                out.push(
                    Diagnostic::at(
                        Code::InvalidCidr,
                        file,
                        prefix.loc,
                        format!("subnet `{}` overlaps subnet `{other}`", skey.value),
                    )
                    .label("overlapping prefix"),
                );
            }
            seen.push((cidr, skey.value.as_str()));
        }
    }
    for item in m.network_security_groups.values() {
        let mut used: Vec<(u32, crate::model::Direction, &str)> = Vec::new();
        for rule in &item.value.rules {
            let p = &rule.priority;
            if !(100..=4096).contains(&p.value) {
                out.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        item.file,
                        p.loc,
                        format!(
                            "priority {} of rule `{}` is outside 100-4096",
                            p.value, rule.name.value
                        ),
                    )
                    .label("out of range"),
                );
            } else if let Some((_, _, other)) = used
                .iter()
                .find(|(q, d, _)| *q == p.value && *d == rule.direction.value)
            {
                out.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        item.file,
                        p.loc,
                        format!(
                            "rules `{}` and `{other}` have the same priority {} and direction",
                            rule.name.value, p.value
                        ),
                    )
                    .label("priority already used"),
                );
            }
            used.push((p.value, rule.direction.value, rule.name.value.as_str()));
            let ports = [Some(&rule.destination_port), rule.source_port.as_ref()];
            for port in ports.into_iter().flatten() {
                if let Err(why) = check_ports(&port.value) {
                    out.push(
                        Diagnostic::at(
                            Code::InvalidValue,
                            item.file,
                            port.loc,
                            format!("port `{}` of rule `{}` {why}", port.value, rule.name.value),
                        )
                        .label("expected *, a port, or a range like 8000-8080"),
                    );
                }
            }
        }
    }
}

/// A port spec: `*`, `N`, `N-M`, or a comma-separated list of those, ports 0-65535.
pub fn check_ports(spec: &str) -> Result<(), String> {
    if spec == "*" {
        return Ok(());
    }
    for part in spec.split(',').map(str::trim) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let (Ok(lo), Ok(hi)) = (lo.trim().parse::<u16>(), hi.trim().parse::<u16>()) else {
            return Err("is not a port or port range".into());
        };
        if lo > hi {
            return Err("is a range that ends before it starts".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_contains() {
        let space = parse_cidr("10.10.0.0/16").unwrap();
        assert!(space.contains(&parse_cidr("10.10.1.0/24").unwrap()));
        assert!(!space.contains(&parse_cidr("10.11.1.0/24").unwrap()));
        assert!(!parse_cidr("10.10.1.0/24").unwrap().contains(&space));
        assert!(
            parse_cidr("fd00::/8")
                .unwrap()
                .contains(&parse_cidr("fd00:1::/32").unwrap())
        );
    }

    #[test]
    fn port_specs() {
        for ok in ["*", "22", "8000-8080", "80,443", "0-65535"] {
            assert!(check_ports(ok).is_ok(), "{ok}");
        }
        for bad in ["ssh", "70000", "90-80", "", "1-2-3"] {
            assert!(check_ports(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_host_bits_and_garbage() {
        let err = parse_cidr("10.0.0.1/24").unwrap_err();
        assert!(err.contains("10.0.0.0/24"), "{err}");
        assert!(parse_cidr("10.0.0.0").is_err());
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("300.0.0.0/8").is_err());
        assert!(parse_cidr("0.0.0.0/0").is_ok());
    }
}
