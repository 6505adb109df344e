//! The vCPU quota check on hand-made VMs and usage rows.

use serde_json::json;

use super::*;
use crate::live::LiveResource;

const SUB: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

fn vm(name: &str, size: &str) -> DesiredResource {
    DesiredResource {
        address: format!("vm.{name}"),
        kind: ResourceKind::Vm,
        arm_id: format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}"
        ),
        tenant: "consumer".into(),
        tenant_id: "22222222-2222-4222-8222-222222222222".into(),
        subscription: SUB.to_uppercase(),
        resource_group: "rg".into(),
        location: "North Europe".into(),
        body: json!({"properties": {"hardwareProfile": {"vmSize": size}}}),
        depends_on: Vec::new(),
        aux_tenant_ids: Vec::new(),
    }
}

fn row(name: &str, current: u64, limit: u64) -> Usage {
    Usage {
        name: name.into(),
        display: if name == "cores" {
            "Total Regional vCPUs".into()
        } else {
            format!("{name} vCPUs")
        },
        current,
        limit,
    }
}

fn usages(desired: &[DesiredResource], rows: Vec<Usage>) -> Usages {
    usage_scopes(desired, &LiveState::default())
        .into_iter()
        .map(|s| (s, Ok(rows.clone())))
        .collect()
}

#[test]
fn scopes_are_per_subscription_and_normalised_region_of_new_vms_only() {
    let desired = [vm("a", "Standard_D2s_v5"), vm("b", "Standard_D2s_v5")];
    let mut live = LiveState::default();
    assert_eq!(usage_scopes(&desired, &live).len(), 1);
    let scope = usage_scopes(&desired, &live).into_iter().next().unwrap();
    assert_eq!(
        (scope.subscription.as_str(), scope.region.as_str()),
        (SUB, "northeurope")
    );
    for d in &desired {
        live.insert(LiveResource::new(
            d.arm_id.clone(),
            d.tenant.clone(),
            d.tenant_id.clone(),
            d.body.clone(),
        ));
    }
    assert!(
        usage_scopes(&desired, &live).is_empty(),
        "existing VMs need no new cores"
    );
}

#[test]
fn new_vms_over_the_regional_cores_fail_with_azures_wording_and_the_increase_link() {
    let desired = [vm("a", "Standard_D4s_v5"), vm("b", "Standard_D2s_v5")];
    let checks = quota_checks(
        &desired,
        &LiveState::default(),
        &usages(&desired, vec![row("cores", 4, 8)]),
    );
    assert_eq!(checks.len(), 1);
    let c = &checks[0];
    assert_eq!(
        (c.id.as_str(), c.status),
        ("vm-quota", CheckStatus::Fail),
        "{c:#?}"
    );
    assert!(
        c.message
            .contains("exceeding approved Total Regional vCPUs quota")
            && c.message
                .contains("Current Limit: 8, Current Usage: 4, Additional Required: 6"),
        "{}",
        c.message
    );
    let fix = c.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("request a quota increase to 10 for cores"),
        "{fix}"
    );
    assert!(
        fix.contains("UsageAndQuota.ReactView/Parameters/%7B%22subscriptionId%22%3A%22bbbbbbbb"),
        "{fix}"
    );
    assert!(fix.contains("%22limit%22%3A10"), "{fix}");
    assert!(fix.contains("smaller size or another region"), "{fix}");
}

#[test]
fn a_family_quota_can_fail_while_the_regional_one_fits() {
    let desired = [vm("a", "Standard_D4s_v5")];
    let rows = vec![row("cores", 0, 100), row("standardDSv5Family", 2, 4)];
    let c = &quota_checks(&desired, &LiveState::default(), &usages(&desired, rows))[0];
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(
        c.fix.as_deref().unwrap().contains("for standardDSv5Family"),
        "{c:#?}"
    );
}

#[test]
fn fitting_vms_pass_and_unknown_sizes_are_noted_not_counted() {
    let desired = [vm("a", "Standard_D2s_v5"), vm("b", "Standard_Z9_v9")];
    let c = &quota_checks(
        &desired,
        &LiveState::default(),
        &usages(&desired, vec![row("cores", 4, 6)]),
    )[0];
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
    assert!(
        c.message.starts_with("2 new vCPUs fit (cores 2/6 free)"),
        "{}",
        c.message
    );
    assert!(c.message.contains("vm.b (Standard_Z9_v9)"), "{}", c.message);

    let only_unknown = [vm("b", "Standard_Z9_v9")];
    let c = &quota_checks(
        &only_unknown,
        &LiveState::default(),
        &usages(&only_unknown, vec![row("cores", 0, 1)]),
    )[0];
    assert_eq!(c.status, CheckStatus::Skipped);
}

#[test]
fn unreadable_or_absent_quotas_skip_the_check() {
    let desired = [vm("a", "Standard_D2s_v5")];
    let refused: Usages = usage_scopes(&desired, &LiveState::default())
        .into_iter()
        .map(|s| (s, Err("AuthorizationFailed".to_owned())))
        .collect();
    let c = &quota_checks(&desired, &LiveState::default(), &refused)[0];
    assert_eq!(c.status, CheckStatus::Skipped);
    assert!(c.message.contains("AuthorizationFailed"));
    let c = &quota_checks(&desired, &LiveState::default(), &usages(&desired, vec![]))[0];
    assert_eq!(c.status, CheckStatus::Skipped);
    assert!(c.message.contains("no vCPU quota"), "{}", c.message);
}

#[test]
fn a_resize_counts_the_difference_and_an_unchanged_or_smaller_size_nothing() {
    let bigger = [vm("a", "Standard_D8s_v5")];
    let mut live = LiveState::default();
    live.insert(LiveResource::new(
        bigger[0].arm_id.clone(),
        "consumer".into(),
        "t".into(),
        json!({"properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}}}),
    ));
    let rows = vec![row("cores", 2, 7), row("standardDSv5Family", 2, 7)];
    let scoped: Usages = usage_scopes(&bigger, &live)
        .into_iter()
        .map(|s| (s, Ok(rows.clone())))
        .collect();
    let c = &quota_checks(&bigger, &live, &scoped)[0];
    assert_eq!(c.status, CheckStatus::Fail, "{c:#?}");
    assert!(
        c.message.contains("Additional Required: 6"),
        "{}",
        c.message
    );

    let same = [vm("a", "Standard_D2s_v5")];
    assert!(usage_scopes(&same, &live).is_empty());
    let smaller = [vm("a", "Standard_B1s")];
    assert!(usage_scopes(&smaller, &live).is_empty());
}
