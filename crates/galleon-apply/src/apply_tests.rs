//! The whole apply sequence against fakes: checks, lock, freshness, exact requests, release.

use std::sync::Arc;

use galleon_plan::{Action, fixtures};
use serde_json::json;

use super::*;
use crate::event::{EventKind, Outcome, RecordingSink};
use crate::lock_memory::MemoryLock;
use crate::testing::{FakeArm, World};

fn runner(fake: FakeArm) -> ArmRunner<FakeArm> {
    ArmRunner::new(fake)
}

#[tokio::test]
async fn sends_exactly_the_plans_requests_in_order_and_releases_the_lock() {
    let plan = fixtures::mixed();
    let runner = runner(FakeArm::default());
    let lock = Arc::new(MemoryLock::default());
    let sink = RecordingSink::default();
    let summary = apply_with(
        &plan,
        &runner,
        &World::of(&plan),
        Arc::clone(&lock),
        &ApplyOptions::default(),
        &sink,
    )
    .await
    .unwrap();
    assert_eq!(summary.outcome, Outcome::Success);
    assert!(!lock.is_held());
    let calls = runner_calls(&runner);
    // Every change but the no-op is written, exactly as planned.
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let req = c.request.as_ref().unwrap();
        let mine: Vec<_> = calls.iter().filter(|k| k.arm_id == c.arm_id).collect();
        let methods: Vec<&str> = mine.iter().map(|k| k.method).collect();
        let expected: &[&str] = match c.action {
            Action::Create | Action::Update => &["PUT"],
            Action::Replace => &["DELETE", "PUT"],
            Action::Delete => &["DELETE"],
            Action::NoOp => unreachable!(),
        };
        assert_eq!(methods, expected, "{}", c.address);
        for k in mine {
            assert_eq!(
                (&k.api_version, &k.tenant_id),
                (&req.api_version, &c.tenant_id)
            );
            if k.method == "PUT" {
                assert_eq!(k.body.as_ref(), req.body.as_ref());
                assert_eq!(k.aux, req.aux_tenant_ids);
            }
        }
    }
    let untouched = plan
        .changes
        .iter()
        .find(|c| c.action == Action::NoOp)
        .unwrap();
    assert!(calls.iter().all(|k| k.arm_id != untouched.arm_id));
    // The gallery update precedes its image's replacement, which depends on it.
    let pos = |id: &str, m: &str| calls.iter().position(|k| k.arm_id == id && k.method == m);
    let image = plan.change("gallery_image.golden/ubuntu").unwrap();
    let gallery = plan.change("gallery.golden").unwrap();
    assert!(pos(&gallery.arm_id, "PUT") < pos(&image.arm_id, "PUT"));
    assert!(pos(&image.arm_id, "DELETE") < pos(&image.arm_id, "PUT"));
    let lro = sink
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::LroProgress { .. }))
        .count();
    assert!(lro > 0);
}

fn runner_calls(r: &ArmRunner<FakeArm>) -> Vec<crate::testing::Call> {
    r.writer().calls()
}

#[tokio::test]
async fn a_cross_tenant_vm_replacement_carries_the_aux_tenant_on_its_put_only() {
    let plan = fixtures::replace();
    let runner = runner(FakeArm::default());
    let lock = Arc::new(MemoryLock::default());
    let opts = ApplyOptions::default();
    let world = World::of(&plan);
    apply_with(
        &plan,
        &runner,
        &world,
        lock,
        &opts,
        &RecordingSink::default(),
    )
    .await
    .unwrap();
    let vm = plan.change("vm.web").unwrap();
    let calls: Vec<_> = runner_calls(&runner)
        .into_iter()
        .filter(|k| k.arm_id == vm.arm_id)
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].method, calls[0].aux.len()), ("DELETE", 0));
    assert_eq!(calls[1].method, "PUT");
    assert_eq!(calls[1].aux, ["11111111-1111-4111-8111-111111111111"]);
}

#[tokio::test]
async fn a_stale_plan_writes_nothing_and_names_the_change() {
    let plan = fixtures::mixed();
    let world = World::of(&plan);
    let gallery = plan.change("gallery.golden").unwrap();
    world
        .bodies
        .lock()
        .unwrap()
        .get_mut(&gallery.arm_id)
        .unwrap()["properties"]["description"] = json!("edited in the portal");
    let runner = runner(FakeArm::default());
    let lock = Arc::new(MemoryLock::default());
    let err = apply_with(
        &plan,
        &runner,
        &world,
        Arc::clone(&lock),
        &ApplyOptions::default(),
        &RecordingSink::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("gallery.golden"), "{err}");
    assert!(runner_calls(&runner).is_empty());
    assert!(!lock.is_held(), "the lock is released on refusal too");
}

