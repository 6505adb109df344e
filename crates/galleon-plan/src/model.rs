//! The plan: an immutable, serialisable record of everything `apply` will do and why.
//!
//! A plan leaves no choice to execution (omicron's reconfigurator): each change carries the
//! exact request apply will send, and the plan carries a fingerprint of every live resource it
//! read, so that apply can refuse to act on a world that moved since (terraform's planfile).
//! Plans never contain secrets: request bodies carry public SSH keys at most.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{Action, ResourceKind};

/// The version of the plan model. Bumped on any change a reader of version 1 would misread.
pub const FORMAT_VERSION: u32 = 1;

/// Everything `galleon plan` decided, ready to render or to apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Always [`FORMAT_VERSION`] for plans written by this build.
    pub format_version: u32,
    /// The galleon version that made the plan.
    pub galleon_version: String,
    /// The workspace name (the value of the `galleon-workspace` tag).
    pub workspace: String,
    /// When the plan was made (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub created_at: OffsetDateTime,
    /// The `--target` addresses the plan was limited to; empty for a full plan.
    #[serde(default)]
    pub targets: Vec<String>,
    /// One entry per resource, in apply order (dependencies first), no-ops included.
    pub changes: Vec<ResourceChange>,
    /// Preflight checks run against live data.
    pub preflight: Vec<CheckResult>,
    /// Fingerprints of every live resource read, so apply can detect a changed world.
    pub reads: Vec<Fingerprint>,
    /// Counts derived from `changes` and `preflight`.
    pub summary: Summary,
}

impl Plan {
    /// Builds a plan and derives its summary, so that the two can never disagree.
    pub fn new(
        workspace: impl Into<String>,
        created_at: OffsetDateTime,
        changes: Vec<ResourceChange>,
        preflight: Vec<CheckResult>,
        reads: Vec<Fingerprint>,
    ) -> Plan {
        let summary = Summary::of(&changes, &preflight);
        Plan {
            format_version: FORMAT_VERSION,
            galleon_version: env!("CARGO_PKG_VERSION").to_owned(),
            workspace: workspace.into(),
            created_at,
            targets: Vec::new(),
            changes,
            preflight,
            reads,
            summary,
        }
    }

    /// True when apply would write anything (`-detailed-exitcode` returns 2 then).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_change())
    }

    /// True when a preflight check failed: apply refuses such a plan.
    pub fn has_failed_checks(&self) -> bool {
        self.preflight.iter().any(|c| c.status == CheckStatus::Fail)
    }

    /// The change for an address, if the plan has one.
    pub fn change(&self, address: &str) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| c.address == address)
    }
}

/// What the plan does to one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceChange {
    /// The manifest address, e.g. `vm.web` or `image_version.golden/ubuntu/1.0.0`.
    pub address: String,
    /// The kind of resource.
    pub kind: ResourceKind,
    /// The full ARM id the request goes to.
    pub arm_id: String,
    /// The manifest key of the tenant the resource lives in.
    pub tenant: String,
    /// That tenant's Entra ID tenant id.
    pub tenant_id: String,
    /// The subscription id.
    pub subscription: String,
    /// The resource group name (the group's own name for a resource group).
    pub resource_group: String,
    /// The single action planned.
    pub action: Action,
    /// For a replace: the immutable field paths that forced it.
    #[serde(default)]
    pub replace_reasons: Vec<String>,
    /// Field-level changes of the managed fields, leaves only, in body order.
    #[serde(default)]
    pub attribute_changes: Vec<AttributeChange>,
    /// Managed fields as they are live (`null` when the resource does not exist).
    pub before: Option<Value>,
    /// Managed fields as they will be (`null` for a delete).
    pub after: Option<Value>,
    /// Addresses this resource depends on.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The exact write apply will send; `None` for a no-op.
    pub request: Option<Request>,
    /// Whether the live resource carries this workspace's ownership marks.
    pub owned_by_us: bool,
}

/// One changed field, addressed by a path into the ARM body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AttributeChange {
    /// Dotted path; list elements as `[name]` for keyed lists, `[i]` otherwise.
    pub path: String,
    /// The live value (`null` when absent).
    pub before: Value,
    /// The desired value (`null` when removed).
    pub after: Value,
    /// Whether this field alone forces a replace.
    pub forces_replacement: bool,
    /// Always false: plans never hold secrets, the field exists so printers need no guess.
    pub sensitive: bool,
}

/// The HTTP method of a planned write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Create or replace the resource (ARM's create-or-update).
    Put,
    /// Delete the resource.
    Delete,
    /// Invoke an action: `arm_id` is the action's path (a gallery's `share`), the body its
    /// parameters.
    Post,
}

