//! Quota: do the VMs this plan creates fit the vCPU quotas ARM reports for their subscription
//! and region? Compute refuses a VM PUT that exceeds them with 409 `OperationNotAllowed`
//! (arm-errors.md §4.6), typically after the network and half the fleet already exist.
//!
//! Creates count in full and resizes to a larger size by the difference; a replace deletes
//! the old VM first. The count is of every such VM, `--target` or not, so a targeted plan
//! errs on the side of a failure too many.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::live::LiveState;
use crate::lower::DesiredResource;
use crate::read::{Usage, UsageScope, Usages};
use crate::{CheckResult, CheckStatus, ResourceKind};

use super::norm_region;

/// vCPUs and quota family of common sizes (learn.microsoft.com "Sizes for virtual machines in
/// Azure", one page per series; family names as `az vm list-usage` prints them, e.g.
/// `standardDSv5Family`). Unknown sizes are left out of the count, with a note.
const SIZES: &[(&str, u64, &str)] = &[
    ("Standard_A1_v2", 1, "standardAv2Family"),
    ("Standard_A2_v2", 2, "standardAv2Family"),
    ("Standard_A4_v2", 4, "standardAv2Family"),
    ("Standard_B1s", 1, "standardBSFamily"),
    ("Standard_B1ms", 1, "standardBSFamily"),
    ("Standard_B2s", 2, "standardBSFamily"),
    ("Standard_B2ms", 2, "standardBSFamily"),
    ("Standard_DS1_v2", 1, "standardDSv2Family"),
    ("Standard_DS2_v2", 2, "standardDSv2Family"),
    ("Standard_D2s_v3", 2, "standardDSv3Family"),
    ("Standard_D4s_v3", 4, "standardDSv3Family"),
    ("Standard_D2s_v4", 2, "standardDSv4Family"),
    ("Standard_D2s_v5", 2, "standardDSv5Family"),
    ("Standard_D4s_v5", 4, "standardDSv5Family"),
    ("Standard_D8s_v5", 8, "standardDSv5Family"),
    ("Standard_D2as_v5", 2, "standardDASv5Family"),
    ("Standard_E2s_v5", 2, "standardESv5Family"),
    ("Standard_F2s_v2", 2, "standardFSv2Family"),
    ("Standard_D2s_v6", 2, "standardDSv6Family"),
    ("Standard_D4s_v6", 4, "standardDSv6Family"),
    ("Standard_D2ps_v5", 2, "standardDPSv5Family"),
    ("Standard_D4ps_v5", 4, "standardDPSv5Family"),
    ("Standard_DC2as_v5", 2, "standardDCASv5Family"),
    ("Standard_DC4as_v5", 4, "standardDCASv5Family"),
    ("Standard_EC2as_v5", 2, "standardECASv5Family"),
];

fn size_of(name: &str) -> Option<(u64, &'static str)> {
    SIZES
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, n, f)| (*n, *f))
}

/// VMs that need more vCPUs after the plan: created ones, and resized ones whose new size is
/// larger (a resize counts the difference, as Compute's "Additional Required" does).
fn new_vms<'d>(desired: &'d [DesiredResource], live: &LiveState) -> Vec<&'d DesiredResource> {
    desired
        .iter()
        .filter(|d| d.kind == ResourceKind::Vm)
        .filter(|d| match live.get(&d.arm_id) {
            None => true,
            Some(l) => {
                let now = cores_of(&l.body).map_or(0, |(n, _)| n);
                cores_of(&d.body).is_some_and(|(n, _)| n > now)
            }
        })
        .collect()
}