#[tokio::test]
async fn a_held_lock_refuses_before_anything_is_read_or_written() {
    let plan = fixtures::mixed();
    let lock = Arc::new(MemoryLock::default());
    let other = LockInfo::new("cross-tenant", "destroy");
    lock.try_acquire(&other, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let runner = runner(FakeArm::default());
    let err = apply_with(
        &plan,
        &runner,
        &World::of(&plan),
        lock,
        &ApplyOptions::default(),
        &RecordingSink::default(),
    )
    .await
    .unwrap_err();
    let ApplyError::Lock(LockError::Held {
        holder: Some(h), ..
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(h.operation, "destroy");
    assert!(err.to_string().contains(&other.who), "{err}");
    assert!(err.hint().unwrap().contains("--lock-timeout"));
    assert!(runner_calls(&runner).is_empty());
}

#[tokio::test]
async fn failed_preflight_checks_and_malformed_changes_are_refused() {
    let plan = fixtures::preflight_failures();
    let lock = Arc::new(MemoryLock::default());
    let runner = runner(FakeArm::default());
    let world = World::of(&plan);
    let opts = ApplyOptions::default();
    let err = apply_with(
        &plan,
        &runner,
        &world,
        Arc::clone(&lock),
        &opts,
        &RecordingSink::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ApplyError::FailedChecks(ids) if ids.len() == 2),
        "{err:?}"
    );

    let mut plan = fixtures::mixed();
    let i = plan
        .changes
        .iter()
        .position(|c| c.action == Action::Update)
        .unwrap();
    plan.changes[i].request.as_mut().unwrap().body = None;
    let err = changes_of(&plan).unwrap_err();
    assert!(
        matches!(
            err,
            ApplyError::MalformedChange {
                expected: "PUT",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failed_write_skips_dependents_and_still_releases_the_lock() {
    let plan = fixtures::mixed();
    let gallery = plan.change("gallery.golden").unwrap();
    let fake = FakeArm {
        fail: vec![gallery.arm_id.clone()],
        ..FakeArm::default()
    };
    let runner = runner(fake);
    let lock = Arc::new(MemoryLock::default());
    let sink = RecordingSink::default();
    let world = World::of(&plan);
    let opts = ApplyOptions::default();
    let summary = apply_with(&plan, &runner, &world, Arc::clone(&lock), &opts, &sink)
        .await
        .unwrap();
    assert_eq!((summary.outcome, summary.failed), (Outcome::Failed, 1));
    let skipped: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Skipped { because } => Some(format!("{} <- {}", e.step, because.address)),
            _ => None,
        })
        .collect();
    assert_eq!(
        skipped,
        ["gallery_image.golden/ubuntu (replace: create) <- gallery.golden"]
    );
    assert!(!lock.is_held());
}

#[tokio::test]
async fn ctrl_c_while_waiting_for_the_lock_writes_nothing() {
    let plan = fixtures::mixed();
    let lock = Arc::new(MemoryLock::default());
    lock.try_acquire(
        &LockInfo::new("w", "apply"),
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    let options = ApplyOptions {
        lock: LockOptions {
            timeout: std::time::Duration::from_secs(600),
            ..Default::default()
        },
        ..Default::default()
    };
    options.cancel.cancel();
    let runner = runner(FakeArm::default());
    let err = apply_with(
        &plan,
        &runner,
        &World::of(&plan),
        lock,
        &options,
        &RecordingSink::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApplyError::Interrupted));
    assert!(runner_calls(&runner).is_empty());
}

#[tokio::test]
async fn an_old_nsg_is_deleted_only_after_the_network_moved_off_it() {
    let rg = "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/resourceGroups/rg-app";
    let nsg = |n: &str| format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/{n}");
    let net = |n: &str| {
        json!({"location": "northeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.1.0/24",
                "networkSecurityGroup": {"id": nsg(n)}}}]}})
    };
    let nsg_body = json!({"location": "northeurope", "properties": {"securityRules": []}});
    let mut old = fixtures::change(
        "nsg.old",
        &nsg("nsg-old"),
        None,
        Some(nsg_body.clone()),
        &[],
    );
    old.owned_by_us = true;
    let plan = galleon_plan::Plan::new(
        "cross-tenant",
        time::OffsetDateTime::UNIX_EPOCH,
        vec![
            old,
            fixtures::change("nsg.new", &nsg("nsg-new"), Some(nsg_body), None, &[]),
            fixtures::change(
                "network.app",
                &format!("{rg}/providers/Microsoft.Network/virtualNetworks/vnet-app"),
                Some(net("nsg-new")),
                Some(net("nsg-old")),
                &["nsg.new"],
            ),
        ],
        Vec::new(),
        Vec::new(),
    );
    let changes = changes_of(&plan).unwrap();
    assert_eq!(changes[0].referenced_by, ["network.app"]);
    let runner = runner(FakeArm::default());
    let opts = ApplyOptions::default();
    let lock = Arc::new(MemoryLock::default());
    apply_with(
        &plan,
        &runner,
        &World::of(&plan),
        lock,
        &opts,
        &RecordingSink::default(),
    )
    .await
    .unwrap();
    let order: Vec<String> = runner_calls(&runner)
        .iter()
        .map(|k| format!("{} {}", k.method, k.arm_id))
        .collect();
    let at = |s: &str| order.iter().position(|o| o.ends_with(s)).unwrap();
    assert!(
        at("nsg-new") < at("vnet-app") && at("vnet-app") < at("nsg-old"),
        "{order:?}"
    );
}

