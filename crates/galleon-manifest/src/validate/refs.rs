//! Whole-workspace rules over resolved resources: two resources with the same Azure identity,
//! and dependency cycles.
//!
//! Two manifest entries that resolve to one ARM id would fight over one Azure resource, so they
//! are rejected (Azure names are case-insensitive, so ids are compared lowercased). A cycle —
//! e.g. an image version whose source is a VM built from that very version — can never be
//! applied; it is named in full so the user can see where to cut it.

use std::collections::HashMap;

use crate::address::Address;
use crate::diag::{Code, Diagnostic, Sources};
use crate::resolve::{Resource, Spec};

/// Runs the duplicate-identity and cycle rules.
pub fn check(sources: &Sources, resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let mut ids: HashMap<String, &Resource> = HashMap::new();
    for r in resources {
        let id = r.arm_id.to_lowercase();
        if let Some(first) = ids.get(&id) {
            let path = sources.get(first.origin.file).path.display();
            out.push(
                Diagnostic::at(
                    Code::DuplicateName,
                    r.origin.file,
                    r.origin.loc,
                    format!(
                        "{} and {} are both {} `{}` in resource group `{}`",
                        first.address,
                        r.address,
                        r.address.kind.arm_type(),
                        r.name,
                        r.resource_group
                    ),
                )
                .label(format!("{} is defined here", r.address))
                .help(format!(
                    "{} is defined at {path}:{}:{}; Azure names are case-insensitive, give one another name",
                    first.address, first.origin.loc.line, first.origin.loc.col
                )),
            );
        } else {
            ids.insert(id, r);
        }
        if let Spec::Network(n) = &r.spec {
            for (i, s) in n.subnets.iter().enumerate() {
                if n.subnets[..i]
                    .iter()
                    .any(|o| o.name.eq_ignore_ascii_case(&s.name))
                {
                    out.push(
                        Diagnostic::at(
                            Code::DuplicateName,
                            r.origin.file,
                            r.origin.loc,
                            format!("{} has two subnets named `{}`", r.address, s.name),
                        )
                        .label("duplicate subnet name"),
                    );
                }
            }
        }
    }
    placement(resources, out);
    shared_nics(resources, out);
    gallery_names(resources, out);
    for cycle in find_cycles(resources) {
        let first = &resources[cycle[0]];
        let path: Vec<String> = cycle
            .iter()
            .chain(std::iter::once(&cycle[0]))
            .map(|&i| resources[i].address.to_string())
            .collect();
        out.push(
            Diagnostic::at(
                Code::ReferenceCycle,
                first.origin.file,
                first.origin.loc,
                format!("dependency cycle: {}", path.join(" -> ")),
            )
            .label("part of a cycle")
            .help("break the cycle: a resource cannot (indirectly) depend on itself"),
        );
    }
}

/// Finds cycles in `depends_on` with an iterative DFS; each cycle is reported once, as indices
/// in dependency order.
pub fn find_cycles(resources: &[Resource]) -> Vec<Vec<usize>> {
    let index: HashMap<&Address, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.address, i))
        .collect();
    let edges: Vec<Vec<usize>> = resources
        .iter()
        .map(|r| {
            r.depends_on
                .iter()
                .filter_map(|a| index.get(a).copied())
                .collect()
        })
        .collect();
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state = vec![0u8; resources.len()];
    let mut cycles = Vec::new();
    for start in 0..resources.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        cycles.push(stack[from..].iter().map(|(n, _)| *n).collect());
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    cycles
}

/// A NIC must be in its network's region and subscription, and a VM in its NIC's region
/// (Azure: "Subnet ... referenced by ... is in a different location/subscription", and
/// "NetworkInterface ... and VirtualMachine ... must be in the same location").
fn placement(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    use super::images::same_region;
    // Indexed, not scanned: every NIC and VM looks one up, and a scan made validating a
    // 10,000-resource workspace quadratic.
    let by_address: HashMap<&Address, &Resource> =
        resources.iter().map(|r| (&r.address, r)).collect();
    let find = |a: &Address| by_address.get(a).copied();
    for r in resources {
        let (other, what) = match &r.spec {
            Spec::Nic(n) => (find(&n.network.address), "its network"),
            Spec::Vm(v) => (find(&v.nic.address), "its network interface"),
            _ => continue,
        };
        let Some(other) = other else { continue };
        let problem = if !same_region(&r.location, &other.location) {
            Some(format!(
                "region `{}`, but {what} {} is in `{}`",
                r.location, other.address, other.location
            ))
        } else if r.address.kind == crate::address::Kind::Nic
            && !r.subscription.eq_ignore_ascii_case(&other.subscription)
        {
            Some(format!(
                "subscription {}, but {what} {} is in {}",
                r.subscription, other.address, other.subscription
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            out.push(
                Diagnostic::at(
                    Code::LocationMismatch,
                    r.origin.file,
                    r.origin.loc,
                    format!("{} is in {p}", r.address),
                )
                .label("placed apart from what it attaches to")
                .help("a VM, its NIC and the NIC's network must share a region, and the NIC and network a subscription"),
            );
        }
    }
}

/// A NIC attaches to one VM; a second VM naming it would be rejected by Azure
/// ("NicInUse ... is used by existing resource ... virtualMachines/...").
fn shared_nics(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let mut users: HashMap<&Address, &Resource> = HashMap::new();
    for r in resources {
        let Spec::Vm(v) = &r.spec else { continue };
        if let Some(first) = users.get(&v.nic.address) {
            out.push(
                Diagnostic::at(
                    Code::DuplicateName,
                    r.origin.file,
                    r.origin.loc,
                    format!(
                        "{} and {} both use {}",
                        first.address, r.address, v.nic.address
                    ),
                )
                .label("network interface already attached to another VM")
                .help("give each VM its own NIC, or use the `network:` shorthand"),
            );
        } else {
            users.insert(&v.nic.address, r);
        }
    }
}

/// Gallery names are unique per subscription, not per resource group: "The gallery name
/// <name> is not unique within the subscription <id>. Please pick another gallery name"
/// (troubleshooting-shared-images, arm-errors.md §5.3).
fn gallery_names(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(String, String), &Resource> = HashMap::new();
    for r in resources
        .iter()
        .filter(|r| r.address.kind == crate::address::Kind::Gallery)
    {
        let key = (r.subscription.to_lowercase(), r.name.to_lowercase());
        match seen.get(&key) {
            // Same resource group too: already reported as the same ARM id.
            Some(first) if !first.resource_group.eq_ignore_ascii_case(&r.resource_group) => {
                out.push(
                    Diagnostic::at(
                        Code::DuplicateName,
                        r.origin.file,
                        r.origin.loc,
                        format!(
                            "{} and {} are both galleries named `{}` in subscription {}",
                            first.address, r.address, r.name, r.subscription
                        ),
                    )
                    .label("gallery name already used in this subscription")
                    .help("gallery names are unique within a subscription, across resource groups"),
                );
            }
            Some(_) => {}
            None => {
                seen.insert(key, r);
            }
        }
    }
}
