//! Networks (with subnets), NSGs, public IPs and NICs.
//!
//! Subnet references (`<network>/<subnet>`) resolve here, for NICs and for the VM shorthand.

use crate::address::{Address, Kind};
use crate::diag::{Code, Diagnostic};
use crate::model::{Allocation, PublicIpSku};
use crate::resolve::build::{Builder, Placement, dangling, name_or_key, opt_or, public_ip_id};
use crate::resolve::types::*;
use crate::span::{FileId, Sp};

impl Builder<'_> {
    pub fn nsgs(&mut self) {
        for (key, item) in &self.m.network_security_groups {
            let n = &item.value;
            let Some(p) = self.placement(item.file, &n.resource_group) else {
                continue;
            };
            let name = name_or_key(&n.name, key);
            let rules = n
                .rules
                .iter()
                .map(|r| RuleSpec {
                    name: r.name.value.clone(),
                    priority: r.priority.value,
                    direction: r.direction.value,
                    access: r.access.value,
                    protocol: r.protocol.value,
                    source: r.source.value.clone(),
                    source_port: opt_or(&r.source_port, "*"),
                    destination: opt_or(&r.destination, "*"),
                    destination_port: r.destination_port.value.clone(),
                })
                .collect();
            let spec = Spec::Nsg(NsgSpec {
                rules,
                tags: n.tags.clone().unwrap_or_default(),
            });
            let arm_id = format!(
                "{}/providers/Microsoft.Network/networkSecurityGroups/{name}",
                p.rg_id
            );
            let origin = self.origin(item.file, item.key.loc);
            self.push(
                Address::new(Kind::Nsg, key.clone()),
                &p,
                name,
                p.location.clone(),
                arm_id,
                spec,
                vec![],
                origin,
            );
        }
    }

    pub fn networks(&mut self) {
        for (key, item) in &self.m.networks {
            let n = &item.value;
            let Some(p) = self.placement(item.file, &n.resource_group) else {
                continue;
            };
            let name = name_or_key(&n.name, key);
            let arm_id = format!(
                "{}/providers/Microsoft.Network/virtualNetworks/{name}",
                p.rg_id
            );
            let mut depends = Vec::new();
            let mut subnets = Vec::new();
            let mut ok = true;
            for (skey, s) in n.subnets.iter() {
                let nsg = match &s.nsg {
                    Some(k) => match self.lookup(item.file, k, Kind::Nsg, "network security group")
                    {
                        Some(r) => Some(r),
                        None => {
                            ok = false;
                            continue;
                        }
                    },
                    None => None,
                };
                if let Some(r) = &nsg
                    && !depends.contains(&r.address)
                {
                    depends.push(r.address.clone());
                }
                let sname = name_or_key(&s.name, skey);
                subnets.push(SubnetSpec {
                    key: skey.value.clone(),
                    arm_id: format!("{arm_id}/subnets/{sname}"),
                    name: sname,
                    address_prefix: s.address_prefix.value.clone(),
                    nsg,
                });
            }
            if !ok {
                continue;
            }
            let spec = Spec::Network(NetworkSpec {
                address_space: n.address_space.iter().map(|a| a.value.clone()).collect(),
                subnets,
                tags: n.tags.clone().unwrap_or_default(),
            });
            let origin = self.origin(item.file, item.key.loc);
            self.push(
                Address::new(Kind::Network, key.clone()),
                &p,
                name,
                p.location.clone(),
                arm_id,
                spec,
                depends,
                origin,
            );
        }
    }

    pub fn public_ips(&mut self) {
        for (key, item) in &self.m.public_ips {
            let ip = &item.value;
            let Some(p) = self.placement(item.file, &ip.resource_group) else {
                continue;
            };
            let name = name_or_key(&ip.name, key);
            let spec = Spec::PublicIp(PublicIpSpec {
                sku: ip
                    .sku
                    .as_ref()
                    .map(|s| s.value)
                    .unwrap_or(PublicIpSku::Standard),
                allocation: ip
                    .allocation
                    .as_ref()
                    .map(|a| a.value)
                    .unwrap_or(Allocation::Static),
                zones: ip.zones.iter().map(|z| z.value.clone()).collect(),
                tags: ip.tags.clone().unwrap_or_default(),
            });
            let origin = self.origin(item.file, item.key.loc);
            let arm_id = public_ip_id(&p, &name);
            self.push(
                Address::new(Kind::PublicIp, key.clone()),
                &p,
                name,
                p.location.clone(),
                arm_id,
                spec,
                vec![],
                origin,
            );
        }
    }

    /// Resolves `<network>/<subnet>` to the network and the subnet's ARM id.
    pub(crate) fn subnet(&mut self, file: FileId, reference: &Sp<String>) -> Option<(Ref, String)> {
        let Some((net, sub)) = reference.value.split_once('/') else {
            self.diags.push(
                Diagnostic::at(
                    Code::InvalidReference,
                    file,
                    reference.loc,
                    format!("`{}` is not a subnet reference", reference.value),
                )
                .label("expected <network>/<subnet>"),
            );
            return None;
        };
        let net_key = Sp {
            value: net.to_owned(),
            loc: reference.loc,
        };
        let network = self.lookup(file, &net_key, Kind::Network, "network")?;
        let Some(Spec::Network(spec)) = self.find(&network.address).map(|r| &r.spec) else {
            return None;
        };
        match spec.subnets.iter().find(|s| s.key == sub) {
            Some(s) => Some((network.clone(), s.arm_id.clone())),
            None => {
                let known: Vec<String> = spec.subnets.iter().map(|s| s.key.clone()).collect();
                let sub_ref = Sp {
                    value: reference.value.clone(),
                    loc: reference.loc,
                };
                self.diags
                    .push(dangling(file, &sub_ref, "subnet", known.iter()));
                None
            }
        }
    }

    pub fn nics(&mut self) {
        for (key, item) in &self.m.network_interfaces {
            let n = &item.value;
            let Some(p) = self.placement(item.file, &n.resource_group) else {
                continue;
            };
            let subnet = self.subnet(item.file, &n.subnet);
            let pip = n
                .public_ip
                .as_ref()
                .map(|k| self.lookup(item.file, k, Kind::PublicIp, "public IP"));
            let nsg = n
                .nsg
                .as_ref()
                .map(|k| self.lookup(item.file, k, Kind::Nsg, "network security group"));
            let Some((network, subnet_id)) = subnet else {
                continue;
            };
            let Some(pip) = pip.map_or(Some(None), |r| r.map(Some)) else {
                continue;
            };
            let Some(nsg) = nsg.map_or(Some(None), |r| r.map(Some)) else {
                continue;
            };
            let name = name_or_key(&n.name, key);
            let origin = self.origin(item.file, item.key.loc);
            self.push_nic(
                Address::new(Kind::Nic, key.clone()),
                &p,
                name,
                network,
                subnet_id,
                pip,
                nsg,
                n.tags.clone().unwrap_or_default(),
                origin,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_nic(
        &mut self,
        address: Address,
        p: &Placement,
        name: String,
        network: Ref,
        subnet_id: String,
        public_ip: Option<Ref>,
        nsg: Option<Ref>,
        tags: std::collections::BTreeMap<String, String>,
        origin: Origin,
    ) -> Ref {
        let mut depends = vec![network.address.clone()];
        depends.extend(public_ip.iter().map(|r| r.address.clone()));
        depends.extend(nsg.iter().map(|r| r.address.clone()));
        let arm_id = format!(
            "{}/providers/Microsoft.Network/networkInterfaces/{name}",
            p.rg_id
        );
        let spec = Spec::Nic(NicSpec {
            network,
            subnet_id,
            public_ip,
            nsg,
            tags,
        });
        self.push(
            address.clone(),
            p,
            name,
            p.location.clone(),
            arm_id.clone(),
            spec,
            depends,
            origin,
        );
        Ref { address, arm_id }
    }
}