fn size_name(body: &Value) -> &str {
    crate::field(body, &["properties", "hardwareProfile", "vmSize"])
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn cores_of(body: &Value) -> Option<(u64, &'static str)> {
    size_of(size_name(body))
}

fn scope_of(d: &DesiredResource) -> UsageScope {
    UsageScope {
        tenant_id: d.tenant_id.clone(),
        subscription: d.subscription.to_ascii_lowercase(),
        region: norm_region(&d.location),
    }
}

/// Where usages must be read: each subscription and region the plan creates or grows VMs in.
pub fn usage_scopes(
    desired: &[DesiredResource],
    live: &LiveState,
) -> std::collections::BTreeSet<UsageScope> {
    new_vms(desired, live).into_iter().map(scope_of).collect()
}

/// What the new VMs of one scope need: vCPUs in total and per family, and the VMs not counted.
#[derive(Default)]
struct Need {
    cores: u64,
    families: BTreeMap<&'static str, u64>,
    vms: usize,
    unknown: Vec<String>,
}

/// One check per subscription and region the plan creates VMs in.
pub fn quota_checks(
    desired: &[DesiredResource],
    live: &LiveState,
    usages: &Usages,
) -> Vec<CheckResult> {
    let mut needs: BTreeMap<UsageScope, Need> = BTreeMap::new();
    for d in new_vms(desired, live) {
        let need = needs.entry(scope_of(d)).or_default();
        let size = size_name(&d.body);
        // A resize within a family needs only the difference; across families the old
        // family's cores are freed but the new one's are all needed.
        let before = live.get(&d.arm_id).and_then(|l| cores_of(&l.body));
        match size_of(size) {
            Some((n, family)) => {
                let regional = n - before.map_or(0, |(b, _)| b.min(n));
                let in_family = match before {
                    Some((b, f)) if f == family => n - b.min(n),
                    _ => n,
                };
                need.cores += regional;
                *need.families.entry(family).or_default() += in_family;
                need.vms += 1;
            }
            None => need.unknown.push(format!("{} ({size})", d.address)),
        }
    }
    needs
        .into_iter()
        .map(|(scope, need)| check(&scope, &need, usages.get(&scope)))
        .collect()
}

fn check(
    scope: &UsageScope,
    need: &Need,
    rows: Option<&Result<Vec<Usage>, String>>,
) -> CheckResult {
    let UsageScope {
        subscription: sub,
        region,
        ..
    } = scope;
    let title = format!("vCPU quota of subscription {sub} in {region}");
    let note = if need.unknown.is_empty() {
        String::new()
    } else {
        format!(
            "; not counted, size unknown to galleon: {}",
            need.unknown.join(", ")
        )
    };
    let result = |status, message: String, fix: Option<String>| CheckResult {
        id: "vm-quota".into(),
        address: None,
        status,
        title: title.clone(),
        message,
        fix,
    };
    let rows = match rows {
        Some(Ok(rows)) => rows,
        Some(Err(why)) => {
            return result(
                CheckStatus::Skipped,
                format!("ARM did not return the usages: {why}"),
                None,
            );
        }
        None => return result(CheckStatus::Skipped, "usages not read".into(), None),
    };
    if need.vms == 0 {
        return result(
            CheckStatus::Skipped,
            format!("nothing to count{note}"),
            None,
        );
    }
    let wanted =
        std::iter::once(("cores", need.cores)).chain(need.families.iter().map(|(f, n)| (*f, *n)));
    let mut checked = Vec::new();
    for (name, n) in wanted {
        let Some(row) = rows.iter().find(|r| r.name.eq_ignore_ascii_case(name)) else {
            continue;
        };
        let free = row.limit.saturating_sub(row.current);
        if n > free {
            return result(
                CheckStatus::Fail,
                format!(
                    "the plan creates or grows {} VMs needing {n} more {}; Azure answers 409 OperationNotAllowed \"Operation could not be completed as it results in exceeding approved {} quota. Additional details - Deployment Model: Resource Manager, Location: {region}, Current Limit: {}, Current Usage: {}, Additional Required: {n}, (Minimum) New Limit Required: {}.\"{note}",
                    need.vms,
                    row.display,
                    row.display,
                    row.limit,
                    row.current,
                    row.current + n
                ),
                Some(format!(
                    "request a quota increase to {} for {} at {}, or pick a smaller size or another region",
                    row.current + n,
                    row.name,
                    increase_link(sub, region, &row.name, row.current + n)
                )),
            );
        }
        checked.push(format!("{} {}/{} free", row.name, free, row.limit));
    }
    if checked.is_empty() {
        return result(
            CheckStatus::Skipped,
            format!("ARM reports no vCPU quota for {region}{note}"),
            None,
        );
    }
    result(
        CheckStatus::Pass,
        format!(
            "{} new vCPUs fit ({}){note}",
            need.cores,
            checked.join(", ")
        ),
        None,
    )
}

/// The portal link Compute's quota error carries (arm-errors.md §4.6): the usage blade with a
/// URL-encoded quota request for the limit the plan needs.
fn increase_link(sub: &str, region: &str, name: &str, limit: u64) -> String {
    let request = serde_json::json!({
        "subscriptionId": sub,
        "command": "openQuotaApprovalBlade",
        "quotas": [{
            "location": region,
            "providerId": "Microsoft.Compute",
            "resourceName": name,
            "quotaRequest": {"properties": {"limit": limit, "unit": "Count", "name": {"value": name}}}
        }]
    });
    format!(
        "https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/{}",
        percent_encode(&request.to_string())
    )
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
#[path = "quota_tests.rs"]
mod tests;
