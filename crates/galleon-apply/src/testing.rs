//! Test doubles shared by the applier's unit tests: a recording ARM writer and a live world.

use std::collections::HashMap;
use std::sync::Mutex;

use galleon_plan::{Fingerprint, FingerprintState, Plan};
use serde_json::Value;

use crate::executor::Progress;
use crate::runner::{ArmWriter, Write};
use crate::stale::LiveReader;
use crate::step::StepFailure;

/// One write as the fake ARM received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: &'static str,
    pub arm_id: String,
    pub tenant_id: String,
    pub api_version: String,
    pub body: Option<Value>,
    pub aux: Vec<String>,
}

/// Records writes; fails those whose id is in `fail`; answers group listings from `groups`.
#[derive(Default)]
pub struct FakeArm {
    pub calls: Mutex<Vec<Call>>,
    pub fail: Vec<String>,
    pub groups: HashMap<String, Vec<String>>,
}

impl FakeArm {
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, method: &'static str, w: &Write<'_>) -> Result<(), StepFailure> {
        self.calls.lock().unwrap().push(Call {
            method,
            arm_id: w.arm_id.into(),
            tenant_id: w.tenant_id.into(),
            api_version: w.api_version.into(),
            body: w.body.cloned(),
            aux: w.aux_tenant_ids.to_vec(),
        });
        if self.fail.iter().any(|f| f == w.arm_id) {
            return Err(StepFailure {
                code: Some("Conflict".into()),
                message: "scripted failure".into(),
                request_id: Some("req-1".into()),
                ..StepFailure::default()
            });
        }
        Ok(())
    }
}

impl ArmWriter for FakeArm {
    async fn put(&self, w: &Write<'_>, progress: &Progress<'_>) -> Result<(), StepFailure> {
        progress.lro("Creating");
        self.record("PUT", w)
    }
    async fn delete(&self, w: &Write<'_>, _progress: &Progress<'_>) -> Result<(), StepFailure> {
        self.record("DELETE", w)
    }
    async fn post(&self, w: &Write<'_>, _progress: &Progress<'_>) -> Result<(), StepFailure> {
        self.record("POST", w)
    }
    async fn resources_in_group(&self, _t: &str, group: &str) -> Result<Vec<String>, StepFailure> {
        Ok(self.groups.get(group).cloned().unwrap_or_default())
    }
}

/// A live world: ARM id → body; absent ids answer 404.
#[derive(Default)]
pub struct World {
    pub bodies: Mutex<HashMap<String, Value>>,
}

impl World {
    /// The world exactly as `plan` saw it.
    pub fn of(plan: &Plan) -> Self {
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
}

impl LiveReader for World {
    type Error = std::io::Error;
    async fn fingerprint(&self, arm_id: &str) -> Result<FingerprintState, std::io::Error> {
        Ok(Fingerprint::of(arm_id, self.bodies.lock().unwrap().get(arm_id)).state)
    }
}
