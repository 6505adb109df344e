//! The machine-readable plan (`galleon plan --json`): a documented, versioned format
//! (`docs/plan-json.md`) whose JSON Schema (`schemas/plan.schema.json`) is generated from
//! these types, so the schema cannot drift from what is printed without a test failing.
//!
//! It differs from the plan file on purpose: the plan file is galleon's own input to apply
//! and may change with galleon; this output is a contract with other programs, and adds
//! the answers they would otherwise recompute (`has_changes`, `applyable`).

use galleon_plan::{CheckResult, Fingerprint, Plan, ResourceChange, Summary};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

/// The value of the `format` field.
pub const JSON_FORMAT: &str = "galleon-plan-json";
/// The version of this output format. Additions keep it; removals or changes bump it.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// The marker that tells a reader what it holds.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum Format {
    /// The only value.
    #[serde(rename = "galleon-plan-json")]
    GalleonPlanJson,
}

/// The JSON output of `galleon plan`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(
    title = "galleon plan JSON output",
    description = "See docs/plan-json.md."
)]
pub struct JsonPlan<'p> {
    /// Always `galleon-plan-json`.
    pub format: Format,
    /// The version of this format (1).
    pub format_version: u32,
    /// The galleon version that made the plan.
    pub galleon_version: &'p str,
    /// The workspace name.
    pub workspace: &'p str,
    /// When the plan was made (RFC 3339).
    pub created_at: String,
    /// The `--target` addresses, empty for a full plan.
    pub targets: &'p [String],
    /// True when apply would write anything (`--detailed-exitcode` 2).
    pub has_changes: bool,
    /// False when a preflight check failed: apply refuses the plan.
    pub applyable: bool,
    /// Counts of actions and check outcomes.
    pub summary: Summary,
    /// Every resource, in apply order, no-ops included.
    pub resource_changes: &'p [ResourceChange],
    /// Every preflight check.
    pub preflight: &'p [CheckResult],
    /// Fingerprints of the live resources the plan read.
    pub reads: &'p [Fingerprint],
}

impl<'p> JsonPlan<'p> {
    /// The output view of a plan.
    pub fn new(plan: &'p Plan) -> JsonPlan<'p> {
        JsonPlan {
            format: Format::GalleonPlanJson,
            format_version: JSON_FORMAT_VERSION,
            galleon_version: &plan.galleon_version,
            workspace: &plan.workspace,
            created_at: plan
                .created_at
                .format(&Rfc3339)
                .expect("a UTC plan time always formats"),
            targets: &plan.targets,
            has_changes: plan.has_changes(),
            applyable: !plan.has_failed_checks(),
            summary: plan.summary,
            resource_changes: &plan.changes,
            preflight: &plan.preflight,
            reads: &plan.reads,
        }
    }
}

/// Renders the plan as pretty JSON with a trailing newline.
pub fn render_json(plan: &Plan) -> String {
    let mut out =
        serde_json::to_string_pretty(&JsonPlan::new(plan)).expect("a plan always serialises");
    out.push('\n');
    out
}

/// The JSON Schema (draft-07) of [`JsonPlan`], as checked in at `schemas/plan.schema.json`.
pub fn schema_json() -> String {
    let schema = SchemaSettings::draft07()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<JsonPlan<'static>>();
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    out.push('\n');
    out
}