#[tokio::test]
async fn destroy_refuses_to_empty_a_group_that_still_holds_strangers() {
    let mut plan = fixtures::mixed();
    for c in &mut plan.changes {
        c.owned_by_us = true;
    }
    let destroy = crate::destroy::destroy_plan(&plan);
    let group = destroy.change("resource_group.images").unwrap().clone();
    assert_eq!(group.action, Action::Delete);
    let stranger = format!(
        "{}/providers/Microsoft.Compute/images/not-ours",
        group.arm_id
    );
    let fake = FakeArm {
        groups: [(group.arm_id.clone(), vec![stranger.clone()])]
            .into_iter()
            .collect(),
        ..FakeArm::default()
    };
    let runner = runner(fake);
    let sink = RecordingSink::default();
    let opts = ApplyOptions {
        operation: "destroy".into(),
        check_fresh: false,
        ..Default::default()
    };
    let lock = Arc::new(MemoryLock::default());
    let summary = apply_with(&destroy, &runner, &World::of(&plan), lock, &opts, &sink)
        .await
        .unwrap();
    assert_eq!((summary.outcome, summary.failed), (Outcome::Failed, 1));
    let failure = sink
        .events()
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::Failed { error, hint } => Some((e.step.address, error.message, hint)),
            _ => None,
        })
        .unwrap();
    assert_eq!(failure.0, "resource_group.images");
    assert!(failure.1.contains(&stranger), "{}", failure.1);
    assert!(failure.2.unwrap().contains("galleon-workspace"));
    let calls = runner_calls(&runner);
    assert!(
        calls.iter().all(|k| k.arm_id != group.arm_id),
        "the group is never deleted"
    );
    // Its owned children were deleted first, as the reverse order requires.
    let gallery = destroy.change("gallery.golden").unwrap();
    assert!(
        calls
            .iter()
            .any(|k| k.method == "DELETE" && k.arm_id == gallery.arm_id)
    );
}

/// `fixtures::create_only` plus the gallery's direct-sharing members, added by its `share`
/// action.
fn with_share(action: Action, method: galleon_plan::Method) -> Plan {
    let mut plan = fixtures::create_only();
    let gallery = plan.change("gallery.golden").unwrap().clone();
    let body = json!({"operationType": "Add", "groups": [
        {"type": "AADTenants", "ids": ["22222222-2222-4222-8222-222222222222"]}]});
    plan.changes.push(galleon_plan::ResourceChange {
        address: "gallery_share.golden".into(),
        kind: galleon_plan::ResourceKind::GalleryShare,
        arm_id: format!("{}/share", gallery.arm_id),
        action,
        replace_reasons: Vec::new(),
        attribute_changes: Vec::new(),
        before: None,
        after: None,
        depends_on: vec!["gallery.golden".into()],
        request: Some(galleon_plan::Request {
            method,
            api_version: "2025-03-03".into(),
            body: Some(body),
            aux_tenant_ids: Vec::new(),
        }),
        owned_by_us: false,
        ..gallery
    });
    plan
}

#[tokio::test]
async fn an_action_is_posted_to_its_path_with_the_plans_body_after_what_it_depends_on() {
    let plan = with_share(Action::Create, galleon_plan::Method::Post);
    let runner = runner(FakeArm::default());
    let summary = apply_with(
        &plan,
        &runner,
        &World::of(&plan),
        Arc::new(MemoryLock::default()),
        &ApplyOptions::default(),
        &RecordingSink::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.outcome, Outcome::Success);
    let calls = runner_calls(&runner);
    let share = plan.change("gallery_share.golden").unwrap();
    let posts: Vec<_> = calls.iter().filter(|k| k.method == "POST").collect();
    assert_eq!(posts.len(), 1, "{calls:#?}");
    assert!(posts[0].arm_id.ends_with("/galleries/golden_images/share"));
    assert_eq!(posts[0].arm_id, share.arm_id);
    assert_eq!(posts[0].body, share.request.as_ref().unwrap().body);
    assert_eq!(posts[0].api_version, "2025-03-03");
    let gallery = plan.change("gallery.golden").unwrap();
    let at = |id: &str, m: &str| calls.iter().position(|k| k.arm_id == id && k.method == m);
    assert!(at(&gallery.arm_id, "PUT") < at(&share.arm_id, "POST"));
}

#[test]
fn a_replace_or_delete_carried_by_a_post_is_malformed() {
    use galleon_plan::Method;
    assert!(changes_of(&with_share(Action::Update, Method::Post)).is_ok());
    for action in [Action::Replace, Action::Delete] {
        assert!(
            matches!(
                changes_of(&with_share(action, Method::Post)),
                Err(ApplyError::MalformedChange { .. })
            ),
            "{action:?}"
        );
    }
}
