//! The lower bound of an apply's wall time: no tool can finish before the longest chain of
//! dependent long-running operations, nor before ARM's per-subscription write buckets let its
//! writes through.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use galleon_manifest::{Kind, Workspace};

/// How long Azure typically takes to create each kind, in seconds (creation to Succeeded),
/// before scaling. Sources: Azure's docs and common experience: a VM is about two minutes, a
/// gallery image version replicates for tens of minutes per region, network resources and
/// gallery metadata take seconds; resource groups and role assignments are synchronous.
pub fn azure_seconds(kind: Kind) -> f64 {
    match kind {
        Kind::ResourceGroup | Kind::GalleryGrant => 0.0,
        Kind::Gallery => 30.0,
        Kind::GalleryImage => 20.0,
        Kind::ImageVersion => 1200.0,
        Kind::Network | Kind::Nsg | Kind::PublicIp => 10.0,
        Kind::Nic => 5.0,
        Kind::Vm => 120.0,
    }
}

/// The ARM type whose emulator LRO duration stands for `kind`.
pub fn arm_type(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::ResourceGroup | Kind::GalleryGrant => return None,
        Kind::Gallery => "Microsoft.Compute/galleries",
        Kind::GalleryImage => "Microsoft.Compute/galleries/images",
        Kind::ImageVersion => "Microsoft.Compute/galleries/images/versions",
        Kind::Network => "Microsoft.Network/virtualNetworks",
        Kind::Nsg => "Microsoft.Network/networkSecurityGroups",
        Kind::PublicIp => "Microsoft.Network/publicIPAddresses",
        Kind::Nic => "Microsoft.Network/networkInterfaces",
        Kind::Vm => "Microsoft.Compute/virtualMachines",
    })
}

/// The scaled duration of one kind's operation.
pub fn scaled(kind: Kind, scale: f64) -> Duration {
    Duration::from_secs_f64(azure_seconds(kind) / scale)
}

/// The bound and what sets it.
#[derive(Debug)]
pub struct Bound {
    /// Longest dependency chain: operation durations plus one round trip per step.
    pub critical_path: Duration,
    /// The chain's addresses, root first.
    pub path: Vec<String>,
    /// Time the busiest subscription's writes need from ARM's write bucket.
    pub write_rate: Duration,
    /// Writes per subscription.
    pub writes: BTreeMap<String, usize>,
}

impl Bound {
    pub fn value(&self) -> Duration {
        self.critical_path.max(self.write_rate)
    }
}

/// ARM's write bucket per subscription and principal (arm-protocol.md §1.1).
const WRITE_BURST: f64 = 200.0;
const WRITE_REFILL: f64 = 10.0;

/// Computes the bound of creating every resource of `workspace` from nothing.
pub fn lower_bound(workspace: &Workspace, scale: f64, latency: Duration) -> Bound {
    let resources = workspace.resources();
    let index: HashMap<String, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.address.to_string(), i))
        .collect();
    // Each step costs at least its PUT's round trip and its operation; the graph is a DAG
    // (validation refuses cycles), so a memoised longest path terminates.
    let step = |i: usize| scaled(resources[i].kind(), scale) + latency;
    let mut finish: Vec<Option<(Duration, Option<usize>)>> = vec![None; resources.len()];
    fn longest(
        i: usize,
        resources: &[galleon_manifest::Resource],
        index: &HashMap<String, usize>,
        step: &dyn Fn(usize) -> Duration,
        memo: &mut Vec<Option<(Duration, Option<usize>)>>,
    ) -> Duration {
        if let Some((d, _)) = memo[i] {
            return d;
        }
        let mut best = (Duration::ZERO, None);
        for dep in &resources[i].depends_on {
            if let Some(&j) = index.get(&dep.to_string()) {
                let d = longest(j, resources, index, step, memo);
                if d > best.0 {
                    best = (d, Some(j));
                }
            }
        }
        let total = best.0 + step(i);
        memo[i] = Some((total, best.1));
        total
    }
    let mut end = (Duration::ZERO, None);
    for i in 0..resources.len() {
        let d = longest(i, resources, &index, &step, &mut finish);
        if d > end.0 {
            end = (d, Some(i));
        }
    }
    let mut path = Vec::new();
    let mut at = end.1;
    while let Some(i) = at {
        path.push(resources[i].address.to_string());
        at = finish[i].and_then(|(_, prev)| prev);
    }
    path.reverse();

    let mut writes: BTreeMap<String, usize> = BTreeMap::new();
    for r in resources {
        *writes.entry(r.subscription.clone()).or_default() += 1;
    }
    let busiest = writes.values().copied().max().unwrap_or(0) as f64;
    let write_rate = Duration::from_secs_f64(((busiest - WRITE_BURST) / WRITE_REFILL).max(0.0));
    Bound {
        critical_path: end.0,
        path,
        write_rate,
        writes,
    }
}