/// The write apply will send, decided at plan time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// PUT, DELETE or POST (an action). A replace is a DELETE of `arm_id` followed by this PUT.
    pub method: Method,
    /// The api-version query parameter.
    pub api_version: String,
    /// The JSON body of a PUT or POST; `None` for a DELETE.
    pub body: Option<Value>,
    /// Tenants whose tokens go into `x-ms-authorization-auxiliary` (cross-tenant references).
    #[serde(default)]
    pub aux_tenant_ids: Vec<String>,
}

/// The outcome of one preflight check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The precondition holds.
    Pass,
    /// Apply would fail: the plan cannot be applied.
    Fail,
    /// Apply may work but something deserves attention.
    Warn,
    /// The check could not run (it depends on something the plan creates, or on data it lacks).
    Skipped,
}

/// One preflight check and, when it did not pass, what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    /// Stable identifier, e.g. `image-replicated-to-vm-region`.
    pub id: String,
    /// The resource the check is about, if any.
    pub address: Option<String>,
    /// The outcome.
    pub status: CheckStatus,
    /// A short title.
    pub title: String,
    /// What was found.
    pub message: String,
    /// What to do, when there is something to do.
    pub fix: Option<String>,
}

/// What the plan saw of one live resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Fingerprint {
    /// The ARM id read.
    pub arm_id: String,
    /// Whether it existed, and if so a digest of its content.
    pub state: FingerprintState,
}

/// Absent, or present with its etag and a digest of its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FingerprintState {
    /// The resource did not exist.
    Absent,
    /// The resource existed.
    Present {
        /// The ARM etag, for the types that have one.
        etag: Option<String>,
        /// SHA-256 (hex) of the body with its keys sorted, see [`crate::canonical_json`].
        content_sha256: String,
    },
}

impl Fingerprint {
    /// Fingerprints a read: `None` for a 404, the body otherwise.
    pub fn of(arm_id: impl Into<String>, live: Option<&Value>) -> Fingerprint {
        Fingerprint {
            arm_id: arm_id.into(),
            state: live.map_or(FingerprintState::Absent, FingerprintState::of),
        }
    }
}

impl FingerprintState {
    /// The state of a body that was read.
    pub fn of(body: &Value) -> FingerprintState {
        FingerprintState::Present {
            etag: body.get("etag").and_then(Value::as_str).map(str::to_owned),
            content_sha256: crate::canonical_sha256(body),
        }
    }
}

/// Counts for the summary line and the exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Resources to create.
    pub add: usize,
    /// Resources to update in place.
    pub change: usize,
    /// Resources to replace.
    pub replace: usize,
    /// Resources to delete.
    pub destroy: usize,
    /// Resources already up to date.
    pub unchanged: usize,
    /// Preflight checks that failed.
    pub checks_failed: usize,
    /// Preflight checks that warned.
    pub checks_warned: usize,
}

impl Summary {
    /// Counts the actions and check outcomes.
    pub fn of(changes: &[ResourceChange], preflight: &[CheckResult]) -> Summary {
        let mut s = Summary::default();
        for change in changes {
            match change.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.destroy += 1,
                Action::NoOp => s.unchanged += 1,
            }
        }
        s.checks_failed = preflight
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .count();
        s.checks_warned = preflight
            .iter()
            .filter(|c| c.status == CheckStatus::Warn)
            .count();
        s
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures;

    #[test]
    fn summary_counts_each_action_and_check_outcome() {
        let mixed = fixtures::mixed();
        let s = mixed.summary;
        assert_eq!(
            (s.add, s.change, s.replace, s.destroy, s.unchanged),
            (1, 1, 1, 1, 1)
        );
        let checks = fixtures::preflight_failures().summary;
        assert_eq!((checks.checks_failed, checks.checks_warned), (2, 1));
    }

    #[test]
    fn has_changes_is_false_only_when_everything_is_a_no_op() {
        assert!(!fixtures::no_changes().has_changes());
        assert!(fixtures::delete().has_changes());
        assert!(fixtures::create_only().has_changes());
        assert!(fixtures::preflight_failures().has_failed_checks());
        assert!(!fixtures::mixed().has_failed_checks());
    }

    #[test]
    fn plans_serialise_with_rfc3339_times_and_tagged_fingerprints() {
        let json = serde_json::to_value(fixtures::create_only()).unwrap();
        assert_eq!(json["created_at"], "2026-11-24T03:00:00Z");
        assert_eq!(json["reads"][0]["state"]["kind"], "absent");
        assert_eq!(json["changes"][0]["action"], "create");
        assert_eq!(json["changes"][2]["request"]["method"], "PUT");
    }
}
