//! The vocabulary shared by the scheduler, the executor, the runners and the sinks.
//!
//! A plan speaks of *resource changes* (one per address); the executor runs *steps*
//! (one per ARM write). They differ only for a replacement, which is two ARM writes (a delete
//! and a create) under one address. Keeping both words apart lets the scheduler expand a
//! replacement exactly as the plan ordered it and lets the summary count it once.

use std::fmt;

use serde::Serialize;

/// How a replacement orders its two halves. The plan chooses; execution never does
/// (omicron reconfigurator: "execution makes no choices the plan did not make").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceOrder {
    /// Delete the old resource, then create the new one (same Azure name).
    DeleteThenCreate,
    /// Create the new resource first, then delete the old one (the name differs).
    CreateThenDelete,
}

/// What the plan asks for one address. `NoOp` never reaches the applier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// The resource does not exist and is created.
    Create,
    /// The resource exists and is updated in place.
    Update,
    /// The resource is deleted and created again.
    Replace(ReplaceOrder),
    /// The resource is deleted.
    Delete,
}

/// The single ARM write a step performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// PUT of a resource that does not exist yet (or the new half of a replacement).
    Create,
    /// PUT or PATCH of an existing resource.
    Update,
    /// DELETE (also the old half of a replacement).
    Delete,
}

impl Op {
    /// Past tense, as shown in progress lines ("created", "deleted").
    pub fn past_tense(self) -> &'static str {
        match self {
            Op::Create => "created",
            Op::Update => "updated",
            Op::Delete => "deleted",
        }
    }
}

/// One resource change as the plan hands it to the applier.
///
/// `depends_on` means "this resource references those": desired references for a create or
/// update, live references for a delete. The scheduler reverses them for deletions.
#[derive(Debug, Clone)]
pub struct Change<P> {
    /// Manifest address (`vm.web`, `gallery_image.golden/ubuntu`).
    pub address: String,
    /// Subscription the write goes to; writes are throttled per subscription by ARM.
    pub subscription: String,
    /// What to do.
    pub action: ChangeAction,
    /// Addresses this resource references (addresses absent from the plan are ignored).
    pub depends_on: Vec<String>,
    /// For a deletion: addresses whose *live* body still references this resource, so the
    /// delete waits until they are updated away from it or deleted (a subnet moving to a new
    /// NSG before the old NSG goes). Desired `depends_on` cannot say this: the reference is
    /// exactly what the plan removes.
    pub referenced_by: Vec<String>,
    /// What the runner needs to perform the writes (the plan's request, typically).
    pub payload: P,
}

/// Identifies one step: an address plus the write performed on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StepId {
    /// Manifest address.
    pub address: String,
    /// The write.
    pub op: Op,
    /// True when this step is one half of a replacement.
    pub replace: bool,
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.replace {
            let half = if self.op == Op::Delete {
                "delete"
            } else {
                "create"
            };
            write!(f, "{} (replace: {half})", self.address)
        } else {
            f.write_str(&self.address)
        }
    }
}

/// Why a step failed, with everything a user needs to act on it. Carries ARM's own error
/// fields untouched so that a support request can quote them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StepFailure {
    /// ARM `error.code` (e.g. `LinkedAuthorizationFailed`), when ARM answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// ARM `error.message`, or a description of the transport failure.
    pub message: String,
    /// ARM `error.target`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `x-ms-request-id` of the failing response, for support requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What the user can do about it (the Azure client's hint). The executor moves it to the
    /// `Failed` event's own `hint`, so it is not serialised here.
    #[serde(skip)]
    pub hint: Option<String>,
}

impl StepFailure {
    /// A failure that did not come from ARM (an internal or transport problem).
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(code) = &self.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(target) = &self.target {
            write!(f, " (target: {target})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_display_keeps_arm_fields() {
        let f = StepFailure {
            code: Some("GalleryImageNotFound".into()),
            message: "The gallery image was not found.".into(),
            target: Some("imageReference".into()),
            request_id: Some("abc".into()),
            hint: Some("replicate the version".into()),
        };
        assert_eq!(
            f.to_string(),
            "GalleryImageNotFound: The gallery image was not found. (target: imageReference) \
             [request id abc]"
        );
    }

    #[test]
    fn replace_halves_are_named_apart() {
        let id = |op| StepId {
            address: "nic.web".into(),
            op,
            replace: true,
        };
        assert_eq!(id(Op::Delete).to_string(), "nic.web (replace: delete)");
        assert_eq!(id(Op::Create).to_string(), "nic.web (replace: create)");
    }
}
