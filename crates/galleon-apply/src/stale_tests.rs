//! Stale-plan detection against a fake live world built from the plan's own fixtures.

use std::collections::HashMap;
use std::sync::Mutex;

use galleon_plan::{Fingerprint, FingerprintState, fixtures};
use serde_json::{Value, json};

use super::*;

/// A live world: ARM id → body; absent ids answer 404; `broken` ids fail to read.
#[derive(Default)]
struct World {
    bodies: Mutex<HashMap<String, Value>>,
    broken: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("connection reset")]
struct Reset;

impl LiveReader for World {
    type Error = Reset;
    async fn fingerprint(&self, arm_id: &str) -> Result<FingerprintState, Reset> {
        if self.broken.as_deref() == Some(arm_id) {
            return Err(Reset);
        }
        let bodies = self.bodies.lock().unwrap();
        Ok(Fingerprint::of(arm_id, bodies.get(arm_id)).state)
    }
}

/// The world exactly as `plan` saw it.
fn world_of(plan: &galleon_plan::Plan) -> World {
    let world = World::default();
    for c in &plan.changes {
        if let Some(before) = &c.before {
            world
                .bodies
                .lock()
                .unwrap()
                .insert(c.arm_id.clone(), before.clone());
        }
    }
    world
}

#[tokio::test]
async fn an_unchanged_world_passes() {
    let plan = fixtures::mixed();
    assert!(!plan.reads.is_empty());
    check_fresh(&plan, &world_of(&plan), 4).await.unwrap();
}

#[tokio::test]
async fn every_moved_resource_is_named_with_how_it_moved() {
    let plan = fixtures::mixed();
    let world = world_of(&plan);
    let created = plan
        .changes
        .iter()
        .find(|c| c.before.is_none())
        .expect("a create");
    let mut existing = plan.changes.iter().filter(|c| c.before.is_some());
    let (edited, deleted) = (existing.next().unwrap(), existing.next().unwrap());
    {
        let mut bodies = world.bodies.lock().unwrap();
        bodies.insert(created.arm_id.clone(), json!({"location": "westeurope"}));
        bodies.get_mut(&edited.arm_id).unwrap()["tags"]["team"] = json!("someone-else");
        bodies.remove(&deleted.arm_id);
    }
    let err = check_fresh(&plan, &world, 4).await.unwrap_err();
    let StaleError::Stale(moved) = &err else {
        panic!("{err:?}")
    };
    let mut got: Vec<(Option<&str>, Drift)> = moved
        .iter()
        .map(|m| (m.address.as_deref(), m.drift))
        .collect();
    got.sort_by_key(|g| g.0);
    let mut want = vec![
        (Some(created.address.as_str()), Drift::Appeared),
        (Some(edited.address.as_str()), Drift::Changed),
        (Some(deleted.address.as_str()), Drift::Disappeared),
    ];
    want.sort_by_key(|g| g.0);
    assert_eq!(got, want);
    let text = err.to_string();
    assert!(text.starts_with("the plan is stale: 3 resource(s) changed since it was made:\n  "));
    assert!(
        text.contains(&format!(
            "{} ({}) appeared",
            created.address, created.arm_id
        )),
        "{text}"
    );
    assert!(err.hint().contains("galleon plan"));
}

#[tokio::test]
async fn a_failed_read_refuses_rather_than_guesses() {
    let plan = fixtures::mixed();
    let mut world = world_of(&plan);
    world.broken = Some(plan.reads[0].arm_id.clone());
    let err = check_fresh(&plan, &world, 2).await.unwrap_err();
    assert!(matches!(&err, StaleError::Read { arm_id, .. } if *arm_id == plan.reads[0].arm_id));
}

#[test]
fn etags_decide_when_both_sides_have_one() {
    let present = |etag: Option<&str>, sha: &str| FingerprintState::Present {
        etag: etag.map(Into::into),
        content_sha256: sha.into(),
    };
    // Same etag, different digest (e.g. a read-only field the plan normalised away): fresh.
    assert_eq!(
        drift(&present(Some("1"), "a"), &present(Some("1"), "b")),
        None
    );
    assert_eq!(
        drift(&present(Some("1"), "a"), &present(Some("2"), "a")),
        Some(Drift::Changed)
    );
    assert_eq!(
        drift(&present(None, "a"), &present(Some("2"), "b")),
        Some(Drift::Changed)
    );
    assert_eq!(drift(&present(None, "a"), &present(None, "a")), None);
    assert_eq!(
        drift(&FingerprintState::Absent, &FingerprintState::Absent),
        None
    );
}

/// Counts the reads it answers.
#[derive(Default)]
struct Counting {
    world: World,
    reads: Mutex<Vec<String>>,
}

impl LiveReader for Counting {
    type Error = Reset;
    async fn fingerprint(&self, arm_id: &str) -> Result<FingerprintState, Reset> {
        self.reads.lock().unwrap().push(arm_id.to_owned());
        self.world.fingerprint(arm_id).await
    }
}

#[tokio::test]
async fn a_group_still_absent_answers_for_what_the_plan_saw_absent_inside_it() {
    let group = "/subscriptions/s/resourceGroups/rg-new";
    let vm = format!("{group}/providers/Microsoft.Compute/virtualMachines/web");
    let elsewhere = "/subscriptions/s/resourceGroups/rg-old/providers/Microsoft.Network/networkInterfaces/web-nic";
    let mut plan = fixtures::mixed();
    plan.reads = [group, &*vm, elsewhere]
        .into_iter()
        .map(|id| Fingerprint {
            arm_id: id.into(),
            state: FingerprintState::Absent,
        })
        .collect();
    let reader = Counting::default();
    check_fresh(&plan, &reader, 4).await.unwrap();
    assert_eq!(*reader.reads.lock().unwrap(), [group, elsewhere]);

    // Once the group exists, what is inside it is read, and found.
    let reader = Counting::default();
    for id in [group, &*vm] {
        let body = json!({"location": "westeurope"});
        reader.world.bodies.lock().unwrap().insert(id.into(), body);
    }
    let err = check_fresh(&plan, &reader, 4).await.unwrap_err();
    let StaleError::Stale(moved) = err else {
        panic!()
    };
    let ids: Vec<&str> = moved.iter().map(|m| m.arm_id.as_str()).collect();
    assert_eq!(ids, [group, &*vm], "in plan order");
    assert_eq!(reader.reads.lock().unwrap().len(), 3);
}
